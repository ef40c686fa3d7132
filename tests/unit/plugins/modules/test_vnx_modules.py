# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The VNX modules end to end in-process, with only the naviseccli process faked."""

from __future__ import annotations

import pytest

from ansible_collections.storage.datamotion.plugins.modules import (
    vnx_host_access, vnx_info, vnx_snapshot_manage, vnx_volume, vnx_volume_clone)
from ansible_collections.storage.datamotion.tests.unit.plugins.module_utils.vnx import fake_navi as f
from ansible_collections.storage.datamotion.tests.unit.plugins.module_utils.vnx.fake_navi import FakeNavi

CONN = dict(sp_address="192.0.2.10", username="sysadmin", password="secret", naviseccli_path="/opt/test/naviseccli")


@pytest.fixture
def navi(monkeypatch):
    from ansible_collections.storage.datamotion.plugins.module_utils.vnx import client
    from ansible_collections.storage.datamotion.plugins.module_utils.vnx import common
    fake = FakeNavi()
    monkeypatch.setattr(client, "run_naviseccli", lambda cmd, timeout=None: fake.execute(cmd, timeout))
    monkeypatch.setattr(client, "_SECURITY_LEVEL_SET", set())
    # the fake stands in for the naviseccli process, so there is no binary at CONN's path to find
    monkeypatch.setattr(common, "check_naviseccli", lambda module, path: None)
    return fake


def test_volume_create_in_check_mode_writes_nothing(run_module, navi):
    navi.on("storagepool -list", f.pool())
    status, result = run_module(vnx_volume, dict(CONN, name="vol_a", pool="Pool0", size_gb=10), check_mode=True, diff=True)
    assert status == "exit" and result["changed"]
    assert result["actions"] == ["create LUN vol_a (10 GB, thick) in pool Pool0"]
    assert result["diff"]["before"] == {} and result["diff"]["after"]["size_gb"] == 10.0
    assert navi.writes() == []


def test_volume_create(run_module, navi):
    navi.on("storagepool -list", f.pool())
    navi.on("lun -list -all -name vol_a", f.LUN_NOT_FOUND, f.lun(12, "vol_a", gb=10, thin=False))
    status, result = run_module(vnx_volume, dict(CONN, name="vol_a", pool="Pool0", size_gb=10))
    assert status == "exit" and result["changed"]
    assert navi.writes() == ["lun -create -capacity 10 -sq gb -poolName Pool0 -name vol_a -type NonThin"]
    assert result["lun"]["id"] == 12 and result["lun"]["provisioning"] == "thick"


def test_volume_thick_larger_than_the_pool_fails_before_acting(run_module, navi):
    navi.on("storagepool -list", f.pool(available=5.0))
    status, result = run_module(vnx_volume, dict(CONN, name="vol_a", pool="Pool0", size_gb=10))
    assert status == "fail"
    assert "the pool has 5.0 GB available" in result["msg"]
    assert navi.writes() == []


def test_volume_present_and_matching_is_unchanged(run_module, navi):
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a", gb=10))
    status, result = run_module(vnx_volume, dict(CONN, name="vol_a", pool="Pool0", size_gb=10, provisioning="thin"))
    assert status == "exit" and not result["changed"] and result["actions"] == []


def test_volume_delete_with_snap_copies_and_snapshots_names_them(run_module, navi):
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a", smps=(4100,)))
    navi.on("snap -list -res 12", f.snap("snap-as-vol-copy1", 12, attached=(4100,)))
    navi.on("storagegroup -list", "")
    status, result = run_module(vnx_volume, dict(CONN, name="vol_a", state="absent"))
    assert status == "fail"
    assert "snap copies (snapshot mount points) 4100" in result["msg"]
    assert "snapshots snap-as-vol-copy1" in result["msg"]
    assert navi.writes() == []


def test_volume_force_never_deletes_a_managed_snapshot(run_module, navi):
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a"))
    navi.on("snap -list -res 12", f.snap("keep", 12, descr="[managed-by:storage.datamotion]"))
    navi.on("storagegroup -list", "")
    status, result = run_module(vnx_volume, dict(CONN, name="vol_a", state="absent", force=True))
    assert status == "fail" and "managed snapshots: keep" in result["msg"]
    assert navi.writes() == []


