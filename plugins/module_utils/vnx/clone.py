# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan of vnx_volume_clone: the facts read first, then the steps made from them alone, without I/O.

``read_clone`` reads every fact the plan needs (``read_existing_copy`` those of a copy that exists,
following it when a parallel run changes it meanwhile); ``plan_clone`` turns them and the request into
a ``ClonePlan`` - the steps in order, what each copy reports - or refuses with a VnxError. The module
applies the steps and reports.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import math
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from ansible_collections.storage.datamotion.plugins.module_utils.vnx.client import (
    COPY_MARK, Lun, Migration, Pool, Snapshot, VnxError, check_not_migrating, check_snapshot_room, counted_toward_limit)


def snap_name(name, copy_mode):
    return ("snap-as-vol-%s" if copy_mode == "snap" else "tmp-snap-%s") % name


def dest_name(name):
    return "%s_dest" % name


@dataclass
class ExistingCopy:
    """What the array holds for copy ``lun.name``; ``None`` lists were not needed, so not read."""
    lun: Lun
    gone: bool = False                           # the mount point went away while it was read (a parallel run's)
    leftover: Optional[Snapshot] = None          # a snapshot named like the copy's, its mount point reading nothing
    migration: Optional[Migration] = None        # the copy's migration into a full copy
    own_snapshots: Optional[List[Snapshot]] = None   # snapshots of the copy itself (they keep it from migrating)
    dest: Optional[Lun] = None                   # a LUN named like the copy's migration target
    snapshots: Dict = field(default_factory=dict)    # {name: Snapshot or None} read by name


def not_a_leftover(snap, sources):
    """Why ``snap`` (named like a copy's snapshot) is not one an interrupted run of that copy left, or None."""
    if snap.managed:
        return "managed"
    if not set(sources) & set(snap.source_luns + snap.primary_luns):
        return "of another LUN"
    if not snap.made_for_a_copy:
        return "not marked %s, the mark this module writes on the snapshots it makes" % COPY_MARK
    if snap.attached_luns:
        return "attached to a mount point"
    return None


def settled(client, name, settle=2):
    """Copy ``name`` read again after ``settle`` seconds (what a parallel run of it may be finishing)."""
    time.sleep(settle)
    return client.get_lun(name=name)


def copy_snapshot_name(lun, copy_mode):
    """The snapshot copy ``lun`` reads, or the one it will read once attached."""
    return lun.attached_snapshot or snap_name(lun.name, copy_mode)


def read_existing_copy(client, lun, base, copy_mode, settle=2, snapshots=None):
    """The facts the plan of existing copy ``lun`` needs; ``base`` is the LUN its mount point is of.

    ``snapshots``: the array's snapshots when read already (listed here when a full copy needs them).
    """
    name = lun.name
    while True:
        facts = ExistingCopy(lun=lun)
        if not lun.is_snap_mount_point:
            # a full copy: the temporary snapshot a run with wait=false could not delete, found by the mark that
            # names the copy's WWN (a copy renamed since its migration started left it under its first name)
            if snapshots is None:
                snapshots = client.list_snapshots()
            facts.snapshots = dict((s.name, s) for s in snapshots if s.temporary_of(lun.wwn))
            return facts
        if lun.primary_lun != base.name:
            return facts
        if lun.attached_snapshot is None:
            # an interrupted run: the mount point exists, its snapshot may too
            facts.leftover = client.get_snapshot(snap_name(name, copy_mode))
            if facts.leftover is not None and not_a_leftover(facts.leftover, [base.id]):
                return facts  # refused: somebody else's snapshot
            if facts.leftover is not None:
                fresh = settled(client, name, settle)
                if fresh is None:
                    facts.gone = True
                    return facts
                if fresh.attached_snapshot is not None or not fresh.is_snap_mount_point:
                    # a parallel run of this copy was between its snapshot and its attach: see what it made
                    lun = fresh
                    continue
        if copy_mode == "snap":
            return facts
        snapshot = copy_snapshot_name(lun, copy_mode)
        facts.migration = client.get_migration(lun)
        if facts.migration is None:
            fresh = client.get_lun(name=name)
            if fresh is not None and not fresh.is_snap_mount_point:
                # its migration completed between the two reads: a full copy, not one to migrate again
                lun = fresh
                continue
            facts.own_snapshots = client.list_snapshots(lun.id)
            facts.dest = client.get_lun(name=dest_name(name))
        facts.snapshots[snapshot] = client.get_snapshot(snapshot)
        return facts


