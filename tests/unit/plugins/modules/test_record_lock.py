# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""record_lock with real flocks and real holder processes: a second run is refused at once naming the record and
the holder, the run itself may take its locks again, release frees them, the end of the run frees them."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time

import pytest

from ansible_collections.storage.datamotion.plugins.module_utils import recordlock
from ansible_collections.storage.datamotion.plugins.modules import record_lock


@pytest.fixture
def records(tmp_path):
    paths = [str(tmp_path / "retire_a.json"), str(tmp_path / "retire_b.json")]
    yield paths
    for play_host in ("", "localhost"):  # no holder outlives a test
        recordlock.release(paths, "run A", play_host=play_host)


def free(path):
    if not os.path.exists(recordlock.lock_path(path)):
        return True
    fd = os.open(recordlock.lock_path(path), os.O_RDWR)
    try:
        return recordlock.try_lock(fd)
    finally:
        os.close(fd)


def test_second_run_is_refused_at_once_naming_record_and_holder(records, run_module):
    status, result = run_module(record_lock, {"paths": records, "owner": "run A", "holder": "AWX job 41"})
    assert status == "exit" and result["acquired"] == sorted(records)
    # the task has ended: the lock is still held, by the holder process
    assert not free(records[0])

    status, result = run_module(record_lock, {"paths": [records[1]], "owner": "run B", "holder": "AWX job 42"})
    assert status == "fail"
    assert "record %s is locked by another run: AWX job 41" % records[1] in result["msg"]
    assert "Nothing was changed" in result["msg"] and result["acquired"] == []


def test_check_mode_fails_as_the_real_run_and_takes_nothing(records, run_module):
    status, result = run_module(record_lock, {"paths": records, "owner": "run B"}, check_mode=True)
    assert status == "exit" and free(records[0]) and free(records[1])
    recordlock.acquire([records[0]], "run A", "AWX job 41")
    status, result = run_module(record_lock, {"paths": records, "owner": "run B"}, check_mode=True)
    assert status == "fail" and "AWX job 41" in result["msg"]
    # all or nothing: the free one was not kept
    assert free(records[1])


def test_the_run_takes_its_own_lock_again_and_releases_it(records, run_module):
    assert recordlock.acquire(records, "run A", "playbook") == sorted(records)
    status, result = run_module(record_lock, {"paths": [records[0]], "owner": "run A"})
    assert status == "exit" and result["acquired"] == [] and not result["actions"]

    status, result = run_module(record_lock, {"paths": records, "owner": "run B", "state": "absent"})
    assert status == "exit" and result["released"] == [] and not free(records[0])

    status, result = run_module(record_lock, {"paths": records, "owner": "run A", "state": "absent"})
    assert status == "exit" and result["released"] == sorted(records)
    assert free(records[0]) and free(records[1])


def test_a_waiting_run_gets_the_lock_once_the_holding_run_ends(records):
    run = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        recordlock.acquire(records, "run A", "killed run", owner_pid=run.pid)
        with pytest.raises(recordlock.LockBusy):
            recordlock.acquire(records, "run B", "second run")
    finally:
        run.kill()
        run.wait()
    # its holder sees the run gone and lets go; a new run waits for that even with timeout 0
    assert recordlock.acquire(records, "run B", "second run") == sorted(records)
    recordlock.release(records, "run B")


