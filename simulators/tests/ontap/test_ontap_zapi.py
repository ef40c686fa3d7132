# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""netapp-lib's NaServer against ontap-sim, unmodified, as cinder and netapp.ontap drive it."""

import pytest
from netapp_lib.api.zapi import zapi

from ontap_helpers import invoke, mirror_pair, naserver, zapi_volume

GIB = 1024 ** 3
FOUR_TUPLE = {"source-vserver": "svm_src", "source-volume": "vol1", "destination-vserver": "svm_dst", "destination-volume": "vol1"}


def records(result):
    alist = result.get_child_by_name("attributes-list")
    return alist.get_children() if alist is not None else []


def sm_info(server, path="svm_dst:vol1"):
    result = invoke(server, "snapmirror-get-iter", **{"query": {"snapmirror-info": {"destination-location": path}}})
    found = records(result)
    assert len(found) == 1
    return found[0]


def error_of(call, *args, **kwargs):
    with pytest.raises(zapi.NaApiError) as caught:
        call(*args, **kwargs)
    return caught.value


def make_pair(sim, data=0):
    src, dst = naserver(sim.src, "svm_src"), naserver(sim.dst, "svm_dst")
    zapi_volume(src, "vol1", "1g", junction="/vol1")
    zapi_volume(dst, "vol1", "1g", "dp")
    if data:
        sim.write("src", "svm_src", "vol1", data)
    return src, dst


def test_versions(sim):
    server = naserver(sim.dst)
    version = invoke(server, "system-get-version", tunnel=False)
    assert version.get_child_content("version").startswith("NetApp Release 9.13.1")
    tuple_ = version.get_child_by_name("version-tuple").get_child_by_name("system-version-tuple")
    assert (tuple_.get_child_content("generation"), tuple_.get_child_content("major")) == ("9", "13")
    ontapi = invoke(server, "system-get-ontapi-version", tunnel=False)
    assert ontapi.get_child_content("major-version") == "1"
    assert int(ontapi.get_child_content("minor-version")) >= 110


def test_lifecycle_cinder_style(sim):
    """Cinder's data motion over ZAPI: 4-tuple keys, vserver tunnelling, bulk destroy and release."""
    src, dst = make_pair(sim, data=50 * 1024 * 1024)
    extra = {"relationship-type": "extended_data_protection", "policy": "MirrorAllSnapshots", "schedule": "hourly"}
    invoke(dst, "snapmirror-create", **dict(FOUR_TUPLE, **extra))
    info = sm_info(dst)
    assert info.get_child_content("mirror-state") == "uninitialized"
    assert info.get_child_content("relationship-status") == "idle"
    result = invoke(dst, "snapmirror-initialize", **FOUR_TUPLE)
    assert result.get_child_content("result-status") == "succeeded"
    sim.wait_relationship("svm_dst:vol1", mirror_state="snapmirrored", status="idle")
    info = sm_info(dst)
    assert info.get_child_content("is-healthy") == "true"
    assert int(info.get_child_content("lag-time")) >= 0
    assert info.get_child_content("last-transfer-size") == str(50 * 1024 * 1024)
    assert info.get_child_content("schedule") == "hourly"

    sim.write("src", "svm_src", "vol1", 1024 * 1024)
    invoke(dst, "snapmirror-update", **FOUR_TUPLE)
    rel = sim.wait_relationship("svm_dst:vol1", status="idle")
    assert rel["last_transfer"] == {"type": "update", "state": "success", "bytes": 1024 * 1024}

    invoke(dst, "snapmirror-quiesce", **FOUR_TUPLE)
    assert sm_info(dst).get_child_content("relationship-status") == "quiesced"
    invoke(dst, "snapmirror-break", **FOUR_TUPLE)
    assert sm_info(dst).get_child_content("mirror-state") == "broken-off"
    invoke(dst, "volume-mount", **{"volume-name": "vol1", "junction-path": "/vol1"})
    vol = sim.state()["dst"]["volumes"]["svm_dst:vol1"]
    assert (vol["type"], vol["junction_path"]) == ("rw", "/vol1")

    invoke(dst, "snapmirror-resync", **FOUR_TUPLE)
    sim.wait_relationship("svm_dst:vol1", mirror_state="snapmirrored", status="idle")
    assert sim.state()["dst"]["volumes"]["svm_dst:vol1"]["type"] == "dp"

    # the source knows its destination until it is released
    dests = records(invoke(src, "snapmirror-get-destination-iter", **{"query": {"snapmirror-destination-info": FOUR_TUPLE}}))
    assert [d.get_child_content("destination-location") for d in dests] == ["svm_dst:vol1"]
    result = invoke(dst, "snapmirror-destroy-iter", **{"query": {"snapmirror-info": FOUR_TUPLE}})
    assert result.get_child_content("num-succeeded") == "1"
    result = invoke(src, "snapmirror-release-iter",
                    **{"query": {"snapmirror-destination-info": dict(FOUR_TUPLE, **{"relationship-info-only": "false"})}})
    assert result.get_child_content("num-succeeded") == "1"
    state = sim.state()
    assert state["dst"]["relationships"] == {}
    assert state["src"]["destinations"] == {}
    assert not [s for s in state["src"]["volumes"]["svm_src:vol1"]["snapshots"] if s.startswith("snapmirror.")]


