# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The VNX client: the only code that knows storops.

It speaks in the array's words (LUN, snapshot, snapshot mount point, migration,
storage group, HLU), returns dataclasses, and turns every storops error into one
``VnxError`` that names the object, the operation, the array's own text and what
to do. Reads go through storops' resources and parsers; writes go through its
``CliClient`` commands, whose output is checked here so that the array's text
reaches the user unchanged.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import importlib.util
import logging
import copy
import math
import os
import re
import signal
import subprocess
import sys
import traceback
import warnings
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional


def _stdlib_distutils():
    """storops imports ``distutils.version``. Where setuptools' shim is installed
    (its distutils-precedence.pth), that import loads setuptools and pkg_resources:
    half of the time ``import storops`` takes, paid by every VNX module run. Python
    before 3.12 has distutils in its standard library; take that one."""
    hack = sys.modules.get("_distutils_hack")
    if sys.version_info >= (3, 12) or hack is None or "distutils" in sys.modules:
        return
    try:
        hack.remove_shim()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)   # distutils' own, on import
            import distutils.version  # noqa: F401 pylint: disable=deprecated-module,unused-import
    except Exception:  # the shim's API changed, or no stdlib distutils: storops imports as it did
        sys.modules.pop("distutils", None)
        getattr(hack, "add_shim", lambda: None)()


def _storops_vnx_only():
    """``import storops`` runs the package's __init__, which imports storops' Unity half as well (its REST
    client, requests): about half of the CPU time the import takes, paid by every VNX module run. The VNX half
    imports only storops' submodules: the package is registered without running its __init__, and its
    submodules load from its directory as usual."""
    if "storops" in sys.modules:
        return
    try:
        spec = importlib.util.find_spec("storops")
    except (ImportError, ValueError):
        return
    if spec is not None and spec.submodule_search_locations:
        sys.modules["storops"] = importlib.util.module_from_spec(spec)


STOROPS_IMPORT_ERROR = None
_stdlib_distutils()
_storops_vnx_only()
try:
    import storops.exception as storops_ex
    from storops.vnx.resource.system import VNXSystem
    from storops.vnx.enums import VNXMigrationRate, VNXProvisionEnum, VNXTieringEnum
    from storops.vnx.resource.lun import VNXLun, VNXLunList
    from storops.vnx.resource.migration import VNXMigrationSession, VNXMigrationSessionList
    from storops.vnx.resource.block_pool import VNXPool, VNXPoolList
    from storops.vnx.resource.cg import VNXConsistencyGroup, VNXConsistencyGroupList
    from storops.vnx.resource.sg import VNXStorageGroup, VNXStorageGroupList
    from storops.vnx.resource.snap import VNXSnap, VNXSnapList
    from storops.vnx.heart_beat import NodeHeartBeat
    from storops.vnx.resource.system import VNXAgent
except Exception:  # ImportError, or Python 3.13's missing 'pipes' seen through storops
    STOROPS_IMPORT_ERROR = traceback.format_exc()
    storops_ex = None

# The per-source snapshot limit of the array (and so of snap copies, seed 000).
MAX_SNAPSHOTS_PER_LUN = 255
# The largest LUN a VNX makes (256 TiB).
MAX_LUN_SIZE_GB = 256 * 1024
# The HLUs a storage group hands out: 0..255, as the array takes them. storops and the Cinder
# driver leave 0 out without a stated reason; a host sees its lowest LUN as LUN 0 then (instead of
# the array's LUNZ placeholder), which is what hosts that scan from LUN 0 want.
HLU_RANGE = range(0, 256)
HLU_SPREAD = 32
# Recorded in a snapshot's description when the collection manages it (vnx_snapshot_manage).
MANAGED_MARK = "[managed-by:storage.datamotion]"
# Recorded in the description of a copy's temporary snapshot once vnx_volume_clone made the
# copy's migration target: a VNX LUN has no description, so the snapshot carries what the
# collection made (the copy's and the target's WWNs). Nothing without it is ever taken as ours.
TEMPORARY_MARK = "[storage.datamotion:copy %s target %s]"
# Written in the description of every snapshot vnx_volume_clone makes, with the snapshot itself
# (snap -create -descr): a snapshot without it (or TEMPORARY_MARK, which replaces it) is never the
# collection's, whatever its name.
COPY_MARK = "[storage.datamotion:copy]"


_TEMPORARY_MARK_RE = re.compile(r"\A\[storage\.datamotion:copy (\S+) target (\S+)\]\Z")


def temporary_mark(copy_wwn, target_wwn):
    return TEMPORARY_MARK % (copy_wwn, target_wwn)


TIERING = {
    "start_high_then_auto": "starthighthenauto",
    "auto": "auto",
    "highest_available": "highestavailable",
    "lowest_available": "lowestavailable",
    "no_movement": "nomovement",
}


# ---------------------------------------------------------------- what the array holds
@dataclass
class Lun:
    """A pool LUN or a snapshot mount point (SMP)."""
    id: int
    name: str
    wwn: Optional[str] = None
    pool: Optional[str] = None
    size_gb: Optional[float] = None
    size_bytes: Optional[int] = None  # User Capacity (Blocks) x 512: size_gb is rounded to 1 MB
    consumed_gb: Optional[float] = None
    provisioning: Optional[str] = None
    tiering: Optional[str] = None
    state: Optional[str] = None
    operation: Optional[str] = None
    is_snap_mount_point: bool = False
    primary_lun: Optional[str] = None
    attached_snapshot: Optional[str] = None
    snapshot_mount_points: List[int] = field(default_factory=list)
    consistency_group: Optional[str] = None  # storops does not parse it: filled from the groups (with_groups)
    deduplication: Optional[str] = None
    tier_distribution: Dict[str, float] = field(default_factory=dict)  # percent of the LUN's data in each tier
    statistics: Dict[str, int] = field(default_factory=dict)  # the array's I/O counters, totals of both SPs

    def facts(self):
        return asdict(self)


@dataclass
class ConsistencyGroup:
    """A VNX consistency group (snap -group): LUNs whose snapshots are taken together."""
    name: str
    lun_ids: List[int] = field(default_factory=list)
    lun_names: List[str] = field(default_factory=list)
    state: Optional[str] = None

    def facts(self):
        return asdict(self)


