#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SnapMirror at scale: ontap_snapmirror against ontap-sim, as ansible-playbook runs it.

    .venv/bin/python benchmarks/snapmirror_scale.py [--count 200] [--forms list,loop] [--transports rest,zapi]

For each form (``list``: one task with ``relationships:``; ``loop``: one task per
relationship, a loop over the module) and transport, from a fresh simulator:

  converge   N relationships from nothing (DP destinations created, initialized)
  no-op      the same play again: nothing to do
  failover   break all N with the source cluster offline (then mount)

Each phase reports wall time of ansible-playbook and the HTTP requests the simulator
counted per cluster (so the ``loop`` form pays N module runs and N reads). The goal
lines at the end check the issue's targets: the no-op re-run of the list form in at
most 3 requests per page of records and under 5 s, the failover under 30 s.
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from urllib import request as urllib_request
from urllib.parse import urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PAGE_SIZE = 1000   # RestClient's default max_records; ZapiClient pages by 500


def seed(count):
    lines = ["clusters:",
             "  - name: src",
             "    svms: [{name: svm_src}]",
             "    aggregates: [{name: aggr1, size: 100TiB}]",
             "    volumes:"]
    lines += ["      - {svm: svm_src, name: pool%03d, size: 1GiB, type: rw, aggregate: aggr1, used: 64MiB}" % i for i in range(count)]
    lines += ["  - name: dst",
              "    svms: [{name: svm_dst}]",
              "    aggregates: [{name: aggr1, size: 100TiB}]",
              "peers:",
              "  - {cluster: src, svm: svm_src, peer_cluster: dst, peer_svm: svm_dst}"]
    return "\n".join(lines) + "\n"


def control(url, path, method="GET", body=None):
    data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
    req = urllib_request.Request(url + path, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib_request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read() or b"{}")


def playbook(form, phase, count, transport, sim):
    src, dst = urlsplit(sim["clusters"]["src"]), urlsplit(sim["clusters"]["dst"])
    conn = {"hostname": dst.hostname, "port": dst.port, "username": "admin", "password": "netapp1!", "https": False,
            "use_rest": "always" if transport == "rest" else "never"}
    source = {"hostname": src.hostname, "port": src.port}
    items = [{"source_path": "svm_src:pool%03d" % i, "destination_path": "svm_dst:pool%03d" % i} for i in range(count)]
    options = {"converge": {"policy": "MirrorAllSnapshots", "schedule": "hourly", "create_destination": {"aggregate": "aggr1"},
                            "source_cluster": source},
               "no-op": {"policy": "MirrorAllSnapshots", "schedule": "hourly", "create_destination": {"aggregate": "aggr1"},
                         "source_cluster": source},
               "failover": {"relationship_state": "broken_off", "source_cluster": source}}[phase]
    if form == "list":
        task = {"name": phase, "storage.datamotion.ontap_snapmirror": dict(options, relationships=items)}
    else:
        args = dict(options, source_path="{{ item.source_path }}", destination_path="{{ item.destination_path }}")
        task = {"name": phase, "storage.datamotion.ontap_snapmirror": args, "loop": items, "loop_control": {"label": "{{ item.destination_path }}"}}
    return [{"hosts": "localhost", "gather_facts": False, "module_defaults": {"group/storage.datamotion.ontap": conn}, "tasks": [task]}]


def run_phase(workdir, form, phase, count, transport, sim):
    path = os.path.join(workdir, "%s-%s-%s.yml" % (form, transport, phase))
    with open(path, "w") as handle:
        json.dump(playbook(form, phase, count, transport, sim), handle)
    control(sim["control"], "/stats/reset", "POST")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(workdir, "collections"), ANSIBLE_FORKS="1",
               ANSIBLE_STDOUT_CALLBACK="default", ANSIBLE_DISPLAY_OK_HOSTS="false", ANSIBLE_NOCOLOR="1")
    start = time.monotonic()
    done = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local",
                           "-e", "ansible_python_interpreter=%s" % sys.executable, path],
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    wall = time.monotonic() - start
    if done.returncode != 0:
        sys.exit("%s %s %s failed:\n%s" % (form, transport, phase, done.stdout[-4000:]))
    stats = control(sim["control"], "/stats")
    return wall, stats.get("dst", {}).get("total", 0), stats.get("src", {}).get("total", 0), "changed=0" in done.stdout.split("PLAY RECAP")[-1]


