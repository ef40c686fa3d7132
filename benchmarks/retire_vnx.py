#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Retiring N thin VNX LUNs onto ONTAP with playbooks/retire_vnx.yml, against the usual `dd` per LUN.

    python benchmarks/retire_vnx.py [--luns 10] [--size-gib 4] [--data-percent 10] [--rounds 3] [--parallel 10]
                                    [--json FILE]

Run it with the dev venv (.venv/bin/python, after `make venv`) as root (both simulators expose LUNs as loop
devices). It uses the collection of this work tree (ANSIBLE_COLLECTIONS_PATH is set to a link to it), a fresh
simulated VNX in a temporary VNXSIM_HOME and an ontap-sim, with N thin VNX LUNs of --size-gib GiB of which
--data-percent percent hold random data (16 MiB runs spread over the LUN). Each round runs, in turn (interleaved,
the order alternating per round), on a cluster reset to its seed before each case:

  retire    one ansible-playbook run of playbooks/retire_vnx.yml over the N LUNs: plan, then per LUN a thin ONTAP
            LUN in a new volume, snap copy, exposure, host_lun, sparse_volume_copy with verify, release, report;
            --parallel LUNs at once (retire_parallel, and as many forks);
  dd        the usual script: per LUN `dd if=<VNX LUN> of=<ONTAP LUN> bs=4M oflag=direct conv=fsync`, the LUNs
            created, mapped and exposed beforehand by an Ansible play (not timed), so only the dd runs are timed.

