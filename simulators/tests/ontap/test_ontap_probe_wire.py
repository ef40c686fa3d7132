# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hostile requests: malformed input gets the array's error, never a dropped connection or an answer before auth."""

import base64
import json
import socket
import threading
import time
from urllib.parse import urlsplit

import pytest
import requests

from ontap_helpers import AUTH, Sim, rest

ZAPI = "/servlets/netapp.servlets.admin.XMLrequest_filer"


def zapi_post(url, body, auth=AUTH):
    return requests.post(url + ZAPI, data=body, auth=auth, headers={"Content-Type": "text/xml"}, timeout=30)


def test_zapi_authenticates_before_reading_the_request(sim):
    for body in (b"<netapp><oops", b"", b"<netapp><system-get-version/></netapp>"):
        answer = zapi_post(sim.dst, body, auth=None)
        assert answer.status_code == 401
        assert answer.headers["WWW-Authenticate"].startswith("Basic ")
        assert b"Invalid XML" not in answer.content


@pytest.mark.parametrize("body", [
    b"<netapp><snapmirror-destroy-iter><query><snapmirror-info><destination-location>svm_dst:x</destination-location>"
    b"</snapmirror-info></query><max-failure-count>abc</max-failure-count></snapmirror-destroy-iter></netapp>",
    b"<netapp vfiler='svm_dst'><volume-size><volume>nope</volume><new-size>+abc</new-size></volume-size></netapp>",
])
def test_zapi_argument_of_the_wrong_shape_is_invalid_input(sim, body):
    answer = zapi_post(sim.dst, body)
    assert answer.status_code == 200
    assert b'status="failed"' in answer.content and b'errno="13115"' in answer.content
    assert zapi_post(sim.dst, b"<netapp><system-get-version/></netapp>").status_code == 200


@pytest.mark.parametrize("path, body", [
    ("/api/storage/volumes", {"name": "v", "svm": "svm_dst"}),
    ("/api/snapmirror/relationships", {"source": "svm_src:v", "destination": {"path": "svm_dst:v"}}),
    ("/api/snapmirror/relationships", {"source": {"path": "svm_src:v"}, "destination": {"path": "svm_dst:v"}, "policy": ["x"]}),
])
def test_rest_body_field_of_the_wrong_shape_is_invalid_input(sim, path, body):
    before = sim.state()
    answer = rest("POST", sim.dst, path, json=body)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "2"
    assert sim.state() == before


@pytest.mark.parametrize("value", ["-1", "121", "1.5", "abc"])
def test_rest_return_timeout_is_checked_before_the_body(sim, value):
    answer = rest("POST", sim.dst, "/api/storage/volumes", params={"return_timeout": value}, json={})
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "262197"
    assert answer.json()["error"]["target"] == "return_timeout"


def raw_request(url, request):
    """Send bytes as they are and return the first answer (fails on a silent hang)."""
    host, port = urlsplit(url).hostname, urlsplit(url).port
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while b"\r\n\r\n" not in answer:
            data = sock.recv(4096)
            if not data:
                break
            answer += data
    return answer


def test_chunked_request_body_is_read(sim):
    body = json.dumps({"name": "chunky", "svm": {"name": "svm_dst"}, "size": 1024 ** 3}).encode()
    auth = base64.b64encode(("%s:%s" % AUTH).encode())
    answer = raw_request(sim.dst, b"POST /api/storage/volumes?return_timeout=10 HTTP/1.1\r\nHost: sim\r\nAuthorization: Basic %s\r\n"
                         b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n"
                         % (auth, len(body), body))
    assert answer.startswith(b"HTTP/1.1 201")
    assert "svm_dst:chunky" in sim.state()["dst"]["volumes"]


@pytest.mark.parametrize("length", [b"abc", b"-1"])
def test_invalid_content_length_is_refused_not_hung(sim, length):
    auth = base64.b64encode(("%s:%s" % AUTH).encode())
    answer = raw_request(sim.dst, b"GET /api/cluster HTTP/1.1\r\nHost: sim\r\nAuthorization: Basic %s\r\nContent-Length: %s\r\n\r\n"
                         % (auth, length))
    assert answer.startswith(b"HTTP/1.1 400")
    assert rest("GET", sim.dst, "/api/cluster").status_code == 200


def test_sigterm_answers_the_requests_in_flight_first():
    server = Sim()
    try:
        server.fault(cluster="dst", latency=2)
        answers = []
        thread = threading.Thread(target=lambda: answers.append(rest("GET", server.dst, "/api/cluster")))
        thread.start()
        deadline = time.monotonic() + 20
        while server.ctl("GET", "/in_flight")["in_flight"] == 0:
            assert time.monotonic() < deadline, "the request never arrived"
            time.sleep(0.02)
    finally:
        assert server.stop() == 0
    thread.join(30)
    assert [a.status_code for a in answers] == [200]


@pytest.mark.parametrize("body, target", [
    ({"name": "v", "svm": {"name": "svm_dst"}, "size": True}, "size"),
    ({"name": 5, "svm": {"name": "svm_dst"}, "size": 1024 ** 3}, "name"),
])
def test_volume_post_values_of_the_wrong_json_type(sim, body, target):
    answer = rest("POST", sim.dst, "/api/storage/volumes", json=body, params={"return_timeout": 10})
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "262197"
    assert answer.json()["error"]["target"] == target
    assert sim.state()["dst"]["volumes"] == {}
