# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure decisions of the role ``replication``: which volumes form the backend, which target a failover
takes, where each volume of a failback stands, and the status report. No I/O: the role reads the
clusters with the ONTAP modules and hands what they returned to these filters."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import fnmatch
import json
import re

DOCUMENTATION = r"""
name: replication_view
short_description: The replication role's view of a backend (internal to the role)
version_added: 0.2.0
description:
  - Combines the relationships read on each target of a backend into one view per volume and target. The role
    C(storage.datamotion.replication) uses it and the filters C(replication_failover_choice),
    C(replication_failback_phases) and C(replication_status_report) beside it; they are not meant for other use.
author:
  - Storage DataMotion Team (@storage-datamotion)
positional: backend
options:
  _input:
    description: The registered results of C(ontap_snapmirror_info) on each target, in the order of the targets.
    type: list
    elements: dict
    required: true
  backend:
    description: The role's O(replication_backend).
    type: dict
    required: true
  source_volumes:
    description: The source volumes read from the source cluster, or none when it could not be read.
    type: list
    elements: dict
  writable:
    description: The registered results of C(ontap_volume_info) (type rw, the backend's names) on each target, or none.
    type: list
    elements: dict
"""

EXAMPLES = r"""
- name: The backend as the targets see it
  ansible.builtin.set_fact:
    view: "{{ target_reads.results | storage.datamotion.replication_view(replication_backend) }}"
"""

RETURN = r"""
_value:
  description: C(volumes) (names), C(targets) (per target C(name), C(reachable), C(error), C(relationships) by volume,
    C(broken), C(orphans), C(healthy), C(worst_lag), C(failover_begun)) and C(failed_over_to).
  type: dict
"""


def _matches(name, patterns):
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def _volume(path):
    return path.split(":", 1)[1] if path and ":" in path else path


def replication_view(reads, backend, source_volumes=None, writable=None):
    """``writable``: the results of ``ontap_volume_info`` (type rw, the backend's names) on each target, in the order of
    the targets, or None when they were not read."""
    source_svm = backend["source"]["svm"]
    patterns = backend["source"]["volumes"]
    targets = []
    seen = set()
    for index, (target, read) in enumerate(zip(backend["targets"], reads)):
        reachable = not read.get("failed") and "relationships" in read
        rw_read = writable[index] if writable else {}
        rels = {}
        for rel in read.get("relationships") or []:
            src_svm = (rel.get("source_path") or "").split(":")[0]
            name = _volume(rel.get("source_path"))
            if src_svm == source_svm and _volume(rel["destination_path"]) == name and _matches(name, patterns):
                rels[name] = rel
        seen.update(rels)
        lags = [r.get("lag_time") for r in rels.values()]
        targets.append(dict(
            name=target["name"], svm=target["svm"], reachable=reachable, error=None if reachable else read.get("msg"),
            relationships=rels,
            broken=sorted(n for n, r in rels.items() if r.get("state") == "broken_off"),
            # writable volumes of the backend without a relationship (deleted after a failover): they may hold its data
            orphans=sorted(v["name"] for v in rw_read.get("volumes") or []
                           if v["name"] not in rels and _matches(v["name"], patterns)) if reachable else [],
            healthy=reachable and bool(rels) and all(r.get("healthy") and r.get("state") in ("snapmirrored", "in_sync")
                                                     for r in rels.values()),
            # a failover may take it: healthy, or paused by a failover that was stopped before its break
            ready=reachable and bool(rels) and all(r.get("healthy") and r.get("state") in ("snapmirrored", "in_sync", "paused")
                                                   for r in rels.values()),
            worst_lag=None if not lags or None in lags else max(lags),
            # the role's failover quiesces every relationship of its target before its first break: a target with
            # a break and a relationship still mirroring was broken by someone else (a DR test, a failback stopped midway)
            failover_begun=bool(rels) and any(r.get("state") == "broken_off" for r in rels.values()) and all(
                r.get("state") in ("broken_off", "uninitialized") or _quiesced(r) for r in rels.values()),
        ))
    if source_volumes is not None:
        volumes = sorted(v["name"] for v in source_volumes)
    else:
        volumes = sorted(seen)
    for t in targets:
        # a target that lacks a volume another target (or the source) has would leave it behind in a failover
        complete = set(volumes) <= set(t["relationships"])
        t["healthy"] = t["healthy"] and complete
        t["ready"] = t["ready"] and complete
    broken = [t["name"] for t in targets if t["broken"]]
    return dict(volumes=volumes, targets=targets, failed_over_to=broken[0] if len(broken) == 1 else None,
                failed_over_targets=broken)