def test_volume_force_removes_in_order(run_module, navi):
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a", smps=(4100,)))
    navi.on("lun -list -all -l 4100", f.lun(4100, "copy1", primary="vol_a", attached="snap-as-vol-copy1"))
    navi.on("snap -list -res 12", f.snap("snap-as-vol-copy1", 12, attached=(4100,)))
    navi.on("storagegroup -list", f.storage_group("host1", hlus={1: 4100, 2: 12}))
    navi.on("lun -list -all -l 12", f.lun(12, "vol_a", smps=(4100,)))
    status, result = run_module(vnx_volume, dict(CONN, name="vol_a", state="absent", force=True))
    assert status == "exit" and result["changed"]
    assert navi.writes() == [
        "storagegroup -removehlu -hlu 1 -gname host1 -o",
        "lun -destroy -l 4100 -forceDetach -o",
        "storagegroup -removehlu -hlu 2 -gname host1 -o",
        "snap -destroy -id snap-as-vol-copy1 -o",
        "lun -destroy -l 12 -o",
    ]


def test_snap_copy_is_the_cinder_flow(run_module, navi):
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a"))
    navi.on("lun -list -all -name copy1", f.LUN_NOT_FOUND, f.lun(4100, "copy1", primary="vol_a"))
    status, result = run_module(vnx_volume_clone, dict(CONN, name="copy1", source_lun="vol_a", copy_mode="snap"))
    assert status == "exit" and result["changed"], result
    assert navi.writes() == [
        "snap -create -res 12 -name snap-as-vol-copy1 -allowAutoDelete no -allowReadWrite yes -descr [storage.datamotion:copy]",
        "lun -create -type snap -primaryLun 12 -name copy1",
        "lun -attach -l 4100 -snapName snap-as-vol-copy1",
    ]
    # no more array calls than the Cinder driver's flow (vnx.md 1.2), with the source's migration and one list of
    # the snapshots (the source's count toward the limit, one named like the copy's), read before taking its snapshot
    assert len(navi.array_commands()) <= 8
    assert result["lun"]["attached_snapshot"] == "snap-as-vol-copy1"
    assert result["clone_state"] == "snap_copy"


def test_snap_copy_from_a_snapshot_copies_it_first(run_module, navi):
    navi.on("snap -list -id nightly", f.snap("nightly", 12))
    navi.on("lun -list -all -l 12", f.lun(12, "vol_a"))
    navi.on("lun -list -all -name copy1", f.LUN_NOT_FOUND, f.lun(4100, "copy1", primary="vol_a"))
    status, result = run_module(vnx_volume_clone, dict(CONN, name="copy1", source_snapshot="nightly", copy_mode="snap"))
    assert status == "exit", result
    assert navi.writes() == [
        "snap -copy -id nightly -name snap-as-vol-copy1",
        "snap -modify -id snap-as-vol-copy1 -descr [storage.datamotion:copy] -allowReadWrite yes",
        "lun -create -type snap -primaryLun 12 -name copy1",
        "lun -attach -l 4100 -snapName snap-as-vol-copy1",
    ]


def test_the_256th_snap_copy_is_refused_in_check_mode(run_module, navi):
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a"))
    navi.on("snap -list", "\n".join(f.snap("s%d" % i, 12) for i in range(255)))
    status, result = run_module(vnx_volume_clone, dict(CONN, name="copy1", source_lun="vol_a", copy_mode="snap"),
                                check_mode=True)
    assert status == "fail"
    assert "LUN vol_a has 255 snapshots (its snap copies' snapshots included) and 1 more is needed; a VNX LUN has at most 255" \
        in result["msg"]


def test_a_batch_reads_the_luns_once(run_module, navi):
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a"))
    navi.on("lun -list -all", f.lun(12, "vol_a"),
            "\n".join([f.lun(12, "vol_a")] + [f.lun(4100 + i, "c%d" % i, primary="vol_a") for i in range(3)]))
    status, result = run_module(vnx_volume_clone, dict(CONN, names=["c0", "c1", "c2"], source_lun="vol_a", copy_mode="snap"))
    assert status == "exit", result
    assert navi.commands.count("lun -list -all") == 2
    assert [c["lun"]["id"] for c in result["clones"]] == [4100, 4101, 4102]
    assert len(navi.writes()) == 9


