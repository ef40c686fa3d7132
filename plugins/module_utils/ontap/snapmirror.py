# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SnapMirror convergence: plan (pure) and apply (bulk, one paged read per poll).

``plan(desired, rel, volume)`` turns the facts read for one relationship and its desired
state into the ordered actions that reach it. ``apply`` runs the plans of many
relationships together: in each round every relationship whose last action has
finished gets its next one, then one read of the relationships still in motion tells
which have finished. So 200 breaks cost 200 quiesces, a few reads, 200 breaks.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time
from collections import deque
from dataclasses import dataclass, replace
from typing import Optional

from ansible_collections.storage.datamotion.plugins.module_utils.ontap.common import OntapError, Relationship

MIRRORED = ("snapmirrored", "in_sync")
TRANSFER_ACTIONS = ("initialize", "resync", "update")
ABORTABLE = ("transferring", "queued", "preparing", "finalizing", "quiescing")
MAX_REFUSALS = 5   # re-plans after "already"/"in progress"/"not found" answers, per relationship


@dataclass
class Desired:
    """What one relationship should be (module options, defaults applied)."""
    destination_path: str
    source_path: Optional[str] = None
    state: str = "present"
    relationship_state: str = "snapmirrored"
    policy: Optional[str] = None
    schedule: Optional[str] = None
    relationship_type: Optional[str] = None
    create_destination: bool = False
    mount_after_break: bool = True
    junction_path: Optional[str] = None
    update: bool = False
    max_lag: Optional[int] = None
    relationship_state_given: bool = True   # False: relationship_state is the default, not the user's word
    reverse_resync: bool = False            # a new relationship onto a read-write volume is resynced (failback)
    broken_now: bool = False                # this run broke it (a re-plan after the break): see the remount in plan

    @property
    def junction(self):
        return self.junction_path or "/" + self.destination_path.split(":", 1)[1]


def source_conflict(desired, rel):
    """Why ``rel`` (read for ``desired``) must not be touched: it mirrors another source than the one named. Or None."""
    if rel is None or not desired.source_path or not rel.source_path or rel.source_path == desired.source_path:
        return None
    if desired.state == "absent":
        return ("destination %s mirrors %s, not %s; nothing was deleted. Give the source it mirrors, or leave source_path "
                "out to delete whatever it mirrors" % (desired.destination_path, rel.source_path, desired.source_path))
    return ("destination %s already mirrors %s, not %s; delete that relationship first (state: absent)"
            % (desired.destination_path, rel.source_path, desired.source_path))


def plan(desired, rel, volume=None, source_record=False):
    """Actions, in order, that take relationship ``rel`` (None: missing) to ``desired``.

    ``volume`` is the destination volume when it was read (None: missing or not read);
    ``source_record`` tells that the source cluster lists the destination, so a release
    is due once the relationship is gone (False: no source given, reachable or listing it).
    Pure: no I/O, so it is tested over the whole state machine on its own.
    """
    if desired.state == "absent":
        actions = []
        if rel is not None:
            # a quiescing relationship still has its transfer running: ONTAP refuses the delete until it is aborted
            actions = ["abort"] if rel.status in ABORTABLE else []
            actions.append("delete")
        return actions + (["release"] if source_record else [])

    actions = []
    if rel is None:
        if desired.create_destination and volume is None:
            actions.append("create_volume")
        actions.append("create")
        state, status = "uninitialized", "idle"
        if desired.reverse_resync and volume is not None and volume.type == "rw":
            state = "broken_off"   # ONTAP creates a relationship onto a read-write volume broken off
    else:
        state, status = rel.state, rel.status
        if (desired.policy and desired.policy != rel.policy) or \
                (desired.schedule is not None and desired.schedule != (rel.schedule or "")):
            actions.append("modify")

    target = desired.relationship_state
    if state == "uninitialized" and status in ("quiescing", "quiesced"):
        actions.append("resume")   # quiesced before its first transfer: it cannot be initialized until resumed
        status = "idle"
    if target == "snapmirrored":
        if state == "uninitialized" and status != "transferring":
            actions.append("initialize")
        elif state == "paused" or status in ("quiescing", "quiesced"):
            actions.append("resume")
        elif state == "broken_off":
            actions.append("resync")
        if not any(a in TRANSFER_ACTIONS for a in actions) and state != "uninitialized":
            lagging = desired.max_lag is not None and (rel is None or rel.lag_time is None or rel.lag_time > desired.max_lag)
            if desired.update or (lagging and status != "transferring"):
                actions.append("update")
    elif target == "paused":
        if state == "uninitialized" and status != "transferring":
            actions.append("initialize")
        elif state == "broken_off":
            actions.append("resync")
        if state != "paused" and status not in ("quiescing", "quiesced"):
            actions.append("quiesce")
    elif target == "broken_off":
        if state == "uninitialized" and status != "transferring":
            actions.append("initialize")
        if state != "broken_off":
            if state != "paused" and status != "quiesced":
                actions.append("quiesce")
            actions.append("break")
        if desired.mount_after_break and (volume is None or not volume.junction_path):
            actions.append("mount")
        elif desired.mount_after_break and desired.junction_path and (state != "broken_off" or desired.broken_now) \
                and volume.junction_path != desired.junction_path:
            # a DP volume someone mounted elsewhere: the failover's clients look for it where the source had it. Only
            # with this break: a volume broken off before may be in use where it is, and is left there
            actions.extend(["unmount", "mount"])
    return actions


