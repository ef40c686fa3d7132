# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SAN on the simulated clusters: LUNs in volumes, igroups, LUN maps; free of any wire format.

A LUN lives in its volume (``Volume.luns``, so the volume's used size counts it) and
holds real bytes in a sparse file under the simulator's state directory. A LUN mapped
to an igroup that holds one of this host's initiators is exposed on this machine as a
loop device with a ``wwn-0x<naa>`` link in the device directory, as vnx-sim does; the
NAA is NetApp's: ``600a0980`` then the hex of the LUN's 12-character serial number.

Settings (seed key ``san``, or ``ontap-sim serve`` options): ``state_dir`` (default a
temporary directory), ``device_dir`` (default ``<state_dir>/dev/disk/by-id``),
``host_initiators`` (default: the InitiatorName of /etc/iscsi/initiatorname.iscsi, else
``DEFAULT_HOST_INITIATOR``), ``expose`` (default true).
"""

import copy
import os
import random
import re
import shutil
import string
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from typing import Dict, List

from datamotion_sim.ontap.model import SimError, new_uuid
from datamotion_sim.vnx import data

TIB = 1024 ** 4
MAX_LUN_SIZE = 128 * TIB
MIN_LUN_SIZE = 4096
MAX_LUN_ID = 4095
NAA_PREFIX = "600a0980"
DEFAULT_HOST_INITIATOR = "iqn.2026-01.io.datamotion.sim:this-host"
INITIATOR_NAME_FILE = "/etc/iscsi/initiatorname.iscsi"

LUN_OS_TYPES = ("aix", "hpux", "hyper_v", "linux", "netware", "openvms", "solaris", "solaris_efi", "vmware", "windows",
                "windows_2008", "windows_gpt", "xen")
IGROUP_OS_TYPES = ("aix", "hpux", "hyper_v", "linux", "netware", "openvms", "solaris", "vmware", "windows", "xen")
PROTOCOLS = ("fcp", "iscsi", "mixed")
_IQN = re.compile(r"^(iqn\.\d{4}-\d{2}\.[^\s:]+(:[^\s]+)?|eui\.[0-9a-fA-F]{16}|naa\.[0-9a-fA-F]{16,32})$")
_WWPN = re.compile(r"^([0-9a-fA-F]{2}:){7}[0-9a-fA-F]{2}$")
_LUN_NAME = re.compile(r"^[A-Za-z0-9_.{}-]{1,255}$")
_SERIAL_CHARS = string.ascii_letters + string.digits + "+-"


@dataclass
class Lun:
    svm: str
    volume: str
    name: str
    size: int
    os_type: str
    space_reserve: bool
    serial: str
    file: str
    comment: str = ""
    create_time: float = field(default_factory=time.time)
    uuid: str = field(default_factory=new_uuid)
    frozen: Dict[str, str] = field(default_factory=dict)   # snapshot uuid -> the LUN's bytes as that snapshot froze them

    @property
    def path(self):
        return "/vol/%s/%s" % (self.volume, self.name)

    @property
    def held(self):
        """Bytes the LUN's snapshots keep: frozen data the LUN has since overwritten or discarded."""
        return sum(_diverged(path, self.file) for path in self.frozen.values())

    @property
    def naa(self):
        return NAA_PREFIX + self.serial.encode("ascii").hex()

    @property
    def used(self):
        """Bytes the LUN's data occupies: what was written, not its size."""
        return min(data.allocated(self.file), self.size)

    @property
    def volume_charge(self):
        """What the LUN takes from its volume: its size when space is reserved, else its data."""
        return (self.size if self.space_reserve else self.used) + self.held


@dataclass
class Igroup:
    svm: str
    name: str
    protocol: str
    os_type: str
    initiators: List[str] = field(default_factory=list)
    uuid: str = field(default_factory=new_uuid)


@dataclass
class LunMap:
    svm: str
    lun: str       # LUN uuid
    igroup: str    # igroup uuid
    lun_id: int


@dataclass
class ClusterSan:
    igroups: Dict[str, Igroup] = field(default_factory=dict)
    maps: List[LunMap] = field(default_factory=list)


COMPARE_CHUNK = 1024 * 1024


def _diverged(frozen, live):
    """Bytes of data in ``frozen`` that ``live`` no longer holds the same (compared in 1 MiB chunks)."""
    total = 0
    try:
        with open(frozen, "rb") as old, open(live, "rb") as new:
            for offset, length in data.data_extents(old.fileno(), os.fstat(old.fileno()).st_size):
                done = 0
                while done < length:
                    n = min(COMPARE_CHUNK, length - done)
                    before = os.pread(old.fileno(), n, offset + done)
                    if os.pread(new.fileno(), n, offset + done) != before:
                        total += n
                    done += n
    except FileNotFoundError:
        return 0
    return total


def _host_initiators(settings):
    if settings.get("host_initiators"):
        return [str(i) for i in settings["host_initiators"]]
    try:
        with open(INITIATOR_NAME_FILE, encoding="utf-8") as handle:
            for line in handle:
                if line.strip().startswith("InitiatorName="):
                    return [line.split("=", 1)[1].strip()]
    except OSError:
        pass
    return [DEFAULT_HOST_INITIATOR]


class San:
    """The SAN objects of every cluster of one model, and their exposure on this machine."""

    def __init__(self, model, settings):
        self.model = model
        self.settings = dict(settings or {})
        self.clusters = {name: ClusterSan() for name in model.clusters}
        self.host_initiators = _host_initiators(self.settings)
        self.expose = self.settings.get("expose", True)
        self._state_dir = self.settings.get("state_dir")
        self._own_state_dir = False
        self.exposures = {}   # lun uuid -> {file, device, link, naa, size}

    # ---------------------------------------------------------------- places
    @property
    def state_dir(self):
        if not self._state_dir:
            self._state_dir = tempfile.mkdtemp(prefix="ontap-sim-san-")
            self._own_state_dir = True
        os.makedirs(self._state_dir, exist_ok=True)
        return self._state_dir

    @property
    def device_dir(self):
        return self.settings.get("device_dir") or os.path.join(self.state_dir, "dev", "disk", "by-id")

    def teardown(self):
        """Detach every loop device and link of this simulator; remove its own temporary state directory."""
        for key in list(self.exposures):
            self._unexpose(key)
        if self._state_dir:
            for device in data.loops_over(self._state_dir):
                data.loop_detach(device)
            for name in os.listdir(self._state_dir) if os.path.isdir(self._state_dir) else []:
                if name.endswith(".luns"):
                    shutil.rmtree(os.path.join(self._state_dir, name), ignore_errors=True)
            if self._own_state_dir:
                shutil.rmtree(self._state_dir, ignore_errors=True)
                self._state_dir = None

    # --------------------------------------------------------------- lookups
    def _cluster(self, cluster_name):
        cluster = self.model.cluster(cluster_name)
        return cluster, self.clusters.setdefault(cluster_name, ClusterSan())

    def luns(self, cluster_name):
        cluster, _san = self._cluster(cluster_name)
        return [lun for vol in cluster.volumes.values() for lun in vol.luns.values()]

    def lun(self, cluster_name, svm=None, path=None, uuid=None):
        for lun in self.luns(cluster_name):
            if uuid is not None and lun.uuid == uuid:
                return lun
            if path is not None and lun.path == path and (svm is None or lun.svm == svm):
                return lun
        raise SimError("lun_not_found", "LUN \"%s\" does not exist%s." % (path or uuid, " in Vserver \"%s\"" % svm if svm else ""),
                       target="lun")

    def igroups(self, cluster_name):
        return list(self._cluster(cluster_name)[1].igroups.values())

    def igroup(self, cluster_name, svm=None, name=None, uuid=None):
        for ig in self.igroups(cluster_name):
            if (uuid is not None and ig.uuid == uuid) or (name is not None and ig.name == name and (svm is None or ig.svm == svm)):
                return ig
        raise SimError("igroup_not_found", "Initiator group \"%s\" does not exist%s." % (name or uuid, " in Vserver \"%s\"" % svm if svm else ""),
                       target="igroup")

    def maps(self, cluster_name):
        return list(self._cluster(cluster_name)[1].maps)

    def maps_of_lun(self, cluster_name, lun):
        return [m for m in self.maps(cluster_name) if m.lun == lun.uuid]

    def maps_of_igroup(self, cluster_name, ig):
        return [m for m in self.maps(cluster_name) if m.igroup == ig.uuid]

    # ------------------------------------------------------------------ LUNs
    def parse_path(self, path):
        """'/vol/<volume>/<lun>' -> (volume, lun)."""
        match = re.match(r"^/vol/([^/]+)/([^/]*)$", path or "")
        if not match:
            raise SimError("invalid", "Invalid LUN path \"%s\": expected \"/vol/<volume>/<lun>\" (qtrees are not simulated)." % path,
                           target="name")
        if not _LUN_NAME.fullmatch(match.group(2)):
            raise SimError("invalid", "Invalid LUN name \"%s\": up to 255 of the characters a-z, A-Z, 0-9, \"-\", \"_\", \".\", \"{\" "
                           "and \"}\"." % match.group(2), target="name")
        return match.group(1), match.group(2)

    def _serial(self):
        taken = {lun.serial for name in self.model.clusters for lun in self.luns(name)}
        while True:
            serial = "".join(random.choice(_SERIAL_CHARS) for _i in range(12))
            if serial not in taken:
                return serial

    def create_lun(self, cluster_name, svm, path, size, os_type, space_reserve=True, comment=""):
        cluster, _san = self._cluster(cluster_name)
        self.model._svm(cluster, svm)   # pylint: disable=protected-access
        volume, name = self.parse_path(path)
        vol = cluster.volumes.get((svm, volume))
        if vol is None:
            raise SimError("lun_volume_not_found", "Volume \"%s\" in Vserver \"%s\" does not exist." % (volume, svm), target="location.volume")
        if os_type not in LUN_OS_TYPES:
            raise SimError("invalid", "Invalid OS type \"%s\": one of %s." % (os_type, ", ".join(LUN_OS_TYPES)), target="os_type")
        size = self._check_size(size)
        if name in vol.luns:
            raise SimError("lun_exists", "A LUN with the name \"%s\" already exists in Vserver \"%s\"." % (path, svm), target="name")
        if vol.state != "online":
            raise SimError("invalid", "Volume \"%s\" is %s." % (vol.path, vol.state), target="location.volume")
        if vol.type != "rw":
            raise SimError("read_only", "Volume \"%s\" is a data protection volume: it is read-only." % vol.path, target="location.volume")
        if space_reserve and size > self._volume_available(vol):
            raise SimError("lun_no_space", "Not enough space in volume \"%s\" for a space-reserved LUN of %d bytes (%d available)."
                           % (vol.path, size, self._volume_available(vol)), target="space.size")
        directory = os.path.join(self.state_dir, "%s.luns" % cluster_name, vol.uuid)
        os.makedirs(directory, exist_ok=True)
        lun = Lun(svm=svm, volume=volume, name=name, size=size, os_type=os_type, space_reserve=bool(space_reserve),
                  serial=self._serial(), file="", comment=comment or "", create_time=self.model.clock())
        lun.file = os.path.join(directory, "%s.lun" % lun.uuid)
        data.create(lun.file, size)
        vol.luns[name] = lun
        return lun

    @staticmethod
    def _check_size(size):
        size = int(size)
        if size < MIN_LUN_SIZE:
            raise SimError("lun_size", "Invalid LUN size %d: the minimum is %d bytes." % (size, MIN_LUN_SIZE), target="space.size")
        if size > MAX_LUN_SIZE:
            raise SimError("lun_size", "Invalid LUN size %d: the maximum is %d bytes." % (size, MAX_LUN_SIZE), target="space.size")
        return (size + 511) // 512 * 512

    @staticmethod
    def _volume_available(vol):
        return max(0, int(vol.size * 0.95) - vol.used)

    def _volume_of(self, cluster_name, lun):
        return self.model.cluster(cluster_name).volumes[(lun.svm, lun.volume)]

    def resize_lun(self, cluster_name, lun, size, force=False):
        size = self._check_size(size)
        if size < lun.size and not force:
            raise SimError("lun_shrink", "Reducing the size of LUN \"%s\" from %d to %d bytes can lose data: force it to shrink."
                           % (lun.path, lun.size, size), target="space.size")
        vol = self._volume_of(cluster_name, lun)
        if lun.space_reserve and size - lun.size > self._volume_available(vol):
            raise SimError("lun_no_space", "Not enough space in volume \"%s\" to grow LUN \"%s\" to %d bytes." % (vol.path, lun.path, size),
                           target="space.size")
        data.resize(lun.file, size)
        lun.size = size
        self.reconcile()
        return lun

    def modify_lun(self, cluster_name, lun, space_reserve=None, comment=None):
        if space_reserve is not None and bool(space_reserve) != lun.space_reserve:
            vol = self._volume_of(cluster_name, lun)
            if space_reserve and lun.size - lun.used > self._volume_available(vol):
                raise SimError("lun_no_space", "Not enough space in volume \"%s\" to reserve LUN \"%s\"." % (vol.path, lun.path),
                               target="space.guarantee.requested")
            lun.space_reserve = bool(space_reserve)
        if comment is not None:
            lun.comment = comment
        return lun

    def destroy_lun(self, cluster_name, lun, force=False):
        _cluster, san = self._cluster(cluster_name)
        if self.maps_of_lun(cluster_name, lun):
            if not force:
                raise SimError("lun_mapped", "LUN \"%s\" is mapped to an initiator group: unmap it first." % lun.path, target="uuid")
            san.maps = [m for m in san.maps if m.lun != lun.uuid]
        vol = self._volume_of(cluster_name, lun)
        del vol.luns[lun.name]
        self.reconcile()
        data.remove(lun.file)
        for path in lun.frozen.values():
            data.remove(path)

    def volume_destroyed(self, vol):
        """A volume went with its LUNs: their maps, exposures and files go too."""
        uuids = {lun.uuid for lun in vol.luns.values()}
        for san in self.clusters.values():
            san.maps = [m for m in san.maps if m.lun not in uuids]
        self.reconcile()
        for lun in vol.luns.values():
            data.remove(lun.file)
            for path in lun.frozen.values():
                data.remove(path)

    # ---------------------------------------------------------------- igroups
    def _check_initiator(self, protocol, name):
        iscsi, fcp = bool(_IQN.match(name)), bool(_WWPN.match(name))
        if (protocol == "iscsi" and not iscsi) or (protocol == "fcp" and not fcp) or not (iscsi or fcp):
            raise SimError("invalid_initiator", "Invalid initiator name \"%s\" for an igroup of protocol %s." % (name, protocol),
                           target="initiators.name")

    def _check_os_conflict(self, cluster_name, svm, os_type, name, ignore=None):
        for other in self.igroups(cluster_name):
            if other.svm == svm and other is not ignore and other.os_type != os_type and name in other.initiators:
                raise SimError("initiator_os_conflict", "Initiator \"%s\" is in initiator group \"%s\" of OS type %s: an initiator cannot "
                               "be in two initiator groups of different OS types." % (name, other.name, other.os_type),
                               target="initiators.name")

    def create_igroup(self, cluster_name, svm, name, protocol="mixed", os_type="linux", initiators=()):
        cluster, san = self._cluster(cluster_name)
        self.model._svm(cluster, svm)   # pylint: disable=protected-access
        if not name or not re.match(r"^[A-Za-z_][A-Za-z0-9_.:-]{0,95}$", name):
            raise SimError("invalid", "Invalid initiator group name \"%s\"." % name, target="name")
        if protocol not in PROTOCOLS:
            raise SimError("invalid", "Invalid protocol \"%s\": one of %s." % (protocol, ", ".join(PROTOCOLS)), target="protocol")
        if os_type not in IGROUP_OS_TYPES:
            raise SimError("invalid", "Invalid OS type \"%s\": one of %s." % (os_type, ", ".join(IGROUP_OS_TYPES)), target="os_type")
        for ig in san.igroups.values():
            if ig.svm == svm and ig.name == name:
                raise SimError("igroup_exists", "Initiator group \"%s\" already exists in Vserver \"%s\"." % (name, svm), target="name")
        initiators = list(dict.fromkeys(initiators or []))
        for initiator in initiators:
            self._check_initiator(protocol, initiator)
            self._check_os_conflict(cluster_name, svm, os_type, initiator)
        ig = Igroup(svm=svm, name=name, protocol=protocol, os_type=os_type, initiators=initiators)
        san.igroups[ig.uuid] = ig
        return ig

    def add_initiators(self, cluster_name, ig, names):
        for name in names:
            if name in ig.initiators:
                raise SimError("initiator_exists", "Initiator \"%s\" is already in initiator group \"%s\"." % (name, ig.name),
                               target="initiators.name")
            self._check_initiator(ig.protocol, name)
            self._check_os_conflict(cluster_name, ig.svm, ig.os_type, name, ignore=ig)
        ig.initiators.extend(names)
        self.reconcile()
        return ig

    def remove_initiator(self, cluster_name, ig, name, force=False):
        if name not in ig.initiators:
            raise SimError("initiator_not_found", "Initiator \"%s\" is not in initiator group \"%s\"." % (name, ig.name),
                           target="initiators.name")
        if self.maps_of_igroup(cluster_name, ig) and not force:
            raise SimError("igroup_mapped", "Initiator group \"%s\" has mapped LUNs: removing initiator \"%s\" cuts its access; "
                           "force it." % (ig.name, name), target="initiators.name")
        ig.initiators.remove(name)
        self.reconcile()
        return ig

    def modify_igroup(self, cluster_name, ig, os_type=None):
        if os_type is not None and os_type != ig.os_type:
            if os_type not in IGROUP_OS_TYPES:
                raise SimError("invalid", "Invalid OS type \"%s\"." % os_type, target="os_type")
            for initiator in ig.initiators:
                self._check_os_conflict(cluster_name, ig.svm, os_type, initiator, ignore=ig)
            ig.os_type = os_type
        return ig

    def destroy_igroup(self, cluster_name, ig, force=False):
        _cluster, san = self._cluster(cluster_name)
        if self.maps_of_igroup(cluster_name, ig):
            if not force:
                raise SimError("igroup_mapped", "Initiator group \"%s\" has mapped LUNs: unmap them first." % ig.name, target="uuid")
            san.maps = [m for m in san.maps if m.igroup != ig.uuid]
        del san.igroups[ig.uuid]
        self.reconcile()

    # ------------------------------------------------------------------- maps
    def map_lun(self, cluster_name, lun, ig, lun_id=None):
        _cluster, san = self._cluster(cluster_name)
        if lun.svm != ig.svm:
            raise SimError("igroup_not_found", "Initiator group \"%s\" is not in Vserver \"%s\" of LUN \"%s\"." % (ig.name, lun.svm, lun.path),
                           target="igroup")
        in_group = self.maps_of_igroup(cluster_name, ig)
        for m in in_group:
            if m.lun == lun.uuid:
                raise SimError("lun_already_mapped", "LUN \"%s\" is already mapped to initiator group \"%s\" (LUN ID %d)."
                               % (lun.path, ig.name, m.lun_id), target="lun")
        used = {m.lun_id for m in in_group}
        if lun_id is None:
            lun_id = next(i for i in range(MAX_LUN_ID + 1) if i not in used)
        lun_id = int(lun_id)
        if not 0 <= lun_id <= MAX_LUN_ID:
            raise SimError("invalid", "Invalid LUN ID %d: 0 to %d." % (lun_id, MAX_LUN_ID), target="logical_unit_number")
        if lun_id in used:
            raise SimError("lun_id_in_use", "LUN ID %d is already used in initiator group \"%s\"." % (lun_id, ig.name),
                           target="logical_unit_number")
        mapping = LunMap(svm=lun.svm, lun=lun.uuid, igroup=ig.uuid, lun_id=lun_id)
        san.maps.append(mapping)
        self.reconcile()
        return mapping

    def unmap_lun(self, cluster_name, lun, ig):
        _cluster, san = self._cluster(cluster_name)
        for m in san.maps:
            if m.lun == lun.uuid and m.igroup == ig.uuid:
                san.maps.remove(m)
                self.reconcile()
                return m
        raise SimError("map_not_found", "LUN \"%s\" is not mapped to initiator group \"%s\"." % (lun.path, ig.name), target="lun")

    # -------------------------------------------------------------- snapshots
    def snapshot_created(self, vol, snap_uuid):
        """A snapshot of ``vol`` freezes its LUNs' bytes (a sparse copy each, holes kept)."""
        for lun in vol.luns.values():
            frozen = "%s.%s.snap" % (lun.file[:-len(".lun")], snap_uuid)
            data.copy(lun.file, frozen, lun.size)
            lun.frozen[snap_uuid] = frozen

    def snapshot_deleted(self, vol, snap_uuid):
        for lun in vol.luns.values():
            path = lun.frozen.pop(snap_uuid, None)
            if path:
                data.remove(path)

    # --------------------------------------------------------------- exposure
    def wanted_exposures(self):
        """{lun uuid: lun} for every LUN mapped to an igroup that holds one of this host's initiators."""
        wanted = {}
        if not self.expose:
            return wanted
        local = set(self.host_initiators)
        for cluster_name, san in self.clusters.items():
            if cluster_name not in self.model.clusters:
                continue
            luns = {lun.uuid: lun for lun in self.luns(cluster_name)}
            for m in san.maps:
                ig = san.igroups.get(m.igroup)
                if ig is not None and local.intersection(ig.initiators) and m.lun in luns:
                    wanted[m.lun] = luns[m.lun]
        return wanted

    def reconcile(self):
        """Make loop devices and WWN links match the maps."""
        wanted = self.wanted_exposures()
        for key, exp in list(self.exposures.items()):
            lun = wanted.get(key)
            if lun is None or lun.file != exp["file"]:
                self._unexpose(key)
            elif data.size(lun.file) != exp["size"]:
                if exp["device"]:
                    data.loop_refresh(exp["device"])
                exp["size"] = data.size(lun.file)
        for key, lun in wanted.items():
            if key in self.exposures:
                continue
            device = data.loop_attach(lun.file)
            if device:
                # a loop device keeps a read-only flag (BLKROSET) across detach: a LUN is exposed writable
                subprocess.run(["blockdev", "--setrw", device], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            link = data.link(self.device_dir, lun.naa, device or lun.file)
            self.exposures[key] = {"file": lun.file, "device": device, "link": link, "naa": lun.naa, "size": data.size(lun.file)}

    def _unexpose(self, key):
        exp = self.exposures.pop(key)
        # a host may have detached it already (host_lun state=absent before the unmap), and the loop number
        # may now serve another program: detach it only while it still is this LUN's
        if exp.get("device") and data.backs(exp["device"], exp["file"]):
            data.loop_detach(exp["device"])
        data.unlink(self.device_dir, exp["naa"])

    # ------------------------------------------------------------------- dump
    def dump(self, cluster_name):
        luns = {}
        for lun in self.luns(cluster_name):
            exp = self.exposures.get(lun.uuid) or {}
            luns[lun.path] = {"svm": lun.svm, "uuid": lun.uuid, "size": lun.size, "used": lun.used, "os_type": lun.os_type,
                              "space_reserve": lun.space_reserve, "serial": lun.serial, "naa": lun.naa, "file": lun.file,
                              "device": exp.get("device"), "link": exp.get("link"), "held": lun.held,
                              "frozen": dict(lun.frozen)}
        san = self.clusters.get(cluster_name) or ClusterSan()
        names = {ig.uuid: ig.name for ig in san.igroups.values()}
        paths = {lun.uuid: lun.path for lun in self.luns(cluster_name)}
        return {"luns": luns,
                "igroups": {ig.name: {"svm": ig.svm, "protocol": ig.protocol, "os_type": ig.os_type, "initiators": list(ig.initiators)}
                            for ig in san.igroups.values()},
                "maps": [{"lun": paths.get(m.lun), "igroup": names.get(m.igroup), "lun_id": m.lun_id} for m in san.maps],
                "host_initiators": list(self.host_initiators), "device_dir": self.device_dir}


def load(model, seed):
    """(Re)build the SAN state of ``model`` from the ``san`` settings of its seed: LUNs of the old state go."""
    old = getattr(model, "san", None)
    settings = dict((seed or {}).get("san") or {})
    if old is not None:
        old.teardown()
        # the settings set at start (serve options) stay over a reset
        settings = dict(old.settings, **settings)
        if old._own_state_dir is False and old._state_dir:   # pylint: disable=protected-access
            settings.setdefault("state_dir", old._state_dir)   # pylint: disable=protected-access
    model.san = San(model, settings)
    return copy.copy(model.san.host_initiators)
