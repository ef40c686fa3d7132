# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the probes of the replication role (replication_probe3, replication_probe4) share: calls to their ontap-sim
and runs of the collection's playbooks against it. A probe's argv: the simulator's ready file (files/sim.sh), the
work directory (backend.json from files/backend.py, the junctions file), use_rest; then the probe's own."""

import json
import os
import signal
import subprocess
import sys
import urllib.request

ready = json.load(open(sys.argv[1]))
work, use_rest = sys.argv[2], sys.argv[3]
control = ready["control"]
python = os.environ.get("ANSIBLE_TEST_PYTHON_INTERPRETER", sys.executable)


def call(method, url, body=None):
    req = urllib.request.Request(url, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    req.add_header("Authorization", "Basic YWRtaW46bmV0YXBwMSE=")   # admin:netapp1!
    with urllib.request.urlopen(req) as resp:
        text = resp.read()
        return json.loads(text) if text else {}


def ctl(path, body=None, method="POST"):
    """A call to the simulator's control endpoint."""
    return call(method, control + path, {} if body is None and method == "POST" else body)


def state():
    return call("GET", control + "/state")


def rest(cluster, method, path, body=None):
    """A call to a cluster's REST API."""
    return call(method, ready["clusters"][cluster].rstrip("/") + path, body)


def playbook(name, *extra, check=False, timeout=None):
    """Run playbook storage.datamotion.NAME on the backend in its own process group (so that kill_play kills it and
    nothing else): rc, output."""
    cmd = ["ansible-playbook", "-i", "localhost,", "-c", "local", "-e", "ansible_python_interpreter=" + python,
           "-e", "@" + os.path.join(work, "backend.json"), "-e", "replication_junctions_file=" + os.path.join(work, "j.json"),
           "storage.datamotion." + name] + list(extra) + (["--check"] if check else [])
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
                            env=dict(os.environ, PYTHONUNBUFFERED="1"))
    try:
        out = proc.communicate(timeout=timeout)[0]
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    return proc.returncode, out
