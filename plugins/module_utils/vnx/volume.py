# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan of vnx_volume: from what was read and what is wanted to the steps, without I/O.

``read_volume`` reads the facts the plan needs; ``plan_volume`` turns them and the wanted state
into steps and the predicted LUN, or refuses with a VnxError; the module applies the steps.
``read_volumes`` and ``plan_volumes`` do the same for a list of LUNs: every kind of object read once
(client.ReadOnce), every LUN planned before any change, one VnxError naming every LUN refused.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import math
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from ansible_collections.storage.datamotion.plugins.module_utils.vnx.client import (
    HINT_POOL_FULL, HINT_THICK_WITH_SNAPSHOTS, MAX_LUN_SIZE_GB, Lun, Migration, Pool, Snapshot, StorageGroup,
    VnxError)


@dataclass(frozen=True)
class VolumeWanted:
    name: str
    state: str = "present"
    pool: Optional[str] = None
    size_gb: Optional[int] = None
    provisioning: Optional[str] = None
    tiering: Optional[str] = None
    force: bool = False
    consistency_group: Optional[str] = None
    new_name: Optional[str] = None


@dataclass
class VolumeFacts:
    """What the array holds for one request; ``None`` lists were not needed, so not read."""
    lun: Optional[Lun]                                # the LUN named O(name), its consistency_group filled in
    taken: Optional[Lun] = None                       # the LUN named O(new_name)
    pool: Optional[Pool] = None                       # the pool a new LUN goes to, or a thick LUN grows in
    snapshots: Optional[List[Snapshot]] = None        # the LUN's snapshots
    migrations: Optional[List[Migration]] = None      # every migration on the array
    storage_groups: Optional[List[StorageGroup]] = None
    snap_copies: Optional[List] = None                # [(id, Lun or None: gone since the LUN was read)]
    snap_copy_snapshots: Optional[List[Snapshot]] = None  # snapshots taken of the snap copies
    lun_names: Dict = field(default_factory=dict)     # {id: name} of other LUNs that snapshots hold
    own_snapshots: Dict = field(default_factory=dict)  # {name: Snapshot} that vnx_volume_clone may have made
    migration_target: Optional[Lun] = None            # the target of the LUN's own migration
    target_group_exists: Optional[bool] = None        # O(consistency_group) exists already


@dataclass(frozen=True)
class Step:
    """One change: ``kind`` names the client call; ``lun`` the LUN it acts on (None: the one being created)."""
    kind: str
    text: str
    lun: Optional[Lun] = None
    options: Dict = field(default_factory=dict)


def own_snapshot_names(lun):
    """Snapshots vnx_volume_clone may have made for this LUN (a snap copy or an asynchronous full copy): by its
    name, and the snapshot it reads, whose name is the copy's first name when the copy was renamed since."""
    names = ["snap-as-vol-%s" % lun.name, "tmp-snap-%s" % lun.name]
    if lun.attached_snapshot and lun.attached_snapshot not in names:
        names.append(lun.attached_snapshot)
    return names


def deletion_order(smps, smp_snaps):
    """The snap copies in an order the array can delete them: a copy whose snapshots other copies
    read (a snap copy of a snap copy) goes after those copies, so its snapshots are free by then."""
    readers = dict((m.id, set(i for s in smp_snaps if m.id in s.source_luns for i in s.attached_luns) - set([m.id]))
                   for m in smps)
    ordered, left = [], list(smps)
    while left:
        ready = [m for m in left if not readers[m.id] - set(x.id for x in ordered)] or left[:1]
        ordered.append(ready[0])
        left.remove(ready[0])
    return ordered


def renamed(facts, want):
    """The LUN the other options apply to: O(name)'s, or O(new_name)'s when an earlier run renamed it."""
    if want.state == "present" and want.new_name and want.new_name != want.name and facts.lun is None:
        return facts.taken
    return facts.lun


def grows_thick(lun, want):
    return (lun is not None and want.size_gb is not None and lun.size_gb is not None and not lun.is_snap_mount_point
            and lun.provisioning == "thick" and want.size_gb > lun.size_gb + 0.001)