def _quiesced(rel):
    return rel.get("state") == "paused" or rel.get("status") in ("quiesced", "quiescing")


def _unread(view):
    """The targets of ``view`` that could not be read, each with the reason."""
    return ["%s (%s)" % (t["name"], t["error"]) for t in view["targets"] if not t["reachable"]]


def _lags(view):
    return ", ".join("%s: %s" % (t["name"], "%s s" % t["worst_lag"] if t["worst_lag"] is not None else
                                 "unknown" if t["reachable"] else "not read") for t in view["targets"])


def replication_failover_choice(view, named=None, begun=None, breaking=None):
    """{'target': name, 'why': text} or {'target': None, 'why': the reason there is none}. ``begun``: the target that the
    controller's record says this role's failover of the backend began on (None without a record); ``breaking``: the one
    where, by the record, it began to break relationships."""
    choice = _failover_choice(view, named, begun, breaking)
    orphans = ["%s holds %s" % (t["name"], ", ".join(t["orphans"])) for t in view["targets"]
               if t["orphans"] and t["name"] != choice["target"]]
    if choice["target"] and orphans:
        return dict(target=None, why="%s writable without a relationship of the backend (deleted after a failover to it? then "
                    "it holds the failover's data), so failing over to %s would make those volumes writable on two targets. "
                    "Copy their data back to the source, or move them out of the backend's names, first" % (
                        "; ".join(orphans), choice["target"]))
    return choice