@dataclass
class Snapshot:
    name: str
    description: str = ""
    source_luns: List[int] = field(default_factory=list)
    primary_luns: List[int] = field(default_factory=list)
    attached_luns: List[int] = field(default_factory=list)
    state: Optional[str] = None
    allow_read_write: bool = False
    auto_delete: bool = False
    expiration_date: Optional[str] = None
    creation_time: Optional[str] = None
    modified: bool = False  # written since taken (through a mount point, read-write snapshots only)
    source_consistency_group: Optional[str] = None  # a consistency group's snapshot: the group

    @property
    def managed(self):
        return MANAGED_MARK in (self.description or "")

    # vnx_volume_clone writes the whole description, so only a description that is exactly one of its
    # marks is its own: a user's text with the mark in it (pasted, or a note about us) stays the user's.
    def marks_target(self, copy_wwn, target_wwn):
        """This snapshot records LUN ``target_wwn`` as the migration target made for copy ``copy_wwn``."""
        return bool(copy_wwn and target_wwn) and (self.description or "").strip() == temporary_mark(copy_wwn, target_wwn)

    def temporary_of(self, copy_wwn):
        """This snapshot is the temporary snapshot vnx_volume_clone made for copy ``copy_wwn``."""
        match = _TEMPORARY_MARK_RE.match((self.description or "").strip())
        return bool(copy_wwn) and match is not None and match.group(1) == copy_wwn

    @property
    def made_for_a_copy(self):
        """vnx_volume_clone made this snapshot: its description is COPY_MARK or a TEMPORARY_MARK."""
        text = (self.description or "").strip()
        return text == COPY_MARK or _TEMPORARY_MARK_RE.match(text) is not None

    @property
    def user_description(self):
        """The description without the collection's management mark."""
        return (self.description or "").replace(MANAGED_MARK, "").strip()

    def facts(self):
        ret = asdict(self)
        ret["managed"] = self.managed
        return ret


@dataclass
class Migration:
    source_id: int
    source_name: Optional[str] = None
    dest_id: Optional[int] = None
    dest_name: Optional[str] = None
    rate: Optional[str] = None
    state: Optional[str] = None
    percent_complete: Optional[float] = None
    time_remaining: Optional[str] = None

    @property
    def failed(self):
        # arrays print e.g. "STOPPED - Destination full": compare the start only
        return bool(self.state) and (self.state.startswith("FAULTED") or self.state.startswith("STOPPED"))

    def facts(self):
        return asdict(self)


@dataclass
class Pool:
    name: str
    id: Optional[int] = None
    state: Optional[str] = None
    user_capacity_gb: Optional[float] = None
    consumed_capacity_gb: Optional[float] = None
    available_capacity_gb: Optional[float] = None
    subscribed_capacity_gb: Optional[float] = None

    def facts(self):
        return asdict(self)


@dataclass
class StorageGroup:
    name: str
    uid: Optional[str] = None
    hosts: List[str] = field(default_factory=list)
    hlus: Dict[int, int] = field(default_factory=dict)  # HLU -> ALU (LUN id)

    def hlu_of(self, lun_id):
        for hlu, alu in self.hlus.items():
            if alu == lun_id:
                return hlu
        return None

    def facts(self):
        ret = asdict(self)
        ret["hlus"] = dict((str(k), v) for k, v in sorted(self.hlus.items()))
        return ret


@dataclass
class System:
    address: str
    serial: Optional[str] = None
    model: Optional[str] = None
    revision: Optional[str] = None
    agent_revision: Optional[str] = None

    def facts(self):
        return asdict(self)


# ---------------------------------------------------------------- running naviseccli
# storops runs naviseccli in a thread that it stops waiting for after 1800 s (whatever
# the timeout), reads stdout only and ignores the exit code, and logs the command line
# with the password when a command times out (vnx.md 0.1). Every call here goes through
# run_naviseccli instead: the time limit is enforced, and a naviseccli that fails with
# nothing on stdout (exit 127, only stderr) is a failure, not an empty answer.
NAVISECCLI_MAX_TIMEOUT = 1800


def check_snapshot_room(lun, count, more, operation, obj):
    """The array refuses a snapshot past MAX_SNAPSHOTS_PER_LUN; ``count``: those it counts for ``lun``
    (VnxClient.snapshots_toward_limit)."""
    if count + more > MAX_SNAPSHOTS_PER_LUN:
        raise VnxError(operation, obj, "LUN %s has %d snapshots (its snap copies' snapshots included) and %d more %s "
                       "needed; a VNX LUN has at most %d"
                       % (lun.name, count, more, "is" if more == 1 else "are", MAX_SNAPSHOTS_PER_LUN),
                       "Delete unused snap copies or snapshots of LUN %s first." % lun.name, "VNXCreateSnapError")


def counted_toward_limit(lun, base, snapshots):
    """Those of ``snapshots`` the array counts against the limit of ``lun``: the snapshots of its primary
    LUN ``base`` (``lun`` itself unless it is a snap copy) and of every snapshot mount point of it (a snap
    copy's snapshots count for its source)."""
    members = set([base.id, lun.id]) | set(base.snapshot_mount_points)
    return [s for s in snapshots if members & set(s.source_luns)]


def check_not_migrating(lun, migration, operation, obj):
    """Seed 000: no snapshot, snap copy or restore of a LUN while it migrates (a copy's asynchronous
    migration, or one an administrator started); ``migration``: the LUN's, or None."""
    if migration is not None and not migration.failed:
        raise VnxError(operation, obj, "LUN %s is being migrated to %s (%s, %s%% done)"
                       % (lun.name, migration.dest_name, migration.state, migration.percent_complete),
                       "Wait for the migration to complete (for a copy's own migration, vnx_volume_clone wait=true "
                       "on that copy), then run again.", "VNXLunMigratingError")


class Unchanged(str):
    """The storops error kind of an answer that says the write was already done ("not found" for a
    delete, "in use" for a create): done by someone else, so not a change this run made. It is a str,
    so callers that compare kinds keep working; Plan counts such a step as not done."""


class NaviseccliFault(Exception):
    """naviseccli did not answer: it ran out of time, or failed without printing on stdout."""

    def __init__(self, kind, text):
        self.kind = kind
        super(NaviseccliFault, self).__init__(text)


