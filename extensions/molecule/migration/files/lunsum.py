# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Print, as JSON, a digest of the first LENGTH bytes of each named LUN of the simulated VNX or file.

    lunsum.py LENGTH NAME_OR_PATH...      (VNXSIM_HOME names the simulator's state directory)

A LUN is read where the simulator keeps its bytes, for checking only. The digest is a sha256 over the
offset and bytes of every non-zero 64 KiB block (holes are skipped with SEEK_DATA), so equal content gives
equal digests whatever is allocated; a missing LUN or file gives null.
"""

from __future__ import absolute_import, division, print_function

import hashlib
import json
import os
import subprocess
import sys

BLOCK = 65536
ZERO = bytes(BLOCK)


def digest(path, length):
    sha = hashlib.sha256()
    with open(path, "rb") as f:
        fd = f.fileno()
        offset = 0
        while offset < length:
            try:
                offset = os.lseek(fd, offset, os.SEEK_DATA)
            except OSError:  # no data after offset
                break
            end = min(os.lseek(fd, offset, os.SEEK_HOLE), length)
            offset -= offset % BLOCK
            while offset < end:
                chunk = os.pread(fd, min(BLOCK, length - offset), offset)
                if chunk.strip(b"\0"):
                    sha.update(b"%d:" % offset)
                    sha.update(chunk)
                offset += BLOCK
    return sha.hexdigest()


def main(argv):
    length, names = int(argv[1]), argv[2:]
    files = {}
    if any("/" not in name for name in names):
        vnx_sim = os.path.join(os.path.dirname(sys.executable), "vnx-sim")
        state = json.loads(subprocess.check_output([vnx_sim, "state"]))
        files = dict((lun["name"], lun["file"]) for lun in state["luns"])
    sums = {}
    for name in names:
        path = name if "/" in name else files.get(name)
        sums[name] = digest(path, length) if path and os.path.exists(path) else None
    print(json.dumps(sums))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
