# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bounded polling with a time budget, for every long array operation.

``wait_for(poll, done, timeout)`` calls ``poll()`` until ``done(value)`` is true and
returns that value. When ``timeout`` seconds pass first, it raises ``WaitTimeout``
carrying the last value read, so a module can fail with the object's last known
state. The pause between polls starts short and grows to ``max_interval``: a quick
operation is seen quickly, a slow one is not polled hard.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time


class WaitTimeout(Exception):
    """The operation did not finish within its time budget; ``last`` is the last value polled."""

    def __init__(self, what, timeout, last):
        super(WaitTimeout, self).__init__("timed out after %ss waiting for %s" % (timeout, what))
        self.what = what
        self.timeout = timeout
        self.last = last


def wait_for(poll, done, timeout, what="the operation", interval=0.2, max_interval=5.0,
             clock=time.monotonic, sleep=time.sleep):
    """Poll until ``done(value)``; return the value, or raise WaitTimeout after ``timeout`` s.

    ``poll`` runs at least once, even with ``timeout`` 0, so a caller can use
    ``timeout=0`` to ask "is it already done?".
    """
    deadline = clock() + timeout
    while True:
        value = poll()
        if done(value):
            return value
        left = deadline - clock()
        if left <= 0:
            raise WaitTimeout(what, timeout, value)
        sleep(min(interval, left))
        interval = min(interval * 1.5, max_interval)
