# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a command and kill it (its whole process group, SIGKILL) as soon as the ONTAP LUN PATH holds data, or with
--mapped as soon as it is mapped to an igroup.

    kill_mid_copy.py [--used|--mapped] CONTROL_URL PATH RECORD COMMAND...

Prints, as JSON, whether it killed the command, the LUN's used bytes then and the migration record's state then
(RECORD, the role's JSON record of the migration: "copying" shows that the copy had begun and not finished).
"""

from __future__ import absolute_import, division, print_function

import json
import os
import signal
import subprocess
import sys
import time
from urllib.request import urlopen


def used(control, path):
    with urlopen(control + "/state") as answer:
        state = json.load(answer)
    lun = state["dst"]["san"]["luns"].get(path)
    return lun["used"] if lun else 0


def mapped(control, path):
    with urlopen(control + "/state") as answer:
        state = json.load(answer)
    return 1 if any(m["lun"] == path for m in state["dst"]["san"]["maps"]) else 0


def main(argv):
    seen_at = mapped if argv[1] == "--mapped" else used
    argv = argv[1:] if argv[1] in ("--mapped", "--used") else argv
    control, path, record, command = argv[1], argv[2], argv[3], argv[4:]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 600
    while proc.poll() is None and time.time() < deadline:
        seen = seen_at(control, path)
        if seen > 0:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            with open(record) as f:
                state = json.load(f).get("state")
            print(json.dumps({"killed": True, "used": seen, "record_state": state}))
            return 0
        time.sleep(0.05)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    print(json.dumps({"killed": False, "returncode": proc.wait()}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
