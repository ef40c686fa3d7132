# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 15: a symbolic link flipped during the checks, destinations in use by other
programs (open, locked, a FUSE image), two copies at once, space at the copy's peak
and the filesystem's largest file, a source that cannot be read, a wrong
dest_zeroed, capabilities of FUSE and tmpfs destinations, fallocated destinations,
and the lesser edges (sysfs source, sector size, full ext4 under a loop device)."""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from ansible_collections.storage.datamotion.plugins.module_utils import blockdev, sparse, sparse_preflight
from ansible_collections.storage.datamotion.tests.unit.plugins.module_utils.sparse_helpers import KIB, MIB, SMALL, both_modes_refuse, copy, read, tool

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounts, loop devices and locks of other users need root")


def image(path, data=256 * KIB, size=1 * MIB, seed=1, at=0):
    with open(path, "wb") as f:
        f.seek(at)
        f.write(random.Random(seed).randbytes(data))
        f.truncate(size)
    return path


def mount(*args):
    r = subprocess.run(["mount"] + [str(a) for a in args], capture_output=True, text=True, check=False)
    if r.returncode != 0:
        pytest.skip("cannot mount (%s): %s" % (" ".join(map(str, args)), r.stderr.strip()))


def umount(path):
    for _unused in range(20):
        if subprocess.run(["umount", str(path)], capture_output=True, check=False).returncode == 0:
            return
        time.sleep(0.1)
    subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


@pytest.fixture
def tmpfs(tmp_path):
    made = []

    def make(size="2m"):
        mnt = tmp_path / ("tmpfs%d" % len(made))
        mnt.mkdir()
        mount("-t", "tmpfs", "-o", "size=" + size, "tmpfs", mnt)
        made.append(mnt)
        return mnt
    yield make
    for mnt in made:
        umount(mnt)


def fuse_fs(tmp_path, name, mkfs, mount_cmd):
    """A 64 MiB image made by `mkfs` (argv without the image) and mounted through
    FUSE by `mount_cmd` (argv without image and mount point); skips if it cannot."""
    img = tmp_path / (name + ".img")
    with open(img, "wb") as f:
        f.truncate(64 * MIB)
    subprocess.run(mkfs + [str(img)], capture_output=True, check=True)
    mnt = tmp_path / name
    mnt.mkdir()
    r = subprocess.run(mount_cmd + [str(img), str(mnt)], capture_output=True, text=True, check=False)
    if r.returncode != 0:
        pytest.skip("cannot mount with %s: %s" % (mount_cmd[0], r.stderr.strip()))
    return mnt


@pytest.fixture
def ntfs(tmp_path):
    """A FUSE filesystem (ntfs-3g over an image file): no O_TMPFILE, no hole punching,
    no ZERO_RANGE, and SEEK_DATA sees every byte as data."""
    mnt = fuse_fs(tmp_path, "ntfs", [tool("mkntfs", "ntfs-3g"), "-q", "-F", "-f"], [tool("ntfs-3g", "ntfs-3g")])
    yield mnt
    umount(mnt)


@pytest.fixture
def attach(losetup):
    """losetup, and a device left read-only by an earlier user of its number
    (blockdev --setro outlives detaching) made writable again."""
    def run(*args):
        dev = losetup(*args)
        if "-r" not in args:
            subprocess.run(["blockdev", "--setrw", dev], capture_output=True, check=False)
        return dev
    return run


def mkfs_mount(attach, tmp_path, size, *mkfs_args):
    mkfs = tool("mkfs.ext4", "e2fsprogs")
    fs = tmp_path / "fs.img"
    with open(fs, "wb") as f:
        f.truncate(size)
    subprocess.run([mkfs, "-q", "-F"] + list(mkfs_args) + [str(fs)], capture_output=True, check=True)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    mount(attach(fs), mnt)
    return mnt


def _flipper(link, targets, stop):
    """Point `link` at each target in turn, atomically (a new link renamed over it).
    Most flips follow at once; one in four holds its target for up to 30 ms, so that
    on a loaded machine some copies still run their whole check on one target."""
    tmp = str(link) + ".new"
    i = 0
    while not stop.is_set():
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        os.symlink(str(targets[i % len(targets)]), tmp)
        os.replace(tmp, str(link))
        if random.random() < 0.25:
            time.sleep(random.uniform(0, 0.03))
        i += 1


def race(link, targets, attempts, run):
    """Run `run()` `attempts` times while another process flips `link` between targets."""
    ctx = multiprocessing.get_context("fork")
    stop = ctx.Event()
    proc = ctx.Process(target=_flipper, args=(link, targets, stop))
    proc.start()
    try:
        outcomes = [run() for _unused in range(attempts)]
    finally:
        stop.set()
        proc.join(10)
    return outcomes


# ------------------------------------------------------------------ 1. symlink race

def test_dest_symlink_flipped_onto_a_loop_backing_file_never_writes_it(tmp_path, attach):
    """dest flips between a scratch file and the file under a loop device: the copy
    writes the scratch file or refuses, never the loop device's file."""
    src = image(tmp_path / "src.img", seed=2)
    guarded = image(tmp_path / "guarded.img", data=1 * MIB, seed=3)
    before = read(guarded)
    dev = attach(guarded)
    scratch = image(tmp_path / "scratch.img", data=1 * MIB, seed=4)
    link = tmp_path / "dest"
    os.symlink(str(scratch), str(link))

    def run():
        try:
            copy(src, link, **SMALL)
            return "copied"
        except sparse.SparseCopyError as e:
            assert "backs the loop device" in str(e), str(e)
            return "refused"
    outcomes = race(link, [scratch, guarded], 60, run)
    if dev not in blockdev.loops_backed_by(os.stat(guarded)):
        pytest.skip("another process detached %s during the test, so the file was no longer guarded" % dev)
    assert read(guarded) == before
    assert "copied" in outcomes


