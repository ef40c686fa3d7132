# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write generations over a device, or check that an image holds one instant of them.

    generations.py write DEVICE FLAG OUT   while FLAG exists: stamp generation g on 1 MiB
                                           blocks 0..63 in order (each written and synced
                                           before the next), g = 1, 2, ...; then print the
                                           last generation to OUT
    generations.py read IMAGE              print the generations of blocks 0..63 (0: none)
"""

from __future__ import absolute_import, division, print_function

import os
import sys

MIB = 1 << 20
BLOCKS = 64


def write(device, flag, out):
    fd = os.open(device, os.O_WRONLY)
    gen = 0
    try:
        while os.path.exists(flag):
            gen += 1
            stamp = (b"GEN%09d" % gen) * (MIB // 12) + b"\0" * (MIB % 12)
            for block in range(BLOCKS):
                os.pwrite(fd, stamp, block * MIB)
                os.fdatasync(fd)
    finally:
        os.close(fd)
    with open(out, "w") as f:
        f.write(str(gen))


def read(image):
    with open(image, "rb") as f:
        gens = []
        for block in range(BLOCKS):
            f.seek(block * MIB)
            head = f.read(12)
            gens.append(int(head[3:]) if head.startswith(b"GEN") else 0)
    print(" ".join(str(g) for g in gens))
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(*sys.argv[2:5])
        sys.exit(0)
    sys.exit(read(sys.argv[2]))
