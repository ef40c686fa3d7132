# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The control endpoint (plain HTTP JSON under /control): faults, stats, state, time.

Not part of ONTAP: tests and benchmarks use it to take a cluster offline, make the
next calls fail with a real error, add latency, fail a transfer, slow a quiesce,
write data, age a relationship, count requests and read the whole model.
"""

import json
import re
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from datamotion_sim.ontap.model import MIB, SimError


class ControlError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


class Control:
    """The operations behind the endpoint, on a runtime and its cluster servers."""

    def __init__(self, runtime, servers):
        self.runtime = runtime
        self.model = runtime.model
        self.servers = servers

    def _server(self, name):
        if name not in self.servers:
            raise ControlError(404, "no cluster %r (clusters: %s)" % (name, ", ".join(sorted(self.servers))))
        return self.servers[name]

    def set_online(self, name, online):
        server = self._server(name)
        self.model.set_online(name, online)
        if online:
            server.start()
        else:
            server.stop()
        return {"cluster": name, "online": online}

    def reset(self):
        self.model.reset()
        self.runtime.clear_faults()
        self.runtime.reset_stats()
        for name in self.servers:
            self.set_online(name, True)
        return {"reset": True}

    def add_fault(self, body):
        cluster = body.get("cluster")
        self._server(cluster)
        if "latency" in body:
            self.runtime.set_latency(cluster, float(body["latency"]))
        elif "transfer_fail" in body:
            self.model.add_transfer_fault(cluster, body["transfer_fail"], body.get("count", 1),
                                          body.get("message", "Transfer failed: injected by ontap-sim."))
        elif "slow_quiesce" in body:
            self.model.set_slow_quiesce(cluster, float(body["slow_quiesce"]))
        elif body.get("kill_play"):
            if "operation" not in body:
                raise ControlError(400, "a kill_play fault needs \"operation\" (the call after which the run is killed)")
            self.runtime.add_kill(cluster, body["operation"], body.get("count", 1), body.get("body"))
        elif "operation" in body:
            if "errno" not in body:
                raise ControlError(400, "an operation fault needs \"errno\" (the error code to answer with)")
            self.runtime.add_fault(cluster, body["operation"], body.get("count", 1), body["errno"],
                                   body.get("message", "Injected failure (ontap-sim)."), body.get("status"))
        else:
            raise ControlError(400, "a fault needs one of: operation, kill_play, latency, transfer_fail, slow_quiesce")
        return {"fault": body}

    def config(self, body):
        if "transfer_rate_mib_s" in body:
            rate = float(body["transfer_rate_mib_s"])
            if rate <= 0:
                raise ControlError(400, "transfer_rate_mib_s must be positive")
            with self.model.lock:
                self.model.transfer_rate = rate * MIB
        return {"transfer_rate_mib_s": self.model.transfer_rate / MIB}

    def write(self, body):
        written = self.model.write(body["cluster"], body["svm"], body["volume"], int(body["bytes"]), body.get("tag"))
        return {"written": written}

    def age(self, body):
        lag = self.model.age(body["cluster"], body["destination_path"], float(body["seconds"]))
        return {"lag_time": lag}

    def dispatch(self, method, path, body):
        routes = [
            ("GET", r"/control/stats", lambda m: self.runtime.stats_copy()),
            ("GET", r"/control/in_flight", lambda m: {"in_flight": self.runtime.in_flight}),
            ("POST", r"/control/stats/reset", lambda m: (self.runtime.reset_stats(), {"reset": True})[1]),
            ("POST", r"/control/reset", lambda m: self.reset()),
            ("POST", r"/control/clusters/([^/]+)/offline", lambda m: self.set_online(m.group(1), False)),
            ("POST", r"/control/clusters/([^/]+)/online", lambda m: self.set_online(m.group(1), True)),
            ("POST", r"/control/faults", lambda m: self.add_fault(body)),
            ("DELETE", r"/control/faults", lambda m: (self.runtime.clear_faults(), {"cleared": True})[1]),
            ("POST", r"/control/config", lambda m: self.config(body)),
            ("GET", r"/control/config", lambda m: self.config({})),
            ("POST", r"/control/volumes/write", lambda m: self.write(body)),
            ("POST", r"/control/relationships/age", lambda m: self.age(body)),
            ("GET", r"/control/state", lambda m: self.model.dump()),
        ]
        for route_method, pattern, func in routes:
            match = re.match("^%s/?$" % pattern, path)
            if match and route_method == method:
                return func(match)
        raise ControlError(404, "no control operation %s %s" % (method, path))


def make_control_server(control, host="127.0.0.1", port=0):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, format, *args):  # pylint: disable=redefined-builtin
            pass

        def _handle(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            status = 200
            try:
                body = json.loads(raw.decode("utf-8")) if raw.strip() else {}
                if not isinstance(body, dict):
                    raise ControlError(400, "the body must be a JSON object")
                answer = control.dispatch(self.command, self.path.split("?", 1)[0], body)
            except ControlError as err:
                status, answer = err.status, {"error": err.message}
            except SimError as err:
                status, answer = 400, {"error": err.message, "kind": err.kind}
            except (KeyError, ValueError, TypeError) as err:
                status, answer = 400, {"error": "bad request: %s" % err}
            data = json.dumps(answer).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = do_PATCH = _handle

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server
