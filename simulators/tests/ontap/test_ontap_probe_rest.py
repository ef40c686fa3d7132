# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""REST fidelity found by probing: PATCH of fields ONTAP cannot set, paging across records that sort equal."""

import pytest

from ontap_helpers import Sim, mirror_pair, rest

SEED = """
clusters:
  - name: one
    svms: [{name: svm_a}, {name: svm_b}]
    volumes:
      - {svm: svm_a, name: data, size: 1GiB}
      - {svm: svm_b, name: data, size: 1GiB}
      - {svm: svm_a, name: logs, size: 1GiB}
      - {svm: svm_b, name: logs, size: 1GiB}
      - {svm: svm_b, name: apps, size: 1GiB}
"""


def relationship_uuid(sim):
    mirror_pair(sim, "vol1")
    answer = rest("POST", sim.dst, "/api/snapmirror/relationships", params={"return_timeout": 10},
                  json={"source": {"path": "svm_src:vol1"}, "destination": {"path": "svm_dst:vol1"}})
    assert answer.status_code == 201, answer.text
    return rest("GET", sim.dst, "/api/snapmirror/relationships").json()["records"][0]["uuid"]


@pytest.mark.parametrize("body, code", [
    ({"uuid": "00000000-0000-0000-0000-000000000000"}, "262196"),
    ({"healthy": False}, "262196"),
    ({"lag_time": "PT1S"}, "262196"),
    ({"source": {"path": "svm_src:other"}}, "262196"),
    ({"state": "paused", "no_such_field": 1}, "262179"),
])
def test_patch_relationship_refuses_fields_it_cannot_set(sim, body, code):
    uuid = relationship_uuid(sim)
    before = sim.state()
    answer = rest("PATCH", sim.dst, "/api/snapmirror/relationships/" + uuid, json=body, params={"return_timeout": 10})
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == code
    assert answer.json()["error"]["target"] == next(k for k in body if k != "state")
    assert sim.state()["dst"]["relationships"] == before["dst"]["relationships"]


def pages(url, path, **params):
    seen, href = [], path
    for _attempt in range(20):
        answer = rest("GET", url, href, params=params if href == path else None).json()
        seen.extend((r["svm"]["name"], r["name"]) for r in answer["records"])
        if "next" not in answer["_links"]:
            return seen
        href = answer["_links"]["next"]["href"]
    raise AssertionError("paging never ends: %s" % seen)


def test_paging_over_records_that_sort_equal(tmp_path):
    """Volumes of one name in two SVMs: a page of one record at a time visits each exactly once, both ways."""
    seed = tmp_path / "seed.yml"
    seed.write_text(SEED)
    server = Sim("--seed", str(seed))
    try:
        url = server.clusters["one"]
        everything = pages(url, "/api/storage/volumes", fields="svm.name")
        assert len(everything) == 5
        for order in ("name", "name desc"):
            seen = pages(url, "/api/storage/volumes", fields="svm.name", max_records="1", order_by=order)
            assert sorted(seen) == sorted(everything)
            names = [name for _svm, name in seen]
            assert names == sorted(names, reverse=order.endswith("desc"))
    finally:
        assert server.stop() == 0


def test_paging_over_jobs_sorted_by_uuid_still_works(sim):
    for index in range(3):
        mirror_pair(sim, "p%d" % index)
    jobs = rest("GET", sim.dst, "/api/cluster/jobs").json()["num_records"]
    seen, href = 0, "/api/cluster/jobs?max_records=2"
    while href:
        answer = rest("GET", sim.dst, href).json()
        seen += answer["num_records"]
        href = answer["_links"].get("next", {}).get("href")
    assert seen == jobs


SCOPED_SEED = """
clusters:
  - name: src
    svms: [{name: svm_src}]
    volumes: [{svm: svm_src, name: vol1, size: 1GiB}]
  - name: dst
    svms: [{name: svm_dst}, {name: svm_other}]
    volumes: [{svm: svm_dst, name: vol1, size: 1GiB, type: dp}]
peers:
  - {cluster: src, svm: svm_src, peer_cluster: dst, peer_svm: svm_dst}
"""


def test_svm_scope_hides_other_svms_objects_by_uuid(tmp_path):
    """With X-Dot-SVM-Name, a relationship or volume of another SVM does not exist, whatever its uuid."""
    seed = tmp_path / "seed.yml"
    seed.write_text(SCOPED_SEED)
    server = Sim("--seed", str(seed))
    try:
        dst = server.clusters["dst"]
        created = rest("POST", dst, "/api/snapmirror/relationships", params={"return_timeout": 10},
                       json={"source": {"path": "svm_src:vol1"}, "destination": {"path": "svm_dst:vol1"}})
        assert created.status_code == 201, created.text
        rel = rest("GET", dst, "/api/snapmirror/relationships").json()["records"][0]["uuid"]
        vol = rest("GET", dst, "/api/storage/volumes").json()["records"][0]["uuid"]
        before = server.state()
        other = {"X-Dot-SVM-Name": "svm_other"}
        for method, path, body in (("GET", "/api/snapmirror/relationships/" + rel, None),
                                   ("PATCH", "/api/snapmirror/relationships/" + rel, {"state": "paused"}),
                                   ("DELETE", "/api/snapmirror/relationships/" + rel, None),
                                   ("GET", "/api/snapmirror/relationships/%s/transfers" % rel, None),
                                   ("PATCH", "/api/storage/volumes/" + vol, {"nas": {"path": "/x"}}),
                                   ("DELETE", "/api/storage/volumes/" + vol, None)):
            answer = rest(method, dst, path, headers=other, json=body, params={"return_timeout": 10} if method != "GET" else None)
            assert answer.status_code == 404, (method, path, answer.text)
            assert answer.json()["error"]["code"] == "4"
        assert server.state() == before
        mine = rest("GET", dst, "/api/snapmirror/relationships/" + rel, headers={"X-Dot-SVM-Name": "svm_dst"})
        assert mine.status_code == 200
    finally:
        assert server.stop() == 0


@pytest.mark.parametrize("path", ["/api/svm/svms", "/api/storage/volumes", "/api/snapmirror/relationships", "/api/cluster",
                                  "/api/cluster/jobs"])
def test_unknown_name_in_fields_is_refused(sim, path):
    answer = rest("GET", sim.dst, path, params={"fields": "name,no_such_field"})
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "262197"
    assert answer.json()["error"]["target"] == "fields"


def test_real_field_the_simulator_does_not_carry_is_accepted(sim):
    """na_ontap_volume asks for ~25 volume fields (snaplock, qos.policy.name, files.maximum, ...): ONTAP knows them all,
    so they are never refused; a filter on one selects nothing rather than being an unexpected argument."""
    mirror_pair(sim, "vol1")
    answer = rest("GET", sim.dst, "/api/storage/volumes", params={"fields": "snaplock,qos.policy.name,files.maximum,_tags,name"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["records"][0]["name"] == "vol1"
    uuid = answer.json()["records"][0]["uuid"]
    answer = rest("GET", sim.dst, "/api/storage/volumes", params={"is_object_store": "true"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["num_records"] == 0
    one = rest("GET", sim.dst, "/api/storage/volumes/" + uuid, params={"fields": "no_such_field"})
    assert one.status_code == 400
    assert one.json()["error"]["code"] == "262197"