def predict(desired, rel, actions, default_policy=None, policy_types=None):
    """The relationship as it will be after ``actions`` (for check mode and diff); None if absent.

    ``default_policy`` is the policy the cluster gives a new relationship without one; ``policy_types``
    maps policy names to async or sync (a sync relationship ends in_sync).
    """
    if desired.state == "absent":
        return None
    policy_types = policy_types or {}
    if rel is None:
        policy = desired.policy or default_policy
        rel = Relationship(source_path=desired.source_path, destination_path=desired.destination_path, state="uninitialized",
                           policy=policy, policy_type=policy_types.get(policy), schedule=desired.schedule or None,
                           relationship_type=desired.relationship_type or "extended_data_protection")
    target = desired.relationship_state
    policy_type = policy_types.get(desired.policy, rel.policy_type) if desired.policy else rel.policy_type
    state = "in_sync" if target == "snapmirrored" and policy_type == "sync" else target
    if not actions and rel.state == state:
        return rel
    changes = dict(state=state, status="quiesced" if target == "paused" else "idle", policy_type=policy_type)
    if desired.policy:
        changes["policy"] = desired.policy
    if desired.schedule is not None:
        changes["schedule"] = desired.schedule or None
    return replace(rel, **changes)


def in_motion(desired, rel):
    """What a relationship that needs no action is still on its way to (the module waits for it), or None."""
    if rel is None or desired.state == "absent":
        return None
    if desired.relationship_state == "snapmirrored" and rel.state == "uninitialized" and rel.busy:
        return "transferred"
    if desired.relationship_state == "paused" and rel.status == "quiescing":
        return "quiesced"
    return None


def summary(rel):
    """The part of a relationship that a diff shows."""
    if rel is None:
        return None
    return dict(source_path=rel.source_path, state=rel.state, status=rel.status, policy=rel.policy, schedule=rel.schedule)


# ---------------------------------------------------------------------- apply
def wait_before(action, rel):
    """What ``rel`` must reach before ``action`` can be sent, or None (ONTAP refuses a break while quiescing)."""
    if action == "break" and rel is not None and rel.status == "quiescing":
        return "quiesced"
    return None


def done_with(desired, taken):
    """``desired`` as a re-plan sees it once ``taken`` ran: a transfer asked for (update, max_lag) is asked for once."""
    if "update" in taken:
        desired = replace(desired, update=False, max_lag=None)
    if "break" in taken and "mount" not in taken:
        desired = replace(desired, broken_now=True)
    return desired


@dataclass
class Step:
    """One relationship while it is being converged."""
    desired: Desired
    rel: Optional[Relationship]
    volume: object = None
    actions: deque = None
    taken: list = None
    waiting: Optional[str] = None     # what the last action must reach before the next one
    since: float = 0.0
    aborted: bool = False
    error: Optional[str] = None
    warnings: list = None
    source_record: bool = False       # the source lists this destination: release it once it is gone
    refused: Optional[tuple] = None   # (action, OntapError) the cluster last refused, pending a re-read
    refusals: int = 0

    def __post_init__(self):
        self.actions = deque(self.actions or [])
        self.taken = []
        self.warnings = []

    @property
    def path(self):
        return self.desired.destination_path


