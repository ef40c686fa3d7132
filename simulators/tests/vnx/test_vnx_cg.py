# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Consistency groups (snap -group) as storops' VNXConsistencyGroup drives them: the
outputs parse with storops' own parser, the array's refusals reach storops as its error
classes, a CG snapshot freezes every member; and a snapshot's 'Modified' flag."""

import pytest

MIB = 1024 * 1024
OLD = b'old bytes ' * 4096
NEW = b'NEW BYTES ' * 4096


def make_lun(vnx, storops, name):
    vnx.get_pool(name='Pool0').create_lun(name, size_gb=1, provision=storops.VNXProvisionEnum.THIN, ignore_thresholds=True)
    return vnx.get_lun(name=name)


def members(vnx, name):
    from storops.vnx.parsers import get_vnx_parser
    cg = get_vnx_parser('VNXConsistencyGroup').parse(vnx._cli.get_cg(name=name))
    return sorted(getattr(cg['lun_list'], '_lun_ids', None) or [])  # no len(): it would list every LUN


def test_cg_lifecycle_through_storops(vnx, storops, sim):
    a, b = make_lun(vnx, storops, 'a'), make_lun(vnx, storops, 'b')
    vnx.create_cg('cg1', members=[a.lun_id])
    cg = vnx.get_cg('cg1')
    assert cg.existed and cg.name == 'cg1' and cg.state == 'Ready'
    # VNXConsistencyGroup.has_member (and so delete_member) fails on storops 1.2.12 (truth value of a
    # VNXLunList): the client and this test remove members with the CLI command storops has for it
    cg.add_member(b)
    assert members(vnx, 'cg1') == sorted([a.lun_id, b.lun_id])
    assert [g.name for g in vnx.get_cg()] == ['cg1']
    assert vnx._cli.delete_cg_member('cg1', a.lun_id) == ''
    assert members(vnx, 'cg1') == [b.lun_id]
    cg.replace_member(a)
    assert members(vnx, 'cg1') == [a.lun_id]
    assert 'Consistency Group:  cg1' in sim.navi('lun', '-list', '-name', 'a')
    vnx.delete_cg('cg1')
    assert not vnx.get_cg('cg1').existed
    assert sim.navi('snap', '-group', '-list', '-id', 'cg1', '-detail') == 'Cannot find the consistency group.'


def test_cg_listing_parses_like_an_arrays(vnx, storops, sim):
    from storops.vnx.parsers import get_vnx_parser
    a = make_lun(vnx, storops, 'a')
    sim.navi('snap', '-group', '-create', '-name', 'empty')
    sim.navi('snap', '-group', '-create', '-name', 'full', '-res', str(a.lun_id), '-allowSnapAutoDelete', 'no')
    parsed = get_vnx_parser('VNXConsistencyGroup').parse_all(sim.navi('snap', '-group', '-list', '-detail'))
    by_name = dict((g['name'], g) for g in parsed)
    assert set(by_name) == {'empty', 'full'}
    assert by_name['empty']['lun_list'] == () and by_name['empty']['state'] == 'Ready'
    assert list(by_name['full']['lun_list']._lun_ids) == [a.lun_id]
    text = sim.navi('snap', '-group', '-list', '-id', 'empty', '-detail')
    assert 'Member LUN ID(s):  None' in text and 'Allow auto delete:  No' in text


