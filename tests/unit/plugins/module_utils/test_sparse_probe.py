# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Data-loss cases found by a second probe of the copy engine, on real loop devices:
a source whose newest data sits in the page cache of a device below a read-only loop
device, and loop devices whose backing file's path no longer names it. Every device a
test attaches is detached afterwards."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest

from ansible_collections.storage.datamotion.plugins.module_utils import sparse
from ansible_collections.storage.datamotion.tests.unit.plugins.module_utils.sparse_helpers import KIB, MIB, copy, read, sha, tool, wait_for


def write_unsynced(dev, data, offset):
    """Write through a device's page cache and leave it there (no fsync)."""
    fd = os.open(dev, os.O_WRONLY)
    try:
        os.pwrite(fd, data, offset)
    finally:
        os.close(fd)


def test_read_only_loop_over_a_loop_with_unflushed_data_is_copied_exactly(tmp_path, losetup):
    # A read-only loop device does not pass a flush down, so data written to the
    # device below it and still in that device's page cache was missing from the
    # backing file's allocation map: skipped, and verify agreed.
    backing = tmp_path / "backing.img"
    with open(backing, "wb") as f:
        f.truncate(16 * MIB)
    lower = losetup(backing)
    upper = losetup("-r", lower)
    data = os.urandom(MIB)
    write_unsynced(lower, data, 4 * MIB)
    dest = tmp_path / "copy.img"
    r = copy(upper, dest, verify=True)
    assert read(dest, MIB, 4 * MIB) == data
    assert sha(dest) == sha(upper)
    assert r["verified"] is True and r["bytes_written"] == MIB


def test_read_only_loop_over_a_partition_with_unflushed_data_is_copied_exactly(tmp_path, losetup):
    backing = tmp_path / "backing.img"
    with open(backing, "wb") as f:
        f.truncate(16 * MIB)
    table = bytearray(512)
    table[446:462] = bytes([0, 0, 0, 0, 0x83, 0, 0, 0]) + (2048).to_bytes(4, "little") + (16384).to_bytes(4, "little")
    table[510:512] = b"\x55\xaa"
    with open(backing, "r+b") as f:
        f.write(table)
    disk = losetup("-P", backing)
    if not os.path.exists(disk + "p1"):
        # a kernel without MBR support does not scan the table; partx tells it (BLKPG)
        partx = shutil.which("partx") or "/usr/bin/partx"
        if os.path.exists(partx):
            subprocess.run([partx, "-a", disk], capture_output=True, check=False)
    part = wait_for(disk + "p1")
    upper = losetup("-r", part)
    data = os.urandom(MIB)
    write_unsynced(part, data, 2 * MIB)
    dest = tmp_path / "copy.img"
    r = copy(upper, dest, verify=True)
    assert read(dest, MIB, 2 * MIB) == data
    assert r["verified"] is True


def test_loops_over_one_file_refused_when_the_backing_path_is_gone(tmp_path, losetup):
    # The loop driver keeps the file open after its path is unlinked (here: a hard
    # link keeps the file, its first name is removed). sysfs then names
    # "<path> (deleted)", and the overlap check must still see the shared file.
    first = tmp_path / "first.img"
    with open(first, "wb") as f:
        f.write(os.urandom(8 * MIB))
    dest = losetup("-o", MIB, first)
    second = tmp_path / "second.img"
    os.link(first, second)
    os.unlink(first)
    src = losetup("--sizelimit", 4 * MIB, second)
    before = sha(second)
    for check_mode in (True, False):
        with pytest.raises(sparse.SparseCopyError, match="overlap"):
            copy(src, dest, check_mode=check_mode)
    assert sha(second) == before


