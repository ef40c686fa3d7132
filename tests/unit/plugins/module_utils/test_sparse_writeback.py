# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writeback of the written data is started during the copy while the source comes
from the page cache (the disk is idle), and not while the disk reads the source
(it is left to the final fsync then). The calls are counted on the real sync_file_range, which
still runs."""

from __future__ import annotations

import os

import pytest

from ansible_collections.storage.datamotion.plugins.module_utils import sparse
from ansible_collections.storage.datamotion.tests.unit.plugins.module_utils.sparse_helpers import KIB, MIB, evict


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


def test_a_rerun_onto_an_existing_file_syncs_its_directory(tmp_path, source, monkeypatch):
    # a first run killed after creating the file and before syncing its directory leaves the name unsynced
    # (ext2, vfat): a re-run that finds the file must sync the directory that holds it, also through a symlink
    real_dir = tmp_path / "real"
    real_dir.mkdir()
    (real_dir / "dest.img").write_bytes(b"")
    link = tmp_path / "link.img"
    link.symlink_to(real_dir / "dest.img")
    synced = []
    real_fsync = os.fsync

    def spy(fd):
        synced.append(os.readlink("/proc/self/fd/%d" % fd))
        return real_fsync(fd)
    monkeypatch.setattr(sparse.os, "fsync", spy)
    sparse.copy_volume(str(source), str(link), sparse.CopyOptions())
    assert (real_dir / "dest.img").read_bytes() == source.read_bytes()
    assert str(real_dir) in synced, synced
