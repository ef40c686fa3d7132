# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bytes through paths the happy-path tests do not take: a snapshot of a mount point
restored onto it, written through the exposure on this machine."""

import os
import subprocess

import pytest

OLD = b'old bytes ' * 4096
NEW = b'NEW BYTES ' * 4096


def first_lun_on_this_host(navi, name):
    """The array's first LUN (id 0): thin, 1 GB, at HLU 1 in the storage group of this host."""
    assert navi('lun', '-create', '-capacity', 1, '-sq', 'gb', '-poolName', 'Pool0', '-name', name, '-type', 'Thin') == ''
    assert navi('storagegroup', '-create', '-gname', 'localhost') == ''
    assert navi('storagegroup', '-connecthost', '-host', 'localhost', '-gname', 'localhost', '-o') == ''
    assert navi('storagegroup', '-addhlu', '-hlu', 1, '-alu', 0, '-gname', 'localhost', '-o') == ''


def test_restore_of_a_mount_points_snapshot_brings_back_its_bytes_and_spares_the_others(sim, device):
    navi = sim.navi
    first_lun_on_this_host(navi, 'base')
    device.write('base', 0, OLD)
    assert navi('snap', '-create', '-res', 0, '-name', 's0') == ''
    assert navi('lun', '-create', '-type', 'snap', '-primaryLun', 0, '-name', 'm1') == ''
    smp = sim.lun('m1')['id']
    assert navi('lun', '-attach', '-l', smp, '-snapName', 's0') == ''
    assert navi('storagegroup', '-addhlu', '-hlu', 2, '-alu', smp, '-gname', 'localhost', '-o') == ''
    assert device.read('m1', 0, len(OLD)) == OLD
    assert navi('snap', '-create', '-res', smp, '-name', 's-of-m1') == ''
    device.write('m1', 0, NEW)
    device.write('base', 0, NEW)
    assert navi('snap', '-restore', '-id', 's-of-m1', '-res', smp) == ''
    assert device.read('m1', 0, len(OLD)) == OLD
    assert device.read('base', 0, len(NEW)) == NEW
    assert navi('snap', '-restore', '-id', 's0', '-res', 0) == ''
    assert device.read('base', 0, len(OLD)) == OLD


def test_a_snapshot_of_a_snap_copy_can_be_snap_copied_again(sim, device):
    """Snap of a snap (VNX branching): a snapshot of an SMP belongs to the SMP's primary
    LUN, so it attaches to another SMP of that LUN (Cinder's snap copy from a snapshot
    of a snap copy) and shows the SMP's bytes as they were."""
    navi = sim.navi
    assert navi('lun', '-create', '-capacity', 1, '-sq', 'gb', '-poolName', 'Pool0', '-name', 'base', '-type', 'Thin') == ''
    assert navi('storagegroup', '-create', '-gname', 'localhost') == ''
    assert navi('storagegroup', '-connecthost', '-host', 'localhost', '-gname', 'localhost', '-o') == ''
    assert navi('snap', '-create', '-res', 0, '-name', 's0') == ''
    assert navi('lun', '-create', '-type', 'snap', '-primaryLun', 0, '-name', 'copy1') == ''
    copy1 = sim.lun('copy1')['id']
    assert navi('lun', '-attach', '-l', copy1, '-snapName', 's0') == ''
    assert navi('storagegroup', '-addhlu', '-hlu', 1, '-alu', copy1, '-gname', 'localhost', '-o') == ''
    device.write('copy1', 0, OLD)
    assert navi('snap', '-create', '-res', copy1, '-name', 'user-snap') == ''
    device.write('copy1', 0, NEW)
    assert navi('snap', '-copy', '-id', 'user-snap', '-name', 'snap-as-vol-2') == ''
    assert navi('snap', '-modify', '-id', 'snap-as-vol-2', '-allowReadWrite', 'yes') == ''
    assert navi('lun', '-create', '-type', 'snap', '-primaryLun', 0, '-name', 'copy2') == ''
    copy2 = sim.lun('copy2')['id']
    assert navi('lun', '-attach', '-l', copy2, '-snapName', 'snap-as-vol-2') == ''
    assert navi('storagegroup', '-addhlu', '-hlu', 2, '-alu', copy2, '-gname', 'localhost', '-o') == ''
    assert device.read('copy2', 0, len(OLD)) == OLD
    assert device.read('copy1', 0, len(NEW)) == NEW
    # and a branch snapshot restores onto the primary LUN too (same primary)
    assert navi('snap', '-restore', '-id', 'user-snap', '-res', 0) == ''
    assert navi('storagegroup', '-addhlu', '-hlu', 3, '-alu', 0, '-gname', 'localhost', '-o') == ''
    assert device.read('base', 0, len(OLD)) == OLD


