# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An array LUN's block device on this Linux host: find it by WWN, read its
topology (partitions, multipath map and paths, holders, mounts, open files), set the
kernel's read-only flag, and remove it before the array unmaps the LUN.

What os-brick's connectors do for Cinder, as facts: a LUN appears after a SCSI host
scan (``- - -`` written to /sys/class/scsi_host/hostN/scan); udev names it under
/dev/disk/by-id as ``wwn-0x<wwn>`` and ``scsi-3<wwn>`` (3 = NAA designator), a
multipath map as ``dm-uuid-mpath-3<wwn>``; before an unmap the map is flushed and
removed and each path's buffers are flushed, then each path is deleted through
/sys/block/sdX/device/delete so no dead path stays behind.

Every path is under a ``Host`` root so that tests can build a fake sysfs tree.
Standard library only.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import fcntl
import glob
import os
import re
import stat
import struct
from dataclasses import asdict, dataclass, field
from typing import List

BLKROSET = 0x125D
BLKROGET = 0x125E
BLKFLSBUF = 0x1261
LOOP_CLR_FD = 0x4C01
SECTOR = 512


class HostLunError(Exception):
    """An expected failure, with a message for the administrator."""


def normalize_wwn(text):
    """A LUN's WWN as lower-case hex without separators: accepts 60:06:01:..., 0x...,
    naa...., wwn-0x... and plain hex, in any case. Raises ValueError."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("wwn is empty")
    s = text.strip().lower()
    for prefix in ("wwn-0x", "naa.", "0x"):
        if s.startswith(prefix):
            s = s[len(prefix):]
            break
    s = s.replace(":", "").replace("-", "")
    if not re.fullmatch(r"[0-9a-f]+", s) or len(s) not in (16, 32):
        raise ValueError("wwn %r is not a WWN: 16 or 32 hex digits, optionally with colons "
                         "or a 0x or naa. prefix (as 60:06:01:60:...)" % (text,))
    return s


@dataclass
class Partition:
    path: str
    read_only: bool


@dataclass
class Device:
    """What the host shows of one LUN. ``path`` is the device to use: the multipath
    map when there is one, else the single path device."""
    path: str
    links: List[str]
    wwn: str
    size_bytes: int
    logical_block_size: int
    read_only: bool
    holders: List[str]
    partitions: List[Partition]
    mounted: bool
    mountpoints: List[str]
    kind: str = "disk"                 # disk (SCSI), loop, multipath, other
    paths: List[str] = field(default_factory=list)   # the SCSI paths under a multipath map
    paths_read_only: List[bool] = field(default_factory=list)
    mountpoints_rw: List[str] = field(default_factory=list)
    open_by: List[int] = field(default_factory=list)  # pids holding it open

    def facts(self):
        d = asdict(self)
        for k in ("kind", "paths", "paths_read_only", "mountpoints_rw", "open_by"):
            d.pop(k)
        return d

    def flagged(self):
        """Every /dev node whose read-only flag the state read_only/read_write sets."""
        return [self.path] + [p.path for p in self.partitions] + list(self.paths)


class Host:
    """The host's view: sysfs, /dev, /proc and the by-id directory, each a root."""

    def __init__(self, by_id_dir="/dev/disk/by-id", sysfs="/sys", dev="/dev", proc="/proc"):
        self.by_id_dir = by_id_dir
        self.sysfs = sysfs
        self.dev = dev
        self.proc = proc

    # ------------------------------------------------------------------ sysfs
    def _read(self, *parts):
        try:
            with open(os.path.join(*parts)) as f:
                return f.read().strip()
        except OSError:
            return None

    def node(self, name):
        return os.path.join(self.sysfs, "class", "block", name)

    def _list(self, *parts):
        try:
            return sorted(os.listdir(os.path.join(*parts)))
        except OSError:
            return []

    def name_of(self, path):
        """The kernel name (sda, dm-3, loop7) of a /dev node, from its device number."""
        st = os.stat(path)
        if not stat.S_ISBLK(st.st_mode):
            raise HostLunError("%s is not a block device" % path)
        real = os.path.realpath(os.path.join(self.sysfs, "dev", "block", "%d:%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))))
        if not os.path.isdir(real):
            raise HostLunError("%s (%d:%d) has no entry in %s" % (path, os.major(st.st_rdev), os.minor(st.st_rdev), self.sysfs))
        return os.path.basename(real)

    def dev_path(self, name):
        return os.path.join(self.dev, name)

    def is_partition(self, name):
        return os.path.exists(os.path.join(self.node(name), "partition"))

    def partitions(self, name):
        """Partition names of a whole disk (sda1; loop0p1), from sysfs."""
        node = self.node(name)
        return [n for n in self._list(node) if os.path.exists(os.path.join(node, n, "partition"))]

    def holders(self, name):
        return self._list(self.node(name), "holders")

    def slaves(self, name):
        return self._list(self.node(name), "slaves")

    def dm_uuid(self, name):
        return self._read(self.node(name), "dm", "uuid") or ""

    def dm_name(self, name):
        return self._read(self.node(name), "dm", "name") or ""

    def kind(self, name):
        node = self.node(name)
        if self.dm_uuid(name).lower().startswith("mpath-"):
            return "multipath"
        if os.path.exists(os.path.join(node, "loop")) or name.startswith("loop"):
            return "loop"
        if os.path.exists(os.path.join(node, "device", "delete")):
            return "disk"
        return "other"

    def multipath_holder(self, name):
        for h in self.holders(name):
            if self.dm_uuid(h).lower().startswith("mpath-"):
                return h
        return None

    def top_path(self, name):
        """The /dev path users should open: /dev/mapper/<map> for device-mapper maps."""
        if name.startswith("dm-"):
            mapped = os.path.join(self.dev, "mapper", self.dm_name(name))
            if self.dm_name(name) and os.path.exists(mapped):
                return mapped
        return self.dev_path(name)

    def rdev(self, name):
        dev = self._read(self.node(name), "dev")
        try:
            major, minor = dev.split(":")
            return int(major), int(minor)
        except (AttributeError, ValueError):
            return None

    # ------------------------------------------------------------------ finding
    def candidate_links(self, wwn):
        """Links in by_id_dir that name this WWN's whole device (not its partitions)."""
        wanted = {"wwn-0x" + wwn, "scsi-3" + wwn, "dm-uuid-mpath-3" + wwn}
        return [os.path.join(self.by_id_dir, n) for n in self._list(self.by_id_dir) if n.lower() in wanted]

    def sysfs_by_wwid(self, wwn):
        """Disks whose SCSI wwid is naa.<wwn> (for hosts without udev links)."""
        out = []
        for name in self._list(self.sysfs, "block"):
            wwid = (self._read(self.sysfs, "block", name, "device", "wwid")
                    or self._read(self.sysfs, "block", name, "wwid") or "").lower()
            if wwid in ("naa." + wwn, "0x" + wwn):
                out.append(name)
        return out

    def find(self, wwn):
        """The Device of a WWN, or None. Raises HostLunError for a link that leads to
        something that is not a block device."""
        links = self.candidate_links(wwn)
        names = []
        for link in links:
            target = os.path.realpath(link)
            if not os.path.exists(target):
                continue                                  # a dangling link: udev or the sim is behind
            names.append(self.name_of(target))
        names.extend(self.sysfs_by_wwid(wwn))
        if not names:
            return None
        # one LUN: the multipath map when there is one, else the (single) path
        tops = set()
        for n in names:
            if self.kind(n) == "multipath":
                tops.add(n)
            else:
                tops.add(self.multipath_holder(n) or n)
        if len(tops) > 1:
            raise HostLunError("WWN %s names several block devices without a multipath map over them (%s): "
                               "set up multipath (or remove the extra paths) first"
                               % (wwn, ", ".join(self.dev_path(t) for t in sorted(tops))))
        top = tops.pop()
        return self.describe(top, wwn, [ln for ln in links if os.path.exists(os.path.realpath(ln))])

    def describe(self, name, wwn, links):
        kind = self.kind(name)
        slaves = self.slaves(name) if kind == "multipath" else []
        parts = self.partitions(name)
        if kind == "multipath":    # kpartx maps: holders whose dm uuid is part<N>-mpath-...
            parts = [h for h in self.holders(name) if self.dm_uuid(h).lower().startswith("part")]
        part_names = set(parts)
        holders = [h for h in self.holders(name) if h not in part_names]
        for p in parts:
            holders.extend(self.holders(p))
        path = self.top_path(name)
        everything = [name] + parts + self.slaves(name) + self._holders_below(holders)
        mounts = self.mounts({self.rdev(n) for n in everything} - {None})
        size = self._read(self.node(name), "size")
        lbs = self._read(self.node(name), "queue", "logical_block_size")
        return Device(
            path=path,
            links=sorted(links),
            wwn=wwn,
            size_bytes=int(size) * SECTOR if size and size.isdigit() else 0,
            logical_block_size=int(lbs) if lbs and lbs.isdigit() else SECTOR,
            read_only=self.flag(name),
            holders=[self.top_path(h) for h in holders],
            partitions=[Partition(self.top_path(p), self.flag(p)) for p in parts],
            mounted=bool(mounts),
            mountpoints=sorted(m for m, _rw in mounts),
            kind=kind,
            paths=[self.dev_path(n) for n in slaves],
            paths_read_only=[self.flag(n) for n in slaves],
            mountpoints_rw=sorted(m for m, rw in mounts if rw),
            open_by=self.openers({self.rdev(n) for n in [name] + parts + self.slaves(name)} - {None}),
        )

    def _holders_below(self, names, depth=0):
        """Names and, recursively, their holders (LVM on a LUN, a filesystem on that)."""
        out = []
        for n in names:
            out.append(n)
            if depth < 8:
                out.extend(self._holders_below(self.holders(n), depth + 1))
        return out

    # ------------------------------------------------------------------ use
    def mounts(self, rdevs):
        """(mountpoint, mounted read-write) of every mount of those device numbers."""
        out = []
        try:
            with open(os.path.join(self.proc, "self", "mountinfo")) as f:
                lines = f.read().splitlines()
        except OSError:
            return out
        for line in lines:
            fields = line.split()
            if len(fields) < 6:
                continue
            try:
                major, minor = (int(x) for x in fields[2].split(":"))
            except ValueError:
                continue
            if (major, minor) in rdevs:
                point = fields[4].replace("\\040", " ")
                out.append((point, "rw" in fields[5].split(",")))
        return out

    def openers(self, rdevs):
        """Pids (other than this one) with an open file on one of those devices."""
        pids = set()
        me = os.getpid()
        for fd in glob.glob(os.path.join(self.proc, "[0-9]*", "fd", "*")):
            pid = int(fd.split(os.sep)[-3])
            if pid == me:
                continue
            try:
                st = os.stat(fd)
            except OSError:
                continue
            if stat.S_ISBLK(st.st_mode) and (os.major(st.st_rdev), os.minor(st.st_rdev)) in rdevs:
                pids.add(pid)
        return sorted(pids)

    # ------------------------------------------------------------------ ioctls
    @staticmethod
    def read_only(path):
        """The kernel's read-only flag of a block device (BLKROGET), None when it cannot be asked."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:
            return None
        try:
            return struct.unpack("i", fcntl.ioctl(fd, BLKROGET, struct.pack("i", 0)))[0] != 0
        except OSError:
            return None
        finally:
            os.close(fd)

    def flag(self, name):
        """The read-only flag of a device by name: BLKROGET, else sysfs's ro."""
        ro = self.read_only(self.top_path(name))
        return ro if ro is not None else self._read(self.node(name), "ro") == "1"

    @staticmethod
    def set_read_only(path, value):
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            fcntl.ioctl(fd, BLKROSET, struct.pack("i", 1 if value else 0))
        except OSError as e:
            raise HostLunError("setting the read-only flag of %s to %d failed: %s" % (path, int(value), e.strerror))
        finally:
            os.close(fd)

    @staticmethod
    def flush(path):
        """Write out and drop the device's buffers (fsync, then BLKFLSBUF)."""
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            os.fsync(fd)
            fcntl.ioctl(fd, BLKFLSBUF, 0)
        except OSError as e:
            raise HostLunError("flushing the buffers of %s failed: %s" % (path, e.strerror))
        finally:
            os.close(fd)

    def detach_loop(self, name):
        fd = os.open(self.dev_path(name), os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            fcntl.ioctl(fd, LOOP_CLR_FD, 0)
        except OSError as e:
            if e.errno != errno.ENXIO:                   # ENXIO: already detached
                raise HostLunError("detaching %s (LOOP_CLR_FD) failed: %s" % (self.dev_path(name), e.strerror))
        finally:
            os.close(fd)

    def delete_scsi(self, name):
        try:
            with open(os.path.join(self.node(name), "device", "delete"), "w") as f:
                f.write("1")
        except OSError as e:
            raise HostLunError("removing the SCSI device %s (device/delete) failed: %s" % (name, e.strerror))

    def gone(self, name, rdev):
        """Whether a device named `name` (number rdev) left the host (or is a detached loop)."""
        if self.rdev(name) != rdev:
            return True
        if self.kind(name) != "loop":
            return False
        # a loop device still open elsewhere (force) is cleared when its last user closes it
        return not self._read(self.node(name), "loop", "backing_file") or self._read(self.node(name), "loop", "autoclear") == "1"

    def rescan(self):
        """Ask every SCSI host to scan all channels, targets and LUNs; the hosts scanned."""
        done = []
        for scan in sorted(glob.glob(os.path.join(self.sysfs, "class", "scsi_host", "*", "scan"))):
            try:
                with open(scan, "w") as f:
                    f.write("- - -")
                done.append(os.path.basename(os.path.dirname(scan)))
            except OSError:
                continue                                   # a host that cannot scan (offline)
        return done


def remove_plan(dev, force):
    """Pure: the refusals (a list of reasons) for removing `dev` from this host."""
    reasons = []
    if dev.mounted:
        reasons.append("it is mounted on %s (unmount it first; force does not unmount)" % ", ".join(dev.mountpoints))
    if dev.holders and not force:
        reasons.append("it is held by %s (remove those first, or force=true)" % ", ".join(dev.holders))
    if dev.open_by and not force:
        reasons.append("processes %s have it open (stop them, or force=true)" % ", ".join(str(p) for p in dev.open_by))
    if dev.kind not in ("disk", "loop", "multipath"):
        reasons.append("it is neither a SCSI disk, a loop device nor a multipath map, which this module can remove")
    return reasons


def flag_plan(dev, read_only):
    """Pure: (actions, refusals) to give every node of `dev` the read-only flag `read_only`."""
    refusals = []
    if read_only and dev.mountpoints_rw:
        refusals.append("it is mounted read-write on %s: a read-only flag under a read-write filesystem "
                        "fails its writes; remount it read-only or unmount it first" % ", ".join(dev.mountpoints_rw))
    current = {dev.path: dev.read_only}
    current.update({p.path: p.read_only for p in dev.partitions})
    current.update(zip(dev.paths, dev.paths_read_only))
    actions = []
    for path in dev.flagged():
        if current[path] != read_only:
            actions.append("set %s %s" % (path, "read-only" if read_only else "read-write"))
    return actions, refusals


def predicted(dev, read_only):
    """`dev` as it will be after the flag is set (check mode's answer)."""
    parts = [Partition(p.path, read_only) for p in dev.partitions]
    return Device(**dict(asdict(dev), read_only=read_only, partitions=parts,
                         paths_read_only=[read_only] * len(dev.paths)))
