# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Requests exactly as NetApp's netapp.ontap modules send them, found by running those modules against ontap-sim.

Each test is one request shape (or sequence) a module of the netapp.ontap collection
sends, reproduced with plain requests or netapp-lib, so the suite needs nothing beyond
the repository's requirements.
"""

from netapp_lib.api.zapi import zapi

from ontap_helpers import Sim, invoke, mirror_pair, naserver, rest, zapi_volume


def test_rest_fields_keep_every_subfield_of_a_list(sim):
    """na_ontap_volume reads fields=aggregates.name,aggregates.uuid and compares aggregates[0].name."""
    mirror_pair(sim, "vol1")
    answer = rest("GET", sim.dst, "/api/storage/volumes",
                  params={"name": "vol1", "svm.name": "svm_dst", "fields": "aggregates.name,aggregates.uuid,space.size"})
    record = answer.json()["records"][0]
    assert record["aggregates"][0]["name"] == "aggr1"
    assert record["aggregates"][0]["uuid"]
    assert record["space"] == {"size": 1024 ** 3}


def test_zapi_volume_query_with_vserver_element(sim):
    """na_ontap_volume (ZAPI) queries volume-id-attributes with <name> and <vserver>; ONTAP ignores what it does not
    know in a query, so the volume is found (else the module creates it again and fails on the duplicate)."""
    server = naserver(sim.dst, "svm_dst")
    zapi_volume(server, "vol1", "1g", "dp")
    result = invoke(server, "volume-get-iter",
                    **{"query": {"volume-attributes": {"volume-id-attributes": {"name": "vol1", "vserver": "svm_dst"}}}})
    assert result.get_child_content("num-records") == "1"
    # a known field that does not match still filters
    result = invoke(server, "volume-get-iter",
                    **{"query": {"volume-attributes": {"volume-id-attributes": {"name": "vol1", "owning-vserver-name": "other"}}}})
    assert result.get_child_content("num-records") == "0"


def test_zapi_volume_record_has_what_na_ontap_volume_requires(sim):
    """na_ontap_volume fails unless volume-security-unix-attributes/permissions is there, then reads sis-get-iter."""
    server = naserver(sim.dst, "svm_dst")
    zapi_volume(server, "vol1", "1g", "dp")
    result = invoke(server, "volume-get-iter", **{"query": {"volume-attributes": {"volume-id-attributes": {"name": "vol1"}}}})
    attributes = result.get_child_by_name("attributes-list").get_child_by_name("volume-attributes")
    unix = attributes.get_child_by_name("volume-security-attributes").get_child_by_name("volume-security-unix-attributes")
    assert unix.get_child_content("permissions") == "0755"
    sis = invoke(server, "sis-get-iter", **{"query": {"sis-status-info": {"path": "/vol/vol1"}}})
    assert sis.get_child_content("num-records") == "1"
    info = sis.get_child_by_name("attributes-list").get_child_by_name("sis-status-info")
    assert info.get_child_content("state") == "disabled"
    assert info.get_child_content("is-compression-enabled") == "false"


TWO_SVM_SEED = """
clusters:
  - name: src
    svms: [{name: svm_src}]
    volumes: [{svm: svm_src, name: vol1, size: 1GiB, junction_path: /vol1}]
  - name: dst
    svms: [{name: svm_dst}, {name: svm_other}]
    volumes: [{svm: svm_dst, name: vol1, size: 1GiB, type: dp}]
peers:
  - {cluster: src, svm: svm_src, peer_cluster: dst, peer_svm: svm_dst}
"""


def test_zapi_vfiler_sees_only_its_own_relationships(tmp_path):
    """A call tunnelled to one vserver of the destination cannot act on a relationship of another vserver; the
    source's release (tunnelled to the source vserver, naming the destination) still works."""
    seed = tmp_path / "seed.yml"
    seed.write_text(TWO_SVM_SEED)
    server = Sim("--seed", str(seed))
    try:
        dst, own, other = naserver(server.dst), naserver(server.dst, "svm_dst"), naserver(server.dst, "svm_other")
        invoke(dst, "snapmirror-create", **{"source-location": "svm_src:vol1", "destination-location": "svm_dst:vol1"})
        invoke(own, "snapmirror-initialize", **{"destination-location": "svm_dst:vol1"})
        server.wait_relationship("svm_dst:vol1", mirror_state="snapmirrored", status="idle")
        before = server.state()
        for api in ("snapmirror-quiesce", "snapmirror-break", "snapmirror-update", "snapmirror-destroy"):
            try:
                invoke(other, api, **{"destination-location": "svm_dst:vol1"})
            except zapi.NaApiError as err:
                assert err.code == "15661", (api, err.code, err.message)
            else:
                raise AssertionError("%s through vfiler svm_other acted on svm_dst:vol1" % api)
        assert server.state()["dst"]["relationships"] == before["dst"]["relationships"]
        invoke(own, "snapmirror-break", **{"destination-location": "svm_dst:vol1"})
        invoke(own, "snapmirror-destroy", **{"destination-location": "svm_dst:vol1"})
        invoke(naserver(server.src, "svm_src"), "snapmirror-release", **{"destination-location": "svm_dst:vol1"})
        assert server.state()["src"]["destinations"] == {}
    finally:
        assert server.stop() == 0
