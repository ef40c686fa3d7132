# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the bytes of a file or block device live, from sysfs.

One answer for every question the copy engine asks about block-device topology:
which byte range of which backing store a volume occupies (through partitions, loop
devices and their offsets and size limits, and device-mapper slaves), whether two
volumes share bytes, which loop devices a file backs, and where a device's
allocation can be read exactly.

A *store* is the bottom of a stack: a regular file (identified by its device and
inode) or a whole disk that is not built on anything else. A device is *exact* when
its bytes are one known range of one store (partitions and loop devices, nested in
any order); a device built on slaves (device-mapper, md) is not, and is taken to
cover all of each of its slaves, which is what an overlap check needs.

Standard library only.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import fcntl
import os
import stat
import struct
from dataclasses import dataclass, field, replace
from typing import FrozenSet, List, Optional, Tuple

SECTOR = 512
SYSFS = "/sys"
DEV = "/dev"
LOOP_GET_STATUS64 = 0x4C05
LOOP_INFO64_SIZE = 232
END = float("inf")   # a file store: the whole file, whatever it grows to


@dataclass(frozen=True)
class Span:
    """Bytes [start, end) of one backing store. `store` is ('file', st_dev, st_ino)
    or ('disk', major, minor); `path` names it in messages and opens a file store."""
    store: Tuple
    start: int
    end: float
    path: str

    def overlaps(self, other):
        return self.store == other.store and self.start < other.end and other.start < self.end


@dataclass
class Placement:
    """Where a volume's bytes are: `spans` on their stores; `exact` when that is one
    span giving the precise range (otherwise a superset, such as whole slaves)."""
    spans: List[Span]
    exact: bool
    via: str          # how it was found, for messages: 'file', 'disk', 'partition', 'loop', 'holders'
    own: Optional[int] = None                          # the device's number (None for a file)
    below: FrozenSet[int] = field(default_factory=frozenset)   # every device it is built on
    stacked: bool = False                              # built on slaves (device-mapper, md) somewhere

    @property
    def file_span(self):
        """The span when the volume is exactly a range of a regular file, else None."""
        if self.exact and len(self.spans) == 1 and self.spans[0].store[0] == "file":
            return self.spans[0]
        return None


def _read(node, name):
    try:
        with open(os.path.join(node, name)) as f:
            return f.read().strip()
    except OSError:
        return None


def sysfs_node(rdev):
    """The canonical /sys directory of a block device number, or None."""
    path = os.path.join(SYSFS, "dev", "block", "%d:%d" % (os.major(rdev), os.minor(rdev)))
    return os.path.realpath(path) if os.path.exists(path) else None


def _node_rdev(node):
    dev = _read(node, "dev")
    try:
        major, minor = dev.split(":")
        return os.makedev(int(major), int(minor))
    except (AttributeError, ValueError):
        return None


def _size(node):
    try:
        return int(_read(node, "size")) * SECTOR
    except (TypeError, ValueError):
        return None


def is_partition(node):
    return os.path.exists(os.path.join(node, "partition"))


def whole_disk(node):
    """A partition's disk node (its parent directory in sysfs); the node itself otherwise."""
    return os.path.dirname(node) if is_partition(node) else node


def loop_backing(node):
    """(backing path, offset, sizelimit) of an attached loop device node, or None."""
    backing = _read(node, "loop/backing_file")
    if not backing:
        return None
    try:
        offset = int(_read(node, "loop/offset") or 0)
        limit = int(_read(node, "loop/sizelimit") or 0)
    except ValueError:
        return None
    return backing, offset, limit


def _loop_identity(node):
    """(st_dev, st_ino) of the file a loop device node really has open, from the
    driver (LOOP_GET_STATUS64), or None where its /dev node cannot be asked. sysfs
    gives a path, which names another file when the device was set up in another
    mount namespace or its file was replaced."""
    path = os.path.join(DEV, os.path.basename(node))
    try:
        if os.stat(path).st_rdev != _node_rdev(node):
            return None
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        info = fcntl.ioctl(fd, LOOP_GET_STATUS64, bytes(LOOP_INFO64_SIZE))
        return struct.unpack_from("=QQ", info)
    except OSError:
        return None
    finally:
        os.close(fd)


def _sub(parent, start, length, via):
    """`length` bytes at `start` inside a parent placement."""
    below = parent.below | ({parent.own} if parent.own is not None else frozenset())
    if parent.exact and len(parent.spans) == 1:
        p = parent.spans[0]
        return Placement([Span(p.store, p.start + start, p.start + start + length, p.path)], True, via,
                         below=below, stacked=parent.stacked)
    return Placement(parent.spans, False, via, below=below, stacked=parent.stacked)


