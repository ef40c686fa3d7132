# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SnapMirror API over ONTAP REST, with plain ``requests``.

We send exactly the requests we need: one GET per page of records with only the
fields we read, and one request per change (the cluster's own ``return_timeout``
waits for short jobs, so a finished job costs no extra poll).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

try:
    import requests
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - reported by the module with missing_required_lib
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = exc

from ansible_collections.storage.datamotion.plugins.module_utils.ontap.common import (
    Aggregate, OntapError, Relationship, Volume, basic_auth, parse_duration, url_host,
)

RELATIONSHIP_FIELDS = ("uuid,source.path,destination.path,state,healthy,unhealthy_reason,lag_time,"
                       "transfer.state,transfer.uuid,transfer.end_time,transfer.bytes_transferred,transfer.total_duration,"
                       "policy.name,policy.type,transfer_schedule.name")
VOLUME_FIELDS = "uuid,name,svm.name,type,state,size,nas.path,aggregates.name"
BUSY_TRANSFER_STATES = ("queued", "transferring", "preparing", "finalizing", "aborting")
JOB_DONE = ("success", "failure")


def relationship_from_record(rec):
    """A REST snapmirror/relationships record -> Relationship."""
    transfer = rec.get("transfer") or {}
    state = rec.get("state") or "uninitialized"
    transfer_state = transfer.get("state")
    if transfer_state in BUSY_TRANSFER_STATES:
        # paused with its transfer still running is a quiesce waiting for that transfer to end
        status = "aborting" if transfer_state == "aborting" else ("quiescing" if state == "paused" else "transferring")
    elif state == "paused":
        status = "quiesced"
    else:
        status = "idle"
    if state == "paused" and rec.get("lag_time") in (None, ""):
        state = "uninitialized"   # quiesced before its first transfer (no snapshot, no lag): as ZAPI says it
    reasons = [r.get("message") for r in rec.get("unhealthy_reason") or [] if r.get("message")]
    healthy = rec.get("healthy")
    if isinstance(healthy, str):
        healthy = healthy.lower() == "true"
    return Relationship(
        source_path=(rec.get("source") or {}).get("path"),
        destination_path=(rec.get("destination") or {}).get("path"),
        state=state,
        status=status,
        healthy=True if healthy is None else bool(healthy),
        unhealthy_reason="; ".join(reasons) or None,
        lag_time=parse_duration(rec.get("lag_time")),
        last_transfer_end=transfer.get("end_time"),
        last_transfer_error="; ".join(reasons) if transfer_state == "failed" and reasons else None,
        last_transfer_size=int(transfer["bytes_transferred"]) if transfer.get("bytes_transferred") is not None else None,
        last_transfer_duration=parse_duration(transfer.get("total_duration")),
        policy=(rec.get("policy") or {}).get("name"),
        policy_type=(rec.get("policy") or {}).get("type"),
        schedule=(rec.get("transfer_schedule") or {}).get("name"),
        relationship_type="extended_data_protection",
        uuid=rec.get("uuid"),
        transfer_uuid=transfer.get("uuid") if transfer_state in BUSY_TRANSFER_STATES else None,
    )


MAX_ALTERNATIVES = 50   # beyond this many exact paths, filter by SVM and pick on our side (URLs stay short)


def alternatives(values):
    return "|".join(sorted(set(values)))


def path_query(paths):
    """A query value matching every 'svm:volume' of ``paths``: the paths themselves, or their SVMs when many."""
    if len(paths) <= MAX_ALTERNATIVES:
        return alternatives(paths)
    return alternatives(p.split(":")[0] + ":*" for p in paths)


def _reason(exc):
    """The innermost reason of a requests error, without the URL (and its query) it names."""
    while exc.args and isinstance(exc.args[0], Exception) and exc.args[0] is not exc:
        exc = exc.args[0]
    reason = getattr(exc, "reason", None) or exc
    return str(reason).rsplit(" (Caused by ", maxsplit=1)[-1].rstrip(")")


