# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Print the sha256 of the first LENGTH bytes of each named LUN of the simulated VNX, as JSON.

    lunsum.py LENGTH NAME...      (VNXSIM_HOME names the simulator's state directory)

It reads the LUN's bytes where the simulator keeps them (a snap copy reads its snapshot), for checking only.
"""

from __future__ import absolute_import, division, print_function

import hashlib
import json
import os
import subprocess
import sys


def main(argv):
    length, names = int(argv[1]), argv[2:]
    vnx_sim = os.path.join(os.path.dirname(sys.executable), "vnx-sim")
    state = json.loads(subprocess.check_output([vnx_sim, "state"]))
    luns = dict((lun["name"], lun) for lun in state["luns"])
    sums = {}
    for name in names:
        if name not in luns:
            sums[name] = None
            continue
        digest = hashlib.sha256()
        left = length
        with open(luns[name]["file"], "rb") as f:
            while left:
                chunk = f.read(min(left, 1 << 20))
                if not chunk:
                    chunk = b"\0" * min(left, 1 << 20)
                digest.update(chunk)
                left -= len(chunk)
        sums[name] = digest.hexdigest()
    print(json.dumps(sums))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
