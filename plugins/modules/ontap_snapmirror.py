#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: ontap_snapmirror
short_description: Converge one SnapMirror relationship, or all relationships of a backend, on NetApp ONTAP
version_added: 0.1.0
description:
  - Makes SnapMirror relationships on the destination cluster what you declare - present or absent, mirroring,
    paused (quiesced) or broken off - with the policy and schedule you name, creating the destination DP volume
    when asked.
  - A list (O(relationships)) converges in one task - one paged read for the whole list, then the actions of all
    relationships in bulk - which is how a whole backend is protected, updated or failed over.
  - Every change goes to the destination cluster. The source cluster (O(source_cluster)) is read only to create
    a destination volume and to validate the source volume, and written only to release a deleted relationship,
    best effort; a break (failover) never needs it.
  - The NetApp data-motion operations - create, initialize, update, quiesce, quiesce-then-abort, break and mount,
    resync, resume, delete and release - are chosen by comparing what the cluster reports with what you declare.
author:
  - Storage DataMotion Team (@storage-datamotion)
extends_documentation_fragment:
  - storage.datamotion.ontap
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.actiongroups
attributes:
  check_mode:
    support: full
    details: Reads the clusters, validates the request and reports the actions and the relationships as they would be.
  diff_mode:
    support: full
    details: Shows each relationship's source, state, status, policy and schedule before and after.
