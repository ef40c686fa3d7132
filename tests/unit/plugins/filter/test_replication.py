# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The replication role's decisions: least-lag target, never two targets, failback phases."""

from __future__ import annotations

import json

from ansible_collections.storage.datamotion.plugins.filter.replication import (
    replication_ensure_plan, replication_failback_phases, replication_failover_choice, replication_failover_record,
    replication_failover_breaking, replication_failover_switched,
    replication_junction_conflicts, replication_junction_record, replication_junctions, replication_junctions_file_name,
    replication_status_report, replication_switched_back, replication_view,
)

BACKEND = {"source": {"svm": "svm_src", "volumes": ["pool*"]},
           "targets": [{"name": "dr1", "svm": "svm_dst"}, {"name": "dr2", "svm": "svm_dst2"}]}


def rel(svm, vol, state="snapmirrored", lag=10, healthy=True):
    return {"source_path": "svm_src:" + vol, "destination_path": "%s:%s" % (svm, vol), "state": state, "healthy": healthy,
            "lag_time": lag, "last_transfer_size": 1, "last_transfer_duration": 1}


def reads(dr1, dr2):
    return [{"relationships": dr1} if dr1 is not None else {"failed": True, "msg": "connection refused"},
            {"relationships": dr2} if dr2 is not None else {"failed": True, "msg": "connection refused"}]


def test_least_lag_among_healthy_targets():
    view = replication_view(reads([rel("svm_dst", "pool1", lag=300)], [rel("svm_dst2", "pool1", lag=20)]), BACKEND)
    assert replication_failover_choice(view)["target"] == "dr2"
    unhealthy = replication_view(reads([rel("svm_dst", "pool1", lag=300)], [rel("svm_dst2", "pool1", lag=20, healthy=False)]), BACKEND)
    assert replication_failover_choice(unhealthy)["target"] == "dr1"


def test_an_unread_target_stops_the_automatic_choice_and_naming_a_target_goes_on():
    # a failover to dr2 may have begun before dr2 became unreachable: choosing dr1 could break pool1 on two targets
    view = replication_view(reads([rel("svm_dst", "pool1", lag=1)], None), BACKEND)
    choice = replication_failover_choice(view)
    assert choice["target"] is None
    assert "dr2 (connection refused) could not be read" in choice["why"] and "replication_failover_target" in choice["why"]
    named = replication_failover_choice(view, "dr1")
    assert named["target"] == "dr1" and "not read: dr2 (connection refused)" in named["why"]
    assert replication_failover_choice(view, "dr2")["target"] is None
    # a target already failed over is finished, whatever the other target answers
    broken = replication_view(reads([rel("svm_dst", "pool1", "broken_off")], None), BACKEND)
    assert replication_failover_choice(broken, begun="dr1")["target"] == "dr1"


def test_a_failover_begun_on_a_target_that_stopped_answering_is_not_moved_to_another():
    # issue 17, probe finding 13: dr1 went offline mid-break; naming dr2 then made volumes writable on both
    view = replication_view(reads(None, [rel("svm_dst2", "pool1", lag=1)]), BACKEND)
    be = dict(ENSURE, name="be")
    record = json.dumps(replication_failover_record(json.dumps(replication_failover_record(None, be, "dr1")), be, "dr1", breaking=True))
    assert replication_failover_breaking(record, be) == "dr1"
    choice = replication_failover_choice(view, "dr2", begun="dr1", breaking=replication_failover_breaking(record, be))
    assert choice["target"] is None
    assert "break relationships on target dr1" in choice["why"] and "Bring dr1 back" in choice["why"] and "lost for good" in choice["why"]
    # a re-run of the failover keeps the mark; a failover stopped before its breaks (or no record) lets dr2 be named
    assert replication_failover_breaking(json.dumps(replication_failover_record(record, be, "dr1")), be) == "dr1"
    assert replication_failover_breaking(json.dumps(replication_failover_record(record, be, "dr1", breaking=False)), be) is None
    assert replication_failover_choice(view, "dr2", begun="dr1")["target"] == "dr2"
    assert replication_failover_choice(view, "dr2")["target"] == "dr2"


