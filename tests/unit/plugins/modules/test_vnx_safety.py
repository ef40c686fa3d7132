# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The VNX modules never act on a LUN the user did not name, and never read a fault as "absent"."""

from __future__ import annotations

import pytest

from ansible.module_utils.common.warnings import get_warning_messages

from ansible_collections.storage.datamotion.plugins.modules import (
    vnx_host_access, vnx_info, vnx_snapshot_manage, vnx_volume, vnx_volume_clone)
from ansible_collections.storage.datamotion.tests.unit.plugins.module_utils.vnx import fake_navi as f
from ansible_collections.storage.datamotion.tests.unit.plugins.modules.test_vnx_modules import CONN, navi  # noqa: F401 pylint: disable=unused-import


@pytest.mark.parametrize("copy_mode", ["snap", "full"])
def test_an_empty_names_list_changes_nothing_and_reads_no_lun(run_module, navi, copy_mode):  # noqa: F811
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a"))
    navi.on("lun -list -all", f.lun(0, "db01") + "\n" + f.lun(12, "vol_a"))
    status, result = run_module(vnx_volume_clone, dict(CONN, names=[], source_lun="vol_a", copy_mode=copy_mode,
                                                       consistency_group="db-cg" if copy_mode == "full" else None))
    assert status == "exit" and not result["changed"], result
    assert result["clones"] == [] and result["actions"] == []
    assert navi.writes() == []
    assert not [c for c in navi.array_commands() if c.startswith("lun -list -all -l")]


SG_NOT_FOUND = "The group name or UID does not match any storage groups for this array"
READ_FAULT = "Error: lun -list command failed.\nSP A: An internal error occurred while reading the LUNs. (0x712d8001)"


@pytest.mark.parametrize("module, params", [
    (vnx_volume, dict(name="vol_a", state="absent")),
    (vnx_volume, dict(name="vol_a", state="absent", force=True)),
    (vnx_volume_clone, dict(name="copy1", source_lun="vol_a", copy_mode="snap")),
])
def test_a_lun_read_fault_is_not_absence(run_module, navi, module, params):  # noqa: F811
    navi.on("lun -list", READ_FAULT)
    status, result = run_module(module, dict(CONN, **params))
    assert status == "fail", result
    assert "0x712d8001" in result["msg"] and navi.writes() == []


def test_a_snapshot_read_fault_is_not_absence(run_module, navi):  # noqa: F811
    navi.on("snap -list", "Error: snap -list command failed.\nSP A: Snapshot service is busy. (0x716d8001)")
    status, result = run_module(vnx_snapshot_manage, dict(CONN, name="s1", state="absent"))
    assert status == "fail", result
    assert "0x716d8001" in result["msg"] and navi.writes() == []


def test_info_fails_on_a_read_fault_instead_of_listing_nothing(run_module, navi):  # noqa: F811
    navi.on("lun -list -all", READ_FAULT)
    status, result = run_module(vnx_info, dict(CONN, gather_subset=["luns"]))
    assert status == "fail" and "0x712d8001" in result["msg"], result


def test_info_fails_when_the_agent_answers_nothing(run_module, navi):  # noqa: F811
    navi.on("getagent", "")
    status, result = run_module(vnx_info, dict(CONN, gather_subset=["system"]))
    assert status == "fail" and "naviseccli printed nothing" in result["msg"], result


def test_the_arrays_not_found_answer_is_still_absence(run_module, navi):  # noqa: F811
    status, result = run_module(vnx_volume, dict(CONN, name="vol_a", state="absent"))
    assert status == "exit" and not result["changed"], result


def script(tmp_path, body):
    path = tmp_path / "naviseccli"
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return str(path)


def test_a_naviseccli_that_fails_on_stderr_only_is_a_failure(run_module, tmp_path, monkeypatch):
    from ansible_collections.storage.datamotion.plugins.module_utils.vnx import client
    monkeypatch.setattr(client, "_SECURITY_LEVEL_SET", set())
    path = script(tmp_path, 'echo "naviseccli: error while loading shared libraries: libssl.so.1.0.0" >&2; exit 127')
    status, result = run_module(vnx_info, dict(CONN, naviseccli_path=path, gather_subset=["all"]))
    assert status == "fail", result
    assert "status 127" in result["msg"] and "libssl" in result["msg"]


def test_the_timeout_ends_a_hung_naviseccli(run_module, tmp_path, monkeypatch):
    from ansible_collections.storage.datamotion.plugins.module_utils.vnx import client
    monkeypatch.setattr(client, "_SECURITY_LEVEL_SET", set())
    path = script(tmp_path, 'case "$*" in *security*) echo low; exit 0;; esac\nexec sleep 600')
    status, result = run_module(vnx_volume, dict(CONN, naviseccli_path=path, timeout=1, name="vol_a", state="absent"))
    assert status == "fail", result
    assert result["error"]["kind"] == "NaviseccliTimeoutError" and "within 1 seconds" in result["msg"]


def test_storops_warnings_never_show_the_password(capsys, monkeypatch):
    import logging
    from ansible_collections.storage.datamotion.plugins.module_utils.vnx import client
    client.VnxClient("192.0.2.10", username="sysadmin", password="s3cr3t-pw", naviseccli_path="/bin/false")
    logging.getLogger("storops.vnx.navi_command").warning(
        "terminate timeout command: %s", "naviseccli -h 192.0.2.10 -user sysadmin -password s3cr3t-pw lun -list")
    err = capsys.readouterr().err
    assert "terminate timeout command" in err and "s3cr3t-pw" not in err


WWN_4100 = "60:06:01:60:AA:BB:00:00:11:22:33:44:55:66:10:04"
WWN_57 = "60:06:01:60:AA:BB:00:00:11:22:33:44:55:66:00:39"


