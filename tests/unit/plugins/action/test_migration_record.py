# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""migration_record's command run for real on this host (as the connection would run it): a write is atomic - a
process killed between writing the temporary file and renaming it leaves the old record whole - the record is mode
0600, an unchanged record is not written, a missing one reads as empty. Only the connection is faked: it runs the
command here."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from unittest import mock

from ansible_collections.storage.datamotion.plugins.action import migration_record


def command(path, op, data=None, prelude=""):
    """The action's command, run as the connection runs it; prelude runs first (in the same process)."""
    proc = subprocess.run([sys.executable, "-c", prelude + migration_record.SCRIPT, path, op], input=data,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


# the process kills itself where the write would rename the temporary file over the record
KILL_AT_RENAME = "import os, signal\nos.rename = lambda *a: os.kill(os.getpid(), signal.SIGKILL)\n"


def test_kill_between_temp_write_and_rename_leaves_the_old_record_intact(tmp_path):
    path = str(tmp_path / "retire_a.json")
    old = migration_record.render({"state": "copying", "exposed": {"lun_a": "60:06"}})
    assert command(path, "write", old.encode())[0] == 0
    rc, _out, _err = command(path, "write", migration_record.render({"state": "done"}).encode(), KILL_AT_RENAME)
    assert rc == -signal.SIGKILL
    with open(path) as f:
        assert f.read() == old
    # the killed write's temporary file holds the new record, synced: only the rename was missing
    temps = [n for n in os.listdir(str(tmp_path)) if n.endswith(".tmp")]
    assert len(temps) == 1
    # the next write replaces the record and takes the left-over away
    rc, out, _err = command(path, "write", migration_record.render({"state": "done"}).encode())
    assert rc == 0 and json.loads(out) == {"before": old, "changed": True}
    assert sorted(os.listdir(str(tmp_path))) == ["retire_a.json"]
    assert json.loads(open(path).read()) == {"state": "done"}


def test_record_is_private_and_an_unchanged_one_is_not_written(tmp_path):
    path = str(tmp_path / "retire_a.json")
    text = migration_record.render({"state": "done"})
    assert json.loads(command(path, "write", text.encode())[1])["changed"] is True
    assert os.stat(path).st_mode & 0o777 == 0o600
    inode = os.stat(path).st_ino
    assert json.loads(command(path, "write", text.encode())[1]) == {"before": text, "changed": False}
    assert os.stat(path).st_ino == inode


def test_missing_record_reads_as_none_and_a_missing_directory_fails_with_the_reason(tmp_path):
    assert json.loads(command(str(tmp_path / "none.json"), "read")[1]) == {"before": None, "changed": False}
    rc, out, _err = command(str(tmp_path / "no" / "such.json"), "write", b"{}\n")
    assert rc == 1 and "No such file or directory" in json.loads(out)["error"]


class Connection:
    """Runs the action's command on this host, as a local connection would (with its stdin)."""

    def __init__(self):
        self.commands = []

    def run(self, cmd, sudoable=True, in_data=None):
        self.commands.append((cmd, sudoable))
        proc = subprocess.run(cmd, shell=True, input=in_data, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        return {"rc": proc.returncode, "stdout": proc.stdout.decode(), "stderr": proc.stderr.decode()}


def run_action(args, check_mode=False, diff=False):
    task = mock.MagicMock(args=args, check_mode=check_mode, diff=diff, async_val=0)
    action = migration_record.ActionModule(task, mock.MagicMock(), mock.MagicMock(), loader=None,
                                           templar=mock.MagicMock(template=lambda v: v), shared_loader_obj=None)
    conn = Connection()
    with mock.patch.object(migration_record.ActionBase, "run", return_value={}), \
            mock.patch.object(action, "_low_level_execute_command", conn.run):
        return action.run(task_vars={"ansible_python_interpreter": sys.executable}), conn


def test_action_writes_reads_and_predicts_in_check_mode(tmp_path):
    path = str(tmp_path / "retire_a.json")
    result, _conn = run_action({"path": path})
    assert result == {"changed": False, "record": {}, "exists": False, "actions": []}
    result, conn = run_action({"path": path, "record": {"state": "copying"}}, diff=True)
    assert result["changed"] and result["actions"] == ["write " + path] and result["diff"]["before"] == ""
    assert len(conn.commands) == 1 and conn.commands[0][1] is True   # one command, with become when asked
    # check mode writes nothing and tells whether it would
    result, _conn = run_action({"path": path, "record": {"state": "done"}}, check_mode=True)
    assert result["changed"] and run_action({"path": path})[0]["record"] == {"state": "copying"}
    result, _conn = run_action({"path": path, "record": {"state": "copying"}}, check_mode=True)
    assert not result["changed"]


def test_action_refuses_a_record_that_is_not_json(tmp_path):
    path = tmp_path / "retire_a.json"
    path.write_text("{half")
    result, _conn = run_action({"path": str(path)})
    assert result["failed"] and "the record is not JSON" in result["msg"]