def read_volume(client, want):
    """The facts ``plan_volume`` needs for ``want``."""
    facts = VolumeFacts(lun=client.get_lun(name=want.name))
    if want.state == "present" and want.new_name and want.new_name != want.name:
        facts.taken = client.get_lun(name=want.new_name)
    lun = renamed(facts, want)
    if lun is not None:
        current = client.group_of(lun)
        lun.consistency_group = current.name if current else None
    if want.state == "absent":
        if lun is not None:
            read_blockers(client, facts, lun)
        return facts
    if lun is None and want.pool is not None:
        facts.pool = client.get_pool(want.pool)
    if grows_thick(lun, want):
        facts.snapshots = client.list_snapshots(lun.id)
        if lun.pool:
            facts.pool = client.get_pool(lun.pool)
    if want.consistency_group and (lun is None or want.consistency_group != lun.consistency_group):
        facts.target_group_exists = client.get_consistency_group(want.consistency_group) is not None
    if lun is not None:
        facts.migrations = client.list_migrations()
    return facts


def read_blockers(client, facts, lun):
    """What keeps the LUN from being destroyed, and what deleting it takes with it."""
    facts.snapshots = client.list_snapshots(lun.id)
    facts.migrations = client.list_migrations()
    facts.storage_groups = client.list_storage_groups()
    if any(m.dest_id == lun.id for m in facts.migrations):
        return  # refused whatever else there is
    facts.snap_copies = [(i, client.get_lun(lun_id=i)) for i in lun.snapshot_mount_points]
    smp_ids = set(m.id for dummy, m in facts.snap_copies if m is not None)
    facts.snap_copy_snapshots = [s for s in client.list_snapshots() if smp_ids & set(s.source_luns)] if smp_ids else []
    for s in facts.snapshots + facts.snap_copy_snapshots:
        if not set(s.source_luns) - set([lun.id]) - smp_ids:
            continue  # not shared: no names needed
        for i in s.source_luns:
            if i != lun.id and i not in facts.lun_names:
                other = client.get_lun(lun_id=i)
                facts.lun_names[i] = other.name if other is not None else str(i)
    for name in own_snapshot_names(lun):
        facts.own_snapshots[name] = client.get_snapshot(name)
    if not lun.is_snap_mount_point:
        # a full copy renamed since its asynchronous migration started: its temporary snapshot has the
        # copy's first name, and is found by the mark that names this LUN's WWN
        for s in client.list_snapshots():
            if s.temporary_of(lun.wwn):
                facts.own_snapshots.setdefault(s.name, s)
    migration = next((m for m in facts.migrations if m.source_id == lun.id), None)
    if migration is not None and migration.dest_name:
        facts.migration_target = client.get_lun(lun_id=migration.dest_id)


