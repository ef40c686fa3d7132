# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SnapMirror pre-flight: read what the plans need, plan once, check everything before the first change.

``prepare`` reads the destination cluster (relationships, then the volumes, policies,
schedules, SVMs, peers and aggregates that the plans touch) and the source cluster (its
volumes for a create, its destination records for a release), plans every relationship
once with ``snapmirror.plan`` and runs the named checks below. Each check raises
OntapError naming the relationship, what is wrong and what to do; nothing has been
changed when one fails, in check mode or not.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from dataclasses import dataclass, field
from typing import Dict, List, Set

from ansible_collections.storage.datamotion.plugins.module_utils.ontap.common import OntapError
from ansible_collections.storage.datamotion.plugins.module_utils.ontap.snapmirror import plan, source_conflict


@dataclass
class Prepared:
    """What the pre-flight read and decided: the input of the applier and of the report."""
    found: Dict[str, object] = field(default_factory=dict)      # destination -> Relationship
    volumes: Dict[str, object] = field(default_factory=dict)    # destination -> Volume (those the plans need)
    records: Set[str] = field(default_factory=set)              # destinations the source still lists (to release)
    plans: Dict[str, list] = field(default_factory=dict)
    sizes: Dict[str, int] = field(default_factory=dict)         # new destination volumes
    aggregates: Dict[str, str] = field(default_factory=dict)
    policy_types: Dict[str, str] = field(default_factory=dict)  # policy -> async or sync, for the policies named
    warnings: Dict[str, List[str]] = field(default_factory=dict)   # destination -> what will not be done


def needs_volume(desired, rel):
    """Whether the plan of ``desired`` depends on the destination volume (a create, a mount after a break)."""
    if desired.state != "present":
        return False
    return rel is None or (desired.relationship_state == "broken_off" and desired.mount_after_break)


def prepare(client, desired, create_options, source=None):
    """Read, plan once, check. ``source`` is a callable returning the source cluster's client, or None."""
    prep = Prepared()
    paths = set(d.destination_path for d in desired)
    prep.found = dict((r.destination_path, r) for r in client.relationships(destinations=paths))
    wanted = set(d.destination_path for d in desired if needs_volume(d, prep.found.get(d.destination_path)))
    if wanted:
        prep.volumes = client.volumes(wanted)
    for d in desired:
        check_relationship(client, d, prep.found.get(d.destination_path))
    read_source_records(prep, desired, source)
    prep.plans = dict((d.destination_path, plan(d, prep.found.get(d.destination_path), prep.volumes.get(d.destination_path),
                                                d.destination_path in prep.records)) for d in desired)
    prep.policy_types = check_policies(client, desired, prep.found)
    check_schedules(client, desired, prep.found)
    creating = [d for d in desired if prep.plans[d.destination_path][:1] in (["create"], ["create_volume"])]
    if creating:
        check_destinations(client, creating, prep.volumes)
        if source is not None:
            check_sources(client, source(), creating, create_options, prep)
    return prep


def check_relationship(client, d, rel):
    """One relationship as read against what is asked of it."""
    conflict = source_conflict(d, rel)
    if conflict:
        raise OntapError(conflict)
    if rel is None:
        if d.state == "present" and not d.source_path:
            raise OntapError("SnapMirror relationship %s does not exist; give source_path to create it" % d.destination_path)
        if d.state == "present" and d.relationship_type and not client.creates_relationship_type(d.relationship_type):
            raise OntapError("%s: relationship_type %s cannot be created over %s, which is what cluster %s was reached with; "
                             "use extended_data_protection, or use_rest: never for ZAPI"
                             % (d.destination_path, d.relationship_type, client.transport.upper(), client.host))
        return
    if d.state != "present":
        return
    if d.relationship_type and rel.relationship_type and d.relationship_type != rel.relationship_type:
        raise OntapError("%s is a %s relationship, not %s; ONTAP cannot change the type of a relationship: delete it "
                         "(state: absent) and create it again, or leave relationship_type out"
                         % (d.destination_path, rel.relationship_type, d.relationship_type))
    if rel.state == "broken_off" and not d.relationship_state_given:
        raise OntapError("%s is broken off (failed over): its destination volume may hold data written since the break, "
                         "which a resync would discard. Set relationship_state: snapmirrored on it to resync from %s "
                         "anyway, or relationship_state: broken_off to keep it failed over"
                         % (d.destination_path, rel.source_path))
    if d.relationship_state == "broken_off" and rel.state == "uninitialized" and rel.busy:
        raise OntapError("%s cannot be failed over: its first transfer from %s is still running, so the destination holds no "
                         "complete copy yet, and stopping it would throw that transfer away. Wait for it to finish "
                         "(relationship_state: snapmirrored) and fail over then" % (d.destination_path, rel.source_path))


