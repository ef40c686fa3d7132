# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""VnxClient over storops, with only the naviseccli process faked."""

from __future__ import annotations

import pytest

from ansible_collections.storage.datamotion.plugins.module_utils.vnx.client import (
    Lun, StorageGroup, VnxClient, VnxError, size_to_whole_gib)
from ansible_collections.storage.datamotion.tests.unit.plugins.module_utils.vnx import fake_navi as f


@pytest.fixture
def client(navi):
    return VnxClient("192.0.2.10", "sysadmin", "secret", 0, naviseccli_path="/opt/test/naviseccli")


def test_no_heartbeat_thread(client):
    # heartbeat_interval=0: storops starts no background thread that polls the SPs
    assert client.vnx._cli._heart_beat.interval == 0


def test_credentials_and_address_go_on_every_command(client, navi, monkeypatch):
    seen = []
    original = navi.execute
    monkeypatch.setattr(navi, "execute", lambda cmd, timeout=None: seen.append(cmd) or original(cmd, timeout))
    client.get_lun(name="vol_a")
    assert seen[-1][:9] == ["/opt/test/naviseccli", "-h", "192.0.2.10", "-user", "sysadmin", "-password", "secret",
                            "-scope", "0"]


def test_get_lun_reads_a_mount_point_in_one_command(client, navi):
    navi.on("lun -list -all -name copy1", f.lun(4100, "copy1", gb=10, primary="vol_a", attached="snap-as-vol-copy1"))
    lun = client.get_lun(name="copy1")
    assert lun == Lun(id=4100, name="copy1", wwn=lun.wwn, pool="Pool0", size_gb=10.0, size_bytes=10 * 2097152 * 512, consumed_gb=0.0,
                      provisioning="thin", tiering="auto", state="Ready", operation="None",
                      is_snap_mount_point=True, primary_lun="vol_a", attached_snapshot="snap-as-vol-copy1",
                      snapshot_mount_points=[], deduplication="Off")
    # reading primary_lun/attached_snapshot must not make storops look them up
    assert navi.array_commands() == ["lun -list -all -name copy1"]


def test_get_lun_lists_snapshot_mount_points_without_listing_every_lun(client, navi):
    navi.on("lun -list -all -name vol_a", f.lun(12, "vol_a", smps=(4101, 4100)))
    assert client.get_lun(name="vol_a").snapshot_mount_points == [4100, 4101]
    assert "lun -list -all" not in navi.commands


def test_get_lun_not_found_is_none(client, navi):
    assert client.get_lun(name="nope") is None


def test_snapshot_name_in_use_names_object_text_and_hint(client, navi):
    navi.on("snap -create", "The specified snapshot name is already in use. (0x716d8005)")
    with pytest.raises(VnxError) as e:
        client.create_snapshot(Lun(id=12, name="vol_a"), "s1")
    err = e.value
    assert err.kind == "VNXSnapNameInUseError"
    assert str(err) == ("Cannot create snapshot s1 of LUN vol_a: The specified snapshot name is already in use. (0x716d8005)"
                        " -- Choose another snapshot name; snapshot names are unique on the whole array.")
    assert navi.writes() == ["snap -create -res 12 -name s1 -allowAutoDelete no -allowReadWrite yes"]


def test_snapshot_with_keep_for_omits_auto_delete(client, navi):
    client.create_snapshot(Lun(id=12, name="vol_a"), "s1", keep_for="1h")
    assert navi.writes() == ["snap -create -res 12 -name s1 -keepFor 1h -allowReadWrite yes"]


def test_destroy_of_a_missing_lun_is_done(client, navi):
    navi.on("lun -destroy", f.LUN_NOT_FOUND)
    assert client.destroy_lun(Lun(id=7, name="gone")) == "VNXLunNotFoundError"


def test_destroy_lun_with_snap_copies_says_what_to_do(client, navi):
    navi.on("lun -destroy", "SP A: The LUN cannot be destroyed because it still has snapshot mount points. (0x716d801a)")
    navi.on("lun -list -all -l 7", f.lun(7, "vol_a"))
    with pytest.raises(VnxError) as e:
        client.destroy_lun(Lun(id=7, name="vol_a"))
    assert e.value.kind == "VNXLunHasSnapMountPointError"
    assert "snap copies" in str(e.value)


def test_wrong_credentials(client, navi):
    navi.on("lun -list", "Error returned from the Management Server on 192.0.2.10\nAuthentication failed. Possible reasons for "
                         "failure are invalid security file, invalid username, password and/or scope.")
    with pytest.raises(VnxError) as e:
        client.get_lun(name="vol_a")
    assert e.value.kind == "VNXCredentialError"
    assert "192.0.2.10 refused the credentials" in str(e.value)
    assert "Check username, password and scope" in str(e.value)


def test_sp_down_names_the_address(client, navi):
    navi.on("lun -list", "A network error occurred while trying to connect: '192.0.2.10'.\n"
                         "Message : Error occurred because connection refused.")
    with pytest.raises(VnxError) as e:
        client.get_lun(name="vol_a")
    assert e.value.kind in ("VNXSPDownError", "VNXSystemDownError")
    assert "192.0.2.10 does not answer" in str(e.value)