def test_snapshot_of_a_migrating_copy_is_refused(run_module, navi):
    navi.on("lun -list -all -name copy1", f.lun(4100, "copy1", primary="vol_a", attached="tmp-snap-copy1"))
    navi.on("migrate -list -source 4100", f.migration("copy1", 4100, "copy1_dest", 57))
    status, result = run_module(vnx_snapshot_manage, dict(CONN, name="s1", lun="copy1"))
    assert status == "fail" and "LUN copy1 is being migrated to copy1_dest (MIGRATING, 35.0% done)" in result["msg"]
    assert navi.writes() == []


def test_manage_a_snapshot_of_another_lun_is_an_invalid_reference(run_module, navi):
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a"))
    navi.on("snap -list -id s1", f.snap("s1", 13))
    status, result = run_module(vnx_snapshot_manage, dict(CONN, name="s1", lun="vol_a", state="managed"))
    assert status == "fail" and result["error"]["kind"] == "ManageExistingInvalidReference"
    assert navi.writes() == []


def test_manage_records_the_mark_and_returns_the_size(run_module, navi):
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a", gb=9.5))
    navi.on("snap -list -id s1", f.snap("s1", 12, descr="by hand"), f.snap("s1", 12, descr="by hand [managed-by:storage.datamotion]"))
    status, result = run_module(vnx_snapshot_manage, dict(CONN, name="s1", lun="vol_a", state="managed"))
    assert status == "exit" and result["changed"]
    assert navi.writes() == ["snap -modify -id s1 -descr by hand [managed-by:storage.datamotion]"]
    assert result["size_gb"] == 10 and result["snapshot"]["managed"]


def test_host_access_check_mode_plans_group_and_hlu(run_module, navi):
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a"))
    navi.on("storagegroup -messner", "The group name or UID does not match any storage groups for this array")
    navi.on("port -list -hba", f.hbas("host1"))
    status, result = run_module(vnx_host_access, dict(CONN, lun="vol_a", host="host1", access_mode="ro"), check_mode=True)
    assert status == "exit" and result["changed"]
    assert result["connection"]["hlu_planned"] == 0 and result["connection"]["access_mode"] == "ro"
    assert navi.writes() == []


def test_info_subsets(run_module, navi):
    navi.on("lun -list -all", f.lun(12, "vol_a", smps=(4100,)) + "\n" + f.lun(4100, "copy1", primary="vol_a", attached="s"))
    status, result = run_module(vnx_info, dict(CONN, gather_subset=["luns"]))
    assert status == "exit" and not result["changed"]
    assert [lun["name"] for lun in result["luns"]] == ["vol_a", "copy1"]
    assert "snapshots" not in result and navi.array_commands() == ["lun -list -all"]


def test_a_failed_snap_copy_is_undone(run_module, navi):
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a"))
    navi.on("lun -list -all -name copy1", f.LUN_NOT_FOUND, f.lun(4100, "copy1", primary="vol_a"))
    navi.on("lun -attach", "Cannot attach the snapshot. Invalid LUN type.")
    navi.on("lun -list -all -l 4100", f.lun(4100, "copy1", primary="vol_a"))
    status, result = run_module(vnx_volume_clone, dict(CONN, name="copy1", source_lun="vol_a", copy_mode="snap"))
    assert status == "fail" and result["error"]["kind"] == "VNXAttachSnapLunTypeError"
    assert result["undone"] == ["mount point copy1", "snapshot snap-as-vol-copy1"]
    assert navi.writes()[-2:] == ["lun -destroy -l 4100 -forceDetach -o", "snap -destroy -id snap-as-vol-copy1 -o"]


def test_full_copy_without_wait_reports_progress(run_module, navi):
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a"))
    navi.on("lun -list -all -name copy1", f.LUN_NOT_FOUND, f.lun(4100, "copy1", primary="vol_a"))
    navi.on("lun -list -all -name copy1_dest", f.lun(57, "copy1_dest"))
    navi.on("storagepool -list", f.pool())
    navi.on("migrate -list -source 4100", f.migration("copy1", 4100, "copy1_dest", 57, percent=12))
    status, result = run_module(vnx_volume_clone, dict(CONN, name="copy1", source_lun="vol_a", wait=False))
    assert status == "exit", result
    assert navi.writes() == [
        "snap -create -res 12 -name tmp-snap-copy1 -allowAutoDelete no -allowReadWrite yes -descr [storage.datamotion:copy]",
        "lun -create -type snap -primaryLun 12 -name copy1",
        "lun -attach -l 4100 -snapName tmp-snap-copy1",
        "lun -create -capacity 10 -sq gb -poolName Pool0 -name copy1_dest -type Thin",
        "snap -modify -id tmp-snap-copy1 -descr [storage.datamotion:copy %s target %s]" % (WWN_4100, WWN_57),
        "migrate -start -source 4100 -dest 57 -rate high -o",
    ]
    assert result["clone_state"] == "migrating" and result["migration"]["percent_complete"] == 12.0


