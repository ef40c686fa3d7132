# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ontap-sim SAN through the real libraries: requests and netapp-ontap for REST, netapp-lib's NaServer for ZAPI.

The simulator runs with this host's initiator set, so a LUN mapped to an igroup holding it
appears here as a loop device with a wwn-0x<naa> link; the tests write real bytes to it
and read the space ONTAP reports.
"""

import os
import subprocess
import tempfile
from urllib.parse import urlsplit

import pytest
from netapp_lib.api.zapi import zapi
from netapp_ontap import HostConnection
from netapp_ontap.resources import Igroup, Lun, LunMap

from datamotion_sim.vnx import data
from ontap_helpers import GIB, Sim, invoke, naserver, rest, rest_volume, wait_job, zapi_volume

MIB = 1024 ** 2
HOST = "iqn.2026-01.io.datamotion.test:this-host"
OTHER = "iqn.2026-01.io.datamotion.test:other-host"


@pytest.fixture(scope="module")
def san_sim():
    state = tempfile.mkdtemp(prefix="ontap-san-test-")
    server = Sim("--host-initiator", HOST, "--state-dir", state)
    server.state_dir = state
    yield server
    assert server.stop() == 0
    # the simulator detached its loop devices and removed its LUN files when it stopped
    assert not [d for d in os.listdir(state) if d.endswith(".luns")]
    os.rmdir(state) if not os.listdir(state) else None


@pytest.fixture(autouse=True)
def fresh(request):
    if "san_sim" in request.fixturenames:
        request.getfixturevalue("san_sim").reset()
    yield


def ok(response, status=(200, 201)):
    assert response.status_code in status, response.text
    return response.json() if response.content else {}


def err(response, status, code):
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code, response.text
    return response.json()["error"]["message"]


def volume(sim, name, size=GIB):
    assert wait_job(sim.dst, rest_volume(sim.dst, "svm_dst", name, size))["state"] == "success"


def post_lun(sim, name, size=64 * MIB, thick=False, os_type="linux"):
    body = {"svm": {"name": "svm_dst"}, "name": name, "os_type": os_type,
            "space": {"size": size, "guarantee": {"requested": thick}}}
    return rest("POST", sim.dst, "/api/storage/luns", json=body)


def get_lun(sim, path):
    found = ok(rest("GET", sim.dst, "/api/storage/luns", params={"name": path, "fields": "*"}))["records"]
    assert len(found) == 1, found
    return found[0]


def get_volume(sim, name):
    return ok(rest("GET", sim.dst, "/api/storage/volumes", params={"name": name, "fields": "space"}))["records"][0]


def post_igroup(sim, name, initiators, os_type="linux"):
    body = {"svm": {"name": "svm_dst"}, "name": name, "protocol": "iscsi", "os_type": os_type,
            "initiators": [{"name": i} for i in initiators]}
    return rest("POST", sim.dst, "/api/protocols/san/igroups", json=body)


def post_map(sim, lun, igroup, lun_id=None):
    body = {"svm": {"name": "svm_dst"}, "lun": {"name": lun}, "igroup": {"name": igroup}}
    if lun_id is not None:
        body["logical_unit_number"] = lun_id
    return rest("POST", sim.dst, "/api/protocols/san/lun-maps", json=body)


def link_of(sim, lun):
    return os.path.join(sim.state_dir, "dev", "disk", "by-id", "wwn-0x600a0980%s" % lun["serial_number"].encode().hex())


def test_rest_lun_lifecycle_with_real_bytes(san_sim):
    volume(san_sim, "sanvol")
    created = post_lun(san_sim, "/vol/sanvol/lun1")
    assert created.status_code == 201 and created.headers["Location"].startswith("/api/storage/luns/")
    lun = get_lun(san_sim, "/vol/sanvol/lun1")
    assert lun["space"]["size"] == 64 * MIB and lun["space"]["used"] == 0
    assert lun["space"]["guarantee"]["requested"] is False and lun["location"]["volume"]["name"] == "sanvol"
    assert len(lun["serial_number"]) == 12 and lun["status"]["mapped"] is False
    used_before = get_volume(san_sim, "sanvol")["space"]["used"]

    ok(post_igroup(san_sim, "ig_host", [HOST]))
    mapped = ok(post_map(san_sim, "/vol/sanvol/lun1", "ig_host"))
    assert mapped == {}
    maps = ok(rest("GET", san_sim.dst, "/api/protocols/san/lun-maps", params={"fields": "*"}))["records"]
    assert [(m["lun"]["name"], m["igroup"]["name"], m["logical_unit_number"]) for m in maps] == [("/vol/sanvol/lun1", "ig_host", 0)]

    link = link_of(san_sim, lun)
    device = os.path.realpath(link)
    assert device.startswith("/dev/loop"), device
    with open(device, "r+b") as handle:
        handle.seek(8 * MIB)
        handle.write(b"\xab" * (4 * MIB))
        handle.flush()
        os.fsync(handle.fileno())
    lun = get_lun(san_sim, "/vol/sanvol/lun1")
    assert 4 * MIB <= lun["space"]["used"] <= 5 * MIB
    assert get_volume(san_sim, "sanvol")["space"]["used"] - used_before == lun["space"]["used"]
    state = san_sim.state()["dst"]["san"]["luns"]["/vol/sanvol/lun1"]
    with open(state["file"], "rb") as handle:
        handle.seek(8 * MIB)
        assert handle.read(4) == b"\xab" * 4

    # grow: the loop device follows
    ok(rest("PATCH", san_sim.dst, "/api/storage/luns/%s" % lun["uuid"], json={"space": {"size": 128 * MIB}}))
    with open(device, "rb") as handle:
        assert handle.seek(0, os.SEEK_END) == 128 * MIB

    # a mapped LUN is not deleted; unmapped, its link and loop device go
    err(rest("DELETE", san_sim.dst, "/api/storage/luns/%s" % lun["uuid"]), 409, "5374864")
    ig = ok(rest("GET", san_sim.dst, "/api/protocols/san/igroups", params={"name": "ig_host"}))["records"][0]
    ok(rest("DELETE", san_sim.dst, "/api/protocols/san/lun-maps/%s/%s" % (lun["uuid"], ig["uuid"])))
    assert not os.path.lexists(link)
    err(rest("DELETE", san_sim.dst, "/api/protocols/san/lun-maps/%s/%s" % (lun["uuid"], ig["uuid"])), 404, "5374922")
    ok(rest("DELETE", san_sim.dst, "/api/storage/luns/%s" % lun["uuid"]))
    assert not os.path.exists(state["file"])


def test_rest_thick_lun_reserves_its_size(san_sim):
    volume(san_sim, "thick", 256 * MIB)
    ok(post_lun(san_sim, "/vol/thick/t1", 64 * MIB, thick=True))
    assert get_volume(san_sim, "thick")["space"]["used"] == 64 * MIB
    message = err(post_lun(san_sim, "/vol/thick/t2", 512 * MIB, thick=True), 400, "5374860")
    assert "Not enough space" in message
    ok(post_lun(san_sim, "/vol/thick/t2", 512 * MIB, thick=False))   # thin: only the data counts
    assert [r["name"] for r in ok(rest("GET", san_sim.dst, "/api/storage/luns"))["records"]] == ["/vol/thick/t1", "/vol/thick/t2"]


def test_rest_usual_mistakes(san_sim):
    volume(san_sim, "m")
    ok(post_lun(san_sim, "/vol/m/a"))
    ok(post_lun(san_sim, "/vol/m/b"))
    assert "already exists" in err(post_lun(san_sim, "/vol/m/a"), 409, "5374868")
    assert "does not exist" in err(post_lun(san_sim, "/vol/nowhere/a"), 404, "917927")
    err(post_lun(san_sim, "/vol/m/c", os_type="beos"), 400, "2")
    err(post_lun(san_sim, "/vol/m/c", size=1), 400, "5374923")
    ok(post_igroup(san_sim, "ig1", [OTHER]))
    assert "already exists" in err(post_igroup(san_sim, "ig1", []), 409, "5374861")
    err(post_igroup(san_sim, "ig_win", [OTHER], os_type="windows"), 409, "1254322")
    err(post_igroup(san_sim, "ig_bad", ["not-an-iqn"]), 400, "1254324")
    ok(post_map(san_sim, "/vol/m/a", "ig1", 5))
    err(post_map(san_sim, "/vol/m/b", "ig1", 5), 409, "5374883")
    err(post_map(san_sim, "/vol/m/a", "ig1"), 409, "5374921")
    err(post_map(san_sim, "/vol/m/b", "nope"), 404, "5374878")
    err(post_map(san_sim, "/vol/m/zz", "ig1"), 404, "5374875")
    assert ok(post_map(san_sim, "/vol/m/b", "ig1")) == {}
    ids = {m["lun"]["name"]: m["logical_unit_number"]
           for m in ok(rest("GET", san_sim.dst, "/api/protocols/san/lun-maps", params={"fields": "*"}))["records"]}
    assert ids == {"/vol/m/a": 5, "/vol/m/b": 0}
    ig = ok(rest("GET", san_sim.dst, "/api/protocols/san/igroups", params={"name": "ig1", "fields": "*"}))["records"][0]
    assert [i["name"] for i in ig["initiators"]] == [OTHER] and len(ig["lun_maps"]) == 2
    err(rest("DELETE", san_sim.dst, "/api/protocols/san/igroups/%s" % ig["uuid"]), 409, "5374852")
    # not this host's initiator: nothing exposed here
    assert san_sim.state()["dst"]["san"]["luns"]["/vol/m/a"]["device"] is None


def test_rest_initiators_and_exposure_follow_the_igroup(san_sim):
    volume(san_sim, "e")
    ok(post_lun(san_sim, "/vol/e/l"))
    ig = ok(post_igroup(san_sim, "ig_late", [OTHER]))
    assert ig == {}
    ig = ok(rest("GET", san_sim.dst, "/api/protocols/san/igroups", params={"name": "ig_late"}))["records"][0]
    ok(post_map(san_sim, "/vol/e/l", "ig_late"))
    lun = get_lun(san_sim, "/vol/e/l")
    assert not os.path.lexists(link_of(san_sim, lun))
    ok(rest("POST", san_sim.dst, "/api/protocols/san/igroups/%s/initiators" % ig["uuid"], json={"records": [{"name": HOST}]}))
    assert os.path.realpath(link_of(san_sim, lun)).startswith("/dev/loop")
    err(rest("POST", san_sim.dst, "/api/protocols/san/igroups/%s/initiators" % ig["uuid"], json={"name": HOST}), 409, "1254197")
    ok(rest("DELETE", san_sim.dst, "/api/protocols/san/igroups/%s/initiators/%s" % (ig["uuid"], HOST),
            params={"allow_delete_while_mapped": "true"}))
    assert not os.path.lexists(link_of(san_sim, lun))


def test_netapp_ontap_reads_and_creates_luns(san_sim):
    volume(san_sim, "lib")
    parts = urlsplit(san_sim.dst)
    with HostConnection(parts.hostname, port=parts.port, username="admin", password="netapp1!", verify=False, scheme=parts.scheme):
        lun = Lun(svm={"name": "svm_dst"}, name="/vol/lib/l1", os_type="vmware", space={"size": 32 * MIB})
        lun.post(hydrate=True)
        assert lun.serial_number and lun.space.size == 32 * MIB
        igroup = Igroup(svm={"name": "svm_dst"}, name="esx", protocol="iscsi", os_type="vmware", initiators=[{"name": OTHER}])
        igroup.post()
        LunMap(svm={"name": "svm_dst"}, lun={"name": "/vol/lib/l1"}, igroup={"name": "esx"}, logical_unit_number=7).post()
        found = list(Lun.get_collection(fields="lun_maps,space"))
        assert [(f.name, f.lun_maps[0].logical_unit_number) for f in found] == [("/vol/lib/l1", 7)]


# ------------------------------------------------------------------ ZAPI
def zerr(call, *args, **kwargs):
    with pytest.raises(zapi.NaApiError) as caught:
        call(*args, **kwargs)
    return caught.value.code


def test_zapi_lun_igroup_map_lifecycle(san_sim):
    server = naserver(san_sim.dst, "svm_dst")
    zapi_volume(server, "zvol", "1g")
    result = invoke(server, "lun-create-by-size", path="/vol/zvol/z1", size=str(32 * MIB), ostype="linux",
                    **{"space-reservation-enabled": "false"})
    assert result.get_child_content("actual-size") == str(32 * MIB)
    assert zerr(invoke, server, "lun-create-by-size", path="/vol/zvol/z1", size=str(MIB), ostype="linux") == "9012"
    assert zerr(invoke, server, "lun-create-by-size", path="/vol/none/z1", size=str(MIB), ostype="linux") == "9036"
    invoke(server, "igroup-create", **{"initiator-group-name": "zig", "initiator-group-type": "iscsi", "os-type": "linux"})
    igroup = {"initiator-group-name": "zig", "initiator-group-type": "iscsi", "os-type": "linux"}
    assert zerr(invoke, server, "igroup-create", **igroup) == "9004"
    invoke(server, "igroup-add", **{"initiator-group-name": "zig", "initiator": HOST})
    assert zerr(invoke, server, "igroup-add", **{"initiator-group-name": "zig", "initiator": HOST}) == "9008"
    assigned = invoke(server, "lun-map", path="/vol/zvol/z1", **{"initiator-group": "zig"})
    assert assigned.get_child_content("lun-id-assigned") == "0"
    invoke(server, "lun-create-by-size", path="/vol/zvol/z2", size=str(MIB * 8), ostype="linux")
    assert zerr(invoke, server, "lun-map", path="/vol/zvol/z2", **{"initiator-group": "zig", "lun-id": "0"}) == "9009"
    assert zerr(invoke, server, "lun-map", path="/vol/zvol/z2", **{"initiator-group": "nope"}) == "9003"

    info = invoke(server, "lun-get-iter", query={"lun-info": {"path": "/vol/zvol/z1"}})
    record = info.get_child_by_name("attributes-list").get_children()[0]
    assert record.get_child_content("mapped") == "true" and record.get_child_content("is-space-reservation-enabled") == "false"
    serial = record.get_child_content("serial-number")
    link = os.path.join(san_sim.state_dir, "dev", "disk", "by-id", "wwn-0x600a0980" + serial.encode().hex())
    assert os.path.realpath(link).startswith("/dev/loop")

    groups = invoke(server, "lun-map-list-info", path="/vol/zvol/z1").get_child_by_name("initiator-groups").get_children()
    assert [(g.get_child_content("initiator-group-name"), g.get_child_content("lun-id")) for g in groups] == [("zig", "0")]
    maps = invoke(server, "lun-map-get-iter").get_child_by_name("attributes-list").get_children()
    assert [m.get_child_content("path") for m in maps] == ["/vol/zvol/z1"]
    igs = invoke(server, "igroup-get-iter").get_child_by_name("attributes-list").get_children()
    names = [i.get_child_content("initiator-name") for i in igs[0].get_child_by_name("initiators").get_children()]
    assert names == [HOST]

    assert zerr(invoke, server, "lun-resize", path="/vol/zvol/z1", size=str(16 * MIB)) == "9033"
    assert invoke(server, "lun-resize", path="/vol/zvol/z1", size=str(48 * MIB)).get_child_content("actual-size") == str(48 * MIB)
    assert zerr(invoke, server, "lun-destroy", path="/vol/zvol/z1") == "9013"
    assert zerr(invoke, server, "igroup-destroy", **{"initiator-group-name": "zig"}) == "9029"
    invoke(server, "lun-unmap", path="/vol/zvol/z1", **{"initiator-group": "zig"})
    assert not os.path.lexists(link)
    assert zerr(invoke, server, "lun-unmap", path="/vol/zvol/z1", **{"initiator-group": "zig"}) == "9016"
    invoke(server, "lun-destroy", path="/vol/zvol/z1")
    assert zerr(invoke, server, "lun-destroy", path="/vol/zvol/z1") == "9017"
    invoke(server, "igroup-destroy", **{"initiator-group-name": "zig"})


def test_reset_and_volume_delete_take_the_luns(san_sim):
    volume(san_sim, "gone")
    ok(post_lun(san_sim, "/vol/gone/l"))
    ok(post_igroup(san_sim, "ig_host", [HOST]))
    ok(post_map(san_sim, "/vol/gone/l", "ig_host"))
    lun = san_sim.state()["dst"]["san"]["luns"]["/vol/gone/l"]
    assert lun["device"]
    vol = get_volume(san_sim, "gone")
    ok(rest("DELETE", san_sim.dst, "/api/storage/volumes/%s" % vol["uuid"], params={"return_timeout": 30}))
    assert not os.path.exists(lun["file"]) and not os.path.lexists(lun["link"])
    assert san_sim.state()["dst"]["san"]["maps"] == []


def test_a_volume_snapshot_freezes_its_luns_bytes(san_sim):
    volume(san_sim, "snapvol")
    ok(post_lun(san_sim, "/vol/snapvol/l"))
    ok(post_igroup(san_sim, "ig_host", [HOST]))
    ok(post_map(san_sim, "/vol/snapvol/l", "ig_host"))
    device = os.path.realpath(link_of(san_sim, get_lun(san_sim, "/vol/snapvol/l")))
    fd = os.open(device, os.O_RDWR)
    try:
        os.pwrite(fd, b"A" * (2 * MIB), 0)
        os.fsync(fd)
        vol = get_volume(san_sim, "snapvol")
        created = rest("POST", san_sim.dst, "/api/storage/volumes/%s/snapshots" % vol["uuid"], json={"name": "before"})
        assert created.status_code == 201, created.text
        used_at_snapshot = get_volume(san_sim, "snapvol")["space"]["used"]
        os.pwrite(fd, b"B" * MIB, 0)
        os.fsync(fd)
    finally:
        os.close(fd)
    lun = san_sim.state()["dst"]["san"]["luns"]["/vol/snapvol/l"]
    (frozen,) = lun["frozen"].values()
    with open(frozen, "rb") as handle:
        assert handle.read(2 * MIB) == b"A" * (2 * MIB)
    with open(lun["file"], "rb") as handle:
        assert handle.read(2 * MIB) == b"B" * MIB + b"A" * MIB
    # the overwritten MiB is held by the snapshot: the volume's used size grows by it
    assert lun["held"] == MIB
    assert get_volume(san_sim, "snapvol")["space"]["used"] == used_at_snapshot + MIB
    snaps = ok(rest("GET", san_sim.dst, "/api/storage/volumes/%s/snapshots" % vol["uuid"]))["records"]
    assert [s["name"] for s in snaps] == ["before"]
    ok(rest("DELETE", san_sim.dst, "/api/storage/volumes/%s/snapshots/%s" % (vol["uuid"], snaps[0]["uuid"])))
    assert not os.path.exists(frozen)
    assert get_volume(san_sim, "snapvol")["space"]["used"] == used_at_snapshot


def test_zapi_snapshot_freezes_too(san_sim):
    server = naserver(san_sim.dst, "svm_dst")
    zapi_volume(server, "zsnap", "1g")
    invoke(server, "lun-create-by-size", path="/vol/zsnap/l", size=str(8 * MIB), ostype="linux")
    lun = san_sim.state()["dst"]["san"]["luns"]["/vol/zsnap/l"]
    with open(lun["file"], "r+b") as handle:
        handle.write(b"x" * MIB)
    invoke(server, "snapshot-create", volume="zsnap", snapshot="s1")
    assert zerr(invoke, server, "snapshot-create", volume="zsnap", snapshot="s1") == "17"
    (frozen,) = san_sim.state()["dst"]["san"]["luns"]["/vol/zsnap/l"]["frozen"].values()
    with open(frozen, "rb") as handle:
        assert handle.read(MIB) == b"x" * MIB
    invoke(server, "snapshot-delete", volume="zsnap", snapshot="s1")
    assert not os.path.exists(frozen)


def test_a_reset_detaches_what_was_exposed(san_sim):
    volume(san_sim, "r")
    ok(post_lun(san_sim, "/vol/r/l"))
    ok(post_igroup(san_sim, "ig_host", [HOST]))
    ok(post_map(san_sim, "/vol/r/l", "ig_host"))
    lun = san_sim.state()["dst"]["san"]["luns"]["/vol/r/l"]
    assert os.path.realpath(lun["link"]) == lun["device"]
    san_sim.reset()
    assert not os.path.lexists(lun["link"]) and not os.path.exists(lun["file"])
    assert not data.in_a_loop(lun["file"])   # no loop device writes to the LUN's file any more
    assert san_sim.state()["dst"]["san"]["luns"] == {}


def test_an_unmap_leaves_alone_a_loop_number_the_host_released_and_another_program_took(san_sim, tmp_path):
    volume(san_sim, "reuse")
    ok(post_lun(san_sim, "/vol/reuse/l"))
    ok(post_igroup(san_sim, "ig_host", [HOST]))
    ok(post_map(san_sim, "/vol/reuse/l", "ig_host"))
    lun = get_lun(san_sim, "/vol/reuse/l")
    device = san_sim.state()["dst"]["san"]["luns"]["/vol/reuse/l"]["device"]
    # the host removes its path first (host_lun state=absent), and another program gets the same number
    subprocess.run(["losetup", "--detach", device], check=True)
    other = tmp_path / "other.img"
    other.write_bytes(b"\0" * MIB)
    taken = subprocess.run(["losetup", "--show", device, str(other)], capture_output=True, text=True, check=False)
    if taken.returncode != 0:
        pytest.skip("loop number %s was taken by someone else before this test could: %s" % (device, taken.stderr))
    try:
        ig = ok(rest("GET", san_sim.dst, "/api/protocols/san/igroups", params={"name": "ig_host"}))["records"][0]
        ok(rest("DELETE", san_sim.dst, "/api/protocols/san/lun-maps/%s/%s" % (lun["uuid"], ig["uuid"])))
        assert data.backs(device, str(other)), "the unmap detached another program's loop device"
    finally:
        if data.backs(device, str(other)):
            subprocess.run(["losetup", "--detach", device], check=False)
