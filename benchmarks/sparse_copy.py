#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cold-cache, interleaved benchmark of sparse_volume_copy against its peers.

    sudo python3 benchmarks/sparse_copy.py [--size 4G] [--rounds 5] [--json FILE]

Case 1  file -> new file: ours, the module as Ansible runs it, dd conv=sparse,
        cp --sparse=auto|always, qemu-img convert -S 4k.
Case 2  block device (loop) -> block device (loop) holding old data: ours,
        dd conv=sparse, dd full, cp --sparse=always|auto, qemu-img convert -n
        (plain, and -t none -W -m 16).

Every timed run is "command + sync DEST" after an untimed preparation
(remove or re-dirty the destination, sync, drop caches).  Rounds are
interleaved and the peer order is reversed every other round.  See
benchmarks/README.md for how to read the output.

Python standard library only; must run as root (drop_caches, losetup).
"""
import argparse
import ctypes
import errno
import hashlib
import json
import mmap
import os
import platform
import queue
import random
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

KiB = 1 << 10
MiB = 1 << 20
GiB = 1 << 30
SLOT = MiB                 # workload granularity
SRC_SEED = 42              # layout + data of the source image
OLD_SEED = 4242            # layout + data of the "old volume" on the reused LUN
FRACTION_DATA = 0.10
FRACTION_ZERO = 0.30       # written zeros: allocated extents that read as zero
OLD_FRACTION_RANDOM = 0.50  # old LUN: random-looking slots, the rest a text pattern
IO_CHUNK = 8 * MiB         # harness I/O size (checks, dirtying)
HERE = os.path.dirname(os.path.abspath(__file__))
OURS_CLI = os.path.join(HERE, "datamotion_copy.py")
MODULE = "ansible_collections.storage.datamotion.plugins.modules.sparse_volume_copy"

_libc = ctypes.CDLL(None, use_errno=True)
_libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
_FALLOC_PUNCH_KEEP = 0x02 | 0x01


class BenchError(Exception):
    pass


# ----------------------------------------------------------------------------- helpers

def parse_size(text):
    m = re.fullmatch(r"\s*(\d+)\s*([kmgt]?)(?:i?b)?\s*", text, re.IGNORECASE)
    if not m:
        raise argparse.ArgumentTypeError("bad size %r (examples: 512M, 4G)" % text)
    return int(m.group(1)) << (10 * " kmgt".index(m.group(2).lower() or " "))


def gib(n):
    return n / GiB


def fmt_bytes(n):
    if n >= GiB:
        return "%.2f GiB" % gib(n)
    return "%.1f MiB" % (n / MiB)


def log(msg=""):
    print(msg, flush=True)


def run(argv, check=True, **kw):
    return subprocess.run(argv, check=check, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, **kw)


def aligned_buffer(size):
    """Page-aligned anonymous buffer usable for O_DIRECT."""
    return mmap.mmap(-1, size, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)


def pwrite_all(fd, view, offset):
    view = memoryview(view)
    while view:
        n = os.pwrite(fd, view, offset)
        view = view[n:]
        offset += n


def data_extents(fd, size):
    """Data extents [(start, end)] of a regular file via SEEK_DATA/SEEK_HOLE."""
    out, off = [], 0
    while off < size:
        try:
            start = os.lseek(fd, off, os.SEEK_DATA)
        except OSError as exc:
            if exc.errno == errno.ENXIO:
                break
            if exc.errno == errno.EINVAL:
                return [(off, size)]
            raise
        end = min(os.lseek(fd, start, os.SEEK_HOLE), size)
        out.append((start, end))
        off = end
    return out


def allocated(path):
    return os.stat(path).st_blocks * 512


class Cache:
    """sync + drop_caches (the untimed 'cold' preparation)."""

    def __init__(self, warm):
        self.warm = warm
        self.works = True

    def drop(self):
        os.sync()
        if self.warm or not self.works:
            return
        try:
            with open("/proc/sys/vm/drop_caches", "w") as f:
                f.write("3\n")
        except OSError as exc:
            self.works = False
            log("WARNING: cannot drop caches (%s): results are WARM, not cold" % exc)


def fs_type(path):
    try:
        return run(["stat", "-f", "-c", "%T", path]).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def file_sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def tool_version(argv):
    try:
        r = run(argv, check=False)
        return (r.stdout or r.stderr).splitlines()[0].strip()
    except (OSError, IndexError):
        return None


# ----------------------------------------------------------------------------- workload

class Layout:
    """The source image: 1 MiB slots shuffled with a fixed seed."""

    def __init__(self, size):
        if size % SLOT or size < 10 * SLOT:
            raise BenchError("--size must be a multiple of 1 MiB and at least 10 MiB")
        self.size = size
        self.nslots = size // SLOT
        order = list(range(self.nslots))
        random.Random(SRC_SEED).shuffle(order)
        n_data = round(self.nslots * FRACTION_DATA)
        n_zero = round(self.nslots * FRACTION_ZERO)
        self.kind = ["H"] * self.nslots          # D = random data, Z = written zeros, H = hole
        for i in order[:n_data]:
            self.kind[i] = "D"
        for i in order[n_data:n_data + n_zero]:
            self.kind[i] = "Z"
        self.data_slots = sorted(order[:n_data])
        self.n_data, self.n_zero = n_data, n_zero
        self.n_hole = self.nslots - n_data - n_zero
        self.data_bytes = n_data * SLOT
        self.allocated = None
        self.extents = None
        self.sha256 = None

    def build(self, path):
        rng = random.Random(SRC_SEED + 1)
        zero = bytes(SLOT)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.ftruncate(fd, self.size)
            for i, k in enumerate(self.kind):
                if k == "D":
                    pwrite_all(fd, rng.randbytes(SLOT), i * SLOT)
                elif k == "Z":
                    pwrite_all(fd, zero, i * SLOT)
            os.fsync(fd)
        finally:
            os.close(fd)

    def describe(self, path, want_sha):
        self.allocated = allocated(path)
        fd = os.open(path, os.O_RDONLY)
        try:
            self.extents = len(data_extents(fd, self.size))
        finally:
            os.close(fd)
        if want_sha:
            h = hashlib.sha256()
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(IO_CHUNK), b""):
                    h.update(block)
            self.sha256 = h.hexdigest()

    def summary(self):
        return {
            "size": self.size, "slots": self.nslots, "slot_size": SLOT,
            "data_slots": self.n_data, "zero_slots": self.n_zero, "hole_slots": self.n_hole,
            "data_bytes": self.data_bytes, "allocated": self.allocated,
            "data_extents": self.extents, "sha256": self.sha256, "seed": SRC_SEED,
        }


class OldVolume:
    """Deterministic previous content of the reused destination LUN (seed 4242).

    fill="full": every 1 MiB slot holds old data, half of them random-looking
    (slices of a seeded 32 MiB pool), the other half a repeating text record
    ("OLD-LUN previous tenant block ..."), each stamped with its slot number.
    Every byte is non-zero and the backing file is fully allocated: a thick LUN,
    or a thin one that a previous tenant filled.

    fill="half": a previous tenant's volume that was half used: 25% random-looking
    slots, 25% text-pattern slots, 50% never written (unallocated, reads zeros).

    Either way any range that a copy skips without zeroing shows up as stale data
    somewhere (about 90% of the old slots lie where the source reads zeros).
    """

    POOL = 32 * MiB

    def __init__(self, size, fill="full"):
        self.size = size
        self.fill = fill
        rng = random.Random(OLD_SEED)
        self.pool = rng.randbytes(self.POOL + SLOT)
        n = size // SLOT
        order = list(range(n))
        rng.shuffle(order)
        used = n if fill == "full" else n // 2
        rnd = set(order[:round(used * OLD_FRACTION_RANDOM)])
        pat = set(order[len(rnd):used])
        # per slot: pool offset, -1 for the text pattern, None for never written
        self.slot_src = []
        for i in range(n):
            off = rng.randrange(0, self.POOL // 4096) * 4096
            self.slot_src.append(off if i in rnd else (-1 if i in pat else None))
        rec = b"OLD-LUN previous tenant block, stale but non-zero. "
        self.pattern = (rec * (SLOT // len(rec) + 1))[:SLOT]
        self.old_bytes = sum(SLOT for x in self.slot_src if x is not None)

    def _runs(self, used):
        """(first_slot, end_slot) runs of slots that are (used=True) or are not old data."""
        out, start = [], None
        for i, x in enumerate(self.slot_src + [None if used else 0]):
            if (x is not None) == used:
                if start is None:
                    start = i
            elif start is not None:
                out.append((start, i))
                start = None
        return out

    def write(self, dev, backing):
        """Put *dev* back into the old state: punch the never-written slots where the
        backing file is allocated, write the old slots (O_DIRECT from memory), fsync."""
        try:
            fd = os.open(dev, os.O_WRONLY | os.O_DIRECT)
        except OSError:
            fd = os.open(dev, os.O_WRONLY)
        buf = aligned_buffer(IO_CHUNK)
        try:
            if self.fill != "full":
                bfd = os.open(backing, os.O_RDONLY)
                try:
                    alloc = data_extents(bfd, self.size)
                finally:
                    os.close(bfd)
                for a, b in self._runs(used=False):
                    a, b = a * SLOT, b * SLOT
                    for s, e in alloc:
                        s, e = max(s, a), min(e, b)
                        if s < e and _libc.fallocate(fd, _FALLOC_PUNCH_KEEP, s, e - s) != 0:
                            err = ctypes.get_errno()
                            raise OSError(err, "punch %s: %s" % (dev, os.strerror(err)))
            for a, b in self._runs(used=True):
                slot = a
                while slot < b:
                    k = min(IO_CHUNK // SLOT, b - slot)
                    for j in range(k):
                        p = self.slot_src[slot + j]
                        buf[j * SLOT:(j + 1) * SLOT] = self.pool[p:p + SLOT] if p >= 0 else self.pattern
                        buf[j * SLOT:j * SLOT + 8] = (slot + j + 1).to_bytes(8, "little")
                    pwrite_all(fd, memoryview(buf)[:k * SLOT], slot * SLOT)
                    slot += k
            os.fsync(fd)
        finally:
            os.close(fd)
            buf.close()


# ----------------------------------------------------------------------------- correctness

def _dest_reader(path, size, nbuf=3):
    """Yield (offset, buffer, n) for *path* read sequentially, prefetched by a thread.

    O_DIRECT when possible so the media (not the page cache) is checked."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
    except OSError:
        fd = os.open(path, os.O_RDONLY)
    bufs = [aligned_buffer(IO_CHUNK) for _i in range(nbuf)]
    free, full = queue.Queue(), queue.Queue()
    for b in bufs:
        free.put(b)
    stop = threading.Event()

    def reader():
        off = 0
        try:
            while off < size and not stop.is_set():
                b = free.get()
                want = min(IO_CHUNK, size - off)
                got = 0
                while got < want:
                    k = os.preadv(fd, [memoryview(b)[got:IO_CHUNK]], off + got)
                    if k <= 0:
                        break
                    got += k
                full.put((off, b, min(got, want)))
                if got < want:
                    break
                off += want
        except BaseException as exc:   # forwarded to the consumer
            full.put(exc)
            return
        full.put(None)

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    try:
        while True:
            item = full.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
            free.put(item[1])
    finally:
        stop.set()
        for b in bufs:
            free.put(b)
        t.join(timeout=30)
        os.close(fd)
        for b in bufs:
            b.close()


