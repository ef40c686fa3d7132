# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The array: pools, LUNs, snapshot mount points (SMPs), snapshots, migrations and
storage groups, with the rules a VNX enforces. No naviseccli syntax here.

The state is one JSON-able dict per array (see ``new_array``). ``Vnx`` wraps it with the
array's directory, so that LUNs and snapshots can keep their bytes in sparse files:

* a pool LUN's bytes are ``luns/<id>.img``;
* a snapshot freezes its source's bytes. Until the source can change (it gets exposed
  on this machine, restored, or replaced by a migration) the snapshot shares the
  source's file (``file`` is None); then it gets its own copy ``snaps/<seq>.img``;
* an SMP has no bytes of its own: it reads and writes its attached snapshot's;
* a migration copies the source's bytes into the destination when it completes; the
  source then keeps its id, name and WWN and the destination disappears.
"""

import errno
import os
import time

from . import data

GIB = 1024 ** 3
MAX_SNAPS_PER_LUN = 255
MAX_HLU = 255
MAX_LUN_SIZE = 256 * 1024 * GIB
FIRST_SMP_ID = 4096
LUN_ID_LIMIT = 8192
MAX_KEEP_FOR = 100 * 365 * 86400
DEFAULT_MIGRATION_RATE_MIB_S = 1024
RATE_FACTORS = {'low': 0.25, 'medium': 0.5, 'high': 1.0, 'asap': 2.0}

# The array's own words. Texts with a hex code are recorded from real arrays (or carry the
# code storops keys on); the others are ours, in the same style, and say so in README.md.
LUN_NOT_FOUND = 'Could not retrieve the specified (pool lun). The (pool lun) may not exist'
POOL_NOT_FOUND = 'Could not retrieve the specified (Storagepool). The (Storagepool) may not exist'
SNAP_NOT_RETRIEVED = 'Could not retrieve the specified (Snapshot). The (Snapshot) may not exist'
LUN_NAME_IN_USE = 'The LUN name or number is already in use. (0x712d8d04)'
POOL_FULL = 'SP A: The storage pool does not have enough free capacity for this operation. (0x712d8514)'
EXPAND_NOT_LARGER = 'SP A: The new capacity must be larger than the current user capacity. (0x712d8e04)'
EXPAND_UNSUPPORTED = 'SP A: The new capacity specified is not supported for the expand operation. (0x712d8e08)'
EXPAND_THICK_WITH_SNAPS = 'SP A: A thick LUN that has snapshots cannot be expanded.'
SNAP_NAME_IN_USE = 'The specified snapshot name is already in use. (0x716d8005)'
SNAP_RESOURCE_NOT_FOUND = 'The specified resource does not exist.'
SNAP_NOT_FOUND = 'The specified snapshot does not exist.'
SNAP_LIMIT = ('SP A: The primary LUN already has the maximum number of snapshots (%d), counting the snapshots of its snapshot '
              'mount points. Destroy a snapshot first.' % MAX_SNAPS_PER_LUN)
SNAP_OF_MIGRATING = 'SP A: Cannot create a snapshot of a LUN that is being migrated.'
SNAP_ATTACHED = 'The snapshot cannot be destroyed because it is attached to a snapshot mount point. (0x716d8003)'
SMP_ALREADY_ATTACHED = 'SP A: The snapshot mount point is already attached to a snapshot. (0x716d8055)'
ATTACH_INVALID_TYPE = 'Cannot attach the snapshot. Invalid LUN type.'
PRIMARY_MISMATCH = ('The attach or restore operation is disallowed because the snapshot and snapshot mount point are associated with different '
                    'primary LUNs. Use LUNs and snapshots from correct primary LUN for attach and restore. (0x716d8008)')
SMP_NOT_ATTACHED = 'Snapshot mount point is not currently attached.'
DETACH_NOT_SMP = ('Cannot detach the specified LUN %s as it is not a snapshot mount point. '
                  'Retry the detach operation with a valid snapshot mount point.')
SMP_OF_SMP = 'SP A: A snapshot mount point cannot be created on a snapshot mount point.'
LUN_IN_SG = "Cannot unbind LUN because it's contained in a Storage Group."
LUN_USED_BY_FEATURE = "Cannot unbind LUN because it's being used by a feature of the Storage System"
LUN_HAS_SMPS = 'SP A: The LUN cannot be destroyed because it still has snapshot mount points. Destroy the snapshot mount points first. (0x716d801a)'
LUN_HAS_SNAPS = 'The LUN cannot be destroyed because it still has snapshots. Destroy the snapshots first, or use -destroySnapshots.'
SMP_ATTACHED_DESTROY = 'SP A: The snapshot mount point cannot be destroyed while a snapshot is attached to it. Detach it first, or use -forceDetach.'
TARGET_NOT_READY = 'The destination LUN is not available for migration'
SOURCE_HAS_SNAPS = 'SP A: The source LUN cannot be migrated because it has snapshots or snapshot mount points.'
SOURCE_NOT_READY = 'SP A: The source LUN is not available for migration.'
ALREADY_MIGRATING = 'SP A: The source LUN is already migrating.'
DEST_TOO_SMALL = 'SP A: The destination LUN must be at least as large as the source LUN.'
SAME_LUN = 'SP A: The source and destination LUNs must be different.'
NOT_MIGRATING = 'The specified source LUN is not currently migrating.'
SOURCE_NOT_EXIST = 'The specified source LUN does not exist.'
NO_MIGRATIONS = 'No current migrations exist.'
SG_NAME_IN_USE = 'Storage Group name already in use'
SG_NOT_FOUND = 'The group name or UID does not match any storage groups for this array'
SG_NOT_EMPTY = 'The Storage Group cannot be destroyed because it still has LUNs or connected hosts.'
HLU_IN_USE = 'Requested Host LUN Number already in use'
ALU_IN_SG = 'Requested LUN has already been added to this Storage Group'
ALU_NOT_BOUND = 'The ALU number specified by user is not a bound LUN.'
HLU_NOT_FOUND = 'No such Host LUN in this Storage Group'
HLU_OUT_OF_RANGE = 'The Host LUN Number must be between 0 and %d.' % MAX_HLU
HOST_NOT_FOUND = 'The specified host does not exist or has no registered initiators.'
HOST_NOT_CONNECTED = 'The specified host is not connected to this Storage Group.'
ALU_PRIVATE = 'The LUN is private (the destination of a LUN migration) and cannot be added to a Storage Group.'
# Consistency groups (snap -group). Recorded: the 0x716d8045 text; storops keys "not found" on
# 'Cannot find the consistency group'. The codes 0x716d8021 (name in use) and 0x716d8025 (LUN in a
# CG) are storops' (no recorded text): the words around them are ours, as are the texts without a code.
CG_NOT_FOUND = 'Cannot find the consistency group.'
CG_NAME_IN_USE = 'The specified consistency group name is already in use. (0x716d8021)'
CG_MEMBER_ELSEWHERE = 'The specified LUN is already a member of another consistency group. (0x716d8045)'
CG_NOT_MEMBER = 'The specified LUN is not a member of the consistency group.'
CG_SMP_MEMBER = 'SP A: A snapshot mount point cannot be a member of a consistency group.'
CG_PRIVATE_MEMBER = 'SP A: The LUN is private (the destination of a LUN migration) and cannot be a member of a consistency group.'
CG_EMPTY_SNAP = 'SP A: Cannot create a snapshot of a consistency group that has no members.'
# not an array's text: the simulator's own limit, said so
CG_SNAP_UNSUPPORTED = 'naviseccli-sim: consistency group snapshots cannot be attached, copied or restored in the simulator.'
LUN_IN_CG = 'The LUN cannot be destroyed because it is a member of a consistency group. Remove it from the group first. (0x716d8025)'
# not an array's text: the simulator's own limit, said so
HOME_TOO_SMALL = ('naviseccli-sim: the file system under $VNXSIM_HOME cannot hold a backing file of %d bytes (%s). '
                  'Use a smaller LUN, or put VNXSIM_HOME on a file system that allows larger files (xfs, btrfs).')


class ArrayError(Exception):
    """A refusal, in the array's words. ``form`` says how naviseccli frames it:
    None (the bare text), 'failed' (``Error: <cmd> command failed.`` first) or 'agent'
    (``Error: <cmd> command failed`` / ``Error returned from Agent`` first)."""

    def __init__(self, text, form=None):
        super().__init__(text)
        self.text = text
        self.form = form


def new_array(address, sp_b_address=None, serial=None, pools=None, users=None, hosts=None,
              storage_groups=None, device_dir=None, model='VNX5400', name=None):
    """A fresh array's state. Its serial and WWNs come from its address: two arrays side by
    side must not share them (their WWN links share a directory)."""
    words = address.split('.')
    if len(words) == 4 and all(w.isdigit() and int(w) < 256 for w in words):
        octets = [int(w) for w in words]
        default_serial = 'CETV%08d' % (octets[2] * 256 + octets[3])
    else:
        import zlib  # a host name: four bytes of its checksum stand in for the octets
        checksum = zlib.crc32(address.encode('utf-8'))
        octets = list(checksum.to_bytes(4, 'big'))
        default_serial = 'CETV%08d' % (checksum % 10 ** 8)
    serial = serial or default_serial
    state = {
        'address': address,
        'sp_b_address': sp_b_address,
        'serial': serial,
        'model': model,
        'name': name or 'vnxsim-%s' % address,
        'revision': '05.33.009.5.238',
        'agent_rev': '7.33.9 (0.1)',
        'wwn_prefix': '60:06:01:60:%02X:%02X:%02X:%02X' % tuple(octets),
        'next_wwn': 1,
        'next_snap_seq': 1,
        'pools': [],
        'users': users if users is not None else [{'name': 'sysadmin', 'password': 'sysadmin', 'scope': 0}],
        'hosts': [],
        'storage_groups': [],
        'luns': {},
        'snapshots': {},
        'migrations': [],
        'consistency_groups': [],
        'exposures': {},
        'expose': True,
        'device_dir': device_dir,
        'sp_down': {'a': False, 'b': False},
        'migration_rate_mib_s': DEFAULT_MIGRATION_RATE_MIB_S,
        'faults': [],
    }
    for i, pool in enumerate(pools if pools is not None else [{'name': 'Pool0', 'size': '1 TiB'}]):
        state['pools'].append({'id': pool.get('id', i), 'name': pool['name'], 'size': parse_size(pool['size']),
                               'raid_type': pool.get('raid_type', 'r_5')})
    for host in hosts or []:
        state['hosts'].append({'name': host['name'], 'ip': host.get('ip', '127.0.0.1'),
                               'this_machine': bool(host.get('this_machine', False)),
                               'initiator': host.get('initiator', 'iqn.1994-05.com.redhat:vnxsim-%s' % host['name'])})
    for sg in storage_groups or []:
        state['storage_groups'].append(_new_sg(state, sg['name'], sg.get('hosts', [])))
    return state


def parse_size(value):
    """1099511627776, '1 TiB', '500GiB', '10 GB' (GB means GiB, as the array counts)."""
    if isinstance(value, int):
        return value
    text = str(value).strip().replace(' ', '')
    units = (('tib', 1024 ** 4), ('tb', 1024 ** 4), ('gib', GIB), ('gb', GIB), ('mib', 1024 ** 2), ('mb', 1024 ** 2), ('b', 1))
    for unit, factor in units:
        if text.lower().endswith(unit):
            return int(float(text[:-len(unit)]) * factor)
    return int(text)


def _new_sg(state, name, hosts):
    return {'name': name, 'uid': _new_uid(state), 'hosts': list(hosts), 'hlus': {}}


def _new_uid(state):
    n = state['next_wwn']
    state['next_wwn'] = n + 1
    tail = '%016X' % (n * 0x9E3779B1 % (1 << 64))
    return state['wwn_prefix'] + ':' + ':'.join(tail[i:i + 2] for i in range(0, 16, 2))


class Vnx:
    """The rules, over ``state`` (the dict) kept in directory ``root``."""

    def __init__(self, state, root, now=None, checkpoint=None):
        self.s = state
        self.root = root
        self.now = time.time() if now is None else now
        # Saves the state now. Bytes are overwritten and files removed only once the state
        # no longer needs them, so that a call killed half-way leaves an array that is whole.
        self.checkpoint = checkpoint or (lambda: None)
        self.doomed = []

    def finish(self):
        """After the state is saved: remove the files it no longer refers to."""
        for path in self.doomed:
            data.remove(path)
        self.doomed = []

    # ---- lookups -------------------------------------------------------------------
    def lun(self, lun_id=None, name=None):
        if lun_id is not None:
            return self.s['luns'].get(str(lun_id))
        for lun in self.s['luns'].values():
            if lun['name'] == name:
                return lun
        return None

    def lun_or_fail(self, lun_id=None, name=None):
        lun = self.lun(lun_id, name)
        if lun is None:
            raise ArrayError(LUN_NOT_FOUND)
        return lun

    def pool(self, name=None, pool_id=None):
        for pool in self.s['pools']:
            if (name is not None and pool['name'] == name) or (pool_id is not None and pool['id'] == pool_id):
                return pool
        return None

    def snap(self, name):
        return self.s['snapshots'].get(name)

    def sg(self, name):
        for sg in self.s['storage_groups']:
            if sg['name'] == name:
                return sg
        return None

    def host(self, name):
        for host in self.s['hosts']:
            if host['name'] == name:
                return host
        return None

    def luns(self):
        return sorted(self.s['luns'].values(), key=lambda lun: lun['id'])

    def smps_of(self, lun):
        return [smp for smp in self.luns() if smp['primary'] == lun['id']]

    def snaps_of(self, lun):
        return sorted((s for s in self.s['snapshots'].values() if lun['id'] in s.get('sources', [s['source']])),
                      key=lambda s: s['seq'])

    def base_id(self, lun_id):
        """The primary LUN of a LUN or SMP: what a snapshot of it belongs to (VNX branching)."""
        lun = self.lun(lun_id)
        return lun['primary'] if lun is not None and lun['primary'] is not None else lun_id

    def family_snaps(self, lun):
        """Every snapshot of a primary LUN, branches included (snapshots of its SMPs):
        the array's limit counts them all."""
        base = self.base_id(lun['id'])
        members = {base} | {smp['id'] for smp in self.luns() if smp['primary'] == base}
        return [s for s in self.s['snapshots'].values() if members.intersection(s.get('sources', [s['source']]))]

    def attached_to(self, snap):
        return [smp for smp in self.luns() if smp['attached'] == snap['name']]

    def cg(self, name):
        for cg in self.s.setdefault('consistency_groups', []):
            if cg['name'] == name:
                return cg
        return None

    def cg_of(self, lun):
        for cg in self.s.get('consistency_groups', []):
            if lun['id'] in cg['members']:
                return cg
        return None

    def sgs_of(self, lun):
        return [sg for sg in self.s['storage_groups'] if lun['id'] in sg['hlus'].values()]

    def migration_of(self, lun):
        for m in self.s['migrations']:
            if lun['id'] in (m['source'], m['dest']):
                return m
        return None

    def is_private(self, lun):
        """A migration's destination belongs to the array until the migration ends."""
        return any(m['dest'] == lun['id'] for m in self.s['migrations'])

    def lun_pool(self, lun):
        """A pool LUN's pool; an SMP's is its primary's."""
        if lun['primary'] is not None:
            primary = self.lun(lun['primary'])
            return primary['pool'] if primary else ''
        return lun['pool']

    def lun_thin(self, lun):
        if lun['primary'] is not None:
            primary = self.lun(lun['primary'])
            return primary['thin'] if primary else True
        return lun['thin']

    # ---- bytes ---------------------------------------------------------------------
    def path(self, rel):
        return os.path.join(self.root, rel)

    def lun_file(self, lun):
        """The file holding a LUN's (or attached SMP's) bytes now, or None (detached SMP)."""
        if lun['primary'] is None:
            return self.path(lun['file'])
        snap = self.snap(lun['attached']) if lun['attached'] else None
        return self.snap_file(snap) if snap else None

    def snap_file(self, snap):
        if snap['file']:
            return self.path(snap['file'])
        return self.lun_file(self.lun(snap['source']))

    def materialize(self, snap):
        """Give a snapshot that still shares its source's bytes a copy of its own."""
        if snap['file']:
            return
        rel = os.path.join('snaps', '%d.img' % snap['seq'])
        os.makedirs(self.path('snaps'), exist_ok=True)
        data.copy(self.snap_file(snap), self.path(rel), snap['size'])
        snap['file'] = rel
        snap['mtime'] = os.stat(self.path(rel)).st_mtime_ns

    def snap_modified(self, snap):
        """Whether the snapshot's bytes were written since it was taken (through a mount point,
        or by a restore onto one): what the array prints as 'Modified'."""
        if not snap['file'] or snap.get('mtime') is None:
            return False
        try:
            return os.stat(self.path(snap['file'])).st_mtime_ns != snap['mtime']
        except OSError:
            return False

    def freeze_sharers(self, lun):
        """The LUN's bytes are about to change: snapshots sharing them get their own."""
        for snap in self.snaps_of(lun):
            self.materialize(snap)

    def pool_usage(self, pool):
        """(consumed, subscribed) bytes: thick LUNs count whole, thin LUNs and
        snapshots what they really hold."""
        consumed = subscribed = 0
        for lun in self.s['luns'].values():
            if lun['primary'] is not None or lun['pool'] != pool['name']:
                continue
            subscribed += lun['size']
            consumed += lun['size'] if not lun['thin'] else data.allocated(self.path(lun['file']))
            for snap in self.snaps_of(lun):
                rel = snap['file']
                if snap.get('cg'):  # a consistency group's snapshot holds one file per member: this LUN's
                    rel = snap['files'].get(str(lun['id']), rel)
                if rel:
                    consumed += data.allocated(self.path(rel))
        return consumed, subscribed

    def pool_available(self, pool):
        return max(0, pool['size'] - self.pool_usage(pool)[0])

    # ---- LUNs ----------------------------------------------------------------------
    def _check_new_lun(self, name, lun_id):
        if name is not None and self.lun(name=name) is not None:
            raise ArrayError(LUN_NAME_IN_USE)
        if lun_id is not None and self.lun(lun_id) is not None:
            raise ArrayError(LUN_NAME_IN_USE)

    def _free_id(self, start, stop):
        used = {int(k) for k in self.s['luns']}
        for i in range(start, stop):
            if i not in used:
                return i
        raise ArrayError('SP A: No free LUN number is available.')

    def create_lun(self, size, pool_name=None, pool_id=None, name=None, lun_id=None, thin=False, dedup=False,
                   initial_tier='Optimize Pool', tiering_policy='Auto Tier', sp='A'):
        pool = self.pool(pool_name, pool_id)
        if pool is None:
            raise ArrayError(POOL_NOT_FOUND)
        self._check_new_lun(name, lun_id)
        if size <= 0 or size > MAX_LUN_SIZE:
            raise ArrayError(EXPAND_UNSUPPORTED)
        if not thin and size > self.pool_available(pool):
            raise ArrayError(POOL_FULL)
        if lun_id is None:
            lun_id = self._free_id(0, FIRST_SMP_ID)
        if name is None:
            name = 'LUN %d' % lun_id
        rel = os.path.join('luns', '%d.img' % lun_id)
        os.makedirs(self.path('luns'), exist_ok=True)
        self._sized(data.create, self.path(rel), size)
        lun = self._lun_record(lun_id, name, size)
        lun.update(pool=pool['name'], thin=thin, dedup=dedup, initial_tier=initial_tier, tiering_policy=tiering_policy,
                   file=rel, owner=sp)
        return lun

    def _lun_record(self, lun_id, name, size):
        lun = {'id': lun_id, 'name': name, 'wwn': _new_uid(self.s), 'size': size, 'pool': None, 'thin': True,
               'dedup': False, 'compressed': False, 'initial_tier': 'Optimize Pool', 'tiering_policy': 'Auto Tier',
               'primary': None, 'attached': None, 'file': None, 'owner': 'A', 'created': self.now}
        self.s['luns'][str(lun_id)] = lun
        return lun

    def create_smp(self, primary_id=None, primary_name=None, name=None, lun_id=None):
        primary = self.lun_or_fail(primary_id, primary_name)
        if primary['primary'] is not None:
            raise ArrayError(SMP_OF_SMP)
        self._check_new_lun(name, lun_id)
        if lun_id is None:
            lun_id = self._free_id(FIRST_SMP_ID, LUN_ID_LIMIT)
        if name is None:
            name = 'LUN %d' % lun_id
        smp = self._lun_record(lun_id, name, primary['size'])
        smp.update(primary=primary['id'], owner=primary['owner'], initial_tier=primary['initial_tier'],
                   tiering_policy=primary['tiering_policy'])
        return smp

    def attach(self, smp, snap_name):
        if smp['primary'] is None:
            raise ArrayError(ATTACH_INVALID_TYPE)
        snap = self.snap(snap_name)
        if snap is None:
            raise ArrayError(SNAP_NOT_FOUND)
        if smp['attached'] is not None:
            raise ArrayError(SMP_ALREADY_ATTACHED)
        if snap.get('cg'):
            raise ArrayError(CG_SNAP_UNSUPPORTED)
        if self.base_id(snap['source']) != smp['primary']:
            raise ArrayError(PRIMARY_MISMATCH)
        smp['attached'] = snap['name']

    def detach(self, smp):
        if smp['primary'] is None:
            raise ArrayError(DETACH_NOT_SMP % smp['id'])
        if smp['attached'] is None:
            raise ArrayError(SMP_NOT_ATTACHED)
        if self.migration_of(smp):
            raise ArrayError(LUN_USED_BY_FEATURE)
        smp['attached'] = None

    def destroy_lun(self, lun, destroy_snapshots=False, force_detach=False):
        if self.sgs_of(lun):
            raise ArrayError(LUN_IN_SG)
        if self.cg_of(lun):
            raise ArrayError(LUN_IN_CG)
        if self.migration_of(lun):
            raise ArrayError(LUN_USED_BY_FEATURE)
        if self.smps_of(lun):
            raise ArrayError(LUN_HAS_SMPS)
        snaps = self.snaps_of(lun)
        if snaps and not destroy_snapshots:
            raise ArrayError(LUN_HAS_SNAPS)
        if lun['primary'] is not None and lun['attached'] is not None and not force_detach:
            raise ArrayError(SMP_ATTACHED_DESTROY)
        for snap in snaps:
            self._drop_snap(snap)
        if lun['file']:
            self.doomed.append(self.path(lun['file']))
        del self.s['luns'][str(lun['id'])]

    def rename_lun(self, lun, new_name):
        if new_name != lun['name']:
            self._check_new_lun(new_name, None)
            lun['name'] = new_name

    def expand_lun(self, lun, size):
        if size <= lun['size']:
            raise ArrayError(EXPAND_NOT_LARGER)
        if size > MAX_LUN_SIZE:
            raise ArrayError(EXPAND_UNSUPPORTED)
        if self.migration_of(lun):
            raise ArrayError(LUN_USED_BY_FEATURE)
        if lun['primary'] is None:
            if not lun['thin'] and self.snaps_of(lun):
                raise ArrayError(EXPAND_THICK_WITH_SNAPS)
            pool = self.pool(lun['pool'])
            if not lun['thin'] and size - lun['size'] > self.pool_available(pool):
                raise ArrayError(POOL_FULL)
            self._sized(data.resize, self.path(lun['file']), size)
        lun['size'] = size

    @staticmethod
    def _sized(action, path, size):
        """Create or grow a backing file; a size the file system refuses is a clear error."""
        try:
            action(path, size)
        except OSError as err:
            if err.errno not in (errno.EFBIG, errno.EINVAL, errno.ENOSPC):
                raise
            data.remove(path + '.new')
            raise ArrayError(HOME_TOO_SMALL % (size, err.strerror))

    # ---- snapshots -----------------------------------------------------------------
    def create_snap(self, res_id, name, allow_rw=True, auto_delete=False, keep_for=None):
        lun = self.lun(res_id)
        if lun is None:
            raise ArrayError(SNAP_RESOURCE_NOT_FOUND)
        if name in self.s['snapshots']:
            raise ArrayError(SNAP_NAME_IN_USE)
        if len(self.family_snaps(lun)) >= MAX_SNAPS_PER_LUN:
            raise ArrayError(SNAP_LIMIT)
        if self.migration_of(lun):
            raise ArrayError(SNAP_OF_MIGRATING)
        if lun['primary'] is not None and lun['attached'] is None:
            raise ArrayError(SMP_NOT_ATTACHED)
        snap = self._snap_record(name, lun, allow_rw, auto_delete, keep_for)
        # An SMP's bytes belong to its snapshot, and an exposed LUN's can change any time,
        # as can those of a LUN whose loop device was detached while open (it lingers).
        if lun['primary'] is not None or str(lun['id']) in self.s['exposures'] or data.in_a_loop(self.lun_file(lun)):
            self.materialize(snap)
        return snap

    def _snap_record(self, name, lun, allow_rw, auto_delete, keep_for):
        seq = self.s['next_snap_seq']
        self.s['next_snap_seq'] = seq + 1
        snap = {'name': name, 'source': lun['id'], 'seq': seq, 'size': lun['size'], 'file': None,
                'description': '', 'created': self.now, 'modified_at': None, 'modified_by': None,
                'allow_rw': bool(allow_rw), 'auto_delete': bool(auto_delete) and not keep_for,
                'expires': self.now + parse_keep_for(keep_for) if keep_for else None}
        self.s['snapshots'][name] = snap
        return snap

    def copy_snap(self, name, new_name):
        snap = self.snap(name)
        if snap is None:
            raise ArrayError(SNAP_NOT_FOUND)
        if new_name in self.s['snapshots']:
            raise ArrayError(SNAP_NAME_IN_USE)
        if snap.get('cg'):
            raise ArrayError(CG_SNAP_UNSUPPORTED)
        lun = self.lun(snap['source'])
        if len(self.family_snaps(lun)) >= MAX_SNAPS_PER_LUN:
            raise ArrayError(SNAP_LIMIT)
        copy = self._snap_record(new_name, lun, snap['allow_rw'], snap['auto_delete'], None)
        copy.update(size=snap['size'], expires=snap['expires'], description=snap['description'])
        if snap['file']:
            # the copy holds what the snapshot holds, not what its source holds now
            rel = os.path.join('snaps', '%d.img' % copy['seq'])
            data.copy(self.path(snap['file']), self.path(rel), snap['size'])
            copy['file'] = rel
            copy['mtime'] = os.stat(self.path(rel)).st_mtime_ns  # 'Modified' counts from here
        return copy

    def modify_snap(self, name, new_name=None, description=None, allow_rw=None, auto_delete=None, keep_for=None):
        snap = self.snap(name)
        if snap is None:
            raise ArrayError(SNAP_NOT_RETRIEVED)
        if new_name is not None and new_name != name:
            if new_name in self.s['snapshots']:
                raise ArrayError(SNAP_NAME_IN_USE)
            del self.s['snapshots'][name]
            snap['name'] = new_name
            self.s['snapshots'][new_name] = snap
            for smp in self.luns():
                if smp['attached'] == name:
                    smp['attached'] = new_name
        if description is not None:
            snap['description'] = description
        if allow_rw is not None:
            snap['allow_rw'] = allow_rw
        if keep_for:
            snap['expires'] = self.now + parse_keep_for(keep_for)
            snap['auto_delete'] = False
        elif auto_delete is not None:
            snap['auto_delete'] = auto_delete
            snap['expires'] = None
        snap['modified_at'] = self.now
        snap['modified_by'] = 'sysadmin'

    def destroy_snap(self, name):
        snap = self.snap(name)
        if snap is None:
            raise ArrayError(SNAP_NOT_FOUND)
        if self.attached_to(snap):
            raise ArrayError(SNAP_ATTACHED)
        self._drop_snap(snap)

    def _drop_snap(self, snap):
        for smp in self.attached_to(snap):
            smp['attached'] = None
        for rel in set([snap['file']] + list(snap.get('files', {}).values())):
            if rel:
                self.doomed.append(self.path(rel))
        del self.s['snapshots'][snap['name']]

    def restore_snap(self, name, res_id, backup_name=None):
        snap = self.snap(name)
        if snap is None:
            raise ArrayError(SNAP_NOT_FOUND)
        lun = self.lun(res_id)
        if lun is None:
            raise ArrayError(SNAP_RESOURCE_NOT_FOUND)
        if snap.get('cg'):
            raise ArrayError(CG_SNAP_UNSUPPORTED)
        if self.base_id(snap['source']) != self.base_id(lun['id']):
            raise ArrayError(PRIMARY_MISMATCH)
        if self.migration_of(lun):
            raise ArrayError(LUN_USED_BY_FEATURE)
        if lun['primary'] is not None and lun['attached'] is None:
            raise ArrayError(SMP_NOT_ATTACHED)
        if backup_name:
            self.create_snap(lun['id'], backup_name, allow_rw=True)
        self.materialize(snap)
        self.freeze_sharers(lun)
        self.checkpoint()
        if lun['primary'] is not None:
            # an SMP's bytes are its attached snapshot's: that is what the restore rewrites
            target = self.snap(lun['attached'])
            self.materialize(target)
            data.copy(self.snap_file(snap), self.path(target['file']), target['size'])
        else:
            data.copy(self.snap_file(snap), self.path(lun['file']), lun['size'])

    # ---- migration -----------------------------------------------------------------
    def start_migration(self, src_id, dest_id, rate='high'):
        src = self.lun_or_fail(src_id)
        dest = self.lun_or_fail(dest_id)
        if src['id'] == dest['id']:
            raise ArrayError(SAME_LUN)
        if self.migration_of(src):
            raise ArrayError(ALREADY_MIGRATING)
        if src['primary'] is not None and src['attached'] is None:
            raise ArrayError(SOURCE_NOT_READY)
        if self.smps_of(src) or self.snaps_of(src):
            raise ArrayError(SOURCE_HAS_SNAPS)
        if (dest['primary'] is not None or self.migration_of(dest) or self.sgs_of(dest) or self.snaps_of(dest)
                or self.smps_of(dest) or self.cg_of(dest)):
            raise ArrayError(TARGET_NOT_READY)
        if dest['size'] < src['size']:
            raise ArrayError(DEST_TOO_SMALL)
        self.s['migrations'].append({'source': src['id'], 'dest': dest['id'], 'rate': rate, 'total': src['size'],
                                     'copied': 0.0, 'at': self.now})

    def rate_bytes_s(self, m):
        mib_s = self.s.get('migration_rate_mib_s')
        mib_s = DEFAULT_MIGRATION_RATE_MIB_S if mib_s is None else float(mib_s)
        return mib_s * 1024 * 1024 * RATE_FACTORS.get(m['rate'], 1.0)

    def migration_progress(self, m):
        """(percent complete, seconds remaining)."""
        if m['total'] <= 0:
            return 100.0, 0
        left = max(0.0, m['total'] - m['copied'])
        rate = self.rate_bytes_s(m)
        remaining = int(left / rate + 0.999) if rate > 0 else 359999
        return min(100.0, 100.0 * m['copied'] / m['total']), remaining

    def cancel_migration(self, src_id):
        src = self.lun(src_id)
        session = None
        for m in self.s['migrations']:
            if src is not None and m['source'] == src['id']:
                session = m
        if session is None:
            raise ArrayError(NOT_MIGRATING, 'failed')
        self.s['migrations'].remove(session)

    def _complete_migration(self, m):
        src = self.lun(m['source'])
        dest = self.lun(m['dest'])
        self.s['migrations'].remove(m)
        if src is None or dest is None:
            return
        self.freeze_sharers(src)
        data.copy(self.lun_file(src), self.path(dest['file']), dest['size'])
        rel = os.path.join('luns', '%d.img' % src['id'])
        os.replace(self.path(dest['file']), self.path(rel))
        src.update(file=rel, pool=dest['pool'], thin=dest['thin'], dedup=dest['dedup'], size=dest['size'],
                   initial_tier=dest['initial_tier'], tiering_policy=dest['tiering_policy'], primary=None, attached=None)
        del self.s['luns'][str(dest['id'])]

    def advance(self):
        """What time has done since the last call: migrations copy at the array's rate
        (a rate change counts from the call after it) and complete, expired snapshots go."""
        for m in list(self.s['migrations']):
            m['copied'] += max(0.0, self.now - m['at']) * self.rate_bytes_s(m)
            m['at'] = self.now
            if m['copied'] >= m['total']:
                self._complete_migration(m)
        for snap in list(self.s['snapshots'].values()):
            if snap['expires'] is not None and self.now >= snap['expires'] and not self.attached_to(snap):
                self._drop_snap(snap)

    # ---- consistency groups (snap -group) -----------------------------------------
    def cg_or_fail(self, name):
        cg = self.cg(name)
        if cg is None:
            raise ArrayError(CG_NOT_FOUND)
        return cg

    def _cg_members(self, ids, cg_name=None):
        """The LUNs for a -res list, checked the way the array checks members (none is added
        unless all pass)."""
        luns = []
        for lun_id in ids:
            lun = self.lun_or_fail(lun_id)
            if lun['primary'] is not None:
                raise ArrayError(CG_SMP_MEMBER)  # seeds 000/001: a snap copy cannot be in a CG
            if self.is_private(lun):
                raise ArrayError(CG_PRIVATE_MEMBER)
            other = self.cg_of(lun)
            if other is not None and other['name'] != cg_name:
                raise ArrayError(CG_MEMBER_ELSEWHERE)
            luns.append(lun)
        return luns

    def create_cg(self, name, member_ids=(), auto_delete=False):
        if self.cg(name) is not None:
            raise ArrayError(CG_NAME_IN_USE)
        luns = self._cg_members(member_ids)
        cg = {'name': name, 'members': [lun['id'] for lun in luns], 'auto_delete': bool(auto_delete), 'description': ''}
        self.s.setdefault('consistency_groups', []).append(cg)
        return cg

    def add_cg_members(self, name, member_ids):
        cg = self.cg_or_fail(name)
        for lun in self._cg_members(member_ids, name):
            if lun['id'] not in cg['members']:
                cg['members'].append(lun['id'])

    def remove_cg_members(self, name, member_ids):
        cg = self.cg_or_fail(name)
        ids = [self.lun_or_fail(i)['id'] for i in member_ids]
        if any(i not in cg['members'] for i in ids):
            raise ArrayError(CG_NOT_MEMBER)
        cg['members'] = [i for i in cg['members'] if i not in ids]

    def replace_cg_members(self, name, member_ids):
        cg = self.cg_or_fail(name)
        cg['members'] = [lun['id'] for lun in self._cg_members(member_ids, name)]

    def destroy_cg(self, name):
        self.s['consistency_groups'].remove(self.cg_or_fail(name))

    def create_cg_snap(self, cg_name, name, allow_rw=True, auto_delete=False, keep_for=None):
        """One snapshot of every member at the same moment: each member's bytes frozen apart."""
        cg = self.cg_or_fail(cg_name)
        if name in self.s['snapshots']:
            raise ArrayError(SNAP_NAME_IN_USE)
        luns = [self.lun_or_fail(i) for i in cg['members']]
        if not luns:
            raise ArrayError(CG_EMPTY_SNAP)
        for lun in luns:
            if len(self.family_snaps(lun)) >= MAX_SNAPS_PER_LUN:
                raise ArrayError(SNAP_LIMIT)
            if self.migration_of(lun):
                raise ArrayError(SNAP_OF_MIGRATING)
        snap = self._snap_record(name, luns[0], allow_rw, auto_delete, keep_for)
        snap.update(cg=cg['name'], sources=[lun['id'] for lun in luns], files={})
        os.makedirs(self.path('snaps'), exist_ok=True)
        for lun in luns:
            rel = os.path.join('snaps', '%d-%d.img' % (snap['seq'], lun['id']))
            data.copy(self.lun_file(lun), self.path(rel), lun['size'])
            snap['files'][str(lun['id'])] = rel
        snap['file'] = snap['files'][str(luns[0]['id'])]
        return snap

    # ---- storage groups ------------------------------------------------------------
    def sg_or_fail(self, name):
        sg = self.sg(name)
        if sg is None:
            raise ArrayError(SG_NOT_FOUND, 'agent')
        return sg

    def create_sg(self, name):
        if self.sg(name) is not None:
            raise ArrayError(SG_NAME_IN_USE, 'agent')
        sg = _new_sg(self.s, name, [])
        self.s['storage_groups'].append(sg)
        return sg

    def destroy_sg(self, name):
        sg = self.sg_or_fail(name)
        if sg['hlus'] or sg['hosts']:
            raise ArrayError(SG_NOT_EMPTY, 'agent')
        self.s['storage_groups'].remove(sg)

    def add_hlu(self, name, hlu, alu):
        sg = self.sg_or_fail(name)
        if not 0 <= hlu <= MAX_HLU:
            raise ArrayError(HLU_OUT_OF_RANGE, 'agent')
        lun = self.lun(alu)
        if lun is None:
            raise ArrayError(ALU_NOT_BOUND, 'agent')
        if self.is_private(lun):
            raise ArrayError(ALU_PRIVATE, 'agent')
        if alu in sg['hlus'].values():
            raise ArrayError(ALU_IN_SG, 'agent')
        if str(hlu) in sg['hlus']:
            raise ArrayError(HLU_IN_USE, 'agent')
        sg['hlus'][str(hlu)] = alu
        self.s['expose'] = True

    def remove_hlu(self, name, hlu):
        sg = self.sg_or_fail(name)
        if str(hlu) not in sg['hlus']:
            raise ArrayError(HLU_NOT_FOUND, 'agent')
        del sg['hlus'][str(hlu)]

    def connect_host(self, name, host_name):
        sg = self.sg_or_fail(name)
        if self.host(host_name) is None:
            raise ArrayError(HOST_NOT_FOUND, 'agent')
        for other in self.s['storage_groups']:
            if host_name in other['hosts']:
                other['hosts'].remove(host_name)
        sg['hosts'].append(host_name)
        self.s['expose'] = True

    def register_initiator(self, name, host_name, initiator, ip=None):
        sg = self.sg_or_fail(name)
        host = self.host(host_name)
        if host is None:
            host = {'name': host_name, 'ip': ip or 'N/A', 'this_machine': False, 'initiator': initiator}
            self.s['hosts'].append(host)
        else:
            host['initiator'] = initiator
            if ip:
                host['ip'] = ip
        if host_name not in sg['hosts']:
            self.connect_host(name, host_name)

    def disconnect_host(self, name, host_name):
        sg = self.sg_or_fail(name)
        if host_name not in sg['hosts']:
            raise ArrayError(HOST_NOT_CONNECTED, 'agent')
        sg['hosts'].remove(host_name)

    # ---- exposure on this machine --------------------------------------------------
    def wanted_exposures(self):
        """{lun id: file} for LUNs and attached SMPs in a storage group of a host that is
        this machine."""
        local = {h['name'] for h in self.s['hosts'] if h['this_machine']}
        wanted = {}
        if not self.s.get('expose', True):
            return wanted
        for sg in self.s['storage_groups']:
            if not local.intersection(sg['hosts']):
                continue
            for alu in sg['hlus'].values():
                lun = self.lun(alu)
                if lun is None:
                    continue
                if lun['primary'] is not None:
                    snap = self.snap(lun['attached']) if lun['attached'] else None
                    if snap is None:
                        continue
                    self.materialize(snap)
                    if snap['size'] < lun['size']:
                        # an expanded SMP: what the host writes past the snapshot's end lands in it
                        data.resize(self.path(snap['file']), lun['size'])
                        snap['size'] = lun['size']
                else:
                    self.freeze_sharers(lun)
                wanted[str(lun['id'])] = self.lun_file(lun)
        return wanted

    def reconcile_exposures(self):
        """Make loop devices and WWN links match what the storage groups say."""
        exposures = self.s['exposures']
        wanted = self.wanted_exposures()
        device_dir = self.s.get('device_dir') or os.path.join(self.root, 'by-id')
        for key, exp in list(exposures.items()):
            path = wanted.get(key)
            if path is None or path != exp['file'] or data.inode(path) != exp['inode'] or self.lun(key) is None:
                self._unexpose(key, device_dir)
            elif data.size(path) != exp.get('size'):
                if exp['device']:
                    data.loop_refresh(exp['device'])
                exp['size'] = data.size(path)
        for key, path in wanted.items():
            if key in exposures:
                continue
            lun = self.lun(key)
            device = data.loop_attach(path)
            link = data.link(device_dir, lun['wwn'], device or path)
            exposures[key] = {'file': path, 'inode': data.inode(path), 'size': data.size(path), 'device': device, 'link': link,
                              'wwn': lun['wwn']}

    def _unexpose(self, key, device_dir):
        exp = self.s['exposures'].pop(key)
        # the host may have detached it already (host_lun state=absent, as a host removes
        # a SCSI device before the unmap) and the loop number may now serve someone else
        if exp.get('device') and data.backs(exp['device'], exp['file']):
            data.loop_detach(exp['device'])
        data.unlink(device_dir, exp['wwn'])

    def teardown(self):
        device_dir = self.s.get('device_dir') or os.path.join(self.root, 'by-id')
        for key in list(self.s['exposures']):
            self._unexpose(key, device_dir)
        # a call killed between attaching a loop device and saving the state left one
        # that the state does not know: any loop device over this array's files goes
        for device in data.loops_over(self.root):
            data.loop_detach(device)


def parse_keep_for(value):
    """naviseccli's -keepFor: a number and a unit - h hours, d days (the default), m months, y years.

    m is months, as the collection's documentation has it; vnx_snapshot_manage refuses m
    (it reads as minutes too), so only a direct naviseccli user sends it.
    """
    text = str(value).strip().lower()
    factors = {'h': 3600, 'd': 86400, 'm': 30 * 86400, 'y': 365 * 86400}
    if text and text[-1] in factors:
        return int(text[:-1]) * factors[text[-1]]
    return int(text) * 86400
