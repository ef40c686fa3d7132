# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan of vnx_host_access: from what was read and what is wanted to the steps, without I/O.

``read_access`` reads the facts the plan needs (and only those); ``plan_access`` turns them and
the wanted state into steps or refuses with a VnxError; the module applies the steps.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from dataclasses import dataclass, field
from typing import List, Optional

from ansible_collections.storage.datamotion.plugins.module_utils.vnx.client import (
    HLU_RANGE, Lun, StorageGroup, VnxError)


@dataclass(frozen=True)
class AccessWanted:
    lun: str
    host: str
    group: str
    state: str = "present"
    connect_host: bool = True


@dataclass
class AccessFacts:
    """What the array holds for one request; ``None`` lists were not needed, so not read."""
    lun: Optional[Lun]
    group: Optional[StorageGroup]
    groups: Optional[List[StorageGroup]] = None      # every storage group (read to find the host's)
    registered_hosts: Optional[List[str]] = None     # hosts with registered initiators
    migrating_into: Optional[str] = None             # the LUN is the target of this LUN's migration
    hlu: Optional[int] = field(default=None)         # the LUN's HLU in the group

    def __post_init__(self):
        if self.group is not None and self.lun is not None:
            self.hlu = self.group.hlu_of(self.lun.id)


@dataclass(frozen=True)
class Step:
    """One change: ``kind`` is create_group, connect_host, add_lun or remove_lun."""
    kind: str
    text: str
    hlu: Optional[int] = None


def needs_connect(facts, want):
    return want.state == "present" and want.connect_host and (facts.group is None or want.host not in facts.group.hosts)


def needs_add(facts, want):
    return want.state == "present" and facts.lun is not None and facts.hlu is None


def read_access(client, want):
    """The facts ``plan_access`` needs for ``want``."""
    lun = client.get_lun(name=want.lun)
    facts = AccessFacts(lun=lun, group=client.get_storage_group(want.group))
    if needs_connect(facts, want) and lun is not None:
        facts.groups = client.list_storage_groups()
        facts.registered_hosts = client.list_registered_hosts()
    if needs_add(facts, want):
        into = [m for m in client.list_migrations() if m.dest_id == lun.id]
        facts.migrating_into = into[0].source_name if into else None
    return facts


def plan_access(facts, want):
    """(steps, planned HLU) that bring the array from ``facts`` to ``want``; VnxError when it cannot be."""
    if want.state == "absent":
        if facts.hlu is None:
            return [], None
        return [Step("remove_lun", "remove LUN %s (HLU %s) from storage group %s" % (facts.lun.name, facts.hlu, want.group),
                     facts.hlu)], None
    if facts.lun is None:
        raise VnxError("expose", "LUN %s to host %s" % (want.lun, want.host), "the LUN does not exist",
                       "Check the LUN name (vnx_info lists the LUNs).", "VNXLunNotFoundError")
    steps = []
    if facts.group is None:
        steps.append(Step("create_group", "create storage group %s" % want.group))
    if needs_connect(facts, want):
        steps.append(plan_connect(facts, want))
    if facts.hlu is not None:
        return steps, facts.hlu
    free = [h for h in HLU_RANGE if facts.group is None or h not in facts.group.hlus]
    if not free:
        raise VnxError("add", "LUN %s to storage group %s" % (facts.lun.name, want.group),
                       "no free host LUN number (HLU) is left in the group",
                       "Remove unused LUNs from the storage group.", "VNXNoHluAvailableError")
    if facts.migrating_into:
        raise VnxError("add", "LUN %s to storage group %s" % (facts.lun.name, want.group),
                       "it is the destination of the migration of LUN %s, a private LUN a host cannot use"
                       % facts.migrating_into,
                       "Expose LUN %s instead (it becomes this LUN's data when the migration completes)."
                       % facts.migrating_into, "VNXLunPrivateError")
    steps.append(Step("add_lun", "add LUN %s to storage group %s with a free HLU" % (facts.lun.name, want.group), free[0]))
    return steps, free[0]


def plan_connect(facts, want):
    """The step that connects the host, or the reason it must not be connected."""
    if want.host not in (facts.registered_hosts or []):
        raise VnxError("connect", "host %s to storage group %s" % (want.host, want.group),
                       "the array knows no host named %s: no initiator of it is registered" % want.host,
                       "Check the name (the array's registered hosts are %s), or register the host's "
                       "initiators first (its host agent, Unisphere, or storagegroup -setpath)."
                       % (", ".join(facts.registered_hosts or []) or "none"), "VNXHostNotFoundError")
    moved_from = ""
    # a VNX host is in one storage group at a time: connecting it here takes it
    # out of its current group and so away from every LUN in that group
    for other in facts.groups or []:
        if other.name == want.group or want.host not in other.hosts:
            continue
        if other.hlus:
            raise VnxError("connect", "host %s to storage group %s" % (want.host, want.group),
                           "the host is connected to storage group %s, which holds the LUNs with ids %s; a host is in one "
                           "storage group at a time, so it would lose access to them"
                           % (other.name, ", ".join(str(alu) for hlu, alu in sorted(other.hlus.items()))),
                           "Use storage_group=%s, or remove those LUNs from it first." % other.name,
                           "VNXHostInOtherStorageGroupError")
        moved_from = " (out of its empty storage group %s)" % other.name
    return Step("connect_host", "connect host %s to storage group %s%s" % (want.host, want.group, moved_from))
