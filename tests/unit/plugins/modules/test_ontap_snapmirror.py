# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ontap_snapmirror: validation, plan -> apply -> report, over an in-memory cluster."""

from __future__ import annotations

import pytest

from ansible_collections.storage.datamotion.plugins.module_utils.ontap.common import Aggregate, OntapError
from ansible_collections.storage.datamotion.plugins.modules import ontap_snapmirror
from ansible_collections.storage.datamotion.tests.unit.plugins.modules.ontap_fake import FakeCluster

CONN = dict(hostname="dst", username="admin", password="netapp1!", use_rest="always")
SOURCE = dict(hostname="src")


@pytest.fixture
def clusters(monkeypatch):
    found = {"dst": FakeCluster("dst"), "src": FakeCluster("src", svms=("svm_src",))}

    def connect(params, page_size=None, role="destination"):
        cluster = found[params["hostname"]]
        if cluster.offline:
            raise OntapError("ONTAP cluster %s is unreachable" % cluster.host, unreachable=True)
        return cluster

    monkeypatch.setattr(ontap_snapmirror, "connect", connect)
    monkeypatch.setattr("time.sleep", lambda s: None)
    return found


def run(run_module, check_mode=False, diff=False, **args):
    return run_module(ontap_snapmirror, dict(CONN, **args), check_mode=check_mode, diff=diff)


def protected(clusters, n=1, state="snapmirrored", **kw):
    for i in range(1, n + 1):
        clusters["src"].add_volume("svm_src:vol%d" % i, type="rw")
        clusters["dst"].add_relationship("svm_src:vol%d" % i, "svm_dst:vol%d" % i, state=state, **kw)
        clusters["src"].records.add("svm_dst:vol%d" % i)


def test_create_with_destination_volume_then_nothing_to_do(run_module, clusters):
    clusters["src"].add_volume("svm_src:vol1", type="rw", size=5 << 30)
    args = dict(source_path="svm_src:vol1", destination_path="svm_dst:vol1", policy="MirrorAllSnapshots", schedule="hourly",
                create_destination=dict(aggregate="aggr1"), source_cluster=SOURCE)
    how, result = run(run_module, **args)
    assert how == "exit", result
    assert result["changed"] and result["actions"] == ["create_volume", "create", "initialize"]
    assert result["relationship"]["state"] == "snapmirrored"
    assert clusters["dst"].vols["svm_dst:vol1"].size == 5 << 30 and clusters["dst"].vols["svm_dst:vol1"].type == "dp"
    how, result = run(run_module, **args)
    assert (how, result["changed"], result["actions"]) == ("exit", False, [])


def test_check_mode_reports_and_changes_nothing(run_module, clusters):
    clusters["src"].add_volume("svm_src:vol1", type="rw")
    how, result = run(run_module, check_mode=True, diff=True, source_path="svm_src:vol1", destination_path="svm_dst:vol1",
                      create_destination=dict(aggregate="aggr1"), source_cluster=SOURCE)
    assert how == "exit" and result["changed"]
    assert result["actions"] == ["create_volume", "create", "initialize"]
    assert result["relationship"]["state"] == "snapmirrored"
    assert result["diff"] == {"before": {"svm_dst:vol1": None},
                              "after": {"svm_dst:vol1": {"source_path": "svm_src:vol1", "state": "snapmirrored", "status": "idle",
                                                         "policy": "MirrorAllSnapshots", "schedule": None}}}
    assert clusters["dst"].rels == {} and clusters["dst"].vols == {}
    assert not [c for c in clusters["dst"].calls if c not in ("relationships", "volumes", "svms", "svm_peers", "aggregates", "policies")]


def test_list_form_reads_once_and_fails_over_without_the_source(run_module, clusters):
    protected(clusters, 5)
    clusters["src"].offline = True
    items = [dict(destination_path="svm_dst:vol%d" % i) for i in range(1, 6)]
    how, result = run(run_module, relationship_state="broken_off", relationships=items, source_cluster=SOURCE)
    assert how == "exit", result
    assert [r["actions"] for r in result["relationships"]] == [["quiesce", "break", "mount"]] * 5
    assert all(r["relationship"]["state"] == "broken_off" for r in result["relationships"])
    assert all(v.junction_path == "/" + v.name for v in clusters["dst"].vols.values())
    assert clusters["src"].calls == []
    clusters["dst"].calls.clear()
    how, result = run(run_module, relationship_state="broken_off", relationships=items)
    assert (how, result["changed"]) == ("exit", False)
    assert clusters["dst"].calls == ["relationships", "volumes"]


