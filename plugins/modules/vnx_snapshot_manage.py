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
    description: Description of the snapshot. The management mark is kept apart from it.
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

from ansible_collections.storage.datamotion.plugins.module_utils.vnx.common import Plan, VnxModule, converge
from ansible_collections.storage.datamotion.plugins.module_utils.vnx.client import (
    MANAGED_MARK, VnxError, size_to_whole_gib)


def description_with_mark(user_text, managed):
    text = (user_text or "").strip()
    if managed:
        text = ("%s %s" % (text, MANAGED_MARK)).strip()
    return text


def need_lun(client, p, why):
    if not p["lun"]:
        raise VnxError(why, "snapshot %s" % p["name"], "no lun given", "Give lun, the LUN the snapshot is of.")
    lun = client.get_lun(name=p["lun"])
    if lun is None:
        raise VnxError(why, "snapshot %s" % p["name"], "LUN %s does not exist" % p["lun"],
                       "Check the LUN name (vnx_info lists the LUNs).", "NotFound")
    return lun


def check_belongs(snap, lun, why):
    if lun is not None and lun.id not in snap.source_luns:
        raise VnxError(why, "snapshot %s" % snap.name,
                       "it is a snapshot of LUN(s) %s, not of LUN %s (id %s)" % (
                           ", ".join(str(i) for i in snap.source_luns) or "none", lun.name, lun.id),
                       "Give the snapshot's own LUN.", "ManageExistingInvalidReference")


def plan_modify(client, p, snap, plan, managed=None):
    """Change options that differ; ``managed`` True/False sets or clears the management mark."""
    managed_now = snap.managed
    want_managed = managed_now if managed is None else managed
    want_text = snap.user_description if p["description"] is None else p["description"]
    options = {}
    if description_with_mark(want_text, want_managed) != (snap.description or "").strip():
        options["description"] = description_with_mark(want_text, want_managed)
    if p["allow_read_write"] is not None and p["allow_read_write"] != snap.allow_read_write:
        options["allow_read_write"] = p["allow_read_write"]
    if p["auto_delete"] is not None and p["auto_delete"] != snap.auto_delete:
        options["auto_delete"] = p["auto_delete"]
        if p["keep_for"] and not p["auto_delete"]:
            options["keep_for"] = p["keep_for"]
    if not options:
        return {}
    words = []
    if managed is True and not managed_now:
        words.append("record it as managed")
    elif managed is False and managed_now:
        words.append("drop the management mark")
    elif "description" in options:
        words.append("set the description")
    words += ["set %s to %s" % (k, v) for k, v in options.items() if k != "description"]
    plan.add("modify snapshot %s: %s" % (snap.name, ", ".join(words)),
             lambda: client.modify_snapshot(snap.name, **options))
    return options


def predicted(snap, options):
    after = snap.facts()
    for k, v in options.items():
        if k in after:
            after[k] = v
    if "description" in options:
        after["managed"] = MANAGED_MARK in options["description"]
    return after


