# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the sparse copy engine (plugins/module_utils/sparse.py).

Every test works on real files (and, where root and losetup are available, real loop
devices) in a temporary directory.  The engine itself is never mocked; a few tests fake
the *platform* (fallocate failing with EOPNOTSUPP) to exercise the zero-method fallback.

Sizes are in 4 KiB blocks, the default zero-detection granularity and the block size of
the ext4/xfs/tmpfs file systems the tests expect to run on.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import random
import re
import shutil
import signal
import stat
import subprocess
import tempfile

import pytest

from ansible_collections.storage.datamotion.plugins.module_utils import sparse
from ansible_collections.storage.datamotion.tests.unit.plugins.module_utils.sparse_helpers import KIB, MIB, SMALL, copy, read

try:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    HAS_HYPOTHESIS = True
except ImportError:  # pragma: no cover - hypothesis is in tests/unit/requirements.txt
    HAS_HYPOTHESIS = False

BLK = 4 * KIB
# Room for file-system metadata counted in st_blocks (an ext4 extent-tree leaf block, ...).
SLACK = 16 * KIB

RESULT_KEYS = {
    "changed", "src", "dest", "src_type", "dest_type", "bytes_total", "bytes_written",
    "bytes_zeroed", "bytes_skipped_zero", "bytes_skipped_hole", "bytes_unchanged",
    "sparse", "sparse_reason", "zero_method", "dest_created", "dest_allocated_before",
    "dest_allocated_after", "duration", "throughput_mib_s", "verified", "digest",
}


# --------------------------------------------------------------------------- helpers

def build_image(path, runs, seed=0):
    """Write a file made of runs ``(kind, length_in_bytes)``; return its content.

    ``data`` runs are random bytes with no all-zero 4 KiB block, ``zero`` runs are
    written (allocated) zeros, ``hole`` runs are left unallocated (seek + final
    truncate).  Runs may have any length, so images need not be block aligned.
    """
    rng = random.Random(seed)
    content = bytearray()
    with open(path, "wb") as f:
        for kind, length in runs:
            if length <= 0:
                continue
            if kind == "data":
                buf = bytearray(rng.randbytes(length))
                for i in range(0, length, 512):
                    buf[i] |= 1  # never an all-zero sector
                f.write(buf)
                content += buf
            elif kind == "zero":
                f.write(bytes(length))
                content += bytes(length)
            elif kind == "hole":
                f.seek(length, os.SEEK_CUR)
                content += bytes(length)
            else:  # pragma: no cover
                raise ValueError(kind)
        f.truncate(len(content))
        f.flush()
        os.fsync(f.fileno())
    return bytes(content)


def random_file(path, size, seed=1):
    """A fully allocated file of random bytes (an 'old' destination)."""
    data = random.Random(seed).randbytes(size)
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    return data


def allocated(path):
    return os.stat(path).st_blocks * 512


def nonzero_bytes(content):
    """Bytes a sparse copy has to write: every 4 KiB block holding a non-zero byte."""
    total = 0
    for off in range(0, len(content), BLK):
        block = content[off:off + BLK]
        if block.count(0) != len(block):
            total += len(block)
    return total


def nonzero_alloc(content):
    """Allocation (4 KiB granular) a thin copy of ``content`` needs."""
    return sum(BLK for off in range(0, len(content), BLK)
               if content[off:off + BLK].count(0) != len(content[off:off + BLK]))


def zero_full_blocks(content):
    """Offsets of the whole 4 KiB blocks that are all zero."""
    zero = bytes(BLK)
    return [off for off in range(0, len(content) - BLK + 1, BLK) if content[off:off + BLK] == zero]


def data_extents(path):
    """(start, end) of the data extents of a regular file, by SEEK_DATA/SEEK_HOLE."""
    extents = []
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        pos = 0
        while pos < size:
            try:
                start = os.lseek(fd, pos, os.SEEK_DATA)
            except OSError as e:
                if e.errno == errno.ENXIO:
                    break
                raise
            end = os.lseek(fd, start, os.SEEK_HOLE)
            extents.append((start, end))
            pos = end
    finally:
        os.close(fd)
    return extents


def assert_zero_blocks_are_holes(path, content):
    """Each all-zero 4 KiB block of the source is a hole in the copy."""
    extents = data_extents(path)
    allocated_zero = []
    for off in zero_full_blocks(content):
        for start, end in extents:
            if start < off + BLK and off < end:
                allocated_zero.append(off)
                break
    assert not allocated_zero, (
        "%d all-zero 4 KiB blocks of the source are allocated in %s (first offsets: %s)"
        % (len(allocated_zero), path, allocated_zero[:8]))


def snapshot(path):
    """What must not change when nothing is written: content, size and mtime."""
    st_ = os.stat(path)
    return hashlib.sha256(read(path)).hexdigest(), st_.st_size, st_.st_mtime_ns


def age(path):
    """Give a file an old mtime, so an unwanted write or truncate is visible."""
    os.utime(path, ns=(1_000_000_000 * 10**9, 1_000_000_000 * 10**9))


def assert_counters(res, content=None):
    """The documented invariant on the byte counters (see CopyResult in sparse.py)."""
    for key in ("bytes_total", "bytes_written", "bytes_zeroed", "bytes_skipped_zero",
                "bytes_skipped_hole", "bytes_unchanged"):
        assert isinstance(res[key], int) and res[key] >= 0, (key, res[key])
    if content is not None:
        assert res["bytes_total"] == len(content)
    # Every source byte is accounted for exactly once: written, or left/made zero on the
    # destination (skipped written zeros, skipped holes, zeroed), or already equal.
    accounted = (res["bytes_written"] + res["bytes_skipped_zero"] + res["bytes_skipped_hole"]
                 + res["bytes_unchanged"])
    assert accounted == res["bytes_total"], res
    # bytes_zeroed is the part of the skipped ranges that zero_method had to zero.
    assert res["bytes_zeroed"] <= res["bytes_skipped_zero"] + res["bytes_skipped_hole"], res


@contextlib.contextmanager
def time_limit(seconds, what):
    """Fail instead of hanging (e.g. an engine that open()s a fifo blocks forever)."""
    def on_alarm(signum, frame):
        raise TimeoutError("%s did not return within %ss" % (what, seconds))
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


MIXED = [("data", 40 * KIB), ("zero", 64 * KIB), ("hole", 128 * KIB), ("data", 4 * KIB),
         ("zero", 20 * KIB), ("data", 100 * KIB), ("hole", 256 * KIB), ("data", 12 * KIB),
         ("zero", 8 * KIB), ("hole", 64 * KIB)]


@pytest.fixture
def mixed(tmp_path):
    """A 696 KiB source with data, written zeros and holes (ending in a hole)."""
    src = tmp_path / "src.img"
    content = build_image(src, MIXED, seed=7)
    return src, content


# ------------------------------------------------------------- fresh file destination

