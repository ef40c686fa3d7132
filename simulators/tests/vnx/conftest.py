# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the VNX simulator's tests: a fresh $VNXSIM_HOME with one array, the
console commands as installed, and storops' VNXSystem pointed at naviseccli-sim."""

import json
import os
import shutil
import subprocess
import sys

import pytest

ADDRESS = '127.0.0.1'
USER = 'sysadmin'
PASSWORD = 'sysadmin'
GIB = 1024 ** 3


def pytest_configure(config):
    # storops 1.2.12 calls Thread.setDaemon(); that is its business, not this suite's
    config.addinivalue_line('filterwarnings', 'ignore:setDaemon\\(\\) is deprecated:DeprecationWarning')


def console(name):
    """The console command installed next to this Python (the venv's bin), else on PATH."""
    here = os.path.join(os.path.dirname(sys.executable), name)
    found = here if os.path.exists(here) else shutil.which(name)
    if not found:
        pytest.fail('%s is not installed: pip install -e simulators' % name)
    return found


class Sim:
    """The simulator as a user drives it: vnx-sim and naviseccli-sim processes."""

    def __init__(self, home):
        self.home = str(home)
        self.naviseccli = console('naviseccli-sim')
        self.vnx_sim = console('vnx-sim')

    def env(self):
        return dict(os.environ, VNXSIM_HOME=self.home)

    def ctl(self, *args, check=True):
        proc = subprocess.run([self.vnx_sim] + [str(a) for a in args], env=self.env(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, check=False, universal_newlines=True)
        if check and proc.returncode != 0:
            raise AssertionError('vnx-sim %s failed: %s' % (' '.join(map(str, args)), proc.stderr))
        return proc

    def navi(self, *args, address=ADDRESS, user=USER, password=PASSWORD, scope=0):
        """naviseccli-sim's stdout for a command, with the credential prefix."""
        argv = [self.naviseccli, '-h', address, '-user', user, '-password', password, '-scope', str(scope)]
        proc = subprocess.run(argv + [str(a) for a in args], env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              check=False, universal_newlines=True)
        assert proc.stderr == '', proc.stderr
        return proc.stdout.strip()

    def state(self, address=None):
        args = ['state'] + (['--address', address] if address else [])
        return json.loads(self.ctl(*args).stdout)

    def lun(self, name, address=None):
        for lun in self.state(address)['luns']:
            if lun['name'] == name:
                return lun
        return None

    def calls(self):
        return json.loads(self.ctl('calls').stdout)


@pytest.fixture
def bare_sim(tmp_path, monkeypatch):
    """An empty $VNXSIM_HOME: no array yet."""
    home = tmp_path / 'vnxsim'
    home.mkdir()
    monkeypatch.setenv('VNXSIM_HOME', str(home))
    simulator = Sim(home)
    yield simulator
    simulator.ctl('teardown', check=False)


@pytest.fixture
def sim(bare_sim, tmp_path):
    """One array at 127.0.0.1 (SP B 127.0.0.2): pools Pool0 (1 TiB) and Small (8 GiB),
    user sysadmin, hosts localhost (this machine) and far."""
    bare_sim.ctl('init', '--seed', write_seed(tmp_path))
    return bare_sim


def write_seed(tmp_path):
    """The default array, with its WWN links in the test's own directory."""
    seed = tmp_path / 'seed.yml'
    seed.write_text('\n'.join([
        'arrays:',
        '  - address: 127.0.0.1',
        '    sp_b_address: 127.0.0.2',
        '    pools: [{name: Pool0, size: 1 TiB}, {name: Small, size: 8 GiB}]',
        '    users: [{name: sysadmin, password: sysadmin, scope: 0}]',
        '    hosts: [{name: localhost, ip: 127.0.0.1, this_machine: true}, {name: far, ip: 10.0.0.9}]',
        '    device_dir: %s' % (tmp_path / 'by-id'),
        '',
    ]))
    return str(seed)


@pytest.fixture
def inproc(sim):
    """naviseccli's wire in this process (same code path, no process start): for the
    tests that need hundreds of calls."""
    from datamotion_sim.vnx import naviseccli

    def call(*args):
        argv = ['-h', ADDRESS, '-user', USER, '-password', PASSWORD, '-scope', '0'] + [str(a) for a in args]
        return naviseccli.run(argv)[0]
    return call


@pytest.fixture
def storops():
    return pytest.importorskip('storops')


@pytest.fixture
def vnx(sim, storops):
    """storops, unmodified, with naviseccli-sim as its naviseccli."""
    system = storops.VNXSystem(ADDRESS, USER, PASSWORD, 0, naviseccli=sim.naviseccli, heartbeat_interval=0)
    return system


@pytest.fixture
def device(sim):
    """Bytes of a LUN through its exposure on this machine (the WWN link: a loop device
    as root, else the backing file)."""

    class Device:
        def link(self, name):
            lun = sim.lun(name)
            assert lun and lun['link'], 'LUN %s is not exposed: %r' % (name, lun)
            return lun['link']

        def write(self, name, offset, payload):
            fd = os.open(self.link(name), os.O_WRONLY)
            try:
                os.pwrite(fd, payload, offset)
                os.fsync(fd)
            finally:
                os.close(fd)

        def read(self, name, offset, length):
            fd = os.open(self.link(name), os.O_RDONLY)
            try:
                return os.pread(fd, length, offset)
            finally:
                os.close(fd)

    return Device()