def _file_placement(path, st):
    return Placement([Span(("file", st.st_dev, st.st_ino), 0, END, path)], True, "file")


def _node_placement(node, depth=0):
    p = _node_placement_below(node, depth)
    return replace(p, own=_node_rdev(node))


def _disk_store(node, rdev):
    """A whole disk's store: its world-wide name where it has a globally unique one,
    so that two paths to one LUN (sdc and sdd without multipathd) are one store;
    else its device number."""
    wwid = _read(node, "wwid") or _read(node, "device/wwid")
    if wwid and wwid.split(".", 1)[0] in ("naa", "eui", "nvme"):
        return ("wwid", wwid)
    return ("disk", os.major(rdev or 0), os.minor(rdev or 0))


def _node_placement_below(node, depth):
    name = os.path.basename(node)
    size = _size(node) or 0
    rdev = _node_rdev(node)
    own = [Span(_disk_store(node, rdev), 0, size, "/dev/" + name)]
    if depth > 16:                                     # a loop in the topology: be conservative
        return Placement(own, False, "disk")
    slaves_dir = os.path.join(node, "slaves")
    slaves = sorted(os.listdir(slaves_dir)) if os.path.isdir(slaves_dir) else []
    if slaves:
        spans, below = [], set()
        for s in slaves:
            sp = _node_placement(os.path.realpath(os.path.join(slaves_dir, s)), depth + 1)
            spans.extend(sp.spans)
            below |= sp.below | {sp.own}
        return Placement(spans, False, "holders", below=frozenset(below), stacked=True)
    loop = loop_backing(node)
    if loop:
        backing, offset, _limit = loop
        ident = _loop_identity(node)
        try:
            bst = os.stat(backing)
        except OSError:                                # removed, or not visible here
            bst = None
        if bst is None or ident is not None and ident != (bst.st_dev, bst.st_ino):
            # the path names no file or another one (the file was reached by another
            # name, or set up in another mount namespace): the driver's device and
            # inode still say which file it is, for overlap checks, but not where to
            # read its allocation
            if ident is None:
                return Placement(own, False, "loop")
            return Placement([Span(("file",) + tuple(ident), offset, offset + size, backing)], False, "loop")
        if stat.S_ISREG(bst.st_mode):
            base = _file_placement(backing, bst)
        elif stat.S_ISBLK(bst.st_mode) and sysfs_node(bst.st_rdev):
            base = _node_placement(sysfs_node(bst.st_rdev), depth + 1)
        else:
            return Placement(own, False, "loop")
        return _sub(base, offset, size, "loop")
    if is_partition(node):
        parent = _node_placement(os.path.dirname(node), depth + 1)
        try:
            start = int(_read(node, "start")) * SECTOR
        except (TypeError, ValueError):
            return _sub(replace(parent, exact=False), 0, size, "partition")
        return _sub(parent, start, size, "partition")
    return Placement(own, True, "disk")


def placement(path, st=None):
    """Where the bytes of a regular file or block device live (see Placement)."""
    st = st or os.stat(path)
    if stat.S_ISREG(st.st_mode):
        return _file_placement(path, st)
    node = sysfs_node(st.st_rdev)
    if node is None:
        return Placement([Span(("disk", os.major(st.st_rdev), os.minor(st.st_rdev)), 0, END, path)], False, "disk")
    return _node_placement(node)


def filesystem_device(st):
    """Placement of the block device that holds the filesystem a file (stat `st`)
    is on, or None where that is not one block device (tmpfs, btrfs, NFS)."""
    node = sysfs_node(st.st_dev)
    return _node_placement(node) if node else None


def filesystems_under(st):
    """Placements of the devices a file (stat `st`) is stored on, nearest first: the
    device of its filesystem, then, where that is a loop device over a file, the
    device of that file's filesystem, and so on down."""
    out = []
    while len(out) < 16:
        fs = filesystem_device(st)
        if fs is None:
            break
        out.append(fs)
        files = [s for s in fs.spans if s.store[0] == "file"]
        if len(files) != 1:
            break
        try:
            st = os.stat(files[0].path)
        except OSError:
            break
        if ("file", st.st_dev, st.st_ino) != files[0].store:
            break
    return out


