# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers shared by the sparse engine's tests (fixtures live in conftest.py)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess

import pytest

from ansible_collections.storage.datamotion.plugins.module_utils import sparse

KIB = 1024
MIB = 1024 * KIB
SMALL = dict(block_size=64 * KIB, zero_block_size=4 * KIB)


def read(path, size=None, offset=0):
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read() if size is None else f.read(size)


def sha(path, size=None, offset=0):
    return hashlib.sha256(read(path, size, offset)).hexdigest()


def copy(src, dest, check_mode=False, **options):
    return sparse.copy_volume(str(src), str(dest), sparse.CopyOptions(**options), check_mode=check_mode).to_dict()


def both_modes_refuse(src, dest, match, **options):
    """The real run and check mode fail alike, with the same message; returns it."""
    msgs = []
    for check_mode in (True, False):
        with pytest.raises(sparse.SparseCopyError, match=match) as e:
            copy(src, dest, check_mode=check_mode, **options)
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]
    return msgs[1]


def wait_for(path):
    """A partition's device node, once udev has made it."""
    if shutil.which("udevadm"):
        subprocess.run(["udevadm", "settle"], capture_output=True, check=False)
    for _unused in range(50):
        if os.path.exists(path):
            return path
        subprocess.run(["sleep", "0.1"], check=False)
    pytest.skip("%s did not appear (no partition scan on this kernel?)" % path)


def evict(path):
    """Drop the file's pages from the page cache."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def tool(name, package):
    """The path of a system tool (looked up in PATH, then in the sbin directories that
    a non-login PATH lacks), or skip the test saying which package provides it."""
    exe = shutil.which(name) or shutil.which(name, path="/usr/local/sbin:/usr/sbin:/sbin:/usr/bin:/bin")
    if not exe:
        pytest.skip("%s is not installed (Debian package %s)" % (name, package))
    return exe