def run_naviseccli(cmd, timeout=None):
    """Run one naviseccli command line; its stdout, stripped."""
    limit = timeout or NAVISECCLI_MAX_TIMEOUT
    try:
        # storops calls this in place of its own runner, where no AnsibleModule is at hand, and a
        # hung naviseccli must be killed with its whole process group: run_command can do neither.
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,  # pylint: disable=ansible-bad-function
                                start_new_session=True)
    except OSError:
        if storops_ex is None:
            raise
        raise storops_ex.NaviseccliNotAvailableError()
    try:
        out, err = proc.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        proc.kill()
        proc.wait()
        raise NaviseccliFault("NaviseccliTimeoutError", "naviseccli did not answer within %s seconds (timeout)" % limit)
    out = out.decode("utf-8", "replace").strip()
    if proc.returncode != 0 and not out:
        err = " ".join(err.decode("utf-8", "replace").split())
        raise NaviseccliFault("NaviseccliFailedError", "naviseccli exited with status %d and printed nothing%s"
                              % (proc.returncode, (" (stderr: %s)" % err) if err else ""))
    return out


_SECURITY_LEVEL_SET = set()


class _HeartBeat(NodeHeartBeat if STOROPS_IMPORT_ERROR is None else object):
    """storops' SP bookkeeping (failover between SP A and SP B), running commands with run_naviseccli."""

    def execute_naviseccli(self, cmd):
        # the limit as given: storops keeps naviseccli's own -t within 3..1800, the module's limit is the user's
        return run_naviseccli([str(c) for c in cmd], int(self._timeout) if self._timeout else None)

    def _binary(self):
        binary = self._customized_cli
        if binary is None:
            binary = "naviseccli"
            for candidate in self._cli_binary_candidates:
                if os.path.exists(candidate):
                    binary = candidate
                    break
        # storops' own security-level probe runs without a time limit: do it here, once per binary
        if binary not in _SECURITY_LEVEL_SET:
            if self.execute_naviseccli([binary, "security", "-certificate", "-getLevel"]).lower() != "low":
                self.execute_naviseccli([binary, "security", "-certificate", "-setLevel", "low"])
            _SECURITY_LEVEL_SET.add(binary)
        return binary


class _Scrub(logging.Filter):
    """Keeps the password out of every storops log record."""

    def __init__(self, secret):
        super(_Scrub, self).__init__()
        self.secret = secret

    def filter(self, record):
        if self.secret:
            text = record.getMessage()
            if self.secret in text:
                record.msg, record.args = text.replace(self.secret, "********"), None
        return True


def _quiet_storops_logs(password):
    """storops logs warnings (with command lines) to stderr through logging's last resort: scrub them."""
    logger = logging.getLogger("storops")
    handler = logging.StreamHandler()
    handler.setLevel(logging.WARNING)
    handler.addFilter(_Scrub(password))
    logger.handlers = [handler]
    logger.propagate = False


# ---------------------------------------------------------------- errors
# What a storage administrator can do about each storops error class.
HINTS = {
    "NaviseccliTimeoutError": "The array is slow or does not answer: check the SP and the network, or raise timeout.",
    "NaviseccliFailedError": "Check that naviseccli runs on this host (naviseccli_path) and the message it printed.",
    "VNXReadError": "The array did not answer the read; nothing was changed. Check the array (its text is above) and run again.",
    "VNXCredentialError": "Check username, password and scope (or the security file) for this array.",
    "VNXSpNotAvailableError": "The storage processor does not answer: check sp_address and the network, "
                              "or give the other SP's address in sp_b_address.",
    "VNXSPDownError": "The storage processor does not answer: check sp_address and the network, "
                      "or give the other SP's address in sp_b_address.",
    "VNXSystemDownError": "No storage processor answers: check sp_address, sp_b_address and the network.",
    "NaviseccliNotAvailableError": "Install Navisphere CLI or set naviseccli_path to its naviseccli binary.",
    "VNXLunNameInUseError": "Choose another name, or manage the existing LUN under its name.",
    "VNXSnapNameInUseError": "Choose another snapshot name; snapshot names are unique on the whole array.",
    "VNXCreateSnapResourceNotFoundError": "The LUN is gone: check its name.",
    "VNXSnapNotExistsError": "Check the snapshot name (vnx_info lists the array's snapshots).",
    "VNXDeleteAttachedSnapError": "Detach the snapshot from its mount points (delete the snap copies that use it) first.",
    "VNXSnapAlreadyMountedError": "The mount point already has a snapshot attached; detach it first.",
    "VNXLunHasSnapMountPointError": "Delete the LUN's snap copies (snapshot mount points) first, or use force.",
    "VNXLunHasSnapError": "Delete the LUN's snapshots first, or use force.",
    "VNXLunInStorageGroupError": "Remove the LUN from its storage groups (vnx_host_access state=absent) first, or use force.",
    "VNXLunInConsistencyGroupError": "Remove the LUN from its consistency group first.",
    "VNXLunUsedByFeatureError": "The LUN is in use by an array feature, such as a running migration: "
                                "wait for it to finish or cancel it.",
    "VNXPoolNotFoundError": "Check the pool name (vnx_info lists the pools).",
    "VNXTargetNotReadyError": "The destination LUN is not ready yet; retry once it is Ready.",
    "VNXLunNotMigratingError": "The LUN is not migrating.",
    "VNXLunSyncCompletedError": "The migration has already completed its copy; wait for it to end.",
    "VNXHluNumberInUseError": "Another host LUN took that HLU at the same time; run again.",
    "VNXAluAlreadyAttachedError": "The LUN is already in this storage group.",
    "VNXStorageGroupNameInUseError": "A storage group with that name exists already.",
    "VNXRestoreSnapToMismatchLunError": "Restore a snapshot onto the LUN it was taken of.",
    "VNXLunExtendError": "A LUN can only grow; check the size and the pool's free capacity.",
    "VNXLunExpandSizeError": "A LUN can only grow; give a size larger than its current size.",
    "VNXCreateLunError": "Check the pool's free capacity and the LUN options.",
    "VNXCreateSnapError": "Check the LUN (vnx_info): its snapshots (at most %d), its pool's free capacity, a migration." % MAX_SNAPSHOTS_PER_LUN,
    "VNXMigrationError": "Check the migration's source and destination LUNs (vnx_info lists running migrations).",
    "VNXConsistencyGroupNameInUseError": "A consistency group with that name exists already.",
    "VNXConsistencyGroupNotFoundError": "Check the consistency group name (vnx_info lists them).",
    # storops has no class for the array's specific refusals here: these kinds are the command's fallback
    "VNXConsistencyGroupError": "Check the consistency group and the LUN (vnx_info lists both): a group holds pool LUNs, "
                                "each in one group at most, and no snap copy or migration destination.",
    "VNXCreateConsistencyGroupError": "Check the consistency group name and the LUN (vnx_info lists both): a group holds "
                                      "pool LUNs, each in one group at most, and no snap copy or migration destination.",
}