def test_lifecycle_netapp_ontap_style(sim):
    """netapp.ontap's na_ontap_snapmirror: *-location keys, no tunnelling, destroy then release."""
    make_pair(sim)
    dst, src = naserver(sim.dst), naserver(sim.src)
    loc = {"destination-location": "svm_dst:vol1"}
    invoke(dst, "snapmirror-create", **dict(loc, **{"source-location": "svm_src:vol1", "policy": "MirrorLatest"}))
    invoke(dst, "snapmirror-initialize", **loc)
    sim.wait_relationship("svm_dst:vol1", mirror_state="snapmirrored", status="idle")
    invoke(dst, "snapmirror-modify", **dict(loc, policy="MirrorAllSnapshots", schedule="daily"))
    info = sm_info(dst)
    assert (info.get_child_content("policy"), info.get_child_content("schedule")) == ("MirrorAllSnapshots", "daily")
    invoke(dst, "snapmirror-quiesce", **loc)
    invoke(dst, "snapmirror-resume", **loc)
    assert sm_info(dst).get_child_content("relationship-status") == "idle"
    invoke(dst, "snapmirror-quiesce", **loc)
    invoke(dst, "snapmirror-break", **loc)
    invoke(dst, "snapmirror-destroy", **loc)
    invoke(src, "snapmirror-release", **dict(loc, **{"relationship-info-only": "false"}))
    assert records(invoke(dst, "snapmirror-get-iter", **{"query": {"snapmirror-info": loc}})) == []
    assert records(invoke(src, "snapmirror-get-destination-iter")) == []


def test_errors_carry_real_codes(sim):
    src, dst = make_pair(sim)
    loc = {"destination-location": "svm_dst:vol1"}
    assert error_of(invoke, dst, "snapmirror-quiesce", **loc).code == "15661"
    invoke(dst, "snapmirror-create", **dict(loc, **{"source-location": "svm_src:vol1"}))
    assert error_of(invoke, dst, "snapmirror-create", **dict(loc, **{"source-location": "svm_src:vol1"})).code == "17122"
    assert error_of(invoke, dst, "snapmirror-resume", **loc).code == "17127"
    assert error_of(invoke, dst, "snapmirror-abort", **loc).code == "17130"
    sim.ctl("POST", "/config", {"transfer_rate_mib_s": 1})
    sim.write("src", "svm_src", "vol1", 100 * 1024 * 1024)
    invoke(dst, "snapmirror-initialize", **loc)
    assert error_of(invoke, dst, "snapmirror-update", **loc).code == "17137"
    assert error_of(invoke, dst, "snapmirror-break", **loc).code == "17137"
    invoke(dst, "snapmirror-abort", **dict(loc, **{"clear-checkpoint": "false"}))
    assert sim.relationship("svm_dst:vol1")["last_transfer"]["state"] == "aborted"
    assert error_of(invoke, dst, "volume-mount", **{"volume-name": "nope", "junction-path": "/nope"}).code == "13040"
    assert error_of(invoke, dst, "no-such-api").code == "13005"
    err = error_of(invoke, dst, "snapmirror-release", **loc)
    assert err.code == "15661"
    err = error_of(zapi_volume, src, "vol1")
    assert err.code == "13001" and "vol1" in err.message
    err = error_of(invoke, dst, "snapmirror-create", **{"source-location": "svm_src:missing", "destination-location": "svm_dst:x"})
    assert "missing" in err.message
    assert err.code == "13040"


