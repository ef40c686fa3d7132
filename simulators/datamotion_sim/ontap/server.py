# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP(S) servers: one per simulated cluster, each answering ZAPI and REST.

The handler only moves bytes: ``zapi.handle`` and ``rest.handle`` turn a request into
a response against the model. Request counting, injected errors and latency live
here in ``Runtime``, shared by both protocols and driven by the control endpoint.
"""

import base64
import os
import socket
import ssl
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, Optional

from .. import play

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
    certificate: bool = False   # user is the common name of a client certificate the server verified


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
        self.in_flight = 0
        self.idle = threading.Condition(self.lock)
        self.reset_stats()

    def begin(self):
        with self.lock:
            self.in_flight += 1

    def end(self):
        with self.lock:
            self.in_flight -= 1
            if self.in_flight == 0:
                self.idle.notify_all()

    def drain(self, timeout):
        """Wait until no request is being answered (at most ``timeout`` seconds); True when none is left."""
        with self.lock:
            return self.idle.wait_for(lambda: self.in_flight == 0, timeout)

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

    def add_kill(self, cluster, operation, count, body=None):
        with self.lock:
            self.faults.append({"cluster": cluster, "operation": operation, "count": int(count), "kill_play": True,
                                "body": body})

    def take_kill(self, cluster, operation, body):
        """True when a kill of the calling play is armed for this call (each use spends one of its count); a kill
        with a body fires only on a call whose request body holds that text."""
        with self.lock:
            for fault in self.faults:
                if (fault.get("kill_play") and fault["cluster"] == cluster and fault["operation"] == operation
                        and fault["count"] > 0 and (fault["body"] or "") in body.decode("utf-8", "replace")):
                    fault["count"] -= 1
                    return True
        return False

    def take_fault(self, cluster, operation):
        """The injected error for this call, if one is armed (each use spends one of its count)."""
        with self.lock:
            for fault in self.faults:
                if (not fault.get("kill_play") and fault["cluster"] == cluster and fault["operation"] == operation
                        and fault["count"] > 0):
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


MAX_BODY = 16 * 1024 * 1024   # a request body beyond this is refused before it is read
READ_TIMEOUT = 30.0           # seconds a client may stall mid-request before the connection is closed


class BodyTooLarge(ValueError):
    pass


def set_read_timeout(seconds):
    """How long a client may stall mid-request (ontap-sim serve --read-timeout)."""
    _Handler.timeout = float(seconds)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = READ_TIMEOUT
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall
    server_version = "ontap-sim"
    sys_version = ""
    cluster = None
    runtime = None

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass

    def _handle(self):
        self.runtime.begin()
        try:
            self._answer()
        finally:
            self.runtime.end()

    def _answer(self):
        # imported here: zapi and rest import this module for Request/Response
        from datamotion_sim.ontap import rest, zapi  # pylint: disable=import-outside-toplevel
        if not self.runtime.model.is_online(self.cluster):
            self.close_connection = True
            return
        try:
            body = self._read_body()
        except ValueError as err:
            # the framing of the request is broken, or the body too large: answer, and do not read what follows
            self.close_connection = True
            self.runtime.count(self.cluster, "rest", None)
            self.send_response(413 if isinstance(err, BodyTooLarge) else 400)
            payload = ('{"error": {"message": "Bad request: %s", "code": "2"}}' % err).encode()
            self.send_header("Content-Type", "application/hal+json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(payload)
            return
        path, _sep, query = self.path.partition("?")
        user, password = parse_basic(self.headers.get("Authorization"))
        certificate = False
        if user is None:
            user = self._certificate_user()
            certificate = user is not None
        request = Request(method=self.command, path=path, query=query, headers={k.lower(): v for k, v in self.headers.items()},
                          body=body, user=user, password=password, certificate=certificate)
        delay = self.runtime.latency.get(self.cluster, 0.0)
        if delay:
            time.sleep(delay)
        protocol = "zapi" if path in ZAPI_PATHS else "rest"
        try:
            response = (zapi if protocol == "zapi" else rest).handle(self.runtime, self.cluster, request)
        except Exception as err:  # pylint: disable=broad-except
            # a simulator defect still answers (as ONTAP's 500) instead of dropping the connection
            response = Response(500, ('{"error": {"message": "Internal error: %s", "code": "8"}}' % type(err).__name__).encode())
        self.runtime.count(self.cluster, protocol, response.operation)
        if self.runtime.take_kill(self.cluster, response.operation, body):
            # the call acted; the run that sent it dies before it hears the answer, as a cancelled job would
            kill_play(self.client_address, self.server.server_address)
            self.close_connection = True
            return
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for key, value in response.headers.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def _certificate_user(self):
        """The common name of the client certificate the TLS handshake verified (ontap-sim serve --client-ca), or None."""
        getpeercert = getattr(self.connection, "getpeercert", None)
        peer = getpeercert() if getpeercert else None
        for rdn in (peer or {}).get("subject", ()):
            for key, value in rdn:
                if key == "commonName":
                    return value
        return None

    def _read_body(self):
        """The request body, with a Content-Length or chunked (ValueError when the framing is invalid)."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline(1024).split(b";")[0].strip() or b"x", 16)
                if size < 0:
                    raise ValueError("invalid chunk size")
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass  # trailer fields
                    return b"".join(chunks)
                if size + sum(len(c) for c in chunks) > MAX_BODY:
                    raise BodyTooLarge("request body larger than %d bytes" % MAX_BODY)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
        text = self.headers.get("Content-Length")
        if text is None:
            return b""
        length = int(text)
        if length < 0:
            raise ValueError("invalid Content-Length %s" % text)
        if length > MAX_BODY:
            raise BodyTooLarge("request body of %d bytes, more than %d" % (length, MAX_BODY))
        return self.rfile.read(length) if length else b""

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = do_HEAD = _handle


def _socket_inode(client, server):
    """The inode of the client's end of a local TCP connection (from /proc/net/tcp*), or None."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            if (int(cols[1].rsplit(":", 1)[1], 16) == client[1] and int(cols[2].rsplit(":", 1)[1], 16) == server[1]
                    and cols[9] != "0"):
                return cols[9]
    return None


def _pid_of_socket(inode):
    target = "socket:[%s]" % inode
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for fd in os.listdir("/proc/%s/fd" % pid):
                if os.readlink("/proc/%s/fd/%s" % (pid, fd)) == target:
                    return int(pid)
        except OSError:
            continue
    return None


def kill_play(client, server):
    """SIGKILL to the ansible-playbook run whose module holds the client's end of this connection (fault kill_play)."""
    inode = _socket_inode(client, server)
    pid = _pid_of_socket(inode) if inode else None
    if pid:
        play.kill_play(pid)


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


def make_ssl_context(certfile, keyfile, client_ca=None):
    """The server's TLS context; with ``client_ca``, client certificates it signed log in as their common name."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certfile, keyfile)
    if client_ca:
        context.verify_mode = ssl.CERT_OPTIONAL
        context.load_verify_locations(client_ca)
    return context


def free_port(host):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]
