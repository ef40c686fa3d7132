# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Readahead on the source: none when it is in the page cache, and in windows of
READ_AHEAD bytes of data (not one request per chunk) when it is not. The calls are
counted on the real os.posix_fadvise, which still runs."""

from __future__ import annotations

import os

import pytest

from ansible_collections.storage.datamotion.plugins.module_utils import sparse
from ansible_collections.storage.datamotion.tests.unit.plugins.module_utils.sparse_helpers import KIB, MIB, evict


@pytest.fixture
def willneed(monkeypatch):
    calls = []
    real = os.posix_fadvise

    def spy(fd, offset, length, advice):
        if advice == os.POSIX_FADV_WILLNEED:
            calls.append((offset, length))
        return real(fd, offset, length, advice)
    monkeypatch.setattr(os, "posix_fadvise", spy)
    return calls


def test_cached_source_asks_for_no_readahead(tmp_path, source, willneed):
    if not getattr(os, "RWF_NOWAIT", 0):
        pytest.skip("os.RWF_NOWAIT is not available: every read waits")
    source.read_bytes()                       # in the page cache now
    dest = tmp_path / "dest.img"
    sparse.copy_volume(str(source), str(dest), sparse.CopyOptions(block_size=256 * KIB))
    assert dest.read_bytes() == source.read_bytes()
    assert willneed == []


def test_uncached_source_asks_in_windows(tmp_path, source, willneed, monkeypatch):
    monkeypatch.setattr(sparse, "READ_AHEAD", 8 * MIB)
    evict(source)
    dest = tmp_path / "dest.img"
    sparse.copy_volume(str(source), str(dest), sparse.CopyOptions(block_size=256 * KIB))
    assert dest.read_bytes() == source.read_bytes()
    chunks = 24 * MIB // (256 * KIB)
    # each request covers data extents only, never holes: one per extent, or two
    # where a window ends inside one; not one per chunk
    windows = 24 * MIB // (8 * MIB // 2)
    assert 0 < len(willneed) <= 24 + windows < chunks, len(willneed)
    for off, length in willneed:
        assert off % (2 * MIB) + length <= MIB, (off, length)
    asked = sum(length for _off, length in willneed)
    assert 24 * MIB <= asked <= 24 * MIB + 8 * MIB


def test_window_is_topped_up_while_reads_hit(tmp_path, source, willneed, monkeypatch):
    """Once the source is read from disk, the window stays ahead of the copy on
    reads that find their pages cached too: asking only after a miss left the disk
    idle at the end of every window while the copy waited for it."""
    monkeypatch.setattr(sparse, "READ_AHEAD", 4 * MIB)
    fd = os.open(source, os.O_RDONLY)
    try:
        extents = [(2 * i * MIB, (2 * i + 1) * MIB) for i in range(24)]
        ra = sparse._Readahead(fd, extents)
        chunk = 256 * KIB
        reads = [o for s, e in extents for o in range(s, e, chunk)]
        ra.skip_to(reads[0])
        ra.missed()                            # the first read waited on the disk
        ra.done += chunk
        for off in reads[1:]:
            ra.hit(off)                        # every later read found its pages
            asked = sum(length for _off, length in willneed)
            assert asked - ra.done >= 4 * MIB // 2 or asked == 24 * MIB, (off, asked, ra.done)
            ra.done += chunk
        assert sum(length for _off, length in willneed) == 24 * MIB
        assert ra.misses == 1
    finally:
        os.close(fd)


def test_cached_source_hits_ask_nothing(tmp_path, source, willneed):
    """A source that was never missed is in the page cache: hits ask no readahead."""
    fd = os.open(source, os.O_RDONLY)
    try:
        ra = sparse._Readahead(fd, [(0, MIB)])
        for off in range(0, MIB, 256 * KIB):
            ra.hit(off)
            ra.done += 256 * KIB
        assert willneed == []
    finally:
        os.close(fd)
