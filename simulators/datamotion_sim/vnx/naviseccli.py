# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``naviseccli-sim``: the naviseccli wire. argv in (the credential prefix, then the
command), the text naviseccli prints out. Everything goes to stdout, errors included,
because storops reads stdout only; write commands print nothing when they succeed.

This is the only place that knows naviseccli's syntax and text layouts; the rules are in
``model``. Start-up time matters (a snap copy is ~6 calls), so only the standard
library modules a call needs are imported.
"""

import os
import sys
import time

from . import model, store
from ..play import kill_play
from .model import ArrayError, GIB

PREFIX_VALUE_OPTIONS = ('-h', '-address', '-user', '-password', '-scope', '-secfilepath', '-t', '-timeout', '-port')
PREFIX_FLAGS = ('-np', '-nopoll', '-parse', '-p', '-xml', '-cmdtime')
FLAGS = frozenset(['-all', '-o', '-detail', '-ignoreThresholds', '-destroySnapshots', '-forceDetach', '-ignoreMigrationCheck',
                   '-ignoreDeduplicationCheck', '-iscsiAttributes', '-messner', '-np'])
NETWORK_ERROR = ("A network error occurred while trying to connect: '%s'.\n"
                 "Message : Error occurred because connection refused. Unable to establish a secure connection to the Management Server.")
CREDENTIAL_ERROR = ('Error returned from the Management Server on %s\n'
                    'Authentication failed. Possible reasons for failure are invalid security file, invalid username, password and/or scope.')
INVALID_PARAMS = 'Error: invalid command line parameters. %s'
RC_ERROR = 1


class Usage(Exception):
    pass


def split_prefix(argv):
    """({option: value}, command words) from naviseccli's argv (without argv[0])."""
    prefix = {}
    i = 0
    while i < len(argv):
        arg = argv[i]
        low = arg.lower()
        if low in PREFIX_VALUE_OPTIONS and i + 1 < len(argv):
            prefix[{'-address': '-h', '-timeout': '-t'}.get(low, low)] = argv[i + 1]
            i += 2
        elif low in PREFIX_FLAGS:
            prefix[low] = True
            i += 1
        else:
            break
    return prefix, argv[i:]


NAME_OPTIONS = ('-name', '-newName', '-gname', '-snapName', '-bakName', '-host')


def parse_options(args, flags=FLAGS):
    """{option: value}; a flag's value is True. Any option that is not a flag takes the
    next word as its value, even when that word starts with '-' (names may). A name must
    not be empty, and no value may hold a line break (it would break the listings)."""
    opts = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith('-'):
            raise Usage('unexpected %r' % arg)
        if arg in flags:
            opts[arg] = True
            i += 1
        elif i + 1 < len(args):
            value = args[i + 1]
            if '\n' in value or '\r' in value:
                raise Usage('%s must be on one line' % arg)
            if arg in NAME_OPTIONS and not value.strip():
                raise Usage('%s must not be empty' % arg)
            opts[arg] = value
            i += 2
        else:
            raise Usage('%s needs a value' % arg)
    return opts


def to_int(value, what):
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Usage('%s must be a number, not %r' % (what, value))


def yes_no(value, what):
    if value is None:
        return None
    low = value.lower()
    if low in ('yes', 'on', 'true'):
        return True
    if low in ('no', 'off', 'false'):
        return False
    raise Usage('%s must be yes or no, not %r' % (what, value))


def size_bytes(opts):
    if '-capacity' not in opts:
        raise Usage('-capacity is required')
    try:
        quantity = float(opts['-capacity'])
    except ValueError:
        raise Usage('-capacity must be a number, not %r' % opts['-capacity'])
    if not 0 <= quantity < float('inf'):
        raise Usage('-capacity must be a positive number, not %r' % opts['-capacity'])
    unit = opts.get('-sq', 'gb').lower()
    factors = {'bc': 512, 'mb': 1024 ** 2, 'gb': GIB, 'tb': 1024 ** 4}
    if unit not in factors:
        raise Usage('-sq must be one of bc, mb, gb, tb')
    return int(quantity * factors[unit])


# ---- text layouts --------------------------------------------------------------------
def fmt_time(epoch):
    return time.strftime('%m/%d/%y %H:%M:%S', time.localtime(epoch))


def gbs(nbytes):
    return '%.3f' % (nbytes / GIB)


TIER_WORDS = {'highestavailable': 'Highest Available', 'lowestavailable': 'Lowest Available', 'optimizepool': 'Optimize Pool',
              'autotier': 'Auto Tier', 'nomovement': 'No Movement', 'starthighthenauto': 'Start High then Auto-Tier'}


def tier_words(value):
    return TIER_WORDS.get(value.replace(' ', '').lower(), value)


