# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vnx_volume_clone's plan of a copy that exists already, from every start state.

``read_existing_copy`` reads a small model of the array; the plan is then made with no client at
all (any read while planning fails the test), in check mode and in a real run alike: the steps it
plans, or the refusal it gives, are the table's.
"""

from __future__ import annotations

import copy

import pytest

from ansible_collections.storage.datamotion.plugins.module_utils.vnx.client import (
    COPY_MARK, MANAGED_MARK, Lun, Migration, Pool, Snapshot, VnxError, temporary_mark)
from ansible_collections.storage.datamotion.plugins.module_utils.vnx.clone import (
    ClonePlan, plan_clone, plan_existing_copy, read_clone, read_existing_copy)

SRC = Lun(id=1, name="src", wwn="60:01", pool="Pool0", size_gb=10.0, provisioning="thick")
OTHER = Lun(id=2, name="other", wwn="60:02", pool="Pool0", size_gb=10.0)
POOL = Pool("Pool0", available_capacity_gb=100.0)


def smp(**kw):
    return Lun(**dict(dict(id=20, name="c", wwn="60:20", pool="Pool0", size_gb=10.0, provisioning="thick",
                           is_snap_mount_point=True, primary_lun="src", attached_snapshot="tmp-snap-c"), **kw))


def snap(name="tmp-snap-c", description=COPY_MARK, **kw):
    fields = dict(source_luns=[1], primary_luns=[1], attached_luns=[20])
    fields.update(kw)
    return Snapshot(name, description=description, **fields)


class Array:
    """The reads read_existing_copy makes, answered from LUNs, snapshots and migrations."""

    def __init__(self, copy_lun, snaps=(), migration=None, luns=()):
        self.luns = dict((x.name, x) for x in (SRC, OTHER, copy_lun) + tuple(luns))
        self.snaps = dict((s.name, s) for s in snaps)
        self.migration = migration

    def get_lun(self, name=None, lun_id=None):
        return copy.deepcopy(self.luns.get(name) if name else next((x for x in self.luns.values() if x.id == lun_id), None))

    def get_snapshot(self, name):
        return copy.deepcopy(self.snaps.get(name))

    def get_migration(self, lun):
        return self.migration if self.migration and self.migration.source_id == lun.id else None

    def list_snapshots(self, lun_id=None):
        return [s for s in self.snaps.values() if lun_id is None or lun_id in s.source_luns]


START = {
    "full-copy": lambda: Array(Lun(id=20, name="c", wwn="60:20", pool="Pool0", size_gb=10.0, provisioning="thick")),
    "full-copy+temporary-snapshot": lambda: Array(
        Lun(id=20, name="c", wwn="60:20", pool="Pool0", size_gb=10.0),
        [snap(description=temporary_mark("60:20", "60:30"), attached_luns=[])]),
    "full-copy+users-snapshot": lambda: Array(
        Lun(id=20, name="c", wwn="60:20", pool="Pool0", size_gb=10.0), [snap(description="mine", attached_luns=[])]),
    # an asynchronous full copy renamed while it migrated: its snapshot has the copy's first name, ours by its mark
    "renamed-full-copy+temporary-snapshot": lambda: Array(
        Lun(id=20, name="c", wwn="60:20", pool="Pool0", size_gb=10.0),
        [snap("snap-as-vol-first", description=temporary_mark("60:20", "60:30"), attached_luns=[])]),
    "full-copy+anothers-temporary-snapshot": lambda: Array(
        Lun(id=20, name="c", wwn="60:20", pool="Pool0", size_gb=10.0),
        [snap("tmp-snap-other", description=temporary_mark("60:99", "60:30"), attached_luns=[])]),
    "other-size": lambda: Array(Lun(id=20, name="c", wwn="60:20", pool="Pool0", size_gb=50.0)),
    "snap-copy-of-other": lambda: Array(smp(primary_lun="other")),
    "snap-copy": lambda: Array(smp(), [snap()]),
    "snap-copy+users-snapshot": lambda: Array(smp(), [snap(description="mine " + MANAGED_MARK)]),
    "migrating": lambda: Array(smp(), [snap()], Migration(20, "c", 30, "c_dest", state="MIGRATING", percent_complete=5)),
    "migration-failed": lambda: Array(smp(), [snap()], Migration(20, "c", 30, "c_dest", state="FAULTED")),
    "interrupted": lambda: Array(smp(attached_snapshot=None)),
    "interrupted+leftover": lambda: Array(smp(attached_snapshot=None), [snap(attached_luns=[])]),
    "interrupted+users-snapshot": lambda: Array(smp(attached_snapshot=None), [snap(description="mine", attached_luns=[])]),
    "own-snapshots": lambda: Array(smp(), [snap(), snap("s-of-c", source_luns=[20], primary_luns=[20], attached_luns=[])]),
    "users-dest": lambda: Array(smp(), [snap()], luns=[Lun(id=30, name="c_dest", wwn="60:30", pool="Pool0", size_gb=20.0)]),
    "own-dest": lambda: Array(smp(), [snap(description=temporary_mark("60:20", "60:30"))],
                              luns=[Lun(id=30, name="c_dest", wwn="60:30", pool="Pool0", size_gb=10.0)]),
    "own-dest-too-small": lambda: Array(smp(), [snap(description=temporary_mark("60:20", "60:30"))],
                                        luns=[Lun(id=30, name="c_dest", wwn="60:30", pool="Pool0", size_gb=5.0)]),
}

MIGRATE = ["create LUN c_dest (10 GB, thick) in pool Pool0",
           "record LUN c_dest as the migration target of c on snapshot tmp-snap-c",
           "start the migration of c into c_dest (rate high)", "delete snapshot tmp-snap-c"]

# (start, copy_mode) -> the plan's actions, or the text of its refusal
EXPECTED = {
    ("full-copy", "full"): [],
    ("full-copy", "snap"): "a LUN with that name exists and is not a snap copy",
    ("full-copy+temporary-snapshot", "full"): ["delete snapshot tmp-snap-c"],
    ("full-copy+users-snapshot", "full"): [],
    ("renamed-full-copy+temporary-snapshot", "full"): ["delete snapshot snap-as-vol-first"],
    ("full-copy+anothers-temporary-snapshot", "full"): [],
    ("other-size", "full"): "its size (50.0 GB) is not that of a full copy of src",
    ("snap-copy-of-other", "full"): "c exists already as a snap copy of LUN other",
    ("snap-copy", "snap"): [],
    ("snap-copy", "full"): MIGRATE,
    ("snap-copy+users-snapshot", "full"): MIGRATE[:1] + MIGRATE[2:3],  # never recorded on, nor deleted
    ("migrating", "full"): ["delete snapshot tmp-snap-c"],
    ("migration-failed", "full"): "its migration stopped: FAULTED",
    ("interrupted", "snap"): ["create snapshot snap-as-vol-c of LUN src", "attach snapshot snap-as-vol-c to mount point c"],
    ("interrupted", "full"): ["create snapshot tmp-snap-c of LUN src", "attach snapshot tmp-snap-c to mount point c"]
    + MIGRATE,
    ("interrupted+leftover", "full"): ["delete snapshot tmp-snap-c left by an interrupted run",
                                       "create snapshot tmp-snap-c of LUN src",
                                       "attach snapshot tmp-snap-c to mount point c"] + MIGRATE,
    ("interrupted+users-snapshot", "full"): "snapshot tmp-snap-c exists and is not one an interrupted run",
    ("own-snapshots", "full"): "it has snapshots or snap copies of its own (s-of-c)",
    ("users-dest", "full"): "this collection did not make it as the migration target of c",
    ("own-dest", "full"): ["start the migration of c into c_dest (rate high)", "delete snapshot tmp-snap-c"],
    ("own-dest-too-small", "full"): "it is smaller (5.0 GB) than the copy (10.0 GB)",
}


class Module:
    def __init__(self, copy_mode, check_mode):
        self.check_mode = check_mode
        self.params = dict(name="c", names=None, source_lun="src", source_snapshot=None, copy_mode=copy_mode, pool=None,
                           provisioning=None, tiering=None, migration_rate="high", wait=True, wait_timeout=60,
                           consistency_group=None)


def plan(start, copy_mode, check_mode):
    array = START[start]()
    facts = read_existing_copy(array, array.get_lun(name="c"), SRC, copy_mode, settle=0)
    planned = ClonePlan(Module(copy_mode, check_mode).params, check_mode)  # no client: the plan cannot read
    plan_existing_copy(planned, facts, SRC, SRC, POOL)
    return planned.actions, planned


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check"])
@pytest.mark.parametrize("start,copy_mode", sorted(EXPECTED), ids=lambda x: x)
def test_every_start_of_an_existing_copy_is_planned_without_reading(start, copy_mode, check_mode):
    expected = EXPECTED[(start, copy_mode)]
    if isinstance(expected, str):
        with pytest.raises(VnxError) as err:
            plan(start, copy_mode, check_mode)
        assert expected in str(err.value)
        return
    actions, planned = plan(start, copy_mode, check_mode)
    assert actions == expected


def test_a_leftover_snapshot_is_reported_as_replaced():
    dummy, planned = plan("interrupted+leftover", "full", False)
    assert planned.warnings and "was left by an interrupted run" in planned.warnings[0]


def test_a_copy_that_a_parallel_run_attached_meanwhile_is_read_again():
    array = START["interrupted+leftover"]()
    read_snapshot = array.get_snapshot

    def get_snapshot(name):
        answer = read_snapshot(name)
        array.luns["c"] = smp()  # the other run attaches its snapshot right after this read
        array.snaps["tmp-snap-c"].attached_luns = [20]
        return answer
    array.get_snapshot = get_snapshot
    facts = read_existing_copy(array, array.get_lun(name="c"), SRC, "full", settle=0)
    assert facts.lun.attached_snapshot == "tmp-snap-c" and facts.leftover is None
    planned = ClonePlan(Module("full", False).params)
    plan_existing_copy(planned, facts, SRC, SRC, POOL)
    assert planned.actions == MIGRATE  # its snapshot is not taken again


def test_a_copy_gone_meanwhile_plans_nothing():
    array = START["interrupted+leftover"]()
    first = array.get_lun(name="c")
    del array.luns["c"]
    facts = read_existing_copy(array, first, SRC, "full", settle=0)
    planned = ClonePlan(Module("full", False).params)
    plan_existing_copy(planned, facts, SRC, SRC, POOL)
    assert facts.gone and planned.reports["c"]["clone_state"] == "snap_copy" and not any(planned.phases.values())


def test_a_migration_that_completed_between_reads_is_a_full_copy():
    array = START["snap-copy"]()
    first = array.get_lun(name="c")
    array.luns["c"] = Lun(id=20, name="c", wwn="60:20", pool="Pool0", size_gb=10.0)
    facts = read_existing_copy(array, first, SRC, "full", settle=0)
    assert not facts.lun.is_snap_mount_point and facts.migration is None


class Whole(Array):
    """The reads read_clone makes besides those of an existing copy."""

    def __init__(self, copies=(), snaps=(), migration=None, pool=POOL, counted=0, groups=()):
        Array.__init__(self, Lun(id=99, name="unrelated"), snaps, migration, copies)
        self.pool, self.counted, self.groups, self.asked = pool, counted, list(groups), []

    def get_pool(self, name):
        return self.pool if self.pool is not None and name == self.pool.name else None

    def list_luns(self):
        return list(self.luns.values())

    def list_consistency_groups(self):
        return self.groups

    def list_snapshots(self, lun_id=None):
        self.asked.append("list")
        many = [Snapshot("many-%d" % i, source_luns=[1], primary_luns=[1]) for i in range(self.counted)]
        return Array.list_snapshots(self, lun_id) + many

    def get_migration(self, lun):
        return self.migration if self.migration and self.migration.source_id == lun.id else None


def params(**kw):
    p = Module("full", False).params
    p.update(kw)
    return p


WHOLE = {
    "new": (Whole, {}, ["create snapshot tmp-snap-c of LUN src", "create snapshot mount point c of LUN src",
                        "attach snapshot tmp-snap-c to mount point c"] + MIGRATE),
    "new-snap": (Whole, dict(copy_mode="snap"), ["create snapshot snap-as-vol-c of LUN src",
                                                 "create snapshot mount point c of LUN src",
                                                 "attach snapshot snap-as-vol-c to mount point c"]),
    "source-missing": (Whole, dict(source_lun="nosuch"), "the source LUN does not exist"),
    "snapshot-missing": (Whole, dict(source_lun=None, source_snapshot="nosuch"), "the snapshot does not exist"),
    "cg-snapshot": (lambda: Whole(snaps=[snap("cgs", source_luns=[1, 2])]), dict(source_lun=None, source_snapshot="cgs"),
                    "it is not a snapshot of one LUN"),
    "copy-named-as-source": (Whole, dict(name="src"), "the copy's name is the source's name"),
    "twice": (Whole, dict(name=None, names=["c", "c"]), "a name is given twice"),
    "snap-in-cg": (Whole, dict(copy_mode="snap", consistency_group="g"), "a snap copy (snapshot mount point)"),
    "no-pool": (lambda: Whole(pool=None), {}, "the pool does not exist"),
    "pool-full": (lambda: Whole(pool=Pool("Pool0", available_capacity_gb=15.0)), dict(name=None, names=["c", "d"]),
                  "20 GB of thick LUNs are needed and the pool has 15.0 GB available"),
    "source-migrating": (lambda: Whole(migration=Migration(1, "src", 40, "x", state="MIGRATING", percent_complete=1)), {},
                         "LUN src is being migrated to x"),
    "at-the-limit-batch": (lambda: Whole(counted=254), dict(name=None, names=["c", "d"]), "LUN src has 254 snapshots"),
}


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check"])
@pytest.mark.parametrize("start", sorted(WHOLE))
def test_every_request_is_planned_from_what_was_read(start, check_mode):
    make, extra, expected = WHOLE[start]
    p = params(**extra)
    facts = read_clone(make(), p, settle=0)
    if isinstance(expected, str):
        with pytest.raises(VnxError) as err:
            plan_clone(facts, p, check_mode)  # no client: the plan cannot read
        assert expected in str(err.value)
        return
    assert plan_clone(facts, p, check_mode).actions == expected


def test_a_single_copy_is_refused_at_the_limit_alike_in_check_mode_and_a_real_run():
    """Check mode predicts the real run: both count the source's snapshots before planning, in one list."""
    messages = []
    for check_mode in (False, True):
        array = Whole(counted=255)
        facts = read_clone(array, params(), settle=0)
        with pytest.raises(VnxError, match="LUN src has 255 snapshots") as err:
            plan_clone(facts, params(), check_mode)
        messages.append(str(err.value))
        assert array.asked == ["list"]
    assert messages[0] == messages[1]


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check"])
def test_a_leftover_snapshot_is_replaced_and_a_users_refused_before_acting(check_mode):
    array = Whole(snaps=[snap(attached_luns=[])])
    planned = plan_clone(read_clone(array, params(), settle=0), params(), check_mode)
    assert planned.actions[0] == "delete snapshot tmp-snap-c left by an interrupted run"
    assert planned.warnings and "was left by an interrupted run" in planned.warnings[0]
    array = Whole(snaps=[snap(description="mine", attached_luns=[])])
    with pytest.raises(VnxError, match="is not one an interrupted run of this copy left"):
        plan_clone(read_clone(array, params(), settle=0), params(), check_mode)
