# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""signal_run: a run is killed, paused and resumed as a whole, its setsid'ed workers and their modules too."""

import os
import signal
import subprocess
import sys
import time

import pytest

from datamotion_sim.play import signal_run, wait_gone

# A stand-in for ansible-playbook: a fork worker that calls setsid, as ansible-core's do, runs a module; the module
# starts a child in a session of its own and writes until told to stop. Each writes its pid to the directory.
RUN = r'''
import os, subprocess, sys
here = sys.argv[1]
MODULE = """
import os, subprocess, sys, time
here = sys.argv[1]
child = subprocess.Popen([sys.executable, '-c', 'import time\\nwhile True: time.sleep(0.05)'], start_new_session=True)
open(os.path.join(here, 'child'), 'w').write(str(child.pid))
open(os.path.join(here, 'module'), 'w').write(str(os.getpid()))
n = 0
while not os.path.exists(os.path.join(here, 'finish')):
    n += 1
    open(os.path.join(here, 'progress'), 'w').write(str(n))
    time.sleep(0.01)
child.kill()
"""
pid = os.fork()
if pid == 0:
    os.setsid()
    open(os.path.join(here, 'worker'), 'w').write(str(os.getpid()))
    os._exit(subprocess.call([sys.executable, '-c', MODULE, here]))
os._exit(os.waitpid(pid, 0)[1] >> 8)
'''
PARTS = ('worker', 'module', 'child')


def state(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0]
    except OSError:
        return 'gone'


def until(what, timeout=30):
    deadline = time.time() + timeout
    while not what() and time.time() < deadline:
        time.sleep(0.01)
    return what()


@pytest.fixture
def run(tmp_path):
    proc = subprocess.Popen([sys.executable, '-c', RUN, str(tmp_path)], start_new_session=True)
    assert until(lambda: all((tmp_path / p).exists() and (tmp_path / p).read_text() for p in PARTS))
    pids = dict((p, int((tmp_path / p).read_text())) for p in PARTS)
    # the worker and its module in the worker's group, the module's child in its own: neither is the run's group
    assert os.getpgid(pids['module']) == pids['worker'] and os.getpgid(pids['child']) == pids['child']
    yield proc, pids, tmp_path
    for pid in [proc.pid] + list(pids.values()):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    proc.wait()


def test_kill_ends_every_process_of_the_run(run):
    proc, pids, dummy = run
    groups = signal_run(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    assert wait_gone(groups) == []
    assert dict((p, state(pid)) for p, pid in pids.items() if state(pid) not in ('Z', 'gone')) == {}


def test_stop_pauses_every_process_of_the_run_and_cont_resumes_it(run):
    proc, pids, here = run
    signal_run(proc.pid, signal.SIGSTOP)
    everyone = dict(pids, run=proc.pid)
    assert until(lambda: all(state(pid) == 'T' for pid in everyone.values())), \
        dict((p, state(pid)) for p, pid in everyone.items())
    (here / 'finish').write_text('')
    signal_run(proc.pid, signal.SIGCONT)
    assert proc.wait(timeout=30) == 0


def test_only_a_run_in_a_session_of_its_own(tmp_path):
    sleeper = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])
    try:
        with pytest.raises(ValueError, match='does not lead its own process group'):
            signal_run(sleeper.pid, signal.SIGKILL)
        assert sleeper.poll() is None
    finally:
        sleeper.kill()
        sleeper.wait()
