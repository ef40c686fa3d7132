# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the ONTAP simulator tests: one real ``ontap-sim serve`` process for the session."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ontap_helpers import Sim  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture(scope="session")
def sim():
    server = Sim()
    yield server
    assert server.stop() == 0


@pytest.fixture(autouse=True)
def clean(request):
    """Every test starts from the seed state, without faults and with zeroed counters."""
    if "sim" in request.fixturenames:
        request.getfixturevalue("sim").reset()
    yield
