# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The planner over the whole SnapMirror state machine.

A small model of ONTAP's transitions (with its preconditions: no break while
uninitialized or transferring, no update unless mirrored and idle, no delete during a
transfer) runs each plan; from every reachable state to every desired state the plan
must be legal, reach the desired state, and the next plan must be empty.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from ansible_collections.storage.datamotion.plugins.module_utils.ontap.common import Relationship, Volume
from ansible_collections.storage.datamotion.plugins.module_utils.ontap.snapmirror import (
    Desired, done_with, plan, predict, wait_before,
)

SRC, DST = "svm_src:vol1", "svm_dst:vol1"

# every (state, status) a relationship can be found in, plus "missing"
REACHABLE = {
    "missing": None,
    "uninitialized/idle": ("uninitialized", "idle"),
    "uninitialized/transferring": ("uninitialized", "transferring"),
    "uninitialized/quiesced": ("uninitialized", "quiesced"),   # quiesced before its first transfer (ZAPI)
    "snapmirrored/idle": ("snapmirrored", "idle"),
    "snapmirrored/transferring": ("snapmirrored", "transferring"),
    "snapmirrored/quiescing": ("snapmirrored", "quiescing"),
    "paused/quiesced": ("paused", "quiesced"),
    "paused/quiescing": ("paused", "quiescing"),                 # REST: asked to pause, its transfer still running
    "broken_off/idle": ("broken_off", "idle"),
}

DESIRED = {
    "absent": dict(state="absent"),
    "snapmirrored": dict(relationship_state="snapmirrored"),
    "snapmirrored+max_lag": dict(relationship_state="snapmirrored", max_lag=3600),
    "paused": dict(relationship_state="paused"),
    "broken_off": dict(relationship_state="broken_off"),
    "broken_off-no-mount": dict(relationship_state="broken_off", mount_after_break=False),
    "snapmirrored+policy": dict(relationship_state="snapmirrored", policy="MirrorLatest", schedule="daily"),
}


class Model:
    """ONTAP's relationship transitions, with their preconditions (an illegal step fails the test)."""

    def __init__(self, key, lag=60, mounted=False):
        start = REACHABLE[key]
        self.rel = None
        if start is not None:
            self.rel = Relationship(SRC, DST, state=start[0], status=start[1], lag_time=lag, policy="MirrorAllSnapshots", schedule="hourly")
        self.volume = Volume("svm_dst", "vol1", type="dp", junction_path="/vol1" if mounted else None)
        if start is None:
            self.volume = None

    def settle(self):
        """What waiting does: a running transfer finishes, a quiescing relationship ends up quiesced."""
        rel = self.rel
        if rel is None:
            return
        if rel.status == "transferring":
            self.rel = replace(rel, state="snapmirrored", status="idle", lag_time=0)
        elif rel.status == "quiescing":
            self.rel = replace(rel, state="paused", status="quiesced")

    def do(self, action, desired):
        rel = self.rel
        if action == "create_volume":
            assert self.volume is None
            self.volume = Volume("svm_dst", "vol1", type="dp")
        elif action == "create":
            assert rel is None and self.volume is not None and self.volume.type == "dp"
            self.rel = Relationship(SRC, DST, state="uninitialized", policy=desired.policy or "MirrorAllSnapshots",
                                    schedule=desired.schedule)
        elif action == "modify":
            self.rel = replace(rel, policy=desired.policy or rel.policy,
                               schedule=rel.schedule if desired.schedule is None else desired.schedule)
        elif action == "initialize":
            assert rel.state == "uninitialized" and rel.status == "idle"
            self.rel = replace(rel, state="snapmirrored", status="idle", lag_time=0)
        elif action == "resync":
            assert rel.state == "broken_off"
            self.rel = replace(rel, state="snapmirrored", status="idle", lag_time=0)
            self.volume = replace(self.volume, type="dp")
        elif action == "resume":
            assert rel.state == "paused" or rel.status in ("quiesced", "quiescing")
            self.rel = replace(rel, state="uninitialized" if rel.state == "uninitialized" or rel.lag_time is None else "snapmirrored",
                               status="idle")
        elif action == "quiesce":
            assert rel.state != "broken_off"
            self.settle()   # quiesce waits for the running transfer (or aborts it)
            self.rel = replace(self.rel, state="paused", status="quiesced")
        elif action == "break":
            assert rel.state == "paused" and rel.lag_time is not None, "break needs an initialized, quiesced relationship"
            assert rel.status != "quiescing", "ONTAP refuses a break while the quiesce runs"
            self.rel = replace(rel, state="broken_off", status="idle")
            self.volume = replace(self.volume, type="rw")
        elif action == "unmount":
            assert self.volume.junction_path
            self.volume = replace(self.volume, junction_path=None)
        elif action == "mount":
            assert self.rel.state == "broken_off" and not self.volume.junction_path
            self.volume = replace(self.volume, junction_path=desired.junction)
        elif action == "update":
            # a transfer already running is refused with "transfer in progress", which the applier counts as the update
            assert rel.state == "snapmirrored" and rel.status in ("idle", "transferring")
            self.rel = replace(rel, lag_time=0)
        elif action == "abort":
            assert rel.status in ("transferring", "quiescing")
            self.rel = replace(rel, state="paused" if rel.status == "quiescing" and rel.lag_time is not None else rel.state,
                               status="quiesced" if rel.status == "quiescing" else "idle")
        elif action == "delete":
            assert rel.status not in ("transferring", "quiescing"), "ONTAP refuses to delete while a transfer runs (17137)"
            self.rel = None
        elif action == "release":
            assert self.rel is None
        else:
            raise AssertionError(action)
        if action in ("initialize", "resync", "update", "abort"):
            self.settle()


