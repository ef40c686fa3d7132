# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vnx_snapshot_manage planner from every start state to every wanted state.

A small model of the array's snapshot rules (names unique, at most 255 counted per LUN, no
snapshot or restore of a migrating LUN, an attached snapshot cannot be destroyed, a restore
takes a snapshot of the same LUN) answers the reads and runs each plan: every step must be
legal, a refusal must name the rule that makes the request impossible, the wanted state is
reached, and the next plan is empty (a restore is done again by design: it is an action).
"""

from __future__ import annotations

import copy
import itertools
import pytest

from ansible_collections.storage.datamotion.plugins.module_utils.vnx.client import (
    MANAGED_MARK, Lun, Migration, Snapshot, VnxError)
from ansible_collections.storage.datamotion.plugins.module_utils.vnx.snapshot import (
    SnapshotWanted, plan_snapshot, read_snapshot)

VOL_A, VOL_B = Lun(id=12, name="vol_a"), Lun(id=13, name="vol_b")
SNAPS = {
    "missing": None,
    "plain": Snapshot("s1", source_luns=[12], primary_luns=[12], allow_read_write=True),
    "managed": Snapshot("s1", description="nightly " + MANAGED_MARK, source_luns=[12], primary_luns=[12]),
    "of-vol_b": Snapshot("s1", source_luns=[13], primary_luns=[13]),
    "attached": Snapshot("s1", source_luns=[12], primary_luns=[12], attached_luns=[4100]),
}


class Model:
    def __init__(self, snap, migrating, full):
        self.snaps = {"src": Snapshot("src", source_luns=[12], primary_luns=[12], allow_read_write=True)}
        if SNAPS[snap] is not None:
            self.snaps["s1"] = copy.deepcopy(SNAPS[snap])
        self.luns = {"vol_a": VOL_A, "vol_b": VOL_B}
        self.migrating = migrating
        self.others = 254 if full else 0  # snapshots of vol_a besides these (src, and s1 when it is vol_a's)
        self.restores = 0

    def count(self, lun_id):
        return sum(1 for s in self.snaps.values() if lun_id in s.source_luns) + (self.others if lun_id == 12 else 0)

    # the client's reads
    def get_snapshot(self, name):
        return copy.deepcopy(self.snaps.get(name))

    def get_lun(self, name=None, lun_id=None):
        return self.luns.get(name) if name else next((v for v in self.luns.values() if v.id == lun_id), None)

    def get_migration(self, lun):
        return Migration(lun.id, lun.name, 77, "target", state="MIGRATING") if self.migrating and lun.id == 12 else None

    def snapshots_toward_limit(self, lun):
        return [None] * self.count(lun.id)

    # the array's rules, applied to a step
    def apply(self, step, want):
        if step.kind in ("create", "copy"):
            assert want.name not in self.snaps
            of = 12 if step.kind == "copy" else self.luns[want.lun].id
            assert self.count(of) < 255 and not (self.migrating and of == 12 and step.kind == "create")
            src = self.snaps[want.source_snapshot] if step.kind == "copy" else None
            self.snaps[want.name] = Snapshot(want.name, source_luns=[of], primary_luns=[of],
                                             description=src.description if src else "",
                                             allow_read_write=src.allow_read_write if src else step.options["allow_read_write"],
                                             auto_delete=src.auto_delete if src else step.options["auto_delete"])
        elif step.kind == "modify":
            snap = self.snaps[want.name]
            for k, v in step.options.items():
                if k != "keep_for":
                    setattr(snap, k, v)
        elif step.kind == "destroy":
            assert not self.snaps[want.name].attached_luns
            del self.snaps[want.name]
        elif step.kind == "restore":
            lun = self.luns[want.lun]
            assert lun.id in self.snaps[want.name].source_luns and not (self.migrating and lun.id == 12)
            if want.backup_snapshot:
                assert want.backup_snapshot not in self.snaps and self.count(lun.id) < 255
                self.snaps[want.backup_snapshot] = Snapshot(want.backup_snapshot, source_luns=[lun.id])
            self.restores += 1
        else:
            raise AssertionError(step.kind)


WANTS = {
    "present": SnapshotWanted("s1", lun="vol_a"),
    "present-no-lun": SnapshotWanted("s1"),
    "present+options": SnapshotWanted("s1", lun="vol_a", description="d", allow_read_write=False),
    "present-copy": SnapshotWanted("s1", source_snapshot="src", description="copy"),
    "present-missing-lun": SnapshotWanted("s1", lun="nosuch"),
    "absent": SnapshotWanted("s1", state="absent"),
    "absent-of-vol_a": SnapshotWanted("s1", state="absent", lun="vol_a"),
    "restored": SnapshotWanted("s1", state="restored", lun="vol_a"),
    "restored+backup": SnapshotWanted("s1", state="restored", lun="vol_a", backup_snapshot="before"),
    "managed": SnapshotWanted("s1", state="managed", lun="vol_a"),
    "unmanaged": SnapshotWanted("s1", state="unmanaged"),
}


def refusal(snap, migrating, full, want):
    """The error kind the rules make unavoidable, or None."""
    s = SNAPS[snap]
    if want.lun == "nosuch":
        return "NotFound"
    wrong_lun = s is not None and want.lun and 12 not in s.source_luns
    if want.state == "present":
        if s is None:
            if want.source_snapshot:
                return "VNXCreateSnapError" if full else None
            if not want.lun:
                return "no-lun"
            if migrating:
                return "VNXLunMigratingError"
            return "VNXCreateSnapError" if full else None
        return "ManageExistingInvalidReference" if wrong_lun else None
    if want.state == "absent":
        if s is None:
            return None
        if wrong_lun:
            return "ManageExistingInvalidReference"
        return "VNXDeleteAttachedSnapError" if s.attached_luns else None
    if want.state == "restored":
        if s is None:
            return "VNXSnapNotExistsError"
        if wrong_lun:
            return "ManageExistingInvalidReference"
        if migrating:
            return "VNXLunMigratingError"
        return "VNXCreateSnapError" if want.backup_snapshot and full else None
    if want.state == "managed":
        if s is None:
            return "ManageExistingInvalidReference"
        return "ManageExistingInvalidReference" if wrong_lun else None
    return None  # unmanaged


@pytest.mark.parametrize("want_key", sorted(WANTS))
@pytest.mark.parametrize("start", list(itertools.product(sorted(SNAPS), [False, True], [False, True])),
                         ids=lambda s: "%s-migrating=%s-full=%s" % s)
def test_every_start_reaches_the_wanted_state_or_is_refused_before_acting(start, want_key):
    want = WANTS[want_key]
    model = Model(*start)
    before = copy.deepcopy(model.snaps)
    try:
        steps, after = plan_snapshot(read_snapshot(model, want), want)
    except VnxError as err:
        assert (err.kind or "no-lun") == refusal(*start, want=want), str(err)
        assert model.snaps == before
        return
    assert refusal(*start, want=want) is None, steps
    for step in steps:
        model.apply(step, want)
    snap = model.snaps.get("s1")
    if want.state == "unmanaged" and SNAPS[start[0]] is None:
        assert steps == [] and snap is None
    elif want.state == "absent":
        assert snap is None
    elif want.state == "restored":
        assert model.restores == 1 and [s.kind for s in steps] == ["restore"]
        return
    else:
        assert snap is not None
        if want.state == "managed":
            assert snap.managed
        if want.state == "unmanaged":
            assert not snap.managed
        if want.state == "present" and want.description is not None:
            assert snap.user_description == want.description  # the management mark is kept apart from it
        if want.state == "present" and want.allow_read_write is not None:
            assert snap.allow_read_write == want.allow_read_write
        assert after["name"] == "s1" and after["managed"] == snap.managed
    again, dummy = plan_snapshot(read_snapshot(model, want), want)
    assert again == [], again


def test_a_copy_of_a_snapshot_counts_toward_its_lun_limit():
    model = Model("missing", False, True)
    with pytest.raises(VnxError) as e:
        plan_snapshot(read_snapshot(model, WANTS["present-copy"]), WANTS["present-copy"])
    assert "LUN vol_a has 255 snapshots" in str(e.value)