def test_destination_file_on_a_filesystem_stored_in_the_source_image_refused(tmp_path, losetup):
    # The source is the image file itself, not the loop device it is mounted from:
    # the copy wrote its destination into the filesystem inside its own source.
    img = tmp_path / "fs.img"
    with open(img, "wb") as f:
        f.truncate(32 * MIB)
    dev = losetup(img)
    mkfs = tool("mkfs.ext4", "e2fsprogs")
    # no lazy initialisation: ext4lazyinit would write the inode tables after the mount
    # and change the image under the test's before/after comparison
    r = subprocess.run([mkfs, "-q", "-F", "-E", "nodiscard,lazy_itable_init=0,lazy_journal_init=0", dev],
                       capture_output=True, text=True, check=False)
    if r.returncode != 0:
        pytest.skip("mkfs.ext4 %s failed: %s" % (dev, r.stderr.strip()))
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    r = subprocess.run(["mount", dev, str(mnt)], capture_output=True, text=True, check=False)
    if r.returncode != 0:
        pytest.skip("cannot mount %s: %s" % (dev, r.stderr.strip()))
    try:
        os.sync()
        before = sha(img)
        dest = mnt / "copy.img"
        for check_mode in (True, False):
            with pytest.raises(sparse.SparseCopyError, match="filesystem stored on the source") as e:
                copy(img, dest, check_mode=check_mode)
            assert str(img) in str(e.value) and str(dest) in str(e.value)
        assert not dest.exists()
        os.sync()
        assert sha(img) == before
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def test_release_on_a_loop_at_an_unaligned_offset_check_mode_agrees(tmp_path, losetup):
    # Allocated zeros on a loop device 1536 bytes into its file are released in whole
    # blocks of the file, not of the device: check mode predicted releases that the
    # real run's punches could not make (changed=true against changed=false).
    backing = tmp_path / "backing.img"
    with open(backing, "wb") as f:
        f.write(bytes(1536 + 256 * KIB))
        os.fsync(f.fileno())
    dest = losetup("-o", 1536, backing)
    src = tmp_path / "src.img"
    with open(src, "wb") as f:
        f.truncate(256 * KIB)
    predicted = copy(src, dest, check_mode=True)
    done = copy(src, dest)
    assert (predicted["changed"], predicted["bytes_released"]) == (done["changed"], done["bytes_released"])
    assert done["changed"] is True and done["bytes_released"] > 0
    assert os.stat(backing).st_blocks * 512 <= 2 * 4096
    again = copy(src, dest)
    assert again["changed"] is False and again["bytes_released"] == 0
    assert read(dest) == bytes(256 * KIB)


def test_active_swap_file_refused_as_destination_in_check_mode_too(tmp_path):
    # Writes to an active swap file fail with ETXTBSY: check mode predicted a copy,
    # and the real run failed advising a re-run that cannot work.
    if os.geteuid() != 0:
        pytest.skip("swapon needs root (running as uid %d)" % os.geteuid())
    mkswap, swapon = shutil.which("mkswap") or "/usr/sbin/mkswap", shutil.which("swapon") or "/usr/sbin/swapon"
    if not (os.path.exists(mkswap) and os.path.exists(swapon)):
        pytest.skip("mkswap and swapon (util-linux) are not installed")
    swap = tmp_path / "swap file"
    with open(swap, "wb") as f:
        f.write(bytes(8 * MIB))
    os.chmod(swap, 0o600)
    subprocess.run([mkswap, str(swap)], capture_output=True, check=True)
    r = subprocess.run([swapon, str(swap)], capture_output=True, text=True, check=False)
    if r.returncode != 0:
        pytest.skip("cannot swapon %s: %s" % (swap, r.stderr.strip()))
    try:
        src = tmp_path / "src.img"
        with open(src, "wb") as f:
            f.write(os.urandom(MIB))
        before = sha(swap)
        for check_mode in (True, False):
            with pytest.raises(sparse.SparseCopyError, match="in use: it is an active swap file") as e:
                copy(src, swap, check_mode=check_mode)
            assert e.value.changed is False and "re-run" not in str(e.value)
        assert sha(swap) == before
    finally:
        subprocess.run([shutil.which("swapoff") or "/usr/sbin/swapoff", str(swap)], check=False)


def test_running_program_refused_as_destination_in_check_mode_too(tmp_path):
    prog = tmp_path / "sleeper"
    shutil.copy(shutil.which("sleep") or "/bin/sleep", prog)
    src = tmp_path / "src.img"
    with open(src, "wb") as f:
        f.write(os.urandom(64 * KIB))
    p = subprocess.Popen([str(prog), "30"])
    try:
        time.sleep(0.2)
        for check_mode in (True, False):
            with pytest.raises(sparse.SparseCopyError, match="in use") as e:
                copy(src, prog, check_mode=check_mode)
            assert e.value.changed is False
    finally:
        p.kill()
        p.wait()


def test_source_that_cannot_be_sized_fails_clearly(tmp_path):
    # /proc files are regular files that cannot seek to their end
    with pytest.raises(sparse.SparseCopyError, match="/proc/self/status"):
        copy("/proc/self/status", tmp_path / "copy.img")
    assert not (tmp_path / "copy.img").exists()