WWN_4100 = "60:06:01:60:AA:BB:00:00:11:22:33:44:55:66:10:04"
WWN_57 = "60:06:01:60:AA:BB:00:00:11:22:33:44:55:66:00:39"
CG_LIST = "Name:  db-cg\nDescription:\nAllow auto delete:  No\nMember LUN ID(s):  12, 14\nState:  Ready\n"


def test_volume_delete_of_a_consistency_group_member_names_the_group_and_writes_nothing(run_module, navi):
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a", gb=10))
    navi.on("snap -group -list", CG_LIST)
    status, result = run_module(vnx_volume, dict(CONN, name="vol_a", state="absent"))
    assert status == "fail" and "it is a member of consistency group db-cg" in result["msg"]
    assert navi.writes() == []


def test_volume_delete_of_a_member_with_force_leaves_the_group_first(run_module, navi):
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a", gb=10))
    navi.on("lun -list -all -l 12", f.lun(12, "vol_a", gb=10))
    navi.on("snap -group -list", CG_LIST)
    status, result = run_module(vnx_volume, dict(CONN, name="vol_a", state="absent", force=True))
    assert status == "exit" and result["changed"]
    assert navi.writes()[0] == "snap -group -rmmember -id db-cg -res 12"
    assert navi.writes()[-1].startswith("lun -destroy -l 12")


def test_clone_snap_copy_into_a_consistency_group_is_refused_before_any_read(run_module, navi):
    status, result = run_module(vnx_volume_clone, dict(CONN, name="c1", source_lun="vol_a", copy_mode="snap",
                                                       consistency_group="db-cg"))
    assert status == "fail" and "cannot be added to a consistency group" in result["msg"]
    assert "copy_mode=full" in result["msg"]
    assert navi.array_commands() == []


@pytest.mark.parametrize("module, params", [
    (vnx_volume, dict(name="")),
    (vnx_volume_clone, dict(name=" ", source_lun="vol_a")),
    (vnx_snapshot_manage, dict(name="s1", lun="")),
    (vnx_host_access, dict(lun="", host="h1")),
])
def test_empty_names_are_refused_before_the_array_is_asked(run_module, navi, module, params):
    status, result = run_module(module, dict(CONN, **params))
    assert status == "fail" and "is empty" in result["msg"]
    assert navi.array_commands() == []


CG_IN_USE = "The specified consistency group name is already in use. (0x716d8021)"


def test_volume_joins_a_group_that_a_parallel_run_created_meanwhile(run_module, navi):
    # read: no group db-cg; a parallel fork creates it before this run's create
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a", gb=10))
    navi.on("snap -group -list", "")
    navi.on("snap -group -list -id db-cg", "Cannot find the consistency group.")
    navi.on("snap -group -create", CG_IN_USE)
    status, result = run_module(vnx_volume, dict(CONN, name="vol_a", consistency_group="db-cg"))
    assert status == "exit" and result["changed"], result
    assert navi.writes() == ["snap -group -create -name db-cg -res 12", "snap -group -addmember -id db-cg -res 12"]


def test_clone_joins_a_group_that_a_parallel_run_created_meanwhile(run_module, navi):
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a", gb=10))
    navi.on("lun -list -all -name c1", f.lun(14, "c1", gb=10))
    navi.on("storagepool -list", f.pool())
    navi.on("snap -group -list", "")
    navi.on("snap -group -create", CG_IN_USE)
    status, result = run_module(vnx_volume_clone, dict(CONN, name="c1", source_lun="vol_a", consistency_group="db-cg"))
    assert status == "exit" and result["changed"], result
    assert result["consistency_group"] == "db-cg"
    assert navi.writes()[-2:] == ["snap -group -create -name db-cg -res 14", "snap -group -addmember -id db-cg -res 14"]