options:
  destination_path:
    description:
      - The destination of one relationship, C(<svm>:<volume>) on the cluster O(hostname).
      - Mutually exclusive with O(relationships).
    type: str
  source_path:
    description:
      - The source of the relationship, C(<svm>:<volume>). Required to create it.
    type: str
  state:
    description:
      - V(present) - the relationship exists. V(absent) - it does not; a running transfer is aborted first, the
        relationship is deleted on the destination and released on the source. The destination volume is kept.
    type: str
    choices: [present, absent]
    default: present
  relationship_state:
    description:
      - V(snapmirrored) - initialized and mirroring (a paused relationship is resumed, a broken one resynced).
      - A resync discards what was written on the destination since the break, so a broken off relationship is
        resynced only when V(snapmirrored) (or V(paused)) is given here or in its item; with the default the task
        fails naming it, before anything is changed.
      - V(paused) - initialized and quiesced; no scheduled transfers.
      - V(broken_off) - the destination is writable (failover). A transfer that does not stop within
        O(quiesce_timeout) is aborted; then the destination volume is mounted (see O(mount_after_break)).
      - Default V(snapmirrored) when O(state=present).
    type: str
    choices: [snapmirrored, paused, broken_off]
  policy:
    description:
      - SnapMirror policy, for example C(MirrorAllSnapshots). Set on create and changed when it differs.
      - When not given, a new relationship gets the cluster's default and an existing one is left as it is.
    type: str
  schedule:
    description:
      - Transfer schedule, for example C(hourly). An empty string removes the schedule.
    type: str
  relationship_type:
    description:
      - Type of a new relationship. Over REST only V(extended_data_protection) exists.
    type: str
    choices: [extended_data_protection, data_protection, vault]
  create_destination:
    description:
      - Create the destination volume when it does not exist - a DP FlexVol at least the source volume's size,
        waited until it is online. Needs O(source_cluster) to read the source volume.
    type: dict
    suboptions:
      enabled:
        description: Create the destination volume when it is missing.
        type: bool
        default: true
      aggregate:
        description: Aggregate of the destination cluster that holds the new volume.
        type: str
      aggregate_map:
        description:
          - Source aggregate name to destination aggregate name, used when O(create_destination.aggregate) is not given.
        type: dict
      size:
        description: Size in bytes; at least the source volume's size, which is the default.
        type: int
  mount_after_break:
    description:
      - After a break, mount the destination volume at O(junction_path) so clients can use it. A volume already
        mounted elsewhere is left where it is - unless O(junction_path) is given and the break happens in this run,
        when it is unmounted and mounted at O(junction_path) (the failover's clients look for it there).
    type: bool
    default: true
  junction_path:
    description:
      - Junction path for O(mount_after_break). Default C(/<destination volume>).
    type: str
  update:
    description:
      - Transfer now, on every run (reported as a change). Needs O(relationship_state=snapmirrored).
      - Mutually exclusive with O(max_lag), which is the idempotent form.
    type: bool
    default: false
  max_lag:
    description:
      - Transfer only where the lag (time since the last transfer's snapshot) exceeds this many seconds.
    type: int
  reverse_resync:
    description:
      - Create a missing relationship onto a destination volume that is read-write - the original source of a
        failed-over relationship - and resync it, the first step of a failback. ONTAP rolls that volume back to the
        newest snapshot it shares with the source, so what was written on it since then is lost.
      - Without it a read-write destination volume is an error. Needs O(relationship_state=snapmirrored).
    type: bool
    default: false
    version_added: 0.2.0
  relationships:
    description:
      - Several relationships in one task. Each item takes the options above that describe a relationship
        (O(destination_path) is required); options left out of an item take the task's value.
      - A destination may be listed only once.
    type: list
    elements: dict
    suboptions:
      destination_path:
        description: See O(destination_path).
        type: str
        required: true
      source_path:
        description: See O(source_path).
        type: str
      state:
        description: See O(state).
        type: str
        choices: [present, absent]
      relationship_state:
        description: See O(relationship_state).
        type: str
        choices: [snapmirrored, paused, broken_off]
      policy:
        description: See O(policy).
        type: str
      schedule:
        description: See O(schedule).
        type: str
      relationship_type:
        description: See O(relationship_type).
        type: str
        choices: [extended_data_protection, data_protection, vault]
      create_destination:
        description: See O(create_destination).
        type: dict
      mount_after_break:
        description: See O(mount_after_break).
        type: bool
      junction_path:
        description: See O(junction_path).
        type: str
      update:
        description: See O(update).
        type: bool
      max_lag:
        description: See O(max_lag).
        type: int
      reverse_resync:
        description: See O(reverse_resync).
        type: bool
        version_added: 0.2.0
  source_cluster:
    description:
      - How to reach the source cluster, for O(create_destination), for checking that source volumes exist and
        for the release after a delete. Keys left out take the destination's connection values.
      - Never contacted for a break, so failover works with the source cluster down.
    type: dict
    suboptions:
      hostname:
        description: Source cluster management address.
        type: str
        required: true
      username:
        description: User on the source cluster.
        type: str
      password:
        description: Password of that user.
        type: str
      https:
        description: Use HTTPS.
        type: bool
      validate_certs:
        description: Verify the TLS certificate.
        type: bool
      port:
        description: TCP port.
        type: int
      use_rest:
        description: Transport, as O(use_rest).
        type: str
        choices: [auto, always, never]
      timeout:
        description: Seconds, as O(timeout).
        type: int
        version_added: 0.2.0
      ca_bundle:
        description: CA certificates, as O(ca_bundle).
        type: path
        version_added: 0.2.0
      cert_filepath:
        description: Client certificate, as O(cert_filepath); a password inherited from the destination is then not used.
        type: path
        version_added: 0.2.0
      key_filepath:
        description: Its key, as O(key_filepath).
        type: path
        version_added: 0.2.0
  wait:
    description:
      - Wait until the transfers started (initialize, resync, update) have finished, and until quiesce and break
        have taken effect. Waits between actions of one relationship (initialize before a break, for example)
        happen regardless.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds all waiting of the task may take. When they run out the task fails with each relationship's last
        known state.
    type: int
    default: 600
  quiesce_timeout:
    description:
      - Seconds a quiesce may take before the running transfer is aborted (quiesce then abort).
    type: int
    default: 60
notes:
  - Relationships are identified by their destination; a destination that already mirrors another source than
    O(source_path) is an error (delete it first).
  - Deleting tolerates what is already gone, on either side.
seealso:
  - module: storage.datamotion.ontap_snapmirror_info
"""

EXAMPLES = r"""
- name: Protect a volume, creating the DP destination
  storage.datamotion.ontap_snapmirror:
    hostname: cluster-b.example.com
    username: admin
    password: "{{ ontap_password }}"
    source_path: svm_src:vol1
    destination_path: svm_dst:vol1
    policy: MirrorAllSnapshots
    schedule: hourly
    create_destination:
      aggregate: aggr1
    source_cluster:
      hostname: cluster-a.example.com

- name: Whole backend - every pool replicated, transfer where the lag exceeds an hour
  storage.datamotion.ontap_snapmirror:
    hostname: cluster-b.example.com
    username: admin
    password: "{{ ontap_password }}"
    policy: MirrorAllSnapshots
    max_lag: 3600
    relationships:
      - source_path: svm_src:pool1
        destination_path: svm_dst:pool1
      - source_path: svm_src:pool2
        destination_path: svm_dst:pool2

- name: Fail the backend over (the source cluster may be down)
  storage.datamotion.ontap_snapmirror:
    hostname: cluster-b.example.com
    username: admin
    password: "{{ ontap_password }}"
    relationship_state: broken_off
    relationships:
      - destination_path: svm_dst:pool1
      - destination_path: svm_dst:pool2

- name: Retire a relationship - delete it and release it on the source
  storage.datamotion.ontap_snapmirror:
    hostname: cluster-b.example.com
    username: admin
    password: "{{ ontap_password }}"
    destination_path: svm_dst:vol1
    state: absent
    source_cluster:
      hostname: cluster-a.example.com
"""

RETURN = r"""
relationships:
  description: Each relationship of the task, in the order given, after the run (predicted in check mode).
  returned: always
  type: list
  elements: dict
  contains:
    destination_path:
      description: The destination, C(<svm>:<volume>).
      type: str
      sample: svm_dst:vol1
    actions:
      description: The actions taken (in check mode, that would be taken), in order.
      type: list
      elements: str
      sample: [create_volume, create, initialize]
    relationship:
      description:
        - The relationship's facts, or null when it does not exist. C(state) is uninitialized, snapmirrored,
          paused, broken_off or in_sync; C(status) idle, transferring, quiescing, quiesced, breaking or aborting;
          C(lag_time) in seconds; C(last_transfer_end) in ISO 8601.
      type: dict
      sample:
        source_path: svm_src:vol1
        destination_path: svm_dst:vol1
        state: snapmirrored
        status: idle
        healthy: true
        unhealthy_reason: null
        lag_time: 42
        last_transfer_end: "2026-11-28T07:00:00+00:00"
        last_transfer_error: null
        policy: MirrorAllSnapshots
        policy_type: async
        schedule: hourly
        relationship_type: extended_data_protection
        uuid: 4512b2d2-fd60-11e8-8929-005056bbfe52
    warnings:
      description: What could not be done without failing the task (for example a release on an unreachable source).
      type: list
      elements: str
actions:
  description: The actions of the single relationship (O(destination_path) form).
  returned: when O(destination_path) is given
  type: list
  elements: str
  sample: [quiesce, break, mount]
relationship:
  description: The facts of the single relationship (O(destination_path) form), as in RV(relationships).
  returned: when O(destination_path) is given
  type: dict
transport:
  description: The API used for the destination cluster, V(rest) or V(zapi).
  returned: always
  type: str
  sample: rest
"""

from ansible_collections.storage.datamotion.plugins.module_utils.ontap.client import connect
from ansible_collections.storage.datamotion.plugins.module_utils.ontap.common import OntapError, split_path
from ansible_collections.storage.datamotion.plugins.module_utils.ontap.module import OntapModule
from ansible_collections.storage.datamotion.plugins.module_utils.ontap.preflight import prepare
from ansible_collections.storage.datamotion.plugins.module_utils.ontap.snapmirror import (
    Applier, Desired, Step, WaitTimedOut, in_motion, predict, summary,
)

RELATIONSHIP_KEYS = ("source_path", "state", "relationship_state", "policy", "schedule", "relationship_type",
                     "create_destination", "mount_after_break", "junction_path", "update", "max_lag", "reverse_resync")
TYPES = ["extended_data_protection", "data_protection", "vault"]


def argument_spec():
    """The module's own options (OntapModule adds the connection options)."""
    spec = {}
    item = dict(
        destination_path=dict(type="str", required=True),
        source_path=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"]),
        relationship_state=dict(type="str", choices=["snapmirrored", "paused", "broken_off"]),
        policy=dict(type="str"),
        schedule=dict(type="str"),
        relationship_type=dict(type="str", choices=TYPES),
        create_destination=dict(type="dict"),
        mount_after_break=dict(type="bool"),
        junction_path=dict(type="str"),
        update=dict(type="bool"),
        max_lag=dict(type="int"),
        reverse_resync=dict(type="bool"),
    )
    spec.update(
        destination_path=dict(type="str"),
        source_path=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        relationship_state=dict(type="str", choices=["snapmirrored", "paused", "broken_off"]),
        policy=dict(type="str"),
        schedule=dict(type="str"),
        relationship_type=dict(type="str", choices=TYPES),
        create_destination=dict(type="dict", options=dict(
            enabled=dict(type="bool", default=True),
            aggregate=dict(type="str"),
            aggregate_map=dict(type="dict"),
            size=dict(type="int"),
        )),
        mount_after_break=dict(type="bool", default=True),
        junction_path=dict(type="str"),
        update=dict(type="bool", default=False),
        max_lag=dict(type="int"),
        reverse_resync=dict(type="bool", default=False),
        relationships=dict(type="list", elements="dict", options=item),
        source_cluster=dict(type="dict", options=dict(
            hostname=dict(type="str", required=True),
            username=dict(type="str"),
            password=dict(type="str", no_log=True),
            https=dict(type="bool"),
            validate_certs=dict(type="bool"),
            port=dict(type="int"),
            use_rest=dict(type="str", choices=["auto", "always", "never"]),
            timeout=dict(type="int"),
            ca_bundle=dict(type="path"),
            cert_filepath=dict(type="path"),
            key_filepath=dict(type="path", no_log=False),
        )),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=600),
        quiesce_timeout=dict(type="int", default=60),
    )
    return spec


class Request:
    """The validated request: Desired per relationship, plus what creating destinations needs."""

    def __init__(self, params):
        self.params = params
        self.single = params["relationships"] is None
        items = [dict(destination_path=params["destination_path"])] if self.single else params["relationships"]
        self.desired = []
        self.create_options = {}
        seen = set()
        for index, item in enumerate(items):
            d = self._desired(item, index)
            if d.destination_path in seen:
                raise OntapError("destination %s is listed twice in relationships; list each destination once" % d.destination_path)
            seen.add(d.destination_path)
            self.desired.append(d)

    def _desired(self, item, index):
        where = "relationships[%d]" % index if not self.single else "the task"
        merged = dict((k, item.get(k) if item.get(k) is not None else self.params.get(k)) for k in RELATIONSHIP_KEYS)
        dest = item.get("destination_path")
        split_path(dest, "destination_path of %s" % where)
        if merged["source_path"] is not None:
            split_path(merged["source_path"], "source_path of %s (%s)" % (where, dest))
        if merged["update"] and merged["max_lag"] is not None:
            raise OntapError("%s: update and max_lag exclude each other; use max_lag for a transfer only when the lag is too large, "
                             "update: true for a transfer on every run" % dest)
        if merged["max_lag"] is not None and merged["max_lag"] < 0:
            raise OntapError("%s: max_lag must be 0 or more seconds, not %s" % (dest, merged["max_lag"]))
        if merged["state"] == "absent":
            given = item if not self.single else self.params
            for key in ("relationship_state", "update", "max_lag", "create_destination"):
                if given.get(key) not in (None, False):
                    raise OntapError("%s: %s has no meaning with state: absent; remove it" % (dest, key))
        target = merged["relationship_state"] or "snapmirrored"
        if target != "snapmirrored" and (merged["update"] or merged["max_lag"] is not None):
            raise OntapError("%s: update and max_lag need relationship_state: snapmirrored, not %s" % (dest, target))
        create = merged["create_destination"]
        create_enabled = bool(create) and create.get("enabled", True) is not False
        if create_enabled:
            unknown = set(create) - set(("enabled", "aggregate", "aggregate_map", "size"))
            if unknown:
                raise OntapError("%s: create_destination has unknown keys %s; use enabled, aggregate, aggregate_map, size"
                                 % (dest, ", ".join(sorted(unknown))))
            if create.get("aggregate_map") is not None and not isinstance(create["aggregate_map"], dict):
                raise OntapError("%s: create_destination.aggregate_map must map source aggregate names to destination aggregate "
                                 "names, for example {aggr_src: aggr1}" % dest)
            size = create.get("size")
            if size is not None and (isinstance(size, bool) or not str(size).isdigit()):
                raise OntapError("%s: create_destination.size must be a whole number of bytes, not %r" % (dest, size))
            if size is not None:
                create = dict(create, size=int(size))
            if not create.get("aggregate") and not create.get("aggregate_map"):
                raise OntapError("%s: create_destination needs aggregate or aggregate_map to place the new volume" % dest)
            if create.get("aggregate") and create.get("aggregate_map"):
                raise OntapError("%s: create_destination takes aggregate or aggregate_map, not both" % dest)
            if not self.params.get("source_cluster"):
                raise OntapError("%s: create_destination needs source_cluster, to read the size of the source volume" % dest)
            self.create_options[dest] = create
        return Desired(
            destination_path=dest, source_path=merged["source_path"], state=merged["state"] or "present",
            relationship_state=target, policy=merged["policy"], schedule=merged["schedule"],
            relationship_type=merged["relationship_type"], create_destination=create_enabled,
            mount_after_break=merged["mount_after_break"] is not False, junction_path=merged["junction_path"],
            update=bool(merged["update"]), max_lag=merged["max_lag"],
            relationship_state_given=merged["relationship_state"] is not None,
            reverse_resync=bool(merged["reverse_resync"]),
        )


class Run:
    """plan -> apply -> report for one task."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self._source = None

    def source(self):
        """The source cluster's client, connected on first use; a failure to connect is remembered."""
        if self._source is None:
            params = dict(self.params)
            params.update((k, v) for k, v in self.params["source_cluster"].items() if v is not None)
            try:
                self._source = connect(params, role="source")
            except OntapError as exc:
                self._source = exc
        if isinstance(self._source, OntapError):
            raise self._source
        return self._source

    def execute(self):
        request = Request(self.params)
        client = connect(self.params)
        self.client = client
        source = self.source if self.params["source_cluster"] else None
        prep = prepare(client, request.desired, request.create_options, source)
        steps = [Step(desired=d, rel=prep.found.get(d.destination_path), volume=prep.volumes.get(d.destination_path),
                      actions=prep.plans[d.destination_path], source_record=d.destination_path in prep.records)
                 for d in request.desired]
        for s in steps:
            s.warnings.extend(prep.warnings.get(s.path, []))
        changed = any(s.actions for s in steps)
        if self.params["wait"]:
            for s in steps:
                if not s.actions:
                    s.waiting = in_motion(s.desired, s.rel)
        failed = None
        if (changed or any(s.waiting for s in steps)) and not self.module.check_mode:
            applier = Applier(client, source=source, wait=self.params["wait"],
                              wait_timeout=self.params["wait_timeout"], quiesce_timeout=self.params["quiesce_timeout"],
                              volume_sizes=prep.sizes, aggregates=prep.aggregates)
            try:
                applier.run(steps)
            except WaitTimedOut as exc:
                failed = "timed out after %ss (wait_timeout) waiting for: %s" % (exc.timeout, "; ".join(
                    "%s to be %s (last seen: %s)" % (s.path, s.waiting, "state %s, status %s" % (s.rel.state, s.rel.status) if s.rel else "absent")
                    for s in exc.steps))
            except OntapError as exc:
                failed = str(exc)
            # what is reported is what the cluster shows after the run (or, when it stops answering, what was last read)
            try:
                after = dict((r.destination_path, r) for r in client.relationships(destinations=set(s.path for s in steps)))
            except OntapError as exc:
                failed = failed or str(exc)
                after = dict((s.path, s.rel) for s in steps)
            for s in steps:
                s.rel = after.get(s.path)
                if s.desired.state == "absent" and s.rel is not None and s.error is None and not failed:
                    s.error = "SnapMirror relationship %s still exists after the run (state %s, status %s)" % (s.path, s.rel.state, s.rel.status)
        return self.report(request, steps, prep, failed)

    def report(self, request, steps, prep, failed):
        found = prep.found
        results = []
        before, after = {}, {}
        warnings = []
        errors = []
        for s in steps:
            rel = s.rel
            if self.module.check_mode:
                rel = predict(s.desired, found.get(s.path), list(s.actions), self.client.default_policy, prep.policy_types)
                actions = list(s.actions)
            else:
                actions = s.taken
            results.append(dict(destination_path=s.path, actions=actions, relationship=rel.facts() if rel else None,
                                warnings=s.warnings))
            before[s.path] = summary(found.get(s.path))
            after[s.path] = summary(rel)
            warnings.extend(s.warnings)
            if s.error:
                errors.append("%s: %s" % (s.path, s.error))
        for w in warnings:
            self.module.warn(w)
        # changed is what this run did (in check mode: would do); a parallel run may have done the rest
        result = dict(changed=any(r["actions"] for r in results), relationships=results, transport=self.client.transport)
        if request.single:
            result.update(actions=results[0]["actions"], relationship=results[0]["relationship"])
        if self.module._diff:
            result["diff"] = dict(before=before, after=after)
        if errors or failed:
            self.module.fail_json(msg="; ".join(errors + ([failed] if failed else [])), **result)
        self.module.exit_json(**result)


def main():
    module = OntapModule(
        argument_spec=argument_spec(),
        mutually_exclusive=[("destination_path", "relationships")],
        required_one_of=[("destination_path", "relationships")],
    )
    module.run(lambda m: Run(m).execute())


if __name__ == "__main__":
    main()
