# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the benchmarks that run the collection against vnx-sim share: a scratch workspace whose Ansible uses this
work tree's collection and a simulated array of its own, and the min / median / max of a measurement."""

from __future__ import absolute_import, division, print_function

import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
BIN = os.path.dirname(os.path.abspath(sys.executable))


def check_tools(*tools):
    for tool in tools:
        if not os.path.exists(os.path.join(BIN, tool)):
            sys.exit("%s not found next to %s: run with the dev venv's Python (.venv/bin/python)" % (tool, sys.executable))


@contextlib.contextmanager
def workspace(prefix):
    """(work, env): a scratch directory, and an environment whose ansible-playbook uses this work tree's collection
    and whose vnx-sim keeps its array under it. The array's loop devices and the directory go at the end."""
    work = tempfile.mkdtemp(prefix=prefix)
    coll = os.path.join(work, "collections", "ansible_collections", "storage")
    os.makedirs(coll)
    os.symlink(REPO, os.path.join(coll, "datamotion"))
    env = dict(os.environ, VNXSIM_HOME=os.path.join(work, "vnxsim"), PATH=BIN + os.pathsep + os.environ["PATH"],
               ANSIBLE_COLLECTIONS_PATH=os.path.join(work, "collections"), ANSIBLE_HOST_KEY_CHECKING="False")
    try:
        yield work, env
    finally:
        subprocess.run([os.path.join(BIN, "vnx-sim"), "teardown"], env=env, check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(work, ignore_errors=True)


def spread(values):
    """'min / median / max' of the values, one decimal."""
    values = list(values)
    return "%.1f / %.1f / %.1f" % (min(values), statistics.median(values), max(values))


def report_singles_vs_list(title, args, loads, results, phases):
    """The table of a benchmark that does each phase for args.luns LUNs both ways, one single-LUN task per LUN
    (results["singles"]) and one task with the list (results["list"]); phases: (key, what it does) pairs."""
    def stats(style, phase, key):
        return spread(r[phase][key] for r in results[style])

    print("\n%s, %d interleaved rounds (load average %.1f to %.1f), min / median / max:" % (
        title, args.rounds, min(loads), max(loads)))
    print("| | wall s | CPU s | naviseccli calls |")
    print("|---|---|---|---|")
    for phase, what in phases:
        print("| %s: %d single-LUN tasks, forks=%d | %s | %s | %s |" % (
            what, args.luns, args.luns, stats("singles", phase, "wall"), stats("singles", phase, "cpu"),
            stats("singles", phase, "calls")))
        print("| %s: one task, luns of %d | %s | %s | %s |" % (
            what, args.luns, stats("list", phase, "wall"), stats("list", phase, "cpu"), stats("list", phase, "calls")))
    for style in ("singles", "list"):
        for phase, _what in phases:
            print("%s, %s, last round: %s" % (style, phase, json.dumps(results[style][-1][phase]["commands"], sort_keys=True)))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(vars(args), loads=loads, results=results), f, indent=2)