It prints per case the wall time, the CPU seconds of its processes, the bytes written onto ONTAP and the space the
ONTAP LUNs use (the simulator's LUN `used`: allocated bytes of the backing files), with min / median / max over the
rounds. Goals: retire's wall time at most 0.2x dd's, and ONTAP space at most 1.05x the data.
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from urllib.request import Request, urlopen

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import BIN, spread, workspace  # noqa: E402 pylint: disable=wrong-import-position
NAVI = os.path.join(BIN, "naviseccli-sim")
VNX = {"sp_address": "127.0.0.1", "username": "sysadmin", "password": "sysadmin", "naviseccli_path": NAVI}
INITIATOR = "iqn.2026-01.io.datamotion.sim:bench-host"
MIB = 1048576
GIB = 1024 * MIB

VNX_SEED = """arrays:
  - address: 127.0.0.1
    serial: CETV00000078
    pools:
      - {name: Pool0, size: 8 TiB}
    users:
      - {name: sysadmin, password: sysadmin, scope: 0}
    hosts:
      - {name: localhost, ip: 127.0.0.1, this_machine: true}
    device_dir: %s
"""
ONTAP_SEED = """clusters:
  - name: dst
    svms: [{name: svm_san}]
    aggregates: [{name: aggr1, size: 10TiB}]
    users: [{name: admin, password: netapp1!}]
"""


def run(cmd, env, **kwargs):
    return subprocess.run(cmd, env=env, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, **kwargs)


def playbook(work, env, name, plays, extra=None, forks=None):
    path = os.path.join(work, name + ".yml")
    with open(path, "w") as f:
        json.dump(plays, f)
    cmd = [os.path.join(BIN, "ansible-playbook"), "-i", os.path.join(work, "local.yml"), path]
    if extra:
        cmd += ["-e", "@" + extra]
    if forks:
        cmd += ["--forks", str(forks)]
    try:
        run(cmd, env)
    except subprocess.CalledProcessError as err:
        sys.exit("%s failed:\n%s%s" % (name, err.stdout[-6000:], err.stderr[-2000:]))


def control(url, method="GET"):
    with urlopen(Request(url, method=method, data=b"" if method == "POST" else None)) as answer:
        return json.load(answer)


def each(module, args, items):
    """A task that runs the collection's module over items (`{{ item }}` in args)."""
    return {"name": module, "storage.datamotion." + module: args, "loop": items}


def local_play(tasks, ontap):
    return [{"hosts": "localhost", "gather_facts": False,
             "module_defaults": {"group/storage.datamotion.vnx": VNX, "group/storage.datamotion.ontap": ontap},
             "tasks": tasks}]


def vnx_links(env):
    state = json.loads(run([os.path.join(BIN, "vnx-sim"), "state"], env).stdout)
    return dict((lun["name"], lun["link"]) for lun in state["luns"])


def start_ontap(work, env, by_id):
    with open(os.path.join(work, "ontap.yml"), "w") as f:
        f.write(ONTAP_SEED)
    out = open(os.path.join(work, "ontap.ready"), "w+")
    proc = subprocess.Popen([os.path.join(BIN, "ontap-sim"), "serve", "--seed", os.path.join(work, "ontap.yml"),
                             "--state-dir", os.path.join(work, "ontap"), "--device-dir", by_id,
                             "--host-initiator", INITIATOR], env=env, stdout=out, stderr=subprocess.DEVNULL)
    for _attempt in range(300):
        out.seek(0)
        line = out.readline()
        if line.endswith("\n"):
            return proc, json.loads(line)
        time.sleep(0.1)
    proc.kill()
    sys.exit("ontap-sim did not start")


def interpreter(work, args):
    """The Python of the playbooks' modules; with --count, a wrapper that logs each start of it first."""
    if not args.count:
        return sys.executable
    path = os.path.join(work, "python-counted")
    with open(path, "w") as f:
        f.write('#!/bin/sh\nprintf "%%s\\n" "$1" >> %s\nexec %s "$@"\n' % (os.path.join(work, "python-starts"), sys.executable))
    os.chmod(path, 0o755)
    return path


def count_starts(work):
    """The Python starts logged since the last call, by what they ran (a module, or a command of an action)."""
    path = os.path.join(work, "python-starts")
    counts = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                module = re.search(r"AnsiballZ_(\w+)\.py", line)
                what = module.group(1) if module else ("command" if line.strip() == "-c" else line.strip()[:40])
                counts[what] = counts.get(what, 0) + 1
        os.unlink(path)
    return counts


def setup(work, env, args, ontap):
    """The VNX with the source LUNs and their data (written through their exposure); returns the data bytes."""
    by_id = os.path.join(env["VNXSIM_HOME"], "by-id")
    with open(os.path.join(work, "vnx.yml"), "w") as f:
        f.write(VNX_SEED % by_id)
    run([os.path.join(BIN, "vnx-sim"), "init", "--seed", os.path.join(work, "vnx.yml")], env)
    with open(os.path.join(work, "local.yml"), "w") as f:
        json.dump({"all": {"hosts": {"localhost": {"ansible_connection": "local",
                                                   "ansible_python_interpreter": interpreter(work, args)}}}}, f)
    sources = ["old%02d" % i for i in range(args.luns)]
    lun = {"name": "{{ item }}", "pool": "Pool0", "size_gb": args.size_gib, "provisioning": "thin"}
    playbook(work, env, "sources", local_play([
        each("vnx_volume", lun, sources),
        each("vnx_host_access", {"lun": "{{ item }}", "host": "localhost"}, sources)], ontap))
    runs = args.size_gib * 1024 * args.data_percent // 100 // 16
    stride = args.size_gib * 1024 // runs
    links = vnx_links(env)
    for name in sources:
        dev = os.path.realpath(links[name])
        run(["blockdev", "--setrw", dev], env)   # a reused loop device may keep an earlier read-only flag
        with open(dev, "r+b") as f:
            for i in range(runs):
                f.seek(i * stride * MIB)
                f.write(os.urandom(16 * MIB))
            os.fsync(f.fileno())
    playbook(work, env, "unexpose", local_play([
        each("vnx_host_access", {"lun": "{{ item }}", "host": "localhost", "state": "absent"}, sources)], ontap))
    return sources, runs * 16 * MIB * len(sources)


def ontap_luns(ready):
    return control(ready["control"] + "/state")["dst"]["san"]["luns"]


def timed(fn):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    fn()
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def retire_case(work, env, args, rnd, sources, ontap, ready):
    by_id = os.path.join(env["VNXSIM_HOME"], "by-id")
    report = os.path.join(work, "report-%d.json" % rnd)
    extra = os.path.join(work, "retire-%d.json" % rnd)
    with open(extra, "w") as f:
        json.dump({"retire_vnx": VNX, "retire_ontap": ontap, "retire_luns": sources, "retire_svm": "svm_san",
                   "retire_aggregate": "aggr1", "retire_initiators": [INITIATOR], "retire_by_id_dir": by_id,
                   "retire_state_dir": os.path.join(work, "records-%d" % rnd), "retire_hosts": "localhost",
                   "retire_parallel": args.parallel}, f)
    plays = [{"ansible.builtin.import_playbook": "storage.datamotion.retire_vnx"},
             {"hosts": "localhost", "gather_facts": False, "tasks": [
                 {"name": "keep the report", "ansible.builtin.copy": {
                     "dest": report, "mode": "0644", "content": "{{ retire_report | to_json }}"}}]}]
    count_starts(work)
    wall, cpu = timed(lambda: playbook(work, env, "retire-%d" % rnd, plays, extra, forks=args.parallel))
    starts = count_starts(work)
    with open(report) as f:
        rows = json.load(f)
    if len(rows) != len(sources) or not all(r["verified"] for r in rows):
        sys.exit("retire round %d: not every LUN was verified: %s" % (rnd, rows))
    used = sum(lun["used"] for lun in ontap_luns(ready).values())
    return {"wall": wall, "cpu": cpu, "written": sum(r["bytes_written"] for r in rows), "used": used,
            "copies": sum(r["copy_seconds"] for r in rows), "copy_longest": max(r["copy_seconds"] for r in rows),
            "python_starts": starts}


def dd_case(work, env, args, rnd, sources, ontap, ready):
    by_id = os.path.join(env["VNXSIM_HOME"], "by-id")
    lun = {"svm": "svm_san", "volume": "{{ item }}", "name": "{{ item }}", "size": "%dGiB" % args.size_gib,
           "volume_size": "%dGiB" % (args.size_gib + 1), "aggregate": "aggr1"}
    mapping = {"svm": "svm_san", "path": "/vol/{{ item }}/{{ item }}", "igroup": "localhost", "initiators": [INITIATOR]}
    playbook(work, env, "dd-setup-%d" % rnd, local_play([
        each("ontap_lun", lun, sources), each("ontap_lun_map", mapping, sources),
        each("vnx_host_access", {"lun": "{{ item }}", "host": "localhost"}, sources)], ontap))
    links = vnx_links(env)
    targets = dict((path.split("/")[2], os.path.join(by_id, rec["link"])) for path, rec in ontap_luns(ready).items())

    def copy_all():
        for name in sources:
            run(["dd", "if=" + links[name], "of=" + targets[name], "bs=4M", "oflag=direct", "conv=fsync", "status=none"], env)

    wall, cpu = timed(copy_all)
    used = sum(rec["used"] for rec in ontap_luns(ready).values())
    playbook(work, env, "dd-unexpose-%d" % rnd, local_play([
        each("vnx_host_access", {"lun": "{{ item }}", "host": "localhost", "state": "absent"}, sources)], ontap))
    return {"wall": wall, "cpu": cpu, "written": args.size_gib * GIB * len(sources), "used": used}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--luns", type=int, default=10)
    parser.add_argument("--size-gib", type=int, default=4)
    parser.add_argument("--data-percent", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--parallel", type=int, default=10, help="LUNs migrated at once (retire_parallel and forks)")
    parser.add_argument("--json", help="write the measurements here")
    parser.add_argument("--count", action="store_true",
                        help="count the playbook's Python processes (module runs and actions' commands) per run")
    args = parser.parse_args()
    results = {"retire": [], "dd": []}
    cases = {"retire": retire_case, "dd": dd_case}
    with workspace("retire-bench.") as (work, env):
        os.makedirs(os.path.join(env["VNXSIM_HOME"], "by-id"))
        proc, ready = start_ontap(work, env, os.path.join(env["VNXSIM_HOME"], "by-id"))
        port = int(ready["clusters"]["dst"].rsplit(":", 1)[1])
        ontap = {"hostname": "127.0.0.1", "port": port, "https": False, "username": "admin", "password": "netapp1!",
                 "use_rest": "always"}
        try:
            sources, data = setup(work, env, args, ontap)
            for rnd in range(args.rounds):
                order = ("retire", "dd") if rnd % 2 == 0 else ("dd", "retire")
                for case in order:
                    control(ready["control"] + "/reset", "POST")   # no LUN, volume or igroup: the seed again
                    results[case].append(cases[case](work, env, args, rnd, sources, ontap, ready))
                    print("round %d %s: %s" % (rnd + 1, case, json.dumps(results[case][-1])), flush=True)
                r, d = results["retire"][-1], results["dd"][-1]
                print("round %d (%s first): retire %.1f s (copies %.1f s, %.1f CPU s, used %.2f GiB); dd %.1f s (%.1f CPU s, "
                      "used %.2f GiB)" % (rnd + 1, order[0], r["wall"], r["copies"], r["cpu"], r["used"] / GIB, d["wall"],
                                          d["cpu"], d["used"] / GIB), flush=True)
        finally:
            proc.terminate()
            proc.wait()

    def stats(case, key):
        return spread(r[key] for r in results[case])

    def med(case, key):
        return statistics.median(r[key] for r in results[case])

    print("\n%d VNX LUNs of %d GiB with %d %% data (%.2f GiB of data), %d interleaved rounds, min / median / max:" % (
        args.luns, args.size_gib, args.data_percent, data / GIB, len(results["retire"])))
    print("| | wall s | CPU s | written GiB | ONTAP used GiB |")
    print("|---|---|---|---|---|")
    for case, label in (("retire", "retire_vnx.yml"), ("dd", "dd per LUN")):
        print("| %s | %s | %s | %.2f | %.2f |" % (
            label, stats(case, "wall"), stats(case, "cpu"), med(case, "written") / GIB, med(case, "used") / GIB))
    print("retire's copies alone (sparse_volume_copy with verify, summed): %s s; the longest: %s s" % (
        stats("retire", "copies"), stats("retire", "copy_longest")))
    print("retire / dd wall time: %.2f (goal <= 0.2); ONTAP used / data: retire %.3f, dd %.3f (goal <= 1.05)" % (
        med("retire", "wall") / med("dd", "wall"), med("retire", "used") / data, med("dd", "used") / data))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(vars(args), data=data, results=results), f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