def own_snapshot(facts, snapshot):
    """Whether ``snapshot`` (attached to copy ``facts.lun``) is one this module made for it and may delete.

    A mount point made some other way (Cinder, naviseccli) may read a user's snapshot, even a
    managed one: converting that copy must leave the snapshot where it is.
    """
    if snapshot is None:
        return False
    s = facts.snapshots.get(snapshot)
    if s is None:
        return snapshot in (snap_name(facts.lun.name, "snap"), snap_name(facts.lun.name, "full"))  # this run makes it
    # by its mark, not its name: a copy renamed since (vnx_volume new_name) reads the snapshot of its first name
    return s.made_for_a_copy and not s.managed and len(s.attached_luns) <= 1


def check_own_target(facts, snapshot, pool):
    """A LUN named like the copy's migration target is used only when this module made it for this copy.

    The migration destroys the target's data, so a LUN someone else made with that name (a user's
    ``<copy>_dest``) must never be taken: the copy's temporary snapshot records the WWNs of the copy
    and of the target this module made, and the target must still look as made (fresh, same pool, large enough).
    """
    lun, dest = facts.lun, facts.dest
    s = facts.snapshots.get(snapshot) if snapshot else None
    ours = s is not None and s.marks_target(lun.wwn, dest.wwn)
    why = None
    if not ours:
        why = "this collection did not make it as the migration target of %s" % lun.name
    elif dest.is_snap_mount_point or dest.snapshot_mount_points:
        why = "it has snap copies or is one"
    elif pool is not None and dest.pool not in (None, pool.name):
        why = "it is in pool %s, not %s" % (dest.pool, pool.name)
    elif dest.size_gb is not None and lun.size_gb is not None and dest.size_gb < lun.size_gb - 0.001:
        why = "it is smaller (%s GB) than the copy (%s GB)" % (dest.size_gb, lun.size_gb)
    if why:
        raise VnxError("migrate", "snap copy %s into LUN %s" % (lun.name, dest.name),
                       "LUN %s exists and %s" % (dest.name, why),
                       "A migration destroys its target's data, so LUN %s is never used: rename it (or delete it if "
                       "nobody needs it), then run again." % dest.name, "VNXLunNameInUseError")


def check_full_copy_size(lun, source, from_snapshot):
    """A plain LUN named like the copy is taken as the finished full copy only when its size fits the source.

    Nothing on the array says where a migrated LUN's data came from: its size is all there is to check.
    A full copy has the source's size rounded up to whole GB (the migration target's size).
    """
    if lun.size_gb is None or source.size_gb is None:
        return
    whole = math.ceil(round(source.size_gb, 3))
    low = 0 if from_snapshot else source.size_gb - 0.001  # the source may have grown since its snapshot
    if not low <= lun.size_gb <= whole + 0.001:
        raise VnxError("copy", "LUN %s into %s" % (source.name, lun.name),
                       "LUN %s exists and is not a snap copy; its size (%s GB) is not that of a full copy of %s (%s GB)"
                       % (lun.name, lun.size_gb, source.name, whole if low == 0 else source.size_gb),
                       "It is not a copy of this source: choose another name, or delete that LUN first. (A full copy that "
                       "was resized since cannot be told apart: leave this task out for it.)", "VNXLunNameInUseError")


