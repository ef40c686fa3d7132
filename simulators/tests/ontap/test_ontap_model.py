# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The state model on its own, with a clock the test moves: ONTAP's SnapMirror state machine."""

import pytest

from datamotion_sim.ontap.match import duration_seconds, iso_duration, match_value
from datamotion_sim.ontap.model import GIB, MIB, Model, SimError

PATH = "svm_dst:vol1"


class Clock:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def model(clock):
    model = Model(clock=clock)
    model.create_volume("src", "svm_src", "vol1", GIB, "aggr1")
    model.create_volume("dst", "svm_dst", "vol1", GIB, "aggr1", "dp")
    model.write("src", "svm_src", "vol1", 500 * MIB)
    model.create_relationship("dst", "svm_src:vol1", PATH)
    return model


def rel(model):
    return model.relationship("dst", destination_path=PATH)


def kind_of(call, *args, **kwargs):
    with pytest.raises(SimError) as caught:
        call(*args, **kwargs)
    return caught.value.kind


def test_transfer_time_is_proportional_to_changed_data(model, clock):
    model.initialize("dst", PATH)
    assert (rel(model).mirror_state, rel(model).status) == ("uninitialized", "transferring")
    clock.now += 0.4  # 500 MiB at 1000 MiB/s takes 0.5 s
    assert rel(model).transfer.bytes_done(clock.now) == int(500 * MIB * 0.8)
    clock.now += 0.2
    assert (rel(model).mirror_state, rel(model).status) == ("snapmirrored", "idle")
    assert rel(model).last_transfer.bytes_total == 500 * MIB
    model.write("src", "svm_src", "vol1", 10 * MIB)
    transfer = model.update("dst", PATH)
    assert transfer.bytes_total == 10 * MIB
    assert transfer.end - transfer.start == pytest.approx(0.1)  # the floor, 10 MiB would take 0.01 s


def test_lag_counts_from_the_last_transfers_snapshot(model, clock):
    assert model.lag(rel(model)) is None
    model.initialize("dst", PATH)
    clock.now += 1
    assert model.lag(rel(model)) == 1
    clock.now += 3600
    assert model.lag(rel(model)) == 3601


@pytest.mark.parametrize("operation, kind", [
    ("update", "not_initialized"),
    ("break_", "not_initialized"),
    ("resume", "not_quiesced"),
    ("abort", "no_transfer"),
    ("resync", "not_initialized"),
])
def test_refusals_when_uninitialized(model, operation, kind):
    assert kind_of(getattr(model, operation), "dst", PATH) == kind
    assert (rel(model).mirror_state, rel(model).status) == ("uninitialized", "idle")


def test_refusals_while_transferring(model, clock):
    model.initialize("dst", PATH)
    for operation in ("initialize", "update", "break_", "resync", "destroy"):
        assert kind_of(getattr(model, operation), "dst", PATH) == "transfer_in_progress", operation
    model.quiesce("dst", PATH)
    assert rel(model).status == "quiescing"
    clock.now += 1
    assert (rel(model).mirror_state, rel(model).status) == ("snapmirrored", "quiesced")
    assert kind_of(model.update, "dst", PATH) == "quiesced"


def test_break_resync_flip_the_destination_volume(model, clock):
    model.initialize("dst", PATH)
    clock.now += 1
    model.break_("dst", PATH)
    state = model.dump()["dst"]
    assert state["volumes"][PATH]["type"] == "rw"
    assert state["relationships"][PATH]["mirror_state"] == "broken-off"
    assert kind_of(model.break_, "dst", PATH) == "broken_off"
    assert kind_of(model.update, "dst", PATH) == "broken_off"
    model.mount_volume("dst", "svm_dst", "vol1", "/vol1")
    model.resync("dst", PATH)
    state = model.dump()["dst"]
    assert (state["volumes"][PATH]["type"], state["volumes"][PATH]["junction_path"]) == ("dp", "/vol1")
    clock.now += 1
    assert rel(model).mirror_state == "snapmirrored"
    assert rel(model).last_transfer.type == "resync"


def test_break_needs_no_source_but_transfers_do(model, clock):
    model.initialize("dst", PATH)
    clock.now += 1
    model.set_online("src", False)
    assert kind_of(model.update, "dst", PATH) == "peer_unreachable"
    assert kind_of(model.destroy, "dst", PATH, release=True) == "peer_unreachable"
    model.quiesce("dst", PATH)
    model.break_("dst", PATH)
    assert kind_of(model.resync, "dst", PATH) == "peer_unreachable"
    model.destroy("dst", PATH)
    assert model.dump()["src"]["destinations"] != {}
    model.set_online("src", True)
    model.release("src", destination_path=PATH)
    assert model.dump()["src"]["destinations"] == {}
    assert kind_of(model.release, "src", destination_path=PATH) == "not_found"


