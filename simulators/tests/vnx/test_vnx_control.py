# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vnx-sim (init and seeds, state, faults, SPs, latency, migration rate, call counters)
and naviseccli-sim's prefix handling."""

import os
import signal
import subprocess
import sys
import time


def test_default_init(bare_sim):
    bare_sim.ctl('init')
    state = bare_sim.state()
    assert state['address'] == '127.0.0.1' and state['sp_b_address'] == '127.0.0.2'
    assert [(p['id'], p['name'], p['size']) for p in state['pools']] == [(0, 'Pool0', 1024 ** 4)]
    assert state['users'] == [{'name': 'sysadmin', 'scope': 0}]
    assert [(h['name'], h['this_machine']) for h in state['hosts']] == [('localhost', True)]
    assert state['storage_groups'] == [] and state['luns'] == []
    assert state['device_dir'] == os.path.join(bare_sim.home, 'dev', 'disk', 'by-id')
    assert 'Serial No:' in bare_sim.navi('getagent')
    # SP B's address reaches the same array
    assert bare_sim.navi('getagent', address='127.0.0.2') == bare_sim.navi('getagent')


def test_init_refuses_to_overwrite(bare_sim):
    bare_sim.ctl('init')
    bare_sim.navi('lun', '-create', '-capacity', 1, '-sq', 'gb', '-poolName', 'Pool0', '-name', 'keep')
    proc = bare_sim.ctl('init', check=False)
    assert proc.returncode == 1 and 'already exists' in proc.stderr and '--force' in proc.stderr
    assert bare_sim.lun('keep') is not None
    bare_sim.ctl('init', '--force')
    assert bare_sim.state()['luns'] == []


def test_seed_with_two_arrays(bare_sim, tmp_path):
    seed = tmp_path / 'two.yml'
    seed.write_text('''
arrays:
  - address: 192.0.2.10
    serial: CETV00000010
    pools: [{name: Gold, size: 100 GiB, id: 3}]
    users: [{name: admin, password: secret, scope: 1}]
    hosts: [{name: h1, ip: 192.0.2.50}]
    storage_groups: [{name: h1, hosts: [h1]}]
  - address: 192.0.2.20
''')
    bare_sim.ctl('init', '--seed', seed)
    one = bare_sim.state('192.0.2.10')
    assert one['serial'] == 'CETV00000010' and one['pools'][0]['id'] == 3
    assert one['storage_groups'][0]['hosts'] == ['h1']
    agent = bare_sim.navi('getagent', address='192.0.2.10', user='admin', password='secret', scope=1)
    assert 'Serial No:           CETV00000010' in agent
    assert 'invalid username, password and/or scope.' in bare_sim.navi('getagent', address='192.0.2.10')
    bare_sim.navi('lun', '-create', '-capacity', 1, '-sq', 'gb', '-poolName', 'Pool0', '-name', 'only-here', address='192.0.2.20')
    assert bare_sim.lun('only-here', '192.0.2.20') is not None
    assert bare_sim.state('192.0.2.10')['luns'] == []


def test_bad_seed(bare_sim, tmp_path):
    seed = tmp_path / 'bad.yml'
    seed.write_text('pools: []\n')
    proc = bare_sim.ctl('init', '--seed', seed, check=False)
    assert proc.returncode == 1 and '"arrays"' in proc.stderr
    seed.write_text('arrays: [{address: 192.0.2.30, pools: [{name: NoSize}]}]\n')
    proc = bare_sim.ctl('init', '--seed', seed, check=False)
    assert proc.returncode == 1 and 'pools need name and size' in proc.stderr


def test_security_probe_without_address(sim):
    probe = subprocess.run([sim.naviseccli, 'security', '-certificate', '-getLevel'], env=sim.env(),
                           stdout=subprocess.PIPE, universal_newlines=True, check=True)
    assert probe.stdout == 'low\n'
    set_level = subprocess.run([sim.naviseccli, 'security', '-certificate', '-setLevel', 'low'], env=sim.env(),
                               stdout=subprocess.PIPE, universal_newlines=True, check=True)
    assert set_level.stdout == ''