@dataclass
class CloneFacts:
    """What the array holds for one vnx_volume_clone task; reading stops where the plan must refuse."""
    user_snapshot: Optional[Snapshot] = None     # O(source_snapshot)
    source: Optional[Lun] = None
    base: Optional[Lun] = None                   # the LUN the copies' mount points are of (a snap copy's primary)
    groups: Dict = field(default_factory=dict)   # {LUN id: consistency group} (read with O(consistency_group))
    group_exists: bool = False
    existing: Dict = field(default_factory=dict)  # {copy name: Lun or None}
    pool: Optional[Pool] = None                  # a full copy's pool
    source_migration: Optional[Migration] = None
    counted: Optional[int] = None                # snapshots counted toward the source's limit (with new copies)
    copies: Dict = field(default_factory=dict)   # {copy name: ExistingCopy}
    taken: Dict = field(default_factory=dict)    # {a new copy's snapshot name: Snapshot or None}


def copy_names(params):
    return params["names"] or [params["name"]]


def read_clone(client, params, settle=2):
    """The facts the plan of vnx_volume_clone needs for ``params``, read alike in check mode and in a real run.

    With new copies, one list of the array's snapshots gives both the snapshots counted toward the source's
    limit and those already named like the new copies' snapshots: the plan refuses the 256th snapshot and
    a snapshot somebody else named like ours before anything is done, in check mode as in a real run.
    """
    p, facts = params, CloneFacts()
    names = copy_names(p)
    if p["source_snapshot"]:
        facts.user_snapshot = client.get_snapshot(p["source_snapshot"])
        if facts.user_snapshot is None or len(facts.user_snapshot.source_luns) != 1:
            return facts
        facts.source = client.get_lun(lun_id=facts.user_snapshot.source_luns[0])
    else:
        facts.source = client.get_lun(name=p["source_lun"])
    source = facts.source
    if source is None:
        return facts
    facts.base = client.get_lun(name=source.primary_lun) if source.is_snap_mount_point else source
    if p["consistency_group"]:
        for g in client.list_consistency_groups():
            facts.group_exists = facts.group_exists or g.name == p["consistency_group"]
            for i in g.lun_ids:
                facts.groups[i] = g.name
    if source.name in names or facts.base.name in names:
        return facts
    if p["names"] and len(names) > 1:
        by_name = dict((lun.name, lun) for lun in client.list_luns())
        facts.existing = dict((n, by_name.get(n)) for n in names)
    else:
        facts.existing = dict((n, client.get_lun(name=n)) for n in names)
    new = [n for n in names if facts.existing[n] is None]
    if p["copy_mode"] == "full":
        facts.pool = client.get_pool(p["pool"] or facts.base.pool)
        if facts.pool is None:
            return facts
    snapshots = None
    if new:
        facts.source_migration = client.get_migration(source)
        snapshots = client.list_snapshots()
        facts.counted = len(counted_toward_limit(source, facts.base, snapshots))
        by_name = dict((s.name, s) for s in snapshots)
        facts.taken = dict((snap_name(n, p["copy_mode"]), by_name.get(snap_name(n, p["copy_mode"]))) for n in new)
    for n in names:
        lun = facts.existing[n]
        if lun is not None:
            if snapshots is None and not lun.is_snap_mount_point:
                snapshots = client.list_snapshots()  # once for every full copy of the task
            facts.copies[n] = read_existing_copy(client, lun, facts.base, p["copy_mode"], settle, snapshots)
    return facts


# ---------------------------------------------------------------- the plan, from the facts alone
# The phases of a task, in the order they run: every copy's snapshot before any mount point, and so on,
# with a read of the new mount points (and of the new migration targets) between, to learn their ids.
PHASES = ("snapshot", "mount", "attach", "target", "migrate", "wait", "cleanup", "join")


@dataclass(frozen=True)
class Step:
    """One step of the plan: ``kind`` names what the module does, with ``options``; ``copy`` is the copy a
    failure of it undoes (None: none); ``creates``/``removes`` (kind, object) is what it makes or deletes of
    what this run made; ``change``: False for a read (a wait, a read of the ids the array gave)."""
    kind: str
    text: str
    copy: Optional[str] = None
    options: Dict = field(default_factory=dict)
    creates: Optional[tuple] = None
    removes: Optional[tuple] = None
    change: bool = True