def test_migration_states(client, navi):
    navi.on("migrate -list -source 4100", f.migration("copy1", 4100, "copy1_dest", 57, state="STOPPED - Destination full"))
    m = client.get_migration(Lun(id=4100, name="copy1"))
    assert (m.source_id, m.dest_name, m.percent_complete) == (4100, "copy1_dest", 35.0)
    assert m.failed


def test_no_migration_is_none(client, navi):
    assert client.get_migration(Lun(id=4100, name="copy1")) is None


def test_list_migrations_when_none_run(client, navi):
    navi.on("migrate -list", "No current migrations exist.")
    assert client.list_migrations() == []


def test_storage_group_hlus(client, navi):
    navi.on("storagegroup -messner -list -host -iscsiAttributes -gname host1", f.storage_group("host1", hlus={1: 4100, 3: 12}))
    sg = client.get_storage_group("host1")
    assert sg.hlus == {1: 4100, 3: 12}
    assert sg.hosts == ["host1"]
    assert sg.hlu_of(12) == 3


def test_attach_takes_the_lowest_free_hlu(client, navi):
    hlu, changed, dummy = client.attach_to_storage_group(StorageGroup("host1", hlus={0: 4, 1: 5, 2: 6}), Lun(id=12, name="vol_a"))
    assert (hlu, changed) == (3, True)
    assert navi.writes() == ["storagegroup -addhlu -hlu 3 -alu 12 -gname host1 -o"]


def test_attach_retries_when_a_parallel_writer_takes_the_hlu(client, navi):
    navi.on("storagegroup -addhlu -hlu 0", "Error: storagegroup command failed\nError returned from Agent\n"
                                           "Requested Host LUN Number already in use")
    navi.on("storagegroup -messner", f.storage_group("host1", hlus={0: 99}))
    hlu, changed, sg = client.attach_to_storage_group(StorageGroup("host1"), Lun(id=12, name="vol_a"))
    assert changed and hlu != 0 and sg.hlus[hlu] == 12
    assert navi.writes() == ["storagegroup -addhlu -hlu 0 -alu 12 -gname host1 -o",
                             "storagegroup -addhlu -hlu %d -alu 12 -gname host1 -o" % hlu]


def test_forks_that_lost_the_same_hlu_retry_on_different_ones(client, navi):
    navi.on("storagegroup -addhlu -hlu 0", "Error: storagegroup command failed\nError returned from Agent\n"
                                           "Requested Host LUN Number already in use")
    navi.on("storagegroup -messner", f.storage_group("host1", hlus={0: 99}))
    retried = [client.attach_to_storage_group(StorageGroup("host1"), Lun(id=lun_id, name="vol_%d" % lun_id))[0]
               for lun_id in range(12, 20)]
    assert len(set(retried)) == 8 and 0 not in retried


def test_attach_when_the_lun_was_added_meanwhile(client, navi):
    navi.on("storagegroup -addhlu", "Requested LUN has already been added to this Storage Group")
    navi.on("storagegroup -messner", f.storage_group("host1", hlus={4: 12}))
    hlu, changed, dummy = client.attach_to_storage_group(StorageGroup("host1"), Lun(id=12, name="vol_a"))
    assert (hlu, changed) == (4, False)


def test_attach_with_no_free_hlu(client, navi):
    full = StorageGroup("host1", hlus=dict((h, 1000 + h) for h in range(0, 256)))
    with pytest.raises(VnxError) as e:
        client.attach_to_storage_group(full, Lun(id=12, name="vol_a"))
    assert e.value.kind == "VNXNoHluAvailableError"
    assert navi.writes() == []


def test_snapshot_facts_and_management_mark(client, navi):
    navi.on("snap -list -id s1", f.snap("s1", 12, attached=(4100,), descr="nightly [managed-by:storage.datamotion]"))
    s = client.get_snapshot("s1")
    assert s.source_luns == [12] and s.attached_luns == [4100]
    assert s.managed and s.user_description == "nightly"
    assert s.facts()["managed"] is True


def test_pool_capacity(client, navi):
    navi.on("storagepool -list -all -name Pool0", f.pool(available=12.5))
    p = client.get_pool("Pool0")
    assert (p.name, p.id, p.available_capacity_gb, p.user_capacity_gb) == ("Pool0", 0, 12.5, 1000.0)


@pytest.mark.parametrize("gb, whole", [(10.0, 10), (10.001, 11), (0.5, 1), (None, None)])
def test_size_in_whole_gib(gb, whole):
    assert size_to_whole_gib(gb) == whole


def test_an_unknown_consistency_group_failure_does_not_blame_a_snap_copy(client, navi):
    # the array's text is not one storops knows: the hint must not say the LUN is a snap copy
    navi.on("snap -group -addmember", "Error: Internal error, please retry.")
    with pytest.raises(VnxError) as e:
        client.add_to_consistency_group("db-cg", Lun(id=12, name="vol_a"))
    assert e.value.kind == "VNXConsistencyGroupError"
    assert "snap copy (snapshot mount point) cannot be a member" not in str(e.value)
    assert "vnx_info" in e.value.hint
