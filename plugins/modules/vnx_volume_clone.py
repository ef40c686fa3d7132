#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: vnx_volume_clone
short_description: Snap copies and full copies of VNX LUNs, from a LUN or from a snapshot
version_added: 0.1.0
description:
  - Creates a new LUN from a source LUN (O(source_lun)) or from a snapshot (O(source_snapshot)), the way the
    Cinder VNX driver does.
  - O(copy_mode=snap) makes an instant snap copy - a snapshot of the source (from a snapshot - a read-write copy
    of it, so that the given snapshot stays deletable) and a snapshot mount point attached to it. The copy reads
    the source as it was at that moment.
  - O(copy_mode=full) makes the same snap copy and then migrates it into a new LUN in a pool. When the migration
    completes the copy keeps its name, id and WWN and owes nothing to the source; the temporary snapshot is
    deleted. With O(wait=false) the task returns as soon as the migration starts (the copy is usable at once) and
    reports its progress; a later run with O(wait=true) waits for it and cleans up; a run while it still goes
    reports progress, not an error.
  - O(copy_mode=full) on an existing snap copy converts it into a full copy and deletes its snapshot when this
    module made it (C(snap-as-vol-<name>) or C(tmp-snap-<name>)), it is not managed and its description holds the
    mark this module writes when it makes the snapshot (C([storage.datamotion:copy]), or the migration record
    C([storage.datamotion:copy <WWN> target <WWN>]) that replaces it); any other snapshot the mount point reads
    (a user's, a managed one, one named like ours without the mark) is kept.
  - The array's constraints are checked before anything is done - at most 255 snapshots (so snap copies) per
    source LUN; no snapshot or migration of a LUN whose asynchronous migration still runs; a LUN with snap copies
    or snapshots cannot be migrated.
  - Several copies of one source can be made in one task with O(names); the source is read once and the
    copies' reads are batched, which is much faster than a loop.
  - O(consistency_group) puts a full copy in a consistency group (created if missing) once it is a full copy. A
    snap copy cannot be in a consistency group (a VNX limitation, seeds 000 and 001), so O(copy_mode=snap) with
    O(consistency_group) fails before anything is done.
  - The array cannot tell a finished full copy from any other LUN (after the migration the copy is a plain LUN
    with the copy's name, id and WWN; nothing records where its data came from). So an existing plain LUN named
    O(name) is taken as the finished full copy when its size fits the source - between the source's size and that
    size rounded up to whole GB, the size this module gives a full copy (from O(source_snapshot), at most that
    rounded size) - and the task fails otherwise. A plain LUN of the same size that is not a copy cannot be told
    apart; it is reported as V(full_copy).
  - Names of the array objects the module makes - snapshot C(snap-as-vol-<name>) of a snap copy, temporary
    snapshot C(tmp-snap-<name>) and migration target C(<name>_dest) of a full copy. A run that was interrupted
    picks them up and finishes. An object with one of these names that this module did not make (a snapshot
    without its mark, a LUN its migration record does not name) is never used or deleted - the task fails and
    names it.
author:
  - Storage DataMotion Team (@storage-datamotion)
extends_documentation_fragment:
  - storage.datamotion.vnx
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reads the array, checks every constraint and reports the steps it would take and the errors it would raise.
  diff_mode:
    support: full
options:
  name:
    description: Name of the new LUN (the copy). One of O(name) and O(names) is required.
    type: str
  names:
    description:
      - Names of several copies of the same source, made in one task.
      - An empty list asks for no copy - the task changes nothing and returns an empty C(clones).
    type: list
    elements: str
  source_lun:
    description: Name of the LUN to copy. One of O(source_lun) and O(source_snapshot) is required.
    type: str
  source_snapshot:
    description: Name of the snapshot to copy.
    type: str
  copy_mode:
    description:
      - V(snap) for a snap copy (instant, depends on the source), V(full) for a full copy by LUN migration.
    type: str
    choices: [snap, full]
    default: full
  pool:
    description: Pool of a full copy. Default is the source's pool.
    type: str
  provisioning:
    description: Provisioning of a full copy. Default is the source's.
    type: str
    choices: [thin, thick]
  tiering:
    description: Tiering policy of a full copy's LUN.
    type: str
    choices: [start_high_then_auto, auto, highest_available, lowest_available, no_movement]
  migration_rate:
    description: Rate of the LUN migration of a full copy.
    type: str
    choices: [low, medium, high, asap]
    default: high
  wait:
    description:
      - Wait for the migration of a full copy to complete, then delete the temporary snapshot.
      - V(false) returns once the migration runs (the seed's asynchronous migration); the copy is usable at once.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for a migration; the task fails with the migration's last progress after that.
    type: int
    default: 3600
  consistency_group:
    description:
      - Name of a consistency group the copy joins once it is a full copy (the group is created if missing).
        With O(wait=true) that is at the end of the task; with O(wait=false) and a migration still running the
        task warns that the copy joins later, and a later run (O(wait=true), or once the migration completed)
        adds it. A copy in another consistency group is an error (move it with M(storage.datamotion.vnx_volume)).
      - Only with O(copy_mode=full) - a snap copy cannot be in a consistency group (a VNX limitation).
      - Omitted or empty, the copy's group membership is not managed.
    type: str
    version_added: 0.2.0
notes:
  - A snap copy cannot be expanded or put in a consistency group (a VNX limitation); convert it to a full copy first.
  - Delete copies with M(storage.datamotion.vnx_volume) O(storage.datamotion.vnx_volume#module:state=absent),
    which also deletes the snapshot made for a snap copy.
seealso:
  - module: storage.datamotion.vnx_volume
  - module: storage.datamotion.vnx_info
"""

EXAMPLES = r"""
- name: An instant snap copy of db01
  storage.datamotion.vnx_volume_clone:
    sp_address: 192.168.1.50
    username: sysadmin
    password: "{{ vnx_password }}"
    name: db01-test
    source_lun: db01
    copy_mode: snap

- name: Fifty snap copies in one task
  storage.datamotion.vnx_volume_clone:
    sp_address: 192.168.1.50
    username: sysadmin
    password: "{{ vnx_password }}"
    names: "{{ range(1, 51) | map('string') | map('regex_replace', '^', 'ci-') | list }}"
    source_lun: golden
    copy_mode: snap

- name: A full copy from a snapshot, returning as soon as the migration starts
  storage.datamotion.vnx_volume_clone:
    sp_address: 192.168.1.50
    username: sysadmin
    password: "{{ vnx_password }}"
    name: db01-restore
    source_snapshot: db01-nightly
    copy_mode: full
    wait: false
  register: copy

- name: Later, wait for it to finish
  storage.datamotion.vnx_volume_clone:
    sp_address: 192.168.1.50
    username: sysadmin
    password: "{{ vnx_password }}"
    name: db01-restore
    source_snapshot: db01-nightly
    copy_mode: full
    wait: true

- name: A full copy that joins consistency group db-cg once its migration completes
  storage.datamotion.vnx_volume_clone:
    sp_address: 192.168.1.50
    username: sysadmin
    password: "{{ vnx_password }}"
    name: db01-copy
    source_lun: db01
    copy_mode: full
    consistency_group: db-cg

- name: Turn a snap copy into a full copy in another pool
  storage.datamotion.vnx_volume_clone:
    sp_address: 192.168.1.50
    username: sysadmin
    password: "{{ vnx_password }}"
    name: db01-test
    source_lun: db01
    copy_mode: full
    pool: Pool1
"""

RETURN = r"""
lun:
  description: The copy's LUN (with O(name)); in check mode, what is known before the run.
  returned: with O(name)
  type: dict
clone_state:
  description: V(snap_copy), V(migrating) (a full copy whose migration runs) or V(full_copy).
  returned: with O(name)
  type: str
  sample: migrating
migration:
  description: The running migration with C(state) and C(percent_complete), or null.
  returned: with O(name)
  type: dict
  sample: {source_name: db01-restore, dest_name: db01-restore_dest, state: MIGRATING, percent_complete: 35.0}
snapshot:
  description: The snapshot the copy reads (a snap copy), or the temporary snapshot of a full copy still migrating.
  returned: with O(name)
  type: str
consistency_group:
  description:
    - With O(consistency_group), the group the copy is a member of after the task (in check mode, would be), or
      null; a copy that joins later (O(wait=false)) is null here and the task warns. Without it, null (the groups
      are not read).
  returned: with O(name)
  type: str
  version_added: 0.2.0
clones:
  description:
    - One entry per copy of O(names), each with C(name), C(lun), C(clone_state), C(migration), C(snapshot),
      C(consistency_group).
  returned: with O(names)
  type: list
  elements: dict
actions:
  description: What the task did (in check mode, would do), in order.
  returned: always
  type: list
  elements: str
left:
  description:
    - When the task failed, the array objects (snapshots, mount points, LUNs) this run made and that are still
      there; the message names them too. A later run picks them up.
  returned: on failure
  type: list
  elements: str
  sample: ["snapshot tmp-snap-db01-restore"]
diff:
  description: Each copy's state before and after.
  returned: when diff mode is on
  type: dict
"""

import time

from ansible_collections.storage.datamotion.plugins.module_utils.vnx.common import VnxModule, converge
from ansible_collections.storage.datamotion.plugins.module_utils.vnx.plan import Plan
from ansible_collections.storage.datamotion.plugins.module_utils.vnx.client import (
    COPY_MARK, Unchanged, VnxError, temporary_mark)
from ansible_collections.storage.datamotion.plugins.module_utils.vnx.clone import (
    check_request, diff_state, not_a_leftover, plan_clone, read_clone, warn_leftover)
from ansible_collections.storage.datamotion.plugins.module_utils.wait import WaitTimeout, wait_for


class Context(object):
    """One task's plan being applied: the copies' LUNs by name (kept current by the plan's reads), what each
    copy reports, and what this run made (undone for the copy that fails, reported as left otherwise)."""

    def __init__(self, client, module):
        self.client = client
        self.p = module.params
        self.plan = Plan()
        self.luns = {}          # name -> Lun, kept current by the plan's read steps
        self.reports = {}       # name -> what to return
        self.batch = bool(self.p["names"])
        self.created = {}       # name -> [(kind, object name)] this run made for that copy
        self.migrating = set()  # copies whose migration this run started: no undoing those
        self.finished = set()   # copies whose migration completed in this run: full copies, their target gone
        self.current = None     # the copy the running step works on
        self.pending = []       # copies that join consistency_group once their migration completes
        self.warnings = []      # what the user must know: leftovers replaced, a copy that differs from the request
        self.source = self.base = None

    def load(self, planned, facts):
        """Take the steps of ``planned`` (plan_clone of ``facts``) into the plan this task applies."""
        self.luns.update(planned.luns)
        self.reports, self.pending, self.warnings = planned.reports, planned.pending, list(planned.warnings)
        self.source, self.base = facts.source, facts.base
        for step in planned.steps:
            self.plan.add(step.text, lambda step=step: self.run(step), step.change)

    def run(self, step):
        """Apply ``step``; what it ``creates`` is undone if its copy fails later, what it ``removes`` of what an
        earlier step made is no longer left."""
        name = self.current = step.copy
        answer = APPLY[step.kind](self, **step.options)
        if step.creates is not None and not isinstance(answer, Unchanged):
            self.created.setdefault(name, []).append(step.creates)
        if step.removes is not None and step.removes in self.created.get(name, []):
            self.created[name].remove(step.removes)
        return answer

    def undo(self, name):
        """Remove what this run made for copy ``name`` (Cinder's revert), newest first; returns what went."""
        undone = []
        if name is None or name in self.migrating:
            return undone
        for kind, obj in reversed(self.created.get(name, [])):
            try:
                if kind == "snapshot":
                    self.client.destroy_snapshot(obj)
                else:
                    lun = self.client.get_lun(name=obj)
                    if lun is not None:
                        self.client.destroy_lun(lun, force_detach=lun.is_snap_mount_point)
                undone.append("%s %s" % (kind, obj))
            except VnxError:
                pass  # the report says what is left: everything not in undone
        return undone

    def left(self, undone):
        """What this run made and is still on the array (not undone), copy by copy, in the order made."""
        left = []
        for name, made in self.created.items():
            for kind, obj in made:
                what = "%s %s" % (kind, obj)
                if name == self.current and what in undone:
                    continue
                if name in self.finished:
                    # the migration consumed the target; the mount point is now the full copy
                    if kind == "LUN":
                        continue
                    if kind == "mount point":
                        what = "LUN %s (the full copy)" % obj
                elif name in self.migrating and kind == "LUN":
                    what += " (migrating into %s)" % name
                left.append(what)
        return left

    def refresh(self, names):
        """Read the LUNs the array just made (their ids): one list for a batch, else one read each."""
        self.current = None
        if self.batch and len(names) > 1:
            by_name = dict((lun.name, lun) for lun in self.client.list_luns())
            for n in names:
                self.luns[n] = by_name.get(n)
        else:
            for n in names:
                self.luns[n] = self.client.get_lun(name=n)
        missing = [n for n in names if self.luns.get(n) is None]
        if missing:
            raise VnxError("find", "new LUN(s) %s" % ", ".join(missing), "the array does not list them after creating them",
                           "Run the task again; it resumes where it stopped.")


def parallel_copy(client, name, settle=2):
    """Whether another run is making copy ``name``: its mount point exists, or appears within ``settle``
    seconds (the time between a snapshot and its mount point). A snapshot without one after that is a leftover."""
    if client.get_lun(name=name) is not None:
        return True
    time.sleep(settle)
    return client.get_lun(name=name) is not None


def make_snapshot(ctx, snap, create, name):
    """Make the copy's snapshot; one left by an interrupted run (killed after 'snap -create') is made anew.

    The name is this module's (snap-as-vol-/tmp-snap-<copy>), so a snapshot of the same source
    with no mount point and not managed can only be such a leftover; its content is older
    than this run, so it is replaced, not reused. Anything else with the name is left alone.
    """
    try:
        create()
        return
    except VnxError as err:
        if err.kind != "VNXSnapNameInUseError":
            raise
        old = delete_leftover(ctx, snap, name, err)
    ctx.plan.done.append("delete snapshot %s left by an interrupted run" % snap)
    warn_leftover(ctx.warnings, old, name)
    create()


def delete_leftover(ctx, snap, name, err=None):
    """Delete snapshot ``snap``, read again first: only a leftover of an interrupted run of copy ``name`` goes.

    ``err``: the array's refusal of this run's create, raised (with a hint) when the snapshot is not a
    leftover; without it (a planned deletion), a snapshot gone meanwhile is no change.
    Returns the snapshot deleted, or an Unchanged answer.
    """
    client, source = ctx.client, ctx.source
    if parallel_copy(client, name):
        # another run makes this copy right now: read and plan again (converge)
        raise err or VnxError("copy", "LUN %s into %s" % (source.name, name),
                              "snapshot %s is being attached to copy %s by another run" % (snap, name),
                              None, "VNXSnapNameInUseError")
    old = client.get_snapshot(snap)
    if old is None and err is None:
        return Unchanged("VNXSnapNotExistsError")
    what = not_a_leftover(old, [source.id]) if old is not None else "gone"
    if what:
        hint = ("Snapshot %s is not one an interrupted run of this copy left (it is %s): rename or delete it, "
                "or give the copy another name." % (snap, what))
        if err is None:
            err = VnxError("copy", "LUN %s into %s" % (source.name, name), "snapshot %s changed since it was read" % snap,
                           kind="VNXSnapNameInUseError")
        err.hint = hint
        raise err
    client.destroy_snapshot(snap)
    return old


def take_snapshot(ctx, snapshot, replace_leftover, source_snapshot=None):
    """The copy's snapshot: of the source, or a copy of O(source_snapshot)."""
    client = ctx.client
    if source_snapshot:
        def create():
            return client.copy_snapshot(source_snapshot, snapshot)
    else:
        def create():
            return client.create_snapshot(ctx.source, snapshot, description=COPY_MARK)
    if replace_leftover:
        return make_snapshot(ctx, snapshot, create, ctx.current)
    return create()


def read_migration(ctx, lun):
    name = lun
    lun = ctx.luns.get(name) or ctx.client.get_lun(name=name)
    migration = ctx.client.get_migration(lun)
    ctx.reports[name]["migration"] = migration.facts() if migration else None
    if migration is not None and migration.failed:
        raise VnxError("copy", "LUN %s" % name, "its migration stopped: %s" % migration.state,
                       "Cancel it and delete the copy (vnx_volume state=absent force=true), then copy again.")
    if migration is None:
        ctx.reports[name].update(clone_state="full_copy", snapshot=None)
    return migration


def wait_migration(ctx, lun):
    name = lun
    try:
        wait_for(lambda: read_migration(ctx, name), lambda m: m is None, ctx.p["wait_timeout"],
                 what="the migration of LUN %s" % name)
    except WaitTimeout as e:
        last = e.last
        raise VnxError("wait for the migration of", "LUN %s" % name,
                       "it is still running after %ss (%s, %s%% done)"
                       % (ctx.p["wait_timeout"], last and last.state, last and last.percent_complete),
                       "Run again with wait=true (it resumes waiting), or raise wait_timeout.")
    lun = ctx.client.get_lun(name=name)
    if lun is None or lun.is_snap_mount_point:
        raise VnxError("complete the full copy", "LUN %s" % name,
                       "the migration ended but the LUN is %s" % ("gone" if lun is None else "still a snapshot mount point"),
                       "Check the array's migration log; the copy is not complete.")
    ctx.luns[name] = lun
    ctx.finished.add(name)
    ctx.reports[name].update(clone_state="full_copy", migration=None, snapshot=None)


def start_migration(ctx, lun, target, rate):
    ctx.client.start_migration(ctx.luns[lun], ctx.luns[target], rate)
    ctx.migrating.add(lun)


# What each kind of planned step does (ClonePlan.steps), given the step's options.
APPLY = {
    "delete_leftover": lambda ctx, snapshot: delete_leftover(ctx, snapshot, ctx.current),
    "create_snapshot": take_snapshot,
    "copy_snapshot": take_snapshot,
    "mark_own_copy": lambda ctx, snapshot: ctx.client.modify_snapshot(snapshot, description=COPY_MARK, allow_read_write=True),
    "delete_snapshot": lambda ctx, snapshot: ctx.client.destroy_snapshot(snapshot),
    "create_mount_point": lambda ctx, lun: ctx.client.create_mount_point(ctx.base, lun),
    "refresh": lambda ctx, names: ctx.refresh(names),
    "attach": lambda ctx, snapshot, lun: ctx.client.attach_snapshot(ctx.luns[lun], snapshot),
    "create_target": lambda ctx, pool, lun, size_gb, provisioning, tiering: ctx.client.create_lun(
        pool, lun, size_gb, provisioning, tiering),
    "record_target": lambda ctx, snapshot, lun, target: ctx.client.modify_snapshot(
        snapshot, description=temporary_mark(ctx.luns[lun].wwn, ctx.luns[target].wwn)),
    "start_migration": start_migration,
    "wait": wait_migration,
    "read_migration": read_migration,
    "join": lambda ctx, lun, group, create: ctx.client.join_consistency_group(group, ctx.luns[lun], create=create),
}


def report_of(ctx, name):
    r = dict((k, v) for k, v in ctx.reports[name].items() if not k.startswith("_"))
    r.setdefault("consistency_group", None)
    lun = ctx.luns.get(name)
    r["lun"] = lun.facts() if lun is not None else {}
    if lun is not None and r.get("clone_state") == "snap_copy" and r["lun"].get("attached_snapshot") is None:
        r["lun"]["attached_snapshot"] = r.get("snapshot")  # attached after the read that gave the id
    return r


def main():
    argument_spec = dict(
        name=dict(type="str"),
        names=dict(type="list", elements="str"),
        source_lun=dict(type="str"),
        source_snapshot=dict(type="str"),
        copy_mode=dict(type="str", default="full", choices=["snap", "full"]),
        pool=dict(type="str"),
        provisioning=dict(type="str", choices=["thin", "thick"]),
        tiering=dict(type="str", choices=["start_high_then_auto", "auto", "highest_available", "lowest_available",
                                          "no_movement"]),
        migration_rate=dict(type="str", default="high", choices=["low", "medium", "high", "asap"]),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=3600),
        consistency_group=dict(type="str"),
    )
    module = VnxModule(
        argument_spec, names=dict(name="copy", names="copy", source_lun="source LUN", source_snapshot="source snapshot",
                                  consistency_group="consistency group"), empty_allowed=("consistency_group",),
        required_one_of=[("name", "names"), ("source_lun", "source_snapshot")],
        mutually_exclusive=[("name", "names"), ("source_lun", "source_snapshot")],
    )
    if module.params["wait_timeout"] < 0:
        module.fail_json(msg="wait_timeout is %d: give 0 or more seconds. Nothing was changed." % module.params["wait_timeout"])
    if module.params["names"] == []:
        # an empty list (a filter such as difference() that left nothing) asks for no copy: never a LUN
        result = dict(changed=False, actions=[], clones=[])
        if module._diff:
            result["diff"] = dict(before={}, after={})
        module.exit_json(**result)
    client = module.client()
    contexts = []

    def attempt():
        ctx = Context(client, module)
        contexts.append(ctx)
        check_request(module.params)
        facts = read_clone(client, module.params)
        planned = plan_clone(facts, module.params, module.check_mode)
        ctx.load(planned, facts)
        ctx.plan.apply(module.check_mode)
        return ctx, planned.before

    try:
        ctx, before = converge(module, attempt)
    except VnxError as err:
        ctx = contexts[-1]
        undone = [] if module.check_mode else ctx.undo(ctx.current)
        if undone:
            err.hint = (err.hint or "") + " (Undone for %s: %s.)" % (ctx.current, ", ".join(undone))
        left = ctx.left(undone)
        if left:
            err.hint = (err.hint or "") + (" (Made by this run and still on the array: %s. Run the task again: "
                                           "it picks them up and finishes.)" % ", ".join(left))
        err.hint = (err.hint or "").strip() or None
        module.fail_on(err, actions=ctx.plan.actions, undone=undone, left=left)
    names = module.params["names"] or [module.params["name"]]
    reports = [report_of(ctx, n) for n in names]
    for text in ctx.warnings:
        module.warn(text)
    for name in ctx.pending:
        module.warn("LUN %s is not in consistency group %s yet: a copy joins once it is a full copy. Run the task again "
                    "with wait=true (or once its migration completed) to add it." % (name, module.params["consistency_group"]))
    result = dict(changed=ctx.plan.changed, actions=ctx.plan.actions)
    if module.params["names"]:
        result["clones"] = reports
    else:
        result.update(reports[0])
    if module._diff:
        result["diff"] = dict(before=before, after=dict((r["name"], diff_state(r["clone_state"], r["consistency_group"]))
                                                        for r in reports))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
