# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan a VNX module applies: its steps, applied in order unless in check mode, and what was done.

Domain only, without Ansible: the module wrapper (connection options, failing the module) is common.py.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.storage.datamotion.plugins.module_utils.vnx.client import Unchanged, VnxError


class Plan(object):
    """The steps a module will take: planned first, applied unless in check mode.

    Each step is a text for the user (returned as ``actions``) and a function that does
    it. Reads between writes (to learn an id the array assigned) are steps with
    ``change=False``: they run, but are not actions and do not make the task changed.
    A step whose function returns an ``Unchanged`` answer found its work done by someone
    else (a parallel run): once applied, the plan reports only the steps this run did.
    """

    def __init__(self):
        self.steps = []
        self.done = []
        self.applied = False

    def add(self, text, func, change=True):
        self.steps.append((text, func, change))

    def read(self, text, func):
        self.add(text, func, change=False)

    @property
    def changed(self):
        return bool(self.actions)

    @property
    def actions(self):
        if self.applied:
            return list(self.done)
        return [text for text, dummy, change in self.steps if change]

    def apply(self, check_mode):
        if check_mode:
            return
        for text, func, change in self.steps:
            try:
                answer = func()
            except VnxError as err:
                err.done = list(self.done)
                raise
            if change and not isinstance(answer, Unchanged):
                self.done.append(text)
        self.applied = True
