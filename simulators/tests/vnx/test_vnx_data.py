# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real bytes: snapshots freeze them, mount points show them, migrations copy them, and
LUNs in this machine's storage group are exposed (loop device + WWN link)."""

import os
import stat
import subprocess

import pytest

MIB = 1024 * 1024
OLD = b'old bytes ' * 4096
NEW = b'NEW BYTES ' * 4096


def make_lun(vnx, storops, name, size_gb=1, thin=True):
    provision = storops.VNXProvisionEnum.THIN if thin else storops.VNXProvisionEnum.THICK
    vnx.get_pool(name='Pool0').create_lun(name, size_gb=size_gb, provision=provision, ignore_thresholds=True)
    return vnx.get_lun(name=name)


@pytest.fixture
def local_sg(vnx):
    """The storage group of host 'localhost', which is this machine."""
    sg = vnx.create_sg('localhost')
    sg.connect_host('localhost')
    return vnx.get_sg('localhost')


def expose(vnx, name, hlu):
    sg = vnx.get_sg('localhost')
    sg.attach_alu(vnx.get_lun(name=name), hlu=hlu)


def unexpose(vnx, name):
    vnx.get_sg('localhost').detach_alu(vnx.get_lun(name=name))


def test_snapshot_keeps_old_bytes_and_mount_point_shows_them(vnx, storops, local_sg, device, sim):
    make_lun(vnx, storops, 'src')
    expose(vnx, 'src', 1)
    device.write('src', 5 * MIB, OLD)
    vnx.get_lun(name='src').create_snap('s1', allow_rw=True)
    device.write('src', 5 * MIB, NEW)

    vnx.get_lun(name='src').create_mount_point(name='copy')
    vnx.get_lun(name='copy').attach_snap('s1')
    expose(vnx, 'copy', 2)
    assert device.read('copy', 5 * MIB, len(OLD)) == OLD
    assert device.read('src', 5 * MIB, len(NEW)) == NEW
    # the mount point writes into its snapshot, not into the source
    device.write('copy', 0, b'smp')
    assert device.read('src', 0, 3) == b'\0\0\0'
    assert sim.lun('copy')['size'] == sim.lun('src')['size']
    assert local_sg.name == 'localhost'


def test_snapshot_of_unexposed_lun_is_frozen_when_the_lun_changes(vnx, storops, local_sg, device, sim):
    """Snapshots of a LUN nobody can write share its file until it is exposed again."""
    make_lun(vnx, storops, 'src')
    expose(vnx, 'src', 1)
    device.write('src', 0, OLD)
    unexpose(vnx, 'src')
    vnx.get_lun(name='src').create_snap('s1', allow_rw=True)
    vnx.get_snap(name='s1').copy('s1-copy')
    assert sim.state()['snapshots'][0]['file'] == sim.lun('src')['file']

    expose(vnx, 'src', 1)
    device.write('src', 0, NEW)
    for snap in ('s1', 's1-copy'):
        smp = 'smp-' + snap
        vnx.get_lun(name='src').create_mount_point(name=smp)
        vnx.get_lun(name=smp).attach_snap(snap)
        expose(vnx, smp, 10 + len(snap))
        assert device.read(smp, 0, len(OLD)) == OLD
    assert local_sg.existed


def test_restore_brings_back_the_snapshot(vnx, storops, local_sg, device):
    make_lun(vnx, storops, 'src')
    expose(vnx, 'src', 1)
    device.write('src', MIB, OLD)
    vnx.get_lun(name='src').create_snap('s1', allow_rw=True)
    device.write('src', MIB, NEW)
    vnx.get_lun(name='src').restore_snap('s1')
    assert device.read('src', MIB, len(OLD)) == OLD
    assert local_sg.existed


