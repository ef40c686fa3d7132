# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write or read a few bytes of an exposed LUN (a block device or its backing file).

    blocks.py write PATH OFFSET TEXT    write TEXT at OFFSET and flush it to the LUN
    blocks.py read PATH OFFSET LENGTH [PATH OFFSET LENGTH ...]
                                        print LENGTH bytes at OFFSET, read past the page cache,
                                        a line for each place
"""

from __future__ import absolute_import, division, print_function

import os
import sys


def main(argv):
    action, path, offset = argv[1], argv[2], int(argv[3])
    if action == "write":
        fd = os.open(path, os.O_RDWR)
        try:
            os.pwrite(fd, argv[4].encode("ascii"), offset)
            os.fsync(fd)
        finally:
            os.close(fd)
        return 0
    for place in range(2, len(argv), 3):
        path, offset, length = argv[place], int(argv[place + 1]), int(argv[place + 2])
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            data = os.pread(fd, length, offset)
        finally:
            os.close(fd)
        sys.stdout.write(data.decode("ascii", "replace").replace("\x00", ".") + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
