# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a command (an ansible-playbook run) in a session of its own, wait for a trigger, and signal the whole run
with datamotion_sim.play.signal_run: its workers and their modules too, setsid'ed or not.

    signal_run.py SPEC_JSON

SPEC:
  command       argv of the run
  signal        "KILL" (the run dies as a cancelled job would: no always: runs), or "STOP" (the run is paused, the
                commands of while_stopped run one after the other, then it goes on)
  copy          trigger in the middle of a copy: {"module": "sparse_volume_copy", "min_bytes": N, "total_bytes": T}.
                It fires once a process of the run whose command line names AnsiballZ_<module>.py has written N
                bytes (wchar of /proc/PID/io); that process is stopped at once. T is what the whole copy writes (the
                source's data): the copy must have written less than T when it was stopped, and must not have
                returned, or the signal came too late to prove anything and the script fails.
  file          or trigger as soon as a new file matching this glob is there (files there before the run are old)
  while_stopped argv of each command to run while the run is stopped (STOP only)
  timeout       seconds to wait for the trigger (default 900); the run is killed after it

Prints JSON: signalled, written (bytes the copy had written when it was stopped), seen (the file of a file
trigger), beside (the names in that file's directory then), while_stopped (rc and the end of the output of each
command), left (processes of the run still there after a KILL), rc (of the run), error (why the script failed).
Exits 1 when the trigger never fired, fired too late, or a process of the run survived the KILL.
"""

from __future__ import absolute_import, division, print_function

import glob
import json
import os
import signal
import subprocess
import sys
import time

from datamotion_sim.play import run_processes, signal_run, wait_gone


def io_written(pid):
    """Bytes the process has passed to write calls (all its threads), or None when it is gone."""
    try:
        with open("/proc/%d/io" % pid) as f:
            for line in f:
                if line.startswith("wchar:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def state(pid):
    """The state letter of the process (R, S, D, T, Z...), X when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "X"


def alive(pid):
    """Whether the process is there and not dead (a zombie has returned)."""
    return state(pid) not in "ZX"


def stop(pid):
    """SIGSTOP to the process, and wait until it has stopped (a write it was in has ended): what it wrote then."""
    os.kill(pid, signal.SIGSTOP)
    deadline = time.time() + 5
    while state(pid) not in "TtZX" and time.time() < deadline:
        time.sleep(0.001)
    return io_written(pid)


def module_processes(leader, module):
    """The processes of the run whose command line names the module's AnsiballZ wrapper."""
    name = ("AnsiballZ_%s.py" % module).encode()
    found = []
    for pid in run_processes(leader):
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                if name in f.read():
                    found.append(pid)
        except OSError:
            pass
    return found


def wait_copy(proc, spec, deadline):
    """Wait until a copy process of the run has written min_bytes; stop it at once. Returns (pid, written) or None
    when the run ended first."""
    copy = spec["copy"]
    pids, scanned = [], 0
    while proc.poll() is None and time.time() < deadline:
        if time.time() - scanned > 0.01:  # the run's processes every 10 ms, the copy's progress every 1 ms
            pids, scanned = module_processes(proc.pid, copy["module"]), time.time()
        for pid in pids:
            written = io_written(pid)
            if written is not None and written >= copy["min_bytes"]:
                return pid, stop(pid)
        time.sleep(0.001 if pids else 0.01)
    return None


def wait_file(proc, spec, deadline, old):
    """Wait until a file not in old matches the glob. Returns its path or None when the run ended first."""
    while proc.poll() is None and time.time() < deadline:
        new = sorted(set(glob.glob(spec["file"])) - old)
        if new:
            return new[0]
        time.sleep(0.01)
    return None


def too_late(spec, out, copier):
    """Why the copy trigger proves nothing (the copy had ended when it was stopped), or None."""
    if out["written"] is None or not alive(copier):
        return "the copy had returned when it was stopped"
    if out["written"] >= spec["copy"]["total_bytes"]:
        return "the copy had written %d bytes, all of its %d, when it was stopped" % (out["written"],
                                                                                      spec["copy"]["total_bytes"])
    return None


def run(spec):
    out = dict(signalled=False, written=None, seen=None, beside=None, while_stopped=[], left=[], rc=None, error=None)
    errors = []
    old = set(glob.glob(spec["file"])) if "file" in spec else set()
    proc = subprocess.Popen(spec["command"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + spec.get("timeout", 900)
    copier = None
    if "copy" in spec:
        hit = wait_copy(proc, spec, deadline)
        if hit:
            copier, out["written"] = hit
    else:
        out["seen"] = wait_file(proc, spec, deadline, old)
    fired = copier is not None or out["seen"] is not None
    if fired and proc.poll() is None:
        groups = signal_run(proc.pid, signal.SIGSTOP)
        out["signalled"] = True
        if out["seen"]:
            out["beside"] = sorted(os.listdir(os.path.dirname(out["seen"])))
        late = too_late(spec, out, copier) if copier is not None else None
        if late:
            errors.append(late)
        if spec["signal"] == "STOP":
            for command in spec.get("while_stopped", []):
                done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
                out["while_stopped"].append(dict(rc=done.returncode,
                                                 out=done.stdout.decode("utf-8", "replace")[-3000:]))
            signal_run(proc.pid, signal.SIGCONT)
        else:
            groups |= signal_run(proc.pid, signal.SIGKILL)
            out["left"] = wait_gone(groups)
            if out["left"]:
                errors.append("processes of the run survived the kill: %s" % out["left"])
    elif proc.poll() is None:
        errors.append("no trigger within %s s" % spec.get("timeout", 900))
        signal_run(proc.pid, signal.SIGKILL)
    else:
        errors.append("the run ended (rc %s) before the trigger fired" % proc.returncode)
    out["rc"] = proc.wait()
    out["error"] = "; ".join(errors) or None
    return out


def main(argv):
    out = run(json.loads(argv[1]))
    print(json.dumps(out))
    return 1 if out["error"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