def test_no_op_run_of_a_list_is_one_read(run_module, clusters):
    protected(clusters, 20)
    items = [dict(source_path="svm_src:vol%d" % i, destination_path="svm_dst:vol%d" % i) for i in range(1, 21)]
    how, result = run(run_module, policy="MirrorAllSnapshots", relationships=items)
    assert (how, result["changed"]) == ("exit", False)
    assert clusters["dst"].calls == ["relationships"]


def test_update_true_always_changes_max_lag_only_when_lagging(run_module, clusters):
    protected(clusters, 2, lag=60)
    how, result = run(run_module, destination_path="svm_dst:vol1", update=True)
    assert (result["changed"], result["actions"]) == (True, ["update"])
    how, result = run(run_module, destination_path="svm_dst:vol1", update=True)
    assert (result["changed"], result["actions"]) == (True, ["update"])
    how, result = run(run_module, destination_path="svm_dst:vol2", max_lag=3600)
    assert (result["changed"], result["actions"]) == (False, [])
    how, result = run(run_module, destination_path="svm_dst:vol2", max_lag=30)
    assert (result["changed"], result["actions"], result["relationship"]["lag_time"]) == (True, ["update"], 0)


def test_quiesce_then_abort_when_the_quiesce_does_not_finish(run_module, clusters):
    protected(clusters, 1)
    clusters["dst"].rels["svm_dst:vol1"].status = "transferring"
    clusters["dst"].stuck_quiesce = True
    how, result = run(run_module, destination_path="svm_dst:vol1", relationship_state="broken_off", quiesce_timeout=0)
    assert how == "exit", result
    assert result["actions"] == ["quiesce", "abort", "break", "mount"]


def test_timeout_fails_with_the_last_known_state(run_module, clusters):
    protected(clusters, 1)
    clusters["dst"].stuck_quiesce = True
    clusters["dst"].abort = lambda rel: False
    how, result = run(run_module, destination_path="svm_dst:vol1", relationship_state="paused", wait_timeout=0, quiesce_timeout=0)
    assert how == "fail"
    assert "timed out after 0s" in result["msg"] and "svm_dst:vol1 to be quiesced (last seen: state snapmirrored, status quiescing)" in result["msg"]
    assert result["actions"] == ["quiesce"]


def test_delete_aborts_releases_and_tolerates_what_is_gone(run_module, clusters):
    protected(clusters, 2)
    clusters["dst"].rels["svm_dst:vol1"].status = "transferring"
    how, result = run(run_module, state="absent", source_cluster=SOURCE,
                      relationships=[dict(destination_path="svm_dst:vol1"), dict(destination_path="svm_dst:vol2")])
    assert how == "exit", result
    assert [r["actions"] for r in result["relationships"]] == [["abort", "delete", "release"], ["delete", "release"]]
    assert clusters["dst"].rels == {} and sorted(clusters["src"].released) == ["svm_dst:vol1", "svm_dst:vol2"]
    how, result = run(run_module, state="absent", destination_path="svm_dst:vol1", source_cluster=SOURCE)
    assert (how, result["changed"]) == ("exit", False)


def test_delete_with_the_source_down_warns_and_does_not_list_a_release(run_module, clusters):
    protected(clusters, 1)
    clusters["src"].offline = True
    how, result = run(run_module, state="absent", destination_path="svm_dst:vol1", source_cluster=SOURCE)
    assert how == "exit" and result["actions"] == ["delete"] and result["relationship"] is None
    assert "will not be released there" in "".join(result["relationships"][0]["warnings"])


def test_refused_source_credentials_fail_before_the_delete(run_module, clusters):
    protected(clusters, 1)
    clusters["src"].refuse_credentials = True
    for check_mode in (True, False):
        how, result = run(run_module, check_mode=check_mode, state="absent", destination_path="svm_dst:vol1", source_cluster=SOURCE)
        assert how == "fail" and "source cluster" in result["msg"] and "refused the credentials" in result["msg"]
    assert "delete" not in clusters["dst"].calls and "svm_dst:vol1" in clusters["dst"].rels