def test_the_advice_of_a_hand_break_is_what_a_named_failover_then_accepts():
    # issue 17, probe finding 12: the refusal said "name the target"; naming dr1 was then refused as "already failed over"
    view = replication_view(reads([rel("svm_dst", "pool1"), rel("svm_dst", "pool2")],
                                  [rel("svm_dst2", "pool1", "broken_off"), rel("svm_dst2", "pool2")]), dict(BACKEND))
    refused = replication_failover_choice(view)
    assert refused["target"] is None and "replication_failover_target=dr2" in refused["why"]
    other = replication_failover_choice(view, "dr1")
    assert other["target"] is None and "Name dr2 to fail over there" in other["why"] and "by hand" in other["why"]
    assert replication_failover_choice(view, "dr2")["target"] == "dr2"


def test_other_volumes_and_sources_are_not_part_of_the_backend():
    other = dict(rel("svm_dst", "pool2"), source_path="svm_x:pool2")
    view = replication_view(reads([rel("svm_dst", "pool1"), rel("svm_dst", "misc"), other], []), BACKEND)
    assert view["volumes"] == ["pool1"]


def test_never_a_second_target():
    view = replication_view(reads([rel("svm_dst", "pool1", "broken_off")], [rel("svm_dst2", "pool1", lag=1)]), BACKEND)
    assert replication_failover_choice(view, begun="dr1")["target"] == "dr1"          # a re-run finishes the failover it began
    choice = replication_failover_choice(view, "dr2")
    assert choice["target"] is None and "already failed over to target dr1" in choice["why"]
    both = replication_view(reads([rel("svm_dst", "pool1", "broken_off")], [rel("svm_dst2", "pool2", "broken_off")]), BACKEND)
    assert replication_failover_choice(both)["target"] is None


def test_a_relationship_broken_by_hand_is_not_a_failover_in_progress():
    # a DR test broke dr2's pool2 by hand; dr2 is a day behind, dr1 current: the failover must not take dr2 for its own
    dr1 = [rel("svm_dst", "pool1", lag=10), rel("svm_dst", "pool2", lag=10)]
    dr2 = [rel("svm_dst2", "pool1", lag=86400), rel("svm_dst2", "pool2", "broken_off")]
    view = replication_view(reads(dr1, dr2), BACKEND)
    choice = replication_failover_choice(view)
    assert choice["target"] is None
    assert "target dr2 holds broken-off relationships of the backend (pool2) while pool1 still mirror" in choice["why"]
    assert "replication_failover_target" in choice["why"]
    # named, it is the operator's word; another target named would break pool2 a second time
    assert replication_failover_choice(view, "dr2")["target"] == "dr2"
    assert replication_failover_choice(view, "dr1")["target"] is None
    # the role's own failover, killed after its first break: the rest of dr2 quiesced (REST, ZAPI) - it goes on there
    for paused in ({"state": "paused"}, {"status": "quiesced"}):
        begun = [dict(rel("svm_dst2", "pool1", lag=86400), **paused), rel("svm_dst2", "pool2", "broken_off")]
        choice = replication_failover_choice(replication_view(reads(dr1, begun), BACKEND), begun="dr2")
        assert choice["target"] == "dr2" and "finishing that failover" in choice["why"], paused


def test_only_the_record_of_this_roles_failover_makes_a_quiesced_and_broken_target_a_failover_in_progress():
    # a DR test on dr2 quiesced everything and broke pool2 (or broke all): the same states as the role's failover killed
    # after its first break. Without the controller's record (another AWX job's container) the choice is refused.
    dr1 = [rel("svm_dst", "pool1", lag=10), rel("svm_dst", "pool2", lag=10)]
    for dr2 in ([rel("svm_dst2", "pool1", "paused", lag=86400), rel("svm_dst2", "pool2", "broken_off", lag=86400)],
                [rel("svm_dst2", "pool1", "broken_off", lag=86400), rel("svm_dst2", "pool2", "broken_off", lag=86400)]):
        view = replication_view(reads(dr1, dr2), BACKEND)
        for begun in (None, "dr1"):
            choice = replication_failover_choice(view, begun=begun)
            assert choice["target"] is None, begun
            assert "no record of this controller says that this role's failover began there" in choice["why"]
            assert "Lag per target: dr1: 10 s, dr2: 86400 s" in choice["why"] and "replication_failover_target" in choice["why"]
            assert "by this role's failover" not in choice["why"]
        assert replication_failover_choice(view, "dr2")["target"] == "dr2"
        assert replication_failover_choice(view, begun="dr2")["target"] == "dr2"
    dr2 = [rel("svm_dst2", "pool1", "paused"), rel("svm_dst2", "pool2", "broken_off")]
    quiesced = replication_failover_choice(replication_view(reads(dr1, dr2), BACKEND))
    assert "(pool2) and quiesced ones (pool1)" in quiesced["why"]