def compare(src_path, dest_path, size):
    """Byte-compare the first *size* bytes of dest with the source image file.

    Returns dict(match, mismatch_bytes (4 KiB granularity), stale_in_zero (bytes
    that should read zero but do not), wrong_in_data, short)."""
    sfd = os.open(src_path, os.O_RDONLY)
    ext = data_extents(sfd, size)
    zero_chunk = bytes(IO_CHUNK)
    z4k = bytes(4096)
    res = {"match": True, "mismatch_bytes": 0, "stale_in_zero": 0, "wrong_in_data": 0,
           "short": False, "first_mismatch": None}
    ei = 0
    seen = 0
    try:
        for off, buf, n in _dest_reader(dest_path, size):
            while ei < len(ext) and ext[ei][1] <= off:
                ei += 1
            has_data = ei < len(ext) and ext[ei][0] < off + n
            got = buf[:n]
            if has_data:
                want = os.pread(sfd, n, off)
            else:
                want = zero_chunk[:n]
            seen = off + n
            if got == want:
                continue
            res["match"] = False
            for i in range(0, n, 4096):
                g, w = got[i:i + 4096], want[i:i + 4096]
                if g != w:
                    res["mismatch_bytes"] += len(g)
                    if res["first_mismatch"] is None:
                        res["first_mismatch"] = off + i
                    if w == z4k[:len(w)]:
                        res["stale_in_zero"] += len(g)
                    else:
                        res["wrong_in_data"] += len(g)
    finally:
        os.close(sfd)
    if seen < size:
        res["match"] = False
        res["short"] = True
        res["mismatch_bytes"] += size - seen
    return res


