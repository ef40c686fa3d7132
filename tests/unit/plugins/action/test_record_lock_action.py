# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""record_lock's command run for real on this host (as the connection would run it, no module): create_dirs makes
the records' directory private, the lock outlives the command, a second run is refused naming the first, check
mode makes nothing, release frees the lock."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from ansible_collections.storage.datamotion.plugins.action import record_lock
from ansible_collections.storage.datamotion.plugins.module_utils import recordlock


def command(paths, owner, check=False, **options):
    params = dict(dict((k, v.get("default")) for k, v in recordlock.ARGUMENT_SPEC.items()), paths=paths, owner=owner,
                  **options)
    proc = subprocess.run([sys.executable, "-c", record_lock.script(), json.dumps(params), "check" if check else "run"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.decode().splitlines()[-1])


def test_create_dirs_then_lock_held_after_the_command_and_a_second_run_refused(tmp_path):
    record = str(tmp_path / "backups" / "db01")
    out = command([record], "run A", check=True, create_dirs=True)
    assert out["changed"] and out["acquired"] == [record] and not os.path.exists(str(tmp_path / "backups"))
    try:
        out = command([record], "run A", create_dirs=True, holder="AWX job 41")
        assert out["changed"] and out["acquired"] == [record] and "failed" not in out
        assert os.stat(str(tmp_path / "backups")).st_mode & 0o777 == 0o700
        out = command([record], "run B", create_dirs=True)
        assert out["failed"] and "is locked by another run: AWX job 41" in out["msg"] and out["acquired"] == []
        assert not command([record], "run A", create_dirs=True)["changed"]
    finally:
        out = command([record], "run A", state="absent")
    assert out["released"] == [record]
    assert command([record], "run B")["acquired"] == [record]
    assert command([record], "run B", state="absent")["released"] == [record]
