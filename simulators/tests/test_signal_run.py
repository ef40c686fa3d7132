# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""extensions/molecule/utils/files/signal_run.py: the molecule scenarios' way to kill or pause a run in the middle
of a copy. The trigger must fire while the copy is writing, the whole run must be gone after a kill, and a signal
that came after the copy had written everything must fail the script."""

import importlib.util
import json
import os
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "extensions" / "molecule" / "utils" / "files" / "signal_run.py"
spec = importlib.util.spec_from_file_location("signal_run", str(SCRIPT))
signal_run = importlib.util.module_from_spec(spec)
spec.loader.exec_module(signal_run)

MIB = 1048576
# A stand-in for a module copying: writes TOTAL bytes to DEST in 512 KiB writes, PAUSE s apart, then DEST.done.
MODULE = r'''
import os, sys, time
dest, total, pause = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
fd = os.open(dest, os.O_WRONLY | os.O_CREAT, 0o600)
chunk = b"x" * 524288
for off in range(0, total, len(chunk)):
    os.pwrite(fd, chunk, off)
    time.sleep(pause)
os.close(fd)
open(dest + ".done", "w").close()
'''
# A stand-in for ansible-playbook: a fork worker calls setsid, as ansible-core's do, and runs the module.
RUN = r'''
import os, subprocess, sys
pid = os.fork()
if pid == 0:
    os.setsid()
    os._exit(subprocess.call([sys.executable, "-c", sys.argv[1]] + sys.argv[2:]))
os._exit(os.waitpid(pid, 0)[1] >> 8)
'''


def copy_run(dest, total, pause):
    return [sys.executable, "-c", RUN, MODULE, "AnsiballZ_sparse_volume_copy.py", str(dest), str(total), str(pause)]


def copy_trigger(min_bytes, total_bytes):
    return {"module": "sparse_volume_copy", "min_bytes": min_bytes, "total_bytes": total_bytes}


def test_kill_in_the_middle_of_the_copy(tmp_path):
    dest = tmp_path / "dest"
    out = signal_run.run({"command": copy_run(dest, 32 * MIB, 0.005), "signal": "KILL",
                          "copy": copy_trigger(4 * MIB, 32 * MIB)})
    assert out["error"] is None, out
    assert out["signalled"]
    assert 4 * MIB <= out["written"] < 32 * MIB
    assert out["left"] == []
    assert out["rc"] == -9
    assert not (tmp_path / "dest.done").exists()
    assert dest.stat().st_size <= out["written"] + 524288


def test_a_copy_stopped_after_its_last_write_fails_the_script(tmp_path, capsys):
    # the trigger is told the copy writes 2 MiB: at 4 MiB written it has written all of it, the kill came too late
    code = signal_run.main(["signal_run.py", json.dumps({"command": copy_run(tmp_path / "dest", 32 * MIB, 0.005),
                                                         "signal": "KILL", "copy": copy_trigger(4 * MIB, 2 * MIB)})])
    out = json.loads(capsys.readouterr().out)
    assert code == 1
    assert "all of its" in out["error"]
    assert out["left"] == []


def test_a_copy_that_ends_before_the_trigger_fails_the_script(tmp_path):
    out = signal_run.run({"command": copy_run(tmp_path / "dest", 2 * MIB, 0), "signal": "KILL",
                          "copy": copy_trigger(8 * MIB, 2 * MIB)})
    assert not out["signalled"]
    assert out["rc"] == 0
    assert "before the trigger fired" in out["error"]


def test_stop_pauses_the_copy_while_the_commands_run_then_it_goes_on(tmp_path):
    dest = tmp_path / "dest"
    size_twice = [sys.executable, "-c", "import os, sys, time\nfirst = os.path.getsize(sys.argv[1])\ntime.sleep(0.3)\n"
                  "print(first, os.path.getsize(sys.argv[1]))", str(dest)]
    out = signal_run.run({"command": copy_run(dest, 16 * MIB, 0.005), "signal": "STOP",
                          "copy": copy_trigger(2 * MIB, 16 * MIB), "while_stopped": [size_twice]})
    assert out["error"] is None, out
    first, second = out["while_stopped"][0]["out"].split()
    assert first == second
    assert int(first) < 16 * MIB
    assert out["rc"] == 0
    assert dest.stat().st_size == 16 * MIB
    assert (tmp_path / "dest.done").exists()


@pytest.mark.parametrize("old", [False, True])
def test_file_trigger_sees_a_new_file_and_what_was_beside_it(tmp_path, old):
    if old:
        (tmp_path / "old.img").write_text("there before the run")
    make = "import sys, time\nopen(sys.argv[1] + '.manifest.json', 'w').close()\nopen(sys.argv[1], 'w').close()\ntime.sleep(60)"
    out = signal_run.run({"command": [sys.executable, "-c", make, str(tmp_path / "new.img")], "signal": "KILL",
                          "file": str(tmp_path / "*.img")})
    assert out["error"] is None, out
    assert out["seen"] == str(tmp_path / "new.img")
    assert "new.img.manifest.json" in out["beside"]
    assert out["left"] == [] and out["rc"] == -9


def test_module_processes_are_found_by_their_wrapper_name(tmp_path):
    out = signal_run.run({"command": copy_run(tmp_path / "dest", 32 * MIB, 0.05), "signal": "KILL",
                          "copy": dict(copy_trigger(MIB, 32 * MIB), module="another_module"), "timeout": 1})
    assert not out["signalled"]
    assert "no trigger within 1 s" in out["error"]
    assert out["rc"] == -9
    assert os.path.getsize(tmp_path / "dest") < 32 * MIB