def test_a_snapshot_of_another_lun_still_does_not_attach(sim):
    navi = sim.navi
    for name in ('a', 'b'):
        assert navi('lun', '-create', '-capacity', 1, '-sq', 'gb', '-poolName', 'Pool0', '-name', name, '-type', 'Thin') == ''
    assert navi('snap', '-create', '-res', 1, '-name', 'sb') == ''
    assert navi('lun', '-create', '-type', 'snap', '-primaryLun', 0, '-name', 'ma') == ''
    assert '0x716d8008' in navi('lun', '-attach', '-l', sim.lun('ma')['id'], '-snapName', 'sb')
    assert '0x716d8008' in navi('snap', '-restore', '-id', 'sb', '-res', 0)


def test_a_copy_of_a_snapshot_has_the_snapshots_bytes_not_the_luns_current_ones(sim, device):
    """Snap copy from a snapshot (snap -copy, then an SMP on the copy) after the LUN
    was written: the copy must hold what the snapshot froze."""
    navi = sim.navi
    first_lun_on_this_host(navi, 'vol')
    device.write('vol', 0, OLD)
    assert navi('snap', '-create', '-res', 0, '-name', 'user-snap') == ''
    device.write('vol', 0, NEW)
    assert navi('snap', '-copy', '-id', 'user-snap', '-name', 'snap-as-vol-9') == ''
    assert navi('lun', '-create', '-type', 'snap', '-primaryLun', 0, '-name', 'clone') == ''
    clone = sim.lun('clone')['id']
    assert navi('lun', '-attach', '-l', clone, '-snapName', 'snap-as-vol-9') == ''
    assert navi('storagegroup', '-addhlu', '-hlu', 2, '-alu', clone, '-gname', 'localhost', '-o') == ''
    assert device.read('clone', 0, len(OLD)) == OLD
    assert device.read('vol', 0, len(NEW)) == NEW


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs, not even the state's save."""


def test_a_restore_killed_after_overwriting_the_lun_leaves_other_snapshots_intact(sim, device, inproc, monkeypatch):
    from datamotion_sim.vnx import data
    navi = sim.navi
    first_lun_on_this_host(navi, 'vol')
    device.write('vol', 0, OLD)
    assert navi('snap', '-create', '-res', 0, '-name', 's-old') == ''
    device.write('vol', 0, NEW)
    assert navi('storagegroup', '-removehlu', '-hlu', 1, '-gname', 'localhost', '-o') == ''
    assert navi('snap', '-create', '-res', 0, '-name', 's-new') == ''
    real_copy = data.copy

    def copy_then_die(src, dst, size):
        real_copy(src, dst, size)
        if '/luns/' in dst:
            raise Killed()
    monkeypatch.setattr(data, 'copy', copy_then_die)
    try:
        inproc('snap', '-restore', '-id', 's-old', '-res', 0)
    except Killed:
        pass
    monkeypatch.setattr(data, 'copy', real_copy)
    assert navi('lun', '-create', '-type', 'snap', '-primaryLun', 0, '-name', 'look') == ''
    look = sim.lun('look')['id']
    assert navi('lun', '-attach', '-l', look, '-snapName', 's-new') == ''
    assert navi('storagegroup', '-addhlu', '-hlu', 2, '-alu', look, '-gname', 'localhost', '-o') == ''
    assert device.read('look', 0, len(NEW)) == NEW


