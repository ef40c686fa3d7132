# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``ontap-sim serve`` itself: HTTPS with a self-signed certificate, seeds, clean stop."""

import signal
import socket
import ssl
import subprocess
from urllib.parse import urlsplit

import pytest
import requests
from netapp_lib.api.zapi import zapi
from netapp_ontap import HostConnection
from netapp_ontap.resources import Volume

from ontap_helpers import AUTH, GIB, Sim, invoke, naserver, ontap_sim_command, rest

SEED = """
clusters:
  - name: prod
    version: 9.11.1
    users: [{name: ops, password: s3cret}]
    aggregates: [{name: aggr_a, size: 2TiB, available: 1TiB}, {name: aggr_b, size: 500GiB}]
    svms: [{name: svm_prod, aggregates: [aggr_a]}]
    volumes:
      - {svm: svm_prod, name: db, size: 100GiB, aggregate: aggr_a, junction_path: /db, used: 10GiB}
  - name: dr
    users: [{name: ops, password: s3cret}]
    svms: [{name: svm_dr}, {name: svm_lonely}]
    volumes:
      - {svm: svm_dr, name: db, size: 100GiB, type: dp}
      - {svm: svm_lonely, name: db, size: 100GiB, type: dp}
peers:
  - {cluster: prod, svm: svm_prod, peer_cluster: dr, peer_svm: svm_dr}
"""


@pytest.fixture(scope="module")
def https_sim():
    server = Sim("--https")
    yield server
    assert server.stop() == 0


def test_https_with_self_signed_certificate(https_sim, monkeypatch):
    assert https_sim.dst.startswith("https://")
    cert = https_sim.ready["certificate"]
    assert requests.get(https_sim.dst + "/api/cluster", auth=AUTH, verify=cert, timeout=10).status_code == 200
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(https_sim.dst + "/api/cluster", auth=AUTH, timeout=10)
    parts = urlsplit(https_sim.src)
    with HostConnection(parts.hostname, port=parts.port, username=AUTH[0], password=AUTH[1], verify=False):
        Volume(name="v1", svm={"name": "svm_src"}, aggregates=[{"name": "aggr1"}], size=GIB).post(poll_interval=0.05)
    assert "svm_src:v1" in https_sim.state()["src"]["volumes"]
    # netapp-lib verifies with the default context: unverified, as netapp.ontap does with validate_certs: false
    monkeypatch.setattr(ssl, "_create_default_https_context", ssl._create_unverified_context)  # pylint: disable=protected-access
    version = invoke(naserver(https_sim.dst), "system-get-version")
    assert version.get_child_content("version").startswith("NetApp Release")
    # the control endpoint stays plain HTTP
    assert https_sim.control.startswith("http://")


def test_seed_file(tmp_path):
    seed = tmp_path / "seed.yml"
    seed.write_text(SEED)
    server = Sim("--seed", str(seed))
    try:
        assert sorted(server.clusters) == ["dr", "prod"]
        prod, dr = server.clusters["prod"], server.clusters["dr"]
        auth = ("ops", "s3cret")
        assert rest("GET", prod, "/api/cluster", auth=("admin", "netapp1!")).status_code == 401
        version = rest("GET", prod, "/api/cluster", auth=auth, params={"fields": "version"}).json()["version"]
        assert (version["major"], version["minor"]) == (11, 1)
        aggrs = {a["name"]: a["space"]["block_storage"]
                 for a in rest("GET", prod, "/api/storage/aggregates", auth=auth, params={"fields": "space"}).json()["records"]}
        assert aggrs["aggr_a"]["available"] == 1024 * GIB - 100 * GIB
        assert aggrs["aggr_b"]["available"] == 500 * GIB
        vol = rest("GET", prod, "/api/storage/volumes", auth=auth, params={"name": "db", "fields": "nas.path,space"}).json()["records"][0]
        assert vol["nas"]["path"] == "/db" and vol["space"]["used"] == 10 * GIB
        # an aggregate outside the SVM's list is refused
        response = rest("POST", prod, "/api/storage/volumes", auth=auth, params={"return_timeout": 5},
                        json={"name": "x", "svm.name": "svm_prod", "aggregates": [{"name": "aggr_b"}], "size": GIB})
        assert response.status_code == 400 and "aggr_b" in response.json()["error"]["message"]
        parts = urlsplit(dr)
        dst = zapi.NaServer(parts.hostname, transport_type="HTTP", port=str(parts.port), username="ops", password="s3cret")
        dst.set_api_version(1, 110)
        invoke(dst, "snapmirror-create", **{"source-location": "svm_prod:db", "destination-location": "svm_dr:db"})
        server.ctl("POST", "/config", {"transfer_rate_mib_s": 100000})
        invoke(dst, "snapmirror-initialize", **{"destination-location": "svm_dr:db"})
        server.wait_relationship("svm_dr:db", cluster="dr", mirror_state="snapmirrored")
        assert server.relationship("svm_dr:db", cluster="dr")["last_transfer"]["bytes"] == 10 * GIB
        with pytest.raises(zapi.NaApiError) as caught:
            invoke(dst, "snapmirror-create", **{"source-location": "svm_prod:db", "destination-location": "svm_lonely:db"})
        assert "not peered" in caught.value.message
    finally:
        assert server.stop() == 0


def free_port_run(count):
    """The first of ``count`` consecutive free ports (checked by binding them)."""
    for base in range(41000, 60000, 97):
        sockets = []
        try:
            for port in range(base, base + count):
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise AssertionError("no run of %d free ports" % count)


def test_port_base_and_sigint():
    base = free_port_run(3)
    server = Sim("--port-base", str(base))
    try:
        assert server.clusters == {"src": "http://127.0.0.1:%d" % base, "dst": "http://127.0.0.1:%d" % (base + 1)}
        assert server.control == "http://127.0.0.1:%d/control" % (base + 2)
        assert rest("GET", server.dst, "/api/cluster").status_code == 200
    finally:
        server.proc.send_signal(signal.SIGINT)
        assert server.proc.wait(10) == 0


def test_bad_seed_is_a_clear_error(tmp_path):
    seed = tmp_path / "seed.yml"
    seed.write_text("clusters:\n  - name: a\n    volumes: [{svm: nope, name: v}]\n")
    done = subprocess.run(ontap_sim_command() + ["serve", "--seed", str(seed)], capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode != 0 and done.stdout == ""
    assert "Vserver \"nope\" does not exist" in done.stderr
