#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Snap copies and full copies of a 1 GiB LUN through vnx_volume_clone, on naviseccli-sim.

    python benchmarks/vnx_clones.py [--snap 50] [--full 10] [--json FILE]

Run it with the dev venv (.venv/bin/python, after `make venv`): it needs ansible-playbook,
storops and the simulator (vnx-sim, naviseccli-sim) next to that Python. Each case runs on
a fresh simulated array in a temporary VNXSIM_HOME:

  one task   all snap copies in one vnx_volume_clone task (option names), then all full
             copies in one task;
  per copy   one vnx_volume_clone run per copy (a loop), snap copies then full copies.

For each it prints the wall time of the task and the naviseccli calls it made (the
simulator counts them), per copy and per command. The goal: a snap copy in no more
naviseccli calls than the Cinder VNX driver's flow, and 50 snap copies from one task in
under 20 s.
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

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
BIN = os.path.dirname(os.path.abspath(sys.executable))

# The Cinder driver's snap copy (reference vnx.md 1.2, provider_location known): snap -create,
# lun -list (base), lun -create -type snap, lun -list (SMP) twice, lun -attach.
CINDER_SNAP_COPY_CALLS = 6

PLAY = """
- hosts: localhost
  gather_facts: false
  environment:
    VNXSIM_HOME: "{home}"
  module_defaults:
    group/storage.datamotion.vnx:
      sp_address: 127.0.0.1
      username: sysadmin
      password: sysadmin
      naviseccli_path: "{bin}/naviseccli-sim"
  tasks:
{tasks}
"""

TASKS = {
    "source": """
    - name: source
      storage.datamotion.vnx_volume:
        name: golden
        pool: Pool0
        size_gb: 1
        provisioning: thin
""",
    "one task": """
    - name: copies
      storage.datamotion.vnx_volume_clone:
        names: {names}
        source_lun: golden
        copy_mode: {mode}
""",
    "per copy": """
    - name: copies
      storage.datamotion.vnx_volume_clone:
        name: "{{{{ item }}}}"
        source_lun: golden
        copy_mode: {mode}
      loop: {names}
""",
}


def run(cmd, env, **kwargs):
    return subprocess.run(cmd, env=env, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, **kwargs)


def playbook(workdir, env, home, tasks):
    path = os.path.join(workdir, "play.yml")
    with open(path, "w") as f:
        f.write(PLAY.format(home=home, bin=BIN, tasks=tasks))
    start = time.monotonic()
    try:
        run([os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", "-c", "local", path], env)
    except subprocess.CalledProcessError as e:
        sys.exit("ansible-playbook failed:\n%s" % e.stdout)
    return time.monotonic() - start


def calls(env, reset=False):
    out = run([os.path.join(BIN, "vnx-sim"), "calls"] + (["--reset"] if reset else []), env).stdout
    return json.loads(out) if out.strip().startswith("{") else None


def case(style, n_snap, n_full):
    workdir = tempfile.mkdtemp(prefix="vnx_clones.")
    try:
        home = os.path.join(workdir, "sim")
        os.makedirs(home)
        colls = os.path.join(workdir, "collections", "ansible_collections", "storage")
        os.makedirs(colls)
        os.symlink(REPO, os.path.join(colls, "datamotion"))
        env = dict(os.environ, VNXSIM_HOME=home, ANSIBLE_COLLECTIONS_PATH=os.path.join(workdir, "collections"),
                   ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_NOCOLOR="1")
        run([os.path.join(BIN, "vnx-sim"), "init"], env)
        playbook(workdir, env, home, TASKS["source"])
        rows = []
        for mode, n in (("snap", n_snap), ("full", n_full)):
            if not n:
                continue
            names = json.dumps(["%s-%s-%d" % (mode, style.replace(" ", ""), i) for i in range(n)])
            calls(env, reset=True)
            seconds = playbook(workdir, env, home, TASKS[style].format(names=names, mode=mode))
            counted = calls(env)
            rows.append(dict(style=style, mode=mode, copies=n, seconds=round(seconds, 2),
                             seconds_per_copy=round(seconds / n, 3), calls=counted["total"],
                             calls_per_copy=round(counted["total"] / float(n), 2), commands=counted["commands"]))
        return rows
    finally:
        subprocess.call([os.path.join(BIN, "vnx-sim"), "teardown"], env=dict(os.environ, VNXSIM_HOME=os.path.join(workdir, "sim")),
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(workdir, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snap", type=int, default=50, help="snap copies per case")
    parser.add_argument("--full", type=int, default=10, help="full copies per case")
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args()
    for tool in ("ansible-playbook", "vnx-sim", "naviseccli-sim"):
        if not os.path.exists(os.path.join(BIN, tool)):
            sys.exit("%s not found next to %s: run with the dev venv's Python (.venv/bin/python)" % (tool, sys.executable))
    rows = case("one task", args.snap, args.full) + case("per copy", args.snap, args.full)
    print("%-9s %-5s %6s %9s %10s %7s %10s" % ("style", "mode", "copies", "wall s", "s/copy", "calls", "calls/copy"))
    for r in rows:
        print("%-9s %-5s %6d %9.2f %10.3f %7d %10.2f" % (r["style"], r["mode"], r["copies"], r["seconds"],
                                                         r["seconds_per_copy"], r["calls"], r["calls_per_copy"]))
    print("\nCinder driver's snap copy: %d naviseccli calls (vnx.md 1.2)" % CINDER_SNAP_COPY_CALLS)
    for r in rows:
        print("%s, %s: %s" % (r["style"], r["mode"], json.dumps(r["commands"], sort_keys=True)))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
