# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ontap_lun_map when a parallel run gets there first: it reads again and converges, or fails with the cluster's error.

The cluster is an in-memory stand-in for the SAN client (what is faked is the transport, not the module);
a racer acts between the module's read and its change, as another fork would.
"""

from __future__ import annotations

import pytest

from ansible_collections.storage.datamotion.plugins.module_utils.ontap.common import OntapError
from ansible_collections.storage.datamotion.plugins.module_utils.ontap.san import OWNER_COMMENT, Igroup, Lun, LunMap
from ansible_collections.storage.datamotion.plugins.modules import ontap_lun_map

HOST = "iqn.2026-01.io.example:host1"
OTHER = "iqn.2026-01.io.example:host2"
PATH = "/vol/v1/l1"
ARGS = dict(hostname="c1", username="admin", password="x", svm="svm1", path=PATH, igroup="host1", initiators=[HOST])


class FakeClient:
    transport = "rest"

    def svms(self, names):
        return {"svm1"} & set(names)


class FakeSan:
    """The cluster's SAN state; ``racer`` runs once, just before the module's first change."""

    def __init__(self, racer=None):
        self.lun_ = Lun(svm="svm1", path=PATH, size=1 << 26, os_type="linux", space_reserve=False, serial="abcdefghijkl",
                        comment=OWNER_COMMENT, uuid="u1")
        self.igroups_ = {}
        self.maps_ = []
        self.racer = racer
        self.calls = []

    def _race(self):
        if self.racer:
            racer, self.racer = self.racer, None
            racer(self)

    def lun(self, svm, path):
        return self.lun_ if path == PATH else None

    def igroups(self, svm):
        return [Igroup(svm=ig.svm, name=ig.name, protocol=ig.protocol, os_type=ig.os_type, initiators=list(ig.initiators))
                for ig in self.igroups_.values()]

    def maps(self, svm, igroup):
        return [m for m in self.maps_ if m.igroup == igroup]

    def create_igroup(self, svm, name, protocol, os_type, initiators):
        self._race()
        self.calls.append("create_igroup")
        if name in self.igroups_:
            raise OntapError("creating igroup %s failed: Initiator group \"%s\" already exists (code 5374861)" % (name, name), code="5374861")
        self.igroups_[name] = Igroup(svm=svm, name=name, protocol=protocol, os_type=os_type, initiators=list(initiators))

    def add_initiators(self, igroup, names):
        self.igroups_[igroup.name].initiators.extend(names)

    def map_lun(self, svm, path, igroup, lun_id=None):
        self._race()
        self.calls.append("map")
        used = {m.lun_id for m in self.maps_ if m.igroup == igroup}
        if any(m.path == path and m.igroup == igroup for m in self.maps_):
            raise OntapError("mapping failed: LUN already mapped (code 5374921)", code="5374921")
        lun_id = min(set(range(4096)) - used) if lun_id is None else lun_id
        if lun_id in used:
            raise OntapError("mapping failed: LUN ID %d in use (code 5374883)" % lun_id, code="5374883")
        self.maps_.append(LunMap(svm=svm, path=path, igroup=igroup, lun_id=lun_id))

    def unmap_lun(self, lun, igroup):
        self.maps_ = [m for m in self.maps_ if not (m.path == lun.path and m.igroup == igroup.name)]


@pytest.fixture
def cluster(monkeypatch):
    holder = {}

    def use(san):
        holder["san"] = san
        return san
    monkeypatch.setattr(ontap_lun_map, "connect", lambda params: FakeClient())
    monkeypatch.setattr(ontap_lun_map, "san_client", lambda client: holder["san"])
    monkeypatch.setattr(ontap_lun_map, "missing_library", lambda use_rest: None)
    return use


def same_host_racer(san):
    san.igroups_["host1"] = Igroup(svm="svm1", name="host1", protocol="iscsi", os_type="linux", initiators=[HOST])
    san.maps_.append(LunMap(svm="svm1", path=PATH, igroup="host1", lun_id=0))


def test_a_racer_that_did_the_same_leaves_a_converged_success(run_module, cluster):
    san = cluster(FakeSan(racer=same_host_racer))
    status, result = run_module(ontap_lun_map, ARGS)
    assert status == "exit", result
    assert result["lun_id"] == 0 and san.calls == ["create_igroup"]
    assert len(san.maps_) == 1


def test_a_racer_that_made_the_igroup_only_lets_us_map(run_module, cluster):
    def racer(san):
        san.igroups_["host1"] = Igroup(svm="svm1", name="host1", protocol="iscsi", os_type="linux", initiators=[HOST])
    san = cluster(FakeSan(racer=racer))
    status, result = run_module(ontap_lun_map, ARGS)
    assert status == "exit", result
    assert san.calls == ["create_igroup", "map"] and result["lun_id"] == 0
    assert result["actions"] == ["map LUN /vol/v1/l1 to igroup host1"]


def test_a_racer_that_gave_the_igroup_to_another_host_is_an_error(run_module, cluster):
    def racer(san):
        san.igroups_["host1"] = Igroup(svm="svm1", name="host1", protocol="iscsi", os_type="linux", initiators=[OTHER])
    san = cluster(FakeSan(racer=racer))
    status, result = run_module(ontap_lun_map, ARGS)
    assert status == "fail"
    assert "belongs to another host" in result["msg"]
    assert san.maps_ == []


def test_a_racer_that_took_the_lun_id_is_an_error_with_what_holds_it(run_module, cluster):
    def racer(san):
        san.maps_.append(LunMap(svm="svm1", path="/vol/v1/other", igroup="host1", lun_id=3))
    san = cluster(FakeSan())
    san.igroups_["host1"] = Igroup(svm="svm1", name="host1", protocol="iscsi", os_type="linux", initiators=[HOST])
    san.racer = racer
    status, result = run_module(ontap_lun_map, dict(ARGS, lun_id=3))
    assert status == "fail"
    assert "LUN ID 3 is used in igroup host1 by /vol/v1/other" in result["msg"]


def test_check_mode_plans_without_calls(run_module, cluster):
    san = cluster(FakeSan())
    status, result = run_module(ontap_lun_map, ARGS, check_mode=True, diff=True)
    assert status == "exit" and result["changed"]
    assert san.calls == [] and san.igroups_ == {}
    assert result["diff"]["after"]["igroup"]["initiators"] == [HOST]


def test_an_igroup_of_others_luns_is_refused_in_check_mode_too(run_module, cluster):
    """Issue 19, finding 9: no initiator of this host is added to an empty igroup that another team's LUNs are mapped to."""
    for check_mode in (True, False):
        san = cluster(FakeSan())
        san.igroups_["host1"] = Igroup(svm="svm1", name="host1", protocol="iscsi", os_type="linux", initiators=[])
        san.maps_.append(LunMap(svm="svm1", path="/vol/team/db", igroup="host1", lun_id=0))
        status, result = run_module(ontap_lun_map, ARGS, check_mode=check_mode)
        assert status == "fail", result
        assert "igroup host1 holds no initiator of this host, but LUN(s) /vol/team/db are mapped to it" in result["msg"]
        assert san.igroups_["host1"].initiators == [] and len(san.maps_) == 1 and san.calls == []


def test_a_planned_lun_is_checked_against_the_igroup_in_check_mode(run_module, cluster):
    """Issue 19, finding 2: the igroup of a LUN that an earlier task makes is checked before that LUN exists."""
    path = "/vol/v1/new"
    san = cluster(FakeSan())
    san.igroups_["host1"] = Igroup(svm="svm1", name="host1", protocol="iscsi", os_type="linux", initiators=[HOST, OTHER])
    status, result = run_module(ontap_lun_map, dict(ARGS, path=path, lun_planned=True), check_mode=True)
    assert status == "fail" and "belongs to another host" in result["msg"], result
    san.igroups_["host1"].initiators = [HOST]
    status, result = run_module(ontap_lun_map, dict(ARGS, path=path, lun_planned=True), check_mode=True)
    assert status == "exit" and result["actions"] == ["map LUN /vol/v1/new to igroup host1"], result
    # a real run still needs the LUN
    status, result = run_module(ontap_lun_map, dict(ARGS, path=path, lun_planned=True))
    assert status == "fail" and "does not exist" in result["msg"]
