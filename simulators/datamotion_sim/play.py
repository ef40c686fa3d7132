# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Signal an ansible-playbook run as a whole: the ``kill_play`` fault of both simulators, and the tests that kill or
pause a run in the middle of a host-side copy.

A run is more than one process group: ansible-core's workers call ``setsid`` when they start, so the module a
worker runs (and what the module runs: naviseccli-sim, a copy) is in the worker's group, not the run's. Signalling
the run's group alone would leave the worker and its module going on to the end of the task.
"""

from __future__ import absolute_import, division, print_function

import os
import signal
import time


def _stat(pid):
    """(state, parent, process group) of a process, or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return fields[0], int(fields[1]), int(fields[2])
    except (OSError, IndexError, ValueError):
        return None


def parent_of(pid):
    st = _stat(pid)
    return st[1] if st else 0


def _processes():
    """{pid: (state, parent, process group)} of every process now."""
    procs = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _stat(int(name))
            if st:
                procs[int(name)] = st
    return procs


def run_processes(leader):
    """{pid: (state, parent, group)} of the run that ``leader`` leads: the leader, its descendants, and every
    process of their process groups (a member whose parent died is still the run's)."""
    procs = _processes()
    children = {}
    for pid, (dummy, parent, dummy2) in procs.items():
        children.setdefault(parent, []).append(pid)
    mine, todo = set(), [leader] if leader in procs else []
    while todo:
        pid = todo.pop()
        mine.add(pid)
        todo.extend(children.get(pid, []))
    groups = set(procs[pid][2] for pid in mine)
    return dict((pid, st) for pid, st in procs.items() if pid in mine or st[2] in groups)


def signal_run(leader, sig):
    """Send ``sig`` (SIGKILL, SIGSTOP or SIGCONT) to every process group of the run that ``leader`` leads. SIGKILL
    stops the run first, so that no worker forks, setsids or is orphaned out of sight between the look and the
    kill; the caller's own group (when the caller is part of the run) is never stopped and is killed last. Only a
    leader of its own process group (a run started with setsid): what started the run is not the run's. Returns
    the groups signalled."""
    if os.getpgid(leader) != leader:
        raise ValueError("process %d does not lead its own process group: it is not a run started in a session of "
                         "its own" % leader)
    if sig != signal.SIGKILL:
        return _signal_groups(leader, sig)
    groups = _signal_groups(leader, signal.SIGSTOP)
    groups |= set(st[2] for st in run_processes(leader).values())
    own = os.getpgid(0)
    for group in sorted(groups, key=lambda g: g == own):
        _killpg(group, signal.SIGKILL)
    return groups


def _signal_groups(leader, sig):
    own, groups = os.getpgid(0), set()
    while True:  # a process that forked into a new group before the signal reached it shows up on the next look
        new = set(st[2] for st in run_processes(leader).values()) - groups
        if not new:
            return groups
        for group in new:
            if not (group == own and sig == signal.SIGSTOP):
                _killpg(group, sig)
        groups |= new


def _killpg(group, sig):
    try:
        os.killpg(group, sig)
    except OSError:
        pass


def left_of(groups):
    """The processes of these groups still there and not dead (a zombie is dead, waiting for its parent)."""
    return sorted(pid for pid, st in _processes().items() if st[2] in groups and st[0] not in "ZX")


def wait_gone(groups, timeout=10):
    """The processes of these groups left after a SIGKILL, once the kernel has had up to ``timeout`` s to end them."""
    deadline = time.time() + timeout
    while left_of(groups) and time.time() < deadline:
        time.sleep(0.02)
    return left_of(groups)


def kill_play(pid):
    """SIGKILL to the whole ansible-playbook run that ``pid`` belongs to (the outermost ansible-playbook process above
    it): its workers, their modules and what those run. Only a run that leads its own process group (started with
    setsid, as the tests start it), so what started the run survives. Returns whether a run was found."""
    play = None
    while pid and pid > 1:
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            break
        if any(os.path.basename(arg).startswith(b"ansible-playbook") for arg in argv[:2]):
            play = pid   # a fork worker first, then the run itself: the outermost one
        elif play:
            break        # what started the run is not the run's
        pid = parent_of(pid)
    try:
        signal_run(play, signal.SIGKILL) if play else None
    except (OSError, ValueError):
        return False
    return bool(play)
