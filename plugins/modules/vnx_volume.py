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
    description: Name of the LUN.
    type: str
    required: true
  state:
    description: Whether the LUN exists.
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
  returned: always
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
  returned: always
  type: bool
actions:
  description: What the task did (in check mode, would do), in order.
  returned: always
  type: list
  elements: str
  sample: ["create LUN db01 (100 GB, thin) in pool Pool0", "rename LUN db01-new to db01"]
diff:
  description: The LUN before and after, with O(ignore:diff) mode on.
  returned: when diff mode is on
  type: dict
"""

from ansible_collections.storage.datamotion.plugins.module_utils.vnx.common import VnxModule, converge
from ansible_collections.storage.datamotion.plugins.module_utils.vnx.plan import Plan
from ansible_collections.storage.datamotion.plugins.module_utils.vnx.client import VnxError
from ansible_collections.storage.datamotion.plugins.module_utils.vnx.volume import (
    VolumeWanted, plan_volume, read_volume, renamed)


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


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        pool=dict(type="str"),
        size_gb=dict(type="int"),
        provisioning=dict(type="str", choices=["thin", "thick"]),
        tiering=dict(type="str", choices=["start_high_then_auto", "auto", "highest_available", "lowest_available",
                                          "no_movement"]),
        force=dict(type="bool", default=False),
        consistency_group=dict(type="str"),
        new_name=dict(type="str"),
    )
    module = VnxModule(argument_spec, names=dict(name="LUN", consistency_group="consistency group", new_name="new LUN name"),
                       empty_allowed=("consistency_group",))
    p = module.params
    if p["state"] == "absent" and p["new_name"]:
        module.fail_json(msg="new_name renames a LUN, it is only for state=present (LUN %s)" % p["name"])
    want = VolumeWanted(**dict((k, p[k]) for k in argument_spec))
    client = module.client()
    plans = []

    def attempt():
        plan = Plan()
        plans.append(plan)
        facts = read_volume(client, want)
        steps, after = plan_volume(facts, want)
        lun = renamed(facts, want)
        before = lun.facts() if lun else None
        for step in steps:
            plan.add(step.text, lambda step=step: apply_step(client, step))
        plan.apply(module.check_mode)
        if plan.changed and not module.check_mode and want.state == "present":
            final = client.get_lun(name=want.new_name or want.name)
            if final is not None:
                group = client.group_of(final)
                final.consistency_group = group.name if group else None
            after = final.facts() if final else None
        return plan, before, after

    try:
        plan, before, after = converge(module, attempt)
    except VnxError as err:
        module.fail_on(err, actions=getattr(err, "planned", None) or plans[-1].actions)
    result = dict(changed=plan.changed, actions=plan.actions, lun=after or {},
                  is_snap_copy=bool(after and after.get("is_snap_mount_point")))
    if module._diff:
        result["diff"] = dict(before=before or {}, after=after or {})
    module.exit_json(**result)


if __name__ == "__main__":
    main()