def _reached(step):
    """Whether ``step.waiting`` is reached; raises OntapError when it can no longer be.

    A wait ends at the state it waits for or at any state its action can no longer lead to
    (another admin or a parallel run got there first); the step then plans again from what it read.
    """
    rel, what = step.rel, step.waiting
    if what == "volume":
        return step.volume is not None and step.volume.state == "online"
    if what == "exists":
        return rel is not None
    if what == "settled":
        return rel is None or not rel.busy
    if rel is None:
        raise OntapError("SnapMirror relationship %s disappeared while waiting for it to be %s" % (step.path, what))
    if what in ("transferred", "updated"):
        if rel.busy:
            return False
        if not rel.healthy:
            raise TransferFailed(step.path)
        return True
    if what == "quiesced":
        # REST says paused as soon as a quiesce is asked for; the quiesce is done when its transfer is
        return rel.status != "quiescing" and (rel.state in ("paused", "broken_off") or rel.status == "quiesced")
    if what in ("resumed", "broken_off", "idle"):
        return not rel.busy
    raise AssertionError(what)


class Applier:
    """Runs the plans of many relationships on one destination cluster.

    ``source`` is a callable that returns the source cluster's client (connected on
    first use) or raises OntapError; only release uses it, so failover never needs it.
    After every wait, and after every refusal that says the relationship is not what was
    read ("already exists", "transfer in progress", "not found"), a step plans again
    from what the next read shows: parallel runs converge instead of failing.
    """

    def __init__(self, client, source=None, wait=True, wait_timeout=600, quiesce_timeout=60, clock=None, sleep=None,
                 volume_sizes=None, aggregates=None):
        self.client = client
        self.source = source
        self.wait = wait
        self.wait_timeout = wait_timeout
        self.quiesce_timeout = quiesce_timeout
        self.clock = clock or time.monotonic
        self.sleep = sleep
        self.volume_sizes = volume_sizes or {}
        self.aggregates = aggregates or {}

    def run(self, steps):
        deadline = self.clock() + self.wait_timeout
        pause = 0.1
        while True:
            sent = sum(len(s.taken) for s in steps)
            for step in steps:
                self._advance(step)
            pending = [s for s in steps if s.error is None and (s.waiting or s.actions)]
            if not pending:
                return
            if sum(len(s.taken) for s in steps) == sent:
                # nothing was sent since the last read: give the cluster time before reading again
                (self.sleep or time.sleep)(pause)
                pause = min(pause * 1.5, 2.0)
            else:
                # the requests just sent took time themselves: read at once, the early ones may be done
                pause = 0.1
            self._refresh([s for s in pending if s.waiting])
            if self.clock() > deadline:
                for step in steps:
                    self._advance(step, start_next=False)
                late = [s for s in steps if s.error is None and s.waiting]
                if late:
                    raise WaitTimedOut(self.wait_timeout, late)
                # what remains are actions: they may start, but a wait one of them begins ends at the next read

    def replan(self, step):
        conflict = source_conflict(step.desired, step.rel)
        if conflict:
            raise OntapError(conflict)   # made meanwhile by someone else: never adopted
        return plan(done_with(step.desired, step.taken), step.rel, step.volume, step.source_record)

    def _advance(self, step, start_next=True):
        """Start the step's next actions while nothing is to be waited for."""
        while step.error is None:
            if step.waiting:
                try:
                    if not _reached(step):
                        if step.waiting == "quiesced" and not step.aborted and self.clock() - step.since > self.quiesce_timeout:
                            # quiesce then abort: the transfer did not end within the budget
                            step.aborted = True
                            self._do(step, "abort")
                        return
                except TransferFailed:
                    step.error = "the transfer of SnapMirror relationship %s failed: %s" % (step.path, self._transfer_error(step.rel))
                    return
                except OntapError as exc:
                    step.error = str(exc)
                    return
                step.waiting = None
                try:
                    step.actions = deque(self.replan(step))
                except OntapError as exc:
                    step.error = str(exc)
                    return
                if step.refused:
                    action, exc = step.refused
                    step.refused = None
                    if step.actions and step.actions[0] == action:
                        step.error = str(exc)   # the read shows the refusal was not a race: report it
                        return
            if not step.actions or not start_next:
                return
            action = step.actions.popleft()
            before = wait_before(action, step.rel)
            if before:
                step.actions.appendleft(action)
                self._wait(step, before)
                return
            try:
                self._do(step, action)
            except OntapError as exc:
                if not exc.reread or step.refusals >= MAX_REFUSALS:
                    step.error = str(exc)
                    return
                step.refusals += 1
                step.refused = (action, exc)
                self._wait(step, "volume" if action == "create_volume" else "settled")
            if step.waiting:
                return   # step.rel is from before the action: judge the wait on the next read

    def _wait(self, step, what):
        step.waiting = what
        step.since = self.clock()

    def _do(self, step, action):
        client, rel, d = self.client, step.rel, step.desired
        more = bool(step.actions)
        wait_for = None
        if action == "create_volume":
            svm, name = d.destination_path.split(":")
            client.create_volume(svm, name, self.volume_sizes[d.destination_path], self.aggregates[d.destination_path])
            wait_for = "volume"
        elif action == "create":
            client.create(d.source_path, d.destination_path, policy=d.policy, schedule=d.schedule or None,
                          relationship_type=d.relationship_type)
            wait_for = "exists"
        elif action == "modify":
            client.modify(rel, policy=d.policy if d.policy and d.policy != rel.policy else None,
                          schedule=d.schedule if d.schedule is not None and d.schedule != (rel.schedule or "") else None)
        elif action in ("initialize", "resync"):
            getattr(client, action)(rel)
            wait_for = "transferred" if (more or self.wait) else None
        elif action == "update":
            self._update(step)
            wait_for = "updated" if self.wait else None
        elif action == "resume":
            client.resume(rel)
            wait_for = "resumed" if more else None
        elif action == "quiesce":
            client.quiesce(rel)
            wait_for = "quiesced" if (more or self.wait) else None
        elif action == "abort":
            try:
                aborted = client.abort(rel)
            except OntapError as exc:
                if not exc.no_transfer:
                    raise
                aborted = False
            if not aborted:
                return   # the transfer ended meanwhile: nothing was aborted
            wait_for = step.waiting if step.waiting == "quiesced" else ("idle" if more else None)
        elif action == "break":
            client.break_relationship(rel)
            wait_for = "broken_off" if (more or self.wait) else None
        elif action == "unmount":
            client.unmount_volume(step.volume or d.destination_path)
        elif action == "mount":
            client.mount_volume(step.volume or d.destination_path, d.junction)
        elif action == "delete":
            client.delete(rel)
            wait_for = "settled" if more else None
        elif action == "release":
            if not self._release(step):
                return
        else:
            raise AssertionError(action)
        step.taken.append(action)
        if wait_for:
            self._wait(step, wait_for)

    def _update(self, step):
        """Ask for an update. A refusal because another transfer runs counts as the update only while a read
        shows that transfer running; when it ended before the read (a parallel run's short update), ask again."""
        rel = step.rel
        for attempt in range(MAX_REFUSALS + 1):
            try:
                self.client.update(rel)
                return
            except OntapError as exc:
                if not exc.transfer_in_progress or attempt == MAX_REFUSALS:
                    raise
            self._refresh([step])
            if step.rel is None:
                raise OntapError("SnapMirror relationship %s disappeared while it was being updated" % step.path)
            if step.rel.busy:
                step.warnings.append("%s: a transfer was already running; it counts as the update" % step.path)
                return
            rel = step.rel

    def _transfer_error(self, rel):
        try:
            return self.client.transfer_error(rel) or rel.unhealthy_reason
        except OntapError:
            return rel.last_transfer_error or rel.unhealthy_reason

    def _release(self, step):
        """Release on the source, best effort: the destination is gone already. True when a release was done."""
        src = step.rel.source_path if step.rel else step.desired.source_path
        step.source_record = False
        try:
            if self.source().release(src, step.path):
                return True
        except OntapError as exc:
            step.warnings.append("%s: deleted, but not released on the source: %s; release it there with "
                                 "'snapmirror release -destination-path %s'" % (step.path, exc, step.path))
        return False

    def _refresh(self, steps):
        rel_steps = [s for s in steps if s.waiting != "volume"]
        if rel_steps:
            found = dict((r.destination_path, r) for r in self.client.relationships(destinations=set(s.path for s in rel_steps)))
            for s in rel_steps:
                s.rel = found.get(s.path)
        vol_steps = [s for s in steps if s.waiting == "volume"]
        if vol_steps:
            found = self.client.volumes(set(s.path for s in vol_steps))
            for s in vol_steps:
                s.volume = found.get(s.path)


class TransferFailed(OntapError):
    """The transfer a step waits for ended in failure."""


class WaitTimedOut(Exception):
    def __init__(self, timeout, steps):
        super(WaitTimedOut, self).__init__("timed out after %ss" % timeout)
        self.timeout = timeout
        self.steps = steps
