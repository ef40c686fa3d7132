# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writeback of the written data is started during the copy while the source comes
from the page cache (the disk is idle), and not while the disk reads the source
(it is left to the final fsync then). The calls are counted on the real sync_file_range, which
still runs."""

from __future__ import annotations

import os
import random

import pytest

from ansible_collections.storage.datamotion.plugins.module_utils import sparse

KIB = 1024
MIB = 1024 * KIB


@pytest.fixture
def kicks(monkeypatch):
    calls = []
    real = sparse._start_writeback

    def spy(fd, offset, length):
        calls.append((offset, length))
        return real(fd, offset, length)
    monkeypatch.setattr(sparse, "_start_writeback", spy)
    monkeypatch.setattr(sparse, "WRITEBACK", 4 * MIB)
    return calls


@pytest.fixture
def source(tmp_path):
    """24 MiB of data in 1 MiB extents every 2 MiB (48 MiB), fsynced."""
    src = tmp_path / "src.img"
    rng = random.Random(5)
    with open(src, "wb") as f:
        for i in range(24):
            f.seek(2 * i * MIB)
            f.write(rng.randbytes(MIB))
        f.truncate(48 * MIB)
        f.flush()
        os.fsync(f.fileno())
    return src


def evict(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def test_cached_source_starts_writeback_during_the_copy(tmp_path, source, kicks):
    if not getattr(os, "RWF_NOWAIT", 0):
        pytest.skip("os.RWF_NOWAIT is not available: every read counts as waiting")
    source.read_bytes()                       # in the page cache now
    dest = tmp_path / "dest.img"
    sparse.copy_volume(str(source), str(dest), sparse.CopyOptions(block_size=256 * KIB))
    assert dest.read_bytes() == source.read_bytes()
    # one per 4 MiB of written data, each covering what was written since the last
    assert len(kicks) == 24 * MIB // (4 * MIB), kicks
    pos = 0
    for off, length in kicks:
        assert off >= pos and length > 0
        pos = off + length
    assert pos <= 48 * MIB


def test_uncached_source_leaves_writeback_until_it_is_read(tmp_path, source, kicks, monkeypatch):
    monkeypatch.setattr(sparse, "READ_AHEAD", 64 * MIB)     # the whole source is one readahead window
    evict(source)
    dest = tmp_path / "dest.img"
    sparse.copy_volume(str(source), str(dest), sparse.CopyOptions(block_size=256 * KIB))
    assert dest.read_bytes() == source.read_bytes()
    # nothing while the disk reads the source; at most the last 4 MiB once it is read
    assert len(kicks) <= 1, kicks
    assert all(off + length == 47 * MIB for off, length in kicks), kicks


def test_check_mode_starts_no_writeback(tmp_path, source, kicks):
    source.read_bytes()
    dest = tmp_path / "dest.img"
    dest.write_bytes(b"\xff" * MIB)
    sparse.copy_volume(str(source), str(dest), sparse.CopyOptions(block_size=256 * KIB), check_mode=True)
    assert dest.read_bytes() == b"\xff" * MIB
    assert kicks == []
