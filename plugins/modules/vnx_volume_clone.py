#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: vnx_volume_clone
short_description: Snap copies and full copies of VNX LUNs, from a LUN or from a snapshot
version_added: 0.1.0
description:
  - Creates a new LUN from a source LUN (O(source_lun)) or from a snapshot (O(source_snapshot)), the way the
    Cinder VNX driver does.
  - O(copy_mode=snap) makes an instant snap copy - a snapshot of the source (from a snapshot - a read-write copy
    of it, so that the given snapshot stays deletable) and a snapshot mount point attached to it. The copy reads
    the source as it was at that moment.
  - O(copy_mode=full) makes the same snap copy and then migrates it into a new LUN in a pool. When the migration
    completes the copy keeps its name, id and WWN and owes nothing to the source; the temporary snapshot is
    deleted. With O(wait=false) the task returns as soon as the migration starts (the copy is usable at once) and
    reports its progress; a later run with O(wait=true) waits for it and cleans up; a run while it still goes
    reports progress, not an error.
  - O(copy_mode=full) on an existing snap copy converts it into a full copy and deletes its snapshot when this
    module made it (C(snap-as-vol-<name>) or C(tmp-snap-<name>)), it is not managed and its description holds the
    mark this module writes when it makes the snapshot (C([storage.datamotion:copy]), or the migration record
    C([storage.datamotion:copy <WWN> target <WWN>]) that replaces it); any other snapshot the mount point reads
    (a user's, a managed one, one named like ours without the mark) is kept.
  - The array's constraints are checked before anything is done - at most 255 snapshots (so snap copies) per
    source LUN; no snapshot or migration of a LUN whose asynchronous migration still runs; a LUN with snap copies
    or snapshots cannot be migrated.
  - Several copies of one source can be made in one task with O(names); the source is read once and the
    copies' reads are batched, which is much faster than a loop.
  - O(consistency_group) puts a full copy in a consistency group (created if missing) once it is a full copy. A
    snap copy cannot be in a consistency group (a VNX limitation, seeds 000 and 001), so O(copy_mode=snap) with
    O(consistency_group) fails before anything is done.
  - The array cannot tell a finished full copy from any other LUN (after the migration the copy is a plain LUN
    with the copy's name, id and WWN; nothing records where its data came from). So an existing plain LUN named
    O(name) is taken as the finished full copy when its size fits the source - between the source's size and that
    size rounded up to whole GB, the size this module gives a full copy (from O(source_snapshot), at most that
    rounded size) - and the task fails otherwise. A plain LUN of the same size that is not a copy cannot be told
    apart; it is reported as V(full_copy).
  - Names of the array objects the module makes - snapshot C(snap-as-vol-<name>) of a snap copy, temporary
    snapshot C(tmp-snap-<name>) and migration target C(<name>_dest) of a full copy. A run that was interrupted
    picks them up and finishes. An object with one of these names that this module did not make (a snapshot
    without its mark, a LUN its migration record does not name) is never used or deleted - the task fails and
    names it.
author:
  - Storage DataMotion Team (@storage-datamotion)
extends_documentation_fragment:
  - storage.datamotion.vnx
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reads the array, checks every constraint and reports the steps it would take and the errors it would raise.
  diff_mode:
    support: full
options:
  name:
    description: Name of the new LUN (the copy). One of O(name) and O(names) is required.
    type: str
  names:
    description:
      - Names of several copies of the same source, made in one task.
      - An empty list asks for no copy - the task changes nothing and returns an empty C(clones).
    type: list
    elements: str
  source_lun:
    description: Name of the LUN to copy. One of O(source_lun) and O(source_snapshot) is required.
    type: str
  source_snapshot:
    description: Name of the snapshot to copy.
    type: str
  copy_mode:
    description:
      - V(snap) for a snap copy (instant, depends on the source), V(full) for a full copy by LUN migration.
    type: str
    choices: [snap, full]
    default: full
  pool:
    description: Pool of a full copy. Default is the source's pool.
    type: str
  provisioning:
    description: Provisioning of a full copy. Default is the source's.
    type: str
    choices: [thin, thick]
  tiering:
    description: Tiering policy of a full copy's LUN.
    type: str
    choices: [start_high_then_auto, auto, highest_available, lowest_available, no_movement]
  migration_rate:
    description: Rate of the LUN migration of a full copy.
    type: str
    choices: [low, medium, high, asap]
    default: high
  wait:
    description:
      - Wait for the migration of a full copy to complete, then delete the temporary snapshot.
      - V(false) returns once the migration runs (the seed's asynchronous migration); the copy is usable at once.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for a migration; the task fails with the migration's last progress after that.
    type: int
    default: 3600
  consistency_group:
    description:
      - Name of a consistency group the copy joins once it is a full copy (the group is created if missing).
        With O(wait=true) that is at the end of the task; with O(wait=false) and a migration still running the
        task warns that the copy joins later, and a later run (O(wait=true), or once the migration completed)
        adds it. A copy in another consistency group is an error (move it with M(storage.datamotion.vnx_volume)).
      - Only with O(copy_mode=full) - a snap copy cannot be in a consistency group (a VNX limitation).
      - Omitted or empty, the copy's group membership is not managed.
    type: str
    version_added: 0.2.0
notes:
  - A snap copy cannot be expanded or put in a consistency group (a VNX limitation); convert it to a full copy first.
  - Delete copies with M(storage.datamotion.vnx_volume) O(storage.datamotion.vnx_volume#module:state=absent),
    which also deletes the snapshot made for a snap copy.
seealso:
  - module: storage.datamotion.vnx_volume
  - module: storage.datamotion.vnx_info
"""

EXAMPLES = r"""
- name: An instant snap copy of db01
  storage.datamotion.vnx_volume_clone:
    sp_address: 192.168.1.50
    username: sysadmin
    password: "{{ vnx_password }}"
    name: db01-test
    source_lun: db01
    copy_mode: snap

- name: Fifty snap copies in one task
  storage.datamotion.vnx_volume_clone:
    sp_address: 192.168.1.50
    username: sysadmin
    password: "{{ vnx_password }}"
    names: "{{ range(1, 51) | map('string') | map('regex_replace', '^', 'ci-') | list }}"
    source_lun: golden
    copy_mode: snap

- name: A full copy from a snapshot, returning as soon as the migration starts
  storage.datamotion.vnx_volume_clone:
    sp_address: 192.168.1.50
    username: sysadmin
    password: "{{ vnx_password }}"
    name: db01-restore
    source_snapshot: db01-nightly
    copy_mode: full
    wait: false
  register: copy

- name: Later, wait for it to finish
  storage.datamotion.vnx_volume_clone:
    sp_address: 192.168.1.50
    username: sysadmin
    password: "{{ vnx_password }}"
    name: db01-restore
    source_snapshot: db01-nightly
    copy_mode: full
    wait: true

- name: A full copy that joins consistency group db-cg once its migration completes
  storage.datamotion.vnx_volume_clone:
    sp_address: 192.168.1.50
    username: sysadmin
    password: "{{ vnx_password }}"
    name: db01-copy
    source_lun: db01
    copy_mode: full
    consistency_group: db-cg

- name: Turn a snap copy into a full copy in another pool
  storage.datamotion.vnx_volume_clone:
    sp_address: 192.168.1.50
    username: sysadmin
    password: "{{ vnx_password }}"
    name: db01-test
    source_lun: db01
    copy_mode: full
    pool: Pool1
"""

RETURN = r"""
lun:
  description: The copy's LUN (with O(name)); in check mode, what is known before the run.
  returned: with O(name)
  type: dict
clone_state:
  description: V(snap_copy), V(migrating) (a full copy whose migration runs) or V(full_copy).
  returned: with O(name)
  type: str
  sample: migrating
migration:
  description: The running migration with C(state) and C(percent_complete), or null.
  returned: with O(name)
  type: dict
  sample: {source_name: db01-restore, dest_name: db01-restore_dest, state: MIGRATING, percent_complete: 35.0}
snapshot:
  description: The snapshot the copy reads (a snap copy), or the temporary snapshot of a full copy still migrating.
  returned: with O(name)
  type: str
consistency_group:
  description:
    - With O(consistency_group), the group the copy is a member of after the task (in check mode, would be), or
      null; a copy that joins later (O(wait=false)) is null here and the task warns. Without it, null (the groups
      are not read).
  returned: with O(name)
  type: str
  version_added: 0.2.0
clones:
  description:
    - One entry per copy of O(names), each with C(name), C(lun), C(clone_state), C(migration), C(snapshot),
      C(consistency_group).
  returned: with O(names)
  type: list
  elements: dict
actions:
  description: What the task did (in check mode, would do), in order.
  returned: always
  type: list
  elements: str
left:
  description:
    - When the task failed, the array objects (snapshots, mount points, LUNs) this run made and that are still
      there; the message names them too. A later run picks them up.
  returned: on failure
  type: list
  elements: str
  sample: ["snapshot tmp-snap-db01-restore"]
diff:
  description: Each copy's state before and after.
  returned: when diff mode is on
  type: dict
"""

import math
import time

from ansible_collections.storage.datamotion.plugins.module_utils.vnx.common import Plan, VnxModule, converge
from ansible_collections.storage.datamotion.plugins.module_utils.vnx.client import (
    COPY_MARK, Unchanged, VnxError, check_not_migrating, check_snapshot_room, temporary_mark)
from ansible_collections.storage.datamotion.plugins.module_utils.vnx.clone import (
    check_full_copy_size, check_own_target, copy_names, dest_name, not_a_leftover, own_snapshot, read_clone, snap_name)
from ansible_collections.storage.datamotion.plugins.module_utils.wait import WaitTimeout, wait_for


class Context(object):
    """What one task knows: the source, the copies' LUNs by name, and the plan."""

    def __init__(self, client, module):
        self.client = client
        self.module = module
        self.p = module.params
        self.plan = Plan()
        self.luns = {}          # name -> Lun, kept current by the plan's read steps
        self.reports = {}       # name -> what to return
        self.batch = bool(self.p["names"])
        self.phases = dict((k, []) for k in ("snapshot", "mount", "attach", "target", "migrate", "wait", "cleanup", "join"))
        self.created = {}       # name -> [(kind, object name)] this run made for that copy
        self.migrating = set()  # copies whose migration this run started: no undoing those
        self.finished = set()   # copies whose migration completed in this run: full copies, their target gone
        self.current = None     # the copy the running step works on
        self.groups = {}        # LUN id -> consistency group name (read when consistency_group is given)
        self.group_exists = False
        self.pending = []       # copies that join consistency_group once their migration completes
        self.warnings = []      # what the user must know: leftovers replaced, a copy that differs from the request

    def step(self, phase, text, func, name=None, creates=None, removes=None):
        """A step of copy ``name``; ``creates`` (kind, object) is undone if that copy fails later,
        ``removes`` is something an earlier step made that this one deletes."""
        def run():
            self.current = name
            answer = func()
            if creates is not None and not isinstance(answer, Unchanged):
                self.created.setdefault(name, []).append(creates)
            if removes is not None and removes in self.created.get(name, []):
                self.created[name].remove(removes)
            return answer
        self.phases[phase].append((text, run))

    def undo(self, name):
        """Remove what this run made for copy ``name`` (Cinder's revert), newest first; returns what went."""
        undone = []
        if name is None or name in self.migrating:
            return undone
        for kind, obj in reversed(self.created.get(name, [])):
            try:
                if kind == "snapshot":
                    self.client.destroy_snapshot(obj)
                else:
                    lun = self.client.get_lun(name=obj)
                    if lun is not None:
                        self.client.destroy_lun(lun, force_detach=lun.is_snap_mount_point)
                undone.append("%s %s" % (kind, obj))
            except VnxError:
                pass  # the report says what is left: everything not in undone
        return undone

    def left(self, undone):
        """What this run made and is still on the array (not undone), copy by copy, in the order made."""
        left = []
        for name, made in self.created.items():
            for kind, obj in made:
                what = "%s %s" % (kind, obj)
                if name == self.current and what in undone:
                    continue
                if name in self.finished:
                    # the migration consumed the target; the mount point is now the full copy
                    if kind == "LUN":
                        continue
                    if kind == "mount point":
                        what = "LUN %s (the full copy)" % obj
                elif name in self.migrating and kind == "LUN":
                    what += " (migrating into %s)" % name
                left.append(what)
        return left

    def refresh(self, names):
        """Read the LUNs the array just made (their ids): one list for a batch, else one read each."""
        self.current = None
        if self.batch and len(names) > 1:
            by_name = dict((lun.name, lun) for lun in self.client.list_luns())
            for n in names:
                self.luns[n] = by_name.get(n)
        else:
            for n in names:
                self.luns[n] = self.client.get_lun(name=n)
        missing = [n for n in names if self.luns.get(n) is None]
        if missing:
            raise VnxError("find", "new LUN(s) %s" % ", ".join(missing), "the array does not list them after creating them",
                           "Run the task again; it resumes where it stopped.")

    def build(self):
        """Turn the phases into the plan, with the reads that learn new ids in between."""
        new_smps = [n for n in self.reports if self.reports[n].get("_new_smp")]
        new_dests = [dest_name(n) for n in self.reports if self.reports[n].get("_new_dest")]
        for text, func in self.phases["snapshot"] + self.phases["mount"]:
            self.plan.add(text, func)
        if new_smps:
            self.plan.read("read the new snapshot mount points", lambda: self.refresh(new_smps))
        for text, func in self.phases["attach"] + self.phases["target"]:
            self.plan.add(text, func)
        if new_dests:
            self.plan.read("read the new migration targets", lambda: self.refresh(new_dests))
        for text, func in self.phases["migrate"]:
            self.plan.add(text, func)
        for text, func in self.phases["wait"]:
            self.plan.read(text, func)
        for text, func in self.phases["cleanup"] + self.phases["join"]:
            self.plan.add(text, func)


def check_request(p):
    """Refuse what no array state makes possible, before anything is read; returns the copies' names."""
    names = copy_names(p)
    if len(set(names)) != len(names):
        raise VnxError("copy", "LUNs %s" % ", ".join(names), "a name is given twice", "Give each copy its own name.")
    if p["consistency_group"] and p["copy_mode"] == "snap":
        raise VnxError("make a snap copy", "%s in consistency group %s" % (", ".join(names), p["consistency_group"]),
                       "a snap copy (snapshot mount point) cannot be added to a consistency group (a VNX limitation, "
                       "seeds 000 and 001)",
                       "Use copy_mode=full: the full copy joins the group once its migration completes.",
                       "VNXConsistencyGroupError")
    return names


def check_source(facts, p):
    """Refuse a source that is missing or not one LUN."""
    if p["source_snapshot"]:
        if facts.user_snapshot is None:
            raise VnxError("copy", "snapshot %s" % p["source_snapshot"], "the snapshot does not exist",
                           "Check the snapshot name (vnx_info lists the snapshots).", "VNXSnapNotExistsError")
        if len(facts.user_snapshot.source_luns) != 1:
            raise VnxError("copy", "snapshot %s" % p["source_snapshot"],
                           "it is not a snapshot of one LUN (a consistency group's snapshot holds one per member)",
                           "Give a snapshot of a single LUN.")
    elif facts.source is None:
        raise VnxError("copy", "LUN %s" % p["source_lun"], "the source LUN does not exist",
                       "Check the LUN name (vnx_info lists the LUNs).", "VNXLunNotFoundError")
    if facts.source is None:
        raise VnxError("copy", "snapshot %s" % p["source_snapshot"], "its source LUN no longer exists", None)


def parallel_copy(client, name, settle=2):
    """Whether another run is making copy ``name``: its mount point exists, or appears within ``settle``
    seconds (the time between a snapshot and its mount point). A snapshot without one after that is a leftover."""
    if client.get_lun(name=name) is not None:
        return True
    time.sleep(settle)
    return client.get_lun(name=name) is not None


def make_snapshot(ctx, snap, source, create, name):
    """Make the copy's snapshot; one left by an interrupted run (killed after 'snap -create') is made anew.

    The name is this module's (snap-as-vol-/tmp-snap-<copy>), so a snapshot of the same source
    with no mount point and not managed can only be such a leftover; its content is older
    than this run, so it is replaced, not reused. Anything else with the name is left alone.
    """
    client = ctx.client
    try:
        create()
        return
    except VnxError as err:
        if err.kind != "VNXSnapNameInUseError":
            raise
        if parallel_copy(client, name):
            raise  # another run makes this copy right now: read and plan again (converge)
        old = client.get_snapshot(snap)
        what = not_a_leftover(old, [source.id]) if old is not None else "gone"
        if what:
            err.hint = ("Snapshot %s is not one an interrupted run of this copy left (it is %s): rename or delete it, "
                        "or give the copy another name." % (snap, what))
            raise
    client.destroy_snapshot(snap)
    ctx.plan.done.append("delete snapshot %s left by an interrupted run" % snap)
    warn_leftover(ctx, old, name)
    create()


def warn_leftover(ctx, old, name):
    text = ("Snapshot %s (taken %s) was left by an interrupted run; it is replaced by a new one, so that copy %s "
            "shows the source as it is now." % (old.name, old.creation_time, name))
    if text not in ctx.warnings:
        ctx.warnings.append(text)


def check_snapshot_name(ctx, taken, snap, source, name):
    """Check mode: what the real run finds when it takes the copy's snapshot (make_snapshot), without taking it.

    A snapshot already named like the copy's is refused unless it is a leftover of an interrupted run, which
    is then replaced. The real run learns this from the array's answer to its create (no extra read).
    """
    old = taken.get(snap)
    if old is None:
        return
    what = not_a_leftover(old, [source.id])
    if what == "attached to a mount point":
        return  # a parallel run's, between its attach and its mount point read: the real run re-plans
    if what:
        raise VnxError("copy", "LUN %s into %s" % (source.name, name),
                       "snapshot %s exists and is not one an interrupted run of this copy left (it is %s)" % (snap, what),
                       "Rename or delete snapshot %s, or give the copy another name." % snap)
    warn_leftover(ctx, old, name)
    ctx.step("snapshot", "delete snapshot %s left by an interrupted run" % snap, lambda: None, name)


def plan_new_copy(ctx, facts, name, source, base, user_snapshot, pool):
    """Steps for a copy that does not exist yet."""
    client, p = ctx.client, ctx.p
    snap = snap_name(name, p["copy_mode"])
    if ctx.module.check_mode:
        check_snapshot_name(ctx, facts.taken, snap, source, name)
    if user_snapshot is not None:
        ctx.step("snapshot", "copy snapshot %s to %s" % (user_snapshot.name, snap),
                 lambda: make_snapshot(ctx, snap, source, lambda: client.copy_snapshot(user_snapshot.name, snap), name),
                 name, ("snapshot", snap))
        plan_own_copy(ctx, snap, name)
    else:
        ctx.step("snapshot", "create snapshot %s of LUN %s" % (snap, source.name),
                 lambda: make_snapshot(ctx, snap, source, lambda: client.create_snapshot(source, snap, description=COPY_MARK), name),
                 name, ("snapshot", snap))
    ctx.step("mount", "create snapshot mount point %s of LUN %s" % (name, base.name),
             lambda: client.create_mount_point(base, name), name, ("mount point", name))
    ctx.step("attach", "attach snapshot %s to mount point %s" % (snap, name),
             lambda: client.attach_snapshot(ctx.luns[name], snap), name)
    ctx.reports[name] = dict(name=name, clone_state="snap_copy", snapshot=snap, migration=None, _new_smp=True)
    if p["copy_mode"] == "full":
        plan_migration(ctx, name, size_gb=source.size_gb, pool=pool, provisioning=p["provisioning"] or source.provisioning,
                       snapshot=snap)


def plan_own_copy(ctx, snap, name=None):
    """A copy of a snapshot is this module's own: read/write, and marked as such in place of the description it
    was copied with (a managed snapshot's mark would make the copy look managed, and it would never be cleaned up)."""
    ctx.step("snapshot", "allow read/write on snapshot %s and mark it as this copy's" % snap,
             lambda: ctx.client.modify_snapshot(snap, description=COPY_MARK, allow_read_write=True), name)


def plan_migration(ctx, name, size_gb, pool, provisioning, snapshot, existing_dest=None, cleanup=True):
    """Steps to migrate copy ``name`` (a mount point) into a new LUN, and to wait and clean up."""
    client, p = ctx.client, ctx.p
    dest = dest_name(name)
    if existing_dest is None:
        size = int(math.ceil(round(size_gb or 1, 3)))
        ctx.step("target", "create LUN %s (%s GB, %s) in pool %s" % (dest, size, provisioning or "thick", pool.name),
                 lambda: client.create_lun(pool.name, dest, size, provisioning or "thick", p["tiering"]),
                 name, ("LUN", dest))
        ctx.reports[name]["_new_dest"] = True
    else:
        ctx.luns[dest] = existing_dest

    def start():
        client.start_migration(ctx.luns[name], ctx.luns[dest], p["migration_rate"])
        ctx.migrating.add(name)

    if existing_dest is None and cleanup and snapshot:
        ctx.step("migrate", "record LUN %s as the migration target of %s on snapshot %s" % (dest, name, snapshot),
                 lambda: client.modify_snapshot(snapshot, description=temporary_mark(ctx.luns[name].wwn,
                                                                                     ctx.luns[dest].wwn)), name)
    ctx.step("migrate", "start the migration of %s into %s (rate %s)" % (name, dest, p["migration_rate"]), start, name)
    ctx.reports[name].update(clone_state="migrating", snapshot=snapshot)
    plan_wait(ctx, name, snapshot, cleanup)


def plan_wait(ctx, name, snapshot, cleanup=True):
    """Wait (or read progress); ``cleanup``: the snapshot is this module's own and goes afterwards."""
    if ctx.p["wait"]:
        ctx.step("wait", "wait for the migration of %s" % name, lambda: wait_migration(ctx, name), name)
        if ctx.module.check_mode:
            ctx.reports[name].update(clone_state="full_copy", snapshot=None)  # what the wait makes of it
        if cleanup and snapshot:
            ctx.step("cleanup", "delete snapshot %s" % snapshot, lambda: ctx.client.destroy_snapshot(snapshot), name,
                     removes=("snapshot", snapshot))
        plan_join(ctx, name)
    else:
        ctx.step("wait", "read the migration of %s" % name, lambda: read_migration(ctx, name), name)
        if ctx.p["consistency_group"]:
            ctx.pending.append(name)


def plan_join(ctx, name, lun=None):
    """The step that puts full copy ``name`` in consistency_group (creating the group for the first one)."""
    group = ctx.p["consistency_group"]
    if not group:
        return
    current = ctx.groups.get(lun.id) if lun is not None else None
    ctx.reports[name]["consistency_group"] = current
    if current == group:
        return
    if current is not None:
        raise VnxError("add", "LUN %s to consistency group %s" % (name, group), "it is in consistency group %s" % current,
                       "Move it with vnx_volume consistency_group=%s, or leave consistency_group out here." % group,
                       "VNXConsistencyGroupError")
    client = ctx.client
    if ctx.group_exists:
        ctx.step("join", "add LUN %s to consistency group %s" % (name, group),
                 lambda: client.join_consistency_group(group, ctx.luns[name], create=False), name)
    else:
        ctx.group_exists = True
        ctx.step("join", "create consistency group %s with LUN %s" % (group, name),
                 lambda: client.join_consistency_group(group, ctx.luns[name], create=True), name)
    ctx.reports[name]["consistency_group"] = group


def read_migration(ctx, name):
    lun = ctx.luns.get(name) or ctx.client.get_lun(name=name)
    migration = ctx.client.get_migration(lun)
    ctx.reports[name]["migration"] = migration.facts() if migration else None
    if migration is not None and migration.failed:
        raise VnxError("copy", "LUN %s" % name, "its migration stopped: %s" % migration.state,
                       "Cancel it and delete the copy (vnx_volume state=absent force=true), then copy again.")
    if migration is None:
        ctx.reports[name].update(clone_state="full_copy", snapshot=None)
    return migration


def wait_migration(ctx, name):
    try:
        wait_for(lambda: read_migration(ctx, name), lambda m: m is None, ctx.p["wait_timeout"],
                 what="the migration of LUN %s" % name)
    except WaitTimeout as e:
        last = e.last
        raise VnxError("wait for the migration of", "LUN %s" % name,
                       "it is still running after %ss (%s, %s%% done)"
                       % (ctx.p["wait_timeout"], last and last.state, last and last.percent_complete),
                       "Run again with wait=true (it resumes waiting), or raise wait_timeout.")
    lun = ctx.client.get_lun(name=name)
    if lun is None or lun.is_snap_mount_point:
        raise VnxError("complete the full copy", "LUN %s" % name,
                       "the migration ended but the LUN is %s" % ("gone" if lun is None else "still a snapshot mount point"),
                       "Check the array's migration log; the copy is not complete.")
    ctx.luns[name] = lun
    ctx.finished.add(name)
    ctx.reports[name].update(clone_state="full_copy", migration=None, snapshot=None)


def plan_existing_copy(ctx, facts, source, base, pool):
    """Steps for a copy that exists already (``facts``: read_existing_copy): nothing, finish it, wait for it,
    or convert it."""
    client, p = ctx.client, ctx.p
    lun = facts.lun
    name = lun.name
    ctx.luns[name] = lun
    report = dict(name=name, snapshot=lun.attached_snapshot, migration=None)
    ctx.reports[name] = report
    if not lun.is_snap_mount_point:
        report["clone_state"] = "full_copy"
        if p["copy_mode"] == "snap":
            raise VnxError("make a snap copy", "LUN %s" % name, "a LUN with that name exists and is not a snap copy",
                           "Choose another name, or delete that LUN first.", "VNXLunNameInUseError")
        check_full_copy_size(lun, source, bool(p["source_snapshot"]))
        differs = ["%s is %s, %s was asked" % (o, getattr(lun, o), p[o]) for o in ("pool", "provisioning", "tiering")
                   if p[o] is not None and getattr(lun, o) is not None and getattr(lun, o) != p[o]]
        if differs:
            ctx.warnings.append("The full copy %s exists and differs from the request (%s); nothing was changed on it "
                                "(vnx_volume_clone does not redo a finished copy)." % (name, "; ".join(differs)))
        # a full copy: delete the temporary snapshot a run with wait=false could not delete
        for snap in (snap_name(name, "full"), snap_name(name, "snap")):
            s = facts.snapshots.get(snap)
            if s is not None and not s.attached_luns and not s.managed and s.temporary_of(lun.wwn):
                ctx.step("cleanup", "delete snapshot %s" % snap, lambda snap=snap: client.destroy_snapshot(snap))
        plan_join(ctx, name, lun)
        return
    if lun.primary_lun != base.name:
        raise VnxError("copy", "LUN %s into %s" % (source.name, name),
                       "%s exists already as a snap copy of LUN %s" % (name, lun.primary_lun),
                       "Choose another name, or delete that copy first.", "VNXLunNameInUseError")
    report["clone_state"] = "snap_copy"
    if lun.attached_snapshot is None:
        snap = snap_name(name, p["copy_mode"])
        old = facts.leftover
        if old is not None:
            what = not_a_leftover(old, [base.id])
            if what:
                raise VnxError("copy", "LUN %s into %s" % (source.name, name),
                               "snapshot %s exists and is not one an interrupted run of this copy left (it is %s)"
                               % (snap, what),
                               "Rename or delete snapshot %s, or give the copy another name." % snap, "VNXSnapNameInUseError")
            if facts.gone:
                return  # a parallel run's copy, gone meanwhile: the next run sees what is there
            # taken before the interruption: the copy would show the source as it was then
            warn_leftover(ctx, old, name)
            ctx.step("snapshot", "delete snapshot %s left by an interrupted run" % snap,
                     lambda: client.destroy_snapshot(snap))
        if p["source_snapshot"]:
            ctx.step("snapshot", "copy snapshot %s to %s" % (p["source_snapshot"], snap),
                     lambda: client.copy_snapshot(p["source_snapshot"], snap))
            plan_own_copy(ctx, snap)
        else:
            ctx.step("snapshot", "create snapshot %s of LUN %s" % (snap, source.name),
                     lambda: client.create_snapshot(source, snap, description=COPY_MARK))
        ctx.step("attach", "attach snapshot %s to mount point %s" % (snap, name),
                 lambda: client.attach_snapshot(lun, snap))
        report["snapshot"] = snap
    if p["copy_mode"] == "snap":
        return
    migration = facts.migration
    if migration is not None:
        report["clone_state"] = "migrating"
        report["migration"] = migration.facts()
        if migration.failed:
            raise VnxError("copy", "LUN %s" % name, "its migration stopped: %s" % migration.state,
                           "Cancel it and delete the copy (vnx_volume state=absent force=true), then copy again.")
        plan_wait(ctx, name, report["snapshot"], own_snapshot(facts, report["snapshot"]))
        return
    # a snap copy to convert into a full copy: it must have no snapshots or snap copies of its own
    own = facts.own_snapshots
    if own or lun.snapshot_mount_points:
        raise VnxError("migrate", "snap copy %s" % name,
                       "it has snapshots or snap copies of its own (%s)" % ", ".join([s.name for s in own] or
                                                                                     [str(i) for i in lun.snapshot_mount_points]),
                       "A LUN with snap copies or snapshots cannot be migrated: delete them first.")
    if facts.dest is not None:
        check_own_target(facts, report["snapshot"] if lun.attached_snapshot else None, pool)
    left = facts.snapshots.get(lun.attached_snapshot) if lun.attached_snapshot == snap_name(name, "full") else None
    if left is not None and own_snapshot(facts, left.name):  # an interrupted full copy: its data is that snapshot's
        ctx.warnings.append("Copy %s is finished from snapshot %s, taken %s by an interrupted run: it holds the source as "
                            "it was then. Delete the copy and run again for the source as it is now."
                            % (name, left.name, left.creation_time))
    plan_migration(ctx, name, size_gb=lun.size_gb, pool=pool, provisioning=p["provisioning"] or lun.provisioning,
                   snapshot=report["snapshot"], existing_dest=facts.dest, cleanup=own_snapshot(facts, report["snapshot"]))


def plan_all(ctx, facts):
    """Plan every copy from ``facts`` (read_clone) without asking the array; returns the diff's before."""
    p = ctx.p
    names = check_request(p)
    check_source(facts, p)
    source, base, user_snapshot = facts.source, facts.base, facts.user_snapshot
    ctx.groups, ctx.group_exists = dict(facts.groups), facts.group_exists
    if source.name in names or base.name in names:
        raise VnxError("copy", "LUN %s" % source.name, "the copy's name is the source's name", "Give the copy another name.")
    existing = facts.existing
    new = [n for n in names if existing[n] is None]
    before = dict((n, "absent" if existing[n] is None else
                   diff_state("snap_copy" if existing[n].is_snap_mount_point else "full_copy",
                              ctx.groups.get(existing[n].id))) for n in names)
    pool = facts.pool
    if p["copy_mode"] == "full":
        pool_name = p["pool"] or base.pool
        if pool is None:
            raise VnxError("copy", "LUN %s into pool %s" % (source.name, pool_name), "the pool does not exist",
                           "Check the pool name (vnx_info lists the pools).", "VNXPoolNotFoundError")
        provisioning = p["provisioning"] or source.provisioning
        need = sum(int(math.ceil(source.size_gb or 1)) for n in names
                   if existing[n] is None or existing[n].is_snap_mount_point)
        if provisioning == "thick" and pool.available_capacity_gb is not None and need > pool.available_capacity_gb:
            raise VnxError("copy", "LUN %s into pool %s" % (source.name, pool.name),
                           "%s GB of thick LUNs are needed and the pool has %s GB available" % (need, pool.available_capacity_gb),
                           "Choose another pool, thin provisioning, or fewer copies.")
    if new:
        check_not_migrating(source, facts.source_migration, "copy", "LUN %s" % source.name)
        # the array refuses the 256th snapshot of a LUN; counted first when that can be
        # told apart from a plain failure: for a batch, and in check mode
        if facts.counted is not None:
            check_snapshot_room(source, facts.counted, len(new), "copy", "LUN %s" % source.name)
    for n in names:
        if existing[n] is None:
            plan_new_copy(ctx, facts, n, source, base, user_snapshot, pool)
        else:
            plan_existing_copy(ctx, facts.copies[n], source, base, pool)
    ctx.build()
    return before


def diff_state(clone_state, group):
    """A copy's state for the diff: with its consistency group (read only with consistency_group)."""
    return "%s in consistency group %s" % (clone_state, group) if group else clone_state


def report_of(ctx, name):
    r = dict((k, v) for k, v in ctx.reports[name].items() if not k.startswith("_"))
    r.setdefault("consistency_group", None)
    lun = ctx.luns.get(name)
    r["lun"] = lun.facts() if lun is not None else {}
    if lun is not None and r.get("clone_state") == "snap_copy" and r["lun"].get("attached_snapshot") is None:
        r["lun"]["attached_snapshot"] = r.get("snapshot")  # attached after the read that gave the id
    return r


def main():
    argument_spec = dict(
        name=dict(type="str"),
        names=dict(type="list", elements="str"),
        source_lun=dict(type="str"),
        source_snapshot=dict(type="str"),
        copy_mode=dict(type="str", default="full", choices=["snap", "full"]),
        pool=dict(type="str"),
        provisioning=dict(type="str", choices=["thin", "thick"]),
        tiering=dict(type="str", choices=["start_high_then_auto", "auto", "highest_available", "lowest_available",
                                          "no_movement"]),
        migration_rate=dict(type="str", default="high", choices=["low", "medium", "high", "asap"]),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=3600),
        consistency_group=dict(type="str"),
    )
    module = VnxModule(
        argument_spec, names=dict(name="copy", names="copy", source_lun="source LUN", source_snapshot="source snapshot",
                                  consistency_group="consistency group"), empty_allowed=("consistency_group",),
        required_one_of=[("name", "names"), ("source_lun", "source_snapshot")],
        mutually_exclusive=[("name", "names"), ("source_lun", "source_snapshot")],
    )
    if module.params["wait_timeout"] < 0:
        module.fail_json(msg="wait_timeout is %d: give 0 or more seconds. Nothing was changed." % module.params["wait_timeout"])
    if module.params["names"] == []:
        # an empty list (a filter such as difference() that left nothing) asks for no copy: never a LUN
        result = dict(changed=False, actions=[], clones=[])
        if module._diff:
            result["diff"] = dict(before={}, after={})
        module.exit_json(**result)
    client = module.client()
    contexts = []

    def attempt():
        ctx = Context(client, module)
        contexts.append(ctx)
        check_request(module.params)
        before = plan_all(ctx, read_clone(client, module.params, module.check_mode))
        ctx.plan.apply(module.check_mode)
        return ctx, before

    try:
        ctx, before = converge(module, attempt)
    except VnxError as err:
        ctx = contexts[-1]
        undone = [] if module.check_mode else ctx.undo(ctx.current)
        if undone:
            err.hint = (err.hint or "") + " (Undone for %s: %s.)" % (ctx.current, ", ".join(undone))
        left = ctx.left(undone)
        if left:
            err.hint = (err.hint or "") + (" (Made by this run and still on the array: %s. Run the task again: "
                                           "it picks them up and finishes.)" % ", ".join(left))
        err.hint = (err.hint or "").strip() or None
        module.fail_on(err, actions=ctx.plan.actions, undone=undone, left=left)
    names = module.params["names"] or [module.params["name"]]
    reports = [report_of(ctx, n) for n in names]
    for text in ctx.warnings:
        module.warn(text)
    for name in ctx.pending:
        module.warn("LUN %s is not in consistency group %s yet: a copy joins once it is a full copy. Run the task again "
                    "with wait=true (or once its migration completed) to add it." % (name, module.params["consistency_group"]))
    result = dict(changed=ctx.plan.changed, actions=ctx.plan.actions)
    if module.params["names"]:
        result["clones"] = reports
    else:
        result.update(reports[0])
    if module._diff:
        result["diff"] = dict(before=before, after=dict((r["name"], diff_state(r["clone_state"], r["consistency_group"]))
                                                        for r in reports))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
