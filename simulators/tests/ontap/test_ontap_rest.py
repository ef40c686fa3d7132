# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plain requests against ontap-sim's REST API, in the ways cinder and netapp.ontap send them."""

from ontap_helpers import GIB, mirror_pair, rest, rest_volume, wait_job

SM = "/api/snapmirror/relationships"


def create_relationship(sim, name="vol1", initialize=False, **extra):
    body = dict({"source": {"path": "svm_src:%s" % name}, "destination": {"path": "svm_dst:%s" % name}}, **extra)
    if initialize:
        body["state"] = "snapmirrored"
    response = rest("POST", sim.dst, SM, json=body)
    assert response.status_code == 202, response.text
    job = wait_job(sim.dst, response)
    assert job["state"] == "success", job
    return response.headers["Location"].rsplit("/", 1)[-1]


def get_rel(sim, uuid, fields="*"):
    response = rest("GET", sim.dst, "%s/%s" % (SM, uuid), params={"fields": fields})
    assert response.status_code == 200, response.text
    return response.json()


def patch_rel(sim, uuid, body, **params):
    return rest("PATCH", sim.dst, "%s/%s" % (SM, uuid), json=body, params=params)


def test_cluster_version(sim):
    response = rest("GET", sim.dst, "/api/cluster", params={"fields": "version"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/hal+json"
    version = response.json()["version"]
    assert (version["generation"], version["major"], version["minor"]) == (9, 13, 1)
    assert version["full"].startswith("NetApp Release 9.13.1")


def test_lifecycle(sim):
    mirror_pair(sim, "vol1", data=10 * 1024 * 1024)
    uuid = create_relationship(sim, policy={"name": "MirrorAllSnapshots"}, transfer_schedule={"name": "hourly"})
    rel = get_rel(sim, uuid)
    assert rel["state"] == "uninitialized"
    assert rel["policy"] == {"name": "MirrorAllSnapshots", "type": "async", "uuid": rel["policy"]["uuid"]}
    assert rel["transfer_schedule"]["name"] == "hourly"
    assert "transfer" not in rel and "lag_time" not in rel

    job = wait_job(sim.dst, patch_rel(sim, uuid, {"state": "snapmirrored"}))
    assert job["state"] == "success" and job["description"].startswith("PATCH /api/snapmirror/relationships/")
    sim.wait_relationship("svm_dst:vol1", mirror_state="snapmirrored", status="idle")
    rel = get_rel(sim, uuid)
    assert rel["state"] == "snapmirrored" and rel["healthy"] is True
    assert rel["transfer"]["state"] == "success"
    assert rel["transfer"]["bytes_transferred"] == 10 * 1024 * 1024
    assert rel["lag_time"].startswith("PT")
    assert rel["last_transfer_type"] == "initialize"

    sim.write("src", "svm_src", "vol1", 4096)
    response = rest("POST", sim.dst, "%s/%s/transfers/" % (SM, uuid))
    assert response.status_code == 201
    transfer_uuid = response.headers["Location"].rsplit("/", 1)[-1]
    sim.wait_relationship("svm_dst:vol1", status="idle")
    transfer = rest("GET", sim.dst, "%s/%s/transfers/%s" % (SM, uuid, transfer_uuid)).json()
    assert (transfer["state"], transfer["bytes_transferred"]) == ("success", 4096)

    assert wait_job(sim.dst, patch_rel(sim, uuid, {"state": "paused"}))["state"] == "success"
    assert get_rel(sim, uuid)["state"] == "paused"
    assert wait_job(sim.dst, patch_rel(sim, uuid, {"state": "snapmirrored"}))["state"] == "success"
    assert get_rel(sim, uuid)["state"] == "snapmirrored"
    assert wait_job(sim.dst, patch_rel(sim, uuid, {"state": "broken_off"}))["state"] == "success"
    assert get_rel(sim, uuid)["state"] == "broken_off"

    # mount as cinder does: a PATCH by query with a dotted key
    response = rest("PATCH", sim.dst, "/api/storage/volumes", params={"name": "vol1"}, json={"nas.path": "/vol1"},
                    headers={"X-Dot-SVM-Name": "svm_dst"})
    assert response.status_code == 202
    assert wait_job(sim.dst, response)["state"] == "success"
    vol = rest("GET", sim.dst, "/api/storage/volumes", params={"name": "vol1", "fields": "nas.path,type"}).json()["records"][0]
    assert vol["nas"] == {"path": "/vol1"} and vol["type"] == "rw"

    assert wait_job(sim.dst, patch_rel(sim, uuid, {"state": "snapmirrored"}))["state"] == "success"
    sim.wait_relationship("svm_dst:vol1", mirror_state="snapmirrored", status="idle")
    assert get_rel(sim, uuid)["last_transfer_type"] == "resync"

    response = rest("DELETE", sim.dst, "%s/%s" % (SM, uuid))
    assert wait_job(sim.dst, response)["state"] == "success"
    state = sim.state()
    assert state["dst"]["relationships"] == {} and state["src"]["destinations"] == {}
    assert rest("GET", sim.dst, "%s/%s" % (SM, uuid)).status_code == 404


def test_create_with_destination_and_initialize(sim):
    assert wait_job(sim.src, rest_volume(sim.src, "svm_src", "vol9", 3 * GIB))["state"] == "success"
    uuid = create_relationship(sim, "vol9", initialize=True, create_destination={"enabled": True})
    vol = sim.state()["dst"]["volumes"]["svm_dst:vol9"]
    assert (vol["type"], vol["size"]) == ("dp", 3 * GIB)
    sim.wait_relationship("svm_dst:vol9", mirror_state="snapmirrored")
    assert get_rel(sim, uuid)["policy"]["name"] == "Asynchronous"


def test_destination_only_then_source_only(sim):
    """Cinder's delete: destination_only on the destination, then source_only on the source's record."""
    mirror_pair(sim, "vol1", data=4096)
    uuid = create_relationship(sim, initialize=True)
    sim.wait_relationship("svm_dst:vol1", mirror_state="snapmirrored")
    listing = rest("GET", sim.src, SM, params={"list_destinations_only": "true", "source.path": "svm_src:vol1",
                                               "destination.path": "svm_dst:vol1", "fields": "uuid"}).json()
    assert [r["uuid"] for r in listing["records"]] == [uuid]
    assert rest("GET", sim.src, SM).json()["num_records"] == 0
    assert wait_job(sim.dst, rest("DELETE", sim.dst, "%s/%s" % (SM, uuid), params={"destination_only": "true"}))["state"] == "success"
    assert sim.state()["src"]["destinations"] != {}
    assert wait_job(sim.src, rest("DELETE", sim.src, "%s/%s" % (SM, uuid), params={"source_only": "true"}))["state"] == "success"
    assert sim.state()["src"]["destinations"] == {}
    response = rest("DELETE", sim.src, "%s/%s" % (SM, uuid), params={"source_only": "true"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "4"


def test_paging_fields_and_filters(sim):
    for i in range(7):
        mirror_pair(sim, "pv%d" % i)
        create_relationship(sim, "pv%d" % i)
    url = sim.dst + SM + "?max_records=3&fields=state,destination.path&destination.path=svm_dst:pv*"
    pages, seen = 0, []
    while url:
        response = rest("GET", url, "")
        body = response.json()
        pages += 1
        assert body["num_records"] == len(body["records"])
        for record in body["records"]:
            assert set(record) == {"uuid", "state", "destination", "_links"}
            assert set(record["destination"]) == {"path"}
            seen.append(record["destination"]["path"])
        nxt = body["_links"].get("next")
        url = sim.dst + nxt["href"] if nxt else None
    assert pages == 3
    assert sorted(seen) == ["svm_dst:pv%d" % i for i in range(7)]
    keys_only = rest("GET", sim.dst, SM).json()["records"][0]
    assert set(keys_only) == {"uuid", "_links"}
    every = rest("GET", sim.dst, SM, params={"fields": "**"}).json()["records"][0]
    assert {"source", "destination", "policy", "state", "healthy"} <= set(every)
    alternatives = rest("GET", sim.dst, SM, params={"destination.path": "svm_dst:pv1|svm_dst:pv2"}).json()
    assert alternatives["num_records"] == 2
    negated = rest("GET", sim.dst, SM, params={"destination.path": "!svm_dst:pv1"}).json()
    assert negated["num_records"] == 6
    count = rest("GET", sim.dst, SM, params={"return_records": "false"}).json()
    assert count == {"num_records": 7, "_links": count["_links"]}
    # cinder's unencoded query with a double slash and a trailing slash
    response = rest("GET", sim.dst, "/api//snapmirror/relationships/?fields=state,source.path&source.path=svm_src:*&max_records=10000")
    assert response.json()["num_records"] == 7


def test_lag_filter_and_age(sim):
    mirror_pair(sim, "vol1", data=4096)
    create_relationship(sim, initialize=True)
    sim.wait_relationship("svm_dst:vol1", mirror_state="snapmirrored")
    sim.ctl("POST", "/relationships/age", {"cluster": "dst", "destination_path": "svm_dst:vol1", "seconds": 7200})
    record = rest("GET", sim.dst, SM, params={"fields": "lag_time"}).json()["records"][0]
    assert record["lag_time"].startswith("PT2H")
    assert rest("GET", sim.dst, SM, params={"lag_time": ">PT1H"}).json()["num_records"] == 1
    assert rest("GET", sim.dst, SM, params={"lag_time": ">PT3H"}).json()["num_records"] == 0


def test_return_timeout(sim):
    mirror_pair(sim, "vol1")
    body = {"source": {"path": "svm_src:vol1"}, "destination": {"path": "svm_dst:vol1"}}
    response = rest("POST", sim.dst, SM, json=body, params={"return_timeout": 600})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "262197"
    assert sim.state()["dst"]["relationships"] == {}
    response = rest("POST", sim.dst, SM, json=body, params={"return_timeout": 30})
    assert response.status_code == 201
    assert "job" in response.json() and response.headers["Location"].startswith(SM + "/")
    # within the timeout, a failing operation answers with its error
    response = rest("POST", sim.dst, SM, json=body, params={"return_timeout": 30})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "6619637"
    # without one, the job carries it
    response = rest("POST", sim.dst, SM, json=body)
    assert response.status_code == 202
    job = wait_job(sim.dst, response)
    assert job["state"] == "failure"
    assert job["error"]["code"] == "6619637" and job["code"] == 6619637
    assert "already exists" in job["message"]
    jobs = rest("GET", sim.dst, "/api/cluster/jobs", params={"state": "failure", "fields": "state"}).json()
    assert jobs["num_records"] == 2  # the one answered within return_timeout ran as a job too


def test_errors(sim):
    response = rest("GET", sim.dst, SM + "/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404
    assert response.json() == {"error": {"message": "entry doesn't exist", "code": "4", "target": "uuid"}}
    response = rest("GET", sim.dst, "/api/cluster", auth=("admin", "bad"))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "6"
    response = rest("GET", sim.dst, "/api/no/such/thing")
    assert response.status_code == 404 and response.json()["error"]["code"] == "3"
    response = rest("DELETE", sim.dst, "/api/cluster")
    assert response.status_code == 405
    response = rest("POST", sim.dst, SM, json={"source": {"path": "svm_src:vol1"}})
    assert response.status_code == 400 and response.json()["error"]["target"] == "destination.path"
    response = rest("POST", sim.dst, SM, data=b"{not json")
    assert response.status_code == 400
    mirror_pair(sim, "vol1")
    uuid = create_relationship(sim)
    response = patch_rel(sim, uuid, {"state": "broken_off"}, return_timeout=10)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "13303812"
    response = rest("POST", sim.dst, "%s/%s/transfers" % (SM, uuid))
    assert response.status_code == 201
    response = rest("POST", sim.dst, "%s/%s/transfers" % (SM, uuid))
    assert response.status_code == 409
    assert "Another transfer is in progress" in response.json()["error"]["message"]


def test_abort_transfer(sim):
    sim.ctl("POST", "/config", {"transfer_rate_mib_s": 1})
    mirror_pair(sim, "vol1", data=200 * 1024 * 1024)
    uuid = create_relationship(sim, initialize=True)
    running = rest("GET", sim.dst, "%s/%s/transfers/" % (SM, uuid), params={"state": "transferring"}).json()["records"]
    assert len(running) == 1
    response = rest("PATCH", sim.dst, "%s/%s/transfers/%s" % (SM, uuid, running[0]["uuid"]), json={"state": "aborted"})
    assert response.status_code == 200
    rel = get_rel(sim, uuid)
    assert rel["transfer"]["state"] == "aborted" and rel["state"] == "uninitialized"
    response = rest("PATCH", sim.dst, "%s/%s/transfers/%s" % (SM, uuid, running[0]["uuid"]), json={"state": "aborted"})
    assert response.status_code == 400


def test_svm_scoping_header(sim):
    rest_volume(sim.dst, "svm_dst", "one")
    response = rest("POST", sim.dst, "/api/storage/volumes/", headers={"X-Dot-SVM-Name": "svm_dst"},
                    json={"name": "two", "size": GIB, "type": "dp", "aggregates": [{"name": "aggr1"}], "style": "flexvol"})
    assert response.status_code == 202, response.text
    assert wait_job(sim.dst, response)["state"] == "success"
    exists = rest("GET", sim.dst, "/api/storage/volumes/", params={"name": "two", "return_records": "false"},
                  headers={"X-Dot-SVM-Name": "svm_dst"}).json()
    assert exists["num_records"] == 1
    assert rest("GET", sim.dst, "/api/svm/svms", headers={"X-Dot-SVM-Name": "svm_dst"}).json()["num_records"] == 1
    response = rest("GET", sim.dst, "/api/storage/volumes", headers={"X-Dot-SVM-Name": "svm_nope"})
    assert response.status_code == 404


def test_peers_aggregates_policies(sim):
    peers = rest("GET", sim.dst, "/api/svm/peers", params={"name": "svm_src", "svm.name": "svm_dst", "fields": "peer"}).json()
    assert peers["records"][0]["peer"]["svm"]["name"] == "svm_src"
    assert peers["records"][0]["peer"]["cluster"]["name"] == "src"
    cpeers = rest("GET", sim.dst, "/api/cluster/peers", params={"fields": "*"}).json()["records"]
    assert [(p["name"], p["status"]["state"]) for p in cpeers] == [("src", "available")]
    sim.offline("src")
    cpeers = rest("GET", sim.dst, "/api/cluster/peers", params={"fields": "status"}).json()["records"]
    assert cpeers[0]["status"]["state"] == "unavailable"
    aggr = rest("GET", sim.dst, "/api/storage/aggregates", params={"fields": "space"}).json()["records"][0]
    assert aggr["space"]["block_storage"]["available"] == 10 * 1024 * GIB
    policy = rest("GET", sim.dst, "/api/snapmirror/policies", params={"name": "MirrorAllSnapshots", "fields": "svm.name,type"})
    record = policy.json()["records"][0]
    assert record["type"] == "async" and "svm" not in record
    sync = rest("GET", sim.dst, "/api/snapmirror/policies", params={"type": "sync", "fields": "sync_type"}).json()
    assert {r["name"] for r in sync["records"]} >= {"Sync", "StrictSync"}
    schedules = rest("GET", sim.dst, "/api/cluster/schedules", params={"name": "5min|hourly", "fields": "cron"}).json()
    assert schedules["num_records"] == 2


def test_volume_delete_and_resize(sim):
    response = rest_volume(sim.dst, "svm_dst", "gone", return_timeout=10)
    assert response.status_code == 201
    uuid = response.headers["Location"].rsplit("/", 1)[-1]
    response = rest("PATCH", sim.dst, "/api/storage/volumes/%s" % uuid, json={"size": 2 * GIB}, params={"return_timeout": 10})
    assert response.status_code == 200
    assert sim.state()["dst"]["volumes"]["svm_dst:gone"]["size"] == 2 * GIB
    assert wait_job(sim.dst, rest("DELETE", sim.dst, "/api/storage/volumes/%s" % uuid))["state"] == "success"
    assert "svm_dst:gone" not in sim.state()["dst"]["volumes"]


def test_cinder_queries(sim):
    """The queries cinder's REST client sends, answered as it parses them."""
    rest_volume(sim.dst, "svm_dst", "pool1")
    rest_volume(sim.dst, "svm_dst", "mirror1", vol_type="dp")
    query = {"type": "rw", "style": "flex*", "is_svm_root": "false", "error_state.is_inconsistent": "false", "state": "online",
             "fields": "name"}
    names = [r["name"] for r in rest("GET", sim.dst, "/api/storage/volumes/", params=query).json()["records"]]
    assert names == ["pool1"]
    fields = "model,name,is_all_flash_optimized,is_all_flash_select_optimized"
    nodes = rest("GET", sim.dst, "/api/cluster/nodes", params={"fields": fields}).json()
    assert {"model", "name", "is_all_flash_optimized", "is_all_flash_select_optimized"} <= set(nodes["records"][0])
    response = rest("GET", sim.dst, "/api/storage/volumes", params={"no_such_field": "1"})
    assert response.status_code == 400
    assert response.json()["error"] == {"message": "Unexpected argument \"no_such_field\".", "code": "262179", "target": "no_such_field"}


def test_lag_time_always_has_hours_minutes_seconds(sim):
    mirror_pair(sim, "vol1", data=4096)
    create_relationship(sim, initialize=True)
    sim.wait_relationship("svm_dst:vol1", mirror_state="snapmirrored")
    sim.ctl("POST", "/relationships/age", {"cluster": "dst", "destination_path": "svm_dst:vol1", "seconds": 3600 * 30})
    lag = rest("GET", sim.dst, SM, params={"fields": "lag_time"}).json()["records"][0]["lag_time"]
    hours, rest_ = lag[2:].split("H")
    minutes, seconds = rest_.rstrip("S").split("M")
    assert int(hours) == 30 and int(minutes) == 0 and 0 <= int(seconds) < 60


def test_filter_on_a_field_no_record_has_yet(sim):
    mirror_pair(sim, "vol1")
    create_relationship(sim)
    assert rest("GET", sim.dst, SM, params={"lag_time": ">PT1H"}).json()["num_records"] == 0
    assert rest("GET", sim.dst, SM, params={"lag_time": "null"}).json()["num_records"] == 1
    assert rest("GET", sim.dst, SM, params={"transfer.state": "!null"}).json()["num_records"] == 0
