# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The copy engine on stacked block devices: loop partitions, loop devices sharing a
backing file, a file that backs a loop device, and verify against a source that
changes during the copy. Real loop devices (losetup -P), real ext4; every device a
test attaches is detached afterwards."""

from __future__ import annotations

import os
import random
import shutil
import struct
import subprocess

import pytest

from ansible_collections.storage.datamotion.plugins.module_utils import sparse
from ansible_collections.storage.datamotion.tests.unit.plugins.module_utils.sparse_helpers import KIB, MIB, SMALL, copy, read, sha, tool, wait_for


def refused(src, dest, match, **options):
    with pytest.raises(sparse.SparseCopyError, match=match) as e:
        copy(src, dest, **options)
    return str(e.value)


def mbr(path, parts):
    """Write an MBR partition table: parts = [(start_sector, sectors)], type 0x83."""
    table = bytearray(512)
    for i, (start, count) in enumerate(parts):
        table[446 + 16 * i:446 + 16 * (i + 1)] = struct.pack("<B3sB3sII", 0, b"\0\0\0", 0x83, b"\0\0\0", start, count)
    table[510:512] = b"\x55\xaa"
    with open(path, "r+b") as f:
        f.write(table)
        os.fsync(f.fileno())


def mkfs_ext4(dev):
    exe = shutil.which("mkfs.ext4") or "/usr/sbin/mkfs.ext4"
    if not os.path.exists(exe):
        pytest.skip("mkfs.ext4 is not installed")
    r = subprocess.run([exe, "-q", "-F", "-E", "nodiscard", dev], capture_output=True, text=True, check=False)
    if r.returncode != 0:
        pytest.skip("mkfs.ext4 %s failed: %s" % (dev, r.stderr.strip()))


def fill_fs(dev, tmp_path):
    """Put files on the ext4 filesystem of dev, so it has data beyond its metadata."""
    mnt = tmp_path / ("mnt-" + os.path.basename(dev))
    mnt.mkdir()
    r = subprocess.run(["mount", dev, str(mnt)], capture_output=True, text=True, check=False)
    if r.returncode != 0:
        pytest.skip("cannot mount %s: %s" % (dev, r.stderr.strip()))
    try:
        rng = random.Random(5)
        for i in range(6):
            (mnt / ("f%d" % i)).write_bytes(rng.randbytes(700 * KIB + i * 4096))
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


@pytest.fixture
def partitioned(tmp_path, losetup):
    """A 64 MiB sparse image with an MBR partition at sector 2048 (ext4 with files on
    it) and a second one behind it, attached with losetup -P. Returns (disk, p1, p2, image)."""
    img = tmp_path / "disk.img"
    with open(img, "wb") as f:
        f.truncate(64 * MIB)
    mbr(img, [(2048, 40 * 2048), (42 * 2048, 20 * 2048)])
    disk = losetup("-P", img)
    if not os.path.exists(disk + "p1"):
        # a kernel without MBR support (CONFIG_MSDOS_PARTITION unset) does not scan the
        # table; partx tells it the partitions (BLKPG), which look the same in sysfs
        partx = shutil.which("partx") or "/usr/bin/partx"
        if os.path.exists(partx):
            subprocess.run([partx, "-a", disk], capture_output=True, check=False)
    p1, p2 = wait_for(disk + "p1"), wait_for(disk + "p2")
    mkfs_ext4(p1)
    fill_fs(p1, tmp_path)
    # closing a partition written through makes udev re-read the disk's table, which removes and re-adds the
    # partition nodes: wait until both are back, or a test finds "/dev/loopNp2 does not exist"
    p1, p2 = wait_for(disk + "p1"), wait_for(disk + "p2")
    return disk, p1, p2, img


def fsck_clean(path):
    exe = tool("e2fsck", "e2fsprogs")
    r = subprocess.run([exe, "-f", "-n", str(path)], capture_output=True, text=True, check=False)
    return r.returncode == 0, r.stdout + r.stderr


# ------------------------------------------------------------------ 1. loop partitions

def test_loop_partition_as_source_is_copied_exactly(tmp_path, partitioned):
    disk, p1, p2, img = partitioned
    dest = tmp_path / "p1.img"
    res = copy(p1, dest, verify=True, **SMALL)
    assert res["src_type"] == "block"
    assert read(dest) == read(p1)
    ok, out = fsck_clean(dest)
    assert ok, out
    assert res["verified"] is True


def test_loop_partition_as_dirty_destination_is_overwritten_exactly(tmp_path, partitioned, losetup):
    disk, p1, p2, img = partitioned
    size = 20 * MIB
    # p2 is dirty: random data all over it
    with open(p2, "r+b") as f:
        f.write(random.Random(9).randbytes(size))
        os.fsync(f.fileno())
    src = tmp_path / "src.img"
    content = bytearray(size)
    content[0:64 * KIB] = random.Random(3).randbytes(64 * KIB)
    with open(src, "wb") as f:
        f.write(content[:64 * KIB])
        f.truncate(size)
    res = copy(src, p2, **SMALL)
    assert res["changed"] is True
    assert read(p2) == bytes(content)
    # a re-run finds nothing to do
    res = copy(src, p2, **SMALL)
    assert res["changed"] is False


def test_loop_partition_dest_allocation_is_its_own_share(tmp_path, partitioned):
    """dest_allocated_* of a partition counts its range of the backing file only."""
    disk, p1, p2, img = partitioned
    src = tmp_path / "src.img"
    with open(src, "wb") as f:
        f.write(b"\x01" * (64 * KIB))
        f.truncate(20 * MIB)
    res = copy(src, p2, **SMALL)
    assert res["dest_allocated_after"] is not None
    assert res["dest_allocated_after"] <= 64 * KIB + 64 * KIB, res


# --------------------------------------------------------------- 2. overlapping devices

def test_loop_devices_over_one_file_at_overlapping_offsets_refused(tmp_path, losetup):
    img = tmp_path / "shared.img"
    with open(img, "wb") as f:
        f.write(random.Random(1).randbytes(8 * MIB))
    a = losetup(img)                                   # bytes 0-8 MiB
    b = losetup("--offset", 1 * MIB, "--sizelimit", 4 * MIB, img)  # bytes 1-5 MiB
    before = sha(img)
    msg = refused(a, b, r"overlap|same")
    assert a in msg and b in msg
    refused(b, a, r"overlap|same")
    assert sha(img) == before


def test_loop_devices_over_one_file_at_disjoint_offsets_allowed(tmp_path, losetup):
    img = tmp_path / "shared.img"
    with open(img, "wb") as f:
        f.write(random.Random(2).randbytes(8 * MIB))
    a = losetup("--sizelimit", 4 * MIB, img)
    b = losetup("--offset", 4 * MIB, img)
    first = read(img, 4 * MIB)
    copy(a, b, **SMALL)
    assert read(img, 4 * MIB, 4 * MIB) == first
    assert read(img, 4 * MIB) == first


def test_partition_and_its_whole_disk_refused(tmp_path, partitioned):
    disk, p1, p2, img = partitioned
    before = sha(img)
    for s, d in ((p1, disk), (disk, p1), (disk, p2), (p2, disk)):
        msg = refused(s, d, r"overlap|same")
        assert s in msg and d in msg
    assert sha(img) == before


def test_sibling_partitions_do_not_overlap(tmp_path, partitioned):
    disk, p1, p2, img = partitioned
    p2_before = sha(p2)
    copy(p2, p1, **SMALL)
    assert sha(p2) == p2_before
    assert read(p1, 20 * MIB) == read(p2)


def test_loop_partition_and_loop_over_the_same_range_refused(tmp_path, partitioned, losetup):
    """A second loop device over the image at the partition's offset is p1 again."""
    disk, p1, p2, img = partitioned
    other = losetup("--offset", 2048 * 512 + 4 * MIB, "--sizelimit", 1 * MIB, img)
    before = sha(img)
    refused(other, p1, r"overlap|same")
    refused(p1, other, r"overlap|same")
    assert sha(img) == before


