#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: record_lock
short_description: Hold an exclusive lock on progress records for a whole run, so two runs never interleave
version_added: 0.3.0
description:
  - Takes an exclusive C(flock) on C(<record>.lock), next to each record in O(paths), and keeps it after the task
    ends - a small process on this host holds the locks until O(state=absent) releases them, the run that took them
    ends (O(owner_pid), a run on this host), or - for a run on another machine - its O(lease) is over.
  - The lease of a run on another machine is renewed for as long as a task of that run works on this host, its
    process carrying C(STORAGE_DATAMOTION_RUN=<owner>) in its environment (RV(owner); set it with the play's or
    the task's C(environment)) - a copy of any length keeps the locks. A run that was killed gives them up
    O(lease) seconds after its last such task here ended.
  - The task reports no change (the locks last only as long as the run; what it did is in RV(actions)), so a
    finished run stays idempotent - unless O(create_dirs) made a directory.
  - The lock file stays after the lock is released, by design - it holds only who took the lock last. Deleting it
    would let a run lock a new file of that name while a run that opened the old one still holds it, two holders at once.
  - All of O(paths) are taken or none. A lock held by another run fails the task at once (or after O(timeout)
    seconds), naming the record and the run that holds it; nothing is changed.
  - A lock this run (O(owner)) already holds for the same inventory host (O(play_host)) is taken again without a
    change, so a role that locks its records can run inside a playbook that locked them first on that host.
  - A lock this run holds for another inventory host is refused at once, naming both hosts - one machine under two
    inventory names (C(migrate01) and C(migrate01.example.com)) must not act on one record twice at once.
  - The action plugin fills in O(owner), O(holder), O(play_host) and, when the connection is local, O(owner_pid)
    with the C(ansible-playbook) process of this run and the task's inventory host; give them only to override that.
  - The action plugin runs the lock's code as one small Python command on the host through the connection (with
    become) - no module is started. The host needs a Python (the one of C(ansible_python_interpreter), or the one
    discovered for modules).
author:
  - Storage DataMotion Team (@storage-datamotion)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Takes nothing; fails as the real run would when another run holds a lock.
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
options:
  paths:
    description: The records to lock. Each lock is the file C(<record>.lock), created when missing (the record itself is not touched).
    type: list
    elements: path
    required: true
  state:
    description: V(present) takes and holds the locks; V(absent) releases the ones this run (O(owner)) holds.
    type: str
    choices: [present, absent]
    default: present
  owner:
    description: Who this run is, to tell its own locks from another run's. Filled in by the action plugin.
    type: str
  holder:
    description: How a second run names this one in its error. Filled in by the action plugin.
    type: str
  play_host:
    description:
      - The inventory host this lock is taken for (with O(state=absent), released for). Filled in by the action plugin.
    type: str
    default: ""
    version_added: 0.3.0
  owner_pid:
    description:
      - A process on this host whose end releases the locks (the C(ansible-playbook) of this run, with a local
        connection). V(0) - none, the locks are held until O(state=absent) or O(lease).
    type: int
    default: 0
  timeout:
    description: Seconds to wait for a lock that another run holds. V(0) fails at once.
    type: int
    default: 0
  lease:
    description:
      - Without O(owner_pid) (a run on another machine, whose end this host cannot see), how long in seconds the
        locks are held after the task, and after the last task of the run that carried C(STORAGE_DATAMOTION_RUN)
        on this host ended. With O(owner_pid) the locks last exactly as long as that process.
    type: int
    default: 86400
  create_dirs:
    description:
      - With O(state=present), make the records' directories (mode C(0700)) when they are missing - the task then
        reports a change. An existing directory is left as it is.
    type: bool
    default: false
    version_added: 0.3.0
"""

EXAMPLES = r"""
- name: Lock the records of this run's migrations
  storage.datamotion.record_lock:
    paths: [/var/lib/datamotion/migrations/retire_db01-1a2b3c4d.json]
  register: lock

- name: Release them
  storage.datamotion.record_lock:
    paths: "{{ lock.acquired }}"
    state: absent
"""

RETURN = r"""
acquired:
  description: The records whose locks this task took (not those this run already held).
  returned: always
  type: list
  elements: str
released:
  description: The records whose locks this task released.
  returned: always
  type: list
  elements: str
owner:
  description:
    - Who this run is (O(owner)). Tasks whose environment holds C(STORAGE_DATAMOTION_RUN) set to it renew the
      lease while they run.
  returned: always
  type: str
  version_added: 0.3.0
actions:
  description: What was done, one line each.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.storage.datamotion.plugins.module_utils.recordlock import ARGUMENT_SPEC, run


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    result, error = run(module.params, module.check_mode)
    if error:
        module.fail_json(msg=error, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
