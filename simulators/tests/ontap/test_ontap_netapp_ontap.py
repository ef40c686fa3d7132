# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""NetApp's netapp-ontap library (its resources and HostConnection) against ontap-sim, unmodified."""

from urllib.parse import urlsplit

import pytest
from netapp_ontap import HostConnection
from netapp_ontap.error import NetAppRestError
from netapp_ontap.resources import Cluster, Job, SnapmirrorPolicy, SnapmirrorRelationship, SnapmirrorTransfer, Svm, SvmPeer, Volume

from ontap_helpers import GIB, PASSWORD, USER


def connection(url, password=PASSWORD):
    parts = urlsplit(url)
    return HostConnection(parts.hostname, port=parts.port, username=USER, password=password, verify=False,
                          scheme=parts.scheme, poll_interval=0.05, poll_timeout=20)


def test_lifecycle(sim):
    with connection(sim.src):
        assert Cluster().get() is not None
        source = Volume(name="vol1", svm={"name": "svm_src"}, aggregates=[{"name": "aggr1"}], size=GIB)
        source.post()
        source.get(fields="state,size")
        assert (source.state, source.size) == ("online", GIB)
    sim.write("src", "svm_src", "vol1", 8 * 1024 * 1024)
    with connection(sim.dst):
        Volume(name="vol1", svm={"name": "svm_dst"}, aggregates=[{"name": "aggr1"}], size=GIB, type="dp").post()
        rel = SnapmirrorRelationship(source={"path": "svm_src:vol1"}, destination={"path": "svm_dst:vol1"},
                                     policy={"name": "MirrorAllSnapshots"})
        rel.post()
        assert rel.uuid
        rel.get()
        assert rel.state == "uninitialized"
        rel.state = "snapmirrored"
        rel.patch()
        sim.wait_relationship("svm_dst:vol1", mirror_state="snapmirrored", status="idle")
        rel.get()
        assert (rel.state, rel.healthy, rel.transfer.state) == ("snapmirrored", True, "success")
        assert rel.transfer.bytes_transferred == 8 * 1024 * 1024

        sim.write("src", "svm_src", "vol1", 1024)
        transfer = SnapmirrorTransfer(rel.uuid)
        transfer.post()
        assert transfer.uuid
        sim.wait_relationship("svm_dst:vol1", status="idle")
        transfer.get()
        assert (transfer.state, transfer.bytes_transferred) == ("success", 1024)
        assert len(list(SnapmirrorTransfer.get_collection(rel.uuid))) == 2

        rel.state = "paused"
        rel.patch()
        rel.get()
        assert rel.state == "paused"
        rel.state = "broken_off"
        rel.patch()
        rel.get()
        assert rel.state == "broken_off"
        rel.state = "snapmirrored"
        rel.patch()
        sim.wait_relationship("svm_dst:vol1", mirror_state="snapmirrored", status="idle")
        rel.delete(destination_only=True)
    with connection(sim.src):
        records = list(SnapmirrorRelationship.get_collection(list_destinations_only=True))
        assert [r.uuid for r in records] == [rel.uuid]
        records[0].delete(source_only=True)
    state = sim.state()
    assert state["dst"]["relationships"] == {} and state["src"]["destinations"] == {}


def test_collections_follow_next_links(sim):
    with connection(sim.dst):
        for i in range(5):
            Volume(name="v%d" % i, svm={"name": "svm_dst"}, aggregates=[{"name": "aggr1"}], size=GIB, type="dp").post()
        names = [v.name for v in Volume.get_collection(max_records=2, fields="name")]
        assert names == ["v0", "v1", "v2", "v3", "v4"]
        assert Volume.count_collection(**{"name": "v*"}) == 5
        assert [s.name for s in Svm.get_collection()] == ["svm_dst"]
        peers = list(SvmPeer.get_collection(fields="peer"))
        assert peers[0].peer.svm.name == "svm_src"
        names = {p.name for p in SnapmirrorPolicy.get_collection(type="sync")}
        assert "StrictSync" in names


def test_errors_raise_with_codes(sim):
    with connection(sim.dst):
        rel = SnapmirrorRelationship(source={"path": "svm_src:nope"}, destination={"path": "svm_dst:nope"})
        with pytest.raises(NetAppRestError) as caught:
            rel.post()
        assert "does not exist" in str(caught.value)
        with pytest.raises(NetAppRestError) as caught:
            SnapmirrorRelationship(uuid="00000000-0000-0000-0000-000000000000").get()
        assert caught.value.http_err_response.http_response.status_code == 404
        assert caught.value.http_err_response.http_response.json()["error"]["code"] == "4"
        failed = list(Job.get_collection(state="failure"))
        assert len(failed) == 1
    with connection(sim.dst, password="wrong"):
        with pytest.raises(NetAppRestError) as caught:
            Cluster().get()
        assert caught.value.http_err_response.http_response.status_code == 401