def snap_copy_with_a_dest(navi, descr=""):  # noqa: F811
    """copy1: a snap copy of vol_a; copy1_dest: a LUN of 2 GB (a user's, unless the snapshot's mark says otherwise)."""
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a", gb=1, smps=(4100,)))
    navi.on("lun -list -all -name copy1", f.lun(4100, "copy1", gb=1, primary="vol_a", attached="snap-as-vol-copy1"))
    navi.on("lun -list -all -name copy1_dest", f.lun(57, "copy1_dest", gb=2))
    navi.on("snap -list -id snap-as-vol-copy1", f.snap("snap-as-vol-copy1", 12, attached=(4100,), descr=descr))
    navi.on("snap -list -res 4100", "")
    navi.on("storagepool -list", f.pool())


@pytest.mark.parametrize("check_mode", [False, True])
def test_a_users_dest_lun_is_never_consumed_as_the_migration_target(run_module, navi, check_mode):  # noqa: F811
    snap_copy_with_a_dest(navi)
    status, result = run_module(vnx_volume_clone, dict(CONN, name="copy1", source_lun="vol_a", copy_mode="full"),
                                check_mode=check_mode)
    assert status == "fail", result
    assert "LUN copy1_dest exists and this collection did not make it" in result["msg"]
    assert navi.writes() == []


def test_a_dest_another_copys_mark_names_is_never_consumed(run_module, navi):  # noqa: F811
    snap_copy_with_a_dest(navi, descr="[storage.datamotion:copy %s target %s]" % (WWN_4100, "60:06:01:60:AA:BB:00:00:11:22:33:44:55:66:00:40"))
    status, result = run_module(vnx_volume_clone, dict(CONN, name="copy1", source_lun="vol_a", copy_mode="full"))
    assert status == "fail" and "did not make it" in result["msg"], result
    assert navi.writes() == []


def test_the_target_this_module_made_and_marked_is_resumed(run_module, navi):  # noqa: F811
    snap_copy_with_a_dest(navi, descr="[storage.datamotion:copy %s target %s]" % (WWN_4100, WWN_57))
    navi.on("migrate -list -source 4100", f.NOT_MIGRATING, f.migration("copy1", 4100, "copy1_dest", 57, percent=5))
    status, result = run_module(vnx_volume_clone, dict(CONN, name="copy1", source_lun="vol_a", copy_mode="full", wait=False))
    assert status == "exit" and result["changed"], result
    assert navi.writes() == ["migrate -start -source 4100 -dest 57 -rate high -o"]


def test_a_copy_of_a_managed_snapshot_is_not_managed(run_module, navi):  # noqa: F811
    navi.on("snap -list -id nightly", f.snap("nightly", 12, descr="[managed-by:storage.datamotion]"))
    navi.on("lun -list -all -l 12", f.lun(12, "vol_a"))
    navi.on("lun -list -all -name copy1", f.LUN_NOT_FOUND, f.lun(4100, "copy1", primary="vol_a"))
    status, result = run_module(vnx_volume_clone, dict(CONN, name="copy1", source_snapshot="nightly", copy_mode="snap"))
    assert status == "exit", result
    assert "snap -modify -id snap-as-vol-copy1 -descr [storage.datamotion:copy] -allowReadWrite yes" in navi.writes()


@pytest.mark.parametrize("descr, deleted", [
    ("[storage.datamotion:copy %s target %s]" % (WWN_4100, WWN_57), True),
    ("", False),  # not provably ours: a user's snapshot that happens to have the name stays
    ("[storage.datamotion:copy %s target %s]" % (WWN_57, WWN_4100), False),
])
def test_deleting_a_finished_async_copy_deletes_its_temporary_snapshot(run_module, navi, descr, deleted):  # noqa: F811
    navi.on("lun -list -all -name copy1", f.lun(4100, "copy1"))
    navi.on("lun -list -all -l 4100", f.lun(4100, "copy1"))
    navi.on("snap -list -res 4100", "")
    navi.on("storagegroup -list", "")
    navi.on("snap -list -id tmp-snap-copy1", f.snap("tmp-snap-copy1", 12, descr=descr))
    status, result = run_module(vnx_volume, dict(CONN, name="copy1", state="absent"))
    assert status == "exit" and result["changed"], result
    assert ("snap -destroy -id tmp-snap-copy1 -o" in navi.writes()) == deleted


def test_the_other_sp_answers_when_sp_a_is_down(run_module, navi):  # noqa: F811
    navi.down.add("192.0.2.10")
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a"))
    navi.on("lun -list -all -l 12", f.lun(12, "vol_a"))
    navi.on("snap -list -res 12", "")
    navi.on("storagegroup -list", "")
    status, result = run_module(vnx_volume, dict(CONN, sp_b_address="192.0.2.11", name="vol_a", state="absent"))
    assert status == "exit" and result["changed"], result
    assert navi.writes() == ["lun -destroy -l 12 -o"]
    assert navi.addresses[-1] == "192.0.2.11"


def test_without_the_other_sp_the_task_fails_and_says_so(run_module, navi):  # noqa: F811
    navi.down.add("192.0.2.10")
    status, result = run_module(vnx_volume, dict(CONN, name="vol_a", state="absent"))
    assert status == "fail" and "sp_b_address" in result["msg"], result


@pytest.mark.parametrize("keep_for", ["2m", "2M", "7", "1.5d", "-1d", "0h", "2 weeks"])
def test_an_ambiguous_or_invalid_keep_for_is_refused_before_the_array_is_asked(run_module, navi, keep_for):  # noqa: F811
    status, result = run_module(vnx_snapshot_manage, dict(CONN, name="s1", lun="vol_a", keep_for=keep_for))
    assert status == "fail" and "keep_for is" in result["msg"], result
    assert navi.array_commands() == []


def test_keep_for_in_days_reaches_the_array(run_module, navi):  # noqa: F811
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a"))
    navi.on("snap -list -id s1", f.SNAP_NOT_FOUND, f.snap("s1", 12))
    status, result = run_module(vnx_snapshot_manage, dict(CONN, name="s1", lun="vol_a", keep_for="60d"))
    assert status == "exit" and result["changed"], result
    assert any("-keepFor 60d" in w for w in navi.writes())


