# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import ast
import inspect

import pytest

from ansible_collections.storage.datamotion.plugins.module_utils.vnx import plan as plan_module
from ansible_collections.storage.datamotion.plugins.module_utils.vnx.client import VnxError
from ansible_collections.storage.datamotion.plugins.module_utils.vnx.plan import Plan


@pytest.mark.parametrize("module", ["plan", "clone", "volume", "snapshot", "access"])
def test_the_vnx_domain_imports_no_ansible(module):
    """The plans are the domain: the module wrapper (AnsibleModule, fail_json) stays in common.py."""
    source = inspect.getsource(__import__(plan_module.__name__.rsplit(".", 1)[0] + "." + module, fromlist=["x"]))
    imported = [n.module for n in ast.walk(ast.parse(source)) if isinstance(n, ast.ImportFrom)]
    imported += [a.name for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Import) for a in n.names]
    assert not [m for m in imported if m == "ansible" or (m or "").startswith("ansible.")], imported


def test_plan_in_check_mode_runs_nothing():
    ran = []
    plan = Plan()
    plan.add("create LUN a", lambda: ran.append("a"))
    plan.apply(check_mode=True)
    assert ran == [] and plan.changed and plan.actions == ["create LUN a"]


def test_plan_reads_are_not_changes():
    plan = Plan()
    plan.read("read LUN a", lambda: None)
    assert not plan.changed and plan.actions == []


def test_plan_failure_carries_what_was_done():
    def fail():
        raise VnxError("attach", "snapshot s to mount point m", "boom")
    plan = Plan()
    plan.add("create snapshot s", lambda: None)
    plan.add("attach snapshot s", fail)
    with pytest.raises(VnxError) as e:
        plan.apply(check_mode=False)
    assert e.value.done == ["create snapshot s"]
