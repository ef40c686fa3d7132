# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ZAPI (ONTAPI XML over HTTP) as netapp-lib's NaServer speaks it.

Requests are ``<netapp version=".." [vfiler="svm"]><api-name>args</api-name></netapp>``;
answers are ``<netapp><results status="passed|failed" [errno reason]>..</results></netapp>``.
Records are built as nested dicts (a list value is a list of ``(tag, value)`` pairs,
rendered as repeated elements) so desired-attributes and queries apply uniformly.
"""

import xml.etree.ElementTree as ET

from datamotion_sim.ontap.match import match_value
from datamotion_sim.ontap.model import ONTAPI_VERSION, SimError, parse_size
from datamotion_sim.ontap.server import Response

NS = "http://www.netapp.com/filer/admin"
DEFAULT_MAX_RECORDS = 20
MAX_MAX_RECORDS = 2 ** 31 - 1   # a 32-bit integer, as ONTAP types max-records

# model error kind -> ZAPI errno (netapp_lib errors.py / cinder api.py names in comments)
ERRNO = {
    "not_found": "15661",               # EOBJECTNOTFOUND
    "volume_not_found": "13040",        # EVOLUMEDOESNOTEXIST
    "svm_not_found": "15661",
    "aggregate_not_found": "15661",
    "exists": "17122",                  # ERELATION_EXISTS
    "not_quiesced": "17127",            # ERELATION_NOT_QUIESCED
    "no_transfer": "17130",             # ENOTRANSFER_IN_PROGRESS
    "another_op": "17131",              # EANOTHER_OP_ACTIVE
    "transfer_in_progress": "17137",    # ETRANSFER_IN_PROGRESS
    "invalid": "13115",                 # EINVALIDINPUTERROR
}
GENERIC_ERRNO = "13001"                 # EAPIERROR


class ZapiError(Exception):
    def __init__(self, errno, reason):
        super().__init__(reason)
        self.errno = str(errno)
        self.reason = reason


# ------------------------------------------------------------------ XML helpers
def _local(tag):
    return tag.rsplit("}", 1)[-1]


def to_dict(elem):
    """An element's children as a nested dict (leaves: text or None); repeated tags keep the last."""
    out = {}
    for child in elem:
        name = _local(child.tag)
        out[name] = to_dict(child) if len(child) else (child.text if child.text is not None and child.text.strip() != "" else None)
    return out


def to_list(elem, tag):
    return [to_dict(c) if len(c) else c.text for c in elem if _local(c.tag) == tag]


def build(parent, data):
    for key, value in data.items():
        if value is None:
            continue
        child = ET.SubElement(parent, key)
        if isinstance(value, dict):
            build(child, value)
        elif isinstance(value, list):
            for tag, item in value:
                sub = ET.SubElement(child, tag)
                if isinstance(item, dict):
                    build(sub, item)
                else:
                    sub.text = _text(item)
        else:
            child.text = _text(value)


def _text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def envelope(results):
    root = ET.Element("netapp", {"version": "%d.%d" % ONTAPI_VERSION, "xmlns": NS})
    root.append(results)
    return b"<?xml version='1.0' encoding='UTF-8' ?>\n" + ET.tostring(root, encoding="utf-8")


def failed(errno, reason):
    return envelope(ET.Element("results", {"status": "failed", "errno": str(errno), "reason": reason}))


def prune(record, desired):
    """Keep only what desired-attributes asks for (a nested dict, leaves None)."""
    out = {}
    for key, value in record.items():
        if key not in desired:
            continue
        want = desired[key]
        if isinstance(value, dict) and isinstance(want, dict):
            out[key] = prune(value, want)
        else:
            out[key] = value
    return out


def matches(record, query):
    """True when ``record`` matches every query element it knows; ONTAP ignores elements a type does not have
    (na_ontap_volume queries volume-id-attributes with a <vserver> element)."""
    for key, want in query.items():
        if key not in record:
            continue
        value = record[key]
        if isinstance(want, dict):
            if isinstance(value, list):
                if not any(isinstance(v, dict) and matches(v, want) for _t, v in value):
                    return False
            elif not isinstance(value, dict) or not matches(value, want):
                return False
        elif want is not None:
            if isinstance(value, list):
                value = [v for _t, v in value]
            elif isinstance(value, dict):
                return False
            if not match_value(want, value):
                return False
    return True


def _bool(text, default=False):
    if text is None:
        return default
    return str(text).strip().lower() in ("true", "1", "yes")


