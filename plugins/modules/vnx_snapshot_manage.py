#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: vnx_snapshot_manage
short_description: Snapshots of VNX LUNs - create, copy, restore, delete, and take existing ones under management
version_added: 0.1.0
description:
  - O(state=present) makes a snapshot of O(lun) (or, with O(source_snapshot), a copy of another snapshot)
    with the given options; an existing snapshot gets its options changed in place.
  - O(state=absent) deletes a snapshot. A snapshot attached to a mount point (a snap copy) is refused
    before anything is done.
  - O(state=restored) restores O(lun) to the snapshot (the LUN's data is replaced; optionally a backup
    snapshot is taken first with O(backup_snapshot)). Every run restores, so the task always reports a change.
  - O(state=managed) takes a snapshot that already exists on the array under management ("manage existing
    snapshot" of the Cinder specification) - O(lun) must exist (else a not-found error), the snapshot must exist
    and be a snapshot of O(lun) (else an invalid-reference error). The snapshot's size is returned - that of its
    LUN rounded up to whole GB, since the array keeps no size for snapshots. Management is recorded on the array,
    in the snapshot's description, so every controller sees it; M(storage.datamotion.vnx_volume) then refuses to
    delete the LUN, even with O(storage.datamotion.vnx_volume#module:force=true).
  - O(state=unmanaged) drops the snapshot from management and keeps its data.
author:
  - Storage DataMotion Team (@storage-datamotion)
extends_documentation_fragment:
  - storage.datamotion.vnx
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reads the array and reports what it would do and the errors it would raise.
  diff_mode:
    support: full
options:
  name:
    description: Name of the snapshot (snapshot names are unique on the whole array).
    type: str
    required: true
  lun:
    description:
      - Name of the LUN the snapshot is of. Required for O(state=present) (without O(source_snapshot)),
        O(state=restored) and O(state=managed); with other states, the snapshot is checked to belong to it.
    type: str
  state:
    description: What to do with the snapshot.
    type: str
    choices: [present, absent, restored, managed, unmanaged]
    default: present
  source_snapshot:
    description: With O(state=present), make O(name) as a copy of this snapshot (C(snap -copy)).
    type: str
  description:
    description:
      - Description of the snapshot. The management mark is kept apart from it.
      - "Text holding one of the marks this collection writes (C([managed-by:storage.datamotion]),
        C([storage.datamotion:copy)) is refused before acting: those marks say what the collection made or manages."
    type: str
  allow_read_write:
    description: Whether the snapshot can be attached read-write to a mount point. Default for a new snapshot is V(true).
    type: bool
  auto_delete:
    description: Whether the array may delete the snapshot when it needs space. Default for a new snapshot is V(false).
    type: bool
  keep_for:
    description:
      - Keep the snapshot for this long, then let the array delete it - a whole number and a unit, C(h) hours,
        C(d) days or C(y) years (the array's C(-keepFor), for example V(12h) or V(7d)).
      - C(m) is refused, as is a number without a unit - C(m) reads as minutes as well as months, and a
        snapshot kept for the wrong one is deleted early. Give V(60d) for about two months.
      - At most 36500 days (V(100y)); more is refused before acting.
      - Excludes O(auto_delete). Only applied when the snapshot is created or when it changes O(auto_delete).
    type: str
  backup_snapshot:
    description: With O(state=restored), name of a snapshot of the LUN's current data, taken before restoring.
    type: str
"""

EXAMPLES = r"""
- name: A nightly snapshot kept for a week
  storage.datamotion.vnx_snapshot_manage:
    sp_address: 192.168.1.50
    username: sysadmin
    password: "{{ vnx_password }}"
    name: db01-nightly
    lun: db01
    keep_for: 7d

- name: Take a snapshot that an operator made by hand under management
  storage.datamotion.vnx_snapshot_manage:
    sp_address: 192.168.1.50
    username: sysadmin
    password: "{{ vnx_password }}"
    name: before-upgrade
    lun: db01
    state: managed
  register: imported

- name: Hand it back (the data stays)
  storage.datamotion.vnx_snapshot_manage:
    sp_address: 192.168.1.50
    username: sysadmin
    password: "{{ vnx_password }}"
    name: before-upgrade
    state: unmanaged

- name: Roll db01 back, keeping what it holds now
  storage.datamotion.vnx_snapshot_manage:
    sp_address: 192.168.1.50
    username: sysadmin
    password: "{{ vnx_password }}"
    name: before-upgrade
    lun: db01
    state: restored
    backup_snapshot: db01-before-rollback
"""

RETURN = r"""
snapshot:
  description:
    - The snapshot after the task (before it, in check mode); empty when it does not exist.
    - C(modified) (new in 0.2.0) is the array's flag for a read-write snapshot written since it was taken
      (through a snapshot mount point); C(source_consistency_group) names the group of a consistency group's
      snapshot.
  returned: always
  type: dict
  sample:
    name: db01-nightly
    description: ""
    source_luns: [12]
    attached_luns: []
    allow_read_write: true
    auto_delete: false
    modified: false
    source_consistency_group: null
    managed: false
size_gb:
  description: Size of the snapshot in whole GB (that of its LUN, rounded up).
  returned: when the snapshot's LUN is known
  type: int
  sample: 10
actions:
  description: What the task did (in check mode, would do), in order.
  returned: always
  type: list
  elements: str
diff:
  description: The snapshot before and after.
  returned: when diff mode is on
  type: dict
"""

import re

from ansible_collections.storage.datamotion.plugins.module_utils.vnx.common import VnxModule, converge
from ansible_collections.storage.datamotion.plugins.module_utils.vnx.plan import Plan
from ansible_collections.storage.datamotion.plugins.module_utils.vnx.client import (
    COPY_MARK, MANAGED_MARK, VnxError, size_to_whole_gib)
from ansible_collections.storage.datamotion.plugins.module_utils.vnx.snapshot import (
    SnapshotWanted, plan_snapshot, read_snapshot)


def apply_step(client, facts, want, step):
    """Run one planned step (the answer of the array's command)."""
    if step.kind == "create":
        return client.create_snapshot(facts.lun, want.name, step.options["allow_read_write"], step.options["auto_delete"],
                                      step.options["keep_for"])
    if step.kind == "copy":
        return client.copy_snapshot(want.source_snapshot, want.name)
    if step.kind == "modify":
        return client.modify_snapshot(want.name, **step.options)
    if step.kind == "destroy":
        return client.destroy_snapshot(want.name)
    return client.restore_snapshot(want.name, facts.lun, want.backup_snapshot)


MAX_KEEP_FOR_DAYS = 36500  # -keepFor takes at most 36500 days (naviseccli-sim refuses more): refused before acting


def keep_for_days(text):
    """Days of a keep_for that passed the format check (a whole number and h, d or y)."""
    text = text.strip().lower()
    return int(text[:-1]) * {"h": 1.0 / 24, "d": 1, "y": 365}[text[-1]]


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        lun=dict(type="str"),
        state=dict(type="str", default="present", choices=["present", "absent", "restored", "managed", "unmanaged"]),
        source_snapshot=dict(type="str"),
        description=dict(type="str"),
        allow_read_write=dict(type="bool"),
        auto_delete=dict(type="bool"),
        keep_for=dict(type="str", no_log=False),
        backup_snapshot=dict(type="str"),
    )
    module = VnxModule(argument_spec, names=dict(name="snapshot", lun="LUN", source_snapshot="source snapshot",
                                                 backup_snapshot="backup snapshot"),
                       required_if=[("state", "restored", ("lun",)), ("state", "managed", ("lun",))])
    p = module.params
    if p["keep_for"] is not None and not re.match(r"^[1-9][0-9]{0,5}[hdy]$", p["keep_for"].strip().lower()):
        module.fail_json(msg="keep_for is %r: give a whole number and a unit h (hours), d (days) or y (years), such as 12h "
                             "or 7d. 'm' is refused (minutes or months?): give 60d for about two months. Nothing was "
                             "changed." % p["keep_for"])
    if p["keep_for"] is not None and keep_for_days(p["keep_for"]) > MAX_KEEP_FOR_DAYS:
        module.fail_json(msg="keep_for is %r: the array keeps a snapshot for at most %d days (100 years of 365 days). "
                             "Nothing was changed." % (p["keep_for"], MAX_KEEP_FOR_DAYS))
    # the marks tell what the collection made and may delete (or manages): a user's text never carries one
    marks = [m for m in (MANAGED_MARK, COPY_MARK[:-1]) if m in (p["description"] or "")]
    if marks:
        module.fail_json(msg="description %r holds %s, a mark this collection writes on the snapshots it makes or manages: "
                             "leave it out (state=managed records the management mark itself). Nothing was changed."
                             % (p["description"], marks[0]))
    if p["keep_for"] and p["auto_delete"]:
        module.fail_json(msg="keep_for and auto_delete=true exclude each other on a VNX snapshot: give one of them.")
    want = SnapshotWanted(**dict((k, p[k]) for k in ("name", "state", "lun", "source_snapshot", "description",
                                                     "allow_read_write", "auto_delete", "keep_for", "backup_snapshot")))
    client = module.client()
    plans = []

    def attempt():
        plan = Plan()
        plans.append(plan)
        facts = read_snapshot(client, want)
        steps, after = plan_snapshot(facts, want)
        for step in steps:
            plan.add(step.text, lambda step=step: apply_step(client, facts, want, step))
        plan.apply(module.check_mode)
        if plan.changed and not module.check_mode and want.state in ("present", "managed", "unmanaged"):
            final = client.get_snapshot(want.name)
            after = final.facts() if final else {}
        return plan, (facts.snap.facts() if facts.snap else {}), after, facts.lun or facts.of

    try:
        plan, before, after, lun = converge(module, attempt)
        if lun is None and after and after.get("source_luns"):
            lun = client.get_lun(lun_id=after["source_luns"][0])
    except VnxError as err:
        module.fail_on(err, actions=plans[-1].actions)
    result = dict(changed=plan.changed, actions=plan.actions, snapshot=after or {})
    if lun is not None:
        result["size_gb"] = size_to_whole_gib(lun.size_gb)
    if module._diff:
        result["diff"] = dict(before=before, after=after or {})
    module.exit_json(**result)


if __name__ == "__main__":
    main()
