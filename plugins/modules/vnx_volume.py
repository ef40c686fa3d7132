#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: vnx_volume
short_description: Create, grow and delete pool LUNs on a Dell EMC VNX
version_added: 0.1.0
description:
  - Makes a pool LUN present with a size, provisioning and tiering policy, or absent.
  - A LUN only grows; provisioning and pool cannot be changed in place (that takes a LUN migration,
    see M(storage.datamotion.vnx_volume_clone)).
  - Deleting a LUN that still has snap copies, snapshots, a running migration or storage-group
    membership fails with a message that names them, unless O(force=true). Snapshots that
    M(storage.datamotion.vnx_snapshot_manage) manages, and a consistency group's snapshots that also hold other
    LUNs, are never deleted here, with or without O(force).
  - Deleting a snap copy also deletes the snapshot that M(storage.datamotion.vnx_volume_clone) made for it.
  - O(consistency_group) puts the LUN in a consistency group (created if missing). A snap copy (snapshot mount
    point) cannot be a member (a VNX limitation) - the task fails before changing anything. Deleting a member of a
    consistency group fails naming the group unless O(force=true), which removes it from the group first.
author:
  - Storage DataMotion Team (@storage-datamotion)
extends_documentation_fragment:
  - storage.datamotion.vnx
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reads the array and reports the actions it would take, and the errors it would raise.
  diff_mode:
    support: full
