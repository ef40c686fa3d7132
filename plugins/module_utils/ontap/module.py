# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one wrapper of every ONTAP module: connection options, library check, connect, OntapError mapping."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.storage.datamotion.plugins.module_utils.ontap.client import connect, missing_library
from ansible_collections.storage.datamotion.plugins.module_utils.ontap.common import OntapError, connection_argument_spec


class OntapModule(AnsibleModule):
    """An AnsibleModule with the ONTAP connection options (doc fragment storage.datamotion.ontap) added to
    ``argument_spec``, that fails at once when the transport's library is missing. Every ONTAP module supports
    check mode."""

    def __init__(self, argument_spec, **kwargs):
        spec = connection_argument_spec()
        spec.update(argument_spec)
        super(OntapModule, self).__init__(argument_spec=spec, supports_check_mode=True, **kwargs)
        missing = missing_library(self.params["use_rest"])
        if missing:
            self.fail_json(msg=missing_required_lib(missing[0]), exception=str(missing[1]))

    def connect(self, role="destination"):
        """The client of the cluster the connection options name (``role`` names it in messages)."""
        return connect(self.params, role=role)

    def run(self, body, prefix=""):
        """``body(self)``; an OntapError it raises fails the module with its message (after ``prefix``)."""
        try:
            body(self)
        except OntapError as exc:
            self.fail_json(msg=prefix + str(exc))
