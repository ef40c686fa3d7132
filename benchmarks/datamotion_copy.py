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
import json
import os
import sys
from importlib.machinery import SourceFileLoader
from importlib.util import module_from_spec, spec_from_loader

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_ENGINE = os.path.join(HERE, os.pardir, "plugins", "module_utils", "sparse.py")

# Start-up is timed with the copy, so this needs only modules that the engine
# imports anyway (argparse alone added 16 ms to a 0.1 s start here).
USAGE = """usage: datamotion_copy.py SRC DEST [--verify] [--sparse auto|always|never]
        [--dest-zeroed auto|yes|no] [--zero-method auto|punch|zeroout|write]
        [--block-size SIZE] [--zero-block-size SIZE] [--no-create] [--discard-after-copy]
        [--check-mode] [--stderr | --quiet] [--engine PATH]

SIZE is bytes or 4k, 256K, 1M, 1MiB (binary units). --engine defaults to the
collection's sparse.py or $SPARSE_ENGINE."""
CHOICES = {"--sparse": ("auto", "always", "never"), "--zero-method": ("auto", "punch", "zeroout", "write")}
FLAGS = ("--verify", "--no-create", "--discard-after-copy", "--check-mode", "--stderr", "--quiet")
VALUED = ("--engine", "--sparse", "--dest-zeroed", "--zero-method", "--block-size", "--zero-block-size")


class UsageError(Exception):
    pass


def load_engine(path):
    """Import the engine module from *path* without touching the package tree.
    Its bytecode is cached in __pycache__ as for any installed program, even where
    PYTHONDONTWRITEBYTECODE is set: compiling it took 27 ms of every run."""
    path = os.path.abspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError("engine not found: %s" % path)
    name = "_datamotion_sparse_engine"
    spec = spec_from_loader(name, SourceFileLoader(name, path))
    module = module_from_spec(spec)
    # dataclasses resolve the module through sys.modules, so register it first.
    sys.modules[name] = module
    no_pyc, sys.dont_write_bytecode = sys.dont_write_bytecode, False
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    finally:
        sys.dont_write_bytecode = no_pyc
    return module


def _tristate(value):
    v = value.lower()
    if v in ("auto", "none"):
        return None
    if v in ("yes", "true", "1", "on"):
        return True
    if v in ("no", "false", "0", "off"):
        return False
    raise UsageError("--dest-zeroed: expected auto|yes|no, got %r" % value)


def _size(value):
    """Parse 4096, 4k, 1M, 1MiB, 2G (binary units)."""
    v = value.strip().lower()
    for suffix in ("ib", "b"):
        if v.endswith(suffix) and v[:-len(suffix)][-1:] in "kmgt":
            v = v[:-len(suffix)]
            break
    shift = 0
    if v[-1:] in ("k", "m", "g", "t"):
        shift, v = 10 * " kmgt".index(v[-1]), v[:-1].strip()
    if not v.isdigit():
        raise UsageError("bad size %r" % value)
    return int(v) << shift


def parse_args(argv):
    """The command line as a dict of option (without the dashes) to value, plus
    src and dest; raises UsageError."""
    opts = {"engine": os.environ.get("SPARSE_ENGINE", DEFAULT_ENGINE)}
    pos = []
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg in ("-h", "--help"):
            raise UsageError(None)
        if arg == "--":
            pos.extend(args)
            break
        if not arg.startswith("--") or arg == "-":
            pos.append(arg)
            continue
        key, eq, value = arg.partition("=")
        if key in FLAGS and not eq:
            opts[key[2:].replace("-", "_")] = True
            continue
        if key not in VALUED:
            raise UsageError("unknown option %s" % arg)
        if not eq:
            if not args:
                raise UsageError("%s needs a value" % key)
            value = args.pop(0)
        if key in CHOICES and value not in CHOICES[key]:
            raise UsageError("%s: expected one of %s, got %r" % (key, ", ".join(CHOICES[key]), value))
        if key == "--dest-zeroed":
            value = _tristate(value)
        elif key.endswith("block-size"):
            value = _size(value)
        opts[key[2:].replace("-", "_")] = value
    if len(pos) != 2:
        raise UsageError("expected SRC and DEST, got %d argument%s" % (len(pos), "" if len(pos) == 1 else "s"))
    if opts.get("stderr") and opts.get("quiet"):
        raise UsageError("--stderr and --quiet exclude each other")
    opts["src"], opts["dest"] = pos
    return opts


def main(argv=None):
    try:
        a = parse_args(sys.argv[1:] if argv is None else argv)
    except UsageError as exc:
        if exc.args[0] is None:
            print(__doc__.strip() + "\n\n" + USAGE)
            return 0
        print("%s\ndatamotion_copy.py: error: %s" % (USAGE.split("\n\n", maxsplit=1)[0], exc), file=sys.stderr)
        return 2

    try:
        engine = load_engine(a["engine"])
    except FileNotFoundError as exc:
        print("datamotion_copy: %s (use --engine PATH or $SPARSE_ENGINE)" % exc, file=sys.stderr)
        return 2
    kwargs = {}
    for key in ("sparse", "zero_method", "block_size", "zero_block_size", "dest_zeroed"):
        if a.get(key) is not None:
            kwargs[key] = a[key]
    for flag, key, value in (("verify", "verify", True), ("no_create", "create", False),
                             ("discard_after_copy", "discard_after_copy", True)):
        if a.get(flag):
            kwargs[key] = value
    options = engine.CopyOptions(**kwargs)

    stream = sys.stderr if a.get("stderr") else sys.stdout
    try:
        result = engine.copy_volume(a["src"], a["dest"], options, check_mode=bool(a.get("check_mode")))
    except engine.SparseCopyError as exc:
        print(json.dumps({"failed": True, "msg": str(exc)}), file=stream if not a.get("quiet") else sys.stderr)
        return 1
    if not a.get("quiet"):
        print(json.dumps(result.to_dict(), sort_keys=True, default=str), file=stream)
    return 0


if __name__ == "__main__":
    sys.exit(main())
