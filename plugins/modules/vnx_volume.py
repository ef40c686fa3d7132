#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: vnx_volume
short_description: Create, grow and delete pool LUNs on a Dell EMC VNX
version_added: 0.1.0
description:
  - Makes a pool LUN present with a size, provisioning and tiering policy, or absent.
  - A LUN only grows; provisioning and pool cannot be changed in place (that takes a LUN migration,
    see M(storage.datamotion.vnx_volume_clone)).
  - Deleting a LUN that still has snap copies, snapshots, a running migration or storage-group
    membership fails with a message that names them, unless O(force=true). Snapshots that
    M(storage.datamotion.vnx_snapshot_manage) manages, and a consistency group's snapshots that also hold other
    LUNs, are never deleted here, with or without O(force).
  - Deleting a snap copy also deletes the snapshot that M(storage.datamotion.vnx_volume_clone) made for it.
  - O(consistency_group) puts the LUN in a consistency group (created if missing). A snap copy (snapshot mount
    point) cannot be a member (a VNX limitation) - the task fails before changing anything. Deleting a member of a
    consistency group fails naming the group unless O(force=true), which removes it from the group first.
  - With O(luns), one run converges many LUNs (created, grown, deleted, each as its entry says). The array is read
    once for all of them (one listing of the LUNs, of the snapshots, pools, groups and migrations as needed) and every
    LUN is planned before any change; when one cannot be brought to what its entry asks, the task fails naming every
    such LUN and changes nothing. Thick LUNs created or grown in one pool count against its space together.
  - When the array refuses a change part way through O(luns), the task fails and lists in RV(actions_done) (and its
    message) what it did before; running it again finishes the rest.
author:
  - Storage DataMotion Team (@storage-datamotion)
extends_documentation_fragment:
  - storage.datamotion.vnx
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reads the array and reports the actions it would take, and the errors it would raise.
  diff_mode:
    support: full
