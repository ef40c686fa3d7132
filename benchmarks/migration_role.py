#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host migration of N LUNs through the migration role in one play with forks, against single copies.

    python benchmarks/migration_role.py [--luns 10] [--size-gib 2] [--data-mib 64] [--rounds 7] [--json FILE]

Run it with the dev venv (.venv/bin/python, after `make venv`) as root (the simulated VNX exposes LUNs as
loop devices). It uses the collection of this work tree (ANSIBLE_COLLECTIONS_PATH is set to a link to it) and
a fresh simulated array in a temporary VNXSIM_HOME, with N thin source LUNs of --size-gib GiB holding
--data-mib MiB of random data each. Each round runs, in turn (interleaved, the order alternating per round):

  role      one ansible-playbook run of the migration role, method host, over N inventory hosts (all this
            machine, one LUN each) with forks=N: snap copy, exposure, host_lun, sparse_volume_copy with verify,
            release, each into a new thin destination LUN;
  singles   N ansible-playbook runs of one sparse_volume_copy task each (verify on, dest_zeroed on), from a
            source LUN exposed to this machine onto a new thin LUN, set up beforehand (not timed).

It prints the role's wall time, the sum of the single runs' wall times, the copies' own time inside the role
(the longest sparse_volume_copy duration: the copies run in parallel), and the role's overhead: its wall time
less that copy time - everything but the copies. The goal: an overhead under 30 s for 10 LUNs.
Destinations of a round are deleted before the next one (not timed).
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import BIN, spread, workspace  # noqa: E402 pylint: disable=wrong-import-position
NAVI = os.path.join(BIN, "naviseccli-sim")
UNEXPOSE = {"lun": "{{ item }}", "host": "localhost", "state": "absent"}
CONN = {"sp_address": "127.0.0.1", "username": "sysadmin", "password": "sysadmin", "naviseccli_path": NAVI}

SEED = """arrays:
  - address: 127.0.0.1
    serial: CETV00000077
    pools:
      - {name: Pool0, size: 4 TiB}
      - {name: Flash, size: 4 TiB}
    users:
      - {name: sysadmin, password: sysadmin, scope: 0}
    hosts:
      - {name: localhost, ip: 127.0.0.1, this_machine: true}
    device_dir: %s/by-id
"""


def run(cmd, env, **kwargs):
    return subprocess.run(cmd, env=env, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, **kwargs)


def playbook(work, env, name, plays, inventory=None, forks=None):
    path = os.path.join(work, name + ".yml")
    with open(path, "w") as f:
        json.dump(plays, f)
    cmd = [os.path.join(BIN, "ansible-playbook"), "-i", inventory or os.path.join(work, "local.yml"), path]
    if forks:
        cmd += ["--forks", str(forks)]
    start = time.monotonic()
    try:
        run(cmd, env)
    except subprocess.CalledProcessError as err:
        sys.exit("%s failed:\n%s%s" % (name, err.stdout[-6000:], err.stderr[-2000:]))
    return time.monotonic() - start


def cpu_seconds():
    """User + system CPU seconds of the waited-for children so far (the playbooks and everything they ran)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def each(module, args, items):
    """A task that runs the collection's module over items (`{{ item }}` in args)."""
    return {"name": module, "storage.datamotion." + module: args, "loop": items}


def local_play(tasks):
    return [{"hosts": "localhost", "gather_facts": False,
             "module_defaults": {"group/storage.datamotion.vnx": CONN}, "tasks": tasks}]


def state(env):
    return json.loads(run([os.path.join(BIN, "vnx-sim"), "state"], env).stdout)


def setup(work, env, args):
    """The array, the source LUNs with data (written through their exposure), the inventories."""
    home = env["VNXSIM_HOME"]
    with open(os.path.join(work, "seed.yml"), "w") as f:
        f.write(SEED % home)
    run([os.path.join(BIN, "vnx-sim"), "init", "--seed", os.path.join(work, "seed.yml")], env)
    py = sys.executable
    with open(os.path.join(work, "local.yml"), "w") as f:
        json.dump({"all": {"hosts": {"localhost": {"ansible_connection": "local", "ansible_python_interpreter": py}}}}, f)
    hosts = {}
    for i in range(args.luns):
        hosts["mig%02d" % i] = {"ansible_connection": "local", "ansible_python_interpreter": py, "mig_index": i}
    with open(os.path.join(work, "hosts.yml"), "w") as f:
        json.dump({"all": {"hosts": hosts}}, f)
    sources = ["src%02d" % i for i in range(args.luns)]
    lun = {"name": "{{ item }}", "pool": "Pool0", "size_gb": args.size_gib, "provisioning": "thin"}
    playbook(work, env, "sources", local_play([
        each("vnx_volume", lun, sources),
        each("vnx_host_access", {"lun": "{{ item }}", "host": "localhost"}, sources)]))
    for lun in state(env)["luns"]:
        dev = os.path.realpath(lun["link"])
        run(["blockdev", "--setrw", dev], env)   # a reused loop device may keep an earlier read-only flag
        with open(dev, "r+b") as f:
            for start in range(0, args.data_mib, 16):
                f.seek((start * 37 % (args.size_gib * 1024 - 16)) * 1048576)
                f.write(os.urandom(min(16, args.data_mib - start) * 1048576))
            os.fsync(f.fileno())
    playbook(work, env, "unexpose", local_play([each("vnx_host_access", UNEXPOSE, sources)]))
    return sources


