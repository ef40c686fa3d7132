# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Block-device topology (plugins/module_utils/blockdev.py): where a volume's bytes
live. Real files and loop devices; device-mapper is not in every kernel, so its
holders/slaves layout is also read from a sysfs tree built like the kernel's."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from ansible_collections.storage.datamotion.plugins.module_utils import blockdev
from ansible_collections.storage.datamotion.tests.unit.plugins.module_utils.sparse_helpers import MIB


def image(path, size):
    with open(path, "wb") as f:
        f.truncate(size)
    return path


def test_regular_file_is_its_own_store(tmp_path):
    f = image(tmp_path / "a.img", 1 * MIB)
    p = blockdev.placement(str(f))
    st = os.stat(f)
    assert p.exact and p.spans == [blockdev.Span(("file", st.st_dev, st.st_ino), 0, blockdev.END, str(f))]
    assert p.file_span == p.spans[0]
    hard = tmp_path / "hard.img"
    os.link(f, hard)
    assert blockdev.overlap(p, blockdev.placement(str(hard)))
    assert blockdev.overlap(p, blockdev.placement(str(image(tmp_path / "b.img", 1 * MIB)))) is None


def test_loop_device_is_its_range_of_the_backing_file(tmp_path, losetup):
    f = image(tmp_path / "a.img", 8 * MIB)
    dev = losetup("--offset", 1 * MIB, "--sizelimit", 3 * MIB, f)
    span = blockdev.device_extent(dev)
    st = os.stat(f)
    assert span == blockdev.Span(("file", st.st_dev, st.st_ino), 1 * MIB, 4 * MIB, str(f))
    assert blockdev.loops_backed_by(st) == [dev]
    assert blockdev.loops_backed_by(os.stat(image(tmp_path / "other.img", MIB))) == []


def test_loop_over_a_loop_device_adds_offsets(tmp_path, losetup):
    f = image(tmp_path / "a.img", 8 * MIB)
    lower = losetup("--offset", 1 * MIB, f)
    upper = losetup("--offset", 2 * MIB, "--sizelimit", 1 * MIB, lower)
    span = blockdev.device_extent(upper)
    assert (span.start, span.end, span.path) == (3 * MIB, 4 * MIB, str(f))
    assert blockdev.overlap(blockdev.placement(upper), blockdev.placement(lower))
    # a loop device over a device is not its backing *file*: only the file is listed
    assert blockdev.loops_backed_by(os.stat(f)) == [lower]