def writable(*names_per_target):
    return [{"volumes": [{"name": n} for n in names]} for names in names_per_target]


def test_writable_volumes_without_a_relationship_stop_a_failover_to_another_target_and_are_named_by_the_failback():
    # failed over to dr1, then dr1's relationships deleted there: its writable pool1, pool2 hold the failover's data
    dr2 = [rel("svm_dst2", "pool1", lag=59), rel("svm_dst2", "pool2", lag=59)]
    view = replication_view(reads([], dr2), BACKEND, writable=writable(["pool1", "pool2", "other"], []))
    assert view["targets"][0]["orphans"] == ["pool1", "pool2"] and view["targets"][1]["orphans"] == []
    for named in (None, "dr2"):
        choice = replication_failover_choice(view, named)
        assert choice["target"] is None and "dr1 holds pool1, pool2 writable without a relationship" in choice["why"], named
    phases = replication_failback_phases(view, {"relationships": []})
    assert phases["target"] is None and "dr1 holds pool1, pool2 writable without a relationship" in phases["why"]
    assert "nothing to fail back" not in phases["why"]
    # a writable volume with its (broken-off) relationship is a failover's own, not an orphan
    broken = replication_view(reads([rel("svm_dst", "pool1", "broken_off")], [rel("svm_dst2", "pool1")]), BACKEND,
                              writable=writable(["pool1"], []))
    assert broken["targets"][0]["orphans"] == []
    assert replication_failover_choice(broken, begun="dr1")["target"] == "dr1"


def test_failback_phases():
    view = replication_view(reads([rel("svm_dst", "pool1", "broken_off"), rel("svm_dst", "pool2", "broken_off"),
                                   rel("svm_dst", "pool3", "broken_off"), rel("svm_dst", "pool4"), rel("svm_dst", "pool5")],
                                  [rel("svm_dst2", "pool1")]), BACKEND)
    rev = {"relationships": [
        {"source_path": "svm_dst:pool2", "destination_path": "svm_src:pool2", "state": "snapmirrored", "lag_time": 5},
        {"source_path": "svm_dst:pool3", "destination_path": "svm_src:pool3", "state": "broken_off", "lag_time": 5},
        {"source_path": "svm_dst:pool4", "destination_path": "svm_src:pool4", "state": "broken_off", "lag_time": 5},
        {"source_path": "svm_dst:pool1", "destination_path": "svm_src:pool1", "state": "broken_off", "lag_time": None}]}
    phases = replication_failback_phases(view, rev)
    assert phases == {"target": "dr1", "phases": {"pool1": "reverse", "pool2": "switch", "pool3": "resync", "pool4": "release",
                                                  "pool5": "done"}}
    # a target written since the switch back (a failover after a failback stopped before its resync) is the newer side:
    # its writes go back to the source by a reverse resync; written names that are not past the switch change nothing
    phases = replication_failback_phases(view, rev, written=["pool3", "pool2", "pool5"])
    assert phases["phases"] == {"pool1": "reverse", "pool2": "switch", "pool3": "reverse", "pool4": "release", "pool5": "done"}


def test_failback_with_nothing_failed_over_has_no_target():
    view = replication_view(reads([rel("svm_dst", "pool1")], []), BACKEND)
    assert replication_failback_phases(view, {"relationships": []})["target"] is None


def test_failback_stopped_between_the_delete_and_the_release_of_the_reverse_relationships_is_not_done():
    # nothing broken off, no reverse relationship left: only the target's record of one says the release is to do
    view = replication_view(reads([rel("svm_dst", "pool1"), rel("svm_dst", "pool2")], [rel("svm_dst2", "pool1")]), BACKEND)
    phases = replication_failback_phases(view, {"relationships": []}, releases={"dr1": ["pool2"]})
    assert phases == {"target": "dr1", "phases": {"pool1": "done", "pool2": "release"}}


def test_failback_stopped_before_the_resume_of_the_other_targets_says_how_to_resume_them():
    view = replication_view(reads([rel("svm_dst", "pool1")], [rel("svm_dst2", "pool1", "paused")]), BACKEND)
    why = replication_failback_phases(view, {"relationships": []})["why"]
    assert "quiesced: dr2:pool1" in why and "replication_action ensure resumes them" in why


