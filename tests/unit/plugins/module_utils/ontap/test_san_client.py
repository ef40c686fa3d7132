# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SAN client reads exactly the object it names: ONTAP treats * | ! in a query value as a pattern, so a
record the cluster returns for a name query is only the one asked for when its name is equal."""

from __future__ import annotations

from ansible_collections.storage.datamotion.plugins.module_utils.ontap.san import RestSan, ZapiSan


class Rec:
    """A ZAPI record (the part of NaElement the client reads)."""

    def __init__(self, **values):
        self.values = {k.replace("_", "-"): v for k, v in values.items()}

    def get_child_content(self, name):
        return self.values.get(name)

    def get_child_by_name(self, name):
        return self


class Rest:
    transport = "rest"

    def __init__(self, records):
        self.records = records

    def _records(self, path, params):
        return self.records


class Zapi:
    transport = "zapi"

    def __init__(self, records):
        self.records = records

    def iterate(self, api, query=None, attributes=None, vserver=None):
        return iter(self.records)


def test_rest_lun_query_that_matched_a_pattern_is_not_the_lun():
    other = {"name": "/vol/v1/a b", "svm": {"name": "svm1"}, "uuid": "u1", "os_type": "linux", "comment": "x",
             "space": {"size": 4096, "used": 0, "guarantee": {"requested": False}}}
    assert RestSan(Rest([other])).lun("svm1", "/vol/v1/a*") is None
    assert RestSan(Rest([other])).lun("svm1", "/vol/v1/a b").uuid == "u1"


def test_rest_maps_and_volume_of_other_names_are_left_out():
    rec = {"lun": {"name": "/vol/v1/l1"}, "igroup": {"name": "host10"}, "logical_unit_number": 3}
    assert RestSan(Rest([rec])).maps("svm1", "host1*") == []
    assert RestSan(Rest([{"name": "v10", "uuid": "u", "type": "rw", "size": 1, "space": {"used": 0}}])).volume("svm1", "v1*") is None


def test_zapi_lun_and_maps_of_other_names_are_left_out():
    lun = Rec(path="/vol/v1/a b", size="4096", size_used="0", multiprotocol_type="linux", comment="x", uuid="u1")
    assert ZapiSan(Zapi([lun])).lun("svm1", "/vol/v1/a*") is None
    assert ZapiSan(Zapi([lun])).lun("svm1", "/vol/v1/a b").uuid == "u1"
    assert ZapiSan(Zapi([Rec(path="/vol/v1/l1", initiator_group="host10", lun_id="3")])).maps("svm1", "host1*") == []


def test_cluster_wide_reads_keep_each_records_svm():
    # the inventory plugin reads every SVM's igroups, LUNs and maps at once: each object names its own SVM
    lun = {"name": "/vol/v1/l1", "svm": {"name": "svm2"}, "uuid": "u1", "os_type": "linux", "serial_number": "s1",
           "space": {"size": 4096, "used": 0, "guarantee": {"requested": False}}}
    igroup = {"name": "h1", "svm": {"name": "svm2"}, "protocol": "iscsi", "os_type": "linux", "initiators": [{"name": "iqn.x"}]}
    lun_map = {"svm": {"name": "svm2"}, "lun": {"name": "/vol/v1/l1"}, "igroup": {"name": "h1"}, "logical_unit_number": 3}
    assert [(x.svm, x.path, x.serial) for x in RestSan(Rest([lun])).luns()] == [("svm2", "/vol/v1/l1", "s1")]
    assert [(x.svm, x.name, x.initiators) for x in RestSan(Rest([igroup])).igroups()] == [("svm2", "h1", ["iqn.x"])]
    assert [(x.svm, x.igroup, x.lun_id) for x in RestSan(Rest([lun_map])).lun_maps()] == [("svm2", "h1", 3)]
    zlun = Rec(path="/vol/v1/l1", vserver="svm2", size="4096", multiprotocol_type="linux", serial_number="s1", uuid="u1")
    zmap = Rec(path="/vol/v1/l1", vserver="svm2", initiator_group="h1", lun_id="3")
    assert [(x.svm, x.path, x.serial) for x in ZapiSan(Zapi([zlun])).luns()] == [("svm2", "/vol/v1/l1", "s1")]
    assert [(x.svm, x.igroup, x.lun_id) for x in ZapiSan(Zapi([zmap])).lun_maps()] == [("svm2", "h1", 3)]
