# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What vnx_volume_clone knows of a copy that exists already, read before it plans, and its pure checks.

``read_existing_copy`` reads every fact the plan of an existing copy needs (following the copy when a
parallel run changes it meanwhile); the checks below decide from those facts alone, without I/O.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import math
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from ansible_collections.storage.datamotion.plugins.module_utils.vnx.client import (
    COPY_MARK, Lun, Migration, Pool, Snapshot, VnxError, counted_toward_limit)


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
