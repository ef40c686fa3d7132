#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: ontap_snapmirror_info
short_description: Report SnapMirror relationships and a backend's replication summary on NetApp ONTAP
version_added: 0.1.0
description:
  - Lists the SnapMirror relationships of the destination cluster O(hostname), filtered by source and destination
    path with C(*) wildcards, with their state, status, health, lag and last transfer, in one paged read.
  - Adds the summary that NetApp data motion calls replication stats - whether replication is enabled, how many
    relationships, their targets, their type and the worst lag.
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
  source_path:
    description:
      - Only relationships whose source matches, C(<svm>:<volume>); C(*) matches any characters, for example C(svm_src:*).
      - C(*) is the only wildcard, and means the same over REST and ZAPI. C(?), C(|), C([...]), C(!), C(<), C(>), commas
        and spaces are refused.
    type: str
  destination_path:
    description:
      - Only relationships whose destination matches, for example C(svm_dst:pool*). Wildcards as in O(source_path).
    type: str
seealso:
  - module: storage.datamotion.ontap_snapmirror
"""

EXAMPLES = r"""
- name: Replication state of a backend
  storage.datamotion.ontap_snapmirror_info:
    hostname: cluster-b.example.com
    username: admin
    password: "{{ ontap_password }}"
    source_path: "svm_src:*"
  register: replication

- name: Fail over to the target with the least lag
  ansible.builtin.debug:
    msg: "worst lag {{ replication.summary.worst_lag }} s over {{ replication.summary.replication_count }} relationships"
"""

RETURN = r"""
relationships:
  description: The matching relationships, sorted by destination path.
  returned: always
  type: list
  elements: dict
  sample:
    - source_path: svm_src:vol1
      destination_path: svm_dst:vol1
      state: snapmirrored
      status: idle
      healthy: true
      unhealthy_reason: null
      lag_time: 312
      last_transfer_end: "2026-11-28T07:00:00+00:00"
      last_transfer_error: null
      last_transfer_size: 1048576
      last_transfer_duration: 12
      policy: MirrorAllSnapshots
      policy_type: async
      schedule: hourly
      relationship_type: extended_data_protection
      uuid: 4512b2d2-fd60-11e8-8929-005056bbfe52
summary:
  description: The replication summary of the matching relationships.
  returned: always
  type: dict
  contains:
    replication_enabled:
      description: Whether there is at least one relationship.
      type: bool
    replication_count:
      description: Number of relationships.
      type: int
    replication_targets:
      description: The destination SVMs, sorted.
      type: list
      elements: str
    replication_type:
      description: V(async), V(sync), V(mixed), or null without relationships.
      type: str
    worst_lag:
      description: The largest lag in seconds, or null when no relationship reports one.
      type: int
    unhealthy:
      description: Destination paths of the relationships that are not healthy.
      type: list
      elements: str
    states:
      description: Number of relationships per state.
      type: dict
  sample:
    replication_enabled: true
    replication_count: 2
    replication_targets: [svm_dst]
    replication_type: async
    worst_lag: 312
    unhealthy: []
    states: {snapmirrored: 2}
transport:
  description: The API used, V(rest) or V(zapi).
  returned: always
  type: str
"""

from ansible_collections.storage.datamotion.plugins.module_utils.ontap.common import OntapError
from ansible_collections.storage.datamotion.plugins.module_utils.ontap.module import OntapModule


def replication_summary(rels):
    """Data motion's replication stats, over the relationships given."""
    types = set(r.policy_type or "async" for r in rels)
    lags = [r.lag_time for r in rels if r.lag_time is not None]
    states = {}
    for r in rels:
        states[r.state] = states.get(r.state, 0) + 1
    return dict(
        replication_enabled=bool(rels),
        replication_count=len(rels),
        replication_targets=sorted(set(r.destination_path.split(":")[0] for r in rels)),
        replication_type=(types.pop() if len(types) == 1 else "mixed") if rels else None,
        worst_lag=max(lags) if lags else None,
        unhealthy=sorted(r.destination_path for r in rels if not r.healthy),
        states=states,
    )


NOT_WILDCARDS = "?|[]!<>, \t"


def check_pattern(name, pattern):
    """A path filter: ``*`` is its only wildcard, on both transports (REST would read ``|`` and ``!``, fnmatch ``?``
    and ``[..]``)."""
    if pattern is not None and (not pattern or any(ch in pattern for ch in NOT_WILDCARDS)):
        raise OntapError("%s %r: write an exact path or one with * as the wildcard, for example svm_src:vol*; "
                         "? | [ ] ! < > , and spaces are not filters here" % (name, pattern))


def report(module):
    check_pattern("source_path", module.params["source_path"])
    check_pattern("destination_path", module.params["destination_path"])
    client = module.connect(role=None)
    rels = client.relationships(source_pattern=module.params["source_path"], destination_pattern=module.params["destination_path"])
    for r in rels:
        if r.last_transfer_error:
            r.last_transfer_error = client.transfer_error(r)   # REST keeps the reason with the transfer
    rels.sort(key=lambda r: r.destination_path)
    module.exit_json(changed=False, relationships=[r.facts() for r in rels], summary=replication_summary(rels), transport=client.transport)


def main():
    module = OntapModule(argument_spec=dict(source_path=dict(type="str"), destination_path=dict(type="str")))
    module.run(report)


if __name__ == "__main__":
    main()
