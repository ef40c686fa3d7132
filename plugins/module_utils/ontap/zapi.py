# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SnapMirror API over ZAPI, through netapp-lib's NaServer.

SnapMirror calls are cluster-scoped and name the relationship by its
``destination-location``; volume calls are tunnelled to the volume's SVM (``vfiler``).
Credentials are sent with the first request instead of after a 401 challenge, which
halves the round trips (netapp.ontap does the same).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import fnmatch
import ssl

try:
    from urllib import request as urllib_request
except ImportError:  # pragma: no cover
    urllib_request = None

try:
    from netapp_lib.api.zapi import zapi as netapp_zapi
    HAS_NETAPP_LIB = True
    NETAPP_LIB_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - reported by the module with missing_required_lib
    netapp_zapi = None
    HAS_NETAPP_LIB = False
    NETAPP_LIB_IMPORT_ERROR = exc

from ansible_collections.storage.datamotion.plugins.module_utils.ontap.common import (
    Aggregate, OntapError, Relationship, Volume, basic_auth, epoch_to_iso, url_host,
)

RELATIONSHIP_ATTRIBUTES = ("source-location", "destination-location", "mirror-state", "relationship-status", "is-healthy",
                           "unhealthy-reason", "lag-time", "last-transfer-end-timestamp", "last-transfer-error", "policy",
                           "policy-type", "schedule", "relationship-type", "relationship-id", "last-transfer-size",
                           "last-transfer-duration")


def relationship_from_info(info):
    """A <snapmirror-info> element (as a dict of its text children) -> Relationship."""
    mirror_state = (info.get("mirror-state") or "uninitialized").replace("-", "_")
    status = info.get("relationship-status") or "idle"
    # quiesced reads paused, as REST says it; but not before the first transfer, which must still be initialized
    state = "paused" if status == "quiesced" and mirror_state == "snapmirrored" else mirror_state
    policy_type = info.get("policy-type")
    if policy_type:
        policy_type = "sync" if "sync" in policy_type and "async" not in policy_type else "async"
    if policy_type == "sync" and state == "snapmirrored":
        state = "in_sync"   # as REST says it: ZAPI keeps snapmirrored in mirror-state and puts InSync in the status
    if status == "in_sync":
        status = "idle"
    lag = info.get("lag-time")
    return Relationship(
        source_path=info.get("source-location"),
        destination_path=info.get("destination-location"),
        state=state,
        status=status,
        healthy=(info.get("is-healthy") or "true").lower() == "true",
        unhealthy_reason=info.get("unhealthy-reason") or None,
        lag_time=int(lag) if lag not in (None, "") else None,
        last_transfer_end=epoch_to_iso(info.get("last-transfer-end-timestamp")),
        last_transfer_error=info.get("last-transfer-error") or None,
        last_transfer_size=int(info["last-transfer-size"]) if info.get("last-transfer-size") not in (None, "") else None,
        last_transfer_duration=int(info["last-transfer-duration"]) if info.get("last-transfer-duration") not in (None, "") else None,
        policy=info.get("policy"),
        policy_type=policy_type,
        schedule=info.get("schedule") or None,
        relationship_type=info.get("relationship-type"),
        uuid=info.get("relationship-id"),
    )


class _AnyPathOf(set):
    """Stands for every volume path of one SVM in ``volumes``, which reads a whole SVM when given one."""

    def __init__(self, svm):
        super(_AnyPathOf, self).__init__([svm + ":*"])
        self.svm = svm

    def __contains__(self, path):
        return path.startswith(self.svm + ":")


def _flat(element):
    """Text children of an NaElement as a dict (nested elements are skipped)."""
    return dict((c.get_name().split("}")[-1], c.get_content()) for c in element.get_children() if not c.get_children())


def _pattern_svm(pattern):
    """'svm_dst:*' -> 'svm_dst' (an exact SVM the cluster can filter on), else None."""
    if pattern and ":" in pattern and not any(ch in pattern.split(":")[0] for ch in "*?|"):
        return pattern.split(":")[0]
    return None


