# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Certificates, over both real transports against ``ontap-sim serve --https`` (issue 13, items 8 and 9)."""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from ansible_collections.storage.datamotion.plugins.modules import ontap_snapmirror_info


def serve(*args):
    """ontap-sim serve ARGS, which ends with the process that started it: ansible-test runs each test in a fork
    that exits without tearing fixtures down, so a simulator left to the fixture's teardown outlived the run."""
    command = shutil.which("ontap-sim") or os.path.join(os.path.dirname(sys.executable), "ontap-sim")
    return subprocess.Popen([command, "serve"] + list(args), stdout=subprocess.PIPE, text=True,
                            preexec_fn=lambda: ctypes.CDLL(None).prctl(1, signal.SIGTERM))    # PR_SET_PDEATHSIG


@pytest.fixture(scope="module")
def sim():
    proc = serve("--https")
    ready = json.loads(proc.stdout.readline())
    yield dict(port=urlsplit(ready["clusters"]["dst"]).port, certificate=ready["certificate"])
    proc.terminate()
    proc.wait(10)


def info(run_module, sim, use_rest, **args):
    return run_module(ontap_snapmirror_info, dict(hostname="127.0.0.1", port=sim["port"], username="admin", password="netapp1!",
                                                  use_rest=use_rest, **args))


@pytest.mark.parametrize("use_rest", ["always", "never"])
@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_validate_certs_false_holds_whatever_the_environment_says(run_module, sim, monkeypatch, use_rest, variable):
    # corporate execution environments set these to the system bundle, which does not hold the cluster's CA
    monkeypatch.setenv(variable, ssl.get_default_verify_paths().openssl_cafile)
    how, result = info(run_module, sim, use_rest, validate_certs=False)
    assert how == "exit", result
    assert result["transport"] == ("rest" if use_rest == "always" else "zapi")


@pytest.mark.parametrize("use_rest", ["always", "never"])
def test_an_unknown_ca_fails_and_ca_bundle_trusts_it_on_both_transports(run_module, sim, use_rest):
    how, result = info(run_module, sim, use_rest)
    assert how == "fail" and "cannot verify the certificate of ONTAP cluster 127.0.0.1" in result["msg"]
    assert "ca_bundle" in result["msg"]
    how, result = info(run_module, sim, use_rest, ca_bundle=sim["certificate"])
    assert how == "exit", result


@pytest.mark.parametrize("use_rest", ["always", "never"])
def test_a_missing_client_certificate_file_fails_clearly(run_module, sim, use_rest, tmp_path):
    how, result = info(run_module, sim, use_rest, validate_certs=False, cert_filepath=str(tmp_path / "none.pem"),
                       key_filepath=str(tmp_path / "none.key"))
    assert how == "fail" and "ONTAP cluster 127.0.0.1" in result["msg"] and "exception" not in result


@pytest.fixture(scope="module")
def cert_sim(tmp_path_factory):
    """``ontap-sim serve --https --client-ca``: user certadmin logs in with a certificate only."""
    work = tmp_path_factory.mktemp("certs")

    def openssl(*args):
        subprocess.run(["openssl"] + list(args), cwd=str(work), check=True, capture_output=True)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=test-ca")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "client.key", "-out", "client.csr", "-subj", "/CN=certadmin")
    openssl("x509", "-req", "-in", "client.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "client.pem", "-days", "1")
    (work / "seed.yml").write_text("clusters:\n  - name: dst\n    svms: [{name: svm_dst}]\n    aggregates: [{name: aggr1, size: 1TiB}]\n"
                                   "    users: [{name: admin, password: netapp1!}, {name: certadmin, authentication_method: cert}]\n")
    proc = serve("--https", "--client-ca", str(work / "ca.pem"), "--seed", str(work / "seed.yml"))
    ready = json.loads(proc.stdout.readline())
    yield dict(port=urlsplit(ready["clusters"]["dst"]).port, cert=str(work / "client.pem"), key=str(work / "client.key"))
    proc.terminate()
    proc.wait(10)


def cert_info(run_module, sim, use_rest, **args):
    return run_module(ontap_snapmirror_info, dict(hostname="127.0.0.1", port=sim["port"], use_rest=use_rest, validate_certs=False, **args))


@pytest.mark.parametrize("use_rest", ["always", "never"])
def test_a_client_certificate_logs_in_without_a_password(run_module, cert_sim, use_rest):
    how, result = cert_info(run_module, cert_sim, use_rest, cert_filepath=cert_sim["cert"], key_filepath=cert_sim["key"])
    assert how == "exit", result


@pytest.mark.parametrize("use_rest", ["always", "never"])
def test_a_certificate_user_cannot_log_in_with_a_password_nor_anyone_without_credentials(run_module, cert_sim, use_rest):
    how, result = cert_info(run_module, cert_sim, use_rest, username="certadmin", password="anything")
    assert how == "fail" and "refused the credentials of user 'certadmin'" in result["msg"]
    how, result = cert_info(run_module, cert_sim, use_rest)
    assert how == "fail" and "give username and password, or cert_filepath and key_filepath" in result["msg"]