def wire_latency(base, rounds=20):
    """Seconds per GET /api/cluster over one kept-alive connection, and over a new connection each."""
    import base64
    import http.client
    host = urlsplit(base)
    auth = {"Authorization": "Basic " + base64.b64encode(b"admin:netapp1!").decode()}
    conn = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
    start = time.monotonic()
    for _round in range(rounds):
        conn.request("GET", "/api/cluster?fields=name", headers=auth)
        conn.getresponse().read()
    kept = (time.monotonic() - start) / rounds
    conn.close()
    start = time.monotonic()
    for _round in range(rounds):
        conn = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
        conn.request("GET", "/api/cluster?fields=name", headers=dict(auth, Connection="close"))
        conn.getresponse().read()
        conn.close()
    return kept, (time.monotonic() - start) / rounds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--forms", default="list,loop")
    parser.add_argument("--transports", default="rest,zapi")
    parser.add_argument("--json", help="write the results here too")
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="snapmirror_scale.")
    os.makedirs(os.path.join(workdir, "collections", "ansible_collections", "storage"))
    os.symlink(ROOT, os.path.join(workdir, "collections", "ansible_collections", "storage", "datamotion"))
    with open(os.path.join(workdir, "seed.yml"), "w") as handle:
        handle.write(seed(args.count))
    sim_bin = os.path.join(os.path.dirname(sys.executable), "ontap-sim")
    proc = subprocess.Popen([sim_bin, "serve", "--seed", os.path.join(workdir, "seed.yml")], stdout=subprocess.PIPE, text=True)
    results = []
    try:
        sim = json.loads(proc.stdout.readline())
        kept, fresh = wire_latency(sim["clusters"]["dst"])
        print("simulator round trip: %.1f ms per request on a kept-alive connection, %.1f ms on a new one\n"
              % (kept * 1000, fresh * 1000))
        print("%-5s %-5s %-9s %9s %9s %9s  %s" % ("form", "api", "phase", "wall s", "dst req", "src req", "re-run changed nothing"))
        for form in args.forms.split(","):
            for transport in args.transports.split(","):
                control(sim["control"], "/reset", "POST")
                for phase in ("converge", "no-op", "failover"):
                    if phase == "failover":
                        control(sim["control"], "/clusters/src/offline", "POST")
                    wall, dst_req, src_req, unchanged = run_phase(workdir, form, phase, args.count, transport, sim)
                    control(sim["control"], "/clusters/src/online", "POST")
                    results.append(dict(form=form, transport=transport, phase=phase, wall=round(wall, 2), dst_requests=dst_req,
                                        src_requests=src_req, unchanged=unchanged))
                    print("%-5s %-5s %-9s %9.2f %9d %9d  %s" % (form, transport, phase, wall, dst_req, src_req,
                                                                "yes" if unchanged else "-"), flush=True)
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)

    pages = max(1, -(-args.count // PAGE_SIZE))
    print("\ngoals (list form):")
    for r in results:
        if r["form"] != "list":
            continue
        if r["phase"] == "no-op":
            ok = r["dst_requests"] <= 3 * pages and r["wall"] < 5 and r["unchanged"]
            print("  %s no-op: %d requests for %d page(s) (<= %d), %.2f s (< 5 s): %s"
                  % (r["transport"], r["dst_requests"], pages, 3 * pages, r["wall"], "met" if ok else "NOT met"))
        if r["phase"] == "failover":
            print("  %s failover of %d with the source offline: %.2f s (< 30 s), %d source requests: %s"
                  % (r["transport"], args.count, r["wall"], r["src_requests"], "met" if r["wall"] < 30 and r["src_requests"] == 0 else "NOT met"))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2)


if __name__ == "__main__":
    main()
