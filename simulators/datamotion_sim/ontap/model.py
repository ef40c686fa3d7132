# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""State of simulated ONTAP clusters, free of any wire format.

One ``Model`` holds every cluster the server hosts, so a destination cluster can
reach its source the way peered clusters do (and fail to when the source is
offline). Every public method takes the model's one lock; time-based progress
(transfers, slow quiesces, jobs) is computed from timestamps when state is read,
so no background thread is needed.
"""

import copy
import re
import threading
import time
import uuid as uuidlib
from dataclasses import dataclass, field
from typing import Dict, List, Optional

KIB = 1024
MIB = KIB * 1024
GIB = MIB * 1024
TIB = GIB * 1024

ONTAP_VERSION = (9, 13, 1)
ONTAPI_VERSION = (1, 231)

# (name, ZAPI policy-type, REST type, REST sync_type)
SYSTEM_POLICIES = [
    ("Asynchronous", "mirror_vault", "async", None),
    ("MirrorAllSnapshots", "async_mirror", "async", None),
    ("MirrorAllSnapshotsDiscardNetwork", "async_mirror", "async", None),
    ("MirrorLatest", "async_mirror", "async", None),
    ("MirrorAndVault", "mirror_vault", "async", None),
    ("MirrorAndVaultDiscardNetwork", "mirror_vault", "async", None),
    ("DPDefault", "async_mirror", "async", None),
    ("XDPDefault", "vault", "async", None),
    ("DailyBackup", "vault", "async", None),
    ("Unified7year", "mirror_vault", "async", None),
    ("CloudBackupDefault", "vault", "async", None),
    ("Sync", "sync_mirror", "sync", "sync"),
    ("StrictSync", "strict_sync_mirror", "sync", "strict_sync"),
    ("AutomatedFailOver", "sync_mirror", "sync", "automated_failover"),
    ("AutomatedFailOverDuplex", "sync_mirror", "sync", "automated_failover_duplex"),
]

# (name, minutes, hours, days of month, weekdays): None means every value
SYSTEM_SCHEDULES = [
    ("5min", [0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55], None, None, None),
    ("8hour", [15], [2, 10, 18], None, None),
    ("hourly", [5], None, None, None),
    ("daily", [10], [0], None, None),
    ("weekly", [15], [0], None, [0]),
    ("monthly", [20], [0], [1], None),
]

RELATIONSHIP_TYPES = ("data_protection", "extended_data_protection", "load_sharing", "vault", "restore",
                      "transition_data_protection")

MIN_TRANSFER_SECONDS = 0.1
DEFAULT_TRANSFER_RATE = 1000 * MIB


class SimError(Exception):
    """An operation the array refuses. ``kind`` names the reason; each wire layer maps it to its own codes."""

    def __init__(self, kind, message, target=None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.target = target


def new_uuid():
    return str(uuidlib.uuid4())


def parse_size(value):
    """Bytes from an int or a string such as '10TiB', '500g', '1.5GB'."""
    if isinstance(value, (int, float)):
        return int(value)
    text = str(value).strip().lower().replace(" ", "")
    units = [("tib", TIB), ("gib", GIB), ("mib", MIB), ("kib", KIB), ("tb", TIB), ("gb", GIB), ("mb", MIB),
             ("kb", KIB), ("t", TIB), ("g", GIB), ("m", MIB), ("k", KIB), ("b", 1)]
    for suffix, factor in units:
        if text.endswith(suffix):
            return int(float(text[:-len(suffix)]) * factor)
    return int(text)


@dataclass
class Aggregate:
    name: str
    size: int
    reserved: int = 0
    uuid: str = field(default_factory=new_uuid)


@dataclass
class Svm:
    name: str
    aggregates: List[str] = field(default_factory=list)
    uuid: str = field(default_factory=new_uuid)


@dataclass
class Snapshot:
    name: str
    create_time: float
    mark: int = 0       # the volume's written bytes when it was taken: what was written since is the delta to the active FS
    uuid: str = field(default_factory=new_uuid)


@dataclass
class Volume:
    svm: str
    name: str
    size: int
    aggregate: str
    type: str = "rw"
    state: str = "online"
    junction_path: Optional[str] = None
    written: int = 0
    snapshots: List[Snapshot] = field(default_factory=list)
    tags: List[str] = field(default_factory=list)   # named writes, carried by transfers, so tests can follow data
    create_time: float = field(default_factory=time.time)
    uuid: str = field(default_factory=new_uuid)
    luns: Dict[str, object] = field(default_factory=dict)   # san.Lun by name

    @property
    def path(self):
        return "%s:%s" % (self.svm, self.name)

    @property
    def used(self):
        return min(self.written + sum(lun.volume_charge for lun in self.luns.values()), self.size)


@dataclass
class ClusterPeer:
    name: str
    uuid: str = field(default_factory=new_uuid)


@dataclass
class SvmPeer:
    svm: str
    peer_svm: str
    peer_cluster: str
    applications: List[str] = field(default_factory=lambda: ["snapmirror"])
    state: str = "peered"
    uuid: str = field(default_factory=new_uuid)


@dataclass
class Policy:
    name: str
    zapi_type: str
    type: str
    sync_type: Optional[str] = None
    svm: Optional[str] = None
    uuid: str = field(default_factory=new_uuid)


@dataclass
class Schedule:
    name: str
    minutes: Optional[List[int]]
    hours: Optional[List[int]]
    days: Optional[List[int]]
    weekdays: Optional[List[int]]
    uuid: str = field(default_factory=new_uuid)


@dataclass
class Transfer:
    type: str
    bytes_total: int
    start: float
    end: float
    source_mark: int
    fail_message: Optional[str] = None
    source_tags: List[str] = field(default_factory=list)
    state: str = "transferring"
    error: Optional[str] = None
    uuid: str = field(default_factory=new_uuid)

    def bytes_done(self, now):
        if self.state == "success":
            return self.bytes_total
        span = max(self.end - self.start, 1e-6)
        return int(self.bytes_total * min(1.0, max(0.0, (now - self.start) / span)))


@dataclass
class Relationship:
    source_cluster: str
    source_svm: str
    source_volume: str
    destination_svm: str
    destination_volume: str
    type: str = "extended_data_protection"
    policy: str = "MirrorAllSnapshots"
    schedule: Optional[str] = None
    mirror_state: str = "uninitialized"
    status: str = "idle"
    healthy: bool = True
    unhealthy_reason: Optional[str] = None
    last_transfer_error: Optional[str] = None
    transfer: Optional[Transfer] = None
    last_transfer: Optional[Transfer] = None
    transfers: List[Transfer] = field(default_factory=list)
    source_mark: int = 0
    exported_snapshot: Optional[str] = None
    exported_snapshot_time: Optional[float] = None
    quiesce_done_at: Optional[float] = None
    throttle: int = 0
    total_transfer_bytes: int = 0
    total_transfer_duration: float = 0.0
    create_time: float = field(default_factory=time.time)
    uuid: str = field(default_factory=new_uuid)

    @property
    def source_path(self):
        return "%s:%s" % (self.source_svm, self.source_volume)

    @property
    def destination_path(self):
        return "%s:%s" % (self.destination_svm, self.destination_volume)


@dataclass
class DestinationRecord:
    """What a source cluster knows of a relationship that copies from it (snapmirror list-destinations)."""
    relationship_uuid: str
    destination_cluster: str
    source_svm: str
    source_volume: str
    destination_svm: str
    destination_volume: str
    type: str
    policy_type: str
    create_time: float

    @property
    def source_path(self):
        return "%s:%s" % (self.source_svm, self.source_volume)

    @property
    def destination_path(self):
        return "%s:%s" % (self.destination_svm, self.destination_volume)


@dataclass
class Job:
    description: str
    start: float
    end: float
    error_kind: Optional[str] = None
    error: Optional[str] = None
    svm: Optional[str] = None
    uuid: str = field(default_factory=new_uuid)

    def state(self, now):
        if now < self.end:
            return "running"
        return "failure" if self.error else "success"


@dataclass
class Cluster:
    name: str
    version: tuple = ONTAP_VERSION
    users: Dict[str, str] = field(default_factory=dict)
    aggregates: Dict[str, Aggregate] = field(default_factory=dict)
    svms: Dict[str, Svm] = field(default_factory=dict)
    volumes: Dict[tuple, Volume] = field(default_factory=dict)
    cluster_peers: Dict[str, ClusterPeer] = field(default_factory=dict)
    svm_peers: List[SvmPeer] = field(default_factory=list)
    policies: Dict[str, Policy] = field(default_factory=dict)
    schedules: Dict[str, Schedule] = field(default_factory=dict)
    relationships: Dict[str, Relationship] = field(default_factory=dict)
    destinations: Dict[str, DestinationRecord] = field(default_factory=dict)
    jobs: Dict[str, Job] = field(default_factory=dict)
    online: bool = True
    uuid: str = field(default_factory=new_uuid)
    serial: str = "1-80-000011"

    def aggregate_available(self, aggr):
        used = sum(v.size for v in self.volumes.values() if v.aggregate == aggr.name)
        return aggr.size - aggr.reserved - used

    def aggregate_used(self, aggr):
        return aggr.size - self.aggregate_available(aggr)


DEFAULT_SEED = {
    "clusters": [
        {"name": "src", "svms": [{"name": "svm_src"}], "aggregates": [{"name": "aggr1", "size": "10TiB", "available": "10TiB"}],
         "users": [{"name": "admin", "password": "netapp1!"}]},
        {"name": "dst", "svms": [{"name": "svm_dst"}], "aggregates": [{"name": "aggr1", "size": "10TiB", "available": "10TiB"}],
         "users": [{"name": "admin", "password": "netapp1!"}]},
    ],
    "peers": [{"cluster": "src", "svm": "svm_src", "peer_cluster": "dst", "peer_svm": "svm_dst"}],
}


def locked(method):
    def wrapper(self, *args, **kwargs):
        with self.lock:
            return method(self, *args, **kwargs)
    wrapper.__name__ = method.__name__
    wrapper.__doc__ = method.__doc__
    return wrapper


class Model:
    """Every simulated cluster, their peers and relationships, behind one lock."""

    def __init__(self, seed=None, clock=time.time):
        self.lock = threading.RLock()
        self.clock = clock
        self.seed = copy.deepcopy(seed or DEFAULT_SEED)
        self.clusters = {}
        self.transfer_rate = DEFAULT_TRANSFER_RATE
        self.transfer_faults = {}
        self.slow_quiesce = {}
        self._load(self.seed)

    # ----------------------------------------------------------------- seed
    def _load(self, seed):
        self.clusters = {}
        for spec in seed.get("clusters") or []:
            self._load_cluster(spec)
        for spec in seed.get("peers") or []:
            self._peer(spec)
        # imported here: san imports this module
        from datamotion_sim.ontap import san  # pylint: disable=import-outside-toplevel
        san.load(self, seed)

    def _load_cluster(self, spec):
        name = spec["name"]
        version = tuple(int(p) for p in str(spec.get("version", "%d.%d.%d" % ONTAP_VERSION)).split("."))
        cluster = Cluster(name=name, version=version)
        users = spec.get("users") or [{"name": "admin", "password": "netapp1!"}]
        # a user with authentication_method cert logs in with a client certificate only (password None)
        cluster.users = {u["name"]: None if u.get("authentication_method") == "cert" else str(u["password"]) for u in users}
        for aggr in spec.get("aggregates") or [{"name": "aggr1", "size": "10TiB"}]:
            size = parse_size(aggr.get("size", "10TiB"))
            available = parse_size(aggr.get("available", size))
            cluster.aggregates[aggr["name"]] = Aggregate(name=aggr["name"], size=size, reserved=max(0, size - available))
        for svm in spec.get("svms") or []:
            cluster.svms[svm["name"]] = Svm(name=svm["name"], aggregates=list(svm.get("aggregates") or []))
        for pname, ztype, rtype, sync_type in SYSTEM_POLICIES:
            cluster.policies[pname] = Policy(name=pname, zapi_type=ztype, type=rtype, sync_type=sync_type)
        for pol in spec.get("policies") or []:
            cluster.policies[pol["name"]] = Policy(name=pol["name"], zapi_type=pol.get("policy_type", "async_mirror"),
                                                   type=pol.get("type", "async"), sync_type=pol.get("sync_type"), svm=pol.get("svm"))
        for sname, minutes, hours, days, weekdays in SYSTEM_SCHEDULES:
            cluster.schedules[sname] = Schedule(name=sname, minutes=minutes, hours=hours, days=days, weekdays=weekdays)
        self.clusters[name] = cluster
        for vol in spec.get("volumes") or []:
            aggregate = vol.get("aggregate") or next(iter(cluster.aggregates))
            self._create_volume(cluster, vol["svm"], vol["name"], parse_size(vol.get("size", "1GiB")), aggregate,
                                vol.get("type", "rw"), vol.get("junction_path"))
            cluster.volumes[(vol["svm"], vol["name"])].written = parse_size(vol.get("used", 0))

    def _peer(self, spec):
        cluster = self.cluster(spec.get("cluster"))
        other = self.cluster(spec.get("peer_cluster"))
        if other.name not in cluster.cluster_peers:
            cluster.cluster_peers[other.name] = ClusterPeer(name=other.name, uuid=other.uuid)
            other.cluster_peers[cluster.name] = ClusterPeer(name=cluster.name, uuid=cluster.uuid)
        if spec.get("svm") and spec.get("peer_svm"):
            apps = list(spec.get("applications") or ["snapmirror"])
            cluster.svm_peers.append(SvmPeer(svm=spec["svm"], peer_svm=spec["peer_svm"], peer_cluster=other.name, applications=apps))
            other.svm_peers.append(SvmPeer(svm=spec["peer_svm"], peer_svm=spec["svm"], peer_cluster=cluster.name, applications=apps))

    @locked
    def reset(self):
        """Back to the seed state."""
        self._load(copy.deepcopy(self.seed))
        self.transfer_rate = DEFAULT_TRANSFER_RATE
        self.transfer_faults = {}
        self.slow_quiesce = {}

    # --------------------------------------------------------------- lookups
    def cluster(self, name):
        try:
            return self.clusters[name]
        except KeyError:
            raise SimError("not_found", "Cluster \"%s\" does not exist." % name) from None

    def _svm(self, cluster, name):
        svm = cluster.svms.get(name)
        if svm is None:
            raise SimError("svm_not_found", "Vserver \"%s\" does not exist." % name, target="svm.name")
        return svm

    def _volume(self, cluster, svm, name):
        self._svm(cluster, svm)
        vol = cluster.volumes.get((svm, name))
        if vol is None:
            raise SimError("volume_not_found", "Volume \"%s\" in Vserver \"%s\" does not exist." % (name, svm), target="name")
        return vol

    def _relationship(self, cluster, destination_path):
        for rel in cluster.relationships.values():
            if rel.destination_path == destination_path:
                self._advance(cluster, rel)
                return rel
        raise SimError("not_found", "There is no SnapMirror relationship with destination \"%s\". (entry doesn't exist)"
                       % destination_path, target="destination.path")

    def _reachable(self, cluster, name):
        """The peer cluster ``name`` as seen from ``cluster``: it must be peered and online."""
        other = self.clusters.get(name)
        if other is None or not other.online:
            raise SimError("peer_unreachable", "Failed to contact peer cluster \"%s\"." % name)
        return other

    def peer_svm(self, cluster, svm, peer_svm):
        """The SVM peer record of ``svm`` with ``peer_svm`` (or None)."""
        for peer in cluster.svm_peers:
            if peer.svm == svm and peer.peer_svm == peer_svm:
                return peer
        return None

    # --------------------------------------------------------------- reading
    def live(self, cluster_name, what="cluster"):
        """Live objects of a cluster (time advanced), for the wire layers to render while they hold ``lock``.

        ``what``: cluster, svms, aggregates, volumes, relationships, destinations, jobs,
        policies, schedules, cluster_peers, svm_peers. Callers must not change them.
        """
        cluster = self.cluster(cluster_name)
        self._advance_all()
        if what == "cluster":
            return cluster
        items = getattr(cluster, what)
        return list(items.values()) if isinstance(items, dict) else list(items)

    @locked
    def relationship(self, cluster_name, uuid=None, destination_path=None):
        cluster = self.cluster(cluster_name)
        if uuid is not None:
            rel = cluster.relationships.get(uuid)
            if rel is None:
                raise SimError("not_found", "entry doesn't exist", target="uuid")
            self._advance(cluster, rel)
            return copy.deepcopy(rel)
        return copy.deepcopy(self._relationship(cluster, destination_path))

    @locked
    def aggregate_space(self, cluster_name):
        cluster = self.cluster(cluster_name)
        return {a.name: (cluster.aggregate_available(a), cluster.aggregate_used(a)) for a in cluster.aggregates.values()}

    @locked
    def authenticate(self, cluster_name, user, password, certificate=False):
        """A password login, or (``certificate``) a client certificate verified by the server naming ``user``."""
        cluster = self.cluster(cluster_name)
        if certificate:
            return user in cluster.users
        return user in cluster.users and cluster.users[user] is not None and cluster.users[user] == password

    def lag(self, rel, now=None):
        """Seconds since the exported snapshot of the last transfer was taken, or None."""
        if rel.exported_snapshot_time is None:
            return None
        return max(0, int((now or self.clock()) - rel.exported_snapshot_time))

    def policy_type(self, cluster, name):
        policy = cluster.policies.get(name)
        return policy.type if policy else "async"

    # ----------------------------------------------------------------- time
    def _advance_all(self):
        """Bring every relationship up to now (a transfer's end also changes its source cluster)."""
        for cluster in self.clusters.values():
            for rel in cluster.relationships.values():
                self._advance(cluster, rel)

    def _advance(self, cluster, rel):
        now = self.clock()
        transfer = rel.transfer
        if transfer is not None and transfer.state == "transferring" and now >= transfer.end:
            self._finish_transfer(cluster, rel, transfer)
        if rel.status == "quiescing" and rel.transfer is None and (rel.quiesce_done_at or 0) <= now:
            rel.status = "quiesced"
            rel.quiesce_done_at = None

    def _finish_transfer(self, cluster, rel, transfer):
        rel.transfer = None
        rel.last_transfer = transfer
        rel.total_transfer_duration += transfer.end - transfer.start
        if rel.status == "quiescing":
            rel.status = "quiesced" if (rel.quiesce_done_at or 0) <= transfer.end else "quiescing"
        else:
            rel.status = "idle"
        if transfer.fail_message:
            transfer.state = "failed"
            transfer.error = transfer.fail_message
            rel.healthy = False
            rel.unhealthy_reason = "Transfer failed."
            rel.last_transfer_error = transfer.fail_message
            return
        transfer.state = "success"
        rel.healthy = True
        rel.unhealthy_reason = None
        rel.last_transfer_error = None
        rel.mirror_state = "snapmirrored"
        rel.source_mark = transfer.source_mark
        rel.total_transfer_bytes += transfer.bytes_total
        snap_name = "snapmirror.%s_%s.%s" % (cluster.uuid, rel.uuid[:8], time.strftime("%Y-%m-%d_%H%M%S", time.gmtime(transfer.start)))
        rel.exported_snapshot = snap_name
        rel.exported_snapshot_time = transfer.start
        dest = cluster.volumes.get((rel.destination_svm, rel.destination_volume))
        if dest is not None:
            dest.written = transfer.source_mark
            dest.tags = list(transfer.source_tags)
            dest.snapshots = [s for s in dest.snapshots if not s.name.startswith("snapmirror.")]
            dest.snapshots.append(Snapshot(name=snap_name, create_time=transfer.start, mark=transfer.source_mark))
        source_cluster = self.clusters.get(rel.source_cluster)
        source = source_cluster.volumes.get((rel.source_svm, rel.source_volume)) if source_cluster else None
        if source is not None:
            source.snapshots = [s for s in source.snapshots if not s.name.startswith("snapmirror.%s_%s" % (cluster.uuid, rel.uuid[:8]))]
            source.snapshots.append(Snapshot(name=snap_name, create_time=transfer.start, mark=transfer.source_mark))

    def _start_transfer(self, cluster, rel, kind):
        source_cluster = self._reachable(cluster, rel.source_cluster)
        source = source_cluster.volumes.get((rel.source_svm, rel.source_volume))
        if source is None:
            raise SimError("volume_not_found", "Source volume \"%s\" does not exist." % rel.source_path)
        dest = cluster.volumes.get((rel.destination_svm, rel.destination_volume))
        if dest is None:
            raise SimError("volume_not_found", "Destination volume \"%s\" does not exist." % rel.destination_path)
        if dest.size < source.used:
            raise SimError("no_space", "Destination volume \"%s\" is too small for the data of source \"%s\"."
                           % (rel.destination_path, rel.source_path))
        if kind == "initialize":
            changed = source.written
        else:
            changed = max(0, source.written - rel.source_mark)
        now = self.clock()
        duration = max(MIN_TRANSFER_SECONDS, changed / float(self.transfer_rate))
        fail = None
        fault = self.transfer_faults.get((cluster.name, rel.destination_path))
        if fault and fault["count"] > 0:
            fault["count"] -= 1
            fail = fault["message"]
        transfer = Transfer(type=kind, bytes_total=changed, start=now, end=now + duration, source_mark=source.written, fail_message=fail,
                            source_tags=list(source.tags))
        rel.transfer = transfer
        rel.transfers = (rel.transfers + [transfer])[-20:]
        rel.status = "transferring"
        if rel.uuid not in source_cluster.destinations:
            policy = cluster.policies.get(rel.policy)
            source_cluster.destinations[rel.uuid] = DestinationRecord(
                relationship_uuid=rel.uuid, destination_cluster=cluster.name, source_svm=rel.source_svm,
                source_volume=rel.source_volume, destination_svm=rel.destination_svm, destination_volume=rel.destination_volume,
                type=rel.type, policy_type=policy.zapi_type if policy else "async_mirror", create_time=now)
        return transfer

    # ----------------------------------------------------------------- jobs
    @locked
    def add_job(self, cluster_name, description, error=None, error_kind=None, duration=0.0, svm=None):
        cluster = self.cluster(cluster_name)
        now = self.clock()
        job = Job(description=description, start=now, end=now + duration, error=error, error_kind=error_kind, svm=svm)
        cluster.jobs[job.uuid] = job
        if len(cluster.jobs) > 5000:
            for key in list(cluster.jobs)[:1000]:
                del cluster.jobs[key]
        return copy.deepcopy(job)

    @locked
    def job(self, cluster_name, uuid):
        job = self.cluster(cluster_name).jobs.get(uuid)
        if job is None:
            raise SimError("not_found", "entry doesn't exist", target="uuid")
        return copy.deepcopy(job)

    # -------------------------------------------------------------- volumes
    def _create_volume(self, cluster, svm_name, name, size, aggregate, vol_type="rw", junction_path=None):
        svm = self._svm(cluster, svm_name)
        check_volume_name(name)
        if (svm_name, name) in cluster.volumes:
            raise SimError("volume_exists", "Duplicate volume name \"%s\" in Vserver \"%s\"." % (name, svm_name), target="name")
        aggr = cluster.aggregates.get(aggregate)
        if aggr is None:
            raise SimError("aggregate_not_found", "Aggregate \"%s\" does not exist." % aggregate, target="aggregates.name")
        if svm.aggregates and aggregate not in svm.aggregates:
            raise SimError("invalid", "Aggregate \"%s\" is not in the aggr-list of Vserver \"%s\"." % (aggregate, svm_name),
                           target="aggregates.name")
        if vol_type not in ("rw", "dp"):
            raise SimError("invalid", "Invalid volume type \"%s\": rw or dp." % vol_type, target="type")
        if size <= 0:
            raise SimError("invalid", "Invalid volume size %d." % size, target="size")
        available = cluster.aggregate_available(aggr)
        if size > available:
            raise SimError("no_space", "Unable to create volume \"%s\": aggregate \"%s\" has %d bytes available, %d requested."
                           % (name, aggregate, available, size), target="size")
        if junction_path and vol_type == "dp":
            raise SimError("invalid", "Cannot mount a data protection volume that is not initialized.", target="nas.path")
        if junction_path:
            self._check_junction(cluster, svm_name, junction_path)
        vol = Volume(svm=svm_name, name=name, size=size, aggregate=aggregate, type=vol_type, junction_path=junction_path,
                     create_time=self.clock())
        cluster.volumes[(svm_name, name)] = vol
        return vol

    def _check_junction(self, cluster, svm_name, path):
        if not path.startswith("/"):
            raise SimError("invalid", "Junction path \"%s\" must start with \"/\"." % path, target="nas.path")
        for vol in cluster.volumes.values():
            if vol.svm == svm_name and vol.junction_path == path:
                raise SimError("invalid", "Junction path \"%s\" is already used by volume \"%s\"." % (path, vol.name),
                               target="nas.path")
            # a volume mounted beneath the path made it a directory of the namespace: mount parents first
            if vol.svm == svm_name and vol.junction_path and vol.junction_path.startswith(path.rstrip("/") + "/"):
                raise SimError("invalid", "Junction path \"%s\" already exists in the namespace: volume \"%s\" is mounted "
                               "beneath it at \"%s\"." % (path, vol.name, vol.junction_path), target="nas.path")

    @locked
    def create_volume(self, cluster_name, svm, name, size, aggregate, vol_type="rw", junction_path=None):
        cluster = self.cluster(cluster_name)
        return copy.deepcopy(self._create_volume(cluster, svm, name, size, aggregate, vol_type, junction_path))

    def _volume_by_uuid(self, cluster, uuid):
        for vol in cluster.volumes.values():
            if vol.uuid == uuid:
                return vol
        raise SimError("not_found", "entry doesn't exist", target="uuid")

    @locked
    def volume_uuid(self, cluster_name, svm, name):
        return self._volume(self.cluster(cluster_name), svm, name).uuid

    @locked
    def mount_volume(self, cluster_name, svm, name, junction_path):
        cluster = self.cluster(cluster_name)
        vol = self._volume(cluster, svm, name)
        if vol.junction_path == junction_path:
            return
        if vol.state != "online":
            raise SimError("invalid", "Volume \"%s\" is %s: bring it online before mounting it." % (name, vol.state))
        if vol.type == "dp":
            for rel in cluster.relationships.values():
                if rel.destination_svm == svm and rel.destination_volume == name:
                    self._advance(cluster, rel)
                    if rel.mirror_state == "uninitialized":
                        raise SimError("mirror_uninitialized", "Volume \"%s\" is the destination of an uninitialized SnapMirror "
                                       "relationship and cannot be mounted." % vol.path)
        self._check_junction(cluster, svm, junction_path)
        vol.junction_path = junction_path

    @locked
    def unmount_volume(self, cluster_name, svm, name):
        vol = self._volume(self.cluster(cluster_name), svm, name)
        vol.junction_path = None

    @locked
    def set_volume_state(self, cluster_name, svm, name, state):
        cluster = self.cluster(cluster_name)
        vol = self._volume(cluster, svm, name)
        if state not in ("online", "offline", "restricted"):
            raise SimError("invalid", "Invalid volume state \"%s\"." % state, target="state")
        if state != "online":
            vol.junction_path = None
        vol.state = state

    @locked
    def resize_volume(self, cluster_name, svm, name, size):
        cluster = self.cluster(cluster_name)
        vol = self._volume(cluster, svm, name)
        aggr = cluster.aggregates[vol.aggregate]
        if size - vol.size > cluster.aggregate_available(aggr):
            raise SimError("no_space", "Aggregate \"%s\" has not enough space to grow volume \"%s\"." % (aggr.name, name),
                           target="size")
        vol.size = size

    @locked
    def destroy_volume(self, cluster_name, svm, name, require_offline=True):
        cluster = self.cluster(cluster_name)
        vol = self._volume(cluster, svm, name)
        if require_offline and vol.state != "offline":
            raise SimError("invalid", "Volume \"%s\" in Vserver \"%s\" must be offline before it is destroyed." % (name, svm))
        for rel in cluster.relationships.values():
            if (rel.destination_svm, rel.destination_volume) == (svm, name):
                raise SimError("invalid", "Volume \"%s\" is the destination of a SnapMirror relationship: delete the "
                               "relationship first." % vol.path)
        del cluster.volumes[(svm, name)]
        self.san.volume_destroyed(vol)

    @locked
    def volume_by_uuid(self, cluster_name, uuid):
        return copy.deepcopy(self._volume_by_uuid(self.cluster(cluster_name), uuid))

    @locked
    def snapshot_delta(self, cluster_name, svm, name, snapshot1, snapshot2=None):
        """(bytes, seconds) between two snapshots of a volume, or a snapshot and the active file system (ONTAP's
        ``volume snapshot show-delta``): the bytes written in between, the time between them."""
        vol = self._volume(self.cluster(cluster_name), svm, name)
        snaps = dict((s.name, s) for s in vol.snapshots)
        for snap in (snapshot1, snapshot2):
            if snap is not None and snap not in snaps:
                raise SimError("not_found", "Snapshot copy \"%s\" of volume \"%s\" does not exist." % (snap, vol.path),
                               target="name")
        first = snaps[snapshot1]
        mark, when = (snaps[snapshot2].mark, snaps[snapshot2].create_time) if snapshot2 else (vol.written, self.clock())
        return max(0, mark - first.mark), max(0, int(when - first.create_time))

    @locked
    def write(self, cluster_name, svm, name, nbytes, tag=None):
        vol = self._volume(self.cluster(cluster_name), svm, name)
        if vol.type == "dp":
            raise SimError("invalid", "Volume \"%s\" is a data protection volume: it is read-only." % vol.path)
        vol.written += int(nbytes)
        if tag:
            vol.tags.append(str(tag))
        return vol.written

    # --------------------------------------------------------- relationships
    @locked
    def create_relationship(self, cluster_name, source_path, destination_path, policy=None, schedule=None,
                            rel_type="extended_data_protection", source_cluster=None, create_destination=False):
        cluster = self.cluster(cluster_name)
        src_svm, src_vol = split_path(source_path)
        dst_svm, dst_vol = split_path(destination_path)
        self._svm(cluster, dst_svm)
        for rel in cluster.relationships.values():
            if rel.destination_path == destination_path:
                raise SimError("exists", "Relationship with destination \"%s\" already exists." % destination_path)
        if rel_type not in RELATIONSHIP_TYPES:
            raise SimError("invalid", "Invalid relationship type \"%s\"." % rel_type, target="relationship_type")
        policy = policy or ("MirrorAllSnapshots" if rel_type == "data_protection" else "MirrorAllSnapshots")
        if policy not in cluster.policies:
            raise SimError("policy_not_found", "SnapMirror policy \"%s\" does not exist." % policy, target="policy.name")
        if schedule and schedule not in cluster.schedules:
            raise SimError("schedule_not_found", "Schedule \"%s\" does not exist." % schedule, target="transfer_schedule.name")
        peer = self.peer_svm(cluster, dst_svm, src_svm)
        if src_svm != dst_svm and peer is None:
            raise SimError("not_peered", "Vserver \"%s\" is not peered with Vserver \"%s\": create the SVM peer relationship "
                           "first (applications: snapmirror)." % (dst_svm, src_svm))
        src_cluster_name = source_cluster or (peer.peer_cluster if peer else cluster.name)
        src_cluster = self._reachable(cluster, src_cluster_name)
        source = src_cluster.volumes.get((src_svm, src_vol))
        if source is None:
            raise SimError("volume_not_found", "Source volume \"%s\" does not exist on cluster \"%s\"." % (source_path, src_cluster_name),
                           target="source.path")
        dest = cluster.volumes.get((dst_svm, dst_vol))
        if dest is None and create_destination:
            aggr = self._roomiest_aggregate(cluster, dst_svm, source.size)
            dest = self._create_volume(cluster, dst_svm, dst_vol, source.size, aggr, "dp")
        if dest is None:
            raise SimError("volume_not_found", "Destination volume \"%s\" does not exist." % destination_path, target="destination.path")
        rel = Relationship(source_cluster=src_cluster_name, source_svm=src_svm, source_volume=src_vol, destination_svm=dst_svm,
                           destination_volume=dst_vol, type=rel_type, policy=policy, schedule=schedule or None, create_time=self.clock())
        if dest.type != "dp":
            # ONTAP creates a relationship onto a read-write volume broken off: a resync (failback's reverse resync) makes it DP
            rel.mirror_state = "broken-off"
        cluster.relationships[rel.uuid] = rel
        return copy.deepcopy(rel)

    def _roomiest_aggregate(self, cluster, svm_name, size):
        svm = self._svm(cluster, svm_name)
        names = svm.aggregates or list(cluster.aggregates)
        best = max(names, key=lambda n: cluster.aggregate_available(cluster.aggregates[n]))
        if cluster.aggregate_available(cluster.aggregates[best]) < size:
            raise SimError("no_space", "No aggregate of Vserver \"%s\" has %d bytes available." % (svm_name, size))
        return best

    @locked
    def initialize(self, cluster_name, destination_path):
        cluster = self.cluster(cluster_name)
        rel = self._relationship(cluster, destination_path)
        if rel.transfer is not None:
            raise SimError("transfer_in_progress", "Another transfer is in progress for \"%s\"." % destination_path)
        if rel.mirror_state != "uninitialized":
            raise SimError("already_initialized", "Relationship with destination \"%s\" is already initialized (%s)."
                           % (destination_path, rel.mirror_state))
        if rel.status in ("quiesced", "quiescing"):
            raise SimError("quiesced", "Relationship with destination \"%s\" is quiesced: resume it first." % destination_path)
        return copy.deepcopy(self._start_transfer(cluster, rel, "initialize"))

    @locked
    def update(self, cluster_name, destination_path):
        cluster = self.cluster(cluster_name)
        rel = self._relationship(cluster, destination_path)
        if rel.transfer is not None:
            raise SimError("transfer_in_progress", "Another transfer is in progress for \"%s\"." % destination_path)
        if rel.mirror_state == "uninitialized":
            raise SimError("not_initialized", "Relationship with destination \"%s\" is not initialized." % destination_path)
        if rel.mirror_state == "broken-off":
            raise SimError("broken_off", "Relationship with destination \"%s\" is broken off: resync it first." % destination_path)
        if rel.status in ("quiesced", "quiescing"):
            raise SimError("quiesced", "Relationship with destination \"%s\" is quiesced: resume it first." % destination_path)
        return copy.deepcopy(self._start_transfer(cluster, rel, "update"))

    @locked
    def transfer(self, cluster_name, destination_path):
        """POST .../transfers: initialize when uninitialized, else update."""
        cluster = self.cluster(cluster_name)
        rel = self._relationship(cluster, destination_path)
        if rel.mirror_state == "uninitialized":
            return self.initialize(cluster_name, destination_path)
        return self.update(cluster_name, destination_path)

    @locked
    def quiesce(self, cluster_name, destination_path):
        cluster = self.cluster(cluster_name)
        rel = self._relationship(cluster, destination_path)
        if rel.status in ("quiesced", "quiescing"):
            return copy.deepcopy(rel)
        if rel.mirror_state == "broken-off":
            raise SimError("broken_off", "Relationship with destination \"%s\" is broken off: nothing to quiesce." % destination_path)
        slow = self.slow_quiesce.get(cluster.name, 0.0)
        now = self.clock()
        if rel.transfer is not None or slow > 0:
            rel.status = "quiescing"
            rel.quiesce_done_at = now + slow
        else:
            rel.status = "quiesced"
        return copy.deepcopy(rel)

    @locked
    def resume(self, cluster_name, destination_path):
        cluster = self.cluster(cluster_name)
        rel = self._relationship(cluster, destination_path)
        if rel.status not in ("quiesced", "quiescing"):
            raise SimError("not_quiesced", "Relationship with destination \"%s\" is not quiesced." % destination_path)
        rel.status = "transferring" if rel.transfer is not None else "idle"
        rel.quiesce_done_at = None
        return copy.deepcopy(rel)

    @locked
    def abort(self, cluster_name, destination_path, transfer_uuid=None, hard=False):
        cluster = self.cluster(cluster_name)
        rel = self._relationship(cluster, destination_path)
        transfer = rel.transfer
        if transfer is None or (transfer_uuid and transfer.uuid != transfer_uuid):
            if rel.status == "quiescing" and transfer is None:
                rel.status = "quiesced"
                rel.quiesce_done_at = None
                return None
            raise SimError("no_transfer", "No transfer in progress for relationship with destination \"%s\"." % destination_path)
        now = self.clock()
        transfer.bytes_total = transfer.bytes_done(now)
        transfer.end = now
        transfer.state = "hard_aborted" if hard else "aborted"
        transfer.error = "Transfer aborted"
        rel.transfer = None
        rel.last_transfer = transfer
        rel.last_transfer_error = "Transfer aborted"
        rel.status = "quiesced" if rel.status == "quiescing" else "idle"
        return copy.deepcopy(transfer)

    @locked
    def break_(self, cluster_name, destination_path):
        cluster = self.cluster(cluster_name)
        rel = self._relationship(cluster, destination_path)
        if rel.transfer is not None:
            raise SimError("transfer_in_progress", "Cannot break relationship with destination \"%s\": a transfer is in progress. "
                           "Quiesce or abort it first." % destination_path)
        if rel.status == "quiescing":
            raise SimError("another_op", "Cannot break relationship with destination \"%s\": it is still quiescing." % destination_path)
        if rel.mirror_state == "uninitialized":
            raise SimError("not_initialized", "Cannot break relationship with destination \"%s\": it is not initialized."
                           % destination_path)
        if rel.mirror_state == "broken-off":
            raise SimError("broken_off", "Relationship with destination \"%s\" is already broken off." % destination_path)
        if rel.type in ("load_sharing", "vault"):
            raise SimError("invalid", "Cannot break a %s relationship." % rel.type)
        rel.mirror_state = "broken-off"
        rel.status = "idle"
        rel.quiesce_done_at = None
        dest = cluster.volumes.get((rel.destination_svm, rel.destination_volume))
        if dest is not None:
            dest.type = "rw"
        return copy.deepcopy(rel)

    @locked
    def resync(self, cluster_name, destination_path):
        cluster = self.cluster(cluster_name)
        rel = self._relationship(cluster, destination_path)
        if rel.transfer is not None:
            raise SimError("transfer_in_progress", "Another transfer is in progress for \"%s\"." % destination_path)
        if rel.mirror_state == "uninitialized":
            raise SimError("not_initialized", "Relationship with destination \"%s\" is not initialized: initialize it instead."
                           % destination_path)
        dest = cluster.volumes.get((rel.destination_svm, rel.destination_volume))
        if dest is not None and dest.state != "online":
            # ONTAP refuses it (a failback's reverse resync onto an offline source volume): the volume takes no transfer
            raise SimError("volume_offline", "Destination volume \"%s\" is %s; the SnapMirror operation was terminated. Bring "
                           "the volume online, then try again." % (destination_path, dest.state))
        transfer = self._start_transfer(cluster, rel, "resync")
        # the volume keeps its junction path: ONTAP's failback procedure (reverse resync, break, resync) mounts
        # nothing again, and an unmount would cut off the volumes mounted beneath it
        if dest is not None:
            dest.type = "dp"
        rel.quiesce_done_at = None
        return copy.deepcopy(transfer)

    @locked
    def modify(self, cluster_name, destination_path, policy=None, schedule=None, clear_schedule=False, throttle=None):
        cluster = self.cluster(cluster_name)
        rel = self._relationship(cluster, destination_path)
        if policy is not None:
            if policy not in cluster.policies:
                raise SimError("policy_not_found", "SnapMirror policy \"%s\" does not exist." % policy, target="policy.name")
            rel.policy = policy
        if clear_schedule:
            rel.schedule = None
        elif schedule is not None:
            if schedule not in cluster.schedules:
                raise SimError("schedule_not_found", "Schedule \"%s\" does not exist." % schedule, target="transfer_schedule.name")
            rel.schedule = schedule
        if throttle is not None:
            rel.throttle = int(throttle)
        return copy.deepcopy(rel)

    @locked
    def destroy(self, cluster_name, destination_path, release=False):
        """Delete a relationship on its destination; with ``release`` also on the source (REST DELETE without flags)."""
        cluster = self.cluster(cluster_name)
        rel = self._relationship(cluster, destination_path)
        if rel.transfer is not None:
            raise SimError("transfer_in_progress", "Cannot delete relationship with destination \"%s\": a transfer is in progress. "
                           "Abort it first." % destination_path)
        if release:
            # no flag on REST: delete on both sides with the common snapshots
            source_cluster = self._reachable(cluster, rel.source_cluster)
            self._release(source_cluster, rel.uuid, relationship_info_only=False)
            dest = cluster.volumes.get((rel.destination_svm, rel.destination_volume))
            if dest is not None:
                dest.snapshots = [s for s in dest.snapshots if not s.name.startswith("snapmirror.")]
        del cluster.relationships[rel.uuid]
        return copy.deepcopy(rel)

    def _release(self, source_cluster, uuid, relationship_info_only):
        record = source_cluster.destinations.pop(uuid, None)
        if record is None:
            return None
        if not relationship_info_only:
            source = source_cluster.volumes.get((record.source_svm, record.source_volume))
            if source is not None:
                source.snapshots = [s for s in source.snapshots if uuid[:8] not in s.name or not s.name.startswith("snapmirror.")]
        return record

    @locked
    def release(self, cluster_name, destination_path=None, uuid=None, relationship_info_only=False):
        """On the source cluster: forget a destination (snapmirror-release / DELETE ?source_only)."""
        cluster = self.cluster(cluster_name)
        for record in cluster.destinations.values():
            if record.relationship_uuid == uuid or (destination_path and record.destination_path == destination_path):
                destination = self.clusters.get(record.destination_cluster)
                rel = destination.relationships.get(record.relationship_uuid) if destination else None
                if rel is not None:
                    self._advance(destination, rel)
                    if rel.transfer is not None:
                        raise SimError("transfer_in_progress", "Cannot release destination \"%s\": a transfer is in its data phase."
                                       % record.destination_path)
                return copy.deepcopy(self._release(cluster, record.relationship_uuid, relationship_info_only))
        raise SimError("not_found", "No SnapMirror destination \"%s\" to release. (entry doesn't exist)"
                       % (destination_path or uuid), target="uuid")

    @locked
    def destination_record(self, cluster_name, uuid):
        record = self.cluster(cluster_name).destinations.get(uuid)
        if record is None:
            raise SimError("not_found", "entry doesn't exist", target="uuid")
        return copy.deepcopy(record)

    # -------------------------------------------------------------- control
    @locked
    def set_online(self, cluster_name, online):
        self.cluster(cluster_name).online = online

    @locked
    def is_online(self, cluster_name):
        return self.cluster(cluster_name).online

    @locked
    def add_transfer_fault(self, cluster_name, destination_path, count=1, message="Transfer failed."):
        self.cluster(cluster_name)
        self.transfer_faults[(cluster_name, destination_path)] = {"count": int(count), "message": message}

    @locked
    def set_slow_quiesce(self, cluster_name, seconds):
        self.cluster(cluster_name)
        self.slow_quiesce[cluster_name] = float(seconds)

    @locked
    def clear_faults(self):
        self.transfer_faults = {}
        self.slow_quiesce = {}

    @locked
    def age(self, cluster_name, destination_path, seconds):
        cluster = self.cluster(cluster_name)
        rel = self._relationship(cluster, destination_path)
        if rel.exported_snapshot_time is None:
            raise SimError("not_initialized", "Relationship with destination \"%s\" has never transferred." % destination_path)
        rel.exported_snapshot_time -= seconds
        if rel.last_transfer is not None:
            rel.last_transfer.start -= seconds
            rel.last_transfer.end -= seconds
        return self.lag(rel)

    def _dump_relationship(self, rel, now):
        last = rel.last_transfer
        return {"uuid": rel.uuid, "source_path": rel.source_path, "source_cluster": rel.source_cluster, "type": rel.type,
                "policy": rel.policy, "schedule": rel.schedule, "mirror_state": rel.mirror_state, "status": rel.status,
                "healthy": rel.healthy, "unhealthy_reason": rel.unhealthy_reason, "lag": self.lag(rel, now),
                "transfer": rel.transfer.state if rel.transfer else None,
                "last_transfer": {"type": last.type, "state": last.state, "bytes": last.bytes_total} if last else None}

    @locked
    def dump(self):
        """The whole state as plain JSON-able data, for tests (GET /control/state)."""
        now = self.clock()
        out = {}
        self._advance_all()
        for cluster in self.clusters.values():
            out[cluster.name] = {
                "online": cluster.online,
                "svms": sorted(cluster.svms),
                "aggregates": {a.name: {"size": a.size, "available": cluster.aggregate_available(a)} for a in cluster.aggregates.values()},
                "volumes": {v.path: {"uuid": v.uuid, "size": v.size, "type": v.type, "state": v.state, "junction_path": v.junction_path,
                                     "aggregate": v.aggregate, "written": v.written, "snapshots": [s.name for s in v.snapshots],
                                     "tags": list(v.tags)}
                            for v in cluster.volumes.values()},
                "cluster_peers": sorted(cluster.cluster_peers),
                "svm_peers": [{"svm": p.svm, "peer_svm": p.peer_svm, "peer_cluster": p.peer_cluster} for p in cluster.svm_peers],
                "relationships": {r.destination_path: self._dump_relationship(r, now) for r in cluster.relationships.values()},
                "destinations": {d.destination_path: {"relationship_uuid": d.relationship_uuid, "source_path": d.source_path,
                                                      "destination_cluster": d.destination_cluster}
                                 for d in cluster.destinations.values()},
                "san": self.san.dump(cluster.name),
            }
        return out


VOLUME_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,202}$")


def check_volume_name(name):
    """ONTAP's rule for a volume name: letters, digits and underscores, not starting with a digit, at most 203 characters."""
    if not isinstance(name, str) or not VOLUME_NAME.match(name):
        raise SimError("invalid", "Invalid volume name \"%s\": a volume name must start with a letter or \"_\", contain only "
                       "letters, digits and \"_\", and be at most 203 characters long." % name, target="name")


def split_path(path):
    """'svm:vol' -> ('svm', 'vol'); raises SimError on anything else."""
    if not path or ":" not in path:
        raise SimError("invalid", "Invalid SnapMirror path \"%s\": expected \"<svm>:<volume>\"." % path, target="path")
    svm, vol = path.split(":", 1)
    if not svm or not vol or "/" in vol:
        raise SimError("invalid", "Invalid SnapMirror path \"%s\": expected \"<svm>:<volume>\"." % path, target="path")
    return svm, vol