def test_src_symlink_flipped_onto_a_fifo_never_blocks(tmp_path):
    """src flips between an image and a FIFO: the copy reads the image or refuses
    the FIFO; it never opens the FIFO, which would block until a writer came."""
    src = image(tmp_path / "src.img", seed=5)
    fifo = tmp_path / "fifo"
    os.mkfifo(str(fifo))
    link = tmp_path / "src"
    os.symlink(str(src), str(link))

    def run():
        dest = tmp_path / "dest.img"
        try:
            copy(link, dest, **SMALL)
            assert read(dest) == read(src)
            return "copied"
        except sparse.SparseCopyError as e:
            assert "neither a regular file nor a block device" in str(e), str(e)
            return "refused"
        finally:
            if dest.exists():
                dest.unlink()

    def alarm(signum, frame):
        raise AssertionError("the copy blocked opening the FIFO")
    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(30)
    try:
        outcomes = race(link, [src, fifo], 300, run)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert "copied" in outcomes


# ------------------------------------------------------------- 2. in use by programs

def test_destination_open_in_another_program_is_refused_naming_it(tmp_path):
    src = image(tmp_path / "src.img")
    dest = image(tmp_path / "dest.img", data=1 * MIB, seed=6)
    before = read(dest)
    with open(dest, "rb") as f:
        holder = subprocess.Popen(["sleep", "60"], stdin=f)
    try:
        msg = both_modes_refuse(src, dest, r"in use")
        assert "sleep (pid %d)" % holder.pid in msg
    finally:
        holder.kill()
        holder.wait()
    assert read(dest) == before
    assert copy(src, dest, **SMALL)["changed"] is True