class RestClient:
    """One cluster over REST. ``host`` names it in messages."""

    transport = "rest"
    default_policy = "Asynchronous"   # what POST /snapmirror/relationships gives a relationship without a policy

    def __init__(self, hostname, username, password, https=True, validate_certs=True, port=None, timeout=60,
                 page_size=1000, return_timeout=30, session=None, ca_bundle=None, cert_filepath=None, key_filepath=None,
                 role="destination"):
        scheme = "https" if https else "http"
        self.host = hostname
        self.label = "ONTAP %s cluster %s" % (role, hostname) if role else "ONTAP cluster %s" % hostname
        self.username = username
        self.origin = "%s://%s%s" % (scheme, url_host(hostname), ":%d" % port if port else "")
        self.timeout = timeout
        self.page_size = page_size
        self.return_timeout = max(0, min(120, return_timeout))
        self.session = session or requests.Session()
        # given with every request: a session's verify loses to REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE
        self.verify = (ca_bundle or True) if validate_certs else False
        self.cert = (cert_filepath, key_filepath) if cert_filepath else None
        self.session.headers.update({"Accept": "application/json", "X-Dot-Client-App": "storage.datamotion"})
        if not cert_filepath:
            self.session.headers["Authorization"] = basic_auth(username, password)

    # ------------------------------------------------------------------ wire
    def _send(self, method, path, params=None, body=None, what=None):
        url = path if path.startswith("http") else self.origin + path
        what = what or "%s %s" % (method, path)
        try:
            response = self.session.request(method, url, params=params, json=body, timeout=self.timeout, verify=self.verify,
                                            cert=self.cert)
        except requests.exceptions.SSLError as exc:
            reason = _reason(exc)
            if "CERTIFICATE_VERIFY_FAILED" in reason:
                hint = ("install its CA (ca_bundle) or set validate_certs: false" if self.verify is not False else
                        "check ca_bundle")
                raise OntapError("cannot verify the certificate of %s (%s); %s" % (self.label, reason, hint), unreachable=True)
            raise OntapError("no TLS session with %s at %s (%s); check https and port (this port may serve plain HTTP)%s"
                             % (self.label, self.origin, reason, ", and cert_filepath" if self.cert else ""), unreachable=True)
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            raise OntapError("%s is unreachable at %s (%s); check hostname, port, https and that the cluster is up"
                             % (self.label, self.origin, type(exc).__name__), unreachable=True)
        except (requests.exceptions.RequestException, IOError, ValueError) as exc:
            raise OntapError("%s at %s: %s failed (%s); check hostname, port, https and the certificate files"
                             % (self.label, self.origin, what, type(exc).__name__), unreachable=True)
        if response.status_code == 401:
            raise OntapError("%s refused the credentials of user %r; check username and password"
                             % (self.label, self.username), code="401")
        try:
            data = response.json() if response.content else {}
        except ValueError:
            data = {}
        if response.status_code >= 400:
            error = data.get("error") or {}
            raise OntapError("%s on %s failed: %s (code %s)"
                             % (what, self.label, error.get("message") or response.reason, error.get("code") or response.status_code),
                             code=error.get("code") or response.status_code)
        return response.status_code, data

    def _change(self, method, path, body=None, params=None, what=None):
        """POST/PATCH/DELETE; wait for the job it starts and fail with the job's message."""
        params = dict(params or {}, return_timeout=self.return_timeout)
        status, data = self._send(method, path, params=params, body=body, what=what)
        job = data.get("job")
        if job and status == 202:
            self._wait_job(job["uuid"], what or "%s %s" % (method, path))
        elif job and job.get("state") == "failure":
            raise OntapError("%s on %s failed: %s" % (what, self.label, job.get("message")), code=job.get("code"))
        return data

    def _wait_job(self, uuid, what):
        deadline = time.monotonic() + self.timeout
        pause = 0.1
        while True:
            status, job = self._send("GET", "/api/cluster/jobs/%s" % uuid, params={"fields": "state,message,code,error"}, what=what)
            if job.get("state") == "success":
                return job
            if job.get("state") == "failure":
                error = job.get("error") or {}
                raise OntapError("%s on %s failed: %s (code %s)"
                                 % (what, self.label, job.get("message") or error.get("message"), error.get("code") or job.get("code")),
                                 code=error.get("code") or job.get("code"))
            if time.monotonic() > deadline:
                raise OntapError("%s on %s: job %s still %s after %ss" % (what, self.label, uuid, job.get("state"), self.timeout))
            time.sleep(pause)
            pause = min(pause * 2, 2.0)

    def _records(self, path, params):
        params = dict(params, max_records=self.page_size)
        records = []
        url = path
        while url:
            status, data = self._send("GET", url, params=params, what="reading %s" % path)
            records.extend(data.get("records") or [])
            url = ((data.get("_links") or {}).get("next") or {}).get("href")
            params = None   # the next link carries the whole query
        return records

    # ------------------------------------------------------------------ cluster
    def probe(self):
        """GET /api/cluster: True when the cluster serves REST (use_rest: auto)."""
        try:
            self._send("GET", "/api/cluster", params={"fields": "name,version"})
        except OntapError as exc:
            if exc.unreachable or exc.code == "401":
                raise
            return False
        return True

    def svms(self, names):
        recs = self._records("/api/svm/svms", {"name": alternatives(names), "fields": "name"})
        return set(r["name"] for r in recs)

    def svm_peers(self, svm):
        """Peer SVM names of ``svm`` that allow SnapMirror."""
        recs = self._records("/api/svm/peers", {"svm.name": svm, "fields": "peer.svm.name,applications,state"})
        return set((r.get("peer") or {}).get("svm", {}).get("name") for r in recs
                   if "snapmirror" in (r.get("applications") or ["snapmirror"]))

    def policies(self, names):
        recs = self._records("/api/snapmirror/policies", {"name": alternatives(names), "fields": "name,type"})
        return dict((r["name"], r.get("type")) for r in recs)

    def schedules(self, names):
        recs = self._records("/api/cluster/schedules", {"name": alternatives(names), "fields": "name"})
        return set(r["name"] for r in recs)

    def aggregates(self, names):
        recs = self._records("/api/storage/aggregates", {"name": alternatives(names), "fields": "name,space.block_storage.available"})
        return dict((r["name"], Aggregate(r["name"], int(((r.get("space") or {}).get("block_storage") or {}).get("available") or 0)))
                    for r in recs)

    # ------------------------------------------------------------------ volumes
    def volumes(self, paths):
        """Volumes by 'svm:volume' path, in one paged read."""
        if not paths:
            return {}
        query = {"svm.name": alternatives(p.split(":")[0] for p in paths), "fields": VOLUME_FIELDS}
        if len(paths) <= MAX_ALTERNATIVES:
            query["name"] = alternatives(p.split(":")[1] for p in paths)
        recs = self._records("/api/storage/volumes", query)
        found = {}
        for r in recs:
            vol = Volume(svm=(r.get("svm") or {}).get("name"), name=r.get("name"), type=r.get("type") or "rw",
                         size=int(r.get("size") or 0), state=r.get("state") or "online",
                         junction_path=(r.get("nas") or {}).get("path") or None,
                         aggregates=[a.get("name") for a in r.get("aggregates") or []], uuid=r.get("uuid"))
            if vol.path in paths:
                found[vol.path] = vol
        return found

    def svm_volumes(self, svm):
        """Every volume of one SVM, in one paged read (the replication role matches its patterns on them)."""
        recs = self._records("/api/storage/volumes", {"svm.name": svm, "fields": VOLUME_FIELDS})
        return [Volume(svm=(r.get("svm") or {}).get("name"), name=r.get("name"), type=r.get("type") or "rw",
                       size=int(r.get("size") or 0), state=r.get("state") or "online",
                       junction_path=(r.get("nas") or {}).get("path") or None,
                       aggregates=[a.get("name") for a in r.get("aggregates") or []], uuid=r.get("uuid")) for r in recs]

    def snapshots(self, volume):
        """The snapshot names of a volume (a Volume read from this cluster), oldest first."""
        recs = self._records("/api/storage/volumes/%s/snapshots" % volume.uuid, {"fields": "name,create_time"})
        return [r["name"] for r in sorted(recs, key=lambda r: (r.get("create_time") or "", r.get("name")))]

    def snapshot_delta(self, volume, snapshot):
        """Bytes written on a volume since one of its snapshots (ONTAP's snapshot delta to the active file system)."""
        status, data = self._send("GET", "/api/storage/volumes/%s/snapshots" % volume.uuid,
                                  params={"name": snapshot, "fields": "delta"},
                                  what="reading the delta of snapshot %s of volume %s" % (snapshot, volume.path))
        records = data.get("records") or []
        if not records or "delta" not in records[0]:
            raise OntapError("reading the delta of snapshot %s of volume %s on %s: no such snapshot"
                             % (snapshot, volume.path, self.label), code="4")
        return int(records[0]["delta"].get("size_consumed") or 0)

    def create_volume(self, svm, name, size, aggregate):
        body = {"name": name, "svm": {"name": svm}, "aggregates": [{"name": aggregate}], "size": int(size), "type": "dp"}
        self._change("POST", "/api/storage/volumes", body=body, what="creating DP volume %s:%s" % (svm, name))

    def creates_relationship_type(self, relationship_type):
        return relationship_type == "extended_data_protection"   # REST makes XDP relationships only

    def mount_volume(self, volume, junction_path):
        """Mount ``volume`` (a Volume or its 'svm:volume' path) at ``junction_path``; REST names it by UUID."""
        volume = self._volume_to_mount(volume)
        self._change("PATCH", "/api/storage/volumes/%s" % volume.uuid, body={"nas": {"path": junction_path}},
                     what="mounting volume %s at %s" % (volume.path, junction_path))

    def unmount_volume(self, volume):
        """Unmount ``volume`` (a Volume or its 'svm:volume' path): an empty nas.path."""
        volume = self._volume_to_mount(volume)
        self._change("PATCH", "/api/storage/volumes/%s" % volume.uuid, body={"nas": {"path": ""}},
                     what="unmounting volume %s from %s" % (volume.path, volume.junction_path))

    def _volume_to_mount(self, volume):
        path = volume if isinstance(volume, str) else volume.path
        if isinstance(volume, str) or not volume.uuid:
            volume = self.volumes({path}).get(path)
            if volume is None:
                raise OntapError("destination volume %s is missing on %s; it cannot be mounted" % (path, self.label))
        return volume

    # ------------------------------------------------------------------ relationships
    def relationships(self, destinations=None, source_pattern=None, destination_pattern=None):
        """Relationships on this (destination) cluster, in one paged read.

        ``destinations`` is a set of exact destination paths; the patterns may hold ``*``.
        """
        params = {"fields": RELATIONSHIP_FIELDS}
        if destinations is not None:
            if not destinations:
                return []
            params["destination.path"] = path_query(destinations)
        elif destination_pattern:
            params["destination.path"] = destination_pattern
        if source_pattern:
            params["source.path"] = source_pattern
        rels = [relationship_from_record(r) for r in self._records("/api/snapmirror/relationships", params)]
        if destinations is not None:
            rels = [r for r in rels if r.destination_path in destinations]
        return rels

    def _patch(self, rel, body, what):
        return self._change("PATCH", "/api/snapmirror/relationships/%s" % rel.uuid, body=body,
                            what="%s of SnapMirror relationship %s" % (what, rel.destination_path))

    def create(self, source_path, destination_path, policy=None, schedule=None, relationship_type=None):
        body = {"source": {"path": source_path}, "destination": {"path": destination_path}}
        if policy:
            body["policy"] = {"name": policy}
        if schedule:
            body["transfer_schedule"] = {"name": schedule}
        self._change("POST", "/api/snapmirror/relationships", body=body,
                     what="creating SnapMirror relationship %s -> %s" % (source_path, destination_path))

    def _mirrored(self, rel):
        return "in_sync" if rel.policy_type == "sync" else "snapmirrored"

    def initialize(self, rel):
        self._patch(rel, {"state": self._mirrored(rel)}, "initialize")

    def resume(self, rel):
        self._patch(rel, {"state": self._mirrored(rel)}, "resume")

    def resync(self, rel):
        self._patch(rel, {"state": self._mirrored(rel)}, "resync")

    def quiesce(self, rel):
        self._patch(rel, {"state": "paused"}, "quiesce")

    def break_relationship(self, rel):
        self._patch(rel, {"state": "broken_off"}, "break")

    def modify(self, rel, policy=None, schedule=None):
        body = {}
        if policy is not None:
            body["policy"] = {"name": policy}
        if schedule is not None:
            body["transfer_schedule"] = {"name": schedule} if schedule else None
        self._patch(rel, body, "modify")

    def update(self, rel):
        self._change("POST", "/api/snapmirror/relationships/%s/transfers" % rel.uuid, body={},
                     what="update of SnapMirror relationship %s" % rel.destination_path)

    def transfer_error(self, rel):
        """The reason the last transfer failed (the transfer record's error_info), or None."""
        recs = self._records("/api/snapmirror/relationships/%s/transfers" % rel.uuid,
                             {"state": "failed", "fields": "state,end_time,error_info"})
        recs.sort(key=lambda r: r.get("end_time") or "")
        return ((recs[-1].get("error_info") or {}).get("message") if recs else None) or rel.unhealthy_reason

    def abort(self, rel):
        transfer = rel.transfer_uuid
        if not transfer:
            recs = self._records("/api/snapmirror/relationships/%s/transfers" % rel.uuid, {"state": alternatives(BUSY_TRANSFER_STATES), "fields": "uuid"})
            if not recs:
                return False
            transfer = recs[0]["uuid"]
        self._change("PATCH", "/api/snapmirror/relationships/%s/transfers/%s" % (rel.uuid, transfer), body={"state": "aborted"},
                     what="abort of the transfer of SnapMirror relationship %s" % rel.destination_path)
        return True

    def delete(self, rel):
        self._change("DELETE", "/api/snapmirror/relationships/%s" % rel.uuid, params={"destination_only": "true"},
                     what="delete of SnapMirror relationship %s" % rel.destination_path)

    def destinations(self, destination_paths):
        """On a source cluster: which of these destinations it still keeps a record of."""
        query = {"list_destinations_only": "true", "destination.path": path_query(destination_paths), "fields": "destination.path"}
        recs = self._records("/api/snapmirror/relationships", query)
        return set((r.get("destination") or {}).get("path") for r in recs) & set(destination_paths)

    def release(self, source_path, destination_path):
        """On the source cluster: drop its record of the destination. False when there is none."""
        query = {"list_destinations_only": "true", "destination.path": destination_path, "fields": "uuid"}
        if source_path:
            query["source.path"] = source_path
        recs = self._records("/api/snapmirror/relationships", query)
        if not recs:
            return False
        self._change("DELETE", "/api/snapmirror/relationships/%s" % recs[0]["uuid"], params={"source_only": "true"},
                     what="release of SnapMirror relationship %s on its source" % destination_path)
        return True
