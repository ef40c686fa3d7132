# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action of storage.datamotion.record_lock: tells the module which run it locks for.

The task runs in a worker that the run's ansible-playbook process forked, so the worker's parent is the run:
its pid and start time name it (owner), and with a local connection its end releases the locks (owner_pid).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import getpass
import os
import socket

from ansible.plugins.action import ActionBase
from ansible_collections.storage.datamotion.plugins.module_utils.recordlock import process_start


class ActionModule(ActionBase):
    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        run = os.getppid()
        controller = socket.gethostname()
        args.setdefault("owner", "%s:%d:%s" % (controller, run, process_start(run)))
        job = os.environ.get("JOB_ID")
        args.setdefault("holder", "%sansible-playbook pid %d on %s (user %s)" % (
            "AWX job %s, " % job if job else "", run, controller, getpass.getuser()))
        local = self._connection.transport in ("local", "ansible.builtin.local") or \
            getattr(self._connection, "_load_name", "") in ("local", "ansible.builtin.local")
        if local and not args.get("owner_pid"):
            args["owner_pid"] = run
        result.update(self._execute_module(module_name="storage.datamotion.record_lock", module_args=args,
                                           task_vars=task_vars))
        return result