def _failover_choice(view, named, begun, breaking=None):
    if len(view["failed_over_targets"]) > 1:
        return dict(target=None, why="the relationships of targets %s are all broken off; a volume must never be failed over "
                    "to two targets - fail back or resync all but one by hand first" % ", ".join(view["failed_over_targets"]))
    if view["failed_over_to"]:
        target = [t for t in view["targets"] if t["name"] == view["failed_over_to"]][0]
        if named and named != view["failed_over_to"]:
            how = "a failover to it began" if target["failover_begun"] else (
                "broken by hand (a DR test?) or by a failback stopped midway, while others still mirror")
            return dict(target=None, why="the backend is already failed over to target %s: its relationships %s are broken off "
                        "(%s); replication_failover_target %s would make them writable on two targets. Name %s to fail over "
                        "there, or resync %s on %s by hand first (what was written there since the break is lost)" % (
                            target["name"], ", ".join(target["broken"]), how, named, target["name"], ", ".join(target["broken"]),
                            target["name"]))
        if named:
            return dict(target=named, why="named by replication_failover_target; its relationships %s are broken off already: "
                        "finishing that failover" % ", ".join(target["broken"]))
        if not target["failover_begun"]:
            mirroring = sorted(n for n, r in target["relationships"].items()
                               if r.get("state") not in ("broken_off", "uninitialized") and not _quiesced(r))
            return dict(target=None, why="target %s holds broken-off relationships of the backend (%s) while %s still mirror: "
                        "no failover of this role broke them (it quiesces every relationship of its target before the first "
                        "break) - a break by hand (a DR test?) or a failback stopped midway. Resync %s on %s by hand to fail "
                        "over to the least-lag target, or fail over to %s itself with replication_failover_target=%s (no other "
                        "target: that would make %s writable on two)" % (
                            target["name"], ", ".join(target["broken"]), ", ".join(mirroring), ", ".join(target["broken"]),
                            target["name"], target["name"], target["name"], ", ".join(target["broken"])))
        if begun != target["name"]:
            # a DR test that quiesces and breaks leaves the same states as this role's failover: only the record tells
            quiesced = sorted(n for n, r in target["relationships"].items() if _quiesced(r))
            return dict(target=None, why="target %s holds broken-off relationships of the backend (%s)%s, and no record of this "
                        "controller says that this role's failover began there (a DR test that quiesces and breaks looks the "
                        "same; the record is gone if the failover ran elsewhere, e.g. in another AWX job). Lag per target: %s. "
                        "To finish a failover to %s, name it with replication_failover_target; otherwise resync its "
                        "relationships by hand first" % (
                            target["name"], ", ".join(target["broken"]),
                            " and quiesced ones (%s)" % ", ".join(quiesced) if quiesced else "", _lags(view), target["name"]))
        return dict(target=view["failed_over_to"], why="already failed over to it (this role's failover began there, by the "
                    "controller's record; every relationship there quiesced or broken off); finishing that failover")
    unread = _unread(view)
    if named:
        target = [t for t in view["targets"] if t["name"] == named][0]
        if not target["reachable"]:
            return dict(target=None, why="replication_failover_target %s cannot be reached: %s" % (named, target["error"]))
        first = [t for t in view["targets"] if t["name"] == breaking and t["name"] != named and not t["reachable"]]
        if first:
            # the first failover may have broken volumes off there before it stopped answering: writable on two targets
            return dict(target=None, why="this role's failover of the backend began to break relationships on target %s (by "
                        "this controller's record, <replication_junctions_file>.failovers), and %s cannot be read now (%s), so "
                        "volumes may be broken off and writable there. Bring %s back and run the failover again: it finishes "
                        "there. If %s is lost for good, remove the backend's entry from that record, then name %s again" % (
                            breaking, breaking, first[0]["error"], breaking, breaking, named))
        if not target["relationships"]:
            return dict(target=None, why="replication_failover_target %s holds no relationship of the backend" % named)
        return dict(target=named, why="named by replication_failover_target" + (
            "; not read: %s, taken on your word that no failover to it began" % ", ".join(unread) if unread else ""))
    if unread:
        # a failover to the unread target may have begun there: choosing another could break one volume on two targets
        return dict(target=None, why="target %s could not be read, so a failover to it may have begun; choosing another target "
                    "could leave a volume broken off on two targets. Name the target with replication_failover_target once you "
                    "know that no relationship of this backend is broken off on the unread one" % ", ".join(unread))
    healthy = [t for t in view["targets"] if t["ready"]]
    if not healthy:
        return dict(target=None, why="no target has healthy, mirrored relationships for every volume of the backend (%s); name "
                    "one with replication_failover_target to fail over what it holds" % "; ".join(
                        "%s: %s" % (t["name"], t["error"] if not t["reachable"] else "not all healthy") for t in view["targets"]))
    best = min(healthy, key=lambda t: (t["worst_lag"] is None, t["worst_lag"] or 0))
    return dict(target=best["name"], why="least lag (%s s) among the healthy targets %s" % (
        best["worst_lag"], ", ".join("%s (%s s)" % (t["name"], t["worst_lag"]) for t in healthy)))


