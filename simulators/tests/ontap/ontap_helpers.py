# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers for the ONTAP simulator tests: start ``ontap-sim serve``, build clients, wait on it."""

import json
import os
import shutil
import subprocess
import sys
import time
from urllib.parse import urlsplit

import requests
from netapp_lib.api.zapi import zapi

USER = "admin"
PASSWORD = "netapp1!"
AUTH = (USER, PASSWORD)
GIB = 1024 ** 3


def ontap_sim_command():
    found = shutil.which("ontap-sim")
    if found:
        return [found]
    beside = os.path.join(os.path.dirname(sys.executable), "ontap-sim")
    if os.path.exists(beside):
        return [beside]
    return [sys.executable, "-m", "datamotion_sim.ontap.cli"]


class Sim:
    """A running ``ontap-sim serve`` and the helpers tests use on it."""

    def __init__(self, *args):
        self.proc = subprocess.Popen(ontap_sim_command() + ["serve"] + list(args), stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("ontap-sim serve exited with %s before printing its JSON line" % self.proc.wait(10))
        self.ready = json.loads(line)
        self.clusters = self.ready["clusters"]
        self.control = self.ready["control"]
        self.src = self.clusters.get("src")
        self.dst = self.clusters.get("dst")

    def stop(self):
        self.proc.terminate()
        return self.proc.wait(10)

    # control endpoint
    def ctl(self, method, path, body=None):
        response = requests.request(method, self.control + path, json=body, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def reset(self):
        return self.ctl("POST", "/reset")

    def stats(self):
        return self.ctl("GET", "/stats")

    def state(self):
        return self.ctl("GET", "/state")

    def fault(self, **body):
        return self.ctl("POST", "/faults", body)

    def offline(self, cluster):
        return self.ctl("POST", "/clusters/%s/offline" % cluster)

    def online(self, cluster):
        return self.ctl("POST", "/clusters/%s/online" % cluster)

    def write(self, cluster, svm, volume, nbytes):
        return self.ctl("POST", "/volumes/write", {"cluster": cluster, "svm": svm, "volume": volume, "bytes": nbytes})

    def relationship(self, path, cluster="dst"):
        return self.state()[cluster]["relationships"].get(path)

    def wait_relationship(self, path, timeout=20, cluster="dst", **want):
        """Poll the model until the relationship has every wanted attribute (or fail with its last state)."""
        deadline = time.monotonic() + timeout
        rel = None
        while time.monotonic() < deadline:
            rel = self.relationship(path, cluster)
            if rel and all(rel.get(k) == v for k, v in want.items()):
                return rel
            time.sleep(0.05)
        raise AssertionError("relationship %s never reached %s; last: %s" % (path, want, rel))


def naserver(url, vserver=None, password=PASSWORD, timeout=None):
    """A netapp-lib NaServer for a simulator URL, as cinder and netapp.ontap build one."""
    parts = urlsplit(url)
    server = zapi.NaServer(parts.hostname, server_type=zapi.NaServer.SERVER_TYPE_FILER,
                           transport_type=parts.scheme.upper(), style=zapi.NaServer.STYLE_LOGIN_PASSWORD,
                           username=USER, password=password, port=str(parts.port))
    server.set_api_version(1, 110)
    if vserver:
        server.set_vserver(vserver)
    if timeout:
        server.set_timeout(timeout)
    return server


def invoke(server, api, tunnel=True, **args):
    """Call a ZAPI with dict arguments (as cinder's send_request does) and return the results element."""
    request = zapi.NaElement(api)
    if args:
        request.translate_struct(args)
    return server.invoke_successfully(request, enable_tunneling=tunnel)


def zapi_volume(server, name, size="1g", vol_type="rw", aggregate="aggr1", junction=None):
    args = {"volume": name, "containing-aggr-name": aggregate, "size": size, "volume-type": vol_type}
    if junction:
        args["junction-path"] = junction
    return invoke(server, "volume-create", **args)


def rest(method, url, path, auth=AUTH, **kwargs):
    return requests.request(method, url + path, auth=auth, timeout=30, **kwargs)


def rest_volume(url, svm, name, size=GIB, vol_type="rw", return_timeout=None):
    params = {"return_timeout": return_timeout} if return_timeout is not None else None
    body = {"name": name, "svm": {"name": svm}, "aggregates": [{"name": "aggr1"}], "size": size, "type": vol_type}
    response = rest("POST", url, "/api/storage/volumes", json=body, params=params)
    assert response.status_code in (201, 202), response.text
    return response


def wait_job(url, response, timeout=20):
    """Follow the job of a 202/201 answer to its end and return the job record."""
    href = response.json()["job"]["_links"]["self"]["href"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = rest("GET", url, href).json()
        if job["state"] not in ("queued", "running"):
            return job
        time.sleep(0.05)
    raise AssertionError("job %s still running" % href)


def mirror_pair(sim, name, size=GIB, data=0):
    """A source RW volume on src and a DP volume on dst (over REST), with ``data`` bytes written on the source."""
    for url, svm, vol_type in ((sim.src, "svm_src", "rw"), (sim.dst, "svm_dst", "dp")):
        assert wait_job(url, rest_volume(url, svm, name, size, vol_type))["state"] == "success"
    if data:
        sim.write("src", "svm_src", name, data)