def role_case(work, env, args, rnd):
    records = os.path.join(work, "records-%d" % rnd)
    out = os.path.join(work, "role-%d" % rnd)
    os.mkdir(out)
    play = [{"hosts": "all", "gather_facts": False,
             "roles": [{"role": "storage.datamotion.migration", "vars": {
                 "migration_vnx": CONN, "migration_array_host": "localhost",
                 "migration_by_id_dir": os.path.join(env["VNXSIM_HOME"], "by-id"), "migration_state_dir": records,
                 "migration_volumes": [{"method": "host",
                                        "source": {"kind": "vnx_lun", "name": "src{{ '%02d' % mig_index }}"},
                                        "destination": {"kind": "vnx_lun", "name": "r%d_role{{ '%%02d' %% mig_index }}" % rnd,
                                                        "pool": "Flash"}}]}}],
             "post_tasks": [{"name": "keep the copy's result", "delegate_to": "localhost",
                             "ansible.builtin.copy": {"dest": out + "/{{ inventory_hostname }}.json", "mode": "0644",
                                                      "content": "{{ migration_copy | to_json }}"}}]}]
    cpu = cpu_seconds()
    wall = playbook(work, env, "role-%d" % rnd, play, os.path.join(work, "hosts.yml"), forks=args.luns)
    cpu = cpu_seconds() - cpu
    copies = []
    for name in sorted(os.listdir(out)):
        with open(os.path.join(out, name)) as f:
            copies.append(json.load(f))
    if len(copies) != args.luns or not all(c.get("verified") for c in copies):
        sys.exit("role round %d: not every copy was verified: %s" % (rnd, copies))
    longest = max(c["duration"] for c in copies)
    return {"wall": wall, "copy": longest, "overhead": wall - longest, "cpu": cpu,
            "copy_sum": sum(c["duration"] for c in copies)}


def singles_case(work, env, args, rnd, sources):
    dests = ["r%d_one%02d" % (rnd, i) for i in range(args.luns)]
    lun = {"name": "{{ item }}", "pool": "Flash", "size_gb": args.size_gib, "provisioning": "thin"}
    playbook(work, env, "singles-setup-%d" % rnd, local_play([
        each("vnx_volume", lun, dests),
        each("vnx_host_access", {"lun": "{{ item }}", "host": "localhost"}, sources + dests)]))
    links = dict((lun["name"], lun["link"]) for lun in state(env)["luns"])
    walls, durations = [], []
    cpu = cpu_seconds()
    for src, dest in zip(sources, dests):
        out = os.path.join(work, "single-%d-%s.json" % (rnd, dest))
        walls.append(playbook(work, env, "single", local_play([
            {"name": "copy", "register": "copy", "storage.datamotion.sparse_volume_copy": {
                "src": links[src], "dest": links[dest], "dest_zeroed": True, "verify": True}},
            {"name": "keep", "ansible.builtin.copy": {"dest": out, "content": "{{ copy | to_json }}", "mode": "0644"}}])))
        with open(out) as f:
            durations.append(json.load(f)["duration"])
    cpu = cpu_seconds() - cpu
    playbook(work, env, "singles-unexpose-%d" % rnd, local_play([each("vnx_host_access", UNEXPOSE, sources + dests)]))
    return {"wall": sum(walls), "copy_sum": sum(durations), "cpu": cpu}


def drop_round(work, env, rnd):
    names = [lun["name"] for lun in state(env)["luns"] if lun["name"].startswith("r%d_" % rnd)]
    playbook(work, env, "drop-%d" % rnd, local_play([each("vnx_volume", {"name": "{{ item }}", "state": "absent"}, names)]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--luns", type=int, default=10)
    parser.add_argument("--size-gib", type=int, default=2)
    parser.add_argument("--data-mib", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json", help="write the measurements here")
    args = parser.parse_args()
    results = {"role": [], "singles": []}
    with workspace("migration-bench.") as (work, env):
        sources = setup(work, env, args)
        for rnd in range(args.rounds):
            order = ("role", "singles") if rnd % 2 == 0 else ("singles", "role")
            for case in order:
                if case == "role":
                    results["role"].append(role_case(work, env, args, rnd))
                else:
                    results["singles"].append(singles_case(work, env, args, rnd, sources))
            drop_round(work, env, rnd)
            r, s = results["role"][-1], results["singles"][-1]
            print("round %d (%s first): role %.1f s (copies %.1f s, overhead %.1f s, CPU %.1f s); singles %.1f s "
                  "(copies %.1f s, CPU %.1f s); load %.1f" % (rnd + 1, order[0], r["wall"], r["copy"], r["overhead"], r["cpu"],
                                                              s["wall"], s["copy_sum"], s["cpu"], os.getloadavg()[0]),
                  flush=True)

    def med(case, key):
        return statistics.median(r[key] for r in results[case])

    def stats(case, key):
        return spread(r[key] for r in results[case])

    print("\n%d LUNs of %d GiB (%d MiB of data each), %d interleaved rounds, medians:" % (
        args.luns, args.size_gib, args.data_mib, len(results["role"])))

    print("| | wall s min / median / max | copies s | CPU s median |")
    print("|---|---|---|---|")
    print("| role, one play, forks=%d | %s | %.1f (longest; sum %.1f) | %.1f |" % (
        args.luns, stats("role", "wall"), med("role", "copy"), med("role", "copy_sum"), med("role", "cpu")))
    print("| %d single sparse_volume_copy runs, summed | %s | %.1f | %.1f |" % (
        args.luns, stats("singles", "wall"), med("singles", "copy_sum"), med("singles", "cpu")))
    print("role overhead (wall - copies): %.1f s (min %.1f, max %.1f); goal < 30 s" % (
        med("role", "overhead"), min(r["overhead"] for r in results["role"]),
        max(r["overhead"] for r in results["role"])))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(vars(args), results=results), f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
