# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ontap_lun when a parallel run creates the same LUN first: converge on a LUN of ours, keep the cluster's error otherwise.

The SAN client is an in-memory stand-in (the transport is what is faked, not the module).
"""

from __future__ import annotations

import pytest

from ansible_collections.storage.datamotion.plugins.module_utils.ontap.common import Aggregate, OntapError
from ansible_collections.storage.datamotion.plugins.module_utils.ontap.san import OWNER_COMMENT, Lun, LunVolume
from ansible_collections.storage.datamotion.plugins.modules import ontap_lun

MIB = 1024 ** 2
ARGS = dict(hostname="c1", username="admin", password="x", svm="svm1", volume="v1", name="l1", size="64MiB")


class FakeClient:
    transport = "zapi"

    def svms(self, names):
        return {"svm1"} & set(names)

    def aggregates(self, names):
        return {"aggr1": Aggregate("aggr1", 10 * 1024 ** 3)}


class FakeSan:
    def __init__(self, racer_comment=None):
        self.luns = {}
        self.volumes = {"v1": LunVolume(svm="svm1", name="v1", type="rw", size=1024 ** 3, available=900 * MIB)}
        self.racer_comment = racer_comment
        self.calls = []

    def volume(self, svm, name):
        return self.volumes.get(name)

    def create_volume(self, svm, name, size, aggregate):
        self.calls.append(("create_volume", name, size, aggregate))
        self.volumes[name] = LunVolume(svm=svm, name=name, type="rw", size=size, available=int(size * 0.95))

    def lun(self, svm, path):
        return self.luns.get(path)

    def create_lun(self, svm, path, size, os_type, space_reserve):
        self.calls.append(("create_lun", path, size))
        if self.racer_comment is not None:
            self.luns[path] = Lun(svm=svm, path=path, size=size, os_type=os_type, space_reserve=False, serial="abcdefghijkl",
                                  comment=self.racer_comment)
            raise OntapError("creating LUN %s in SVM svm1 on ONTAP cluster c1 failed: A LUN with the name \"%s\" already exists "
                             "(errno 9012)" % (path, path), code="9012")
        self.luns[path] = Lun(svm=svm, path=path, size=size, os_type=os_type, space_reserve=space_reserve, serial="mnopqrstuvwx",
                              comment=OWNER_COMMENT)


@pytest.fixture
def cluster(monkeypatch):
    holder = {}
    monkeypatch.setattr(ontap_lun, "connect", lambda params: FakeClient())
    monkeypatch.setattr(ontap_lun, "san_client", lambda client: holder["san"])
    monkeypatch.setattr(ontap_lun, "missing_library", lambda use_rest: None)

    def use(san):
        holder["san"] = san
        return san
    return use


def test_a_racer_that_created_our_lun_leaves_a_converged_success(run_module, cluster):
    cluster(FakeSan(racer_comment=OWNER_COMMENT))
    status, result = run_module(ontap_lun, ARGS)
    assert status == "exit", result
    assert result["lun"]["path"] == "/vol/v1/l1" and result["lun"]["ours"]


def test_a_racer_that_is_not_us_keeps_the_clusters_error(run_module, cluster):
    cluster(FakeSan(racer_comment="someone else"))
    status, result = run_module(ontap_lun, ARGS)
    assert status == "fail"
    assert "already exists (errno 9012)" in result["msg"]
    assert result["actions_done"] == [] and not result["changed"]


def test_a_lun_refused_after_its_volume_was_created_says_the_volume_stays(run_module, cluster):
    """The migration role keeps its claim on a destination whose volume this run made (a re-run must finish in it),
    and drops it only when nothing was done: actions_done tells the two apart."""
    san = cluster(FakeSan(racer_comment="someone else"))
    status, result = run_module(ontap_lun, dict(ARGS, volume="v2", aggregate="aggr1", volume_size="1GiB"))
    assert status == "fail"
    assert "v2" in san.volumes
    assert result["actions_done"] == ["create volume svm1:v2 of 1073741824 bytes in aggr1"] and result["changed"]


def test_check_mode_with_a_new_volume_calls_nothing_and_predicts(run_module, cluster):
    san = cluster(FakeSan())
    args = dict(ARGS, volume="v2", volume_size="1GiB", aggregate="aggr1")
    status, result = run_module(ontap_lun, args, check_mode=True, diff=True)
    assert status == "exit" and result["changed"]
    assert san.calls == []
    assert result["actions"] == ["create volume svm1:v2 of 1073741824 bytes in aggr1", "create LUN /vol/v2/l1 of 67108864 bytes"]
    assert result["diff"] == {"before": {}, "after": result["lun"]}
    assert result["lun"]["size"] == 64 * MIB and result["lun"]["space_reserve"] is False


def test_real_run_creates_volume_then_lun(run_module, cluster):
    san = cluster(FakeSan())
    status, result = run_module(ontap_lun, dict(ARGS, volume="v2", volume_size="1GiB", aggregate="aggr1"))
    assert status == "exit", result
    assert san.calls == [("create_volume", "v2", 1024 ** 3, "aggr1"), ("create_lun", "/vol/v2/l1", 64 * MIB)]
    assert result["lun"]["naa"] == "600a0980" + "mnopqrstuvwx".encode().hex()


@pytest.mark.parametrize("volume_size", ["0", "1MiB", "19MiB"])
@pytest.mark.parametrize("check_mode", [True, False])
def test_a_volume_size_ontap_refuses_fails_before_any_call(run_module, cluster, volume_size, check_mode):
    san = cluster(FakeSan())
    status, result = run_module(ontap_lun, dict(ARGS, volume="v2", volume_size=volume_size, aggregate="aggr1"), check_mode=check_mode)
    assert status == "fail" and "volume_size" in result["msg"], result
    assert san.calls == []


class VolumeRacer(FakeSan):
    """A parallel run (another LUN of the same new volume) creates the volume between our read and our create."""

    def create_volume(self, svm, name, size, aggregate):
        self.calls.append(("create_volume", name, size, aggregate))
        self.volumes[name] = LunVolume(svm=svm, name=name, type="rw", size=size, available=int(size * 0.95))
        raise OntapError("creating volume %s:%s on ONTAP cluster c1 failed: duplicate volume name %s (errno 17159)" % (svm, name, name))


def test_a_racer_that_created_the_volume_lets_us_create_the_lun_in_it(run_module, cluster):
    san = cluster(VolumeRacer())
    status, result = run_module(ontap_lun, dict(ARGS, volume="v2", volume_size="1GiB", aggregate="aggr1"))
    assert status == "exit", result
    assert san.calls[-1] == ("create_lun", "/vol/v2/l1", 64 * MIB) and result["lun"]["ours"]


def test_a_volume_error_with_no_volume_after_it_stands(run_module, cluster):
    san = cluster(VolumeRacer())

    def offline(*args):
        raise OntapError("creating volume svm1:v2 failed: aggregate offline")
    san.create_volume = offline
    status, result = run_module(ontap_lun, dict(ARGS, volume="v2", volume_size="1GiB", aggregate="aggr1"))
    assert status == "fail" and "aggregate offline" in result["msg"]