@pytest.fixture
def no_pause(monkeypatch):
    from ansible_collections.storage.datamotion.plugins.module_utils.vnx import common
    monkeypatch.setattr(common.time, "sleep", lambda seconds: None)
    monkeypatch.setattr(vnx_volume_clone.time, "sleep", lambda seconds: None)


def test_the_loser_of_a_parallel_create_of_one_lun_reports_success(run_module, navi, no_pause):  # noqa: F811
    navi.on("storagepool -list", f.pool())
    navi.on("lun -list -all -name vol_a", f.LUN_NOT_FOUND, f.lun(12, "vol_a", gb=10, thin=False))
    navi.on("lun -create", "The LUN name or number is already in use. (0x712d8d04)")
    status, result = run_module(vnx_volume, dict(CONN, name="vol_a", pool="Pool0", size_gb=10))
    assert status == "exit" and not result["changed"], result
    assert result["lun"]["id"] == 12
    assert len(navi.writes()) == 1


def test_the_loser_of_a_parallel_create_of_one_snapshot_reports_success(run_module, navi, no_pause):  # noqa: F811
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a"))
    navi.on("snap -list -id s1", f.SNAP_NOT_FOUND, f.snap("s1", 12))
    navi.on("snap -create", "The specified snapshot name is already in use. (0x716d8005)")
    status, result = run_module(vnx_snapshot_manage, dict(CONN, name="s1", lun="vol_a"))
    assert status == "exit" and not result["changed"], result
    assert navi.writes() == ["snap -create -res 12 -name s1 -allowAutoDelete no -allowReadWrite yes"]


def test_the_loser_of_parallel_identical_snap_copies_reports_success(run_module, navi, no_pause):  # noqa: F811
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a"))
    navi.on("lun -list -all -name copy1", f.LUN_NOT_FOUND,
            f.lun(4100, "copy1", primary="vol_a", attached="snap-as-vol-copy1"))
    navi.on("snap -create", "The specified snapshot name is already in use. (0x716d8005)")
    status, result = run_module(vnx_volume_clone, dict(CONN, name="copy1", source_lun="vol_a", copy_mode="snap"))
    assert status == "exit" and not result["changed"], result
    assert result["clone_state"] == "snap_copy" and result["snapshot"] == "snap-as-vol-copy1"
    assert navi.writes() == ["snap -create -res 12 -name snap-as-vol-copy1 -allowAutoDelete no -allowReadWrite yes -descr [storage.datamotion:copy]"]


def test_force_deletes_a_lun_with_a_snap_copy_of_a_snap_copy(run_module, navi):  # noqa: F811
    # b is a snap copy of vol_a; c a snap copy of b (its mount point is on vol_a, its snapshot of b)
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a", smps=(4100, 4101)))
    navi.on("lun -list -all -l 12", f.lun(12, "vol_a", smps=(4100, 4101)))
    navi.on("lun -list -all -l 4100", f.lun(4100, "b", primary="vol_a", attached="snap-as-vol-b"))
    navi.on("lun -list -all -l 4101", f.lun(4101, "c", primary="vol_a", attached="snap-as-vol-c"))
    navi.on("snap -list -res 12", f.snap("snap-as-vol-b", 12, attached=(4100,)))
    navi.on("snap -list", f.snap("snap-as-vol-b", 12, attached=(4100,)) + "\n" + f.snap("snap-as-vol-c", 4100, attached=(4101,)))
    navi.on("storagegroup -list", "")
    status, result = run_module(vnx_volume, dict(CONN, name="vol_a", state="absent", force=True))
    assert status == "exit" and result["changed"], result
    writes = navi.writes()
    # the array refuses to delete an attached snapshot, and a LUN with snapshots
    assert writes.index("lun -destroy -l 4101 -forceDetach -o") < writes.index("snap -destroy -id snap-as-vol-c -o")
    assert writes.index("snap -destroy -id snap-as-vol-c -o") < writes.index("lun -destroy -l 4100 -forceDetach -o")
    assert writes[-1] == "lun -destroy -l 12 -o"


def test_a_leftover_snapshot_is_replaced_not_reused_and_the_task_says_so(run_module, navi, no_pause):  # noqa: F811
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a", smps=(4100,)))
    navi.on("lun -list -all -name copy1", f.lun(4100, "copy1", primary="vol_a"))
    navi.on("snap -list -id snap-as-vol-copy1", f.snap("snap-as-vol-copy1", 12, descr="[storage.datamotion:copy]"))
    status, result = run_module(vnx_volume_clone, dict(CONN, name="copy1", source_lun="vol_a", copy_mode="snap"))
    assert status == "exit" and result["changed"], result
    assert navi.writes() == ["snap -destroy -id snap-as-vol-copy1 -o",
                             "snap -create -res 12 -name snap-as-vol-copy1 -allowAutoDelete no -allowReadWrite yes -descr [storage.datamotion:copy]",
                             "lun -attach -l 4100 -snapName snap-as-vol-copy1"]
    assert any("left by an interrupted run" in w for w in get_warning_messages())


def test_an_existing_full_copy_that_differs_from_the_request_is_reported(run_module, navi):  # noqa: F811
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a", gb=10))
    navi.on("lun -list -all -name copy1", f.lun(14, "copy1", gb=10, thin=True))
    navi.on("storagepool -list", f.pool())
    status, result = run_module(vnx_volume_clone, dict(CONN, name="copy1", source_lun="vol_a", provisioning="thick"))
    assert status == "exit" and not result["changed"], result
    assert any("provisioning is thin, thick was asked" in w for w in get_warning_messages())


def test_check_mode_predicts_the_256th_snapshot_is_refused(run_module, navi):  # noqa: F811
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a"))
    navi.on("snap -list", "\n".join(f.snap("s%d" % i, 12) for i in range(255)))
    navi.on("snap -list -id one-more", f.SNAP_NOT_FOUND)
    status, result = run_module(vnx_snapshot_manage, dict(CONN, name="one-more", lun="vol_a"), check_mode=True)
    assert status == "fail" and "at most 255" in result["msg"], result


