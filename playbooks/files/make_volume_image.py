#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make and inspect volume images for the storage.datamotion demo.

Three sub-commands, each printing one JSON object on stdout:

create PATH   a thin image: the file is cut into runs of --run-size bytes; a
              seeded shuffle picks --data-percent of the runs to hold random
              data, --zero-percent to hold written (allocated) zeros, and leaves
              the rest as holes. The same seed always gives the same bytes.
fill PATH     a fully allocated image of non-zero "old" data, standing in for a
              destination volume that still holds somebody else's blocks.
inspect PATH  what a file looks like on disk: size, allocated bytes, mapped
              (SEEK_DATA) bytes, holes, and how many mapped bytes read as zero.

create and fill write to PATH.tmp and rename it, so an interrupted run never
leaves a half-made image at PATH.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys

MIB = 1024 * 1024
UNITS = {"": 1, "K": 1024, "M": MIB, "G": 1024 * MIB}


def parse_size(text):
    """Parse '256M', '4K', '1G' or a plain byte count."""
    text = text.strip().upper().rstrip("B").rstrip("I")
    unit = text[-1:] if text[-1:] in UNITS else ""
    number = text[:-1] if unit else text
    try:
        value = int(number) * UNITS[unit]
    except ValueError:
        raise argparse.ArgumentTypeError("not a size: %r" % text) from None
    if value <= 0:
        raise argparse.ArgumentTypeError("size must be positive: %r" % text)
    return value


def random_bytes(rng, length):
    """Return length pseudo-random bytes from rng (works on every Python 3)."""
    return rng.getrandbits(length * 8).to_bytes(length, "little")


def write_atomically(path, size, writer):
    """Create PATH.tmp of the given size, let writer fill it, then rename it to PATH."""
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.ftruncate(fd, size)
        writer(fd)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        os.unlink(tmp)
        raise
    os.close(fd)
    os.replace(tmp, path)


def plan_runs(size, run_size, data_percent, zero_percent, seed):
    """Return one kind per run ('data', 'zero' or 'hole'), chosen by a seeded shuffle."""
    count = (size + run_size - 1) // run_size
    n_data = int(round(count * data_percent / 100.0))
    n_zero = min(count - n_data, int(round(count * zero_percent / 100.0)))
    order = list(range(count))
    random.Random(seed).shuffle(order)
    kinds = ["hole"] * count
    for index in order[:n_data]:
        kinds[index] = "data"
    for index in order[n_data:n_data + n_zero]:
        kinds[index] = "zero"
    return kinds


def cmd_create(args):
    """Write a thin image with a known mix of data, written zeros and holes."""
    kinds = plan_runs(args.size, args.run_size, args.data_percent, args.zero_percent, args.seed)
    rng = random.Random(args.seed + 1)
    totals = {"data": 0, "zero": 0, "hole": 0}
    extents = []

    def writer(fd):
        for index, kind in enumerate(kinds):
            offset = index * args.run_size
            length = min(args.run_size, args.size - offset)
            totals[kind] += length
            if extents and extents[-1]["kind"] == kind:
                extents[-1]["length"] += length
            else:
                extents.append({"kind": kind, "offset": offset, "length": length})
            if kind == "data":
                os.pwrite(fd, random_bytes(rng, length), offset)
            elif kind == "zero":
                os.pwrite(fd, bytes(length), offset)

    write_atomically(args.path, args.size, writer)
    report = {
        "path": args.path,
        "mode": "create",
        "seed": args.seed,
        "size": args.size,
        "run_size": args.run_size,
        "runs": {kind: kinds.count(kind) for kind in ("data", "zero", "hole")},
        "data_bytes": totals["data"],
        "zero_bytes": totals["zero"],
        "hole_bytes": totals["hole"],
        "extents": len(extents),
    }
    report.update(inspect(args.path, count_zeros=False))
    return report


