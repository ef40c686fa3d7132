# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A rescue's message names what failed: a loop's failed items with their own messages, not "One or more items failed"."""

from __future__ import annotations

from ansible_collections.storage.datamotion.plugins.filter.task_error import task_error


def test_a_loop_names_its_failed_items_and_their_messages():
    result = {"msg": "One or more items failed", "results": [
        {"item": "rv_data", "failed": False, "msg": ""},
        {"item": "rv_zeros", "failed": True, "msg": "the record is not JSON"},
        {"item": {"name": "rv_parts"}, "_ansible_item_label": "rv_parts", "failed": True, "msg": "locked"}]}
    assert task_error(result, "Read") == "rv_zeros: the record is not JSON; rv_parts: locked"


def test_a_task_gives_its_message_else_its_name():
    assert task_error({"msg": "no such LUN"}, "Read") == "no such LUN"
    assert task_error({}, "Read what earlier runs did") == "failed: Read what earlier runs did"
    assert task_error(None) == "failed: "
