# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``vnx-sim``: create simulated arrays and steer them (faults, SPs, latency, migration
rate), read their state and call counters, and tear down what they exposed."""

import argparse
import json
import os
import shutil
import sys

from . import model, store

DEFAULT_SEED = {
    'arrays': [{
        'address': '127.0.0.1',
        'sp_b_address': '127.0.0.2',
        'pools': [{'name': 'Pool0', 'size': '1 TiB'}],
        'users': [{'name': 'sysadmin', 'password': 'sysadmin', 'scope': 0}],
        'hosts': [{'name': 'localhost', 'ip': '127.0.0.1', 'this_machine': True}],
    }],
}


class Failure(Exception):
    pass


def load_seed(path):
    if path is None:
        return DEFAULT_SEED
    import yaml  # only init needs YAML; naviseccli-sim stays on JSON
    with open(path) as f:
        seed = yaml.safe_load(f)
    if not isinstance(seed, dict) or not isinstance(seed.get('arrays'), list) or not seed['arrays']:
        raise Failure('%s: a seed is a mapping with a non-empty list "arrays" (see simulators/README.md)' % path)
    return seed


def precompile():
    """Write the package's bytecode even where PYTHONDONTWRITEBYTECODE is set: every
    naviseccli-sim call would otherwise compile its modules again (~20 ms)."""
    import compileall
    try:
        compileall.compile_dir(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), quiet=2)
    except OSError:
        pass


def cmd_init(args):
    precompile()
    seed = load_seed(args.seed)
    for spec in seed['arrays']:
        if 'address' not in spec:
            raise Failure('every array in the seed needs an "address"')
        address = spec['address']
        if store.exists(address) and not args.force:
            raise Failure('array %s already exists in %s: use --force to replace it' % (address, store.home()))
    check_unique(seed)
    for spec in seed['arrays']:
        address = spec['address']
        if store.exists(address):
            teardown(address)
            shutil.rmtree(os.path.realpath(store.array_dir(address)))
        device_dir = spec.get('device_dir') or os.path.join(store.home(), 'dev', 'disk', 'by-id')
        try:
            state = model.new_array(address, sp_b_address=spec.get('sp_b_address'), serial=spec.get('serial'),
                                    pools=spec.get('pools'), users=spec.get('users'), hosts=spec.get('hosts'),
                                    storage_groups=spec.get('storage_groups'), device_dir=os.path.abspath(device_dir),
                                    model=spec.get('model', 'VNX5400'), name=spec.get('name'))
        except (KeyError, TypeError, ValueError) as err:
            raise Failure('array %s in the seed: pools need name and size, users name and password, hosts and storage '
                          'groups a name (%s: %s)' % (address, type(err).__name__, err))
        with store.Array(address, create=state):
            pass
        sp_b = spec.get('sp_b_address')
        if sp_b:
            link = store.array_dir(sp_b)
            if os.path.islink(link):
                os.unlink(link)
            os.symlink(address, link)
        print('array %s (SP B %s) in %s' % (address, sp_b or '-', store.array_dir(address)))


def check_unique(seed):
    """Arrays side by side (the seed's and those already in $VNXSIM_HOME) need their own
    serial and WWNs: refuse a seed that would give two of them the same."""
    replaced = {spec['address'] for spec in seed['arrays']}
    seen = {}
    for address in store.array_addresses():
        if address not in replaced:
            with store.Array(address) as state:
                seen[state['serial']] = address
                seen[state['wwn_prefix']] = address
    for spec in seed['arrays']:
        state = model.new_array(spec['address'], serial=spec.get('serial'))
        for key, what in ((state['serial'], 'serial %s' % state['serial']), (state['wwn_prefix'], 'WWN prefix %s' % state['wwn_prefix'])):
            if key in seen and seen[key] != spec['address']:
                raise Failure('arrays %s and %s would have the same %s: give one of them its own "serial" (or address) in the seed'
                              % (seen[key], spec['address'], what))
            seen[key] = spec['address']


def pick(address):
    """The arrays a command applies to: the one named, else all."""
    if address is not None:
        if not store.exists(address):
            raise Failure('no array at %s in %s (vnx-sim init creates one)' % (address, store.home()))
        return [address]
    found = store.array_addresses()
    if not found:
        raise Failure('no array in %s: run vnx-sim init first' % store.home())
    return found


def pick_one(address):
    found = pick(address)
    if len(found) > 1:
        if '127.0.0.1' in found:
            return '127.0.0.1'
        raise Failure('several arrays (%s): say which with --address' % ', '.join(found))
    return found[0]


def view(vnx):
    """The state as tests and people read it."""
    s = vnx.s
    luns = []
    for lun in vnx.luns():
        exp = s['exposures'].get(str(lun['id']))
        luns.append({
            'id': lun['id'], 'name': lun['name'], 'wwn': lun['wwn'], 'pool': vnx.lun_pool(lun), 'size': lun['size'],
            'size_gb': lun['size'] / model.GIB, 'thin': vnx.lun_thin(lun), 'is_snap_mount_point': lun['primary'] is not None,
            'primary': lun['primary'], 'attached_snapshot': lun['attached'], 'file': vnx.lun_file(lun),
            'snapshots': [snap['name'] for snap in vnx.snaps_of(lun)],
            'mount_points': [smp['id'] for smp in vnx.smps_of(lun)],
            'storage_groups': [sg['name'] for sg in vnx.sgs_of(lun)],
            'consistency_group': (vnx.cg_of(lun) or {}).get('name'),
            'device': exp['device'] if exp else None, 'link': exp['link'] if exp else None,
        })
    snapshots = []
    for snap in sorted(s['snapshots'].values(), key=lambda x: x['seq']):
        snapshots.append({
            'name': snap['name'], 'source': snap['source'], 'attached': [smp['id'] for smp in vnx.attached_to(snap)],
            'description': snap['description'], 'allow_rw': snap['allow_rw'], 'auto_delete': snap['auto_delete'],
            'expires': snap['expires'], 'size': snap['size'], 'file': vnx.snap_file(snap),
            'consistency_group': snap.get('cg'), 'sources': snap.get('sources', [snap['source']]),
            'files': dict((k, vnx.path(rel)) for k, rel in snap.get('files', {}).items()),
        })
    migrations = []
    for m in s['migrations']:
        percent, remaining = vnx.migration_progress(m)
        migrations.append({'source': m['source'], 'dest': m['dest'], 'rate': m['rate'], 'percent_complete': percent,
                           'seconds_remaining': remaining})
    pools = []
    for pool in s['pools']:
        consumed, subscribed = vnx.pool_usage(pool)
        pools.append({'id': pool['id'], 'name': pool['name'], 'size': pool['size'], 'consumed': consumed,
                      'available': max(0, pool['size'] - consumed), 'subscribed': subscribed})
    return {
        'address': s['address'], 'sp_b_address': s['sp_b_address'], 'serial': s['serial'], 'model': s['model'],
        'luns': luns, 'snapshots': snapshots, 'migrations': migrations, 'pools': pools,
        'storage_groups': [{'name': sg['name'], 'uid': sg['uid'], 'hosts': sg['hosts'],
                            'hlus': {int(h): alu for h, alu in sg['hlus'].items()}} for sg in s['storage_groups']],
        'consistency_groups': [{'name': cg['name'], 'members': cg['members'], 'auto_delete': cg['auto_delete']}
                               for cg in s.get('consistency_groups', [])],
        'hosts': s['hosts'], 'users': [{'name': u['name'], 'scope': u.get('scope', 0)} for u in s['users']],
        'device_dir': s['device_dir'], 'sp_down': s['sp_down'], 'faults': s['faults'],
        'migration_rate_mib_s': s['migration_rate_mib_s'], 'latency': read_latency(vnx.root),
    }


def read_latency(root):
    try:
        with open(os.path.join(root, 'latency')) as f:
            return float(f.read() or 0)
    except (FileNotFoundError, ValueError):
        return 0.0


def cmd_state(args):
    address = pick_one(args.address)
    array = store.Array(address)
    with array as state:
        vnx = model.Vnx(state, array.path)
        vnx.advance()
        vnx.reconcile_exposures()
        array.save()
        vnx.finish()
        out = view(vnx)
    print(json.dumps(out, indent=2, sort_keys=True))


def cmd_fault(args):
    if not args.clear and (not args.command or (args.output is None) == (not args.kill_play)):
        raise Failure('vnx-sim fault needs --command and one of --output or --kill-play (or --clear)')
    for address in pick(args.address):
        with store.Array(address) as state:
            if args.clear:
                state['faults'] = []
            else:
                state['faults'].append({'command': args.command, 'count': args.count, 'output': args.output,
                                        'kill_play': args.kill_play})


def cmd_sp(args):
    if not args.down and not args.up:
        raise Failure('vnx-sim sp needs --down a|b or --up a|b')
    for address in pick(args.address):
        with store.Array(address) as state:
            for sp in args.down or []:
                state['sp_down'][sp] = True
            for sp in args.up or []:
                state['sp_down'][sp] = False


def cmd_latency(args):
    for address in pick(args.address):
        with open(os.path.join(store.array_dir(address), 'latency'), 'w') as f:
            f.write(repr(float(args.seconds)))


def cmd_config(args):
    for address in pick(args.address):
        array = store.Array(address)
        with array as state:
            # what ran at the old rate is done before the new rate applies
            vnx = model.Vnx(state, array.path)
            vnx.advance()
            vnx.reconcile_exposures()
            array.save()
            vnx.finish()
            if args.migration_rate_mib_s is not None:
                state['migration_rate_mib_s'] = args.migration_rate_mib_s
            print(json.dumps({'address': address, 'migration_rate_mib_s': state['migration_rate_mib_s']}))


def cmd_calls(args):
    print(json.dumps(store.read_calls(), indent=2))
    if args.reset:
        store.reset_calls()


def teardown(address):
    array = store.Array(address)
    with array as state:
        model.Vnx(state, array.path).teardown()
        state['expose'] = False


def cmd_teardown(args):
    for address in (pick(args.address) if args.address else store.array_addresses()):
        teardown(address)


def parser():
    p = argparse.ArgumentParser(prog='vnx-sim', description='Control the VNX simulator whose state is in $VNXSIM_HOME.')
    sub = p.add_subparsers(dest='cmd', required=True)
    s = sub.add_parser('init', help='create array(s) from a YAML seed (default: one array at 127.0.0.1)')
    s.add_argument('--seed')
    s.add_argument('--force', action='store_true', help='replace arrays that already exist')
    s.set_defaults(func=cmd_init)
    s = sub.add_parser('state', help="print an array's state as JSON")
    s.add_argument('--address')
    s.set_defaults(func=cmd_state)
    s = sub.add_parser('fault', help='make the next N matching commands print a given text instead of acting')
    s.add_argument('--command', help='words the command must contain, e.g. "snap -create"')
    s.add_argument('--count', type=int, default=1)
    s.add_argument('--output', help='the text to print (a real error text)')
    s.add_argument('--kill-play', action='store_true',
                   help='let the command act, then kill the ansible-playbook run it comes from (SIGKILL to its process group)')
    s.add_argument('--clear', action='store_true')
    s.add_argument('--address')
    s.set_defaults(func=cmd_fault)
    s = sub.add_parser('sp', help='take a storage processor down or bring it up')
    s.add_argument('--down', action='append', choices=('a', 'b'))
    s.add_argument('--up', action='append', choices=('a', 'b'))
    s.add_argument('--address')
    s.set_defaults(func=cmd_sp)
    s = sub.add_parser('latency', help='seconds added to every naviseccli call')
    s.add_argument('seconds', type=float)
    s.add_argument('--address')
    s.set_defaults(func=cmd_latency)
    s = sub.add_parser('config', help='array settings')
    s.add_argument('--migration-rate-mib-s', type=float)
    s.add_argument('--address')
    s.set_defaults(func=cmd_config)
    s = sub.add_parser('calls', help='naviseccli calls per command, as JSON')
    s.add_argument('--reset', action='store_true')
    s.set_defaults(func=cmd_calls)
    s = sub.add_parser('teardown', help='detach every loop device and link the simulator made')
    s.add_argument('--address')
    s.set_defaults(func=cmd_teardown)
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        args.func(args)
    except (Failure, store.NoHome, store.BadState) as err:
        print('vnx-sim: %s' % err, file=sys.stderr)
        return 1
    return 0