# ----------------------------------------------------------------------------- loop devices

class Loops:
    def __init__(self):
        self.devs = []

    def attach(self, path, readonly=False):
        argv = ["losetup", "--find", "--show"] + (["--read-only"] if readonly else []) + [path]
        dev = run(argv).stdout.strip()
        if not dev.startswith("/dev/"):
            raise BenchError("losetup returned %r" % dev)
        self.devs.append(dev)
        if not readonly:
            # a read-only flag set by an earlier user of this number (blockdev --setro)
            # outlives detaching it
            run(["blockdev", "--setrw", dev], check=False)
        return dev

    def detach_all(self):
        for dev in reversed(self.devs):
            r = run(["losetup", "--detach", dev], check=False)
            if r.returncode:
                log("WARNING: losetup -d %s failed: %s" % (dev, r.stderr.strip()))
        self.devs = []


def loops_available(workdir):
    if not shutil.which("losetup"):
        return "losetup not found (apt-get install mount)"
    if not os.path.exists("/dev/loop-control") and not os.path.exists("/dev/loop0"):
        return "no /dev/loop-control (modprobe loop, or a container without loop devices)"
    probe = os.path.join(workdir, "loop-probe.img")
    with open(probe, "wb") as f:
        f.truncate(MiB)
    loops = Loops()
    try:
        loops.attach(probe)
    except (subprocess.CalledProcessError, BenchError) as exc:
        err = getattr(exc, "stderr", "") or str(exc)
        return "losetup failed: %s" % err.strip()
    finally:
        loops.detach_all()
        os.unlink(probe)
    return None


# ----------------------------------------------------------------------------- peers

class Peer:
    """One contender.  *argv* is a command (timed + `sync DEST`); *func* an
    in-process floor measurement (timed as is, not checked)."""

    def __init__(self, key, label, argv=None, func=None, prep=None, floor=False, env=None):
        self.key, self.label, self.argv, self.func = key, label, argv, func
        self.env = env or {}
        self.prep = prep          # untimed preparation before every run
        self.floor = floor
        self.runs = []

    # summary helpers
    def ok_runs(self):
        return [r for r in self.runs if r.get("rc") == 0]

    def times(self):
        return [r["seconds"] for r in self.ok_runs()]

    def median(self):
        t = self.times()
        return statistics.median(t) if t else None

    def checked(self):
        return [r["check"] for r in self.runs if r.get("check") is not None]

    def correct(self):
        if self.floor:
            return False
        if not self.runs or any(r.get("rc") != 0 for r in self.runs):
            return False
        c = self.checked()
        return bool(c) and all(x["match"] for x in c)

    def alloc(self):
        a = [r["dest_allocated"] for r in self.ok_runs() if r.get("dest_allocated") is not None]
        return statistics.median(a) if a else None


