# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ONTAP SAN - LUNs, igroups, LUN maps - over either transport, and the pure planners of ontap_lun and ontap_lun_map.

``san_client(client)`` wraps a RestClient or ZapiClient (module_utils/ontap/rest.py, zapi.py)
and speaks in LUN words; both return the same dataclasses. A LUN is ours when its comment
is ``OWNER_COMMENT``: ontap_lun writes it when it creates a LUN and never changes or
deletes a LUN without it.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re
from dataclasses import asdict, dataclass, field
from typing import List, Optional

from ansible_collections.storage.datamotion.plugins.module_utils.ontap.common import OntapError

OWNER_COMMENT = "managed by storage.datamotion"
NAA_PREFIX = "600a0980"
MIN_LUN_SIZE = 4096
MAX_LUN_SIZE = 128 * 1024 ** 4
MAX_LUN_ID = 4095
LUN_OS_TYPES = ("aix", "hpux", "hyper_v", "linux", "netware", "openvms", "solaris", "solaris_efi", "vmware", "windows",
                "windows_2008", "windows_gpt", "xen")
IGROUP_OS_TYPES = ("aix", "hpux", "hyper_v", "linux", "netware", "openvms", "solaris", "vmware", "windows", "xen")
_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "kib": 1024, "m": 1024 ** 2, "mb": 1024 ** 2, "mib": 1024 ** 2,
          "g": 1024 ** 3, "gb": 1024 ** 3, "gib": 1024 ** 3, "t": 1024 ** 4, "tb": 1024 ** 4, "tib": 1024 ** 4}
_IQN = re.compile(r"^(iqn\.\d{4}-\d{2}\.[^\s:]+(:\S+)?|eui\.[0-9a-fA-F]{16}|naa\.[0-9a-fA-F]{16,32})$")
_WWPN = re.compile(r"^([0-9a-fA-F]{2}:){7}[0-9a-fA-F]{2}$")
_IGROUP_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.:-]{0,95}")
_LUN_NAME = re.compile(r"^[A-Za-z0-9_.{}-]{1,255}$")
_VOLUME_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,202}$")


@dataclass
class Lun:
    svm: str
    path: str
    size: int
    os_type: str
    space_reserve: bool
    used: int = 0
    serial: Optional[str] = None
    comment: str = ""
    mapped: bool = False
    uuid: Optional[str] = None

    @property
    def ours(self):
        return self.comment == OWNER_COMMENT

    @property
    def naa(self):
        return NAA_PREFIX + self.serial.encode("ascii").hex() if self.serial else None

    def facts(self):
        out = asdict(self)
        out.update(naa=self.naa, wwn_link="wwn-0x%s" % self.naa if self.naa else None, ours=self.ours,
                   volume=self.path.split("/")[2], name=self.path.split("/")[3])
        return out


@dataclass
class Igroup:
    svm: str
    name: str
    protocol: str
    os_type: str
    initiators: List[str] = field(default_factory=list)
    uuid: Optional[str] = None


@dataclass
class LunVolume:
    """The volume a LUN lives in; ``available`` is what ONTAP reports free (95 % of the size, less what is used)."""
    svm: str
    name: str
    type: str
    size: int
    available: int
    uuid: Optional[str] = None

    @property
    def path(self):
        return "%s:%s" % (self.svm, self.name)


@dataclass
class LunMap:
    svm: str
    path: str
    igroup: str
    lun_id: int


