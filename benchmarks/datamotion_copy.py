#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the sparse_volume_copy engine from the command line ("ours" in the benchmark).

    python3 benchmarks/datamotion_copy.py SRC DEST [--verify] [options]

The engine (plugins/module_utils/sparse.py) is loaded by file path, so no
Ansible installation and no collection layout on sys.path are needed.  With no
options it runs ``copy_volume`` with the default ``CopyOptions()``, which is the
safe default: on an existing block device that is not known to be zeroed the
skipped ranges are zeroed (punched), not left alone.

The result dict is printed as one JSON line on stdout (``--stderr`` moves it to
stderr, ``--quiet`` suppresses it).  Exit status: 0 on success, 1 when the
engine raises SparseCopyError (the message is printed as JSON with
``"failed": true``), 2 on usage errors.
"""
import argparse
import importlib.util
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_ENGINE = os.path.join(HERE, os.pardir, "plugins", "module_utils", "sparse.py")


def load_engine(path):
    """Import the engine module from *path* without touching the package tree."""
    path = os.path.abspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError("engine not found: %s" % path)
    name = "_datamotion_sparse_engine"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    # dataclasses resolve the module through sys.modules, so register it first.
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def _tristate(value):
    v = value.lower()
    if v in ("auto", "none"):
        return None
    if v in ("yes", "true", "1", "on"):
        return True
    if v in ("no", "false", "0", "off"):
        return False
    raise argparse.ArgumentTypeError("expected auto|yes|no, got %r" % value)


def _size(value):
    """Parse 4096, 4k, 1M, 1MiB, 2G (binary units)."""
    m = re.fullmatch(r"\s*(\d+)\s*([kmgt]?)(?:i?b)?\s*", value, re.IGNORECASE)
    if not m:
        raise argparse.ArgumentTypeError("bad size %r" % value)
    return int(m.group(1)) << (10 * " kmgt".index(m.group(2).lower() or " "))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src")
    ap.add_argument("dest")
    ap.add_argument("--engine", default=os.environ.get("SPARSE_ENGINE", DEFAULT_ENGINE),
                    help="path of sparse.py (default: the collection's, or $SPARSE_ENGINE)")
    ap.add_argument("--sparse", choices=("auto", "always", "never"))
    ap.add_argument("--dest-zeroed", type=_tristate, default=None, metavar="auto|yes|no")
    ap.add_argument("--zero-method", choices=("auto", "punch", "zeroout", "write"))
    ap.add_argument("--block-size", type=_size)
    ap.add_argument("--zero-block-size", type=_size)
    ap.add_argument("--verify", action="store_true")
    ap.add_argument("--no-create", action="store_true", help="CopyOptions(create=False)")
    ap.add_argument("--discard-after-copy", action="store_true")
    ap.add_argument("--check-mode", action="store_true")
    out = ap.add_mutually_exclusive_group()
    out.add_argument("--stderr", action="store_true", help="print the JSON result on stderr")
    out.add_argument("--quiet", action="store_true", help="do not print the result")
    a = ap.parse_args(argv)

    try:
        engine = load_engine(a.engine)
    except FileNotFoundError as exc:
        print("datamotion_copy: %s (use --engine PATH or $SPARSE_ENGINE)" % exc, file=sys.stderr)
        return 2
    kwargs = {}
    for key in ("sparse", "zero_method", "block_size", "zero_block_size"):
        if getattr(a, key) is not None:
            kwargs[key] = getattr(a, key)
    if a.dest_zeroed is not None:
        kwargs["dest_zeroed"] = a.dest_zeroed
    if a.verify:
        kwargs["verify"] = True
    if a.no_create:
        kwargs["create"] = False
    if a.discard_after_copy:
        kwargs["discard_after_copy"] = True
    options = engine.CopyOptions(**kwargs)

    stream = sys.stderr if a.stderr else sys.stdout
    try:
        result = engine.copy_volume(a.src, a.dest, options, check_mode=a.check_mode)
    except engine.SparseCopyError as exc:
        print(json.dumps({"failed": True, "msg": str(exc)}), file=stream if not a.quiet else sys.stderr)
        return 1
    if not a.quiet:
        print(json.dumps(result.to_dict(), sort_keys=True, default=str), file=stream)
    return 0


if __name__ == "__main__":
    sys.exit(main())
