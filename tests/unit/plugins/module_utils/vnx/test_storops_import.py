# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Why storops cannot be imported, in the words of the failure (issue 18, item 4)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.storage.datamotion.plugins.module_utils.vnx import common

# the end of the traceback storops gives on Python 3.12 without setuptools
DISTUTILS = ('  File ".../storops/lib/version.py", line 19, in <module>\n'
             '    from distutils.version import LooseVersion\n'
             "ModuleNotFoundError: No module named 'distutils'\n")


class Failed(Exception):
    pass


class FakeModule:
    params = {}

    def fail_json(self, msg, **kwargs):
        raise Failed(msg)


def test_missing_distutils_says_install_setuptools(monkeypatch):
    monkeypatch.setattr(common, "STOROPS_IMPORT_ERROR", DISTUTILS)
    monkeypatch.setattr(common.sys, "version_info", (3, 12, 1))
    with pytest.raises(Failed) as e:
        common.check_storops(FakeModule())
    assert "storops needs distutils" in str(e.value)
    assert "install setuptools" in str(e.value)
    assert "Failed to import the required Python library" not in str(e.value)


IMPORT_CLIENT = """
import sys
import ansible_collections.storage.datamotion.plugins.module_utils.vnx.client as client
print(client.STOROPS_IMPORT_ERROR is None, "pkg_resources" in sys.modules, "setuptools" in sys.modules)
"""


def test_storops_loads_without_setuptools_behind_the_shim():
    """Every VNX module run imports storops; setuptools' distutils shim made that load
    setuptools and pkg_resources for storops' one `distutils.version` import."""
    import importlib.util
    import os
    import subprocess
    import sys
    if sys.version_info >= (3, 12) or importlib.util.find_spec("_distutils_hack") is None:
        pytest.skip("only Python < 3.12 with setuptools' distutils shim has both distutils to choose from")
    out = subprocess.run([sys.executable, "-c", IMPORT_CLIENT], capture_output=True, text=True, check=True,
                         env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))).stdout.split()
    assert out == ["True", "False", "False"]


IMPORT_VNX_ONLY = """
import sys
import ansible_collections.storage.datamotion.plugins.module_utils.vnx.client as client
print(client.STOROPS_IMPORT_ERROR is None, client.VNXSystem.__module__, "storops.unity" in sys.modules)
"""


def test_storops_loads_its_vnx_half_only():
    """Every VNX module run imports storops; its package __init__ also imports the Unity half (about half of the
    import's CPU time), which no VNX module uses."""
    import os
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-c", IMPORT_VNX_ONLY], capture_output=True, text=True, check=True,
                         env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))).stdout.split()
    assert out == ["True", "storops.vnx.resource.system", "False"]
