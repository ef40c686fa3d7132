#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: vnx_host_access
short_description: Expose VNX LUNs or snap copies to a host through its storage group
version_added: 0.1.0
description:
  - O(state=present) puts the LUN (or a snapshot mount point, such as a snap copy or a backup mount point)
    in the host's storage group with a free host LUN number (HLU). The storage group is created and the host
    connected to it when they are missing.
  - With O(luns), one run exposes (or takes away) many LUNs, all to the same host and storage group. The group
    and the LUNs are read once, and the new LUNs get the lowest free HLUs of the group, in the order of the
    list. Every LUN is checked first; when one cannot be exposed (it does not exist, it is the private
    destination of a migration, no HLU is left for it) the task fails naming every such LUN and changes nothing.
  - A VNX host is connected to one storage group at a time. When the host is connected to another storage group
    that holds LUNs, the task fails and changes nothing (connecting it here would take those LUNs away from it);
    from an empty one it is moved.
  - The HLU is the lowest free one in the group, from 0 to 255 (storops and the Cinder driver never use 0; the
    array does, and a host then sees that LUN as its LUN 0 instead of the array's LUNZ placeholder). When a
    parallel task takes it first (the array answers "Requested Host LUN Number already in use"), the group is
    read again and another free HLU is tried, one of the lowest 32 chosen by the LUN's id, so that parallel forks
    exposing LUNs to one host do not all collide again on the next one.
  - O(access_mode) is returned in the connection facts for the host side to enforce (the seed's read-only
    volumes) - a VNX has no read-only host access of its own.
  - O(state=absent) removes the LUN from the storage group; the group and the LUN stay.
  - When the array refuses a change part way through a list, the task fails and lists in RV(actions) (and its
    message) what it did before; running it again finishes the rest.
author:
  - Storage DataMotion Team (@storage-datamotion)
extends_documentation_fragment:
  - storage.datamotion.vnx
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reads the array and reports the group it would create and the HLU it would most likely choose.
  diff_mode:
    support: full
options:
  lun:
    description:
      - Name of the LUN or snapshot mount point.
      - One of O(lun) and O(luns) is required.
    type: str
  luns:
    description:
      - Names of LUNs or snapshot mount points, each given once, to expose to (or take from) the same host and
        storage group in one run; the result is then RV(connections), one entry per LUN.
      - An empty list changes nothing and returns an empty RV(connections).
    type: list
    elements: str
    version_added: 0.3.0
  host:
    description: Name of the host, as the array knows it (its registered host name).
    type: str
    required: true
  storage_group:
    description: Name of the host's storage group. Default is O(host), as the Cinder driver names them.
    type: str
  state:
    description: Whether the LUN (each LUN of O(luns)) is in the storage group.
    type: str
    choices: [present, absent]
    default: present
  access_mode:
    description: V(rw) or V(ro); returned in RV(connection) for the host side to enforce.
    type: str
    choices: [rw, ro]
    default: rw
  connect_host:
    description:
      - Connect O(host) to the storage group when it is not connected to it yet.
      - The array connects only a host with registered initiators (C(port -list -hba) lists them); for any other
        name the task fails before anything is made, and check mode says so too.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Expose a snap copy read-only to the backup host
  storage.datamotion.vnx_host_access:
    sp_address: 192.168.1.50
    username: sysadmin
    password: "{{ vnx_password }}"
    lun: db01-backup-smp
    host: backup01
    access_mode: ro
  register: access

- name: Use the device on the host
  ansible.builtin.debug:
    msg: "/dev/disk/by-id/{{ access.connection.device_name }} ({{ access.connection.access_mode }})"

- name: Take it away again
  storage.datamotion.vnx_host_access:
    sp_address: 192.168.1.50
    username: sysadmin
    password: "{{ vnx_password }}"
    lun: db01-backup-smp
    host: backup01
    state: absent

- name: Expose ten LUNs to one host in one run
  storage.datamotion.vnx_host_access:
    sp_address: 192.168.1.50
    username: sysadmin
    password: "{{ vnx_password }}"
    luns: "{{ range(1, 11) | map('string') | map('regex_replace', '^', 'db-') | list }}"
    host: migrate01
  register: exposed

- name: The LUNs' devices on the host, in the order of luns
  ansible.builtin.debug:
    msg: "{{ exposed.connections | map(attribute='device_name') | list }}"

- name: Take them all away again
  storage.datamotion.vnx_host_access:
    sp_address: 192.168.1.50
    username: sysadmin
    password: "{{ vnx_password }}"
    luns: "{{ range(1, 11) | map('string') | map('regex_replace', '^', 'db-') | list }}"
    host: migrate01
    state: absent
"""

RETURN = r"""
connection:
  description: How the host reaches the LUN; empty with O(state=absent).
  returned: with O(lun)
  type: dict
  contains:
    hlu:
      description: Host LUN number; null in check mode when the LUN is not in the group yet.
      type: int
    hlu_planned:
      description: In check mode, the HLU that is free now and would most likely be chosen.
      type: int
    lun_id:
      description: The array's LUN number (ALU).
      type: int
    wwn:
      description: The LUN's WWN.
      type: str
    device_name:
      description: Name of the LUN's link in C(/dev/disk/by-id) on a Linux host, C(wwn-0x) and the WWN in lower case without colons.
      type: str
    storage_group:
      description: Name of the storage group.
      type: str
    host:
      description: Name of the host.
      type: str
    access_mode:
      description: V(rw) or V(ro), for the host side to enforce.
      type: str
  sample:
    hlu: 1
    lun_id: 4100
    wwn: "60:06:01:60:AA:BB:00:00:11:22:33:44:55:66:77:01"
    device_name: wwn-0x60060160aabb00001122334455667701
    storage_group: backup01
    host: backup01
    access_mode: ro
connections:
  description:
    - With O(luns), how the host reaches each LUN, in the order of O(luns); each entry has the keys of RV(connection)
      and C(added), whether this run added the LUN to the group (in check mode, would add it).
    - Empty with O(state=absent).
  returned: with O(luns)
  type: list
  elements: dict
  version_added: 0.3.0
  sample:
    - hlu: 0
      lun_id: 21
      wwn: "60:06:01:60:AA:BB:00:00:11:22:33:44:55:66:00:15"
      device_name: wwn-0x60060160aabb00001122334455660015
      storage_group: migrate01
      host: migrate01
      access_mode: rw
      added: true
    - hlu: 1
      lun_id: 22
      wwn: "60:06:01:60:AA:BB:00:00:11:22:33:44:55:66:00:16"
      device_name: wwn-0x60060160aabb00001122334455660016
      storage_group: migrate01
      host: migrate01
      access_mode: rw
      added: false
actions:
  description:
    - What the task did (in check mode, would do), in order.
    - With O(luns), when the task fails, what it did before the failure (empty when it refused before acting).
  returned: always
  type: list
  elements: str
diff:
  description:
    - The LUN's HLU in the group before and after (C(hlu)).
    - With O(luns), each LUN's HLU by its name (C(hlus)).
  returned: when diff mode is on
  type: dict
"""

from ansible_collections.storage.datamotion.plugins.module_utils.vnx.access import AccessWanted, plan_access, read_access
from ansible_collections.storage.datamotion.plugins.module_utils.vnx.common import VnxModule
from ansible_collections.storage.datamotion.plugins.module_utils.vnx.plan import Plan
from ansible_collections.storage.datamotion.plugins.module_utils.vnx.client import StorageGroup, Unchanged, VnxError


def device_name(wwn):
    return "wwn-0x%s" % wwn.replace(":", "").lower() if wwn else None


def remove(client, group_name, lun, attempts=3):
    """Remove LUN ``lun`` from the group, at the HLU that holds it when the group is read again.

    -removehlu removes whatever LUN holds the HLU, and a parallel task may have removed this LUN and
    given its HLU to another LUN since the plan's read: so the group is read again right before, and
    only an HLU that still holds this LUN (its id, the id still of this LUN's WWN) is removed. A LUN
    no longer in the group was removed by someone else: no change.
    """
    for dummy in range(attempts):
        now = client.get_storage_group(group_name)
        hlu = now.hlu_of(lun.id) if now is not None else None
        if hlu is None:
            return Unchanged("VNXDetachAluNotFoundError")
        current = client.get_lun(lun_id=lun.id)
        if current is None or (lun.wwn and current.wwn and current.wwn != lun.wwn):
            return Unchanged("VNXLunNotFoundError")  # deleted meanwhile: its id in the group is another LUN's
        answer = client.remove_hlu(group_name, hlu)
        if answer is None:
            return None
        # "not in the group": a parallel task changed it between the read and the removal; read again
    raise VnxError("remove", "LUN %s from storage group %s" % (lun.name, group_name),
                   "the group changed under every one of %d attempts" % attempts,
                   "Parallel tasks change the group: run the task again.", "VNXStorageGroupError")


def apply_step(client, want, step, found):
    """Run one planned step; an Unchanged answer: a parallel task did it already."""
    if step.kind == "remove_lun":
        return remove(client, want.group, step.lun)
    if step.kind == "create_group":
        answer = client.create_storage_group(want.group)  # None: made by this task; Unchanged: by a parallel one
        found["created"] = answer is None
        return answer
    if step.kind == "connect_host":
        if not found.get("created"):
            # a parallel task may have connected it since the read: then this one changes nothing
            now = client.get_storage_group(want.group)
            if now is not None and want.host in now.hosts:
                return Unchanged("host connected")
        try:
            return client.connect_host(want.group, want.host)
        except VnxError as err:
            if found.get("created"):
                # leave nothing half done: the group this task made goes again
                client.destroy_storage_group(want.group)
                err.hint = (err.hint or "") + " (The storage group this task created was removed again.)"
            raise
    # add_lun: a group made by this task is empty; a parallel writer is caught by the retry. The group as
    # this task knows it goes on to the next LUN: the next lowest free HLU, read again after a collision.
    group = found.get("group") or StorageGroup(name=want.group)
    found["hlus"][step.lun.id], added, found["group"] = client.attach_to_storage_group(group, step.lun)
    return None if added else Unchanged("LUN in the group")


def connection_of(lun, hlu, want, access_mode):
    return dict(hlu=hlu, lun_id=lun.id, wwn=lun.wwn, device_name=device_name(lun.wwn),
                storage_group=want.group, host=want.host, access_mode=access_mode)


def expose(module, client, want):
    """Every LUN of the list in one run: one read of the group and of the LUNs, one plan.

    Option lun is a list of one: its result is RV(connection) and its diff the LUN's C(hlu).
    """
    p = module.params
    plan = Plan()
    found = {}
    try:
        facts = read_access(client, want)
        # read now: adding a LUN updates the group that facts holds
        before = dict((n, facts.hlu(n)) for n in want.luns)
        steps, planned = plan_access(facts, want)
        for step in steps:
            plan.add(step.text, lambda step=step: apply_step(client, want, step, found))
        found.update(hlus=dict((lun.id, facts.hlu(n)) for n, lun in facts.luns.items() if lun), group=facts.group)
        plan.apply(module.check_mode)
    except VnxError as err:
        # what was done (a re-run finishes the rest); nothing when the plan refused
        module.fail_on(err, actions=getattr(err, "done", []))

    hlus = dict((n, found["hlus"].get(lun.id) if lun else None) for n, lun in facts.luns.items())
    connections = []
    if want.state == "present":
        for name in want.luns:
            connection = connection_of(facts.luns[name], hlus[name], want, p["access_mode"])
            if module.check_mode and hlus[name] is None:
                connection["hlu_planned"] = planned[name]
            connections.append(connection)
    after = dict((n, (hlus[n] if hlus[n] is not None else planned[n]) if want.state == "present" else None)
                 for n in want.luns)
    result = dict(changed=plan.changed, actions=plan.actions)
    if p["lun"] is not None:
        result["connection"] = connections[0] if connections else {}
        before, after = dict(hlu=before[p["lun"]]), dict(hlu=after[p["lun"]])
    else:
        for name, connection in zip(want.luns, connections):
            connection["added"] = before[name] is None
        result["connections"] = connections
        before, after = dict(hlus=before), dict(hlus=after)
    if module._diff:
        result["diff"] = dict(before=dict(storage_group=want.group, **before), after=dict(storage_group=want.group, **after))
    module.exit_json(**result)


def main():
    argument_spec = dict(
        lun=dict(type="str"),
        luns=dict(type="list", elements="str"),
        host=dict(type="str", required=True),
        storage_group=dict(type="str"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        access_mode=dict(type="str", default="rw", choices=["rw", "ro"]),
        connect_host=dict(type="bool", default=True),
    )
    module = VnxModule(argument_spec, names=dict(lun="LUN", luns="LUN", host="host", storage_group="storage group"),
                       required_one_of=[("lun", "luns")], mutually_exclusive=[("lun", "luns")])
    p = module.params
    luns = [p["lun"]] if p["lun"] is not None else p["luns"]
    twice = sorted(set(n for n in luns if luns.count(n) > 1))
    if twice:
        module.fail_json(msg="luns names %s more than once: give each LUN once. Nothing was changed." % ", ".join(twice))
    if not luns:
        module.exit_json(changed=False, actions=[], connections=[])
    want = AccessWanted(luns=tuple(luns), host=p["host"], group=p["storage_group"] or p["host"], state=p["state"],
                        connect_host=p["connect_host"])
    expose(module, module.client(), want)


if __name__ == "__main__":
    main()
