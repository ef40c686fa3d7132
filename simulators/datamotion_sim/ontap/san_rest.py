# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ONTAP REST SAN endpoints over the model's SAN state (``san.py``).

``/api/storage/luns``, ``/api/protocols/san/igroups`` (with ``/{uuid}/initiators``) and
``/api/protocols/san/lun-maps`` (``/{lun.uuid}/{igroup.uuid}``), synchronous as ONTAP
9.13 answers them on unified clusters (201 with a ``Location`` on create, 200 else).
Importing this module registers its routes and error codes with ``rest``.
"""

import re

from datamotion_sim.ontap import rest
from datamotion_sim.ontap.model import SimError, Snapshot, parse_size
from datamotion_sim.ontap.rest import RestError, collection, iso_time, link, one

# SAN error kinds -> (HTTP status, ONTAP REST code). 5374875, 5374878, 5374922 and 5374852 are the codes ONTAP's
# REST reference lists for the LUN map endpoints; the others are the simulator's choice (not checked on a cluster).
CODES = {
    "lun_not_found": (404, "5374875"),
    "igroup_not_found": (404, "5374878"),
    "map_not_found": (404, "5374922"),
    "lun_volume_not_found": (404, "917927"),
    "lun_exists": (409, "5374868"),
    "igroup_exists": (409, "5374861"),
    "lun_already_mapped": (409, "5374921"),
    "lun_id_in_use": (409, "5374883"),
    "lun_mapped": (409, "5374864"),
    "igroup_mapped": (409, "5374852"),
    "initiator_exists": (409, "1254197"),
    "initiator_not_found": (404, "1254213"),
    "initiator_os_conflict": (409, "1254322"),
    "invalid_initiator": (400, "1254324"),
    "lun_no_space": (400, "5374860"),
    "lun_size": (400, "5374923"),
    "lun_shrink": (400, "5374900"),
    "read_only": (400, "5374862"),
}
rest.CODES.update(CODES)


def _san(ctx):
    return ctx.model.san


def _svm_of(ctx, body):
    svm = (body.get("svm") or {}).get("name") if isinstance(body.get("svm"), dict) else None
    svm = svm or ctx.svm_scope
    if not svm:
        raise RestError(400, "2", "Missing required field \"svm.name\" (or the X-Dot-SVM-Name header).", target="svm.name")
    if svm not in ctx.model.live(ctx.cluster).svms:
        raise RestError(404, "2621462", "SVM \"%s\" does not exist." % svm, target="svm.name")
    return svm


def _scoped(ctx, records):
    return [r for r in records if not ctx.svm_scope or r["svm"]["name"] == ctx.svm_scope]


def _svm_ref(ctx, name):
    svm = ctx.model.live(ctx.cluster).svms.get(name)
    return {"name": name, "uuid": svm.uuid if svm else None}


def _bool(value):
    return value if isinstance(value, bool) else str(value).strip().lower() == "true"


def _size(value, field="space.size"):
    try:
        if isinstance(value, bool):
            raise ValueError("boolean")
        return parse_size(value)
    except (TypeError, ValueError):
        raise RestError(400, "262197", "The value \"%s\" is invalid for field \"%s\"." % (value, field), target=field) from None


# ------------------------------------------------------------------ records
def lun_json(ctx, lun):
    san = _san(ctx)
    vol = ctx.model.live(ctx.cluster).volumes[(lun.svm, lun.volume)]
    igroups = {ig.uuid: ig for ig in san.igroups(ctx.cluster)}
    maps = [{"igroup": {"name": igroups[m.igroup].name, "uuid": m.igroup,
                        "_links": link("/api/protocols/san/igroups/%s" % m.igroup)},
             "logical_unit_number": m.lun_id} for m in san.maps_of_lun(ctx.cluster, lun)]
    return {"uuid": lun.uuid, "name": lun.path, "svm": _svm_ref(ctx, lun.svm), "class": "regular", "enabled": True,
            "os_type": lun.os_type, "serial_number": lun.serial, "serial_number_hex": lun.serial.encode("ascii").hex(),
            "comment": lun.comment, "create_time": iso_time(lun.create_time),
            "location": {"logical_unit": lun.name, "volume": {"name": lun.volume, "uuid": vol.uuid,
                                                              "_links": link("/api/storage/volumes/%s" % vol.uuid)}},
            "space": {"size": lun.size, "used": lun.used, "scsi_thin_provisioning_support_enabled": False,
                      "guarantee": {"requested": lun.space_reserve, "reserved": lun.space_reserve}},
            "status": {"state": "online", "container_state": "online", "mapped": bool(maps), "read_only": False},
            "lun_maps": maps, "_links": link("/api/storage/luns/%s" % lun.uuid)}


def igroup_json(ctx, ig):
    san = _san(ctx)
    luns = {lun.uuid: lun for lun in san.luns(ctx.cluster)}
    return {"uuid": ig.uuid, "name": ig.name, "svm": _svm_ref(ctx, ig.svm), "protocol": ig.protocol, "os_type": ig.os_type,
            "delete_on_unmap": False,
            "initiators": [{"name": i, "_links": link("/api/protocols/san/igroups/%s/initiators/%s" % (ig.uuid, i))}
                           for i in ig.initiators],
            "lun_maps": [{"lun": {"name": luns[m.lun].path, "uuid": m.lun}, "logical_unit_number": m.lun_id}
                         for m in san.maps_of_igroup(ctx.cluster, ig) if m.lun in luns],
            "_links": link("/api/protocols/san/igroups/%s" % ig.uuid)}


def map_json(ctx, m):
    san = _san(ctx)
    lun = san.lun(ctx.cluster, uuid=m.lun)
    ig = san.igroup(ctx.cluster, uuid=m.igroup)
    return {"svm": _svm_ref(ctx, m.svm), "logical_unit_number": m.lun_id,
            "lun": {"name": lun.path, "uuid": lun.uuid, "node": {"name": "%s-01" % ctx.cluster}},
            "igroup": {"name": ig.name, "uuid": ig.uuid, "protocol": ig.protocol, "os_type": ig.os_type,
                       "initiators": list(ig.initiators)},
            "_links": link("/api/protocols/san/lun-maps/%s/%s" % (lun.uuid, ig.uuid))}


# ------------------------------------------------------------------ lookups
def _lun_by_uuid(ctx, uuid):
    try:
        lun = _san(ctx).lun(ctx.cluster, uuid=uuid)
    except SimError:
        raise RestError(404, "4", "entry doesn't exist", target="uuid") from None
    if ctx.svm_scope and lun.svm != ctx.svm_scope:
        raise RestError(404, "4", "entry doesn't exist", target="uuid")
    return lun


def _igroup_by_uuid(ctx, uuid):
    try:
        ig = _san(ctx).igroup(ctx.cluster, uuid=uuid)
    except SimError:
        raise RestError(404, "4", "entry doesn't exist", target="uuid") from None
    if ctx.svm_scope and ig.svm != ctx.svm_scope:
        raise RestError(404, "4", "entry doesn't exist", target="uuid")
    return ig


def _ref(ctx, body, key, svm):
    """The LUN or igroup a body names by uuid or name."""
    ref = body.get(key)
    if not isinstance(ref, dict) or not (ref.get("uuid") or ref.get("name")):
        raise RestError(400, "2", "Missing required field \"%s.name\" or \"%s.uuid\"." % (key, key), target=key)
    san = _san(ctx)
    if key == "lun":
        return san.lun(ctx.cluster, svm=svm, path=ref.get("name"), uuid=ref.get("uuid"))
    return san.igroup(ctx.cluster, svm=svm, name=ref.get("name"), uuid=ref.get("uuid"))


# ------------------------------------------------------------------ LUNs
def get_luns(ctx):
    records = _scoped(ctx, [lun_json(ctx, lun) for lun in _san(ctx).luns(ctx.cluster)])
    if ctx.args.get("uuid"):
        return 200, one(ctx, lun_json(ctx, _lun_by_uuid(ctx, ctx.args["uuid"])), ["uuid", "name"])
    return 200, collection(ctx, records, ["uuid", "name"], "name")


def post_lun(ctx):
    body = ctx.body()
    svm = _svm_of(ctx, body)
    location = body.get("location") or {}
    name = body.get("name")
    if not name and location.get("logical_unit") and (location.get("volume") or {}).get("name"):
        name = "/vol/%s/%s" % (location["volume"]["name"], location["logical_unit"])
    if not name:
        raise RestError(400, "2", "Missing required field \"name\".", target="name")
    if "os_type" not in body:
        raise RestError(400, "2", "Missing required field \"os_type\".", target="os_type")
    space = body.get("space") or {}
    if "size" not in space:
        raise RestError(400, "2", "Missing required field \"space.size\".", target="space.size")
    size = _size(space["size"])
    reserve = _bool((space.get("guarantee") or {}).get("requested", False))
    lun = _san(ctx).create_lun(ctx.cluster, svm, name, size, body["os_type"], reserve, body.get("comment") or "")
    href = "/api/storage/luns/%s" % lun.uuid
    answer = {"num_records": 1, "records": [lun_json(ctx, lun)]} if ctx.flag("return_records") else {}
    return 201, answer, {"Location": href}


def patch_lun(ctx):
    body = ctx.body()
    lun = _lun_by_uuid(ctx, ctx.args["uuid"])
    unknown = set(body) - {"space", "comment", "os_type", "name"}
    if unknown:
        raise RestError(400, "262179", "Unexpected argument \"%s\"." % sorted(unknown)[0], target=sorted(unknown)[0])
    if "os_type" in body and body["os_type"] != lun.os_type:
        raise RestError(400, "262196", "Field \"os_type\" cannot be set in this operation.", target="os_type")
    if "name" in body and body["name"] != lun.path:
        raise RestError(400, "2", "Renaming a LUN is not simulated.", target="name")
    space = body.get("space") or {}
    san = _san(ctx)
    if "guarantee" in space and "requested" in (space.get("guarantee") or {}):
        san.modify_lun(ctx.cluster, lun, space_reserve=_bool(space["guarantee"]["requested"]))
    if "comment" in body:
        san.modify_lun(ctx.cluster, lun, comment=str(body["comment"] or ""))
    if "size" in space:
        # REST lets a LUN shrink (ONTAP's "lun resize" asks for -force at the CLI)
        san.resize_lun(ctx.cluster, lun, _size(space["size"]), force=True)
    return 200, {}


def delete_lun(ctx):
    lun = _lun_by_uuid(ctx, ctx.args["uuid"])
    _san(ctx).destroy_lun(ctx.cluster, lun, force=ctx.flag("allow_delete_while_mapped"))
    return 200, {}


# ------------------------------------------------------------------ igroups
def get_igroups(ctx):
    if ctx.args.get("uuid"):
        return 200, one(ctx, igroup_json(ctx, _igroup_by_uuid(ctx, ctx.args["uuid"])), ["uuid", "name"])
    records = _scoped(ctx, [igroup_json(ctx, ig) for ig in _san(ctx).igroups(ctx.cluster)])
    return 200, collection(ctx, records, ["uuid", "name"], "name")


def _initiator_names(value):
    if value is None:
        return []
    if not isinstance(value, list):
        raise RestError(400, "262197", "The value \"%s\" is invalid for field \"initiators\"." % value, target="initiators")
    return [i["name"] if isinstance(i, dict) else str(i) for i in value]


def post_igroup(ctx):
    body = ctx.body()
    svm = _svm_of(ctx, body)
    if not body.get("name"):
        raise RestError(400, "2", "Missing required field \"name\".", target="name")
    if not body.get("os_type"):
        raise RestError(400, "2", "Missing required field \"os_type\".", target="os_type")
    ig = _san(ctx).create_igroup(ctx.cluster, svm, body["name"], body.get("protocol", "mixed"), body["os_type"],
                                 _initiator_names(body.get("initiators")))
    answer = {"num_records": 1, "records": [igroup_json(ctx, ig)]} if ctx.flag("return_records") else {}
    return 201, answer, {"Location": "/api/protocols/san/igroups/%s" % ig.uuid}


def patch_igroup(ctx):
    body = ctx.body()
    ig = _igroup_by_uuid(ctx, ctx.args["uuid"])
    unknown = set(body) - {"os_type", "comment", "name"}
    if unknown:
        raise RestError(400, "262179", "Unexpected argument \"%s\"." % sorted(unknown)[0], target=sorted(unknown)[0])
    if "name" in body and body["name"] != ig.name:
        raise RestError(400, "2", "Renaming an initiator group is not simulated.", target="name")
    _san(ctx).modify_igroup(ctx.cluster, ig, os_type=body.get("os_type"))
    return 200, {}


def delete_igroup(ctx):
    ig = _igroup_by_uuid(ctx, ctx.args["uuid"])
    _san(ctx).destroy_igroup(ctx.cluster, ig, force=ctx.flag("allow_delete_while_mapped"))
    return 200, {}


def get_initiators(ctx):
    ig = _igroup_by_uuid(ctx, ctx.args["uuid"])
    records = [{"name": i, "igroup": {"name": ig.name, "uuid": ig.uuid},
                "_links": link("/api/protocols/san/igroups/%s/initiators/%s" % (ig.uuid, i))} for i in ig.initiators]
    if ctx.args.get("name"):
        for record in records:
            if record["name"] == ctx.args["name"]:
                return 200, one(ctx, record, ["name"])
        raise RestError(404, "4", "entry doesn't exist", target="name")
    return 200, collection(ctx, records, ["name"], "name")


def post_initiators(ctx):
    body = ctx.body()
    ig = _igroup_by_uuid(ctx, ctx.args["uuid"])
    names = _initiator_names(body["records"]) if "records" in body else ([body["name"]] if body.get("name") else [])
    if not names:
        raise RestError(400, "2", "Missing required field \"name\" (or \"records\").", target="name")
    _san(ctx).add_initiators(ctx.cluster, ig, names)
    return 201, {}


def delete_initiator(ctx):
    ig = _igroup_by_uuid(ctx, ctx.args["uuid"])
    _san(ctx).remove_initiator(ctx.cluster, ig, ctx.args["name"], force=ctx.flag("allow_delete_while_mapped"))
    return 200, {}


# ------------------------------------------------------------------ LUN maps
def get_lun_maps(ctx):
    san = _san(ctx)
    if ctx.args.get("lun"):
        lun = _lun_by_uuid(ctx, ctx.args["lun"])
        ig = _igroup_by_uuid(ctx, ctx.args["igroup"])
        for m in san.maps_of_lun(ctx.cluster, lun):
            if m.igroup == ig.uuid:
                return 200, one(ctx, map_json(ctx, m), [])
        raise RestError(404, "5374922", "The specified LUN map does not exist.", target="igroup.uuid")
    records = _scoped(ctx, [map_json(ctx, m) for m in san.maps(ctx.cluster)])
    for record in records:
        record["uuid"] = "%s/%s" % (record["lun"]["uuid"], record["igroup"]["uuid"])
    answer = collection(ctx, records, ["svm", "lun", "igroup", "logical_unit_number"], "logical_unit_number")
    for record in answer.get("records") or []:
        record.pop("uuid", None)
    return 200, answer


def post_lun_map(ctx):
    body = ctx.body()
    svm = _svm_of(ctx, body)
    lun = _ref(ctx, body, "lun", svm)
    ig = _ref(ctx, body, "igroup", svm)
    lun_id = body.get("logical_unit_number")
    if lun_id is not None and (isinstance(lun_id, bool) or not re.match(r"^\d+$", str(lun_id))):
        raise RestError(400, "262197", "The value \"%s\" is invalid for field \"logical_unit_number\"." % lun_id,
                        target="logical_unit_number")
    m = _san(ctx).map_lun(ctx.cluster, lun, ig, None if lun_id is None else int(lun_id))
    answer = {"num_records": 1, "records": [map_json(ctx, m)]} if ctx.flag("return_records") else {}
    return 201, answer, {"Location": "/api/protocols/san/lun-maps/%s/%s" % (lun.uuid, ig.uuid)}


def delete_lun_map(ctx):
    lun = _lun_by_uuid(ctx, ctx.args["lun"])
    ig = _igroup_by_uuid(ctx, ctx.args["igroup"])
    _san(ctx).unmap_lun(ctx.cluster, lun, ig)
    return 200, {}


# ------------------------------------------------------------------ volume snapshots (they freeze the LUNs' bytes)
def post_snapshot(ctx):
    body = ctx.body()
    vol = rest._scoped_volume(ctx)   # pylint: disable=protected-access
    live = ctx.model.live(ctx.cluster).volumes[(vol.svm, vol.name)]
    name = body.get("name")
    if not name or not isinstance(name, str):
        raise RestError(400, "2", "Missing required field \"name\".", target="name")
    if any(s.name == name for s in live.snapshots):
        raise RestError(409, "1638418", "Snapshot copy \"%s\" of volume \"%s\" already exists." % (name, vol.path), target="name")
    snap = Snapshot(name=name, create_time=ctx.model.clock(), mark=live.written)
    live.snapshots.append(snap)
    _san(ctx).snapshot_created(live, snap.uuid)
    return 201, {}, {"Location": "/api/storage/volumes/%s/snapshots/%s" % (vol.uuid, snap.uuid)}


def delete_snapshot(ctx):
    vol = rest._scoped_volume(ctx)   # pylint: disable=protected-access
    live = ctx.model.live(ctx.cluster).volumes[(vol.svm, vol.name)]
    for snap in live.snapshots:
        if snap.uuid == ctx.args["snapshot"]:
            live.snapshots.remove(snap)
            _san(ctx).snapshot_deleted(live, snap.uuid)
            return 200, {}
    raise RestError(404, "4", "entry doesn't exist", target="uuid")


UUID = r"(?P<uuid>[^/]+)"
ROUTES = [
    ("POST", r"/api/storage/volumes/" + UUID + "/snapshots", post_snapshot, "/api/storage/volumes/{uuid}/snapshots"),
    ("DELETE", r"/api/storage/volumes/" + UUID + "/snapshots/(?P<snapshot>[^/]+)", delete_snapshot,
     "/api/storage/volumes/{uuid}/snapshots/{uuid}"),
    ("GET", r"/api/storage/luns", get_luns, "/api/storage/luns"),
    ("POST", r"/api/storage/luns", post_lun, "/api/storage/luns"),
    ("GET", r"/api/storage/luns/" + UUID, get_luns, "/api/storage/luns/{uuid}"),
    ("PATCH", r"/api/storage/luns/" + UUID, patch_lun, "/api/storage/luns/{uuid}"),
    ("DELETE", r"/api/storage/luns/" + UUID, delete_lun, "/api/storage/luns/{uuid}"),
    ("GET", r"/api/protocols/san/igroups", get_igroups, "/api/protocols/san/igroups"),
    ("POST", r"/api/protocols/san/igroups", post_igroup, "/api/protocols/san/igroups"),
    ("GET", r"/api/protocols/san/igroups/" + UUID, get_igroups, "/api/protocols/san/igroups/{uuid}"),
    ("PATCH", r"/api/protocols/san/igroups/" + UUID, patch_igroup, "/api/protocols/san/igroups/{uuid}"),
    ("DELETE", r"/api/protocols/san/igroups/" + UUID, delete_igroup, "/api/protocols/san/igroups/{uuid}"),
    ("GET", r"/api/protocols/san/igroups/" + UUID + "/initiators", get_initiators, "/api/protocols/san/igroups/{uuid}/initiators"),
    ("POST", r"/api/protocols/san/igroups/" + UUID + "/initiators", post_initiators,
     "/api/protocols/san/igroups/{uuid}/initiators"),
    ("GET", r"/api/protocols/san/igroups/" + UUID + "/initiators/(?P<name>[^/]+)", get_initiators,
     "/api/protocols/san/igroups/{uuid}/initiators/{name}"),
    ("DELETE", r"/api/protocols/san/igroups/" + UUID + "/initiators/(?P<name>[^/]+)", delete_initiator,
     "/api/protocols/san/igroups/{uuid}/initiators/{name}"),
    ("GET", r"/api/protocols/san/lun-maps", get_lun_maps, "/api/protocols/san/lun-maps"),
    ("POST", r"/api/protocols/san/lun-maps", post_lun_map, "/api/protocols/san/lun-maps"),
    ("GET", r"/api/protocols/san/lun-maps/(?P<lun>[^/]+)/(?P<igroup>[^/]+)", get_lun_maps,
     "/api/protocols/san/lun-maps/{lun.uuid}/{igroup.uuid}"),
    ("DELETE", r"/api/protocols/san/lun-maps/(?P<lun>[^/]+)/(?P<igroup>[^/]+)", delete_lun_map,
     "/api/protocols/san/lun-maps/{lun.uuid}/{igroup.uuid}"),
]
rest.COMPILED.extend((method, re.compile("^%s$" % pattern), func, template) for method, pattern, func, template in ROUTES)