def replication_failback_phases(view, reverse_read, target=None, releases=None, written=None):
    """Where each volume of a failback stands.

    ``reverse_read`` is ``ontap_snapmirror_info`` on the source cluster (the reverse relationships:
    destination on the source SVM, source on the target SVM). Phases: ``reverse`` (resync from the
    target), ``switch`` (final update, then break the reverse), ``resync`` (original direction),
    ``release`` (delete the reverse), ``done``. ``releases``: per target, the volumes whose reverse relationship
    is deleted but still to be released there (a failback stopped between the two). ``written``: the volumes whose
    target volume was written since the snapshot it shares with the source (the role reads it for the ``resync``
    ones): a failover after a failback stopped past its switch made the target the newer side again, so such a volume
    goes back to ``reverse`` - a resync of the original direction would discard those writes.
    """
    releases = releases or {}
    written = set(written or [])
    orphans = ["%s holds %s" % (t["name"], ", ".join(t["orphans"])) for t in view["targets"] if t["orphans"]]
    if len(view["failed_over_targets"]) > 1:
        broken = "; ".join("%s: %s" % (t["name"], ", ".join(t["broken"])) for t in view["targets"] if t["broken"])
        return dict(target=None, phases={}, why="more than one target holds broken-off relationships of the backend (%s), "
                    "so which one holds the failover's data is not known - resync the relationships broken by hand (a DR "
                    "test?) on the target that is not the failover's, then run the failback again" % broken)
    name = target or view["failed_over_to"]
    reverse = dict((_volume(r["destination_path"]), r) for r in reverse_read.get("relationships") or [])
    if name is None:
        sources = set((r.get("source_path") or "").split(":")[0] for r in reverse.values())
        named = [t["name"] for t in view["targets"] if t["svm"] in sources or releases.get(t["name"])]
        name = named[0] if len(named) == 1 else None
    unread = _unread(view)
    if name is None and orphans:
        return dict(target=None, phases={}, why="no target holds broken-off relationships of the backend, but %s writable "
                    "without a relationship from the source: the failover's data, its relationships deleted? The failback "
                    "follows relationships only. To fail each back, re-create its relationship from the source on that target (ONTAP "
                    "creates it broken off onto a writable volume), or move it out of the backend's names once its data is safe, "
                    "then run the failback again" % "; ".join(orphans))
    if name is None:
        quiesced = ["%s:%s" % (t["name"], vol) for t in view["targets"] for vol, rel in sorted(t["relationships"].items())
                    if rel.get("state") == "paused" or rel.get("status") in ("quiesced", "quiescing")]
        return dict(target=None, phases={}, why="nothing to fail back - no target holds broken-off relationships of the backend "
                    "and the source has no reverse relationship" + (
                        "; but target %s could not be read: bring it back and run the failback again" % ", ".join(unread)
                        if unread else "") + (
                        "; but these relationships are quiesced: %s (a failback stopped before its last step, the resume of "
                        "the other targets, leaves them so): replication_action ensure resumes them" % ", ".join(quiesced)
                        if quiesced else ""))
    tgt = [t for t in view["targets"] if t["name"] == name][0]
    if not tgt["reachable"]:
        # its relationships read as none: every volume would look done and the failback would end without doing it
        return dict(target=None, phases={}, why="target %s, the backend's failover target, cannot be read (%s); a failback "
                    "copies its data back to the source: bring it back, then run the failback again" % (name, tgt["error"]))
    reverse = dict((v, r) for v, r in reverse.items() if (r.get("source_path") or "").split(":")[0] == tgt["svm"])
    phases = {}
    for vol, rel in tgt["relationships"].items():
        rev = reverse.get(vol)
        if rel.get("state") == "broken_off":
            if rev is None or (rev.get("state") == "broken_off" and rev.get("lag_time") is None):
                phases[vol] = "reverse"    # never transferred back yet
            elif rev.get("state") == "broken_off":
                phases[vol] = "reverse" if vol in written else "resync"
            else:
                phases[vol] = "switch"
        else:
            phases[vol] = "release" if rev is not None or vol in releases.get(name, []) else "done"
    return dict(target=name, phases=phases)


def replication_switched_back(reverse_read, target_svm):
    """The source volumes a failback already switched back from the target SVM ``target_svm``: their reverse relationship
    (on the source, from the target) is broken off after a transfer, so the source volume is writable again and may be
    in use. ``reverse_read`` is ``ontap_snapmirror_info`` on the source cluster."""
    return sorted(_volume(r["destination_path"]) for r in reverse_read.get("relationships") or []
                  if (r.get("source_path") or "").split(":")[0] == target_svm and r.get("state") == "broken_off"
                  and r.get("lag_time") is not None)