def cmd_fill(args):
    """Write a fully allocated image of non-zero data (a dirty destination)."""
    rng = random.Random(args.seed)
    # one non-zero MiB pattern, repeated: cheap to write, and no 4 KiB block is all zeros
    pattern = bytes(b | 0x01 for b in random_bytes(rng, MIB))

    def writer(fd):
        offset = 0
        while offset < args.size:
            length = min(MIB, args.size - offset)
            os.pwrite(fd, pattern[:length], offset)
            offset += length

    write_atomically(args.path, args.size, writer)
    report = {"path": args.path, "mode": "fill", "seed": args.seed, "size": args.size}
    report.update(inspect(args.path, count_zeros=False))
    return report


def mapped_extents(fd, size):
    """Yield (offset, length) of the mapped (data) extents using SEEK_DATA/SEEK_HOLE."""
    seek_data = getattr(os, "SEEK_DATA", None)
    seek_hole = getattr(os, "SEEK_HOLE", None)
    if seek_data is None or seek_hole is None:
        if size:
            yield 0, size
        return
    offset = 0
    while offset < size:
        try:
            start = os.lseek(fd, offset, seek_data)
        except OSError:  # ENXIO: no data after offset
            return
        end = min(os.lseek(fd, start, seek_hole), size)
        yield start, end - start
        offset = end


def inspect(path, count_zeros=True):
    """Describe how PATH is stored: size, allocation, mapped extents, zero bytes."""
    st = os.stat(path)
    result = {
        "size": st.st_size,
        "allocated_bytes": st.st_blocks * 512,
        "mapped_bytes": 0,
        "mapped_extents": 0,
    }
    zero_block = bytes(MIB)
    zeros = 0
    fd = os.open(path, os.O_RDONLY)
    try:
        for offset, length in mapped_extents(fd, st.st_size):
            result["mapped_bytes"] += length
            result["mapped_extents"] += 1
            while count_zeros and length > 0:
                chunk = os.pread(fd, min(MIB, length), offset)
                if not chunk:
                    break
                if chunk == zero_block[:len(chunk)]:
                    zeros += len(chunk)
                else:
                    zeros += sum(1 for i in range(0, len(chunk), 4096)
                                 if not chunk[i:i + 4096].strip(b"\0")) * 4096
                offset += len(chunk)
                length -= len(chunk)
    finally:
        os.close(fd)
    result["hole_bytes"] = st.st_size - result["mapped_bytes"]
    if count_zeros:
        result["mapped_zero_bytes"] = zeros
        result["mapped_nonzero_bytes"] = result["mapped_bytes"] - zeros
    return result


def cmd_inspect(args):
    """Report how an existing image is laid out."""
    report = {"path": args.path, "mode": "inspect"}
    report.update(inspect(args.path))
    return report


def build_parser():
    """Command line parser."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="command")
    sub.required = True

    create = sub.add_parser("create", help="write a thin image with a known layout")
    create.add_argument("path")
    create.add_argument("--size", type=parse_size, default=256 * MIB)
    create.add_argument("--run-size", type=parse_size, default=MIB)
    create.add_argument("--data-percent", type=float, default=10.0)
    create.add_argument("--zero-percent", type=float, default=30.0)
    create.add_argument("--seed", type=int, default=20240601)
    create.set_defaults(func=cmd_create)

    fill = sub.add_parser("fill", help="write a fully allocated image of old non-zero data")
    fill.add_argument("path")
    fill.add_argument("--size", type=parse_size, default=256 * MIB)
    fill.add_argument("--seed", type=int, default=7)
    fill.set_defaults(func=cmd_fill)

    insp = sub.add_parser("inspect", help="report the layout of an existing file")
    insp.add_argument("path")
    insp.set_defaults(func=cmd_inspect)
    return parser


def main(argv=None):
    """Entry point."""
    args = build_parser().parse_args(argv)
    if getattr(args, "data_percent", 0) + getattr(args, "zero_percent", 0) > 100:
        sys.stderr.write("--data-percent + --zero-percent must not exceed 100\n")
        return 2
    json.dump(args.func(args), sys.stdout, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