def plan_absent(facts, want, lun):
    snaps, migrations, all_groups = facts.snapshots, facts.migrations, facts.storage_groups
    migration = next((m for m in migrations if m.source_id == lun.id), None)
    groups = [g for g in all_groups if g.hlu_of(lun.id) is not None]
    # never undone by force: the destination of a running migration is another copy's future LUN,
    # and a snap copy that migrates is a full copy on its way (vnx_volume_clone wait=false)
    into = next((m for m in migrations if m.dest_id == lun.id), None)
    if into is not None:
        raise VnxError("delete", "LUN %s" % lun.name,
                       "it is the destination of the running migration of LUN %s (%s, %s%% done)"
                       % (into.source_name, into.state, into.percent_complete),
                       "Wait for the migration to complete (the LUN then disappears into %s), or delete LUN %s "
                       "with force=true, which cancels it." % (into.source_name, into.source_name))
    smps = [m for dummy, m in facts.snap_copies if m is not None]
    smp_names = [m.name if m is not None else str(i) for i, m in facts.snap_copies]  # an id: gone since the LUN was read
    moving = [(m, next(g for g in migrations if g.source_id == m.id)) for m in smps
              if any(g.source_id == m.id for g in migrations)]
    if moving:
        raise VnxError("delete", "LUN %s" % lun.name,
                       "its snap copies %s are being migrated into full copies"
                       % ", ".join("%s (%s%% done)" % (m.name, g.percent_complete) for m, g in moving),
                       "Wait for them to complete (vnx_volume_clone wait=true), or delete them first; force "
                       "never deletes a full copy on its way.")
    # snapshots taken of the snap copies themselves: the array will not destroy a copy that has them
    smp_ids = set(m.id for m in smps)
    smp_snaps = facts.snap_copy_snapshots
    managed = [s.name for s in snaps + smp_snaps if s.managed]
    if managed:
        raise VnxError("delete", "LUN %s" % lun.name,
                       "it has managed snapshots: %s" % ", ".join(managed),
                       "Unmanage them (vnx_snapshot_manage state=unmanaged) or delete them "
                       "(vnx_snapshot_manage state=absent) first; force never deletes a managed snapshot.")
    # a consistency group's snapshot is one point in time of every member: destroying it
    # would take the other LUNs' copies with it
    shared = [s for s in snaps + smp_snaps if set(s.source_luns) - set([lun.id]) - smp_ids]
    if shared:
        raise VnxError("delete", "LUN %s" % lun.name,
                       "it has snapshots that hold other LUNs too: %s" % ", ".join(
                           "%s (of consistency group %s, LUNs %s)" % (
                               s.name, s.source_consistency_group or "-", ", ".join(
                                   facts.lun_names.get(i, str(i)) for i in s.source_luns if i != lun.id))
                           for s in shared),
                       "Delete them (vnx_snapshot_manage state=absent) first if the other LUNs' copies may go; "
                       "force never deletes a snapshot of other LUNs.")
    problems = []
    if smp_names:
        problems.append("it has snap copies (snapshot mount points) %s" % ", ".join(smp_names))
    if snaps:
        problems.append("it has snapshots %s" % ", ".join(s.name for s in snaps))
    if smp_snaps:
        problems.append("its snap copies have snapshots %s" % ", ".join(s.name for s in smp_snaps))
    if migration is not None:
        problems.append("it is migrating to LUN %s (%s, %s%% done)"
                        % (migration.dest_name, migration.state, migration.percent_complete))
    if groups:
        problems.append("it is in storage groups %s" % ", ".join(g.name for g in groups))
    cg = lun.consistency_group
    if cg:
        problems.append("it is a member of consistency group %s" % cg)
    if problems and not want.force:
        raise VnxError("delete", "LUN %s" % lun.name, "; ".join(problems),
                       "Delete or move those first, or set force=true to remove them with the LUN.")

    steps = []
    if migration is not None:
        steps.append(Step("cancel_migration", "cancel the migration of LUN %s" % lun.name, lun))
    if cg:
        steps.append(Step("leave_group", "remove LUN %s from consistency group %s" % (lun.name, cg), lun, dict(group=cg)))
    for smp in deletion_order(smps, smp_snaps):
        for snap in [x for x in smp_snaps if smp.id in x.source_luns]:
            steps.append(Step("destroy_snapshot", "delete snapshot %s of snap copy %s" % (snap.name, smp.name),
                              options=dict(name=snap.name)))
        for g in all_groups:
            hlu = g.hlu_of(smp.id)
            if hlu is not None:
                steps.append(Step("remove_hlu", "remove snap copy %s (HLU %s) from storage group %s" % (smp.name, hlu, g.name),
                                  options=dict(group=g.name, hlu=hlu)))
        steps.append(Step("destroy_lun", "delete snap copy %s" % smp.name, smp, dict(force_detach=True)))
    for g in groups:
        hlu = g.hlu_of(lun.id)
        steps.append(Step("remove_hlu", "remove LUN %s (HLU %s) from storage group %s" % (lun.name, hlu, g.name),
                          options=dict(group=g.name, hlu=hlu)))
    for s in snaps:
        steps.append(Step("destroy_snapshot", "delete snapshot %s" % s.name, options=dict(name=s.name)))
    steps.append(Step("destroy_lun", "delete %s %s" % ("snap copy" if lun.is_snap_mount_point else "LUN", lun.name),
                      lun, dict(force_detach=lun.is_snap_mount_point)))
    # the snapshot vnx_volume_clone made for this copy lives on the source LUN: without it
    # the source could not be deleted later (Cinder bug 1794646). A finished full copy is a
    # plain LUN: its snapshot is taken only when its mark names this LUN's WWN. A snap copy's
    # snapshot is taken only when the copy reads it: one with our name that it does not read
    # is somebody else's.
    for name, snap in facts.own_snapshots.items():
        if snap is None or not set(snap.attached_luns) <= set([lun.id]) or snap.managed or not snap.made_for_a_copy:
            continue
        if lun.attached_snapshot == name or snap.temporary_of(lun.wwn):
            steps.append(Step("destroy_snapshot", "delete snapshot %s of the copy" % name, options=dict(name=name)))
    # the target goes only when vnx_volume_clone made it for this copy (its snapshot's mark names both):
    # an administrator's migration target is their LUN, kept when the migration is cancelled
    target = facts.migration_target
    if target is not None and any(s is not None and s.marks_target(lun.wwn, target.wwn)
                                  for s in facts.own_snapshots.values()):
        steps.append(Step("destroy_lun", "delete migration target LUN %s" % facts.migration_target.name,
                          facts.migration_target, dict(force_detach=False)))
    return steps


