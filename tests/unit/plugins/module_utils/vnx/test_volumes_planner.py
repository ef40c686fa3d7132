# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vnx_volume planner for a list of LUNs (option luns): the array read once, every LUN planned first.

The model of test_volume_planner, answering listings too: read through client.ReadOnce, each LUN of a
list gets the plan it gets alone from the client's own reads, every kind of object is listed at most
once, a refusal names every LUN refused and nothing is planned, and thick LUNs share their pool's space.
"""

from __future__ import annotations

import copy
import re

import pytest

from ansible_collections.storage.datamotion.plugins.module_utils.vnx.client import ReadOnce, VnxError
from ansible_collections.storage.datamotion.plugins.module_utils.vnx.volume import (
    VolumeWanted, plan_volume, plan_volumes, read_volume, read_volumes)
from ansible_collections.storage.datamotion.tests.unit.plugins.module_utils.vnx.test_volume_planner import (
    EXPECTED, WANTS, Model)


class Listing(Model):
    """The model with the listings the client makes (LUNs read as a listing prints them)."""

    def list_luns(self):
        return [self.get_lun(name=n) for n in list(self.luns)]

    def list_pools(self):
        return copy.deepcopy(list(self.pools.values()))

    def list_consistency_groups(self):
        return copy.deepcopy(list(self.cgs.values()))


class Counting:
    """A client that counts the reads asked of it."""

    def __init__(self, model):
        self.model, self.calls = model, []

    def __getattr__(self, name):
        self.calls.append(name)
        return getattr(self.model, name)


@pytest.mark.parametrize("start,want_key", sorted(EXPECTED), ids=lambda x: x)
def test_a_lun_of_a_list_is_planned_as_alone_or_refused_by_name(start, want_key):
    want, expected = WANTS[want_key], EXPECTED[(start, want_key)]
    wants = [VolumeWanted("src"), want]  # src is on the array in every start; nothing to do to it
    array = Counting(Listing(start))
    facts = read_volumes(ReadOnce(array), wants)
    assert all(c.startswith("list_") for c in array.calls) and len(set(array.calls)) == len(array.calls), array.calls
    if isinstance(expected, str):
        with pytest.raises(VnxError) as err:
            plan_volumes(facts, wants)
        assert str(err.value).startswith("Cannot converge 1 of the 2 LUNs: Cannot ")
        assert expected in str(err.value) and re.search(r"\bvol\b", str(err.value))
        assert str(err.value).endswith("-- Nothing was changed.")
        return
    plans = plan_volumes(facts, wants)
    alone = Listing(start)
    assert plans[0][0] == []
    assert plans[1] == plan_volume(read_volume(alone, want), want)


def test_every_refused_lun_is_named_in_one_error_and_a_list_of_one_keeps_its_own():
    model = Listing("present")
    wants = [VolumeWanted("vol", size_gb=4), VolumeWanted("new1", pool="Pool0", size_gb=1, provisioning="thin"),
             VolumeWanted("new2", size_gb=1), VolumeWanted("src", state="absent")]
    with pytest.raises(VnxError) as err:
        plan_volumes(read_volumes(ReadOnce(model), wants), wants)
    text = str(err.value)
    assert text.startswith("Cannot converge 2 of the 4 LUNs: Cannot shrink LUN vol: it has 10.0 GB")
    assert "; Cannot create LUN new2: it does not exist and pool not given" in text
    assert "new1" not in text and "src" not in text
    with pytest.raises(VnxError) as err:
        plan_volumes(read_volumes(model, wants[:1]), wants[:1])
    assert str(err.value).startswith("Cannot shrink LUN vol: it has 10.0 GB") and err.value.planned == []


def test_thick_luns_in_one_pool_share_its_space_in_list_order():
    model = Listing("absent")  # Pool0 has 100 GB
    wants = [VolumeWanted("a%d" % i, pool="Pool0", size_gb=40, provisioning=p) for i, p in
             enumerate(["thick", "thin", "thick", "thick"])]
    with pytest.raises(VnxError) as err:
        plan_volumes(read_volumes(ReadOnce(model), wants), wants)
    assert str(err.value).startswith("Cannot converge 1 of the 4 LUNs: Cannot create LUN a3 (40 GB, thick) in pool "
                                     "Pool0: the pool has 20.0 GB available")
    assert model.pools["Pool0"].available_capacity_gb == 100.0  # the array's pool is not touched
    plans = plan_volumes(read_volumes(ReadOnce(model), wants[:3]), wants[:3])
    assert [[s.kind for s in steps] for steps, after in plans] == [["create_lun"]] * 3


def test_a_list_reaches_the_wanted_state_and_the_next_plan_is_empty():
    model = Listing("has-snap-copy")  # vol has the snap copy "copy" (and its snapshot)
    wants = [VolumeWanted("copy", state="absent"), VolumeWanted("d1", pool="Pool0", size_gb=2, provisioning="thin"),
             VolumeWanted("d2", pool="Pool0", size_gb=2, provisioning="thin"), VolumeWanted("vol", tiering="highest_available")]
    plans = plan_volumes(read_volumes(ReadOnce(model), wants), wants)
    assert [[s.kind for s in steps] for steps, after in plans] == [
        ["destroy_lun", "destroy_snapshot"], ["create_lun"], ["create_lun"], ["set_tiering"]]
    for steps, after in plans:
        for step in steps:
            model.apply(step)
    assert "copy" not in model.luns and model.luns["d2"].size_gb == 2.0 and model.luns["vol"].tiering == "highest_available"
    assert not model.snaps
    assert [steps for steps, after in plan_volumes(read_volumes(ReadOnce(model), wants), wants)] == [[]] * 4
