# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The control endpoint: offline clusters, injected errors, latency, failing transfers, slow quiesces, counters."""

import pytest
import requests
from netapp_lib.api.zapi import zapi

from ontap_helpers import invoke, mirror_pair, naserver, rest, wait_job

SM = "/api/snapmirror/relationships"
LOC = {"destination-location": "svm_dst:vol1"}


def initialized(sim, data=4096):
    mirror_pair(sim, "vol1", data=data)
    dst = naserver(sim.dst)
    invoke(dst, "snapmirror-create", **dict(LOC, **{"source-location": "svm_src:vol1"}))
    invoke(dst, "snapmirror-initialize", **LOC)
    sim.wait_relationship("svm_dst:vol1", mirror_state="snapmirrored", status="idle")
    return dst


def rel_uuid(sim):
    return sim.relationship("svm_dst:vol1")["uuid"]


def test_offline_source_refuses_connections_but_break_works(sim):
    dst = initialized(sim)
    sim.offline("src")
    with pytest.raises(requests.ConnectionError):
        requests.get(sim.src + "/api/cluster", auth=("admin", "netapp1!"), timeout=5)
    with pytest.raises(zapi.NaApiError) as caught:
        invoke(naserver(sim.src), "system-get-version")
    assert caught.value.code == "Unable to connect"
    # transfers need the source ...
    with pytest.raises(zapi.NaApiError) as caught:
        invoke(dst, "snapmirror-update", **LOC)
    assert "Failed to contact peer cluster" in caught.value.message
    response = rest("POST", sim.dst, "%s/%s/transfers" % (SM, rel_uuid(sim)))
    assert response.status_code == 400 and response.json()["error"]["code"] == "262224"
    # ... failover does not
    invoke(dst, "snapmirror-quiesce", **LOC)
    invoke(dst, "snapmirror-break", **LOC)
    assert sim.relationship("svm_dst:vol1")["mirror_state"] == "broken-off"
    # a delete that releases on the source fails while the source is away; destination_only does not
    response = rest("DELETE", sim.dst, "%s/%s" % (SM, rel_uuid(sim)), params={"return_timeout": 10})
    assert response.status_code == 400 and response.json()["error"]["code"] == "262224"
    response = rest("DELETE", sim.dst, "%s/%s" % (SM, rel_uuid(sim)), params={"destination_only": "true"})
    assert wait_job(sim.dst, response)["state"] == "success"
    sim.online("src")
    assert requests.get(sim.src + "/api/cluster", auth=("admin", "netapp1!"), timeout=5).status_code == 200
    assert sim.state()["src"]["destinations"] != {}


def test_operation_faults_zapi_and_rest(sim):
    dst = initialized(sim)
    sim.fault(cluster="dst", operation="snapmirror-quiesce", count=2, errno="13001", message="Injected: quiesce refused")
    for attempt in range(2):
        with pytest.raises(zapi.NaApiError) as caught:
            invoke(dst, "snapmirror-quiesce", **LOC)
        assert (caught.value.code, caught.value.message) == ("13001", "Injected: quiesce refused"), attempt
    invoke(dst, "snapmirror-quiesce", **LOC)
    sim.fault(cluster="dst", operation="PATCH /api/snapmirror/relationships/{uuid}", count=1, errno="262224",
              message="Failed to contact peer cluster.")
    response = rest("PATCH", sim.dst, "%s/%s" % (SM, rel_uuid(sim)), json={"state": "broken_off"})
    assert response.status_code == 400
    assert response.json() == {"error": {"code": "262224", "message": "Failed to contact peer cluster."}}
    assert sim.relationship("svm_dst:vol1")["mirror_state"] == "snapmirrored"
    sim.fault(cluster="dst", operation="GET /api/snapmirror/relationships/{uuid}", count=1, errno="4", message="entry doesn't exist")
    assert rest("GET", sim.dst, "%s/%s" % (SM, rel_uuid(sim))).status_code == 404
    assert rest("GET", sim.dst, "%s/%s" % (SM, rel_uuid(sim))).status_code == 200
    sim.fault(cluster="dst", operation="snapmirror-break", count=5, errno="13001")
    sim.ctl("DELETE", "/faults")
    invoke(dst, "snapmirror-break", **LOC)


def test_latency_makes_a_short_client_timeout_expire(sim):
    sim.fault(cluster="dst", latency=2.0)
    with pytest.raises(zapi.NaApiError):
        invoke(naserver(sim.dst, timeout=0.2), "system-get-version")
    with pytest.raises(requests.Timeout):
        requests.get(sim.dst + "/api/cluster", auth=("admin", "netapp1!"), timeout=0.2)
    sim.ctl("DELETE", "/faults")
    assert requests.get(sim.dst + "/api/cluster", auth=("admin", "netapp1!"), timeout=5).status_code == 200


def test_transfer_failure_makes_relationship_unhealthy(sim):
    mirror_pair(sim, "vol1", data=4096)
    dst = naserver(sim.dst)
    invoke(dst, "snapmirror-create", **dict(LOC, **{"source-location": "svm_src:vol1"}))
    sim.fault(cluster="dst", transfer_fail="svm_dst:vol1", count=1, message="Injected: network error")
    invoke(dst, "snapmirror-initialize", **LOC)
    rel = sim.wait_relationship("svm_dst:vol1", status="idle")
    assert (rel["healthy"], rel["mirror_state"], rel["last_transfer"]["state"]) == (False, "uninitialized", "failed")
    info = invoke(dst, "snapmirror-get-iter", **{"query": {"snapmirror-info": LOC}}).get_child_by_name("attributes-list").get_children()[0]
    assert info.get_child_content("is-healthy") == "false"
    assert info.get_child_content("last-transfer-error") == "Injected: network error"
    record = rest("GET", sim.dst, SM, params={"fields": "healthy,unhealthy_reason,transfer"}).json()["records"][0]
    assert record["healthy"] is False and record["unhealthy_reason"][0]["message"]
    assert record["transfer"]["state"] == "failed"
    invoke(dst, "snapmirror-initialize", **LOC)
    rel = sim.wait_relationship("svm_dst:vol1", status="idle")
    assert (rel["healthy"], rel["mirror_state"]) == (True, "snapmirrored")