def test_status_report_counts_and_table():
    view = replication_view(reads([rel("svm_dst", "pool1", lag=7)], None), BACKEND)
    report = replication_status_report(view)
    assert report["summary"]["worst_lag"] == 7 and report["summary"]["replication_count"] == 1
    assert report["volumes"]["pool1"]["dr2"] is None and report["targets"][1]["reachable"] is False
    assert len(report["table"]) == 3


ENSURE = {"source": {"svm": "svm_src", "volumes": ["pool*"], "cluster": {"hostname": "a.example.com"}},
          "targets": [{"name": "dr1", "svm": "svm_dst", "schedule": "hourly"}, {"name": "dr2", "svm": "svm_dst2"}]}
SOURCE = [{"name": "pool1", "junction_path": "/data/pool1"}, {"name": "pool2", "junction_path": None}]


def mirrored(svm, vol, **changes):
    found = dict(rel(svm, vol), status="idle", policy="MirrorAllSnapshots", schedule="hourly" if svm == "svm_dst" else None)
    found.update(changes)
    return found


def test_ensure_calls_a_target_only_when_its_read_shows_something_to_do():
    done = [[mirrored("svm_dst", "pool1"), mirrored("svm_dst", "pool2")], [mirrored("svm_dst2", "pool1"), mirrored("svm_dst2", "pool2")]]
    plans = replication_ensure_plan(reads(*done), ENSURE, SOURCE)
    assert [p["work"] for p in plans] == [False, False]
    assert plans[0]["items"] == [{"source_path": "svm_src:pool1", "destination_path": "svm_dst:pool1"},
                                 {"source_path": "svm_src:pool2", "destination_path": "svm_dst:pool2"}]
    for change in ({"schedule": "daily"}, {"policy": "Asynchronous"}, {"state": "broken_off"}, {"state": "uninitialized"},
                   {"status": "quiesced"}, {"source_path": "svm_x:pool1"}):
        plans = replication_ensure_plan(reads([mirrored("svm_dst", "pool1", **change), done[0][1]], done[1]), ENSURE, SOURCE)
        assert [p["work"] for p in plans] == [True, False], change
    missing = replication_ensure_plan(reads(done[0], done[1][:1]), ENSURE, SOURCE)
    assert [p["work"] for p in missing] == [False, True]


def test_ensure_lists_relationships_outside_the_backend_and_deletes_them_only_with_purge():
    extra = mirrored("svm_dst", "old")
    done = reads([mirrored("svm_dst", "pool1"), mirrored("svm_dst", "pool2"), extra], [mirrored("svm_dst2", "pool1"), mirrored("svm_dst2", "pool2")])
    kept = replication_ensure_plan(done, ENSURE, SOURCE)
    assert kept[0]["extra"] == ["svm_dst:old"] and kept[0]["work"] is False and len(kept[0]["items"]) == 2
    purged = replication_ensure_plan(done, ENSURE, SOURCE, True)
    assert purged[0]["work"] is True
    assert purged[0]["items"][-1] == {"destination_path": "svm_dst:old", "source_path": "svm_src:old", "state": "absent"}


def test_junction_paths_with_the_source_down_come_from_the_record_of_this_source_only():
    record = replication_junction_record(SOURCE, ENSURE)
    assert record["junction_paths"] == {"pool1": "/data/pool1", "pool2": None}
    names = ["pool1", "pool2"]
    assert replication_junctions(names, ENSURE, SOURCE) == {"pool1": "/data/pool1", "pool2": "/pool2"}
    assert replication_junctions(names, ENSURE, None, record, {"pool2": "/x"}) == {"pool1": "/data/pool1", "pool2": "/x"}
    assert replication_junctions(names, ENSURE, None, record, fallback=False) == {"pool1": "/data/pool1"}
    other = dict(ENSURE, source=dict(ENSURE["source"], svm="svm_other"))
    assert replication_junctions(names, other, None, record) == {"pool1": "/pool1", "pool2": "/pool2"}
    moved = [{"name": "pool1", "junction_path": "/new/pool1"}]
    assert replication_junctions(["pool1"], ENSURE, moved, record) == {"pool1": "/new/pool1"}


