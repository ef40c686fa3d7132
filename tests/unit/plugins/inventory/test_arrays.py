# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The arrays inventory plugin: the file, the environment, groups and the cache.

The arrays' reads are replaced by fixed facts (the integration target inventory_arrays
reads both simulators); everything else is Ansible's own inventory machinery.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import sys

import pytest

from ansible.errors import AnsibleError, AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import inventory_loader
from ansible.utils.display import Display

from ansible_collections.storage.datamotion.plugins.inventory import arrays
from ansible_collections.storage.datamotion.plugins.module_utils.ontap.common import Volume
from ansible_collections.storage.datamotion.plugins.module_utils.ontap.san import Igroup, Lun, LunMap
from ansible_collections.storage.datamotion.plugins.module_utils.vnx.client import System

VNX_FACTS = dict(vars=dict(vnx_serial="CETV00000001"),
                 attached={"db01": [dict(array="vnx1", storage_group="db01", lun="data", lun_id=3,
                                         wwn="60:06:01:60:00:00:00:03", pool="Pool0", size_gb=10.0, hlu=1)]})


@pytest.fixture
def reads(monkeypatch):
    """Record the connection parameters each read gets; VNX answers VNX_FACTS, ONTAP fails on 'down'."""
    seen = []

    def read_vnx(self, array):
        seen.append(array["params"])
        return VNX_FACTS

    def read_ontap(self, array):
        seen.append(array["params"])
        if array["params"]["hostname"] == "down":
            raise arrays.OntapError("ONTAP cluster down is unreachable at https://down", unreachable=True)
        return dict(vars=dict(ontap_transport="rest", ontap_relationships=[]), attached={})

    monkeypatch.setattr(arrays.InventoryModule, "_read_vnx", read_vnx)
    monkeypatch.setattr(arrays.InventoryModule, "_read_ontap", read_ontap)
    return seen


def parse(tmp_path, text, name="lab.arrays.yml"):
    path = tmp_path / name
    path.write_text(text)
    plugin = inventory_loader.get("storage.datamotion.arrays")
    inventory = InventoryData()
    assert plugin.verify_file(str(path))
    plugin.parse(inventory, DataLoader(), str(path), cache=False)
    if getattr(plugin, "_cache", None):  # what the inventory manager does after parse
        plugin.update_cache_if_changed()
    return inventory, str(path)


GOOD = """
plugin: storage.datamotion.arrays
arrays:
  - {name: vnx1, type: vnx, address: 192.0.2.10}
  - {name: dr, type: ontap, address: dr.example.com, port: 8443}
attached_hosts: true
keyed_groups:
  - {key: datamotion_lun_pools, prefix: pool}
"""


def test_arrays_and_attached_hosts_with_credentials_from_the_environment(tmp_path, reads, monkeypatch):
    monkeypatch.setenv("VNX_USERNAME", "sysadmin")
    monkeypatch.setenv("VNX_PASSWORD", "secret-vnx")
    monkeypatch.setenv("ONTAP_USERNAME", "admin")
    monkeypatch.setenv("ONTAP_PASSWORD", "secret-ontap")
    inventory, dummy = parse(tmp_path, GOOD)
    assert reads[0]["password"] == "secret-vnx" and reads[0]["sp_address"] == "192.0.2.10"
    assert reads[1]["password"] == "secret-ontap" and reads[1]["port"] == 8443 and reads[1]["https"] is True
    vnx1 = inventory.get_host("vnx1").get_vars()
    assert vnx1["ansible_connection"] == "local"
    assert vnx1["ansible_python_interpreter"] == sys.executable  # where storops is, not what discovery finds
    assert vnx1["vnx_sp_address"] == "192.0.2.10"
    assert "secret-vnx" not in json.dumps(vnx1, default=str)
    assert [h.name for h in inventory.groups["pool_Pool0"].get_hosts()] == ["db01"]
    assert inventory.get_host("db01").get_vars()["datamotion_lun_wwns"] == ["60:06:01:60:00:00:00:03"]
    assert "dr" in [h.name for h in inventory.groups["datamotion_ontap"].get_hosts()]


def test_the_cache_holds_no_credentials(tmp_path, reads, monkeypatch):
    monkeypatch.setenv("VNX_PASSWORD", "secret-vnx")
    monkeypatch.setenv("ONTAP_PASSWORD", "secret-ontap")
    cache_dir = tmp_path / "cache"
    parse(tmp_path, GOOD + "cache: true\ncache_plugin: ansible.builtin.jsonfile\ncache_connection: %s\n" % cache_dir)
    files = list(cache_dir.iterdir())
    assert files
    text = "".join(f.read_text() for f in files)
    assert "CETV00000001" in text
    assert "secret" not in text and "password" not in text


