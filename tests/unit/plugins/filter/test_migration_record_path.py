# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one name of a migration's record: the same for the role, its lock and retire_vnx.yml."""

from __future__ import annotations

from ansible_collections.storage.datamotion.plugins.filter.migration_record_path import migration_record_path


def test_name_is_made_safe_and_keeps_a_digest_of_the_name():
    # the first 8 hex digits of sha1('retire db01'): records written by earlier releases keep their name
    assert migration_record_path("retire db01", "/var/lib/datamotion/migrations") == \
        "/var/lib/datamotion/migrations/retire_db01-620ad4c9.json"


def test_names_that_read_alike_get_two_records():
    assert migration_record_path("db 01", "/r") != migration_record_path("db_01", "/r")


def test_no_name_leaves_the_directory():
    path = migration_record_path("../../etc/passwd to x", "/r/")
    assert path.startswith("/r/") and "/" not in path[len("/r/"):]


def test_non_ascii_names():
    path = migration_record_path("bä to c", "/r")
    assert path.startswith("/r/b__to_c-") and path.endswith(".json")
