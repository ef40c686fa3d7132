# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ontap_snapmirror: defects a hostile probe found (data loss, wrong validation), over an in-memory cluster."""

from __future__ import annotations

import pytest

from ansible_collections.storage.datamotion.plugins.modules import ontap_snapmirror
from ansible_collections.storage.datamotion.tests.unit.plugins.modules.ontap_fake import FakeCluster

CONN = dict(hostname="dst", username="admin", password="netapp1!", use_rest="always")


@pytest.fixture
def clusters(monkeypatch):
    found = {"dst": FakeCluster("dst"), "src": FakeCluster("src", svms=("svm_src",))}

    def connect(params, page_size=None):
        return found[params["hostname"]]

    monkeypatch.setattr(ontap_snapmirror, "connect", connect)
    monkeypatch.setattr("time.sleep", lambda s: None)
    return found


def run(run_module, check_mode=False, **args):
    return run_module(ontap_snapmirror, dict(CONN, **args), check_mode=check_mode)


def failed_over(clusters, *names):
    for name in names:
        clusters["src"].add_volume("svm_src:%s" % name, type="rw")
        clusters["dst"].add_relationship("svm_src:%s" % name, "svm_dst:%s" % name, state="broken_off")


@pytest.mark.parametrize("check_mode", [False, True])
@pytest.mark.parametrize("extra", [{}, {"max_lag": 3600}, {"policy": "MirrorLatest"}])
def test_a_default_relationship_state_never_resyncs_a_failed_over_relationship(run_module, clusters, check_mode, extra):
    # the periodic "keep the backend protected" task run after a failover: a resync would discard
    # everything written on the destination since the break
    failed_over(clusters, "vol1", "vol2")
    before = dict(clusters["dst"].rels)
    how, result = run(run_module, check_mode=check_mode, relationships=[
        dict(source_path="svm_src:vol1", destination_path="svm_dst:vol1", **extra),
        dict(source_path="svm_src:vol2", destination_path="svm_dst:vol2", relationship_state="broken_off")])
    assert how == "fail"
    assert "svm_dst:vol1 is broken off" in result["msg"] and "relationship_state: snapmirrored" in result["msg"]
    assert clusters["dst"].rels == before
    assert not [c for c in clusters["dst"].calls if c not in ("relationships", "policies", "schedules", "volumes")]


@pytest.mark.parametrize("target", ["snapmirrored", "paused"])
def test_an_explicit_relationship_state_resyncs(run_module, clusters, target):
    failed_over(clusters, "vol1")
    how, result = run(run_module, destination_path="svm_dst:vol1", relationship_state=target)
    assert how == "exit" and "resync" in result["actions"]
    assert result["relationship"]["state"] == target


@pytest.mark.parametrize("check_mode", [False, True])
def test_absent_with_another_source_deletes_nothing(run_module, clusters, check_mode):
    # a stale retirement list names vol2 as the source of svm_dst:vol1, which mirrors vol1
    clusters["src"].add_volume("svm_src:vol1", type="rw")
    clusters["dst"].add_relationship("svm_src:vol1", "svm_dst:vol1")
    before = dict(clusters["dst"].rels)
    how, result = run(run_module, check_mode=check_mode, state="absent", relationships=[
        dict(destination_path="svm_dst:vol1", source_path="svm_src:vol2")])
    assert how == "fail"
    assert "svm_dst:vol1 mirrors svm_src:vol1, not svm_src:vol2" in result["msg"]
    assert clusters["dst"].rels == before and "delete" not in clusters["dst"].calls


@pytest.mark.parametrize("check_mode", [False, True])
def test_a_failover_does_not_abort_a_running_first_transfer(run_module, clusters, check_mode):
    # quiesce, then abort at quiesce_timeout, threw the baseline transfer away and the break then failed anyway
    clusters["src"].add_volume("svm_src:vol1", type="rw")
    clusters["dst"].add_relationship("svm_src:vol1", "svm_dst:vol1", state="uninitialized", status="transferring", lag=None)
    clusters["dst"].pending["svm_dst:vol1"] = 100   # a long baseline: still running at every read of this test
    how, result = run(run_module, check_mode=check_mode, destination_path="svm_dst:vol1", relationship_state="broken_off", quiesce_timeout=0)
    assert how == "fail" and "its first transfer from svm_src:vol1 is still running" in result["msg"]
    assert [c for c in clusters["dst"].calls if c not in ("relationships", "policies", "schedules", "volumes")] == []
    assert clusters["dst"].rels["svm_dst:vol1"].status == "transferring"