def test_full_copy_by_migration_has_the_source_bytes(vnx, storops, local_sg, device, sim):
    """Cinder's full copy: snapshot -> SMP -> attach -> migrate into a new LUN. The copy
    keeps the bytes of the snapshot moment after the source changes."""
    make_lun(vnx, storops, 'src', size_gb=2)
    expose(vnx, 'src', 1)
    device.write('src', 7 * MIB, OLD)
    src = vnx.get_lun(name='src')
    src.create_snap('tmp-snap', allow_rw=True, auto_delete=False)
    device.write('src', 7 * MIB, NEW)
    src.create_mount_point(name='clone')
    vnx.get_lun(name='clone').attach_snap('tmp-snap')
    dest = make_lun(vnx, storops, 'clone_dest', size_gb=2)
    sim.ctl('config', '--migration-rate-mib-s', '0')
    vnx.get_lun(name='clone').migrate(dest.lun_id)
    expose(vnx, 'clone', 2)
    assert device.read('clone', 7 * MIB, len(OLD)) == OLD
    sim.ctl('config', '--migration-rate-mib-s', '100000')
    assert vnx.get_migration_session(vnx.get_lun(name='clone')).existed is False
    clone = sim.lun('clone')
    assert clone['is_snap_mount_point'] is False
    assert clone['file'].endswith('luns/%d.img' % clone['id'])
    # the exposure followed the LUN onto its new bytes
    assert device.read('clone', 7 * MIB, len(OLD)) == OLD
    # and the temporary snapshot can go without touching the copy
    unexpose(vnx, 'src')
    vnx.get_snap(name='tmp-snap').delete()
    assert device.read('clone', 7 * MIB, len(OLD)) == OLD


def test_migrated_lun_has_the_source_bytes(vnx, storops, local_sg, device, sim):
    make_lun(vnx, storops, 'src', size_gb=1)
    expose(vnx, 'src', 1)
    device.write('src', 123 * 4096, OLD)
    unexpose(vnx, 'src')
    dest = make_lun(vnx, storops, 'bigger', size_gb=3, thin=False)
    vnx.get_lun(name='src').migrate(dest.lun_id)
    sim.ctl('config', '--migration-rate-mib-s', '100000')
    state = sim.state()
    assert [lun['name'] for lun in state['luns']] == ['src']
    assert state['luns'][0]['size'] == 3 * 1024 * MIB and state['luns'][0]['thin'] is False
    expose(vnx, 'src', 1)
    assert device.read('src', 123 * 4096, len(OLD)) == OLD
    assert local_sg.existed


def test_backing_files_stay_sparse(vnx, storops, local_sg, device, sim):
    make_lun(vnx, storops, 'big', size_gb=100)
    expose(vnx, 'big', 1)
    device.write('big', 50 * 1024 * MIB, OLD)
    vnx.get_lun(name='big').create_snap('s1', allow_rw=True)
    for path in (sim.lun('big')['file'], sim.state()['snapshots'][0]['file']):
        assert os.stat(path).st_blocks * 512 < 4 * MIB
    assert local_sg.existed


def test_removal_from_storage_group_unexposes(vnx, storops, local_sg, sim):
    make_lun(vnx, storops, 'vol')
    expose(vnx, 'vol', 4)
    lun = sim.lun('vol')
    link = lun['link']
    assert os.path.basename(link) == 'wwn-0x' + lun['wwn'].replace(':', '').lower()
    assert os.path.dirname(link) == sim.state()['device_dir']
    assert os.path.exists(link)
    unexpose(vnx, 'vol')
    assert not os.path.lexists(link)
    assert sim.lun('vol')['link'] is None
    assert local_sg.existed


def test_other_hosts_groups_are_not_exposed(vnx, storops, sim):
    make_lun(vnx, storops, 'remote')
    sg = vnx.create_sg('far')
    sg.connect_host('far')
    vnx.get_sg('far').attach_alu(vnx.get_lun(name='remote'), hlu=1)
    assert sim.lun('remote')['link'] is None


def test_detached_mount_point_is_not_exposed(vnx, storops, local_sg, sim):
    make_lun(vnx, storops, 'src').create_snap('s1', allow_rw=True)
    vnx.get_lun(name='src').create_mount_point(name='smp')
    expose(vnx, 'smp', 3)
    assert sim.lun('smp')['link'] is None
    vnx.get_lun(name='smp').attach_snap('s1')
    assert sim.lun('smp')['link'] is not None
    vnx.get_lun(name='smp').detach_snap()
    assert sim.lun('smp')['link'] is None
    assert local_sg.existed


@pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists('/dev/loop-control'),
                    reason='loop devices need root and /dev/loop-control; without them the WWN link points at the backing file')
def test_exposed_as_loop_device_and_teardown(vnx, storops, local_sg, sim, device):
    make_lun(vnx, storops, 'vol', size_gb=1)
    expose(vnx, 'vol', 1)
    lun = sim.lun('vol')
    assert lun['device'].startswith('/dev/loop')
    assert stat.S_ISBLK(os.stat(lun['link']).st_mode)
    assert os.path.realpath(lun['link']) == lun['device']
    fd = os.open(lun['device'], os.O_RDONLY)
    try:
        assert os.lseek(fd, 0, os.SEEK_END) == 1024 * MIB
    finally:
        os.close(fd)
    device.write('vol', 0, OLD)
    with open(lun['file'], 'rb') as backing:
        assert backing.read(len(OLD)) == OLD
    sim.ctl('teardown')
    assert not os.path.lexists(lun['link'])
    attached = subprocess.run(['losetup', '--associated', lun['file']], stdout=subprocess.PIPE, check=True)
    assert attached.stdout == b''
    assert sim.lun('vol')['device'] is None
    # touching host access again brings exposure back
    make_lun(vnx, storops, 'vol2')
    expose(vnx, 'vol2', 2)
    assert sim.lun('vol')['device'].startswith('/dev/loop') and sim.lun('vol2')['device'].startswith('/dev/loop')
    assert local_sg.existed


def test_expanded_luns_show_their_new_size(vnx, storops, local_sg, device, sim):
    """An exposed LUN that grows, and Cinder's expanded SMP, show the new size to the host."""
    make_lun(vnx, storops, 'grow', size_gb=1)
    expose(vnx, 'grow', 1)
    vnx.get_lun(name='grow').expand(2)
    device.write('grow', 2 * 1024 * MIB - len(NEW), NEW)
    assert device.read('grow', 2 * 1024 * MIB - len(NEW), len(NEW)) == NEW
    vnx.get_lun(name='grow').create_snap('s1', allow_rw=True)
    vnx.get_lun(name='grow').create_mount_point(name='bigger')
    vnx.get_lun(name='bigger').attach_snap('s1')
    vnx.get_lun(name='bigger').expand(3)
    expose(vnx, 'bigger', 2)
    device.write('bigger', 3 * 1024 * MIB - len(OLD), OLD)
    assert device.read('bigger', 2 * 1024 * MIB - len(NEW), len(NEW)) == NEW
    assert device.read('bigger', 3 * 1024 * MIB - len(OLD), len(OLD)) == OLD
    assert local_sg.existed and sim.lun('bigger')['size'] == 3 * 1024 * MIB


@pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists('/dev/loop-control'),
                    reason='loop devices need root and /dev/loop-control')
def test_unexpose_leaves_a_loop_number_the_host_gave_to_someone_else(vnx, storops, local_sg, sim, tmp_path):
    make_lun(vnx, storops, 'vol', size_gb=1)
    expose(vnx, 'vol', 1)
    loop = sim.lun('vol')['device']
    # the host removes the device before the unmap (host_lun state=absent), and the
    # loop number goes to another user before the array is asked
    subprocess.run(['losetup', '--detach', loop], check=True)
    other = tmp_path / 'other.img'
    other.write_bytes(b'\0' * MIB)
    subprocess.run(['losetup', loop, str(other)], check=True)
    try:
        unexpose(vnx, 'vol')
        backing = subprocess.run(['losetup', '--noheadings', '--output', 'BACK-FILE', loop],
                                 stdout=subprocess.PIPE, check=True).stdout.decode().strip()
        assert backing == str(other)
        assert sim.lun('vol')['device'] is None
    finally:
        subprocess.run(['losetup', '--detach', loop], check=False)