def test_destination_served_by_qemu_nbd_is_refused(tmp_path):
    qemu_nbd = tool("qemu-nbd", "qemu-utils")
    src = image(tmp_path / "src.img")
    dest = image(tmp_path / "dest.img", data=1 * MIB, seed=7)
    before = read(dest)
    sock = tmp_path / "nbd.sock"
    server = subprocess.Popen([qemu_nbd, "-f", "raw", "-k", str(sock), "-t", str(dest)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _unused in range(600):      # a loaded machine can take seconds to start it
            if sock.exists() or server.poll() is not None:
                break
            time.sleep(0.1)
        assert sock.exists(), "qemu-nbd did not start (rc %s)" % server.poll()
        msg = both_modes_refuse(src, dest, r"(locked|in use)")
        assert "qemu-nbd (pid %d)" % server.pid in msg
    finally:
        server.kill()
        server.wait()
    assert read(dest) == before


def test_image_of_a_mounted_fuse_filesystem_is_refused(tmp_path, ntfs):
    src = image(tmp_path / "src.img", size=64 * MIB)
    img = tmp_path / "ntfs.img"
    before = read(img, 1 * MIB)
    msg = both_modes_refuse(src, img, r"FUSE filesystem mounted at")
    assert str(ntfs) in msg
    assert read(img, 1 * MIB) == before


# --------------------------------------------------------------- 3. two copies at once

def _hold_lock(path, ready, release):
    fd = os.open(str(path), os.O_RDWR)
    assert sparse_preflight.lock(fd) is True
    ready.set()
    release.wait(60)
    os.close(fd)


@contextlib.contextmanager
def lock_held(path):
    """Another process holds the copy's locks on `path` until the block ends (or
    until the `release` event it yields with the process is set)."""
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    other = ctx.Process(target=_hold_lock, args=(path, ready, release))
    other.start()
    try:
        assert ready.wait(30)
        yield other, release
    finally:
        release.set()
        other.join(10)


def test_second_copy_fails_clearly_or_waits_for_the_lock(tmp_path):
    src = image(tmp_path / "src.img")
    dest = image(tmp_path / "dest.img", data=1 * MIB, seed=8)
    before = read(dest)
    with lock_held(dest) as (other, release):
        msg = both_modes_refuse(src, dest, r"locked by another program")
        assert "(pid %d)" % other.pid in msg and "lock_timeout" in msg
        assert read(dest) == before
        # with lock_timeout the copy waits for the holder, then runs
        threading_release = multiprocessing.get_context("fork").Process(target=_release_later, args=(release,))
        threading_release.start()
        res = copy(src, dest, lock_timeout=60, **SMALL)
        threading_release.join()
    assert res["changed"] is True and read(dest) == read(src)


def _release_later(release):
    time.sleep(0.5)
    release.set()


def _copy_in_child(src, dest, out, go):
    go.wait(60)
    try:
        sparse.copy_volume(str(src), str(dest), sparse.CopyOptions(block_size=16 * KIB))
        out.put("ok")
    except sparse.SparseCopyError as e:
        out.put(str(e))


def test_two_copies_onto_one_file_never_interleave(tmp_path):
    """Two copies of different 64 MiB sources onto one file at once: the file ends as
    one of them exactly, and a copy that was kept out says so."""
    srcs = [image(tmp_path / ("src%d.img" % i), data=64 * MIB, size=64 * MIB, seed=20 + i) for i in range(2)]
    dest = image(tmp_path / "dest.img", data=64 * MIB, size=64 * MIB, seed=30)
    ctx = multiprocessing.get_context("fork")
    out, go = ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=_copy_in_child, args=(s, dest, out, go)) for s in srcs]
    for p in procs:
        p.start()
    go.set()
    results = [out.get(timeout=120) for _unused in procs]
    for p in procs:
        p.join(10)
    # released together, the two overlap: one copies, the other is kept out and says so
    assert sorted(r == "ok" for r in results) == [False, True], results
    assert "locked by another program" in [r for r in results if r != "ok"][0]
    assert read(dest) in (read(srcs[0]), read(srcs[1]))


# ------------------------------------------------------------------------- 4. space

def test_copy_frees_before_it_fills(tmp_path, tmpfs):
    """The destination holds 1.5 MiB where the source has holes, and the source 1.5 MiB
    where the destination has holes, on a 2 MiB filesystem: it fits only when the old
    ranges are freed before the new ones are written."""
    small = tmpfs("2m")
    src = image(tmp_path / "src.img", data=1536 * KIB, size=3 * MIB, seed=40)
    dest = image(small / "dest.img", data=1536 * KIB, size=3 * MIB, seed=41, at=1536 * KIB)
    planned = copy(src, dest, check_mode=True, **SMALL)
    res = copy(src, dest, **SMALL)
    assert read(dest) == read(src)
    assert planned["bytes_written"] == res["bytes_written"] == 1536 * KIB
    assert copy(src, dest, **SMALL)["changed"] is False


def test_space_check_counts_the_peak_when_punching_frees_nothing(tmp_path, tmpfs, monkeypatch):
    """Where a punch frees nothing, old ranges give no room back: the data that lands
    in the destination's holes must fit as it is, and check mode says so too."""
    small = tmpfs("2m")
    src = image(tmp_path / "src.img", data=1536 * KIB, size=3 * MIB, seed=42)
    dest = image(small / "dest.img", data=1536 * KIB, size=3 * MIB, seed=43, at=1536 * KIB)
    before = read(dest)
    real = sparse_preflight.probe

    def probe_frees_nothing(*args, **kwargs):
        return dataclasses.replace(real(*args, **kwargs), frees=False)
    monkeypatch.setattr(sparse_preflight, "probe", probe_frees_nothing)
    msg = both_modes_refuse(src, dest, r"not enough space", **SMALL)
    assert "at its peak" in msg
    assert read(dest) == before


