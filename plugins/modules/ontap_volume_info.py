#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: ontap_volume_info
short_description: List the volumes of an SVM on NetApp ONTAP, by name or pattern
version_added: 0.2.0
description:
  - Reads every volume of the SVM O(svm) in one paged read and returns those whose name matches O(name) - exact
    names or shell patterns such as C(pool*) - with their type, state, size, junction path and aggregates.
  - The role C(storage.datamotion.replication) uses it to find the volumes of a backend on each run, so new volumes
    that match the pattern join the protection.
author:
  - Storage DataMotion Team (@storage-datamotion)
extends_documentation_fragment:
  - storage.datamotion.ontap
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.actiongroups
attributes:
  check_mode:
    support: full
    details: Reads only.
  diff_mode:
    support: none
options:
  svm:
    description: The SVM whose volumes are listed.
    type: str
    required: true
  name:
    description:
      - Volume names or shell patterns (C(*), C(?), C([...])); a volume is returned when it matches one of them.
    type: list
    elements: str
    default: ['*']
  type:
    description: Only volumes of this type (V(rw) read-write, V(dp) data protection).
    type: str
    choices: [rw, dp]
  snapshots:
    description:
      - Also return the names of each volume's snapshots, oldest first (one read per volume).
    type: bool
    default: false
    version_added: 0.3.0
  delta_from:
    description:
      - Volume name to the name of one of its snapshots; each of these volumes is returned with the bytes written on it
        since that snapshot (ONTAP's snapshot delta to the active file system; ZAPI C(snapshot-delta-info)).
      - The replication role asks it of the source volumes before a failback's reverse resync, which discards what was
        written on them since the snapshot they share with the target.
    type: dict
    version_added: 0.3.0
  aggregates:
    description:
      - Also return these aggregates of the cluster with the bytes available on each (RV(aggregates)), to check that new
        volumes fit before any is made. An aggregate that does not exist is left out.
    type: list
    elements: str
    default: []
    version_added: 0.3.0
seealso:
  - module: storage.datamotion.ontap_snapmirror
"""

EXAMPLES = r"""
- name: The pools of a backend
  storage.datamotion.ontap_volume_info:
    hostname: cluster-a.example.com
    username: admin
    password: "{{ ontap_password }}"
    svm: svm_prod
    name: ["pool*"]
    type: rw
  register: backend
"""

RETURN = r"""
volumes:
  description: The matching volumes, sorted by name; C(snapshots) with O(snapshots=true), C(delta) (C(snapshot), C(size_consumed)
    in bytes) for the volumes of O(delta_from).
  returned: always
  type: list
  elements: dict
  sample:
    - svm: svm_prod
      name: pool1
      path: svm_prod:pool1
      type: rw
      state: online
      size: 107374182400
      junction_path: /pool1
      aggregates: [aggr1]
      snapshots: ["snapmirror.1b6e6d4f_2147484690.2024-05-01_100000"]
      delta: {snapshot: "snapmirror.1b6e6d4f_2147484690.2024-05-01_100000", size_consumed: 4096}
unmatched:
  description: The entries of O(name) that matched no volume.
  returned: always
  type: list
  elements: str
aggregates:
  description: The aggregates named in O(aggregates) that exist, each with C(name) and C(available) (bytes).
  returned: always
  type: list
  elements: dict
  sample: [{name: aggr1, available: 1099511627776}]
transport:
  description: The API used, V(rest) or V(zapi).
  returned: always
  type: str
"""

import fnmatch

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.storage.datamotion.plugins.module_utils.ontap.client import connect, missing_library
from ansible_collections.storage.datamotion.plugins.module_utils.ontap.common import OntapError, connection_argument_spec


def main():
    spec = connection_argument_spec()
    spec.update(svm=dict(type="str", required=True), name=dict(type="list", elements="str", default=["*"]),
                type=dict(type="str", choices=["rw", "dp"]), snapshots=dict(type="bool", default=False),
                delta_from=dict(type="dict"), aggregates=dict(type="list", elements="str", default=[]))
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    missing = missing_library(module.params["use_rest"])
    if missing:
        module.fail_json(msg=missing_required_lib(missing[0]), exception=str(missing[1]))
    patterns = module.params["name"]
    if not patterns or any(not p for p in patterns):
        module.fail_json(msg="name must list volume names or patterns, none of them empty (for example ['pool*'])")
    try:
        client = connect(module.params)
        volumes = client.svm_volumes(module.params["svm"])
        names = module.params["aggregates"]
        found = client.aggregates(set(names)) if names else {}
    except OntapError as exc:
        module.fail_json(msg="reading the volumes of SVM %s: %s" % (module.params["svm"], exc))
    aggregates = [dict(name=found[n].name, available=found[n].available) for n in dict.fromkeys(names) if n in found]
    wanted = [v for v in volumes if any(fnmatch.fnmatchcase(v.name, p) for p in patterns)
              and module.params["type"] in (None, v.type)]
    wanted.sort(key=lambda v: v.name)
    unmatched = [p for p in patterns if not any(fnmatch.fnmatchcase(v.name, p) for v in wanted)]
    delta_from = module.params["delta_from"] or {}
    results = []
    for v in wanted:
        result = dict(svm=v.svm, name=v.name, path=v.path, type=v.type, state=v.state, size=v.size,
                      junction_path=v.junction_path, aggregates=v.aggregates)
        try:
            if module.params["snapshots"]:
                result["snapshots"] = client.snapshots(v)
            if delta_from.get(v.name):
                result["delta"] = dict(snapshot=delta_from[v.name], size_consumed=client.snapshot_delta(v, delta_from[v.name]))
        except OntapError as exc:
            module.fail_json(msg="reading the snapshots of volume %s: %s" % (v.path, exc))
        results.append(result)
    module.exit_json(changed=False, transport=client.transport, unmatched=unmatched, volumes=results, aggregates=aggregates)


if __name__ == "__main__":
    main()