# The storops error class of each write command when the array's text matches no specific one.
COMMAND_ERRORS = {
    "create_pool_lun": "VNXCreateLunError", "expand_pool_lun": "VNXLunExtendError", "modify_lun": "VNXModifyLunError",
    "delete_pool_lun": "VNXDeleteLunError", "create_snap": "VNXCreateSnapError", "copy_snap": "VNXSnapError",
    "modify_snap": "VNXModifySnapError", "delete_snap": "VNXDeleteSnapError", "restore_snap": "VNXSnapError",
    "create_mount_point": "VNXCreateMpError", "attach_snap": "VNXAttachSnapError", "detach_snap": "VNXDetachSnapError",
    "migrate_lun": "VNXMigrationError", "cancel_migrate_lun": "VNXMigrationError", "create_sg": "VNXCreateStorageGroupError",
    "sg_connect_host": "VNXStorageGroupError", "sg_add_hlu": "VNXAttachAluError", "sg_delete_hlu": "VNXStorageGroupError",
    "delete_sg": "VNXStorageGroupError", "create_cg": "VNXCreateConsistencyGroupError",
    "add_cg_member": "VNXConsistencyGroupError", "delete_cg_member": "VNXConsistencyGroupError",
    "delete_cg": "VNXConsistencyGroupError",
}
HINTS.update({
    "VNXDeleteLunError": "Check what still uses the LUN (vnx_info): snapshots, snap copies, storage groups, migrations.",
    "VNXDeleteSnapError": "Check that no snap copy (mount point) uses the snapshot.",
    "VNXAttachSnapError": "The snapshot must be of the mount point's primary LUN and allow read/write.",
    "VNXCreateMpError": "Check the primary LUN: a mount point is made on a pool LUN, not on another mount point.",
    "VNXSnapError": "Check the snapshot and its LUN (vnx_info lists both).",
    "VNXModifySnapError": "Check the snapshot name and the options.",
    "VNXModifyLunError": "Check the LUN and the options.",
    "VNXStorageGroupError": "Check the storage group and the host name as the array knows them.",
    "VNXCreateStorageGroupError": "Check the storage group name.",
    "VNXAttachAluError": "Check the storage group and the LUN.",
    "VNXDetachSnapError": "Check the mount point.",
})


# Where one storops error class covers refusals that need different advice: the array's text decides.
HINT_THICK_WITH_SNAPSHOTS = "Delete the LUN's snapshots (and the snap copies that read them) first, or copy it into a thin LUN."
HINT_POOL_FULL = "Free capacity in the pool, choose a smaller size, or another pool."
TEXT_HINTS = (
    ("being migrated", "The LUN is being migrated: wait for the migration to complete (vnx_info lists it), then run again."),
    ("thick LUN that has snapshots cannot be expanded", HINT_THICK_WITH_SNAPSHOTS),
    ("does not have enough free capacity", HINT_POOL_FULL),
    ("maximum number of snapshots", "Delete unused snap copies or snapshots of the LUN first (a VNX LUN has at most %d)."
     % MAX_SNAPSHOTS_PER_LUN),
)


def hint_for(text, kind):
    """The hint for the array's refusal ``text`` of storops kind ``kind``."""
    for words, hint in TEXT_HINTS:
        if words in (text or ""):
            return hint
    return HINTS.get(kind)


class VnxError(Exception):
    """One VNX operation failed: what, on which object, the array's text, and what to do."""

    def __init__(self, operation, obj, text, hint=None, kind=None):
        self.operation = operation
        self.object = obj
        self.text = (text or "").strip()
        self.hint = hint
        self.kind = kind
        super(VnxError, self).__init__(operation, obj, text)

    def __str__(self):
        msg = "Cannot %s %s" % (self.operation, self.object)
        if self.text:
            msg += ": %s" % " ".join(self.text.split())
        if self.hint:
            msg += " -- %s" % self.hint
        return msg

    def to_dict(self):
        return dict(operation=self.operation, object=self.object, array_text=self.text, hint=self.hint, kind=self.kind)


def _kind_of(text, default=None):
    if not text:
        return None
    clz = storops_ex.get_cli_exception(text, default or storops_ex.VNXException)
    return clz.__name__ if clz else None


# ---------------------------------------------------------------- conversions from storops resources
def _name_of(value):
    """A LUN or snapshot name from storops' name converters (an object with _name), or None."""
    if value is None:
        return None
    name = getattr(value, "_name", None)
    return name if name is not None else str(value)


def _ids_of(value):
    # VNXLunList: its ids, without len() or iteration (either would list every LUN)
    ids = getattr(value, "_lun_ids", None) if value is not None else None
    return sorted(ids) if ids else []


def _get(resource, key):
    """A parsed property without triggering storops' lazy lookups of related objects."""
    return resource.parsed_resource.get(key) if resource.parsed_resource else None


# The counters of lun -list -all that storops parses (each also per SP: <name>_sp_a, <name>_sp_b).
LUN_STATISTICS = ("read_requests", "write_requests", "blocks_read", "blocks_written", "busy_ticks", "idle_ticks",
                  "sum_of_outstanding_requests", "non_zero_request_count_arrivals", "implicit_trespasses",
                  "explicit_trespasses")


