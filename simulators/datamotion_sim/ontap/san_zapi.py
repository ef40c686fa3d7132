# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ZAPI SAN APIs over the model's SAN state (``san.py``): lun-*, lun-map*, igroup-*.

They are Vserver APIs: the call is tunnelled to the SVM (vfiler) or names it with
``vserver``; the -get-iter calls also answer cluster-wide. Errnos are netapp-lib's
EVDISK_ERROR_* values. Importing this module registers the APIs and errnos with ``zapi``.
"""

from datamotion_sim.ontap import zapi
from datamotion_sim.ontap.model import Snapshot, parse_size
from datamotion_sim.ontap.zapi import ZapiError, _bool, iterate, passed

# SAN error kinds -> ZAPI errno (names from netapp_lib.api.zapi.errors)
ERRNO = {
    "lun_not_found": "9017",            # EVDISK_ERROR_NO_SUCH_VDISK
    "igroup_not_found": "9003",         # EVDISK_ERROR_NO_SUCH_INITGROUP
    "map_not_found": "9016",            # EVDISK_ERROR_NO_SUCH_LUNMAP
    "lun_volume_not_found": "9036",     # EVDISK_ERROR_NO_SUCH_VOLUME
    "lun_exists": "9012",               # EVDISK_ERROR_VDISK_EXISTS
    "igroup_exists": "9004",            # EVDISK_ERROR_INITGROUP_EXISTS
    "lun_already_mapped": "9023",       # EVDISK_ERROR_INITGROUP_HAS_VDISK
    "lun_id_in_use": "9009",            # EVDISK_ERROR_LUN_MAPPING_CONFLICT
    "lun_mapped": "9013",               # EVDISK_ERROR_VDISK_EXPORTED
    "igroup_mapped": "9029",            # EVDISK_ERROR_INITGROUP_MAPS_EXIST
    "initiator_exists": "9008",         # EVDISK_ERROR_INITGROUP_HAS_NODE
    "initiator_not_found": "9007",      # EVDISK_ERROR_NODE_NOT_IN_INITGROUP
    "initiator_os_conflict": "9051",    # EVDISK_ERROR_INITGROUP_MEMBER_CONFLICTING_OS_TYPES
    "invalid_initiator": "9006",        # EVDISK_ERROR_NOT_VALID_ISCSI_NAME
    "lun_no_space": "28",               # EONTAPI_ENOSPC
    "lun_size": "9034",                 # EVDISK_ERROR_SIZE_TOO_LARGE
    "lun_shrink": "9033",               # EVDISK_ERROR_MUST_SPECIFY_F_FLAG
    "read_only": "30",                  # EONTAPI_EROFS
}
zapi.ERRNO.update(ERRNO)


def _size(call, name="size"):
    try:
        return parse_size(call.required(name))
    except ValueError:
        raise ZapiError("13115", "Invalid value for %s: %s" % (name, call.arg(name))) from None


def _lun(call):
    return call.model.san.lun(call.cluster, svm=call.svm(), path=call.required("path"))


def _igroup(call, name="initiator-group-name"):
    return call.model.san.igroup(call.cluster, svm=call.svm(), name=call.required(name))


def lun_record(san, cluster, lun):
    return ("lun-info", {
        "path": lun.path, "vserver": lun.svm, "volume": lun.volume, "qtree": "", "lun": lun.name, "size": lun.size,
        "size-used": lun.used, "serial-number": lun.serial, "multiprotocol-type": lun.os_type,
        "is-space-reservation-enabled": lun.space_reserve, "is-space-alloc-enabled": False,
        "mapped": bool(san.maps_of_lun(cluster, lun)), "online": True, "state": "online", "uuid": lun.uuid,
        "comment": lun.comment, "class": "regular", "alignment": "aligned", "node": "%s-01" % cluster,
        "creation-timestamp": int(lun.create_time)})


def igroup_record(ig):
    return ("initiator-group-info", {
        "initiator-group-name": ig.name, "initiator-group-type": ig.protocol, "initiator-group-os-type": ig.os_type,
        "vserver": ig.svm, "initiator-group-uuid": ig.uuid, "initiator-group-alua-enabled": True,
        "initiators": [("initiator-info", {"initiator-name": i}) for i in ig.initiators]})


def lun_create_by_size(call):
    reserve = _bool(call.arg("space-reservation-enabled"), True)
    lun = call.model.san.create_lun(call.cluster, call.svm(), call.required("path"), _size(call), call.arg("ostype", "linux"),
                                    reserve, call.arg("comment", ""))
    return passed({"actual-size": lun.size})


def lun_destroy(call):
    call.model.san.destroy_lun(call.cluster, _lun(call), force=_bool(call.arg("force")))
    return passed()


def lun_resize(call):
    lun = _lun(call)
    text = call.required("size")
    size = lun.size + parse_size(text[1:]) if text.startswith("+") else _size(call)
    call.model.san.resize_lun(call.cluster, lun, size, force=_bool(call.arg("force")))
    return passed({"actual-size": lun.size})


def lun_set_space_reservation_info(call):
    call.model.san.modify_lun(call.cluster, _lun(call), space_reserve=_bool(call.arg("enable"), True))
    return passed()


def lun_get_iter(call):
    san = call.model.san
    records = [lun_record(san, call.cluster, lun) for lun in san.luns(call.cluster) if not call.vfiler or lun.svm == call.vfiler]
    return iterate(call, records, key=lambda r: (r[1]["vserver"], r[1]["path"]))


def lun_map(call):
    lun_id = call.arg("lun-id")
    if lun_id is not None and not str(lun_id).isdigit():
        raise ZapiError("13115", "Invalid value for lun-id: %s" % lun_id)
    mapping = call.model.san.map_lun(call.cluster, _lun(call), _igroup(call, "initiator-group"),
                                     None if lun_id is None else int(lun_id))
    return passed({"lun-id-assigned": mapping.lun_id})


def lun_unmap(call):
    call.model.san.unmap_lun(call.cluster, _lun(call), _igroup(call, "initiator-group"))
    return passed()


def lun_map_list_info(call):
    san = call.model.san
    lun = _lun(call)
    groups = []
    for m in san.maps_of_lun(call.cluster, lun):
        ig = san.igroup(call.cluster, uuid=m.igroup)
        info = dict(igroup_record(ig)[1], **{"lun-id": m.lun_id})
        groups.append(("initiator-group-info", info))
    return passed({"initiator-groups": groups} if groups else None)


def lun_map_get_iter(call):
    san = call.model.san
    luns = {lun.uuid: lun for lun in san.luns(call.cluster)}
    records = []
    for m in san.maps(call.cluster):
        if call.vfiler and m.svm != call.vfiler:
            continue
        ig = san.igroup(call.cluster, uuid=m.igroup)
        records.append(("lun-map-info", {"path": luns[m.lun].path, "lun-uuid": m.lun, "initiator-group": ig.name,
                                         "initiator-group-uuid": ig.uuid, "lun-id": m.lun_id, "vserver": m.svm,
                                         "node": "%s-01" % call.cluster}))
    return iterate(call, records, key=lambda r: (r[1]["vserver"], r[1]["path"], r[1]["initiator-group"]))


def igroup_create(call):
    call.model.san.create_igroup(call.cluster, call.svm(), call.required("initiator-group-name"),
                                 call.arg("initiator-group-type", "mixed"), call.arg("os-type", "default").replace("default", "linux"))
    return passed()


def igroup_add(call):
    call.model.san.add_initiators(call.cluster, _igroup(call), [call.required("initiator")])
    return passed()


def igroup_remove(call):
    call.model.san.remove_initiator(call.cluster, _igroup(call), call.required("initiator"), force=_bool(call.arg("force")))
    return passed()


def igroup_destroy(call):
    call.model.san.destroy_igroup(call.cluster, _igroup(call), force=_bool(call.arg("force")))
    return passed()


def igroup_get_iter(call):
    san = call.model.san
    records = [igroup_record(ig) for ig in san.igroups(call.cluster) if not call.vfiler or ig.svm == call.vfiler]
    return iterate(call, records, key=lambda r: (r[1]["vserver"], r[1]["initiator-group-name"]))


def _volume(call):
    svm, name = call.svm(), call.required("volume")
    vol = call.model.live(call.cluster).volumes.get((svm, name))
    if vol is None:
        raise ZapiError("13040", "Volume \"%s\" in Vserver \"%s\" does not exist." % (name, svm))
    return vol


def snapshot_create(call):
    vol, name = _volume(call), call.required("snapshot")
    if any(s.name == name for s in vol.snapshots):
        raise ZapiError("17", "Snapshot copy \"%s\" of volume \"%s\" already exists." % (name, vol.path))
    snap = Snapshot(name=name, create_time=call.model.clock(), mark=vol.written)
    vol.snapshots.append(snap)
    call.model.san.snapshot_created(vol, snap.uuid)
    return passed()


def snapshot_delete(call):
    vol, name = _volume(call), call.required("snapshot")
    for snap in vol.snapshots:
        if snap.name == name:
            vol.snapshots.remove(snap)
            call.model.san.snapshot_deleted(vol, snap.uuid)
            return passed()
    raise ZapiError("15661", "Snapshot copy \"%s\" of volume \"%s\" does not exist." % (name, vol.path))


APIS = {
    "snapshot-create": snapshot_create,
    "snapshot-delete": snapshot_delete,
    "lun-create-by-size": lun_create_by_size,
    "lun-destroy": lun_destroy,
    "lun-resize": lun_resize,
    "lun-set-space-reservation-info": lun_set_space_reservation_info,
    "lun-get-iter": lun_get_iter,
    "lun-map": lun_map,
    "lun-unmap": lun_unmap,
    "lun-map-list-info": lun_map_list_info,
    "lun-map-get-iter": lun_map_get_iter,
    "igroup-create": igroup_create,
    "igroup-add": igroup_add,
    "igroup-remove": igroup_remove,
    "igroup-destroy": igroup_destroy,
    "igroup-get-iter": igroup_get_iter,
}
zapi.APIS.update(APIS)
