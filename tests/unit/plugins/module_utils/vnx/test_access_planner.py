# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vnx_host_access planner from every start state to every wanted state.

A small model of the array's storage groups (with its rules: a host is in one group at a
time, only registered hosts connect, an HLU holds one LUN, 0..255, a migration target is
private) answers the reads and runs each plan; the plan must refuse exactly what the array
would refuse or take from the host, reach the wanted state, and the next plan must be empty.
"""

from __future__ import annotations

import copy
import itertools

import pytest

from ansible_collections.storage.datamotion.plugins.module_utils.vnx.access import (
    AccessWanted, plan_access, read_access)
from ansible_collections.storage.datamotion.plugins.module_utils.vnx.client import (
    Lun, Migration, StorageGroup, VnxError)

LUN = Lun(id=12, name="vol_a", wwn="60:06:01:60:00:00:00:00:00:00:00:00:00:00:00:0C")


class Model:
    """The array: groups {name: (hosts, {hlu: alu})}, registered hosts, LUNs, migration targets."""

    def __init__(self, lun=True, group="missing", registered=True, other="none", target=False):
        self.luns = {LUN.name: LUN} if lun else {}
        self.registered = ["host1"] if registered else []
        self.groups = {}
        if group != "missing":
            hosts = ["host1"] if group in ("host", "host+lun", "host+full", "host+low") else []
            # without the LUN, its id is another LUN's (ids are reused)
            hlus = {"host+lun": {5: LUN.id if lun else 77}, "host+full": dict((h, 100 + h) for h in range(256)),
                    "host+low": {0: 40, 1: 41}}.get(group, {})
            self.groups["host1"] = (hosts, dict(hlus))
        if other != "none":
            self.groups["other"] = (["host1"] if "host1" not in self.groups.get("host1", ([], {}))[0] else [],
                                    {7: 99} if other == "with-luns" else {})
        self.targets = [Migration(source_id=3, source_name="src", dest_id=LUN.id, dest_name=LUN.name)] if target else []

    # the client's reads
    def get_lun(self, name=None, lun_id=None):
        return self.luns.get(name)

    def get_storage_group(self, name):
        if name not in self.groups:
            return None
        hosts, hlus = self.groups[name]
        return StorageGroup(name=name, hosts=list(hosts), hlus=dict(hlus))

    def list_storage_groups(self):
        return [self.get_storage_group(n) for n in self.groups]

    def list_registered_hosts(self):
        return list(self.registered)

    def list_migrations(self):
        return list(self.targets)

    # the array's rules, applied to a step
    def apply(self, step, want):
        if step.kind == "create_group":
            assert want.group not in self.groups
            self.groups[want.group] = ([], {})
        elif step.kind == "connect_host":
            assert want.host in self.registered
            for name, (hosts, hlus) in self.groups.items():
                if want.host in hosts:
                    assert not hlus or name == want.group, "the host would lose the LUNs of %s" % name
                    hosts.remove(want.host)
            self.groups[want.group][0].append(want.host)
        elif step.kind == "add_lun":
            hosts, hlus = self.groups[want.group]
            assert 0 <= step.hlu <= 255 and step.hlu not in hlus and LUN.id not in hlus.values()
            assert not self.targets, "a migration target is private"
            hlus[step.hlu] = LUN.id
        elif step.kind == "remove_lun":
            hosts, hlus = self.groups[want.group]
            assert hlus.get(step.hlu) == LUN.id
            del hlus[step.hlu]
        else:
            raise AssertionError(step.kind)


STARTS = list(itertools.product(
    [True, False],                                                            # the LUN exists
    ["missing", "empty", "host", "host+lun", "host+full", "host+low"],       # the group
    [True, False],                                                            # host1 is registered
    ["none", "empty", "with-luns"],                                           # host1 in another group
    [False, True],                                                            # the LUN is a migration target
))
WANTS = [AccessWanted((LUN.name,), "host1", "host1", state, connect) for state in ("present", "absent")
         for connect in (True, False)]


def refusal(start, want):
    """The error kind the array's rules make unavoidable, or None."""
    lun, group, registered, other, target = start
    if want.state == "absent":
        return None
    if not lun:
        return "VNXLunNotFoundError"
    connected = group in ("host", "host+lun", "host+full", "host+low")
    if want.connect_host and not connected:
        if not registered:
            return "VNXHostNotFoundError"
        if other == "with-luns":
            return "VNXHostInOtherStorageGroupError"
    if group == "host+lun":
        return None if lun else "VNXLunNotFoundError"
    if group == "host+full":
        return "VNXNoHluAvailableError"
    if target:
        return "VNXLunPrivateError"
    return None