def _lun_sizes(luns, raw):
    """Each LUN's exact size from the array's text: storops parses only User Capacity (GBs), three decimals."""
    blocks = {}
    for text in re.split(r"(?m)^(?=LOGICAL UNIT NUMBER )", raw or ""):
        number = re.match(r"LOGICAL UNIT NUMBER (\d+)", text)
        count = re.search(r"(?m)^User Capacity \(Blocks\):\s*(\d+)", text)
        if number and count:
            blocks[int(number.group(1))] = int(count.group(1))
    for lun in luns:
        if lun is not None and lun.id in blocks:
            lun.size_bytes = blocks[lun.id] * 512


def _lun_from(resource):
    r = resource
    tiering = None
    initial, policy = _get(r, "initial_tier"), _get(r, "tiering_policy")
    if initial and policy:
        try:
            value = VNXTieringEnum.get_tier(initial, policy).value
            tiering = dict((v, k) for k, v in TIERING.items()).get(value)
        except ValueError:
            tiering = None
    primary = _name_of(_get(r, "primary_lun"))
    thin = _get(r, "is_thin_lun")
    return Lun(
        id=_get(r, "lun_id"), name=_get(r, "name"), wwn=_get(r, "wwn"), pool=_get(r, "pool_name"),
        size_gb=_get(r, "total_capacity_gb"), consumed_gb=_get(r, "consumed_capacity_gbs"),
        provisioning=None if thin is None else ("thin" if thin else "thick"), tiering=tiering,
        state=_get(r, "state"), operation=_get(r, "operation"),
        is_snap_mount_point=primary is not None, primary_lun=primary,
        attached_snapshot=_name_of(_get(r, "attached_snapshot")),
        snapshot_mount_points=_ids_of(_get(r, "snapshot_mount_points")),
        deduplication=_get(r, "deduplication_state"),
        tier_distribution=dict((k, _get(r, k)) for k in ("extreme_performance", "performance", "capacity")
                               if _get(r, k) is not None),
        statistics=dict((k, _get(r, k)) for k in LUN_STATISTICS if _get(r, k) is not None),
    )


def _snapshot_from(r):
    return Snapshot(
        name=_get(r, "name"), description=_get(r, "description") or "",
        source_luns=list(_get(r, "source_luns") or []), primary_luns=list(_get(r, "primary_luns") or []),
        attached_luns=list(_get(r, "attached_luns") or []), state=_get(r, "state"),
        allow_read_write=bool(_get(r, "allow_read_write")), auto_delete=bool(_get(r, "allow_auto_delete")),
        expiration_date=_get(r, "expiration_date"), creation_time=_get(r, "creation_time"),
        modified=bool(_get(r, "modified")), source_consistency_group=_cg_name(_get(r, "source_cg")),
    )


def _cg_name(value):
    return None if value in (None, "", "N/A") else value


def _migration_from(r):
    rate = _get(r, "migration_rate")
    return Migration(
        source_id=_get(r, "source_lu_id"), source_name=_get(r, "source_lu_name"),
        dest_id=_get(r, "dest_lu_id"), dest_name=_get(r, "dest_lu_name"),
        rate=getattr(rate, "value", rate), state=_get(r, "current_state"),
        percent_complete=_get(r, "percent_complete"), time_remaining=_get(r, "time_remaining"),
    )


def _pool_from(r):
    return Pool(
        name=_get(r, "name"), id=_get(r, "pool_id"), state=_get(r, "state"),
        user_capacity_gb=_get(r, "user_capacity_gbs"), consumed_capacity_gb=_get(r, "consumed_capacity_gbs"),
        available_capacity_gb=_get(r, "available_capacity_gbs"),
        subscribed_capacity_gb=_get(r, "total_subscribed_capacity_gbs"),
    )


def _storage_group_from(r):
    hosts = []
    for hba in (_get(r, "hba_sp_pairs") or []):
        host = getattr(hba, "host_name", None)
        if host and host not in hosts:
            hosts.append(host)
    alu_hlu = _get(r, "alu_hlu_map") or {}
    return StorageGroup(name=_get(r, "name"), uid=_get(r, "wwn"), hosts=hosts,
                        hlus=dict((int(h), int(a)) for a, h in alu_hlu.items()))


def _cg_from(r):
    return ConsistencyGroup(name=_get(r, "name"), lun_ids=_ids_of(_get(r, "lun_list")), state=_get(r, "state"))


def with_groups(luns, groups):
    """Set each LUN's consistency_group (and each group's lun_names) from the groups' members."""
    by_id = dict((lun.id, lun) for lun in luns)
    for g in groups:
        g.lun_names = [by_id[i].name if i in by_id else str(i) for i in g.lun_ids]
        for i in g.lun_ids:
            if i in by_id:
                by_id[i].consistency_group = g.name
    return luns


def size_to_whole_gib(size_gb):
    """A LUN's capacity rounded up to whole GiB (the size Cinder gives managed snapshots)."""
    if size_gb is None:
        return None
    return int(math.ceil(round(size_gb, 3)))


# The array's own answers for "no such object" (the only ones read as absent) and "none".
LUN_NOT_FOUND = ("Could not retrieve the specified (pool lun)",)
SNAP_NOT_FOUND = ("Could not retrieve the specified (Snapshot)",)
POOL_NOT_FOUND = ("Could not retrieve the specified (Storagepool)",)
SG_NOT_FOUND = ("does not match any storage groups",)
CG_NOT_FOUND = ("Cannot find the consistency group",)
NOT_MIGRATING = ("is not currently migrating", "The specified source LUN does not exist")
NO_MIGRATIONS = ("No current migrations exist",)
LUN_GONE = ("The specified resource does not exist",)  # snap -list -res of a LUN that is not there