def test_without_source_cluster_no_release_is_listed(run_module, clusters):
    protected(clusters, 1)
    how, result = run(run_module, state="absent", destination_path="svm_dst:vol1")
    assert (how, result["actions"]) == ("exit", ["delete"])
    assert "no source_cluster given" in "".join(result["relationships"][0]["warnings"])


def test_a_release_left_undone_is_done_by_the_next_run(run_module, clusters):
    protected(clusters, 1)
    clusters["src"].offline = True
    how, result = run(run_module, state="absent", destination_path="svm_dst:vol1", source_cluster=SOURCE)
    assert how == "exit" and result["actions"] == ["delete"] and clusters["src"].records == {"svm_dst:vol1"}
    clusters["src"].offline = False
    how, result = run(run_module, state="absent", destination_path="svm_dst:vol1", source_cluster=SOURCE)
    assert (how, result["changed"], result["actions"]) == ("exit", True, ["release"])
    assert clusters["src"].records == set()
    how, result = run(run_module, state="absent", destination_path="svm_dst:vol1", source_cluster=SOURCE)
    assert (how, result["changed"]) == ("exit", False)


def test_delete_when_the_entry_vanished_meanwhile(run_module, clusters):
    # a parallel run deleted it between our read and our delete: the re-read confirms it is gone
    protected(clusters, 1)
    clusters["dst"].fail["delete"] = OntapError("entry doesn't exist", code="4")
    del clusters["dst"].rels["svm_dst:vol1"]
    how, result = run(run_module, state="absent", destination_path="svm_dst:vol1", source_cluster=SOURCE)
    assert (how, result["relationship"]) == ("exit", None)


@pytest.mark.parametrize("error", [OntapError("entry doesn't exist", code="4"),
                                   OntapError("peer SVM does not exist in cache", code="13001")])
def test_a_failed_delete_is_never_taken_for_already_deleted(run_module, clusters, error):
    protected(clusters, 1)
    clusters["dst"].fail["delete"] = error
    how, result = run(run_module, state="absent", destination_path="svm_dst:vol1", source_cluster=SOURCE)
    assert how == "fail" and error.message in result["msg"]
    assert result["actions"] == [] and result["relationship"]["state"] == "snapmirrored"
    assert clusters["src"].released == [] and clusters["src"].records == {"svm_dst:vol1"}


def test_a_failed_update_fails(run_module, clusters):
    protected(clusters, 1)
    clusters["dst"].failing["svm_dst:vol1"] = "Transfer failed: injected."
    for args in (dict(update=True), dict(max_lag=0)):
        clusters["dst"].failing["svm_dst:vol1"] = "Transfer failed: injected."
        how, result = run(run_module, destination_path="svm_dst:vol1", **args)
        assert how == "fail" and "Transfer failed: injected." in result["msg"], result
        assert result["actions"] == ["update"] and result["relationship"]["healthy"] is False


@pytest.mark.parametrize("check_mode", [False, True])
def test_a_type_mismatch_is_refused_before_acting(run_module, clusters, check_mode):
    protected(clusters, 1)
    clusters["dst"].rels["svm_dst:vol1"].relationship_type = "extended_data_protection"
    how, result = run(run_module, check_mode=check_mode, destination_path="svm_dst:vol1", relationship_type="vault")
    assert how == "fail" and "is a extended_data_protection relationship, not vault" in result["msg"]


def test_resync_and_resume_and_policy_change(run_module, clusters):
    protected(clusters, 1, state="broken_off")
    how, result = run(run_module, destination_path="svm_dst:vol1", policy="MirrorLatest", schedule="daily", relationship_state="snapmirrored")
    assert result["actions"] == ["modify", "resync"]
    assert (result["relationship"]["state"], result["relationship"]["policy"], result["relationship"]["schedule"]) == \
        ("snapmirrored", "MirrorLatest", "daily")
    run(run_module, destination_path="svm_dst:vol1", relationship_state="paused")
    how, result = run(run_module, destination_path="svm_dst:vol1")
    assert result["actions"] == ["resume"]