def test_data_that_fills_a_tmpfs_exactly_is_copied(tmp_path, tmpfs):
    """tmpfs keeps no map of where a file's data lies in its pages: a source whose
    data takes every free byte fits, and neither mode refuses it for an extent-map
    margin that only filesystems on disk take."""
    small = tmpfs("2m")
    free = sparse_preflight.free_bytes(str(small))
    src = image(tmp_path / "src.img", data=free // 2, size=free + 1 * MIB, seed=44)
    with open(src, "r+b") as f:
        f.seek(free // 2 + 1 * MIB)
        f.write(random.Random(45).randbytes(free - free // 2))
    dest = small / "dest.img"
    assert copy(src, dest, check_mode=True, **SMALL)["changed"] is True
    copy(src, dest, **SMALL)
    assert read(dest) == read(src)


def test_space_check_counts_whole_filesystem_blocks_of_small_zero_blocks(tmp_path, tmpfs):
    """With zero_block_size 512, 512 bytes of data in every 4 KiB block count 1/8 of
    the source, yet each of them takes a whole page of tmpfs (a whole block on disk):
    8 MiB of such data onto a 4 MiB tmpfs is refused before writing, in check mode
    too, not run out of space mid-copy."""
    small = tmpfs("4m")
    src = tmp_path / "src.img"
    rng = random.Random(46)
    with open(src, "wb") as f:
        for _unused in range(8 * MIB // (4 * KIB)):
            f.write(rng.randbytes(512) + bytes(4 * KIB - 512))
    dest = small / "dest.img"
    msg = both_modes_refuse(src, dest, r"not enough space", block_size=64 * KIB, zero_block_size=512)
    assert "nothing was written" in msg
    assert not dest.exists()


def test_discard_after_copy_releases_whole_blocks_and_check_mode_says_so(tmp_path):
    """A zero range that ends in a partial filesystem block (the source's size is not
    a multiple of it) cannot release that block: its whole blocks are released, the
    copy stays sparse without blaming discard, and check mode predicts the count."""
    src = tmp_path / "src.img"
    with open(src, "wb") as f:
        f.write(random.Random(47).randbytes(1 * MIB))
        f.write(bytes(1 * MIB + 100))
    dest = image(tmp_path / "dest.img", data=2 * MIB + 100, size=2 * MIB + 100, seed=48)
    planned = copy(src, dest, check_mode=True, discard_after_copy=True, **SMALL)
    res = copy(src, dest, discard_after_copy=True, **SMALL)
    assert read(dest) == read(src)
    assert res["sparse"] is True, res["sparse_reason"]
    assert res["bytes_released"] == 1 * MIB
    assert (planned["sparse"], planned["bytes_released"]) == (res["sparse"], res["bytes_released"])


def test_out_of_space_at_the_flush_of_a_device_names_the_filesystem_that_holds_it(tmp_path, attach, monkeypatch):
    """A device that runs out of space reports it at the final flush (a thin LUN does
    so with ENOSPC; faked here, a loop device reports EIO): the message's free space
    and advice are those of the filesystem holding the loop device's file, not of
    /dev, where the device node lies."""
    backing = tmp_path / "backing.img"
    with open(backing, "wb") as f:
        f.truncate(2 * MIB)
    dev = attach(backing)
    src = image(tmp_path / "src.img", data=1 * MIB, size=2 * MIB, seed=49)
    real = os.fsync

    def fsync(fd):
        if os.path.realpath("/proc/self/fd/%d" % fd) == dev and sys._getframe(1).f_code.co_name == "_copy":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd)
    monkeypatch.setattr(sparse.os, "fsync", fsync)
    with pytest.raises(sparse.SparseCopyError, match=r"no space left") as e:
        copy(src, dev, **SMALL)
    msg = str(e.value)
    assert "the filesystem of %s, which holds it, has" % tmp_path in msg
    assert "free space on the filesystem of %s" % tmp_path in msg


def test_space_check_counts_the_blocks_of_a_loop_devices_file_at_an_unaligned_offset(tmp_path, tmpfs, attach):
    """A loop device 1536 bytes into its file (a partition of an old disk image): each
    4 KiB run of data spans two blocks of the file. 2 MiB of such runs take 4 MiB of
    a 3 MiB tmpfs: refused before writing, in check mode too, not failed mid-copy."""
    small = tmpfs("3m")
    backing = small / "backing.img"
    with open(backing, "wb") as f:
        f.truncate(1536 + 4 * MIB)
    dev = attach("-o", 1536, backing)
    src = tmp_path / "src.img"
    rng = random.Random(50)
    with open(src, "wb") as f:
        for off in range(0, 4 * MIB, 8 * KIB):
            f.seek(off)
            f.write(rng.randbytes(4 * KIB))
    msg = both_modes_refuse(src, dev, r"not enough space", **SMALL)
    assert "nothing was written" in msg
    assert os.stat(backing).st_blocks == 0


def test_larger_than_the_filesystem_allows_is_refused_before_creating(tmp_path, attach):
    """A 5 TiB sparse source onto ext4 with 1 KiB blocks (largest file 4 TiB)."""
    mnt = mkfs_mount(attach, tmp_path, 32 * MIB, "-b", "1024")
    try:
        src = tmp_path / "huge.img"
        with open(src, "wb") as f:
            f.write(b"x" * 4096)
            f.truncate(5 << 40)
        dest = mnt / "dest.img"
        msg = both_modes_refuse(src, dest, r"largest file")
        assert "nothing was created" in msg
        assert not dest.exists()
    finally:
        umount(mnt)


# ---------------------------------------------------------- 5. a source that cannot be read

def test_loop_source_whose_backing_file_was_truncated_fails(tmp_path, attach):
    backing = image(tmp_path / "backing.img", data=4 * MIB, size=4 * MIB, seed=50)
    dev = attach(backing)
    os.truncate(str(backing), 1 * MIB)
    dest = tmp_path / "dest.img"
    msg = both_modes_refuse(dev, dest, r"reads past the end of its backing file", verify=True)
    assert "never copied as zeros" in msg
    assert not dest.exists()


def test_source_read_error_is_a_failure_not_zeros(tmp_path, monkeypatch):
    src = image(tmp_path / "src.img", data=1 * MIB, size=1 * MIB, seed=51)
    dest = tmp_path / "dest.img"
    real = os.preadv
    sfd = []

    def preadv(fd, bufs, off, *flags):
        if os.fstat(fd).st_ino == os.stat(src).st_ino and off >= 512 * KIB:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real(fd, bufs, off, *flags)
    monkeypatch.setattr(os, "preadv", preadv)
    with pytest.raises(sparse.SparseCopyError, match=r"source could not be read") as e:
        copy(src, dest, **SMALL)
    assert "never copied as zeros" in str(e.value)
    del sfd


# -------------------------------------------------------------- 6. a wrong dest_zeroed

@pytest.fixture
def opaque_loop(tmp_path, attach, monkeypatch):
    """A dirty loop device made to look like a LUN (no allocation map)."""
    backing = image(tmp_path / "lun.img", data=1 * MIB, size=1 * MIB, seed=60)
    monkeypatch.setattr(sparse, "device_extent", lambda vol: None)
    return attach(backing)


def test_wrong_dest_zeroed_says_how_to_repair(tmp_path, opaque_loop):
    src = image(tmp_path / "src.img", seed=61)
    with pytest.raises(sparse.SparseCopyError, match=r"dest_zeroed=false") as e:
        copy(src, opaque_loop, dest_zeroed=True, verify=True, **SMALL)
    assert "promise was wrong" in str(e.value)
    res = copy(src, opaque_loop, dest_zeroed=False, verify=True, **SMALL)
    assert res["verified"] is True and read(opaque_loop, 1 * MIB) == read(src)


def test_trusted_zero_ranges_are_reported(tmp_path, opaque_loop):
    src = image(tmp_path / "src.img", seed=62)
    res = copy(src, opaque_loop, dest_zeroed=True, **SMALL)
    assert res["zero_ranges_trusted"] is True
    assert copy(src, tmp_path / "new.img", **SMALL)["zero_ranges_trusted"] is False


# ------------------------------------------------------- 7. capabilities, probed there

def test_fuse_destination_rerun_writes_nothing(tmp_path, ntfs):
    src = image(tmp_path / "src.img", data=256 * KIB, size=4 * MIB, seed=70)
    dest = ntfs / "dest.img"
    assert copy(src, dest, **SMALL)["changed"] is True
    planned = copy(src, dest, check_mode=True, **SMALL)
    again = copy(src, dest, **SMALL)
    assert read(dest) == read(src)
    assert again["changed"] is False and planned["changed"] is False
    assert again["bytes_written"] == again["bytes_zeroed"] == 0


def test_fuse_destination_without_punch_fails_sparse_always_before_writing(tmp_path, ntfs):
    src = image(tmp_path / "src.img", data=256 * KIB, size=4 * MIB, seed=71)
    dest = image(ntfs / "dest.img", data=4 * MIB, size=4 * MIB, seed=72)
    before = read(dest)
    both_modes_refuse(src, dest, r"cannot punch holes", sparse="always", **SMALL)
    both_modes_refuse(src, dest, r"cannot punch holes", zero_method="punch", **SMALL)
    assert read(dest) == before
    res = copy(src, dest, **SMALL)
    assert read(dest) == read(src) and res["zero_method"] == "write" and res["sparse"] is False


def test_fuse_destination_discard_after_copy_releases_nothing(tmp_path, ntfs):
    src = image(tmp_path / "src.img", data=256 * KIB, size=4 * MIB, seed=73)
    dest = image(ntfs / "dest.img", data=4 * MIB, size=4 * MIB, seed=74)
    res = copy(src, dest, discard_after_copy=True, **SMALL)
    assert read(dest) == read(src)
    assert res["bytes_released"] == 0 and res["sparse"] is False


def test_loop_device_over_a_fuse_file_rerun_writes_nothing(tmp_path, ntfs, attach):
    """The loop device says it can WRITE_ZEROES, but its file's filesystem cannot
    punch: the copy zeroes in place from the start, and a re-run changes nothing."""
    src = image(tmp_path / "src.img", data=256 * KIB, size=4 * MIB, seed=77)
    backing = image(ntfs / "lun.img", data=4 * MIB, size=4 * MIB, seed=78)
    dev = attach(backing)
    first = copy(src, dev, **SMALL)
    assert read(dev, 4 * MIB) == read(src)
    assert "punch" not in first["zero_method"], first
    again = copy(src, dev, **SMALL)
    assert again["changed"] is False, again
    assert again["bytes_written"] == again["bytes_zeroed"] == again["bytes_released"] == 0


def test_tmpfs_destination_with_zeroout_fails_before_writing(tmp_path, tmpfs):
    small = tmpfs("8m")
    src = image(tmp_path / "src.img", seed=75)
    dest = image(small / "dest.img", data=1 * MIB, size=1 * MIB, seed=76)
    before = read(dest)
    msg = both_modes_refuse(src, dest, r"cannot zero a range in place", zero_method="zeroout", **SMALL)
    assert "nothing was written" in msg
    assert read(dest) == before


def test_probe_without_o_tmpfile_asks_a_named_file(tmp_path, monkeypatch):
    """The emulated FUSE case at the syscall level: O_TMPFILE and punching fail with
    EOPNOTSUPP; the probe must say 'cannot punch', not 'supported'."""
    real_open = os.open

    def no_tmpfile(path, flags, *args, **kwargs):
        if flags & os.O_TMPFILE == os.O_TMPFILE:
            raise OSError(errno.EOPNOTSUPP, os.strerror(errno.EOPNOTSUPP))
        return real_open(path, flags, *args, **kwargs)

    def no_fallocate(*args):
        raise OSError(errno.EOPNOTSUPP, os.strerror(errno.EOPNOTSUPP))
    monkeypatch.setattr(os, "open", no_tmpfile)
    caps = sparse_preflight.probe(str(tmp_path), 1 * MIB, no_fallocate)
    assert (caps.punch, caps.zero_range, caps.max_size_ok, caps.how) == (False, False, True, "probe_file")
    assert os.listdir(str(tmp_path)) == []


# ---------------------------------------------------------- 8. fallocated destination

def test_fallocated_destination_is_released_where_the_source_has_zeros(tmp_path):
    src = image(tmp_path / "src.img", data=256 * KIB, size=4 * MIB, seed=80)
    dest = tmp_path / "dest.img"
    fd = os.open(str(dest), os.O_CREAT | os.O_RDWR, 0o600)
    os.posix_fallocate(fd, 0, 4 * MIB)
    os.close(fd)
    assert os.stat(dest).st_blocks * 512 >= 4 * MIB
    res = copy(src, dest, **SMALL)
    assert read(dest) == read(src)
    assert os.stat(dest).st_blocks * 512 <= 256 * KIB + 64 * KIB
    assert res["bytes_released"] >= 3 * MIB
    again = copy(src, dest, **SMALL)
    assert again["changed"] is False and again["bytes_released"] == 0


# ---------------------------------------------------------------------- 9. lesser

def test_sysfs_attribute_as_source_leaves_nothing(tmp_path):
    attr = "/sys/kernel/uevent_seqnum"
    if not os.path.exists(attr) or os.stat(attr).st_size == 0:
        pytest.skip("no sysfs attribute with a size here")
    dest = tmp_path / "dest.img"
    both_modes_refuse(attr, dest, r"reads fewer")
    assert not dest.exists()


def test_zero_block_size_must_be_a_multiple_of_the_sector_size(tmp_path, attach):
    backing = tmp_path / "lun.img"
    with open(backing, "wb") as f:
        f.truncate(1 * MIB)
    dev = attach("--sector-size", "4096", backing)
    src = image(tmp_path / "src.img", seed=90)
    both_modes_refuse(src, dev, r"multiple of the logical block size", block_size=64 * KIB, zero_block_size=512)


def test_sparse_reason_for_a_file_speaks_of_holes(tmp_path):
    src = image(tmp_path / "src.img", seed=91)
    dest = image(tmp_path / "dest.img", data=1 * MIB, seed=92)
    res = copy(src, dest, **SMALL)
    assert "WRITE_ZEROES" not in res["sparse_reason"], res["sparse_reason"]


def test_sigterm_mid_copy_reports_like_sigint(tmp_path):
    """The module run as Ansible runs it, sent SIGTERM by itself after its second
    write: it prints a failure saying the destination is partial, not nothing."""
    import json
    from ansible_collections.storage.datamotion.plugins.modules import sparse_volume_copy
    root = os.path.dirname(sparse_volume_copy.__file__)
    while os.path.basename(root) != "ansible_collections":
        root = os.path.dirname(root)
    src = image(tmp_path / "src.img", data=8 * MIB, size=8 * MIB, seed=93)
    dest = tmp_path / "dest.img"
    args = tmp_path / "args.json"
    args.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {"src": str(src), "dest": str(dest), "block_size": 65536}}))
    code = (
        "import os, runpy, signal\n"
        "real, n = os.pwrite, [0]\n"
        "def pwrite(*a):\n"
        "    n[0] += 1\n"
        "    if n[0] == 2:\n"
        "        os.kill(os.getpid(), signal.SIGTERM)\n"
        "    return real(*a)\n"
        "os.pwrite = pwrite\n"
        "runpy.run_module('ansible_collections.storage.datamotion.plugins.modules.sparse_volume_copy', "
        "run_name='__main__')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.dirname(root)] + sys.path))
    r = subprocess.run([sys.executable, "-c", code, str(args)], capture_output=True, text=True, env=env, timeout=120,
                       check=False)
    assert r.stdout.strip(), "no JSON (rc %d): %s" % (r.returncode, r.stderr[-2000:])
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["failed"] is True and "SIGTERM" in out["msg"] and "partially written" in out["msg"], out
    assert out["changed"] is True


# ------------------------------------------------- hostile admin: space kept back by ext4

def test_space_check_leaves_out_what_ext4_keeps_for_itself(tmp_path, attach):
    """ext4 counts its reserved clusters (/sys/fs/ext4/DEV/reserved_clusters, kept for
    metadata) as free in statvfs, yet no data write may use them, not even root's: a
    copy that fits only in them must be refused before writing, in check mode too,
    not fail with ENOSPC half-way."""
    mnt = mkfs_mount(attach, tmp_path, 32 * MIB, "-b", "1024")
    try:
        st = os.statvfs(str(mnt))
        dev = os.stat(str(mnt)).st_dev
        name = os.path.basename(os.path.realpath("/sys/dev/block/%d:%d" % (os.major(dev), os.minor(dev))))
        with open("/sys/fs/ext4/%s/reserved_clusters" % name) as f:
            reserved = int(f.read()) * st.f_frsize
        if not reserved:
            pytest.skip("this ext4 keeps no reserved clusters")
        data = reserved // 2 // (4 * KIB) * (4 * KIB)
        filler = os.open(str(mnt / "filler"), os.O_WRONLY | os.O_CREAT, 0o600)
        os.posix_fallocate(filler, 0, st.f_bfree * st.f_frsize - reserved - data // 2)
        os.close(filler)
        src = image(tmp_path / "src.img", data=data, size=4 * MIB, seed=60)
        dest = mnt / "dest.img"
        msg = both_modes_refuse(src, dest, r"not enough space", **SMALL)
        assert "nothing was written" in msg
    finally:
        umount(mnt)


def fails_changed_during_the_copy(monkeypatch, src, dest, change):
    """Copy src to dest without verify, calling change() as soon as the copy has read
    the source: the copy must fail. Returns the error."""
    real = sparse._run

    def run_then_change(*args, **kwargs):
        real(*args, **kwargs)
        change()
    monkeypatch.setattr(sparse, "_run", run_then_change)
    with pytest.raises(sparse.SparseCopyError, match=r"changed during the copy") as e:
        copy(src, dest, **SMALL)
    monkeypatch.setattr(sparse, "_run", real)
    return e.value


@pytest.mark.parametrize("change", ["grow", "write", "write_keeping_mtime"])
def test_source_file_changed_during_the_copy_fails_without_verify(tmp_path, monkeypatch, change):
    """A file source appended to (or written) while it is copied: without verify the
    copy must not report success for a destination that is not the source, also when
    the writer sets the modification time back (touch -r, rsync --inplace -t). Told
    by its size and times alone: the source made just before is not read again."""
    src = image(tmp_path / "src.img", data=512 * KIB, size=1 * MIB, seed=61)
    dest = tmp_path / "dest.img"
    monkeypatch.setattr(sparse, "RACY_NS", 0)

    def write():
        with open(src, "r+b") as f:
            st = os.fstat(f.fileno())
            f.seek(0, os.SEEK_END if change == "grow" else os.SEEK_SET)
            f.write(b"\x01" * 4096)
            f.flush()
            os.utime(f.fileno(), ns=(st.st_atime_ns, st.st_mtime_ns) if change == "write_keeping_mtime" else (1, 1))
    assert fails_changed_during_the_copy(monkeypatch, src, dest, write).changed is True
    assert copy(src, dest, verify=True, **SMALL)["verified"] is True
    assert read(dest) == read(src)


def test_source_changed_within_its_filesystems_time_granularity_fails_without_verify(tmp_path, attach, monkeypatch):
    """ext4 with 128-byte inodes keeps times in whole seconds: a source written in
    the second before the copy and again during it keeps its size and times, so
    only its content can tell. Without verify the copy must not report success."""
    mnt = mkfs_mount(attach, tmp_path, 32 * MIB, "-I", "128")
    try:
        while time.time() % 1 > 0.2:        # so that the source is made and copied within one second
            time.sleep(0.05)
        src = image(mnt / "src.img", data=512 * KIB, size=1 * MIB, seed=63)
        dest = tmp_path / "dest.img"

        def write():
            with open(src, "r+b") as f:
                f.write(b"\x01" * 4096)
        fails_changed_during_the_copy(monkeypatch, src, dest, write)
        res = copy(src, dest, **SMALL)
        assert read(dest) == read(src)
        assert res["digest"] is None
    finally:
        umount(mnt)


def test_copy_onto_a_loop_device_waits_for_a_copy_onto_a_sibling(tmp_path, attach):
    """Two loop devices over one file are one destination: a copy onto one while
    another copy holds the file (through the other device, or qemu-nbd on the file)
    is refused like a second copy onto a file, in check mode too; O_EXCL on each
    device alone let both write and interleave."""
    backing = image(tmp_path / "backing.img", data=1 * MIB, size=1 * MIB, seed=62)
    dev = attach(str(backing))
    src = image(tmp_path / "src.img", data=512 * KIB, size=1 * MIB, seed=63)
    before = read(backing)
    with lock_held(backing):
        msg = both_modes_refuse(src, dev, r"locked by another program", **SMALL)
        assert "lock_timeout" in msg
        assert read(backing) == before
    assert copy(src, dev, verify=True, **SMALL)["verified"] is True


@pytest.fixture
def fuse_ext4(tmp_path):
    """ext4 through FUSE (fuse2fs): it punches holes and frees their blocks, but has
    no lseek, so SEEK_HOLE sees every byte as data."""
    mnt = fuse_fs(tmp_path, "fuse2fs", [tool("mkfs.ext4", "e2fsprogs"), "-q", "-F"],
                  [tool("fuse2fs", "fuse2fs"), "-o", "fakeroot"])
    yield mnt
    umount(mnt)


@pytest.mark.parametrize("mode", ["auto", "always"])
def test_rerun_on_a_filesystem_without_seek_hole_is_predicted_by_check_mode(tmp_path, fuse_ext4, mode):
    """A finished copy onto fuse2fs, re-run: the real run releases nothing it can
    see and says changed=false, so check mode must not promise released bytes."""
    src = image(tmp_path / "src.img", data=256 * KIB, size=4 * MIB, seed=64)
    dest = image(fuse_ext4 / "dest.img", data=4 * MIB, size=4 * MIB, seed=65)
    copy(src, dest, verify=True, **SMALL)
    planned = copy(src, dest, check_mode=True, sparse=mode, **SMALL)
    real = copy(src, dest, sparse=mode, **SMALL)
    assert real["changed"] is False and real["bytes_released"] == 0
    assert (planned["changed"], planned["bytes_released"]) == (real["changed"], real["bytes_released"])
    assert read(dest) == read(src)


def test_source_file_cut_short_during_the_copy_says_what_to_do(tmp_path, monkeypatch):
    """A source truncated while it is copied: the message says the source changed and
    to stop what writes to it, not a question and a bare re-run."""
    src = image(tmp_path / "src.img", data=1 * MIB, size=1 * MIB, seed=66)
    dest = tmp_path / "dest.img"
    real = sparse.extent_map

    def map_then_cut(vol, fd, size):
        out = real(vol, fd, size)
        os.truncate(str(src), 256 * KIB)
        return out
    monkeypatch.setattr(sparse, "extent_map", map_then_cut)
    with pytest.raises(sparse.SparseCopyError) as e:
        copy(src, dest, **SMALL)
    msg = str(e.value)
    assert "source %s changed during the copy" % src in msg and "?" not in msg
    assert "stop what writes to the source" in msg