class Bench:
    def __init__(self, args):
        self.a = args
        self.cache = Cache(args.warm)
        self.loops = Loops()
        self.results = {"cases": {}}
        self.t_start = time.monotonic()

    def select(self, peers):
        """Apply --peers (floors are added after selection)."""
        if not self.a.peers:
            return peers
        keep = set(self.a.peers.split(","))
        return [p for p in peers if p.key in keep]

    # .......................................................... running one peer once
    def run_peer(self, peer, rnd, dest, alloc_path, src_file, check):
        tp = time.perf_counter()
        if peer.prep:
            peer.prep()
        self.cache.drop()
        rec = {"round": rnd, "prep_seconds": time.perf_counter() - tp}
        if peer.func is not None:
            # all threads of this process, and the processes a floor starts (floor-start)
            ru0, rc0 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            try:
                peer.func()
                rec["rc"] = 0
            except OSError as exc:
                rec["rc"] = 1
                rec["stderr"] = str(exc)
                log("    !! %s failed: %s" % (peer.label, exc))
            rec["seconds"] = time.perf_counter() - t0
            ru1, rc1 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
            rec.update(cpu_user=ru1.ru_utime - ru0.ru_utime + rc1.ru_utime - rc0.ru_utime,
                       cpu_sys=ru1.ru_stime - ru0.ru_stime + rc1.ru_stime - rc0.ru_stime)
            peer.runs.append(rec)
            return rec
        env = dict(os.environ, **peer.env)
        if self.a.engine:
            env["SPARSE_ENGINE"] = self.a.engine
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        p = subprocess.run(peer.argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, check=False)
        if p.returncode == 0:
            s = subprocess.run(["sync", dest], stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
            rc = s.returncode
        else:
            rc = p.returncode
        t1 = time.perf_counter()
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        rec.update(seconds=t1 - t0, rc=rc,
                   cpu_user=ru1.ru_utime - ru0.ru_utime, cpu_sys=ru1.ru_stime - ru0.ru_stime)
        if rc != 0:
            rec["stderr"] = (p.stderr or b"").decode(errors="replace")[-2000:]
            log("    !! %s failed (rc=%s): %s" % (peer.label, rc, rec["stderr"].strip()[-300:]))
        if peer.key in ("ours", "module") and p.stdout:
            try:
                rec["engine"] = json.loads(p.stdout.decode().strip().splitlines()[-1])
            except (ValueError, IndexError):
                rec["engine_stdout"] = p.stdout.decode(errors="replace")[-2000:]
        try:
            rec["dest_allocated"] = allocated(alloc_path)
            if not dest.startswith("/dev/"):
                rec["dest_size"] = os.stat(dest).st_size
        except OSError:
            rec["dest_allocated"] = None
        if rc == 0 and check:
            tc = time.perf_counter()
            rec["check"] = compare(src_file, dest, self.a.size)
            rec["check_seconds"] = time.perf_counter() - tc
            if "dest_size" in rec and rec["dest_size"] != self.a.size:
                rec["check"]["size_differs"] = rec["dest_size"]
        peer.runs.append(rec)
        return rec

    def run_case(self, name, title, peers, dest, alloc_path, src_file):
        log("\n== %s ==" % title)
        for p in peers:
            log("  %-12s %s" % (p.key, " ".join(p.argv) if p.argv else "(in-process) " + p.label))
        for rnd in range(1, self.a.rounds + 1):
            order = peers if rnd % 2 else list(reversed(peers))
            line = []
            for p in order:
                check = (not p.floor) and (self.a.check_all or not p.checked())
                rec = self.run_peer(p, rnd, dest, alloc_path, src_file, check)
                tag = "%s %.2fs" % (p.key, rec["seconds"])
                if rec.get("check") is not None:
                    tag += "" if rec["check"]["match"] else " MISMATCH"
                line.append(tag)
            log("  round %d/%d (%s): %s   [%.0fs elapsed]" % (
                rnd, self.a.rounds, "fwd" if rnd % 2 else "rev", ", ".join(line),
                time.monotonic() - self.t_start))
        self.results["cases"][name] = {
            "title": title, "dest": dest,
            "peers": [{"key": p.key, "label": p.label, "argv": p.argv, "floor": p.floor,
                       "runs": p.runs} for p in peers],
        }
        self.report(name, title, peers)

    @staticmethod
    def cpu(peer):
        """Median user + sys CPU seconds of a peer's successful runs."""
        c = [r["cpu_user"] + r["cpu_sys"] for r in peer.ok_runs() if "cpu_user" in r]
        return statistics.median(c) if c else None

    # .......................................................... table
    def report(self, name, title, peers):
        size = self.a.size
        real = [p for p in peers if not p.floor]
        correct = [p for p in real if p.correct() and p.median() is not None]
        fastest = min(correct, key=lambda p: p.median()) if correct else None
        others_ok = [p for p in correct if not p.key.startswith("ours") and p.key != "module"]
        best_other = min(others_ok, key=lambda p: p.median()) if others_ok else None
        sparsest = min((p.alloc() for p in others_ok if p.alloc() is not None), default=None)
        mode = "warm cache" if (self.a.warm or not self.cache.works) else "cold cache"
        log("\n%s  (source %s, %d rounds, %s, time = command + sync DEST)" % (
            title, fmt_bytes(size), self.a.rounds, mode))
        w = max(len(p.label) for p in peers) + 2
        hdr = "%s %8s %15s %7s %7s %8s %11s  %s" % (
            "peer".ljust(w), "median s", "min-max s", "ratio", "GiB/s", "cpu s", "alloc GiB", "match")
        log(hdr)
        log("-" * len(hdr))
        rows = []
        for p in real:
            t = p.times()
            med = p.median()
            if med is None:
                log("%s %8s %15s %7s %7s %8s %11s  %s" % (
                    p.label.ljust(w), "-", "-", "-", "-", "-", "-", "FAILED"))
                continue
            cpu = [r["cpu_user"] + r["cpu_sys"] for r in p.ok_runs() if "cpu_user" in r]
            checks = p.checked()
            if not checks:
                match = "not checked"
            elif all(c["match"] for c in checks):
                match = "yes (%d/%d checked)" % (len(checks), len(p.runs))
            else:
                bad = [c for c in checks if not c["match"]]
                stale = max(c["stale_in_zero"] for c in bad)
                wrong = max(c["wrong_in_data"] for c in bad)
                if stale and not wrong and name == "block":
                    match = "NO: LEFT OLD DATA (%s stale)" % fmt_bytes(stale)
                else:
                    match = "NO (%s differ%s)" % (
                        fmt_bytes(max(c["mismatch_bytes"] for c in bad)),
                        ", short" if any(c["short"] for c in bad) else "")
            if any(r.get("rc") != 0 for r in p.runs):
                match += " [%d failed runs]" % sum(1 for r in p.runs if r.get("rc") != 0)
            ratio = "%.2fx" % (med / fastest.median()) if fastest else "-"
            al = p.alloc()
            log("%s %8.2f %15s %7s %7.2f %8.2f %11s  %s" % (
                p.label.ljust(w), med, "%.2f-%.2f" % (min(t), max(t)), ratio, gib(size) / med,
                statistics.median(cpu) if cpu else float("nan"),
                "%.2f" % gib(al) if al is not None else "-", match))
            rows.append(p.key)
        # floor
        best = None
        floor = {p.key: p for p in peers if p.floor}
        if floor:
            log("floor (in-process, same cold preparation, medians):")
            for p in floor.values():
                if p.median() is None:
                    log("  %s   FAILED" % p.label.ljust(w - 2))
                    continue
                c = self.cpu(p)
                log("  %s %8.2f %15s %7s %7s %8s" % (
                    p.label.ljust(w - 2), p.median(), "%.2f-%.2f" % (min(p.times()), max(p.times())), "", "",
                    "%.2f" % c if c is not None else "-"))
            parts = [floor[k].median() for k in ("floor-read", "floor-write") if k in floor]
            if len(parts) == 2 and None not in parts:
                both = floor["floor-both"].median() if "floor-both" in floor else None
                best = min(sum(parts), both) if both is not None else sum(parts)
                log("  %s %8.2f   (read + write one after the other%s)" % (
                    "floor".ljust(w - 2), best,
                    "; at once %.2f" % both if both is not None else "; max(read, write) = %.2f" % max(parts)))
                if best_other and both is not None:
                    log("  the floor is %.2fx the fastest correct peer: every correct copy does at least this "
                        "I/O, so a ratio well below that is out of reach on this machine"
                        % (best / best_other.median()))
                self.results["cases"][name]["floor"] = {"sum": sum(parts), "max": max(parts), "at_once": both,
                                                        "floor": best,
                                                        "parts": {k: v.median() for k, v in floor.items()}}
        # ours
        ours = next((p for p in real if p.key == "ours"), None)
        if ours and ours.median() is not None:
            eng = [r["engine"] for r in ours.runs if "engine" in r]
            if eng:
                d = [e.get("duration") for e in eng if isinstance(e.get("duration"), (int, float))]
                e0 = eng[0]
                log("ours, engine report (run 1): written %s, zeroed %s, skipped zero %s, "
                    "skipped hole %s, unchanged %s, zero_method=%s, sparse=%s (%s)" % (
                        fmt_bytes(e0.get("bytes_written") or 0), fmt_bytes(e0.get("bytes_zeroed") or 0),
                        fmt_bytes(e0.get("bytes_skipped_zero") or 0),
                        fmt_bytes(e0.get("bytes_skipped_hole") or 0),
                        fmt_bytes(e0.get("bytes_unchanged") or 0), e0.get("zero_method"),
                        e0.get("sparse"), e0.get("sparse_reason")))
                if d:
                    log("ours, engine-internal duration median %.2f s (wall median %.2f s: the rest is "
                        "interpreter start/import + `sync DEST`)%s" % (
                            statistics.median(d), ours.median(),
                            # case 2's read floor reads the whole device; ours reads the backing file's map
                            "; engine = %.2fx the I/O floor" % (statistics.median(d) / best)
                            if best and name == "file" else ""))
        goals = {}
        for key in ("ours", "module"):
            contender = next((p for p in real if p.key == key), None)
            goals[key] = self.goal(name, mode, contender, best_other, sparsest, floor, best)
        self.results["cases"][name]["summary"] = {
            p.key: {"median": p.median(), "min": min(p.times()) if p.times() else None,
                    "max": max(p.times()) if p.times() else None, "alloc": p.alloc(),
                    "cpu": self.cpu(p), "correct": p.correct(), "floor": p.floor} for p in peers}
        self.results["cases"][name]["goal"] = goals["ours"]
        self.results["cases"][name]["goal_module"] = goals["module"]

    def goal(self, name, mode, ours, best_other, sparsest, floor, best):
        """Log and return how one contender (ours or the module) meets the goals."""
        goal = {}
        if ours and best_other and ours.median() is not None:
            log("-- goals for %s" % ours.key)
            r = ours.median() / best_other.median()
            al = ours.alloc()
            t_ok = r <= 1.0 and ours.correct()
            a_ok = al is not None and sparsest is not None and al <= sparsest + MiB
            # the goals of issue 8: wall time at most the fastest correct peer's; warm,
            # CPU at most 1.5x that peer's; cold, file to new file, at most 1.05x the floor
            log("GOAL %s <= 1.00 x fastest correct peer (%s, %.2f s): %.2f s = %.2fx -> %s" % (
                ours.key, best_other.label, best_other.median(), ours.median(), r, "MET" if t_ok else "NOT MET"))
            c_ours, c_peer = self.cpu(ours), self.cpu(best_other)
            if mode == "warm cache" and c_ours is not None and c_peer:
                goal["cpu_ratio"] = c_ours / c_peer
                goal["cpu_met"] = c_ours <= 1.5 * c_peer
                log("GOAL %s cpu <= 1.50 x that peer's (%.2f CPU-s): %.2f CPU-s = %.2fx -> %s" % (
                    ours.key, c_peer, c_ours, c_ours / c_peer, "MET" if goal["cpu_met"] else "NOT MET"))
                parts = [floor.get(k) for k in ("floor-module-start" if ours.key == "module" else "floor-start",
                                                "floor-both")]
                if None not in parts and None not in [self.cpu(p) for p in parts]:
                    # no copy by a module can use less: start Python with AnsibleModule, and
                    # the kernel's work of reading the extents and writing the data
                    cpu_floor = sum(self.cpu(p) for p in parts)
                    goal["cpu_floor"] = cpu_floor
                    log("  %s's CPU floor: its start + the floor's read and write = %.2f CPU-s = %.2fx that peer's"
                        % (ours.key, cpu_floor, cpu_floor / c_peer))
            if mode == "cold cache" and name == "file" and best:
                goal["floor_ratio"] = ours.median() / best
                goal["floor_met"] = ours.median() <= 1.05 * best and ours.correct()
                log("GOAL ours <= 1.05 x the floor (%.2f s): ours %.2f s = %.2fx -> %s" % (
                    best, ours.median(), ours.median() / best, "MET" if goal["floor_met"] else "NOT MET"))
                start = floor.get("floor-start")
                if start is not None and start.median() is not None:
                    py_floor = best + start.median()
                    goal["python_floor"] = py_floor
                    goal["python_floor_ratio"] = ours.median() / py_floor
                    log("  a Python program's floor is the I/O floor + its cold start (%.2f s) = %.2f s: "
                        "ours = %.2fx that" % (start.median(), py_floor, ours.median() / py_floor))
            log("GOAL allocation == sparsest correct peer (%s): ours %s -> %s" % (
                fmt_bytes(sparsest) if sparsest is not None else "-",
                fmt_bytes(al) if al is not None else "-", "MET" if a_ok else "NOT MET"))
            if not ours.correct():
                log("GOAL correctness: ours is NOT byte-equal to the source -> NOT MET")
            goal.update({"ratio": r, "time_met": t_ok, "alloc_met": a_ok, "fastest_other": best_other.key,
                         "ours_correct": ours.correct()})
        return goal


# ----------------------------------------------------------------------------- cases

def ours_b(b, src, dest, prep):
    """The peer ours-b: ours with the engine of --engine-b, if given."""
    if not b.a.engine_b:
        return []
    return [Peer("ours-b", "ours with engine B (--engine-b)",
                 [b.a.python, "-S", OURS_CLI, "--engine", b.a.engine_b, src, dest], prep=prep)]


def module_peer(b, src, dest, prep):
    """The module as Ansible runs it: `python -m <module> ARGS.json`, from a
    collection tree in the scratch dir that links to this checkout."""
    if not b.a.module_python:
        return []
    args = os.path.join(b.workdir, "module-args-%s.json" % ("block" if dest.startswith("/dev/") else "file"))
    with open(args, "w") as f:
        json.dump({"ANSIBLE_MODULE_ARGS": {"src": src, "dest": dest}}, f)
    env = {"PYTHONPATH": b.collections}
    return [Peer("module", "module (python -m %s ARGS.json)" % MODULE.rsplit(".", 1)[1],
                 [b.a.module_python, "-m", MODULE, args], prep=prep, env=env)]


def case_file(b, src, layout, workdir, qemu):
    dest = os.path.join(workdir, "dest.img")
    py = b.a.python

    def rm_dest():
        for path in (dest,):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass

    peers = [
        Peer("ours", "ours (datamotion_copy.py, defaults)", [py, "-S", OURS_CLI, src, dest], prep=rm_dest),
    ] + module_peer(b, src, dest, rm_dest) + ours_b(b, src, dest, rm_dest) + [
        Peer("dd-sparse", "dd bs=1M conv=sparse", ["dd", "if=" + src, "of=" + dest, "bs=1M",
                                                   "conv=sparse", "status=none"], prep=rm_dest),
        Peer("cp-auto", "cp --sparse=auto", ["cp", "--sparse=auto", src, dest], prep=rm_dest),
        Peer("cp-always", "cp --sparse=always", ["cp", "--sparse=always", src, dest], prep=rm_dest),
    ]
    if qemu:
        peers.append(Peer("qemu", "qemu-img convert -O raw -S 4k",
                          [qemu, "convert", "-f", "raw", "-O", "raw", "-S", "4k", src, dest],
                          prep=rm_dest))
    peers = b.select(peers)
    if not b.a.no_floor:
        out = os.path.join(workdir, "floor.out")

        def rm_out():
            try:
                os.unlink(out)
            except FileNotFoundError:
                pass
        peers += [
            Peer("floor-start", "a new process: start %s -S and import the engine (no copy)" % os.path.basename(py),
                 func=lambda: floor_start(py, b.a.engine), floor=True),
            Peer("floor-read", "read data extents (SEEK_DATA, WILLNEED 32M ahead, pread 1M)",
                 func=lambda: floor_read_extents(src, b.a.size), floor=True),
        ] + ([
            Peer("floor-module-start", "a new process: start %s and import AnsibleModule (what any module pays)"
                 % os.path.basename(b.a.module_python),
                 func=lambda: subprocess.run([b.a.module_python, "-c", "import ansible.module_utils.basic"],
                                             check=True), floor=True),
        ] if b.a.module_python else []) + [
            Peer("floor-write", "write + fsync %s to a new file" % fmt_bytes(layout.data_bytes),
                 func=lambda: floor_write_file(out, layout.data_bytes, b.rand), prep=rm_out, floor=True),
            Peer("floor-both", "the same read and write at once, in two threads",
                 func=lambda: floor_at_once(lambda: floor_read_extents(src, b.a.size),
                                            lambda: floor_write_file(out, layout.data_bytes, b.rand)),
                 prep=rm_out, floor=True),
        ]
    b.run_case("file", "Case 1: file -> new file", peers, dest, dest, src)
    try:
        os.unlink(dest)
        os.unlink(os.path.join(workdir, "floor.out"))
    except FileNotFoundError:
        pass


def case_block(b, src, layout, workdir, qemu):
    backing = os.path.join(workdir, "dest-lun.img")
    with open(backing, "wb") as f:
        f.truncate(b.a.size)
    dev = b.loops.attach(backing)
    if b.a.block_src == "loop":
        sdev = b.loops.attach(src, readonly=True)
        src_desc = "loop device %s (read-only) over the source image" % sdev
    else:
        sdev = src
        src_desc = "the source image file"
    log("\nCase 2 setup: destination %s over sparse backing %s; source = %s" % (dev, backing, src_desc))
    old = OldVolume(b.a.size, b.a.old_fill)
    t0 = time.perf_counter()
    old.write(dev, backing)
    log("  old data on the destination (--old-fill %s): %s of %s; restoring it takes %.1f s per run "
        "(untimed)" % (old.fill, fmt_bytes(old.old_bytes), fmt_bytes(b.a.size), time.perf_counter() - t0))

    def dirty():
        old.write(dev, backing)

    py = b.a.python
    peers = [
        Peer("ours", "ours (datamotion_copy.py, defaults)", [py, "-S", OURS_CLI, sdev, dev], prep=dirty),
    ] + module_peer(b, sdev, dev, dirty) + ours_b(b, sdev, dev, dirty) + [
        Peer("dd-sparse", "dd bs=1M conv=sparse", ["dd", "if=" + sdev, "of=" + dev, "bs=1M",
                                                   "conv=sparse", "status=none"], prep=dirty),
        Peer("dd-full", "dd bs=1M (full)", ["dd", "if=" + sdev, "of=" + dev, "bs=1M", "status=none"],
             prep=dirty),
        Peer("cp-always", "cp --sparse=always", ["cp", "--sparse=always", sdev, dev], prep=dirty),
        Peer("cp-auto", "cp --sparse=auto", ["cp", "--sparse=auto", sdev, dev], prep=dirty),
    ]
    if qemu:
        peers += [
            Peer("qemu", "qemu-img convert -n -O raw -S 4k",
                 [qemu, "convert", "-n", "-f", "raw", "-O", "raw", "-S", "4k", sdev, dev], prep=dirty),
            Peer("qemu-W16", "qemu-img convert -n -t none -W -m 16 -S 4k",
                 [qemu, "convert", "-n", "-t", "none", "-W", "-m", "16", "-f", "raw", "-O", "raw",
                  "-S", "4k", sdev, dev], prep=dirty),
        ]
    peers = b.select(peers)
    if not b.a.no_floor:
        if b.a.block_src == "loop":
            rd = Peer("floor-read", "read whole source device (no extent map; WILLNEED 32M ahead, pread 1M)",
                      func=lambda: floor_read_all(sdev, b.a.size), floor=True)
        else:
            rd = Peer("floor-read", "read data extents (SEEK_DATA, WILLNEED 32M ahead, pread 1M)",
                      func=lambda: floor_read_extents(src, b.a.size), floor=True)
        peers += [rd, Peer("floor-write", "oracle write: data %s + punch the rest + fsync" %
                           fmt_bytes(layout.data_bytes),
                           func=lambda: floor_write_oracle(dev, layout, b.rand), prep=dirty, floor=True)]
    b.results["block_setup"] = {"dest": dev, "backing": backing, "source": sdev, "old_fill": old.fill,
                                "old_bytes": old.old_bytes, "old_volume": OldVolume.__doc__.strip()}
    b.run_case("block", "Case 2: block device (loop) -> block device holding old data",
               peers, dev, backing, src)


# ----------------------------------------------------------------------------- floors

FLOOR_AHEAD = 32 * MiB     # WILLNEED window of the read floor


def floor_read(path, ranges):
    """Read *ranges* into one 1 MiB buffer, keeping FLOOR_AHEAD bytes of readahead
    requested with POSIX_FADV_WILLNEED (plain sequential preads of 1 MiB leave the
    disk idle between requests and come out slower than cp and qemu-img here)."""
    fd = os.open(path, os.O_RDONLY)
    mv = memoryview(bytearray(MiB))
    chunks = [(o, min(MiB, e - o)) for s, e in ranges for o in range(s, e, MiB)]
    try:
        ahead = asked = done = 0
        for o, n in chunks:
            while ahead < len(chunks) and asked - done < FLOOR_AHEAD:
                ao, an = chunks[ahead]
                os.posix_fadvise(fd, ao, an, os.POSIX_FADV_WILLNEED)
                asked += an
                ahead += 1
            if os.preadv(fd, [mv[:n]], o) <= 0:
                break
            done += n
    finally:
        os.close(fd)


def floor_start(python, engine):
    """What any run of ours pays before it copies a byte: the interpreter's cold start
    and the engine's imports (sparse.py and blockdev.py), as the benchmark starts ours."""
    code = ("import sys; sys.path.insert(0, %r); import blockdev, sparse" % os.path.dirname(engine))
    subprocess.run([python, "-S", "-c", code], check=True)


def floor_read_extents(path, size):
    fd = os.open(path, os.O_RDONLY)
    try:
        ranges = data_extents(fd, size)
    finally:
        os.close(fd)
    floor_read(path, ranges)


def floor_read_all(path, size):
    floor_read(path, [(0, size)])


def floor_write_file(path, nbytes, rand):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        o = 0
        while o < nbytes:
            n = min(MiB, nbytes - o)
            k = (o // MiB) % (len(rand) // MiB) * MiB
            pwrite_all(fd, rand[k:k + n], o)
            o += n
        os.fsync(fd)
    finally:
        os.close(fd)


def floor_at_once(*jobs):
    """Run the floor's read and write together: does this disk overlap them?"""
    errors = []

    def run_job(job):
        try:
            job()
        except BaseException as e:  # re-raised below
            errors.append(e)
    threads = [threading.Thread(target=run_job, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def floor_write_oracle(dev, layout, rand):
    """Knowing the layout: write only the data slots, punch every other range, fsync."""
    fd = os.open(dev, os.O_WRONLY)
    try:
        zs = None
        for i, k in enumerate(layout.kind + ["D"]):
            if k == "D":
                if zs is not None:
                    if _libc.fallocate(fd, _FALLOC_PUNCH_KEEP, zs * SLOT, (i - zs) * SLOT) != 0:
                        e = ctypes.get_errno()
                        raise OSError(e, os.strerror(e))
                    zs = None
                if i < layout.nslots:
                    k = i % (len(rand) // SLOT) * SLOT
                    pwrite_all(fd, rand[k:k + SLOT], i * SLOT)
            elif zs is None:
                zs = i
        os.fsync(fd)
    finally:
        os.close(fd)


# ----------------------------------------------------------------------------- main

def _sigterm(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--size", type=parse_size, default=4 * GiB, help="source size (default 4G)")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5, >= 1)")
    ap.add_argument("--warm", action="store_true", help="do not drop caches before runs")
    ap.add_argument("--workdir", help="scratch parent dir on a real disk (default /var/tmp)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    ap.add_argument("--json", metavar="FILE", help="save raw results as JSON")
    ap.add_argument("--cases", default="file,block", help="file,block (default both)")
    ap.add_argument("--block-src", choices=("loop", "file"), default="loop",
                    help="case 2 source: a read-only loop device over the image (default) or the file")
    ap.add_argument("--old-fill", choices=("half", "full"), default="half",
                    help="case 2 old data on the reused LUN: half the 1 MiB slots (default) or every slot "
                         "(fully allocated; about 1.5x longer run)")
    ap.add_argument("--peers", help="comma list of peer keys to run (ours,module,dd-sparse,dd-full,cp-auto,"
                                    "cp-always,qemu,qemu-W16)")
    ap.add_argument("--no-floor", action="store_true", help="skip the floor measurements")
    ap.add_argument("--check-all", action="store_true",
                    help="byte-compare after every run (default: first run of each peer)")
    ap.add_argument("--sha256", action="store_true", help="print the source image sha256")
    ap.add_argument("--engine", help="engine file for ours (default plugins/module_utils/sparse.py)")
    ap.add_argument("--engine-b", help="a second engine file, run as the peer ours-b in the same rounds "
                    "(to compare a change with the current engine)")
    venv = os.path.join(HERE, os.pardir, ".venv", "bin", "python")
    ap.add_argument("--module-python", default=venv if os.path.exists(venv) else sys.executable,
                    help="interpreter with ansible-core for the module peer (default: the checkout's .venv, "
                         "else this one); '' skips that peer")
    ap.add_argument("--python", default=sys.executable,
                    help="interpreter for ours (default: this one, %(default)s)")
    a = ap.parse_args(argv)
    if a.rounds < 1:
        ap.error("--rounds must be >= 1")
    cases = [c.strip() for c in a.cases.split(",") if c.strip()]
    if not set(cases) <= {"file", "block"}:
        ap.error("--cases takes file and/or block")

    if os.geteuid() != 0:
        sys.exit("sparse_copy.py must run as root (drop_caches, losetup): "
                 "sudo python3 benchmarks/sparse_copy.py")
    engine = a.engine or os.path.join(HERE, os.pardir, "plugins", "module_utils", "sparse.py")
    if not os.path.isfile(engine):
        sys.exit("engine not found: %s (use --engine PATH)" % os.path.abspath(engine))
    a.engine = os.path.abspath(engine)
    if a.engine_b:
        if not os.path.isfile(a.engine_b):
            sys.exit("engine not found: %s (--engine-b)" % os.path.abspath(a.engine_b))
        a.engine_b = os.path.abspath(a.engine_b)

    parent = a.workdir or "/var/tmp"
    os.makedirs(parent, exist_ok=True)
    fst = fs_type(parent)
    if fst in ("tmpfs", "ramfs") or fst.startswith("overlay"):
        sys.exit("scratch dir %s is on %s, not a real disk: use --workdir DIR" % (parent, fst))
    need = a.size * 2 + a.size // 2 + GiB   # source + dest file or LUN backing + floor file
    st = os.statvfs(parent)
    if st.f_bavail * st.f_frsize < need:
        sys.exit("not enough space in %s: need about %s" % (parent, fmt_bytes(need)))

    # Ctrl-C and SIGTERM both end up in the finally below.
    signal.signal(signal.SIGTERM, _sigterm)
    workdir = tempfile.mkdtemp(prefix="sparse-bench-", dir=parent)
    b = Bench(a)
    b.workdir = workdir
    # the module is imported as ansible_collections.storage.datamotion: link this checkout there
    b.collections = os.path.join(workdir, "collections")
    os.makedirs(os.path.join(b.collections, "ansible_collections", "storage"))
    os.symlink(os.path.abspath(os.path.join(HERE, os.pardir)),
               os.path.join(b.collections, "ansible_collections", "storage", "datamotion"))
    rc = 0
    try:
        qemu = shutil.which("qemu-img")
        if not qemu and shutil.which("apt-get"):
            log("qemu-img not installed: installing qemu-utils from the distribution (apt-get)")
            subprocess.run(["apt-get", "install", "-y", "-q", "qemu-utils"], stdout=subprocess.DEVNULL, check=False)
            qemu = shutil.which("qemu-img")
        if not qemu:
            log("qemu-img not installed: apt-get install qemu-utils  (its peers are skipped)")
        if "block" in cases:
            why = loops_available(workdir)
            if why:
                log("loop devices unavailable (%s): running only the file case" % why)
                cases = [c for c in cases if c != "block"]
        b.results["env"] = {
            "kernel": platform.release(), "python_ours": a.python, "engine": a.engine,
            "workdir": workdir, "fs_type": fst, "warm": a.warm, "rounds": a.rounds,
            "dd": tool_version(["dd", "--version"]), "cp": tool_version(["cp", "--version"]),
            "qemu_img": tool_version([qemu, "--version"]) if qemu else None,
            "cpus": os.cpu_count(), "engine_sha256": file_sha256(a.engine),
        }
        log("scratch: %s (%s); kernel %s; %s; %s" % (
            workdir, fst, platform.release(), b.results["env"]["dd"], b.results["env"]["qemu_img"]))
        log("ours: %s %s (engine %s, sha256 %s)" % (
            a.python, OURS_CLI, a.engine, b.results["env"]["engine_sha256"][:16]))
        src = os.path.join(workdir, "src.img")
        layout = Layout(a.size)
        t0 = time.perf_counter()
        layout.build(src)
        layout.describe(src, a.sha256)
        b.results["source"] = layout.summary()
        log("source %s built in %.1f s: %d x 1 MiB slots shuffled (seed %d): %d random data (%s), "
            "%d written zeros (%s), %d holes (%s); allocated %s; %d SEEK_DATA extents%s" % (
                src, time.perf_counter() - t0, layout.nslots, SRC_SEED, layout.n_data,
                fmt_bytes(layout.data_bytes), layout.n_zero, fmt_bytes(layout.n_zero * SLOT),
                layout.n_hole, fmt_bytes(layout.n_hole * SLOT), fmt_bytes(layout.allocated),
                layout.extents, "; sha256 " + layout.sha256 if layout.sha256 else ""))
        b.rand = memoryview(random.Random(SRC_SEED + 7).randbytes(16 * MiB))   # payload for the write floor
        if "file" in cases:
            case_file(b, src, layout, workdir, qemu)
        if "block" in cases:
            case_block(b, src, layout, workdir, qemu)
    except KeyboardInterrupt:
        log("\ninterrupted: cleaning up")
        rc = 130
    except (BenchError, subprocess.CalledProcessError) as exc:
        log("\nERROR: %s %s" % (exc, getattr(exc, "stderr", "") or ""))
        rc = 1
    finally:
        b.loops.detach_all()
        if a.keep:
            log("kept scratch dir %s" % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
        b.results["elapsed"] = time.monotonic() - b.t_start
        sha = b.results.get("env", {}).get("engine_sha256")
        if sha and os.path.isfile(a.engine) and file_sha256(a.engine) != sha:
            log("WARNING: %s changed during the benchmark: ours ran more than one engine version" % a.engine)
        if a.json:
            with open(a.json, "w") as f:
                json.dump(b.results, f, indent=1, default=str)
            log("raw results: %s" % a.json)
        log("total benchmark time %.0f s" % b.results["elapsed"])
    return rc


if __name__ == "__main__":
    sys.exit(main())
