# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parallel clients (as Ansible forks) are served at once and leave a consistent state."""

from concurrent.futures import ThreadPoolExecutor

from netapp_lib.api.zapi import zapi

from ontap_helpers import GIB, invoke, naserver, rest, wait_job, zapi_volume

SM = "/api/snapmirror/relationships"


def protect_over_zapi(sim, name):
    zapi_volume(naserver(sim.src, "svm_src"), name, "1g")
    dst = naserver(sim.dst, "svm_dst")
    zapi_volume(dst, name, "1g", "dp")
    loc = {"destination-location": "svm_dst:%s" % name}
    invoke(dst, "snapmirror-create", **dict(loc, **{"source-location": "svm_src:%s" % name}))
    invoke(dst, "snapmirror-initialize", **loc)


def protect_over_rest(sim, name):
    for url, svm, vol_type in ((sim.src, "svm_src", "rw"), (sim.dst, "svm_dst", "dp")):
        response = rest("POST", url, "/api/storage/volumes", json={"name": name, "svm.name": svm, "aggregates": [{"name": "aggr1"}],
                                                                   "size": GIB, "type": vol_type})
        assert wait_job(url, response)["state"] == "success"
    response = rest("POST", sim.dst, SM, json={"source": {"path": "svm_src:%s" % name}, "destination": {"path": "svm_dst:%s" % name},
                                               "state": "snapmirrored"})
    assert wait_job(sim.dst, response)["state"] == "success"


def test_parallel_clients_keep_state_consistent(sim):
    names = ["c%02d" % i for i in range(24)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(protect_over_zapi if i % 2 else protect_over_rest, sim, name) for i, name in enumerate(names)]
        for future in futures:
            future.result()
    for name in names:
        sim.wait_relationship("svm_dst:%s" % name, mirror_state="snapmirrored", status="idle")
    state = sim.state()
    rels = state["dst"]["relationships"]
    assert sorted(rels) == ["svm_dst:%s" % n for n in names]
    assert len({r["uuid"] for r in rels.values()}) == len(names)
    assert sorted(state["src"]["destinations"]) == sorted(rels)
    for cluster in ("src", "dst"):
        volumes = state[cluster]["volumes"]
        assert len(volumes) == len(names)
        assert len({v["uuid"] for v in volumes.values()}) == len(names)
        aggr = state[cluster]["aggregates"]["aggr1"]
        assert aggr["available"] == aggr["size"] - len(names) * GIB
    stats = sim.stats()["dst"]
    assert stats["total"] == sum(stats["zapi"].values()) + sum(stats["rest"].values())


def test_racing_breaks_only_one_wins(sim):
    protect_over_rest(sim, "race")
    sim.wait_relationship("svm_dst:race", mirror_state="snapmirrored", status="idle")

    def break_it(attempt):  # pylint: disable=unused-argument
        try:
            invoke(naserver(sim.dst), "snapmirror-break", **{"destination-location": "svm_dst:race"})
            return "ok"
        except zapi.NaApiError as err:
            return err.code

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(break_it, range(6)))
    assert outcomes.count("ok") == 1
    assert sorted(set(outcomes) - {"ok"}) == ["13001"]
    assert sim.relationship("svm_dst:race")["mirror_state"] == "broken-off"