def lun_text(vnx, lun, smps=None):
    primary = vnx.lun(lun['primary']) if lun['primary'] is not None else None
    smps = vnx.smps_of(lun) if smps is None else smps
    thin = vnx.lun_thin(lun)
    if lun['primary'] is not None:
        path = vnx.lun_file(lun)
        consumed = model.data.allocated(path) if path else 0
    elif thin:
        consumed = model.data.allocated(vnx.path(lun['file']))
    else:
        consumed = lun['size']
    owner = 'SP %s' % lun['owner']
    cg = vnx.cg_of(lun)
    lines = [
        'LOGICAL UNIT NUMBER %d' % lun['id'],
        'Name:  %s' % lun['name'],
        'UID:  %s' % lun['wwn'],
        'Current Owner:  %s' % owner,
        'Default Owner:  %s' % owner,
        'Allocation Owner:  %s' % owner,
        'User Capacity (Blocks):  %d' % (lun['size'] // 512),
        'User Capacity (GBs):  %s' % gbs(lun['size']),
        'Consumed Capacity (Blocks):  %d' % (consumed // 512),
        'Consumed Capacity (GBs):  %s' % gbs(consumed),
        'Pool Name:  %s' % vnx.lun_pool(lun),
        'Raid Type:  r_5',
        'Offset:  0',
        'Auto-Assign Enabled:  DISABLED',
        'Auto-Trespass Enabled:  DISABLED',
        'Current State:  Ready',
        'Status:  OK(0x0)',
        'Is Faulted:  false',
        'Is Transitioning:  false',
        'Current Operation:  None',
        'Current Operation State:  N/A',
        'Current Operation Status:  N/A',
        'Current Operation Percent Completed:  0',
        'Is Pool LUN:  Yes',
        'Is Thin LUN:  %s' % ('Yes' if thin else 'No'),
        'Is Private:  %s' % ('Yes' if vnx.is_private(lun) else 'No'),
        'Is Compressed:  %s' % ('Yes' if lun['compressed'] else 'No'),
        'Deduplication State:  %s' % ('On' if lun['dedup'] else 'Off'),
        'Tiering Policy:  %s' % tier_words(lun['tiering_policy']),
        'Initial Tier:  %s' % tier_words(lun['initial_tier']),
        'Deduplication Status:  OK(0x0)',
        'Tier Distribution:  ',
        'Extreme Performance:  0.00%',
        'Performance:  100.00%',  # the simulated pools have one tier, Performance (storagepool -list)
        'Capacity:  0.00%',
    ]
    lines += lun_statistics(vnx, lun)
    lines += [
        'Snapshot Mount Points:  %s' % (', '.join(str(s['id']) for s in smps) if smps else 'N/A'),
        'Consistency Group:  %s' % (cg['name'] if cg else 'N/A'),
        'Primary LUN:  %s' % (primary['name'] if primary else 'N/A'),
        'Attached Snapshot:  %s' % (lun['attached'] or 'N/A'),
    ]
    return '\n'.join(lines)


def block_stat(device):
    """The kernel's I/O counters of a block device (/sys/block/<dev>/stat), or zeros when it is not exposed."""
    fields = [0] * 11
    if device:
        try:
            with open('/sys/block/%s/stat' % os.path.basename(device)) as f:
                fields = [int(x) for x in f.read().split()[:11]]
        except (OSError, ValueError):
            pass
    return fields


def lun_statistics(vnx, lun):
    """The statistics block of lun -list -all: the exposed LUN's loop device counters (reads, writes, 512-byte
    blocks, busy milliseconds, requests in flight), all on the owning SP; idle is the rest of the LUN's life."""
    exp = vnx.s['exposures'].get(str(lun['id'])) or {}
    st = block_stat(exp.get('device'))
    alive_ms = max(0, int((time.time() - (lun.get('created') or time.time())) * 1000))
    counters = [
        ('Read Requests', st[0]), ('Write Requests', st[4]), ('Blocks Read', st[2]), ('Blocks Written', st[6]),
        ('Busy Ticks', st[9]), ('Idle Ticks', max(0, alive_ms - st[9])), ('Sum of Outstanding Requests', st[8]),
        ('Non-Zero Request Count Arrivals', st[0] + st[4]), ('Implicit Trespasses', 0), ('Explicit Trespasses', 0),
    ]
    lines = []
    for label, value in counters:
        lines.append('%s:  %d' % (label, value))
        for sp in ('A', 'B'):
            lines.append('%s SP %s:  %d' % (label, sp, value if sp == lun['owner'] else 0))
    return lines


def snap_text(vnx, snap):
    attached = vnx.attached_to(snap)
    lines = [
        'Name:  %s' % snap['name'],
        'Description:  %s' % snap['description'],
        'Creation time:  %s' % fmt_time(snap['created']),
        'Last modify time:  %s' % (fmt_time(snap['modified_at']) if snap['modified_at'] else 'Never'),
        'Last modified by:  %s' % (snap['modified_by'] or 'N/A'),
        'Source LUN(s):  %s' % ', '.join(str(i) for i in snap.get('sources', [snap['source']])),
        'Source CG:  %s' % (snap.get('cg') or 'N/A'),
        'Primary LUN(s):  %d' % primary_of(vnx, snap['source']),
        'State:  Ready',
        'Status:  OK(0x0)',
        'Allow Read/Write:  %s' % ('Yes' if snap['allow_rw'] else 'No'),
        'Modified:  %s' % ('Yes' if vnx.snap_modified(snap) else 'No'),
        'Attached LUN(s):  %s' % ', '.join(str(s['id']) for s in attached),
        'Allow auto delete:  %s' % ('Yes' if snap['auto_delete'] else 'No'),
        'Expiration date:  %s' % (fmt_time(snap['expires']) if snap['expires'] else 'Never'),
    ]
    return '\n'.join(line.rstrip() for line in lines)


def cg_text(vnx, cg, detail=True):
    lines = ['Name:  %s' % cg['name']]
    if detail:
        lines += [
            'Description:  %s' % cg.get('description', ''),
            'Allow auto delete:  %s' % ('Yes' if cg['auto_delete'] else 'No'),
            'Member LUN ID(s):  %s' % (', '.join(str(i) for i in cg['members']) or 'None'),
            'State:  Ready',
        ]
    return '\n'.join(line.rstrip() for line in lines)


def primary_of(vnx, lun_id):
    """The base LUN of a snapshot's source: the source itself, or an SMP's primary."""
    lun = vnx.lun(lun_id)
    while lun is not None and lun['primary'] is not None:
        lun_id = lun['primary']
        lun = vnx.lun(lun_id)
    return lun_id


def migration_text(vnx, m):
    src, dest = vnx.lun(m['source']), vnx.lun(m['dest'])
    percent, remaining = vnx.migration_progress(m)
    if remaining >= 60:
        left = '%d minute(s)' % (remaining // 60)
    else:
        left = '%d second(s)' % remaining
    return '\n'.join([
        'Source LU Name:  %s' % src['name'],
        'Source LU ID:  %d' % src['id'],
        'Dest LU Name:  %s' % dest['name'],
        'Dest LU ID:  %d' % dest['id'],
        'Migration Rate:  %s' % m['rate'],
        'Current State:  MIGRATING',
        'Percent Complete:  %d' % int(percent),
        'Time Remaining:  %s' % left,
    ])


def pool_text(vnx, pool):
    consumed, subscribed = vnx.pool_usage(pool)
    luns = [lun['id'] for lun in vnx.luns() if lun['primary'] is None and lun['pool'] == pool['name']]
    size = pool['size']
    lines = [
        'Pool Name:  %s' % pool['name'],
        'Pool ID:  %d' % pool['id'],
        'Raid Type:  %s' % pool['raid_type'],
        'Percent Full Threshold:  70',
        'Description:  ',
        'Disk Type:  Mixed',
        'State:  Ready',
        'Status:  OK(0x0)',
        'Current Operation:  None',
        'Current Operation State:  N/A',
        'Current Operation Status:  N/A',
        'Current Operation Percent Completed:  0',
        'Raw Capacity (Blocks):  %d' % (size * 5 // 4 // 512),
        'Raw Capacity (GBs):  %s' % gbs(size * 5 // 4),
        'User Capacity (Blocks):  %d' % (size // 512),
        'User Capacity (GBs):  %s' % gbs(size),
        'Consumed Capacity (Blocks):  %d' % (consumed // 512),
        'Consumed Capacity (GBs):  %s' % gbs(consumed),
        'Available Capacity (Blocks):  %d' % (max(0, size - consumed) // 512),
        'Available Capacity (GBs):  %s' % gbs(max(0, size - consumed)),
        'Percent Full:  %.3f' % (100.0 * consumed / size if size else 0),
        'Total Subscribed Capacity (Blocks):  %d' % (subscribed // 512),
        'Total Subscribed Capacity (GBs):  %s' % gbs(subscribed),
        'Percent Subscribed:  %.3f' % (100.0 * subscribed / size if size else 0),
        'Oversubscribed by (Blocks):  %d' % (max(0, subscribed - size) // 512),
        'Oversubscribed by (GBs):  %s' % gbs(max(0, subscribed - size)),
        '',
        'Auto-Tiering:  Scheduled',
        'Tier Name:  Performance',
        'Raid Type:  %s' % pool['raid_type'],
        'Raid Drive Count:  5',
        'User Capacity (GBs):  %.2f' % (size / GIB),
        'Consumed Capacity (GBs):  %.2f' % (consumed / GIB),
        'Available Capacity (GBs):  %.2f' % (max(0, size - consumed) / GIB),
        'Percent Subscribed:  %.2f%%' % (100.0 * subscribed / size if size else 0),
        'Disks (Type):',
        'Bus 0 Enclosure 0 Disk %d (SAS)' % (4 + 5 * pool['id']),
        'Rebalance Percent Complete:  N/A',
        'Disks:',
        'Bus 0 Enclosure 0 Disk %d' % (4 + 5 * pool['id']),
        'Bus 0 Enclosure 0 Disk %d' % (5 + 5 * pool['id']),
        'Bus 0 Enclosure 0 Disk %d' % (6 + 5 * pool['id']),
        'LUNs:  %s' % ', '.join(str(i) for i in luns),
        'FAST Cache:  N/A',
    ]
    return '\n'.join(line.rstrip() if line.endswith(':  ') and line.count(':') == 1 else line for line in lines)


def sg_text(vnx, sg):
    lines = [
        'Storage Group Name:    %s' % sg['name'],
        'Storage Group UID:     %s' % sg['uid'],
    ]
    hosts = [vnx.host(name) for name in sg['hosts']]
    hosts = [h for h in hosts if h is not None]
    if hosts:
        lines += ['HBA/SP Pairs:', '',
                  '  HBA UID                                          SP Name     SPPort',
                  '  -------                                          -------     ------']
        for host in hosts:
            lines += [
                '  %-48s SP A         4' % host['initiator'],
                'Host name:             %s' % host['name'],
                'SPPort:                A-4v0',
                'Initiator IP:          %s' % host['ip'],
                'TPGT:                  1',
                'ISID:                  N/A',
                '',
            ]
    if sg['hlus']:
        lines += ['', 'HLU/ALU Pairs:', '', '  HLU Number     ALU Number', '  ----------     ----------']
        for hlu in sorted(sg['hlus'], key=int):
            lines.append('    %-15s%d' % (hlu, sg['hlus'][hlu]))
    lines.append('Shareable:             YES')
    return '\n'.join(lines)


# The front-end ports hosts log in to: one iSCSI port on each SP (storage groups print A-4v0).
SP_PORTS = (('A', 4), ('B', 4))


def port_counts_text(vnx):
    """The first part of port -list -all and -sp: the initiators registered on each SP port."""
    hosts = vnx.s['hosts']
    lines = ['Total number of initiators: %d' % len(hosts)]
    for sp, port in SP_PORTS:
        here = len(hosts) if sp == 'A' else 0  # every initiator is registered on A-4 (the storage groups say so)
        lines += ['', 'SP Name:             SP %s' % sp, 'SP Port ID:          %d' % port,
                  'Registered Initiators:        %d' % here, 'Logged-In Initiators:         %d' % here,
                  'Not Logged-In Initiators:     0']
    return '\n'.join(lines)


def port_hba_text(vnx):
    """port -list -hba: each registered initiator (HBA), its server and the storage group it is in."""
    blocks = []
    for host in vnx.s['hosts']:
        group = next((sg['name'] for sg in vnx.s['storage_groups'] if host['name'] in sg['hosts']), None)
        blocks.append('\n'.join([
            'Information about each HBA:', '',
            'HBA UID:                 %s' % host['initiator'],
            'Server Name:             %s' % host['name'],
            'Server IP Address:       %s' % host['ip'],
            'HBA Model Description:', 'HBA Vendor Description:', 'HBA Device Driver Name:',
            'Information about each port of this HBA:', '',
            '    SP Name:               SP A',
            '    SP Port ID:            4',
            '    HBA Devicename:',
            '    Trusted:               NO',
            '    Logged In:             YES',
            '    Defined:               YES',
            '    Initiator Type:           3',
            '    StorageGroup Name:     %s' % (group or 'None'),
        ]))
    return '\n\n'.join(blocks)


def port_sp_text(vnx, state):
    """The SP port part of port -list: identity, link and the I/O counters of the LUNs each SP owns
    and exposes (every exposed LUN goes through its owner's port)."""
    blocks = ['Information about each SPPORT:']
    for sp, port in SP_PORTS:
        io = [0, 0, 0, 0]
        for lun in vnx.s['luns'].values():
            if lun['owner'] == sp and str(lun['id']) in vnx.s['exposures']:
                st = block_stat(vnx.s['exposures'][str(lun['id'])].get('device'))
                io = [io[0] + st[0], io[1] + st[4], io[2] + st[2], io[3] + st[6]]
        blocks.append('\n'.join([
            'SP Name:             SP %s' % sp,
            'SP Port ID:          %d' % port,
            'SP UID:              iqn.1992-04.com.emc:cx.%s.%s%d' % (state['serial'].lower(), sp.lower(), port),
            'Link Status:         Up',
            'Port Status:         Online',
            'Switch Present:      Not Applicable',
            'Speed Value :         10Gbps',
            'MAC Address:         00:60:16:5C:%02X:%02X' % (ord(sp), port),
            'SFP State:           Online',
            'Reads:               %d' % io[0],
            'Writes:              %d' % io[1],
            'Blocks Read:         %d' % io[2],
            'Blocks Written:      %d' % io[3],
            'Queue Full/Busy:     0',
            'I/O Module Slot:     0',
            'Physical Port ID:    %d' % port,
            'Usage:     General',
            'SFP/Connector EMC Part Number: 019-078-042',
            'SFP/Connector EMC Serial Number: 000000000000000',
            'SFP/Connector Vendor Part Number: N/A',
            'SFP/Connector Vendor Serial Number: N/A',
        ]))
    return '\n\n'.join(blocks)


def cmd_port_list(vnx, opts, state):
    """port -list [-hba] [-sp] [-all]: the HBA part, the SP part, or (with -all) the counts and both."""
    parts = []
    if '-all' in opts or '-sp' in opts:
        parts.append(port_counts_text(vnx))
    if '-all' in opts and '-sp' not in opts or '-hba' in opts or not opts:
        parts.append(port_hba_text(vnx))
    if '-all' in opts or '-sp' in opts:
        parts.append(port_sp_text(vnx, state))
    return '\n\n'.join(p for p in parts if p)


def agent_text(state):
    return '\n'.join([
        'Agent Rev:           %s' % state['agent_rev'],
        'Name:                %s' % state['name'],
        'Desc:                ',
        'Node:                A-%s' % state['serial'],
        'Physical Node:       K10',
        'Signature:           %d' % (sum(state['serial'].encode()) * 7919),
        'Peer Signature:      %d' % (sum(state['serial'].encode()) * 7907),
        'Revision:            %s' % state['revision'],
        'SCSI Id:             0',
        'Model:               %s' % state['model'],
        'Model Type:          Rackmount',
        'Prom Rev:            7.00.00',
        'SP Memory:           16384',
        'Serial No:           %s' % state['serial'],
        'SP Identifier:       A',
        'Cabinet:             DPE7',
    ])


def network_text(state, sp):
    address = state['address'] if sp == 'a' else (state.get('sp_b_address') or '')
    return '\n'.join([
        'Storage Processor:                  SP %s' % sp.upper(),
        'Storage Processor Network Name:     %s-sp%s' % (state['name'], sp),
        '',
        'Port ID:                            0',
        'Management Port Settings:',
        'Link Status:                        Link-Up',
        '',
        'Virtual Port ID:                    0',
        'VLAN ID:                            Disabled',
        'Storage Processor IP Mode:          Manual',
        'Storage Processor IP Address:       %s' % address,
        'Storage Processor Subnet Mask:      255.255.255.0',
        'Storage Processor Gateway Address:  %s' % address.rsplit('.', 1)[0] + '.254',
        'Storage Processor IPv6 Mode:        Disabled',
    ])


NDU_PACKAGES = ('-Compression', '-Deduplication', '-FAST', '-FASTCache', '-ThinProvisioning', '-VNXSnapshots')


def ndu_text(name):
    return '\n'.join([
        'Name of the software package:        %s' % name,
        'Revision of the software package:    05.33.009.5.238',
        'Commit Required:                     NO',
        'Revert Possible:                     NO',
        'Active State:                        YES',
        'Is installation completed:           YES',
        'Is this System Software:             NO',
    ])


# ---- commands -------------------------------------------------------------------------
def lun_ref(opts, required=True):
    if '-l' in opts:
        return {'lun_id': to_int(opts['-l'], '-l')}
    if '-name' in opts:
        return {'name': opts['-name']}
    if required:
        raise Usage('-l or -name is required')
    return None


def cmd_lun_list(vnx, opts):
    if '-l' in opts or '-name' in opts:
        lun = vnx.lun(**lun_ref(opts))
        if lun is None:
            raise ArrayError(model.LUN_NOT_FOUND)
        return lun_text(vnx, lun)
    luns = vnx.luns()
    smps = {}
    for lun in luns:
        if lun['primary'] is not None:
            smps.setdefault(lun['primary'], []).append(lun)
    if opts.get('-showOnly', '').lower() == 'snap':
        luns = [lun for lun in luns if lun['primary'] is not None]
    return '\n\n'.join(lun_text(vnx, lun, smps.get(lun['id'], [])) for lun in luns)


TYPES = {'thin': True, 'nonthin': False}


def cmd_lun_create(vnx, opts):
    ref = lun_ref(opts, required=False) or {}
    name, lun_id = ref.get('name'), ref.get('lun_id')
    if lun_id is not None and not 0 <= lun_id < model.LUN_ID_LIMIT:
        raise Usage('-l must be a LUN number from 0 to %d' % (model.LUN_ID_LIMIT - 1))
    if opts.get('-type', '').lower() == 'snap':
        if '-primaryLun' in opts:
            primary = {'primary_id': to_int(opts['-primaryLun'], '-primaryLun')}
        elif '-primaryLunName' in opts:
            primary = {'primary_name': opts['-primaryLunName']}
        else:
            raise Usage('-primaryLun or -primaryLunName is required')
        vnx.create_smp(name=name, lun_id=lun_id, **primary)
        return ''
    if '-poolId' in opts:
        pool = {'pool_id': to_int(opts['-poolId'], '-poolId')}
    elif '-poolName' in opts:
        pool = {'pool_name': opts['-poolName']}
    else:
        raise Usage('-poolId or -poolName is required')
    kind = opts.get('-type', 'NonThin').lower()
    if kind not in TYPES:
        raise Usage('-type must be Thin, NonThin or snap')
    tier = {}
    if '-initialTier' in opts:
        tier['initial_tier'] = tier_words(opts['-initialTier'])
    if '-tieringPolicy' in opts:
        tier['tiering_policy'] = tier_words(opts['-tieringPolicy'])
    vnx.create_lun(size_bytes(opts), name=name, lun_id=lun_id, thin=TYPES[kind],
                   dedup=bool(yes_no(opts.get('-deduplication'), '-deduplication')),
                   sp=opts.get('-sp', 'A').upper()[-1:], **pool, **tier)
    return ''


def cmd_lun_attach(vnx, opts):
    if '-snapName' not in opts:
        raise Usage('-snapName is required')
    vnx.attach(vnx.lun_or_fail(**lun_ref(opts)), opts['-snapName'])
    return ''


def cmd_lun_detach(vnx, opts):
    vnx.detach(vnx.lun_or_fail(**lun_ref(opts)))
    return ''


def cmd_lun_destroy(vnx, opts):
    vnx.destroy_lun(vnx.lun_or_fail(**lun_ref(opts)), destroy_snapshots='-destroySnapshots' in opts,
                    force_detach='-forceDetach' in opts)
    return ''


def cmd_lun_modify(vnx, opts):
    lun = vnx.lun_or_fail(**lun_ref(opts))
    if '-newName' in opts:
        vnx.rename_lun(lun, opts['-newName'])
    if '-initialTier' in opts:
        lun['initial_tier'] = tier_words(opts['-initialTier'])
    if '-tieringPolicy' in opts:
        lun['tiering_policy'] = tier_words(opts['-tieringPolicy'])
    if '-deduplication' in opts:
        lun['dedup'] = yes_no(opts['-deduplication'], '-deduplication')
    return ''


def cmd_lun_expand(vnx, opts):
    vnx.expand_lun(vnx.lun_or_fail(**lun_ref(opts)), size_bytes(opts))
    return ''


def cmd_snap_list(vnx, opts):
    if '-id' in opts:
        snap = vnx.snap(opts['-id'])
        if snap is None:
            raise ArrayError(model.SNAP_NOT_RETRIEVED)
        snaps = [snap]
    elif '-res' in opts:
        lun = vnx.lun(to_int(opts['-res'], '-res'))
        if lun is None:
            raise ArrayError(model.SNAP_RESOURCE_NOT_FOUND)
        snaps = vnx.snaps_of(lun)
    else:
        snaps = sorted(vnx.s['snapshots'].values(), key=lambda s: s['seq'])
    return '\n\n'.join(snap_text(vnx, snap) for snap in snaps)


def cmd_snap_create(vnx, opts):
    if '-res' not in opts or '-name' not in opts:
        raise Usage('-res and -name are required')
    if '-keepFor' in opts and '-allowAutoDelete' in opts:
        raise Usage('-keepFor and -allowAutoDelete cannot be used together')
    allow_rw = yes_no(opts.get('-allowReadWrite'), '-allowReadWrite')
    if opts.get('-resType', 'LUN').upper() == 'CG':
        snap = vnx.create_cg_snap(opts['-res'], opts['-name'], allow_rw=allow_rw is not False,
                                  auto_delete=bool(yes_no(opts.get('-allowAutoDelete'), '-allowAutoDelete')),
                                  keep_for=keep_for(opts))
    else:
        snap = vnx.create_snap(to_int(opts['-res'], '-res'), opts['-name'], allow_rw=allow_rw is not False,
                               auto_delete=bool(yes_no(opts.get('-allowAutoDelete'), '-allowAutoDelete')),
                               keep_for=keep_for(opts))
    if '-descr' in opts:
        snap['description'] = opts['-descr']
    return ''


def keep_for(opts):
    """-keepFor as given, once it is known to be a retention the listings can print."""
    value = opts.get('-keepFor')
    if value is None:
        return None
    try:
        seconds = model.parse_keep_for(value)
    except ValueError:
        seconds = None
    if seconds is None or not 0 <= seconds <= model.MAX_KEEP_FOR:
        raise Usage('-keepFor must be a number (0 or more) with a unit h, d, m (months) or y (at most %d days), not %r'
                    % (model.MAX_KEEP_FOR // 86400, value))
    return value


def cmd_snap_copy(vnx, opts):
    if '-id' not in opts or '-name' not in opts:
        raise Usage('-id and -name are required')
    vnx.copy_snap(opts['-id'], opts['-name'])
    return ''


def cmd_snap_modify(vnx, opts):
    if '-id' not in opts:
        raise Usage('-id is required')
    if '-keepFor' in opts and '-allowAutoDelete' in opts:
        raise Usage('-keepFor and -allowAutoDelete cannot be used together')
    vnx.modify_snap(opts['-id'], new_name=opts.get('-name'), description=opts.get('-descr'),
                    allow_rw=yes_no(opts.get('-allowReadWrite'), '-allowReadWrite'),
                    auto_delete=yes_no(opts.get('-allowAutoDelete'), '-allowAutoDelete'), keep_for=keep_for(opts))
    return ''


def cmd_snap_destroy(vnx, opts):
    if '-id' not in opts:
        raise Usage('-id is required')
    vnx.destroy_snap(opts['-id'])
    return ''


def cmd_snap_restore(vnx, opts):
    if '-id' not in opts or '-res' not in opts:
        raise Usage('-id and -res are required')
    vnx.restore_snap(opts['-id'], to_int(opts['-res'], '-res'), backup_name=opts.get('-bakName'))
    return ''


def member_ids(opts, required=True):
    """-res of snap -group: LUN ids separated by commas."""
    if '-res' not in opts:
        if required:
            raise Usage('-res is required')
        return []
    return [to_int(word.strip(), '-res') for word in opts['-res'].split(',') if word.strip()]


def cg_id(opts):
    if '-id' not in opts:
        raise Usage('-id is required')
    return opts['-id']


def cmd_cg_create(vnx, opts):
    if '-name' not in opts:
        raise Usage('-name is required')
    vnx.create_cg(opts['-name'], member_ids(opts, required=False),
                  auto_delete=bool(yes_no(opts.get('-allowSnapAutoDelete'), '-allowSnapAutoDelete')))
    return ''


def cmd_cg_list(vnx, opts):
    if '-id' in opts:
        cgs = [vnx.cg_or_fail(opts['-id'])]
    else:
        cgs = vnx.s.get('consistency_groups', [])
    return '\n\n'.join(cg_text(vnx, cg, '-detail' in opts) for cg in cgs)


def cmd_cg_addmember(vnx, opts):
    vnx.add_cg_members(cg_id(opts), member_ids(opts))
    return ''


def cmd_cg_rmmember(vnx, opts):
    vnx.remove_cg_members(cg_id(opts), member_ids(opts))
    return ''


def cmd_cg_replmember(vnx, opts):
    vnx.replace_cg_members(cg_id(opts), member_ids(opts))
    return ''


def cmd_cg_destroy(vnx, opts):
    vnx.destroy_cg(cg_id(opts))
    return ''


CG_COMMANDS = {
    '-create': cmd_cg_create, '-list': cmd_cg_list, '-addmember': cmd_cg_addmember, '-rmmember': cmd_cg_rmmember,
    '-replmember': cmd_cg_replmember, '-destroy': cmd_cg_destroy,
}


def cmd_migrate_start(vnx, opts):
    if '-source' not in opts or '-dest' not in opts:
        raise Usage('-source and -dest are required')
    rate = opts.get('-rate', 'high').lower()
    if rate not in model.RATE_FACTORS:
        raise Usage('-rate must be low, medium, high or asap')
    vnx.start_migration(to_int(opts['-source'], '-source'), to_int(opts['-dest'], '-dest'), rate)
    return ''


def cmd_migrate_list(vnx, opts):
    sessions = vnx.s['migrations']
    if '-source' in opts:
        src = vnx.lun(to_int(opts['-source'], '-source'))
        if src is None:
            raise ArrayError(model.SOURCE_NOT_EXIST, 'failed')
        sessions = [m for m in sessions if m['source'] == src['id']]
        if not sessions:
            raise ArrayError(model.NOT_MIGRATING, 'failed')
    if not sessions:
        return model.NO_MIGRATIONS
    return '\n\n'.join(migration_text(vnx, m) for m in sessions)


def cmd_migrate_cancel(vnx, opts):
    if '-source' not in opts:
        raise Usage('-source is required')
    vnx.cancel_migration(to_int(opts['-source'], '-source'))
    return ''


def cmd_storagepool_list(vnx, opts):
    if '-name' in opts or '-id' in opts:
        pool = vnx.pool(name=opts.get('-name'), pool_id=to_int(opts['-id'], '-id') if '-id' in opts else None)
        if pool is None:
            raise ArrayError(model.POOL_NOT_FOUND)
        return pool_text(vnx, pool)
    return '\n\n'.join(pool_text(vnx, pool) for pool in vnx.s['pools'])


def gname(opts):
    if '-gname' not in opts:
        raise Usage('-gname is required')
    return opts['-gname']


def cmd_sg_list(vnx, opts):
    if '-gname' in opts:
        return sg_text(vnx, vnx.sg_or_fail(opts['-gname']))
    return '\n\n'.join(sg_text(vnx, sg) for sg in vnx.s['storage_groups'])


def cmd_sg_create(vnx, opts):
    vnx.create_sg(gname(opts))
    return ''


def cmd_sg_destroy(vnx, opts):
    vnx.destroy_sg(gname(opts))
    return ''


def cmd_sg_addhlu(vnx, opts):
    if '-hlu' not in opts or '-alu' not in opts:
        raise Usage('-hlu and -alu are required')
    vnx.add_hlu(gname(opts), to_int(opts['-hlu'], '-hlu'), to_int(opts['-alu'], '-alu'))
    return ''


def cmd_sg_removehlu(vnx, opts):
    if '-hlu' not in opts:
        raise Usage('-hlu is required')
    vnx.remove_hlu(gname(opts), to_int(opts['-hlu'], '-hlu'))
    return ''


def cmd_sg_connecthost(vnx, opts):
    if '-host' not in opts:
        raise Usage('-host is required')
    vnx.connect_host(gname(opts), opts['-host'])
    return ''


def cmd_sg_disconnecthost(vnx, opts):
    if '-host' not in opts:
        raise Usage('-host is required')
    vnx.disconnect_host(gname(opts), opts['-host'])
    return ''


def cmd_sg_setpath(vnx, opts):
    """Register an initiator for a host (the host is created if new) and connect it."""
    if '-hbauid' not in opts or '-host' not in opts:
        raise Usage('-hbauid and -host are required')
    vnx.register_initiator(gname(opts), opts['-host'], opts['-hbauid'], opts.get('-ip'))
    return ''


def cmd_compression_on(vnx, opts):
    lun = vnx.lun_or_fail(**lun_ref(opts))
    if lun['compressed']:
        raise ArrayError('Compression on the specified LUN is already turned on.')
    lun['compressed'] = True
    return ''


def cmd_compression_off(vnx, opts):
    vnx.lun_or_fail(**lun_ref(opts))['compressed'] = False
    return ''


COMMANDS = {
    ('lun', '-list'): cmd_lun_list,
    ('lun', '-create'): cmd_lun_create,
    ('lun', '-attach'): cmd_lun_attach,
    ('lun', '-detach'): cmd_lun_detach,
    ('lun', '-destroy'): cmd_lun_destroy,
    ('lun', '-modify'): cmd_lun_modify,
    ('lun', '-expand'): cmd_lun_expand,
    ('snap', '-list'): cmd_snap_list,
    ('snap', '-create'): cmd_snap_create,
    ('snap', '-copy'): cmd_snap_copy,
    ('snap', '-modify'): cmd_snap_modify,
    ('snap', '-destroy'): cmd_snap_destroy,
    ('snap', '-restore'): cmd_snap_restore,
    ('migrate', '-start'): cmd_migrate_start,
    ('migrate', '-list'): cmd_migrate_list,
    ('migrate', '-cancel'): cmd_migrate_cancel,
    ('storagepool', '-list'): cmd_storagepool_list,
    ('storagegroup', '-list'): cmd_sg_list,
    ('storagegroup', '-create'): cmd_sg_create,
    ('storagegroup', '-destroy'): cmd_sg_destroy,
    ('storagegroup', '-addhlu'): cmd_sg_addhlu,
    ('storagegroup', '-removehlu'): cmd_sg_removehlu,
    ('storagegroup', '-connecthost'): cmd_sg_connecthost,
    ('storagegroup', '-disconnecthost'): cmd_sg_disconnecthost,
    ('storagegroup', '-setpath'): cmd_sg_setpath,
    ('compression', '-on'): cmd_compression_on,
    ('compression', '-off'): cmd_compression_off,
}


def frame_error(err, words):
    if err.form == 'failed':
        return 'Error: %s command failed.\n%s' % (' '.join(words[:2]), err.text)
    if err.form == 'agent':
        return 'Error: %s command failed\nError returned from Agent\n%s' % (words[0], err.text)
    return err.text


def credentials_ok(state, prefix):
    if '-secfilepath' in prefix:
        return os.path.isdir(prefix['-secfilepath']) or os.path.isfile(prefix['-secfilepath'])
    user, password = prefix.get('-user'), prefix.get('-password')
    scope = prefix.get('-scope', '0')
    for known in state['users']:
        if known['name'] == user and known['password'] == password and str(known.get('scope', 0)) == str(scope):
            return True
    return False


def matches(fault, words):
    want = fault['command'].split()
    return any(words[i:i + len(want)] == want for i in range(len(words) - len(want) + 1))


def serve(address, prefix, words):
    """(output, failed) of one call to the array at ``address``."""
    path = store.array_dir(address)
    try:
        with open(os.path.join(path, 'latency')) as f:
            delay = float(f.read() or 0)
    except (FileNotFoundError, ValueError):
        delay = 0
    if delay > 0:
        time.sleep(delay)
    array = store.Array(address)
    with array as state:
        sp = 'a' if address == state['address'] else 'b'
        if state['sp_down'].get(sp):
            return NETWORK_ERROR % address, True
        if not credentials_ok(state, prefix):
            return CREDENTIAL_ERROR % address, True
        kill = False
        for fault in state['faults']:
            if matches(fault, words):
                fault['count'] -= 1
                if fault['count'] <= 0:
                    state['faults'].remove(fault)
                if not fault.get('kill_play'):
                    return fault['output'], True
                kill = True
                break
        vnx = model.Vnx(state, array.path, checkpoint=array.save)
        vnx.advance()
        failed = False
        try:
            out = dispatch(vnx, state, words)
        except ArrayError as err:
            out, failed = frame_error(err, words), True
        except Usage as err:
            out, failed = INVALID_PARAMS % err, True
        vnx.reconcile_exposures()
        array.save()
        vnx.finish()
    if kill:
        kill_play(os.getpid())
    return out, failed


def dispatch(vnx, state, words):
    if words and words[0] == 'storagegroup' and len(words) > 1 and words[1] == '-messner':
        words = words[:1] + words[2:]
    head = tuple(words[:2])
    rest = words[2:]
    if head == ('getagent',) or words[:1] == ['getagent']:
        return agent_text(state)
    if head == ('networkadmin', '-get'):
        opts = parse_options(rest, FLAGS | {'-all'})
        return network_text(state, opts.get('-sp', 'a').lower())
    if words[:2] == ['domain', '-list']:
        return ''
    if words[:2] == ['port', '-list']:
        return cmd_port_list(vnx, parse_options(rest, FLAGS | {'-hba', '-sp'}), state)
    if words[:2] == ['ndu', '-list']:
        opts = parse_options(rest)
        names = [opts['-name']] if '-name' in opts else NDU_PACKAGES
        return '\n\n'.join(ndu_text(name) for name in names if name in NDU_PACKAGES)
    if words[:2] == ['security', '-certificate']:
        return 'low' if '-getLevel' in words else ''
    if words[:2] == ['snap', '-group']:
        handler = CG_COMMANDS.get(words[2] if len(words) > 2 else None)
        if handler is None:
            raise Usage('unknown command %r' % ' '.join(words))
        return handler(vnx, parse_options(words[3:]))
    handler = COMMANDS.get(head)
    if handler is None:
        raise Usage('unknown command %r' % ' '.join(words))
    flags = FLAGS | {'-host'} if head == ('storagegroup', '-list') else FLAGS
    return handler(vnx, parse_options(rest, flags))


def run(argv):
    """(output, exit code) for naviseccli's argv without argv[0]."""
    prefix, words = split_prefix(argv)
    store.count_call(' '.join(words[:2]))
    address = prefix.get('-h')
    if address is None:
        if words[:2] == ['security', '-certificate']:
            return ('low' if '-getLevel' in words else ''), 0
        return NETWORK_ERROR % 'localhost', RC_ERROR
    try:
        if not store.exists(address):
            # what a real naviseccli says of an address nothing answers at, and why, for the user
            return '%s\nnaviseccli-sim: no array at %s in %s (vnx-sim init creates one; check -h)' % (
                NETWORK_ERROR % address, address, store.home()), RC_ERROR
        out, failed = serve(address, prefix, words)
    except store.NoHome as err:
        return '%s\n%s' % (NETWORK_ERROR % address, err), RC_ERROR
    except store.BadState as err:
        return 'Error: %s command failed.\nnaviseccli-sim: %s' % (' '.join(words[:2]), err), RC_ERROR
    except Exception as err:  # pylint: disable=broad-exception-caught
        # storops takes empty stdout for success: a crash must still print something
        return 'Error: %s command failed.\nnaviseccli-sim internal error: %s: %s' % (' '.join(words[:2]), type(err).__name__, err), RC_ERROR
    return out, RC_ERROR if failed else 0


def main(argv=None):
    out, code = run(sys.argv[1:] if argv is None else argv)
    if out:
        sys.stdout.write(out + '\n')
    sys.stdout.flush()
    return code