def test_create_needs_peering_and_is_broken_off_onto_a_read_write_volume(sim):
    src, dst = naserver(sim.src, "svm_src"), naserver(sim.dst, "svm_dst")
    zapi_volume(src, "vol1")
    zapi_volume(dst, "rwvol")
    err = error_of(invoke, dst, "snapmirror-create", **{"source-location": "svm_other:vol1", "destination-location": "svm_dst:rwvol"})
    assert "not peered" in err.message
    err = error_of(invoke, dst, "snapmirror-create",
                   **{"source-location": "svm_src:vol1", "destination-location": "svm_dst:vol1", "policy": "NoSuchPolicy"})
    assert "NoSuchPolicy" in err.message
    assert sim.state()["dst"]["relationships"] == {}
    # onto a read-write volume (the reverse relationship of a failback) it is created broken off, until a resync
    invoke(dst, "snapmirror-create", **{"source-location": "svm_src:vol1", "destination-location": "svm_dst:rwvol"})
    assert sim.state()["dst"]["relationships"]["svm_dst:rwvol"]["mirror_state"] == "broken-off"


def test_wrong_password_is_401(sim):
    err = error_of(invoke, naserver(sim.dst, password="wrong"), "system-get-version", tunnel=False)
    assert err.code == 401


def test_paging_with_max_records_and_tag(sim):
    dst = naserver(sim.dst, "svm_dst")
    names = ["v%02d" % i for i in range(25)]
    for name in names:
        zapi_volume(dst, name, "100m", "dp")
    seen, tag, pages = [], None, 0
    while True:
        args = {"max-records": "10", "desired-attributes": {"volume-attributes": {"volume-id-attributes": {"name": None}}}}
        if tag:
            args["tag"] = tag
        result = invoke(dst, "volume-get-iter", **args)
        pages += 1
        page = records(result)
        assert result.get_child_content("num-records") == str(len(page))
        for vol in page:
            ids = vol.get_child_by_name("volume-id-attributes")
            assert [c.get_name().split("}")[-1] for c in ids.get_children()] == ["name"]
            assert vol.get_child_by_name("volume-space-attributes") is None
            seen.append(ids.get_child_content("name"))
        tag = result.get_child_content("next-tag")
        if not tag:
            break
    assert pages == 3
    assert seen == names


def test_vfiler_scoping_and_queries(sim):
    src = naserver(sim.src, "svm_src")
    zapi_volume(src, "a1", junction="/a1")
    zapi_volume(src, "a2")
    zapi_volume(src, "b1")
    cluster = naserver(sim.src)
    names = [v.get_child_by_name("volume-id-attributes").get_child_content("name") for v in records(invoke(cluster, "volume-get-iter"))]
    assert names == ["a1", "a2", "b1"]
    query = {"query": {"volume-attributes": {"volume-id-attributes": {"name": "a*"}}}}
    assert len(records(invoke(cluster, "volume-get-iter", **query))) == 2
    query = {"query": {"volume-attributes": {"volume-id-attributes": {"name": "a1|b1"}}}}
    assert len(records(invoke(cluster, "volume-get-iter", **query))) == 2
    query = {"query": {"volume-attributes": {"volume-id-attributes": {"junction-path": "/a1"}}}}
    assert len(records(invoke(cluster, "volume-get-iter", **query))) == 1
    # the destination's vserver sees only its own volumes
    assert records(invoke(naserver(sim.src, "svm_src"), "vserver-get-iter"))[0].get_child_content("vserver-name") == "svm_src"
    err = error_of(invoke, naserver(sim.src, "svm_nope"), "volume-get-iter")
    assert "svm_nope" in err.message


