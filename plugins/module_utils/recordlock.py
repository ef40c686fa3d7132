# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exclusive locks on progress records that outlive the task that takes them (module record_lock).

A lock is a flock on <record>.lock; the process that holds it is a small holder started here, in a session of its
own, which lets go when it is told to (SIGTERM), when the run that took it ends, or when its lease is over. The
lock file holds who took it, so a second run can name the holder.

The end of a run is seen here only when the run is on this machine (owner_pid). A run on another machine is seen
through its tasks on this host: a task that carries RUN_ENV=<owner> in its environment (a play's `environment:`)
renews the lease for as long as its process lives, so a copy of any length keeps the locks, and a killed run
gives them up one lease after its last task here ended.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time


HOLDER_MARK = "storage.datamotion.record_lock holder"
# the environment variable that names the run in its tasks' processes on the host (see the module's docs)
RUN_ENV = "STORAGE_DATAMOTION_RUN"
# runs in its own process; its inherited descriptors 3.. are the locks: they go when it exits. With the run's process
# here (owner_pid) it holds them while that process lives; else for the lease, renewed while a task of the run works
HOLDER_CODE = r"""
import os, signal, sys, time
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
owner_pid, owner_start, lease, mark = int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), sys.argv[5].encode()
def alive():
    try:
        with open('/proc/%d/stat' % owner_pid) as f:
            return f.read().rsplit(')', 1)[1].split()[19] == owner_start
    except (OSError, IndexError):
        return False
def working():
    for pid in os.listdir('/proc'):
        if pid.isdigit() and int(pid) != os.getpid():
            try:
                with open('/proc/%s/environ' % pid, 'rb') as f:
                    if mark in f.read().split(b'\0'):
                        return True
            except OSError:
                pass
    return False
deadline = time.time() + lease
while alive() if owner_pid else (time.time() < deadline or working()):
    if not owner_pid and time.time() >= deadline:
        deadline = time.time() + lease
    time.sleep(0.2)
"""


# record_lock's options (the module's, and what its action checks before it runs run() on the host)
ARGUMENT_SPEC = dict(
    paths=dict(type="list", elements="path", required=True),
    state=dict(type="str", default="present", choices=["present", "absent"]),
    owner=dict(type="str"),
    holder=dict(type="str"),
    owner_pid=dict(type="int", default=0),
    play_host=dict(type="str", default=""),
    timeout=dict(type="int", default=0),
    lease=dict(type="int", default=86400),
    create_dirs=dict(type="bool", default=False),
)


class LockBusy(Exception):
    pass


def lock_path(path):
    return path + ".lock"


def process_start(pid):
    """The start time of a process (field 22 of /proc/PID/stat): a pid and its start name one process."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def read_holder(fd):
    try:
        return json.loads(os.pread(fd, 65536, 0).decode("utf-8") or "{}")
    except ValueError:
        return {}


def try_lock(fd):
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError as e:
        if e.errno in (errno.EAGAIN, errno.EACCES):
            return False
        raise


def owner_gone(info):
    """The run that holds it has ended (its holder is about to let go)."""
    pid = info.get("owner_pid") or 0
    return bool(pid) and info.get("host") == socket.gethostname() and process_start(pid) != info.get("owner_start")


def same_run_message(path, info, play_host):
    return (
        "record %s is locked by inventory host %s of this same run (%s): host %s may not take it too. Two hosts of one "
        "run on one record (one machine under two inventory names, or hosts sharing the records' directory) would act "
        "on each other's state at once: give it to one of them. Nothing was changed."
        % (path, info.get("play_host") or "?", info.get("holder") or "?", play_host or "?"))


def busy_message(path, info, waited):
    holder = info.get("holder") or "a run that has not written its name yet"
    where = "process %s on %s" % (info.get("holder_pid", "?"), info.get("host", "?"))
    return (
        "record %s is locked by another run: %s (lock %s held by %s since %s%s). Two runs on one record would act "
        "on each other's state: wait for that run to end and run again; if it was killed and cannot end, end %s "
        "to release the lock. Nothing was changed."
        % (path, holder, lock_path(path), where, info.get("since", "?"),
           ", waited %d s" % waited if waited else "", where))


def open_locks(paths, create=True):
    """The lock files of PATHS, open; without CREATE a missing one (a free lock) is left out."""
    fds = {}
    for path in paths:
        if create or os.path.exists(lock_path(path)):
            fds[path] = os.open(lock_path(path), os.O_RDWR | (os.O_CREAT if create else 0), 0o600)
    return fds


def acquire(paths, owner, holder, owner_pid=0, timeout=0, lease=86400, check_mode=False, sleep=0.2, play_host=""):
    """Take the locks of all PATHS or none. Returns the paths newly taken; raises LockBusy naming the holder.

    A lock of this OWNER is taken again only for the same PLAY_HOST: another host of the same run is refused at once."""
    fds = open_locks(paths, create=not check_mode)
    try:
        start = time.time()
        while True:
            taken, ours, busy = [], [], None
            for path, fd in fds.items():
                if try_lock(fd):
                    taken.append(path)
                    continue
                info = read_holder(fd)
                if owner and info.get("owner") == owner:
                    if (info.get("play_host") or "") != (play_host or ""):
                        for other in taken:
                            fcntl.flock(fds[other], fcntl.LOCK_UN)
                        raise LockBusy(same_run_message(path, info, play_host))
                    ours.append(path)
                elif busy is None:
                    busy = (path, info)
            if busy is None:
                break
            for path in taken:
                fcntl.flock(fds[path], fcntl.LOCK_UN)
            waited = time.time() - start
            # a holder whose run has ended lets go within a moment: wait for it even with timeout 0
            if waited >= max(timeout, 5 if owner_gone(busy[1]) else 0):
                raise LockBusy(busy_message(busy[0], busy[1], int(waited)))
            time.sleep(sleep)
        if check_mode:
            return [p for p in paths if p not in ours]
        if not taken:
            return taken
        # the holder outlives this module with the locked descriptors, which run_command cannot give it
        # without the run's mark in its own environment: it would take itself for a task of the run
        holder_proc = subprocess.Popen(  # pylint: disable=ansible-bad-function
            [sys.executable, "-c", HOLDER_CODE, HOLDER_MARK, str(owner_pid), process_start(owner_pid) if owner_pid else "",
             str(lease), "%s=%s" % (RUN_ENV, owner)] + [lock_path(p) for p in taken],
            pass_fds=[fds[p] for p in taken], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True,
            env={k: v for k, v in os.environ.items() if k != RUN_ENV})
        # the kernel fills in /proc/PID/cmdline a moment after exec: until then release() cannot tell the holder
        started = time.time()
        while not is_holder(holder_proc.pid) and holder_proc.poll() is None and time.time() - started < 10:
            time.sleep(0.01)
        info = json.dumps({
            "owner": owner, "play_host": play_host or "", "holder": holder, "holder_pid": holder_proc.pid, "host": socket.gethostname(),
            "owner_pid": owner_pid, "owner_start": process_start(owner_pid) if owner_pid else "",
            "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}).encode("utf-8")
        for path in taken:
            os.ftruncate(fds[path], 0)
            os.pwrite(fds[path], info, 0)
        return taken
    finally:
        for fd in fds.values():
            os.close(fd)


def is_holder(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return HOLDER_MARK.encode("utf-8") in f.read()
    except OSError:
        return False


def release(paths, owner, check_mode=False, timeout=10, sleep=0.1, play_host=""):
    """Release the locks of PATHS that OWNER holds for PLAY_HOST (another run's or host's are left alone). Returns the
    paths released."""
    fds = open_locks(paths, create=False)
    try:
        mine = {}
        for path, fd in fds.items():
            if try_lock(fd):
                fcntl.flock(fd, fcntl.LOCK_UN)
                continue
            info = read_holder(fd)
            if info.get("owner") == owner and (info.get("play_host") or "") == (play_host or "") and is_holder(info.get("holder_pid") or 0):
                mine[path] = info["holder_pid"]
        if check_mode or not mine:
            return sorted(mine)
        for pid in set(mine.values()):
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass
        deadline = time.time() + timeout
        for path in mine:
            while not try_lock(fds[path]) and time.time() < deadline:
                time.sleep(sleep)
            os.ftruncate(fds[path], 0)
            fcntl.flock(fds[path], fcntl.LOCK_UN)
        return sorted(mine)
    finally:
        for fd in fds.values():
            os.close(fd)


def run(params, check_mode=False):
    """What record_lock does with its (checked) options on this host: (its result, an error message or None)."""
    owner = params["owner"] or "pid %d on %s" % (os.getppid(), socket.gethostname())
    paths = sorted(set(params["paths"]))
    result = dict(changed=False, acquired=[], released=[], actions=[], owner=owner)
    try:
        if params["state"] == "present":
            if params.get("create_dirs"):
                for d in sorted(set(os.path.dirname(p) for p in paths)):
                    if d and not os.path.isdir(d):
                        if not check_mode:
                            os.makedirs(d, 0o700)
                        result["changed"] = True
                        result["actions"].append("make directory %s" % d)
            result["acquired"] = acquire(paths, owner, params["holder"] or owner, params["owner_pid"], params["timeout"],
                                         params["lease"], check_mode, play_host=params.get("play_host") or "")
            result["actions"] += ["lock %s" % path for path in result["acquired"]]
        else:
            result["released"] = release(paths, owner, check_mode, play_host=params.get("play_host") or "")
            result["actions"] = ["unlock %s" % path for path in result["released"]]
    except LockBusy as e:
        return result, str(e)
    except OSError as e:
        return result, ("record_lock %s: %s - check that the records' directory exists and is writable"
                        % (", ".join(paths), e))
    return result, None