def test_fresh_dest_exact_and_thin(tmp_path, mixed):
    src, content = mixed
    dest = tmp_path / "dest.img"
    res = copy(src, dest, **SMALL)

    assert RESULT_KEYS <= set(res), RESULT_KEYS - set(res)
    assert read(dest) == content
    assert os.path.getsize(dest) == len(content)
    assert res["changed"] is True
    assert res["dest_created"] is True
    assert res["src_type"] == "file" and res["dest_type"] == "file"
    assert res["src"] == str(src) and res["dest"] == str(dest)
    assert res["sparse"] is True and isinstance(res["sparse_reason"], str) and res["sparse_reason"]
    assert res["zero_method"] == "skip"
    assert res["bytes_total"] == len(content)
    assert res["bytes_written"] == nonzero_bytes(content)
    assert res["bytes_zeroed"] == 0
    assert res["bytes_unchanged"] == 0
    assert res["bytes_skipped_hole"] > 0 and res["bytes_skipped_zero"] > 0
    assert res["bytes_skipped_zero"] + res["bytes_skipped_hole"] == len(content) - nonzero_bytes(content)
    assert_counters(res, content)
    # never more allocated than the non-zero data (plus fs metadata)
    assert allocated(dest) <= nonzero_alloc(content) + SLACK
    assert res["dest_allocated_after"] == allocated(dest)
    assert res["dest_allocated_before"] in (None, 0)
    assert_zero_blocks_are_holes(dest, content)
    assert res["verified"] is False
    assert res["duration"] >= 0 and res["throughput_mib_s"] >= 0


def test_written_zeros_in_source_become_holes(tmp_path):
    src = tmp_path / "zeros.img"
    content = build_image(src, [("zero", 1 * MIB)])
    assert allocated(src) >= 1 * MIB  # the source really has them allocated
    dest = tmp_path / "dest.img"
    res = copy(src, dest, **SMALL)
    assert read(dest) == content
    assert allocated(dest) <= SLACK
    assert res["bytes_written"] == 0
    assert res["bytes_skipped_zero"] == 1 * MIB and res["bytes_skipped_hole"] == 0
    assert_counters(res, content)


def test_all_hole_source(tmp_path):
    src = tmp_path / "holes.img"
    content = build_image(src, [("hole", 3 * MIB + 123)])
    dest = tmp_path / "dest.img"
    res = copy(src, dest, **SMALL)
    assert os.path.getsize(dest) == len(content)
    assert read(dest) == content
    assert allocated(dest) == 0
    assert res["bytes_written"] == 0 and res["bytes_skipped_zero"] == 0
    assert res["bytes_skipped_hole"] == len(content)
    assert_counters(res, content)


def test_empty_source(tmp_path):
    src = tmp_path / "empty.img"
    src.write_bytes(b"")
    dest = tmp_path / "dest.img"
    res = copy(src, dest)
    assert dest.exists() and os.path.getsize(dest) == 0
    assert res["bytes_total"] == 0 and res["bytes_written"] == 0
    assert_counters(res, b"")


@pytest.mark.parametrize("tail_kind", ["data", "zero", "hole"])
def test_unaligned_size(tmp_path, tail_kind):
    src = tmp_path / "src.img"
    content = build_image(src, [("data", 8 * KIB), ("hole", 64 * KIB), (tail_kind, 1000)])
    assert len(content) % BLK == 1000
    dest = tmp_path / "dest.img"
    res = copy(src, dest, **SMALL)
    assert read(dest) == content
    assert allocated(dest) <= nonzero_alloc(content) + SLACK
    assert_counters(res, content)


def test_zero_detection_granularity(tmp_path):
    """One non-zero byte per 64 KiB: only its 4 KiB block is written."""
    src = tmp_path / "src.img"
    content = bytearray(1 * MIB)
    for off in range(0, len(content), 64 * KIB):
        content[off + 5000] = 0xFF  # in the second 4 KiB block of each 64 KiB chunk
    src.write_bytes(bytes(content))
    dest = tmp_path / "dest.img"
    res = copy(src, dest, block_size=64 * KIB, zero_block_size=4 * KIB)
    assert read(dest) == bytes(content)
    assert res["bytes_written"] == 16 * BLK
    assert allocated(dest) <= 16 * BLK + SLACK
    assert_zero_blocks_are_holes(dest, content)
    assert_counters(res, content)


def test_large_zero_block_size_writes_more(tmp_path):
    """zero_block_size is the detection grain: at 64 KiB each sparse chunk is written whole."""
    src = tmp_path / "src.img"
    content = bytearray(1 * MIB)
    for off in range(0, len(content), 128 * KIB):
        content[off + 10] = 1
    src.write_bytes(bytes(content))
    dest = tmp_path / "dest.img"
    res = copy(src, dest, block_size=128 * KIB, zero_block_size=64 * KIB)
    assert read(dest) == bytes(content)
    assert res["bytes_written"] == 8 * 64 * KIB
    assert_counters(res, content)


def test_sparse_always_on_fresh_file(tmp_path, mixed):
    src, content = mixed
    dest = tmp_path / "dest.img"
    res = copy(src, dest, sparse="always", **SMALL)
    assert read(dest) == content
    assert res["sparse"] is True
    assert allocated(dest) <= nonzero_alloc(content) + SLACK
    assert_counters(res, content)


def test_sparse_never_writes_every_byte(tmp_path, mixed):
    src, content = mixed
    dest = tmp_path / "dest.img"
    res = copy(src, dest, sparse="never", **SMALL)
    assert read(dest) == content
    assert res["sparse"] is False
    assert res["bytes_written"] == len(content)
    assert res["bytes_skipped_zero"] == 0 and res["bytes_skipped_hole"] == 0
    assert res["bytes_zeroed"] == 0
    assert res["zero_method"] == "none"
    assert allocated(dest) >= len(content) // BLK * BLK  # fully allocated
    assert data_extents(dest) == [(0, len(content))]
    assert_counters(res, content)


def test_sparse_never_is_idempotent(tmp_path, mixed):
    src, content = mixed
    dest = tmp_path / "dest.img"
    copy(src, dest, sparse="never", **SMALL)
    age(dest)
    before = snapshot(dest)
    res = copy(src, dest, sparse="never", **SMALL)
    assert res["changed"] is False and res["bytes_written"] == 0
    assert snapshot(dest) == before


# ------------------------------------------------------------- dirty file destination

