# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An in-memory cluster with the client API, for the modules' unit tests.

It stands in for the transport only: the modules' validation, planning, bulk apply and
reporting run for real. Transfers finish at the next read (``transfer_reads`` reads
later), quiesce can be made to hang, operations can be made to fail. Every call is
recorded in ``calls``. The real transports are tested against the simulator.
"""

from __future__ import annotations

from dataclasses import replace

from ansible_collections.storage.datamotion.plugins.module_utils.ontap.common import Aggregate, OntapError, Relationship, Volume


class FakeCluster:
    transport = "rest"
    default_policy = "MirrorAllSnapshots"

    def __init__(self, host="dst", svms=("svm_dst",), peers=("svm_src",), aggregates=None):
        self.host = host
        self.rels = {}
        self.vols = {}
        self.svm_names = set(svms)
        self.peer_names = set(peers)
        self.aggrs = aggregates if aggregates is not None else {"aggr1": Aggregate("aggr1", 10 << 40)}
        self.policy_names = {"MirrorAllSnapshots": "async", "MirrorLatest": "async", "Sync": "sync"}
        self.calls = []
        self.fail = {}            # operation -> OntapError raised once
        self.offline = False
        self.stuck_quiesce = False
        self.released = []
        self.records = set()      # on a source: destinations it still lists
        self.pending = {}         # destination -> reads left until the transfer ends
        self.failing = {}         # destination -> error of its next transfer
        self.refuse_credentials = False

    def _call(self, name):
        self.calls.append(name)
        if self.offline:
            raise OntapError("ONTAP cluster %s is unreachable" % self.host, unreachable=True)
        if name in self.fail:
            raise self.fail.pop(name)

    # reads
    def relationships(self, destinations=None, source_pattern=None, destination_pattern=None):
        self._call("relationships")
        for dest in list(self.pending):
            self.pending[dest] -= 1
            if self.pending[dest] <= 0:
                del self.pending[dest]
                rel = self.rels.get(dest)
                if rel and rel.status == "transferring" and dest in self.failing:
                    self.rels[dest] = replace(rel, status="idle", healthy=False, unhealthy_reason="Transfer failed.",
                                              last_transfer_error=self.failing.pop(dest))
                elif rel and rel.status == "transferring":
                    self.rels[dest] = replace(rel, state="snapmirrored" if rel.state != "paused" else rel.state, status="idle", lag_time=0,
                                              healthy=True, unhealthy_reason=None, last_transfer_error=None)
                elif rel and rel.status == "quiescing":
                    self.rels[dest] = replace(rel, state="paused", status="quiesced")
        found = [replace(r) for r in self.rels.values()]
        if destinations is not None:
            found = [r for r in found if r.destination_path in destinations]
        return found

    def volumes(self, paths):
        self._call("volumes")
        return dict((p, v) for p, v in self.vols.items() if p in paths)

    def svms(self, names):
        self._call("svms")
        return self.svm_names & set(names)

    def svm_peers(self, svm):
        self._call("svm_peers")
        return set(self.peer_names)

    def policies(self, names):
        self._call("policies")
        return dict((n, t) for n, t in self.policy_names.items() if n in names)

    def schedules(self, names):
        self._call("schedules")
        return set(n for n in ("5min", "hourly", "daily", "weekly") if n in names)

    def aggregates(self, names):
        self._call("aggregates")
        return dict((n, a) for n, a in self.aggrs.items() if n in names)

    # changes
    def add_volume(self, path, type="dp", size=1 << 30, aggregate="aggr1", junction_path=None):
        svm, name = path.split(":")
        self.vols[path] = Volume(svm, name, type=type, size=size, aggregates=[aggregate], junction_path=junction_path, uuid="v-" + path)

    def add_relationship(self, src, dst, state="snapmirrored", status="idle", lag=60, policy="MirrorAllSnapshots"):
        if dst not in self.vols:
            self.add_volume(dst)
        self.rels[dst] = Relationship(src, dst, state=state, status=status, lag_time=lag, policy=policy, policy_type="async",
                                      schedule="hourly", uuid="r-" + dst)
        if status in ("transferring", "quiescing"):
            self.pending[dst] = 1

    def create_volume(self, svm, name, size, aggregate):
        self._call("create_volume")
        self.add_volume("%s:%s" % (svm, name), size=size, aggregate=aggregate)

    def creates_relationship_type(self, relationship_type):
        return relationship_type == "extended_data_protection"   # as REST

    def mount_volume(self, volume, junction_path):
        self._call("mount_volume")
        path = volume if isinstance(volume, str) else volume.path
        self.vols[path] = replace(self.vols[path], junction_path=junction_path)

    def unmount_volume(self, volume):
        self._call("unmount_volume")
        path = volume if isinstance(volume, str) else volume.path
        self.vols[path] = replace(self.vols[path], junction_path=None)

    def create(self, source_path, destination_path, policy=None, schedule=None, relationship_type=None):
        self._call("create")
        self.rels[destination_path] = Relationship(source_path, destination_path, state="uninitialized", policy=policy or "MirrorAllSnapshots",
                                                   policy_type="async", schedule=schedule, uuid="r-" + destination_path)

    def _set(self, rel, **changes):
        self.rels[rel.destination_path] = replace(self.rels[rel.destination_path], **changes)

    def _transfer(self, rel):
        self._set(rel, status="transferring")
        self.pending[rel.destination_path] = 1

    def initialize(self, rel):
        self._call("initialize")
        self._transfer(rel)

    def update(self, rel):
        self._call("update")
        self._transfer(rel)

    def resync(self, rel):
        self._call("resync")
        self._set(rel, state="snapmirrored")
        self._transfer(rel)

    def resume(self, rel):
        self._call("resume")
        self._set(rel, state="snapmirrored", status="idle")

    def quiesce(self, rel):
        self._call("quiesce")
        current = self.rels[rel.destination_path]
        if self.stuck_quiesce or current.status == "transferring":
            self._set(rel, status="quiescing")
            if not self.stuck_quiesce:
                self.pending[rel.destination_path] = 1
        else:
            self._set(rel, state="paused", status="quiesced")

    def transfer_error(self, rel):
        self._call("transfer_error")
        return rel.last_transfer_error

    def abort(self, rel):
        self._call("abort")
        current = self.rels[rel.destination_path]
        if current.status in ("transferring", "quiescing"):
            self._set(rel, state="paused" if current.status == "quiescing" else current.state,
                      status="quiesced" if current.status == "quiescing" else "idle")
            self.pending.pop(rel.destination_path, None)
            return True
        return False

    def break_relationship(self, rel):
        self._call("break")
        current = self.rels[rel.destination_path]
        if current.state == "uninitialized" or current.status == "transferring":
            raise OntapError("cannot break %s" % rel.destination_path, code="13303808")
        self._set(rel, state="broken_off", status="idle")
        self.vols[rel.destination_path] = replace(self.vols[rel.destination_path], type="rw")

    def modify(self, rel, policy=None, schedule=None):
        self._call("modify")
        changes = {}
        if policy is not None:
            changes["policy"] = policy
        if schedule is not None:
            changes["schedule"] = schedule or None
        self._set(rel, **changes)

    def delete(self, rel):
        self._call("delete")
        if rel.destination_path not in self.rels:
            raise OntapError("entry doesn't exist", code="4")
        del self.rels[rel.destination_path]

    def destinations(self, destination_paths):
        self._call("destinations")
        if self.refuse_credentials:
            raise OntapError("ONTAP cluster %s refused the credentials of user 'admin'" % self.host, code="401")
        return self.records & set(destination_paths)

    def release(self, source_path, destination_path):
        self._call("release")
        if destination_path not in self.records:
            return False
        self.released.append(destination_path)
        self.records.discard(destination_path)
        return True
