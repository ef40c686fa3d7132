# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``kill_play`` fault of both simulators: kill the ansible-playbook run a call comes from, unanswered.

A run is more than one process group: ansible-core's workers call ``setsid`` when they start, so the module a
worker runs (and what the module runs, naviseccli-sim) is in the worker's group, not the run's. Killing the run's
group alone would leave the worker and its module going on to the end of the task.
"""

from __future__ import absolute_import, division, print_function

import os
import signal


def parent_of(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def kill_play(pid):
    """SIGKILL to every process group from ``pid`` up to the outermost ansible-playbook process above it (the run,
    its worker, the module), the group of ``pid`` last. Only a run that leads its own process group (started with
    setsid, as the tests start it), so what started the run survives. Returns whether a run was found."""
    play, groups = None, []
    while pid and pid > 1:
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                argv = f.read().split(b"\0")
            group = os.getpgid(pid)
        except OSError:
            break
        if any(os.path.basename(arg).startswith(b"ansible-playbook") for arg in argv[:2]):
            play = pid   # a fork worker first, then the run itself: the outermost one
        elif play:
            break        # what started the run is not the run's
        if group not in groups:
            groups.append(group)
        pid = parent_of(pid)
    if not play or os.getpgid(play) != play:
        return False
    own = os.getpgid(0)
    for group in sorted(groups, key=lambda g: g == own):
        try:
            os.killpg(group, signal.SIGKILL)
        except OSError:
            pass
    return True