def test_slow_quiesce_and_abort(model, clock):
    model.set_slow_quiesce("dst", 30)
    model.quiesce("dst", PATH)
    assert rel(model).status == "quiescing"
    assert kind_of(model.break_, "dst", PATH) == "another_op"
    clock.now += 31
    assert rel(model).status == "quiesced"
    model.resume("dst", PATH)
    assert rel(model).status == "idle"
    model.quiesce("dst", PATH)
    assert model.abort("dst", PATH) is None  # no transfer: the abort ends the pending quiesce
    assert rel(model).status == "quiesced"


def test_failed_transfer_then_recovery(model, clock):
    model.add_transfer_fault("dst", PATH, count=1, message="boom")
    model.initialize("dst", PATH)
    clock.now += 1
    current = rel(model)
    assert (current.healthy, current.last_transfer_error, current.mirror_state) == (False, "boom", "uninitialized")
    model.initialize("dst", PATH)
    clock.now += 1
    assert (rel(model).healthy, rel(model).mirror_state) == (True, "snapmirrored")


def test_space_and_names(model):
    assert kind_of(model.create_volume, "dst", "svm_dst", "vol1", GIB, "aggr1") == "volume_exists"
    assert kind_of(model.create_volume, "dst", "svm_dst", "huge", 11 * 1024 * GIB, "aggr1") == "no_space"
    assert kind_of(model.create_volume, "dst", "svm_nope", "x", GIB, "aggr1") == "svm_not_found"
    assert kind_of(model.create_relationship, "dst", "svm_src:vol1", PATH) == "exists"
    assert kind_of(model.create_relationship, "dst", "svm_src:vol1", "svm_dst:nope") == "volume_not_found"
    assert kind_of(model.create_relationship, "dst", "bad-path", "svm_dst:vol1") == "invalid"


def test_reset_restores_the_seed(model):
    model.reset()
    state = model.dump()
    assert state["dst"]["relationships"] == {} and state["src"]["volumes"] == {}


def test_query_values_and_durations():
    assert iso_duration(3723) == "PT1H2M3S"
    assert iso_duration(5) == "PT0H0M5S"
    assert iso_duration(100 * 3600) == "PT100H0M0S"
    assert duration_seconds("P1DT2H") == 26 * 3600
    assert match_value("svm_dst:*", "svm_dst:vol1")
    assert match_value("a|b", "b") and not match_value("a|b", "c")
    assert match_value("!a", "b") and not match_value("!a", "a")
    assert match_value(">PT1H", "PT2H0M0S") and not match_value("<=10", "11")
    assert match_value("true", True) and match_value("False", False)
    assert match_value("x*", ["a", "xy"])


def test_release_waits_for_the_data_phase_and_delete_cleans_both_sides(model, clock):
    model.initialize("dst", PATH)
    assert kind_of(model.release, "src", destination_path=PATH) == "transfer_in_progress"
    clock.now += 1
    state = model.dump()
    assert [s for s in state["src"]["volumes"]["svm_src:vol1"]["snapshots"] if s.startswith("snapmirror.")]
    model.destroy("dst", PATH, release=True)
    state = model.dump()
    assert state["src"]["destinations"] == {}
    for path, cluster in (("svm_src:vol1", "src"), (PATH, "dst")):
        assert not [s for s in state[cluster]["volumes"][path]["snapshots"] if s.startswith("snapmirror.")]


def test_a_volume_mounts_only_above_nothing_mounted_beneath_it(model):
    model.create_volume("src", "svm_src", "child", GIB, "aggr1")
    model.create_volume("src", "svm_src", "parent", GIB, "aggr1")
    model.mount_volume("src", "svm_src", "child", "/a/b")
    assert kind_of(model.mount_volume, "src", "svm_src", "parent", "/a") == "invalid"
    model.unmount_volume("src", "svm_src", "child")
    model.mount_volume("src", "svm_src", "parent", "/a")
    model.mount_volume("src", "svm_src", "child", "/a/b")     # parent first: fine
    model.mount_volume("src", "svm_src", "vol1", "/ab")       # a sibling sharing a prefix is not beneath
