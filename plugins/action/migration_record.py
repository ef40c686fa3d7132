# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action of storage.datamotion.migration_record: reads or writes a migration's record on the host with one command.

A module run costs a Python start with Ansible's imports and, through `ansible.builtin.copy`, two of them per write;
the migration role writes its record several times per volume. This runs one small Python script through the
connection (with become) instead, the new record on its stdin.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import shlex

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

# Runs on the host: `<python> -c SCRIPT <path> read|write`. It prints {"before": the record's text or null,
# "changed": ...}, or {"error": ...} with exit code 1. A write goes to a temporary file in the record's directory
# (mode 0600), is synced, and is renamed over the record, so a kill at any point leaves the old record or the new
# one, whole. Temporary files a killed write left are removed first (the run holds the record's lock).
SCRIPT = r"""
import errno, json, os, sys, tempfile
path, op = sys.argv[1], sys.argv[2]
d, base = os.path.split(path)
d = d or "."
tmp = None
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
        for name in os.listdir(d):
            if name.startswith("." + base + ".") and name.endswith(".tmp"):
                os.unlink(os.path.join(d, name))
        fd, tmp = tempfile.mkstemp(prefix="." + base + ".", suffix=".tmp", dir=d)
        try:
            data = new.encode("utf-8")
            while data:
                data = data[os.write(fd, data):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(tmp, path)
        tmp = None
        fd = os.open(d, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
except EnvironmentError as e:
    if tmp:
        os.unlink(tmp)
    print(json.dumps({"error": str(e)}))
    sys.exit(1)
print(json.dumps({"before": before, "changed": changed}))
"""


def render(record):
    """The record's text, as the role has always written it (to_nice_json and a newline)."""
    return json.dumps(record, indent=4, sort_keys=True, separators=(",", ": ")) + "\n"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("path", "record"))

    def _python(self, task_vars):
        python = task_vars.get("ansible_python_interpreter")
        if python:
            python = self._templar.template(python)
        if not python or python.startswith("auto"):
            python = task_vars.get("ansible_facts", {}).get("discovered_interpreter_python") or "/usr/bin/python3"
        return python

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
        cmd = " ".join(shlex.quote(a) for a in (self._python(task_vars), "-c", SCRIPT, path, op))
        res = self._low_level_execute_command(cmd, sudoable=True, in_data=new.encode("utf-8") if op == "write" else None)
        try:
            answer = json.loads(res["stdout"].strip().splitlines()[-1])
        except (ValueError, IndexError):
            answer = {"error": (res.get("stderr") or res.get("stdout") or "no output").strip()}
        if res["rc"] != 0 or "error" in answer:
            result.update(failed=True, msg="migration_record %s: %s %s - check that the records' directory exists and "
                          "is writable by the task's user (become)" % (path, op, answer.get("error", "rc %s" % res["rc"])))
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
