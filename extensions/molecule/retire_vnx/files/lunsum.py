# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Print, as JSON, a digest and the allocated bytes of the first LENGTH bytes of LUNs of both simulators.

    lunsum.py CONTROL_URL LENGTH vnx:NAME|ontap:/vol/VOLUME/LUN...     (VNXSIM_HOME names the VNX's directory)

A LUN is read where its simulator keeps its bytes, for checking only. The digest is a sha256 over the offset
and bytes of every non-zero 64 KiB block (holes are skipped with SEEK_DATA), so equal content gives equal digests
whatever is allocated. Each name gives {"sha", "data": bytes of its non-zero 4 KiB blocks, "allocated": of the backing file}, or null when missing.
"""

from __future__ import absolute_import, division, print_function

import hashlib
import json
import os
import subprocess
import sys
from urllib.request import urlopen

BLOCK = 65536


def digest(path, length):
    """(digest, bytes of the non-zero 4 KiB blocks)"""
    sha = hashlib.sha256()
    data = 0
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
                    data += sum(4096 for i in range(0, len(chunk), 4096) if chunk[i:i + 4096].strip(b"\0"))
                offset += BLOCK
    return sha.hexdigest(), data


def main(argv):
    control, length, names = argv[1], int(argv[2]), argv[3:]
    files = {}
    if any(n.startswith("vnx:") for n in names):
        state = json.loads(subprocess.check_output([os.path.join(os.path.dirname(sys.executable), "vnx-sim"), "state"]))
        files.update(("vnx:" + lun["name"], lun["file"]) for lun in state["luns"])
    if any(n.startswith("ontap:") for n in names):
        with urlopen(control + "/state") as answer:
            state = json.load(answer)
        for cluster in state.values():
            files.update(("ontap:" + path, lun["file"]) for path, lun in cluster["san"]["luns"].items())
    sums = {}
    for name in names:
        path = files.get(name)
        if path and os.path.exists(path):
            sha, data = digest(path, length)
            sums[name] = {"sha": sha, "data": data, "allocated": os.stat(path).st_blocks * 512}
        else:
            sums[name] = None
    print(json.dumps(sums))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