def test_waits_up_to_timeout_then_names_the_wait(records):
    recordlock.acquire(records, "run A", "AWX job 41")
    with pytest.raises(recordlock.LockBusy, match="waited 1 s"):
        recordlock.acquire(records, "run B", "second run", timeout=1)
    fd = os.open(recordlock.lock_path(records[0]), os.O_RDWR)
    try:
        with pytest.raises(BlockingIOError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(fd)


def test_a_lock_released_at_once_is_released(tmp_path):
    # /proc/PID/cmdline of a new holder is empty for a moment after exec: a release in that moment must not miss it
    for attempt in range(20):
        paths = [str(tmp_path / ("r%d.json" % attempt))]
        assert recordlock.acquire(paths, "run A", "playbook") == paths
        assert recordlock.release(paths, "run A") == paths, "attempt %d" % attempt
        assert free(paths[0])


def test_another_host_of_the_same_run_is_refused_naming_both_hosts(records, run_module):
    # one machine under two inventory names (localhost, 127.0.0.1): one ansible-playbook, two play hosts
    status, result = run_module(record_lock, {"paths": records, "owner": "run A", "holder": "playbook", "play_host": "localhost"})
    assert status == "exit" and result["acquired"] == sorted(records)

    status, result = run_module(record_lock, {"paths": [records[1]], "owner": "run A", "play_host": "127.0.0.1"})
    assert status == "fail" and result["acquired"] == []
    assert "record %s is locked by inventory host localhost of this same run (playbook): host 127.0.0.1" % records[1] in result["msg"]
    assert "Nothing was changed" in result["msg"]
    # the other host releases nothing of the first's; the first still takes its own again, then releases them
    status, result = run_module(record_lock, {"paths": records, "owner": "run A", "play_host": "127.0.0.1", "state": "absent"})
    assert status == "exit" and result["released"] == [] and not free(records[0])
    status, result = run_module(record_lock, {"paths": records, "owner": "run A", "play_host": "localhost"})
    assert status == "exit" and result["acquired"] == []
    status, result = run_module(record_lock, {"paths": records, "owner": "run A", "play_host": "localhost", "state": "absent"})
    assert status == "exit" and result["released"] == sorted(records) and free(records[0]) and free(records[1])


def test_a_refused_host_keeps_none_of_the_free_locks(records):
    recordlock.acquire([records[1]], "run A", "playbook", play_host="localhost")
    with pytest.raises(recordlock.LockBusy, match="host 127.0.0.1 may not take it too"):
        recordlock.acquire(records, "run A", "playbook", play_host="127.0.0.1")
    assert free(records[0])
    assert recordlock.release(records, "run A", play_host="localhost") == [records[1]]


def wait_free(path, seconds):
    deadline = time.time() + seconds
    while not free(path) and time.time() < deadline:
        time.sleep(0.1)
    return free(path)


def test_a_killed_run_on_another_machine_gives_its_locks_up_after_its_lease(records):
    # each test its own owner: the tests run at once, and a task of one would renew another's lease
    # no owner_pid: this host cannot see the run end; no task of it works here
    recordlock.acquire(records, "run K", "killed run", lease=1)
    assert not free(records[0])
    assert wait_free(records[0], 3) and free(records[1])


def test_a_run_on_another_machine_keeps_its_locks_past_the_lease_while_its_task_works_here(records):
    # a long copy of the run on this host: its process carries the run's mark (the play's environment)
    copy = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3)"],
                            env=dict(os.environ, STORAGE_DATAMOTION_RUN="run W"))
    try:
        recordlock.acquire(records, "run W", "playbook", lease=1)
        time.sleep(2)
        assert not free(records[0])
        with pytest.raises(recordlock.LockBusy):
            recordlock.acquire(records, "run B", "second run")
    finally:
        copy.wait()
    # the copy ended and the run did not come back: one lease later the locks are free
    assert wait_free(records[0], 3)


def test_another_run_s_task_does_not_renew_the_lease(records):
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(4)"],
                             env=dict(os.environ, STORAGE_DATAMOTION_RUN="run Y"))
    try:
        recordlock.acquire(records, "run X", "killed run", lease=1)
        assert wait_free(records[0], 3)
    finally:
        other.kill()
        other.wait()


def test_a_run_on_this_machine_keeps_its_locks_as_long_as_it_runs_whatever_the_lease(records):
    run = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        recordlock.acquire(records, "run A", "playbook", owner_pid=run.pid, lease=1)
        time.sleep(2)
        assert not free(records[0])
    finally:
        run.kill()
        run.wait()
    assert wait_free(records[0], 3)


def test_the_result_names_the_run_for_its_tasks_environment(records, run_module):
    status, result = run_module(record_lock, {"paths": records, "owner": "run A", "lease": 60})
    assert status == "exit" and result["owner"] == "run A"