@dataclass
class ClonePlan:
    """What plan_clone makes of the facts: the steps in order, what each copy reports, the LUNs known
    from the read ({name: Lun}), warnings, the copies that join the consistency group later, the diff's before."""
    params: Dict
    check_mode: bool = False
    phases: Dict = field(default_factory=lambda: dict((k, []) for k in PHASES))
    reports: Dict = field(default_factory=dict)
    luns: Dict = field(default_factory=dict)
    warnings: List[str] = field(default_factory=list)
    pending: List[str] = field(default_factory=list)
    groups: Dict = field(default_factory=dict)    # {LUN id: consistency group}
    group_exists: bool = False
    before: Dict = field(default_factory=dict)

    def step(self, phase, kind, text, copy=None, creates=None, removes=None, **options):
        self.phases[phase].append(Step(kind, text, copy, options, creates, removes, change=phase != "wait"))

    @property
    def steps(self):
        new_smps = [n for n in self.reports if self.reports[n].get("_new_smp")]
        new_dests = [dest_name(n) for n in self.reports if self.reports[n].get("_new_dest")]
        steps = self.phases["snapshot"] + self.phases["mount"]
        if new_smps:
            steps.append(Step("refresh", "read the new snapshot mount points", options=dict(names=new_smps), change=False))
        steps += self.phases["attach"] + self.phases["target"]
        if new_dests:
            steps.append(Step("refresh", "read the new migration targets", options=dict(names=new_dests), change=False))
        return steps + self.phases["migrate"] + self.phases["wait"] + self.phases["cleanup"] + self.phases["join"]

    @property
    def actions(self):
        return [s.text for s in self.steps if s.change]


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


def warn_leftover(warnings, old, name):
    text = ("Snapshot %s (taken %s) was left by an interrupted run; it is replaced by a new one, so that copy %s "
            "shows the source as it is now." % (old.name, old.creation_time, name))
    if text not in warnings:
        warnings.append(text)


