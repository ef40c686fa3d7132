# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""verify: true proves that the destination equals the source as it is after the
copy, and fails when the source changed during the copy (a file overwritten behind
or ahead of the copy, a file that grew, a device written during the copy)."""

from __future__ import annotations

import os
import random

import pytest

from ansible_collections.storage.datamotion.plugins.module_utils import sparse
from ansible_collections.storage.datamotion.tests.unit.plugins.module_utils.sparse_helpers import (
    KIB, MIB, SMALL, both_modes_refuse, copy, read)


def _change_source_during_copy(monkeypatch, change):
    """Run change() once, after the copy has read its first chunk of the source: a
    writer working beside the copy (nothing in the engine is faked)."""
    real = sparse.zero_runs
    done = []

    def zero_runs(*args, **kwargs):
        if not done:
            done.append(True)
            change()
        return real(*args, **kwargs)
    monkeypatch.setattr(sparse, "zero_runs", zero_runs)
    return done


def _write_at(path, offset, data):
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


@pytest.fixture
def src_image(tmp_path):
    src = tmp_path / "src.img"
    with open(src, "wb") as f:
        f.write(random.Random(11).randbytes(512 * KIB))
        f.truncate(1 * MIB)
    return src


def test_verify_fails_when_source_overwritten_behind_the_copy(tmp_path, src_image, monkeypatch):
    dest = tmp_path / "dest.img"
    done = _change_source_during_copy(monkeypatch, lambda: _write_at(src_image, 0, b"\xee" * 4096))
    with pytest.raises(sparse.SparseCopyError, match=r"source .*changed during the copy") as e:
        copy(src_image, dest, verify=True, **SMALL)
    assert done and str(src_image) in str(e.value)


def test_verify_fails_when_source_grows_during_the_copy(tmp_path, src_image, monkeypatch):
    dest = tmp_path / "dest.img"

    def append():
        with open(src_image, "ab") as f:
            f.write(b"\x01" * 8192)
    _change_source_during_copy(monkeypatch, append)
    with pytest.raises(sparse.SparseCopyError, match=r"source .*changed during the copy"):
        copy(src_image, dest, verify=True, **SMALL)


def test_verify_fails_when_source_overwritten_ahead_of_the_copy(tmp_path, src_image, monkeypatch):
    """Even a change the copy picked up: the source was not one image during the copy."""
    dest = tmp_path / "dest.img"
    _change_source_during_copy(monkeypatch, lambda: _write_at(src_image, 448 * KIB, b"\xee" * 4096))
    with pytest.raises(sparse.SparseCopyError, match=r"source .*changed during the copy"):
        copy(src_image, dest, verify=True, **SMALL)


def test_verify_fails_when_source_device_overwritten_behind_the_copy(tmp_path, losetup, monkeypatch):
    img = tmp_path / "src-backing.img"
    with open(img, "wb") as f:
        f.write(random.Random(12).randbytes(512 * KIB))
        f.truncate(1 * MIB)
    dev = losetup(img)
    dest = tmp_path / "dest.img"
    _change_source_during_copy(monkeypatch, lambda: _write_at(dev, 0, b"\xee" * 4096))
    with pytest.raises(sparse.SparseCopyError, match=r"source .*changed during the copy"):
        copy(dev, dest, verify=True, **SMALL)


@pytest.mark.parametrize("source", ["file", "read-only device, verify_source=false"])
def test_verify_detects_destination_changed_after_the_copy(tmp_path, src_image, losetup, monkeypatch, source):
    """The destination is compared with the source as it is after the copy; without
    the second read of a read-only source, with the digest of what the copy read."""
    src, more = (src_image, {}) if source == "file" else (losetup("-r", src_image), dict(verify_source=False))
    dest = tmp_path / "dest.img"
    real = sparse._verify

    def corrupt_then_verify(*args, **kwargs):
        _write_at(dest, 4096, b"\xee" * 4096)
        return real(*args, **kwargs)
    monkeypatch.setattr(sparse, "_verify", corrupt_then_verify)
    with pytest.raises(sparse.SparseCopyError, match=r"does not match"):
        copy(src, dest, verify=True, **SMALL, **more)


def test_verify_passes_on_an_unchanged_source(tmp_path, src_image):
    dest = tmp_path / "dest.img"
    res = copy(src_image, dest, verify=True, **SMALL)
    assert res["verified"] is True
    assert read(dest) == read(src_image)


def _count_digests(monkeypatch):
    """The paths _digest_of read (the real one runs)."""
    real = sparse._digest_of
    paths = []

    def counting(vol, *args, **kwargs):
        paths.append(vol.path)
        return real(vol, *args, **kwargs)
    monkeypatch.setattr(sparse, "_digest_of", counting)
    return paths


def test_verify_source_false_reads_a_read_only_source_once(tmp_path, src_image, losetup, monkeypatch):
    dev, img = losetup("-r", src_image), src_image
    dest = tmp_path / "dest.img"
    paths = _count_digests(monkeypatch)
    res = copy(dev, dest, verify=True, verify_source=False, **SMALL)
    assert res["verified"] is True
    assert read(dest) == read(img)
    assert paths == [str(dest)]
    paths.clear()
    dest.unlink()
    assert copy(dev, dest, verify=True, **SMALL)["verified"] is True
    assert paths == [dev, str(dest)]


@pytest.mark.parametrize("writable", ["file", "device"])
def test_verify_source_false_refuses_a_writable_source(tmp_path, src_image, losetup, writable):
    src = src_image if writable == "file" else losetup(src_image)
    dest = tmp_path / "dest.img"
    msg = both_modes_refuse(src, dest, r"verify_source=false needs a source that nothing can write",
                            verify=True, verify_source=False, **SMALL)
    assert str(src) in msg and "Nothing was written" in msg
    assert not dest.exists()
    assert copy(src, dest, verify_source=False, **SMALL)["verified"] is False     # ignored without verify