def replication_status_report(view):
    """Facts per volume and target, a summary per target and for the backend, and the lines of a short table."""
    volumes = {}
    lines = ["%-24s %-10s %-13s %-8s %-9s %-12s %s" % ("volume", "target", "state", "healthy", "lag s", "last bytes", "last s")]
    for vol in view["volumes"]:
        volumes[vol] = {}
        for t in view["targets"]:
            rel = t["relationships"].get(vol)
            fact = None if rel is None else dict((k, rel.get(k)) for k in (
                "state", "status", "healthy", "lag_time", "last_transfer_size", "last_transfer_duration", "last_transfer_end",
                "unhealthy_reason", "policy", "schedule"))
            volumes[vol][t["name"]] = fact
            f = fact or {}
            lines.append("%-24s %-10s %-13s %-8s %-9s %-12s %s" % (
                vol, t["name"], f.get("state", "missing" if t["reachable"] else "unreachable"), f.get("healthy", "-"),
                f.get("lag_time", "-"), f.get("last_transfer_size", "-"), f.get("last_transfer_duration", "-")))
    targets = []
    for t in view["targets"]:
        states = {}
        for rel in t["relationships"].values():
            states[rel.get("state")] = states.get(rel.get("state"), 0) + 1
        targets.append(dict(name=t["name"], svm=t["svm"], reachable=t["reachable"], error=t["error"],
                            relationships=len(t["relationships"]), missing=sorted(set(view["volumes"]) - set(t["relationships"])),
                            unhealthy=sorted(v for v, r in t["relationships"].items() if not r.get("healthy")),
                            states=states, worst_lag=t["worst_lag"], healthy=t["healthy"]))
    lags = [t["worst_lag"] for t in targets if t["worst_lag"] is not None]
    summary = dict(replication_enabled=any(t["relationships"] for t in targets),
                   replication_count=sum(t["relationships"] for t in targets),
                   replication_targets=[t["name"] for t in targets], replication_type="async",
                   worst_lag=max(lags) if lags else None, failed_over_to=view["failed_over_to"],
                   volumes=len(view["volumes"]))
    return dict(volumes=volumes, targets=targets, summary=summary, table=lines)


MIRRORED = ("snapmirrored", "in_sync")
DEFAULT_POLICY = "MirrorAllSnapshots"


def replication_ensure_plan(reads, backend, source_volumes, purge=False):
    """Per target: the items of its ontap_snapmirror task, the relationships the backend does not list, and whether
    the task is needed at all.

    ``work`` is false only when the read shows every relationship present, from its own source, mirroring and with
    the target's policy and schedule, and nothing to purge: then ontap_snapmirror would plan no action, and its call
    (the slowest part of a no-op ensure) is left out. Anything else, an error included, is the module's to judge.
    """
    src_svm = backend["source"]["svm"]
    names = sorted(v["name"] for v in source_volumes)
    plans = []
    for target, read in zip(backend["targets"], reads):
        wanted = [dict(source_path="%s:%s" % (src_svm, n), destination_path="%s:%s" % (target["svm"], n)) for n in names]
        found = dict((r["destination_path"], r) for r in read.get("relationships") or [])
        dests = set(w["destination_path"] for w in wanted)
        extra = sorted(p for p in found if p not in dests)
        items = wanted + ([dict(destination_path=p, source_path=found[p]["source_path"], state="absent") for p in extra]
                          if purge else [])
        policy = target.get("policy") or DEFAULT_POLICY
        schedule = target.get("schedule")
        work = bool(purge and extra) or any(
            rel is None or rel.get("source_path") != w["source_path"] or rel.get("state") not in MIRRORED
            or rel.get("status") in ("quiescing", "quiesced") or rel.get("policy") != policy
            or (schedule is not None and (rel.get("schedule") or "") != schedule)
            for w, rel in ((w, found.get(w["destination_path"])) for w in wanted))
        plans.append(dict(name=target["name"], items=items, extra=extra, work=work))
    return plans


def replication_junctions(names, backend, source_volumes=None, recorded=None, configured=None, fallback=True):
    """Volume name -> junction path, for each of ``names``: the source's own when it was read and the volume is
    mounted there, else the one an earlier ensure recorded (when the record is of this backend's source), else
    ``configured`` (replication_junction_paths), else ``/<volume>``. With ``fallback`` false, only the names whose
    path the source or the record gives."""
    record = _recorded_paths(recorded, backend)
    read = dict((v["name"], v.get("junction_path")) for v in source_volumes or [])
    configured = configured or {}
    known = dict((n, read.get(n) or record.get(n)) for n in names if read.get(n) or record.get(n))
    if not fallback:
        return known
    return dict((n, known.get(n) or configured.get(n) or "/" + n) for n in names)


def _record(recorded):
    """The record ``ensure`` wrote (its text, or the parsed dict), or None when the file is empty, cut short or was
    edited into something else: a failover then goes on without it, and the next ensure writes it again."""
    if isinstance(recorded, str):
        try:
            recorded = json.loads(recorded)
        except ValueError:
            return None
    if not isinstance(recorded, dict) or not isinstance(recorded.get("junction_paths"), dict):
        return None
    return recorded