@pytest.mark.parametrize("body, want", [
    ("arrays:\n  - {name: a, type: vnx, adress: 192.0.2.1}\n", "arrays[0]: unknown key 'adress'"),
    ("arrays:\n  - {name: a, type: vnx, address: 192.0.2.1}\nattached_host: true\n", "unknown key 'attached_host'"),
    ("arrays:\n  - {name: a, type: ontap}\n", "arrays[0]: key 'address' is missing"),
    ("arrays:\n  - {name: a, type: netapp, address: x}\n", "arrays[0].type: is 'netapp'"),
    ("arrays:\n  - {name: a, type: vnx, address: x, use_rest: always}\n", "arrays[0]: unknown key 'use_rest' for a vnx array"),
    ("arrays:\n  - {name: a, type: ontap, address: x, port: https}\n", "arrays[0].port:"),
    ("arrays:\n  - {name: a, type: vnx, address: x}\n  - {name: a, type: ontap, address: y}\n",
     "arrays[1].name: 'a' is also the name of arrays[0]"),
    ("arrays:\n  - {name: a, type: vnx, address: [192.0.2.1, 192.0.2.2]}\n", "arrays[0].address: is a list"),
    ("arrays:\n  - {name: [a], type: vnx, address: x}\n", "arrays[0].name: is a list"),
    ("arrays:\n  - {name: a, type: ontap, address: x, password: {value: p}}\n", "arrays[0].password: is a mapping"),
    ("arrays:\n  - {name: a, type: [vnx], address: x}\n", "arrays[0].type: is a list"),
])
def test_bad_files_name_the_file_and_the_key(tmp_path, reads, body, want):
    with pytest.raises(AnsibleParserError) as e:
        parse(tmp_path, "plugin: storage.datamotion.arrays\n" + body)
    assert str(tmp_path / "lab.arrays.yml") in str(e.value)
    assert want in str(e.value)
    assert reads == []  # nothing was read from any array


def test_an_attached_host_named_like_an_array_is_refused(tmp_path, reads):
    with pytest.raises(AnsibleParserError) as e:
        parse(tmp_path, "plugin: storage.datamotion.arrays\narrays:\n  - {name: db01, type: vnx, address: x}\n")
    assert "attached host named 'db01'" in str(e.value)


def test_an_unreadable_array_is_left_out_with_a_warning(tmp_path, reads, monkeypatch):
    warnings = []
    monkeypatch.setattr(Display, "warning", lambda self, msg, *args, **kwargs: warnings.append(msg))
    inventory, path = parse(tmp_path, GOOD.replace("dr.example.com", "down"))
    assert "dr" not in inventory.hosts
    assert "vnx1" in inventory.hosts
    assert warnings and warnings[0].startswith(path + ": arrays[1] (ontap array 'dr' at down): ONTAP cluster down is unreachable")


def test_strict_makes_an_unreadable_array_an_error(tmp_path, reads):
    with pytest.raises(AnsibleError) as e:
        parse(tmp_path, GOOD.replace("dr.example.com", "down") + "strict: true\n")
    assert "arrays[1] (ontap array 'dr' at down)" in str(e.value)


def test_other_file_names_are_not_this_plugins(tmp_path):
    path = tmp_path / "hosts.yml"
    path.write_text("plugin: storage.datamotion.arrays\n")
    assert not inventory_loader.get("storage.datamotion.arrays").verify_file(str(path))


def test_an_array_added_to_a_cached_file_is_read(tmp_path, reads, monkeypatch):
    monkeypatch.setenv("VNX_PASSWORD", "secret-vnx")
    monkeypatch.setenv("ONTAP_PASSWORD", "secret-ontap")
    cache = "cache: true\ncache_plugin: ansible.builtin.jsonfile\ncache_connection: %s\n" % (tmp_path / "cache")
    parse(tmp_path, GOOD + cache)
    path = tmp_path / "lab.arrays.yml"
    plugin = inventory_loader.get("storage.datamotion.arrays")
    path.write_text(GOOD.replace("arrays:\n", "arrays:\n  - {name: vnx2, type: vnx, address: 192.0.2.11}\n") + cache)
    inventory = InventoryData()
    plugin.parse(inventory, DataLoader(), str(path), cache=True)  # as ansible-inventory does, cache hit
    assert "vnx2" in inventory.hosts


def test_an_empty_environment_variable_is_not_a_value(tmp_path, reads, monkeypatch):
    # AWX injects '' for an optional credential input left blank (naviseccli path, port)
    monkeypatch.setenv("VNX_NAVISECCLI_PATH", "")
    monkeypatch.setenv("ONTAP_PORT", "")
    parse(tmp_path, GOOD.replace(", port: 8443", ""))
    assert reads[0]["naviseccli_path"] is None
    assert reads[1]["port"] is None