def test_prefix_forms(sim, tmp_path):
    base = [sim.naviseccli, '-h', '127.0.0.1']
    creds = ['-user', 'sysadmin', '-password', 'sysadmin', '-scope', '0']
    for argv in (base + creds + ['-t', '30', 'getagent'], base + creds + ['-np', 'getagent'],
                 base + creds + ['-t', '30', '-np', 'getagent'], base + ['-secfilepath', str(tmp_path), 'getagent']):
        out = subprocess.run(argv, env=sim.env(), stdout=subprocess.PIPE, universal_newlines=True, check=False).stdout
        assert 'Serial No:' in out, argv
    out = subprocess.run(base + ['-secfilepath', str(tmp_path / 'nope'), 'getagent'], env=sim.env(), stdout=subprocess.PIPE,
                         universal_newlines=True, check=False).stdout
    assert 'Authentication failed' in out


def test_errors_go_to_stdout_with_a_failing_exit_code(sim):
    proc = subprocess.run([sim.naviseccli, '-h', '127.0.0.1', '-user', 'sysadmin', '-password', 'sysadmin', '-scope', '0',
                           'snap', '-destroy', '-id', 'nope', '-o'], env=sim.env(), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, check=False)
    assert proc.stdout.strip() == 'The specified snapshot does not exist.'
    assert proc.stderr == '' and proc.returncode != 0


def test_invalid_parameters(sim):
    assert 'invalid command line parameters' in sim.navi('lun', '-create', '-poolName', 'Pool0', '-name', 'x')
    assert 'invalid command line parameters' in sim.navi('bogus', '-thing')
    assert sim.state()['luns'] == []


def test_state_view(sim):
    sim.navi('lun', '-create', '-capacity', 2, '-sq', 'gb', '-poolName', 'Pool0', '-name', 'v', '-type', 'Thin')
    sim.navi('snap', '-create', '-res', 0, '-name', 's', '-allowReadWrite', 'yes')
    sim.navi('lun', '-create', '-type', 'snap', '-primaryLun', 0, '-name', 'm')
    sim.navi('lun', '-attach', '-name', 'm', '-snapName', 's')
    state = sim.state()
    lun, smp = state['luns']
    assert (lun['id'], lun['name'], lun['pool'], lun['size'], lun['thin']) == (0, 'v', 'Pool0', 2 * 1024 ** 3, True)
    assert lun['snapshots'] == ['s'] and lun['mount_points'] == [smp['id']] and lun['is_snap_mount_point'] is False
    assert smp['is_snap_mount_point'] and smp['primary'] == 0 and smp['attached_snapshot'] == 's'
    assert state['snapshots'][0]['attached'] == [smp['id']] and state['snapshots'][0]['source'] == 0
    assert state['pools'][0]['subscribed'] == 2 * 1024 ** 3


def test_fault_injection(sim):
    text = 'The specified snapshot name is already in use. (0x716d8005)'
    sim.navi('lun', '-create', '-capacity', 1, '-sq', 'gb', '-poolName', 'Pool0', '-name', 'v')
    sim.ctl('fault', '--command', 'snap -create', '--count', '2', '--output', text)
    assert sim.navi('lun', '-list', '-all', '-name', 'v').startswith('LOGICAL UNIT NUMBER 0')
    for attempt in ('first', 'second'):
        assert sim.navi('snap', '-create', '-res', 0, '-name', attempt) == text
    assert sim.state()['snapshots'] == []
    assert sim.navi('snap', '-create', '-res', 0, '-name', 'a') == ''
    sim.ctl('fault', '--command', 'lun -destroy', '--count', '5', '--output', 'End of data stream')
    sim.ctl('fault', '--clear')
    assert sim.state()['faults'] == []


def test_sp_down_and_up(sim):
    sim.ctl('sp', '--down', 'b')
    assert 'connection refused' in sim.navi('getagent', address='127.0.0.2')
    assert 'Serial No:' in sim.navi('getagent')
    sim.ctl('sp', '--up', 'b')
    assert 'Serial No:' in sim.navi('getagent', address='127.0.0.2')


def test_unknown_address_is_a_network_error(sim):
    assert sim.navi('getagent', address='10.1.2.3').startswith("A network error occurred while trying to connect: '10.1.2.3'.")


def test_latency_and_rate_settings(sim):
    sim.ctl('latency', '0.25')
    assert sim.state()['latency'] == 0.25
    sim.ctl('latency', '0')
    assert sim.state()['latency'] == 0.0
    sim.ctl('config', '--migration-rate-mib-s', '7')
    assert sim.state()['migration_rate_mib_s'] == 7.0


def test_call_counters(sim):
    sim.ctl('calls', '--reset')
    sim.navi('lun', '-list', '-all')
    sim.navi('lun', '-list', '-all', '-name', 'x')
    sim.navi('snap', '-list', '-detail')
    calls = sim.calls()
    assert calls == {'total': 3, 'commands': {'lun -list': 2, 'snap -list': 1}}
    sim.ctl('calls', '--reset')
    assert sim.calls()['total'] == 0


