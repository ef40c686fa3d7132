# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vnx_host_access planner for a list of LUNs (option luns), from every mix of LUN states.

A small model of the array (LUNs, one storage group with its HLUs, migration targets, registered
hosts) answers the reads and runs each plan with the array's rules: the plan must refuse, naming
every LUN that cannot be exposed, exactly when one cannot be, and change nothing then; otherwise it
must give the new LUNs the lowest free HLUs in list order, reach the wanted state, and the next plan
must be empty.
"""

from __future__ import annotations

import copy
import itertools

import pytest

from ansible_collections.storage.datamotion.plugins.module_utils.vnx.access import (
    AccessWanted, plan_access, read_access)
from ansible_collections.storage.datamotion.plugins.module_utils.vnx.client import (
    Lun, Migration, StorageGroup, VnxError)

NAMES = ("vol_a", "vol_b", "vol_c")


def lun_of(i, name):
    return Lun(id=10 + i, name=name, wwn="60:06:01:60:00:00:00:00:00:00:00:00:00:00:00:%02X" % (10 + i))


class Model:
    """The array: LUNs by name, the group host1 ({hlu: alu}, hosts), registered hosts, migration targets.

    ``states``: for each of NAMES, "in" (in the group), "out" (exists, not in it), "missing" or "private"
    (exists, the destination of a migration). ``taken``: HLUs held by other LUNs (ids 100 and up).
    """

    def __init__(self, states, taken=(0, 2), group=True, registered=True, connected=True):
        self.luns = {}
        self.targets = []
        self.group = None
        hlus = dict((h, 100 + h) for h in taken)
        next_hlu = iter(h for h in range(256) if h not in hlus)
        for i, (name, state) in enumerate(zip(NAMES, states)):
            if state == "missing":
                continue
            self.luns[name] = lun_of(i, name)
            if state == "in":
                hlus[next(next_hlu)] = self.luns[name].id
            if state == "private":
                self.targets.append(Migration(source_id=90 + i, source_name="src%d" % i, dest_id=10 + i, dest_name=name))
        if group:
            self.group = (["host1"] if connected else [], hlus)
        self.registered = ["host1"] if registered else []
        self.calls = []

    # the client's reads
    def get_lun(self, name=None, lun_id=None):
        self.calls.append("get_lun")
        return self.luns.get(name)

    def list_luns(self):
        self.calls.append("list_luns")
        return list(self.luns.values()) + [Lun(id=100 + h, name="other%d" % h) for h in range(3)]

    def get_storage_group(self, name):
        self.calls.append("get_storage_group")
        if self.group is None or name != "host1":
            return None
        return StorageGroup(name=name, hosts=list(self.group[0]), hlus=dict(self.group[1]))

    def list_storage_groups(self):
        self.calls.append("list_storage_groups")
        return [StorageGroup(name="host1", hosts=list(self.group[0]), hlus=dict(self.group[1]))] if self.group else []

    def list_registered_hosts(self):
        self.calls.append("list_registered_hosts")
        return list(self.registered)

    def list_migrations(self):
        self.calls.append("list_migrations")
        return list(self.targets)

    # the array's rules, applied to a step
    def apply(self, step, want):
        if step.kind == "create_group":
            assert self.group is None
            self.group = ([], {})
        elif step.kind == "connect_host":
            assert want.host in self.registered
            self.group[0].append(want.host)
        elif step.kind == "add_lun":
            hlus = self.group[1]
            assert 0 <= step.hlu <= 255 and step.hlu not in hlus and step.lun.id not in hlus.values()
            assert step.lun.id not in [m.dest_id for m in self.targets], "a migration target is private"
            hlus[step.hlu] = step.lun.id
        elif step.kind == "remove_lun":
            hlus = self.group[1]
            assert hlus.get(step.hlu) == step.lun.id
            del hlus[step.hlu]
        else:
            raise AssertionError(step.kind)


STATES = list(itertools.product(["in", "out", "missing", "private"], repeat=3))
WANTS = [AccessWanted(NAMES, "host1", "host1", state) for state in ("present", "absent")]


@pytest.mark.parametrize("want", WANTS, ids=lambda w: w.state)
@pytest.mark.parametrize("states", STATES, ids="-".join)
def test_every_mix_reaches_the_wanted_state_or_is_refused_naming_every_bad_lun(states, want):
    model = Model(states)
    before = copy.deepcopy(model.group)
    bad = [n for n, s in zip(NAMES, states) if s in ("missing", "private")]
    try:
        steps, planned = plan_access(read_access(model, want), want)
    except VnxError as err:
        assert want.state == "present" and bad, str(err)
        for name in NAMES:
            assert (("LUN %s " % name) in err.text or ("LUNs " in err.text and name in err.text)) == (name in bad), err.text
        assert "Nothing was changed." in err.hint
        assert model.group == before
        return
    assert want.state == "absent" or not bad
    for step in steps:
        model.apply(step, want)
    again, dummy = plan_access(read_access(model, want), want)
    assert again == []
    group = model.get_storage_group("host1")
    if want.state == "absent":
        assert not set(lun.id for lun in model.luns.values()) & set(group.hlus.values())
        assert group.hlus == dict((h, a) for h, a in before[1].items() if a >= 100)
        return
    # the new LUNs took the lowest free HLUs of the group as read, in list order; the others kept theirs
    free = [h for h in range(256) if h not in before[1]]
    new = [n for n, s in zip(NAMES, states) if s == "out"]
    assert [planned[n] for n in new] == free[:len(new)]
    for name in NAMES:
        assert group.hlu_of(model.luns[name].id) == planned[name]


def test_one_error_names_the_missing_the_private_and_those_without_an_hlu():
    model = Model(["missing", "private", "out"], taken=range(255))
    want = AccessWanted(NAMES + ("vol_d",), "host1", "host1")
    model.luns["vol_d"] = lun_of(3, "vol_d")
    with pytest.raises(VnxError) as info:
        plan_access(read_access(model, want), want)
    err = info.value
    assert err.kind == "VNXLunNotFoundError"
    assert str(err) == (
        "Cannot expose 4 LUNs to host host1 (storage group host1): LUN vol_a does not exist; LUN vol_b is the "
        "destination of the migration of LUN src1, a private LUN a host cannot use; no free host LUN number (HLU) is "
        "left for LUN vol_d (the group has 1 free for the 2 LUNs to add) -- Check the LUN names (vnx_info lists the "
        "LUNs). Expose LUN src1 instead of vol_b (it becomes that LUN's data when the migration completes). Remove "
        "unused LUNs from the storage group, or expose fewer LUNs in one task. Nothing was changed.")


def test_a_full_group_refuses_before_the_group_is_touched():
    model = Model(["out", "out", "in"], taken=range(1, 256))
    want = WANTS[0]
    with pytest.raises(VnxError) as info:
        plan_access(read_access(model, want), want)
    assert info.value.kind == "VNXNoHluAvailableError"
    assert "no free host LUN number (HLU) is left for LUNs vol_a, vol_b (the group has 0 free for the 2 LUNs to add)" \
        in info.value.text


def test_a_missing_group_is_created_and_the_host_connected_once_before_the_luns():
    model = Model(["out", "out", "out"], group=False)
    steps, planned = plan_access(read_access(model, WANTS[0]), WANTS[0])
    assert [s.text for s in steps] == [
        "create storage group host1", "connect host host1 to storage group host1",
        "add LUN vol_a to storage group host1 with a free HLU", "add LUN vol_b to storage group host1 with a free HLU",
        "add LUN vol_c to storage group host1 with a free HLU"]
    assert planned == {"vol_a": 0, "vol_b": 1, "vol_c": 2}


def test_an_unregistered_host_is_refused_as_for_one_lun():
    model = Model(["out", "out", "out"], registered=False, connected=False)
    with pytest.raises(VnxError) as info:
        plan_access(read_access(model, WANTS[0]), WANTS[0])
    assert info.value.kind == "VNXHostNotFoundError"


def test_the_luns_are_read_in_one_list_and_nothing_more_than_the_plan_needs():
    model = Model(["in", "in", "in"])
    assert plan_access(read_access(model, WANTS[0]), WANTS[0])[0] == []
    assert model.calls == ["list_luns", "get_storage_group"]
    model = Model(["in", "out", "in"])
    read_access(model, WANTS[0])
    assert model.calls == ["list_luns", "get_storage_group", "list_migrations"]
    model = Model(["out", "out", "out"], connected=False)
    read_access(model, WANTS[0])
    assert model.calls == ["list_luns", "get_storage_group", "list_storage_groups", "list_registered_hosts",
                           "list_migrations"]
    model = Model(["out", "missing", "out"], connected=False)
    read_access(model, WANTS[0])
    assert model.calls == ["list_luns", "get_storage_group", "list_migrations"]
    model = Model(["in", "out", "in"])
    read_access(model, WANTS[1])
    assert model.calls == ["list_luns", "get_storage_group"]


def test_a_list_of_one_reads_that_lun_only():
    model = Model(["out", "out", "out"])
    want = AccessWanted(("vol_b",), "host1", "host1")
    steps, planned = plan_access(read_access(model, want), want)
    assert model.calls == ["get_lun", "get_storage_group", "list_migrations"]
    assert [s.kind for s in steps] == ["add_lun"] and planned == {"vol_b": 1}