def plan_create(facts, want):
    missing = [o for o in ("pool", "size_gb") if getattr(want, o) is None]
    if missing:
        raise VnxError("create", "LUN %s" % want.name, "it does not exist and %s not given" % " and ".join(missing),
                       "Give pool and size_gb to create it.")
    if want.size_gb < 1:
        raise VnxError("create", "LUN %s" % want.name, "size_gb must be at least 1", None)
    check_size(want)
    pool = facts.pool
    if pool is None:
        raise VnxError("create", "LUN %s in pool %s" % (want.name, want.pool), "the pool does not exist",
                       "Check the pool name (vnx_info lists the pools).", "VNXPoolNotFoundError")
    provisioning = want.provisioning or "thick"
    if provisioning == "thick" and pool.available_capacity_gb is not None and pool.available_capacity_gb < want.size_gb:
        raise VnxError("create", "LUN %s (%s GB, thick) in pool %s" % (want.name, want.size_gb, pool.name),
                       "the pool has %s GB available" % pool.available_capacity_gb,
                       "Choose a smaller size, thin provisioning, or another pool.")
    return [Step("create_lun", "create LUN %s (%s GB, %s) in pool %s" % (want.name, want.size_gb, provisioning, pool.name),
                 options=dict(pool=pool.name, name=want.name, size_gb=want.size_gb, provisioning=provisioning,
                              tiering=want.tiering))]


def check_size(want):
    if want.size_gb is not None and want.size_gb > MAX_LUN_SIZE_GB:
        raise VnxError("size", "LUN %s" % want.name, "%s GB is more than a VNX LUN can hold (%d GB, 256 TiB)"
                       % (want.size_gb, MAX_LUN_SIZE_GB), "Give size_gb of at most %d." % MAX_LUN_SIZE_GB)


