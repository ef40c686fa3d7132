# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the benchmarks that run the collection against vnx-sim share: a scratch workspace whose Ansible uses this
work tree's collection and a simulated array of its own, and the min / median / max of a measurement."""

from __future__ import absolute_import, division, print_function

import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
BIN = os.path.dirname(os.path.abspath(sys.executable))


def check_tools(*tools):
    for tool in tools:
        if not os.path.exists(os.path.join(BIN, tool)):
            sys.exit("%s not found next to %s: run with the dev venv's Python (.venv/bin/python)" % (tool, sys.executable))


@contextlib.contextmanager
def workspace(prefix):
    """(work, env): a scratch directory, and an environment whose ansible-playbook uses this work tree's collection
    and whose vnx-sim keeps its array under it. The array's loop devices and the directory go at the end."""
    work = tempfile.mkdtemp(prefix=prefix)
    coll = os.path.join(work, "collections", "ansible_collections", "storage")
    os.makedirs(coll)
    os.symlink(REPO, os.path.join(coll, "datamotion"))
    env = dict(os.environ, VNXSIM_HOME=os.path.join(work, "vnxsim"), PATH=BIN + os.pathsep + os.environ["PATH"],
               ANSIBLE_COLLECTIONS_PATH=os.path.join(work, "collections"), ANSIBLE_HOST_KEY_CHECKING="False")
    try:
        yield work, env
    finally:
        subprocess.run([os.path.join(BIN, "vnx-sim"), "teardown"], env=env, check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(work, ignore_errors=True)


def spread(values):
    """'min / median / max' of the values, one decimal."""
    values = list(values)
    return "%.1f / %.1f / %.1f" % (min(values), statistics.median(values), max(values))