def test_check_mode_predicts_a_thick_lun_with_snapshots_cannot_grow(run_module, navi):  # noqa: F811
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a", gb=10, thin=False))
    navi.on("snap -list -res 12", f.snap("s1", 12))
    status, result = run_module(vnx_volume, dict(CONN, name="vol_a", size_gb=20), check_mode=True)
    assert status == "fail" and "thick LUN with snapshots" in result["msg"], result
    assert "can only grow" not in result["msg"]


def test_check_mode_predicts_a_thick_expansion_past_the_pools_free_space(run_module, navi):  # noqa: F811
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a", gb=10, thin=False))
    navi.on("storagepool -list", f.pool(available=5.0))
    status, result = run_module(vnx_volume, dict(CONN, name="vol_a", size_gb=20), check_mode=True)
    assert status == "fail" and "pool Pool0 has 5.0 GB available" in result["msg"], result


def test_a_lun_over_256_tib_is_refused_before_acting(run_module, navi):  # noqa: F811
    navi.on("storagepool -list", f.pool())
    status, result = run_module(vnx_volume, dict(CONN, name="big", pool="Pool0", size_gb=256 * 1024 + 1, provisioning="thin"),
                                check_mode=True)
    assert status == "fail" and "256 TiB" in result["msg"], result


def test_shrink_hint_rounds_up(run_module, navi):  # noqa: F811
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a", gb=1.5))
    status, result = run_module(vnx_volume, dict(CONN, name="vol_a", size_gb=1))
    assert status == "fail" and "at least 2" in result["msg"], result


def test_a_snapshot_of_a_migrating_lun_gets_the_migration_hint(run_module, navi):  # noqa: F811
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a"))
    navi.on("snap -create", "SP A: Cannot create a snapshot of a LUN that is being migrated.")
    status, result = run_module(vnx_snapshot_manage, dict(CONN, name="s1", lun="vol_a"))
    assert status == "fail" and "wait for the migration" in result["msg"] and "255" not in result["msg"], result


@pytest.mark.parametrize("params", [dict(name="a\nb", pool="Pool0", size_gb=1)])
def test_a_name_with_a_line_break_is_refused_before_acting(run_module, navi, params):  # noqa: F811
    status, result = run_module(vnx_volume, dict(CONN, **params))
    assert status == "fail" and "line break" in result["msg"], result
    assert navi.array_commands() == []


def test_a_missing_security_file_is_not_called_bad_credentials(run_module, navi, tmp_path):  # noqa: F811
    status, result = run_module(vnx_volume, dict(sp_address="192.0.2.10", security_file=str(tmp_path / "nope"),
                                                 naviseccli_path="/opt/test/naviseccli", name="vol_a"))
    assert status == "fail" and "security file" in result["msg"] and "does not exist" in result["msg"], result


def test_info_reports_the_luns_statistics_and_tier_distribution(run_module, navi):  # noqa: F811
    stats = "\n".join("%s:  %d\n%s SP A:  %d\n%s SP B:  0" % (label, n, label, n, label) for label, n in (
        ("Read Requests", 7), ("Write Requests", 3), ("Blocks Read", 56), ("Blocks Written", 24), ("Busy Ticks", 9),
        ("Idle Ticks", 991), ("Sum of Outstanding Requests", 0), ("Non-Zero Request Count Arrivals", 10),
        ("Implicit Trespasses", 0), ("Explicit Trespasses", 0)))
    tiers = "Tier Distribution:  \nExtreme Performance:  10.00%\nPerformance:  60.00%\nCapacity:  30.00%"
    navi.on("lun -list -all", f.lun(12, "vol_a") + tiers + "\n" + stats + "\n")
    status, result = run_module(vnx_info, dict(CONN, gather_subset=["luns"]))
    assert status == "exit", result
    lun = result["luns"][0]
    assert lun["statistics"]["read_requests"] == 7 and lun["statistics"]["blocks_written"] == 24
    assert lun["tier_distribution"] == {"extreme_performance": 10.0, "performance": 60.0, "capacity": 30.0}
    assert lun["deduplication"] == "Off" and lun["size_gb"] == 10.0


def test_check_mode_predicts_hlu_exhaustion(run_module, navi):  # noqa: F811
    from ansible_collections.storage.datamotion.plugins.modules import vnx_host_access
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a"))
    navi.on("storagegroup -messner", f.storage_group("host1", hlus=dict((h, 100 + h) for h in range(0, 256))))
    status, result = run_module(vnx_host_access, dict(CONN, lun="vol_a", host="host1"), check_mode=True)
    assert status == "fail" and "no free host LUN number" in result["msg"], result


def test_check_mode_predicts_a_migration_target_cannot_be_exposed(run_module, navi):  # noqa: F811
    from ansible_collections.storage.datamotion.plugins.modules import vnx_host_access
    navi.on("lun -list -all -name copy1_dest", f.lun(57, "copy1_dest"))
    navi.on("storagegroup -messner", f.storage_group("host1"))
    navi.on("migrate -list", f.migration("copy1", 4100, "copy1_dest", 57))
    status, result = run_module(vnx_host_access, dict(CONN, lun="copy1_dest", host="host1"), check_mode=True)
    assert status == "fail" and "destination of the migration of LUN copy1" in result["msg"], result


