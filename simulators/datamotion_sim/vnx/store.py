# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the simulated arrays live, and the lock every call holds.

``$VNXSIM_HOME/arrays/<SP A address>/`` holds one array: ``state.json`` (the model),
``lock`` (flock'ed exclusively for the whole of a call, so parallel Ansible forks and
parallel storops calls see one array), ``luns/`` and ``snaps/`` (sparse backing files).
``arrays/<SP B address>`` is a symlink to the same directory. ``calls.log`` at the top
counts calls (one line per call, appended without a lock).
"""

import fcntl
import json
import os

HOME_ENV = 'VNXSIM_HOME'


class NoHome(Exception):
    pass


class BadState(Exception):
    """The array's state file cannot be read back."""


def home():
    path = os.environ.get(HOME_ENV)
    if not path:
        raise NoHome('%s is not set: point it at the simulator state directory (vnx-sim init creates it)' % HOME_ENV)
    return path


def arrays_dir():
    return os.path.join(home(), 'arrays')


def array_dir(address):
    return os.path.join(arrays_dir(), address)


def array_addresses():
    """SP A addresses of every array (SP B aliases are symlinks and left out)."""
    top = arrays_dir()
    if not os.path.isdir(top):
        return []
    return sorted(name for name in os.listdir(top)
                  if not os.path.islink(os.path.join(top, name)) and os.path.isfile(os.path.join(top, name, 'state.json')))


def exists(address):
    return os.path.isfile(os.path.join(array_dir(address), 'state.json'))


class Array:
    """``with Array(address) as arr:`` locks the array, loads its state and saves it
    on a clean exit if it changed. ``arr`` is the state dict; ``Array.path`` its dir."""

    def __init__(self, address, create=None):
        self.path = os.path.realpath(array_dir(address))
        self._create = create
        self._lock = None
        self._text = None
        self.state = None

    def __enter__(self):
        if self._create is not None:
            os.makedirs(self.path, exist_ok=True)
        self._lock = open(os.path.join(self.path, 'lock'), 'a')
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        state_file = os.path.join(self.path, 'state.json')
        if self._create is not None:
            self.state = self._create
            self._text = ''
        else:
            try:
                with open(state_file) as f:
                    self._text = f.read()
                self.state = json.loads(self._text)
                if not isinstance(self.state, dict):
                    raise ValueError('not a JSON object')
            except (OSError, ValueError) as err:
                self._lock.close()
                raise BadState('the state of array %s (%s) cannot be read: %s. Put back a good copy, or start the array '
                               'again with vnx-sim init --force (its LUNs are lost)' % (os.path.basename(self.path), state_file, err))
        return self.state

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self.save()
        finally:
            self._lock.close()
        return False

    def save(self):
        text = json.dumps(self.state, sort_keys=True, separators=(',', ':'))
        if text != self._text:
            tmp = os.path.join(self.path, 'state.json.tmp')
            with open(tmp, 'w') as f:
                f.write(text)
            os.replace(tmp, os.path.join(self.path, 'state.json'))
            self._text = text


def count_call(key):
    """Append one line to calls.log (O_APPEND: safe without a lock)."""
    try:
        fd = os.open(os.path.join(home(), 'calls.log'), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    except (OSError, NoHome):
        return
    try:
        os.write(fd, (key + '\n').encode())
    finally:
        os.close(fd)


def read_calls():
    counts = {}
    total = 0
    try:
        with open(os.path.join(home(), 'calls.log')) as f:
            for line in f:
                key = line.rstrip('\n')
                if key:
                    counts[key] = counts.get(key, 0) + 1
                    total += 1
    except FileNotFoundError:
        pass
    return {'total': total, 'commands': dict(sorted(counts.items()))}


def reset_calls():
    path = os.path.join(home(), 'calls.log')
    if os.path.exists(path):
        os.truncate(path, 0)