def desired_of(key, **extra):
    options = dict(DESIRED[key], **extra)
    return Desired(destination_path=DST, source_path=SRC, create_destination=True, **options)


def converged(model, desired):
    if desired.state == "absent":
        return model.rel is None
    rel = model.rel
    if rel is None:
        return False
    if desired.policy and rel.policy != desired.policy:
        return False
    if desired.relationship_state == "broken_off" and desired.mount_after_break and not model.volume.junction_path:
        return False
    return rel.state == desired.relationship_state


@pytest.mark.parametrize("start,target", list(itertools.product(REACHABLE, DESIRED)))
def test_every_state_converges_in_one_run_and_the_second_run_does_nothing(start, target):
    model = Model(start)
    desired = desired_of(target)
    actions = plan(desired, model.rel, model.volume)
    for action in actions:
        if wait_before(action, model.rel):
            model.settle()   # the applier waits before this action
        model.do(action, desired)
    model.settle()   # the module waits for what it started
    assert converged(model, desired), (actions, model.rel)
    assert plan(desired, model.rel, model.volume) == []
    # check mode predicts the state the run reaches
    predicted = predict(desired, REACHABLE[start] and Model(start).rel, actions)
    assert (predicted is None) == (model.rel is None)
    if predicted is not None:
        assert predicted.state == model.rel.state


def test_missing_relationship_is_created_with_its_volume_and_initialized():
    assert plan(desired_of("snapmirrored"), None, None) == ["create_volume", "create", "initialize"]
    assert plan(desired_of("snapmirrored"), None, Volume("svm_dst", "vol1", type="dp")) == ["create", "initialize"]


def test_failover_quiesces_breaks_and_mounts():
    model = Model("snapmirrored/idle")
    assert plan(desired_of("broken_off"), model.rel, model.volume) == ["quiesce", "break", "mount"]
    assert plan(desired_of("broken_off-no-mount"), model.rel, model.volume) == ["quiesce", "break"]


def test_broken_off_volume_mounted_elsewhere_is_left_alone():
    model = Model("broken_off/idle", mounted=True)
    assert plan(desired_of("broken_off", junction_path="/other"), model.rel, model.volume) == []


def test_dp_volume_mounted_elsewhere_is_remounted_at_the_break():
    # issue 17, probe finding 7: a DP volume an admin mounted elsewhere stayed there after the failover
    model = Model("snapmirrored/idle", mounted=True)
    assert plan(desired_of("broken_off", junction_path="/other"), model.rel, model.volume) == ["quiesce", "break", "unmount", "mount"]
    assert plan(desired_of("broken_off", junction_path="/vol1"), model.rel, model.volume) == ["quiesce", "break"]
    # the re-plan after the break (the applier waits for it) still remounts; a re-run, where the break was earlier, does not
    after = Model("broken_off/idle", mounted=True)
    assert plan(done_with(desired_of("broken_off", junction_path="/other"), ["quiesce", "break"]), after.rel, after.volume) == ["unmount", "mount"]
    assert plan(desired_of("broken_off", junction_path="/other"), after.rel, after.volume) == []
    # without a junction path given, the volume is left where it is mounted
    assert plan(desired_of("broken_off"), model.rel, model.volume) == ["quiesce", "break"]


def test_delete_aborts_a_running_transfer_first_and_releases():
    assert plan(desired_of("absent"), Model("snapmirrored/transferring").rel, source_record=True) == ["abort", "delete", "release"]
    assert plan(desired_of("absent"), Model("snapmirrored/quiescing").rel) == ["abort", "delete"]
    assert plan(desired_of("absent"), Model("paused/quiesced").rel, source_record=True) == ["delete", "release"]
    # no release is planned where the source does not list the destination (or cannot be asked)
    assert plan(desired_of("absent"), Model("paused/quiesced").rel) == ["delete"]
    assert plan(desired_of("absent"), None) == []
    assert plan(desired_of("absent"), None, source_record=True) == ["release"]


def test_update_true_transfers_on_every_run():
    rel = Model("snapmirrored/idle", lag=0).rel
    assert plan(desired_of("snapmirrored", update=True), rel) == ["update"]


def test_max_lag_transfers_only_when_the_lag_is_too_large():
    assert plan(desired_of("snapmirrored+max_lag"), Model("snapmirrored/idle", lag=7200).rel) == ["update"]
    assert plan(desired_of("snapmirrored+max_lag"), Model("snapmirrored/idle", lag=3600).rel) == []
    assert plan(desired_of("snapmirrored+max_lag"), Model("snapmirrored/idle", lag=None).rel) == ["update"]
    # a transfer already running will bring the lag down: no second one
    assert plan(desired_of("snapmirrored+max_lag"), Model("snapmirrored/transferring", lag=7200).rel) == []