def test_least_lag_only_among_targets_that_hold_every_volume():
    # dr1 lags less but never got pool2 (added to the pattern, ensure not run there yet): failing over to it would leave
    # pool2 behind while dr2 holds it
    view = replication_view(reads([rel("svm_dst", "pool1", lag=5)],
                                  [rel("svm_dst2", "pool1", lag=20), rel("svm_dst2", "pool2", lag=20)]), BACKEND)
    choice = replication_failover_choice(view)
    assert choice["target"] == "dr2", choice
    assert [t["healthy"] for t in view["targets"]] == [False, True]


def test_the_records_hold_for_the_source_however_its_hostname_is_spelled():
    # issue 17, probe finding 8: a record written with hostname localhost was ignored by a failover naming 127.0.0.1
    record = json.dumps(replication_junction_record(SOURCE, dict(ENSURE, name="be")))
    spelled = dict(ENSURE, name="be", source=dict(ENSURE["source"], cluster={"hostname": "127.0.0.1", "port": 8443}))
    assert replication_junctions(["pool1"], spelled, None, record) == {"pool1": "/data/pool1"}
    assert replication_junctions_file_name(spelled) == replication_junctions_file_name(dict(ENSURE, name="be"))
    begun = replication_failover_record(None, dict(ENSURE, name="be"), "dr1")
    assert replication_failover_record(json.dumps(begun), spelled) == "dr1"
    # another backend name is another source: its record is not used
    assert replication_junctions(["pool1"], dict(spelled, name="other"), None, record) == {"pool1": "/pool1"}


def test_a_junction_path_held_by_another_volume_of_the_target_is_a_conflict():
    # issue 17, probe finding 10: the mount failed after every break, and each re-run failed the same way
    mounts = {"be01": "/be01", "be02": "/be01/be02", "be03": "/be03"}
    held = [{"name": "scratch", "junction_path": "/be03"}, {"name": "be01", "junction_path": None}]
    assert replication_junction_conflicts(mounts, held) == ["be03 is to be mounted at /be03, but volume scratch is mounted there"]
    beneath = [{"name": "tmp", "junction_path": "/be01/tmp"}]
    assert replication_junction_conflicts(mounts, beneath) == ["be01 is to be mounted at /be01, but volume tmp is mounted beneath it "
                                                               "at /be01/tmp"]
    # a re-run: volumes of the backend at their own paths are in no one's way
    rerun = [{"name": "be01", "junction_path": "/be01"}, {"name": "be02", "junction_path": "/be01/be02"}]
    assert replication_junction_conflicts(mounts, rerun) == []
    # one of the backend's own volumes mounted at another's path is in its way
    swapped = [{"name": "be03", "junction_path": "/be01"}]
    assert replication_junction_conflicts(mounts, swapped) == ["be01 is to be mounted at /be01, but volume be03 is mounted there"]


def test_the_record_keeps_a_failbacks_switch_back_for_a_failover_that_cannot_read_the_source():
    # issue 17, probe finding 16: with the source down, a failover after a failback past its switch said nothing of it
    be = dict(ENSURE, name="be")
    begun = json.dumps(replication_failover_record(None, be, "dr1"))
    assert replication_failover_switched(begun, be, "dr1") == []
    switched = json.dumps(replication_failover_record(begun, be, "dr1", ["pool2", "pool1"]))
    assert replication_failover_switched(switched, be, "dr1") == ["pool1", "pool2"]
    assert replication_failover_record(switched, be) == "dr1"
    # the failover that follows keeps it; another target, or the failback's end, drops it
    again = json.dumps(replication_failover_record(switched, be, "dr1"))
    assert replication_failover_switched(again, be, "dr1") == ["pool1", "pool2"]
    assert replication_failover_switched(json.dumps(replication_failover_record(again, be, "dr2")), be, "dr2") == []
    assert replication_failover_switched(json.dumps(replication_failover_record(again, be, None)), be, "dr1") == []


def test_a_damaged_junction_record_is_no_record():
    # the role hands over the file's text: empty, cut short or edited, a failover with the source down goes on without it
    record = json.dumps(replication_junction_record(SOURCE, ENSURE))
    names = ["pool1", "pool2"]
    assert replication_junctions(names, ENSURE, None, record) == {"pool1": "/data/pool1", "pool2": "/pool2"}
    for damaged in ("", record[:20], "[]", '"x"', '{"source": "a.example.com:/svm_src", "junction_paths": ["/data/pool1"]}',
                    '{"source": "a.example.com:/svm_src", "junction_paths": {"pool1": 7, "pool2": "data"}}'):
        assert replication_junctions(names, ENSURE, None, damaged, {"pool2": "/x"}) == {"pool1": "/pool1", "pool2": "/x"}, damaged