# ------------------------------------------------------------------ context
class Call:
    """One ZAPI call: the model, the cluster, the vfiler and the arguments."""

    def __init__(self, runtime, cluster, vfiler, args, elem):
        self.runtime = runtime
        self.model = runtime.model
        self.cluster = cluster
        self.vfiler = vfiler
        self.args = args
        self.elem = elem

    def arg(self, name, default=None):
        value = self.args.get(name)
        return default if value is None else value

    def required(self, name):
        value = self.args.get(name)
        if value is None:
            raise ZapiError("13115", "Missing input: %s" % name)
        return value

    def svm(self, name=None):
        """The SVM the call is for: the vfiler, or an explicit vserver argument."""
        svm = name or self.vfiler or self.args.get("vserver")
        if not svm:
            raise ZapiError(GENERIC_ERRNO, "This API must be sent to a Vserver: set the vfiler (vserver tunnelling).")
        return svm

    def destination_path(self, info=None, owned=True):
        """The destination of the relationship a call names. ``owned``: the call runs on the destination, where a
        vserver-tunnelled call (vfiler) sees only the relationships whose destination is that vserver."""
        args = info if info is not None else self.args
        path = args.get("destination-location")
        if not path:
            vserver = args.get("destination-vserver") or self.vfiler
            volume = args.get("destination-volume")
            if not (vserver and volume):
                raise ZapiError("13115", "Missing input: destination-location, or destination-vserver and destination-volume")
            path = "%s:%s" % (vserver, volume)
        if owned and self.vfiler and path.split(":", 1)[0] != self.vfiler:
            raise ZapiError("15661", "There is no SnapMirror relationship with destination \"%s\" in Vserver \"%s\". (entry doesn't exist)"
                            % (path, self.vfiler))
        return path

    def source_path(self, info=None, required=True):
        args = info if info is not None else self.args
        if args.get("source-location"):
            return args["source-location"]
        if args.get("source-vserver") and args.get("source-volume"):
            return "%s:%s" % (args["source-vserver"], args["source-volume"])
        if required:
            raise ZapiError("13115", "Missing input: source-location, or source-vserver and source-volume")
        return None


# ------------------------------------------------------------------ iterators
def iterate(call, records, key):
    """A -get-iter answer: query, desired-attributes, max-records, tag/next-tag."""
    query = call.args.get("query")
    if isinstance(query, dict) and query:
        wrapper = next(iter(query.values()))
        if isinstance(wrapper, dict):
            records = [r for r in records if matches(r[1], wrapper)]
    records.sort(key=key)
    try:
        max_records = int(call.arg("max-records", DEFAULT_MAX_RECORDS))
    except ValueError:
        raise ZapiError("13115", "Invalid value for max-records: %s" % call.arg("max-records")) from None
    if not 1 <= max_records <= MAX_MAX_RECORDS:
        raise ZapiError("13115", "Invalid value for max-records: %s (1 to %d)" % (max_records, MAX_MAX_RECORDS))
    start = 0
    tag = call.arg("tag")
    if tag:
        try:
            start = int(tag.rsplit(":", 1)[-1])
        except ValueError:
            raise ZapiError("13115", "Invalid tag: %s" % tag) from None
    page = records[start:start + max_records]
    desired = call.args.get("desired-attributes")
    desired = next(iter(desired.values())) if isinstance(desired, dict) and desired else None
    results = ET.Element("results", {"status": "passed"})
    if page:
        alist = ET.SubElement(results, "attributes-list")
        for tag_name, record in page:
            if isinstance(desired, dict):
                record = prune(record, desired)
            build(ET.SubElement(alist, tag_name), record)
    ET.SubElement(results, "num-records").text = str(len(page))
    if start + max_records < len(records):
        ET.SubElement(results, "next-tag").text = "%s:%d" % (call.elem.tag, start + max_records)
    return results


def passed(data=None):
    results = ET.Element("results", {"status": "passed"})
    if data:
        build(results, data)
    return results


