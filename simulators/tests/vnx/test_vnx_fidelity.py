# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fidelity: record every naviseccli command storops runs through a whole lifecycle
(snap copy, full copy, snapshots, storage groups, pools), feed each output to storops'
own parsers, and check that every field storops reads is there with the type a real
array gives. Write commands must print nothing."""

import json
import os
import sys

import pytest

WWN = '^[0-9A-F]{2}(:[0-9A-F]{2}){15}$'


@pytest.fixture
def recorder(sim, tmp_path):
    """A naviseccli that runs naviseccli-sim and logs argv and stdout."""
    log = tmp_path / 'calls.jsonl'
    wrapper = tmp_path / 'naviseccli-recorder'
    wrapper.write_text('\n'.join([
        '#!%s' % sys.executable,
        'import json, subprocess, sys',
        'out = subprocess.run([%r] + sys.argv[1:], stdout=subprocess.PIPE, check=False).stdout.decode()' % sim.naviseccli,
        'with open(%r, "a") as f:' % str(log),
        '    f.write(json.dumps({"argv": sys.argv[1:], "out": out}) + "\\n")',
        'sys.stdout.write(out)',
        '',
    ]))
    os.chmod(str(wrapper), 0o755)
    return str(wrapper), log


def lifecycle(storops, naviseccli, sim):
    """The VNX modules' operations, as storops calls."""
    vnx = storops.VNXSystem('127.0.0.1', 'sysadmin', 'sysadmin', 0, naviseccli=naviseccli, heartbeat_interval=0)
    assert vnx.serial and vnx.is_snap_enabled()
    pool = vnx.get_pool(name='Pool0')
    assert pool.existed and vnx.get_pool()
    pool.create_lun('src', size_gb=2, provision=storops.VNXProvisionEnum.THIN, tier=storops.VNXTieringEnum.HIGH_AUTO)
    src = vnx.get_lun(name='src')
    assert src.existed and vnx.get_lun(lun_id=src.lun_id).existed and not vnx.get_lun(name='missing').existed
    # snap copy (Cinder 1.2)
    src.create_snap('snap-as-vol-1', allow_rw=True, auto_delete=False)
    src.create_mount_point(name='vol-1')
    smp = vnx.get_lun(name='vol-1')
    smp.attach_snap('snap-as-vol-1')
    assert vnx.get_lun(name='vol-1').attached_snapshot.name == 'snap-as-vol-1'
    assert vnx.get_lun(lun_type='Snap') and vnx.get_lun()
    # snap copy from a snapshot (Cinder 1.3)
    vnx.get_snap(name='snap-as-vol-1').copy('snap-as-vol-2')
    vnx.get_snap(name='snap-as-vol-2').modify(allow_rw=True, desc='managed')
    assert src.get_snap() and vnx.get_snap() and not vnx.get_snap(name='missing').existed
    # full copy (Cinder 1.4) with a frozen migration, then completion
    src.create_snap('tmp-snap-3', allow_rw=True, keep_for='1h')
    src.create_mount_point(name='vol-3')
    vnx.get_lun(name='vol-3').attach_snap('tmp-snap-3')
    vnx.get_lun(name='vol-3').expand(3, ignore_thresholds=True)
    pool.create_lun('vol-3_dest', size_gb=3, provision=storops.VNXProvisionEnum.THICK, ignore_thresholds=True)
    dest = vnx.get_lun(name='vol-3_dest')
    sim.ctl('config', '--migration-rate-mib-s', '0')
    vnx.get_lun(name='vol-3').migrate(dest.lun_id, rate=storops.VNXMigrationRate.HIGH)
    assert vnx.get_migration_session(vnx.get_lun(name='vol-3')).existed
    assert vnx.get_migration_session()
    sim.ctl('config', '--migration-rate-mib-s', '100000')
    assert not vnx.get_migration_session(vnx.get_lun(name='vol-3')).existed
    assert not vnx.get_migration_session()
    vnx.get_snap(name='tmp-snap-3').delete()
    # host access: the front-end ports (storops' VNXSPPortList) and the registered initiators (port -list -hba)
    assert len(vnx.get_sp_port()) == 2
    assert 'Server Name:             far' in vnx._cli.execute(['port', '-list', '-hba'])
    sg = vnx.create_sg('host1')
    sg.connect_host('localhost')
    vnx.get_sg('host1').attach_alu(vnx.get_lun(name='vol-1'), hlu=9)
    assert vnx.get_sg('host1').alu_hlu_map and vnx.get_sg() and not vnx.get_sg('missing').existed
    vnx.get_sg('host1').detach_alu(vnx.get_lun(name='vol-1'))
    # consistency group (storops' VNXConsistencyGroup), with a CG snapshot
    vnx.create_cg('cg1', members=[src.lun_id])
    assert vnx.get_cg('cg1').existed and vnx.get_cg() and not vnx.get_cg('missing').existed
    vnx.get_cg('cg1').create_snap('cg1-snap', allow_rw=True)
    vnx.get_snap(name='cg1-snap').delete()
    vnx._cli.delete_cg_member('cg1', src.lun_id)  # storops' delete_member fails on Python 3.11 (has_member)
    vnx.get_cg('cg1').add_member(src)
    vnx.get_cg('cg1').replace_member(src)
    vnx._cli.delete_cg_member('cg1', src.lun_id)
    vnx.delete_cg('cg1')
    # rename, restore, clean-up
    vnx.get_lun(name='vol-3').name = 'vol-3-renamed'
    src.restore_snap('snap-as-vol-2')
    vnx.get_lun(name='vol-1').detach_snap()
    vnx.get_lun(name='vol-1').delete(force_detach=True)
    vnx.get_lun(name='src').delete(delete_snapshots=True)