def overlap(a, b):
    """The first pair of spans (of placements a and b) that share bytes, or None.
    A device built on the other shares its bytes. Two devices that are both built
    on slaves (device-mapper, md) and not on each other are taken as apart: sysfs
    does not say which part of a slave each uses, and the usual case, two logical
    volumes of one volume group (or thin volumes of one pool, a snapshot and its
    origin), never write each other's bytes."""
    if a.own is not None and a.own in b.below or b.own is not None and b.own in a.below:
        return a.spans[0], b.spans[0]
    if a.stacked and b.stacked:
        return None
    for sa in a.spans:
        for sb in b.spans:
            if sa.overlaps(sb):
                return sa, sb
    return None


def loops_backed_by(st):
    """/dev names of the attached loop devices whose backing store is the regular
    file with stat `st` (directly, at any offset): by the driver's own device and
    inode where it can be asked, else by the path sysfs gives."""
    out = []
    try:
        names = sorted(os.listdir(os.path.join(SYSFS, "block")))
    except OSError:
        return out
    for name in names:
        node = os.path.join(SYSFS, "block", name)
        loop = loop_backing(node)
        if not loop:
            continue
        ident = _loop_identity(node)
        if ident is None:
            try:
                bst = os.stat(loop[0])
            except OSError:
                continue
            ident = (bst.st_dev, bst.st_ino)
        if ident == (st.st_dev, st.st_ino):
            out.append("/dev/" + name)
    return out


def claimed_overlapping(p, rdev=None):
    """/dev names of the other block devices (partitions included) whose bytes
    overlap placement `p` and that are in use: mounted, swapped on, or held by
    device-mapper, md or another exclusive opener, which an exclusive open tells."""
    out = []
    try:
        names = sorted(os.listdir(os.path.join(SYSFS, "class", "block")))
    except OSError:
        return out
    for name in names:
        node = os.path.realpath(os.path.join(SYSFS, "class", "block", name))
        dev = _node_rdev(node)
        if dev is None or dev == rdev or dev in p.below or not overlap(_node_placement(node), p):
            continue
        if _claimed(name, dev) is True and not _claimed_through_a_partition(node):
            out.append(os.path.join(DEV, name))
    return out


def _claimed(name, dev):
    """True when an exclusive open of /dev/<name> (device number dev) says it is in
    use, False when it succeeds, None when it cannot be asked."""
    path = os.path.join(DEV, name)
    try:
        if dev is None or os.stat(path).st_rdev != dev:
            return None
        os.close(os.open(path, os.O_RDONLY | os.O_EXCL | os.O_NONBLOCK | os.O_CLOEXEC))
    except OSError as e:
        return True if e.errno == errno.EBUSY else None
    return False


def _claimed_through_a_partition(node):
    """A whole disk is busy to an exclusive open while any of its partitions is
    claimed; it is in use itself only if every partition is busy too (a claimed
    disk makes all its partitions busy). Its partitions are checked on their own."""
    parts = [n for n in sorted(os.listdir(node)) if is_partition(os.path.join(node, n))] if not is_partition(node) else []
    return any(_claimed(n, _node_rdev(os.path.join(node, n))) is False for n in parts)


def lower_devices(st):
    """/dev names of the block devices that a device's reads go through below it (a
    partition's disk, a loop device's backing device, at any depth), top first. Each
    has a page cache of its own: a read-only loop device passes no flush down to it,
    so its dirty data is in no backing file's allocation map until it is flushed."""
    out = []
    node = sysfs_node(st.st_rdev)
    while node is not None and len(out) < 16:
        if is_partition(node):
            node = os.path.dirname(node)
        else:
            loop = loop_backing(node)
            try:
                bst = os.stat(loop[0]) if loop else None
            except OSError:
                bst = None
            if bst is None or not stat.S_ISBLK(bst.st_mode):
                break
            node = sysfs_node(bst.st_rdev)
            if node is None:
                break
        out.append(os.path.join(DEV, os.path.basename(node)))
    return out


def queue_attr(st, name):
    """A queue/ attribute of a block device (on its whole disk for a partition)."""
    node = sysfs_node(st.st_rdev)
    return _read(whole_disk(node), os.path.join("queue", name)) if node else None


def read_only(st):
    """True when sysfs marks a block device (or the disk of a partition) read-only."""
    node = sysfs_node(st.st_rdev)
    if node is None:
        return False
    return "1" in (_read(node, "ro"), _read(whole_disk(node), "ro"))


def describe(p):
    """Short words for a placement in messages."""
    s = p.spans[0] if p.spans else None
    if s is None:
        return "nothing"
    if s.end == END:
        return s.path
    return "bytes %d-%d of %s" % (s.start, s.end, s.path)


def device_extent(path, st=None) -> Optional[Span]:
    """The range of a regular file that a block device is exactly (through any loop
    devices and partitions), or None: where its allocation can be read."""
    return placement(path, st).file_span
