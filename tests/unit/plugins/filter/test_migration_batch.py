# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The migration role changes the storage groups of all its hosts in one run per group and mode, and each host
finds its own part of that run, or learns that it must do its LUN alone."""

from __future__ import annotations

from ansible_collections.storage.datamotion.plugins.filter.migration_batch import migration_batch_result, migration_batches


def wish(lun, mode="ro", host="mig01", key="k1"):
    return {"migration_batch_wish": {"lun": lun, "host": host, "mode": mode, "key": key}}


def test_wishes_group_by_storage_group_and_mode_and_keep_only_the_runners_connection():
    hostvars = {"a": wish("s1"), "b": wish("s2"), "c": wish("d1", "rw"), "d": wish("s3", host="mig02"),
                "e": wish("s4", key="other-vnx"), "f": {"migration_batch_wish": {}}, "g": {}}
    assert migration_batches(list(hostvars) + ["gone"], hostvars, "k1") == [
        {"host": "mig01", "mode": "ro", "luns": ["s1", "s2"]},
        {"host": "mig01", "mode": "rw", "luns": ["d1"]},
        {"host": "mig02", "mode": "ro", "luns": ["s3"]}]


def test_a_lun_wished_by_two_hosts_is_asked_for_once():
    assert migration_batches(["a", "b"], {"a": wish("s1"), "b": wish("s1")}, "k1") == [{"host": "mig01", "mode": "ro", "luns": ["s1"]}]


def run(luns, mode="ro", connections=None, msg=None):
    result = {"item": {"host": "mig01", "mode": mode, "luns": luns}, "changed": True, "failed": False}
    if msg:
        result["msg"] = msg
    else:
        result["connections"] = connections if connections is not None else [{"wwn": lun, "added": lun != "s2"} for lun in luns]
    return result


def test_a_host_finds_its_connection_and_whether_the_run_added_its_lun():
    registered = {"results": [run(["d1"], "rw"), run(["s1", "s2"])]}
    part = migration_batch_result(registered, wish("s2")["migration_batch_wish"])
    assert part == {"done": True, "changed": False, "connection": {"wwn": "s2", "added": False}, "error": None, "shared": False}
    assert migration_batch_result(registered, wish("s1")["migration_batch_wish"])["changed"] is True


def test_a_failed_run_is_its_only_luns_error_and_a_shared_one_sends_each_lun_alone():
    alone = migration_batch_result({"results": [run(["s1"], msg="Error: Internal error")]}, wish("s1")["migration_batch_wish"])
    assert (alone["done"], alone["error"], alone["shared"]) == (False, "Error: Internal error", False)
    shared = migration_batch_result({"results": [run(["s1", "s2"], msg="Error: Internal error")]}, wish("s2")["migration_batch_wish"])
    assert (shared["done"], shared["error"], shared["shared"]) == (False, "Error: Internal error", True)


def test_another_connection_or_no_wish_leaves_the_lun_to_its_host_without_an_error():
    for registered in ({"results": [run(["s9"])]}, {"skipped": True, "results": []}):
        part = migration_batch_result(registered, wish("s1")["migration_batch_wish"])
        assert not part["done"] and part["error"] is None
    assert migration_batch_result({"results": [run(["s1"])]}, {})["done"] is False


def test_a_removal_is_done_without_connections():
    registered = {"results": [run(["s1"], "absent", connections=[])]}
    part = migration_batch_result(registered, wish("s1", "absent")["migration_batch_wish"])
    assert part["done"] and not part["changed"] and part["error"] is None
