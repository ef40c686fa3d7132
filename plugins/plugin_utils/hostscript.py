# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small Python script run on the task's host through its connection (with become): one command, no module.

A module run costs a Python start with Ansible's imports; the actions that read and write a few small files on the
host (migration_record, backup_catalog) send their script as ``python -c`` instead. The script prints one JSON
object on its last line, ``{"error": ...}`` with exit code 1 when it fails.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import shlex

# Python source, for the scripts: write_atomic(path, text) writes a temporary file in the file's directory (mode
# 0600), syncs it and renames it over the file, so a kill at any point leaves the old file or the new one, whole.
# Temporary files a killed write left are removed first (the caller holds the file's lock).
WRITE_ATOMIC = r"""
import os, tempfile


def sync_dir(d):
    fd = os.open(d, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path, text):
    d, base = os.path.split(path)
    d = d or "."
    for name in os.listdir(d):
        if name.startswith("." + base + ".") and name.endswith(".tmp"):
            os.unlink(os.path.join(d, name))
    fd, tmp = tempfile.mkstemp(prefix="." + base + ".", suffix=".tmp", dir=d)
    try:
        try:
            data = text.encode("utf-8")
            while data:
                data = data[os.write(fd, data):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(tmp, path)
    except EnvironmentError:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    sync_dir(d)
"""


def render(record):
    """A JSON file's text as the roles have always written it (to_nice_json and a newline): records, manifests."""
    return json.dumps(record, indent=4, sort_keys=True, separators=(",", ": ")) + "\n"


def python(action, task_vars):
    """The host's Python: ansible_python_interpreter, else the one discovered for modules."""
    interpreter = task_vars.get("ansible_python_interpreter")
    if interpreter:
        interpreter = action._templar.template(interpreter)
    if not interpreter or interpreter.startswith("auto"):
        interpreter = task_vars.get("ansible_facts", {}).get("discovered_interpreter_python") or "/usr/bin/python3"
    return interpreter


def run(action, task_vars, script, args, stdin=None):
    """Run SCRIPT with ARGS on the host; returns its JSON answer, or {"error": ...} (also when it exits non-zero)."""
    cmd = " ".join(shlex.quote(a) for a in [python(action, task_vars), "-c", script] + list(args))
    res = action._low_level_execute_command(cmd, sudoable=True, in_data=stdin.encode("utf-8") if stdin is not None else None)
    try:
        answer = json.loads(res["stdout"].strip().splitlines()[-1])
    except (ValueError, IndexError):
        answer = {"error": (res.get("stderr") or res.get("stdout") or "no output").strip()}
    if res["rc"] != 0 and "error" not in answer:
        answer["error"] = "rc %s" % res["rc"]
    return answer