@pytest.mark.parametrize("old_size", ["same", "smaller", "larger"])
def test_dirty_dest_is_overwritten_exactly(tmp_path, mixed, old_size):
    src, content = mixed
    dest = tmp_path / "dest.img"
    size = {"same": len(content), "smaller": len(content) // 3, "larger": len(content) * 2 + 777}[old_size]
    random_file(dest, size, seed=99)
    res = copy(src, dest, **SMALL)

    assert read(dest) == content, "stale data left behind on a dirty destination"
    assert os.path.getsize(dest) == len(content)
    assert res["changed"] is True and res["dest_created"] is False
    assert res["zero_method"] in ("punch", "zeroout", "write")
    assert res["bytes_zeroed"] > 0
    assert res["dest_allocated_before"] >= size // BLK * BLK
    # the default punches: the zero ranges end up as holes and the dest is thin again
    assert res["zero_method"] == "punch"
    assert allocated(dest) <= nonzero_alloc(content) + SLACK
    assert_zero_blocks_are_holes(dest, content)
    assert res["dest_allocated_after"] == allocated(dest)
    assert_counters(res, content)


def test_dirty_dest_with_unaligned_old_size_is_thin(tmp_path):
    """The old destination's size is not 4 KiB aligned: the zero block that straddles
    its old end of file must end up a hole too (not zeroed in place and left allocated)."""
    src = tmp_path / "src.img"
    content = build_image(src, [("data", 8 * KIB), ("zero", 8 * KIB)])
    dest = tmp_path / "dest.img"
    random_file(dest, 8 * KIB + 100, seed=17)
    res = copy(src, dest, **SMALL)
    assert read(dest) == content
    assert_zero_blocks_are_holes(dest, content)
    assert allocated(dest) <= 8 * KIB
    assert_counters(res, content)


def test_dest_zeroed_false_on_fresh_dest_is_still_exact(tmp_path, mixed):
    src, content = mixed
    dest = tmp_path / "dest.img"
    res = copy(src, dest, dest_zeroed=False, **SMALL)
    assert read(dest) == content
    assert allocated(dest) <= nonzero_alloc(content) + SLACK
    assert_counters(res, content)


def test_dest_zeroed_true_on_dirty_file_is_checked_against_its_map(tmp_path, mixed):
    """Documented: the promise is used only where it cannot be checked. A file tells
    which ranges are allocated, and those are zeroed anyway: no old data survives."""
    src, content = mixed
    dest = tmp_path / "dest.img"
    random_file(dest, len(content), seed=5)
    res = copy(src, dest, dest_zeroed=True, **SMALL)
    assert read(dest) == content
    assert res["bytes_zeroed"] > 0
    assert allocated(dest) <= nonzero_alloc(content) + SLACK
    assert_counters(res, content)


def test_dest_zeroed_true_on_really_zeroed_dest(tmp_path, mixed):
    """Used as intended (dest pre-zeroed, e.g. freshly truncated), the copy is exact."""
    src, content = mixed
    dest = tmp_path / "dest.img"
    with open(dest, "wb") as f:
        f.truncate(len(content))
    res = copy(src, dest, dest_zeroed=True, **SMALL)
    assert read(dest) == content
    assert res["zero_method"] in ("skip", "none") and res["bytes_zeroed"] == 0
    assert allocated(dest) <= nonzero_alloc(content) + SLACK


@pytest.mark.parametrize("method", ["punch", "write"])
def test_explicit_zero_method_on_dirty_file(tmp_path, mixed, method):
    src, content = mixed
    dest = tmp_path / "dest.img"
    random_file(dest, len(content), seed=3)
    res = copy(src, dest, zero_method=method, **SMALL)
    assert read(dest) == content
    assert res["zero_method"] == method
    assert res["bytes_zeroed"] > 0
    if method == "punch":
        assert allocated(dest) <= nonzero_alloc(content) + SLACK
    assert_counters(res, content)


def test_discard_after_copy_fresh(tmp_path, mixed):
    src, content = mixed
    dest = tmp_path / "dest.img"
    res = copy(src, dest, discard_after_copy=True, **SMALL)
    assert read(dest) == content
    assert allocated(dest) <= nonzero_alloc(content) + SLACK
    assert_zero_blocks_are_holes(dest, content)
    assert res["changed"] is True


def test_discard_after_copy_dirty(tmp_path, mixed):
    src, content = mixed
    dest = tmp_path / "dest.img"
    random_file(dest, len(content) + 8192, seed=11)
    res = copy(src, dest, discard_after_copy=True, **SMALL)
    assert read(dest) == content
    assert allocated(dest) <= nonzero_alloc(content) + SLACK
    assert_zero_blocks_are_holes(dest, content)
    assert res["changed"] is True


# --------------------------------------------------------------- idempotence / resume

@pytest.mark.parametrize("first", ["fresh", "dirty"])
def test_rerun_is_idempotent(tmp_path, mixed, first):
    src, content = mixed
    dest = tmp_path / "dest.img"
    if first == "dirty":
        random_file(dest, len(content), seed=8)
    copy(src, dest, **SMALL)
    age(dest)
    before = snapshot(dest)
    alloc_before = allocated(dest)

    res = copy(src, dest, **SMALL)
    assert res["changed"] is False
    assert res["bytes_written"] == 0 and res["bytes_zeroed"] == 0
    assert res["dest_created"] is False
    assert snapshot(dest) == before, "dest content, size or mtime changed on a no-op rerun"
    assert allocated(dest) == alloc_before
    assert_counters(res, content)


def test_rerun_with_verify_is_idempotent(tmp_path, mixed):
    src, content = mixed
    dest = tmp_path / "dest.img"
    first = copy(src, dest, verify=True, **SMALL)
    age(dest)
    before = snapshot(dest)
    res = copy(src, dest, verify=True, **SMALL)
    assert res["changed"] is False and res["verified"] is True
    assert res["digest"] == first["digest"]
    assert snapshot(dest) == before


def test_rerun_is_idempotent_with_unaligned_zero_tail_on_dirty_dest(tmp_path):
    """A zero range that does not end on a file-system block (the source's size is
    not 4 KiB aligned) cannot be deallocated by a punch; the rerun must still see
    that it reads zeros and do nothing."""
    src = tmp_path / "src.img"
    content = build_image(src, [("data", 8 * KIB), ("zero", 1000)])
    dest = tmp_path / "dest.img"
    random_file(dest, len(content), seed=14)
    copy(src, dest, **SMALL)
    assert read(dest) == content
    age(dest)
    before = snapshot(dest)
    res = copy(src, dest, **SMALL)
    assert res["changed"] is False, res
    assert res["bytes_written"] == 0 and res["bytes_zeroed"] == 0
    assert snapshot(dest) == before


@pytest.mark.parametrize("dest_state", ["fresh", "dirty"])
def test_rerun_is_idempotent_with_sub_block_zero_grain(tmp_path, dest_state):
    """zero_block_size=512: a zero sector inside a data block stays allocated on the
    destination (the file system allocates 4 KiB); a rerun must not zero it again."""
    src = tmp_path / "src.img"
    data = bytearray(random.Random(15).randbytes(64 * KIB))
    for i in range(0, len(data), 512):
        data[i] |= 1
    data[4096:4608] = bytes(512)
    src.write_bytes(bytes(data))
    dest = tmp_path / "dest.img"
    if dest_state == "dirty":
        random_file(dest, len(data), seed=16)
    opts = dict(block_size=64 * KIB, zero_block_size=512)
    copy(src, dest, **opts)
    assert read(dest) == bytes(data)
    age(dest)
    before = snapshot(dest)
    res = copy(src, dest, **opts)
    assert res["changed"] is False, res
    assert res["bytes_written"] == 0 and res["bytes_zeroed"] == 0
    assert snapshot(dest) == before


@pytest.mark.parametrize("shape", ["truncated", "rest_is_old_data", "rest_is_hole"])
def test_interrupted_copy_resumes(tmp_path, shape):
    src = tmp_path / "src.img"
    content = build_image(src, [("data", 256 * KIB), ("hole", 64 * KIB), ("data", 192 * KIB),
                                ("zero", 64 * KIB), ("data", 256 * KIB), ("hole", 128 * KIB), ("data", 64 * KIB)])
    half = len(content) // 2
    dest = tmp_path / "dest.img"
    if shape == "truncated":      # the copy died after writing the first half (no final truncate)
        dest.write_bytes(content[:half])
    elif shape == "rest_is_old_data":
        dest.write_bytes(content[:half] + random.Random(2).randbytes(len(content) - half))
    else:                         # size set first, then died half way
        dest.write_bytes(content[:half])
        os.truncate(dest, len(content))

    res = copy(src, dest, **SMALL)
    assert read(dest) == content
    assert res["changed"] is True
    assert res["bytes_unchanged"] > 0
    # the first half was not rewritten
    assert res["bytes_unchanged"] >= nonzero_bytes(content[:half]) - 64 * KIB
    assert res["bytes_written"] <= nonzero_bytes(content[half:]) + 64 * KIB
    assert_counters(res, content)


def test_changed_single_block_rewrites_only_that_block(tmp_path, mixed):
    src, content = mixed
    dest = tmp_path / "dest.img"
    copy(src, dest, **SMALL)
    off = 20 * KIB + 3            # inside the first data run
    assert content[off]
    with open(dest, "r+b") as f:  # corrupt one data byte
        f.seek(off)
        f.write(b"\x00")
    res = copy(src, dest, **SMALL)
    assert read(dest) == content
    assert res["changed"] is True
    assert res["bytes_written"] == BLK  # only the 4 KiB block that differs
    assert res["bytes_zeroed"] == 0
    assert_counters(res, content)


def test_dirt_in_a_zero_range_is_zeroed(tmp_path, mixed):
    src, content = mixed
    dest = tmp_path / "dest.img"
    copy(src, dest, **SMALL)
    off = 150 * KIB + 3           # inside the first hole of the source
    assert content[off - 3:off + BLK].count(0) == BLK + 3
    with open(dest, "r+b") as f:
        f.seek(off)
        f.write(b"stale")
    res = copy(src, dest, **SMALL)
    assert read(dest) == content
    assert res["changed"] is True
    assert res["bytes_written"] == 0
    assert 0 < res["bytes_zeroed"]
    assert allocated(dest) <= nonzero_alloc(content) + SLACK
    assert_counters(res, content)


# ---------------------------------------------------------------------- check mode

def test_check_mode_missing_dest(tmp_path, mixed):
    src, content = mixed
    dest = tmp_path / "dest.img"
    res = copy(src, dest, check_mode=True, **SMALL)
    assert not dest.exists(), "check mode created the destination"
    assert res["changed"] is True
    assert res["bytes_written"] == nonzero_bytes(content)
    assert res["bytes_total"] == len(content)


def test_check_mode_dirty_dest(tmp_path, mixed):
    src, content = mixed
    dest = tmp_path / "dest.img"
    random_file(dest, len(content) + 4096, seed=4)
    age(dest)
    before = snapshot(dest)
    alloc = allocated(dest)
    res = copy(src, dest, check_mode=True, **SMALL)
    assert snapshot(dest) == before, "check mode modified the destination"
    assert allocated(dest) == alloc
    assert res["changed"] is True
    assert res["bytes_written"] == nonzero_bytes(content)
    assert res["bytes_zeroed"] > 0


def test_check_mode_up_to_date_dest(tmp_path, mixed):
    src, content = mixed
    dest = tmp_path / "dest.img"
    copy(src, dest, **SMALL)
    age(dest)
    before = snapshot(dest)
    res = copy(src, dest, check_mode=True, **SMALL)
    assert res["changed"] is False
    assert res["bytes_written"] == 0 and res["bytes_zeroed"] == 0
    assert snapshot(dest) == before


def test_check_mode_partial_dest(tmp_path, mixed):
    src, content = mixed
    dest = tmp_path / "dest.img"
    dest.write_bytes(content[:len(content) // 2])
    age(dest)
    before = snapshot(dest)
    res = copy(src, dest, check_mode=True, **SMALL)
    assert snapshot(dest) == before
    assert res["changed"] is True and res["bytes_unchanged"] > 0


# -------------------------------------------------------------------------- verify

def test_verify_reports_digest(tmp_path, mixed):
    src, content = mixed
    dest = tmp_path / "dest.img"
    res = copy(src, dest, verify=True, **SMALL)
    assert res["verified"] is True
    assert isinstance(res["digest"], str) and res["digest"]
    # the digest is a digest of the logical image: the same for a copy of the same bytes
    other_src = tmp_path / "same-bytes-no-holes.img"
    other_src.write_bytes(content)
    res2 = copy(other_src, tmp_path / "dest2.img", verify=True, **SMALL)
    assert res2["digest"] == res["digest"]
    # ... and a different one for different bytes
    changed = bytearray(content)
    changed[5] ^= 0xFF
    third_src = tmp_path / "changed.img"
    third_src.write_bytes(bytes(changed))
    res3 = copy(third_src, tmp_path / "dest3.img", verify=True, **SMALL)
    assert res3["verified"] is True and res3["digest"] != res["digest"]


def test_verify_off_by_default(tmp_path, mixed):
    src, _content = mixed
    res = copy(src, tmp_path / "dest.img")
    assert res["verified"] is False and res["digest"] is None


# -------------------------------------------------------------------------- errors

def assert_refused(src, dest, match=None, **options):
    with pytest.raises(sparse.SparseCopyError) as exc:
        with time_limit(20, "copy_volume(%s, %s)" % (src, dest)):
            copy(src, dest, **options)
    msg = str(exc.value)
    assert msg, "SparseCopyError without a message"
    if match:
        assert re.search(match, msg, re.I), "message %r does not match %r" % (msg, match)
    return msg


def test_missing_source(tmp_path):
    dest = tmp_path / "dest.img"
    msg = assert_refused(tmp_path / "nope.img", dest, match=r"nope\.img")
    assert re.search(r"not exist|no such|missing|not found", msg, re.I), msg
    assert not dest.exists()


def test_same_file(tmp_path, mixed):
    src, content = mixed
    assert_refused(src, src, match=r"same")
    assert read(src) == content


def test_same_file_via_symlink(tmp_path, mixed):
    src, content = mixed
    link = tmp_path / "link.img"
    link.symlink_to(src)
    age(src)
    before = snapshot(src)
    assert_refused(src, link, match=r"same")
    assert_refused(link, src, match=r"same")
    assert snapshot(src) == before


def test_same_file_via_hard_link(tmp_path, mixed):
    src, content = mixed
    link = tmp_path / "hard.img"
    os.link(src, link)
    age(src)
    before = snapshot(src)
    assert_refused(src, link, match=r"same")
    assert snapshot(src) == before


def test_same_file_relative_path(tmp_path, mixed, monkeypatch):
    src, content = mixed
    monkeypatch.chdir(tmp_path)
    assert_refused(src, "./" + src.name, match=r"same")


def test_source_is_directory(tmp_path):
    d = tmp_path / "dir"
    d.mkdir()
    dest = tmp_path / "dest.img"
    assert_refused(d, dest, match=r"regular file|block device|director")
    assert not dest.exists()


def test_dest_is_directory(tmp_path, mixed):
    src = mixed[0]
    d = tmp_path / "dir"
    d.mkdir()
    assert_refused(src, d, match=r"regular file|block device|director")
    assert os.listdir(d) == []


def test_source_is_fifo(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    dest = tmp_path / "dest.img"
    assert_refused(fifo, dest, match=r"regular file|block device|fifo|pipe")
    assert not dest.exists()


def test_dest_is_fifo(tmp_path, mixed):
    src = mixed[0]
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert_refused(src, fifo, match=r"regular file|block device|fifo|pipe")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="no /dev/null")
def test_char_devices_refused(tmp_path, mixed):
    src = mixed[0]
    dest = tmp_path / "dest.img"
    assert_refused("/dev/null", dest, match=r"regular file|block device|character")
    assert not dest.exists()
    assert_refused(src, "/dev/null", match=r"regular file|block device|character")
    if os.path.exists("/dev/zero"):
        assert_refused("/dev/zero", dest, match=r"regular file|block device|character")


def test_missing_dest_with_create_false(tmp_path, mixed):
    src = mixed[0]
    dest = tmp_path / "dest.img"
    assert_refused(src, dest, create=False, match=r"dest\.img")
    assert not dest.exists()


def test_create_false_existing_dest_is_fine(tmp_path, mixed):
    src, content = mixed
    dest = tmp_path / "dest.img"
    random_file(dest, len(content), seed=12)
    res = copy(src, dest, create=False, **SMALL)
    assert read(dest) == content and res["dest_created"] is False


def test_dest_parent_missing(tmp_path, mixed):
    src = mixed[0]
    dest = tmp_path / "no" / "such" / "dir" / "dest.img"
    assert_refused(src, dest)
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize("options", [
    dict(sparse="sometimes"),
    dict(zero_method="magic"),
    dict(block_size=0),
    dict(block_size=-4096),
    dict(zero_block_size=0),
    dict(zero_block_size=1000),         # not a power of two / multiple of 512
    dict(block_size=4096, zero_block_size=8192),  # grain larger than the I/O size
    dict(block_size=128 * MIB),                   # above the documented 64 MiB
    dict(discard_after_copy=True, sparse="never"),
    dict(discard_after_copy=True, zero_method="punch"),
    dict(sparse="always", zero_method="write"),
    dict(sparse="always", zero_method="zeroout"),
])
def test_bad_options_refused_before_writing(tmp_path, mixed, options):
    src = mixed[0]
    dest = tmp_path / "dest.img"
    assert_refused(src, dest, **options)
    assert not dest.exists()


def test_immutable_dest_refused_before_writing(tmp_path, mixed):
    """Permission denied as root: an immutable (chattr +i) destination."""
    src, content = mixed
    dest = tmp_path / "dest.img"
    old = random_file(dest, len(content), seed=6)
    chattr = shutil.which("chattr")
    if not chattr:
        pytest.skip("chattr not installed: cannot make an immutable destination")
    r = subprocess.run([chattr, "+i", str(dest)], capture_output=True, text=True, check=False)
    if r.returncode != 0:
        pytest.skip("chattr +i not supported here (needs root and ext4/xfs): %s" % r.stderr.strip())
    try:
        assert_refused(src, dest, match=r"permi|not permitted|denied|read-only|%s" % re.escape(dest.name))
    finally:
        subprocess.run([chattr, "-i", str(dest)], check=True)
    assert read(dest) == old


@pytest.fixture
def read_only_dir(tmp_path):
    """tmp_path/ro: a read-only bind mount of tmp_path/rw (needs root and mount)."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("needs root and mount(8) for a read-only bind mount")
    rw, ro = tmp_path / "rw", tmp_path / "ro"
    rw.mkdir()
    ro.mkdir()
    r = subprocess.run(["mount", "--bind", str(rw), str(ro)], capture_output=True, text=True, check=False)
    if r.returncode != 0:
        pytest.skip("cannot bind-mount here: %s" % r.stderr.strip())
    try:
        r = subprocess.run(["mount", "-o", "remount,ro,bind", str(ro)], capture_output=True, text=True, check=False)
        if r.returncode != 0:
            pytest.skip("cannot remount read-only here: %s" % r.stderr.strip())
        yield rw, ro
    finally:
        subprocess.run(["umount", str(ro)], check=True)


def test_dest_on_read_only_mount_refused(mixed, read_only_dir):
    src, content = mixed
    rw, ro = read_only_dir
    old = random_file(rw / "dest.img", len(content), seed=25)
    assert_refused(src, ro / "dest.img", match=r"read-only|permission")
    assert read(rw / "dest.img") == old
    assert_refused(src, ro / "new.img", match=r"read-only|permission")
    assert not (rw / "new.img").exists()


def _as_nobody(fn):
    """Run fn() in a forked child with uid/gid 65534; return a short text result."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        try:
            os.close(r)
            try:
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)
                fn()
                msg = "OK"
            except sparse.SparseCopyError as e:
                msg = "SparseCopyError:%s" % e
            except BaseException as e:  # noqa: B902 - report anything to the parent
                msg = "OTHER:%s:%s" % (type(e).__name__, e)
            os.write(w, msg.encode("utf-8", "replace"))
        finally:
            os._exit(0)
    os.close(w)
    chunks = []
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(r)
    os.waitpid(pid, 0)
    return b"".join(chunks).decode()


@pytest.fixture
def world_dir():
    """A directory every user can enter (pytest's tmp_path is 0700 root)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to switch to an unprivileged user")
    d = tempfile.mkdtemp(prefix="sparse-perm-", dir="/tmp")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_permission_denied_unreadable_source(world_dir):
    src = os.path.join(world_dir, "src.img")
    build_image(src, [("data", 8 * KIB)])
    os.chmod(src, 0o600)  # root only
    dest_dir = os.path.join(world_dir, "out")
    os.mkdir(dest_dir)
    os.chown(dest_dir, 65534, 65534)
    dest = os.path.join(dest_dir, "dest.img")
    out = _as_nobody(lambda: copy(src, dest))
    assert out.startswith("SparseCopyError:"), out
    assert re.search(r"permi|denied", out, re.I), out
    assert not os.path.exists(dest)


def test_permission_denied_unwritable_dest(world_dir):
    src = os.path.join(world_dir, "src.img")
    content = build_image(src, [("data", 8 * KIB), ("hole", 8 * KIB)])
    os.chmod(src, 0o644)
    dest = os.path.join(world_dir, "dest.img")
    old = random_file(dest, len(content), seed=13)
    os.chmod(dest, 0o644)  # owned by root: nobody may read but not write
    out = _as_nobody(lambda: copy(src, dest))
    assert out.startswith("SparseCopyError:"), out
    assert re.search(r"permi|denied", out, re.I), out
    assert read(dest) == old
    # and a destination in a directory nobody may write to
    out = _as_nobody(lambda: copy(src, os.path.join(world_dir, "new.img")))
    assert out.startswith("SparseCopyError:"), out
    assert not os.path.exists(os.path.join(world_dir, "new.img"))


# ------------------------------------------------------------ zero-method fallback

@pytest.fixture
def punch_unsupported(monkeypatch):
    """A platform whose fallocate(2) knows neither hole punching nor zeroing ranges."""
    def no_punch(*args, **kwargs):
        raise OSError(errno.EOPNOTSUPP, os.strerror(errno.EOPNOTSUPP))

    monkeypatch.setattr(sparse, "_fallocate", no_punch)


def _zfs_like_fallocate(real):
    """fallocate as on a file system that zeroes a punched range but keeps it allocated
    (ZFS with a large recordsize, ext4 for a partial block, bigalloc clusters)."""
    def fake(fd, mode, offset, length):
        if mode & sparse.FALLOC_FL_PUNCH_HOLE:
            end = min(offset + length, os.fstat(fd).st_size)   # KEEP_SIZE
            while offset < end:
                n = min(end - offset, 1 * MIB)
                os.pwrite(fd, bytes(n), offset)
                offset += n
            return
        return real(fd, mode, offset, length)
    return fake


def test_punch_unsupported_falls_back_to_write(tmp_path, mixed, punch_unsupported):
    """A file system without PUNCH_HOLE: zero ranges are written as zeros instead."""
    src, content = mixed
    dest = tmp_path / "dest.img"
    random_file(dest, len(content), seed=21)
    res = copy(src, dest, **SMALL)
    assert read(dest) == content
    assert res["zero_method"] in ("zeroout", "write")
    assert res["bytes_zeroed"] > 0


def test_punch_required_but_unsupported_fails_cleanly(tmp_path, mixed, punch_unsupported):
    """zero_method=punch explicitly, platform cannot punch: a clear error."""
    src, content = mixed
    dest = tmp_path / "dest.img"
    random_file(dest, len(content), seed=22)
    with pytest.raises(sparse.SparseCopyError, match=r"(?i)punch|support"):
        copy(src, dest, zero_method="punch", **SMALL)


def test_rerun_is_idempotent_where_punch_does_not_deallocate(tmp_path, mixed, monkeypatch):
    """Where a punch zeroes but cannot deallocate (faked: ZFS-like), the zero ranges stay
    allocated; a rerun must see that they read zeros and not zero them again forever."""
    monkeypatch.setattr(sparse, "_fallocate", _zfs_like_fallocate(sparse._fallocate))
    src, content = mixed
    dest = tmp_path / "dest.img"
    random_file(dest, len(content), seed=23)
    first = copy(src, dest, **SMALL)
    assert read(dest) == content and first["bytes_zeroed"] > 0
    age(dest)
    before = snapshot(dest)
    res = copy(src, dest, **SMALL)
    assert res["changed"] is False, res
    assert res["bytes_zeroed"] == 0 and res["bytes_written"] == 0
    assert snapshot(dest) == before


def test_sparse_always_without_punch_fails_before_writing(tmp_path, mixed, punch_unsupported):
    src, content = mixed
    dest = tmp_path / "dest.img"
    old = random_file(dest, len(content), seed=24)
    with pytest.raises(sparse.SparseCopyError, match=r"nothing was written"):
        copy(src, dest, sparse="always", **SMALL)
    assert read(dest) == old


def test_write_failure_mid_copy_then_resume(tmp_path, monkeypatch):
    """A real interruption: the disk fills up (faked ENOSPC) after a few writes. The
    error says the destination is partial; the rerun completes it without redoing
    what was already written."""
    src = tmp_path / "src.img"
    content = build_image(src, [("data", 256 * KIB), ("hole", 64 * KIB), ("data", 256 * KIB), ("zero", 64 * KIB),
                                ("data", 256 * KIB)])
    dest = tmp_path / "dest.img"
    real_pwrite = os.pwrite
    calls = []

    def failing_pwrite(fd, data, offset):
        calls.append(offset)
        if len(calls) > 4:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_pwrite(fd, data, offset)

    monkeypatch.setattr(os, "pwrite", failing_pwrite)
    with pytest.raises(sparse.SparseCopyError) as exc:
        copy(src, dest, **SMALL)
    monkeypatch.setattr(os, "pwrite", real_pwrite)
    msg = str(exc.value)
    assert re.search(r"No space left", msg), msg
    assert re.search(r"re-run|rerun", msg, re.I), msg
    assert read(dest) != content

    res = copy(src, dest, **SMALL)
    assert read(dest) == content
    assert res["changed"] is True
    assert res["bytes_unchanged"] >= 4 * 64 * KIB
    assert res["bytes_written"] == nonzero_bytes(content) - res["bytes_unchanged"]
    assert_counters(res, content)


def _punch_spy(dest, fail_at=None):
    """A _fallocate that records the punches on dest and fails the fail_at-th (EIO)."""
    real = sparse._fallocate
    punches = []

    def spy(fd, mode, offset, length):
        if mode & sparse.FALLOC_FL_PUNCH_HOLE and os.path.samefile("/proc/self/fd/%d" % fd, dest):
            punches.append(offset)
            if len(punches) == fail_at:
                raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real(fd, mode, offset, length)
    return spy, punches


@pytest.mark.parametrize("which", ["second", "last"])
def test_zeroing_failure_mid_copy_then_resume(tmp_path, mixed, monkeypatch, which):
    """Zero ranges are made zero in a thread beside the data copy: a failure there
    (faked EIO on a punch, while data is still being copied or after all of it) still
    fails the copy with the partial state, stops the zeroing, and a re-run completes
    the copy."""
    src, content = mixed
    dest = tmp_path / "dest.img"
    random_file(dest, len(content), seed=23)
    counter, all_punches = _punch_spy(dest)
    with monkeypatch.context() as m:
        m.setattr(sparse, "_fallocate", counter)
        copy(src, dest, **SMALL)
    assert len(all_punches) >= 3
    fail_at = 2 if which == "second" else len(all_punches)

    random_file(dest, len(content), seed=23)
    failing, punches = _punch_spy(dest, fail_at)
    with monkeypatch.context() as m, pytest.raises(sparse.SparseCopyError) as exc:
        m.setattr(sparse, "_fallocate", failing)
        copy(src, dest, **SMALL)
    msg = str(exc.value)
    assert "Input/output error" in msg and re.search(r"re-run", msg), msg
    assert len(punches) == fail_at, "zeroing went on after the error"
    assert read(dest) != content

    res = copy(src, dest, **SMALL)
    assert read(dest) == content
    assert res["changed"] is True
    assert_counters(res, content)


def test_verify_detects_a_bad_write(tmp_path, mixed, monkeypatch):
    """A device that silently stores a wrong byte (faked): verify must fail the copy."""
    src, content = mixed
    dest = tmp_path / "dest.img"
    real_pwrite = os.pwrite
    done = []

    def corrupting_pwrite(fd, data, offset):
        if not done:
            # flip a byte in place (the engine's buffers are aligned for O_DIRECT),
            # write it, and put the byte back so only the destination is wrong
            done.append(offset)
            view = memoryview(data).cast("B")
            view[0] ^= 0xFF
            try:
                return real_pwrite(fd, data, offset)
            finally:
                view[0] ^= 0xFF
        return real_pwrite(fd, data, offset)

    monkeypatch.setattr(os, "pwrite", corrupting_pwrite)
    with pytest.raises(sparse.SparseCopyError, match=r"(?i)verif"):
        copy(src, dest, verify=True, **SMALL)
    monkeypatch.setattr(os, "pwrite", real_pwrite)
    # and the rerun repairs it
    res = copy(src, dest, verify=True, **SMALL)
    assert res["verified"] is True and read(dest) == content
    assert 0 < res["bytes_written"] <= SMALL["block_size"]   # only the damaged run


# ------------------------------------------------------------------ property test

if HAS_HYPOTHESIS:
    KINDS = st.sampled_from(["data", "zero", "hole"])
    # runs in 4 KiB units, then a tail of 0-4095 bytes so sizes need not be aligned
    RUNS = st.lists(st.tuples(KINDS, st.integers(1, 40)), min_size=0, max_size=12)
    TAIL = st.tuples(KINDS, st.integers(0, BLK - 1))
    DEST = st.sampled_from(["missing", "same", "smaller", "larger", "empty"])
    LAYOUT = dict(runs=RUNS, tail=TAIL, dest_kind=DEST, block_size=st.sampled_from([16 * KIB, 64 * KIB]),
                  seed=st.integers(0, 2**31), delta=st.integers(1, 300 * KIB))
    PROPERTY_SETTINGS = settings(max_examples=60, deadline=None,
                                 suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

    def _prepare(work, runs, tail, dest_kind, seed, delta):
        src = work / "src.img"
        content = build_image(src, [(k, n * BLK) for k, n in runs] + [tail], seed=seed)
        dest = work / "dest.img"
        if dest_kind != "missing":
            size = {"same": len(content), "smaller": max(0, len(content) - delta),
                    "larger": len(content) + delta, "empty": 0}[dest_kind]
            random_file(dest, size, seed=seed + 1)
        return src, dest, content

    @PROPERTY_SETTINGS
    @given(**LAYOUT)
    def test_property_copy_is_exact_and_thin(tmp_path_factory, runs, tail, dest_kind, block_size, seed, delta):
        """Any layout of data, written zeros and holes, onto a missing or dirty file of
        any size: byte-exact, counters add up, never more allocated than the data,
        every all-zero 4 KiB block of the source a hole in the copy."""
        work = tmp_path_factory.mktemp("prop")
        try:
            src, dest, content = _prepare(work, runs, tail, dest_kind, seed, delta)
            old = read(dest) if dest.exists() else None
            res = copy(src, dest, block_size=block_size, zero_block_size=BLK)
            got = read(dest)
            assert len(got) == len(content)
            assert got == content
            assert res["changed"] is (old != content)
            assert res["dest_created"] is (dest_kind == "missing")
            assert_counters(res, content)
            assert allocated(dest) <= nonzero_alloc(content) + SLACK, (allocated(dest), nonzero_alloc(content))
            assert_zero_blocks_are_holes(dest, content)
            if dest_kind == "missing":
                assert res["bytes_written"] == nonzero_bytes(content)
                assert res["bytes_zeroed"] == 0 and res["bytes_unchanged"] == 0
        finally:
            shutil.rmtree(work, ignore_errors=True)

    @PROPERTY_SETTINGS
    @given(**LAYOUT)
    def test_property_rerun_is_a_no_op(tmp_path_factory, runs, tail, dest_kind, block_size, seed, delta):
        """Whatever the first copy had to do, the second one writes and zeroes nothing."""
        work = tmp_path_factory.mktemp("prop")
        try:
            src, dest, content = _prepare(work, runs, tail, dest_kind, seed, delta)
            copy(src, dest, block_size=block_size, zero_block_size=BLK)
            again = copy(src, dest, block_size=block_size, zero_block_size=BLK)
            assert read(dest) == content
            assert again["changed"] is False, again
            assert again["bytes_written"] == 0 and again["bytes_zeroed"] == 0
            assert again["bytes_unchanged"] == nonzero_bytes(content)
            assert_counters(again, content)
        finally:
            shutil.rmtree(work, ignore_errors=True)


else:
    def test_property_tests_need_hypothesis():
        pytest.skip("hypothesis is not installed (tests/unit/requirements.txt): property tests not run")


# ---------------------------------------------------------------------- loop devices

@pytest.fixture
def loop_factory(tmp_path, losetup):
    """Create loop devices over sparse backing files (the losetup fixture detaches them)."""
    devices = []

    def make(size, fill=None, seed=31):
        backing = tmp_path / ("backing%d.img" % len(devices))
        if fill == "random":
            random_file(backing, size, seed=seed)
        else:
            with open(backing, "wb") as f:
                f.truncate(size)
        devices.append(losetup(backing))
        return devices[-1], backing

    return make


def test_file_to_dirty_loop_punches_and_stays_thin(tmp_path, mixed, loop_factory):
    src, content = mixed
    size = (len(content) + MIB - 1) // MIB * MIB
    dev, backing = loop_factory(size, fill="random")
    assert allocated(backing) >= size
    res = copy(src, dev, **SMALL)
    assert res["dest_type"] == "block" and res["src_type"] == "file"
    assert res["zero_method"] == "punch"
    assert res["dest_created"] is False
    assert read(dev, len(content)) == content
    # the loop device passes the punch on: its backing file is thin again
    # (the part beyond the source's size is not ours and keeps its old data)
    assert allocated(backing) <= nonzero_alloc(content) + (size - len(content)) + SLACK
    assert_counters(res, content)

    res2 = copy(src, dev, **SMALL)
    assert res2["changed"] is False
    assert res2["bytes_written"] == 0 and res2["bytes_zeroed"] == 0


def _write_runs_to_device(dev, runs, content):
    """Write only the data and written-zero runs, so the backing file keeps the holes."""
    with open(dev, "r+b") as f:
        off = 0
        for kind, length in runs:
            if kind != "hole":
                f.seek(off)
                f.write(content[off:off + length])
            off += length
        f.flush()
        os.fsync(f.fileno())


def test_loop_to_loop(tmp_path, loop_factory):
    runs = [("data", 64 * KIB), ("zero", 256 * KIB), ("hole", 512 * KIB), ("data", 128 * KIB), ("hole", 64 * KIB)]
    content = build_image(tmp_path / "srcimg", runs)
    size = len(content)
    src_dev, src_backing = loop_factory(size)
    _write_runs_to_device(src_dev, runs, content)
    assert allocated(src_backing) < size
    dest_dev, dest_backing = loop_factory(size, fill="random", seed=77)
    res = copy(src_dev, dest_dev, **SMALL)
    assert res["src_type"] == "block" and res["dest_type"] == "block"
    assert read(dest_dev, size) == content
    # the source's backing file is its map: its holes are not even read
    assert res["src_map"] == "loop_backing_file"
    assert res["bytes_skipped_hole"] >= 512 * KIB
    assert res["bytes_written"] == nonzero_bytes(content)
    assert allocated(dest_backing) <= nonzero_alloc(content) + SLACK
    assert_counters(res, content)


def test_loop_dest_zeroed_true_is_checked_against_backing_file(tmp_path, mixed, loop_factory):
    """A loop device's backing file is its allocation map: the promise is not needed
    and allocated zero ranges are zeroed anyway (documented)."""
    src, content = mixed
    dev, backing = loop_factory(1 * MIB, fill="random", seed=41)
    res = copy(src, dev, dest_zeroed=True, **SMALL)
    assert read(dev, len(content)) == content
    assert res["bytes_zeroed"] > 0


def test_loop_sparse_never_allocates_everything(tmp_path, mixed, loop_factory):
    src, content = mixed
    size = (len(content) + MIB - 1) // MIB * MIB
    dev, backing = loop_factory(size)
    res = copy(src, dev, sparse="never", **SMALL)
    assert read(dev, len(content)) == content
    assert res["bytes_written"] == len(content)
    assert allocated(backing) >= len(content) // BLK * BLK


def test_loop_smaller_than_source_refused(tmp_path, loop_factory):
    src = tmp_path / "src.img"
    build_image(src, [("data", 1 * MIB), ("hole", 1 * MIB)])
    dev, backing = loop_factory(1 * MIB, fill="random", seed=51)
    before = hashlib.sha256(read(backing)).hexdigest()
    assert_refused(src, dev, match=r"small|size|larger|fit")
    assert hashlib.sha256(read(backing)).hexdigest() == before


def test_loop_larger_than_source(tmp_path, loop_factory):
    src = tmp_path / "src.img"
    content = build_image(src, [("data", 100 * KIB), ("hole", 200 * KIB), ("data", 1000)])
    dev = loop_factory(2 * MIB, fill="random", seed=52)[0]
    res = copy(src, dev, **SMALL)
    assert read(dev, len(content)) == content
    assert res["bytes_total"] == len(content)


def test_loop_held_exclusively_refused(tmp_path, mixed, loop_factory):
    src, content = mixed
    dev, backing = loop_factory(1 * MIB, fill="random", seed=61)
    before = hashlib.sha256(read(backing)).hexdigest()
    fd = os.open(dev, os.O_RDONLY | os.O_EXCL)  # what a mount or LVM/dm would hold
    try:
        assert_refused(src, dev, match=r"busy|in use|exclusiv|mounted|held")
    finally:
        os.close(fd)
    assert hashlib.sha256(read(backing)).hexdigest() == before
    # once released, the copy goes through
    res = copy(src, dev, **SMALL)
    assert read(dev, len(content)) == content and res["changed"] is True


def test_loop_mounted_refused(tmp_path, mixed, loop_factory):
    mkfs = shutil.which("mkfs.ext4")
    if not mkfs or not shutil.which("mount"):
        pytest.skip("mkfs.ext4/mount not available")
    src, content = mixed
    dev, backing = loop_factory(8 * MIB)
    r = subprocess.run([mkfs, "-q", "-F", dev], capture_output=True, text=True, check=False)
    if r.returncode != 0:
        pytest.skip("mkfs.ext4 failed: %s" % r.stderr.strip())
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    r = subprocess.run(["mount", dev, str(mnt)], capture_output=True, text=True, check=False)
    if r.returncode != 0:
        pytest.skip("cannot mount a loop device here: %s" % r.stderr.strip())
    try:
        (mnt / "marker").write_bytes(b"still here")
        os.sync()
        assert_refused(src, dev, match=r"busy|in use|exclusiv|mounted|held")
        assert (mnt / "marker").read_bytes() == b"still here"
    finally:
        subprocess.run(["umount", str(mnt)], check=True)
    # the file system is intact: the ext4 superblock magic is where it was, and the
    # source's first bytes were not written over it
    raw = read(backing, 64 * KIB)
    assert raw[1024 + 56:1024 + 58] == b"\x53\xef"
    assert raw[:4 * KIB] != content[:4 * KIB]


def test_loop_same_device_via_symlink_refused(tmp_path, loop_factory):
    dev, backing = loop_factory(1 * MIB, fill="random", seed=71)
    link = tmp_path / "dev-link"
    link.symlink_to(dev)
    before = hashlib.sha256(read(backing)).hexdigest()
    assert_refused(dev, link, match=r"same")
    assert hashlib.sha256(read(backing)).hexdigest() == before


def test_loop_check_mode_writes_nothing(tmp_path, mixed, loop_factory):
    src, content = mixed
    dev, backing = loop_factory(1 * MIB, fill="random", seed=81)
    before = hashlib.sha256(read(backing)).hexdigest()
    alloc = allocated(backing)
    res = copy(src, dev, check_mode=True, **SMALL)
    assert res["changed"] is True
    assert hashlib.sha256(read(backing)).hexdigest() == before
    assert allocated(backing) == alloc


def test_loop_zeroout_fallback(tmp_path, mixed, loop_factory, punch_unsupported):
    """Device without WRITE_ZEROES-with-unmap (faked): BLKZEROOUT keeps the copy exact."""
    src, content = mixed
    dev, backing = loop_factory(1 * MIB, fill="random", seed=91)
    res = copy(src, dev, **SMALL)
    assert read(dev, len(content)) == content
    assert res["zero_method"] == "zeroout"


@pytest.mark.parametrize("method", ["zeroout", "write"])
def test_loop_explicit_zero_method(tmp_path, mixed, loop_factory, method):
    src, content = mixed
    dev, backing = loop_factory(1 * MIB, fill="random", seed=92)
    res = copy(src, dev, zero_method=method, **SMALL)
    assert read(dev, len(content)) == content
    assert res["zero_method"] == method
    assert res["bytes_zeroed"] > 0


def test_loop_discard_after_copy(tmp_path, mixed, loop_factory):
    src, content = mixed
    dev, backing = loop_factory(1 * MIB, fill="random", seed=93)
    res = copy(src, dev, discard_after_copy=True, **SMALL)
    assert read(dev, len(content)) == content
    assert allocated(backing) <= nonzero_alloc(content) + (1 * MIB - len(content)) + SLACK
    assert res["changed"] is True


def test_file_onto_loop_built_on_it_refused(tmp_path, loop_factory):
    """The loop device *is* the file: copying one onto the other is a self-copy."""
    dev, backing = loop_factory(1 * MIB, fill="random", seed=94)
    before = hashlib.sha256(read(backing)).hexdigest()
    assert_refused(backing, dev, match=r"same")
    assert_refused(dev, backing, match=r"same")
    assert hashlib.sha256(read(backing)).hexdigest() == before


# ------------------------------------------- block devices without an allocation map

@pytest.fixture
def opaque_device(loop_factory, monkeypatch):
    """A loop device made to look like a LUN (faked platform: no loop/backing_file in
    sysfs), so the engine cannot see its allocation; the backing file still shows
    what really happened to the thin space."""
    monkeypatch.setattr(sparse, "device_extent", lambda vol: None)
    return loop_factory


def test_opaque_dest_zeroed_true_leaves_old_data(tmp_path, mixed, opaque_device):
    """The documented trap: dest_zeroed=true is trusted where it cannot be checked, and
    skips zero ranges without zeroing; on a dirty device old data stays there."""
    src, content = mixed
    dev, backing = opaque_device(1 * MIB, fill="random", seed=42)
    old = read(dev, len(content))
    res = copy(src, dev, dest_zeroed=True, **SMALL)
    got = read(dev, len(content))
    assert res["zero_method"] == "skip" and res["bytes_zeroed"] == 0
    assert got != content
    for off in range(0, len(content), BLK):
        want = content[off:off + BLK]
        expected = old[off:off + len(want)] if want.count(0) == len(want) else want
        assert got[off:off + len(want)] == expected, off


def test_opaque_dirty_device_default_is_exact_and_thin(tmp_path, mixed, opaque_device):
    src, content = mixed
    dev, backing = opaque_device(1 * MIB, fill="random", seed=43)
    res = copy(src, dev, **SMALL)
    assert read(dev, len(content)) == content
    assert res["zero_method"] == "punch" and res["bytes_zeroed"] > 0
    assert res["dest_allocated_before"] is None and res["dest_allocated_after"] is None
    assert allocated(backing) <= nonzero_alloc(content) + (1 * MIB - len(content)) + SLACK
    assert_counters(res, content)
    res = copy(src, dev, **SMALL)
    assert res["changed"] is False
    assert res["bytes_written"] == 0 and res["bytes_zeroed"] == 0


def test_opaque_fresh_device_default_writes_data_only(tmp_path, mixed, opaque_device):
    """A new thin LUN reads zeros: the copy reads it and zeroes nothing."""
    src, content = mixed
    dev, backing = opaque_device(1 * MIB)
    res = copy(src, dev, **SMALL)
    assert read(dev, len(content)) == content
    assert res["bytes_zeroed"] == 0
    assert res["bytes_written"] == nonzero_bytes(content)
    assert allocated(backing) <= nonzero_alloc(content) + SLACK


def test_opaque_sparse_never(tmp_path, mixed, opaque_device):
    """Documented: on a block device without a map, sparse=never writes zeros only
    where the device does not already read zeros."""
    src, content = mixed
    dev, backing = opaque_device(1 * MIB, fill="random", seed=44)
    res = copy(src, dev, sparse="never", **SMALL)
    assert read(dev, len(content)) == content
    assert res["sparse"] is False and res["bytes_skipped_zero"] == 0 and res["bytes_skipped_hole"] == 0
    assert_counters(res, content)


# ------------------------------------------------------- zero detection by first word

def _runs_by_reading_every_block(data, grain):
    runs = []
    for i in range(0, len(data), grain):
        z = not any(data[i:i + grain])
        if runs and runs[-1][2] == z:
            runs[-1] = (runs[-1][0], min(i + grain, len(data)), z)
        else:
            runs.append((i, min(i + grain, len(data)), z))
    return runs


@pytest.mark.parametrize("tail", [0, 3, 8, 100, 4095])
def test_zero_runs_looks_past_a_first_word_of_zeros(tail):
    """Blocks are told apart by their first 8 bytes first: a block whose first word is
    zero but that holds data further on, a zero block, and a tail shorter than a word
    or a block must each come out as reading every byte would say."""
    grain = 4 * KIB
    data = bytearray(random.Random(7).randbytes(6 * grain + tail))
    data[grain:2 * grain] = bytes(grain)                      # a zero block
    data[2 * grain:2 * grain + 8] = bytes(8)                  # zero first word, data after it
    data[4 * grain:4 * grain + grain - 1] = bytes(grain - 1)  # data only in the last byte
    if tail:
        data[6 * grain:] = bytes(tail)                        # a zero tail
    view = sparse.aligned_buffer(len(data))
    view[:] = data
    zeros = bytes(len(data))
    assert sparse.zero_runs(view, len(data), grain, zeros) == _runs_by_reading_every_block(data, grain)
    data[6 * grain:] = b"\x01" * tail                         # a data tail
    view[:] = data
    assert sparse.zero_runs(view, len(data), grain, zeros) == _runs_by_reading_every_block(data, grain)