def test_a_failed_transfer_fails_with_the_cluster_reason_and_the_others_go_on(run_module, clusters):
    clusters["src"].add_volume("svm_src:vol1", type="rw")
    clusters["src"].add_volume("svm_src:vol2", type="rw")
    clusters["dst"].add_volume("svm_dst:vol1")
    clusters["dst"].add_volume("svm_dst:vol2")
    clusters["dst"].failing["svm_dst:vol1"] = "Transfer failed: destination volume full."
    how, result = run(run_module, relationships=[dict(source_path="svm_src:vol1", destination_path="svm_dst:vol1"),
                                                 dict(source_path="svm_src:vol2", destination_path="svm_dst:vol2")])
    assert how == "fail"
    assert result["msg"] == ("svm_dst:vol1: the transfer of SnapMirror relationship svm_dst:vol1 failed: "
                             "Transfer failed: destination volume full.")
    assert [r["relationship"]["state"] for r in result["relationships"]] == ["uninitialized", "snapmirrored"]
    how, result = run(run_module, source_path="svm_src:vol1", destination_path="svm_dst:vol1")
    assert (how, result["actions"], result["relationship"]["state"]) == ("exit", ["initialize"], "snapmirrored")


def test_an_operation_failing_reports_what_was_done(run_module, clusters):
    protected(clusters, 2)
    clusters["dst"].fail["break"] = OntapError("Failed to contact peer cluster", code="262224")
    how, result = run(run_module, relationship_state="broken_off", mount_after_break=False,
                      relationships=[dict(destination_path="svm_dst:vol1"), dict(destination_path="svm_dst:vol2")])
    assert how == "fail" and "svm_dst:vol1: Failed to contact peer cluster" in result["msg"]
    assert [r["actions"] for r in result["relationships"]] == [["quiesce"], ["quiesce", "break"]]
    assert result["changed"] is True


BAD = [
    ("unknown destination SVM", dict(source_path="svm_src:vol1", destination_path="nosvm:vol1"), "SVM nosvm does not exist"),
    ("unknown source volume", dict(source_path="svm_src:nosuch", destination_path="svm_dst:vol1",
                                   create_destination=dict(aggregate="aggr1"), source_cluster=SOURCE), "source volume svm_src:nosuch does not exist"),
    ("destination not DP", dict(source_path="svm_src:vol1", destination_path="svm_dst:rwvol"),
     "is of type rw; a SnapMirror destination must be a DP volume. It may hold data of its own - after a failover"),
    ("destination missing", dict(source_path="svm_src:vol1", destination_path="svm_dst:vol1"), "create_destination"),
    ("unknown policy", dict(source_path="svm_src:vol1", destination_path="svm_dst:dpvol", policy="NoSuch"), "policy NoSuch does not exist"),
    ("aggregate without room", dict(source_path="svm_src:vol1", destination_path="svm_dst:vol1", create_destination=dict(aggregate="small"),
                                    source_cluster=SOURCE), "aggregate small on destination cluster dst has"),
    ("unknown aggregate", dict(source_path="svm_src:vol1", destination_path="svm_dst:vol1", create_destination=dict(aggregate="nope"),
                               source_cluster=SOURCE), "aggregate nope does not exist"),
    ("aggregate map without the source's",
     dict(source_path="svm_src:vol1", destination_path="svm_dst:vol1", create_destination=dict(aggregate_map=dict(other="aggr1")), source_cluster=SOURCE),
     "aggregate_map has no entry"),
    ("peer missing", dict(source_path="svm_other:vol1", destination_path="svm_dst:dpvol"), "not peered with source SVM svm_other"),
    ("listed twice", dict(relationships=[dict(destination_path="svm_dst:vol1", source_path="svm_src:vol1"),
                                         dict(destination_path="svm_dst:vol1", source_path="svm_src:vol2")]), "listed twice"),
    ("update and max_lag", dict(destination_path="svm_dst:vol1", source_path="svm_src:vol1", update=True, max_lag=60), "exclude each other"),
    ("update with broken_off", dict(destination_path="svm_dst:vol1", relationship_state="broken_off", update=True), "need relationship_state"),
    ("absent with relationship_state", dict(destination_path="svm_dst:vol1", state="absent", relationship_state="paused"), "no meaning"),
    ("bad path", dict(destination_path="svm_dst/vol1", source_path="svm_src:vol1"), "<svm>:<volume>"),
    ("create without source cluster", dict(source_path="svm_src:vol1", destination_path="svm_dst:vol1", create_destination=dict(aggregate="aggr1")),
     "needs source_cluster"),
    ("no source to create", dict(destination_path="svm_dst:vol1"), "give source_path"),
    ("REST type", dict(destination_path="svm_dst:vol1", source_path="svm_src:vol1", relationship_type="vault"), "cannot be created over REST"),
    ("other source", dict(destination_path="svm_dst:old", source_path="svm_src:vol1"), "already mirrors svm_src:old"),
    ("destination cluster unreachable", dict(destination_path="svm_dst:old", state="absent"), "unreachable"),
]


