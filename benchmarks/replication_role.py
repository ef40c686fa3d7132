#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The replication role at scale: a backend of N volumes and two targets, through the playbooks, against ontap-sim.

    .venv/bin/python benchmarks/replication_role.py [--count 200] [--rounds 1] [--transport rest|zapi]

Per round, from a fresh simulator (clusters src, dr1, dr2):

  ensure     replicate.yml from nothing: 2 x N DP volumes and relationships created and initialized
  no-op      replicate.yml again: nothing to do
  failover   failover.yml with the source offline (least-lag choice included)
  failback   failback.yml (reverse resync, pause point) then with replication_writers_stopped=true

Each phase reports the wall time of ansible-playbook, the CPU seconds of ansible-playbook with its modules and of
the simulator, and the HTTP requests the simulator counted per cluster (GET /control/stats); with --rounds > 1 also
min / median / max. The goal lines check the issue's targets: no-op < 10 s and <= 3 requests per page of
records per cluster, failover of N < 30 s with 0 requests to the source, failback of N < 60 s.
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlsplit

from snapmirror_scale import control   # the simulator's control endpoint, as the other ONTAP benchmark calls it

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PAGE = {"rest": 1000, "zapi": 500}   # records per page of the clients


def seed(count):
    lines = ["clusters:", "  - name: src", "    svms: [{name: svm_be}]", "    aggregates: [{name: aggr1, size: 100TiB}]", "    volumes:"]
    lines += ["      - {svm: svm_be, name: pool%03d, size: 1GiB, junction_path: /pool%03d, used: 16MiB}" % (i, i) for i in range(count)]
    for name in ("dr1", "dr2"):
        lines += ["  - name: %s" % name, "    svms: [{name: svm_%s}]" % name, "    aggregates: [{name: aggr1, size: 100TiB}]"]
    lines += ["peers:"] + ["  - {cluster: src, svm: svm_be, peer_cluster: %s, peer_svm: svm_%s}" % (n, n) for n in ("dr1", "dr2")]
    return "\n".join(lines) + "\n"


def backend(sim, transport):
    def cluster(name):
        url = urlsplit(sim["clusters"][name])
        return {"hostname": url.hostname, "username": "admin", "password": "netapp1!", "port": url.port, "https": False,
                "use_rest": "always" if transport == "rest" else "never"}
    return {"replication_backend": {
        "name": "bench", "source": {"cluster": cluster("src"), "svm": "svm_be", "volumes": ["pool*"]},
        "targets": [{"name": n, "cluster": cluster(n), "svm": "svm_" + n, "aggregate": "aggr1"} for n in ("dr1", "dr2")]},
        "replication_source_timeout": 5, "replication_wait_timeout": 1800}


