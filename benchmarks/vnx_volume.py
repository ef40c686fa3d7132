#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""N LUNs made and N snap copies deleted: N single-LUN vnx_volume tasks with forks, against one task with option luns.

    python benchmarks/vnx_volume.py [--luns 10] [--rounds 5] [--json FILE]

Run it with the dev venv (.venv/bin/python). Like vnx_host_access.py (whose plumbing it uses): the collection of
this work tree, a fresh simulated array in a temporary VNXSIM_HOME. The two array steps the migration role runs
vnx_volume for, per LUN: its destination made (a thin LUN of 1 GB) and its snap copy deleted (with the snapshot
vnx_volume_clone made for it). Each round, for each style in turn (interleaved, the order alternating per round):

  singles   one ansible-playbook run over N inventory hosts (all this machine, one LUN each) with forks=N, one
            vnx_volume task (option name) per host: how the migration role runs it today;
  list      one ansible-playbook run of one vnx_volume task with option luns, all N LUNs.

Measured: making the N destinations, then deleting the N snap copies. Not measured: the N snap copies of one
source made before (one vnx_volume_clone task with names), the destinations deleted after (one task with luns).
For each it prints the wall time, the CPU seconds of ansible-playbook and everything it ran (getrusage of the
children) and the naviseccli calls the simulator counted, and checks the LUNs and snapshots on the array.
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import BIN, check_tools, report_singles_vs_list, workspace  # noqa: E402 pylint: disable=wrong-import-position
from vnx_host_access import SEED, play, playbook, run  # noqa: E402 pylint: disable=wrong-import-position


def volume(**options):
    return {"name": "volume", "storage.datamotion.vnx_volume": options}


def array_state(env):
    state = json.loads(run([os.path.join(BIN, "vnx-sim"), "state"], env).stdout)
    return [lun["name"] for lun in state["luns"]], [s["name"] for s in state["snapshots"]]


def setup(work, env, args):
    home = env["VNXSIM_HOME"]
    with open(os.path.join(work, "seed.yml"), "w") as f:
        f.write(SEED % home)
    run([os.path.join(BIN, "vnx-sim"), "init", "--seed", os.path.join(work, "seed.yml")], env)
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    with open(os.path.join(work, "local.yml"), "w") as f:
        json.dump({"all": {"hosts": {"localhost": local}}}, f)
    dests, copies = ["d%02d" % i for i in range(args.luns)], ["c%02d" % i for i in range(args.luns)]
    with open(os.path.join(work, "hosts.yml"), "w") as f:
        json.dump({"all": {"hosts": dict(("a%02d" % i, dict(local, bench_dest=d, bench_copy=c))
                                         for i, (d, c) in enumerate(zip(dests, copies)))}}, f)
    playbook(work, env, "setup", play("localhost", volume(name="src", pool="Pool0", size_gb=1, provisioning="thin")),
             os.path.join(work, "local.yml"))
    return dests, copies


def case(work, env, args, dests, copies, style, rnd):
    """Make the destinations and delete the snap copies in one style: a row per phase."""
    local, hosts = os.path.join(work, "local.yml"), os.path.join(work, "hosts.yml")
    clone = {"name": "copies", "storage.datamotion.vnx_volume_clone": {"names": copies, "source_lun": "src",
                                                                       "copy_mode": "snap"}}
    playbook(work, env, "copies-%s-%d" % (style, rnd), play("localhost", clone), local)
    thin = dict(pool="Pool0", size_gb=1, provisioning="thin")
    if style == "list":
        phases = [("make", play("localhost", volume(luns=[{"name": d} for d in dests], **thin)), local, None),
                  ("delete", play("localhost", volume(luns=[{"name": c} for c in copies], state="absent")), local, None)]
    else:
        phases = [("make", play("all", volume(name="{{ bench_dest }}", **thin)), hosts, args.luns),
                  ("delete", play("all", volume(name="{{ bench_copy }}", state="absent")), hosts, args.luns)]
    rows = {}
    for phase, plays, inventory, forks in phases:
        wall, cpu, counted = playbook(work, env, "%s-%s-%d" % (style, phase, rnd), plays, inventory, forks=forks)
        luns, snaps = array_state(env)
        if phase == "make" and not set(dests) <= set(luns):
            sys.exit("%s round %d: the array has %s, not every one of %s" % (style, rnd, luns, dests))
        if phase == "delete" and (set(copies) & set(luns) or [s for s in snaps if s.startswith("snap-as-vol-c")]):
            sys.exit("%s round %d: snap copies or their snapshots are left: %s %s" % (style, rnd, luns, snaps))
        rows[phase] = {"wall": wall, "cpu": cpu, "calls": counted["total"], "commands": counted["commands"]}
    playbook(work, env, "cleanup-%s-%d" % (style, rnd),
             play("localhost", volume(luns=[{"name": d} for d in dests], state="absent")), local)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--luns", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", help="write the measurements here")
    args = parser.parse_args()
    check_tools("ansible-playbook", "vnx-sim", "naviseccli-sim")
    results = {"singles": [], "list": []}
    loads = []
    with workspace("volume-bench.") as (work, env):
        dests, copies = setup(work, env, args)
        for rnd in range(args.rounds):
            order = ("singles", "list") if rnd % 2 == 0 else ("list", "singles")
            for style in order:
                results[style].append(case(work, env, args, dests, copies, style, rnd))
                loads.append(os.getloadavg()[0])
            s, lst = results["singles"][-1], results["list"][-1]
            print("round %d (%s first): singles make %.1f s %.1f CPU s, delete %.1f s %.1f CPU s; list make %.1f s %.1f CPU s, "
                  "delete %.1f s %.1f CPU s; load %.1f" % (
                      rnd + 1, order[0], s["make"]["wall"], s["make"]["cpu"], s["delete"]["wall"], s["delete"]["cpu"],
                      lst["make"]["wall"], lst["make"]["cpu"], lst["delete"]["wall"], lst["delete"]["cpu"], loads[-1]),
                  flush=True)

    report_singles_vs_list("%d LUNs" % args.luns, args, loads, results,
                           (("make", "make %d thin LUNs" % args.luns), ("delete", "delete %d snap copies" % args.luns)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
