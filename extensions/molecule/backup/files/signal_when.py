# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a playbook in a session of its own and signal its process group as soon as a new file matching a glob appears.

    signal_when.py SPEC_JSON

SPEC: command (argv of the run), glob (the files that match it before the run are not new), min_blocks (the file
must have that many 512-byte blocks allocated: its writing has begun), signal ("KILL": the run is killed as a
cancelled job would be, no always: runs; "STOP": the run is paused, the commands of while_stopped run one after
the other, then it goes on).
Prints JSON: signalled, seen (the file), paired (its manifest, <file>.manifest.json, existed then), rc (of the
run), while_stopped (rc and the end of the output of each command).
"""

from __future__ import absolute_import, division, print_function

import glob
import json
import os
import signal
import subprocess
import sys
import time


def seen_file(pattern, min_blocks, old):
    for path in sorted(set(glob.glob(pattern)) - old):
        try:
            if os.stat(path).st_blocks >= min_blocks:
                return path
        except OSError:
            pass
    return None


def main(argv):
    spec = json.loads(argv[1])
    out = dict(signalled=False, seen=None, paired=None, while_stopped=[])
    old = set(glob.glob(spec["glob"]))
    proc = subprocess.Popen(spec["command"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 600
    while proc.poll() is None and time.time() < deadline:
        path = seen_file(spec["glob"], spec.get("min_blocks", 0), old)
        if path:
            os.killpg(proc.pid, getattr(signal, "SIG" + spec["signal"]))
            out.update(signalled=True, seen=path, paired=os.path.exists(path + ".manifest.json"))
            break
        time.sleep(0.02)
    if out["signalled"] and spec["signal"] == "STOP":
        for command in spec.get("while_stopped", []):
            done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
            out["while_stopped"].append(dict(rc=done.returncode, out=done.stdout.decode("utf-8", "replace")[-3000:]))
        os.killpg(proc.pid, signal.SIGCONT)
    if proc.poll() is None and time.time() >= deadline:
        os.killpg(proc.pid, signal.SIGKILL)
    out["rc"] = proc.wait()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
