# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vnx_volume planner from every start state to every wanted state.

A small model of the array's LUN rules (a LUN only grows, a thick LUN with snapshots does not,
a LUN with snapshots, snap copies, a migration, storage-group or consistency-group membership
cannot be destroyed, a migration target is private, a snap copy is in no consistency group)
answers the reads and runs each plan: every step must be legal, a refusal must say why before
anything is done, the wanted state is reached, and the next plan is empty.
"""

from __future__ import annotations

import copy

import pytest

from ansible_collections.storage.datamotion.plugins.module_utils.vnx.client import (
    COPY_MARK, MANAGED_MARK, ConsistencyGroup, Lun, Migration, Pool, Snapshot, StorageGroup, VnxError,
    temporary_mark)
from ansible_collections.storage.datamotion.plugins.module_utils.vnx.volume import (
    VolumeWanted, plan_volume, read_volume)

WWN = "60:06:01:60:00:00:00:00:00:00:00:00:00:00:00:0C"


def vol(**kw):
    return Lun(**dict(dict(id=12, name="vol", wwn=WWN, pool="Pool0", size_gb=10.0, provisioning="thick",
                           tiering="auto"), **kw))


class Model:
    """The array: LUNs by name, snapshots by name, migrations, storage groups, consistency groups."""

    def __init__(self, start):
        self.luns = {"src": Lun(id=1, name="src", pool="Pool0", size_gb=10.0, provisioning="thick")}
        self.snaps, self.migrations, self.sgs, self.cgs = {}, [], {}, {"cg0": ConsistencyGroup("cg0", [])}
        self.pools = {"Pool0": Pool("Pool0", available_capacity_gb=100.0)}
        self.reads = []
        START[start](self)

    def add(self, lun):
        self.luns[lun.name] = lun
        return lun

    def lun_by_id(self, lun_id):
        return next((v for v in self.luns.values() if v.id == lun_id), None)

    # the client's reads
    def get_lun(self, name=None, lun_id=None):
        self.reads.append("get_lun")
        lun = self.luns.get(name) if name else self.lun_by_id(lun_id)
        if lun is not None:
            lun = copy.deepcopy(lun)
            lun.snapshot_mount_points = [m.id for m in self.luns.values() if m.primary_lun == lun.name]
        return lun

    def group_of(self, lun):
        return next((copy.deepcopy(g) for g in self.cgs.values() if lun.id in g.lun_ids), None)

    def get_pool(self, name):
        return self.pools.get(name)

    def get_consistency_group(self, name):
        return self.cgs.get(name)

    def list_snapshots(self, lun_id=None):
        return [copy.deepcopy(s) for s in self.snaps.values() if lun_id is None or lun_id in s.source_luns]

    def get_snapshot(self, name):
        return copy.deepcopy(self.snaps.get(name))

    def list_migrations(self):
        return list(self.migrations)

    def list_storage_groups(self):
        return [copy.deepcopy(g) for g in self.sgs.values()]

    # the array's rules, applied to a step
    def apply(self, step):
        o, kind = step.options, step.kind
        lun = self.lun_by_id(step.lun.id) if step.lun is not None and step.lun.id is not None else None
        if kind == "create_lun":
            assert o["name"] not in self.luns and o["pool"] in self.pools
            self.add(Lun(id=max(v.id for v in self.luns.values()) + 1, name=o["name"], pool=o["pool"],
                         size_gb=float(o["size_gb"]), provisioning=o["provisioning"], tiering=o["tiering"]))
        elif kind == "expand_lun":
            assert o["size_gb"] > lun.size_gb and not lun.is_snap_mount_point
            assert not (lun.provisioning == "thick" and self.list_snapshots(lun.id))
            lun.size_gb = float(o["size_gb"])
        elif kind == "set_tiering":
            lun.tiering = o["tiering"]
        elif kind == "rename_lun":
            assert o["new_name"] not in self.luns
            del self.luns[lun.name]
            lun.name = o["new_name"]
            self.luns[lun.name] = lun
        elif kind == "join_group":
            member = lun or self.luns[o["name"]]
            assert not member.is_snap_mount_point and (o["group"] in self.cgs) != o["create"]
            assert not any(member.id in g.lun_ids for g in self.cgs.values())
            self.cgs.setdefault(o["group"], ConsistencyGroup(o["group"], [])).lun_ids.append(member.id)
        elif kind == "leave_group":
            self.cgs[o["group"]].lun_ids.remove(lun.id)
        elif kind == "cancel_migration":
            self.migrations = [m for m in self.migrations if m.source_id != lun.id]
        elif kind == "remove_hlu":
            del self.sgs[o["group"]].hlus[o["hlu"]]
        elif kind == "destroy_snapshot":
            assert not self.snaps[o["name"]].attached_luns, "an attached snapshot"
            del self.snaps[o["name"]]
            for m in self.luns.values():
                if m.attached_snapshot == o["name"]:
                    m.attached_snapshot = None
        elif kind == "destroy_lun":
            assert not self.list_snapshots(lun.id), "a LUN with snapshots"
            assert not any(m.primary_lun == lun.name for m in self.luns.values()), "a LUN with snap copies"
            assert not any(lun.id in (m.source_id, m.dest_id) for m in self.migrations), "a migrating LUN"
            assert not any(g.hlu_of(lun.id) is not None for g in self.sgs.values()), "a LUN in a storage group"
            assert not any(lun.id in g.lun_ids for g in self.cgs.values()), "a consistency group member"
            assert not any(s.attached_luns == [lun.id] for s in self.snaps.values()) or o["force_detach"]
            for s in self.snaps.values():
                s.attached_luns = [i for i in s.attached_luns if i != lun.id]
            del self.luns[lun.name]
        else:
            raise AssertionError(kind)


def _snap_copy(m, name="vol", snap="snap-as-vol-vol", of=1):
    m.snaps[snap] = Snapshot(snap, description=COPY_MARK, source_luns=[of], attached_luns=[20])
    return m.add(Lun(id=20, name=name, wwn="60:14", pool="Pool0", size_gb=10.0, provisioning="thin",
                     is_snap_mount_point=True, primary_lun=m.lun_by_id(of).name, attached_snapshot=snap))


START = {
    "absent": lambda m: None,
    "present": lambda m: m.add(vol()),
    "smaller": lambda m: m.add(vol(size_gb=5.0)),
    "thin": lambda m: m.add(vol(provisioning="thin")),
    "other-pool": lambda m: m.add(vol(pool="Pool1")),
    "thick+snapshot": lambda m: (m.add(vol(size_gb=5.0)), m.snaps.update(s1=Snapshot("s1", source_luns=[12]))),
    "managed-snapshot": lambda m: (m.add(vol()), m.snaps.update(s1=Snapshot("s1", MANAGED_MARK, source_luns=[12]))),
    "cg-snapshot": lambda m: (m.add(vol()), m.snaps.update(
        s1=Snapshot("s1", source_luns=[12, 1], source_consistency_group="cg0"))),
    "snap-copy": _snap_copy,
    "has-snap-copy": lambda m: (m.add(vol()), _snap_copy(m, name="copy", snap="snap-as-vol-copy", of=12)),
    "migrating": lambda m: (m.add(vol()), m.add(Lun(id=30, name="vol_dest", pool="Pool0")),
                            m.migrations.append(Migration(12, "vol", 30, "vol_dest", state="MIGRATING",
                                                          percent_complete=40))),
    # a full copy on its way (vnx_volume_clone wait=false): its snapshot's mark names the target made for it
    "copy-migrating": lambda m: (
        m.snaps.update({"tmp-snap-vol": Snapshot("tmp-snap-vol", temporary_mark(WWN, "60:30"), source_luns=[1],
                                                 attached_luns=[12])}),
        m.add(vol(is_snap_mount_point=True, primary_lun="src", attached_snapshot="tmp-snap-vol")),
        m.add(Lun(id=30, name="vol_dest", wwn="60:30", pool="Pool0")),
        m.migrations.append(Migration(12, "vol", 30, "vol_dest", state="MIGRATING", percent_complete=40))),
    "migration-target": lambda m: (m.add(vol()), m.migrations.append(
        Migration(1, "src", 12, "vol", state="MIGRATING", percent_complete=40))),
    "storage-group": lambda m: (m.add(vol()), m.sgs.update(host1=StorageGroup("host1", hlus={3: 12}))),
    "in-cg": lambda m: (m.add(vol()), m.cgs["cg0"].lun_ids.append(12)),
    # an interrupted asynchronous full copy left its snapshot on the source: ours by its mark
    "leftover-temporary": lambda m: (m.add(vol()), m.snaps.update({"tmp-snap-vol": Snapshot(
        "tmp-snap-vol", temporary_mark(WWN, "60:30"), source_luns=[1])})),
    # an asynchronous full copy renamed while it migrated: its snapshot has the copy's first name, ours by its mark
    "renamed-temporary": lambda m: (m.add(vol()), m.snaps.update({"snap-as-vol-first": Snapshot(
        "snap-as-vol-first", temporary_mark(WWN, "60:30"), source_luns=[1])})),
    # another copy's temporary snapshot: its mark names that copy's WWN
    "others-temporary": lambda m: (m.add(vol()), m.snaps.update({"tmp-snap-other": Snapshot(
        "tmp-snap-other", temporary_mark("60:99", "60:30"), source_luns=[1])})),
    # a user's snapshot that happens to carry our name: never ours
    "users-tmp-snap": lambda m: (m.add(vol()), m.snaps.update({"tmp-snap-vol": Snapshot(
        "tmp-snap-vol", "the user's", source_luns=[1])})),
    "renamed": lambda m: m.add(vol(name="vol2")),
    "both-names": lambda m: (m.add(vol()), m.add(vol(id=13, name="vol2", wwn="60:13"))),
}

WANTS = {
    "present": VolumeWanted("vol", pool="Pool0", size_gb=10),
    "grow": VolumeWanted("vol", size_gb=20),
    "grow-too-much": VolumeWanted("vol", size_gb=500),
    "shrink": VolumeWanted("vol", size_gb=4),
    "thin": VolumeWanted("vol", provisioning="thin"),
    "tiering": VolumeWanted("vol", tiering="highest_available"),
    "cg1": VolumeWanted("vol", consistency_group="cg1"),
    "no-cg": VolumeWanted("vol", consistency_group=""),
    "rename": VolumeWanted("vol", new_name="vol2"),
    "absent": VolumeWanted("vol", state="absent"),
    "absent-force": VolumeWanted("vol", state="absent", force=True),
}

# (start, want) -> the step kinds of the plan, or the text of its refusal
EXPECTED = {
    ("absent", "present"): ["create_lun"],
    ("absent", "grow"): "it does not exist and pool not given",
    ("absent", "cg1"): "it does not exist and pool and size_gb not given",
    ("absent", "rename"): "no LUN has either name",
    ("absent", "absent"): [],
    ("present", "present"): [],
    ("present", "grow"): ["expand_lun"],
    ("present", "grow-too-much"): "pool Pool0 has 100.0 GB available",
    ("present", "shrink"): "it has 10.0 GB and a VNX LUN cannot shrink",
    ("present", "thin"): "it is thick, thin was asked",
    ("present", "tiering"): ["set_tiering"],
    ("present", "cg1"): ["join_group"],
    ("present", "no-cg"): [],
    ("present", "rename"): ["rename_lun"],
    ("present", "absent"): ["destroy_lun"],
    ("smaller", "present"): ["expand_lun"],
    ("smaller", "grow"): ["expand_lun"],
    ("thin", "grow-too-much"): ["expand_lun"],  # a thin LUN may be subscribed past the pool
    ("thin", "thin"): [],
    ("other-pool", "present"): "it is in pool Pool1",
    ("thick+snapshot", "grow"): "it is a thick LUN with snapshots",
    ("thick+snapshot", "absent"): "it has snapshots s1",
    ("thick+snapshot", "absent-force"): ["destroy_snapshot", "destroy_lun"],
    ("managed-snapshot", "absent-force"): "it has managed snapshots: s1",
    ("cg-snapshot", "absent-force"): "s1 (of consistency group cg0, LUNs src)",
    ("snap-copy", "grow"): "it is a snapshot mount point of src",
    ("snap-copy", "cg1"): "a snap copy cannot be in a consistency group",
    ("snap-copy", "absent"): ["destroy_lun", "destroy_snapshot"],  # and the snapshot made for it
    ("has-snap-copy", "absent"): "it has snap copies (snapshot mount points) copy",
    ("has-snap-copy", "absent-force"): ["destroy_lun", "destroy_snapshot", "destroy_lun"],
    ("migrating", "absent"): "it is migrating to LUN vol_dest (MIGRATING, 40% done)",
    ("migrating", "absent-force"): ["cancel_migration", "destroy_lun"],  # an administrator's target is kept
    ("copy-migrating", "absent-force"): ["cancel_migration", "destroy_lun", "destroy_snapshot", "destroy_lun"],
    ("migrating", "tiering"): ["set_tiering"],
    ("migrating", "grow"): "it is migrating to LUN vol_dest (MIGRATING, 40% done)",
    ("migration-target", "absent-force"): "it is the destination of the running migration of LUN src",
    ("migration-target", "tiering"): "the array keeps it private until then (asked: set the tiering policy",
    ("migration-target", "present"): [],
    ("storage-group", "absent"): "it is in storage groups host1",
    ("storage-group", "absent-force"): ["remove_hlu", "destroy_lun"],
    ("in-cg", "cg1"): ["leave_group", "join_group"],
    ("in-cg", "no-cg"): ["leave_group"],
    ("in-cg", "absent"): "it is a member of consistency group cg0",
    ("in-cg", "absent-force"): ["leave_group", "destroy_lun"],
    ("leftover-temporary", "absent"): ["destroy_lun", "destroy_snapshot"],
    ("users-tmp-snap", "absent"): ["destroy_lun"],
    ("renamed-temporary", "absent"): ["destroy_lun", "destroy_snapshot"],
    ("others-temporary", "absent"): ["destroy_lun"],
    ("renamed", "rename"): [],
    ("renamed", "present"): ["create_lun"],  # no new_name: another LUN's name is no reason to adopt it
    ("both-names", "rename"): "LUN vol2 (id 13, WWN 60:13) already has that name",
}


@pytest.mark.parametrize("start,want_key", sorted(EXPECTED), ids=lambda x: x)
def test_every_start_reaches_the_wanted_state_or_is_refused_before_acting(start, want_key):
    want, expected = WANTS[want_key], EXPECTED[(start, want_key)]
    model = Model(start)
    facts = read_volume(model, want)
    before = copy.deepcopy((model.luns, model.snaps, model.migrations, model.sgs, model.cgs))
    if isinstance(expected, str):
        with pytest.raises(VnxError) as err:
            plan_volume(facts, want)
        assert expected in str(err.value)
        assert (model.luns, model.snaps, model.migrations, model.sgs, model.cgs) == before
        return
    steps, after = plan_volume(facts, want)
    assert [s.kind for s in steps] == expected, [s.text for s in steps]
    for step in steps:
        model.apply(step)
    lun = model.luns.get(want.new_name or want.name)
    if want.state == "absent":
        assert lun is None and after is None
        if start == "users-tmp-snap":
            assert "tmp-snap-vol" in model.snaps  # not ours: kept
        assert not any(s.description in (COPY_MARK,) or s.temporary_of(WWN) for s in model.snaps.values())
    else:
        assert lun is not None
        for k in ("size_gb", "tiering", "name"):
            assert after[k] == getattr(lun, k), k
        if want.consistency_group is not None:
            assert after["consistency_group"] == (want.consistency_group or None)
            assert model.group_of(lun) == (model.cgs.get(want.consistency_group))
    again, dummy = plan_volume(read_volume(model, want), want)
    assert again == [], [s.text for s in again]


def test_planning_is_the_same_for_the_same_facts_and_reads_nothing():
    """Check mode and the real run plan from the same facts: the planner itself asks the array nothing."""
    model = Model("migrating")
    want = WANTS["absent-force"]
    facts = read_volume(model, want)
    reads = list(model.reads)
    first = plan_volume(facts, want)
    assert plan_volume(copy.deepcopy(facts), want) == first
    assert model.reads == reads


def test_a_refusal_names_the_steps_planned_before_it():
    model = Model("both-names")
    want = VolumeWanted("vol", new_name="vol2", tiering="no_movement")
    with pytest.raises(VnxError) as err:
        plan_volume(read_volume(model, want), want)
    assert err.value.planned == []
    model = Model("migration-target")
    want = WANTS["tiering"]
    with pytest.raises(VnxError) as err:
        plan_volume(read_volume(model, want), want)
    assert err.value.planned == ["set the tiering policy of LUN vol to highest_available"]


def test_deleting_a_migrating_copy_deletes_its_migration_target_last():
    model = Model("copy-migrating")
    steps, dummy = plan_volume(read_volume(model, WANTS["absent-force"]), WANTS["absent-force"])
    assert [s.text for s in steps] == ["cancel the migration of LUN vol", "delete snap copy vol",
                                       "delete snapshot tmp-snap-vol of the copy", "delete migration target LUN vol_dest"]


def test_deleting_a_lun_an_administrator_migrates_keeps_the_migration_target():
    model = Model("migrating")
    steps, dummy = plan_volume(read_volume(model, WANTS["absent-force"]), WANTS["absent-force"])
    assert [s.text for s in steps] == ["cancel the migration of LUN vol", "delete LUN vol"]
    assert "vol_dest" in model.luns