def parse_size(value):
    """Bytes from an int or a string with a unit ('64MiB', '10g', '1.5TB'; units are powers of 1024)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = re.match(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$", str(value))
    if not match or match.group(2).lower() not in _UNITS:
        raise OntapError("size %r is not a size: write bytes or a number with a unit, for example 10GiB or 512m" % (value,))
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def lun_size(value):
    """Bytes of a LUN of size ``value``: ONTAP rounds a LUN up to whole 512-byte sectors and reports that size."""
    return (parse_size(value) + 511) // 512 * 512


def lun_path(volume, name):
    if not _VOLUME_NAME.fullmatch(volume or ""):
        raise OntapError("volume name %r is not one ONTAP takes: a letter or '_' first, then letters, digits and '_', "
                         "203 characters at most" % (volume,))
    if not _LUN_NAME.fullmatch(name or ""):
        raise OntapError("LUN name %r is not one ONTAP takes: 1 to 255 of the characters a-z A-Z 0-9 - _ . { } (no '/', "
                         "the LUN path is /vol/<volume>/<name>)" % (name,))
    return "/vol/%s/%s" % (volume, name)


def split_lun_path(path):
    match = re.match(r"^/vol/([^/]+)/([^/]+)$", path or "")
    if not match:
        raise OntapError("LUN path %r is not of the form /vol/<volume>/<lun>" % (path,))
    return match.group(1), match.group(2)


def check_initiator(protocol, name):
    iscsi, fcp = bool(_IQN.match(name)), bool(_WWPN.match(name))
    if (protocol == "iscsi" and not iscsi) or (protocol == "fcp" and not fcp) or not (iscsi or fcp):
        raise OntapError("initiator %r is not a valid %s initiator name (iqn.yyyy-mm.domain:name, eui.<16 hex>, or an FC WWPN "
                         "such as 20:00:00:25:b5:00:00:01)" % (name, protocol))


# ---------------------------------------------------------------------- planners
def plan_lun(want, current, volume, create_volume=None, aggregate_available=None):
    """The actions that take a LUN from ``current`` (Lun or None) to ``want`` (dict: state, size, os_type, space_reserve).

    ``volume`` is the containing volume (common.Volume or None), ``create_volume`` a dict (size, aggregate) when it
    may be created, ``aggregate_available`` the free bytes of that aggregate. Raises OntapError for what must not
    be done; nothing has changed then.
    """
    path = want["path"]
    if want["state"] == "absent":
        if current is None:
            return []
        if not current.ours:
            raise OntapError("LUN %s exists but was not created by this collection (its comment is %r, not %r); it is "
                             "left alone - delete it on the cluster if it must go" % (path, current.comment, OWNER_COMMENT))
        if current.mapped:
            raise OntapError("LUN %s is mapped to an initiator group; unmap it first (storage.datamotion.ontap_lun_map "
                             "state=absent), then delete it" % path)
        return [("delete", path)]
    actions = []
    if current is not None:
        if not current.ours:
            raise OntapError("the name %s is taken by a LUN this collection did not create (its comment is %r, not %r); "
                             "choose another name" % (path, current.comment, OWNER_COMMENT))
        if want.get("os_type") and want["os_type"] != current.os_type:
            raise OntapError("LUN %s has OS type %s, not %s; ONTAP cannot change a LUN's OS type" % (path, current.os_type, want["os_type"]))
        size = want.get("size")
        if size is not None and size < current.size:
            raise OntapError("LUN %s is %d bytes; shrinking it to %d bytes would cut off data, so it is refused - "
                             "shrink it on the cluster after shrinking what uses it" % (path, current.size, size))
        if want.get("space_reserve") is not None and want["space_reserve"] != current.space_reserve:
            actions.append(("set_space_reserve", want["space_reserve"]))
        if size is not None and size > current.size:
            actions.append(("resize", size))
        reserved = current.space_reserve if want.get("space_reserve") is None else want["space_reserve"]
        if actions and reserved and volume is not None:
            # a reserved LUN takes its whole size from the volume; what it takes now is its size, or its data when thin
            extra = max(size or 0, current.size) - (current.size if current.space_reserve else current.used)
            if extra > volume.available:
                raise OntapError("volume %s has %d bytes available, not enough to reserve %d more bytes for LUN %s; grow the "
                                 "volume or keep the LUN thin (space_reserve: false)" % (volume.path, volume.available, extra, path))
        return actions
    if want.get("size") is None:
        raise OntapError("LUN %s does not exist; give its size to create it" % path)
    if volume is None:
        if not create_volume:
            raise OntapError("volume %s:%s does not exist; create it, or give volume_size and aggregate to create it here"
                             % (want["svm"], split_lun_path(path)[0]))
        if aggregate_available is None:
            raise OntapError("aggregate %s does not exist on the cluster" % create_volume["aggregate"])
        if create_volume["size"] > aggregate_available:
            raise OntapError("aggregate %s has %d bytes available, not enough for volume %s of %d bytes"
                             % (create_volume["aggregate"], aggregate_available, split_lun_path(path)[0], create_volume["size"]))
        actions.append(("create_volume", create_volume["size"]))
        volume_room = int(create_volume["size"] * 0.95)
    else:
        if volume.type != "rw":
            raise OntapError("volume %s is a %s volume (read-only); a LUN needs a read-write volume" % (volume.path, volume.type.upper()))
        volume_room = volume.available
    if want.get("space_reserve") and want["size"] > volume_room:
        raise OntapError("volume %s:%s has %d bytes available, not enough for a space-reserved LUN of %d bytes; use a "
                         "thin LUN (space_reserve: false) or a bigger volume" % (want["svm"], split_lun_path(path)[0], volume_room, want["size"]))
    actions.append(("create", want["size"]))
    return actions


def plan_map(want, lun, igroup, maps, svm_igroups):
    """The actions that map (or unmap) ``lun`` for ``want`` (dict: state, igroup, initiators, protocol, os_type, lun_id).

    ``igroup`` is the existing igroup of that name (or None), ``maps`` the LUN maps of that igroup, ``svm_igroups``
    every igroup of the SVM. Raises OntapError for what must not be done.
    """
    name = want["igroup"]
    if not _IGROUP_NAME.fullmatch(name or ""):
        raise OntapError("igroup name %r is not one ONTAP takes: a letter or '_' first, then letters, digits, '_', '-', '.' "
                         "and ':', 96 characters at most" % (name,))
    mine = [m for m in maps if m.path == lun.path] if igroup is not None else []
    initiators = list(want.get("initiators") or [])
    if want["state"] == "absent":
        if not mine:
            return []
        strangers = [i for i in igroup.initiators if i not in initiators]
        if strangers:
            raise OntapError("igroup %s holds initiator(s) %s that are not in initiators %s: unmapping would cut another host's "
                             "path to LUN %s, so it is left mapped - list every initiator of the igroup to unmap it"
                             % (name, ", ".join(strangers), initiators, lun.path))
        return [("unmap", name)]
    actions = []
    for initiator in initiators:
        check_initiator(want["protocol"], initiator)
        for other in svm_igroups:
            if other.name != name and initiator in other.initiators and other.os_type != want["os_type"]:
                raise OntapError("initiator %s is in igroup %s of OS type %s; ONTAP does not allow one initiator in igroups of "
                                 "different OS types (wanted %s)" % (initiator, other.name, other.os_type, want["os_type"]))
    if igroup is None:
        if not initiators:
            raise OntapError("igroup %s does not exist; give its initiators to create it" % name)
        actions.append(("create_igroup", initiators))
    else:
        strangers = [i for i in igroup.initiators if i not in initiators]
        if strangers:
            raise OntapError("igroup %s also holds initiator(s) %s that are not in initiators %s: it belongs to another host, "
                             "so this LUN is not mapped to it" % (name, ", ".join(strangers), initiators))
        if igroup.os_type != want["os_type"] or igroup.protocol != want["protocol"]:
            raise OntapError("igroup %s is %s/%s, not %s/%s; it is left as it is" % (name, igroup.protocol, igroup.os_type,
                                                                                     want["protocol"], want["os_type"]))
        missing = [i for i in initiators if i not in igroup.initiators]
        # an igroup that holds none of this host's initiators gives the host every LUN mapped to it, read-write
        foreign = sorted({m.path for m in maps if m.path != lun.path})
        if missing and foreign and not set(igroup.initiators) & set(initiators):
            raise OntapError("igroup %s holds no initiator of this host, but LUN(s) %s are mapped to it: adding %s would give this "
                             "host those LUNs, read-write. It is left as it is - use an igroup of this host's own"
                             % (name, ", ".join(foreign), ", ".join(missing)))
        if missing:
            actions.append(("add_initiators", missing))
    lun_id = want.get("lun_id")
    if mine:
        if lun_id is not None and mine[0].lun_id != lun_id:
            raise OntapError("LUN %s is already mapped to igroup %s with LUN ID %d, not %d; unmap it first to change the ID "
                             "(hosts lose the path)" % (lun.path, name, mine[0].lun_id, lun_id))
        return actions
    if lun_id is not None:
        taken = [m for m in maps if m.lun_id == lun_id]
        if taken:
            raise OntapError("LUN ID %d is used in igroup %s by %s; choose another lun_id or leave it out for the lowest free one"
                             % (lun_id, name, taken[0].path))
    actions.append(("map", lun_id))
    return actions


# ---------------------------------------------------------------------- transports
def san_client(client):
    return RestSan(client) if client.transport == "rest" else ZapiSan(client)


class RestSan:
    """SAN over ONTAP REST (plain requests through RestClient)."""

    LUN_FIELDS = "uuid,name,svm.name,os_type,serial_number,comment,space.size,space.used,space.guarantee.requested,status.mapped"

    def __init__(self, client):
        self.c = client

    def volume(self, svm, name):
        recs = [r for r in self.c._records("/api/storage/volumes", {"svm.name": svm, "name": name, "fields": "uuid,name,type,size,space.used,state"})
                if r.get("name") == name]
        if not recs:
            return None
        r = recs[0]
        return _volume(svm, name, r.get("type") or "rw", int(r.get("size") or 0), int((r.get("space") or {}).get("used") or 0),
                       r.get("uuid"))

    def create_volume(self, svm, name, size, aggregate):
        body = {"name": name, "svm": {"name": svm}, "aggregates": [{"name": aggregate}], "size": int(size), "type": "rw"}
        self.c._change("POST", "/api/storage/volumes", body=body, what="creating volume %s:%s" % (svm, name))

    def _lun(self, rec):
        space = rec.get("space") or {}
        return Lun(svm=(rec.get("svm") or {}).get("name"), path=rec.get("name"), size=int(space.get("size") or 0),
                   used=int(space.get("used") or 0), os_type=rec.get("os_type"),
                   space_reserve=bool((space.get("guarantee") or {}).get("requested")), serial=rec.get("serial_number"),
                   comment=rec.get("comment") or "", mapped=bool((rec.get("status") or {}).get("mapped")), uuid=rec.get("uuid"))

    def luns(self):
        """Every LUN of the cluster, in one paged read."""
        return [self._lun(r) for r in self.c._records("/api/storage/luns", {"fields": self.LUN_FIELDS})]

    def lun_maps(self):
        """Every LUN map of the cluster, in one paged read."""
        recs = self.c._records("/api/protocols/san/lun-maps", {"fields": "svm.name,lun.name,igroup.name,logical_unit_number"})
        return [LunMap(svm=r["svm"]["name"], path=r["lun"]["name"], igroup=r["igroup"]["name"], lun_id=int(r["logical_unit_number"]))
                for r in recs]

    def lun(self, svm, path):
        recs = [r for r in self.c._records("/api/storage/luns", {"svm.name": svm, "name": path, "fields": self.LUN_FIELDS})
                if r.get("name") == path]   # ONTAP reads * | ! in a query value as a pattern
        return self._lun(recs[0]) if recs else None

    def create_lun(self, svm, path, size, os_type, space_reserve):
        body = {"svm": {"name": svm}, "name": path, "os_type": os_type, "comment": OWNER_COMMENT,
                "space": {"size": int(size), "guarantee": {"requested": bool(space_reserve)}}}
        self.c._change("POST", "/api/storage/luns", body=body, what="creating LUN %s in SVM %s" % (path, svm))

    def resize_lun(self, lun, size):
        self.c._change("PATCH", "/api/storage/luns/%s" % lun.uuid, body={"space": {"size": int(size)}},
                       what="resizing LUN %s to %d bytes" % (lun.path, size))

    def set_space_reserve(self, lun, enabled):
        self.c._change("PATCH", "/api/storage/luns/%s" % lun.uuid, body={"space": {"guarantee": {"requested": bool(enabled)}}},
                       what="setting space reservation of LUN %s" % lun.path)

    def delete_lun(self, lun):
        self.c._change("DELETE", "/api/storage/luns/%s" % lun.uuid, what="deleting LUN %s" % lun.path)

    def igroups(self, svm=None):
        """The igroups of ``svm``, or of every SVM."""
        query = {"fields": "uuid,name,svm.name,protocol,os_type,initiators.name"}
        if svm is not None:
            query["svm.name"] = svm
        recs = self.c._records("/api/protocols/san/igroups", query)
        return [Igroup(svm=svm or r["svm"]["name"], name=r["name"], protocol=r.get("protocol"), os_type=r.get("os_type"),
                       initiators=[i["name"] for i in r.get("initiators") or []], uuid=r.get("uuid")) for r in recs]

    def create_igroup(self, svm, name, protocol, os_type, initiators):
        body = {"svm": {"name": svm}, "name": name, "protocol": protocol, "os_type": os_type,
                "initiators": [{"name": i} for i in initiators]}
        self.c._change("POST", "/api/protocols/san/igroups", body=body, what="creating igroup %s in SVM %s" % (name, svm))

    def add_initiators(self, igroup, names):
        self.c._change("POST", "/api/protocols/san/igroups/%s/initiators" % igroup.uuid, body={"records": [{"name": n} for n in names]},
                       what="adding initiators %s to igroup %s" % (", ".join(names), igroup.name))

    def maps(self, svm, igroup):
        query = {"svm.name": svm, "igroup.name": igroup, "fields": "lun.name,igroup.name,logical_unit_number"}
        recs = self.c._records("/api/protocols/san/lun-maps", query)
        return [LunMap(svm=svm, path=r["lun"]["name"], igroup=r["igroup"]["name"], lun_id=int(r["logical_unit_number"])) for r in recs
                if r["igroup"]["name"] == igroup]

    def map_lun(self, svm, path, igroup, lun_id=None):
        body = {"svm": {"name": svm}, "lun": {"name": path}, "igroup": {"name": igroup}}
        if lun_id is not None:
            body["logical_unit_number"] = int(lun_id)
        self.c._change("POST", "/api/protocols/san/lun-maps", body=body, what="mapping LUN %s to igroup %s" % (path, igroup))

    def unmap_lun(self, lun, igroup):
        self.c._change("DELETE", "/api/protocols/san/lun-maps/%s/%s" % (lun.uuid, igroup.uuid),
                       what="unmapping LUN %s from igroup %s" % (lun.path, igroup.name))


class ZapiSan:
    """SAN over ZAPI (netapp-lib through ZapiClient); LUN and igroup calls are tunnelled to the SVM."""

    def __init__(self, client):
        self.c = client

    def volume(self, svm, name):
        query = {"volume-attributes": {"volume-id-attributes": {"name": name, "owning-vserver-name": svm}}}
        for rec in self.c.iterate("volume-get-iter", query=query):
            ids = rec.get_child_by_name("volume-id-attributes")
            if ids.get_child_content("name") != name:
                continue
            space = rec.get_child_by_name("volume-space-attributes")
            return _volume(svm, name, ids.get_child_content("type") or "rw", int(space.get_child_content("size") or 0),
                           int(space.get_child_content("size-used") or 0), ids.get_child_content("instance-uuid"))
        return None

    def create_volume(self, svm, name, size, aggregate):
        self.c.invoke("volume-create", {"volume": name, "containing-aggr-name": aggregate, "size": str(int(size)), "volume-type": "rw"},
                      vserver=svm, what="creating volume %s:%s" % (svm, name))

    @staticmethod
    def _lun(rec, svm):
        return Lun(svm=svm, path=rec.get_child_content("path"), size=int(rec.get_child_content("size") or 0),
                   used=int(rec.get_child_content("size-used") or 0), os_type=rec.get_child_content("multiprotocol-type"),
                   space_reserve=(rec.get_child_content("is-space-reservation-enabled") or "false") == "true",
                   serial=rec.get_child_content("serial-number"), comment=rec.get_child_content("comment") or "",
                   mapped=(rec.get_child_content("mapped") or "false") == "true", uuid=rec.get_child_content("uuid"))

    def luns(self):
        """Every LUN of the cluster (lun-get-iter answers cluster-wide when not tunnelled)."""
        return [self._lun(rec, rec.get_child_content("vserver")) for rec in self.c.iterate("lun-get-iter")]

    def lun_maps(self):
        """Every LUN map of the cluster."""
        return [LunMap(svm=rec.get_child_content("vserver"), path=rec.get_child_content("path"),
                       igroup=rec.get_child_content("initiator-group"), lun_id=int(rec.get_child_content("lun-id")))
                for rec in self.c.iterate("lun-map-get-iter")]

    def lun(self, svm, path):
        for rec in self.c.iterate("lun-get-iter", query={"lun-info": {"path": path, "vserver": svm}}, vserver=svm):
            if rec.get_child_content("path") == path:   # ONTAP reads * | ! in a query value as a pattern
                return self._lun(rec, svm)
        return None

    def create_lun(self, svm, path, size, os_type, space_reserve):
        self.c.invoke("lun-create-by-size", {"path": path, "size": str(int(size)), "ostype": os_type, "comment": OWNER_COMMENT,
                                             "space-reservation-enabled": "true" if space_reserve else "false"},
                      vserver=svm, what="creating LUN %s in SVM %s" % (path, svm))

    def resize_lun(self, lun, size):
        self.c.invoke("lun-resize", {"path": lun.path, "size": str(int(size))}, vserver=lun.svm,
                      what="resizing LUN %s to %d bytes" % (lun.path, size))

    def set_space_reserve(self, lun, enabled):
        self.c.invoke("lun-set-space-reservation-info", {"path": lun.path, "enable": "true" if enabled else "false"}, vserver=lun.svm,
                      what="setting space reservation of LUN %s" % lun.path)

    def delete_lun(self, lun):
        self.c.invoke("lun-destroy", {"path": lun.path}, vserver=lun.svm, what="deleting LUN %s" % lun.path)

    def igroups(self, svm=None):
        """The igroups of ``svm``, or of every SVM (igroup-get-iter answers cluster-wide when not tunnelled)."""
        found = []
        query = {"initiator-group-info": {"vserver": svm}} if svm is not None else None
        for rec in self.c.iterate("igroup-get-iter", query=query, vserver=svm):
            members = rec.get_child_by_name("initiators")
            names = [i.get_child_content("initiator-name") for i in members.get_children()] if members is not None else []
            found.append(Igroup(svm=svm or rec.get_child_content("vserver"), name=rec.get_child_content("initiator-group-name"),
                                protocol=rec.get_child_content("initiator-group-type"),
                                os_type=rec.get_child_content("initiator-group-os-type"), initiators=names,
                                uuid=rec.get_child_content("initiator-group-uuid")))
        return found

    def create_igroup(self, svm, name, protocol, os_type, initiators):
        self.c.invoke("igroup-create", {"initiator-group-name": name, "initiator-group-type": protocol, "os-type": os_type},
                      vserver=svm, what="creating igroup %s in SVM %s" % (name, svm))
        for initiator in initiators:
            self.c.invoke("igroup-add", {"initiator-group-name": name, "initiator": initiator}, vserver=svm,
                          what="adding initiator %s to igroup %s" % (initiator, name))

    def add_initiators(self, igroup, names):
        for initiator in names:
            self.c.invoke("igroup-add", {"initiator-group-name": igroup.name, "initiator": initiator}, vserver=igroup.svm,
                          what="adding initiator %s to igroup %s" % (initiator, igroup.name))

    def maps(self, svm, igroup):
        query = {"lun-map-info": {"initiator-group": igroup, "vserver": svm}}
        return [LunMap(svm=svm, path=rec.get_child_content("path"), igroup=rec.get_child_content("initiator-group"),
                       lun_id=int(rec.get_child_content("lun-id"))) for rec in self.c.iterate("lun-map-get-iter", query=query, vserver=svm)
                if rec.get_child_content("initiator-group") == igroup]

    def map_lun(self, svm, path, igroup, lun_id=None):
        args = {"path": path, "initiator-group": igroup}
        if lun_id is not None:
            args["lun-id"] = str(int(lun_id))
        self.c.invoke("lun-map", args, vserver=svm, what="mapping LUN %s to igroup %s" % (path, igroup))

    def unmap_lun(self, lun, igroup):
        self.c.invoke("lun-unmap", {"path": lun.path, "initiator-group": igroup.name}, vserver=lun.svm,
                      what="unmapping LUN %s from igroup %s" % (lun.path, igroup.name))


def _volume(svm, name, vol_type, size, used, uuid):
    return LunVolume(svm=svm, name=name, type=vol_type, size=size, available=max(0, int(size * 0.95) - int(used or 0)), uuid=uuid)
