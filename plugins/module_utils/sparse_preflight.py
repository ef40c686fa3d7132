# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pre-flight checks of the sparse copy: everything decided before a byte is
written. Options; topology (source and destination apart, through blockdev.py);
in use (mounted or claimed devices, loop backing files, swap, programs that hold
the destination open or locked, FUSE filesystems served from it, and the lock
that keeps a second copy out); writable; limits (device size, sector size, the
filesystem's largest file); and what the destination's own filesystem can do,
probed on that filesystem. The free-space check, which reads the source, stays
with the copy engine (sparse.py).

What cannot be seen from here, and so is not refused: a program in another PID
namespace whose /proc is not ours, a host on shared storage (NFS, a SAN LUN
mapped elsewhere), a kernel user that holds no file descriptor (an NFS export by
knfsd, a LIO/targetcli fileio backstore), a mapping made with mmap whose
descriptor was closed, and a program that opens the destination after these
checks without asking for a lock.

Standard library only.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import fcntl
import os
import re
import stat
import struct
import time
from dataclasses import dataclass
from typing import List, Optional

FALLOC_FL_KEEP_SIZE = 0x01
FALLOC_FL_PUNCH_HOLE = 0x02
FALLOC_FL_ZERO_RANGE = 0x10

MiB = 1 << 20
BLKSSZGET = 0x1268     # _IO(0x12, 104): logical block size
BLKROGET = 0x125E      # _IO(0x12, 94): read-only flag
FS_IOC_GETFLAGS = 0x80086601
FS_IMMUTABLE_FL = 0x10
FS_APPEND_FL = 0x20
SPARSE_MODES = ("auto", "always", "never")
ZERO_METHODS = ("auto", "punch", "zeroout", "write")
F_OFD_SETLK = getattr(fcntl, "F_OFD_SETLK", 37)
O_PATH = getattr(os, "O_PATH", 0o10000000)
_FLOCK = "hhqqi4x"          # struct flock on Linux: l_type, l_whence, l_start, l_len, l_pid
_UNSUPPORTED = (errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL, errno.ENOTTY)

try:
    from ansible_collections.storage.datamotion.plugins.module_utils import blockdev
except ImportError:  # loaded by path (benchmarks/): blockdev.py sits next to this file
    import importlib.util as _ilu
    _spec = _ilu.spec_from_file_location("blockdev", os.path.join(os.path.dirname(os.path.abspath(__file__)), "blockdev.py"))
    blockdev = _ilu.module_from_spec(_spec)
    _spec.loader.exec_module(blockdev)

_libc = None


def fallocate(fd, mode, offset, length):
    """fallocate(2) with flags, which os does not offer."""
    global _libc
    import ctypes           # loaded here: a copy to a new file never needs it
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
        _libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
    if _libc.fallocate(fd, mode, offset, length) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def ceil_to(n, grain):
    """n rounded up to a multiple of grain."""
    return -(-n // grain) * grain


# ------------------------------------------------------------- who holds it

def _same(st, key, block):
    if block:
        return stat.S_ISBLK(st.st_mode) and st.st_rdev == key
    return stat.S_ISREG(st.st_mode) and (st.st_dev, st.st_ino) == key


def _comm(pid):
    try:
        with open("/proc/%s/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return "?"


def lasting_holders(st, tries=3, pause=0.2):
    """holders() seen at each of `tries` looks `pause` seconds apart: a program that
    opened the file for a moment (another copy that found it locked, a backup
    tool's stat) is not one that uses it."""
    seen = holders(st)
    for _unused in range(tries - 1):
        if not seen:
            break
        time.sleep(pause)
        now = set(holders(st))
        seen = [h for h in seen if h in now]
    return seen


def holders(st, proc="/proc"):
    """Other processes that have the file or block device (stat `st`) open, as
    "name (pid N)": every open file description in /proc/PID/fd (O_PATH ones, which
    can neither read nor write, aside), and the files mapped in /proc/PID/maps."""
    block = stat.S_ISBLK(st.st_mode)
    key = st.st_rdev if block else (st.st_dev, st.st_ino)
    me = os.getpid()
    out = []
    try:
        pids = [p for p in os.listdir(proc) if p.isdigit() and int(p) != me]
    except OSError:
        return out
    for pid in pids:
        fd_dir = os.path.join(proc, pid, "fd")
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                if _same(os.stat(os.path.join(fd_dir, fd)), key, block) and not _o_path(proc, pid, fd):
                    out.append("%s (pid %s)" % (_comm(pid), pid))
                    break
            except OSError:
                continue
        else:
            if not block and _maps(os.path.join(proc, pid, "maps"), st):
                out.append("%s (pid %s, mapped in memory)" % (_comm(pid), pid))
    return out


def _o_path(proc, pid, fd):
    try:
        with open(os.path.join(proc, pid, "fdinfo", fd)) as f:
            for line in f:
                if line.startswith("flags:"):
                    return bool(int(line.split()[1], 8) & O_PATH)
    except (OSError, ValueError, IndexError):
        pass
    return False


def _maps(path, st):
    want = " %02x:%02x %d " % (os.major(st.st_dev), os.minor(st.st_dev), st.st_ino)
    try:
        with open(path) as f:
            return any(want in line for line in f)
    except OSError:
        return False


def fuse_mounts_of(st, mountinfo="/proc/self/mountinfo"):
    """Mount points of FUSE filesystems (ntfs-3g, fuse2fs, ...) whose source is this
    file or device: the daemon reads and writes it behind the kernel's back."""
    out = []
    try:
        with open(mountinfo) as f:
            lines = f.readlines()
    except OSError:
        return out
    block = stat.S_ISBLK(st.st_mode)
    key = st.st_rdev if block else (st.st_dev, st.st_ino)
    for line in lines:
        pre, _sep, post = line.partition(" - ")
        fields = post.split()
        if len(fields) < 2 or not fields[0].startswith("fuse"):
            continue
        source = _unescape(fields[1])
        if not source.startswith("/"):
            continue
        try:
            if _same(os.stat(source), key, block):
                out.append("%s (%s)" % (_unescape(pre.split()[4]), fields[0]))
        except OSError:
            continue
    return out


def _unescape(s):
    for esc, ch in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        s = s.replace(esc, ch)
    return s


# --------------------------------------------------------------------- space

def free_bytes(directory):
    """Bytes a data write may still allocate on the filesystem of `directory`: for
    root, the free blocks less what ext4 keeps for its own metadata (its reserved
    clusters count as free in statvfs, yet a data write that needs them fails with
    ENOSPC); for others, what statvfs says is available."""
    st = os.statvfs(directory)
    if os.geteuid() != 0:
        return st.f_bavail * st.f_frsize
    dev = os.stat(directory).st_dev
    name = os.path.basename(os.path.realpath("/sys/dev/block/%d:%d" % (os.major(dev), os.minor(dev))))
    try:
        with open("/sys/fs/ext4/%s/reserved_clusters" % name) as f:
            kept = int(f.read()) * st.f_frsize
    except (OSError, ValueError):
        kept = 0
    return max(0, st.f_bfree * st.f_frsize - kept)


# Blocks a filesystem takes besides a file's mapping tree when it allocates: XFS
# refills the free list of an allocation group and may split its free-space btrees,
# and the inode itself may grow a block.
METADATA_FIXED_BLOCKS = 8


# Filesystems that hold a file in memory pages: they keep no map of where its data
# lies in blocks that count against their size, so a copy there needs its data only.
IN_MEMORY_FILESYSTEMS = ("tmpfs", "ramfs")


def fs_type(directory, mountinfo="/proc/self/mountinfo"):
    """The type of the filesystem that holds `directory`, as the mount table names it
    (the mount whose device number is the directory's), or None if not found."""
    dev = os.stat(directory).st_dev
    want = "%d:%d" % (os.major(dev), os.minor(dev))
    try:
        with open(mountinfo) as f:
            for line in f:
                pre, _sep, post = line.partition(" - ")
                fields = pre.split()
                if len(fields) > 2 and fields[2] == want and post:
                    return post.split()[0]
    except OSError:
        pass
    return None


def metadata_margin(extents, block, fstype=None):
    """Bytes a filesystem may allocate for its own records when a copy adds `extents`
    new extents to a file on it, with `block` its block size: the blocks of the file's
    mapping btree (XFS's bmbt holds 16-byte records, ext4's extent tree 12-byte ones),
    each taken as only half full, as a btree block is after it splits, at every level
    up to the root, plus METADATA_FIXED_BLOCKS. Data written into a nearly full XFS
    failed with ENOSPC mid-copy without it: 4000 new 4 KiB extents needed 18 to 26
    blocks more than the data (this gives 41), 20000 needed 65 to 100 (this gives 168).
    Not counted: a filesystem whose free space is so fragmented that it splits one
    run of data into many extents. A copy that allocates nothing needs nothing, nor
    does one onto a filesystem of type `fstype` in IN_MEMORY_FILESYSTEMS."""
    if extents <= 0 or fstype in IN_MEMORY_FILESYSTEMS:
        return 0
    per_block = max(block // 16 // 2, 2)
    blocks = METADATA_FIXED_BLOCKS
    level = extents
    while level > 1:
        level = -(-level // per_block)
        blocks += level
    return blocks * block


# ---------------------------------------------------------------------- lock

def lock(fd):
    """Take the destination file for this copy alone: an exclusive flock and an
    exclusive OFD lock over the whole file (qemu and qemu-nbd lock with OFD locks,
    util-linux flock and many scripts with flock), both dropped when fd is closed.
    True when taken, False when the filesystem has no locks (the holder check
    still runs), None when another holder has one."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.fcntl(fd, F_OFD_SETLK, struct.pack(_FLOCK, fcntl.F_WRLCK, 0, 0, 0, 0))
        return True
    except OSError as e:
        if e.errno in (errno.ENOLCK,) + _UNSUPPORTED:
            return False
        if e.errno not in (errno.EAGAIN, errno.EACCES):
            raise
    return None


# ------------------------------------------------------------ capabilities

@dataclass(frozen=True)
class FsCaps:
    """What a filesystem does, probed on a file of it. None: could not be told."""
    punch: Optional[bool] = None        # fallocate(PUNCH_HOLE|KEEP_SIZE)
    frees: Optional[bool] = None        # and a punch frees the block, and SEEK_HOLE shows it
    zero_range: Optional[bool] = None   # fallocate(ZERO_RANGE|KEEP_SIZE)
    max_size_ok: Optional[bool] = None  # a file of the size asked for can exist there
    how: str = "none"                   # 'o_tmpfile' | 'probe_file' | 'none'


def _probe_file(directory):
    """An unnamed temporary file in `directory`, or where the filesystem has no
    O_TMPFILE (FUSE, NTFS, NFS before 4.2), a named one removed at once."""
    try:
        return os.open(directory, os.O_TMPFILE | os.O_RDWR | os.O_CLOEXEC, 0o600), "o_tmpfile"
    except OSError as e:
        if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOENT, errno.ENOSPC, errno.EDQUOT):
            return None, "none"
    path = os.path.join(directory, ".sparse_volume_copy.%d.probe" % os.getpid())
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except OSError:
        return None, "none"
    try:
        os.unlink(path)
    except OSError:
        pass
    return fd, "probe_file"


def probe(directory, size=None, falloc=None, zeroing=True):
    """FsCaps of the filesystem of `directory`, tried on a temporary file there
    (never on the destination: even a punch that frees nothing changes a file's
    times, and a re-run must leave it untouched). `size`: may a file be that large
    there (ext4 with 1 KiB blocks stops at 16 GiB without extents, 4 TiB with)?
    falloc: the fallocate to call. zeroing: also ask about punching and zeroing
    (a file the copy creates needs neither)."""
    falloc = falloc or fallocate
    fd, how = _probe_file(directory)
    if fd is None:
        return FsCaps()
    try:
        max_ok = None
        if size:
            try:
                os.ftruncate(fd, size)
                max_ok = True
            except OSError as e:
                if e.errno not in (errno.EFBIG, errno.EINVAL):
                    raise
                max_ok = False
            os.ftruncate(fd, 0)
        if not zeroing:
            return FsCaps(max_size_ok=max_ok, how=how)
        punch = _tries(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, falloc)
        zero_range = _tries(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, falloc)
        frees = False
        if punch:
            try:
                blk = os.fstat(fd).st_blksize
                os.write(fd, b"\xff" * (2 * blk))
                before = os.fstat(fd).st_blocks
                falloc(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, blk)
                # freed, and seen as a hole by SEEK_HOLE (FUSE without lseek, fuse2fs, frees
                # blocks that the map still shows as data: a release there cannot be told)
                frees = os.fstat(fd).st_blocks < before and os.lseek(fd, 0, os.SEEK_HOLE) == 0
            except OSError:          # full filesystem, quota: a punch is taken to free
                frees = True
        return FsCaps(punch, frees, zero_range, max_ok, how)
    finally:
        os.close(fd)


def _tries(fd, mode, falloc):
    """Whether fallocate(mode) works, asked on the empty probe file (allocates nothing)."""
    try:
        falloc(fd, mode, 0, 4096)
    except OSError as e:
        if e.errno in _UNSUPPORTED:
            return False
        return True          # ENOSPC and the like: supported, only not now
    os.ftruncate(fd, 0)
    return True


def names(items):
    """'a', 'a and b', 'a, b and c'."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def is_pseudo_file(fd, size):
    """A file that says it has `size` bytes but reads fewer (sysfs and procfs
    attributes report a page): not a volume image."""
    if size <= 0:
        return False
    try:
        return len(os.pread(fd, 1, size - 1)) != 1
    except OSError:
        return True


def ranges_minus(a: List, b: List):
    """Sorted disjoint ranges a less sorted disjoint ranges b."""
    out = []
    j = 0
    for s, e in a:
        while j < len(b) and b[j][1] <= s:
            j += 1
        k = j
        while s < e:
            if k >= len(b) or b[k][0] >= e:
                out.append((s, e))
                break
            if b[k][0] > s:
                out.append((s, b[k][0]))
            s = max(s, b[k][1])
            k += 1
    return out


def total(ranges):
    return sum(e - s for s, e in ranges)


# ------------------------------------------------- checks before anything is written

class SparseCopyError(Exception):
    """A copy that cannot be done or did not complete; the message says why and in
    what state the destination is. `changed` tells whether the destination was
    created or written before the failure."""

    def __init__(self, msg, changed=False):
        super().__init__(msg)
        self.changed = changed


def describe_os_error(what, path, e):
    if e.errno in (errno.EACCES, errno.EPERM):
        return "permission denied opening %s %s: %s" % (what, path, e.strerror)
    if e.errno == errno.EROFS:
        return "%s %s is on a read-only filesystem" % (what, path)
    return "cannot open %s %s: %s" % (what, path, e.strerror)


def check_apart(src, dest):
    """Refuse a source and destination that share bytes: the same file or device
    under two names, a loop device and its backing file, two loop devices over one
    file at overlapping offsets, a partition and its disk, a device-mapper device and
    its slaves, a file on a filesystem stored on the device or image at the other end.
    Nothing has been written when this raises. A missing destination is checked by
    the directory it would be created in."""
    if dest.exists and (
            src.kind == dest.kind == "file" and (src.st.st_dev, src.st.st_ino) == (dest.st.st_dev, dest.st.st_ino) or
            src.kind == dest.kind == "block" and src.st.st_rdev == dest.st.st_rdev):
        raise SparseCopyError("source %s and destination %s are the same %s; nothing was written" % (
            src.path, dest.path, "device" if src.kind == "block" else "file"))
    ps = blockdev.placement(src.path, src.st)
    if dest.exists:
        pd = blockdev.placement(dest.path, dest.st)
        hit = blockdev.overlap(ps, pd)
        if hit is not None:
            raise SparseCopyError(
                "source %s (%s) and destination %s (%s) overlap on the same backing store %s, so writing the "
                "destination would overwrite the source; nothing was written. Copy between volumes that do not "
                "share storage" % (src.path, blockdev.describe(ps), dest.path, blockdev.describe(pd), hit[0].path))
    if dest.kind == "file":
        st = dest.st if dest.exists else dest.dir_st
        for fs in blockdev.filesystems_under(st):
            if not blockdev.overlap(fs, ps):
                continue
            raise SparseCopyError(
                "destination %s is on a filesystem stored on the source %s (%s), so writing it would change the "
                "source while it is copied; nothing was written. Copy to a filesystem on other storage"
                % (dest.path, src.path, blockdev.describe(fs)))
    if src.kind == "file" and dest.kind == "block":
        pd = blockdev.placement(dest.path, dest.st)
        for fs in blockdev.filesystems_under(src.st):
            if not blockdev.overlap(fs, pd):
                continue
            raise SparseCopyError(
                "source %s is on a filesystem stored on the destination %s (%s), so writing the destination would "
                "destroy the source; nothing was written" % (src.path, dest.path, blockdev.describe(fs)))


def check_no_claimed_overlap(dest):
    """Refuse a destination whose bytes are also another device's that is in use:
    a second loop device over the file of a mounted one, a disk whose partition
    is mounted, a device under an active device-mapper table."""
    if not dest.exists:
        return
    p = blockdev.placement(dest.path, dest.st)
    busy = blockdev.claimed_overlapping(p, dest.st.st_rdev if dest.kind == "block" else None)
    if busy:
        raise SparseCopyError(
            "destination %s is in use: its storage is shared with %s, which %s mounted or held (by a filesystem, "
            "swap, LVM, multipath or another program); nothing was written. Release %s first"
            % (dest.path, ", ".join(busy), "is" if len(busy) == 1 else "are", "it" if len(busy) == 1 else "them"))


def check_not_backing_a_loop(dest):
    """A file that backs an attached loop device is in use, mounted or not."""
    if dest.kind != "file" or not dest.exists:
        return
    loops = blockdev.loops_backed_by(dest.st)
    if loops:
        raise SparseCopyError(
            "destination %s is in use: it backs the loop device%s %s; nothing was written. Detach %s "
            "(losetup -d) first, or copy to the loop device instead"
            % (dest.path, "s" if len(loops) > 1 else "", ", ".join(loops), "them" if len(loops) > 1 else "it"))


def check_not_swap(dest):
    """An active swap file refuses every write (ETXTBSY), whatever its permissions."""
    if dest.kind != "file" or not dest.exists:
        return
    try:
        with open("/proc/swaps") as f:
            names = [line.split()[0] for line in f.readlines()[1:] if line.strip()]
    except OSError:
        return
    for name in names:
        try:
            st = os.stat(re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), name))  # a space is \040
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == (dest.st.st_dev, dest.st.st_ino):
            raise SparseCopyError("destination %s is in use: it is an active swap file; nothing was written. "
                                  "Turn it off (swapoff) first if it is meant to be replaced" % dest.path)


def check_source_unwritable(src, fd, opts):
    """verify_source=false trusts the digest the copy computed for the source, which
    only holds for a source nothing can write: a block device with the kernel's
    read-only flag (host_lun state=read_only, blockdev --setro)."""
    if opts.verify_source or not opts.verify:
        return
    if src.kind != "block" or not struct.unpack("i", fcntl.ioctl(fd, BLKROGET, b"\0" * 4))[0]:
        raise SparseCopyError(
            "verify_source=false needs a source that nothing can write, a block device set read-only "
            "(blockdev --setro, or host_lun state=read_only); %s is %s. Nothing was written. Set it read-only, "
            "or leave verify_source true so that the source is read again" % (
                src.path, "a file" if src.kind == "file" else "writable"))


def validate_options(opts):
    if opts.sparse not in SPARSE_MODES:
        raise SparseCopyError("sparse must be one of %s, got %r" % (", ".join(SPARSE_MODES), opts.sparse))
    if opts.zero_method not in ZERO_METHODS:
        raise SparseCopyError("zero_method must be one of %s, got %r" % (", ".join(ZERO_METHODS), opts.zero_method))
    if not isinstance(opts.lock_timeout, int) or opts.lock_timeout < 0:
        raise SparseCopyError("lock_timeout must be a number of seconds, 0 or more, got %r" % (opts.lock_timeout,))
    if opts.block_size <= 0:
        raise SparseCopyError("block_size must be a positive number of bytes (a multiple of zero_block_size, "
                              "at most 64 MiB), got %d" % opts.block_size)
    if opts.zero_block_size < 512 or opts.zero_block_size % 512:
        raise SparseCopyError("zero_block_size must be a positive multiple of 512, got %d" % opts.zero_block_size)
    if opts.block_size < opts.zero_block_size or opts.block_size % opts.zero_block_size:
        raise SparseCopyError("block_size (%d) must be a multiple of zero_block_size (%d)"
                              % (opts.block_size, opts.zero_block_size))
    if opts.block_size > 64 * MiB:
        raise SparseCopyError("block_size must be at most 64 MiB, got %d" % opts.block_size)
    if opts.discard_after_copy and opts.sparse == "never":
        raise SparseCopyError("discard_after_copy releases zero ranges; it cannot be combined with sparse=never")
    if opts.discard_after_copy and opts.zero_method not in ("auto", "write"):
        raise SparseCopyError("discard_after_copy writes zeros and then discards them; "
                              "zero_method must be auto or write, got %s" % opts.zero_method)
    if opts.sparse == "always" and opts.zero_method in ("zeroout", "write"):
        raise SparseCopyError("sparse=always leaves zero ranges unallocated, which zero_method=%s "
                              "cannot do; use auto or punch" % opts.zero_method)


def check_not_in_use(dest):
    """Refuse a destination that another program uses (see sparse_preflight for what
    cannot be seen): the image of a FUSE filesystem, or open in another process."""
    mounts = fuse_mounts_of(dest.st)
    if mounts:
        raise SparseCopyError(
            "destination %s is in use: it holds the FUSE filesystem mounted at %s; nothing was written. "
            "Unmount it first" % (dest.path, names(mounts)))
    who = lasting_holders(dest.st)
    if who:
        raise SparseCopyError(
            "destination %s is in use: it is open in %s; nothing was written. Stop %s (or make it close the %s) "
            "before copying onto it" % (dest.path, names(who), "it" if len(who) == 1 else "them",
                                        "device" if dest.kind == "block" else "file"))


def in_dev(directory):
    """True for a directory of the /dev filesystem itself (/dev, /dev/mapper, ...),
    where device nodes appear; not for a filesystem mounted below it (/dev/shm)."""
    real = os.path.realpath(directory)
    if real != "/dev" and not real.startswith("/dev/"):
        return False
    try:
        return os.stat(real).st_dev == os.stat("/dev").st_dev
    except OSError:
        return True


def check_creatable(dest_path, opts):
    """A missing destination: may a file be created there?"""
    if os.path.islink(dest_path):
        raise SparseCopyError(
            "destination %s is a symbolic link to %s, which does not exist; nothing was created. Create or attach "
            "the link's target first, or give the path of the file to create" % (dest_path, os.readlink(dest_path)))
    if dest_path.endswith("/"):
        raise SparseCopyError("destination %s does not exist, and a path ending with a slash names a directory; "
                              "nothing was created. Give the path of the file to create" % dest_path)
    parent = os.path.dirname(os.path.abspath(dest_path))
    if in_dev(parent):
        raise SparseCopyError(
            "destination %s does not exist. Paths in /dev name devices, which appear when they are attached: "
            "this one is not there (a LUN not yet mapped to this host, or a mistyped name), and this module never "
            "creates a file in /dev; nothing was created. Attach the device (see lsblk or multipath -ll) or "
            "correct the path" % dest_path)
    if not opts.create:
        raise SparseCopyError("destination %s does not exist and create is false" % dest_path)
    if not os.path.isdir(parent):
        raise SparseCopyError("destination directory %s does not exist" % parent)
    if os.statvfs(parent).f_flag & os.ST_RDONLY:
        raise SparseCopyError("cannot create %s: %s is on a read-only filesystem" % (dest_path, parent))
    if not os.access(parent, os.W_OK):
        raise SparseCopyError("permission denied: cannot create %s in %s" % (os.path.basename(dest_path), parent))


def inode_flags(path):
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return 0
    try:
        return struct.unpack("i", fcntl.ioctl(fd, FS_IOC_GETFLAGS, b"\0" * 4))[0]
    except OSError:
        return 0
    finally:
        os.close(fd)


def refuse_read_only_device(dest):
    raise SparseCopyError(
        "destination device %s is read-only (attached read-only, for example losetup -r or a read-only LUN "
        "mapping, or set with blockdev --setro); nothing was written. Make it writable (blockdev --setrw, "
        "or map the LUN read-write) before copying to it" % dest.path)


def check_writable(dest, fd):
    """The checks the real run's writes would fail on, made before writing and in
    check mode alike: on the open device, or on the O_PATH descriptor of a file."""
    if dest.kind == "block":
        if struct.unpack("i", fcntl.ioctl(fd, BLKROGET, b"\0" * 4))[0]:
            refuse_read_only_device(dest)
        return
    via = "/proc/self/fd/%d" % fd
    if os.fstatvfs(fd).f_flag & os.ST_RDONLY:
        raise SparseCopyError("destination %s is on a read-only filesystem; nothing was written. Remount it "
                              "read-write or choose another destination" % dest.path)
    if inode_flags(via) & (FS_IMMUTABLE_FL | FS_APPEND_FL):
        raise SparseCopyError("destination %s is immutable or append-only (chattr +i or +a), so it cannot be "
                              "overwritten, not even by root; nothing was written. Clear the attribute (chattr -i -a) "
                              "if it is meant to be replaced" % dest.path)
    if not os.access(via, os.W_OK):
        raise SparseCopyError("permission denied: destination %s is not writable by uid %d; nothing was written"
                              % (dest.path, os.geteuid()))


def check_device_fits(dest, dfd, src, opts):
    if dest.size < src.size:
        raise SparseCopyError("destination device %s (%d bytes) is smaller than the source %s (%d bytes); "
                              "nothing was written" % (dest.path, dest.size, src.path, src.size))
    lbs = struct.unpack("i", fcntl.ioctl(dfd, BLKSSZGET, b"\0" * 4))[0]
    if opts.zero_block_size % lbs:
        raise SparseCopyError("zero_block_size (%d) must be a multiple of the logical block size of destination %s "
                              "(%d bytes); nothing was written" % (opts.zero_block_size, dest.path, lbs))