def test_cg_refusals(vnx, storops, sim):
    ex = storops.exception
    a = make_lun(vnx, storops, 'a')
    a.create_snap('s1', allow_rw=True)
    a.create_mount_point(name='smp')
    vnx.get_lun(name='smp').attach_snap('s1')
    smp = vnx.get_lun(name='smp')
    vnx.create_cg('cg1', members=[a.lun_id])
    # the seeds' limitation: a snap copy (snapshot mount point) cannot be a member
    with pytest.raises(ex.VNXConsistencyGroupError) as err:
        vnx.get_cg('cg1').add_member(smp)
    assert 'snapshot mount point' in str(err.value)
    with pytest.raises(ex.VNXCreateConsistencyGroupError):
        vnx.create_cg('cg2', members=[smp.lun_id])
    assert vnx.get_cg('cg2').existed is False
    with pytest.raises(ex.VNXConsistencyGroupNameInUseError):
        vnx.create_cg('cg1')
    # a LUN is in one group at most
    sim.navi('snap', '-group', '-create', '-name', 'cg3')
    assert '(0x716d8045)' in sim.navi('snap', '-group', '-addmember', '-id', 'cg3', '-res', str(a.lun_id))
    # a missing LUN, a missing group
    assert 'may not exist' in sim.navi('snap', '-group', '-addmember', '-id', 'cg1', '-res', '999')
    with pytest.raises(ex.VNXConsistencyGroupNotFoundError):
        vnx.get_cg('nope').add_member(a)
    assert members(vnx, 'cg1') == [a.lun_id]
    # destroying a member: storops' VNXLunInConsistencyGroupError (0x716d8025)
    vnx.get_lun(name='smp').delete(force_detach=True)
    with pytest.raises(ex.VNXLunInConsistencyGroupError):
        vnx.get_lun(name='a').delete(delete_snapshots=True)
    assert sim.lun('a') is not None
    vnx.get_lun(name='a').delete(delete_snapshots=True, detach_from_cg=True)
    assert sim.lun('a') is None and members(vnx, 'cg1') == []


def test_cg_snapshot_freezes_every_member(vnx, storops, sim, device):
    from storops.vnx.parsers import get_vnx_parser
    a, b = make_lun(vnx, storops, 'a'), make_lun(vnx, storops, 'b')
    sg = vnx.create_sg('localhost')
    sg.connect_host('localhost')
    vnx.get_sg('localhost').attach_alu(a, hlu=1)
    vnx.get_sg('localhost').attach_alu(b, hlu=2)
    device.write('a', MIB, OLD)
    device.write('b', MIB, OLD)
    vnx.create_cg('cg1', members=[a.lun_id, b.lun_id])
    vnx.get_cg('cg1').create_snap('cg1-snap', allow_rw=True)
    device.write('a', MIB, NEW)
    device.write('b', MIB, NEW)
    snap = get_vnx_parser('VNXSnap').parse(sim.navi('snap', '-list', '-id', 'cg1-snap', '-detail'))
    assert snap['source_cg'] == 'cg1' and sorted(snap['source_luns']) == sorted([a.lun_id, b.lun_id])
    state = sim.state()
    record = next(x for x in state['snapshots'] if x['name'] == 'cg1-snap')
    assert record['consistency_group'] == 'cg1'
    assert state['consistency_groups'] == [{'name': 'cg1', 'members': [a.lun_id, b.lun_id], 'auto_delete': False}]
    for lun in (a, b):
        with open(record['files'][str(lun.lun_id)], 'rb') as f:
            f.seek(MIB)
            assert f.read(len(OLD)) == OLD
    # each member lists it among its snapshots
    assert 'cg1-snap' in [s.name for s in vnx.get_lun(name='b').get_snap()]
    assert 'Cannot find the consistency group' in sim.navi('snap', '-create', '-res', 'nope', '-resType', 'CG', '-name', 'x')


def test_snapshot_modified_once_written_through_its_mount_point(vnx, storops, sim, device):
    a = make_lun(vnx, storops, 'a')
    a.create_snap('s1', allow_rw=True)
    a.create_mount_point(name='smp')
    vnx.get_lun(name='smp').attach_snap('s1')
    assert vnx.get_snap(name='s1').modified is False
    sg = vnx.create_sg('localhost')
    sg.connect_host('localhost')
    vnx.get_sg('localhost').attach_alu(vnx.get_lun(name='smp'), hlu=1)
    assert vnx.get_snap(name='s1').modified is False  # exposed, not yet written
    device.write('smp', 0, b'written')
    assert vnx.get_snap(name='s1').modified is True
