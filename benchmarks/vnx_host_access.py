#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""N LUNs exposed to one host: N single-LUN vnx_host_access tasks with forks, against one task with option luns.

    python benchmarks/vnx_host_access.py [--luns 10] [--rounds 5] [--json FILE]

Run it with the dev venv (.venv/bin/python, after `make venv`). It uses the collection of this work tree
(ANSIBLE_COLLECTIONS_PATH is set to a link to it) and a fresh simulated array in a temporary VNXSIM_HOME with
N thin LUNs and a registered host whose storage group exists and is connected (made beforehand, not timed).
The host is not this machine, so no loop device is attached: what is measured is the modules and the array
calls. Each round runs, in turn (interleaved, the order alternating per round):

  singles   one ansible-playbook run over N inventory hosts (all this machine, one LUN each) with forks=N, one
            vnx_host_access task (option lun) per host: how the migration role exposes its LUNs today;
  list      one ansible-playbook run of one vnx_host_access task with option luns, all N LUNs.

Then the LUNs are taken away again with the same style (also measured). For each it prints the wall time, the
CPU seconds of ansible-playbook and everything it ran (workers, modules, naviseccli-sim; getrusage of the
children) and the naviseccli calls the simulator counted (`vnx-sim calls`), and checks that the N LUNs were
in the storage group on N distinct HLUs (and out of it after the removal).
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import resource
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import BIN, check_tools, report_singles_vs_list, workspace  # noqa: E402 pylint: disable=wrong-import-position
NAVI = os.path.join(BIN, "naviseccli-sim")
CONN = {"sp_address": "127.0.0.1", "username": "sysadmin", "password": "sysadmin", "naviseccli_path": NAVI}
HOST = "bench01"

SEED = """arrays:
  - address: 127.0.0.1
    serial: CETV00000078
    pools:
      - {name: Pool0, size: 4 TiB}
    users:
      - {name: sysadmin, password: sysadmin, scope: 0}
    hosts:
      - {name: %s, ip: 10.0.0.20, this_machine: false}
    device_dir: %%s/by-id
""" % HOST


def run(cmd, env, **kwargs):
    return subprocess.run(cmd, env=env, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, **kwargs)


def cpu_seconds():
    """User + system CPU seconds of the waited-for children so far (the playbooks and everything they ran)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def playbook(work, env, name, plays, inventory, forks=None):
    """Run the plays; (wall seconds, CPU seconds, naviseccli calls by command)."""
    path = os.path.join(work, name + ".yml")
    with open(path, "w") as f:
        json.dump(plays, f)
    cmd = [os.path.join(BIN, "ansible-playbook"), "-i", inventory, path]
    if forks:
        cmd += ["--forks", str(forks)]
    calls(env, reset=True)
    cpu = cpu_seconds()
    start = time.monotonic()
    try:
        run(cmd, env)
    except subprocess.CalledProcessError as err:
        sys.exit("%s failed:\n%s%s" % (name, err.stdout[-6000:], err.stderr[-2000:]))
    return time.monotonic() - start, cpu_seconds() - cpu, calls(env)


def calls(env, reset=False):
    return json.loads(run([os.path.join(BIN, "vnx-sim"), "calls"] + (["--reset"] if reset else []), env).stdout)


def play(hosts, task):
    return [{"hosts": hosts, "gather_facts": False, "module_defaults": {"group/storage.datamotion.vnx": CONN},
             "tasks": [task]}]


def access(state, **which):
    return {"name": "access", "storage.datamotion.vnx_host_access": dict(which, host=HOST, state=state)}


def group_hlus(env):
    state = json.loads(run([os.path.join(BIN, "vnx-sim"), "state"], env).stdout)
    return [g for g in state["storage_groups"] if g["name"] == HOST][0]["hlus"]


def setup(work, env, args):
    """The array, the LUNs, the inventories, and the host's storage group (made and connected, left empty)."""
    home = env["VNXSIM_HOME"]
    with open(os.path.join(work, "seed.yml"), "w") as f:
        f.write(SEED % home)
    run([os.path.join(BIN, "vnx-sim"), "init", "--seed", os.path.join(work, "seed.yml")], env)
    py = sys.executable
    local = {"ansible_connection": "local", "ansible_python_interpreter": py}
    with open(os.path.join(work, "local.yml"), "w") as f:
        json.dump({"all": {"hosts": {"localhost": local}}}, f)
    luns = ["b%02d" % i for i in range(args.luns)]
    with open(os.path.join(work, "hosts.yml"), "w") as f:
        json.dump({"all": {"hosts": dict(("a%02d" % i, dict(local, bench_lun=n)) for i, n in enumerate(luns))}}, f)
    lun = {"name": "{{ item }}", "pool": "Pool0", "size_gb": 1, "provisioning": "thin"}
    playbook(work, env, "setup", play("localhost", {"name": "luns", "storage.datamotion.vnx_volume": lun, "loop": luns})
             + play("localhost", access("present", luns=luns[:1])) + play("localhost", access("absent", luns=luns[:1])),
             os.path.join(work, "local.yml"))
    return luns


def case(work, env, args, luns, style, rnd):
    """Expose then take away the LUNs in one style: a row per phase."""
    rows = {}
    for state in ("present", "absent"):
        if style == "list":
            measured = playbook(work, env, "%s-%s-%d" % (style, state, rnd), play("localhost", access(state, luns=luns)),
                                os.path.join(work, "local.yml"))
        else:
            measured = playbook(work, env, "%s-%s-%d" % (style, state, rnd), play("all", access(state, lun="{{ bench_lun }}")),
                                os.path.join(work, "hosts.yml"), forks=args.luns)
        hlus = group_hlus(env)
        # forks that lose a race for an HLU take one spread by LUN id (client.attach_to_storage_group): any N distinct
        if state == "present" and len(set(hlus.values())) != len(luns):
            sys.exit("%s round %d: the group holds %s, not %d LUNs" % (style, rnd, hlus, len(luns)))
        if state == "absent" and hlus:
            sys.exit("%s round %d: the group still holds %s" % (style, rnd, hlus))
        wall, cpu, counted = measured
        rows[state] = {"wall": wall, "cpu": cpu, "calls": counted["total"], "commands": counted["commands"]}
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
    with workspace("host-access-bench.") as (work, env):
        luns = setup(work, env, args)
        for rnd in range(args.rounds):
            order = ("singles", "list") if rnd % 2 == 0 else ("list", "singles")
            for style in order:
                results[style].append(case(work, env, args, luns, style, rnd))
            loads.append(os.getloadavg()[0])
            s, lst = results["singles"][-1]["present"], results["list"][-1]["present"]
            print("round %d (%s first), exposure: singles %.1f s, %.1f CPU s, %d calls; list %.1f s, %.1f CPU s, %d calls; "
                  "load %.1f" % (rnd + 1, order[0], s["wall"], s["cpu"], s["calls"], lst["wall"], lst["cpu"], lst["calls"],
                                 loads[-1]), flush=True)

    report_singles_vs_list("%d LUNs to one host" % args.luns, args, loads, results,
                           (("present", "expose"), ("absent", "take away")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
