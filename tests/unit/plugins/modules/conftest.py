# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a module's main() in-process: arguments in, exit_json/fail_json result out."""

from __future__ import annotations

import contextlib
import json

import pytest

from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes

try:  # ansible-core >= 2.19: module arguments carry a serialization profile
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core <= 2.18
    @contextlib.contextmanager
    def patch_module_args(args=None):
        saved = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args or {}}))
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = saved


class ModuleExit(Exception):
    """exit_json was called; args[0] is the result."""


class ModuleFail(Exception):
    """fail_json was called; args[0] is the result."""


@pytest.fixture
def run_module(monkeypatch):
    """Return run(module, args, check_mode=False, diff=False) -> ("exit"|"fail", result)."""

    def exit_json(self, **kwargs):
        kwargs.setdefault("changed", False)
        raise ModuleExit(kwargs)

    def fail_json(self, msg=None, **kwargs):
        kwargs["msg"] = msg
        kwargs["failed"] = True
        raise ModuleFail(kwargs)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)

    def run(module, args, check_mode=False, diff=False):
        full = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
        with patch_module_args(full):
            try:
                module.main()
            except ModuleExit as e:
                return "exit", e.args[0]
            except ModuleFail as e:
                return "fail", e.args[0]
        raise AssertionError("the module returned without calling exit_json or fail_json")

    return run