def is_wwn(value):
    import re
    return isinstance(value, str) and re.match(WWN, value) is not None


def every_field(parser, item, may_be_none=()):
    """Every property storops' parser for ``parser`` reads is in the output (not None)."""
    from storops.vnx.parsers import get_vnx_parser
    missing = sorted(p.key for p in get_vnx_parser(parser).properties
                     if item.get(p.key) is None and p.key not in may_be_none)
    assert missing == [], '%s %s lacks %s' % (parser, item.get('name'), missing)


def check_lun(storops, lun):
    enums = storops.vnx.enums
    # a mount point may have no snapshot attached (before the attach, after a detach)
    every_field('VNXLun', lun, ('attached_snapshot',) if lun['primary_lun'] is not None else ('primary_lun', 'attached_snapshot'))
    for key in ('read_requests', 'write_requests', 'blocks_read', 'blocks_written', 'busy_ticks', 'idle_ticks',
                'sum_of_outstanding_requests', 'implicit_trespasses', 'explicit_trespasses'):
        assert isinstance(lun[key], int) and lun[key] == lun[key + '_sp_a'] + lun[key + '_sp_b'], key
    assert abs(lun['extreme_performance'] + lun['performance'] + lun['capacity'] - 100.0) < 0.01
    assert lun['deduplication_status'] == 'OK(0x0)'
    assert isinstance(lun['lun_id'], int)
    assert isinstance(lun['name'], str) and lun['name']
    assert is_wwn(lun['wwn']), lun['wwn']
    assert lun['state'] == 'Ready' and lun['status'] == 'OK(0x0)' and lun['operation'] == 'None'
    for key in ('total_capacity_gb', 'user_capacity_gbs', 'consumed_capacity_gbs'):
        assert isinstance(lun[key], float), key
    for key in ('current_owner', 'default_owner', 'allocation_owner'):
        assert lun[key] == enums.VNXSPEnum.SP_A, key
    assert isinstance(lun['pool_name'], str) and lun['pool_name']
    assert isinstance(lun['raid_type'], enums.VNXPoolRaidType)
    for key in ('is_thin_lun', 'is_compressed', 'is_private'):
        assert isinstance(lun[key], bool), key
    assert lun['deduplication_state'] in ('On', 'Off')
    assert enums.VNXTieringEnum.get_tier(lun['initial_tier'], lun['tiering_policy']) is not None
    smps = lun['snapshot_mount_points']
    assert smps == () or all(isinstance(i, int) for i in smps._lun_ids), smps
    if lun['primary_lun'] is None:
        assert lun['attached_snapshot'] is None
    else:
        assert isinstance(lun['primary_lun'], storops.vnx.resource.lun.VNXLun)
        snap = lun['attached_snapshot']
        assert snap is None or isinstance(snap, storops.vnx.resource.snap.VNXSnap)