def test_no_home(bare_sim):
    env = {k: v for k, v in os.environ.items() if k != 'VNXSIM_HOME'}
    proc = subprocess.run([bare_sim.vnx_sim, 'state'], env=env, stderr=subprocess.PIPE, universal_newlines=True, check=False)
    assert proc.returncode == 1 and 'VNXSIM_HOME is not set' in proc.stderr
    navi = subprocess.run([bare_sim.naviseccli, '-h', '127.0.0.1', 'getagent'], env=env, stdout=subprocess.PIPE,
                          universal_newlines=True, check=False)
    assert 'A network error occurred' in navi.stdout and 'VNXSIM_HOME' in navi.stdout


def test_a_simulator_crash_is_never_silent(sim):
    """storops takes empty output for success, so even a broken state file must print."""
    with open(os.path.join(sim.home, 'arrays', '127.0.0.1', 'state.json'), 'w') as f:
        f.write('{not json')
    out = sim.navi('lun', '-create', '-capacity', 1, '-sq', 'gb', '-poolName', 'Pool0', '-name', 'x')
    assert out.startswith('Error: lun -create command failed.') and 'state.json' in out


def test_kill_play_lets_the_command_act_then_kills_the_playbook_run(sim, tmp_path):
    # a stand-in for ansible-playbook: runs naviseccli-sim through a child (the module) and would then go on
    play = tmp_path / 'ansible-playbook'
    play.write_text('import subprocess, sys, time\n'
                    'subprocess.run(sys.argv[1:])\n'
                    'open(%r, "w").write("went on")\n'
                    'time.sleep(30)\n' % str(tmp_path / 'after'))
    sim.ctl('fault', '--command', 'lun -create', '--kill-play')
    argv = [sim.naviseccli, '-h', '127.0.0.1', '-user', 'sysadmin', '-password', 'sysadmin', '-scope', '0',
            'lun', '-create', '-capacity', '1', '-sq', 'gb', '-poolName', 'Pool0', '-name', 'v']
    run = subprocess.run([sys.executable, str(play)] + argv, env=sim.env(), start_new_session=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False, timeout=60)
    assert run.returncode == -signal.SIGKILL and run.stdout == b''
    assert not (tmp_path / 'after').exists()
    # the command acted before the kill, and the fault is spent
    assert sim.lun('v') is not None and sim.state()['faults'] == []
    # a call that does not come from ansible-playbook acts and lives
    sim.ctl('fault', '--command', 'lun -create', '--kill-play')
    sim.navi('lun', '-create', '-capacity', 1, '-sq', 'gb', '-poolName', 'Pool0', '-name', 'w')
    assert sim.lun('w') is not None


def test_kill_play_kills_the_worker_that_left_the_run_s_process_group(sim, tmp_path):
    # ansible-core's workers call setsid: the module, and the naviseccli it runs, are in the worker's group
    after = tmp_path / 'after'
    play = tmp_path / 'ansible-playbook'
    play.write_text('import os, subprocess, sys, time\n'
                    'pid = os.fork()\n'
                    'if pid == 0:\n'
                    '    os.setsid()\n'
                    '    subprocess.run(sys.argv[1:])\n'
                    '    open(%r, "w").write("the worker went on")\n'
                    '    os._exit(0)\n'
                    'os.waitpid(pid, 0)\n'
                    'time.sleep(30)\n' % str(after))
    sim.ctl('fault', '--command', 'lun -create', '--kill-play')
    argv = [sim.naviseccli, '-h', '127.0.0.1', '-user', 'sysadmin', '-password', 'sysadmin', '-scope', '0',
            'lun', '-create', '-capacity', '1', '-sq', 'gb', '-poolName', 'Pool0', '-name', 'v']
    run = subprocess.run([sys.executable, str(play)] + argv, env=sim.env(), start_new_session=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False, timeout=60)
    assert run.returncode == -signal.SIGKILL
    time.sleep(1)
    assert not after.exists()
    assert sim.lun('v') is not None


def test_fault_needs_one_of_output_or_kill_play(sim):
    for extra in ([], ['--output', 'x', '--kill-play']):
        proc = sim.ctl('fault', '--command', 'lun -create', *extra, check=False)
        assert proc.returncode != 0 and 'one of --output or --kill-play' in proc.stderr
    assert sim.state()['faults'] == []