def test_a_destroy_killed_before_the_state_is_saved_keeps_the_luns_bytes(sim, inproc, monkeypatch):
    from datamotion_sim.vnx import store
    navi = sim.navi
    assert navi('lun', '-create', '-capacity', 1, '-sq', 'gb', '-poolName', 'Pool0', '-name', 'vol', '-type', 'Thin') == ''
    path = sim.lun('vol')['file']

    def die(self):
        raise Killed()
    monkeypatch.setattr(store.Array, 'save', die)
    try:
        inproc('lun', '-destroy', '-l', 0, '-o')
    except Killed:
        pass
    monkeypatch.undo()

    assert sim.lun('vol') is not None and os.path.exists(path)
    assert navi('snap', '-create', '-res', 0, '-name', 's') == ''
    assert navi('lun', '-destroy', '-l', 0, '-destroySnapshots', '-o') == ''
    assert not os.path.exists(path)


def loops_under(root):
    """Loop devices over files under ``root``, as the kernel lists them."""
    root = os.path.join(os.path.realpath(root), '')
    found = []
    for name in sorted(os.listdir('/sys/block')):
        try:
            with open(os.path.join('/sys/block', name, 'loop', 'backing_file')) as f:
                if f.read().strip().startswith(root):
                    found.append('/dev/' + name)
        except OSError:
            pass
    return found


def test_teardown_detaches_a_loop_device_left_by_a_killed_call(sim, inproc, monkeypatch):
    from datamotion_sim.vnx import data, store
    if not data.loops_work():
        pytest.skip('needs root and loop devices')
    navi = sim.navi
    assert navi('lun', '-create', '-capacity', 1, '-sq', 'gb', '-poolName', 'Pool0', '-name', 'vol', '-type', 'Thin') == ''
    assert navi('storagegroup', '-create', '-gname', 'localhost') == ''
    assert navi('storagegroup', '-connecthost', '-host', 'localhost', '-gname', 'localhost', '-o') == ''

    def die(self):
        raise Killed()
    monkeypatch.setattr(store.Array, 'save', die)
    try:
        inproc('storagegroup', '-addhlu', '-hlu', 1, '-alu', 0, '-gname', 'localhost', '-o')
    except Killed:
        pass
    monkeypatch.undo()
    root = os.path.join(sim.home, 'arrays')
    try:
        assert loops_under(root), 'the killed call attached no loop device'
        sim.ctl('teardown')
        assert loops_under(root) == []
    finally:
        for device in loops_under(root):
            subprocess.run(['losetup', '--detach', device], check=False)


def test_a_snapshot_taken_while_a_removed_loop_device_is_still_open_keeps_its_bytes(sim, device):
    """removehlu detaches the loop device, but the kernel keeps one that is open (a mounted
    file system) writing to the LUN's file: a snapshot taken then must not share that file."""
    from datamotion_sim.vnx import data
    if not data.loops_work():
        pytest.skip('needs root and loop devices')
    navi = sim.navi
    first_lun_on_this_host(navi, 'vol')
    device.write('vol', 0, OLD)
    fd = os.open(os.path.realpath(device.link('vol')), os.O_RDWR)
    try:
        assert navi('storagegroup', '-removehlu', '-hlu', 1, '-gname', 'localhost', '-o') == ''
        assert navi('snap', '-create', '-res', 0, '-name', 'after-unmap') == ''
        os.pwrite(fd, NEW, 0)
        os.fsync(fd)
    finally:
        os.close(fd)
    assert navi('lun', '-create', '-type', 'snap', '-primaryLun', 0, '-name', 'look') == ''
    look = sim.lun('look')['id']
    assert navi('lun', '-attach', '-l', look, '-snapName', 'after-unmap') == ''
    assert navi('storagegroup', '-addhlu', '-hlu', 2, '-alu', look, '-gname', 'localhost', '-o') == ''
    assert device.read('look', 0, len(OLD)) == OLD


@pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists('/dev/loop-control'), reason='loop devices need root')
def test_a_new_exposure_is_writable_even_where_a_host_left_its_loop_device_read_only(tmp_path):
    from datamotion_sim.vnx import data
    backing = tmp_path / 'lun.img'
    backing.write_bytes(b'\0' * (1 << 20))
    device = data.loop_attach(str(backing))
    assert device
    try:
        subprocess.run(['blockdev', '--setro', device], check=True)
    finally:
        data.loop_detach(device)
    # losetup --find hands out the lowest free device: most likely the one just made read-only
    again = data.loop_attach(str(backing))
    try:
        ro = subprocess.run(['blockdev', '--getro', again], stdout=subprocess.PIPE, check=True).stdout.decode().strip()
        assert ro == '0', again
    finally:
        data.loop_detach(again)
