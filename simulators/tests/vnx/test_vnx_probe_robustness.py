# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a careless or hostile user feeds naviseccli-sim: odd sizes, odd names, commands
in an order the happy path never takes. Every refusal is the array's (or naviseccli's)
error on stdout, never a crash, and leaves the array as it was."""

import pytest

GIB = 1024 ** 3
INTERNAL = 'internal error'


def lun_names(sim):
    return sorted(lun['name'] for lun in sim.state()['luns'])


@pytest.mark.parametrize('capacity', ['abc', '1e400', 'nan', 'inf', '-1'])
def test_lun_create_with_a_capacity_that_is_no_size_is_a_parameter_error(sim, capacity):
    out = sim.navi('lun', '-create', '-capacity', capacity, '-sq', 'gb', '-poolName', 'Pool0', '-name', 'odd', '-type', 'Thin')
    assert INTERNAL not in out
    assert 'invalid command line parameters' in out
    assert lun_names(sim) == []


def test_lun_larger_than_a_vnx_can_make_is_refused_not_a_crash(sim):
    # a pool LUN is at most 256 TiB on a VNX; thin, so the pool's size does not matter
    out = sim.navi('lun', '-create', '-capacity', 300 * 1024, '-sq', 'gb', '-poolName', 'Pool0', '-name', 'huge', '-type', 'Thin')
    assert INTERNAL not in out
    assert '0x712d8e08' in out
    assert lun_names(sim) == []


def test_lun_the_state_directory_cannot_back_is_refused_clearly(sim):
    # 20 TiB is a valid VNX LUN, but ext4 (the usual /tmp) cannot hold a 20 TiB file
    out = sim.navi('lun', '-create', '-capacity', 20 * 1024, '-sq', 'gb', '-poolName', 'Pool0', '-name', 'big', '-type', 'Thin')
    assert INTERNAL not in out
    if out:
        assert 'VNXSIM_HOME' in out
        assert lun_names(sim) == []
    else:
        assert lun_names(sim) == ['big']


def test_expand_past_what_the_state_directory_can_back_is_refused_clearly(sim):
    assert sim.navi('lun', '-create', '-capacity', 1, '-sq', 'gb', '-poolName', 'Pool0', '-name', 'a', '-type', 'Thin') == ''
    out = sim.navi('lun', '-expand', '-l', 0, '-capacity', 20 * 1024, '-sq', 'gb', '-o')
    assert INTERNAL not in out
    if out:
        assert 'VNXSIM_HOME' in out
        assert sim.lun('a')['size'] == GIB


@pytest.mark.parametrize('name', ['', 'two\nlines', 'carriage\rreturn'])
def test_names_that_would_break_the_output_are_refused(sim, name):
    out = sim.navi('lun', '-create', '-capacity', 1, '-sq', 'gb', '-poolName', 'Pool0', '-name', name, '-type', 'Thin')
    assert 'invalid command line parameters' in out
    assert lun_names(sim) == []


def test_names_with_spaces_quotes_unicode_and_dashes_round_trip(sim, storops, vnx):
    names = ["with space", "quo'te\"s", 'ünïcødé ☃', '-o', 'x' * 64]
    for name in names:
        assert sim.navi('lun', '-create', '-capacity', 1, '-sq', 'gb', '-poolName', 'Pool0', '-name', name, '-type', 'Thin') == ''
    for name in names:
        lun = vnx.get_lun(name=name)
        assert lun.existed and lun.name == name


def test_restore_a_snapshot_of_a_mount_point_onto_it(sim):
    """A snapshot of an SMP restores into the SMP (its attached snapshot's bytes)."""
    assert sim.navi('lun', '-create', '-capacity', 1, '-sq', 'gb', '-poolName', 'Pool0', '-name', 'base', '-type', 'Thin') == ''
    assert sim.navi('snap', '-create', '-res', 0, '-name', 's0') == ''
    assert sim.navi('lun', '-create', '-type', 'snap', '-primaryLun', 0, '-name', 'm1') == ''
    smp = sim.lun('m1')['id']
    assert sim.navi('lun', '-attach', '-l', smp, '-snapName', 's0') == ''
    assert sim.navi('snap', '-create', '-res', smp, '-name', 's-of-m1') == ''
    out = sim.navi('snap', '-restore', '-id', 's-of-m1', '-res', smp)
    assert out == ''
    assert sim.navi('lun', '-detach', '-l', smp, '-o') == ''
    out = sim.navi('snap', '-restore', '-id', 's-of-m1', '-res', smp)
    assert INTERNAL not in out
    assert 'Snapshot mount point is not currently attached.' in out


def test_a_migration_destination_cannot_be_put_in_a_storage_group(sim):
    """It is private to the migration and disappears with it: a mapping to it would
    later point at whatever LUN gets its number next."""
    sim.ctl('config', '--migration-rate-mib-s', '0.001')
    for name in ('src', 'dst'):
        assert sim.navi('lun', '-create', '-capacity', 1, '-sq', 'gb', '-poolName', 'Pool0', '-name', name, '-type', 'Thin') == ''
    assert sim.navi('migrate', '-start', '-source', 0, '-dest', 1, '-rate', 'high', '-o') == ''
    assert 'Is Private:  Yes' in sim.navi('lun', '-list', '-all', '-l', 1)
    assert sim.navi('storagegroup', '-create', '-gname', 'grp') == ''
    out = sim.navi('storagegroup', '-addhlu', '-hlu', 1, '-alu', 1, '-gname', 'grp', '-o')
    assert out.startswith('Error: storagegroup command failed')
    assert [sg['hlus'] for sg in sim.state()['storage_groups']] == [{}]


def test_a_corrupted_state_file_is_named_with_what_to_do(sim):
    state_file = sim.state()['address'] and '%s/arrays/127.0.0.1/state.json' % sim.home
    with open(state_file) as f:
        text = f.read()
    with open(state_file, 'w') as f:
        f.write(text[:100])
    out = sim.navi('lun', '-list', '-all')
    assert out.startswith('Error: lun -list command failed.')
    assert INTERNAL not in out
    assert 'state.json' in out and 'vnx-sim init --force' in out
    proc = sim.ctl('state', check=False)
    assert proc.returncode == 1
    assert 'Traceback' not in proc.stderr
    assert 'state.json' in proc.stderr
    with open(state_file, 'w') as f:
        f.write(text)
    assert sim.navi('lun', '-list', '-all') == ''


def test_snapshots_of_mount_points_count_toward_the_primary_luns_limit(sim, inproc):
    """A VNX's snapshot limit is per primary LUN, branches (snapshots of its SMPs) included."""
    assert inproc('lun', '-create', '-capacity', 1, '-sq', 'gb', '-poolName', 'Pool0', '-name', 'base', '-type', 'Thin') == ''
    assert inproc('snap', '-create', '-res', 0, '-name', 's0') == ''
    assert inproc('lun', '-create', '-type', 'snap', '-primaryLun', 0, '-name', 'm1') == ''
    smp = sim.lun('m1')['id']
    assert inproc('lun', '-attach', '-l', smp, '-snapName', 's0') == ''
    for i in range(1, 200):
        assert inproc('snap', '-create', '-res', 0, '-name', 'p%d' % i) == ''
    for i in range(55):
        assert inproc('snap', '-create', '-res', smp, '-name', 'b%d' % i) == ''
    assert len(sim.state()['snapshots']) == 255
    out = inproc('snap', '-create', '-res', smp, '-name', 'one-too-many')
    assert 'maximum number of snapshots' in out
    out = inproc('snap', '-create', '-res', 0, '-name', 'one-too-many')
    assert 'maximum number of snapshots' in out
    out = inproc('snap', '-copy', '-id', 'b0', '-name', 'one-too-many')
    assert 'maximum number of snapshots' in out
    assert len(sim.state()['snapshots']) == 255


@pytest.mark.parametrize('keep_for', ['xyz', '-5d', '99999999999999999d'])
def test_a_retention_that_is_no_duration_is_refused_and_the_listing_survives(sim, keep_for):
    assert sim.navi('lun', '-create', '-capacity', 1, '-sq', 'gb', '-poolName', 'Pool0', '-name', 'a', '-type', 'Thin') == ''
    out = sim.navi('snap', '-create', '-res', 0, '-name', 'k', '-keepFor', keep_for)
    assert 'invalid command line parameters' in out
    assert sim.navi('snap', '-create', '-res', 0, '-name', 'k2', '-keepFor', '7d') == ''
    out = sim.navi('snap', '-modify', '-id', 'k2', '-keepFor', keep_for)
    assert 'invalid command line parameters' in out
    listing = sim.navi('snap', '-list', '-detail')
    assert INTERNAL not in listing
    assert [s['name'] for s in sim.state()['snapshots']] == ['k2']


@pytest.mark.parametrize('lun_id', [-3, 8192, 99999])
def test_a_lun_number_out_of_range_is_refused(sim, lun_id):
    out = sim.navi('lun', '-create', '-capacity', 1, '-sq', 'gb', '-poolName', 'Pool0', '-l', lun_id)
    assert 'invalid command line parameters' in out
    assert sim.navi('lun', '-create', '-capacity', 1, '-sq', 'gb', '-poolName', 'Pool0', '-name', 'base') == ''
    out = sim.navi('lun', '-create', '-type', 'snap', '-primaryLun', 0, '-l', lun_id)
    assert 'invalid command line parameters' in out
    assert lun_names(sim) == ['base']


def test_arrays_side_by_side_never_share_serials_or_wwns(bare_sim, tmp_path):
    """Two arrays addressed by host name got the same serial and WWNs, so their WWN
    links (one directory) overwrote each other; two IPs that end alike shared a serial."""
    seed = tmp_path / 'two.yml'
    seed.write_text('arrays:\n  - {address: vnx-a.lab}\n  - {address: vnx-b.lab}\n')
    bare_sim.ctl('init', '--seed', str(seed))
    wwns, serials = [], []
    for address in ('vnx-a.lab', 'vnx-b.lab'):
        assert bare_sim.navi('lun', '-create', '-capacity', 1, '-sq', 'gb', '-poolName', 'Pool0', '-name', 'l', '-type', 'Thin',
                             address=address) == ''
        wwns.append(bare_sim.lun('l', address=address)['wwn'])
        serials.append(bare_sim.state(address)['serial'])
    assert wwns[0] != wwns[1] and serials[0] != serials[1]
    clash = tmp_path / 'clash.yml'
    clash.write_text('arrays:\n  - {address: 10.0.1.5}\n  - {address: 192.168.1.5}\n')
    proc = bare_sim.ctl('init', '--seed', str(clash), check=False)
    assert proc.returncode == 1 and 'serial' in proc.stderr
    assert bare_sim.ctl('state', '--address', '10.0.1.5', check=False).returncode == 1  # nothing half made
    clash.write_text('arrays:\n  - {address: 10.0.1.5}\n  - {address: 192.168.1.5, serial: CETV00000099}\n')
    bare_sim.ctl('init', '--seed', str(clash))
    assert bare_sim.state('192.168.1.5')['serial'] == 'CETV00000099'


def test_an_address_without_an_array_says_so_besides_the_network_error(sim, storops):
    out = sim.navi('lun', '-list', '-all', address='10.9.9.9')
    assert out.startswith("A network error occurred while trying to connect: '10.9.9.9'.")
    assert 'no array at 10.9.9.9' in out and sim.home in out and 'vnx-sim init' in out
    nowhere = storops.VNXSystem('10.9.9.9', 'sysadmin', 'sysadmin', 0, naviseccli=sim.naviseccli, heartbeat_interval=0)
    with pytest.raises(storops.exception.VNXSystemDownError):
        nowhere.get_lun(name='x').existed  # pylint: disable=expression-not-assigned