def test_info_managed_lists_only_the_collections_migrating_copies(run_module, navi):  # noqa: F811
    # copy1 migrates into copy1_dest, which its snapshot records; an administrator migrates admin_src, and a
    # snap copy of their own (admin_smp, id 4101) into a LUN they named admin_smp_dest
    navi.on("lun -list -all", "\n".join([
        f.lun(12, "vol_a", smps=(4100, 4101)), f.lun(13, "admin_src"), f.lun(57, "copy1_dest"), f.lun(58, "admin_new"),
        f.lun(59, "admin_smp_dest"), f.lun(4100, "copy1", primary="vol_a", attached="tmp-snap-copy1"),
        f.lun(4101, "admin_smp", primary="vol_a", attached="nightly")]))
    navi.on("migrate -list", f.migration("copy1", 4100, "copy1_dest", 57) + "\n\n" +
            f.migration("admin_src", 13, "admin_new", 58, percent=50) + "\n\n" +
            f.migration("admin_smp", 4101, "admin_smp_dest", 59, percent=20))
    navi.on("snap -list", f.snap("tmp-snap-copy1", 12, attached=(4100,),
                                 descr="[storage.datamotion:copy %s target %s]" % (WWN_4100, WWN_57)) + "\n" +
            f.snap("nightly", 12, attached=(4101,)))
    status, result = run_module(vnx_info, dict(CONN, gather_subset=["managed"]))
    assert status == "exit", result
    assert result["managed"]["migrating_copies"] == {"copy1": 35.0}


def test_deleting_a_snap_copy_leaves_a_snapshot_named_like_ours_that_it_does_not_read(run_module, navi):  # noqa: F811
    # a user's snap copy "test" reads the user's snapshot usersnap; snap-as-vol-test is another user's snapshot
    navi.on("lun -list -all -name test", f.lun(4100, "test", gb=1, primary="db", attached="usersnap"))
    navi.on("lun -list -all -l 4100", f.lun(4100, "test", gb=1, primary="db", attached="usersnap"))
    navi.on("snap -list -res 4100", "")
    navi.on("storagegroup -list", "")
    navi.on("migrate -list -source 4100", f.NOT_MIGRATING)
    navi.on("snap -list -id snap-as-vol-test", f.snap("snap-as-vol-test", 12))
    status, result = run_module(vnx_volume, dict(CONN, name="test", state="absent"))
    assert status == "exit" and result["changed"], result
    assert "snap -destroy -id snap-as-vol-test -o" not in navi.writes(), navi.writes()


def test_a_lun_whose_id_was_reused_meanwhile_is_not_destroyed(run_module, navi):  # noqa: F811
    # a parallel run deleted fc (id 5) after this run read it, and another task's LUN c got id 5
    navi.on("lun -list -all -name fc", f.lun(5, "fc"))
    navi.on("lun -list -all -l 5", f.lun(5, "c"))
    navi.on("snap -list -res 5", "")
    navi.on("storagegroup -list", "")
    status, result = run_module(vnx_volume, dict(CONN, name="fc", state="absent"))
    assert status == "fail", result
    assert not [c for c in navi.writes() if c.startswith("lun -destroy")], navi.writes()


@pytest.mark.parametrize("descr", ["users nightly", ""])
@pytest.mark.parametrize("module, params", [
    (vnx_volume_clone, dict(name="copy1", source_lun="vol_a", copy_mode="full")),
    (vnx_volume, dict(name="copy1", state="absent")),
])
def test_a_snapshot_named_like_ours_without_our_mark_is_kept(run_module, navi, module, params, descr):  # noqa: F811
    # a user's snap copy copy1 reads the user's snapshot snap-as-vol-copy1 (described or not)
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a", gb=1, smps=(4100,)))
    navi.on("lun -list -all -name copy1", f.lun(4100, "copy1", gb=1, primary="vol_a", attached="snap-as-vol-copy1"),
            f.lun(4100, "copy1", gb=1, primary="vol_a", attached="snap-as-vol-copy1"), f.lun(4100, "copy1", gb=1))
    navi.on("lun -list -all -l 4100", f.lun(4100, "copy1", gb=1, primary="vol_a", attached="snap-as-vol-copy1"))
    navi.on("lun -list -all -name copy1_dest", f.LUN_NOT_FOUND, f.lun(57, "copy1_dest", gb=1))
    navi.on("snap -list -id snap-as-vol-copy1", f.snap("snap-as-vol-copy1", 12, attached=(4100,), descr=descr))
    navi.on("snap -list -res 4100", "")
    navi.on("storagegroup -list", "")
    navi.on("storagepool -list", f.pool())
    status, result = run_module(module, dict(CONN, **params))
    assert status == "exit", result
    assert not [c for c in navi.writes() if c.startswith("snap -destroy") or c.startswith("snap -modify")], navi.writes()


@pytest.mark.parametrize("check_mode", [False, True])
@pytest.mark.parametrize("existing_copy", [False, True])
def test_an_unmarked_snapshot_named_like_ours_is_refused_by_name_never_replaced(run_module, navi, no_pause, check_mode,
                                                                                  existing_copy):  # noqa: F811
    # a user's snapshot snap-as-vol-copy1 of vol_a, no description, not attached; copy1 is new, or a mount point
    # an interrupted run left without its snapshot
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a", smps=(4100,) if existing_copy else ()))
    navi.on("lun -list -all -name copy1", f.lun(4100, "copy1", primary="vol_a") if existing_copy else f.LUN_NOT_FOUND)
    navi.on("snap -list -id snap-as-vol-copy1", f.snap("snap-as-vol-copy1", 12))
    navi.on("snap -list -res 12", f.snap("snap-as-vol-copy1", 12))
    navi.on("snap -list -detail", f.snap("snap-as-vol-copy1", 12))
    navi.on("snap -create", "The specified snapshot name is already in use. (0x716d8005)")
    status, result = run_module(vnx_volume_clone, dict(CONN, name="copy1", source_lun="vol_a", copy_mode="snap"),
                                check_mode=check_mode)
    assert status == "fail", result
    assert "snap-as-vol-copy1" in result["msg"] + (result.get("hint") or ""), result
    assert "not marked" in result["msg"] + str(result), result
    assert not [w for w in navi.writes() if w.startswith("snap -destroy")], navi.writes()


