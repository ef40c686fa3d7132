# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What ONTAP refuses, the simulator refuses too (issue 13, item 12): volume names, max-records, one API per
ZAPI request, request bodies beyond a bound (refused before they are read), clients that stall mid-request."""

import socket
from urllib.parse import urlsplit

import pytest
import requests

from ontap_helpers import AUTH, Sim, naserver, rest, zapi_volume
from netapp_lib.api.zapi import zapi

ZAPI = "/servlets/netapp.servlets.admin.XMLrequest_filer"
BAD_NAMES = ["a b", "a/b", "..", "a'b", 'a"b', "a\nb", "vol\u00e9", "1vol", "v" * 204, "a-b"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_rest_refuses_the_volume_names_ontap_refuses(sim, name):
    body = {"name": name, "svm": {"name": "svm_dst"}, "aggregates": [{"name": "aggr1"}], "size": 1 << 30}
    answer = rest("POST", sim.dst, "/api/storage/volumes", json=body, params={"return_timeout": 10})
    assert answer.status_code >= 400 or answer.json().get("job", {}).get("state") == "failure", answer.text
    assert name not in [v.split(":", 1)[1] for v in sim.state()["dst"]["volumes"]]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_zapi_refuses_the_volume_names_ontap_refuses(sim, name):
    with pytest.raises(zapi.NaApiError) as caught:
        zapi_volume(naserver(sim.dst, vserver="svm_dst"), name)
    assert "Invalid volume name" in str(caught.value.message)


def test_a_203_character_name_is_a_volume_name(sim):
    zapi_volume(naserver(sim.dst, vserver="svm_dst"), "v" * 203)
    assert "svm_dst:" + "v" * 203 in sim.state()["dst"]["volumes"]


@pytest.mark.parametrize("value", ["-1", "0", "99999999999", "abc"])
def test_zapi_max_records_out_of_bounds_is_invalid_input(sim, value):
    body = ("<netapp version='1.110'><volume-get-iter><max-records>%s</max-records></volume-get-iter></netapp>" % value).encode()
    answer = requests.post(sim.dst + ZAPI, data=body, auth=AUTH, timeout=30)
    assert b'errno="13115"' in answer.content and b"max-records" in answer.content


def test_two_apis_in_one_zapi_request_are_refused(sim):
    body = b"<netapp version='1.110'><system-get-version/><vserver-get-iter/></netapp>"
    answer = requests.post(sim.dst + ZAPI, data=body, auth=AUTH, timeout=30)
    assert b'status="failed"' in answer.content and b"one API" in answer.content


def test_a_huge_body_is_refused_before_it_is_sent(sim):
    parts = urlsplit(sim.dst)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as conn:
        conn.sendall(b"POST /api/storage/volumes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 209715200\r\n\r\n{")
        answer = conn.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413")


def test_a_client_that_stalls_mid_body_is_disconnected():
    sim = Sim("--read-timeout", "1")   # a server of its own, whose read timeout is short
    try:
        parts = urlsplit(sim.dst)
        with socket.create_connection((parts.hostname, parts.port), timeout=30) as conn:
            conn.sendall(b"POST /api/storage/volumes HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
            assert conn.recv(4096) == b""   # closed by the server (our own 30 s timeout would raise instead)
    finally:
        sim.stop()
