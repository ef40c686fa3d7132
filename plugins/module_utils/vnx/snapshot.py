# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan of vnx_snapshot_manage: from what was read and what is wanted to the steps, without I/O.

``read_snapshot`` reads the facts the plan needs; ``plan_snapshot`` turns them and the wanted
state into steps and the predicted snapshot, or refuses with a VnxError.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from dataclasses import dataclass, field
from typing import Dict, Optional

from ansible_collections.storage.datamotion.plugins.module_utils.vnx.client import (
    MANAGED_MARK, Lun, Migration, Snapshot, VnxError, check_not_migrating, check_snapshot_room)


@dataclass(frozen=True)
class SnapshotWanted:
    name: str
    state: str = "present"
    lun: Optional[str] = None
    source_snapshot: Optional[str] = None
    description: Optional[str] = None
    allow_read_write: Optional[bool] = None
    auto_delete: Optional[bool] = None
    keep_for: Optional[str] = None
    backup_snapshot: Optional[str] = None


@dataclass
class SnapshotFacts:
    snap: Optional[Snapshot]
    lun: Optional[Lun] = None                  # the LUN O(lun) names (None: not named, or missing)
    source: Optional[Snapshot] = None          # O(source_snapshot)
    of: Optional[Lun] = None                   # the LUN a new snapshot or copy is of (for the limit)
    counted: int = 0                           # snapshots the array counts against ``of``'s limit
    migration: Optional[Migration] = None      # ``of``'s migration, or the restored LUN's
    backup_exists: bool = False


@dataclass(frozen=True)
class Step:
    """One change: ``kind`` is create, copy, modify, destroy or restore; ``options`` for modify."""
    kind: str
    text: str
    options: Dict = field(default_factory=dict)


def description_with_mark(user_text, managed):
    text = (user_text or "").strip()
    if managed:
        text = ("%s %s" % (text, MANAGED_MARK)).strip()
    return text


def read_snapshot(client, want):
    """The facts ``plan_snapshot`` needs for ``want``."""
    facts = SnapshotFacts(snap=client.get_snapshot(want.name))
    if want.lun:
        facts.lun = client.get_lun(name=want.lun)
    creating = want.state == "present" and facts.snap is None
    if creating and want.source_snapshot:
        facts.source = client.get_snapshot(want.source_snapshot)
        if facts.source is not None and len(facts.source.source_luns) == 1:
            facts.of = facts.lun or client.get_lun(lun_id=facts.source.source_luns[0])
    elif creating:
        facts.of = facts.lun
        if facts.of is not None:
            facts.migration = client.get_migration(facts.of)
    elif want.state == "restored" and facts.lun is not None and facts.snap is not None:
        facts.migration = client.get_migration(facts.lun)
        if want.backup_snapshot:
            facts.backup_exists = client.get_snapshot(want.backup_snapshot) is not None
            facts.of = facts.lun
    if facts.of is not None and (creating or want.backup_snapshot):
        facts.counted = len(client.snapshots_toward_limit(facts.of))
    return facts


def need_lun(facts, want, why):
    if not want.lun:
        raise VnxError(why, "snapshot %s" % want.name, "no lun given", "Give lun, the LUN the snapshot is of.")
    if facts.lun is None:
        raise VnxError(why, "snapshot %s" % want.name, "LUN %s does not exist" % want.lun,
                       "Check the LUN name (vnx_info lists the LUNs).", "NotFound")
    return facts.lun


def check_belongs(snap, facts, want, why):
    """With O(lun), the snapshot must be of that LUN."""
    if not want.lun:
        return
    lun = need_lun(facts, want, why)
    if lun.id not in snap.source_luns:
        raise VnxError(why, "snapshot %s" % snap.name,
                       "it is a snapshot of LUN(s) %s, not of LUN %s (id %s)" % (
                           ", ".join(str(i) for i in snap.source_luns) or "none", lun.name, lun.id),
                       "Give the snapshot's own LUN.", "ManageExistingInvalidReference")


def modify_options(snap, want, managed=None):
    """The options that differ; ``managed`` True/False sets or clears the management mark."""
    want_managed = snap.managed if managed is None else managed
    want_text = snap.user_description if want.description is None else want.description
    options = {}
    if description_with_mark(want_text, want_managed) != (snap.description or "").strip():
        options["description"] = description_with_mark(want_text, want_managed)
    if want.allow_read_write is not None and want.allow_read_write != snap.allow_read_write:
        options["allow_read_write"] = want.allow_read_write
    if want.auto_delete is not None and want.auto_delete != snap.auto_delete:
        options["auto_delete"] = want.auto_delete
        if want.keep_for and not want.auto_delete:
            options["keep_for"] = want.keep_for
    return options


def plan_modify(snap, want, managed=None):
    """([the modify step] or [], the snapshot as predicted)."""
    options = modify_options(snap, want, managed)
    after = snap.facts()
    after.update((k, v) for k, v in options.items() if k in after)
    if "description" in options:
        after["managed"] = MANAGED_MARK in options["description"]
    if not options:
        return [], after
    words = []
    if managed is True and not snap.managed:
        words.append("record it as managed")
    elif managed is False and snap.managed:
        words.append("drop the management mark")
    elif "description" in options:
        words.append("set the description")
    words += ["set %s to %s" % (k, v) for k, v in options.items() if k != "description"]
    return [Step("modify", "modify snapshot %s: %s" % (snap.name, ", ".join(words)), options)], after


