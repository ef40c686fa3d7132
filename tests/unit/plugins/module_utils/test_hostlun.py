# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""host_lun's topology reader on a fake sysfs tree (a multipath map over two SCSI
paths with a kpartx partition, mounted), and its pure plans. Real loop devices are
exercised by the host_lun integration target."""

from __future__ import annotations

import os

import pytest

from ansible_collections.storage.datamotion.plugins.module_utils.hostlun import (
    Device,
    Host,
    Partition,
    flag_plan,
    normalize_wwn,
    predicted,
    remove_plan,
)

WWN = "600601601234abcd0000000000000001"


@pytest.mark.parametrize("text", [
    "60:06:01:60:12:34:AB:CD:00:00:00:00:00:00:00:01",
    "0x600601601234ABCD0000000000000001",
    "naa.600601601234abcd0000000000000001",
    "wwn-0x600601601234abcd0000000000000001",
    " 600601601234abcd0000000000000001 ",
])
def test_normalize_wwn_spellings(text):
    assert normalize_wwn(text) == WWN


def test_normalize_wwn_naa5():
    assert normalize_wwn("0x5000C500A1B2C3D4") == "5000c500a1b2c3d4"


@pytest.mark.parametrize("text,words", [
    ("", "wwn is empty"),
    ("  ", "wwn is empty"),
    ("60:06:zz", "16 or 32 hex digits"),
    ("0x6006016012", "16 or 32 hex digits"),
    ("3600601601234abcd0000000000000001", "16 or 32 hex digits"),
])
def test_normalize_wwn_refuses(text, words):
    with pytest.raises(ValueError, match=words):
        normalize_wwn(text)


def _write(path, text=""):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def _node(sysfs, name, dev, size=2097152, **files):
    node = os.path.join(sysfs, "class", "block", name)
    _write(os.path.join(node, "dev"), dev)
    _write(os.path.join(node, "size"), str(size))
    _write(os.path.join(node, "queue", "logical_block_size"), "4096")
    for rel, text in files.items():
        _write(os.path.join(node, *rel.split("__")), text)
    os.makedirs(os.path.join(node, "holders"), exist_ok=True)
    os.makedirs(os.path.join(sysfs, "block"), exist_ok=True)
    if not os.path.lexists(os.path.join(sysfs, "block", name)):
        os.symlink(node, os.path.join(sysfs, "block", name))
    return node


def _link(node, kind, other):
    os.makedirs(os.path.join(node, kind), exist_ok=True)
    os.symlink("../../" + other, os.path.join(node, kind, other))


@pytest.fixture
def multipath_host(tmp_path):
    """sdb and sdc (paths of WWN), dm-0 the multipath map over them, dm-1 its
    partition, mounted read-write on /mnt/data."""
    sysfs, dev, proc = str(tmp_path / "sys"), str(tmp_path / "dev"), str(tmp_path / "proc")
    for name, num in (("sdb", "8:16"), ("sdc", "8:32")):
        node = _node(sysfs, name, num, device__wwid="naa." + WWN, device__delete="")
        _link(node, "holders", "dm-0")
    mp = _node(sysfs, "dm-0", "253:0", dm__uuid="mpath-3" + WWN, dm__name="mpatha")
    _link(mp, "slaves", "sdb")
    _link(mp, "slaves", "sdc")
    _link(mp, "holders", "dm-1")
    _node(sysfs, "dm-1", "253:1", size=2095104, dm__uuid="part1-mpath-3" + WWN, dm__name="mpatha1")
    _write(os.path.join(dev, "mapper", "mpatha"))
    _write(os.path.join(dev, "mapper", "mpatha1"))
    _write(os.path.join(proc, "self", "mountinfo"),
           "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
           "36 22 253:1 / /mnt/my\\040data rw,relatime shared:9 - ext4 /dev/mapper/mpatha1 rw\n")
    os.makedirs(os.path.join(dev, "disk", "by-id"))
    return Host(by_id_dir=os.path.join(dev, "disk", "by-id"), sysfs=sysfs, dev=dev, proc=proc), dev


def test_find_multipath_map_by_sysfs_wwid(multipath_host):
    host, dev = multipath_host
    d = host.find(WWN)
    assert d.kind == "multipath"
    assert d.path == os.path.join(dev, "mapper", "mpatha")
    assert d.paths == [os.path.join(dev, "sdb"), os.path.join(dev, "sdc")]
    assert d.partitions == [Partition(os.path.join(dev, "mapper", "mpatha1"), False)]
    assert d.holders == []
    assert d.size_bytes == 2097152 * 512
    assert d.logical_block_size == 4096
    assert d.mounted is True
    assert d.mountpoints == ["/mnt/my data"]
    assert d.mountpoints_rw == ["/mnt/my data"]
    assert set(d.facts()) == {"path", "links", "wwn", "size_bytes", "logical_block_size", "read_only", "holders",
                              "partitions", "mounted", "mountpoints"}


def test_find_nothing(multipath_host):
    host, _dev = multipath_host
    assert host.find("600601601234abcd00000000000000ff") is None


def test_two_paths_without_a_map_are_refused(multipath_host, tmp_path):
    host, _dev = multipath_host
    for name in ("sdb", "sdc"):
        os.unlink(os.path.join(host.sysfs, "class", "block", name, "holders", "dm-0"))
    with pytest.raises(Exception, match="several block devices without a multipath map"):
        host.find(WWN)


def test_mounted_map_is_never_removed_nor_made_read_only(multipath_host):
    host, _dev = multipath_host
    d = host.find(WWN)
    assert any("mounted on /mnt/my data" in r and "force does not unmount" in r for r in remove_plan(d, force=True))
    actions, refusals = flag_plan(d, True)
    assert len(actions) == 4          # the map, its partition, both paths
    assert refusals and "mounted read-write" in refusals[0]


def _dev(**kw):
    base = dict(path="/dev/sdx", links=[], wwn=WWN, size_bytes=1 << 30, logical_block_size=512, read_only=False,
                holders=[], partitions=[Partition("/dev/sdx1", False)], mounted=False, mountpoints=[])
    base.update(kw)
    return Device(**base)


def test_remove_plan_force_overrides_holders_and_openers_only():
    d = _dev(holders=["/dev/dm-5"], open_by=[4242])
    reasons = remove_plan(d, force=False)
    assert any("held by /dev/dm-5" in r for r in reasons)
    assert any("processes 4242" in r for r in reasons)
    assert remove_plan(d, force=True) == []
    assert remove_plan(_dev(kind="other"), force=True)


def test_flag_plan_only_what_differs_and_prediction():
    d = _dev(partitions=[Partition("/dev/sdx1", True)])
    actions, refusals = flag_plan(d, True)
    assert actions == ["set /dev/sdx read-only"] and refusals == []
    assert flag_plan(predicted(d, True), True) == ([], [])
    actions, _refusals = flag_plan(d, False)
    assert actions == ["set /dev/sdx1 read-write"]


def test_rescan_writes_every_scsi_host(tmp_path):
    sysfs = str(tmp_path / "sys")
    for h in ("host0", "host1"):
        _write(os.path.join(sysfs, "class", "scsi_host", h, "scan"))
    host = Host(sysfs=sysfs)
    assert host.rescan() == ["host0", "host1"]
    with open(os.path.join(sysfs, "class", "scsi_host", "host1", "scan")) as f:
        assert f.read() == "- - -"
