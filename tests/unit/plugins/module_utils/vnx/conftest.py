# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.storage.datamotion.tests.unit.plugins.module_utils.vnx.fake_navi import FakeNavi


@pytest.fixture
def navi(monkeypatch):
    """The naviseccli process replaced by a FakeNavi (storops runs unchanged above it)."""
    from ansible_collections.storage.datamotion.plugins.module_utils.vnx import client
    fake = FakeNavi()
    monkeypatch.setattr(client, "run_naviseccli", lambda cmd, timeout=None: fake.execute(cmd, timeout))
    monkeypatch.setattr(client, "_SECURITY_LEVEL_SET", set())
    return fake