def test_device_mapper_over_a_loop_device_refused(tmp_path, losetup):
    """holders/slaves: a dm-linear device over a loop device shares its bytes."""
    dmsetup = shutil.which("dmsetup") or "/usr/sbin/dmsetup"
    if not os.path.exists(dmsetup):
        pytest.skip("dmsetup is not installed")
    img = tmp_path / "dm.img"
    with open(img, "wb") as f:
        f.write(random.Random(4).randbytes(4 * MIB))
    lo = losetup(img)
    name = "sparsetest%d" % os.getpid()
    table = "0 %d linear %s 2048\n" % (2 * MIB // 512, lo)
    r = subprocess.run([dmsetup, "create", name], input=table, capture_output=True, text=True, check=False)
    if r.returncode != 0:
        pytest.skip("dmsetup create failed (no device-mapper in this kernel?): %s"
                    % " ".join(r.stderr.split()))
    try:
        dm = wait_for("/dev/mapper/" + name)
        before = sha(img)
        refused(dm, lo, r"overlap|same|in use|busy")
        refused(lo, dm, r"overlap|same")
        assert sha(img) == before
    finally:
        subprocess.run([dmsetup, "remove", name], capture_output=True, check=False)


# ------------------------------------------------------- 3. a file that backs a loop device

def test_file_backing_a_loop_device_refused_as_destination(tmp_path, losetup):
    src = tmp_path / "src.img"
    with open(src, "wb") as f:
        f.write(random.Random(6).randbytes(1 * MIB))
    backing = tmp_path / "backing.img"
    with open(backing, "wb") as f:
        f.write(random.Random(7).randbytes(1 * MIB))
    dev = losetup("--offset", 512 * KIB, backing)
    before = sha(backing)
    msg = refused(src, backing, r"in use|loop")
    assert dev in msg and str(backing) in msg
    assert sha(backing) == before


def test_file_backing_a_loop_device_refused_in_check_mode(tmp_path, losetup):
    src = tmp_path / "src.img"
    with open(src, "wb") as f:
        f.write(b"\x01" * (64 * KIB))
    backing = tmp_path / "backing.img"
    with open(backing, "wb") as f:
        f.truncate(1 * MIB)
    losetup(backing)
    with pytest.raises(sparse.SparseCopyError, match=r"in use|loop"):
        copy(src, backing, check_mode=True)


def test_file_backing_a_partitioned_loop_device_refused(tmp_path, partitioned):
    disk, p1, p2, img = partitioned
    src = tmp_path / "src.img"
    with open(src, "wb") as f:
        f.truncate(64 * MIB)
    before = sha(img)
    refused(src, img, r"in use|loop")
    assert sha(img) == before


def test_loop_whose_backing_path_names_another_file_is_read_whole(tmp_path, losetup):
    """The backing file was deleted and a file with the name sysfs then shows
    ('... (deleted)') is all holes: its map must not be taken for the device's."""
    f = tmp_path / "a.img"
    with open(f, "wb") as out:
        out.write(random.Random(21).randbytes(1 * MIB))
    dev = losetup(f)
    os.unlink(f)
    with open(tmp_path / "a.img (deleted)", "wb") as out:
        out.truncate(1 * MIB)
    dest = tmp_path / "dest.img"
    res = copy(dev, dest, **SMALL)
    assert res["src_map"] == "none"
    assert read(dest) == read(dev)


# --------------------------------------------- a file on a filesystem on the other end

@pytest.fixture
def mounted_loop(tmp_path, losetup):
    """An ext4 filesystem on a loop device over fs.img, mounted; unmounted at the end."""
    img = tmp_path / "fs.img"
    with open(img, "wb") as f:
        f.truncate(32 * MIB)
    dev = losetup(img)
    mkfs_ext4(dev)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    r = subprocess.run(["mount", dev, str(mnt)], capture_output=True, text=True, check=False)
    if r.returncode != 0:
        pytest.skip("cannot mount %s: %s" % (dev, r.stderr.strip()))
    try:
        yield dev, img, mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def test_destination_file_on_the_source_filesystem_refused(tmp_path, mounted_loop):
    dev, img, mnt = mounted_loop
    for dest in (mnt / "copy.img", mnt / "existing.img"):
        if dest.name == "existing.img":
            dest.write_bytes(b"x")
        msg = refused(dev, dest, r"filesystem stored on the source")
        assert str(dest) in msg and dev in msg
    assert not (mnt / "copy.img").exists()
    assert (mnt / "existing.img").read_bytes() == b"x"


def test_source_file_on_a_filesystem_on_the_destination_refused(tmp_path, mounted_loop, losetup):
    """A second, unclaimed loop device over the same image is the filesystem under the source."""
    dev, img, mnt = mounted_loop
    src = mnt / "src.img"
    src.write_bytes(random.Random(22).randbytes(256 * KIB))
    os.sync()
    other = losetup(img)
    before = sha(img)
    msg = refused(src, other, r"overlap|filesystem stored on the destination")
    assert str(src) in msg and other in msg
    assert sha(img) == before


def test_loop_over_the_file_of_a_mounted_loop_refused(tmp_path, mounted_loop, losetup):
    """Writing a second loop device over the image of a mounted filesystem would
    destroy that filesystem, although it is neither the source nor claimed itself."""
    dev, img, mnt = mounted_loop
    (mnt / "marker").write_bytes(b"still here")
    os.sync()
    other = losetup(img)
    src = tmp_path / "src.img"
    with open(src, "wb") as f:
        f.write(random.Random(23).randbytes(64 * KIB))
        f.truncate(32 * MIB)
    before = sha(img)
    for check_mode in (True, False):
        with pytest.raises(sparse.SparseCopyError, match=r"in use") as e:
            copy(src, other, check_mode=check_mode)
        assert dev in str(e.value) and other in str(e.value)
    assert sha(img) == before
    assert (mnt / "marker").read_bytes() == b"still here"


def test_partition_overlapping_a_mounted_sibling_range_refused(tmp_path, partitioned, losetup):
    """A loop device over the image at the mounted partition's offset is that partition."""
    disk, p1, p2, img = partitioned
    mnt = tmp_path / "mnt-p1"
    mnt.mkdir()
    r = subprocess.run(["mount", p1, str(mnt)], capture_output=True, text=True, check=False)
    if r.returncode != 0:
        pytest.skip("cannot mount %s: %s" % (p1, r.stderr.strip()))
    try:
        other = losetup("--offset", 2048 * 512, "--sizelimit", 8 * MIB, img)
        src = tmp_path / "src.img"
        with open(src, "wb") as f:
            f.truncate(8 * MIB)
        with pytest.raises(sparse.SparseCopyError, match=r"in use") as e:
            copy(src, other)
        assert p1 in str(e.value)
    finally:
        subprocess.run(["umount", str(mnt)], check=False)