@pytest.mark.parametrize("module, params", [
    (vnx_volume, dict(name="vol_a", pool="Pool0", size_gb=1, consistency_group=" ")),
    (vnx_volume_clone, dict(name="c1", source_lun="vol_a", consistency_group="  ")),
])
def test_a_blank_consistency_group_is_refused_before_the_array_is_asked(run_module, navi, module, params):
    # '' has a meaning (no group / not managed); blanks are a typo that used to create the LUN or copy first
    status, result = run_module(module, dict(CONN, **params))
    assert status == "fail" and "consistency_group is blank" in result["msg"], result
    assert navi.array_commands() == []


def test_an_empty_consistency_group_still_means_no_group(run_module, navi):
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a", gb=10))
    navi.on("snap -group -list", CG_LIST)
    status, result = run_module(vnx_volume, dict(CONN, name="vol_a", consistency_group=""))
    assert status == "exit" and result["changed"], result
    assert navi.writes() == ["snap -group -rmmember -id db-cg -res 12"]


# ---------------------------------------------------------------- vnx_host_access with a list of LUNs (option luns)
def many_luns(count):
    return "\n".join(f.lun(20 + i, "m%d" % i) for i in range(count))


SG_READ = "storagegroup -messner -list -host -iscsiAttributes -gname host1"
HLU_IN_USE = "Error: storagegroup command failed\nError returned from Agent\nRequested Host LUN Number already in use"


def test_host_access_many_luns_get_the_lowest_free_hlus_in_one_run(run_module, navi):
    navi.on("lun -list -all", many_luns(4))
    navi.on("storagegroup -messner", f.storage_group("host1", hlus={0: 99, 2: 98}))
    status, result = run_module(vnx_host_access, dict(CONN, luns=["m2", "m0", "m1"], host="host1", access_mode="ro"), diff=True)
    assert status == "exit" and result["changed"], result
    # what the group held before the run, not after it
    assert result["diff"]["before"]["hlus"] == {"m2": None, "m0": None, "m1": None}
    assert result["diff"]["after"]["hlus"] == {"m2": 1, "m0": 3, "m1": 4}
    assert navi.array_commands() == ["lun -list -all", SG_READ, "migrate -list",
                                     "storagegroup -addhlu -hlu 1 -alu 22 -gname host1 -o",
                                     "storagegroup -addhlu -hlu 3 -alu 20 -gname host1 -o",
                                     "storagegroup -addhlu -hlu 4 -alu 21 -gname host1 -o"]
    assert [(c["lun_id"], c["hlu"], c["access_mode"], c["added"]) for c in result["connections"]] == [
        (22, 1, "ro", True), (20, 3, "ro", True), (21, 4, "ro", True)]
    assert result["connections"][0]["device_name"] == "wwn-0x60060160aabb00001122334455660016"
    assert result["actions"] == ["add LUN %s to storage group host1 with a free HLU" % n for n in ("m2", "m0", "m1")]
    assert "connection" not in result


def test_host_access_many_luns_in_check_mode_plans_and_diffs_without_writing(run_module, navi):
    navi.on("lun -list -all", many_luns(3))
    navi.on("storagegroup -messner", f.storage_group("host1", hlus={0: 99, 1: 21}))
    status, result = run_module(vnx_host_access, dict(CONN, luns=["m0", "m1", "m2"], host="host1"), check_mode=True, diff=True)
    assert status == "exit" and result["changed"]
    assert [(c["hlu"], c.get("hlu_planned"), c["added"]) for c in result["connections"]] == [(None, 2, True), (1, None, False), (None, 3, True)]
    assert result["diff"] == {"before": {"storage_group": "host1", "hlus": {"m0": None, "m1": 1, "m2": None}},
                              "after": {"storage_group": "host1", "hlus": {"m0": 2, "m1": 1, "m2": 3}}}
    assert result["actions"] == ["add LUN m0 to storage group host1 with a free HLU",
                                 "add LUN m2 to storage group host1 with a free HLU"]
    assert navi.writes() == []


def test_host_access_many_luns_refuses_every_bad_lun_before_writing(run_module, navi):
    navi.on("lun -list -all", many_luns(2))
    navi.on("storagegroup -messner", f.storage_group("host1"))
    navi.on("migrate -list", f.migration("src", 7, "m1", 21))
    status, result = run_module(vnx_host_access, dict(CONN, luns=["m0", "nosuch", "m1", "gone"], host="host1"))
    assert status == "fail"
    assert "LUNs nosuch, gone do not exist" in result["msg"]
    assert "LUN m1 is the destination of the migration of LUN src" in result["msg"]
    assert "m0" not in result["msg"].split(" -- ")[0]
    assert result["actions"] == [] and navi.writes() == []