class ZapiClient:
    """One cluster over ZAPI. ``host`` names it in messages."""

    transport = "zapi"
    default_policy = "MirrorAllSnapshots"   # what snapmirror-create gives an XDP relationship without a policy

    def __init__(self, hostname, username, password, https=True, validate_certs=True, port=None, timeout=60, page_size=500,
                 ca_bundle=None, cert_filepath=None, key_filepath=None, role="destination"):
        self.host = hostname
        self.label = "ONTAP %s cluster %s" % (role, hostname) if role else "ONTAP cluster %s" % hostname
        self.username = username
        self.page_size = page_size
        scheme = "https" if https else "http"
        self.server = netapp_zapi.NaServer(url_host(hostname), transport_type=scheme, username=username, password=password,
                                           port=port or (443 if https else 80))
        self.server.set_api_version(1, 110)
        self.server.set_timeout(timeout)
        self.url = "%s://%s:%s" % (scheme, url_host(hostname), port or (443 if https else 80))
        handlers = []
        if https:
            try:
                context = ssl.create_default_context(cafile=ca_bundle if validate_certs else None)
                if cert_filepath:
                    context.load_cert_chain(cert_filepath, key_filepath)
            except (IOError, ssl.SSLError) as exc:
                raise OntapError("%s: cannot read the CA bundle or client certificate (%s); check ca_bundle, cert_filepath "
                                 "and key_filepath" % (self.label, exc))
            if not validate_certs:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            handlers.append(urllib_request.HTTPSHandler(context=context))
        opener = urllib_request.build_opener(*handlers)
        if not cert_filepath:
            opener.addheaders = [("Authorization", basic_auth(username, password))]
        # NaServer builds its own opener (challenge-response auth, default TLS) unless one is set
        self.server._opener = opener
        self.server._refresh_conn = False

    # ------------------------------------------------------------------ wire
    def invoke(self, api, args=None, vserver=None, what=None):
        element = netapp_zapi.NaElement(api)
        if args:
            element.translate_struct(args)
        self.server.set_vserver(vserver)
        self.server._refresh_conn = False
        try:
            return self.server.invoke_successfully(element, enable_tunneling=bool(vserver))
        except netapp_zapi.NaApiError as exc:
            raise self._error(exc, what or api)
        except Exception as exc:  # netapp-lib lets XML and socket errors through
            raise OntapError("%s on %s failed: %s (%s)" % (what or api, self.label, type(exc).__name__, exc))

    def _error(self, exc, what):
        code, message = str(exc.code), str(exc.message)
        if code == "401":
            return OntapError("%s refused the credentials of user %r; check username and password"
                              % (self.label, self.username), code="401")
        if "CERTIFICATE_VERIFY_FAILED" in message:
            return OntapError("cannot verify the certificate of %s; install its CA (ca_bundle) or set validate_certs: false"
                              % self.label, unreachable=True)
        if code in ("Unable to connect", "URL error"):
            reason = "timed out" if "timed out" in message else ("refused" if "refused" in message.lower() else code)
            return OntapError("%s is unreachable at %s (%s); check hostname, port, https and that the cluster is up"
                              % (self.label, self.url, reason), unreachable=True)
        if code == "Unexpected error":
            if "SSL" in message or "TLS" in message:
                return OntapError("no TLS session with %s at %s; check https and port (this port may serve plain HTTP), and "
                                  "cert_filepath if given" % (self.label, self.url), unreachable=True)
            return OntapError("%s did not answer ZAPI at %s; check https and port (this port may serve HTTPS) and that it is an "
                              "ONTAP cluster" % (self.label, self.url), unreachable=True)
        return OntapError("%s on %s failed: %s (errno %s)" % (what, self.label, message, code), code=code)

    def iterate(self, api, query=None, attributes=None, vserver=None):
        """Every record of a -get-iter call, page by page; yields NaElements."""
        tag = None
        while True:
            args = {"max-records": str(self.page_size)}
            if query:
                args["query"] = query
            if attributes:
                args["desired-attributes"] = attributes
            if tag:
                args["tag"] = tag
            result = self.invoke(api, args, vserver=vserver)
            records = result.get_child_by_name("attributes-list")
            if records is not None:
                yield from records.get_children()
            tag = result.get_child_content("next-tag")
            if not tag:
                return

    # ------------------------------------------------------------------ cluster
    def probe(self):
        self.invoke("system-get-version")
        return True

    def svms(self, names):
        found = set()
        for rec in self.iterate("vserver-get-iter", attributes={"vserver-info": {"vserver-name": None}}):
            if rec.get_child_content("vserver-name") in names:
                found.add(rec.get_child_content("vserver-name"))
        return found

    def svm_peers(self, svm):
        peers = set()
        for rec in self.iterate("vserver-peer-get-iter", query={"vserver-peer-info": {"vserver": svm}}):
            apps = rec.get_child_by_name("applications")
            names = [a.get_content() for a in apps.get_children()] if apps is not None else ["snapmirror"]
            if "snapmirror" in names:
                peers.add(rec.get_child_content("peer-vserver") or rec.get_child_content("remote-vserver-name"))
        return peers

    def policies(self, names):
        found = {}
        for rec in self.iterate("snapmirror-policy-get-iter"):
            name = rec.get_child_content("policy-name")
            if name in names:
                found[name] = rec.get_child_content("policy-type") or rec.get_child_content("type")
        return found

    def schedules(self, names):
        found = set()
        for rec in self.iterate("job-schedule-get-iter", attributes={"job-schedule-info": {"job-schedule-name": None}}):
            if rec.get_child_content("job-schedule-name") in names:
                found.add(rec.get_child_content("job-schedule-name"))
        return found

    def aggregates(self, names):
        found = {}
        for rec in self.iterate("aggr-get-iter"):
            name = rec.get_child_content("aggregate-name")
            if name in names:
                space = rec.get_child_by_name("aggr-space-attributes")
                available = space.get_child_content("size-available") if space is not None else None
                found[name] = Aggregate(name, int(available or 0))
        return found

    # ------------------------------------------------------------------ volumes
    def volumes(self, paths):
        if not paths:
            return {}
        svms = set(p.split(":")[0] for p in paths)
        query = {"volume-attributes": {"volume-id-attributes": {"owning-vserver-name": svms.pop()}}} if len(svms) == 1 else None
        attributes = {"volume-attributes": {
            "volume-id-attributes": {"name": None, "owning-vserver-name": None, "type": None, "junction-path": None,
                                     "containing-aggregate-name": None, "instance-uuid": None},
            "volume-space-attributes": {"size": None},
            "volume-state-attributes": {"state": None}}}
        found = {}
        for rec in self.iterate("volume-get-iter", query=query, attributes=attributes):
            ids = _flat(rec.get_child_by_name("volume-id-attributes") or netapp_zapi.NaElement("x"))
            space = _flat(rec.get_child_by_name("volume-space-attributes") or netapp_zapi.NaElement("x"))
            state = _flat(rec.get_child_by_name("volume-state-attributes") or netapp_zapi.NaElement("x"))
            vol = Volume(svm=ids.get("owning-vserver-name"), name=ids.get("name"), type=ids.get("type") or "rw",
                         size=int(space.get("size") or 0), state=state.get("state") or "online",
                         junction_path=ids.get("junction-path") or None,
                         aggregates=[ids["containing-aggregate-name"]] if ids.get("containing-aggregate-name") else [],
                         uuid=ids.get("instance-uuid"))
            if vol.path in paths:
                found[vol.path] = vol
        return found

    def svm_volumes(self, svm):
        """Every volume of one SVM, in one paged read (the replication role matches its patterns on them)."""
        return list(self.volumes(_AnyPathOf(svm)).values())

    def snapshots(self, volume):
        """The snapshot names of a volume (a Volume read from this cluster), oldest first."""
        query = {"snapshot-info": {"volume": volume.name, "vserver": volume.svm}}
        recs = [_flat(r) for r in self.iterate("snapshot-get-iter", query=query,
                                               attributes={"snapshot-info": {"name": None, "access-time": None}})]
        return [r["name"] for r in sorted(recs, key=lambda r: (int(r.get("access-time") or 0), r.get("name")))]

    def snapshot_delta(self, volume, snapshot):
        """Bytes written on a volume since one of its snapshots (snapshot-delta-info to the active file system)."""
        result = self.invoke("snapshot-delta-info", {"volume": volume.name, "snapshot1": snapshot}, vserver=volume.svm,
                             what="reading the delta of snapshot %s of volume %s" % (snapshot, volume.path))
        return int(result.get_child_content("consumed-size") or 0)

    def create_volume(self, svm, name, size, aggregate):
        self.invoke("volume-create", {"volume": name, "containing-aggr-name": aggregate, "size": str(int(size)), "volume-type": "dp"},
                    vserver=svm, what="creating DP volume %s:%s" % (svm, name))

    def creates_relationship_type(self, relationship_type):
        return True   # ZAPI creates extended_data_protection, data_protection and vault relationships

    def mount_volume(self, volume, junction_path):
        """Mount ``volume`` (a Volume or its 'svm:volume' path) at ``junction_path``."""
        if isinstance(volume, str):
            volume = Volume(svm=volume.split(":")[0], name=volume.split(":")[1])
        self.invoke("volume-mount", {"volume-name": volume.name, "junction-path": junction_path}, vserver=volume.svm,
                    what="mounting volume %s at %s" % (volume.path, junction_path))

    def unmount_volume(self, volume):
        """Unmount ``volume`` (a Volume or its 'svm:volume' path)."""
        if isinstance(volume, str):
            volume = Volume(svm=volume.split(":")[0], name=volume.split(":")[1])
        self.invoke("volume-unmount", {"volume-name": volume.name}, vserver=volume.svm,
                    what="unmounting volume %s from %s" % (volume.path, volume.junction_path))

    # ------------------------------------------------------------------ relationships
    def relationships(self, destinations=None, source_pattern=None, destination_pattern=None):
        query = {}
        if destinations is not None:
            if not destinations:
                return []
            svms = set(d.split(":")[0] for d in destinations)
            if len(svms) == 1:
                query["destination-vserver"] = svms.pop()
        elif _pattern_svm(destination_pattern):
            query["destination-vserver"] = _pattern_svm(destination_pattern)
        if _pattern_svm(source_pattern):
            query["source-vserver"] = _pattern_svm(source_pattern)
        attributes = {"snapmirror-info": dict((a, None) for a in RELATIONSHIP_ATTRIBUTES)}
        rels = []
        for rec in self.iterate("snapmirror-get-iter", query={"snapmirror-info": query} if query else None, attributes=attributes):
            rel = relationship_from_info(_flat(rec))
            if destinations is not None and rel.destination_path not in destinations:
                continue
            if destination_pattern and not fnmatch.fnmatchcase(rel.destination_path, destination_pattern):
                continue
            if source_pattern and not fnmatch.fnmatchcase(rel.source_path or "", source_pattern):
                continue
            rels.append(rel)
        return rels

    def _call(self, api, rel, what, **extra):
        args = {"destination-location": rel.destination_path if hasattr(rel, "destination_path") else rel}
        args.update(extra)
        return self.invoke(api, args, what="%s of SnapMirror relationship %s" % (what, args["destination-location"]))

    def create(self, source_path, destination_path, policy=None, schedule=None, relationship_type=None):
        args = {"source-location": source_path, "destination-location": destination_path,
                "relationship-type": relationship_type or "extended_data_protection"}
        if policy:
            args["policy"] = policy
        if schedule:
            args["schedule"] = schedule
        self.invoke("snapmirror-create", args, what="creating SnapMirror relationship %s -> %s" % (source_path, destination_path))

    def initialize(self, rel):
        self._call("snapmirror-initialize", rel, "initialize")

    def resume(self, rel):
        self._call("snapmirror-resume", rel, "resume")

    def resync(self, rel):
        self._call("snapmirror-resync", rel, "resync")

    def quiesce(self, rel):
        self._call("snapmirror-quiesce", rel, "quiesce")

    def break_relationship(self, rel):
        self._call("snapmirror-break", rel, "break")

    def modify(self, rel, policy=None, schedule=None):
        extra = {}
        if policy is not None:
            extra["policy"] = policy
        if schedule is not None:
            extra["schedule"] = schedule
        self._call("snapmirror-modify", rel, "modify", **extra)

    def update(self, rel):
        self._call("snapmirror-update", rel, "update")

    def transfer_error(self, rel):
        """The reason the last transfer failed (ZAPI reports it with the relationship)."""
        return rel.last_transfer_error or rel.unhealthy_reason

    def abort(self, rel):
        """Abort the running transfer (or a quiesce); OntapError.no_transfer when there is none."""
        self._call("snapmirror-abort", rel, "abort")
        return True

    def delete(self, rel):
        self._call("snapmirror-destroy", rel, "delete")

    def destinations(self, destination_paths):
        """On a source cluster: which of these destinations it still keeps a record of."""
        found = set()
        for rec in self.iterate("snapmirror-get-destination-iter"):
            path = _flat(rec).get("destination-location")
            if path in destination_paths:
                found.add(path)
        return found

    def release(self, source_path, destination_path):
        records = list(self.iterate("snapmirror-get-destination-iter",
                                    query={"snapmirror-destination-info": {"destination-location": destination_path}}))
        if not records:
            return False
        source_path = source_path or _flat(records[0]).get("source-location")
        self.invoke("snapmirror-release", {"source-location": source_path, "destination-location": destination_path},
                    what="release of SnapMirror relationship %s on its source" % destination_path)
        return True