def test_a_vnx_that_answers_no_serial_is_unreadable(tmp_path, monkeypatch):
    # a naviseccli that exits 127 with only stderr: storops reads an agent with no fields
    class Silent:
        def __init__(self, **kwargs):
            pass

        def get_system(self):
            return System(address="192.0.2.10")

        def list_luns(self):
            return []

        list_storage_groups = list_pools = list_luns

    monkeypatch.setattr(arrays, "VnxClient", Silent)
    monkeypatch.setattr(arrays.vnx_common, "check_storops", lambda module: None)
    monkeypatch.setattr(arrays.vnx_common, "check_naviseccli", lambda module, path: None)
    monkeypatch.setenv("VNX_USERNAME", "sysadmin")
    monkeypatch.setenv("VNX_PASSWORD", "secret-vnx")
    with pytest.raises(AnsibleError) as e:
        parse(tmp_path, "plugin: storage.datamotion.arrays\nstrict: true\narrays:\n  - {name: vnx1, type: vnx, address: 192.0.2.10}\n")
    assert "arrays[0] (vnx array 'vnx1' at 192.0.2.10)" in str(e.value)
    assert "no serial number" in str(e.value)


class FakeOntap:
    """An ONTAP client and its SAN view: igroup esx01 with LUN /vol/vol1/data at LUN ID 2, igroup idle with no LUN."""
    transport = "rest"

    def __init__(self, igroup="esx01"):
        self.igroup = igroup

    def relationships(self):
        return []

    def volumes(self, paths):
        assert paths == {"svm1:vol1"}
        return {"svm1:vol1": Volume(svm="svm1", name="vol1", type="rw", size=2 ** 30, aggregates=["aggr1"])}

    def igroups(self):
        return [Igroup(svm="svm1", name=self.igroup, protocol="iscsi", os_type="vmware",
                       initiators=["iqn.1998-01.com.vmware:esx01-b", "iqn.1998-01.com.vmware:esx01-a"]),
                Igroup(svm="svm1", name="idle", protocol="iscsi", os_type="linux", initiators=["iqn.2005-03.org.open-iscsi:idle"])]

    def luns(self):
        return [Lun(svm="svm1", path="/vol/vol1/data", size=64 * 1024 ** 2, os_type="vmware", space_reserve=False,
                    serial="wCMDv]Ts-P7K")]

    def lun_maps(self):
        return [LunMap(svm="svm1", path="/vol/vol1/data", igroup=self.igroup, lun_id=2)]


def ontap_reads(monkeypatch, igroup="esx01"):
    fake = FakeOntap(igroup)
    monkeypatch.setenv("ONTAP_USERNAME", "admin")
    monkeypatch.setenv("ONTAP_PASSWORD", "secret-ontap")
    monkeypatch.setattr(arrays.ontap_client, "missing_library", lambda use_rest: [])
    monkeypatch.setattr(arrays.ontap_client, "connect", lambda params: fake)
    monkeypatch.setattr(arrays, "san_client", lambda client: client)


ONTAP_ONLY = """
plugin: storage.datamotion.arrays
arrays:
  - {name: dr, type: ontap, address: dr.example.com}
attached_hosts: true
keyed_groups:
  - {key: datamotion_lun_pools, prefix: pool}
"""


def test_ontap_igroups_are_attached_hosts_with_their_luns(tmp_path, monkeypatch):
    ontap_reads(monkeypatch)
    inventory, dummy = parse(tmp_path, ONTAP_ONLY)
    esx01 = inventory.get_host("esx01").get_vars()
    naa = "600a0980" + "wCMDv]Ts-P7K".encode("ascii").hex()
    assert esx01["datamotion_luns"] == [dict(
        array="dr", svm="svm1", igroup="esx01", lun="data", path="/vol/vol1/data", lun_id=2, volume="vol1",
        aggregate="aggr1", pool="svm1:vol1", serial="wCMDv]Ts-P7K", wwn=naa, size=64 * 1024 ** 2, size_gb=0.062)]
    assert esx01["datamotion_lun_pools"] == ["svm1:vol1"]
    assert esx01["datamotion_lun_wwns"] == [naa]
    assert esx01["datamotion_arrays"] == ["dr"]
    assert esx01["datamotion_initiators"] == ["iqn.1998-01.com.vmware:esx01-a", "iqn.1998-01.com.vmware:esx01-b"]
    assert [h.name for h in inventory.groups["pool_svm1_vol1"].get_hosts()] == ["esx01"]
    assert sorted(h.name for h in inventory.groups["datamotion_hosts"].get_hosts()) == ["esx01", "idle"]
    idle = inventory.get_host("idle").get_vars()
    assert idle["datamotion_luns"] == [] and idle["datamotion_arrays"] == ["dr"]


def test_ontap_igroups_are_not_hosts_without_attached_hosts(tmp_path, monkeypatch):
    ontap_reads(monkeypatch)
    inventory, dummy = parse(tmp_path, ONTAP_ONLY.replace("attached_hosts: true", "attached_hosts: false"))
    assert "esx01" not in inventory.hosts and "dr" in inventory.hosts


def test_an_igroup_named_like_an_array_is_refused(tmp_path, monkeypatch):
    ontap_reads(monkeypatch, igroup="dr")
    with pytest.raises(AnsibleParserError) as e:
        parse(tmp_path, ONTAP_ONLY)
    assert "arrays[0] (dr) has an attached host named 'dr', which is also the name of an array" in str(e.value)
