# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan of vnx_host_access: from what was read and what is wanted to the steps, without I/O.

``read_access`` reads the facts the plan needs (and only those); ``plan_access`` turns them and
the wanted state into steps or refuses with a VnxError; the module applies the steps. One LUN is
a list of one: one read of the group and one of the LUNs, and HLUs for all the new LUNs planned at once.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from ansible_collections.storage.datamotion.plugins.module_utils.vnx.client import (
    HLU_RANGE, Lun, StorageGroup, VnxError)


@dataclass(frozen=True)
class AccessWanted:
    """LUNs exposed to (or taken from) one host's storage group."""
    luns: Tuple[str, ...]
    host: str
    group: str
    state: str = "present"
    connect_host: bool = True


@dataclass
class AccessFacts:
    """What the array holds for an AccessWanted; ``None`` lists were not needed, so not read."""
    luns: Dict[str, Optional[Lun]]                   # by name: None for a LUN that does not exist
    group: Optional[StorageGroup]
    groups: Optional[List[StorageGroup]] = None      # every storage group (read to find the host's)
    registered_hosts: Optional[List[str]] = None     # hosts with registered initiators
    migrating_into: Dict[int, str] = field(default_factory=dict)  # LUN id -> the LUN whose migration targets it

    def hlu(self, name):
        """The HLU of LUN ``name`` in the group, or None."""
        lun = self.luns.get(name)
        return self.group.hlu_of(lun.id) if self.group is not None and lun is not None else None


@dataclass(frozen=True)
class Step:
    """One change: ``kind`` is create_group, connect_host, add_lun or remove_lun; ``lun`` the LUN added or removed."""
    kind: str
    text: str
    hlu: Optional[int] = None
    lun: Optional[Lun] = None


def needs_connect(facts, want):
    return want.state == "present" and want.connect_host and (facts.group is None or want.host not in facts.group.hosts)


def needs_add(facts, want):
    """The names of the LUNs that exist and are not in the group yet, in the order wanted."""
    if want.state != "present":
        return []
    return [n for n in want.luns if facts.luns[n] is not None and facts.hlu(n) is None]


def read_access(client, want):
    """The facts ``plan_access`` needs for ``want``: one read of the LUNs (one list of every LUN for
    more than one), one of the group, the migrations only when a LUN is to be added, the other groups and
    the registered hosts only when the host is to be connected (and every LUN exists)."""
    if len(want.luns) == 1:
        found = {want.luns[0]: client.get_lun(name=want.luns[0])}
    else:
        by_name = dict((lun.name, lun) for lun in client.list_luns())
        found = dict((n, by_name.get(n)) for n in want.luns)
    facts = AccessFacts(luns=found, group=client.get_storage_group(want.group))
    if needs_connect(facts, want) and all(lun is not None for lun in found.values()):
        facts.groups = client.list_storage_groups()
        facts.registered_hosts = client.list_registered_hosts()
    if needs_add(facts, want):
        facts.migrating_into = dict((m.dest_id, m.source_name) for m in client.list_migrations())
    return facts


def plan_access(facts, want):
    """(steps, {LUN name: HLU it has or is planned to get}) that bring the array from ``facts`` to ``want``.

    Every LUN is checked before any step is planned: one VnxError names every LUN that cannot be exposed
    (missing, a migration's private destination, no free HLU left for it), so nothing is changed.
    The new LUNs get the lowest free HLUs of the group as read, in the order of ``want.luns``.
    """
    if want.state == "absent":
        steps = [Step("remove_lun", "remove LUN %s (HLU %s) from storage group %s"
                      % (facts.luns[n].name, facts.hlu(n), want.group), facts.hlu(n), facts.luns[n])
                 for n in want.luns if facts.hlu(n) is not None]
        return steps, {}
    adding = needs_add(facts, want)
    missing = [n for n in want.luns if facts.luns[n] is None]
    private = [n for n in adding if facts.luns[n].id in facts.migrating_into]
    adding = [n for n in adding if n not in private]
    free = [h for h in HLU_RANGE if facts.group is None or h not in facts.group.hlus]
    problems = (facts, want, missing, private, adding[len(free):], len(free), len(adding))
    if missing:  # before the host's checks: its facts were not read
        refuse(*problems)
    steps = []
    if facts.group is None:
        steps.append(Step("create_group", "create storage group %s" % want.group))
    if needs_connect(facts, want):
        steps.append(plan_connect(facts, want))
    refuse(*problems)
    planned = dict((n, facts.hlu(n)) for n in want.luns)
    for name, hlu in zip(adding, free):
        steps.append(Step("add_lun", "add LUN %s to storage group %s with a free HLU" % (facts.luns[name].name, want.group),
                          hlu, facts.luns[name]))
        planned[name] = hlu
    return steps, planned


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


def refuse(facts, want, missing, private, without_hlu, free, adding):
    """Raise one VnxError that names every LUN that cannot be exposed, or return when there is none.

    ``without_hlu``: the LUNs left without an HLU when the ``free`` ones go to the ``adding`` LUNs."""
    if not (missing or private or without_hlu):
        return
    if len(want.luns) == 1:
        refuse_one(facts, want, bool(missing), free)
    problems, hints, kinds = [], [], []
    if missing:
        problems.append("%s %s not exist" % (_luns(missing), "does" if len(missing) == 1 else "do"))
        hints.append("Check the LUN names (vnx_info lists the LUNs).")
        kinds.append("VNXLunNotFoundError")
    for name in private:
        source = facts.migrating_into[facts.luns[name].id]
        problems.append("LUN %s is the destination of the migration of LUN %s, a private LUN a host cannot use"
                        % (name, source))
        hints.append("Expose LUN %s instead of %s (it becomes that LUN's data when the migration completes)."
                     % (source, name))
        kinds.append("VNXLunPrivateError")
    if without_hlu:
        problems.append("no free host LUN number (HLU) is left for %s (the group has %d free for the %d LUNs to add)"
                        % (_luns(without_hlu), free, adding))
        hints.append("Remove unused LUNs from the storage group, or expose fewer LUNs in one task.")
        kinds.append("VNXNoHluAvailableError")
    raise VnxError("expose", "%d LUNs to host %s (storage group %s)" % (len(want.luns), want.host, want.group),
                   "; ".join(problems), " ".join(hints) + " Nothing was changed.", kinds[0])


def refuse_one(facts, want, missing, free):
    """The refusal of a list of one LUN: the LUN is missing, or no HLU is free, or it is private."""
    name = want.luns[0]
    if missing:
        raise VnxError("expose", "LUN %s to host %s" % (name, want.host), "the LUN does not exist",
                       "Check the LUN name (vnx_info lists the LUNs).", "VNXLunNotFoundError")
    where = "LUN %s to storage group %s" % (facts.luns[name].name, want.group)
    if not free:
        raise VnxError("add", where, "no free host LUN number (HLU) is left in the group",
                       "Remove unused LUNs from the storage group.", "VNXNoHluAvailableError")
    source = facts.migrating_into[facts.luns[name].id]
    raise VnxError("add", where, "it is the destination of the migration of LUN %s, a private LUN a host cannot use"
                   % source, "Expose LUN %s instead (it becomes this LUN's data when the migration completes)." % source,
                   "VNXLunPrivateError")


def _luns(names):
    return ("LUN %s" if len(names) == 1 else "LUNs %s") % ", ".join(names)
