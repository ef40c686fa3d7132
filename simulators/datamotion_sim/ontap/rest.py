# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ONTAP 9 REST API (``/api/...``) over the model.

Conventions followed (ONTAP's REST documentation): HAL+JSON collections with
``num_records`` and ``_links.next``; ``fields`` (default: the keys only on
collections), ``*``/``**``; any field as a query filter; ``max_records``,
``return_records``, ``return_timeout`` (0..120, default 0 so async operations answer
202 with a job); errors as ``{"error": {"message", "code" (a numeric string), "target"}}``.
"""

import json
import re
import time
from urllib.parse import parse_qsl, urlencode

from datamotion_sim.ontap.match import iso_duration, match_value
from datamotion_sim.ontap.model import SimError, parse_size, split_path
from datamotion_sim.ontap.server import Response

RESERVED = {"fields", "max_records", "return_records", "return_timeout", "order_by", "list_destinations_only",
            "source_only", "destination_only", "source_info_only", "force"}

# fields that records carry only when set: filtering on them is never an unknown argument
OPTIONAL_FIELDS = {"lag_time", "unhealthy_reason", "transfer", "transfer_schedule", "last_transfer_type", "last_transfer_error",
                   "exported_snapshot", "svm", "sync_type", "retention", "identity_preservation", "copy_all_source_snapshots",
                   "end_time", "total_duration", "error", "error_info", "nas"}

# top-level fields of each collection (ONTAP 9.x REST reference); a `fields` name outside them and the records is refused
KNOWN_FIELDS = {
    "/api/cluster": (
        "_tags active_directory auto_enable_activity_tracking auto_enable_analytics certificate cluster_network_overlay_enabled "
        "configuration_backup contact disaggregated dns_domains ha license location management_interface management_interfaces "
        "metric name name_servers nodes ntp_servers password peering_policy san_optimized statistics timezone uuid version "
    ).split(),
    "/api/cluster/jobs": (
        "code description end_time error message node start_time state svm uuid "
    ).split(),
    "/api/cluster/nodes": (
        "anti_ransomware_version cluster_interface cluster_interfaces controller date external_cache external_cache_bypass ha "
        "hw_assist is_spares_low location management_interface management_interfaces membership metric metrocluster model name "
        "nvlog nvram owner serial_number service_processor snaplock state statistics storage_availability_zones "
        "storage_configuration system_aggregate system_id system_machine_type uptime uuid vendor_serial_number version vm "
    ).split(),
    "/api/cluster/schedules": (
        "cluster cron interval name scope svm type uuid "
    ).split(),
    "/api/cluster/peers": (
        "authentication encryption initial_allowed_svms ip_address ipspace local_network name peer_applications remote status "
        "uuid version "
    ).split(),
    "/api/svm/svms": (
        "aggregates aggregates_delegated anti_ransomware anti_ransomware_auto_switch_duration_without_new_file_extension "
        "anti_ransomware_auto_switch_from_learning_to_enabled anti_ransomware_auto_switch_minimum_file_count "
        "anti_ransomware_auto_switch_minimum_file_extension anti_ransomware_auto_switch_minimum_incoming_data "
        "anti_ransomware_auto_switch_minimum_learning_period anti_ransomware_default_volume_state "
        "anti_ransomware_incoming_write_threshold anti_ransomware_incoming_write_threshold_percent "
        "auto_enable_activity_tracking auto_enable_analytics certificate cifs comment dns fc_interfaces fcp ip_interfaces "
        "ipspace is_space_enforcement_logical is_space_reporting_logical iscsi language ldap max_volumes name ndmp nfs nis "
        "nsswitch number_of_volumes_in_recovery_queue nvme qos_adaptive_policy_group_template qos_policy "
        "qos_policy_group_template routes s3 san_multipathing snapmirror snapshot_autodelete_enabled snapshot_policy "
        "snapshot_reserve_percent state storage subtype total_volume_size_in_recovery_queue uuid "
    ).split(),
    "/api/svm/peers": (
        "applications force name peer state svm uuid "
    ).split(),
    "/api/storage/aggregates": (
        "_tags block_storage cloud_storage create_time data_encryption dr_home_node home_node inactive_data_reporting "
        "inode_attributes is_spare_low metric name node sidl_enabled snaplock_type snapshot space state statistics uuid volume- "
        "count "
    ).split(),
    "/api/storage/volumes": (
        "_tags access_time_enabled activity_tracking aggregates aggressive_readahead_mode analytics anti_ransomware application "
        "asynchronous_directory_delete autosize clone cloud_retrieval_policy cloud_write_enabled comment consistency_group "
        "constituent_count constituents constituents_per_aggregate convert_unicode create_time efficiency encryption "
        "error_state files flash_pool flexcache_endpoint_type flexgroup granular_data granular_data_mode guarantee "
        "has_dir_index_public has_large_dir is_dir_index_transfer_enabled is_large_dir_enabled is_object_store "
        "is_s3_arbitrary_part_size_enabled is_svm_root language max_dir_size metric movement msid name nas nodes "
        "optimize_aggregates qos queue_for_encryption quota rebalancing scheduled_snapshot_naming_scheme size sizing_method "
        "smas_protection snaplock snapmirror snapshot_count snapshot_directory_access_enabled snapshot_locking_enabled "
        "snapshot_policy space state statistics status style svm svm_dr_protection tiering type use_mirrored_aggregates uuid "
        "validate_only "
    ).split(),
    "/api/storage/volumes/{uuid}/snapshots": (
        "comment compress_savings create_time dedup_savings delta expiry_time logical_size name owners provenance_volume "
        "reclaimable_space size snaplock snaplock_expiry_time snapmirror_label state svm uuid vbn0_savings version_uuid volume "
    ).split(),
    "/api/snapmirror/policies": (
        "comment copy_all_source_snapshots copy_latest_source_snapshot create_snapshot_on_source identity_preservation name "
        "network_compression_enabled retention rpo scope svm sync_common_snapshot_schedule sync_type throttle transfer_schedule "
        "type uuid "
    ).split(),
    "/api/snapmirror/relationships": (
        "backoff_level consistency_group_failover create_destination destination exported_snapshot group_type healthy "
        "identity_preservation io_serving_copy lag_time last_transfer_network_compression_ratio last_transfer_type "
        "master_bias_activated_site policy preferred_site preserve quick_resync recover_after_break restore restore_to_snapshot "
        "selective_volumes source state svmdr_volumes throttle total_transfer_bytes total_transfer_duration transfer "
        "transfer_schedule unhealthy_reason uuid "
    ).split(),
    "/api/snapmirror/relationships/{uuid}/transfers": (
        "bytes_transferred checkpoint_size end_time error_info files last_updated_time network_compression_ratio "
        "on_demand_attrs options relationship snapshot source_snapshot state storage_efficiency_enabled throttle total_duration "
        "uuid "
    ).split(),
}

# model error kind -> (HTTP status, ONTAP REST error code)
CODES = {
    "not_found": (404, "4"),
    "volume_not_found": (404, "4"),
    "aggregate_not_found": (404, "4"),
    "policy_not_found": (404, "4"),
    "schedule_not_found": (404, "4"),
    "svm_not_found": (404, "2621462"),
    "exists": (409, "6619637"),
    "volume_exists": (409, "1"),
    "transfer_in_progress": (409, "13303812"),
    "another_op": (409, "13303810"),
    "not_initialized": (400, "13303812"),
    "already_initialized": (400, "13303812"),
    "quiesced": (400, "13303844"),
    "broken_off": (400, "13303808"),
    "peer_unreachable": (400, "262224"),
    "mirror_uninitialized": (400, "917536"),
    "volume_offline": (400, "13303821"),
    "invalid": (400, "2"),
}
SYNC_KINDS = {"invalid", "svm_not_found"}


class RestError(Exception):
    def __init__(self, status, code, message, target=None):
        super().__init__(message)
        self.status = status
        self.code = str(code)
        self.message = message
        self.target = target


def sim_error(err):
    status, code = CODES.get(err.kind, (400, "2"))
    return RestError(status, code, err.message, err.target)


def iso_time(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(epoch))


def json_body(obj):
    return json.dumps(obj, indent=None, separators=(",", ":")).encode("utf-8")


def get_dotted(record, path):
    value = record
    for part in path.split("."):
        if isinstance(value, list):
            value = [v.get(part) for v in value if isinstance(v, dict) and part in v]
            if not value:
                return None, False
            continue
        if not isinstance(value, dict) or part not in value:
            return None, False
        value = value[part]
    return value, True


def set_dotted(out, path, value):
    parts = path.split(".")
    for part in parts[:-1]:
        out = out.setdefault(part, {})
        if not isinstance(out, dict):
            return
    out[parts[-1]] = value


def project(record, fields):
    """The record restricted to ``fields`` (dotted paths; a list of dicts is projected element-wise)."""
    out = {}
    for path in fields:
        head, _sep, rest = path.partition(".")
        if head not in record:
            continue
        value = record[head]
        if not rest:
            out[head] = value
        elif isinstance(value, dict):
            sub = project(value, [rest])
            if sub:
                out.setdefault(head, {})
                merge(out[head], sub)
        elif isinstance(value, list):
            # fields=aggregates.name,aggregates.uuid: each path adds to the same elements
            previous = out.get(head) if isinstance(out.get(head), list) else [{} for _v in value]
            for index, item in enumerate(value):
                if isinstance(item, dict) and isinstance(previous[index], dict):
                    merge(previous[index], project(item, [rest]))
                else:
                    previous[index] = item
            out[head] = previous
    if "_links" in record:
        out["_links"] = record["_links"]
    return out


def merge(into, other):
    for key, value in other.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            merge(into[key], value)
        else:
            into[key] = value


def expand(body):
    """Dotted JSON keys ({"nas.path": "/x"}) as nested ones, as ONTAP accepts both."""
    if not isinstance(body, dict):
        return body
    out = {}
    for key, value in body.items():
        value = expand(value)
        if "." in key:
            nested = {}
            set_dotted(nested, key, value)
            merge(out, nested)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            merge(out[key], value)
        else:
            out[key] = value
    return out


def truthy(value):
    return str(value).strip().lower() in ("true", "1", "yes")


# ------------------------------------------------------------------ context
class Ctx:
    def __init__(self, runtime, cluster, request, params, args, template):
        self.runtime = runtime
        self.model = runtime.model
        self.cluster = cluster
        self.request = request
        self.params = params
        self.args = args
        self.template = template
        self.svm_scope = request.headers.get("x-dot-svm-name") or None
        self._body = None

    def param(self, name, default=None):
        for key, value in self.params:
            if key == name:
                return value
        return default

    def flag(self, name):
        return truthy(self.param(name, "false"))

    def body(self):
        if self._body is None:
            raw = self.request.body.strip()
            if not raw:
                self._body = {}
            else:
                try:
                    self._body = expand(json.loads(raw.decode("utf-8")))
                except ValueError as err:
                    raise RestError(400, "2", "Invalid JSON input: %s" % err) from None
                if not isinstance(self._body, dict):
                    raise RestError(400, "2", "The request body must be a JSON object.")
        return self._body

    def return_timeout(self):
        value = self.param("return_timeout")
        if value is None:
            return 0
        try:
            seconds = int(value)
        except ValueError:
            seconds = -1
        if not 0 <= seconds <= 120:
            raise RestError(400, "262197", "The value \"%s\" is invalid for field \"return_timeout\" (<integer: 0..120>)." % value,
                            target="return_timeout")
        return seconds


# ------------------------------------------------------------------ collections
def collection(ctx, records, keys, sort="uuid"):
    """GET on a collection: filters, order, paging, fields, return_records."""
    filters = [(k, v) for k, v in ctx.params if k not in RESERVED and not k.startswith("start.")]
    for key, _pattern in filters:
        head = key.split(".", 1)[0]
        if records and head not in OPTIONAL_FIELDS and head not in (_known_fields(ctx) or ()) and not any(head in r for r in records):
            raise RestError(400, "262179", "Unexpected argument \"%s\"." % key, target=key)
    selected = []
    for record in records:
        ok = True
        for key, pattern in filters:
            value, found = get_dotted(record, key)
            if not found:
                ok = pattern.lower() == "null" if isinstance(pattern, str) else False
            elif not match_value(pattern, value):
                ok = False
            if not ok:
                break
        if ok:
            selected.append(record)
    order_by = ctx.param("order_by")
    descending = False
    if order_by:
        sort, _sep, direction = order_by.partition(" ")
        descending = direction.strip().lower() == "desc"
    # ties (volumes of the same name in two SVMs) are broken by uuid, so a page boundary is one exact record
    selected.sort(key=lambda r: (_sort_key(get_dotted(r, sort)[0]), str(r.get("uuid", ""))), reverse=descending)
    total = len(selected)
    if not truthy(ctx.param("return_records", "true")):
        return {"num_records": total, "_links": {"self": {"href": _self_href(ctx)}}}
    start = ctx.param("start." + sort)
    if start is not None:
        selected = _from_start(selected, sort, start, None if sort == "uuid" else ctx.param("start.uuid"), descending)
    max_records = ctx.param("max_records")
    page, more = selected, []
    if max_records is not None:
        try:
            limit = int(max_records)
        except ValueError:
            limit = -1
        if limit < 1:
            raise RestError(400, "262197", "The value \"%s\" is invalid for field \"max_records\"." % max_records, target="max_records")
        page, more = selected[:limit], selected[limit:]
    fields = _fields(ctx, records)
    out_records = [r if fields is None else project(r, keys + fields) for r in page] if fields != [] else \
        [project(r, keys) for r in page]
    body = {"records": out_records, "num_records": len(out_records), "_links": {"self": {"href": _self_href(ctx)}}}
    if more:
        params = [(k, v) for k, v in ctx.params if not k.startswith("start.")]
        params.append(("start." + sort, str(get_dotted(more[0], sort)[0])))
        if sort != "uuid" and "uuid" in more[0]:
            params.append(("start.uuid", str(more[0]["uuid"])))
        body["_links"]["next"] = {"href": "%s?%s" % (ctx.request.path_clean, urlencode(params, safe="*:,|!<>/"))}
    return body


def _from_start(records, sort, start, start_uuid, descending):
    """The records from the one a next link names (``start.<sort>``, and ``start.uuid`` among equal values) onwards."""
    for index, record in enumerate(records):
        if str(get_dotted(record, sort)[0]) == start and (start_uuid is None or str(record.get("uuid")) == start_uuid):
            return records[index:]
    # the record is gone since the previous page: resume after where it was
    mark = (_sort_key(start), start_uuid or "")
    if descending:
        return [r for r in records if (_sort_key(get_dotted(r, sort)[0]), str(r.get("uuid", ""))) <= mark]
    return [r for r in records if (_sort_key(get_dotted(r, sort)[0]), str(r.get("uuid", ""))) >= mark]


def _sort_key(value):
    if isinstance(value, (int, float)):
        return (0, value, "")
    return (1, 0, "" if value is None else str(value))


def _fields(ctx, records=()):
    """None: every field; []: the keys only; else the list asked for (a name ONTAP does not know: 262197)."""
    raw = ctx.param("fields")
    if raw is None:
        return []
    names = [f.strip() for f in raw.split(",") if f.strip()]
    if "*" in names or "**" in names:
        return None
    known = _known_fields(ctx)
    for name in names:
        head = name.split(".", 1)[0]
        if known and head not in known and head not in OPTIONAL_FIELDS and head != "_links" and not any(head in r for r in records):
            raise RestError(400, "262197", "The value \"%s\" is invalid for field \"fields\"." % name, target="fields")
    return names


def _known_fields(ctx):
    template = ctx.template.replace("/{uuid}/transfers/{uuid}", "/{uuid}/transfers")
    if template.endswith("/{uuid}") and not template.endswith("/snapshots/{uuid}"):
        template = template[:-len("/{uuid}")]
    return KNOWN_FIELDS.get(template)


def one(ctx, record, keys):
    fields = _fields(ctx, [record])
    if fields is None or not ctx.param("fields"):
        return record
    return project(record, keys + fields)


def _self_href(ctx):
    return ctx.request.path_clean + ("?" + ctx.request.query if ctx.request.query else "")


def link(href):
    return {"self": {"href": href}}


# ------------------------------------------------------------------ async jobs
def run_job(ctx, action, created_href=None, success_status=None):
    """Run a job-backed operation: 202 with the job (return_timeout 0), else its outcome within the timeout."""
    timeout = ctx.return_timeout()
    description = "%s %s" % (ctx.request.method, ctx.request.path_clean)
    error = None
    result = None
    try:
        result = action()
    except SimError as err:
        if err.kind in SYNC_KINDS:
            raise sim_error(err) from None
        error = err
    if error is not None:
        mapped = sim_error(error)
        job = ctx.model.add_job(ctx.cluster, description, error=error.message, error_kind=mapped.code, svm=ctx.svm_scope)
    else:
        job = ctx.model.add_job(ctx.cluster, description, svm=ctx.svm_scope)
    job_ref = {"uuid": job.uuid, "_links": link("/api/cluster/jobs/%s" % job.uuid)}
    headers = {}
    href = created_href(result) if (created_href and result is not None) else None
    if href:
        headers["Location"] = href
    if timeout == 0:
        return 202, {"job": job_ref}, headers
    if error is not None:
        raise sim_error(error)
    return success_status or (201 if href else 200), {"job": job_ref}, headers


def job_json(job, now):
    state = job.state(now)
    record = {"uuid": job.uuid, "description": job.description, "state": state,
              "message": {"running": "Job is running.", "success": "success"}.get(state, job.error),
              "code": 0 if state != "failure" else int(job.error_kind or 0), "start_time": iso_time(job.start),
              "_links": link("/api/cluster/jobs/%s" % job.uuid)}
    if state != "running":
        record["end_time"] = iso_time(job.end)
    if state == "failure":
        record["error"] = {"code": str(job.error_kind), "message": job.error}
    if job.svm:
        record["svm"] = {"name": job.svm}
    return record


# ------------------------------------------------------------------ records
def cluster_json(cluster):
    gen, major, minor = cluster.version
    return {"name": cluster.name, "uuid": cluster.uuid,
            "version": {"full": "NetApp Release %d.%d.%d: Mon Jan 01 00:00:00 UTC 2024" % (gen, major, minor),
                        "generation": gen, "major": major, "minor": minor},
            "location": "", "contact": "", "timezone": {"name": "Etc/UTC"},
            "management_interfaces": [{"name": "cluster_mgmt", "ip": {"address": "127.0.0.1"}}],
            "_links": link("/api/cluster")}


def svm_json(cluster, svm):
    return {"uuid": svm.uuid, "name": svm.name, "state": "running", "subtype": "default", "ipspace": {"name": "Default"},
            "aggregates": [{"name": a, "uuid": cluster.aggregates[a].uuid} for a in (svm.aggregates or sorted(cluster.aggregates))
                           if a in cluster.aggregates],
            "_links": link("/api/svm/svms/%s" % svm.uuid)}


def volume_json(cluster, vol, protected):
    aggr = cluster.aggregates.get(vol.aggregate)
    svm = cluster.svms.get(vol.svm)
    usable = int(vol.size * 0.95)
    return {"uuid": vol.uuid, "name": vol.name, "svm": {"name": vol.svm, "uuid": svm.uuid if svm else None},
            "type": vol.type, "state": vol.state, "style": "flexvol", "size": vol.size,
            "space": {"size": vol.size, "available": max(0, usable - vol.used), "used": vol.used,
                      "snapshot": {"reserve_percent": 5}},
            "nas": {"path": vol.junction_path} if vol.junction_path else {},
            "aggregates": [{"name": vol.aggregate, "uuid": aggr.uuid if aggr else None}],
            "create_time": iso_time(vol.create_time), "language": "c.utf_8", "guarantee": {"type": "none"},
            "snapshot_policy": {"name": "none" if vol.type == "dp" else "default"},
            "snapmirror": {"is_protected": protected}, "is_svm_root": False,
            "error_state": {"is_inconsistent": False, "has_bad_blocks": False},
            "_links": link("/api/storage/volumes/%s" % vol.uuid)}


def rest_state(rel, policy_type):
    if rel.mirror_state == "broken-off":
        return "broken_off"
    if rel.status == "quiesced" or (rel.status == "quiescing" and rel.transfer is not None):
        return "paused"   # asked to pause: REST says paused at once, the transfer still running shows the quiesce
    if rel.mirror_state == "uninitialized":
        return "uninitialized"
    return "in_sync" if policy_type == "sync" else "snapmirrored"


def transfer_json(rel, transfer, now):
    record = {"uuid": transfer.uuid, "state": transfer.state, "bytes_transferred": transfer.bytes_done(now),
              "relationship": {"uuid": rel.uuid, "destination": {"path": rel.destination_path}},
              "_links": link("/api/snapmirror/relationships/%s/transfers/%s" % (rel.uuid, transfer.uuid))}
    if transfer.state != "transferring":
        record["end_time"] = iso_time(transfer.end)
        record["total_duration"] = iso_duration(transfer.end - transfer.start)
    if transfer.error:
        record["error_info"] = {"message": transfer.error, "code": 13303812}
    return record


def relationship_json(model, cluster, rel, now):
    src_cluster = model.clusters.get(rel.source_cluster)
    src_svm = src_cluster.svms.get(rel.source_svm) if src_cluster else None
    dst_svm = cluster.svms.get(rel.destination_svm)
    policy = cluster.policies.get(rel.policy)
    policy_type = policy.type if policy else "async"
    record = {
        "uuid": rel.uuid,
        "source": {"path": rel.source_path, "svm": {"name": rel.source_svm, "uuid": src_svm.uuid if src_svm else None},
                   "cluster": {"name": rel.source_cluster, "uuid": src_cluster.uuid if src_cluster else None}},
        "destination": {"path": rel.destination_path, "svm": {"name": rel.destination_svm, "uuid": dst_svm.uuid if dst_svm else None},
                        "cluster": {"name": cluster.name, "uuid": cluster.uuid}},
        "policy": {"name": rel.policy, "type": policy_type, "uuid": policy.uuid if policy else None},
        "state": rest_state(rel, policy_type),
        "healthy": rel.healthy,
        "group_type": "none",
        "throttle": rel.throttle,
        "total_transfer_bytes": rel.total_transfer_bytes,
        "total_transfer_duration": iso_duration(rel.total_transfer_duration),
        "backoff_level": "high",
        "_links": link("/api/snapmirror/relationships/%s" % rel.uuid),
    }
    if not rel.healthy:
        record["unhealthy_reason"] = [{"message": rel.unhealthy_reason or "Transfer failed.", "code": "6637471", "arguments": []}]
    lag = model.lag(rel, now)
    if lag is not None:
        record["lag_time"] = iso_duration(lag)
    if rel.exported_snapshot:
        record["exported_snapshot"] = rel.exported_snapshot
    if rel.schedule:
        sched = cluster.schedules.get(rel.schedule)
        record["transfer_schedule"] = {"name": rel.schedule, "uuid": sched.uuid if sched else None}
    current = rel.transfer or rel.last_transfer
    if current is not None:
        record["transfer"] = {"uuid": current.uuid, "state": current.state, "bytes_transferred": current.bytes_done(now),
                              "_links": link("/api/snapmirror/relationships/%s/transfers/%s" % (rel.uuid, current.uuid))}
        if current.state != "transferring":
            record["transfer"]["end_time"] = iso_time(current.end)
            record["transfer"]["total_duration"] = iso_duration(current.end - current.start)
    if rel.last_transfer is not None:
        record["last_transfer_type"] = rel.last_transfer.type
        if rel.last_transfer.error:
            record["last_transfer_error"] = rel.last_transfer.error
    return record


def destination_json(model, cluster, rec):
    dst_cluster = model.clusters.get(rec.destination_cluster)
    src_svm = cluster.svms.get(rec.source_svm)
    return {"uuid": rec.relationship_uuid,
            "source": {"path": rec.source_path, "svm": {"name": rec.source_svm, "uuid": src_svm.uuid if src_svm else None},
                       "cluster": {"name": cluster.name, "uuid": cluster.uuid}},
            "destination": {"path": rec.destination_path, "svm": {"name": rec.destination_svm},
                            "cluster": {"name": rec.destination_cluster, "uuid": dst_cluster.uuid if dst_cluster else None}},
            "policy": {"type": "sync" if "sync" in rec.policy_type else "async"},
            "_links": link("/api/snapmirror/relationships/%s" % rec.relationship_uuid)}


def policy_json(cluster, pol):
    record = {"uuid": pol.uuid, "name": pol.name, "type": pol.type, "scope": "svm" if pol.svm else "cluster",
              "comment": "", "network_compression_enabled": False, "throttle": 0,
              "_links": link("/api/snapmirror/policies/%s" % pol.uuid)}
    if pol.svm:
        svm = cluster.svms.get(pol.svm)
        record["svm"] = {"name": pol.svm, "uuid": svm.uuid if svm else None}
    if pol.sync_type:
        record["sync_type"] = pol.sync_type
    if pol.type == "async":
        record["identity_preservation"] = "exclude_network_and_protocol_config"
        record["copy_all_source_snapshots"] = pol.name in ("MirrorAllSnapshots", "MirrorAllSnapshotsDiscardNetwork")
        record["retention"] = [{"label": "sm_created", "count": 1, "preserve": False, "warn": 0}]
    return record


def schedule_json(sched):
    cron = {}
    for key, values in (("minutes", sched.minutes), ("hours", sched.hours), ("days", sched.days), ("weekdays", sched.weekdays)):
        if values is not None:
            cron[key] = values
    return {"uuid": sched.uuid, "name": sched.name, "type": "cron", "cron": cron, "cluster": {"name": "", "uuid": ""},
            "_links": link("/api/cluster/schedules/%s" % sched.uuid)}


# ------------------------------------------------------------------ endpoints
def _scope_ok(ctx, svm_name):
    return not ctx.svm_scope or ctx.svm_scope == svm_name


def get_cluster(ctx):
    return 200, one(ctx, cluster_json(ctx.model.live(ctx.cluster)), ["name", "uuid"])


def get_jobs(ctx):
    cluster = ctx.model.live(ctx.cluster)
    now = ctx.model.clock()
    return 200, collection(ctx, [job_json(j, now) for j in cluster.jobs.values()], ["uuid"])


def get_job(ctx):
    try:
        job = ctx.model.job(ctx.cluster, ctx.args["uuid"])
    except SimError as err:
        raise sim_error(err) from None
    return 200, one(ctx, job_json(job, ctx.model.clock()), ["uuid"])


def get_nodes(ctx):
    cluster = ctx.model.live(ctx.cluster)
    record = {"uuid": cluster.uuid, "name": "%s-01" % cluster.name, "model": "FDvM300", "serial_number": cluster.serial,
              "state": "up", "is_all_flash_optimized": True, "is_all_flash_select_optimized": False,
              "version": cluster_json(cluster)["version"], "_links": link("/api/cluster/nodes/%s" % cluster.uuid)}
    return _collection_or_one(ctx, [record], ["uuid", "name"], "name")


def get_schedules(ctx):
    return 200, collection(ctx, [schedule_json(s) for s in ctx.model.live(ctx.cluster, "schedules")], ["uuid", "name"], "name")


def get_cluster_peers(ctx):
    records = []
    for peer in ctx.model.live(ctx.cluster, "cluster_peers"):
        online = peer.name in ctx.model.clusters and ctx.model.is_online(peer.name)
        records.append({"uuid": peer.uuid, "name": peer.name,
                        "remote": {"name": peer.name, "serial_number": "1-80-000011", "ip_addresses": ["127.0.0.1"]},
                        "status": {"state": "available" if online else "unavailable"},
                        "authentication": {"state": "ok", "in_use": "ok"}, "ipspace": {"name": "Default"},
                        "_links": link("/api/cluster/peers/%s" % peer.uuid)})
    return _collection_or_one(ctx, records, ["uuid", "name"], "name")


def get_svms(ctx):
    cluster = ctx.model.live(ctx.cluster)
    records = [svm_json(cluster, s) for s in cluster.svms.values() if _scope_ok(ctx, s.name)]
    return _collection_or_one(ctx, records, ["uuid", "name"], "name")


def get_svm_peers(ctx):
    cluster = ctx.model.live(ctx.cluster)
    records = []
    for peer in cluster.svm_peers:
        if not _scope_ok(ctx, peer.svm):
            continue
        remote = ctx.model.clusters.get(peer.peer_cluster)
        remote_svm = remote.svms.get(peer.peer_svm) if remote else None
        local_svm = cluster.svms.get(peer.svm)
        records.append({"uuid": peer.uuid, "name": peer.peer_svm, "state": peer.state, "applications": list(peer.applications),
                        "svm": {"name": peer.svm, "uuid": local_svm.uuid if local_svm else None},
                        "peer": {"svm": {"name": peer.peer_svm, "uuid": remote_svm.uuid if remote_svm else None},
                                 "cluster": {"name": peer.peer_cluster, "uuid": remote.uuid if remote else None}},
                        "_links": link("/api/svm/peers/%s" % peer.uuid)})
    return _collection_or_one(ctx, records, ["uuid", "name"], "name")


def get_aggregates(ctx):
    cluster = ctx.model.live(ctx.cluster)
    space = ctx.model.aggregate_space(ctx.cluster)
    records = []
    for aggr in cluster.aggregates.values():
        available, used = space[aggr.name]
        records.append({"uuid": aggr.uuid, "name": aggr.name, "state": "online", "node": {"name": "%s-01" % cluster.name},
                        "space": {"block_storage": {"size": aggr.size, "available": available, "used": used}},
                        "_links": link("/api/storage/aggregates/%s" % aggr.uuid)})
    return _collection_or_one(ctx, records, ["uuid", "name"], "name")


def _collection_or_one(ctx, records, keys, sort):
    uuid = ctx.args.get("uuid")
    if uuid is None:
        return 200, collection(ctx, records, keys, sort)
    for record in records:
        if record["uuid"] == uuid:
            return 200, one(ctx, record, keys)
    raise RestError(404, "4", "entry doesn't exist", target="uuid")


def _volume_records(ctx):
    cluster = ctx.model.live(ctx.cluster)
    protected = {(r.destination_svm, r.destination_volume) for r in cluster.relationships.values()}
    protected |= {(d.source_svm, d.source_volume) for d in cluster.destinations.values()}
    return [volume_json(cluster, v, (v.svm, v.name) in protected) for v in cluster.volumes.values() if _scope_ok(ctx, v.svm)]


def get_volumes(ctx):
    return _collection_or_one(ctx, _volume_records(ctx), ["uuid", "name"], "name")


def post_volume(ctx):
    body = ctx.body()
    name = body.get("name")
    svm = (body.get("svm") or {}).get("name") or ctx.svm_scope
    if not name:
        raise RestError(400, "2", "Missing required field \"name\".", target="name")
    if not svm:
        raise RestError(400, "2", "Missing required field \"svm.name\" (or the X-Dot-SVM-Name header).", target="svm.name")
    if not isinstance(name, str):
        raise RestError(400, "262197", "The value \"%s\" is invalid for field \"name\"." % name, target="name")
    try:
        if isinstance(body.get("size"), bool):
            raise ValueError("a boolean is not a size")
        size = parse_size(body.get("size", "20MiB"))
    except ValueError:
        raise RestError(400, "262197", "The value \"%s\" is invalid for field \"size\"." % body.get("size"), target="size") from None
    aggregates = body.get("aggregates") or []
    vol_type = str(body.get("type", "rw")).lower()
    junction = (body.get("nas") or {}).get("path")
    if body.get("style", "flexvol") != "flexvol":
        raise RestError(400, "2", "Only FlexVol volumes are simulated (style \"flexvol\").", target="style")
    if aggregates:
        aggregate = aggregates[0].get("name") if isinstance(aggregates[0], dict) else str(aggregates[0])
    else:
        aggregate = _roomiest(ctx, svm, size)

    def action():
        return ctx.model.create_volume(ctx.cluster, svm, name, size, aggregate, vol_type, junction)
    return run_job(ctx, action, created_href=lambda vol: "/api/storage/volumes/%s" % vol.uuid)


def _roomiest(ctx, svm_name, size):
    cluster = ctx.model.live(ctx.cluster)
    svm = cluster.svms.get(svm_name)
    if svm is None:
        raise RestError(404, "2621462", "SVM \"%s\" does not exist." % svm_name, target="svm.name")
    space = ctx.model.aggregate_space(ctx.cluster)
    names = svm.aggregates or sorted(cluster.aggregates)
    return max(names, key=lambda n: space[n][0])


def _patch_one_volume(ctx, vol, body):
    def action():
        nas = body.get("nas")
        if isinstance(nas, dict) and "path" in nas:
            if nas["path"]:
                ctx.model.mount_volume(ctx.cluster, vol.svm, vol.name, nas["path"])
            else:
                ctx.model.unmount_volume(ctx.cluster, vol.svm, vol.name)
        if body.get("state"):
            ctx.model.set_volume_state(ctx.cluster, vol.svm, vol.name, body["state"])
        if body.get("size"):
            ctx.model.resize_volume(ctx.cluster, vol.svm, vol.name, parse_size(body["size"]))
        return vol
    return action


def _not_found():
    return RestError(404, "4", "entry doesn't exist", target="uuid")


def _scoped_volume(ctx):
    """The volume of the uuid in the path; with X-Dot-SVM-Name, only one of that SVM (others do not exist for it)."""
    try:
        vol = ctx.model.volume_by_uuid(ctx.cluster, ctx.args["uuid"])
    except SimError as err:
        raise sim_error(err) from None
    if not _scope_ok(ctx, vol.svm):
        raise _not_found()
    return vol


def patch_volume(ctx):
    body = ctx.body()
    vol = _scoped_volume(ctx)
    return run_job(ctx, _patch_one_volume(ctx, vol, body))


def patch_volumes_by_query(ctx):
    body = ctx.body()
    listing = collection(ctx, _volume_records(ctx), ["uuid", "name", "svm"], "name")
    jobs, statuses = [], []
    for record in listing["records"]:
        vol = ctx.model.volume_by_uuid(ctx.cluster, record["uuid"])
        status, answer, _headers = run_job(ctx, _patch_one_volume(ctx, vol, body))
        statuses.append(status)
        jobs.append(answer["job"])
    if not jobs:
        return 200, {"num_records": 0}
    answer = {"num_records": len(jobs), "jobs": jobs, "job": jobs[0]}
    return (202 if 202 in statuses else 200), answer


def delete_volume(ctx):
    vol = _scoped_volume(ctx)

    def action():
        ctx.model.destroy_volume(ctx.cluster, vol.svm, vol.name, require_offline=False)
    return run_job(ctx, action)


def get_volume_snapshots(ctx):
    vol = _scoped_volume(ctx)
    records = [{"uuid": s.uuid, "name": s.name, "create_time": iso_time(s.create_time), "volume": {"name": vol.name, "uuid": vol.uuid},
                "svm": {"name": vol.svm}, "_links": link("/api/storage/volumes/%s/snapshots/%s" % (vol.uuid, s.uuid))}
               for s in vol.snapshots]
    fields = (ctx.param("fields") or "").split(",")
    if "delta" in fields:
        # ONTAP: name=<snapshot> gives the delta to the active file system, name=<snapshot1>,<snapshot2> between the two
        names = [n for n in (ctx.param("name") or "").split(",") if n]
        if len(names) not in (1, 2):
            raise RestError(400, "2", "The delta needs the name of one snapshot (to the active file system) or of two snapshots.",
                            target="name")
        size, seconds = ctx.model.snapshot_delta(ctx.cluster, vol.svm, vol.name, names[0], names[1] if len(names) > 1 else None)
        records = [dict(r, delta={"size_consumed": size, "time_elapsed": iso_duration(seconds)}) for r in records if r["name"] == names[0]]
        ctx.params = [(k, v) for k, v in ctx.params if k != "name"]
    return 200, collection(ctx, records, ["uuid", "name"], "name")


def get_policies(ctx):
    cluster = ctx.model.live(ctx.cluster)
    records = [policy_json(cluster, p) for p in cluster.policies.values() if not p.svm or _scope_ok(ctx, p.svm)]
    return _collection_or_one(ctx, records, ["uuid", "name"], "name")


def _relationship_records(ctx):
    cluster = ctx.model.live(ctx.cluster)
    rels = ctx.model.live(ctx.cluster, "relationships")
    now = ctx.model.clock()
    if ctx.flag("list_destinations_only"):
        return [destination_json(ctx.model, cluster, d) for d in cluster.destinations.values() if _scope_ok(ctx, d.source_svm)]
    return [relationship_json(ctx.model, cluster, r, now) for r in rels if _scope_ok(ctx, r.destination_svm)]


def get_relationships(ctx):
    return 200, collection(ctx, _relationship_records(ctx), ["uuid"], "uuid")


def _find_relationship(ctx):
    try:
        rel = ctx.model.relationship(ctx.cluster, uuid=ctx.args["uuid"])
    except SimError as err:
        raise sim_error(err) from None
    if not _scope_ok(ctx, rel.destination_svm):
        raise _not_found()
    return rel


def get_relationship(ctx):
    cluster = ctx.model.live(ctx.cluster)
    uuid = ctx.args["uuid"]
    if uuid in cluster.relationships:
        rel = _find_relationship(ctx)
        return 200, one(ctx, relationship_json(ctx.model, cluster, rel, ctx.model.clock()), ["uuid"])
    if uuid in cluster.destinations and _scope_ok(ctx, cluster.destinations[uuid].source_svm):
        return 200, one(ctx, destination_json(ctx.model, cluster, cluster.destinations[uuid]), ["uuid"])
    raise _not_found()


def _name_of(value):
    if isinstance(value, dict):
        return value.get("name")
    return value


def post_relationship(ctx):
    body = ctx.body()
    source = (body.get("source") or {}).get("path")
    destination = (body.get("destination") or {}).get("path")
    if not source:
        raise RestError(400, "2", "Missing required field \"source.path\".", target="source.path")
    if not destination:
        raise RestError(400, "2", "Missing required field \"destination.path\".", target="destination.path")
    if truthy(body.get("restore", False)):
        raise RestError(400, "2", "Restore relationships are not simulated.", target="restore")
    try:
        split_path(source)
        split_path(destination)
    except SimError as err:
        raise RestError(400, "2", err.message, target="path") from None
    policy = _name_of(body.get("policy")) or "Asynchronous"
    schedule = _name_of(body.get("transfer_schedule"))
    create_destination = truthy((body.get("create_destination") or {}).get("enabled", False))
    source_cluster = _name_of((body.get("source") or {}).get("cluster"))
    state = body.get("state")
    if state not in (None, "snapmirrored", "in_sync", "uninitialized"):
        raise RestError(400, "2", "Invalid value \"%s\" for field \"state\" when creating a relationship." % state, target="state")

    def action():
        rel = ctx.model.create_relationship(ctx.cluster, source, destination, policy=policy, schedule=schedule,
                                            rel_type="extended_data_protection", source_cluster=source_cluster,
                                            create_destination=create_destination)
        if state in ("snapmirrored", "in_sync"):
            ctx.model.initialize(ctx.cluster, destination)
        return rel
    return run_job(ctx, action, created_href=lambda rel: "/api/snapmirror/relationships/%s" % rel.uuid)


# what PATCH /api/snapmirror/relationships/{uuid} may change (ONTAP's REST reference)
RELATIONSHIP_WRITABLE = {"state", "policy", "transfer_schedule", "throttle", "quick_resync", "identity_preservation", "backoff_level",
                         "recover_after_break", "preserve", "restore_to_snapshot"}


def check_patch_fields(body, record, writable):
    """ONTAP refuses a PATCH body field it cannot set: 262196 for a read-only field, 262179 for an unknown one."""
    for key in body:
        if key in writable:
            continue
        if key in record or key in OPTIONAL_FIELDS:
            raise RestError(400, "262196", "Field \"%s\" cannot be set in this operation." % key, target=key)
        raise RestError(400, "262179", "Unexpected argument \"%s\"." % key, target=key)


def patch_relationship(ctx):
    body = ctx.body()
    rel = _find_relationship(ctx)
    cluster = ctx.model.live(ctx.cluster)
    check_patch_fields(body, relationship_json(ctx.model, cluster, rel, ctx.model.clock()), RELATIONSHIP_WRITABLE)
    path = rel.destination_path
    state = body.get("state")
    if state not in (None, "snapmirrored", "in_sync", "paused", "broken_off"):
        raise RestError(400, "2", "Invalid value \"%s\" for field \"state\"." % state, target="state")
    policy = _name_of(body.get("policy")) if "policy" in body else None
    has_schedule = "transfer_schedule" in body
    schedule = _name_of(body.get("transfer_schedule")) if has_schedule else None

    def action():
        if policy is not None or has_schedule or "throttle" in body:
            ctx.model.modify(ctx.cluster, path, policy=policy, schedule=schedule, clear_schedule=has_schedule and not schedule,
                             throttle=body.get("throttle"))
        if state is None:
            return None
        current = ctx.model.relationship(ctx.cluster, destination_path=path)
        if state == "paused":
            return ctx.model.quiesce(ctx.cluster, path)
        if state == "broken_off":
            return ctx.model.break_(ctx.cluster, path)
        if current.status in ("quiesced", "quiescing"):
            ctx.model.resume(ctx.cluster, path)
        if current.mirror_state == "uninitialized":
            return ctx.model.initialize(ctx.cluster, path)
        if current.mirror_state == "broken-off":
            return ctx.model.resync(ctx.cluster, path)
        return None
    return run_job(ctx, action)


def delete_relationship(ctx):
    flags = [f for f in ("destination_only", "source_only", "source_info_only") if ctx.flag(f)]
    if len(flags) > 1:
        raise RestError(400, "2", "Only one of destination_only, source_only and source_info_only can be set.", target=flags[1])
    uuid = ctx.args["uuid"]
    cluster = ctx.model.live(ctx.cluster)
    if uuid in cluster.relationships and flags in ([], ["destination_only"]):
        path = _find_relationship(ctx).destination_path
        release = not flags
        return run_job(ctx, lambda: ctx.model.destroy(ctx.cluster, path, release=release))
    if uuid in cluster.destinations and _scope_ok(ctx, cluster.destinations[uuid].source_svm):
        info_only = flags == ["source_info_only"]
        return run_job(ctx, lambda: ctx.model.release(ctx.cluster, uuid=uuid, relationship_info_only=info_only))
    raise RestError(404, "4", "entry doesn't exist", target="uuid")


def get_transfers(ctx):
    rel = _find_relationship(ctx)
    now = ctx.model.clock()
    records = [transfer_json(rel, t, now) for t in rel.transfers]
    uuid = ctx.args.get("transfer")
    if uuid is None:
        return 200, collection(ctx, records, ["uuid"], "uuid")
    for record in records:
        if record["uuid"] == uuid:
            return 200, one(ctx, record, ["uuid"])
    raise RestError(404, "4", "entry doesn't exist", target="uuid")


def post_transfer(ctx):
    body = ctx.body()
    if body.get("files"):
        raise RestError(400, "2", "File restores are not simulated.", target="files")
    # source_snapshot and throttle are accepted; the simulated transfer always takes the newest data
    rel = _find_relationship(ctx)
    try:
        transfer = ctx.model.transfer(ctx.cluster, rel.destination_path)
    except SimError as err:
        if err.kind in ("quiesced", "broken_off"):
            raise RestError(400, "13303844", err.message) from None
        raise sim_error(err) from None
    rel = ctx.model.relationship(ctx.cluster, uuid=rel.uuid)
    href = "/api/snapmirror/relationships/%s/transfers/%s" % (rel.uuid, transfer.uuid)
    answer = {}
    if truthy(ctx.param("return_records", "false")):
        answer = {"num_records": 1, "records": [transfer_json(rel, transfer, ctx.model.clock())]}
    return 201, answer, {"Location": href}


def patch_transfer(ctx):
    body = ctx.body()
    rel = _find_relationship(ctx)
    state = body.get("state")
    if state not in ("aborted", "hard_aborted"):
        raise RestError(400, "2", "Invalid value \"%s\" for field \"state\": aborted or hard_aborted." % state, target="state")
    if not any(t.uuid == ctx.args["transfer"] for t in rel.transfers):
        raise RestError(404, "4", "entry doesn't exist", target="uuid")
    try:
        ctx.model.abort(ctx.cluster, rel.destination_path, transfer_uuid=ctx.args["transfer"], hard=state == "hard_aborted")
    except SimError as err:
        if err.kind == "no_transfer":
            raise RestError(400, "13303810", err.message) from None
        raise sim_error(err) from None
    return 200, {}


UUID = r"(?P<uuid>[^/]+)"
ROUTES = [
    ("GET", r"/api/cluster", get_cluster, "/api/cluster"),
    ("GET", r"/api/cluster/jobs", get_jobs, "/api/cluster/jobs"),
    ("GET", r"/api/cluster/jobs/" + UUID, get_job, "/api/cluster/jobs/{uuid}"),
    ("GET", r"/api/cluster/nodes", get_nodes, "/api/cluster/nodes"),
    ("GET", r"/api/cluster/nodes/" + UUID, get_nodes, "/api/cluster/nodes/{uuid}"),
    ("GET", r"/api/cluster/schedules", get_schedules, "/api/cluster/schedules"),
    ("GET", r"/api/cluster/peers", get_cluster_peers, "/api/cluster/peers"),
    ("GET", r"/api/cluster/peers/" + UUID, get_cluster_peers, "/api/cluster/peers/{uuid}"),
    ("GET", r"/api/svm/svms", get_svms, "/api/svm/svms"),
    ("GET", r"/api/svm/svms/" + UUID, get_svms, "/api/svm/svms/{uuid}"),
    ("GET", r"/api/svm/peers", get_svm_peers, "/api/svm/peers"),
    ("GET", r"/api/svm/peers/" + UUID, get_svm_peers, "/api/svm/peers/{uuid}"),
    ("GET", r"/api/storage/aggregates", get_aggregates, "/api/storage/aggregates"),
    ("GET", r"/api/storage/aggregates/" + UUID, get_aggregates, "/api/storage/aggregates/{uuid}"),
    ("GET", r"/api/storage/volumes", get_volumes, "/api/storage/volumes"),
    ("POST", r"/api/storage/volumes", post_volume, "/api/storage/volumes"),
    ("PATCH", r"/api/storage/volumes", patch_volumes_by_query, "/api/storage/volumes"),
    ("GET", r"/api/storage/volumes/" + UUID, get_volumes, "/api/storage/volumes/{uuid}"),
    ("PATCH", r"/api/storage/volumes/" + UUID, patch_volume, "/api/storage/volumes/{uuid}"),
    ("DELETE", r"/api/storage/volumes/" + UUID, delete_volume, "/api/storage/volumes/{uuid}"),
    ("GET", r"/api/storage/volumes/" + UUID + "/snapshots", get_volume_snapshots, "/api/storage/volumes/{uuid}/snapshots"),
    ("GET", r"/api/snapmirror/policies", get_policies, "/api/snapmirror/policies"),
    ("GET", r"/api/snapmirror/policies/" + UUID, get_policies, "/api/snapmirror/policies/{uuid}"),
    ("GET", r"/api/snapmirror/relationships", get_relationships, "/api/snapmirror/relationships"),
    ("POST", r"/api/snapmirror/relationships", post_relationship, "/api/snapmirror/relationships"),
    ("GET", r"/api/snapmirror/relationships/" + UUID, get_relationship, "/api/snapmirror/relationships/{uuid}"),
    ("PATCH", r"/api/snapmirror/relationships/" + UUID, patch_relationship, "/api/snapmirror/relationships/{uuid}"),
    ("DELETE", r"/api/snapmirror/relationships/" + UUID, delete_relationship, "/api/snapmirror/relationships/{uuid}"),
    ("GET", r"/api/snapmirror/relationships/" + UUID + "/transfers", get_transfers, "/api/snapmirror/relationships/{uuid}/transfers"),
    ("POST", r"/api/snapmirror/relationships/" + UUID + "/transfers", post_transfer,
     "/api/snapmirror/relationships/{uuid}/transfers"),
    ("GET", r"/api/snapmirror/relationships/" + UUID + "/transfers/(?P<transfer>[^/]+)", get_transfers,
     "/api/snapmirror/relationships/{uuid}/transfers/{uuid}"),
    ("PATCH", r"/api/snapmirror/relationships/" + UUID + "/transfers/(?P<transfer>[^/]+)", patch_transfer,
     "/api/snapmirror/relationships/{uuid}/transfers/{uuid}"),
]
COMPILED = [(method, re.compile("^%s$" % pattern), func, template) for method, pattern, func, template in ROUTES]


def route(method, path):
    """(handler, args, template) for a request; handler None when no route matches (template still names the path)."""
    path_matched = False
    for route_method, regex, func, template in COMPILED:
        match = regex.match(path)
        if match:
            path_matched = True
            if route_method == method:
                return func, match.groupdict(), template
    return None, {"path_matched": path_matched}, path


def error_response(status, code, message, target=None, operation=None, headers=None):
    error = {"message": message, "code": str(code)}
    if target:
        error["target"] = target
    return Response(status, json_body({"error": error}), headers=headers or {}, operation=operation)


def handle(runtime, cluster, request):
    path = re.sub(r"/+", "/", request.path)
    if len(path) > 1:
        path = path.rstrip("/")
    request.path_clean = path
    method = request.method.upper()
    func, args, template = route("GET" if method == "HEAD" else method, path)
    operation = "%s %s" % (method, template)
    if request.user is None or not runtime.model.authenticate(cluster, request.user, request.password, request.certificate):
        return error_response(401, "6", "not authorized for that command", operation=operation,
                              headers={"WWW-Authenticate": 'Basic realm="ontap-sim %s"' % cluster})
    if func is None:
        if args.get("path_matched"):
            return error_response(405, "3", "The method \"%s\" is not supported on \"%s\"." % (method, path), operation=operation)
        return error_response(404, "3", "API not found", operation=operation)
    fault = runtime.take_fault(cluster, operation)
    if fault:
        code = fault["errno"]
        status = fault.get("status") or {"4": 404, "1": 409, "6619637": 409, "6": 403}.get(code, 400)
        return error_response(int(status), code, fault["message"], operation=operation)
    params = parse_qsl(request.query, keep_blank_values=True)
    ctx = Ctx(runtime, cluster, request, params, args, template)
    try:
        # one call is one atomic step of the model: render from live objects under its lock
        with runtime.model.lock:
            if ctx.svm_scope and ctx.svm_scope not in runtime.model.live(cluster).svms:
                raise RestError(404, "2621462", "SVM \"%s\" does not exist." % ctx.svm_scope, target="X-Dot-SVM-Name")
            if method in ("POST", "PATCH", "DELETE"):
                ctx.return_timeout()  # query parameters are checked before the body
            answer = func(ctx)
    except RestError as err:
        return error_response(err.status, err.code, err.message, err.target, operation=operation)
    except SimError as err:
        mapped = sim_error(err)
        return error_response(mapped.status, mapped.code, mapped.message, mapped.target, operation=operation)
    except (ValueError, TypeError, AttributeError, KeyError) as err:
        # a body field of the wrong shape ({"svm": "x"} where an object is expected, a list where a name is)
        return error_response(400, "2", "Invalid input: %s" % err, operation=operation)
    status, body = answer[0], answer[1]
    headers = answer[2] if len(answer) > 2 else {}
    return Response(status, json_body(body), headers=headers, operation=operation)


# the SAN endpoints register their routes and error codes (imported last: they use this module)
import datamotion_sim.ontap.san_rest  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import
