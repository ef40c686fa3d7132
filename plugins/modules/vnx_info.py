#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: vnx_info
short_description: Read LUNs, snapshots, mount points, migrations, storage groups and pools of a Dell EMC VNX
version_added: 0.1.0
description:
  - Returns what the array holds, and what this collection manages on it - snap copies, full copies whose
    migration still runs, and the snapshots taken under management by M(storage.datamotion.vnx_snapshot_manage).
  - Each subset costs one C(naviseccli) call or two; ask only for what you need with O(gather_subset).
author:
  - Storage DataMotion Team (@storage-datamotion)
extends_documentation_fragment:
  - storage.datamotion.vnx
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The module only reads.
  diff_mode:
    support: none
options:
  gather_subset:
    description:
      - What to read. V(all) reads everything.
      - V(consistency_groups) (new in 0.2.0) lists the consistency groups with their members; V(luns) then also
        says each LUN's group.
    type: list
    elements: str
    choices: [all, system, pools, luns, snapshots, migrations, storage_groups, consistency_groups, managed]
    default: [all]
"""

EXAMPLES = r"""
- name: Everything
  storage.datamotion.vnx_info:
    sp_address: 192.168.1.50
    username: sysadmin
    password: "{{ vnx_password }}"
  register: vnx

- name: Running migrations only
  storage.datamotion.vnx_info:
    sp_address: 192.168.1.50
    username: sysadmin
    password: "{{ vnx_password }}"
    gather_subset: [migrations]
  register: vnx

- name: Show migration progress
  ansible.builtin.debug:
    msg: "{{ item.source_name }}: {{ item.percent_complete }}%"
  loop: "{{ vnx.migrations }}"
"""

RETURN = r"""
system:
  description: The array's serial number, model and revision.
  returned: when O(gather_subset) has V(system) or V(all)
  type: dict
  sample: {address: 192.168.1.50, serial: CETV0000TEST1, model: VNX5400, revision: 05.33.009.5.218}
pools:
  description: Storage pools with capacities in GB.
  returned: when O(gather_subset) has V(pools) or V(all)
  type: list
  elements: dict
luns:
  description:
    - Pool LUNs and snapshot mount points (C(is_snap_mount_point)), with C(primary_lun) and C(attached_snapshot).
    - C(size_bytes) is the LUN's exact size (its blocks of 512 bytes); C(size_gb) is rounded to three decimals.
    - C(consistency_group) is the LUN's consistency group (null for none), read when O(gather_subset) also has
      V(consistency_groups) or V(all), else null.
    - C(statistics) holds the array's I/O counters of the LUN (C(read_requests), C(write_requests), C(blocks_read),
      C(blocks_written), C(busy_ticks), C(idle_ticks), C(sum_of_outstanding_requests),
      C(non_zero_request_count_arrivals), C(implicit_trespasses), C(explicit_trespasses)), C(tier_distribution) the
      percent of its data in each tier (C(extreme_performance), C(performance), C(capacity)), C(deduplication) its
      deduplication state; each is empty (or null) when the array does not print it.
  returned: when O(gather_subset) has V(luns) or V(all)
  type: list
  elements: dict
consistency_groups:
  description: Consistency groups, each with C(name), C(state), C(lun_ids) and C(lun_names) (its members).
  returned: when O(gather_subset) has V(consistency_groups) or V(all)
  type: list
  elements: dict
  sample: [{name: db-cg, state: Ready, lun_ids: [3, 7], lun_names: [db01, db01-log]}]
  version_added: 0.2.0
snapshots:
  description: Snapshots, each with C(managed) telling whether this collection manages it.
  returned: when O(gather_subset) has V(snapshots) or V(all)
  type: list
  elements: dict
migrations:
  description: Running LUN migrations with their state and progress in percent.
  returned: when O(gather_subset) has V(migrations) or V(all)
  type: list
  elements: dict
storage_groups:
  description: Storage groups with their hosts and C(hlus), a map of HLU to LUN id.
  returned: when O(gather_subset) has V(storage_groups) or V(all)
  type: list
  elements: dict
managed:
  description:
    - What this collection manages - C(snapshots) (names of managed snapshots), C(snap_copies) (name ->
      source LUN and snapshot), C(migrating_copies) (full copies of M(storage.datamotion.vnx_volume_clone) whose
      migration runs, name -> percent; only those whose temporary snapshot records the copy and its migration
      target, so an administrator's migrations are in C(migrations) only, whatever their names).
  returned: when O(gather_subset) has V(managed) or V(all)
  type: dict
"""

from ansible_collections.storage.datamotion.plugins.module_utils.vnx.common import VnxModule
from ansible_collections.storage.datamotion.plugins.module_utils.vnx.client import VnxError, with_groups

SUBSETS = ["system", "pools", "luns", "snapshots", "migrations", "storage_groups", "consistency_groups", "managed"]


def gather(client, subsets):
    result = {}
    cache = {}

    def luns():
        if "luns" not in cache:
            cache["luns"] = client.list_luns()
        return cache["luns"]

    def snapshots():
        if "snapshots" not in cache:
            cache["snapshots"] = client.list_snapshots()
        return cache["snapshots"]

    def migrations():
        if "migrations" not in cache:
            cache["migrations"] = client.list_migrations()
        return cache["migrations"]

    if "system" in subsets:
        result["system"] = client.get_system().facts()
    if "pools" in subsets:
        result["pools"] = [p.facts() for p in client.list_pools()]
    if "consistency_groups" in subsets:
        groups = client.list_consistency_groups()
        with_groups(luns(), groups)
        result["consistency_groups"] = [g.facts() for g in groups]
    if "luns" in subsets:
        result["luns"] = [lun.facts() for lun in luns()]
    if "snapshots" in subsets:
        result["snapshots"] = [s.facts() for s in snapshots()]
    if "migrations" in subsets:
        result["migrations"] = [m.facts() for m in migrations()]
    if "storage_groups" in subsets:
        result["storage_groups"] = [g.facts() for g in client.list_storage_groups()]
    if "managed" in subsets:
        result["managed"] = dict(
            snapshots=sorted(s.name for s in snapshots() if s.managed),
            snap_copies=dict((lun.name, dict(source=lun.primary_lun, snapshot=lun.attached_snapshot))
                             for lun in luns() if lun.is_snap_mount_point),
            migrating_copies=dict((m.source_name, m.percent_complete) for m in migrations()
                                  if copy_migration(m, luns(), snapshots())),
        )
    return result


def copy_migration(migration, luns, snapshots):
    """Whether vnx_volume_clone started this migration: its source is a mount point whose snapshot records
    the source and the target as the copy and the target it made (a name says nothing: anyone can name
    a LUN <copy>_dest)."""
    by_id = dict((lun.id, lun) for lun in luns)
    source, target = by_id.get(migration.source_id), by_id.get(migration.dest_id)
    if source is None or target is None or not source.is_snap_mount_point:
        return False
    snap = next((s for s in snapshots if s.name == source.attached_snapshot), None)
    return snap is not None and snap.marks_target(source.wwn, target.wwn)


def main():
    argument_spec = dict(
        gather_subset=dict(type="list", elements="str", default=["all"], choices=["all"] + SUBSETS),
    )
    module = VnxModule(argument_spec)
    client = module.client()
    wanted = module.params["gather_subset"]
    subsets = SUBSETS if "all" in wanted else wanted
    try:
        result = gather(client, subsets)
    except VnxError as err:
        module.fail_on(err)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
