# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parallel naviseccli processes (Ansible forks, parallel storops calls) see one array:
no lost update, no duplicate id, one winner per HLU."""

import subprocess

from concurrent.futures import ThreadPoolExecutor

CREDS = ['-h', '127.0.0.1', '-user', 'sysadmin', '-password', 'sysadmin', '-scope', '0']


def run_all(sim, commands):
    """Start every command as its own process at once; their stdouts, in order."""
    env = sim.env()
    procs = [subprocess.Popen([sim.naviseccli] + CREDS + [str(a) for a in cmd], env=env, stdout=subprocess.PIPE,
                              universal_newlines=True) for cmd in commands]
    return [proc.communicate()[0].strip() for proc in procs]


def test_parallel_creates_get_distinct_ids(sim):
    outs = run_all(sim, [['lun', '-create', '-capacity', 1, '-sq', 'gb', '-poolName', 'Pool0', '-name', 'par-%d' % i, '-type', 'Thin']
                         for i in range(16)])
    assert outs == [''] * 16
    luns = sim.state()['luns']
    assert sorted(lun['name'] for lun in luns) == sorted('par-%d' % i for i in range(16))
    assert len({lun['id'] for lun in luns}) == 16
    assert len({lun['wwn'] for lun in luns}) == 16


def test_parallel_snapshots_of_one_lun(sim):
    sim.navi('lun', '-create', '-capacity', 1, '-sq', 'gb', '-poolName', 'Pool0', '-name', 'src', '-type', 'Thin')
    outs = run_all(sim, [['snap', '-create', '-res', 0, '-name', 's%d' % i, '-allowReadWrite', 'yes'] for i in range(16)])
    assert outs == [''] * 16
    assert len(sim.lun('src')['snapshots']) == 16


def test_same_name_in_parallel_one_wins(sim):
    outs = run_all(sim, [['lun', '-create', '-capacity', 1, '-sq', 'gb', '-poolName', 'Pool0', '-name', 'same', '-type', 'Thin']
                         for i in range(8)])
    assert outs.count('') == 1
    assert all('(0x712d8d04)' in out for out in outs if out)
    assert [lun['name'] for lun in sim.state()['luns']] == ['same']


def test_same_hlu_in_parallel_one_wins(sim):
    for i in range(6):
        sim.navi('lun', '-create', '-capacity', 1, '-sq', 'gb', '-poolName', 'Pool0', '-name', 'l%d' % i, '-type', 'Thin')
    sim.navi('storagegroup', '-create', '-gname', 'g')
    outs = run_all(sim, [['storagegroup', '-addhlu', '-hlu', 1, '-alu', i, '-gname', 'g', '-o'] for i in range(6)])
    assert outs.count('') == 1
    assert all('Requested Host LUN Number already in use' in out for out in outs if out)
    assert len(sim.state()['storage_groups'][0]['hlus']) == 1


def test_parallel_storops_clients(sim, storops):
    """Several VNXSystem objects in threads, as parallel modules would run them."""
    def worker(i):
        vnx = storops.VNXSystem('127.0.0.1', 'sysadmin', 'sysadmin', 0, naviseccli=sim.naviseccli, heartbeat_interval=0)
        vnx.get_pool(name='Pool0').create_lun('t%d' % i, size_gb=1)
        lun = vnx.get_lun(name='t%d' % i)
        lun.create_snap('t%d-snap' % i, allow_rw=True)
        lun.create_mount_point(name='t%d-smp' % i)
        vnx.get_lun(name='t%d-smp' % i).attach_snap('t%d-snap' % i)
        return vnx.get_lun(name='t%d-smp' % i).attached_snapshot.name

    with ThreadPoolExecutor(max_workers=6) as pool:
        names = list(pool.map(worker, range(6)))
    assert names == ['t%d-snap' % i for i in range(6)]
    state = sim.state()
    assert len(state['luns']) == 12 and len(state['snapshots']) == 6
