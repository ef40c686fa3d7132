# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pre-flight checks of the sparse copy that ask the running system rather than
the volumes' topology (blockdev.py): which programs hold the destination open or
locked, FUSE filesystems served from it, the lock that keeps a second copy out,
and what the destination's own filesystem can do, probed on that filesystem.

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
import stat
import struct
import time
from dataclasses import dataclass
from typing import List, Optional

FALLOC_FL_KEEP_SIZE = 0x01
FALLOC_FL_PUNCH_HOLE = 0x02
FALLOC_FL_ZERO_RANGE = 0x10

F_OFD_SETLK = getattr(fcntl, "F_OFD_SETLK", 37)
O_PATH = getattr(os, "O_PATH", 0o10000000)
_FLOCK = "hhqqi4x"          # struct flock on Linux: l_type, l_whence, l_start, l_len, l_pid
_UNSUPPORTED = (errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL, errno.ENOTTY)

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
    frees: Optional[bool] = None        # and a punch frees the block
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
                frees = os.fstat(fd).st_blocks < before
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
