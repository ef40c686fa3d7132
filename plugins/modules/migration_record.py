#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: migration_record
short_description: Read or write the JSON record of a migration on the migration host, atomically
version_added: 0.3.0
description:
  - Reads the record at O(path) (the role C(storage.datamotion.migration) names it with the filter
    C(storage.datamotion.migration_record_path)), or writes O(record) there.
  - A write goes to a temporary file in the record's directory (mode C(0600)), is synced to disk and renamed over the
    record, so a run killed at any point leaves the old record or the new one, whole, never a part of one.
  - An action plugin runs one small Python command on the host through the connection (with become), the record on
    its standard input - no module is started, which is what makes it cheap enough to write before each step.
  - The host needs a Python (the one of C(ansible_python_interpreter), or the one discovered for modules).
author:
  - Storage DataMotion Team (@storage-datamotion)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reads the record and reports whether a write would change it; writes nothing.
  diff_mode:
    support: full
  platform:
    support: full
    platforms: posix
options:
  path:
    description: The record's file on the host. Its directory must exist.
    type: path
    required: true
  record:
    description:
      - The whole record to write (a dictionary, written as JSON). Left out, the record is only read.
      - A record that equals the one on the host is not written again.
    type: dict
"""

EXAMPLES = r"""
- name: Read the record of the migration 'retire db01'
  storage.datamotion.migration_record:
    path: "{{ 'retire db01' | storage.datamotion.migration_record_path('/var/lib/datamotion/migrations') }}"
  register: record

- name: Record that the copy started
  storage.datamotion.migration_record:
    path: "{{ 'retire db01' | storage.datamotion.migration_record_path('/var/lib/datamotion/migrations') }}"
    record: "{{ record.record | combine({'state': 'copying'}) }}"
"""

RETURN = r"""
record:
  description: The record read (an empty dictionary when there is none), or the one written.
  returned: success
  type: dict
exists:
  description: Whether the record is on the host (after a write, or in check mode, would be).
  returned: success
  type: bool
actions:
  description: What was done, one line each.
  returned: success
  type: list
  elements: str
"""
