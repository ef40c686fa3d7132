# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.storage.datamotion.plugins.module_utils.vnx import common


class Failed(Exception):
    pass


class FakeModule(object):
    params = {}

    def fail_json(self, msg, **kwargs):
        raise Failed(msg)


def test_missing_storops_is_reported_with_missing_required_lib(monkeypatch):
    monkeypatch.setattr(common, "STOROPS_IMPORT_ERROR", "ImportError: No module named 'storops'")
    monkeypatch.setattr(common.sys, "version_info", (3, 11, 0))
    with pytest.raises(Failed) as e:
        common.check_storops(FakeModule())
    assert "Failed to import the required Python library (storops>=1.2.12)" in str(e.value)


def test_storops_on_python_313_says_which_python_to_use(monkeypatch):
    monkeypatch.setattr(common, "STOROPS_IMPORT_ERROR", "ModuleNotFoundError: No module named 'pipes'")
    monkeypatch.setattr(common.sys, "version_info", (3, 13, 0))
    with pytest.raises(Failed) as e:
        common.check_storops(FakeModule())
    assert "Python 3.12 or older" in str(e.value)


def test_old_storops_is_refused(monkeypatch):
    import importlib.metadata
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "1.2.4")
    with pytest.raises(Failed) as e:
        common.check_storops(FakeModule())
    assert "storops 1.2.4 is installed" in str(e.value)


def test_installed_storops_passes():
    common.check_storops(FakeModule())


def test_username_without_password_is_refused():
    m = FakeModule()
    m.params = dict(sp_address="192.0.2.10", username="sysadmin", password=None, security_file=None)
    with pytest.raises(Failed) as e:
        common.connect(m)
    assert "both username and password" in str(e.value)


def test_missing_naviseccli_binary_is_named(tmp_path):
    m = FakeModule()
    m.params = dict(sp_address="192.0.2.10", username="sysadmin", password="x", security_file=None,
                    naviseccli_path=str(tmp_path / "naviseccli"))
    with pytest.raises(Failed) as e:
        common.connect(m)
    assert "no executable naviseccli at %s (naviseccli_path)" % (tmp_path / "naviseccli") in str(e.value)


def test_naviseccli_that_is_not_executable_is_named(tmp_path):
    binary = tmp_path / "naviseccli"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o644)
    m = FakeModule()
    m.params = dict(sp_address="192.0.2.10", username="sysadmin", password="x", security_file=None,
                    naviseccli_path=str(binary))
    with pytest.raises(Failed) as e:
        common.connect(m)
    assert "no executable naviseccli" in str(e.value)