def test_peers_aggregates_policies_schedules(sim):
    dst = naserver(sim.dst)
    peers = records(invoke(dst, "cluster-peer-get-iter"))
    assert [(p.get_child_content("cluster-name"), p.get_child_content("availability")) for p in peers] == [("src", "available")]
    query = {"query": {"vserver-peer-info": {"peer-vserver": "svm_src", "vserver": "svm_dst"}}}
    vpeers = records(invoke(dst, "vserver-peer-get-iter", **query))
    assert len(vpeers) == 1
    assert vpeers[0].get_child_content("peer-cluster") == "src"
    assert vpeers[0].get_child_content("remote-vserver-name") == "svm_src"
    apps = vpeers[0].get_child_by_name("applications").get_children()
    assert [a.get_content() for a in apps] == ["snapmirror"]
    aggr = records(invoke(dst, "aggr-get-iter"))[0]
    space = aggr.get_child_by_name("aggr-space-attributes")
    before = int(space.get_child_content("size-available"))
    zapi_volume(naserver(sim.dst, "svm_dst"), "big", "100g", "dp")
    space = records(invoke(dst, "aggr-get-iter"))[0].get_child_by_name("aggr-space-attributes")
    assert before - int(space.get_child_content("size-available")) == 100 * GIB
    policies = {p.get_child_content("policy-name"): p.get_child_content("policy-type")
                for p in records(invoke(dst, "snapmirror-policy-get-iter", **{"max-records": "100"}))}
    assert policies["MirrorAllSnapshots"] == "async_mirror"
    assert policies["MirrorAndVault"] == "mirror_vault"
    assert policies["StrictSync"] == "strict_sync_mirror"
    crons = records(invoke(dst, "job-schedule-cron-get-iter", **{"query": {"job-schedule-cron-info": {"job-schedule-name": "hourly"}}}))
    minutes = crons[0].get_child_by_name("job-schedule-cron-minute").get_children()
    assert [m.get_content() for m in minutes] == ["5"]


def test_no_space_and_volume_states(sim):
    dst = naserver(sim.dst, "svm_dst")
    err = error_of(zapi_volume, dst, "huge", "20t", "dp")
    assert "huge" in err.message and "available" in err.message
    assert "svm_dst:huge" not in sim.state()["dst"]["volumes"]
    zapi_volume(dst, "v1", "1g", "rw", junction="/v1")
    err = error_of(invoke, dst, "volume-destroy", name="v1")
    assert "offline" in err.message
    invoke(dst, "volume-unmount", **{"volume-name": "v1"})
    invoke(dst, "volume-offline", name="v1")
    assert sim.state()["dst"]["volumes"]["svm_dst:v1"]["state"] == "offline"
    invoke(dst, "volume-destroy", name="v1")
    assert "svm_dst:v1" not in sim.state()["dst"]["volumes"]


def test_dp_volume_cannot_mount_before_initialize(sim):
    make_pair(sim)
    dst = naserver(sim.dst, "svm_dst")
    invoke(dst, "snapmirror-create", **{"source-location": "svm_src:vol1", "destination-location": "svm_dst:vol1"})
    err = error_of(invoke, dst, "volume-mount", **{"volume-name": "vol1", "junction-path": "/vol1"})
    assert "uninitialized" in err.message


def test_get_iter_desired_attributes_like_cinder(sim):
    make_pair(sim)
    mirror_pair(sim, "vol2")
    dst = naserver(sim.dst, "svm_dst")
    for vol in ("vol1", "vol2"):
        invoke(dst, "snapmirror-create", **{"source-location": "svm_src:%s" % vol, "destination-location": "svm_dst:%s" % vol})
        invoke(dst, "snapmirror-initialize", **{"destination-location": "svm_dst:%s" % vol})
    for vol in ("vol1", "vol2"):
        sim.wait_relationship("svm_dst:%s" % vol, mirror_state="snapmirrored", status="idle")
    wanted = ["relationship-status", "mirror-state", "source-vserver", "source-volume", "destination-vserver",
              "destination-volume", "last-transfer-end-timestamp", "lag-time"]
    result = invoke(dst, "snapmirror-get-iter", **{
        "query": {"snapmirror-info": {"source-vserver": "svm_src", "destination-vserver": "svm_dst"}},
        "desired-attributes": {"snapmirror-info": {name: None for name in wanted}}, "max-records": "50"})
    found = records(result)
    assert len(found) == 2
    for info in found:
        assert sorted(c.get_name().split("}")[-1] for c in info.get_children()) == sorted(wanted)
