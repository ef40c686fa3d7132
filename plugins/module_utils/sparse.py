# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Storage DataMotion Team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sparse volume copy engine: make a destination an exact copy of a source while
leaving the source's zero ranges unallocated on the destination.

Standard library only, so it runs on any managed host and can be loaded by path.

How a copy works:
  * source and destination are each opened once (O_PATH, then reopened through
    that descriptor), and nothing is written before the checks pass on those
    descriptors (sparse_preflight.py: options, overlap through blockdev.py, in use
    by a filesystem, a loop device, swap or another program, locks, read-only,
    limits, the destination filesystem's capabilities; free space at the copy's
    peak is checked here); check mode runs them too;
  * the source is walked by data extent (SEEK_DATA/SEEK_HOLE; a loop device or a
    partition of one through its range of the backing file; any other block device
    is one extent), read in ``block_size`` chunks into one reused buffer, from the
    page cache without waiting where it is there and otherwise with the kernel
    asked to read ahead, and each chunk is split into data and zero runs at
    ``zero_block_size`` granularity (whole chunk first, refined only when mixed);
  * the same thread makes the destination match, run by run: data is compared with
    what the destination holds and only differing blocks are written; zero ranges
    are skipped where the destination is known to read zeros (a file we created, a
    hole in its allocation map, or a caller's promise where there is no map) and
    otherwise handed to a zeroing thread, which makes them zero with the cheapest
    primitive that guarantees zeros (punch hole / WRITE_ZEROES with unmap, then
    BLKZEROOUT, then writing zeros) while the data copy goes on;
  * one fsync at the end, with writeback started during the copy while the source
    comes from the page cache (see WRITEBACK); optionally (verify) the source is
    read again and the destination read back from its device, and both digests
    must equal the one of what the copy read.
"""


import errno
import fcntl
import mmap
import os
import stat
import struct
import threading
import time
from bisect import bisect_right
from dataclasses import asdict, dataclass, field, replace
from typing import List, Optional, Tuple

try:
    from ansible_collections.storage.datamotion.plugins.module_utils import blockdev
    from ansible_collections.storage.datamotion.plugins.module_utils import sparse_preflight as preflight
except ImportError:  # loaded by path (benchmarks/): the helpers sit next to this file
    import importlib.util as _ilu

    def _beside(name):
        spec = _ilu.spec_from_file_location(name, os.path.join(os.path.dirname(os.path.abspath(__file__)), name + ".py"))
        mod = _ilu.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod
    blockdev = _beside("blockdev")
    preflight = _beside("sparse_preflight")

MiB = 1 << 20
ceil_to = preflight.ceil_to
SparseCopyError = preflight.SparseCopyError
SPARSE_MODES, ZERO_METHODS = preflight.SPARSE_MODES, preflight.ZERO_METHODS

FALLOC_FL_KEEP_SIZE = 0x01
FALLOC_FL_PUNCH_HOLE = 0x02
FALLOC_FL_ZERO_RANGE = 0x10
BLKSSZGET = 0x1268     # _IO(0x12, 104): logical block size
BLKDISCARD = 0x1277    # _IO(0x12, 119)
BLKZEROOUT = 0x127F    # _IO(0x12, 127)


# How many bytes of source data (holes between extents do not count) the kernel is
# asked to read ahead of the reader. Measured here (4 GiB, cold): buffered
# reads with this readahead beat O_DIRECT reads with 4 to 32 requests in flight, and
# both dropping read pages behind us and starting writeback early (sync_file_range
# every 16 MiB) made the copy slower, not faster: the kernel's own writeback and
# page cache do better.
READ_AHEAD = 32 * MiB

# The default I/O size. Buffered I/O leaves the device's request sizes to readahead
# and writeback, so the size of a read only decides how much of the CPU's cache a
# chunk takes and how many calls the copy makes. Read, zero-test and write of the
# 4 GiB benchmark image (1.6 GiB read, 0.4 GiB written, warm, 4 interleaved rounds
# on an aligned buffer): 0.26-0.28 CPU-s with 512 KiB, 0.28-0.31 with 256 KiB, and
# 0.4-1.1 with 1 MiB or more (writes that large cost the kernel far more here).
BLOCK_SIZE = 512 * 1024

# While the source comes from the page cache the disk is idle, so written data is
# handed to writeback every WRITEBACK bytes and the final fsync has little left:
# a warm 4 GiB copy (0.4 GiB of data) spent 0.22 s in that fsync, and 0.01 s with
# this. With the source read from disk it is left to the fsync: writeback started
# then made the copy's writes wait on the busy disk (cold, 1.30 s -> 1.52 s).
WRITEBACK = 16 * MiB


class Terminated(KeyboardInterrupt):
    """The copy was sent SIGTERM (the module turns it into this, as Python does
    SIGINT into KeyboardInterrupt), so it ends with a report like an interruption."""


class SourceChanged(SparseCopyError):
    """The source ended before the size it had when the copy began."""

    def __init__(self, offset, size):
        super().__init__("the source ended at byte %d, before its size %d: it changed during the copy. Stop what "
                         "writes to the source (unmount it, or copy from a snapshot), then re-run the copy"
                         % (offset, size))
        self.offset, self.size = offset, size


class SourceReadError(OSError):
    """Reading the source failed at `offset`: the copy fails, a byte it could not
    read is never taken as zero."""

    def __init__(self, e, offset):
        super().__init__(e.errno, e.strerror)
        self.offset = offset


@dataclass
class CopyOptions:
    sparse: str = "auto"
    dest_zeroed: Optional[bool] = None
    zero_method: str = "auto"
    block_size: int = BLOCK_SIZE
    zero_block_size: int = 4096
    verify: bool = False
    verify_source: bool = True
    create: bool = True
    discard_after_copy: bool = False
    lock_timeout: int = 0


@dataclass
class CopyResult:
    src: str
    dest: str
    src_type: str
    dest_type: str
    bytes_total: int
    changed: bool = False
    bytes_written: int = 0
    bytes_zeroed: int = 0
    bytes_skipped_zero: int = 0
    bytes_skipped_hole: int = 0
    bytes_unchanged: int = 0
    bytes_released: int = 0
    sparse: bool = True
    sparse_reason: str = ""
    zero_method: str = "none"
    dest_created: bool = False
    dest_resized: bool = False
    src_map: str = "none"
    dest_allocated_before: Optional[int] = None
    dest_allocated_after: Optional[int] = None
    duration: float = 0.0
    throughput_mib_s: float = 0.0
    verified: bool = False
    digest: Optional[str] = None
    zero_ranges_trusted: bool = False

    @property
    def content_changed(self):
        """The destination's bytes changed (released allocation does not count)."""
        return bool(self.dest_created or self.dest_resized or self.bytes_written or self.bytes_zeroed)

    def to_dict(self):
        return asdict(self)


@dataclass
class Volume:
    """One side of the copy: a regular file or a block device."""
    path: str
    kind: str            # 'file' | 'block'
    size: int
    st: os.stat_result
    exists: bool = True
    dir_st: Optional[os.stat_result] = None     # a missing destination: its directory


@dataclass(frozen=True)
class Plan:
    """What is known before anything is written."""
    src: Volume
    dest: Volume
    create: bool
    known_zero: bool      # the whole destination reads zeros (created, or promised)
    sparse: bool
    reason: str
    zero_method: str      # resolved preference: skip|punch|zeroout|write
    dest_holes_known: bool = False     # dest_data lists every allocated range
    idle_reason: str = ""              # the reason when nothing needed zeroing
    dest_data: List[Tuple[int, int]] = field(default_factory=list)


# ---------------------------------------------------------------- platform helpers

# fallocate(2) with flags, which os does not offer (the tests replace it to play a
# filesystem without them)
_fallocate = preflight.fallocate


def _start_writeback(fd, offset, length):
    """Start writing back the dirty pages of a range without waiting for them:
    POSIX_FADV_DONTNEED does that (as sync_file_range(SYNC_FILE_RANGE_WRITE) does,
    without loading ctypes, 10-20 ms of every run) and then drops the pages of the
    range that are already clean, which the copy does not read again. Only a head
    start for the final fsync, which waits for them and reports any error."""
    os.posix_fadvise(fd, offset, length, os.POSIX_FADV_DONTNEED)


def aligned_buffer(size):
    """A zero-filled buffer of `size` bytes on a page boundary, as a memoryview. The
    kernel copies into and out of an aligned buffer much faster: reading the 1.6 GiB
    of the benchmark image's extents took 0.10-0.15 CPU-s into a page-aligned
    buffer and 0.22-0.27 into a bytearray's (16 bytes past a 64-byte line)."""
    return memoryview(mmap.mmap(-1, size))


def device_extent(vol):
    """The byte range of a regular file that a block device exactly is (a loop
    device, or a partition of one, at any depth), or None: where its allocation can
    be read. See blockdev.placement."""
    if vol.kind != "block":
        return None
    return blockdev.device_extent(vol.path, vol.st)


def allocated_bytes(vol, fd=None):
    """Bytes allocated to a file, or to a loop device's share of its backing file
    (its range, at its offset and size); None where a block device does not say."""
    if not vol.exists:
        return None
    if vol.kind == "file":
        return (os.fstat(fd) if fd is not None else os.stat(vol.path)).st_blocks * 512
    span = device_extent(vol)
    if span is None:
        return None
    try:
        bfd = os.open(span.path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        if fd is not None:
            os.fsync(fd)
        blk = os.fstat(bfd).st_blksize
        size = span.end - span.start
        return sum(e - s for s, e in AllocationMap(bfd, span.start, blk, "loop_backing_file", True, True).extents(size))
    finally:
        os.close(bfd)


def data_extents(fd, size):
    """Data extents of an open file as [(start, end)]; the whole range where the
    file has no allocation map (block devices, filesystems without SEEK_DATA)."""
    extents = []
    off = 0
    while off < size:
        try:
            start = os.lseek(fd, off, os.SEEK_DATA)
        except OSError as e:
            if e.errno == errno.ENXIO:          # only a hole until the end
                break
            if e.errno in (errno.EINVAL, errno.EOPNOTSUPP):
                return [(off, size)]
            raise
        if start >= size:
            break
        end = min(os.lseek(fd, start, os.SEEK_HOLE), size)
        extents.append((start, end))
        off = end
    return extents


FS_IOC_FIEMAP = 0xC020660B
FIEMAP_FLAG_SYNC = 0x1
FIEMAP_EXTENT_LAST = 0x1


def fiemap(fd, size, batch=256):
    """Every extent FIEMAP reports for [0, size), written or not, as [(start, end)];
    [] where the filesystem has no FIEMAP."""
    out = []
    start = 0
    while start < size:
        buf = bytearray(struct.pack("=QQIIII", start, size - start, FIEMAP_FLAG_SYNC, 0, batch, 0) + bytes(56 * batch))
        try:
            fcntl.ioctl(fd, FS_IOC_FIEMAP, buf, True)
        except OSError:
            return out
        mapped = struct.unpack_from("=I", buf, 20)[0]
        if mapped == 0:
            break
        for i in range(mapped):
            logical, _phys, length = struct.unpack_from("=QQQ", buf, 32 + 56 * i)
            flags = struct.unpack_from("=I", buf, 32 + 56 * i + 40)[0]
            out.append((logical, min(logical + length, size)))
        if flags & FIEMAP_EXTENT_LAST:
            break
        start = logical + length
    return out


def _merge(ranges):
    out = []
    for s, e in sorted(ranges):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


@dataclass
class AllocationMap:
    """Where a volume's allocation can be read: the open file itself, or a loop
    device's backing file at `offset`. `block` is its allocation unit."""
    fd: int
    offset: int
    block: int
    how: str              # 'seek_data' | 'loop_backing_file'
    punches: bool         # its filesystem can punch holes (see sparse_preflight.probe)
    frees: bool           # and a punched hole frees space
    owned: bool = False   # fd is ours to close

    def extents(self, size, unwritten=False):
        """Allocated ranges of the volume's first `size` bytes, in whole blocks. With
        unwritten, also the blocks allocated but never written (fallocate), which
        SEEK_DATA reports as holes: they take space that a sparse copy releases."""
        raw = data_extents(self.fd, self.offset + size)
        if unwritten and self.offset == 0:
            st = os.fstat(self.fd)
            if st.st_blocks * 512 > sum(e - s for s, e in raw) and size >= st.st_size:
                raw = _merge(raw + fiemap(self.fd, size))
        return align_extents([(max(s - self.offset, 0), e - self.offset) for s, e in raw if e > self.offset],
                             self.block, size)

    def is_hole(self, a, b):
        try:
            return os.lseek(self.fd, self.offset + a, os.SEEK_DATA) >= self.offset + b
        except OSError as e:
            if e.errno == errno.ENXIO:
                return True
            raise

    def close(self):
        if self.owned:
            os.close(self.fd)


def allocation_map(vol, fd, caps=None):
    """The allocation map of an open volume, or None where it has none: a file's
    own, or a loop device's backing file (after flushing the device, so that the
    file is current). caps: what the filesystem of that file can do (FsCaps), where
    known; a filesystem that could not be asked is taken to punch and free, and a
    failing punch then falls back."""
    caps = caps or preflight.FsCaps()
    punches, frees = caps.punch is not False, caps.frees is not False
    if vol.kind == "file":
        return AllocationMap(fd, 0, os.fstat(fd).st_blksize, "seek_data", punches, frees)
    span = device_extent(vol)
    if span is None:
        return None
    try:
        _flush_stack(vol, fd)
        bfd = os.open(span.path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    return AllocationMap(bfd, span.start, os.fstat(bfd).st_blksize, "loop_backing_file", punches, frees, owned=True)


def _flush_stack(vol, fd):
    """Flush a device and every block device below it down to its backing file, so
    that the file's allocation map shows all the data that reading the device
    returns (a read-only loop device does not pass a flush down)."""
    os.fsync(fd)
    for path in blockdev.lower_devices(vol.st):
        lfd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            os.fsync(lfd)
        finally:
            os.close(lfd)


def extent_map(vol, fd, size):
    """Data extents of a volume's first `size` bytes, and where they came from
    (the whole range, 'none', for a device without an allocation map)."""
    amap = allocation_map(vol, fd)
    if amap is None:
        return [(0, size)], "none"
    try:
        if amap.how == "loop_backing_file":
            backing = os.fstat(amap.fd).st_size
            if backing < amap.offset + size:
                raise SparseCopyError(
                    "%s reads past the end of its backing file %s: the file holds %d bytes, the device needs %d "
                    "(was it truncated after the loop device was attached?). Reading there fails with an I/O error, "
                    "and a byte that cannot be read is never copied as zeros; nothing was written. Restore the file's "
                    "size or re-attach the loop device (losetup -c)"
                    % (vol.path, device_extent(vol).path, backing, amap.offset + size))
        return amap.extents(size), amap.how
    finally:
        amap.close()


def align_extents(extents, grain, size, at=0):
    """Widen extents to whole `grain` blocks (merging those that then touch), so that
    every chunk and zero-detection block starts at a multiple of the grain, whatever
    the filesystem's block size or a loop device's offset. With `at`, the blocks are
    those of the file the volume lies `at` bytes into (a loop device's backing file)."""
    out = []
    for s, e in extents:
        s, e = max((s + at) // grain * grain - at, 0), min(ceil_to(e + at, grain) - at, size)
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def zero_runs(view, n, grain, zeros):
    """Split view[:n] (a memoryview) into runs [(start, end, is_zero)] at `grain`
    granularity. `zeros` is a bytes of at least n zero bytes."""
    is_zero = zeros.startswith
    if is_zero(view[:n]):
        return [(0, n, True)]
    heads = None
    if grain % 8 == 0 and n >= 8:
        # a block reads zeros only if its first 8 bytes do: data (nearly every block
        # of it) is told by one look at each block's first word, not a call per block
        heads = view[:n // 8 * 8].cast("Q")[::grain // 8].tolist()
        if len(heads) * grain >= n and 0 not in heads:
            return [(0, n, False)]
        if len(heads) * grain < n:
            heads = None                # a tail shorter than a word: look at every block
    runs = []
    start = 0
    cur = None
    for j, i in enumerate(range(0, n, grain)):
        z = (heads is None or heads[j] == 0) and is_zero(view[i:i + grain if i + grain <= n else n])
        if z is not cur:
            if cur is not None:
                runs.append((start, i, cur))
            start, cur = i, z
    runs.append((start, n, cur))
    return runs


class SparseDigest:
    """sha256 over (offset, bytes) of every non-zero block of a volume, plus its size:
    equal for equal content whatever the allocation, cheap to compute over holes."""

    def __init__(self, grain):
        import hashlib      # only verify needs it: loading OpenSSL took 10 ms of a cold start
        self.grain = grain
        self.h = hashlib.sha256()

    def update(self, off, view, runs):
        h, grain = self.h, self.grain
        for a, b, is_zero in runs:
            if is_zero:
                continue
            for i in range(a, b, grain):
                h.update(struct.pack("<Q", off + i))
                h.update(view[i:min(i + grain, b)])

    def hexdigest(self, size):
        h = self.h.copy()
        h.update(struct.pack("<Q", size))
        return "sparse-sha256:" + h.hexdigest()


# ---------------------------------------------------------------------- planning

def _open_path(path, what):
    """An O_PATH descriptor of path (opening nothing: no FIFO blocks, no device is
    started) and its Volume, or (None, None) when it does not exist. Every check and
    the real open go through this descriptor, so a path changed meanwhile (a
    symbolic link flipped) cannot swap in another file."""
    try:
        pfd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except FileNotFoundError:
        return None, None
    except OSError as e:
        raise SparseCopyError(preflight.describe_os_error(what, path, e))
    try:
        return pfd, _volume(path, what, os.fstat(pfd))
    except BaseException:
        os.close(pfd)
        raise


def _reopen(pfd, flags):
    """Open the very file an O_PATH descriptor names, with flags."""
    return os.open("/proc/self/fd/%d" % pfd, flags | os.O_CLOEXEC)


def _volume(path, what, st=None):
    if st is None:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return None
        except OSError as e:
            raise SparseCopyError(preflight.describe_os_error(what, path, e))
    if stat.S_ISREG(st.st_mode):
        return Volume(path, "file", st.st_size, st)
    if stat.S_ISBLK(st.st_mode):
        return Volume(path, "block", -1, st)
    raise SparseCopyError("%s %s is neither a regular file nor a block device" % (what, path))


def _punch_supported(dest, amap):
    """A device punches with WRITE_ZEROES (its queue says), a loop device only where
    its backing file's filesystem punches too; an existing file's map probed its
    filesystem."""
    if dest.kind == "block":
        wz = blockdev.queue_attr(dest.st, "write_zeroes_max_bytes")
        return wz is not None and wz != "0" and (amap is None or amap.punches)
    return amap is None or amap.punches


def _punch_advice(dest, amap):
    """What works instead of a punch: dest_zeroed is only heard where the
    destination has no allocation map (a file or a loop device has one)."""
    if dest.kind == "file":
        return ("Use sparse=auto with zero_method=auto (its zero ranges are then written as zeros), or remove the "
                "file so that the copy creates it: a new file is left sparse without punching")
    if amap is not None:
        return ("Use sparse=auto with zero_method=auto (its zero ranges are then zeroed in place with BLKZEROOUT, "
                "which may allocate them)")
    return ("Use sparse=auto with zero_method=auto (zero ranges are then zeroed in place with BLKZEROOUT), or set "
            "dest_zeroed=true if the device is known to read zeros everywhere (a new thin LUN)")


def plan_copy(opts, src, dest, check_mode, amap, caps=None):
    """Decide how zero ranges are handled; raises before anything is written.
    amap is the destination's allocation map, None where it has none; caps what
    the destination's filesystem can do (FsCaps), where it was probed."""
    created = not dest.exists
    mapped = amap is not None
    dest_map = amap.how if amap else None
    if created:
        known_zero, why = True, "destination file is created by this copy, so it reads zeros"
    elif opts.dest_zeroed and not mapped:
        # only trusted where it cannot be checked: with a map, allocated ranges
        # are zeroed anyway, which costs no reads
        known_zero, why = True, "the caller declared the destination zeroed (dest_zeroed=true)"
    else:
        known_zero, why = False, None

    if opts.sparse == "never":
        return Plan(src, dest, created, False, False,
                    "sparse=never: zero ranges are written as data (a full copy)", "write")
    if opts.discard_after_copy:
        return Plan(src, dest, created, known_zero, True,
                    (why or "destination not known to read zeros") +
                    "; zero ranges are written and then released (discard_after_copy)",
                    "skip" if known_zero else "write")
    if known_zero:
        return Plan(src, dest, created, True, True, why + "; zero ranges are skipped", "skip")

    method = opts.zero_method
    if method in ("auto", "punch"):
        can_punch = _punch_supported(dest, amap)
        if not can_punch:
            if opts.sparse == "always" or method == "punch":
                raise SparseCopyError(
                    "destination %s cannot punch holes or WRITE_ZEROES with unmap, so its zero ranges cannot be "
                    "left unallocated (sparse=%s, zero_method=%s); nothing was written. %s"
                    % (dest.path, opts.sparse, method, _punch_advice(dest, amap)))
            method = "zeroout" if dest.kind == "block" else "write"
        else:
            method = "punch"
    if method == "zeroout" and dest.kind == "file" and caps is not None and caps.zero_range is False:
        raise SparseCopyError(
            "the filesystem of destination %s cannot zero a range in place (fallocate ZERO_RANGE, which tmpfs, FUSE "
            "and NFS lack), so zero_method=zeroout cannot work there; nothing was written. Use zero_method=auto "
            "or write" % dest.path)
    how = {"punch": "punched (WRITE_ZEROES with unmap)" if dest.kind == "block" else "punched (a hole)",
           "zeroout": "zeroed in place (%s)" % ("BLKZEROOUT" if dest.kind == "block" else "fallocate ZERO_RANGE"),
           "write": "overwritten with zeros"}[method]
    if dest_map == "seek_data":
        kind, what = "existing file", "its holes read zeros, allocated zero ranges are %s" % how
    elif dest_map == "loop_backing_file":
        kind, what = "loop device", "holes of its backing file read zeros, allocated zero ranges are %s" % how
    else:
        kind, what = "block device not known to read zeros", "zero ranges that do not read zeros are %s" % how
    return Plan(src, dest, created, False, method == "punch", "%s: %s" % (kind, what), method,
                idle_reason="%s: every zero range already read zeros, so nothing was zeroed" % kind)


# ------------------------------------------------------------------ the copy

class _Readahead:
    """Asks the kernel to read the source's data extents ahead of the copy, in
    windows of READ_AHEAD bytes of data (holes between extents do not count), and
    only when a read finds its pages missing from the page cache: a cached source
    costs no fadvise at all."""

    def __init__(self, fd, extents):
        self.fd, self.extents = fd, extents
        self.misses = 0         # reads that found their pages missing
        self.i = 0              # first extent not wholly asked for
        self.asked = 0          # offset up to which that extent is asked for
        self.window_end = 0     # data offset (bytes of data before it) of the frontier
        self.done = 0           # bytes of data read so far

    def missed(self):
        """A read just waited on the disk: keep READ_AHEAD bytes of data asked for
        ahead of the copy, topping up once half of the window has been read."""
        self.misses += 1
        self._ask()

    def hit(self, off):
        """A read found its pages cached. Once the copy reads from disk, the window
        is topped up here too: asking only on a miss left the disk idle at the end
        of each window while the copy waited (cold 4 GiB copy, 7 interleaved rounds:
        median 1.46 s -> 1.42 s, faster in 6 rounds of 7)."""
        if self.misses and self.window_end - self.done <= READ_AHEAD // 2:
            self.skip_to(off)
            self._ask()

    def _ask(self):
        if self.window_end - self.done > READ_AHEAD // 2:
            return
        want = self.done + READ_AHEAD - self.window_end
        while want > 0 and self.i < len(self.extents):
            start, end = self.extents[self.i]
            a = max(start, self.asked)
            n = min(end - a, want)
            os.posix_fadvise(self.fd, a, n, os.POSIX_FADV_WILLNEED)
            want -= n
            self.window_end += n
            self.asked = a + n
            if self.asked >= end:
                self.i += 1

    def reading(self):
        """True while readahead asked for is not all read yet: the disk is reading
        the source for the copy."""
        return self.window_end > self.done

    def skip_to(self, off):
        """The copy reached `off`: windows behind it need not be asked for."""
        while self.i < len(self.extents) and self.extents[self.i][1] <= off:
            self.i += 1
        if off > self.asked:
            self.asked = off
            self.window_end = max(self.window_end, self.done)


_NOWAIT = getattr(os, "RWF_NOWAIT", 0)


def _read_source(fd, view, n, off, readahead, size):
    """Read view[:n] at off: from the page cache without waiting where it is there
    (RWF_NOWAIT), else with readahead asked for and a waiting read."""
    global _NOWAIT
    got = 0
    if _NOWAIT:
        try:
            got = os.preadv(fd, [view[:n]], off, _NOWAIT)
        except BlockingIOError:
            got = 0
        except OSError as e:
            if e.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
                raise SourceReadError(e, off)
            _NOWAIT = 0          # this kernel or filesystem cannot: always wait
    if got == n:
        readahead.hit(off)
    else:
        readahead.skip_to(off)
        readahead.missed()
        while got < n:
            try:
                k = os.preadv(fd, [view[got:n]], off + got)
            except OSError as e:
                raise SourceReadError(e, off + got)
            if k <= 0:
                raise SourceChanged(off + got, size)
            got += k
    readahead.done += n


def _source_chunks(fd, size, extents, block_size, grain, zeros, digest, readahead=None):
    """The source in order, as (offset, view, length, runs) for each chunk of its
    data extents, split into zero and data runs, and (offset, None, length, None)
    for each hole between them. The buffer is reused: it is valid until the next
    item is asked for. Reading and writing take turns in one thread: with the
    kernel reading ahead and writing back on its own, a second thread only added
    hand-offs (measured: a warm copy spent as long in futex as in reads)."""
    view = aligned_buffer(block_size)
    readahead = readahead or _Readahead(fd, extents)
    pos = 0
    for start, end in extents:
        if start > pos:
            yield pos, None, start - pos, None
        for off in range(start, end, block_size):
            n = min(block_size, end - off)
            _read_source(fd, view, n, off, readahead, size)
            runs = zero_runs(view, n, grain, zeros)
            if digest is not None:
                digest.update(off, view, runs)
            yield off, view, n, runs
        pos = end
    if pos < size:
        yield pos, None, size - pos, None


class _Zeroer(threading.Thread):
    """Makes the destination's zero ranges read zeros (reading what it holds there,
    punching, writing zeros) while the main thread copies the data runs: the two
    never touch the same block, and on a dirty destination the zeroing, which waits
    on the device (each punch is a discard on a thin volume), takes about as long
    as the rest of the copy. Work runs in order; the first error stops it and is
    raised to the copy."""

    def __init__(self):
        super().__init__(name="sparse-zeroer", daemon=True)
        import queue        # loaded here: a module's import time is paid on every run
        self.todo = queue.SimpleQueue()
        self.error = None
        self.cancelled = False

    def submit(self, fn, *args):
        if self.error is not None:
            raise self.error
        self.todo.put((fn, args))

    def run(self):
        while True:
            item = self.todo.get()
            if item is None:
                return
            if self.error is None and not self.cancelled:
                try:
                    item[0](*item[1])
                except BaseException as e:  # raised in the main thread by submit/finish
                    if isinstance(e, OSError):
                        e.dest_offset = None    # behind the data copy: no one offset divides done from not
                    self.error = e

    def finish(self, cancel=False):
        """Wait for the queued work (dropped if cancel) and raise its error."""
        self.cancelled = cancel
        if self.is_alive():
            self.todo.put(None)
            self.join()
        if self.error is not None and not cancel:
            raise self.error


class _FileZeroing:
    """How a file's ranges are made zero: any byte range, as a hole (punch) or an
    unwritten extent (zeroout: ZERO_RANGE); released by punching."""
    lbs = 1
    fallback = {"punch": "write", "zeroout": "write"}

    def __init__(self, fd):
        self.fd = fd

    def zero(self, method, a, b):
        mode = FALLOC_FL_PUNCH_HOLE if method == "punch" else FALLOC_FL_ZERO_RANGE
        _fallocate(self.fd, mode | FALLOC_FL_KEEP_SIZE, a, b - a)

    def discard(self, a, b):
        _fallocate(self.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, a, b - a)


class _DeviceZeroing:
    """How a block device's ranges are made zero: whole logical blocks, with
    WRITE_ZEROES and unmap (punch) or BLKZEROOUT (zeroout, which may allocate);
    released by a discard, which does not promise zeros."""
    fallback = {"punch": "zeroout", "zeroout": "write"}

    def __init__(self, fd):
        self.fd = fd
        self.lbs = struct.unpack("i", fcntl.ioctl(fd, BLKSSZGET, b"\0" * 4))[0]

    def zero(self, method, a, b):
        if method == "punch":
            _fallocate(self.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, a, b - a)
        else:
            fcntl.ioctl(self.fd, BLKZEROOUT, struct.pack("QQ", a, b - a))

    def discard(self, a, b):
        fcntl.ioctl(self.fd, BLKDISCARD, struct.pack("QQ", a, b - a))


class _Writer:
    """Makes the destination match the source, run by run."""

    def __init__(self, plan, opts, dfd, res, check_mode, amap):
        self.plan, self.opts, self.fd, self.res, self.amap = plan, opts, dfd, res, amap
        self.check = check_mode
        self.bs, self.grain = opts.block_size, opts.zero_block_size
        self.cmp = bytearray(self.bs)
        self.zcmp = bytearray(self.bs)      # the zeroer's, which runs beside data()
        self.zeroer = _Zeroer()
        self.zeros = memoryview(bytes(self.bs))
        self.method = plan.zero_method
        self.methods_used = set()
        self.zero_start = None
        self.zero_len = 0
        self.zero_hole = 0
        self.discard = []
        self.discard_failed = False
        self.zeroing = (_DeviceZeroing if plan.dest.kind == "block" and dfd is not None else _FileZeroing)(dfd)
        self.lbs = self.zeroing.lbs
        self.dest_data = plan.dest_data     # allocated ranges not yet handed to the zeroer
        self.freed = None                   # set once the ranges freed first are freed
        self.source = None                  # the source's _Readahead: did reads wait?
        self.wb_start, self.wb_mark, self.wb_misses = None, 0, 0
        if dfd is not None and not plan.create:
            # comparisons read a block or two here and there: no readahead
            os.posix_fadvise(dfd, 0, 0, os.POSIX_FADV_RANDOM)

    # -- destination I/O
    def _pwrite(self, view, off):
        # Buffered: O_DIRECT writes into holes measured twice as slow here (each
        # request converts unwritten extents). One fsync at the end.
        self.res.changed = True
        if self.check:
            return
        while len(view):
            try:
                k = os.pwrite(self.fd, view, off)
            except OSError as e:
                e.dest_offset = off         # where the destination stopped being written (see _failure)
                raise
            view, off = view[k:], off + k

    def _write_zeros(self, a, b):
        for off in range(a, b, self.bs):
            self._pwrite(self.zeros[:min(self.bs, b - off)], off)

    def _dest_equals(self, off, expect, buf):
        """True if the destination holds `expect` at off (read into buf)."""
        n = len(expect)
        mv = memoryview(buf)[:n]
        got = os.preadv(self.fd, [mv], off) if self.fd is not None else 0
        if got < n:      # past the end of a file destination: it will read zeros
            mv[got:n] = self.zeros[:n - got]
        return buf.startswith(expect)

    def _dest_is_zero(self, off, n):
        probe = min(self.grain, n)
        return self._dest_equals(off, self.zeros[:probe], self.zcmp) and (
            n == probe or self._dest_equals(off, self.zeros[:n], self.zcmp))

    def _dest_is_hole(self, a, b):
        """True if [a, b) is known to read zeros on the destination without reading it.
        A caller's promise (dest_zeroed) is not enough here: data is still compared,
        so that a re-run with the same promise writes nothing."""
        if self.plan.create:
            return True
        if not self.plan.dest_holes_known:
            return False
        return not self._dest_data_overlaps(a, b)

    def _dest_data_overlaps(self, a, b):
        """Parts of [a, b) that are allocated on the destination (a file or a loop
        device, whose allocation map is known) and not already freed first."""
        data = self.dest_data
        out = []
        i = max(bisect_right(data, (a, float("inf"))) - 1, 0)
        while i < len(data) and data[i][0] < b:
            s, e = max(data[i][0], a), min(data[i][1], b)
            if s < e:
                out.append((s, e))
            i += 1
        return out

    def free_first(self, ranges, wait):
        """Free the destination's allocated ranges that the source has as holes
        before any data is written (the zeroer does them first); with wait, data
        waits for that, because it fits only in the space they free."""
        if not ranges:
            return
        for s, e in ranges:
            self.zeroer.submit(self._clear, s, e, True)
        self.dest_data = preflight.ranges_minus(self.dest_data, ranges)
        if wait:
            self.freed = threading.Event()
            self.zeroer.submit(self.freed.set)

    def _wait_freed(self):
        while not self.freed.wait(0.05):
            if self.zeroer.error is not None:
                raise self.zeroer.error
        self.freed = None

    # -- data runs
    def data(self, off, view, a, b):
        """Source bytes view[a:b] (at off+a) are data: make the destination hold them."""
        if self.freed is not None:
            self._wait_freed()
        if not self._dest_is_hole(off + a, off + b):
            g = self.grain
            # a first block that differs means the run is rewritten without reading
            # more; one that matches means this may be a re-run: compare it all
            if self._dest_equals(off + a, view[a:min(a + g, b)], self.cmp):
                if self._dest_equals(off + a, view[a:b], self.cmp):
                    self.res.bytes_unchanged += b - a
                    return
                self._write_differing(off, view, a, b)
                self._written(off + a, off + b)
                return
        self._pwrite(view[a:b], off + a)
        self.res.bytes_written += b - a
        self._written(off + a, off + b)

    def _written(self, a, b):
        """Data was written up to b: start the writeback of every WRITEBACK bytes
        written, in the zeroer's thread so that the copy never waits for it, unless
        the disk was reading the source meanwhile (see WRITEBACK)."""
        if self.wb_start is None:
            self.wb_start = a
        if self.res.bytes_written - self.wb_mark < WRITEBACK:
            return
        src = self.source
        misses = src.misses if src is not None else 0
        if misses == self.wb_misses and not (src is not None and src.reading()) and not self.check:
            self.zeroer.submit(_start_writeback, self.fd, self.wb_start, b - self.wb_start)
        self.wb_start, self.wb_mark, self.wb_misses = None, self.res.bytes_written, misses

    def _write_differing(self, off, view, a, b):
        """self.cmp holds the destination's view[a:b] range: write only the blocks
        that differ (what is left to do after an interrupted copy)."""
        g = self.grain
        run = None
        for i in range(a, b, g):
            e = min(i + g, b)
            if self.cmp.startswith(view[i:e], i - a):
                if run is not None:
                    self._pwrite(view[run:i], off + run)
                    self.res.bytes_written += i - run
                    run = None
                self.res.bytes_unchanged += e - i
            elif run is None:
                run = i
        if run is not None:
            self._pwrite(view[run:b], off + run)
            self.res.bytes_written += b - run

    # -- zero runs
    def zero(self, off, n, hole):
        """Source range [off, off+n) reads zeros; runs are coalesced until data comes."""
        if self.zero_start is not None and self.zero_start + self.zero_len == off:
            self.zero_len += n
        else:
            self.flush_zero()
            self.zero_start, self.zero_len = off, n
        if hole:
            self.zero_hole += n

    def flush_zero(self):
        if self.zero_start is None:
            return
        a, n, holes = self.zero_start, self.zero_len, self.zero_hole
        self.zero_start, self.zero_len, self.zero_hole = None, 0, 0
        b = a + n
        if self.opts.sparse == "never":
            self._zeros_as_data(a, b)          # a full copy: nothing to wait on
            return
        self.res.bytes_skipped_hole += holes
        self.res.bytes_skipped_zero += n - holes
        if self.plan.known_zero:
            return
        if self.plan.dest_holes_known:
            for s, e in self._dest_data_overlaps(a, b):
                self.zeroer.submit(self._clear, s, e, True)
            return
        self.zeroer.submit(self._clear, a, b, False)

    def _clear(self, a, b, allocated):
        """Make [a, b) read zeros, reading the destination to find what does not.
        Punching is cheap and allocates nothing, so from the first dirty block on the
        rest is punched unread; other methods write, so they touch only dirty blocks.
        Ranges known to be allocated that already read zeros are released."""
        for off in range(a, b, self.bs):
            n = min(self.bs, b - off)
            if not self._dest_is_zero(off, n):
                if self.method == "punch":
                    self._make_zero(off, b)
                    if allocated and off > a and self.method == "punch":
                        # [a, off) read zeros: release it in one go, with the block the punch began in
                        blk, at = self.amap.block, self.amap.offset
                        self._release(a, min(b, ceil_to(off + at, blk) - at))
                    return
                self._make_zero(off, off + n)
        if allocated and self.method == "punch":
            # in one go: blocks that straddle two chunks are released too, not left to a re-run
            self._release(a, b)

    def _release(self, a, b):
        """Punch the whole allocation blocks of [a, b), which already reads zeros, and
        count them if they really were freed (a re-run then finds holes there)."""
        blk, at = self.amap.block, self.amap.offset      # whole blocks of the backing file, not of the device
        ia, ib = ceil_to(a + at, blk) - at, (b + at) // blk * blk - at
        if ib <= ia or not self.amap.frees or ia % self.lbs or ib % self.lbs:
            return
        if not self.check:
            self._zero_aligned(ia, ib)
            if not self.amap.is_hole(ia, ib):
                return
        self.res.bytes_released += ib - ia
        self.res.changed = True

    def _zeros_as_data(self, a, b):
        """sparse=never: zero ranges become allocated zeros."""
        pos = a
        for s, e in self._dest_data_overlaps(a, b) if self.plan.dest_holes_known else [(a, b)]:
            if s > pos:                                     # a hole on the destination
                self._write_zeros(pos, s)
                self.res.bytes_written += s - pos
            for off in range(s, e, self.bs):
                n = min(self.bs, e - off)
                if self._dest_is_zero(off, n):
                    self.res.bytes_unchanged += n
                else:
                    self._write_zeros(off, off + n)
                    self.res.bytes_written += n
            pos = e
        if pos < b:
            self._write_zeros(pos, b)
            self.res.bytes_written += b - pos

    def _make_zero(self, a, b):
        """Make [a, b) read zeros on the destination with the chosen method."""
        self.res.bytes_zeroed += b - a
        self.res.changed = True
        if self.opts.discard_after_copy:
            self.discard.append((a, b))
        if self.check:
            self.methods_used.add(self.method)
            return
        # a block device zeroes whole logical blocks; unaligned edges are written
        lbs = self.lbs
        ia, ib = ceil_to(a, lbs), b // lbs * lbs
        if ib <= ia:
            self._write_zeros(a, b)
            return
        if a < ia:
            self._write_zeros(a, ia)
        self._zero_aligned(ia, ib)
        if ib < b:
            self._write_zeros(ib, b)

    def _zero_aligned(self, a, b):
        while True:
            m = self.method
            try:
                if m == "write":
                    self._write_zeros(a, b)
                else:
                    self.zeroing.zero(m, a, b)
                self.methods_used.add(m)
                return
            except OSError as e:
                unsupported = e.errno in (errno.EOPNOTSUPP, errno.ENOTTY, errno.EINVAL, errno.ENOSYS)
                if not unsupported or self.opts.zero_method != "auto" or m == "write":
                    raise
                self.method = self.zeroing.fallback[m]

    def release_discarded(self):
        """discard_after_copy: release the ranges that were zeroed by writing, then
        make sure they still read zeros (a discard does not promise that)."""
        if not self.discard:
            return
        if not self.check:
            os.fsync(self.fd)
        lbs = self.lbs
        # only whole allocation blocks can be released: the partial ones at a range's
        # edges hold written zeros beside data, and stay allocated whatever discard does
        blk, at = (self.amap.block, self.amap.offset) if self.amap is not None else (lbs, 0)
        for a, b in self.discard:
            ia, ib = ceil_to(ceil_to(a + at, blk) - at, lbs), ((b + at) // blk * blk - at) // lbs * lbs
            if ib <= ia:
                continue
            if self.check:
                if self.amap is not None and self.amap.frees:
                    self.res.bytes_released += ib - ia
                else:
                    self.discard_failed = True
                continue
            try:
                self.zeroing.discard(ia, ib)
            except OSError as e:
                if e.errno in (errno.EOPNOTSUPP, errno.ENOTTY, errno.EINVAL):
                    self.discard_failed = True
                    continue
                raise
            if self.amap is not None and self.amap.is_hole(ia, ib):
                self.res.bytes_released += ib - ia
            else:
                self.discard_failed = True
            for off in range(ia, ib, self.bs):
                n = min(self.bs, ib - off)
                if not self._dest_is_zero(off, n):
                    self._write_zeros(off, off + n)


def _open_src(src, pfd):
    try:
        fd = _reopen(pfd, os.O_RDONLY)
    except OSError as e:
        raise SparseCopyError(preflight.describe_os_error("source", src.path, e))
    return fd


def _open_dest(dest, pfd, check_mode, opts):
    """Open the destination the O_PATH descriptor names: read-write (check mode:
    read-only for a device, which the real run opens exclusively too), and take it
    for this copy alone: a device by the exclusive open, a file by its locks, held
    until the copy and its verification end; a loop device (or a partition of one)
    also by the locks of its backing file, which O_EXCL on one of several loop devices
    over that file does not keep. A file locked by another program is tried again
    every 0.1 s for lock_timeout seconds, with the file closed in between, so that
    the holder does not see this copy as a user of it. Returns the descriptor and
    the list of the other descriptors that hold locks."""
    flags = os.O_RDONLY if check_mode and dest.kind == "block" else os.O_RDWR
    if dest.kind == "block":
        flags |= os.O_EXCL
        if blockdev.read_only(dest.st):
            preflight.refuse_read_only_device(dest)
    deadline = time.monotonic() + opts.lock_timeout
    while True:
        try:
            fd = _reopen(pfd, flags)
        except OSError as e:
            if e.errno == errno.ETXTBSY:
                raise SparseCopyError("destination %s is in use: it is a program being run (text file busy); "
                                      "nothing was written" % dest.path)
            if e.errno == errno.EBUSY:
                raise SparseCopyError("destination %s is in use: it is mounted or held open exclusively "
                                      "(for example by a filesystem, LVM, multipath or another copy); "
                                      "nothing was written" % dest.path)
            raise SparseCopyError(preflight.describe_os_error("destination", dest.path, e))
        held = _take(dest, fd)
        if held is not None:
            return fd, held
        os.close(fd)
        if time.monotonic() >= deadline:
            who = preflight.lasting_holders(dest.st)
            raise SparseCopyError(
                "destination %s is locked by another program%s, which may be another copy onto it; nothing was "
                "written. Wait for it to finish (set lock_timeout to wait up to that many seconds) or stop it"
                % (dest.path, (": " + preflight.names(who)) if who else ""))
        time.sleep(0.1)


def _take(dest, fd):
    """Lock the destination for this copy (see _open_dest): the descriptors that
    hold the locks besides fd, or None when another program holds one."""
    if dest.kind == "file":
        return [] if preflight.lock(fd) is not None else None
    span = device_extent(dest)
    if span is None or span.path is None:
        return []
    try:
        bfd = os.open(span.path, os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return []                       # a read-only backing file: the device refuses writes anyway
    if preflight.lock(bfd) is None:
        os.close(bfd)
        return None
    return [bfd]


def _frees_first(plan, opts, amap):
    """Whether the destination's allocated ranges that become holes (the source's
    holes there) are punched before any data is written, so that the copy's peak
    allocation is what it ends with: with punches that free space, on a destination
    whose allocation map is known."""
    return (plan.zero_method == "punch" and not plan.known_zero and amap is not None and amap.frees
            and opts.sparse != "never" and not opts.discard_after_copy)


def _check_space(plan, opts, src_extents, src_map, amap, sfd):
    """Fail before writing when the destination's filesystem (a loop device's: its
    backing file's) cannot hold the copy at its peak, and tell whether the copy must
    free before it fills. The peak: the source's data that lands where the
    destination has nothing allocated, less what is freed before any of it is
    written (see _frees_first). The source's allocation is an upper bound that costs
    nothing; only when that does not fit is the source read to count the bytes that
    are not zeros (all of them with sparse=never). A source without an allocation
    map (a block device) is not checked: its size says nothing of what it holds.
    Returns True when the data fits only once the freeing is done."""
    dest = plan.dest
    if dest.kind == "file":
        where = os.path.dirname(os.path.abspath(dest.path))
    elif amap is not None and amap.how == "loop_backing_file":
        where = os.path.dirname(device_extent(dest).path)
    else:
        return False                    # a device's own storage: it does not say
    size = plan.src.size
    have = plan.dest_data
    free = preflight.free_bytes(where)
    block, fstype = os.statvfs(where).f_bsize, preflight.fs_type(where)
    at = amap.offset if amap is not None else 0         # a loop device's offset into its file
    if opts.sparse == "never":
        fill = preflight.ranges_minus([(0, size)], have)
        need, freed = preflight.total(fill), 0
    else:
        # the filesystem allocates whole blocks: data in part of one takes all of it
        data = align_extents(align_extents(src_extents, opts.zero_block_size, size), block, size, at)
        fill = preflight.ranges_minus(data, have)
        freed = preflight.total(preflight.ranges_minus(have, data)) if _frees_first(plan, opts, amap) else 0
        need = preflight.total(fill)
    margin = preflight.metadata_margin(len(fill), block, fstype)
    if opts.sparse != "never" and need + margin - freed > free:
        if src_map == "none":
            return False
        # the allocation was an upper bound: count the bytes that are not zeros, and
        # the runs of them, each of which becomes an extent of the destination
        need, runs = _nonzero_bytes(sfd, size, fill, opts, block, at)
        margin = preflight.metadata_margin(runs, block, fstype)
    if need + margin - freed > free:
        raise SparseCopyError(
            "not enough space for destination %s: at its peak the copy needs %d more bytes (the source's data that is "
            "not zeros where the destination has nothing allocated, %d bytes, plus %d bytes that the filesystem may "
            "take to record where that data lies, less the %d bytes it frees first) and the filesystem of %s has %d "
            "bytes free; nothing was written. Free at least %d bytes there, or copy to a larger filesystem"
            % (dest.path, need + margin - freed, need, margin, freed, where, free, need + margin - freed - free))
    return need + margin > free


def _nonzero_bytes(fd, size, extents, opts, block, at=0):
    """Bytes the source's data extents take on a filesystem of `block`-byte blocks
    where they are not zeros (in zero_block_size blocks: a block of the filesystem
    that holds any of them counts whole; the destination lies `at` bytes into its
    file there), and the number of runs they make there (runs that touch are one)."""
    zeros = bytes(opts.block_size)
    total = count = 0
    end = -1
    for off, view, n, runs in _source_chunks(fd, size, align_extents(extents, opts.zero_block_size, size),
                                             opts.block_size, opts.zero_block_size, zeros, None):
        if view is None:
            continue
        for a, b, is_zero in runs:
            if is_zero:
                continue
            s, e = max((off + a + at) // block * block - at, 0), min(ceil_to(off + b + at, block) - at, size)
            count += s > end
            total += max(e - max(s, end), 0)
            end = max(end, e)
    return total, count


def _backing_fs_full(dest_path):
    """The directory of a loop device's file when the filesystem holding it is full
    (a loop device fails writes it cannot allocate with EIO), else None. Full: less
    free than 1% of it or 8 MiB, whichever is more, because ext4 fails data writes
    while blocks it keeps for metadata and delayed allocation still count as free."""
    try:
        span = blockdev.device_extent(dest_path)
        if span is None or span.path is None:
            return None
        where = os.path.dirname(span.path)
        st = os.statvfs(where)
    except OSError:
        return None
    return where if st.f_bfree * st.f_frsize < max(8 * MiB, st.f_blocks * st.f_frsize // 100) else None


def _space_home(dest_path):
    """The directory on whose filesystem the destination's data lies: a file's own,
    a loop device's backing file's; None for another device (a disk, a thin LUN),
    whose storage no filesystem here describes."""
    try:
        if not stat.S_ISBLK(os.stat(dest_path).st_mode):
            return os.path.dirname(os.path.abspath(dest_path))
        span = blockdev.device_extent(dest_path)
    except OSError:
        return None
    return os.path.dirname(span.path) if span is not None and span.path is not None else None


def _out_of_space_state(dest_path, e, res, home):
    """What the destination holds after a write failed for want of space, or None
    where nothing was written. Data is written in the source's order, so the
    offset of the failed write divides what is done from what is not. `home`: see
    _space_home."""
    if not res.changed:
        return None
    where = ""
    try:
        if home is not None:
            st = os.statvfs(home)
            where = " (the filesystem of %s, which holds it, has %d bytes free now)" % (home, st.f_bavail * st.f_frsize)
    except OSError:
        pass
    done = "%d bytes written, %d zeroed" % (res.bytes_written, res.bytes_zeroed)
    if getattr(e, "at_flush", False):
        return ("Every byte of the copy was written (%s), but the final flush to the disk failed, so any of them may "
                "be missing from it; the destination is not a copy of the source%s" % (done, where))
    at = getattr(e, "dest_offset", None)
    if at is None:
        return ("The destination is partially written (%s) and is not yet a copy of the source%s" % (done, where))
    if res.dest_created:
        return ("The destination file was created by this copy with the source's size (%d bytes): its bytes 0 to %d "
                "are the source's, and from byte %d on it reads zeros where the source may hold data (%s), so it is "
                "not yet a copy of the source. It is kept%s" % (res.bytes_total, at, at, done, where))
    return ("The destination's bytes 0 to %d were made the source's data (%s; zero ranges there may not all be zeroed "
            "yet), and from byte %d on it still holds its old content, except ranges that read zeros now where the "
            "source has holes, so it is not yet a copy of the source%s" % (at, done, at, where))


def _failure(src_path, dest_path, e, res):
    """The message for a copy that failed after it began to change the destination."""
    state = ("The destination is partially written (%d bytes written, %d zeroed so far) and is not yet a copy of "
             "the source" % (res.bytes_written, res.bytes_zeroed)) if res.changed else "Nothing was written"
    err = getattr(e, "errno", None)
    if isinstance(e, KeyboardInterrupt):
        why, todo = _interruption(e), "re-run the copy to complete it"
    elif isinstance(e, SourceReadError):
        why, todo = ("the source could not be read (%s at byte %d); a byte that cannot be read is never copied as "
                     "zeros" % (e.strerror, e.offset),
                     "check the source device and its paths (dmesg), then re-run the copy")
    elif isinstance(e, SourceChanged):
        why, todo = ("source %s changed during the copy (it ended at byte %d, before its size %d)"
                     % (src_path, e.offset, e.size),
                     "stop what writes to the source (unmount it, or copy from a snapshot), then re-run the copy")
    elif err in (errno.ENOSPC, errno.EDQUOT):
        home = _space_home(dest_path)
        why, todo = ("no space left for the destination (%s)" % e.strerror,
                     "free space %s, then re-run the copy to complete it: it writes only what is still missing"
                     % ("on the filesystem of %s (or raise the quota)" % home if home is not None else
                        "in the storage behind the device (a thin pool or thin LUN out of space: extend it or free "
                        "space there)"))
        state = _out_of_space_state(dest_path, e, res, home) or state
    elif err in (errno.EROFS, errno.EPERM, errno.EACCES):
        why, todo = ("the destination is not writable (%s): it is read-only or was made read-only during the copy"
                     % e.strerror, "make it writable, then re-run the copy; re-running before that cannot work")
    elif err == errno.EIO and _backing_fs_full(dest_path):
        why, todo = ("no space left for the destination: the filesystem of %s, which stores it, is full (the device "
                     "reports an I/O error)" % _backing_fs_full(dest_path),
                     "free space there, then re-run the copy to complete it")
    elif err == errno.EIO:
        why, todo = "I/O error (%s)" % e.strerror, "check the device and its paths (dmesg), then re-run the copy"
    else:
        why, todo = str(e), "re-run the copy to complete it"
    return SparseCopyError("copying %s to %s failed: %s. %s; %s" % (src_path, dest_path, why, state, todo),
                           changed=res.changed)


def copy_volume(src_path, dest_path, opts=None, check_mode=False):
    """Make dest_path an exact copy of src_path. Returns a CopyResult; raises
    SparseCopyError with a clear message (before writing anything, for bad input;
    check mode runs the same checks) and `changed` set when the destination was
    already created or written."""
    opts = opts or CopyOptions()
    t0 = time.monotonic()
    for name, path in (("src", src_path), ("dest", dest_path)):
        if not path:
            raise SparseCopyError("%s is empty: give the path of the %s file or block device"
                                  % (name, "source" if name == "src" else "destination"))
    preflight.validate_options(opts)
    opened = []
    try:
        res = _copy(src_path, dest_path, opts, check_mode, opened)
    finally:
        for fd in reversed(opened):
            if isinstance(fd, AllocationMap):
                fd.close()
            else:
                os.close(fd)
    res.duration = round(time.monotonic() - t0, 6)
    moved = res.bytes_total - res.bytes_skipped_hole
    res.throughput_mib_s = round(moved / MiB / res.duration, 1) if res.duration > 0 else 0.0
    return res


def _copy(src_path, dest_path, opts, check_mode, opened):
    """copy_volume; every descriptor it opens is appended to `opened`."""
    spfd, src = _open_path(src_path, "source")
    if src is None:
        raise SparseCopyError("source %s does not exist" % src_path)
    opened.append(spfd)
    dpfd, dest = _open_path(dest_path, "destination")
    dirfd = None
    if dest is None:
        preflight.check_creatable(dest_path, opts)
        dirfd = os.open(os.path.dirname(os.path.abspath(dest_path)), os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        opened.append(dirfd)
        dest = Volume(dest_path, "file", 0, None, exists=False, dir_st=os.fstat(dirfd))
    else:
        opened.append(dpfd)
    preflight.check_apart(src, dest)
    if dest.exists:
        preflight.check_not_backing_a_loop(dest)
        preflight.check_not_swap(dest)
        preflight.check_no_claimed_overlap(dest)
        if dest.kind == "file":
            preflight.check_writable(dest, dpfd)

    sfd = _open_src(src, spfd)
    opened.append(sfd)
    preflight.check_source_unwritable(src, sfd, opts)
    try:
        src.size = os.lseek(sfd, 0, os.SEEK_END)
    except OSError as e:
        raise SparseCopyError("source %s cannot be sized (%s): it is not a volume image or block device; nothing "
                              "was written" % (src_path, e.strerror))
    if src.kind == "file" and preflight.is_pseudo_file(sfd, src.size):
        raise SparseCopyError("source %s says it holds %d bytes but reads fewer (a sysfs or procfs attribute?): it is "
                              "not a volume image; nothing was written" % (src_path, src.size))
    src_identity = _file_identity(src, sfd)
    dfd = None
    if dest.exists:
        dfd, held = _open_dest(dest, dpfd, check_mode, opts)
        opened.extend(held + [dfd])
        dest.size = os.lseek(dfd, 0, os.SEEK_END)
        if dest.kind == "block":
            preflight.check_writable(dest, dfd)
            preflight.check_device_fits(dest, dfd, src, opts)
        preflight.check_not_in_use(dest)
    caps = _dest_caps(dest, dirfd, src.size)
    if caps.max_size_ok is False:
        raise SparseCopyError(
            "destination %s cannot hold the source %s: %d bytes is more than the largest file its filesystem allows "
            "(it would fail with 'File too large'); nothing was %s. Copy to a filesystem with larger files (a "
            "larger block size, or another type)" % (dest_path, src_path, src.size,
                                                     "written" if dest.exists else "created"))
    amap = allocation_map(dest, dfd, caps) if dfd is not None else None
    if amap is not None:
        opened.append(amap)
    plan = plan_copy(opts, src, dest, check_mode, amap, caps)
    plan = replace(plan, dest_data=amap.extents(src.size, unwritten=True) if amap else [],
                   dest_holes_known=plan.create or amap is not None)
    src_extents, src_map = extent_map(src, sfd, src.size)
    free_first = _check_space(plan, opts, src_extents, src_map, amap, sfd)
    res = CopyResult(src=src_path, dest=dest_path, src_type=src.kind, dest_type=dest.kind,
                     bytes_total=src.size, sparse=plan.sparse, sparse_reason=plan.reason,
                     dest_created=plan.create, dest_allocated_before=allocated_bytes(dest, dfd),
                     src_map=src_map, zero_ranges_trusted=plan.known_zero and not plan.create)
    racy = not opts.verify and not check_mode and _racy(src_identity)
    try:
        if plan.create:
            if not check_mode:
                dfd = _create_dest(dest, dirfd, opts)
                opened.append(dfd)
            res.changed = True
        if dest.kind == "file" and dest.size != src.size:
            res.dest_resized = not plan.create
            if not check_mode:
                os.ftruncate(dfd, src.size)
            res.changed = True
        _run(plan, opts, sfd, dfd, res, check_mode, amap, src_extents, free_first, digest_source=racy)
        if not check_mode:
            try:
                os.fsync(dfd)
            except OSError as e:
                e.at_flush = True           # every write was taken, some never reached the disk
                raise
            if plan.create:
                _fsync_dir(dirfd)
            elif dest.kind == "file":
                # a run killed between creating the file and syncing its directory left the name unsynced
                _fsync_parent(dfd)
    except (OSError, SparseCopyError, KeyboardInterrupt) as e:
        raise _failure(src_path, dest_path, e, res)
    if not opts.verify and not check_mode and (
            _file_identity(src, sfd) != src_identity
            or racy and _digest_of(src, sfd, src.size, opts) != res.digest):
        raise SparseCopyError(
            "source %s changed during the copy (its size, modification or change time, or its content changed), so "
            "destination %s may hold a mix of old and new source data. Stop what writes to the source (unmount it, "
            "or copy from a snapshot) and re-run the copy" % (src_path, dest_path), changed=res.changed)
    if racy:
        res.digest = None               # read only to tell a change: a digest is verify's result
    try:
        if opts.verify and not check_mode:
            _verify(sfd, dfd, src, dest, src.size, opts, res, src_identity, plan)
    except SparseCopyError as e:
        e.changed = res.changed
        raise
    except (OSError, KeyboardInterrupt) as e:
        raise SparseCopyError("verifying %s against %s failed: %s; the copy itself completed"
                              % (dest_path, src_path, _interruption(e) or e), changed=res.changed)
    dest.exists = True
    res.dest_allocated_after = res.dest_allocated_before if check_mode else allocated_bytes(dest, dfd)
    return res


def _create_dest(dest, dirfd, opts):
    """Create the destination file in the directory checked before, and take it."""
    try:
        fd = os.open(os.path.basename(dest.path), os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600,
                     dir_fd=dirfd)
    except OSError as e:
        raise SparseCopyError(preflight.describe_os_error("destination", dest.path, e))
    if preflight.lock(fd) is None:
        os.close(fd)
        raise SparseCopyError("destination %s was created by this copy and at once locked by another program, "
                              "which may be another copy onto it; it is empty. Wait for the other copy to finish"
                              % dest.path, changed=True)
    dest.st = os.fstat(fd)
    return fd


def _dest_caps(dest, dirfd, size):
    """What the destination's filesystem can do, probed there (see
    sparse_preflight.probe); for a loop device, its backing file's filesystem."""
    if dest.kind == "file":
        where = "/proc/self/fd/%d" % dirfd if dirfd is not None else os.path.dirname(os.path.abspath(dest.path))
        return preflight.probe(where, size if dest.size < size else None, _fallocate_now, zeroing=dest.exists)
    span = device_extent(dest)
    if span is None or span.path is None:
        return preflight.FsCaps()
    return preflight.probe(os.path.dirname(span.path), None, _fallocate_now)


def _fallocate_now(*args):
    """_fallocate as it is when called (the tests replace it to play a filesystem without it)."""
    return _fallocate(*args)


def _interruption(e):
    if isinstance(e, Terminated):
        return "terminated (SIGTERM)"
    if isinstance(e, KeyboardInterrupt):
        return "interrupted"
    return None


def _fsync_dir(dirfd):
    fd = _reopen(dirfd, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_parent(fd):
    """fsync the directory that holds the open file fd (found through /proc, so a symlinked dest is no matter)."""
    parent = os.path.dirname(os.readlink("/proc/self/fd/%d" % fd))
    pfd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(pfd)
    finally:
        os.close(pfd)


def _run(plan, opts, sfd, dfd, res, check_mode, amap, extents, free_first=False, digest_source=False):
    size = plan.src.size
    extents = align_extents(extents, opts.zero_block_size, size)
    zeros = bytes(opts.block_size)
    digest = SparseDigest(opts.zero_block_size) if opts.verify or digest_source else None
    os.posix_fadvise(sfd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
    writer = _Writer(plan, opts, dfd, res, check_mode, amap)
    writer.source = _Readahead(sfd, extents)
    writer.zeroer.start()
    try:
        if _frees_first(plan, opts, amap):
            writer.free_first(preflight.ranges_minus(writer.dest_data, extents), wait=free_first)
        for off, view, n, runs in _source_chunks(sfd, size, extents, opts.block_size, opts.zero_block_size,
                                                 zeros, digest, writer.source):
            if view is None:
                writer.zero(off, n, hole=True)
                continue
            for a, b, is_zero in runs:
                if is_zero:
                    writer.zero(off + a, b - a, hole=False)
                else:
                    writer.flush_zero()
                    writer.data(off, view, a, b)
        writer.flush_zero()
        writer.zeroer.finish()
        writer.release_discarded()
    except BaseException:
        writer.zeroer.finish(cancel=True)
        raise
    if writer.methods_used:
        order = [m for m in ("punch", "zeroout", "write") if m in writer.methods_used]
        res.zero_method = "+".join(order)
    elif plan.known_zero or plan.zero_method == "skip":
        res.zero_method = "skip"
    else:
        res.zero_method = "none"
    _describe_outcome(plan, opts, res, writer)
    if res.digest is None and digest is not None:
        res.digest = digest.hexdigest(size)


def _describe_outcome(plan, opts, res, writer):
    """`sparse` and `sparse_reason` say what happened, not what was planned: zeros
    written after a fallback leave the destination allocated, and a run that had
    nothing to zero describes no zeroing."""
    if opts.discard_after_copy:
        res.sparse = not writer.discard_failed
        if writer.discard_failed:
            res.sparse_reason += "; the destination does not support discard, so written zeros stay allocated"
        return
    if plan.sparse and writer.methods_used - {"punch"}:
        res.sparse = False
        used = " and ".join(m for m in ("zeroout", "write") if m in writer.methods_used)
        res.sparse_reason += ("; punching was not supported, so zero ranges were zeroed with %s and take space"
                              % {"zeroout and write": "BLKZEROOUT (zeroout) and writes"}.get(used, used))
    elif plan.idle_reason and res.bytes_zeroed == 0 and res.bytes_released == 0:
        res.sparse_reason = plan.idle_reason


def _digest_of(vol, fd, size, opts):
    """SparseDigest of a volume's first `size` bytes, read by its extent map."""
    grain = opts.zero_block_size
    digest = SparseDigest(grain)
    view = aligned_buffer(opts.block_size)
    zeros = bytes(opts.block_size)
    for start, end in align_extents(extent_map(vol, fd, size)[0], grain, size):
        off = start
        while off < end:
            n = os.preadv(fd, [view[:min(opts.block_size, end - off)]], off)
            if n <= 0:
                return None
            digest.update(off, view, zero_runs(view, n, grain, zeros))
            off += n
    return digest.hexdigest(size)


# A file's times have the granularity of its filesystem: a second on ext4 with
# 128-byte inodes, ext3 and many NFS servers, 2 s on FAT, a clock tick elsewhere.
RACY_NS = 2 * 10**9


def _racy(identity):
    """Whether a file source was changed so shortly before the copy began that a
    write during the copy may leave its times as they were (the same tick of a
    coarse clock): then only its content tells, so it is read again at the end."""
    return identity is not None and time.time_ns() - identity[2] < RACY_NS


def _file_identity(vol, fd):
    """What changes when a file source is written: its size, modification time and
    change time (which a writer cannot set back, as it can the modification time)."""
    if vol.kind != "file":
        return None
    st = os.fstat(fd)
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns


def _verify(sfd, dfd, src, dest, size, opts, res, src_identity, plan):
    """Prove that the destination equals the source as it is after the copy: read the
    source again and the destination back from its device (not the page cache), and
    compare both with what the copy read. A source that changed during the copy
    (different content, or for a file a new size, modification or change time) fails."""
    changed = None
    if os.lseek(sfd, 0, os.SEEK_END) != size:
        changed = "its size changed from %d to %d bytes" % (size, os.lseek(sfd, 0, os.SEEK_END))
    # verify_source=false: a read-only device (checked before the copy) holds what the copy read
    src_now = None if changed else _digest_of(src, sfd, size, opts) if opts.verify_source else res.digest
    if not changed and src_now != res.digest:
        changed = "its content is not what the copy read"
    if not changed and _file_identity(src, sfd) != src_identity:
        changed = "it was modified (its modification or change time changed)"
    if changed:
        raise SparseCopyError(
            "verification failed: source %s changed during the copy (%s), so destination %s holds a mix of old "
            "and new source data and is not a copy of it. Stop what writes to the source (unmount it, or copy "
            "from a snapshot) and re-run the copy" % (src.path, changed, dest.path))
    os.posix_fadvise(dfd, 0, 0, os.POSIX_FADV_DONTNEED)
    got = _digest_of(dest, dfd, size, opts)
    if got is None:
        raise SparseCopyError("verification failed: destination %s is shorter than the source (%d bytes)"
                              % (dest.path, size))
    if got != src_now and res.zero_ranges_trusted:
        raise SparseCopyError(
            "verification failed: destination %s does not match the source %s (source %s, destination %s). It was "
            "declared zeroed (dest_zeroed=true), so the source's zero ranges were skipped without reading it, and it "
            "does not read zeros there: the promise was wrong. Re-run with dest_zeroed=false (or auto) to repair it; "
            "a re-run with dest_zeroed=true skips the same ranges again" % (dest.path, src.path, src_now, got))
    if got != src_now:
        raise SparseCopyError("verification failed: destination %s does not match the source %s (source %s, "
                              "destination %s). The destination holds an incomplete copy; re-run the copy "
                              "to repair it" % (dest.path, src.path, src_now, got))
    if _file_identity(src, sfd) != src_identity:
        raise SparseCopyError(
            "verification failed: source %s was modified while it was verified, so destination %s may not be a "
            "copy of it. Stop what writes to the source and re-run the copy" % (src.path, dest.path))
    res.verified = True