def check_cg(cg):
    every_field('VNXConsistencyGroup', cg)
    assert isinstance(cg['name'], str) and cg['name'] and cg['state'] == 'Ready'
    members = cg['lun_list']
    assert members == () or all(isinstance(i, int) for i in members._lun_ids), members


def check_snap(snap):
    every_field('VNXSnap', snap)
    assert isinstance(snap['name'], str) and snap['name']
    assert isinstance(snap['description'], str)
    for key in ('creation_time', 'last_modify_time', 'last_modified_by', 'source_cg', 'state', 'status', 'expiration_date'):
        assert isinstance(snap[key], str) and snap[key], key
    for key in ('source_luns', 'primary_luns'):
        assert len(snap[key]) >= 1 and all(isinstance(i, int) for i in snap[key]), key
    assert isinstance(snap['attached_luns'], list) and all(isinstance(i, int) for i in snap['attached_luns'])
    for key in ('allow_read_write', 'modified', 'allow_auto_delete'):
        assert isinstance(snap[key], bool), key


def check_migration(storops, m):
    every_field('VNXMigrationSession', m)
    assert isinstance(m['source_lu_name'], str) and isinstance(m['dest_lu_name'], str)
    assert isinstance(m['source_lu_id'], int) and isinstance(m['dest_lu_id'], int)
    assert isinstance(m['migration_rate'], storops.VNXMigrationRate)
    assert m['current_state'] == 'MIGRATING'
    assert isinstance(m['percent_complete'], float)
    assert m['time_remaining'].endswith(('second(s)', 'minute(s)'))


def check_pool(storops, pool):
    every_field('VNXPool', pool)
    assert isinstance(pool['name'], str) and isinstance(pool['pool_id'], int)
    for key in ('percent_full_threshold', 'user_capacity_gbs', 'consumed_capacity_gbs', 'available_capacity_gbs',
                'total_subscribed_capacity_gbs', 'current_operation_percent_completed'):
        assert isinstance(pool[key], float), key
    assert pool['state'] == 'Ready' and pool['status'] == 'OK(0x0)' and pool['current_operation'] == 'None'
    assert isinstance(pool['luns'], list) and all(isinstance(i, int) for i in pool['luns'])
    assert isinstance(pool['fast_cache'], bool)
    tier = pool['tiers'][0]
    assert tier.tier_name == 'Performance' and isinstance(tier.user_capacity_gb, float)
    assert isinstance(tier.raid_type, storops.vnx.enums.VNXPoolRaidType)


def check_sg(sg):
    # a group without LUNs or hosts prints neither section
    every_field('VNXStorageGroup', sg, ('alu_hlu_map', 'hba_sp_pairs'))
    assert isinstance(sg['name'], str) and is_wwn(sg['wwn'])
    assert sg['shareable'] is True
    alu_hlu = sg['alu_hlu_map']
    assert alu_hlu is None or all(isinstance(k, int) and isinstance(v, int) for k, v in alu_hlu.items())
    for hba in sg['hba_sp_pairs'] or []:
        assert hba.host_name and hba.sp_port and hba.initiator_ip and hba.uid.startswith('iqn.')


def check_sp_port(storops, port):
    every_field('VNXSPPort', port)
    assert port['sp'] in (storops.VNXSPEnum.SP_A, storops.VNXSPEnum.SP_B) and isinstance(port['port_id'], int)
    assert port['wwn'].startswith('iqn.') and port['link_status'] == 'Up' and port['port_status'] == 'Online'
    for key in ('registered_initiators', 'logged_in_initiators', 'not_logged_in_initiators', 'reads', 'writes',
                'blocks_read', 'blocks_written', 'queue_full_busy'):
        assert isinstance(port[key], int), key


def check_hbas(out, hosts):
    """port -list -hba: one block per registered initiator, each with its server's name."""
    import re
    blocks = out.split('Information about each HBA:')[1:]
    assert sorted(re.search(r'^Server Name:\s+(\S+)$', b, re.M).group(1) for b in blocks) == sorted(hosts)
    for block in blocks:
        assert re.search(r'^HBA UID:\s+\S+$', block, re.M) and 'Information about each port of this HBA:' in block
        assert re.search(r'^    StorageGroup Name:\s+\S+$', block, re.M)