def plan_create(facts, want):
    """A new snapshot: copied from O(source_snapshot), or taken of O(lun)."""
    if want.source_snapshot:
        src = facts.source
        if src is None:
            raise VnxError("copy", "snapshot %s to %s" % (want.source_snapshot, want.name),
                           "snapshot %s does not exist" % want.source_snapshot, None, "VNXSnapNotExistsError")
        check_belongs(src, facts, want, "copy")
        if facts.of is not None:
            check_snapshot_room(facts.of, facts.counted, 1, "copy", "snapshot %s to %s" % (src.name, want.name))
        steps = [Step("copy", "copy snapshot %s to %s" % (src.name, want.name))]
        options = dict((k, getattr(want, k)) for k in ("allow_read_write", "auto_delete")
                       if getattr(want, k) is not None and getattr(want, k) != getattr(src, k))
        if want.description is not None:
            options["description"] = want.description
        if want.keep_for:
            options["keep_for"] = want.keep_for
        if options:
            steps.append(Step("modify", "modify snapshot %s: %s" % (want.name, ", ".join(sorted(options))), options))
        return steps, dict(src.facts(), name=want.name, attached_luns=[], managed=False, **options)
    lun = need_lun(facts, want, "create")
    what = "snapshot %s of LUN %s" % (want.name, lun.name)
    check_not_migrating(lun, facts.migration, "create", what)
    check_snapshot_room(lun, facts.counted, 1, "create", what)
    allow_rw = True if want.allow_read_write is None else want.allow_read_write
    auto_delete = bool(want.auto_delete)
    steps = [Step("create", "create snapshot %s of LUN %s" % (want.name, lun.name),
                  dict(allow_read_write=allow_rw, auto_delete=auto_delete, keep_for=want.keep_for))]
    if want.description:
        steps.append(Step("modify", "set the description of snapshot %s" % want.name, dict(description=want.description)))
    return steps, dict(name=want.name, description=want.description or "", source_luns=[lun.id], primary_luns=[lun.id],
                       attached_luns=[], allow_read_write=allow_rw, auto_delete=auto_delete, managed=False)


def plan_restore(facts, want):
    lun = need_lun(facts, want, "restore")
    snap = facts.snap
    if snap is None:
        raise VnxError("restore", "LUN %s to snapshot %s" % (lun.name, want.name), "the snapshot does not exist",
                       None, "VNXSnapNotExistsError")
    check_belongs(snap, facts, want, "restore")
    what = "LUN %s to snapshot %s" % (lun.name, snap.name)
    check_not_migrating(lun, facts.migration, "restore", what)
    if want.backup_snapshot and facts.backup_exists:
        raise VnxError("restore", what, "the backup snapshot %s exists already" % want.backup_snapshot,
                       "Give a new backup_snapshot name, or delete that snapshot.", "VNXSnapNameInUseError")
    if want.backup_snapshot:
        check_snapshot_room(lun, facts.counted, 1, "restore", what + " (with backup snapshot %s)" % want.backup_snapshot)
    return [Step("restore", "restore LUN %s to snapshot %s%s" % (
        lun.name, snap.name, " (backup snapshot %s first)" % want.backup_snapshot if want.backup_snapshot else ""))]


def plan_snapshot(facts, want):
    """(steps, the snapshot's facts after them) that bring ``facts`` to ``want``; VnxError when they cannot."""
    snap = facts.snap
    before = snap.facts() if snap else {}
    if want.state == "present":
        if snap is None:
            return plan_create(facts, want)
        check_belongs(snap, facts, want, "modify")
        return plan_modify(snap, want)
    if want.state == "absent":
        if snap is None:
            return [], {}
        check_belongs(snap, facts, want, "delete")
        if snap.attached_luns:
            raise VnxError("delete", "snapshot %s" % snap.name,
                           "it is attached to mount point(s) %s" % ", ".join(str(i) for i in snap.attached_luns),
                           "Delete the snap copies that use it (vnx_volume state=absent) first.",
                           "VNXDeleteAttachedSnapError")
        return [Step("destroy", "delete snapshot %s" % snap.name)], {}
    if want.state == "restored":
        return plan_restore(facts, want), before
    if want.state == "managed":
        # seed 004: the parent must exist (not found), the snapshot must exist on it (invalid reference)
        lun = need_lun(facts, want, "manage")
        if snap is None:
            raise VnxError("manage", "snapshot %s of LUN %s" % (want.name, lun.name), "the snapshot does not exist",
                           "Give the name of a snapshot of LUN %s (vnx_info lists the snapshots)." % lun.name,
                           "ManageExistingInvalidReference")
        check_belongs(snap, facts, want, "manage")
        return plan_modify(snap, want, managed=True)
    # unmanaged
    if snap is None:
        return [], {}
    check_belongs(snap, facts, want, "unmanage")
    return plan_modify(snap, want, managed=False)
