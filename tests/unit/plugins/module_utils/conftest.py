# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures shared by the module_utils tests."""

from __future__ import annotations

import os
import random
import shutil
import subprocess

import pytest

MIB = 1 << 20


@pytest.fixture
def losetup():
    """losetup(*args) -> /dev/loopN; every device is detached at the end."""
    if os.geteuid() != 0:
        pytest.skip("loop device tests need root (running as uid %d)" % os.geteuid())
    exe = shutil.which("losetup") or ("/usr/sbin/losetup" if os.path.exists("/usr/sbin/losetup") else None)
    if not exe:
        pytest.skip("losetup (util-linux) is not installed")
    devices = {}

    def attach(*args):
        r = subprocess.run([exe, "--find", "--show"] + [str(a) for a in args], capture_output=True, text=True, check=False)
        if r.returncode != 0:
            pytest.skip("cannot attach a loop device (losetup %s): %s" % (" ".join(map(str, args)), r.stderr.strip()))
        dev = r.stdout.strip()
        devices[dev] = os.path.realpath(str(args[-1]))
        if "-r" not in args:
            # a read-only flag set by an earlier user of this number (blockdev --setro)
            # outlives detaching it: the device asked for is a writable one
            subprocess.run(["blockdev", "--setrw", dev], capture_output=True, check=False)
        return dev

    def detach(dev):
        """Detach dev if it still is ours: once released, its number may already serve
        another test (pytest-xdist runs tests side by side), and detaching that one by
        name pulled its device from under it."""
        backing = devices.pop(dev, None)
        try:
            with open("/sys/block/%s/loop/backing_file" % os.path.basename(dev)) as f:
                current = f.read().strip()
        except OSError:
            return
        if backing and current.split(" (deleted)")[0] == backing:
            subprocess.run([exe, "-d", dev], capture_output=True, check=False)

    attach.detach = detach
    yield attach
    for dev in reversed(list(devices)):
        detach(dev)


@pytest.fixture
def source(tmp_path):
    """A fsynced source: 24 MiB of data in 1 MiB extents every 2 MiB (48 MiB)."""
    src = tmp_path / "src.img"
    rng = random.Random(3)
    with open(src, "wb") as f:
        for i in range(24):
            f.seek(2 * i * MIB)
            f.write(rng.randbytes(MIB))
        f.truncate(48 * MIB)
        f.flush()
        os.fsync(f.fileno())
    return src