def words_of(argv):
    """The command after the credential prefix (and -np)."""
    from datamotion_sim.vnx import naviseccli
    return naviseccli.split_prefix(argv)[1]


def test_every_output_parses_into_the_fields_storops_reads(sim, storops, recorder):
    from storops.vnx.parsers import get_vnx_parser
    naviseccli, log = recorder
    lifecycle(storops, naviseccli, sim)
    records = [json.loads(line) for line in log.read_text().splitlines()]
    seen = set()
    for record in records:
        words, out = words_of(record['argv']), record['out'].strip()
        key = ' '.join(words[:2])
        seen.add(key)
        if key == 'security -certificate':
            assert out in ('low', '')
        elif key == 'getagent':
            agent = get_vnx_parser('VNXSystem').parse(out)
            assert all(isinstance(agent[k], str) and agent[k] for k in ('model', 'serial', 'revision', 'model_type', 'agent_rev', 'name'))
        elif key == 'networkadmin -get':
            net = get_vnx_parser('VNXNetworkAdmin').parse(out)
            assert net['ip'] in ('127.0.0.1', '127.0.0.2') and net['sp'] in (storops.VNXSPEnum.SP_A, storops.VNXSPEnum.SP_B)
        elif key == 'domain -list':
            assert get_vnx_parser('VNXDomainNode').parse_all(out) == []
        elif key == 'ndu -list':
            ndus = get_vnx_parser('VNXNdu').parse_all(out)
            assert ndus and all(n['active_state'] is True and n['commit_required'] is False for n in ndus)
        elif key == 'lun -list':
            luns = get_vnx_parser('VNXLun').parse_all(out)
            if out.startswith('Could not retrieve the specified (pool lun).'):
                assert luns == []
            else:
                assert luns, out
                for lun in luns:
                    check_lun(storops, lun)
        elif key == 'snap -list':
            snaps = get_vnx_parser('VNXSnap').parse_all(out)
            if out.startswith('Could not retrieve the specified (Snapshot).'):
                assert snaps == []
            else:
                assert snaps, out
                for snap in snaps:
                    check_snap(snap)
        elif key == 'snap -group' and words[2] == '-list':
            groups = get_vnx_parser('VNXConsistencyGroup').parse_all(out)
            if out.startswith('Cannot find the consistency group'):
                assert groups == []
            else:
                assert groups, out
                for cg in groups:
                    check_cg(cg)
        elif key == 'migrate -list':
            sessions = get_vnx_parser('VNXMigrationSession').parse_all(out)
            if out in ('No current migrations exist.', 'Error: migrate -list command failed.\nThe specified source LUN is not currently migrating.'):
                assert sessions == []
            else:
                assert sessions, out
                for m in sessions:
                    check_migration(storops, m)
        elif key == 'storagepool -list':
            pools = get_vnx_parser('VNXPool').parse_all(out)
            assert pools
            for pool in pools:
                check_pool(storops, pool)
        elif key in ('storagegroup -list', 'storagegroup -messner'):
            groups = get_vnx_parser('VNXStorageGroup').parse_all(out)
            if 'does not match any storage groups' in out:
                assert groups == []
            else:
                assert groups, out
                for sg in groups:
                    check_sg(sg)
        elif key == 'port -list' and '-sp' in words:
            ports = get_vnx_parser('VNXSPPort').parse_all(out)
            assert len(ports) == 2, out
            for port in ports:
                check_sp_port(storops, port)
        elif key == 'port -list':
            check_hbas(out, ['localhost', 'far'])
        else:
            assert out == '', '%s printed %r' % (' '.join(words), out)
    writes = {'lun -create', 'lun -attach', 'lun -detach', 'lun -destroy', 'lun -modify', 'lun -expand', 'snap -create',
              'snap -copy', 'snap -modify', 'snap -destroy', 'snap -restore', 'migrate -start', 'storagegroup -create',
              'storagegroup -addhlu', 'storagegroup -removehlu', 'storagegroup -connecthost', 'snap -group'}
    reads = {'getagent', 'networkadmin -get', 'ndu -list', 'lun -list', 'snap -list', 'migrate -list', 'storagepool -list',
             'storagegroup -messner', 'storagegroup -list', 'security -certificate', 'port -list'}
    assert writes | reads <= seen, sorted((writes | reads) - seen)
