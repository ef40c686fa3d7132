# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action of storage.datamotion.record_lock: tells the lock which run it locks for, and takes it with one command.

The task runs in a worker that the run's ansible-playbook process forked, so the worker's parent is the run:
its pid and start time name it (owner), and with a local connection its end releases the locks (owner_pid).
The task's inventory host is play_host: a lock of this run is re-entrant for that host only.
The lock's code (module_utils.recordlock, standard library only) runs on the host as one small Python command
through the connection (plugin_utils.hostscript) rather than as a module: a module run costs a Python start with
Ansible's imports, and a role takes and releases its locks in every run.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import getpass
import json
import os
import socket

from ansible.plugins.action import ActionBase
from ansible_collections.storage.datamotion.plugins.module_utils import recordlock
from ansible_collections.storage.datamotion.plugins.plugin_utils import hostscript

# `<python> -c SCRIPT <options as JSON> run|check`: prints the module's result, with failed and msg on an error
DRIVER = r"""
_params, _check = json.loads(sys.argv[1]), sys.argv[2] == "check"
_result, _error = run(_params, _check)
if _error:
    _result.update(failed=True, msg=_error)
print(json.dumps(_result))
"""


def script():
    with open(recordlock.__file__) as f:
        return f.read() + DRIVER


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        dummy, args = self.validate_argument_spec(argument_spec=recordlock.ARGUMENT_SPEC)
        run = os.getppid()
        controller = socket.gethostname()
        if not args["owner"]:
            args["owner"] = "%s:%d:%s" % (controller, run, recordlock.process_start(run))
        job = os.environ.get("JOB_ID")
        if not args["holder"]:
            args["holder"] = "%sansible-playbook pid %d on %s (user %s)" % (
                "AWX job %s, " % job if job else "", run, controller, getpass.getuser())
        # one run's lock is taken again only for the host that took it: two inventory names of one machine are
        # two hosts, refused
        if not args["play_host"]:
            args["play_host"] = (task_vars or {}).get("inventory_hostname", "")
        local = self._connection.transport in ("local", "ansible.builtin.local") or \
            getattr(self._connection, "_load_name", "") in ("local", "ansible.builtin.local")
        if local and not args["owner_pid"]:
            args["owner_pid"] = run
        answer = hostscript.run(self, task_vars, script(), [json.dumps(args), "check" if self._task.check_mode else "run"])
        if "error" in answer:
            result.update(failed=True, msg="record_lock %s: %s" % (", ".join(args["paths"]), answer["error"]))
            return result
        result.update(answer)
        return result