def test_slow_quiesce(sim):
    dst = initialized(sim)
    sim.fault(cluster="dst", slow_quiesce=60)
    invoke(dst, "snapmirror-quiesce", **LOC)
    assert sim.relationship("svm_dst:vol1")["status"] == "quiescing"
    with pytest.raises(zapi.NaApiError) as caught:
        invoke(dst, "snapmirror-break", **LOC)
    assert caught.value.code == "17131"
    record = rest("GET", sim.dst, "%s/%s" % (SM, rel_uuid(sim))).json()
    assert record["state"] == "snapmirrored"
    invoke(dst, "snapmirror-abort", **LOC)
    assert sim.relationship("svm_dst:vol1")["status"] == "quiesced"
    invoke(dst, "snapmirror-break", **LOC)


def test_quiesce_during_a_transfer_waits_for_it(sim):
    dst = initialized(sim)
    sim.ctl("POST", "/config", {"transfer_rate_mib_s": 1})
    sim.write("src", "svm_src", "vol1", 1024 * 1024 * 1024)
    invoke(dst, "snapmirror-update", **LOC)
    invoke(dst, "snapmirror-quiesce", **LOC)
    assert sim.relationship("svm_dst:vol1")["status"] == "quiescing"
    invoke(dst, "snapmirror-abort", **LOC)
    rel = sim.relationship("svm_dst:vol1")
    assert (rel["status"], rel["last_transfer"]["state"]) == ("quiesced", "aborted")


def test_stats_count_every_request(sim):
    sim.ctl("POST", "/stats/reset")
    invoke(naserver(sim.dst), "system-get-version")
    rest("GET", sim.dst, "/api/cluster")
    rest("GET", sim.dst, "/api/snapmirror/relationships/abc")
    rest("GET", sim.dst, "/api/snapmirror/relationships/def")
    stats = sim.stats()
    # netapp-lib sends each call twice: first without credentials, to get the 401 Basic challenge
    assert stats["dst"]["zapi"] == {"system-get-version": 2}
    assert stats["dst"]["rest"] == {"GET /api/cluster": 1, "GET /api/snapmirror/relationships/{uuid}": 2}
    assert stats["dst"]["total"] == 5
    assert stats["src"]["total"] == 0
    sim.ctl("POST", "/stats/reset")
    assert sim.stats()["dst"]["total"] == 0


def test_reset_returns_to_the_seed(sim):
    initialized(sim)
    sim.offline("src")
    sim.reset()
    state = sim.state()
    assert state["dst"]["relationships"] == {} and state["dst"]["volumes"] == {}
    assert state["src"]["online"] is True
    assert state["dst"]["svm_peers"] == [{"svm": "svm_dst", "peer_svm": "svm_src", "peer_cluster": "src"}]
    assert requests.get(sim.src + "/api/cluster", auth=("admin", "netapp1!"), timeout=5).status_code == 200


def test_control_rejects_bad_requests(sim):
    assert requests.post(sim.control + "/clusters/nope/offline", timeout=5).status_code == 404
    assert requests.post(sim.control + "/faults", json={"cluster": "dst"}, timeout=5).status_code == 400
    assert requests.post(sim.control + "/faults", json={"cluster": "dst", "operation": "snapmirror-break"}, timeout=5).status_code == 400
    assert requests.post(sim.control + "/config", json={"transfer_rate_mib_s": 0}, timeout=5).status_code == 400
    response = requests.post(sim.control + "/volumes/write", json={"cluster": "src", "svm": "svm_src", "volume": "x", "bytes": 1},
                             timeout=5)
    assert response.status_code == 400 and "x" in response.json()["error"]


def test_kill_play_kills_the_calling_run_after_the_call_acted(sim):
    """kill_play: the call acts, then the ansible-playbook run that sent it (its process group) dies unanswered;
    a caller that is no such run is left alone."""
    import signal
    import subprocess
    import sys
    initialized(sim)
    sim.fault(cluster="dst", operation="PATCH /api/snapmirror/relationships/{uuid}", kill_play=True, body='"broken_off"')
    sim.fault(cluster="dst", operation="PATCH /api/snapmirror/relationships/{uuid}", kill_play=True, body='"paused"')
    call = ("import requests, sys; requests.patch(sys.argv[1], json={'state': 'paused'}, auth=('admin', 'netapp1!'), "
            "timeout=30); print('answered')")
    url = "%s%s/%s" % (sim.dst, SM, rel_uuid(sim))
    # bash -c makes a process group led by a process named ansible-playbook, whose child sends the call
    run = subprocess.run(["bash", "-c", 'exec -a ansible-playbook bash -c "$0 -c \\"$1\\" $2; echo survived"',
                          sys.executable, call, url], start_new_session=True, stdout=subprocess.PIPE, text=True,
                         timeout=60, check=False)
    assert run.returncode == -signal.SIGKILL and "answered" not in run.stdout and "survived" not in run.stdout
    assert sim.relationship("svm_dst:vol1")["status"] in ("quiesced", "quiescing")
    # spent: the next call is answered
    response = rest("PATCH", sim.dst, "%s/%s" % (SM, rel_uuid(sim)), json={"state": "snapmirrored"})
    assert response.status_code in (200, 202)