def plan_change(facts, want, lun):
    """Steps that bring an existing LUN to the wanted size and tiering; refuses what needs a migration."""
    check_size(want)
    if want.pool is not None and lun.pool is not None and want.pool != lun.pool:
        raise VnxError("move", "LUN %s to pool %s" % (lun.name, want.pool), "it is in pool %s" % lun.pool,
                       "Moving a LUN to another pool takes a LUN migration: use vnx_volume_clone with copy_mode=full.")
    if want.provisioning is not None and lun.provisioning is not None and want.provisioning != lun.provisioning:
        raise VnxError("change the provisioning of", "LUN %s" % lun.name,
                       "it is %s, %s was asked" % (lun.provisioning, want.provisioning),
                       "Provisioning changes take a LUN migration: use vnx_volume_clone with copy_mode=full.")
    steps = []
    if want.size_gb is not None and lun.size_gb is not None:
        if want.size_gb < lun.size_gb - 0.001:
            raise VnxError("shrink", "LUN %s" % lun.name, "it has %s GB and a VNX LUN cannot shrink" % lun.size_gb,
                           "Give size_gb of at least %s." % int(math.ceil(round(lun.size_gb, 3))))
        if want.size_gb > lun.size_gb + 0.001:
            if lun.is_snap_mount_point:
                raise VnxError("expand", "snap copy %s" % lun.name, "it is a snapshot mount point of %s" % lun.primary_lun,
                               "Convert it into a full copy first (vnx_volume_clone copy_mode=full).")
            if grows_thick(lun, want):
                # the array refuses these, and check mode must say so
                if facts.snapshots:
                    raise VnxError("expand", "LUN %s" % lun.name, "it is a thick LUN with snapshots",
                                   HINT_THICK_WITH_SNAPSHOTS, "VNXLunExtendError")
                pool = facts.pool
                grow = want.size_gb - lun.size_gb
                if pool is not None and pool.available_capacity_gb is not None and grow > pool.available_capacity_gb:
                    raise VnxError("expand", "LUN %s to %s GB" % (lun.name, want.size_gb),
                                   "%.3f GB more are needed and pool %s has %s GB available"
                                   % (grow, pool.name, pool.available_capacity_gb),
                                   HINT_POOL_FULL, "VNXLunExtendError")
            moving = next((m for m in facts.migrations or [] if m.source_id == lun.id), None)
            if moving is not None:  # the array refuses it ("being used by a feature"), so check mode must too
                raise VnxError("expand", "LUN %s to %s GB" % (lun.name, want.size_gb),
                               "it is migrating to LUN %s (%s, %s%% done)"
                               % (moving.dest_name, moving.state, moving.percent_complete),
                               "Wait for the migration to complete (or cancel it), then run again.",
                               "VNXLunUsedByFeatureError")
            steps.append(Step("expand_lun", "expand LUN %s from %s GB to %s GB" % (lun.name, lun.size_gb, want.size_gb),
                              lun, dict(size_gb=want.size_gb)))
    if want.tiering is not None and want.tiering != lun.tiering:
        steps.append(Step("set_tiering", "set the tiering policy of LUN %s to %s" % (lun.name, want.tiering),
                          lun, dict(tiering=want.tiering)))
    return steps


def plan_group(facts, want, lun):
    """(steps that make the LUN a member of consistency_group ('' : of none), the group after)."""
    wanted, name = want.consistency_group, want.name
    current = lun.consistency_group if lun is not None else None
    if wanted is None:
        return [], current
    if wanted == "":
        if current:
            return [Step("leave_group", "remove LUN %s from consistency group %s" % (name, current), lun,
                         dict(group=current))], None
        return [], None
    if lun is not None and lun.is_snap_mount_point:
        raise VnxError("add", "snap copy %s to consistency group %s" % (name, wanted),
                       "it is a snapshot mount point of LUN %s, and a snap copy cannot be in a consistency group "
                       "(a VNX limitation)" % lun.primary_lun,
                       "Convert it into a full copy first (vnx_volume_clone copy_mode=full), then add it.",
                       "VNXConsistencyGroupError")
    if current == wanted:
        return [], wanted
    steps = []
    if current:
        steps.append(Step("leave_group", "remove LUN %s from consistency group %s" % (name, current), lun,
                          dict(group=current)))
    create = not facts.target_group_exists
    text = ("create consistency group %s with LUN %s" if create else "add LUN %s to consistency group %s")
    steps.append(Step("join_group", text % ((wanted, name) if create else (name, wanted)), lun,
                      dict(group=wanted, create=create, name=name)))
    return steps, wanted


def plan_rename(facts, want):
    """Steps that give the LUN O(new_name)."""
    new = want.new_name
    if not new or new == want.name:
        return []
    lun, taken = facts.lun, facts.taken
    if lun is None and taken is None:
        raise VnxError("rename", "LUN %s to %s" % (want.name, new), "no LUN has either name",
                       "Check the names (vnx_info lists the LUNs); vnx_volume renames a LUN, it does not create one "
                       "under new_name.", "VNXLunNotFoundError")
    if lun is None:
        return []  # renamed by an earlier run
    if taken is not None:
        raise VnxError("rename", "LUN %s to %s" % (lun.name, new),
                       "LUN %s (id %s, WWN %s) already has that name" % (taken.name, taken.id, taken.wwn),
                       "Rename or delete that LUN first, or choose another name; nothing was changed.",
                       "VNXLunNameInUseError")
    return [Step("rename_lun", "rename LUN %s to %s" % (lun.name, new), lun, dict(new_name=new))]