def test_the_snapshots_this_module_makes_carry_its_mark_from_the_start(run_module, navi):  # noqa: F811
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a"))
    navi.on("lun -list -all -name copy1", f.LUN_NOT_FOUND, f.lun(4100, "copy1", primary="vol_a"))
    status, result = run_module(vnx_volume_clone, dict(CONN, name="copy1", source_lun="vol_a", copy_mode="snap"))
    assert status == "exit" and result["changed"], result
    assert navi.writes()[0] == ("snap -create -res 12 -name snap-as-vol-copy1 -allowAutoDelete no -allowReadWrite yes "
                                "-descr [storage.datamotion:copy]")


def test_the_loser_of_a_parallel_removal_from_a_storage_group_reports_ok(run_module, navi):  # noqa: F811
    # both forks read HLU 1; the other fork removed it first
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a"))
    navi.on("storagegroup -messner", f.storage_group("host1", hlus={1: 12}), f.storage_group("host1"))
    navi.on("storagegroup -removehlu", "No such Host LUN in this Storage Group")
    status, result = run_module(vnx_host_access, dict(CONN, lun="vol_a", host="host1", state="absent"))
    assert status == "exit" and not result["changed"] and result["actions"] == [], result


def test_a_lun_moved_to_another_hlu_since_the_read_is_removed_at_its_hlu_now(run_module, navi):  # noqa: F811
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a"))
    navi.on("lun -list -all -l 12", f.lun(12, "vol_a"))
    navi.on("storagegroup -messner", f.storage_group("host1", hlus={1: 12}), f.storage_group("host1", hlus={3: 12}))
    status, result = run_module(vnx_host_access, dict(CONN, lun="vol_a", host="host1", state="absent"))
    assert status == "exit" and result["changed"], result
    assert navi.writes() == ["storagegroup -removehlu -hlu 3 -gname host1 -o"]


def test_the_lun_a_parallel_task_mapped_at_the_hlu_read_is_never_removed(run_module, navi):  # noqa: F811
    # the read said vol_a is HLU 1; meanwhile a parallel task removed it and mapped LUN 99 at HLU 1
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a"))
    navi.on("storagegroup -messner", f.storage_group("host1", hlus={1: 12}), f.storage_group("host1", hlus={1: 99}))
    status, result = run_module(vnx_host_access, dict(CONN, lun="vol_a", host="host1", state="absent"))
    assert status == "exit" and not result["changed"] and result["actions"] == [], result
    assert navi.writes() == []


def test_an_id_that_is_now_another_luns_is_never_removed(run_module, navi):  # noqa: F811
    # vol_a was deleted and its id 12 given to a new LUN that is in the group now
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a"))
    navi.on("lun -list -all -l 12", f.lun(12, "other").replace("66:00:0C", "66:FF:0C"))  # another LUN's WWN
    navi.on("storagegroup -messner", f.storage_group("host1", hlus={1: 12}))
    status, result = run_module(vnx_host_access, dict(CONN, lun="vol_a", host="host1", state="absent"))
    assert status == "exit" and not result["changed"], result
    assert navi.writes() == []


def test_the_loser_of_a_parallel_add_to_a_storage_group_reports_ok(run_module, navi):  # noqa: F811
    # both forks read the group without the LUN; the other fork added it first (as HLU 1)
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a"))
    navi.on("storagegroup -messner", f.storage_group("host1"), f.storage_group("host1", hlus={1: 12}))
    navi.on("storagegroup -addhlu", "Requested LUN has already been added to this Storage Group")
    status, result = run_module(vnx_host_access, dict(CONN, lun="vol_a", host="host1"))
    assert status == "exit" and not result["changed"] and result["actions"] == [], result
    assert result["connection"]["hlu"] == 1


def test_the_loser_of_a_parallel_storage_group_create_and_connect_reports_ok(run_module, navi):  # noqa: F811
    # no group at the read; the other fork made it, connected the host and added the LUN meanwhile
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a"))
    navi.on("storagegroup -list", "")
    navi.on("storagegroup -messner", SG_NOT_FOUND, f.storage_group("host1", hlus={1: 12}))
    navi.on("storagegroup -create", "Storage Group name already in use")
    navi.on("port -list -hba", f.hbas("host1"))
    navi.on("storagegroup -addhlu", "Requested LUN has already been added to this Storage Group")
    status, result = run_module(vnx_host_access, dict(CONN, lun="vol_a", host="host1"))
    assert status == "exit" and not result["changed"] and result["actions"] == [], result
    assert not [w for w in navi.writes() if "-connecthost" in w], navi.writes()


@pytest.mark.parametrize("module, params", [
    (vnx_snapshot_manage, dict(name="s1", state="absent")),
    (vnx_volume, dict(name="vol_a", state="absent")),
])
def test_the_loser_of_a_parallel_delete_reports_ok(run_module, navi, module, params):  # noqa: F811
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a"))
    navi.on("lun -list -all -l 12", f.LUN_NOT_FOUND)  # gone by the time of the delete
    navi.on("snap -list -res 12", "")
    navi.on("storagegroup -list", "")
    navi.on("snap -list -id s1", f.snap("s1", 12))
    navi.on("snap -destroy", "The specified snapshot does not exist.")
    status, result = run_module(module, dict(CONN, **params))
    assert status == "exit" and not result["changed"] and result["actions"] == [], result


@pytest.mark.parametrize("check_mode", [True, False])
def test_an_unregistered_host_is_refused_before_anything_is_made(run_module, navi, check_mode):  # noqa: F811
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a"))
    navi.on("storagegroup -list", "")
    navi.on("port -list -hba", f.hbas("host1", "host2"))
    status, result = run_module(vnx_host_access, dict(CONN, lun="vol_a", host="hots1"), check_mode=check_mode)
    assert status == "fail", result
    assert "knows no host named hots1" in result["msg"] and "host1, host2" in result["msg"], result
    assert navi.writes() == []


def test_hlu_0_is_used_when_it_is_free(run_module, navi):  # noqa: F811
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a"))
    navi.on("storagegroup -messner", f.storage_group("host1", hlus={1: 20, 2: 21}))
    status, result = run_module(vnx_host_access, dict(CONN, lun="vol_a", host="host1"))
    assert status == "exit" and result["changed"], result
    assert result["connection"]["hlu"] == 0
    assert navi.writes() == ["storagegroup -addhlu -hlu 0 -alu 12 -gname host1 -o"]