def read_source_records(prep, desired, source):
    """Which destinations to delete the source still lists. Refused credentials fail here, before any change;
    an unreachable source is a warning (the release is best effort, the delete goes on)."""
    deleting = [d for d in desired if d.state == "absent"]
    if not deleting:
        return
    paths = set(d.destination_path for d in deleting)
    if source is None:
        for path in sorted(paths & set(prep.found)):
            prep.warnings.setdefault(path, []).append(
                "%s: no source_cluster given, so it will not be released on the source; release it there "
                "with 'snapmirror release -destination-path %s'" % (path, path))
        return
    try:
        prep.records = source().destinations(paths)
    except OntapError as exc:
        if not exc.unreachable:
            raise OntapError("source cluster: %s; nothing was changed" % exc, code=exc.code)
        for path in sorted(paths & set(prep.found)):
            prep.warnings.setdefault(path, []).append(
                "%s: the source cluster cannot be reached (%s), so it will not be released there; release it "
                "with 'snapmirror release -destination-path %s' when the source is back" % (path, exc, path))


def _changing(desired, found, attribute):
    """Values of ``attribute`` the request sets on a new relationship or changes on an existing one."""
    return set(getattr(d, attribute) for d in desired if getattr(d, attribute) and d.state == "present" and
               (found.get(d.destination_path) is None or getattr(found[d.destination_path], attribute) != getattr(d, attribute)))


def check_policies(client, desired, found):
    """The policies named exist; returns their types (async or sync) by name."""
    wanted = _changing(desired, found, "policy")
    if any(d.state == "present" and d.destination_path not in found and not d.policy for d in desired):
        wanted.add(client.default_policy)
    if not wanted:
        return {}
    known = client.policies(wanted)
    for d in desired:
        if d.policy in wanted and d.policy not in known:
            raise OntapError("%s: SnapMirror policy %s does not exist on destination cluster %s; use an existing policy (for example "
                             "MirrorAllSnapshots) or create it first" % (d.destination_path, d.policy, client.host))
    return dict((name, "sync" if "sync" in (kind or "") and "async" not in (kind or "") else "async") for name, kind in known.items())


def check_schedules(client, desired, found):
    wanted = _changing(desired, found, "schedule")
    if wanted:
        known = client.schedules(wanted)
        for d in desired:
            if d.schedule in wanted and d.schedule not in known:
                raise OntapError("%s: schedule %s does not exist on destination cluster %s; use an existing schedule (for example "
                                 "hourly) or create it first (job schedule cron create)" % (d.destination_path, d.schedule, client.host))


def check_destinations(client, creating, volumes):
    """The destination SVMs exist and are peered with the sources; each destination volume is a DP volume or is to be made."""
    svms = set(d.destination_path.split(":")[0] for d in creating)
    known_svms = client.svms(svms)
    for d in creating:
        svm = d.destination_path.split(":")[0]
        if svm not in known_svms:
            raise OntapError("%s: SVM %s does not exist on destination cluster %s; check the destination path" % (d.destination_path, svm, client.host))
    for svm in sorted(svms):
        peers = client.svm_peers(svm)
        for d in creating:
            src_svm = d.source_path.split(":")[0]
            if d.destination_path.startswith(svm + ":") and src_svm not in peers and src_svm != svm:
                raise OntapError("%s: SVM %s is not peered with source SVM %s for SnapMirror; create the SVM peer "
                                 "(vserver peer create -applications snapmirror) first" % (d.destination_path, svm, src_svm))
    for d in creating:
        vol = volumes.get(d.destination_path)
        if vol is not None and vol.type != "dp" and not (d.reverse_resync and d.relationship_state == "snapmirrored"):
            raise OntapError("destination volume %s exists but is of type %s; a SnapMirror destination must be a DP volume. "
                             "It may hold data of its own - after a failover, what was written on it: keep it, choose another "
                             "destination, or copy that data back to its source first" % (d.destination_path, vol.type))
        if vol is None and not d.create_destination:
            raise OntapError("destination volume %s does not exist; create it as a DP volume or set create_destination"
                             % d.destination_path)


def check_sources(client, source, creating, create_options, prep):
    """The source volumes exist; new destination volumes get a size and an aggregate with room for them."""
    src_vols = source.volumes(set(d.source_path for d in creating))
    for d in creating:
        if d.source_path not in src_vols:
            raise OntapError("%s: source volume %s does not exist on source cluster %s; check source_path"
                             % (d.destination_path, d.source_path, source.host))
    need = {}
    for d in creating:
        if not d.create_destination or d.destination_path in prep.volumes:
            continue
        src = src_vols[d.source_path]
        options = create_options[d.destination_path]
        aggregate = options.get("aggregate")
        if not aggregate:
            mapped = [options["aggregate_map"].get(a) for a in src.aggregates if a in options["aggregate_map"]]
            if not mapped:
                raise OntapError("%s: aggregate_map has no entry for the source aggregate(s) %s; add one"
                                 % (d.destination_path, ", ".join(src.aggregates) or "(unknown)"))
            aggregate = mapped[0]
        size = max(src.size, options.get("size") or 0)
        prep.sizes[d.destination_path] = size
        prep.aggregates[d.destination_path] = aggregate
        need[aggregate] = need.get(aggregate, 0) + size
    if need:
        known = client.aggregates(set(need))
        for aggregate, size in sorted(need.items()):
            if aggregate not in known:
                raise OntapError("aggregate %s does not exist on destination cluster %s; name an existing aggregate in "
                                 "create_destination" % (aggregate, client.host))
            if known[aggregate].available < size:
                raise OntapError("aggregate %s on destination cluster %s has %d bytes available, the new destination volumes "
                                 "need %d; choose another aggregate or free space" % (aggregate, client.host, known[aggregate].available, size))