options:
  name:
    description: Name of the LUN.
    type: str
    required: true
  state:
    description: Whether the LUN exists.
    type: str
    choices: [present, absent]
    default: present
  pool:
    description:
      - Storage pool of the LUN. Required to create it; for an existing LUN it must be the LUN's pool.
    type: str
  size_gb:
    description:
      - Size in GB (the array's C(-sq gb)). Required to create the LUN. A larger size expands an existing LUN;
        a smaller one is an error.
    type: int
  provisioning:
    description:
      - V(thin) or V(thick) (the array's C(Thin) and C(NonThin)). Default for a new LUN is V(thick).
        An existing LUN with other provisioning is an error.
    type: str
    choices: [thin, thick]
  tiering:
    description: FAST VP tiering policy. Changed in place on an existing LUN.
    type: str
    choices: [start_high_then_auto, auto, highest_available, lowest_available, no_movement]
  force:
    description:
      - With O(state=absent), remove what keeps the LUN from being deleted, in order - cancel its migration,
        remove it from its consistency group and storage groups, delete its snap copies (snapshot mount points)
        and its unmanaged snapshots - then delete it. Managed snapshots, and snapshots that also hold other LUNs
        (a consistency group's snapshot), still make the task fail.
    type: bool
    default: false
  consistency_group:
    description:
      - Name of the consistency group the LUN is a member of (its snapshots can be taken together with the other
        members'). The group is created if missing. A LUN in another group is moved (removed from it, then added).
      - Omitted, the LUN's membership is left as it is. An empty string V('') means the LUN is in no group
        (it is removed from its group, which stays).
      - A snap copy (snapshot mount point) cannot be a member - a VNX limitation; convert it into a full copy
        first (M(storage.datamotion.vnx_volume_clone) O(storage.datamotion.vnx_volume_clone#module:copy_mode=full)).
      - Ignored with O(state=absent).
    type: str
    version_added: 0.2.0
  new_name:
    description:
      - Rename the LUN O(name) to this name (the array's C(lun -modify -newName)). Other options then apply to the
        renamed LUN.
      - When no LUN is named O(name) and one is named O(new_name), the rename is taken as done (a re-run changes
        nothing). When both names are taken, the task fails and changes nothing; when neither is, it fails too
        (a LUN is renamed, not created, under O(new_name)).
      - Only with O(state=present).
    type: str
    version_added: 0.3.0
"""

EXAMPLES = r"""
- name: A 100 GB thin LUN in Pool0
  storage.datamotion.vnx_volume:
    sp_address: 192.168.1.50
    username: sysadmin
    password: "{{ vnx_password }}"
    name: db01
    pool: Pool0
    size_gb: 100
    provisioning: thin

- name: Grow it, with the connection set once for the vnx group
  module_defaults:
    group/storage.datamotion.vnx:
      sp_address: 192.168.1.50
      username: sysadmin
      password: "{{ vnx_password }}"
  storage.datamotion.vnx_volume:
    name: db01
    size_gb: 200

- name: A LUN in consistency group db-cg (created if missing)
  storage.datamotion.vnx_volume:
    sp_address: 192.168.1.50
    username: sysadmin
    password: "{{ vnx_password }}"
    name: db01-log
    pool: Pool0
    size_gb: 20
    consistency_group: db-cg

- name: Rename LUN db01-new to db01 (a re-run, once it is renamed, changes nothing)
  storage.datamotion.vnx_volume:
    sp_address: 192.168.1.50
    username: sysadmin
    password: "{{ vnx_password }}"
    name: db01-new
    new_name: db01

- name: Delete a LUN with its snap copies and unmanaged snapshots
  storage.datamotion.vnx_volume:
    sp_address: 192.168.1.50
    username: sysadmin
    password: "{{ vnx_password }}"
    name: scratch01
    state: absent
    force: true
"""

RETURN = r"""
lun:
  description: The LUN after the task (before it, in check mode); empty when it does not exist.
  returned: always
  type: dict
  sample:
    id: 12
    name: db01
    wwn: "60:06:01:60:AA:BB:00:00:11:22:33:44:55:66:77:01"
    pool: Pool0
    size_gb: 100.0
    provisioning: thin
    is_snap_mount_point: false
    primary_lun: null
    attached_snapshot: null
    snapshot_mount_points: []
    consistency_group: db-cg
is_snap_copy:
  description: Whether the LUN is a snap copy (a snapshot mount point), and C(primary_lun) the LUN it copies.
  returned: always
  type: bool
actions:
  description: What the task did (in check mode, would do), in order.
  returned: always
  type: list
  elements: str
  sample: ["create LUN db01 (100 GB, thin) in pool Pool0", "rename LUN db01-new to db01"]
diff:
  description: The LUN before and after, with O(ignore:diff) mode on.
  returned: when diff mode is on
  type: dict
"""

import math

from ansible_collections.storage.datamotion.plugins.module_utils.vnx.common import Plan, VnxModule, converge
from ansible_collections.storage.datamotion.plugins.module_utils.vnx.client import (
    HINT_POOL_FULL, HINT_THICK_WITH_SNAPSHOTS, MAX_LUN_SIZE_GB, Lun, VnxError)


def find_blockers(client, lun):
    """What keeps the LUN from being destroyed: snapshots, snap copies, migration, storage groups."""
    snaps = client.list_snapshots(lun.id)
    migrations = client.list_migrations()
    all_groups = client.list_storage_groups()
    return snaps, migrations, all_groups


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


def lun_names(client, ids):
    """Names of the LUNs with these ids (the id of one that is gone)."""
    names = []
    for i in ids:
        other = client.get_lun(lun_id=i)
        names.append(other.name if other is not None else str(i))
    return names


def plan_absent(client, module, lun, plan):
    p = module.params
    snaps, migrations, all_groups = find_blockers(client, lun)
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
    read = [(i, client.get_lun(lun_id=i)) for i in lun.snapshot_mount_points]
    smps = [m for dummy, m in read if m is not None]
    smp_names = [m.name if m is not None else str(i) for i, m in read]  # an id: gone since the LUN was read
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
    smp_snaps = [s for s in client.list_snapshots() if smp_ids & set(s.source_luns)] if smps else []
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
                                   lun_names(client, [i for i in s.source_luns if i != lun.id])))
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
    if problems and not p["force"]:
        raise VnxError("delete", "LUN %s" % lun.name, "; ".join(problems),
                       "Delete or move those first, or set force=true to remove them with the LUN.")

    if migration is not None:
        plan.add("cancel the migration of LUN %s" % lun.name, lambda: client.cancel_migration(lun))
    if cg:
        plan.add("remove LUN %s from consistency group %s" % (lun.name, cg),
                 lambda: client.remove_from_consistency_group(cg, lun))
    if smps:
        for smp in deletion_order(smps, smp_snaps):
            for snap in [x for x in smp_snaps if smp.id in x.source_luns]:
                plan.add("delete snapshot %s of snap copy %s" % (snap.name, smp.name),
                         lambda snap=snap: client.destroy_snapshot(snap.name))
            for g in all_groups:
                hlu = g.hlu_of(smp.id)
                if hlu is not None:
                    plan.add("remove snap copy %s (HLU %s) from storage group %s" % (smp.name, hlu, g.name),
                             lambda g=g, hlu=hlu: client.remove_hlu(g.name, hlu))
            plan.add("delete snap copy %s" % smp.name, lambda smp=smp: client.destroy_lun(smp, force_detach=True))
    for g in groups:
        hlu = g.hlu_of(lun.id)
        plan.add("remove LUN %s (HLU %s) from storage group %s" % (lun.name, hlu, g.name),
                 lambda g=g, hlu=hlu: client.remove_hlu(g.name, hlu))
    for s in snaps:
        plan.add("delete snapshot %s" % s.name, lambda s=s: client.destroy_snapshot(s.name))
    plan.add("delete %s %s" % ("snap copy" if lun.is_snap_mount_point else "LUN", lun.name),
             lambda: client.destroy_lun(lun, force_detach=lun.is_snap_mount_point))
    # the snapshot vnx_volume_clone made for this copy lives on the source LUN: without it
    # the source could not be deleted later (Cinder bug 1794646). A finished full copy is a
    # plain LUN: its snapshot is taken only when its mark names this LUN's WWN. A snap copy's
    # snapshot is taken only when the copy reads it: one with our name that it does not read
    # is somebody else's.
    for name in own_snapshot_names(lun):
        snap = client.get_snapshot(name)
        if snap is None or not set(snap.attached_luns) <= set([lun.id]) or snap.managed or not snap.made_for_a_copy:
            continue
        if lun.attached_snapshot == name or snap.temporary_of(lun.wwn):
            plan.add("delete snapshot %s of the copy" % name, lambda name=name: client.destroy_snapshot(name))
    if migration is not None and migration.dest_name:
        dest = client.get_lun(lun_id=migration.dest_id)
        if dest is not None:
            plan.add("delete migration target LUN %s" % dest.name, lambda: client.destroy_lun(dest))


def plan_present(client, module, lun, plan):
    p = module.params
    if lun is None:
        missing = [o for o in ("pool", "size_gb") if p[o] is None]
        if missing:
            raise VnxError("create", "LUN %s" % p["name"], "it does not exist and %s not given" % " and ".join(missing),
                           "Give pool and size_gb to create it.")
        if p["size_gb"] < 1:
            raise VnxError("create", "LUN %s" % p["name"], "size_gb must be at least 1", None)
    if p["size_gb"] is not None and p["size_gb"] > MAX_LUN_SIZE_GB:
        raise VnxError("size", "LUN %s" % p["name"], "%s GB is more than a VNX LUN can hold (%d GB, 256 TiB)"
                       % (p["size_gb"], MAX_LUN_SIZE_GB), "Give size_gb of at most %d." % MAX_LUN_SIZE_GB)
    if lun is None:
        pool = client.get_pool(p["pool"])
        if pool is None:
            raise VnxError("create", "LUN %s in pool %s" % (p["name"], p["pool"]), "the pool does not exist",
                           "Check the pool name (vnx_info lists the pools).", "VNXPoolNotFoundError")
        provisioning = p["provisioning"] or "thick"
        if provisioning == "thick" and pool.available_capacity_gb is not None and pool.available_capacity_gb < p["size_gb"]:
            raise VnxError("create", "LUN %s (%s GB, thick) in pool %s" % (p["name"], p["size_gb"], pool.name),
                           "the pool has %s GB available" % pool.available_capacity_gb,
                           "Choose a smaller size, thin provisioning, or another pool.")
        plan.add("create LUN %s (%s GB, %s) in pool %s" % (p["name"], p["size_gb"], provisioning, pool.name),
                 lambda: client.create_lun(pool.name, p["name"], p["size_gb"], provisioning, p["tiering"]))
        return
    if p["pool"] is not None and lun.pool is not None and p["pool"] != lun.pool:
        raise VnxError("move", "LUN %s to pool %s" % (lun.name, p["pool"]), "it is in pool %s" % lun.pool,
                       "Moving a LUN to another pool takes a LUN migration: use vnx_volume_clone with copy_mode=full.")
    if p["provisioning"] is not None and lun.provisioning is not None and p["provisioning"] != lun.provisioning:
        raise VnxError("change the provisioning of", "LUN %s" % lun.name,
                       "it is %s, %s was asked" % (lun.provisioning, p["provisioning"]),
                       "Provisioning changes take a LUN migration: use vnx_volume_clone with copy_mode=full.")
    if p["size_gb"] is not None and lun.size_gb is not None:
        if p["size_gb"] < lun.size_gb - 0.001:
            raise VnxError("shrink", "LUN %s" % lun.name, "it has %s GB and a VNX LUN cannot shrink" % lun.size_gb,
                           "Give size_gb of at least %s." % int(math.ceil(round(lun.size_gb, 3))))
        if p["size_gb"] > lun.size_gb + 0.001:
            if lun.is_snap_mount_point:
                raise VnxError("expand", "snap copy %s" % lun.name, "it is a snapshot mount point of %s" % lun.primary_lun,
                               "Convert it into a full copy first (vnx_volume_clone copy_mode=full).")
            if lun.provisioning == "thick":
                # the array refuses these, and check mode must say so
                if client.list_snapshots(lun.id):
                    raise VnxError("expand", "LUN %s" % lun.name, "it is a thick LUN with snapshots",
                                   HINT_THICK_WITH_SNAPSHOTS, "VNXLunExtendError")
                pool = client.get_pool(lun.pool) if lun.pool else None
                grow = p["size_gb"] - lun.size_gb
                if pool is not None and pool.available_capacity_gb is not None and grow > pool.available_capacity_gb:
                    raise VnxError("expand", "LUN %s to %s GB" % (lun.name, p["size_gb"]),
                                   "%.3f GB more are needed and pool %s has %s GB available"
                                   % (grow, pool.name, pool.available_capacity_gb),
                                   HINT_POOL_FULL, "VNXLunExtendError")
            plan.add("expand LUN %s from %s GB to %s GB" % (lun.name, lun.size_gb, p["size_gb"]),
                     lambda: client.expand_lun(lun, p["size_gb"]))
    if p["tiering"] is not None and p["tiering"] != lun.tiering:
        plan.add("set the tiering policy of LUN %s to %s" % (lun.name, p["tiering"]),
                 lambda: client.set_tiering(lun, p["tiering"]))


def plan_group(client, module, lun, plan):
    """Steps that make the LUN a member of consistency_group ('' : of none); returns the group after."""
    wanted = module.params["consistency_group"]
    name = module.params["name"]
    current = lun.consistency_group if lun is not None else None
    if wanted is None:
        return current
    if wanted == "":
        if current:
            plan.add("remove LUN %s from consistency group %s" % (name, current),
                     lambda: client.remove_from_consistency_group(current, lun))
        return None
    if lun is not None and lun.is_snap_mount_point:
        raise VnxError("add", "snap copy %s to consistency group %s" % (name, wanted),
                       "it is a snapshot mount point of LUN %s, and a snap copy cannot be in a consistency group "
                       "(a VNX limitation)" % lun.primary_lun,
                       "Convert it into a full copy first (vnx_volume_clone copy_mode=full), then add it.",
                       "VNXConsistencyGroupError")
    if current == wanted:
        return wanted
    if current:
        plan.add("remove LUN %s from consistency group %s" % (name, current),
                 lambda: client.remove_from_consistency_group(current, lun))
    group = client.get_consistency_group(wanted)

    def add():
        member = lun or client.get_lun(name=name)  # a LUN this run created: its id now
        client.join_consistency_group(wanted, member, create=group is None)
    if group is None:
        plan.add("create consistency group %s with LUN %s" % (wanted, name), add)
    else:
        plan.add("add LUN %s to consistency group %s" % (name, wanted), add)
    return wanted


def plan_rename(client, module, lun, plan):
    """Steps that give the LUN ``new_name``; returns the LUN the other options apply to (None: none)."""
    p = module.params
    new = p["new_name"]
    if not new or new == p["name"]:
        return lun
    taken = client.get_lun(name=new)
    if lun is None and taken is None:
        raise VnxError("rename", "LUN %s to %s" % (p["name"], new), "no LUN has either name",
                       "Check the names (vnx_info lists the LUNs); vnx_volume renames a LUN, it does not create one "
                       "under new_name.", "VNXLunNotFoundError")
    if lun is None:
        return taken  # renamed by an earlier run
    if taken is not None:
        raise VnxError("rename", "LUN %s to %s" % (lun.name, new),
                       "LUN %s (id %s, WWN %s) already has that name" % (taken.name, taken.id, taken.wwn),
                       "Rename or delete that LUN first, or choose another name; nothing was changed.",
                       "VNXLunNameInUseError")
    plan.add("rename LUN %s to %s" % (lun.name, new), lambda: client.rename_lun(lun, new))
    return lun


def check_not_a_migration_target(client, lun, plan):
    """The destination of a running migration belongs to the array until it completes: no change to it."""
    into = next((m for m in client.list_migrations() if m.dest_id == lun.id), None)
    if into is not None:
        asked = "; ".join(plan.actions)
        raise VnxError("change", "LUN %s" % lun.name,
                       "it is the destination of the running migration of LUN %s (%s, %s%% done); the array keeps it "
                       "private until then (asked: %s)" % (into.source_name, into.state, into.percent_complete, asked),
                       "Wait for the migration to complete (the LUN then disappears into %s), and change that LUN."
                       % into.source_name, "VNXLunUsedByFeatureError")


def predicted(lun, module):
    """The LUN as check mode expects it after the plan (for diff and facts)."""
    p = module.params
    if p["state"] == "absent":
        return None
    if lun is None:
        return Lun(id=None, name=p["name"], pool=p["pool"], size_gb=float(p["size_gb"]),
                   provisioning=p["provisioning"] or "thick", tiering=p["tiering"],
                   consistency_group=p["consistency_group"] or None).facts()
    after = lun.facts()
    if p["size_gb"] is not None and p["size_gb"] > (lun.size_gb or 0):
        after["size_gb"] = float(p["size_gb"])
    if p["tiering"] is not None:
        after["tiering"] = p["tiering"]
    if p["new_name"]:
        after["name"] = p["new_name"]
    return after


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        pool=dict(type="str"),
        size_gb=dict(type="int"),
        provisioning=dict(type="str", choices=["thin", "thick"]),
        tiering=dict(type="str", choices=["start_high_then_auto", "auto", "highest_available", "lowest_available",
                                          "no_movement"]),
        force=dict(type="bool", default=False),
        consistency_group=dict(type="str"),
        new_name=dict(type="str"),
    )
    module = VnxModule(argument_spec, names=dict(name="LUN", consistency_group="consistency group", new_name="new LUN name"),
                       empty_allowed=("consistency_group",))
    p = module.params
    if p["state"] == "absent" and p["new_name"]:
        module.fail_json(msg="new_name renames a LUN, it is only for state=present (LUN %s)" % p["name"])
    client = module.client()
    plans = []

    def attempt():
        plan = Plan()
        plans.append(plan)
        lun = client.get_lun(name=p["name"])
        group_after = None
        if p["state"] == "present":
            lun = plan_rename(client, module, lun, plan)
        if lun is not None:
            current = client.group_of(lun)
            lun.consistency_group = current.name if current else None
        if p["state"] == "absent":
            if lun is not None:
                plan_absent(client, module, lun, plan)
        else:
            plan_present(client, module, lun, plan)
            group_after = plan_group(client, module, lun, plan)
            if lun is not None and plan.changed:
                check_not_a_migration_target(client, lun, plan)
        before = lun.facts() if lun else None
        after = predicted(lun, module)
        if after is not None:
            after["consistency_group"] = group_after
        plan.apply(module.check_mode)
        if plan.changed and not module.check_mode and p["state"] == "present":
            final = client.get_lun(name=p["new_name"] or p["name"])
            if final is not None:
                group = client.group_of(final)
                final.consistency_group = group.name if group else None
            after = final.facts() if final else None
        return plan, before, after

    try:
        plan, before, after = converge(module, attempt)
    except VnxError as err:
        module.fail_on(err, actions=plans[-1].actions)
    result = dict(changed=plan.changed, actions=plan.actions, lun=after or {},
                  is_snap_copy=bool(after and after.get("is_snap_mount_point")))
    if module._diff:
        result["diff"] = dict(before=before or {}, after=after or {})
    module.exit_json(**result)


if __name__ == "__main__":
    main()