@pytest.mark.parametrize("check_mode", [True, False])
def test_a_finished_full_copy_reports_no_temporary_snapshot(run_module, navi, check_mode):  # noqa: F811
    # an earlier run with wait=false left copy1 migrating; this run waits, sees it finish and deletes tmp-snap-copy1
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a"))
    navi.on("lun -list -all -name copy1", f.lun(4100, "copy1", primary="vol_a", attached="tmp-snap-copy1"),
            f.lun(4100, "copy1"))
    navi.on("storagepool -list", f.pool())
    navi.on("snap -list -id tmp-snap-copy1", f.snap("tmp-snap-copy1", 12, attached=(4100,),
                                                    descr="[storage.datamotion:copy %s target %s]" % (WWN_4100, WWN_57)))
    navi.on("migrate -list -source 4100", f.migration("copy1", 4100, "copy1_dest", 57, percent=90), f.NOT_MIGRATING)
    status, result = run_module(vnx_volume_clone, dict(CONN, name="copy1", source_lun="vol_a"), check_mode=check_mode)
    assert status == "exit", result
    assert result["clone_state"] == "full_copy" and result["snapshot"] is None, result


def test_check_mode_predicts_a_snapshot_copy_at_the_limit_counting_the_snap_copies_snapshots(run_module, navi):  # noqa: F811
    # vol_a has 200 snapshots, its snap copy copy1 (4100) 55: the array counts them all for vol_a
    snaps = [f.snap("s%d" % i, 12) for i in range(200)] + [f.snap("c%d" % i, 4100) for i in range(55)]
    navi.on("snap -list", "\n".join(snaps))
    navi.on("snap -list -id c0", f.snap("c0", 4100))
    navi.on("snap -list -id new1", f.SNAP_NOT_FOUND)
    navi.on("lun -list -all -l 4100", f.lun(4100, "copy1", primary="vol_a", attached="snap-as-vol-copy1"))
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a", smps=(4100,)))
    status, result = run_module(vnx_snapshot_manage, dict(CONN, name="new1", source_snapshot="c0"), check_mode=True)
    assert status == "fail" and "255" in result["msg"], result


def test_check_mode_predicts_a_restore_with_a_backup_snapshot_at_the_limit(run_module, navi):  # noqa: F811
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a"))
    navi.on("snap -list -id s0", f.snap("s0", 12))
    navi.on("snap -list", "\n".join(f.snap("s%d" % i, 12) for i in range(255)))
    navi.on("snap -list -id before", f.SNAP_NOT_FOUND)
    status, result = run_module(vnx_snapshot_manage, dict(CONN, name="s0", lun="vol_a", state="restored",
                                                          backup_snapshot="before"), check_mode=True)
    assert status == "fail" and "255" in result["msg"], result


@pytest.mark.parametrize("params", [
    dict(name="s1", lun="vol_a"),
    dict(name="s0", lun="vol_a", state="restored"),
])
def test_check_mode_predicts_an_administrators_migration_refuses_snapshots_and_restores(run_module, navi, params):  # noqa: F811
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a"))
    navi.on("snap -list -id s0", f.snap("s0", 12))
    navi.on("snap -list", f.snap("s0", 12))
    navi.on("snap -list -id s1", f.SNAP_NOT_FOUND)
    navi.on("migrate -list -source 12", f.migration("vol_a", 12, "admin_target", 77, percent=40))
    status, result = run_module(vnx_snapshot_manage, dict(CONN, **params), check_mode=True)
    assert status == "fail" and "migrat" in result["msg"], result


def test_check_mode_predicts_a_copy_of_a_lun_an_administrator_migrates_is_refused(run_module, navi):  # noqa: F811
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a"))
    navi.on("migrate -list -source 12", f.migration("vol_a", 12, "admin_target", 77, percent=40))
    status, result = run_module(vnx_volume_clone, dict(CONN, name="copy1", source_lun="vol_a", copy_mode="snap"),
                                check_mode=True)
    assert status == "fail" and "migrat" in result["msg"], result


def test_check_mode_predicts_a_copy_of_a_snap_copy_at_the_limit(run_module, navi):  # noqa: F811
    # copy1 (4100) is a snap copy of vol_a; vol_a has 200 snapshots and copy1 55: the array counts 255 for vol_a
    navi.on("lun -list -all -name copy1", f.lun(4100, "copy1", primary="vol_a", attached="snap-as-vol-copy1"))
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a", smps=(4100,)))
    navi.on("snap -list", "\n".join([f.snap("s%d" % i, 12) for i in range(200)] + [f.snap("c%d" % i, 4100) for i in range(55)]))
    status, result = run_module(vnx_volume_clone, dict(CONN, name="copy2", source_lun="copy1", copy_mode="snap"),
                                check_mode=True)
    assert status == "fail" and "LUN copy1 has 255 snapshots" in result["msg"], result


@pytest.mark.parametrize("descr", ["[storage.datamotion:copy] my weekly backup, keep", "keep [storage.datamotion:copy]",
                                   "[storage.datamotion:copyright 2026]"])
def test_a_description_holding_our_mark_among_other_text_is_the_users(run_module, navi, no_pause, descr):  # noqa: F811
    # the collection writes the whole description; a user's text around the mark makes it the user's snapshot
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a"))
    navi.on("lun -list -all -name copy1", f.LUN_NOT_FOUND)
    navi.on("snap -list -id snap-as-vol-copy1", f.snap("snap-as-vol-copy1", 12, descr=descr))
    navi.on("snap -create", "The specified snapshot name is already in use. (0x716d8005)")
    status, result = run_module(vnx_volume_clone, dict(CONN, name="copy1", source_lun="vol_a", copy_mode="snap"))
    assert status == "fail", result
    assert "not marked" in str(result), result
    assert not [w for w in navi.writes() if w.startswith("snap -destroy")], navi.writes()


