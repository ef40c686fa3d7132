# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP(S) servers: one per simulated cluster, each answering ZAPI and REST.

The handler only moves bytes: ``zapi.handle`` and ``rest.handle`` turn a request into
a response against the model. Request counting, injected errors and latency live
here in ``Runtime``, shared by both protocols and driven by the control endpoint.
"""

import base64
import socket
import ssl
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, Optional

ZAPI_PATH = "/servlets/netapp.servlets.admin.XMLrequest_filer"
ZAPI_PATHS = (ZAPI_PATH, "/apis/XMLrequest")


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: Dict[str, str]
    body: bytes
    user: Optional[str] = None
    password: Optional[str] = None


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/hal+json"
    headers: Dict[str, str] = field(default_factory=dict)
    operation: Optional[str] = None


class Runtime:
    """What the servers share: the model, request counters and injected faults."""

    def __init__(self, model):
        self.model = model
        self.lock = threading.Lock()
        self.stats = {}
        self.faults = []
        self.latency = {}
        self.reset_stats()

    def reset_stats(self):
        with self.lock:
            self.stats = {name: {"total": 0, "zapi": {}, "rest": {}} for name in self.model.clusters}

    def count(self, cluster, protocol, operation):
        with self.lock:
            entry = self.stats.setdefault(cluster, {"total": 0, "zapi": {}, "rest": {}})
            entry["total"] += 1
            if operation:
                entry[protocol][operation] = entry[protocol].get(operation, 0) + 1

    def stats_copy(self):
        with self.lock:
            return {name: {"total": s["total"], "zapi": dict(s["zapi"]), "rest": dict(s["rest"])} for name, s in self.stats.items()}

    def add_fault(self, cluster, operation, count, errno, message, status=None):
        with self.lock:
            self.faults.append({"cluster": cluster, "operation": operation, "count": int(count), "errno": str(errno),
                                "message": message, "status": status})

    def take_fault(self, cluster, operation):
        """The injected error for this call, if one is armed (each use spends one of its count)."""
        with self.lock:
            for fault in self.faults:
                if fault["cluster"] == cluster and fault["operation"] == operation and fault["count"] > 0:
                    fault["count"] -= 1
                    return dict(fault)
        return None

    def set_latency(self, cluster, seconds):
        with self.lock:
            self.latency[cluster] = float(seconds)

    def clear_faults(self):
        with self.lock:
            self.faults = []
            self.latency = {}
        self.model.clear_faults()


def parse_basic(header):
    if not header or not header.lower().startswith("basic "):
        return None, None
    try:
        user, _sep, password = base64.b64decode(header.split(None, 1)[1]).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return None, None
    return user, password


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall
    server_version = "ontap-sim"
    sys_version = ""
    cluster = None
    runtime = None

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass

    def _handle(self):
        # imported here: zapi and rest import this module for Request/Response
        from datamotion_sim.ontap import rest, zapi  # pylint: disable=import-outside-toplevel
        if not self.runtime.model.is_online(self.cluster):
            self.close_connection = True
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path, _sep, query = self.path.partition("?")
        user, password = parse_basic(self.headers.get("Authorization"))
        request = Request(method=self.command, path=path, query=query, headers={k.lower(): v for k, v in self.headers.items()},
                          body=body, user=user, password=password)
        delay = self.runtime.latency.get(self.cluster, 0.0)
        if delay:
            time.sleep(delay)
        if path in ZAPI_PATHS:
            response = zapi.handle(self.runtime, self.cluster, request)
            protocol = "zapi"
        else:
            response = rest.handle(self.runtime, self.cluster, request)
            protocol = "rest"
        self.runtime.count(self.cluster, protocol, response.operation)
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for key, value in response.headers.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = do_HEAD = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # clients that reject the self-signed certificate or hang up are not the server's problem
        if isinstance(sys.exc_info()[1], (ssl.SSLError, ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class ClusterServer:
    """The listening socket of one cluster; taking the cluster offline closes it (connection refused)."""

    def __init__(self, runtime, cluster, host="127.0.0.1", port=0, ssl_context=None):
        self.runtime = runtime
        self.cluster = cluster
        self.host = host
        self.port = port
        self.ssl_context = ssl_context
        self.httpd = None
        self.thread = None
        self.lock = threading.Lock()

    @property
    def url(self):
        scheme = "https" if self.ssl_context else "http"
        return "%s://%s:%d" % (scheme, self.host, self.port)

    def start(self):
        with self.lock:
            if self.httpd is not None:
                return
            handler = type("ClusterHandler", (_Handler,), {"cluster": self.cluster, "runtime": self.runtime})
            httpd = _Server((self.host, self.port), handler)
            if self.ssl_context is not None:
                httpd.socket = self.ssl_context.wrap_socket(httpd.socket, server_side=True, do_handshake_on_connect=False)
            self.port = httpd.server_address[1]
            self.httpd = httpd
            self.thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True,
                                           name="ontap-sim-%s" % self.cluster)
            self.thread.start()

    def stop(self):
        with self.lock:
            if self.httpd is None:
                return
            self.httpd.shutdown()
            self.httpd.server_close()
            self.thread.join(5)
            self.httpd = None
            self.thread = None


def make_ssl_context(certfile, keyfile):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certfile, keyfile)
    return context


def free_port(host):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]
