# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build or describe test volume images for the sparse_volume_copy integration tests.

  mkimage.py build PATH SPEC [SEED]   write an image; SPEC is a comma list of KIND:SIZE
                                      with KIND data|zero|hole|random and SIZE like 4096,
                                      64k or 1m (random = data, for an 'old' destination)
  mkimage.py info PATH [SIZE]         describe an image (or the first SIZE bytes of a
                                      block device)

Both print one JSON object: size, allocated (st_blocks * 512; null for a block
device), nonzero (bytes in 4 KiB blocks holding a non-zero byte: what a sparse copy
writes) and nonzero_alloc (those blocks, rounded to 4 KiB: the least a thin copy
occupies).
"""

from __future__ import annotations

import json
import os
import random
import stat
import sys

BLK = 4096
UNITS = {"k": 1024, "m": 1024 * 1024, "g": 1024 ** 3}


def parse_size(text):
    text = text.strip().lower()
    if text and text[-1] in UNITS:
        return int(text[:-1]) * UNITS[text[-1]]
    return int(text)


def build(path, spec, seed):
    rng = random.Random(seed)
    size = 0
    with open(path, "wb") as f:
        for item in spec.split(","):
            kind, length = item.split(":")
            length = parse_size(length)
            if kind in ("data", "random"):
                buf = bytearray(rng.getrandbits(8 * length).to_bytes(length, "little"))
                for i in range(0, length, 512):
                    buf[i] |= 1
                f.write(buf)
            elif kind == "zero":
                f.write(bytes(length))
            elif kind == "hole":
                f.seek(length, os.SEEK_CUR)
            else:
                raise SystemExit("unknown kind %r in %r" % (kind, spec))
            size += length
        f.truncate(size)
        f.flush()
        os.fsync(f.fileno())


def info(path, size=None):
    st = os.stat(path)
    is_file = stat.S_ISREG(st.st_mode)
    nonzero = alloc = 0
    with open(path, "rb") as f:
        if size is None:
            size = st.st_size if is_file else f.seek(0, os.SEEK_END)
            f.seek(0)
        left = size
        while left > 0:
            block = f.read(min(BLK, left))
            if not block:
                break
            if block.count(0) != len(block):
                nonzero += len(block)
                alloc += BLK
            left -= len(block)
    return {"path": path, "size": size, "allocated": st.st_blocks * 512 if is_file else None,
            "nonzero": nonzero, "nonzero_alloc": alloc}


def main(argv):
    if len(argv) >= 3 and argv[0] == "build":
        build(argv[1], argv[2], int(argv[3]) if len(argv) > 3 else 0)
        print(json.dumps(info(argv[1])))
    elif len(argv) >= 2 and argv[0] == "info":
        print(json.dumps(info(argv[1], parse_size(argv[2]) if len(argv) > 2 else None)))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