def test_a_temporary_mark_among_other_text_is_not_ours():
    from ansible_collections.storage.datamotion.plugins.module_utils.vnx.client import Snapshot, temporary_mark
    mark = temporary_mark("60:AA", "60:BB")
    assert Snapshot("s", description=mark).temporary_of("60:AA")
    assert Snapshot("s", description=mark).made_for_a_copy
    for text in ("mine " + mark, mark + " mine"):
        s = Snapshot("s", description=text)
        assert not s.temporary_of("60:AA") and not s.marks_target("60:AA", "60:BB") and not s.made_for_a_copy


@pytest.mark.parametrize("state", ["present", "managed", "unmanaged"])
@pytest.mark.parametrize("descr", ["[storage.datamotion:copy]", "nightly [storage.datamotion:copy]",
                                   "[storage.datamotion:copy 60:AA target 60:BB]", "x [managed-by:storage.datamotion]"])
def test_a_description_with_the_collections_marks_is_refused_before_the_array_is_asked(run_module, navi, state,
                                                                                      descr):  # noqa: F811
    # the marks say what the collection made and may delete: a user's snapshot must never carry one
    status, result = run_module(vnx_snapshot_manage, dict(CONN, name="snap-as-vol-copy1", lun="vol_a", state=state,
                                                          description=descr))
    assert status == "fail" and "mark" in result["msg"], result
    assert navi.array_commands() == []


@pytest.mark.parametrize("check_mode, seen", [(False, True), (True, True), (False, False)],
                         ids=["run", "check", "run-made-after-the-read"])
def test_a_leftover_snapshot_of_a_new_copy_is_replaced_and_the_task_says_so(run_module, navi, no_pause, check_mode,
                                                                            seen):  # noqa: F811
    # an interrupted run made snapshot snap-as-vol-copy1 (marked, not attached) and died before the mount point;
    # seen: listed when the task reads the array (planned in both modes), else met by the create (a real run only)
    leftover = f.snap("snap-as-vol-copy1", 12, descr="[storage.datamotion:copy]")
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a"))
    navi.on("lun -list -all -name copy1", f.LUN_NOT_FOUND, f.LUN_NOT_FOUND, f.LUN_NOT_FOUND,
            f.lun(4100, "copy1", primary="vol_a"))
    navi.on("snap -list -id snap-as-vol-copy1", leftover)
    if seen:
        navi.on("snap -list -detail", leftover)
    else:
        navi.on("snap -create", "The specified snapshot name is already in use. (0x716d8005)", "")
    status, result = run_module(vnx_volume_clone, dict(CONN, name="copy1", source_lun="vol_a", copy_mode="snap"),
                                check_mode=check_mode)
    assert status == "exit" and result["changed"], result
    assert result["actions"][:2] == ["delete snapshot snap-as-vol-copy1 left by an interrupted run",
                                     "create snapshot snap-as-vol-copy1 of LUN vol_a"], result["actions"]
    assert any("left by an interrupted run" in w for w in get_warning_messages())
    create = ("snap -create -res 12 -name snap-as-vol-copy1 -allowAutoDelete no -allowReadWrite yes "
              "-descr [storage.datamotion:copy]")
    if not check_mode:
        refused = [] if seen else [create]  # the create that met it, refused by the array
        assert navi.writes()[:len(refused) + 2] == refused + ["snap -destroy -id snap-as-vol-copy1 -o", create]


@pytest.mark.parametrize("descr, deleted", [("[storage.datamotion:copy]", True), ("users nightly", False)])
def test_deleting_a_renamed_snap_copy_deletes_the_snapshot_it_reads(run_module, navi, descr, deleted):  # noqa: F811
    # snap copy "c" was renamed to "c2" (vnx_volume new_name): it still reads snap-as-vol-c, which only this module makes
    navi.on("lun -list -all -name c2", f.lun(4100, "c2", gb=1, primary="db", attached="snap-as-vol-c"))
    navi.on("lun -list -all -l 4100", f.lun(4100, "c2", gb=1, primary="db", attached="snap-as-vol-c"))
    navi.on("snap -list -res 4100", "")
    navi.on("storagegroup -list", "")
    navi.on("migrate -list -source 4100", f.NOT_MIGRATING)
    navi.on("snap -list -id snap-as-vol-c", f.snap("snap-as-vol-c", 12, attached=(4100,), descr=descr))
    status, result = run_module(vnx_volume, dict(CONN, name="c2", state="absent"))
    assert status == "exit" and result["changed"], result
    assert ("snap -destroy -id snap-as-vol-c -o" in navi.writes()) == deleted, navi.writes()
    if deleted:
        assert navi.writes().index("lun -destroy -l 4100 -forceDetach -o") < navi.writes().index(
            "snap -destroy -id snap-as-vol-c -o")


def test_a_renamed_snap_copy_made_full_gets_its_snapshot_recorded_and_deleted(run_module, navi):  # noqa: F811
    # snap copy "c" of vol_a was renamed to "c2": it reads snap-as-vol-c, which this module made (exact mark)
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a", gb=1, smps=(4100,)))
    navi.on("lun -list -all -name c2", f.lun(4100, "c2", gb=1, primary="vol_a", attached="snap-as-vol-c"))
    navi.on("lun -list -all -name c2_dest", f.LUN_NOT_FOUND)
    navi.on("snap -list -id snap-as-vol-c", f.snap("snap-as-vol-c", 12, attached=(4100,), descr="[storage.datamotion:copy]"))
    navi.on("snap -list -res 4100", "")
    navi.on("migrate -list", f.NOT_MIGRATING)
    navi.on("storagepool -list", f.pool())
    status, result = run_module(vnx_volume_clone, dict(CONN, name="c2", source_lun="vol_a", copy_mode="full"),
                                check_mode=True)
    assert status == "exit" and result["changed"], result
    assert any(a.startswith("record LUN c2_dest") for a in result["actions"]), result["actions"]
    assert "delete snapshot snap-as-vol-c" in result["actions"], result["actions"]