options:
  name:
    description:
      - Name of the LUN.
      - One of O(name) and O(luns) is required.
    type: str
  luns:
    description:
      - LUNs to converge in one run, each given once; the result is then RV(luns), one entry per LUN.
      - Each entry takes O(name) and, optionally, O(state), O(pool), O(size_gb), O(provisioning), O(tiering),
        O(force) and O(consistency_group); what an entry leaves out is the task's option of that name.
      - An empty list changes nothing and returns an empty RV(luns).
      - Not with O(new_name).
    type: list
    elements: dict
    version_added: 0.3.0
    suboptions:
      name:
        description: Name of the LUN.
        type: str
        required: true
      state:
        description: Whether the LUN exists. Default is the task's O(state).
        type: str
        choices: [present, absent]
      pool:
        description: Storage pool of the LUN, as O(pool).
        type: str
      size_gb:
        description: Size in GB, as O(size_gb).
        type: int
      provisioning:
        description: V(thin) or V(thick), as O(provisioning).
        type: str
        choices: [thin, thick]
      tiering:
        description: FAST VP tiering policy, as O(tiering).
        type: str
        choices: [start_high_then_auto, auto, highest_available, lowest_available, no_movement]
      force:
        description: As O(force). Default is the task's O(force).
        type: bool
      consistency_group:
        description: As O(consistency_group).
        type: str
  state:
    description: Whether the LUN exists (with O(luns), each LUN whose entry does not say).
    type: str
    choices: [present, absent]
    default: present
  pool:
    description:
      - Storage pool of the LUN. Required to create it; for an existing LUN it must be the LUN's pool.
    type: str
  size_gb:
    description:
      - Size in GB (the array's C(-sq gb)). Required to create the LUN. A larger size expands an existing LUN;
        a smaller one is an error.
    type: int
  provisioning:
    description:
      - V(thin) or V(thick) (the array's C(Thin) and C(NonThin)). Default for a new LUN is V(thick).
        An existing LUN with other provisioning is an error.
    type: str
    choices: [thin, thick]
  tiering:
    description: FAST VP tiering policy. Changed in place on an existing LUN.
    type: str
    choices: [start_high_then_auto, auto, highest_available, lowest_available, no_movement]
  force:
    description:
      - With O(state=absent), remove what keeps the LUN from being deleted, in order - cancel its migration,
        remove it from its consistency group and storage groups, delete its snap copies (snapshot mount points)
        and its unmanaged snapshots - then delete it. Managed snapshots, and snapshots that also hold other LUNs
        (a consistency group's snapshot), still make the task fail.
    type: bool
    default: false
  consistency_group:
    description:
      - Name of the consistency group the LUN is a member of (its snapshots can be taken together with the other
        members'). The group is created if missing. A LUN in another group is moved (removed from it, then added).
      - Omitted, the LUN's membership is left as it is. An empty string V('') means the LUN is in no group
        (it is removed from its group, which stays).
      - A snap copy (snapshot mount point) cannot be a member - a VNX limitation; convert it into a full copy
        first (M(storage.datamotion.vnx_volume_clone) O(storage.datamotion.vnx_volume_clone#module:copy_mode=full)).
      - Ignored with O(state=absent).
    type: str
    version_added: 0.2.0
  new_name:
    description:
      - Rename the LUN O(name) to this name (the array's C(lun -modify -newName)). Other options then apply to the
        renamed LUN.
      - When no LUN is named O(name) and one is named O(new_name), the rename is taken as done (a re-run changes
        nothing). When both names are taken, the task fails and changes nothing; when neither is, it fails too
        (a LUN is renamed, not created, under O(new_name)).
      - Only with O(state=present).
    type: str
    version_added: 0.3.0
"""

EXAMPLES = r"""
- name: Three thin LUNs of 2 GB in Pool0 in one run
  storage.datamotion.vnx_volume:
    sp_address: 192.168.1.50
    username: sysadmin
    password: "{{ vnx_password }}"
    luns: [{name: mig-dest-1}, {name: mig-dest-2}, {name: mig-dest-3}]
    pool: Pool0
    size_gb: 2
    provisioning: thin
  register: made

- name: Delete two snap copies and grow a LUN in one run
  storage.datamotion.vnx_volume:
    sp_address: 192.168.1.50
    username: sysadmin
    password: "{{ vnx_password }}"
    luns:
      - {name: db01-migsnap, state: absent}
      - {name: db02-migsnap, state: absent}
      - {name: db03, size_gb: 200}

- name: A 100 GB thin LUN in Pool0
  storage.datamotion.vnx_volume:
    sp_address: 192.168.1.50
    username: sysadmin
    password: "{{ vnx_password }}"
    name: db01
    pool: Pool0
    size_gb: 100
    provisioning: thin

- name: Grow it, with the connection set once for the vnx group
  module_defaults:
    group/storage.datamotion.vnx:
      sp_address: 192.168.1.50
      username: sysadmin
      password: "{{ vnx_password }}"
  storage.datamotion.vnx_volume:
    name: db01
    size_gb: 200

- name: A LUN in consistency group db-cg (created if missing)
  storage.datamotion.vnx_volume:
    sp_address: 192.168.1.50
    username: sysadmin
    password: "{{ vnx_password }}"
    name: db01-log
    pool: Pool0
    size_gb: 20
    consistency_group: db-cg

- name: Rename LUN db01-new to db01 (a re-run, once it is renamed, changes nothing)
  storage.datamotion.vnx_volume:
    sp_address: 192.168.1.50
    username: sysadmin
    password: "{{ vnx_password }}"
    name: db01-new
    new_name: db01

- name: Delete a LUN with its snap copies and unmanaged snapshots
  storage.datamotion.vnx_volume:
    sp_address: 192.168.1.50
    username: sysadmin
    password: "{{ vnx_password }}"
    name: scratch01
    state: absent
    force: true
"""

RETURN = r"""
lun:
  description: The LUN after the task (before it, in check mode); empty when it does not exist.
  returned: with O(name)
  type: dict
  sample:
    id: 12
    name: db01
    wwn: "60:06:01:60:AA:BB:00:00:11:22:33:44:55:66:77:01"
    pool: Pool0
    size_gb: 100.0
    provisioning: thin
    is_snap_mount_point: false
    primary_lun: null
    attached_snapshot: null
    snapshot_mount_points: []
    consistency_group: db-cg
is_snap_copy:
  description: Whether the LUN is a snap copy (a snapshot mount point), and C(primary_lun) the LUN it copies.
  returned: with O(name)
  type: bool
luns:
  description:
    - With O(luns), each LUN in the order of O(luns) - C(name), C(lun) and C(is_snap_copy) as RV(lun) and
      RV(is_snap_copy) for O(name), and C(actions), what the task did (would do) to that LUN.
  returned: with O(luns)
  type: list
  elements: dict
  version_added: 0.3.0
  sample:
    - name: mig-dest-1
      lun: {id: 21, name: mig-dest-1, pool: Pool0, size_gb: 2.0, provisioning: thin}
      is_snap_copy: false
      actions: ["create LUN mig-dest-1 (2 GB, thin) in pool Pool0"]
actions:
  description: What the task did (in check mode, would do), in order.
  returned: always
  type: list
  elements: str
  sample: ["create LUN db01 (100 GB, thin) in pool Pool0", "rename LUN db01-new to db01"]
actions_done:
  description: When the task failed, what it did before the failure (the message names it too).
  returned: on failure
  type: list
  elements: str
diff:
  description: The LUN before and after, with O(ignore:diff) mode on; with O(luns), each LUN's by its name (C(luns)).
  returned: when diff mode is on
  type: dict
"""

from ansible_collections.storage.datamotion.plugins.module_utils.vnx.common import VnxModule, converge
from ansible_collections.storage.datamotion.plugins.module_utils.vnx.plan import Plan
from ansible_collections.storage.datamotion.plugins.module_utils.vnx.client import ReadOnce, VnxError
from ansible_collections.storage.datamotion.plugins.module_utils.vnx.volume import (
    VolumeWanted, plan_volumes, read_volumes, renamed)


def apply_step(client, step):
    """Run one planned step (the answer of the array's command)."""
    o, lun = step.options, step.lun
    if step.kind == "create_lun":
        return client.create_lun(o["pool"], o["name"], o["size_gb"], o["provisioning"], o["tiering"])
    if step.kind == "expand_lun":
        return client.expand_lun(lun, o["size_gb"])
    if step.kind == "set_tiering":
        return client.set_tiering(lun, o["tiering"])
    if step.kind == "rename_lun":
        return client.rename_lun(lun, o["new_name"])
    if step.kind == "join_group":
        member = lun or client.get_lun(name=o["name"])  # a LUN this run created: its id now
        return client.join_consistency_group(o["group"], member, create=o["create"])
    if step.kind == "leave_group":
        return client.remove_from_consistency_group(o["group"], lun)
    if step.kind == "cancel_migration":
        return client.cancel_migration(lun)
    if step.kind == "remove_hlu":
        return client.remove_hlu(o["group"], o["hlu"])
    if step.kind == "destroy_snapshot":
        return client.destroy_snapshot(o["name"])
    return client.destroy_lun(lun, force_detach=o["force_detach"])


def converge_luns(module, client, wants):
    """Read, plan and apply every LUN of ``wants``; for each, in order, dict(plan, before, after).

    One LUN is read and read again with the client's reads of that LUN; more with one listing of each kind.
    """
    luns = []

    def attempt():
        del luns[:]
        reader = client if len(wants) == 1 else ReadOnce(client)
        facts = read_volumes(reader, wants)
        for f, want, (steps, after) in zip(facts, wants, plan_volumes(facts, wants)):
            lun = renamed(f, want)
            luns.append(dict(plan=Plan(), before=lun.facts() if lun else None, after=after))
            for step in steps:
                luns[-1]["plan"].add(step.text, lambda step=step: apply_step(client, step))
        done = []
        for entry in luns:
            try:
                entry["plan"].apply(module.check_mode)
            except VnxError as err:
                err.done = done + err.done  # and what the LUNs before this one had done
                raise
            done += entry["plan"].actions
        reader = client if len(wants) == 1 else ReadOnce(client)
        for want, entry in zip(wants, luns):
            if entry["plan"].changed and not module.check_mode and want.state == "present":
                final = reader.get_lun(name=want.new_name or want.name)
                if final is not None:
                    group = reader.group_of(final)
                    final.consistency_group = group.name if group else None
                entry["after"] = final.facts() if final else None
        return luns

    try:
        return converge(module, attempt)
    except VnxError as err:
        module.fail_on(err, actions=getattr(err, "planned", None) or [a for entry in luns for a in entry["plan"].actions])


TIERINGS = ["start_high_then_auto", "auto", "highest_available", "lowest_available", "no_movement"]
ITEM_OPTIONS = ("state", "pool", "size_gb", "provisioning", "tiering", "force", "consistency_group")


def blank(name, empty_allowed=False):
    """A name given blank or on several lines ('' where it has a meaning of its own is not blank)."""
    if name is None:
        return False
    return "\n" in name or "\r" in name or (not name.strip() and not (empty_allowed and name == ""))


def wanted(module):
    """The VolumeWanted of each LUN: O(name), or each of O(luns) with the task's options as its defaults."""
    p = module.params
    if p["luns"] is None:
        return [VolumeWanted(**dict((k, p[k]) for k in ("name", "new_name") + ITEM_OPTIONS))]
    names = [item["name"] for item in p["luns"]]
    for item in p["luns"]:
        if blank(item["name"]) or blank(item["consistency_group"], empty_allowed=True):
            module.fail_json(msg="luns: LUN %r has a blank name or consistency_group, or one on several lines: give them as "
                                 "the VNX knows them. Nothing was changed." % item["name"])
    twice = sorted(set(n for n in names if names.count(n) > 1))
    if twice:
        module.fail_json(msg="luns names %s more than once: give each LUN once. Nothing was changed." % ", ".join(twice))
    return [VolumeWanted(name=item["name"], **dict((k, p[k] if item[k] is None else item[k]) for k in ITEM_OPTIONS))
            for item in p["luns"]]


def main():
    item = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"]),
        pool=dict(type="str"),
        size_gb=dict(type="int"),
        provisioning=dict(type="str", choices=["thin", "thick"]),
        tiering=dict(type="str", choices=TIERINGS),
        force=dict(type="bool"),
        consistency_group=dict(type="str"),
    )
    argument_spec = dict(
        name=dict(type="str"),
        luns=dict(type="list", elements="dict", options=item),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        pool=dict(type="str"),
        size_gb=dict(type="int"),
        provisioning=dict(type="str", choices=["thin", "thick"]),
        tiering=dict(type="str", choices=TIERINGS),
        force=dict(type="bool", default=False),
        consistency_group=dict(type="str"),
        new_name=dict(type="str"),
    )
    module = VnxModule(argument_spec, names=dict(name="LUN", consistency_group="consistency group", new_name="new LUN name"),
                       empty_allowed=("consistency_group",), required_one_of=[("name", "luns")],
                       mutually_exclusive=[("name", "luns"), ("luns", "new_name")])
    p = module.params
    if p["state"] == "absent" and p["new_name"]:
        module.fail_json(msg="new_name renames a LUN, it is only for state=present (LUN %s)" % p["name"])
    wants = wanted(module)
    if not wants:
        module.exit_json(changed=False, actions=[], luns=[])
    luns = converge_luns(module, module.client(), wants)
    report = [dict(name=want.name, lun=entry["after"] or {}, is_snap_copy=bool((entry["after"] or {}).get("is_snap_mount_point")),
                   actions=entry["plan"].actions) for want, entry in zip(wants, luns)]
    result = dict(changed=any(entry["plan"].changed for entry in luns), actions=[a for r in report for a in r["actions"]])
    if p["luns"] is None:
        result.update(lun=report[0]["lun"], is_snap_copy=report[0]["is_snap_copy"])
        diff = dict(before=luns[0]["before"] or {}, after=luns[0]["after"] or {})
    else:
        result.update(luns=report)
        diff = dict((k, dict(luns=dict((want.name, entry[k] or {}) for want, entry in zip(wants, luns)))) for k in ("before", "after"))
    if module._diff:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