@pytest.mark.parametrize("want", WANTS, ids=lambda w: "%s-connect=%s" % (w.state, w.connect_host))
@pytest.mark.parametrize("start", STARTS, ids=lambda s: "-".join(str(x) for x in s))
def test_every_start_reaches_the_wanted_state_or_is_refused_before_acting(start, want):
    model = Model(*start)
    before = copy.deepcopy(model.groups)
    try:
        steps, planned = plan_access(read_access(model, want), want)
    except VnxError as err:
        assert err.kind == refusal(start, want), str(err)
        assert model.groups == before
        return
    assert refusal(start, want) is None, steps
    for step in steps:
        model.apply(step, want)
    again, dummy = plan_access(read_access(model, want), want)
    assert again == [], again
    group = model.get_storage_group(want.group)
    if want.state == "absent":
        assert group is None or not start[0] or group.hlu_of(LUN.id) is None
        return
    assert group.hlu_of(LUN.id) == planned[LUN.name]
    if want.connect_host:
        assert want.host in group.hosts


def test_the_lowest_free_hlu_is_planned_hlu_0_included():
    model = Model(group="host")
    steps, planned = plan_access(read_access(model, WANTS[0]), WANTS[0])
    assert [s.kind for s in steps] == ["add_lun"] and planned == {"vol_a": 0}
    model = Model(group="host+low")
    assert plan_access(read_access(model, WANTS[0]), WANTS[0])[1] == {"vol_a": 2}


def test_a_host_in_an_empty_group_is_moved_and_the_step_says_so():
    model = Model(group="empty", other="empty")
    steps, dummy = plan_access(read_access(model, WANTS[0]), WANTS[0])
    assert steps[0].text == "connect host host1 to storage group host1 (out of its empty storage group other)"


def test_nothing_more_is_read_than_the_plan_needs():
    class Counting(Model):
        calls = []

        def __getattribute__(self, name):
            if name.startswith(("get_", "list_")):
                Counting.calls.append(name)
            return object.__getattribute__(self, name)

    model = Counting(group="host+lun")
    assert plan_access(read_access(model, WANTS[0]), WANTS[0]) == ([], {"vol_a": 5})
    assert Counting.calls == ["get_lun", "get_storage_group"]


@pytest.mark.parametrize("start, message", [
    ((False, "host", True, "none", False),
     "Cannot expose LUN vol_a to host host1: the LUN does not exist -- Check the LUN name (vnx_info lists the LUNs)."),
    ((True, "host+full", True, "none", True),
     "Cannot add LUN vol_a to storage group host1: no free host LUN number (HLU) is left in the group -- Remove unused "
     "LUNs from the storage group."),
    ((True, "host", True, "none", True),
     "Cannot add LUN vol_a to storage group host1: it is the destination of the migration of LUN src, a private LUN a "
     "host cannot use -- Expose LUN src instead (it becomes this LUN's data when the migration completes)."),
])
def test_one_lun_is_refused_in_words_about_that_lun(start, message):
    # a list of one goes through the planner of many LUNs, and keeps the words of one
    with pytest.raises(VnxError) as info:
        plan_access(read_access(Model(*start), WANTS[0]), WANTS[0])
    assert str(info.value) == message