def test_host_access_many_luns_failing_part_way_says_what_was_exposed(run_module, navi):
    navi.on("lun -list -all", many_luns(3))
    navi.on("storagegroup -messner", f.storage_group("host1"))
    navi.on("storagegroup -addhlu -hlu 1", "Error: storagegroup command failed\nError returned from Agent\nSP B is not responding")
    status, result = run_module(vnx_host_access, dict(CONN, luns=["m0", "m1", "m2"], host="host1"))
    assert status == "fail"
    assert result["actions"] == ["add LUN m0 to storage group host1 with a free HLU"]
    assert "Cannot add LUN m1 as HLU 1 to storage group host1" in result["msg"]
    assert "(Done before the failure: add LUN m0 to storage group host1 with a free HLU.)" in result["msg"]
    assert navi.writes() == ["storagegroup -addhlu -hlu 0 -alu 20 -gname host1 -o",
                             "storagegroup -addhlu -hlu 1 -alu 21 -gname host1 -o"]


def test_host_access_many_luns_retry_a_taken_hlu_per_lun(run_module, navi):
    navi.on("lun -list -all", many_luns(3))
    # the second read of the group: a parallel task took HLU 2 meanwhile
    navi.on("storagegroup -messner", f.storage_group("host1", hlus={0: 99}), f.storage_group("host1", hlus={0: 99, 1: 20, 2: 97}))
    navi.on("storagegroup -addhlu -hlu 2 -alu 21", HLU_IN_USE)
    status, result = run_module(vnx_host_access, dict(CONN, luns=["m0", "m1", "m2"], host="host1"))
    assert status == "exit", result
    hlus = [c["hlu"] for c in result["connections"]]
    # m1 lost HLU 2 and was retried on another free one (client.attach_to_storage_group spreads retries)
    assert hlus[0] == 1 and len(set(hlus)) == 3 and not set(hlus[1:]) & {0, 1, 2}
    assert navi.writes() == ["storagegroup -addhlu -hlu 1 -alu 20 -gname host1 -o",
                             "storagegroup -addhlu -hlu 2 -alu 21 -gname host1 -o",
                             "storagegroup -addhlu -hlu %d -alu 21 -gname host1 -o" % hlus[1],
                             "storagegroup -addhlu -hlu %d -alu 22 -gname host1 -o" % hlus[2]]


def test_host_access_many_luns_absent_removes_those_in_the_group(run_module, navi):
    navi.on("lun -list -all", many_luns(3))
    navi.on("storagegroup -messner", f.storage_group("host1", hlus={1: 20, 4: 22, 5: 99}))
    navi.on("lun -list -all -l 20", f.lun(20, "m0"))
    navi.on("lun -list -all -l 22", f.lun(22, "m2"))
    status, result = run_module(vnx_host_access, dict(CONN, luns=["m0", "m1", "m2", "nosuch"], host="host1", state="absent"), diff=True)
    assert status == "exit" and result["changed"]
    assert result["actions"] == ["remove LUN m0 (HLU 1) from storage group host1", "remove LUN m2 (HLU 4) from storage group host1"]
    assert navi.writes() == ["storagegroup -removehlu -hlu 1 -gname host1 -o", "storagegroup -removehlu -hlu 4 -gname host1 -o"]
    assert result["connections"] == []
    assert result["diff"]["after"]["hlus"] == {"m0": None, "m1": None, "m2": None, "nosuch": None}


@pytest.mark.parametrize("params, words", [
    (dict(luns=["m0", "m1", "m0"], host="host1"), "luns names m0 more than once"),
    (dict(luns=["m0"], lun="m0", host="host1"), "mutually exclusive"),
    (dict(host="host1"), "one of the following is required: lun, luns"),
    (dict(luns=["m0", " "], host="host1"), "luns is empty"),
])
def test_host_access_many_luns_bad_options_are_refused_before_the_array_is_asked(run_module, navi, params, words):
    status, result = run_module(vnx_host_access, dict(CONN, **params))
    assert status == "fail" and words in result["msg"], result["msg"]
    assert navi.array_commands() == []


def test_host_access_an_empty_list_changes_nothing(run_module, navi):
    status, result = run_module(vnx_host_access, dict(CONN, luns=[], host="host1"))
    assert status == "exit" and not result["changed"] and result["connections"] == [] and result["actions"] == []
    assert navi.array_commands() == []
