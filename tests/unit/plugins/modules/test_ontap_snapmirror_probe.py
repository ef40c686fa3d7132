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

    def connect(params, page_size=None, role="destination"):
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


# item 10: what a hostile probe typed in place of connection options and item values fails clearly,
# before any connection, through the real transports (no fake here)
REAL = dict(username="admin", password="netapp1!", https=False, destination_path="svm_dst:vol1", source_path="svm_src:vol1")


@pytest.mark.parametrize("use_rest", ["always", "never"])
@pytest.mark.parametrize("args,message", [
    (dict(hostname="127.0.0.1", timeout=0), "timeout must be a positive number"),
    (dict(hostname="127.0.0.1", timeout=-5), "timeout must be a positive number"),
    (dict(hostname="127.0.0.1", port=70000), "port 70000 is not a TCP port"),
    (dict(hostname="127.0.0.1", port=-1), "port -1 is not a TCP port"),
    (dict(hostname="a b"), "hostname 'a b' is not a host name"),
    (dict(hostname=""), "hostname '' is not a host name"),
    (dict(hostname="::1", port=1), "ONTAP destination cluster ::1 is unreachable at http://[::1]:1"),
    (dict(hostname="127.0.0.1", port=1, source_cluster=dict(hostname="x y")), "destination cluster 127.0.0.1 is unreachable"),
])
def test_bad_connection_options_fail_clearly(run_module, use_rest, args, message):
    how, result = run_module(ontap_snapmirror, dict(REAL, use_rest=use_rest, **args))
    assert how == "fail" and message in result["msg"], result
    assert "exception" not in result


@pytest.mark.parametrize("create,message", [
    (dict(aggregate="aggr1", size="10g"), "create_destination.size must be a whole number of bytes, not '10g'"),
    (dict(aggregate_map="x"), "aggregate_map must map source aggregate names"),
])
def test_bad_item_values_fail_clearly(run_module, clusters, create, message):
    how, result = run(run_module, relationships=[dict(destination_path="svm_dst:vol1", source_path="svm_src:vol1",
                                                      create_destination=create)], source_cluster=dict(hostname="src"))
    assert how == "fail" and message in result["msg"]


@pytest.mark.parametrize("use_rest", ["always", "never"])
def test_a_refused_non_latin1_password_is_reported_without_echoing_it(run_module, use_rest):
    import http.server
    import threading

    class Refuse(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def refuse(self):
            self.send_response(401)
            self.send_header("Content-Length", "0")
            self.end_headers()
        do_GET = do_POST = refuse

    server = http.server.HTTPServer(("127.0.0.1", 0), Refuse)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        how, result = run_module(ontap_snapmirror, dict(REAL, hostname="127.0.0.1", port=server.server_address[1], use_rest=use_rest,
                                                        password="пароль-密码"))
    finally:
        server.shutdown()
    assert how == "fail" and "refused the credentials of user 'admin'" in result["msg"]
    assert "пароль" not in result["msg"] and "密码" not in result["msg"]
