# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every VNX module shares: connection options, the storops check, failing on a VnxError.

The module wrapper only: the domain (the plan a module applies) is in plan.py, without Ansible.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shutil
import sys
import time
import traceback

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.storage.datamotion.plugins.module_utils.vnx.client import (
    STOROPS_IMPORT_ERROR, VnxClient, VnxError)

STOROPS_MIN_VERSION = "1.2.12"


def vnx_argument_spec():
    """The connection options of every VNX module (doc fragment storage.datamotion.vnx)."""
    return dict(
        sp_address=dict(type="str", required=True, fallback=(env_fallback, ["VNX_SP_ADDRESS"])),
        sp_b_address=dict(type="str", fallback=(env_fallback, ["VNX_SP_B_ADDRESS"])),
        username=dict(type="str", fallback=(env_fallback, ["VNX_USERNAME"])),
        password=dict(type="str", no_log=True, fallback=(env_fallback, ["VNX_PASSWORD"])),
        scope=dict(type="int", default=0, choices=[0, 1, 2], fallback=(env_fallback, ["VNX_SCOPE"])),
        security_file=dict(type="path", fallback=(env_fallback, ["VNX_SECURITY_FILE"])),
        naviseccli_path=dict(type="path", fallback=(env_fallback, ["VNX_NAVISECCLI_PATH"])),
        timeout=dict(type="int", fallback=(env_fallback, ["VNX_TIMEOUT"])),
    )