def check_snapshot_name(plan, taken, snap, source, name):
    """A snapshot already named like the copy's (``taken``, read before planning) is refused unless it is a
    leftover of an interrupted run, which is then replaced (deleted, read again first, before the create).
    A snapshot made after that read is handled when the create meets it.
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
    warn_leftover(plan.warnings, old, name)
    plan.step("snapshot", "delete_leftover", "delete snapshot %s left by an interrupted run" % snap, name, snapshot=snap)


def plan_new_copy(plan, facts, name, source, base, user_snapshot, pool):
    """Steps for a copy that does not exist yet."""
    p = plan.params
    snap = snap_name(name, p["copy_mode"])
    check_snapshot_name(plan, facts.taken, snap, source, name)
    if user_snapshot is not None:
        plan.step("snapshot", "copy_snapshot", "copy snapshot %s to %s" % (user_snapshot.name, snap), name,
                  ("snapshot", snap), snapshot=snap, source_snapshot=user_snapshot.name, replace_leftover=True)
        plan_own_copy(plan, snap, name)
    else:
        plan.step("snapshot", "create_snapshot", "create snapshot %s of LUN %s" % (snap, source.name), name,
                  ("snapshot", snap), snapshot=snap, replace_leftover=True)
    plan.step("mount", "create_mount_point", "create snapshot mount point %s of LUN %s" % (name, base.name), name,
              ("mount point", name), lun=name)
    plan.step("attach", "attach", "attach snapshot %s to mount point %s" % (snap, name), name, snapshot=snap, lun=name)
    plan.reports[name] = dict(name=name, clone_state="snap_copy", snapshot=snap, migration=None, _new_smp=True)
    if p["copy_mode"] == "full":
        plan_migration(plan, name, size_gb=source.size_gb, pool=pool,
                       provisioning=p["provisioning"] or source.provisioning, snapshot=snap)


def plan_own_copy(plan, snap, name=None):
    """A copy of a snapshot is this module's own: read/write, and marked as such in place of the description it
    was copied with (a managed snapshot's mark would make the copy look managed, and it would never be cleaned up)."""
    plan.step("snapshot", "mark_own_copy", "allow read/write on snapshot %s and mark it as this copy's" % snap, name,
              snapshot=snap)


def plan_migration(plan, name, size_gb, pool, provisioning, snapshot, existing_dest=None, cleanup=True):
    """Steps to migrate copy ``name`` (a mount point) into a new LUN, and to wait and clean up."""
    p = plan.params
    dest = dest_name(name)
    if existing_dest is None:
        size = int(math.ceil(round(size_gb or 1, 3)))
        plan.step("target", "create_target", "create LUN %s (%s GB, %s) in pool %s" % (
            dest, size, provisioning or "thick", pool.name), name, ("LUN", dest),
            pool=pool.name, lun=dest, size_gb=size, provisioning=provisioning or "thick", tiering=p["tiering"])
        plan.reports[name]["_new_dest"] = True
    else:
        plan.luns[dest] = existing_dest
    if existing_dest is None and cleanup and snapshot:
        plan.step("migrate", "record_target", "record LUN %s as the migration target of %s on snapshot %s"
                  % (dest, name, snapshot), name, snapshot=snapshot, lun=name, target=dest)
    plan.step("migrate", "start_migration", "start the migration of %s into %s (rate %s)" % (name, dest, p["migration_rate"]),
              name, lun=name, target=dest, rate=p["migration_rate"])
    plan.reports[name].update(clone_state="migrating", snapshot=snapshot)
    plan_wait(plan, name, snapshot, cleanup)


def plan_wait(plan, name, snapshot, cleanup=True):
    """Wait (or read progress); ``cleanup``: the snapshot is this module's own and goes afterwards."""
    if plan.params["wait"]:
        plan.step("wait", "wait", "wait for the migration of %s" % name, name, lun=name)
        if plan.check_mode:
            plan.reports[name].update(clone_state="full_copy", snapshot=None)  # what the wait makes of it
        if cleanup and snapshot:
            plan.step("cleanup", "delete_snapshot", "delete snapshot %s" % snapshot, name, removes=("snapshot", snapshot),
                      snapshot=snapshot)
        plan_join(plan, name)
    else:
        plan.step("wait", "read_migration", "read the migration of %s" % name, name, lun=name)
        if plan.params["consistency_group"]:
            plan.pending.append(name)


def plan_join(plan, name, lun=None):
    """The step that puts full copy ``name`` in consistency_group (creating the group for the first one)."""
    group = plan.params["consistency_group"]
    if not group:
        return
    current = plan.groups.get(lun.id) if lun is not None else None
    plan.reports[name]["consistency_group"] = current
    if current == group:
        return
    if current is not None:
        raise VnxError("add", "LUN %s to consistency group %s" % (name, group), "it is in consistency group %s" % current,
                       "Move it with vnx_volume consistency_group=%s, or leave consistency_group out here." % group,
                       "VNXConsistencyGroupError")
    if plan.group_exists:
        plan.step("join", "join", "add LUN %s to consistency group %s" % (name, group), name, lun=name, group=group,
                  create=False)
    else:
        plan.group_exists = True
        plan.step("join", "join", "create consistency group %s with LUN %s" % (group, name), name, lun=name, group=group,
                  create=True)
    plan.reports[name]["consistency_group"] = group


def plan_existing_copy(plan, facts, source, base, pool):
    """Steps for a copy that exists already (``facts``: read_existing_copy): nothing, finish it, wait for it,
    or convert it."""
    p = plan.params
    lun = facts.lun
    name = lun.name
    plan.luns[name] = lun
    report = dict(name=name, snapshot=lun.attached_snapshot, migration=None)
    plan.reports[name] = report
    if not lun.is_snap_mount_point:
        report["clone_state"] = "full_copy"
        if p["copy_mode"] == "snap":
            raise VnxError("make a snap copy", "LUN %s" % name, "a LUN with that name exists and is not a snap copy",
                           "Choose another name, or delete that LUN first.", "VNXLunNameInUseError")
        check_full_copy_size(lun, source, bool(p["source_snapshot"]))
        differs = ["%s is %s, %s was asked" % (o, getattr(lun, o), p[o]) for o in ("pool", "provisioning", "tiering")
                   if p[o] is not None and getattr(lun, o) is not None and getattr(lun, o) != p[o]]
        if differs:
            plan.warnings.append("The full copy %s exists and differs from the request (%s); nothing was changed on it "
                                 "(vnx_volume_clone does not redo a finished copy)." % (name, "; ".join(differs)))
        # a full copy: delete the temporary snapshot a run with wait=false could not delete (by its mark: under
        # the copy's first name when the copy was renamed since)
        for snap in sorted(facts.snapshots):
            s = facts.snapshots[snap]
            if s is not None and not s.attached_luns and not s.managed and s.temporary_of(lun.wwn):
                plan.step("cleanup", "delete_snapshot", "delete snapshot %s" % snap, snapshot=snap)
        plan_join(plan, name, lun)
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
            warn_leftover(plan.warnings, old, name)
            plan.step("snapshot", "delete_snapshot", "delete snapshot %s left by an interrupted run" % snap, snapshot=snap)
        if p["source_snapshot"]:
            plan.step("snapshot", "copy_snapshot", "copy snapshot %s to %s" % (p["source_snapshot"], snap),
                      snapshot=snap, source_snapshot=p["source_snapshot"], replace_leftover=False)
            plan_own_copy(plan, snap)
        else:
            plan.step("snapshot", "create_snapshot", "create snapshot %s of LUN %s" % (snap, source.name),
                      snapshot=snap, replace_leftover=False)
        plan.step("attach", "attach", "attach snapshot %s to mount point %s" % (snap, name), snapshot=snap, lun=name)
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
        plan_wait(plan, name, report["snapshot"], own_snapshot(facts, report["snapshot"]))
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
        plan.warnings.append("Copy %s is finished from snapshot %s, taken %s by an interrupted run: it holds the source as "
                             "it was then. Delete the copy and run again for the source as it is now."
                             % (name, left.name, left.creation_time))
    plan_migration(plan, name, size_gb=lun.size_gb, pool=pool, provisioning=p["provisioning"] or lun.provisioning,
                   snapshot=report["snapshot"], existing_dest=facts.dest, cleanup=own_snapshot(facts, report["snapshot"]))


def diff_state(clone_state, group):
    """A copy's state for the diff: with its consistency group (read only with consistency_group)."""
    return "%s in consistency group %s" % (clone_state, group) if group else clone_state


def plan_clone(facts, params, check_mode=False):
    """The ClonePlan of every copy from ``facts`` (read_clone), without asking the array; VnxError when the
    request cannot be done."""
    p = params
    plan = ClonePlan(params=p, check_mode=check_mode)
    names = check_request(p)
    check_source(facts, p)
    source, base, user_snapshot = facts.source, facts.base, facts.user_snapshot
    plan.groups, plan.group_exists = dict(facts.groups), facts.group_exists
    if source.name in names or base.name in names:
        raise VnxError("copy", "LUN %s" % source.name, "the copy's name is the source's name", "Give the copy another name.")
    existing = facts.existing
    new = [n for n in names if existing[n] is None]
    plan.before = dict((n, "absent" if existing[n] is None else
                        diff_state("snap_copy" if existing[n].is_snap_mount_point else "full_copy",
                                   plan.groups.get(existing[n].id))) for n in names)
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
        # the array refuses the 256th snapshot of a LUN: counted first, so that check mode and a batch
        # refuse before anything is made, with the same message as a real run
        check_snapshot_room(source, facts.counted, len(new), "copy", "LUN %s" % source.name)
    for n in names:
        if existing[n] is None:
            plan_new_copy(plan, facts, n, source, base, user_snapshot, pool)
        else:
            plan_existing_copy(plan, facts.copies[n], source, base, pool)
    return plan
