# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action of storage.datamotion.migration_record: reads or writes a migration's record on the host with one command.

A module run costs a Python start with Ansible's imports and, through `ansible.builtin.copy`, two of them per write;
the migration role writes its record several times per volume. This runs one small Python script through the
connection (with become, plugin_utils.hostscript) instead, the new record on its stdin.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible_collections.storage.datamotion.plugins.plugin_utils import hostscript
from ansible_collections.storage.datamotion.plugins.plugin_utils.hostscript import render

# Runs on the host: `<python> -c SCRIPT <path> read|write`. It prints {"before": the record's text or null,
# "changed": ...}, or {"error": ...} with exit code 1. A write is write_atomic's (hostscript.WRITE_ATOMIC): a kill at
# any point leaves the old record or the new one, whole.
SCRIPT = hostscript.WRITE_ATOMIC + r"""
import errno, json, sys
path, op = sys.argv[1], sys.argv[2]
try:
    try:
        with open(path, "rb") as f:
            before = f.read().decode("utf-8")
    except EnvironmentError as e:
        if e.errno not in (errno.ENOENT, errno.ENOTDIR):
            raise
        before = None
    new = getattr(sys.stdin, "buffer", sys.stdin).read().decode("utf-8") if op == "write" else None
    changed = new is not None and new != before
    if changed:
        write_atomic(path, new)
except EnvironmentError as e:
    print(json.dumps({"error": str(e)}))
    sys.exit(1)
print(json.dumps({"before": before, "changed": changed}))
"""


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("path", "record"))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        path = self._task.args.get("path")
        record = self._task.args.get("record")
        if not path or not isinstance(path, str):
            raise AnsibleActionFail("migration_record: path is required, the record's file on the host")
        if record is not None and not isinstance(record, dict):
            raise AnsibleActionFail("migration_record: record must be a dictionary, got %s" % type(record).__name__)
        new = None if record is None else render(record)
        op = "write" if new is not None and not self._task.check_mode else "read"
        answer = hostscript.run(self, task_vars, SCRIPT, [path, op], new if op == "write" else None)
        if "error" in answer:
            result.update(failed=True, msg="migration_record %s: %s %s - check that the records' directory exists and "
                          "is writable by the task's user (become)" % (path, op, answer["error"]))
            return result
        before = answer["before"]
        if new is None:
            try:
                result["record"] = json.loads(before) if before is not None else {}
            except ValueError as e:
                result.update(failed=True, msg="migration_record %s: the record is not JSON (%s); it was written by "
                              "something else than the migration role: move it away only if no run of this migration "
                              "made anything" % (path, e))
                return result
            result.update(changed=False, exists=before is not None, actions=[])
            return result
        result.update(changed=new != before, record=record, exists=True,
                      actions=["write %s" % path] if new != before else [])
        if self._task.diff and new != before:
            result["diff"] = dict(before=before or "", after=new, before_header=path, after_header=path)
        return result
