# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the migration role keeps the record of one migration. The role reads and locks it, and playbooks
(retire_vnx.yml) read it too: all of them must name it the same way, so only this filter names it."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import re

DOCUMENTATION = r"""
name: migration_record_path
short_description: The path of a migration's record in the migration role's state directory
version_added: 0.3.0
description:
  - Names the JSON record that the role C(storage.datamotion.migration) keeps of one migration on the migration host,
    from the migration's name and the state directory (its O(migration_state_dir)). The name's characters other than
    letters, digits, C(_), C(.) and C(-) become C(_), and the first 8 hex digits of the name's SHA-1 keep two names
    that read alike apart.
author:
  - Storage DataMotion Team (@storage-datamotion)
positional: state_dir
options:
  _input:
    description: The migration's name (the entry's C(name), else C(<source> to <destination>)).
    type: str
    required: true
  state_dir:
    description: The directory of the records.
    type: path
    required: true
"""

EXAMPLES = r"""
- name: Read the record of the migration 'retire db01'
  ansible.builtin.slurp:
    src: "{{ 'retire db01' | storage.datamotion.migration_record_path('/var/lib/datamotion/migrations') }}"
"""

RETURN = r"""
_value:
  description: The record's path, for example C(/var/lib/datamotion/migrations/retire_db01-1f0e3c0a.json).
  type: path
"""


def migration_record_path(name, state_dir):
    name = str(name)
    digest = hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]
    return "%s/%s-%s.json" % (str(state_dir).rstrip("/"), re.sub(r"[^A-Za-z0-9_.-]", "_", name), digest)


class FilterModule(object):
    def filters(self):
        return dict(migration_record_path=migration_record_path)