def _version_tuple(text):
    parts = []
    for part in text.split("."):
        digits = "".join(c for c in part if c.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def check_storops(module):
    """Fail the module when storops is missing, cannot import, or is too old."""
    if STOROPS_IMPORT_ERROR is not None:
        if sys.version_info >= (3, 13) and "pipes" in STOROPS_IMPORT_ERROR:
            module.fail_json(
                msg="storops cannot be imported on Python %d.%d: it imports the module 'pipes', which Python 3.13 removed. "
                    "Run this module with Python 3.12 or older (set ansible_python_interpreter)." % sys.version_info[:2],
                exception=STOROPS_IMPORT_ERROR)
        if "distutils" in STOROPS_IMPORT_ERROR:
            module.fail_json(
                msg="storops needs distutils, which Python 3.12 removed from the standard library: install setuptools "
                    "(pip install setuptools; requirements.txt lists it) where this module runs (Python %d.%d)."
                    % sys.version_info[:2], exception=STOROPS_IMPORT_ERROR)
        module.fail_json(msg=missing_required_lib("storops>=%s" % STOROPS_MIN_VERSION), exception=STOROPS_IMPORT_ERROR)
    try:
        from importlib.metadata import version, PackageNotFoundError
    except ImportError:  # pragma: no cover - Python < 3.8
        return
    try:
        installed = version("storops")
    except PackageNotFoundError:
        return  # importable but not installed as a distribution (vendored): nothing to compare
    if _version_tuple(installed) < _version_tuple(STOROPS_MIN_VERSION):
        module.fail_json(msg="storops %s is installed; this module needs storops>=%s (pip install -U storops)."
                         % (installed, STOROPS_MIN_VERSION))


def check_naviseccli(module, path):
    """Fail clearly when there is no naviseccli to run.

    storops runs the binary in a thread that swallows the OSError of a missing file and
    then fails with "'NoneType' object has no attribute 'lower'"; look for it first, in
    storops' own places when no path is given.
    """
    candidates = [path] if path else ["/opt/Navisphere/bin/naviseccli", shutil.which("naviseccli")]
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return
    where = "at %s (naviseccli_path)" % path if path else "in /opt/Navisphere/bin or on PATH"
    module.fail_json(msg="Cannot run naviseccli to reach the VNX at %s: no executable naviseccli %s. "
                         "Install Navisphere CLI on the host that runs the module, or set naviseccli_path to its "
                         "naviseccli binary." % (module.params.get("sp_address"), where))


def connect(module):
    """A VnxClient for the module's connection options; fails the module on a bad setup."""
    check_storops(module)
    p = module.params
    if not p.get("security_file") and (p.get("username") is None) != (p.get("password") is None):
        module.fail_json(msg="Give both username and password (or neither, with security_file) to reach the VNX at %s."
                         % p["sp_address"])
    if p.get("timeout") is not None and p["timeout"] <= 0:
        module.fail_json(msg="timeout is %s: give the time limit of each naviseccli command in seconds (1 or more)."
                         % p["timeout"])
    if p.get("security_file") and not os.path.exists(p["security_file"]):
        module.fail_json(msg="The security file %s does not exist: give the directory of the Navisphere security file "
                             "(security_file), or username and password. Nothing was changed." % p["security_file"])
    check_naviseccli(module, p.get("naviseccli_path"))
    return VnxClient(
        sp_address=p["sp_address"], username=p.get("username"), password=p.get("password"),
        scope=p.get("scope") or 0, security_file=p.get("security_file"),
        naviseccli_path=p.get("naviseccli_path"), timeout=p.get("timeout"), sp_b_address=p.get("sp_b_address"))


def refuse_empty_names(module, options, empty_allowed=()):
    """Fail before anything is read or changed when a name option is given empty (or blank).

    ``options``: {option: what it names}. A list option fails on any empty element.
    ``empty_allowed``: options where exactly '' has a meaning of its own; only blanks fail there.
    """
    for option, what in options.items():
        value = module.params.get(option)
        for item in (value if isinstance(value, list) else [value]):
            if item is not None and ("\n" in str(item) or "\r" in str(item)):
                module.fail_json(msg="%s has a line break: a VNX %s name is one line. Nothing was changed." % (option, what))
            if item is None or str(item).strip():
                continue
            if option in empty_allowed:
                if item == "":
                    continue
                module.fail_json(msg="%s is blank: give the name of the %s, or '' for none. Nothing was changed."
                                     % (option, what))
            module.fail_json(msg="%s is empty: give the name of the %s as the VNX knows it (vnx_info lists them). "
                                 "Nothing was changed." % (option, what))


def fail_on_error(module, err, **result):
    """fail_json for a VnxError: its message, and its parts for playbooks to test.

    Steps that were done before the failure are named in the message too (a module that
    reports what it ``left`` says that itself): a LUN that left its consistency group or
    storage group before the next step failed must not look untouched.
    """
    done = getattr(err, "done", [])
    result.setdefault("actions_done", done)
    msg = str(err)
    if done and "left" not in result:
        msg += " (Done before the failure: %s.)" % "; ".join(done)
    module.fail_json(msg=msg, error=err.to_dict(), **result)


# The array's answers when a parallel run made the same object between this run's read and
# its write: a reason to read again and plan again, never a success by itself.
PARALLEL_KINDS = ("VNXLunNameInUseError", "VNXSnapNameInUseError", "VNXSnapAlreadyMountedError",
                  "VNXConsistencyGroupNameInUseError", "VNXStorageGroupNameInUseError")


def converge(module, attempt, tries=3, pause=2):
    """Run ``attempt()`` (read, plan, apply) and return what it returns.

    When its first change fails because a parallel run made the same object meanwhile
    (Ansible forks running one task for the same name), the array is read and the plan made
    again: what the other run made is then seen, and only what is still missing is done.
    """
    for i in range(tries):
        try:
            return attempt()
        except VnxError as err:
            if module.check_mode or err.kind not in PARALLEL_KINDS or getattr(err, "done", None) or i + 1 == tries:
                raise
            time.sleep(pause * (i + 1))  # let the other run finish the step it is in


def run(module, body):
    """Run body(client) and turn VnxError into fail_json; body calls exit_json itself."""
    client = connect(module)
    try:
        body(client)
    except VnxError as err:
        fail_on_error(module, err)
    except Exception as err:  # an unexpected storops failure: keep the traceback for -vvv
        module.fail_json(msg="Unexpected error talking to the VNX at %s: %s" % (module.params["sp_address"], err),
                         exception=traceback.format_exc())


class VnxModule(AnsibleModule):
    """An AnsibleModule with the VNX connection options, its name checks, a client and VnxError mapping.

    ``names``: {option: what it names} refused when empty or on several lines (refuse_empty_names),
    before the array is asked anything. Every VNX module supports check mode.
    """

    def __init__(self, argument_spec, names=None, empty_allowed=(), **kwargs):
        spec = vnx_argument_spec()
        spec.update(argument_spec)
        super(VnxModule, self).__init__(argument_spec=spec, supports_check_mode=True, **kwargs)
        refuse_empty_names(self, names or {}, empty_allowed)

    def client(self):
        """The VnxClient of the connection options (fails the module on a bad setup)."""
        return connect(self)

    def fail_on(self, err, **result):
        fail_on_error(self, err, **result)