# ---------------------------------------------------------------- the client
class VnxClient(object):
    """Operations on one VNX, in the array's words."""

    def __init__(self, sp_address, username=None, password=None, scope=0, security_file=None,
                 naviseccli_path=None, timeout=None, sp_b_address=None):
        self.address = sp_address
        _quiet_storops_logs(password)
        # heartbeat_interval=0: no background thread polling the SPs (vnx.md 0.6)
        self.vnx = VNXSystem(sp_address, username=username, password=password, scope=scope,
                             sec_file=security_file, timeout=timeout, naviseccli=naviseccli_path,
                             heartbeat_interval=0)
        self.cli = self.vnx._cli  # storops' CliClient: one method per naviseccli command
        # storops' SP bookkeeping stays (a command refused with a network error marks that SP
        # down and is retried on the other one); only the way a command runs changes
        self.cli.heartbeat.__class__ = _HeartBeat
        if sp_b_address:
            self.cli.set_ip(sp_address, sp_b_address)

    # ---------------------------------------------------------- plumbing
    def _query(self, operation, obj, read):
        """Run a read; connection-level failures become VnxError."""
        try:
            return read()
        except (storops_ex.StoropsException, NaviseccliFault) as e:
            raise self._error(operation, obj, e)

    def _read_one(self, obj, resource, convert, absent, finish=None):
        """Read one storops resource: its facts, or None when the array says it has no such object.

        storops takes any answer without the object's index for "does not exist" (vnx.md 0.3);
        here only the array's own "not found" text (``absent``) means that, and any other
        answer (a fault, nothing at all) fails with the array's text.
        """
        def read():
            raw = resource._get_raw_resource()
            resource.update(data=raw)
            if resource.existed:
                item = convert(resource)
                if finish:
                    finish([item], raw)
                return item
            if raw and any(text in raw for text in absent):
                return None
            raise VnxError("read", obj, raw or "naviseccli printed nothing", HINTS["VNXReadError"], "VNXReadError")
        return self._query("read", obj, read)

    def _read_all(self, what, resources, convert, empty=(), finish=None):
        """Read a storops resource list: the facts of each. An answer that lists nothing is
        empty output or one of the array's "there are none" texts (``empty``), else a fault."""
        def read():
            raw = resources._get_raw_resource()
            resources.update(data=raw)
            items = [convert(r) for r in resources]
            if not items and raw and not any(text in raw for text in empty):
                raise VnxError("list", what, raw, HINTS["VNXReadError"], "VNXReadError")
            if finish:
                finish(items, raw)
            return items
        return self._query("list", what, read)

    def _error(self, operation, obj, exc):
        kind = getattr(exc, "kind", None) or type(exc).__name__
        text = str(exc)
        if kind in ("VNXSPDownError", "VNXSystemDownError"):
            text = "the storage processor at %s does not answer (%s)" % (self.address, text)
        elif kind == "VNXCredentialError":
            text = "the array at %s refused the credentials (%s)" % (self.address, text)
        return VnxError(operation, obj, text, HINTS.get(kind), kind)

    def _write(self, operation, obj, command, *args, **kwargs):
        """Run a write command; it succeeded when the array printed nothing (vnx.md 0.2).

        Returns None, or raises VnxError with the array's text. ``tolerate`` names storops
        error classes that mean "already done"; their kind is returned instead of raised.
        """
        tolerate = kwargs.pop("tolerate", ())
        try:
            out = command(*args, **kwargs)
        except storops_ex.StoropsException as e:
            raise self._error(operation, obj, e)
        if not out:
            return None
        kind = _kind_of(out)
        if kind == "VNXException":  # no text storops knows: the command's own error class
            kind = COMMAND_ERRORS.get(getattr(command, "__name__", None), kind)
        if kind in tolerate:
            return Unchanged(kind)
        raise VnxError(operation, obj, out, hint_for(out, kind), kind)

    # ---------------------------------------------------------- system
    def get_system(self):
        def read():
            agent = VNXAgent(self.cli)
            raw = agent._get_raw_resource()
            agent.update(data=raw)
            if _get(agent, "serial") is None:
                raise VnxError("read the system of", "VNX %s" % self.address, raw or "naviseccli printed nothing",
                               HINTS["VNXReadError"], "VNXReadError")
            return System(address=self.address, serial=_get(agent, "serial"), model=_get(agent, "model"),
                          revision=_get(agent, "revision"), agent_revision=_get(agent, "agent_rev"))
        return self._query("read the system of", "VNX %s" % self.address, read)

    # ---------------------------------------------------------- LUNs
    def get_lun(self, name=None, lun_id=None):
        """The LUN or SMP with that name or id, or None."""
        return self._read_one("LUN %s" % (name if name is not None else lun_id),
                              VNXLun(lun_id=lun_id, name=name, cli=self.cli), _lun_from, LUN_NOT_FOUND, finish=_lun_sizes)

    def list_luns(self):
        return self._read_all("the LUNs", VNXLunList(cli=self.cli), _lun_from, finish=_lun_sizes)

    def create_lun(self, pool, name, size_gb, provisioning="thick", tiering=None):
        provision = VNXProvisionEnum.THIN if provisioning == "thin" else VNXProvisionEnum.THICK
        tier = VNXTieringEnum.parse(TIERING[tiering]) if tiering else None
        self._write("create", "LUN %s in pool %s" % (name, pool), self.cli.create_pool_lun,
                    pool_name=pool, lun_name=name, size_gb=int(size_gb), provision=provision, tier=tier)

    def expand_lun(self, lun, size_gb):
        self._write("expand", "LUN %s to %s GB" % (lun.name, size_gb), self.cli.expand_pool_lun,
                    int(size_gb), lun_id=lun.id)

    def set_tiering(self, lun, tiering):
        self._write("set the tiering policy of", "LUN %s" % lun.name, self.cli.modify_lun,
                    lun_id=lun.id, new_tier=VNXTieringEnum.parse(TIERING[tiering]))

    def rename_lun(self, lun, new_name):
        """Rename a LUN or SMP, by its name: an id read earlier may be another LUN's by now."""
        self._write("rename", "LUN %s to %s" % (lun.name, new_name), self.cli.modify_lun,
                    lun_name=lun.name, new_name=new_name)

    def destroy_lun(self, lun, force_detach=False):
        """Destroy a LUN or SMP (force_detach: detach an SMP's snapshot as part of it)."""
        what = "snapshot mount point" if lun.is_snap_mount_point else "LUN"
        # the array reuses a deleted LUN's id: the id read earlier may now be another task's LUN
        current = self.get_lun(lun_id=lun.id)
        if current is None:
            return Unchanged("VNXLunNotFoundError")
        if current.name != lun.name or (lun.wwn and current.wwn and current.wwn != lun.wwn):
            raise VnxError("destroy", "%s %s" % (what, lun.name),
                           "its id %s is now LUN %s (WWN %s): %s was deleted meanwhile and the id reused"
                           % (lun.id, current.name, current.wwn, lun.name),
                           "Nothing was deleted. Run the task again; it reads the array anew.", "VNXLunChangedError")
        return self._write("destroy", "%s %s" % (what, lun.name), self.cli.delete_pool_lun,
                           lun_id=lun.id, force_detach=force_detach, tolerate=("VNXLunNotFoundError",))

    # ---------------------------------------------------------- snapshots
    def get_snapshot(self, name):
        return self._read_one("snapshot %s" % name, VNXSnap(name=name, cli=self.cli), _snapshot_from, SNAP_NOT_FOUND)

    def list_snapshots(self, lun_id=None):
        """Every snapshot, or those of one LUN."""
        return self._read_all("the snapshots" if lun_id is None else "the snapshots of LUN %s" % lun_id,
                              VNXSnapList(cli=self.cli, res=lun_id), _snapshot_from, LUN_GONE)

    def create_snapshot(self, lun, name, allow_read_write=True, auto_delete=False, keep_for=None, description=None):
        command = self.cli.create_snap
        if description is not None:
            # naviseccli's snap -create takes -descr, storops' create_snap does not pass it: a mark
            # written by a second command would be missing whenever a run is cut between the two
            def command(*args):
                cmd = type(self.cli).create_snap.__wrapped__(self.cli, *args)
                return self.cli.execute(cmd + ["-descr", description])
            command.__name__ = "create_snap"
        return self._write("create", "snapshot %s of LUN %s" % (name, lun.name), command,
                           lun.id, name, allow_read_write, False if keep_for else auto_delete, keep_for)

    def copy_snapshot(self, name, new_name):
        self._write("copy", "snapshot %s to %s" % (name, new_name), self.cli.copy_snap, name, new_name)

    def modify_snapshot(self, name, description=None, allow_read_write=None, auto_delete=None, keep_for=None):
        self._write("modify", "snapshot %s" % name, self.cli.modify_snap, name, desc=description,
                    auto_delete=auto_delete, allow_rw=allow_read_write, keep_for=keep_for)

    def destroy_snapshot(self, name):
        return self._write("destroy", "snapshot %s" % name, self.cli.delete_snap, name,
                           tolerate=("VNXSnapNotExistsError",))

    def snapshots_toward_limit(self, lun):
        """The snapshots the array counts against the limit of ``lun`` (counted_toward_limit)."""
        base = self.get_lun(name=lun.primary_lun) if lun.is_snap_mount_point else lun
        return counted_toward_limit(lun, base or lun, self.list_snapshots())

    def check_snapshot_room(self, lun, more, operation, obj):
        """Fail before acting when ``more`` new snapshots of ``lun`` would pass the array's limit."""
        check_snapshot_room(lun, len(self.snapshots_toward_limit(lun)), more, operation, obj)

    def check_not_migrating(self, lun, operation, obj):
        """Fail before acting when ``lun`` migrates."""
        check_not_migrating(lun, self.get_migration(lun), operation, obj)

    def restore_snapshot(self, name, lun, backup_name=None):
        self._write("restore", "snapshot %s onto LUN %s" % (name, lun.name), self.cli.restore_snap,
                    name, lun.id, backup_name)

    # ---------------------------------------------------------- snapshot mount points
    def create_mount_point(self, primary, name):
        self._write("create", "snapshot mount point %s of LUN %s" % (name, primary.name),
                    self.cli.create_mount_point, primary_lun_id=primary.id, mount_point_name=name)

    def attach_snapshot(self, smp, snapshot_name):
        return self._write("attach", "snapshot %s to mount point %s" % (snapshot_name, smp.name),
                           self.cli.attach_snap, snapshot_name, lun_id=smp.id)

    def detach_snapshot(self, smp):
        return self._write("detach", "the snapshot of mount point %s" % smp.name, self.cli.detach_snap,
                           lun_id=smp.id, tolerate=("VNXSnapNotAttachedError",))

    # ---------------------------------------------------------- migrations
    def get_migration(self, lun):
        """The running (or just finished) migration whose source is this LUN, or None."""
        return self._read_one("the migration of LUN %s" % lun.name, VNXMigrationSession(source=lun.id, cli=self.cli),
                              _migration_from, NOT_MIGRATING)

    def list_migrations(self):
        return self._read_all("the migrations", VNXMigrationSessionList(cli=self.cli), _migration_from, NO_MIGRATIONS)

    def start_migration(self, source, dest, rate="high"):
        self._write("start the migration of", "LUN %s to LUN %s" % (source.name, dest.name), self.cli.migrate_lun,
                    source.id, dest.id, VNXMigrationRate.parse(rate))

    def cancel_migration(self, lun):
        return self._write("cancel the migration of", "LUN %s" % lun.name, self.cli.cancel_migrate_lun, lun.id,
                           tolerate=("VNXLunNotMigratingError",))

    # ---------------------------------------------------------- pools
    def get_pool(self, name):
        return self._read_one("pool %s" % name, VNXPool(name=name, cli=self.cli), _pool_from, POOL_NOT_FOUND)

    def list_pools(self):
        return self._read_all("the pools", VNXPoolList(cli=self.cli), _pool_from)

    # ---------------------------------------------------------- consistency groups
    def get_consistency_group(self, name):
        return self._read_one("consistency group %s" % name, VNXConsistencyGroup(name=name, cli=self.cli), _cg_from,
                              CG_NOT_FOUND)

    def list_consistency_groups(self):
        return self._read_all("the consistency groups", VNXConsistencyGroupList(cli=self.cli), _cg_from)

    def group_of(self, lun):
        """The consistency group the LUN is a member of, or None."""
        for g in self.list_consistency_groups():
            if lun.id in g.lun_ids:
                return g
        return None

    def add_to_consistency_group(self, name, lun):
        self._write("add", "LUN %s to consistency group %s" % (lun.name, name), self.cli.add_cg_member, name, lun.id)

    def join_consistency_group(self, name, lun, create):
        """Make the LUN a member of group ``name``; ``create``: the group was missing when read.

        A parallel run (another fork adding its LUN to the same new group) may create the
        group between that read and this write: then the LUN is added to it instead.
        """
        if create:
            kind = self._write("create", "consistency group %s with LUN %s" % (name, lun.name), self.cli.create_cg,
                               name, [lun.id], tolerate=("VNXConsistencyGroupNameInUseError",))
            if kind is None:
                return
        self.add_to_consistency_group(name, lun)

    def remove_from_consistency_group(self, name, lun):
        # the CLI command: storops' VNXConsistencyGroup.delete_member fails on Python 3.11 (has_member)
        self._write("remove", "LUN %s from consistency group %s" % (lun.name, name), self.cli.delete_cg_member, name, lun.id)

    def destroy_consistency_group(self, name):
        self._write("destroy", "consistency group %s" % name, self.cli.delete_cg, name,
                    tolerate=("VNXConsistencyGroupNotFoundError",))

    # ---------------------------------------------------------- storage groups
    def get_storage_group(self, name):
        return self._read_one("storage group %s" % name, VNXStorageGroup(name=name, cli=self.cli),
                              _storage_group_from, SG_NOT_FOUND)

    def list_storage_groups(self):
        return self._read_all("the storage groups", VNXStorageGroupList(cli=self.cli), _storage_group_from)

    def create_storage_group(self, name):
        return self._write("create", "storage group %s" % name, self.cli.create_sg, name,
                           tolerate=("VNXStorageGroupNameInUseError",))

    def destroy_storage_group(self, name):
        self._write("destroy", "storage group %s" % name, self.cli.delete_sg, name)

    def connect_host(self, group, host):
        self._write("connect", "host %s to storage group %s" % (host, group), self.cli.sg_connect_host, group, host)

    def add_hlu(self, group, hlu, lun):
        """Add a LUN as host LUN ``hlu``; returns the storops error kind when it is tolerated."""
        return self._write("add", "LUN %s as HLU %s to storage group %s" % (lun.name, hlu, group),
                           self.cli.sg_add_hlu, group, hlu, lun.id,
                           tolerate=("VNXHluNumberInUseError", "VNXAluAlreadyAttachedError"))

    def remove_hlu(self, group, hlu):
        return self._write("remove", "HLU %s from storage group %s" % (hlu, group), self.cli.sg_delete_hlu,
                           group, hlu, tolerate=("VNXDetachAluNotFoundError",))

    def list_registered_hosts(self):
        """The names of the hosts with initiators registered on the array (port -list -hba, which storops
        does not wrap): only those can be connected to a storage group."""
        def read():
            out = self.cli.execute(["port", "-list", "-hba"]) or ""
            if out.strip() and "Information about each HBA:" not in out:
                raise VnxError("list", "the registered initiators", out, HINTS["VNXReadError"], "VNXReadError")
            return sorted(set(m.group(1).strip() for m in re.finditer(r"^Server Name:[ \t]*(.+)$", out, re.M)))
        return self._query("list", "the registered initiators", read)

    def attach_to_storage_group(self, group, lun, attempts=10):
        """Give the LUN the lowest free HLU of the group, safely under concurrency.

        storops' own attach_alu picks a random HLU with random.sample on a set, which
        fails on Python 3.11 (vnx.md 8). Here the HLU is the lowest one free in the
        group as last read; when a parallel writer takes it first ("Requested Host LUN
        Number already in use") the group is read again and a free one is tried again,
        chosen by the LUN's id among the lowest HLU_SPREAD free ones: forks that all
        lost the lowest HLU would otherwise all collide again on the next one.
        Returns (hlu, changed, group).
        """
        sg = group
        for attempt in range(attempts):
            existing = sg.hlu_of(lun.id)
            if existing is not None:
                return existing, False, sg
            free = [h for h in HLU_RANGE if h not in sg.hlus]
            if not free:
                raise VnxError("add", "LUN %s to storage group %s" % (lun.name, sg.name),
                               "no free host LUN number (HLU) is left in the group",
                               "Remove unused LUNs from the storage group.", "VNXNoHluAvailableError")
            hlu = free[(lun.id + attempt - 1) % min(len(free), HLU_SPREAD)] if attempt else free[0]
            kind = self.add_hlu(sg.name, hlu, lun)
            if kind is None:
                sg.hlus[hlu] = lun.id
                return hlu, True, sg
            # taken by someone else at the same time, or the LUN was added meanwhile: read again
            sg = self.get_storage_group(sg.name)
            if sg is None:
                raise VnxError("add", "LUN %s to storage group %s" % (lun.name, group.name),
                               "the storage group disappeared", None, "VNXStorageGroupNotFoundError")
        raise VnxError("add", "LUN %s to storage group %s" % (lun.name, group.name),
                       "every free HLU tried was taken by a parallel change (%d attempts)" % attempts,
                       HINTS["VNXHluNumberInUseError"], "VNXHluNumberInUseError")