def run(client, module, plan):
    p = module.params
    state = p["state"]
    snap = client.get_snapshot(p["name"])
    before = snap.facts() if snap else {}
    after = before
    lun = None

    if state == "present":
        if snap is None:
            if p["source_snapshot"]:
                src = client.get_snapshot(p["source_snapshot"])
                if src is None:
                    raise VnxError("copy", "snapshot %s to %s" % (p["source_snapshot"], p["name"]),
                                   "snapshot %s does not exist" % p["source_snapshot"], None, "VNXSnapNotExistsError")
                if p["lun"]:
                    lun = need_lun(client, p, "copy")
                    check_belongs(src, lun, "copy")
                if len(src.source_luns) == 1:
                    of = lun or client.get_lun(lun_id=src.source_luns[0])
                    if of is not None:
                        client.check_snapshot_room(of, 1, "copy", "snapshot %s to %s" % (src.name, p["name"]))
                plan.add("copy snapshot %s to %s" % (src.name, p["name"]),
                         lambda: client.copy_snapshot(src.name, p["name"]))
                options = {}
                for k in ("allow_read_write", "auto_delete"):
                    if p[k] is not None and p[k] != getattr(src, k):
                        options[k] = p[k]
                if p["description"] is not None:
                    options["description"] = p["description"]
                if p["keep_for"]:
                    options["keep_for"] = p["keep_for"]
                if options:
                    plan.add("modify snapshot %s: %s" % (p["name"], ", ".join(sorted(options))),
                             lambda: client.modify_snapshot(p["name"], **options))
                after = dict(src.facts(), name=p["name"], attached_luns=[], managed=False, **options)
            else:
                lun = need_lun(client, p, "create")
                what = "snapshot %s of LUN %s" % (p["name"], lun.name)
                client.check_not_migrating(lun, "create", what)
                client.check_snapshot_room(lun, 1, "create", what)
                allow_rw = True if p["allow_read_write"] is None else p["allow_read_write"]
                auto_delete = bool(p["auto_delete"])
                plan.add("create snapshot %s of LUN %s" % (p["name"], lun.name),
                         lambda: client.create_snapshot(lun, p["name"], allow_rw, auto_delete, p["keep_for"]))
                if p["description"]:
                    plan.add("set the description of snapshot %s" % p["name"],
                             lambda: client.modify_snapshot(p["name"], description=p["description"]))
                after = dict(name=p["name"], description=p["description"] or "", source_luns=[lun.id],
                             primary_luns=[lun.id], attached_luns=[], allow_read_write=allow_rw,
                             auto_delete=auto_delete, managed=False)
        else:
            if p["lun"]:
                lun = need_lun(client, p, "modify")
                check_belongs(snap, lun, "modify")
            after = predicted(snap, plan_modify(client, p, snap, plan))

    elif state == "absent":
        if snap is not None:
            if p["lun"]:
                lun = need_lun(client, p, "delete")
                check_belongs(snap, lun, "delete")
            if snap.attached_luns:
                raise VnxError("delete", "snapshot %s" % snap.name,
                               "it is attached to mount point(s) %s" % ", ".join(str(i) for i in snap.attached_luns),
                               "Delete the snap copies that use it (vnx_volume state=absent) first.",
                               "VNXDeleteAttachedSnapError")
            plan.add("delete snapshot %s" % snap.name, lambda: client.destroy_snapshot(snap.name))
            after = {}

    elif state == "restored":
        lun = need_lun(client, p, "restore")
        if snap is None:
            raise VnxError("restore", "LUN %s to snapshot %s" % (lun.name, p["name"]), "the snapshot does not exist",
                           None, "VNXSnapNotExistsError")
        check_belongs(snap, lun, "restore")
        what = "LUN %s to snapshot %s" % (lun.name, snap.name)
        client.check_not_migrating(lun, "restore", what)
        if p["backup_snapshot"] and client.get_snapshot(p["backup_snapshot"]) is not None:
            raise VnxError("restore", "LUN %s to snapshot %s" % (lun.name, snap.name),
                           "the backup snapshot %s exists already" % p["backup_snapshot"],
                           "Give a new backup_snapshot name, or delete that snapshot.", "VNXSnapNameInUseError")
        if p["backup_snapshot"]:
            client.check_snapshot_room(lun, 1, "restore", what + " (with backup snapshot %s)" % p["backup_snapshot"])
        plan.add("restore LUN %s to snapshot %s%s" % (lun.name, snap.name,
                                                      " (backup snapshot %s first)" % p["backup_snapshot"]
                                                      if p["backup_snapshot"] else ""),
                 lambda: client.restore_snapshot(snap.name, lun, p["backup_snapshot"]))

    elif state == "managed":
        # seed 004: the parent must exist (not found), the snapshot must exist on it (invalid reference)
        lun = need_lun(client, p, "manage")
        if snap is None:
            raise VnxError("manage", "snapshot %s of LUN %s" % (p["name"], lun.name), "the snapshot does not exist",
                           "Give the name of a snapshot of LUN %s (vnx_info lists the snapshots)." % lun.name,
                           "ManageExistingInvalidReference")
        check_belongs(snap, lun, "manage")
        after = predicted(snap, plan_modify(client, p, snap, plan, managed=True))

    elif state == "unmanaged":
        if snap is not None:
            if p["lun"]:
                lun = need_lun(client, p, "unmanage")
                check_belongs(snap, lun, "unmanage")
            after = predicted(snap, plan_modify(client, p, snap, plan, managed=False))

    return before, after, lun


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
    if p["keep_for"] and p["auto_delete"]:
        module.fail_json(msg="keep_for and auto_delete=true exclude each other on a VNX snapshot: give one of them.")
    client = module.client()
    plans = []

    def attempt():
        plan = Plan()
        plans.append(plan)
        before, after, lun = run(client, module, plan)
        plan.apply(module.check_mode)
        if plan.changed and not module.check_mode and p["state"] in ("present", "managed", "unmanaged"):
            final = client.get_snapshot(p["name"])
            after = final.facts() if final else {}
        return plan, before, after, lun

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
