# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The error of a failed task, as a rescue re-raises it: a loop's own message is only "One or more items failed",
so the items that failed are named with their messages instead."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
name: task_error
short_description: The error message of a failed task, a loop's failed items named
version_added: 0.3.0
description:
  - Gives the message of a failed task's result (C(ansible_failed_result) in a C(rescue)). For a loop, whose own
    message is only C(One or more items failed), it gives each failed item's label, a colon and its message instead,
    joined with semicolons.
  - A result without a message gives C(failed) and the task's name.
author:
  - Storage DataMotion Team (@storage-datamotion)
positional: task
options:
  _input:
    description: The failed task's result.
    type: dict
    required: true
  task:
    description: The failed task's name (C(ansible_failed_task.name)), for a result without a message.
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: Fail with the error of the task that failed in the block
  ansible.builtin.fail:
    msg: "{{ ansible_failed_result | storage.datamotion.task_error(ansible_failed_task.name) }}"
"""

RETURN = r"""
_value:
  description: The message; for a loop, each failed item's label, a colon and its message.
  type: str
"""


def label(result):
    item = result.get("_ansible_item_label", result.get("item"))
    if isinstance(item, dict):
        item = item.get("name", item)
    return str(item)


def task_error(result, task=""):
    result = result if isinstance(result, dict) else {}
    items = [r for r in result.get("results") or [] if isinstance(r, dict) and r.get("failed")]
    if items:
        return "; ".join("%s: %s" % (label(r), r.get("msg") or "failed") for r in items)
    return str(result.get("msg") or "failed: %s" % task)


class FilterModule(object):
    def filters(self):
        return dict(task_error=task_error)