@pytest.mark.parametrize("args,message", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_fails_clearly_and_changes_nothing(run_module, clusters, args, message):
    dst, src = clusters["dst"], clusters["src"]
    src.add_volume("svm_src:vol1", type="rw", size=1 << 40)
    src.add_volume("svm_src:old", type="rw")
    dst.add_volume("svm_dst:rwvol", type="rw")
    dst.add_volume("svm_dst:dpvol", type="dp")
    dst.add_relationship("svm_src:old", "svm_dst:old")
    dst.aggrs["small"] = Aggregate("small", 1 << 30)
    if "unreachable" in message:
        dst.offline = True
    before = (dict(dst.rels), dict(dst.vols))
    for check_mode in (True, False):
        how, result = run(run_module, check_mode=check_mode, **args)
        assert how == "fail" and message in result["msg"], result
    assert (dst.rels, dst.vols) == before
    assert not [c for c in dst.calls if c not in ("relationships", "volumes", "svms", "svm_peers", "aggregates", "policies")]


def test_connection_options_come_from_the_environment(run_module, clusters, monkeypatch):
    protected(clusters, 1)
    seen = {}
    connect = ontap_snapmirror.connect

    def spy(params, page_size=None):
        seen.update(params)
        return connect(params)

    monkeypatch.setattr(ontap_snapmirror, "connect", spy)
    for name, value in dict(ONTAP_HOSTNAME="dst", ONTAP_USERNAME="admin", ONTAP_PASSWORD="pw", ONTAP_USE_REST="never",
                            ONTAP_HTTPS="false", ONTAP_PORT="8080").items():
        monkeypatch.setenv(name, value)
    how, result = run_module(ontap_snapmirror, dict(destination_path="svm_dst:vol1"))
    assert how == "exit", result
    assert (seen["hostname"], seen["username"], seen["password"], seen["use_rest"], seen["https"], seen["port"]) == \
        ("dst", "admin", "pw", "never", False, 8080)


@pytest.mark.parametrize("policy,state", [(None, "snapmirrored"), ("Sync", "in_sync")])
def test_check_mode_diff_shows_the_defaults_the_cluster_gives(run_module, clusters, policy, state):
    clusters["dst"].add_volume("svm_dst:vol1")
    args = dict(source_path="svm_src:vol1", destination_path="svm_dst:vol1")
    if policy:
        args["policy"] = policy
    how, predicted = run(run_module, check_mode=True, diff=True, **args)
    assert how == "exit"
    after = predicted["diff"]["after"]["svm_dst:vol1"]
    assert (after["policy"], after["state"]) == (policy or "MirrorAllSnapshots", state)
    how, result = run(run_module, **args)
    assert (predicted["actions"], predicted["relationship"]["policy"]) == (result["actions"], result["relationship"]["policy"])


def test_a_wait_started_after_wait_timeout_is_still_bounded_by_it(run_module, clusters):
    # the resume ends at the deadline; the update started after it must not wait past wait_timeout
    protected(clusters, 1, state="paused", status="quiesced")
    fake = clusters["dst"]
    plain_update = fake.update

    def long_update(rel):
        plain_update(rel)
        fake.pending[rel.destination_path] = 50
    fake.update = long_update
    how, result = run(run_module, destination_path="svm_dst:vol1", relationship_state="snapmirrored", update=True, wait_timeout=0)
    assert how == "fail", result
    assert "timed out after 0s" in result["msg"] and "svm_dst:vol1" in result["msg"]
    assert result["actions"] == ["resume", "update"]


def test_destination_lost_mid_wait_still_reports_the_work_done(run_module, clusters):
    protected(clusters, 1)
    fake = clusters["dst"]
    plain_update = fake.update

    def update_then_go_offline(rel):
        plain_update(rel)
        fake.offline = True
    fake.update = update_then_go_offline
    how, result = run(run_module, destination_path="svm_dst:vol1", update=True)
    assert how == "fail", result
    assert "unreachable" in result["msg"]
    assert result["changed"] is True and result["actions"] == ["update"]
