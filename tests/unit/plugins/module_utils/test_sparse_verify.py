# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""verify: true proves that the destination equals the source as it is after the
copy, and fails when the source changed during the copy (a file overwritten behind
or ahead of the copy, a file that grew, a device written during the copy)."""

from __future__ import annotations

import os
import random
import shutil
import subprocess

import pytest

from ansible_collections.storage.datamotion.plugins.module_utils import sparse

KIB = 1024
MIB = 1024 * KIB
SMALL = dict(block_size=64 * KIB, zero_block_size=4 * KIB)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def copy(src, dest, check_mode=False, **options):
    return sparse.copy_volume(str(src), str(dest), sparse.CopyOptions(**options), check_mode=check_mode).to_dict()


@pytest.fixture
def losetup():
    """losetup(*args) -> /dev/loopN; every device is detached at the end."""
    if os.geteuid() != 0:
        pytest.skip("loop device tests need root (running as uid %d)" % os.geteuid())
    exe = shutil.which("losetup") or ("/usr/sbin/losetup" if os.path.exists("/usr/sbin/losetup") else None)
    if not exe:
        pytest.skip("losetup (util-linux) is not installed")
    devices = []

    def attach(*args):
        r = subprocess.run([exe, "--find", "--show"] + [str(a) for a in args], capture_output=True, text=True, check=False)
        if r.returncode != 0:
            pytest.skip("cannot attach a loop device (losetup %s): %s" % (" ".join(map(str, args)), r.stderr.strip()))
        devices.append(r.stdout.strip())
        return devices[-1]

    yield attach
    for dev in reversed(devices):
        subprocess.run([exe, "-d", dev], capture_output=True, check=False)


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


def test_verify_detects_destination_changed_after_the_copy(tmp_path, src_image, monkeypatch):
    """The destination is compared with the source as it is after the copy."""
    dest = tmp_path / "dest.img"
    real = sparse._verify

    def corrupt_then_verify(*args, **kwargs):
        _write_at(dest, 4096, b"\xee" * 4096)
        return real(*args, **kwargs)
    monkeypatch.setattr(sparse, "_verify", corrupt_then_verify)
    with pytest.raises(sparse.SparseCopyError, match=r"does not match"):
        copy(src_image, dest, verify=True, **SMALL)


def test_verify_passes_on_an_unchanged_source(tmp_path, src_image):
    dest = tmp_path / "dest.img"
    res = copy(src_image, dest, verify=True, **SMALL)
    assert res["verified"] is True
    assert read(dest) == read(src_image)
