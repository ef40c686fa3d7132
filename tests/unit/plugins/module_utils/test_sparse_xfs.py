# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 15, space on XFS: the space check counts the blocks the filesystem takes to
record where the data lies (one extent per run of data), and a copy that still runs
out of space mid-way says exactly what the destination holds. On a real XFS image
over a loop device."""

from __future__ import annotations

import os
import random
import re
import subprocess
import time

import pytest

from ansible_collections.storage.datamotion.plugins.module_utils import sparse, sparse_preflight
from ansible_collections.storage.datamotion.tests.unit.plugins.module_utils.sparse_helpers import KIB, MIB, both_modes_refuse, copy, read, tool

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a filesystem image needs root")

BLOCK = 4 * KIB
OPTS = dict(block_size=64 * KIB, zero_block_size=4 * KIB)


@pytest.fixture
def xfs(tmp_path, losetup):
    """A mounted XFS of 320 MiB (mkfs.xfs refuses less than 300 MiB), 4 KiB blocks."""
    mkfs = tool("mkfs.xfs", "xfsprogs")
    img = tmp_path / "xfs.img"
    with open(img, "wb") as f:
        f.truncate(320 * MIB)
    r = subprocess.run([mkfs, "-q", "-f", "-b", "size=%d" % BLOCK, str(img)], capture_output=True, text=True,
                       check=False)
    if r.returncode != 0:
        pytest.skip("mkfs.xfs failed: %s" % r.stderr.strip())
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "xfs", losetup(img), str(mnt)], capture_output=True, text=True, check=False)
    if r.returncode != 0:
        pytest.skip("cannot mount XFS: %s" % r.stderr.strip())
    yield mnt
    for _unused in range(20):
        if subprocess.run(["umount", str(mnt)], capture_output=True, check=False).returncode == 0:
            return
        time.sleep(0.1)
    subprocess.run(["umount", "-l", str(mnt)], capture_output=True, check=False)


def scattered(path, extents, seed):
    """A source of `extents` 4 KiB blocks of data, each followed by a 4 KiB hole."""
    rng = random.Random(seed)
    with open(path, "wb") as f:
        for i in range(extents):
            f.seek(2 * i * BLOCK)
            f.write(rng.randbytes(BLOCK))
        f.truncate(2 * extents * BLOCK)
    return path


def leave_free(mnt, want):
    """Fill the filesystem with one preallocated file so that exactly `want` bytes are
    free (what free_bytes says), waiting for space freed before to come back."""
    filler = mnt / "filler"
    if filler.exists():
        filler.unlink()
    os.sync()
    free = -1
    for _unused in range(50):
        now = sparse_preflight.free_bytes(str(mnt))
        if now == free:
            break
        free = now
        time.sleep(0.2)
    assert free > want, (free, want)
    fd = os.open(str(filler), os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        os.posix_fallocate(fd, 0, free - want)
    finally:
        os.close(fd)
    os.sync()
    return sparse_preflight.free_bytes(str(mnt))


def test_space_check_counts_what_xfs_takes_to_map_the_extents(tmp_path, xfs):
    """4000 runs of data become 4000 extents, whose map takes XFS 18 to 26 blocks more
    than the data: with room for the data and 8 blocks, the check passed and the copy
    failed with ENOSPC half-way. It must be refused before writing, in check mode too;
    with the margin the check asks for, the copy completes."""
    extents = 4000
    src = scattered(tmp_path / "src.img", extents, seed=90)
    dest = xfs / "dest.img"
    data = extents * BLOCK
    assert leave_free(xfs, data + 8 * BLOCK) == data + 8 * BLOCK
    msg = both_modes_refuse(src, dest, r"not enough space", **OPTS)
    assert "record where that data lies" in msg and "nothing was written" in msg
    assert not dest.exists()

    margin = sparse_preflight.metadata_margin(extents, BLOCK)
    assert 26 * BLOCK < margin < 64 * BLOCK
    assert leave_free(xfs, data + margin) == data + margin
    res = copy(src, dest, verify=True, **OPTS)
    assert res["verified"] is True and read(dest) == read(src)


def test_out_of_space_mid_copy_says_what_the_new_file_holds(tmp_path, xfs, monkeypatch):
    """Space the check saw is taken by another program during the copy (played by a
    check that sees plenty): the copy fails with ENOSPC and says which bytes are the
    source's and what the rest reads, which must be true; a re-run once there is room
    writes only the rest."""
    src = tmp_path / "src.img"
    with open(src, "wb") as f:
        f.write(random.Random(91).randbytes(8 * MIB))
        f.truncate(12 * MIB)
    dest = xfs / "dest.img"
    leave_free(xfs, 3 * MIB)
    monkeypatch.setattr(sparse_preflight, "free_bytes", lambda directory: 1 << 40)
    with pytest.raises(sparse.SparseCopyError, match=r"no space left") as e:
        copy(src, dest, **OPTS)
    msg = str(e.value)
    assert e.value.changed is True
    m = re.search(r"created by this copy with the source's size \(%d bytes\): its bytes 0 to (\d+) are the "
                  r"source's, and from byte \1 on it reads zeros" % (12 * MIB), msg)
    assert m, msg
    done = int(m.group(1))
    assert 0 < done < 8 * MIB, msg
    assert os.path.getsize(dest) == 12 * MIB
    assert read(dest, done) == read(src, done)
    assert read(dest, offset=done) == bytes(12 * MIB - done)
    assert "re-run the copy" in msg and "bytes free now" in msg

    (xfs / "filler").unlink()
    monkeypatch.undo()
    again = copy(src, dest, verify=True, **OPTS)
    assert again["verified"] is True and read(dest) == read(src)
    assert again["bytes_unchanged"] >= done // (64 * KIB) * (64 * KIB)