def test_loop_partition_adds_its_start(tmp_path, losetup):
    f = image(tmp_path / "disk.img", 16 * MIB)
    dev = losetup("--offset", 1 * MIB, f)
    # tell the kernel about a partition at sector 2048, 4 MiB long, without a table
    addpart = shutil.which("addpart") or "/usr/bin/addpart"
    if not os.path.exists(addpart):
        pytest.skip("addpart (util-linux) is not installed")
    for _attempt in range(20):     # a loop device detached just before may still be settling
        r = subprocess.run([addpart, dev, "1", "2048", str(4 * MIB // 512)], capture_output=True, text=True, check=False)
        if r.returncode == 0 or "busy" not in r.stderr:
            break
        subprocess.run(["sleep", "0.1"], check=False)
    if r.returncode != 0 or not os.path.exists(dev + "p1"):
        pytest.skip("cannot add a partition to %s: %s" % (dev, r.stderr.strip()))
    try:
        span = blockdev.device_extent(dev + "p1")
        assert (span.start, span.end, span.path) == (1 * MIB + 2048 * 512, 1 * MIB + 2048 * 512 + 4 * MIB, str(f))
        p = blockdev.placement(dev + "p1")
        assert p.via == "partition"
        assert blockdev.overlap(p, blockdev.placement(dev))
    finally:
        # a partition added by hand outlives the loop device's attachment: remove it
        subprocess.run([shutil.which("delpart") or "/usr/bin/delpart", dev, "1"], capture_output=True, check=False)


def _fake_sysfs(root, devices):
    """A sysfs tree: devices = {name: dict(dev='M:m', size=sectors, slaves=[...],
    parent=name, start=sectors, backing=path, offset=bytes)}."""
    for name, d in devices.items():
        node = root / "devices" / "virtual" / "block" / (d["parent"] + "/" + name if "parent" in d else name)
        node.mkdir(parents=True, exist_ok=True)
        (node / "dev").write_text(d["dev"] + "\n")
        if "wwid" in d:
            (node / "wwid").write_text(d["wwid"] + "\n")
        (node / "size").write_text("%d\n" % d["size"])
        if "parent" in d:
            (node / "partition").write_text("1\n")
            (node / "start").write_text("%d\n" % d["start"])
        if "backing" in d:
            (node / "loop").mkdir()
            (node / "loop" / "backing_file").write_text(d["backing"] + "\n")
            (node / "loop" / "offset").write_text("%d\n" % d.get("offset", 0))
            (node / "loop" / "sizelimit").write_text("0\n")
        (node / "slaves").mkdir(exist_ok=True)
        (node / "holders").mkdir(exist_ok=True)
        link = root / "dev" / "block" / d["dev"]
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(node)
        if "parent" not in d:
            (root / "block").mkdir(exist_ok=True)
            (root / "block" / name).symlink_to(node)
    for name, d in devices.items():
        for slave in d.get("slaves", []):
            node = (root / "dev" / "block" / d["dev"]).resolve()
            (node / "slaves" / slave).symlink_to((root / "dev" / "block" / devices[slave]["dev"]).resolve())
            holders = (root / "dev" / "block" / devices[slave]["dev"]).resolve() / "holders"
            (holders / name).symlink_to(node)


class _St:
    def __init__(self, major, minor):
        self.st_mode = 0o060600
        self.st_rdev = os.makedev(major, minor)


def test_device_mapper_covers_its_slaves(tmp_path, monkeypatch):
    """dm-0 is built on loop0 and on partition sdb1 (a linear map whose offsets sysfs
    does not say): it overlaps both wholly, and neither a sibling of sdb1 nor
    another disk."""
    backing = image(tmp_path / "a.img", 4 * MIB)
    sysfs = tmp_path / "sys"
    _fake_sysfs(sysfs, {
        "loop0": dict(dev="7:0", size=8192, backing=str(backing)),
        "sdb": dict(dev="8:16", size=204800),
        "sdb1": dict(dev="8:17", size=2048, parent="sdb", start=2048),
        "sdb2": dict(dev="8:18", size=2048, parent="sdb", start=4096),
        "sdc": dict(dev="8:32", size=204800),
        "dm-0": dict(dev="253:0", size=4096, slaves=["loop0", "sdb1"]),
    })
    monkeypatch.setattr(blockdev, "SYSFS", str(sysfs))
    monkeypatch.setattr(blockdev, "DEV", str(tmp_path / "dev"))
    dm = blockdev.placement("/dev/dm-0", _St(253, 0))
    assert not dm.exact and dm.file_span is None and dm.via == "holders"
    st = os.stat(backing)
    assert blockdev.Span(("file", st.st_dev, st.st_ino), 0, 4 * MIB, str(backing)) in dm.spans
    for major, minor, expect in ((7, 0, True), (8, 16, True), (8, 17, True), (8, 18, False), (8, 32, False)):
        other = blockdev.placement("/dev/x", _St(major, minor))
        assert bool(blockdev.overlap(dm, other)) is expect, (major, minor)
    # sdb1 is exactly its range of sdb; the disk is its own store
    p = blockdev.placement("/dev/sdb1", _St(8, 17))
    assert p.exact and p.spans == [blockdev.Span(("disk", 8, 16), 2048 * 512, 4096 * 512, "/dev/sdb")]
    assert blockdev.placement("/dev/sdb2", _St(8, 18)).spans[0].start == 4096 * 512
    assert blockdev.loops_backed_by(st) == ["/dev/loop0"]
    assert blockdev.queue_attr(_St(8, 17), "write_zeroes_max_bytes") is None


def test_deleted_backing_file_is_not_mapped(tmp_path, monkeypatch):
    sysfs = tmp_path / "sys"
    _fake_sysfs(sysfs, {"loop3": dict(dev="7:3", size=2048, backing=str(tmp_path / "gone.img") + " (deleted)")})
    monkeypatch.setattr(blockdev, "SYSFS", str(sysfs))
    monkeypatch.setattr(blockdev, "DEV", str(tmp_path / "dev"))
    p = blockdev.placement("/dev/loop3", _St(7, 3))
    assert p.file_span is None and not p.exact
    assert p.spans[0].store == ("disk", 7, 3)


def test_backing_path_naming_another_file_is_not_trusted(tmp_path, losetup):
    """sysfs gives the backing file's path; when that path names another file (here:
    the file was deleted and a file with sysfs's ' (deleted)' name put there), the
    driver's own device and inode decide, and the device has no map."""
    f = tmp_path / "a.img"
    with open(f, "wb") as out:
        out.write(b"\x01" * (1 * MIB))
    dev = losetup(f)
    os.unlink(f)
    impostor = tmp_path / "a.img (deleted)"
    image(impostor, 1 * MIB)
    p = blockdev.placement(dev)
    assert p.file_span is None and not p.exact
    assert blockdev.loops_backed_by(os.stat(impostor)) == []


def test_logical_volumes_of_one_group_are_apart(tmp_path, monkeypatch):
    """Two device-mapper devices on the same physical volume (two LVs of one VG) do
    not share bytes as far as sysfs can tell, so a copy between them, or to a file on
    one of them, is allowed; a device built on one of them (dm-crypt over an LV)
    shares its bytes, and so does the physical volume under them."""
    sysfs = tmp_path / "sys"
    _fake_sysfs(sysfs, {
        "sdb": dict(dev="8:16", size=204800),
        "sdb1": dict(dev="8:17", size=200000, parent="sdb", start=2048),
        "dm-0": dict(dev="253:0", size=4096, slaves=["sdb1"]),
        "dm-1": dict(dev="253:1", size=4096, slaves=["sdb1"]),
        "dm-2": dict(dev="253:2", size=4000, slaves=["dm-0"]),
    })
    monkeypatch.setattr(blockdev, "SYSFS", str(sysfs))
    monkeypatch.setattr(blockdev, "DEV", str(tmp_path / "dev"))
    lv0, lv1, crypt = (blockdev.placement("/dev/x", _St(253, n)) for n in (0, 1, 2))
    assert blockdev.overlap(lv0, lv1) is None and blockdev.overlap(lv1, lv0) is None
    assert blockdev.overlap(crypt, lv0) and blockdev.overlap(lv0, crypt)
    assert blockdev.overlap(crypt, lv1) is None
    for pv in (blockdev.placement("/dev/x", _St(8, 17)), blockdev.placement("/dev/x", _St(8, 16))):
        assert blockdev.overlap(pv, lv0) and blockdev.overlap(lv1, pv)
    assert os.makedev(8, 17) in crypt.below and os.makedev(253, 0) in crypt.below


def test_two_paths_to_one_lun_are_one_store(tmp_path, monkeypatch):
    """sdc and sdd are two paths to one LUN (same naa. WWID, no multipathd): copying
    one onto the other is a copy onto itself. A vendor-only t10 id is not trusted to
    be unique."""
    sysfs = tmp_path / "sys"
    _fake_sysfs(sysfs, {
        "sdc": dict(dev="8:32", size=204800, wwid="naa.600601601f2034004a5b9b5d1a2be811"),
        "sdd": dict(dev="8:48", size=204800, wwid="naa.600601601f2034004a5b9b5d1a2be811"),
        "sdd1": dict(dev="8:49", size=2048, parent="sdd", start=2048),
        "sde": dict(dev="8:64", size=204800, wwid="naa.600601601f2034004a5b9b5d1a2be812"),
        "sdf": dict(dev="8:80", size=204800, wwid="t10.QEMU    QEMU HARDDISK"),
        "sdg": dict(dev="8:96", size=204800, wwid="t10.QEMU    QEMU HARDDISK"),
    })
    monkeypatch.setattr(blockdev, "SYSFS", str(sysfs))
    monkeypatch.setattr(blockdev, "DEV", str(tmp_path / "dev"))
    sdc, sdd, sdd1, sde, sdf, sdg = (blockdev.placement("/dev/x", _St(8, m)) for m in (32, 48, 49, 64, 80, 96))
    assert blockdev.overlap(sdc, sdd) and blockdev.overlap(sdd1, sdc)
    assert blockdev.overlap(sdc, sde) is None
    assert blockdev.overlap(sdf, sdg) is None