def bulk(call, records, action):
    """A bulk -iter operation: apply ``action`` to every record the query selects."""
    query = call.args.get("query")
    if not isinstance(query, dict) or not query:
        raise ZapiError("13115", "Missing input: query")
    info_tag, wanted = next(iter(query.items()))
    selected = [r for t, r in records if t == info_tag and matches(r, wanted or {})]
    continue_on_failure = _bool(call.arg("continue-on-failure"))
    max_failures = int(call.arg("max-failure-count", 0) or 0)
    success, failure = [], []
    for record in selected:
        try:
            action(record)
            success.append((info_tag, {"destination-location": record.get("destination-location"),
                                       "source-location": record.get("source-location")}))
        except SimError as err:
            failure.append((info_tag, {"destination-location": record.get("destination-location"),
                                       "error-code": ERRNO.get(err.kind, GENERIC_ERRNO), "error-message": err.message}))
            if not continue_on_failure or (max_failures and len(failure) >= max_failures):
                break
    data = {"num-succeeded": len(success), "num-failed": len(failure)}
    if _bool(call.arg("return-success-list"), True) and success:
        data["success-list"] = success
    if _bool(call.arg("return-failure-list"), True) and failure:
        data["failure-list"] = failure
    return passed(data)


# ------------------------------------------------------------------ records
def svm_record(cluster, svm):
    return ("vserver-info", {
        "vserver-name": svm.name, "uuid": svm.uuid, "vserver-type": "data", "vserver-subtype": "default", "state": "running",
        "operational-state": "running", "root-volume": "%s_root" % svm.name, "root-volume-aggregate": next(iter(cluster.aggregates), None),
        "aggr-list": [("aggr-name", a) for a in (svm.aggregates or sorted(cluster.aggregates))], "ipspace": "Default",
        "allowed-protocols": [("protocol", "nfs"), ("protocol", "cifs"), ("protocol", "iscsi")]})


