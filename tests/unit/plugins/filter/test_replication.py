# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The replication role's decisions: least-lag target, never two targets, failback phases."""

from __future__ import annotations

from ansible_collections.storage.datamotion.plugins.filter.replication import (
    replication_failback_phases, replication_failover_choice, replication_status_report, replication_view,
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
    assert replication_failover_choice(replication_view(reads([rel("svm_dst", "pool1")], None), BACKEND))["target"] == "dr1"


def test_other_volumes_and_sources_are_not_part_of_the_backend():
    other = dict(rel("svm_dst", "pool2"), source_path="svm_x:pool2")
    view = replication_view(reads([rel("svm_dst", "pool1"), rel("svm_dst", "misc"), other], []), BACKEND)
    assert view["volumes"] == ["pool1"]


def test_never_a_second_target():
    view = replication_view(reads([rel("svm_dst", "pool1", "broken_off")], [rel("svm_dst2", "pool1", lag=1)]), BACKEND)
    assert replication_failover_choice(view)["target"] == "dr1"          # a re-run finishes the failover it began
    choice = replication_failover_choice(view, "dr2")
    assert choice["target"] is None and "already failed over to target dr1" in choice["why"]
    both = replication_view(reads([rel("svm_dst", "pool1", "broken_off")], [rel("svm_dst2", "pool2", "broken_off")]), BACKEND)
    assert replication_failover_choice(both)["target"] is None


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


def test_failback_with_nothing_failed_over_has_no_target():
    view = replication_view(reads([rel("svm_dst", "pool1")], []), BACKEND)
    assert replication_failback_phases(view, {"relationships": []})["target"] is None


def test_status_report_counts_and_table():
    view = replication_view(reads([rel("svm_dst", "pool1", lag=7)], None), BACKEND)
    report = replication_status_report(view)
    assert report["summary"]["worst_lag"] == 7 and report["summary"]["replication_count"] == 1
    assert report["volumes"]["pool1"]["dr2"] is None and report["targets"][1]["reachable"] is False
    assert len(report["table"]) == 3