def test_rerun_after_releasing_allocated_zeros_is_a_no_op(tmp_path):
    # The zero run starts 512 bytes into a filesystem block, so chunks of it straddle
    # blocks: the first run released allocated zeros chunk by chunk and left the
    # straddling blocks, and the second run released them (changed=true).
    src = tmp_path / "src.img"
    with open(src, "wb") as f:
        f.truncate(MIB)
        f.write(b"\xff" * 512)
    dest = tmp_path / "dest.img"
    with open(dest, "wb") as f:
        f.write(bytes(MIB))
        os.fsync(f.fileno())
    opts = dict(block_size=32 * KIB, zero_block_size=512)
    first = copy(src, dest, **opts)
    assert first["changed"] is True and first["bytes_released"] > 0
    assert os.stat(dest).st_blocks * 512 <= 4096
    second = copy(src, dest, **opts)
    assert second["changed"] is False and second["bytes_released"] == 0
    assert read(dest) == read(src)


def test_dirty_range_after_allocated_zeros_releases_them_whole(tmp_path):
    src = tmp_path / "src.img"
    with open(src, "wb") as f:
        f.truncate(MIB)
        f.write(b"\xff" * 512)
    dest = tmp_path / "dest.img"
    with open(dest, "wb") as f:
        f.write(bytes(MIB // 2) + b"\x01" * (MIB // 2))
        os.fsync(f.fileno())
    opts = dict(block_size=32 * KIB, zero_block_size=512)
    first = copy(src, dest, **opts)
    assert first["changed"] is True and read(dest) == read(src)
    assert os.stat(dest).st_blocks * 512 <= 4096
    second = copy(src, dest, **opts)
    assert second["changed"] is False


def test_missing_destination_with_a_trailing_slash_fails_in_check_mode_too(tmp_path):
    # check mode predicted a copy; the real run failed with "Is a directory ... re-run"
    src = tmp_path / "src.img"
    with open(src, "wb") as f:
        f.write(os.urandom(64 * KIB))
    dest = str(tmp_path / "copy.img") + "/"
    for check_mode in (True, False):
        with pytest.raises(sparse.SparseCopyError, match="ending with a slash names a directory") as e:
            copy(src, dest, check_mode=check_mode)
        assert e.value.changed is False and "re-run" not in str(e.value)
    assert not os.path.exists(dest.rstrip("/"))


def test_partition_beside_a_mounted_sibling_is_not_refused(tmp_path, losetup):
    # A mounted partition makes an exclusive open of its whole disk fail too; that
    # refused a copy onto a sibling partition (the disk was taken as in use), and
    # named the disk, not the partition, when the destination itself was mounted.
    img = tmp_path / "disk.img"
    with open(img, "wb") as f:
        f.truncate(64 * MIB)
    table = bytearray(512)
    for i, (start, count) in enumerate([(2048, 40960), (43008, 20480)]):
        table[446 + 16 * i:462 + 16 * i] = bytes([0, 0, 0, 0, 0x83, 0, 0, 0]) + start.to_bytes(4, "little") + \
            count.to_bytes(4, "little")
    table[510:512] = b"\x55\xaa"
    with open(img, "r+b") as f:
        f.write(table)
    disk = losetup("-P", img)
    if not os.path.exists(disk + "p1"):
        partx = shutil.which("partx") or "/usr/bin/partx"
        if os.path.exists(partx):
            subprocess.run([partx, "-a", disk], capture_output=True, check=False)
    p1, p2 = wait_for(disk + "p1"), wait_for(disk + "p2")
    mkfs = tool("mkfs.ext4", "e2fsprogs")
    r = subprocess.run([mkfs, "-q", "-F", "-E", "nodiscard", p1], capture_output=True, text=True, check=False)
    if r.returncode != 0:
        pytest.skip("mkfs.ext4 %s failed: %s" % (p1, r.stderr.strip()))
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    r = subprocess.run(["mount", p1, str(mnt)], capture_output=True, text=True, check=False)
    if r.returncode != 0:
        pytest.skip("cannot mount %s: %s" % (p1, r.stderr.strip()))
    try:
        src = tmp_path / "src.img"
        with open(src, "wb") as f:
            f.write(os.urandom(4 * MIB))
        r = copy(src, p2, verify=True)
        assert r["verified"] is True and read(p2, 4 * MIB) == read(src)
        with pytest.raises(sparse.SparseCopyError, match="in use: it is mounted"):
            copy(src, p1, check_mode=True)
        for dest in (disk, p1):
            with pytest.raises(sparse.SparseCopyError, match="in use"):
                copy(src, dest)
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def test_destination_on_a_filesystem_two_levels_inside_the_source_refused(tmp_path, losetup):
    # outer.img holds a filesystem holding inner.img, which holds the filesystem the
    # destination would be created on: writing it writes the source
    mkfs = tool("mkfs.ext4", "e2fsprogs")
    mounts = []

    def mkfs_and_mount(img, size, name):
        with open(img, "wb") as f:
            f.truncate(size)
        dev = losetup(img)
        r = subprocess.run([mkfs, "-q", "-F", "-E", "nodiscard", dev], capture_output=True, text=True, check=False)
        if r.returncode != 0:
            pytest.skip("mkfs.ext4 %s failed: %s" % (dev, r.stderr.strip()))
        mnt = tmp_path / name
        mnt.mkdir()
        r = subprocess.run(["mount", dev, str(mnt)], capture_output=True, text=True, check=False)
        if r.returncode != 0:
            pytest.skip("cannot mount %s: %s" % (dev, r.stderr.strip()))
        mounts.append((mnt, dev))
        return dev, mnt

    try:
        outer = tmp_path / "outer.img"
        _dev, m1 = mkfs_and_mount(outer, 64 * MIB, "m1")
        inner_dev, m2 = mkfs_and_mount(m1 / "inner.img", 32 * MIB, "m2")
        for src in (outer, inner_dev):
            for check_mode in (True, False):
                with pytest.raises(sparse.SparseCopyError, match="filesystem stored on the source"):
                    copy(src, m2 / "copy.img", check_mode=check_mode)
        assert not (m2 / "copy.img").exists()
    finally:
        for mnt, dev in reversed(mounts):      # the inner device holds the outer filesystem busy
            # a detached loop device lets go of its file a moment later: until then the
            # outer umount fails with EBUSY, and a single try left it mounted
            for _unused in range(50):
                if subprocess.run(["umount", str(mnt)], capture_output=True, check=False).returncode == 0:
                    break
                time.sleep(0.1)
            losetup.detach(dev)


@pytest.mark.parametrize("fs", ["tmpfs", "ext4"])
def test_loop_destination_on_a_full_filesystem_says_so(tmp_path, losetup, fs):
    # A source without an allocation map is not counted before the copy, so the
    # loop device's writes fail when its file's filesystem fills: the message said
    # "I/O error ... check the device and its paths" (on ext4 even after tmpfs was
    # fixed: ext4 fails data writes while some blocks still count as free).
    mnt = tmp_path / "small"
    mnt.mkdir()
    if fs == "tmpfs":
        size, cmd = 8 * MIB, ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)]
    else:
        if not shutil.which("mkfs.ext4"):
            pytest.skip("mkfs.ext4 is not installed")
        image = tmp_path / "fs.img"
        with open(image, "wb") as f:
            f.truncate(24 * MIB)
        subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], capture_output=True, check=True)
        fsdev = losetup(image)
        subprocess.run(["blockdev", "--setrw", fsdev], capture_output=True, check=False)
        size, cmd = 32 * MIB, ["mount", fsdev, str(mnt)]
    r = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if r.returncode != 0:
        pytest.skip("cannot mount a %s: %s" % (fs, r.stderr.strip()))
    try:
        backing = mnt / "lun.img"
        with open(backing, "wb") as f:
            f.truncate(size)
        dest = losetup(backing)
        subprocess.run(["blockdev", "--setrw", dest], capture_output=True, check=False)
        first = tmp_path / "first.img"
        with open(first, "wb") as f:
            f.write(os.urandom(size))
        src = losetup(first)
        os.link(first, tmp_path / "second.img")
        os.unlink(first)                 # the source keeps no path: read whole, no map to count
        with pytest.raises(sparse.SparseCopyError, match="no space left") as e:
            copy(src, dest)
        assert str(mnt) in str(e.value) and e.value.changed is True
    finally:
        for dev in [d for d in os.listdir("/sys/block") if d.startswith("loop")]:
            node = "/sys/block/%s/loop/backing_file" % dev
            if os.path.exists(node) and open(node).read().startswith(str(mnt)):
                subprocess.run([shutil.which("losetup") or "/usr/sbin/losetup", "-d", "/dev/" + dev], check=False)
        for _unused in range(20):
            if subprocess.run(["umount", str(mnt)], capture_output=True, check=False).returncode == 0:
                break
            time.sleep(0.1)