def volume_record(vol, aggr_uuid):
    return ("volume-attributes", {
        "volume-id-attributes": {
            "name": vol.name, "owning-vserver-name": vol.svm, "containing-aggregate-name": vol.aggregate,
            "containing-aggregate-uuid": aggr_uuid, "aggr-list": [("aggr-name", vol.aggregate)],
            "junction-path": vol.junction_path, "type": vol.type, "style": "flex", "style-extended": "flexvol",
            "instance-uuid": vol.uuid, "uuid": vol.uuid, "provenance-uuid": vol.uuid, "fsid": str(abs(hash(vol.uuid)) % 10 ** 10),
            "creation-time": int(vol.create_time), "encrypt": False},
        "volume-state-attributes": {"state": vol.state, "is-junction-active": bool(vol.junction_path), "is-vserver-root": False,
                                    "is-constituent": False, "is-nvfail-enabled": False},
        "volume-space-attributes": {"size": vol.size, "size-total": int(vol.size * 0.95), "size-used": vol.used,
                                    "size-available": max(0, int(vol.size * 0.95) - vol.used), "percentage-snapshot-reserve": 5,
                                    "space-guarantee": "none", "is-space-guarantee-enabled": True,
                                    "space-slo": "none"},
        "volume-snapshot-attributes": {"snapshot-policy": "none" if vol.type == "dp" else "default",
                                       "snapshot-count": len(vol.snapshots), "snapdir-access-enabled": True},
        "volume-language-attributes": {"language-code": "c.utf_8"},
        # what na_ontap_volume reads (permissions is required by it)
        "volume-security-attributes": {"style": "unix", "volume-security-unix-attributes": {
            "permissions": "0755", "user-id": 0, "group-id": 0}},
        "volume-export-attributes": {"policy": "default"},
        "volume-inode-attributes": {"files-total": max(1, vol.size // 32768), "files-used": 96},
        "volume-performance-attributes": {"is-atime-update-enabled": True},
        "volume-comp-aggr-attributes": {"tiering-policy": "none"},
        "volume-vserver-dr-protection-attributes": {"vserver-dr-protection": "unprotected"},
        "volume-snapshot-autodelete-attributes": {"commitment": "try", "defer-delete": "user_created", "delete-order": "oldest_first",
                                                  "destroy-list": "none", "is-autodelete-enabled": False, "prefix": "(not specified)",
                                                  "target-free-space": 20, "trigger": "volume"},
    })


def relationship_record(model, cluster_name, rel, now, cluster_obj):
    lag = model.lag(rel, now)
    last = rel.last_transfer
    policy = cluster_obj.policies.get(rel.policy)
    transfer = rel.transfer
    info = {
        "source-location": rel.source_path, "source-vserver": rel.source_svm, "source-volume": rel.source_volume,
        "source-cluster": rel.source_cluster,
        "destination-location": rel.destination_path, "destination-vserver": rel.destination_svm,
        "destination-volume": rel.destination_volume, "destination-cluster": cluster_name,
        "destination-vserver-uuid": cluster_obj.svms[rel.destination_svm].uuid if rel.destination_svm in cluster_obj.svms else None,
        "relationship-id": rel.uuid, "relationship-type": rel.type, "relationship-group-type": "none",
        "relationship-control-plane": "v2", "mirror-state": rel.mirror_state, "relationship-status": rel.status,
        "is-healthy": rel.healthy, "unhealthy-reason": rel.unhealthy_reason, "last-transfer-error": rel.last_transfer_error,
        "policy": rel.policy, "policy-type": policy.zapi_type if policy else None, "schedule": rel.schedule,
        "max-transfer-rate": rel.throttle, "identity-preserve": False, "is-smtape-op": False,
        "lag-time": lag, "exported-snapshot": rel.exported_snapshot,
        "exported-snapshot-timestamp": int(rel.exported_snapshot_time) if rel.exported_snapshot_time else None,
        "newest-snapshot": rel.exported_snapshot,
        "newest-snapshot-timestamp": int(rel.exported_snapshot_time) if rel.exported_snapshot_time else None,
        "total-transfer-bytes": rel.total_transfer_bytes, "total-transfer-time-secs": int(rel.total_transfer_duration),
        "break-successful-count": 0, "resync-successful-count": 0, "update-successful-count": 0,
        # known fields without a value: a query on them matches nothing rather than being ignored
        "current-transfer-type": None, "snapshot-progress": None, "progress-last-updated": None, "current-operation-id": None,
        "last-transfer-type": None, "last-transfer-size": None, "last-transfer-duration": None,
        "last-transfer-end-timestamp": None, "last-transfer-from": None,
    }
    if transfer is not None:
        info["current-transfer-type"] = transfer.type
        info["snapshot-progress"] = transfer.bytes_done(now)
        info["progress-last-updated"] = int(now)
        info["current-operation-id"] = transfer.uuid
    if last is not None:
        info["last-transfer-type"] = last.type
        info["last-transfer-size"] = last.bytes_total
        info["last-transfer-duration"] = int(last.end - last.start)
        info["last-transfer-end-timestamp"] = int(last.end)
        info["last-transfer-from"] = rel.source_path
    return ("snapmirror-info", info)


def destination_record(rec):
    return ("snapmirror-destination-info", {
        "destination-location": rec.destination_path, "destination-vserver": rec.destination_svm,
        "destination-volume": rec.destination_volume, "source-location": rec.source_path, "source-vserver": rec.source_svm,
        "source-volume": rec.source_volume, "relationship-id": rec.relationship_uuid, "relationship-type": rec.type,
        "policy-type": rec.policy_type, "relationship-status": "idle", "is-constituent": False,
        "relationship-group-type": "none"})


# ------------------------------------------------------------------ APIs
def system_get_version(call):
    cluster = call.model.live(call.cluster)
    gen, major, minor = cluster.version
    return passed({
        "build-timestamp": 1700000000, "is-clustered": True,
        "version": "NetApp Release %d.%d.%d: Mon Jan 01 00:00:00 UTC 2024 (ontap-sim)" % (gen, major, minor),
        "version-tuple": {"system-version-tuple": {"generation": gen, "major": major, "minor": minor}}})


def system_get_ontapi_version(call):
    return passed({"major-version": ONTAPI_VERSION[0], "minor-version": ONTAPI_VERSION[1]})


def cluster_identity_get(call):
    cluster = call.model.live(call.cluster)
    return passed({"attributes": {"cluster-identity-info": {
        "cluster-name": cluster.name, "cluster-uuid": cluster.uuid, "cluster-serial-number": cluster.serial,
        "cluster-location": "", "cluster-contact": ""}}})


def vserver_get_iter(call):
    cluster = call.model.live(call.cluster)
    records = [svm_record(cluster, s) for s in cluster.svms.values()]
    if call.vfiler:
        records = [r for r in records if r[1]["vserver-name"] == call.vfiler]
    else:
        records.append(("vserver-info", {"vserver-name": cluster.name, "uuid": cluster.uuid, "vserver-type": "admin",
                                         "state": "running", "operational-state": "running", "ipspace": "Default"}))
    return iterate(call, records, key=lambda r: r[1]["vserver-name"])


def cluster_peer_get_iter(call):
    peers = call.model.live(call.cluster, "cluster_peers")
    records = []
    for peer in peers:
        online = peer.name in call.model.clusters and call.model.is_online(peer.name)
        records.append(("cluster-peer-info", {
            "cluster-name": peer.name, "remote-cluster-name": peer.name, "cluster-uuid": peer.uuid,
            "availability": "available" if online else "unavailable", "is-cluster-healthy": online,
            "peer-addresses": [("remote-inet-address", "127.0.0.1")], "active-addresses": [("remote-inet-address", "127.0.0.1")],
            "ipspace-name": "Default", "auth-status-admin": "use-authentication", "auth-status-operational": "ok",
            "serial-number": "1-80-000011"}))
    return iterate(call, records, key=lambda r: r[1]["cluster-name"])


def vserver_peer_get_iter(call):
    cluster = call.model.live(call.cluster)
    records = []
    for peer in cluster.svm_peers:
        if call.vfiler and peer.svm != call.vfiler:
            continue
        records.append(("vserver-peer-info", {
            "vserver": peer.svm, "peer-vserver": peer.peer_svm, "remote-vserver-name": peer.peer_svm,
            "peer-cluster": peer.peer_cluster, "peer-state": peer.state,
            "applications": [("vserver-peer-application", a) for a in peer.applications],
            "vserver-uuid": cluster.svms[peer.svm].uuid if peer.svm in cluster.svms else None, "peer-vserver-uuid": peer.uuid}))
    return iterate(call, records, key=lambda r: (r[1]["vserver"], r[1]["peer-vserver"]))


def aggr_get_iter(call):
    cluster = call.model.live(call.cluster)
    space = call.model.aggregate_space(call.cluster)
    records = []
    for aggr in cluster.aggregates.values():
        available, used = space[aggr.name]
        records.append(("aggr-attributes", {
            "aggregate-name": aggr.name, "aggregate-uuid": aggr.uuid,
            "aggr-space-attributes": {"size-total": aggr.size, "size-available": available, "size-used": used,
                                      "percent-used-capacity": int(100 * used / aggr.size) if aggr.size else 0},
            "aggr-raid-attributes": {"state": "online", "raid-type": "raid_dp", "is-root-aggregate": False},
            "aggr-ownership-attributes": {"cluster": cluster.name, "home-name": "%s-01" % cluster.name,
                                          "owner-name": "%s-01" % cluster.name}}))
    return iterate(call, records, key=lambda r: r[1]["aggregate-name"])


def volume_get_iter(call):
    cluster = call.model.live(call.cluster)
    records = [volume_record(v, cluster.aggregates[v.aggregate].uuid) for v in cluster.volumes.values()
               if not call.vfiler or v.svm == call.vfiler]
    return iterate(call, records, key=lambda r: (r[1]["volume-id-attributes"]["owning-vserver-name"],
                                                 r[1]["volume-id-attributes"]["name"]))


def sis_get_iter(call):
    """Storage efficiency is not simulated: every volume reports it disabled (na_ontap_volume reads it after a create)."""
    cluster = call.model.live(call.cluster)
    records = [("sis-status-info", {"path": "/vol/%s" % v.name, "vserver": v.svm, "state": "disabled", "status": "idle",
                                    "type": "regular", "is-compression-enabled": False, "is-inline-compression-enabled": False,
                                    "is-data-compaction-enabled": False})
               for v in cluster.volumes.values() if not call.vfiler or v.svm == call.vfiler]
    return iterate(call, records, key=lambda r: (r[1]["vserver"], r[1]["path"]))


def volume_create(call):
    svm = call.svm()
    name = call.required("volume")
    try:
        size = parse_size(call.required("size"))
    except ValueError:
        raise ZapiError("13115", "Invalid value for size: %s" % call.arg("size")) from None
    call.model.create_volume(call.cluster, svm, name, size, call.required("containing-aggr-name"),
                             call.arg("volume-type", "rw").lower(), call.arg("junction-path"))
    return passed()


def snapshot_get_iter(call):
    cluster = call.model.live(call.cluster)
    records = [("snapshot-info", {"name": snap.name, "volume": v.name, "vserver": v.svm, "snapshot-instance-uuid": snap.uuid,
                                  "access-time": int(snap.create_time)})
               for v in cluster.volumes.values() if not call.vfiler or v.svm == call.vfiler for snap in v.snapshots]
    return iterate(call, records, key=lambda r: (r[1]["vserver"], r[1]["volume"], r[1]["access-time"], r[1]["name"]))


def snapshot_delta_info(call):
    size, seconds = call.model.snapshot_delta(call.cluster, call.svm(), call.required("volume"), call.required("snapshot1"),
                                              call.arg("snapshot2"))
    return passed({"consumed-size": size, "elapsed-time": seconds})


def volume_mount(call):
    call.model.mount_volume(call.cluster, call.svm(), call.required("volume-name"), call.required("junction-path"))
    return passed()


def volume_unmount(call):
    call.model.unmount_volume(call.cluster, call.svm(), call.required("volume-name"))
    return passed()


def _volume_state(state):
    def api(call):
        call.model.set_volume_state(call.cluster, call.svm(), call.required("name"), state)
        return passed()
    return api


def volume_destroy(call):
    call.model.destroy_volume(call.cluster, call.svm(), call.required("name"))
    return passed()


def volume_size(call):
    svm, name = call.svm(), call.required("volume")
    new_size = call.arg("new-size")
    if new_size:
        cluster = call.model.live(call.cluster)
        current = cluster.volumes[(svm, name)].size if (svm, name) in cluster.volumes else 0
        if new_size.startswith("+"):
            size = current + parse_size(new_size[1:])
        elif new_size.startswith("-"):
            size = current - parse_size(new_size[1:])
        else:
            size = parse_size(new_size)
        call.model.resize_volume(call.cluster, svm, name, size)
    uuid = call.model.volume_uuid(call.cluster, svm, name)
    return passed({"volume-size": "%dg" % (call.model.volume_by_uuid(call.cluster, uuid).size // (1024 ** 3))})


def _relationship_records(call):
    cluster = call.model.live(call.cluster)
    rels = call.model.live(call.cluster, "relationships")
    now = call.model.clock()
    return [relationship_record(call.model, call.cluster, r, now, cluster) for r in rels
            if not call.vfiler or r.destination_svm == call.vfiler]


def snapmirror_get_iter(call):
    return iterate(call, _relationship_records(call), key=lambda r: r[1]["destination-location"])


def snapmirror_get(call):
    path = call.destination_path()
    rel = call.model.relationship(call.cluster, destination_path=path)
    cluster = call.model.live(call.cluster)
    record = relationship_record(call.model, call.cluster, rel, call.model.clock(), cluster)
    data = record[1]
    desired = call.args.get("desired-attributes")
    if isinstance(desired, dict) and desired:
        data = prune(data, next(iter(desired.values())) or {})
    return passed({"attributes": {"snapmirror-info": data}})


def snapmirror_get_destination_iter(call):
    records = [destination_record(d) for d in call.model.live(call.cluster, "destinations")
               if not call.vfiler or d.source_svm == call.vfiler]
    return iterate(call, records, key=lambda r: r[1]["destination-location"])


def snapmirror_create(call):
    source, destination = call.source_path(), call.destination_path()
    call.model.create_relationship(call.cluster, source, destination, policy=call.arg("policy"), schedule=call.arg("schedule"),
                                   rel_type=call.arg("relationship-type", "extended_data_protection"),
                                   source_cluster=call.arg("source-cluster"))
    if call.arg("max-transfer-rate"):
        call.model.modify(call.cluster, destination, throttle=call.arg("max-transfer-rate"))
    return passed()


def _operation_result(transfer):
    return passed({"result-operation-id": transfer.uuid if transfer else None, "result-status": "succeeded"})


def snapmirror_initialize(call):
    return _operation_result(call.model.initialize(call.cluster, call.destination_path()))


def snapmirror_update(call):
    return _operation_result(call.model.update(call.cluster, call.destination_path()))


def snapmirror_resync(call):
    return _operation_result(call.model.resync(call.cluster, call.destination_path()))


def snapmirror_quiesce(call):
    call.model.quiesce(call.cluster, call.destination_path())
    return passed()


def snapmirror_resume(call):
    call.model.resume(call.cluster, call.destination_path())
    return passed()


def snapmirror_abort(call):
    call.model.abort(call.cluster, call.destination_path())
    return passed()


def snapmirror_break(call):
    call.model.break_(call.cluster, call.destination_path())
    return passed({"result-status": "succeeded"})


def snapmirror_destroy(call):
    call.model.destroy(call.cluster, call.destination_path())
    return passed({"result-status": "succeeded"})


def snapmirror_modify(call):
    schedule = call.arg("schedule")
    call.model.modify(call.cluster, call.destination_path(), policy=call.arg("policy"), schedule=schedule or None,
                      clear_schedule=("schedule" in call.args and not schedule), throttle=call.arg("max-transfer-rate"))
    return passed()


def snapmirror_release(call):
    call.model.release(call.cluster, destination_path=call.destination_path(owned=False),
                       relationship_info_only=_bool(call.arg("relationship-info-only")))
    return passed()


def _bulk_on_relationships(action):
    def api(call):
        return bulk(call, _relationship_records(call), lambda rec: action(call, rec["destination-location"]))
    return api


def snapmirror_release_iter(call):
    records = [destination_record(d) for d in call.model.live(call.cluster, "destinations")]
    query = call.args.get("query") or {}
    info = next(iter(query.values()), {}) if isinstance(query, dict) else {}
    info_only = _bool((info or {}).pop("relationship-info-only", None)) if isinstance(info, dict) else False

    def release(rec):
        call.model.release(call.cluster, destination_path=rec["destination-location"], relationship_info_only=info_only)
    return bulk(call, records, release)


def snapmirror_policy_get_iter(call):
    cluster = call.model.live(call.cluster)
    records = []
    for pol in cluster.policies.values():
        records.append(("snapmirror-policy-info", {
            "policy-name": pol.name, "policy-type": pol.zapi_type, "vserver-name": pol.svm or cluster.name,
            "policy-owner": "cluster_admin", "comment": "", "transfer-priority": "normal", "tries": 8, "restart": "always",
            "is-network-compression-enabled": False, "ignore-atime": False, "total-rules": 1, "total-keep": 1,
            "snapmirror-policy-rules": [("snapmirror-policy-rule-info", {
                "snapmirror-label": "sm_created", "keep": 1, "preserve": False, "warn": 0, "schedule": None})]}))
    return iterate(call, records, key=lambda r: (r[1]["vserver-name"], r[1]["policy-name"]))


def job_schedule_cron_get_iter(call):
    cluster = call.model.live(call.cluster)
    records = []
    for sched in cluster.schedules.values():
        info = {"job-schedule-name": sched.name, "job-schedule-cluster": cluster.name,
                "job-schedule-description": _cron_description(sched)}
        if sched.minutes is not None:
            info["job-schedule-cron-minute"] = [("cron-minute", m) for m in sched.minutes]
        if sched.hours is not None:
            info["job-schedule-cron-hour"] = [("cron-hour", h) for h in sched.hours]
        if sched.days is not None:
            info["job-schedule-cron-day"] = [("cron-day-of-month", d) for d in sched.days]
        if sched.weekdays is not None:
            info["job-schedule-cron-day-of-week"] = [("cron-day-of-week", d) for d in sched.weekdays]
        records.append(("job-schedule-cron-info", info))
    return iterate(call, records, key=lambda r: r[1]["job-schedule-name"])


def job_schedule_get_iter(call):
    cluster = call.model.live(call.cluster)
    records = [("job-schedule-info", {"job-schedule-name": s.name, "job-schedule-type": "cron",
                                      "job-schedule-description": _cron_description(s)}) for s in cluster.schedules.values()]
    return iterate(call, records, key=lambda r: r[1]["job-schedule-name"])


def _cron_description(sched):
    def part(values):
        return "*" if values is None else ",".join(str(v) for v in values)
    return "@%s:%s, day %s, weekday %s" % (part(sched.hours), part(sched.minutes), part(sched.days), part(sched.weekdays))


APIS = {
    "system-get-version": system_get_version,
    "system-get-ontapi-version": system_get_ontapi_version,
    "cluster-identity-get": cluster_identity_get,
    "vserver-get-iter": vserver_get_iter,
    "cluster-peer-get-iter": cluster_peer_get_iter,
    "vserver-peer-get-iter": vserver_peer_get_iter,
    "aggr-get-iter": aggr_get_iter,
    "volume-get-iter": volume_get_iter,
    "volume-create": volume_create,
    "sis-get-iter": sis_get_iter,
    "volume-mount": volume_mount,
    "snapshot-get-iter": snapshot_get_iter,
    "snapshot-delta-info": snapshot_delta_info,
    "volume-unmount": volume_unmount,
    "volume-offline": _volume_state("offline"),
    "volume-online": _volume_state("online"),
    "volume-restrict": _volume_state("restricted"),
    "volume-destroy": volume_destroy,
    "volume-size": volume_size,
    "snapmirror-get-iter": snapmirror_get_iter,
    "snapmirror-get": snapmirror_get,
    "snapmirror-get-destination-iter": snapmirror_get_destination_iter,
    "snapmirror-create": snapmirror_create,
    "snapmirror-initialize": snapmirror_initialize,
    "snapmirror-update": snapmirror_update,
    "snapmirror-quiesce": snapmirror_quiesce,
    "snapmirror-resume": snapmirror_resume,
    "snapmirror-abort": snapmirror_abort,
    "snapmirror-break": snapmirror_break,
    "snapmirror-resync": snapmirror_resync,
    "snapmirror-destroy": snapmirror_destroy,
    "snapmirror-modify": snapmirror_modify,
    "snapmirror-release": snapmirror_release,
    "snapmirror-destroy-iter": _bulk_on_relationships(lambda call, path: call.model.destroy(call.cluster, path)),
    "snapmirror-quiesce-iter": _bulk_on_relationships(lambda call, path: call.model.quiesce(call.cluster, path)),
    "snapmirror-resume-iter": _bulk_on_relationships(lambda call, path: call.model.resume(call.cluster, path)),
    "snapmirror-break-iter": _bulk_on_relationships(lambda call, path: call.model.break_(call.cluster, path)),
    "snapmirror-abort-iter": _bulk_on_relationships(lambda call, path: call.model.abort(call.cluster, path)),
    "snapmirror-update-iter": _bulk_on_relationships(lambda call, path: call.model.update(call.cluster, path)),
    "snapmirror-release-iter": snapmirror_release_iter,
    "snapmirror-policy-get-iter": snapmirror_policy_get_iter,
    "job-schedule-cron-get-iter": job_schedule_cron_get_iter,
    "job-schedule-get-iter": job_schedule_get_iter,
}


def handle(runtime, cluster, request):
    """Answer one ZAPI request (always HTTP 200 with a <results>, except for authentication)."""
    # authentication comes first: nothing about the request is looked at before it
    if request.user is None or not runtime.model.authenticate(cluster, request.user, request.password, request.certificate):
        return Response(401, b"<html><body>401 Unauthorized</body></html>", content_type="text/html",
                        headers={"WWW-Authenticate": 'Basic realm="ontap-sim %s"' % cluster}, operation=_api_name(request.body))
    try:
        root = ET.fromstring(request.body or b"")
    except ET.ParseError as err:
        return Response(200, failed("13115", "Invalid XML request: %s" % err), content_type="text/xml")
    if len(root) > 1:
        # ONTAP runs one API per request
        return Response(200, failed("13115", "Only one API may be called per request; this one has %d" % len(root)),
                        content_type="text/xml")
    api_elem = root[0] if len(root) else None
    api = _local(api_elem.tag) if api_elem is not None else None
    if api is None:
        return Response(200, failed("13115", "No API in request"), content_type="text/xml")
    api_elem.tag = api
    fault = runtime.take_fault(cluster, api)
    if fault:
        return Response(200, failed(fault["errno"], fault["message"]), content_type="text/xml", operation=api)
    handler = APIS.get(api)
    if handler is None:
        return Response(200, failed("13005", "Unable to find API: %s" % api), content_type="text/xml", operation=api)
    vfiler = root.get("vfiler") or None
    call = Call(runtime, cluster, vfiler, to_dict(api_elem), api_elem)
    try:
        # one call is one atomic step of the model: render from live objects under its lock
        with runtime.model.lock:
            if vfiler and vfiler not in runtime.model.live(cluster).svms:
                raise ZapiError("13005", "Vserver \"%s\" not found" % vfiler)
            results = handler(call)
    except ZapiError as err:
        return Response(200, failed(err.errno, err.reason), content_type="text/xml", operation=api)
    except SimError as err:
        return Response(200, failed(ERRNO.get(err.kind, GENERIC_ERRNO), err.message), content_type="text/xml", operation=api)
    except (ValueError, TypeError, AttributeError, KeyError) as err:
        # an argument of the wrong shape (text where a number or a structure is expected)
        return Response(200, failed("13115", "Invalid input for %s: %s" % (api, err)), content_type="text/xml", operation=api)
    return Response(200, envelope(results), content_type="text/xml", operation=api)


def _api_name(body):
    """The API a request calls, for the request counters of an unauthenticated call (None if unreadable)."""
    try:
        root = ET.fromstring(body or b"")
    except ET.ParseError:
        return None
    return _local(root[0].tag) if len(root) else None


# the SAN APIs register themselves and their errnos (imported last: they use this module)
import datamotion_sim.ontap.san_zapi  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import
