# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``ontap-sim serve``: host simulated ONTAP clusters until SIGTERM or SIGINT."""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading

from datamotion_sim.ontap.control import Control, make_control_server
from datamotion_sim.ontap.model import DEFAULT_SEED, Model, SimError
from datamotion_sim.ontap import server as server_module
from datamotion_sim.ontap.server import ClusterServer, Runtime, make_ssl_context

DRAIN_SECONDS = 10


def load_seed(path):
    import yaml  # pylint: disable=import-outside-toplevel
    with open(path, encoding="utf-8") as handle:
        seed = yaml.safe_load(handle) or {}
    if not isinstance(seed, dict) or not seed.get("clusters"):
        raise SystemExit("ontap-sim: seed %s must be a mapping with a non-empty 'clusters' list" % path)
    return seed


def make_certificate(directory, host):
    """A self-signed certificate for ``host`` (and localhost), made with the openssl command."""
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    names = ["DNS:localhost", "IP:127.0.0.1"]
    if host not in ("127.0.0.1", "localhost"):
        names.append(("IP:%s" if host.replace(".", "").isdigit() or ":" in host else "DNS:%s") % host)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "30",
                    "-subj", "/CN=ontap-sim", "-addext", "subjectAltName=%s" % ",".join(names)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


def san_settings(seed, args):
    """The seed with the SAN settings of the command line (they win over its ``san`` key)."""
    seed = dict(seed or DEFAULT_SEED)
    settings = dict(seed.get("san") or {})
    for key, value in (("state_dir", args.state_dir), ("device_dir", args.device_dir), ("host_initiators", args.host_initiator)):
        if value:
            settings[key] = os.path.abspath(value) if key != "host_initiators" else value
    seed["san"] = settings
    return seed


def serve(args):
    seed = load_seed(args.seed) if args.seed else None
    seed = san_settings(seed, args)
    try:
        model = Model(seed)
    except SimError as err:
        raise SystemExit("ontap-sim: seed %s: %s" % (args.seed, err.message)) from None
    except (KeyError, TypeError, ValueError) as err:
        raise SystemExit("ontap-sim: seed %s: missing or bad value: %s (see simulators/README.md)" % (args.seed, err)) from None
    runtime = Runtime(model)
    if args.read_timeout is not None:
        if args.read_timeout <= 0:
            raise SystemExit("ontap-sim: --read-timeout must be a positive number of seconds")
        server_module.set_read_timeout(args.read_timeout)
    tmpdir = None
    ssl_context = None
    cert = None
    if args.https:
        tmpdir = tempfile.mkdtemp(prefix="ontap-sim-")
        cert, key = make_certificate(tmpdir, args.host)
        ssl_context = make_ssl_context(cert, key, args.client_ca)
    servers = {}
    for index, name in enumerate(model.clusters):
        port = args.port_base + index if args.port_base else 0
        servers[name] = ClusterServer(runtime, name, host=args.host, port=port, ssl_context=ssl_context)
        servers[name].start()
    control = Control(runtime, servers)
    control_port = args.port_base + len(servers) if args.port_base else 0
    control_server = make_control_server(control, host=args.host, port=control_port)
    threading.Thread(target=control_server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    ready = {"clusters": {name: server.url for name, server in servers.items()},
             "control": "http://%s:%d/control" % (args.host, control_server.server_address[1])}
    if cert:
        ready["certificate"] = cert
    sys.stdout.write(json.dumps(ready) + "\n")
    sys.stdout.flush()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        for server in servers.values():
            server.stop()
        # requests already being answered get their answer (bounded: an injected latency can be long)
        runtime.drain(DRAIN_SECONDS)
        control_server.shutdown()
        control_server.server_close()
        model.san.teardown()
        if tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="ontap-sim", description="Simulated NetApp ONTAP clusters speaking ZAPI and REST.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_serve = sub.add_parser("serve", help="serve the clusters of a seed (default: src and dst, peered) until SIGTERM")
    p_serve.add_argument("--seed", help="YAML seed file (see simulators/README.md)")
    p_serve.add_argument("--https", action="store_true", help="serve the clusters over HTTPS with a self-signed certificate")
    p_serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p_serve.add_argument("--client-ca",
                         help="with --https: PEM CA whose client certificates log in as the user their common name names "
                              "(seed users with authentication_method: cert have no password)")
    p_serve.add_argument("--read-timeout", type=float, default=None,
                         help="seconds a client may stall in the middle of a request before it is disconnected (default 30)")
    p_serve.add_argument("--port-base", type=int, default=0,
                         help="first port: clusters get N, N+1, ... in seed order and the control endpoint the next one "
                              "(default: free ephemeral ports)")
    p_serve.add_argument("--state-dir", help="directory of the LUNs' backing files (default: a temporary one, removed at exit)")
    p_serve.add_argument("--device-dir", help="where mapped LUNs get their wwn-0x<naa> links (default <state-dir>/dev/disk/by-id)")
    p_serve.add_argument("--host-initiator", action="append",
                         help="an initiator of this host (repeatable): LUNs mapped to an igroup holding one are exposed here "
                              "(default: the seed's san.host_initiators, else /etc/iscsi/initiatorname.iscsi, else "
                              "iqn.2026-01.io.datamotion.sim:this-host)")
    args = parser.parse_args(argv)
    if args.command == "serve":
        return serve(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