def test_no_update_on_top_of_a_baseline_or_resync():
    assert plan(desired_of("snapmirrored", update=True), Model("uninitialized/idle").rel) == ["initialize"]
    assert plan(desired_of("snapmirrored", update=True), Model("broken_off/idle").rel) == ["resync"]
    assert plan(desired_of("snapmirrored", update=True), Model("paused/quiesced").rel) == ["resume", "update"]


def test_policy_and_schedule_are_changed_only_when_they_differ():
    rel = Model("snapmirrored/idle").rel
    assert plan(desired_of("snapmirrored", policy="MirrorAllSnapshots", schedule="hourly"), rel) == []
    assert plan(desired_of("snapmirrored", schedule="daily"), rel) == ["modify"]
    assert plan(desired_of("snapmirrored", schedule=""), rel) == ["modify"]
    assert plan(desired_of("snapmirrored", policy="MirrorLatest"), rel) == ["modify"]
    assert plan(desired_of("snapmirrored"), rel) == []


def test_predict_shows_the_desired_state_and_keeps_untouched_relationships():
    rel = Model("snapmirrored/idle").rel
    assert predict(desired_of("snapmirrored"), rel, []) is rel
    after = predict(desired_of("paused"), rel, ["quiesce"])
    assert (after.state, after.status) == ("paused", "quiesced")
    assert predict(desired_of("absent"), rel, ["delete", "release"]) is None
    new = predict(desired_of("snapmirrored", policy="MirrorLatest"), None, ["create", "initialize"])
    assert (new.state, new.policy, new.source_path) == ("snapmirrored", "MirrorLatest", SRC)


def test_reverse_resync_creates_onto_a_read_write_volume_and_resyncs():
    rw = Volume(svm="svm_dst", name="vol1", type="rw", junction_path="/vol1")
    assert plan(Desired(DST, SRC, reverse_resync=True), None, rw) == ["create", "resync"]
    # without the flag, or onto a DP volume, a new relationship is initialized as before
    assert plan(Desired(DST, SRC), None, rw) == ["create", "initialize"]
    assert plan(Desired(DST, SRC, reverse_resync=True), None, replace(rw, type="dp")) == ["create", "initialize"]


def run_replanning(model, desired, interference=None, limit=12):
    """The applier's loop on the model: one action, then (its wait) plan again from what is read.

    ``interference(model, step)`` may change the relationship between steps, as another run would.
    Returns the actions taken."""
    taken = []
    for step in range(limit):
        actions = plan(done_with(desired, taken), model.rel, model.volume, source_record=False)
        if not actions:
            return taken
        before = wait_before(actions[0], model.rel)
        if before:
            model.settle()   # what the wait does
            continue
        model.do(actions[0], desired)
        taken.append(actions[0])
        if interference:
            interference(model, step)
    raise AssertionError("no convergence: %s" % taken)


@pytest.mark.parametrize("start,target", list(itertools.product(REACHABLE, DESIRED)))
def test_replanning_after_every_action_converges_without_repeating_a_transfer(start, target):
    model = Model(start)
    desired = desired_of(target, update=True) if target == "snapmirrored" else desired_of(target)
    taken = run_replanning(model, desired)
    model.settle()
    assert converged(model, desired), (taken, model.rel)
    assert taken.count("update") <= 1


def test_a_failover_finished_by_someone_else_ends_the_wait_and_mounts():
    # item 5: while our quiesce waits, another admin aborts and breaks
    model = Model("snapmirrored/idle")
    desired = desired_of("broken_off")

    def other_admin(model, step):
        if step == 0:
            model.rel = replace(model.rel, state="broken_off", status="idle")
            model.volume = replace(model.volume, type="rw")
    assert run_replanning(model, desired, other_admin) == ["quiesce", "mount"]


def test_a_break_waits_for_a_running_quiesce():
    rel = Model("paused/quiescing").rel
    assert plan(desired_of("broken_off"), rel, Model("paused/quiescing").volume) == ["break", "mount"]
    assert wait_before("break", rel) == "quiesced"
    assert wait_before("break", Model("paused/quiesced").rel) is None


def test_an_update_is_asked_for_once():
    desired = desired_of("snapmirrored", update=True)
    assert done_with(desired, ["update"]).update is False and done_with(desired, ["resume"]).update is True


def test_predict_gives_a_new_relationship_the_clusters_default_policy_and_a_sync_one_in_sync():
    new = predict(desired_of("snapmirrored"), None, ["create", "initialize"], default_policy="Asynchronous")
    assert (new.policy, new.state) == ("Asynchronous", "snapmirrored")
    sync = predict(desired_of("snapmirrored", policy="Sync"), None, ["create", "initialize"], policy_types={"Sync": "sync"})
    assert (sync.policy, sync.state) == ("Sync", "in_sync")
