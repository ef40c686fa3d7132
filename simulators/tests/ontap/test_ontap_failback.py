# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Failback on the simulator: a relationship created onto a read-write volume is broken off, and a
reverse resync carries what was written on the failed-over side back to the original source."""

from ontap_helpers import invoke, mirror_pair, naserver, rest, wait_job


def tag(sim, cluster, svm, volume, name):
    return sim.ctl("POST", "/volumes/write", {"cluster": cluster, "svm": svm, "volume": volume, "bytes": 4096, "tag": name})


def rest_rel(url, destination):
    records = rest("GET", url, "/api/snapmirror/relationships", params={"destination.path": destination, "fields": "state,uuid"}).json()
    return records["records"][0]


def rest_patch(url, rel, state):
    response = rest("PATCH", url, "/api/snapmirror/relationships/%s" % rel["uuid"], json={"state": state})
    assert wait_job(url, response)["state"] == "success"


def failed_over(sim, name):
    """vol mirrored src -> dst, tagged 'before' on the source, then broken off and tagged 'after' on dst."""
    mirror_pair(sim, name)
    tag(sim, "src", "svm_src", name, "before")
    response = rest("POST", sim.dst, "/api/snapmirror/relationships",
                    json={"source": {"path": "svm_src:" + name}, "destination": {"path": "svm_dst:" + name}, "state": "snapmirrored"})
    assert wait_job(sim.dst, response)["state"] == "success"
    sim.wait_relationship("svm_dst:" + name, mirror_state="snapmirrored", status="idle")
    rest_patch(sim.dst, rest_rel(sim.dst, "svm_dst:" + name), "broken_off")
    tag(sim, "dst", "svm_dst", name, "after")


def test_write_on_a_dp_volume_is_refused(sim):
    mirror_pair(sim, "ro1")
    response = rest("POST", sim.control, "/volumes/write", json={"cluster": "dst", "svm": "svm_dst", "volume": "ro1", "bytes": 1})
    assert response.status_code == 400 and "read-only" in response.text


def test_reverse_resync_over_rest_carries_the_failed_over_writes_back(sim):
    failed_over(sim, "fb1")
    response = rest("POST", sim.src, "/api/snapmirror/relationships",
                    json={"source": {"path": "svm_dst:fb1"}, "destination": {"path": "svm_src:fb1"}})
    assert wait_job(sim.src, response)["state"] == "success"
    reverse = rest_rel(sim.src, "svm_src:fb1")
    assert reverse["state"] == "broken_off"          # onto a read-write volume: created broken off
    rest_patch(sim.src, reverse, "snapmirrored")     # the reverse resync
    sim.wait_relationship("svm_src:fb1", cluster="src", mirror_state="snapmirrored", status="idle")
    volumes = sim.state()["src"]["volumes"]
    assert volumes["svm_src:fb1"]["tags"] == ["before", "after"]
    assert volumes["svm_src:fb1"]["type"] == "dp"


def test_reverse_resync_over_zapi_carries_the_failed_over_writes_back(sim):
    failed_over(sim, "fb2")
    server = naserver(sim.src)
    invoke(server, "snapmirror-create", **{"source-location": "svm_dst:fb2", "destination-location": "svm_src:fb2"})
    info = invoke(server, "snapmirror-get-iter", **{"query": {"snapmirror-info": {"destination-location": "svm_src:fb2"}}})
    assert info.get_child_by_name("attributes-list").get_child_by_name("snapmirror-info").get_child_content("mirror-state") == "broken-off"
    invoke(server, "snapmirror-resync", **{"destination-location": "svm_src:fb2"})
    sim.wait_relationship("svm_src:fb2", cluster="src", mirror_state="snapmirrored", status="idle")
    assert sim.state()["src"]["volumes"]["svm_src:fb2"]["tags"] == ["before", "after"]


def test_a_reverse_resync_onto_an_offline_volume_is_refused_over_rest_and_zapi(sim):
    # ONTAP refuses a transfer onto an offline volume; the simulator accepted it (issue 17)
    for name, api in (("fb7", "rest"), ("fb8", "zapi")):
        failed_over(sim, name)
        uuid = sim.state()["src"]["volumes"]["svm_src:" + name]["uuid"]
        patch = rest("PATCH", sim.src, "/api/storage/volumes/%s" % uuid, json={"state": "offline"})
        assert wait_job(sim.src, patch)["state"] == "success"
        server = naserver(sim.src)
        invoke(server, "snapmirror-create", **{"source-location": "svm_dst:" + name, "destination-location": "svm_src:" + name})
        if api == "rest":
            response = rest("PATCH", sim.src, "/api/snapmirror/relationships/%s" % rest_rel(sim.src, "svm_src:" + name)["uuid"],
                            json={"state": "snapmirrored"})
            text = str(wait_job(sim.src, response)) if response.status_code == 202 else response.text
        else:
            try:
                invoke(server, "snapmirror-resync", **{"destination-location": "svm_src:" + name})
                text = "accepted"
            except Exception as exc:   # netapp-lib's NaApiError
                text = str(exc)
        assert "is offline" in text, (api, text)
        state = sim.state()["src"]
        assert state["relationships"]["svm_src:" + name]["mirror_state"] == "broken-off", api
        assert state["volumes"]["svm_src:" + name]["tags"] == ["before"], api


def test_the_source_reports_what_was_written_since_the_common_snapshot(sim):
    # what a reverse resync would discard: written on the original source after its last transfer
    failed_over(sim, "fb9")
    tag(sim, "src", "svm_src", "fb9", "late")
    state = sim.state()
    common = [s for s in state["src"]["volumes"]["svm_src:fb9"]["snapshots"] if s in state["dst"]["volumes"]["svm_dst:fb9"]["snapshots"]]
    assert len(common) == 1
    server = naserver(sim.src, vserver="svm_src")
    snaps = invoke(server, "snapshot-get-iter", **{"query": {"snapshot-info": {"volume": "fb9"}}})
    assert [s.get_child_content("name") for s in snaps.get_child_by_name("attributes-list").get_children()] == common
    delta = invoke(server, "snapshot-delta-info", **{"volume": "fb9", "snapshot1": common[0]})
    assert delta.get_child_content("consumed-size") == "4096"
    uuid = state["src"]["volumes"]["svm_src:fb9"]["uuid"]
    records = rest("GET", sim.src, "/api/storage/volumes/%s/snapshots" % uuid, params={"name": common[0], "fields": "delta"}).json()
    assert records["records"][0]["delta"]["size_consumed"] == 4096
    # the failed-over side holds its own writes since the same snapshot
    dst = naserver(sim.dst, vserver="svm_dst")
    assert invoke(dst, "snapshot-delta-info", **{"volume": "fb9", "snapshot1": common[0]}).get_child_content("consumed-size") == "4096"
    missing = rest("GET", sim.src, "/api/storage/volumes/%s/snapshots" % uuid, params={"name": "nope", "fields": "delta"})
    assert missing.status_code == 404


def test_the_delta_of_a_users_snapshot_counts_only_what_was_written_after_it(sim):
    # a snapshot taken through the API holds the volume as it is then: the delta to it is what came later
    failed_over(sim, "fb10")
    tag(sim, "src", "svm_src", "fb10", "late")
    uuid = sim.state()["src"]["volumes"]["svm_src:fb10"]["uuid"]
    assert rest("POST", sim.src, "/api/storage/volumes/%s/snapshots" % uuid, json={"name": "by-rest"}).status_code == 201
    server = naserver(sim.src, vserver="svm_src")
    invoke(server, "snapshot-create", **{"volume": "fb10", "snapshot": "by-zapi"})
    for name in ("by-rest", "by-zapi"):
        records = rest("GET", sim.src, "/api/storage/volumes/%s/snapshots" % uuid, params={"name": name, "fields": "delta"}).json()
        assert records["records"][0]["delta"]["size_consumed"] == 0
    tag(sim, "src", "svm_src", "fb10", "later")
    assert invoke(server, "snapshot-delta-info", **{"volume": "fb10", "snapshot1": "by-zapi"}).get_child_content("consumed-size") == "4096"