def test_backends_sharing_a_record_file_keep_each_others_junction_paths():
    db = dict(ENSURE, source=dict(ENSURE["source"], volumes=["db*"]))
    logs = dict(ENSURE, source=dict(ENSURE["source"], volumes=["log*"]))
    first = json.dumps(replication_junction_record([{"name": "db1", "junction_path": "/db/1"}], db))
    second = replication_junction_record([{"name": "log1", "junction_path": "/log/1"}], logs, first)
    assert second["junction_paths"] == {"db1": "/db/1", "log1": "/log/1"}
    assert replication_junctions(["db1"], db, None, second) == {"db1": "/db/1"}
    # an unmounted volume keeps its last path, a remounted one gets its new path, another source starts afresh
    again = replication_junction_record([{"name": "db1", "junction_path": None}, {"name": "log1", "junction_path": "/l1"}], logs,
                                        json.dumps(second))
    assert again["junction_paths"] == {"db1": "/db/1", "log1": "/l1"}
    other = dict(ENSURE, source=dict(ENSURE["source"], svm="svm_other"))
    assert replication_junction_record([{"name": "x", "junction_path": "/x"}], other, json.dumps(second))["junction_paths"] == {"x": "/x"}


def test_the_default_record_file_is_per_backend_name_and_source_svm_and_stays_in_its_directory():
    prod_a = {"name": "prod", "source": {"svm": "svm1", "cluster": {"hostname": "a.example.com", "port": 443}}}
    prod_b = {"name": "prod", "source": {"svm": "svm2", "cluster": {"hostname": "a.example.com", "port": 443}}}
    assert replication_junctions_file_name(prod_a) == "prod@svm1.json"
    assert replication_junctions_file_name(prod_a) != replication_junctions_file_name(prod_b)
    odd = {"name": "../../etc/x", "source": {"svm": "s/v", "cluster": {"hostname": "::1"}}}
    assert "/" not in replication_junctions_file_name(odd)


def test_a_rerun_after_a_kill_between_quiesce_and_break_stays_with_the_least_lag_target():
    # the first run chose dr2 (least lag) and quiesced it, then was killed: its paused mirrors are still the freshest copy
    for paused in ({"state": "paused"}, {"status": "quiesced"}):     # REST, ZAPI
        dr2 = [dict(rel("svm_dst2", v, lag=20), **paused) for v in ("pool1", "pool2")]
        view = replication_view(reads([rel("svm_dst", "pool1", lag=300), rel("svm_dst", "pool2", lag=300)], dr2), BACKEND)
        assert replication_failover_choice(view)["target"] == "dr2", paused


def test_failback_is_refused_while_the_failed_over_target_cannot_be_read():
    # dr1 took the failover and the reverse relationships exist; dr1 down read as "no relationship", every volume "done"
    view = replication_view(reads(None, [rel("svm_dst2", "pool1")]), BACKEND)
    rev = {"relationships": [{"source_path": "svm_dst:pool1", "destination_path": "svm_src:pool1", "state": "snapmirrored",
                              "lag_time": 5}]}
    phases = replication_failback_phases(view, rev)
    assert phases["target"] is None and "dr1" in phases["why"] and "cannot be read" in phases["why"]
    # no reverse relationship yet: the only broken-off target may be the unread one
    phases = replication_failback_phases(view, {"relationships": []})
    assert phases["target"] is None and "dr1 (connection refused) could not be read" in phases["why"]


def test_junction_paths_of_volumes_outside_the_backend_are_named():
    from ansible_collections.storage.datamotion.plugins.filter.replication import replication_unknown_volumes
    assert replication_unknown_volumes({"pool1": "/p1", "misc": "/m", "apool": "/a"}, BACKEND) == ["apool", "misc"]
    assert replication_unknown_volumes({"pool9": "/p9"}, BACKEND) == []


def test_parents_are_mounted_before_the_volumes_beneath_them():
    from ansible_collections.storage.datamotion.plugins.filter.replication import replication_mount_levels
    assert replication_mount_levels({"b": "/a/b", "a": "/a", "c": "/a/b/c", "ab": "/ab", "x": "/data/x"}) == [
        ["a", "ab", "x"], ["b"], ["c"]]
    assert replication_mount_levels({"v1": "/data/v1", "v2": "/data/v2"}) == [["v1", "v2"]]
    assert replication_mount_levels({}) == []