def _recorded_paths(recorded, backend):
    """Volume -> junction path that ``recorded`` holds of this backend's source (nothing of another source)."""
    recorded = _record(recorded)
    if not recorded or recorded.get("source") != _source_key(backend):
        return {}
    return dict((n, p) for n, p in recorded["junction_paths"].items() if isinstance(p, str) and p.startswith("/"))


def _source_key(backend):
    """What identifies the backend's source in the records: its name and the source SVM. Not the cluster's hostname or
    port - spelled differently (127.0.0.1, localhost, an FQDN) by another inventory, it would hide the record."""
    return "%s/%s" % (backend.get("name") or "backend", backend["source"]["svm"])


_READ = object()


def _failover_entry(recorded, backend):
    try:
        records = json.loads(recorded) if isinstance(recorded, str) else recorded
    except ValueError:
        records = None
    records = dict(records) if isinstance(records, dict) else {}
    entry = records.get(backend.get("name") or "backend")
    return records, entry if isinstance(entry, dict) and entry.get("source") == _source_key(backend) else None


def replication_failover_record(recorded, backend, target=_READ, switched=None, breaking=None):
    """The controller's record of this role's failovers (``recorded``: the file's text, or None), one entry per backend name
    of the source it fails over from. Without ``target``: the target this backend's failover began on, or None. With
    ``target``: the record to write, its entry for this backend set to ``target`` (removed when None). ``switched``: the
    volumes a failback from ``target`` switches back to the source; ``breaking``: true when the failover's breaks begin
    there, false when they broke nothing after all (both kept while the entry's target stays the same)."""
    records, entry = _failover_entry(recorded, backend)
    if target is _READ:
        return entry.get("target") if entry else None
    name = backend.get("name") or "backend"
    records.pop(name, None)
    if target is not None:
        kept = entry if entry and entry.get("target") == target else {}
        records[name] = dict(source=_source_key(backend), target=target)
        if switched is not None or kept.get("switched"):
            records[name]["switched"] = sorted(set(switched or []) | set(kept.get("switched") or []))
        if breaking or (breaking is None and kept.get("breaking")):
            records[name]["breaking"] = True
    return records


def replication_failover_breaking(recorded, backend):
    """The target on which, by the controller's record, this role's failover of the backend began to break relationships
    (a failover stopped before its breaks broke nothing), or None."""
    entry = _failover_entry(recorded, backend)[1]
    return entry.get("target") if entry and entry.get("breaking") else None


def replication_failover_switched(recorded, backend, target):
    """The volumes that, by the controller's record, a failback from ``target`` began to switch back to the source (the
    source volumes writable again since): what a failover that cannot read the source must still say."""
    entry = _failover_entry(recorded, backend)[1]
    return list(entry.get("switched") or []) if entry and entry.get("target") == target else []


def replication_junction_record(source_volumes, backend, recorded=None):
    """What ensure records of the source (for a failover while it is down): its junction paths, added to those
    ``recorded`` (the file's text) holds of the same source, so that backends sharing the file (another pattern on
    the same SVM) keep theirs. A volume the source has not mounted now keeps the last path recorded for it."""
    paths = _recorded_paths(recorded, backend)
    for v in source_volumes:
        if v.get("junction_path") or v["name"] not in paths:
            paths[v["name"]] = v.get("junction_path")
    return dict(backend=backend.get("name"), source=_source_key(backend), junction_paths=dict(sorted(paths.items())))


def replication_junctions_file_name(backend):
    """The default file name of a backend's junction record: its name and its source SVM (as _source_key; the cluster's
    hostname is not part of it, see there), and no name leaves the directory."""
    name = "%s@%s" % (backend.get("name") or "backend", backend["source"]["svm"])
    return re.sub(r"[^A-Za-z0-9_.@-]", "_", name) + ".json"