def check_not_a_migration_target(facts, lun, steps):
    """The destination of a running migration belongs to the array until it completes: no change to it."""
    into = next((m for m in facts.migrations or [] if m.dest_id == lun.id), None)
    if into is not None:
        asked = "; ".join(s.text for s in steps)
        raise VnxError("change", "LUN %s" % lun.name,
                       "it is the destination of the running migration of LUN %s (%s, %s%% done); the array keeps it "
                       "private until then (asked: %s)" % (into.source_name, into.state, into.percent_complete, asked),
                       "Wait for the migration to complete (the LUN then disappears into %s), and change that LUN."
                       % into.source_name, "VNXLunUsedByFeatureError")


def predicted(lun, want, group_after):
    """The LUN as check mode expects it after the plan (for diff and facts)."""
    if lun is None:
        return Lun(id=None, name=want.name, pool=want.pool, size_gb=float(want.size_gb),
                   provisioning=want.provisioning or "thick", tiering=want.tiering,
                   consistency_group=group_after).facts()
    after = lun.facts()
    if want.size_gb is not None and want.size_gb > (lun.size_gb or 0):
        after["size_gb"] = float(want.size_gb)
    if want.tiering is not None:
        after["tiering"] = want.tiering
    if want.new_name:
        after["name"] = want.new_name
    after["consistency_group"] = group_after
    return after


def plan_volume(facts, want):
    """(steps, the LUN's facts after them or None) that bring ``facts`` to ``want``; VnxError when they cannot.

    A refusal carries the steps planned before it (``err.planned``): the task reports them as its actions.
    """
    if want.state == "absent":
        lun = facts.lun
        return (plan_absent(facts, want, lun) if lun is not None else []), None
    steps = []
    try:
        steps += plan_rename(facts, want)
        lun = renamed(facts, want)
        steps += plan_create(facts, want) if lun is None else plan_change(facts, want, lun)
        group_steps, group_after = plan_group(facts, want, lun)
        steps += group_steps
        if lun is not None and steps:
            check_not_a_migration_target(facts, lun, steps)
    except VnxError as err:
        err.planned = [s.text for s in steps]
        raise
    return steps, predicted(lun, want, group_after)


def read_volumes(client, wants):
    """The facts of each of ``wants``, in order; ``client`` a ReadOnce for more than one LUN.

    A pool is one object in every LUN's facts that reads it, so that plan_volumes takes from it what each
    thick LUN before the next one takes."""
    facts = [read_volume(client, want) for want in wants]
    pools = {}
    for f in facts:
        if f.pool is not None:
            f.pool = pools.setdefault(f.pool.name, f.pool)
    return facts


def plan_volumes(facts, wants):
    """[(steps, the LUN's facts after them or None)] for each of ``wants``, in order.

    Every LUN is planned before any change: one VnxError names every LUN that cannot be brought to what is
    wanted (a list of one: that LUN's own error), so nothing is changed. Thick LUNs created or grown in one
    pool take its space in the order of ``wants``: the next one sees what is left.
    """
    plans, errors = [], []
    for f, want in zip(facts, wants):
        try:
            steps, after = plan_volume(f, want)
        except VnxError as err:
            errors.append(err)
            continue
        plans.append((steps, after))
        for step in steps:
            take_from_pool(f.pool, step)
    if errors and len(wants) == 1:
        raise errors[0]
    if errors:
        raise VnxError("converge", "%d of the %d LUNs" % (len(errors), len(wants)),
                       "; ".join(str(err) for err in errors), "Nothing was changed.", errors[0].kind)
    return plans


def take_from_pool(pool, step):
    """What a planned step takes from the pool's available space (thick LUNs only)."""
    if pool is None or pool.available_capacity_gb is None:
        return
    if step.kind == "create_lun" and step.options["provisioning"] == "thick":
        pool.available_capacity_gb -= step.options["size_gb"]
    if step.kind == "expand_lun" and step.lun.provisioning == "thick":
        pool.available_capacity_gb -= step.options["size_gb"] - step.lun.size_gb