class ReadOnce(object):
    """The reads a planner makes of a VnxClient, answered from one listing of each kind of object.

    For a plan of many LUNs at once: the LUNs, snapshots, pools, consistency groups, storage groups and
    migrations are each listed at most once (when first asked for), instead of once per LUN. Each answer
    is a copy, so a planner may fill in a LUN's fields. Writes go to the client itself, never here.
    """

    def __init__(self, client):
        self.client = client
        self.lists = {}

    def _all(self, kind):
        if kind not in self.lists:
            self.lists[kind] = getattr(self.client, "list_" + kind)()
        return self.lists[kind]

    def _one(self, kind, test):
        return next((copy.deepcopy(x) for x in self._all(kind) if test(x)), None)

    def get_lun(self, name=None, lun_id=None):
        return self._one("luns", lambda lun: lun.name == name if name is not None else lun.id == lun_id)

    def list_snapshots(self, lun_id=None):
        return [copy.deepcopy(s) for s in self._all("snapshots") if lun_id is None or lun_id in s.source_luns]

    def get_snapshot(self, name):
        return self._one("snapshots", lambda s: s.name == name)

    def get_pool(self, name):
        return self._one("pools", lambda pool: pool.name == name)

    def get_consistency_group(self, name):
        return self._one("consistency_groups", lambda g: g.name == name)

    def group_of(self, lun):
        return self._one("consistency_groups", lambda g: lun.id in g.lun_ids)

    def list_migrations(self):
        return copy.deepcopy(self._all("migrations"))

    def list_storage_groups(self):
        return copy.deepcopy(self._all("storage_groups"))