def replication_mount_levels(junctions):
    """The volume names of ``junctions`` (name -> junction path) in the order they must be mounted: a list of levels,
    each volume after every volume of the map whose path is above its own (``/a`` before ``/a/b``)."""
    paths = set(junctions.values())
    levels = {}
    for name, path in junctions.items():
        depth = sum(1 for p in paths if p != path and path.startswith(p.rstrip("/") + "/"))
        levels.setdefault(depth, []).append(name)
    return [sorted(levels[d]) for d in sorted(levels)]


def replication_junction_conflicts(junctions, volumes):
    """Where a failover's mounts on the target would fail: one text per junction path of ``junctions`` (volume name ->
    the path it is to be mounted at) that another volume of the target SVM (``volumes``, from ``ontap_volume_info``)
    holds, at that path or beneath it. A volume of the backend already at its own path (a re-run) is in no one's way."""
    at = dict((v["name"], v.get("junction_path")) for v in volumes if v.get("junction_path"))
    conflicts = []
    for name, path in sorted(junctions.items()):
        if at.get(name) == path:
            continue
        for other, held in sorted(at.items()):
            if other == name or (junctions.get(other) == held and held != path):
                continue
            if held == path or held.startswith(path.rstrip("/") + "/"):
                conflicts.append("%s is to be mounted at %s, but volume %s is mounted %s" % (
                    name, path, other, "there" if held == path else "beneath it at " + held))
    return conflicts


def replication_common_snapshots(target_volumes, source_volumes):
    """Volume name -> the newest snapshot the failed-over target's volume and the source volume both hold (the one a
    reverse resync rolls the source back to), from ``ontap_volume_info`` with ``snapshots: true`` on each side.

    Only SnapMirror's own snapshots count: a name alone does not make a snapshot shared (a snapshot policy's
    ``hourly.<time>``, or an admin's snapshot of one name on each side, holds other data on each), and the newest
    shared one is always the ``snapmirror.*`` snapshot of the last transfer."""
    source = dict((v["name"], set(v.get("snapshots") or [])) for v in source_volumes)
    common = {}
    for v in target_volumes:
        shared = [s for s in v.get("snapshots") or [] if s.startswith("snapmirror.") and s in source.get(v["name"], ())]
        if shared:
            common[v["name"]] = shared[-1]
    return common


def replication_discarded_writes(source_volumes, accepted=None):
    """The source volumes with data written since their common snapshot (``ontap_volume_info`` with ``delta_from``) that
    a reverse resync would discard, unless ``accepted`` (replication_failback_discard_source_writes: true, or the
    names) accepts the loss: a list of dicts (name, size_consumed, snapshot). A volume without a delta shares no
    snapshot with the target (its snapmirror.* snapshot was deleted): the resync would rewrite all of it, so it is
    listed with size_consumed and snapshot None."""
    if accepted is True:
        return []
    accepted = set(accepted or [])
    lost = []
    for v in source_volumes:
        delta = v.get("delta") or dict(size_consumed=None, snapshot=None)
        if v["name"] not in accepted and delta["size_consumed"] != 0:
            lost.append(dict(name=v["name"], size_consumed=delta["size_consumed"], snapshot=delta["snapshot"]))
    return lost


def replication_unknown_volumes(names, backend):
    """The names (of ``replication_junction_paths``) that match no name or pattern of the backend's source volumes."""
    return sorted(n for n in names if not _matches(n, backend["source"]["volumes"]))


class FilterModule(object):
    def filters(self):
        return dict(replication_view=replication_view, replication_failover_choice=replication_failover_choice,
                    replication_failback_phases=replication_failback_phases, replication_status_report=replication_status_report,
                    replication_ensure_plan=replication_ensure_plan, replication_junction_record=replication_junction_record,
                    replication_junctions=replication_junctions, replication_junctions_file_name=replication_junctions_file_name,
                    replication_unknown_volumes=replication_unknown_volumes, replication_mount_levels=replication_mount_levels,
                    replication_common_snapshots=replication_common_snapshots,
                    replication_junction_conflicts=replication_junction_conflicts,
                    replication_discarded_writes=replication_discarded_writes, replication_switched_back=replication_switched_back,
                    replication_failover_record=replication_failover_record,
                    replication_failover_switched=replication_failover_switched,
                    replication_failover_breaking=replication_failover_breaking)
