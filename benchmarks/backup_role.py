#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backup of a LUN through role storage.datamotion.backup, against the naive job, on vnx-sim.

    .venv/bin/python benchmarks/backup_role.py [--size-gib 16] [--data 0.10] [--rounds 7] [--json FILE]

Needs root (the simulator exposes LUNs as loop devices) and the dev venv (ansible-playbook,
storops, vnx-sim next to this Python). One simulated array in a temporary VNXSIM_HOME holds a
thin LUN of --size-gib GiB with --data of it written (random 1 MiB slots, seed 42). Then, in
interleaved rounds:

  role    playbooks/backup_volume.yml: snapshot + mount point, exposed read-only, sparse copy
          to an image file, verified, manifest, teardown;
  naive   a full clone (vnx_volume_clone copy_mode full, waiting for the LUN migration), the
          clone exposed to this host, `dd bs=4M` of it to an image file, then the clone
          unexposed and deleted - the job the seeds' efficient backup replaces.

Per run: wall time and CPU seconds (its own and its children's, simulator calls included) of the
whole ansible-playbook, bytes written to the image, bytes allocated
by the image. The image is deleted after each run. Page caches are not dropped (the machine is
shared); both jobs read data the simulator wrote moments before. Prints min/median/max.

--profile instead runs the role once and prints, per task, its seconds and the naviseccli
calls it made (``vnx-sim calls``, read and reset between tasks by a callback plugin; those
reads add ~0.1 s to each task).
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
BIN = os.path.dirname(os.path.abspath(sys.executable))
MIB = 1 << 20
GIB = 1 << 30

CONN = """
  module_defaults:
    group/storage.datamotion.vnx:
      sp_address: 127.0.0.1
      username: sysadmin
      password: sysadmin
      naviseccli_path: {bin}/naviseccli-sim
"""

SETUP = """
- hosts: localhost
  gather_facts: false
""" + CONN + """
  tasks:
    - storage.datamotion.vnx_volume: {{name: bench, pool: Pool0, size_gb: {size}, provisioning: thin}}
    - storage.datamotion.vnx_host_access: {{lun: bench, host: localhost}}
      register: access
    - ansible.builtin.command:
        argv: ["{python}", "{script}", --write-data, "{home}/by-id/{{{{ access.connection.device_name }}}}",
               --size-gib, "{size}", --data, "{data}"]
    - storage.datamotion.host_lun: {{wwn: "{{{{ access.connection.wwn }}}}", by_id_dir: "{home}/by-id", state: absent}}
    - storage.datamotion.vnx_host_access: {{lun: bench, host: localhost, state: absent}}
"""

NAIVE = """
- hosts: localhost
  gather_facts: false
""" + CONN + """
  tasks:
    - storage.datamotion.vnx_volume_clone: {{name: naive-copy, source_lun: bench, copy_mode: full, wait: true, wait_timeout: 3600}}
    - storage.datamotion.vnx_host_access: {{lun: naive-copy, host: localhost}}
      register: access
    - ansible.builtin.command:
        argv: [dd, "if={home}/by-id/{{{{ access.connection.device_name }}}}", "of={image}", bs=4M, status=none]
    - storage.datamotion.vnx_host_access: {{lun: naive-copy, host: localhost, state: absent}}
    - storage.datamotion.vnx_volume: {{name: naive-copy, state: absent}}
"""


PROFILE_CALLBACK = """
import json, subprocess, time
from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "backup_profile"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.task, self.rows = None, []

    def _calls(self):
        return json.loads(subprocess.run([%(vnxsim)r, "calls", "--reset"], stdout=subprocess.PIPE, check=True).stdout)

    def _close(self):
        if self.task:
            calls = self._calls()
            self.rows.append((time.monotonic() - self.task[1], calls["total"], self.task[0], calls["commands"]))
            self.task = None

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._close()
        self._calls()
        self.task = (task.get_name(), time.monotonic())

    def v2_playbook_on_stats(self, stats):
        self._close()
        with open(%(out)r, "w") as f:
            json.dump(self.rows, f)
"""


def profile(workdir, env, cmd, extra):
    """One run with per-task seconds and naviseccli calls."""
    plugins = os.path.join(workdir, "callback_plugins")
    os.makedirs(plugins, exist_ok=True)
    out = os.path.join(workdir, "profile.json")
    with open(os.path.join(plugins, "backup_profile.py"), "w") as f:
        f.write(PROFILE_CALLBACK % {"vnxsim": os.path.join(BIN, "vnx-sim"), "out": out})
    env = dict(env, ANSIBLE_CALLBACK_PLUGINS=plugins, ANSIBLE_CALLBACKS_ENABLED="backup_profile")
    seconds = run_playbook(cmd, env, extra)
    with open(out) as f:
        rows = json.load(f)
    print("| s | naviseccli calls | task | calls by command |\n|---|---|---|---|")
    for sec, n, name, commands in rows:
        by_command = ", ".join("%s %d" % kv for kv in sorted(commands.items()))
        print("| %.2f | %d | %s | %s |" % (sec, n, name.split(" : ", 1)[-1], by_command))
    print("\nwall %.2f s, %.2f CPU s, %d tasks, %d naviseccli calls, load average %s"
          % (seconds, CPU[-1], len(rows), sum(r[1] for r in rows), " ".join("%.2f" % x for x in os.getloadavg())))


def write_data(path, size_gib, fraction):
    """Random data in `fraction` of the 1 MiB slots of the device (seed 42)."""
    rnd = random.Random(42)
    slots = size_gib * 1024
    chosen = sorted(rnd.sample(range(slots), int(slots * fraction)))
    pool = os.urandom(64 * MIB)
    fd = os.open(path, os.O_WRONLY)
    try:
        for n, slot in enumerate(chosen):
            off = (n * 4099 * 4096) % (63 * MIB)
            os.pwrite(fd, pool[off:off + MIB], slot * MIB)
        os.fsync(fd)
    finally:
        os.close(fd)
    return len(chosen) * MIB


def playbook(workdir, env, text, extra=None):
    path = os.path.join(workdir, "play.yml")
    with open(path, "w") as f:
        f.write(text)
    cmd = [os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", "-c", "local", path]
    return run_playbook(cmd, env, extra)


CPU = []     # CPU seconds of each run_playbook: the playbook, its modules and the simulator's calls


def cpu_seconds():
    """User + system CPU seconds of this process's finished children (and theirs)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_playbook(cmd, env, extra=None):
    if extra:
        cmd = cmd + ["-e", json.dumps(extra)]
    start, cpu0 = time.monotonic(), cpu_seconds()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    seconds = time.monotonic() - start
    CPU.append(cpu_seconds() - cpu0)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout.decode(errors="replace")[-6000:])
        raise SystemExit("ansible-playbook failed: %s" % " ".join(cmd))
    return seconds


def allocated(path):
    return os.stat(path).st_blocks * 512


def stats(values):
    return {"min": round(min(values), 2), "median": round(statistics.median(values), 2), "max": round(max(values), 2)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    ap.add_argument("--size-gib", type=int, default=16)
    ap.add_argument("--data", type=float, default=0.10)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--json")
    ap.add_argument("--profile", action="store_true", help="one role run, seconds and naviseccli calls per task")
    ap.add_argument("--write-data", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.write_data:
        write_data(args.write_data, args.size_gib, args.data)
        return 0
    if os.geteuid() != 0:
        raise SystemExit("needs root: the simulator exposes LUNs as loop devices")
    workdir = tempfile.mkdtemp(prefix="backup_role.")
    home = os.path.join(workdir, "sim")
    try:
        os.makedirs(home)
        colls = os.path.join(workdir, "collections", "ansible_collections", "storage")
        os.makedirs(colls)
        os.symlink(REPO, os.path.join(colls, "datamotion"))
        env = dict(os.environ, VNXSIM_HOME=home, ANSIBLE_COLLECTIONS_PATH=os.path.join(workdir, "collections"),
                   ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_NOCOLOR="1")
        seed = os.path.join(workdir, "seed.yml")
        with open(seed, "w") as f:
            f.write("arrays:\n  - address: 127.0.0.1\n    pools: [{name: Pool0, size: 1 TiB}]\n"
                    "    users: [{name: sysadmin, password: sysadmin, scope: 0}]\n"
                    "    hosts: [{name: localhost, ip: 127.0.0.1, this_machine: true}]\n"
                    "    device_dir: %s/by-id\n" % home)
        subprocess.run([os.path.join(BIN, "vnx-sim"), "init", "--seed", seed], env=env, check=True)
        fmt = dict(bin=BIN, home=home, python=sys.executable, script=os.path.abspath(__file__), size=args.size_gib,
                   data=args.data)
        setup_s = playbook(workdir, env, SETUP.format(**fmt))
        print("setup: %d GiB LUN, %.0f%% data, %.1f s" % (args.size_gib, args.data * 100, setup_s), flush=True)
        backups = os.path.join(workdir, "backups")
        role_vars = {"backup_host": "localhost", "backup_dir": backups, "backup_by_id_dir": home + "/by-id",
                     "backup_volumes": [{"lun": "bench"}], "backup_retention": 1,
                     "vnx_connection": {"sp_address": "127.0.0.1", "username": "sysadmin", "password": "sysadmin",
                                        "naviseccli_path": BIN + "/naviseccli-sim"}}
        role_cmd = [os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", "-c", "local",
                    os.path.join(REPO, "playbooks", "backup_volume.yml")]
        if args.profile:
            profile(workdir, env, role_cmd, role_vars)
            return 0
        rows = {"role": [], "naive": []}
        for rnd in range(args.rounds):
            for job in ("role", "naive"):
                if job == "role":
                    seconds = run_playbook(role_cmd, env, role_vars)
                    lun_dir = os.path.join(backups, "bench")
                    manifest = [n for n in os.listdir(lun_dir) if n.endswith(".img.manifest.json")][0]
                    with open(os.path.join(lun_dir, manifest)) as f:
                        m = json.load(f)
                    image = os.path.join(lun_dir, m["image"])
                    written = m["bytes_written"]
                else:
                    image = os.path.join(workdir, "naive.img")
                    seconds = playbook(workdir, env, NAIVE.format(image=image, **fmt))
                    written = os.path.getsize(image)
                row = {"round": rnd + 1, "seconds": round(seconds, 2), "cpu_seconds": round(CPU[-1], 2),
                       "bytes_written": written,
                       "bytes_allocated": allocated(image)}
                rows[job].append(row)
                print("round %d %-5s %7.2f s  %6.2f CPU s  written %6.2f GiB  allocated %6.2f GiB  load %.2f"
                      % (rnd + 1, job, seconds, CPU[-1], written / GIB, row["bytes_allocated"] / GIB,
                         os.getloadavg()[0]), flush=True)
                if job == "role":
                    shutil.rmtree(backups)
                else:
                    os.unlink(image)
        summary = {}
        for job, rs in rows.items():
            summary[job] = {k: stats([r[k] for r in rs]) for k in ("seconds", "cpu_seconds", "bytes_written", "bytes_allocated")}
        ratio = summary["role"]["seconds"]["median"] / summary["naive"]["seconds"]["median"]
        print("\n| job | wall s min / median / max | CPU s (median) | GiB written (median) | GiB allocated (median) |")
        print("|---|---|---|---|---|")
        for job in ("role", "naive"):
            s = summary[job]
            print("| %s | %.2f / %.2f / %.2f | %.2f | %.2f | %.2f |" % (
                job, s["seconds"]["min"], s["seconds"]["median"], s["seconds"]["max"], s["cpu_seconds"]["median"],
                s["bytes_written"]["median"] / GIB, s["bytes_allocated"]["median"] / GIB))
        print("\nrole / naive wall time (medians): %.3f over %d round(s); load average at the end %s"
              % (ratio, args.rounds, " ".join("%.2f" % x for x in os.getloadavg())))
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"size_gib": args.size_gib, "data": args.data, "rounds": rows, "summary": summary,
                           "ratio": ratio}, f, indent=2)
        return 0
    finally:
        subprocess.call([os.path.join(BIN, "vnx-sim"), "teardown"], env=dict(os.environ, VNXSIM_HOME=home),
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