def test_writes_on_the_source_since_the_common_snapshot_are_never_discarded_unasked():
    from ansible_collections.storage.datamotion.plugins.filter.replication import (
        replication_common_snapshots, replication_discarded_writes)
    target = [{"name": "pool1", "snapshots": ["snapmirror.a", "snapmirror.b", "snapmirror.c"]}, {"name": "pool2", "snapshots": ["snapmirror.x"]},
              {"name": "pool3", "snapshots": ["snapmirror.z"]}]
    source = [{"name": "pool1", "snapshots": ["snapmirror.a", "snapmirror.b", "other"]}, {"name": "pool2", "snapshots": ["snapmirror.x"]},
              {"name": "pool3", "snapshots": []}]
    # the newest snapshot both sides hold; none for a volume without one
    assert replication_common_snapshots(target, source) == {"pool1": "snapmirror.b", "pool2": "snapmirror.x"}
    deltas = [{"name": "pool1", "delta": {"snapshot": "snapmirror.b", "size_consumed": 4096}},
              {"name": "pool2", "delta": {"snapshot": "snapmirror.x", "size_consumed": 0}}, {"name": "pool3"}]
    # pool3 shares no snapshot: the resync would rewrite all of it (the simulator's does, and the write is gone)
    assert replication_discarded_writes(deltas) == [{"name": "pool1", "size_consumed": 4096, "snapshot": "snapmirror.b"},
                                                    {"name": "pool3", "size_consumed": None, "snapshot": None}]
    assert replication_discarded_writes(deltas, ["pool1", "pool3"]) == []
    assert replication_discarded_writes(deltas, True) == []
    assert replication_discarded_writes(deltas, ["pool2"])[0]["name"] == "pool1"


def test_only_a_snapshot_snapmirror_made_on_both_sides_is_shared():
    # a snapshot of the same name taken on each side after the failover (a snapshot policy's hourly.<time>, an
    # admin's before-failback) holds other data on each: the delta from it would hide what was written before it
    from ansible_collections.storage.datamotion.plugins.filter.replication import replication_common_snapshots
    target = [{"name": "pool1", "snapshots": ["snapmirror.a", "hourly.2026-12-07_0105", "before-failback"]}]
    source = [{"name": "pool1", "snapshots": ["snapmirror.a", "hourly.2026-12-07_0105", "before-failback"]}]
    assert replication_common_snapshots(target, source) == {"pool1": "snapmirror.a"}


def test_a_failback_past_its_switch_is_named_by_the_volumes_writable_on_the_source_again():
    def reverse(vol, state, lag, svm="svm_dst"):
        return {"source_path": "%s:%s" % (svm, vol), "destination_path": "svm_src:" + vol, "state": state, "lag_time": lag}
    read = {"relationships": [reverse("pool1", "broken_off", 30), reverse("pool2", "snapmirrored", 30),
                              reverse("pool3", "broken_off", None), reverse("pool4", "broken_off", 30, svm="svm_dst2")]}
    # pool2 still a copy of the target, pool3 never transferred back, pool4 from another target
    assert replication_switched_back(read, "svm_dst") == ["pool1"]
    assert replication_switched_back({"failed": True, "msg": "timeout"}, "svm_dst") == []


def test_failback_with_two_targets_broken_off_names_both_and_the_way_out():
    # failed over to dr1, then a DR test broke dr2's pool2 by hand: "nothing to fail back" would be false
    view = replication_view(reads([rel("svm_dst", "pool1", "broken_off"), rel("svm_dst", "pool2", "broken_off")],
                                  [rel("svm_dst2", "pool1"), rel("svm_dst2", "pool2", "broken_off")]), BACKEND)
    reverse = {"relationships": [{"source_path": "svm_dst:pool1", "destination_path": "svm_src:pool1", "state": "snapmirrored"}]}
    for read in ({"relationships": []}, reverse):
        result = replication_failback_phases(view, read)
        assert result["target"] is None and "nothing to fail back" not in result["why"]
        assert "(dr1: pool1, pool2; dr2: pool2)" in result["why"] and "resync the relationships broken by hand" in result["why"]