def cpu_seconds(pid):
    """CPU seconds (user + system) of the process ``pid`` so far, from /proc."""
    with open("/proc/%d/stat" % pid) as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / float(os.sysconf("SC_CLK_TCK"))


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(workdir, sim, playbook, *extra):
    """(wall s, requests per cluster, nothing changed, CPU s of ansible-playbook and its modules, CPU s of the simulator)."""
    control(sim["control"], "/stats/reset", "POST")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(workdir, "collections"), ANSIBLE_NOCOLOR="1")
    cpu, sim_cpu = children_cpu(), cpu_seconds(sim["pid"])
    start = time.monotonic()
    done = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local",
                           "-e", "ansible_python_interpreter=%s" % sys.executable, "-e", "@" + os.path.join(workdir, "backend.json")]
                          + list(extra) + ["storage.datamotion." + playbook],
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    wall = time.monotonic() - start
    cpu, sim_cpu = children_cpu() - cpu, cpu_seconds(sim["pid"]) - sim_cpu
    if done.returncode != 0:
        sys.exit("%s %s failed:\n%s" % (playbook, " ".join(extra), done.stdout[-5000:]))
    stats = control(sim["control"], "/stats")
    return wall, dict((c, stats.get(c, {}).get("total", 0)) for c in ("src", "dr1", "dr2")), \
        "changed=0" in done.stdout.split("PLAY RECAP")[-1], cpu, sim_cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--transport", default="rest", choices=["rest", "zapi"])
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="replication-bench-")
    os.makedirs(os.path.join(workdir, "collections", "ansible_collections", "storage"))
    os.symlink(ROOT, os.path.join(workdir, "collections", "ansible_collections", "storage", "datamotion"))
    with open(os.path.join(workdir, "seed.yml"), "w") as handle:
        handle.write(seed(args.count))
    sim_cmd = [os.path.join(os.path.dirname(sys.executable), "ontap-sim"), "serve", "--seed", os.path.join(workdir, "seed.yml")]
    proc = subprocess.Popen(sim_cmd, stdout=subprocess.PIPE, text=True)
    sim = json.loads(proc.stdout.readline())
    sim["pid"] = proc.pid
    with open(os.path.join(workdir, "backend.json"), "w") as handle:
        json.dump(dict(backend(sim, args.transport), replication_junctions_file=os.path.join(workdir, "junctions.json")), handle)
    pages = -(-args.count // PAGE[args.transport])
    results = []
    try:
        for round_ in range(args.rounds):
            control(sim["control"], "/reset", "POST")
            row = {"round": round_ + 1}
            row["ensure"] = run(workdir, sim, "replicate")
            row["no-op"] = run(workdir, sim, "replicate")
            control(sim["control"], "/clusters/src/offline", "POST")
            row["failover"] = run(workdir, sim, "failover")
            control(sim["control"], "/clusters/src/online", "POST")
            first = run(workdir, sim, "failback")
            second = run(workdir, sim, "failback", "-e", "replication_writers_stopped=true")
            row["failback"] = (first[0] + second[0], dict((c, first[1][c] + second[1][c]) for c in first[1]), second[2],
                               first[3] + second[3], first[4] + second[4])
            results.append(row)
            print("round %d (%d volumes, 2 targets, %s, load average %.1f)" % (round_ + 1, args.count, args.transport, os.getloadavg()[0]))
            print("  %-9s %8s %8s %8s %8s %8s %8s %s" % ("phase", "wall s", "cpu s", "sim cpu", "src req", "dr1 req", "dr2 req", "changed"))
            for phase in ("ensure", "no-op", "failover", "failback"):
                wall, reqs, unchanged, cpu, sim_cpu = row[phase]
                print("  %-9s %8.1f %8.1f %8.1f %8d %8d %8d %s" % (
                    phase, wall, cpu, sim_cpu, reqs["src"], reqs["dr1"], reqs["dr2"], "no" if unchanged else "yes"))
            sys.stdout.flush()
    finally:
        proc.terminate()
        proc.wait(30)
    best = dict((phase, min(results, key=lambda r: r[phase][0])[phase]) for phase in ("ensure", "no-op", "failover", "failback"))
    if len(results) > 1:
        print("over %d rounds: min / median / max wall s (median CPU s of ansible, of the simulator)" % len(results))
        for phase in ("ensure", "no-op", "failover", "failback"):
            walls = sorted(r[phase][0] for r in results)
            print("  %-9s %6.1f / %6.1f / %6.1f  (%.1f, %.1f)" % (
                phase, walls[0], statistics.median(walls), walls[-1],
                statistics.median(r[phase][3] for r in results), statistics.median(r[phase][4] for r in results)))
    noop_wall, noop_reqs, noop_unchanged = best["no-op"][:3]
    goals = [
        ("no-op ensure < 10 s", noop_wall < 10),
        ("no-op ensure <= 3 requests per page per cluster (%d page(s))" % pages, max(noop_reqs.values()) <= 3 * pages),
        ("no-op ensure changes nothing", noop_unchanged),
        ("failover < 30 s", best["failover"][0] < 30),
        ("failover: 0 requests to the source", best["failover"][1]["src"] == 0),
        ("failback < 60 s", best["failback"][0] < 60),
    ]
    for text, ok in goals:
        print("%-70s %s" % (text, "met" if ok else "NOT met"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
