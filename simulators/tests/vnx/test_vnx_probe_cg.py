# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hostile checks of the simulator's consistency groups and snapshot 'Modified' flag: each
case once answered differently from the array."""


def make_lun(vnx, storops, name):
    vnx.get_pool(name='Pool0').create_lun(name, size_gb=1, provision=storops.VNXProvisionEnum.THIN, ignore_thresholds=True)
    return vnx.get_lun(name=name)


def expose(vnx, name, hlu):
    sg = vnx.get_sg('localhost')
    if not sg.existed:
        sg = vnx.create_sg('localhost')
        sg.connect_host('localhost')
    vnx.get_sg('localhost').attach_alu(vnx.get_lun(name=name), hlu=hlu)


def test_a_copied_snapshot_is_modified_once_written_through_its_mount_point(vnx, storops, sim, device):
    # vnx_volume_clone from source_snapshot reads a copy of the user's snapshot: its flag must work too
    a = make_lun(vnx, storops, 'a')
    expose(vnx, 'a', 1)
    device.write('a', 0, b'before')
    a.create_snap('s1', allow_rw=True)
    device.write('a', 0, b'after!')  # the source moves on: s1 gets bytes of its own
    vnx.get_snap(name='s1').copy('s1-copy')
    a.create_mount_point(name='smp')
    vnx.get_lun(name='smp').attach_snap('s1-copy')
    assert vnx.get_snap(name='s1-copy').modified is False
    expose(vnx, 'smp', 2)
    assert device.read('smp', 0, 6) == b'before'
    device.write('smp', 0, b'CHANGE')
    assert vnx.get_snap(name='s1-copy').modified is True
    assert vnx.get_snap(name='s1').modified is False


def test_a_cg_snapshot_counts_each_members_frozen_bytes_once_in_the_pool(vnx, storops, sim, device):
    mib = 1024 * 1024
    make_lun(vnx, storops, 'a')
    make_lun(vnx, storops, 'b')
    expose(vnx, 'a', 1)
    expose(vnx, 'b', 2)
    device.write('a', 0, b'a' * (10 * mib))
    device.write('b', 0, b'b' * (30 * mib))
    vnx.create_cg('cg1', members=[vnx.get_lun(name='a').lun_id, vnx.get_lun(name='b').lun_id])
    before = vnx.get_pool(name='Pool0').consumed_capacity_gbs
    vnx.get_cg('cg1').create_snap('cg1-snap')
    after = vnx.get_pool(name='Pool0').consumed_capacity_gbs
    # the snapshot holds 10 MiB of a and 30 MiB of b: 40 MiB, not a's twice (20)
    assert abs((after - before) * 1024 - 40) < 3
