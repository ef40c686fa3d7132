# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
name: arrays
short_description: VNX and ONTAP arrays, and the hosts attached to them, as inventory
version_added: 0.2.0
description:
  - Reads the arrays named in a C(*.arrays.yml) file and yields each one as a host with
    C(ansible_connection=local) and C(ansible_python_interpreter) the Python that runs Ansible (the array modules
    run on the controller or in the execution environment, with the libraries this plugin uses).
  - With O(attached_hosts), also yields the hosts attached to the arrays, each with its LUNs, their pools and WWNs
    as host variables, so that a play can target, for example, every host with a LUN in pool C(Pool0) (see
    O(keyed_groups) in the examples). On a VNX these are the hosts of its storage groups, named as the VNX names
    them; on an ONTAP cluster each igroup is one host, named as the igroup, with the igroup's initiators in
    C(datamotion_initiators). A host of the same name on several arrays (or an igroup of the same name in several
    SVMs) is one host with the LUNs of all of them.
  - ONTAP clusters are yielded as array hosts with their SnapMirror relationships.
  - Credentials come from the file (vaulted values work) or from the environment variables the modules read
    (E(VNX_USERNAME), E(VNX_PASSWORD), E(ONTAP_USERNAME), E(ONTAP_PASSWORD), ...). They are never written into
    the inventory cache or into host variables.
  - An array that cannot be read (unreachable, refused credentials) gives a warning that names the file and
    the array, and neither it nor its hosts are in the inventory; with O(strict=true) it is an error.
  - Uses the collection's VNX client (storops running naviseccli) and ONTAP client (REST, or ZAPI through netapp-lib).
author:
  - Storage DataMotion Team (@storage-datamotion)
requirements:
  - storops >= 1.2.12 and naviseccli, for VNX arrays
  - requests (REST) or netapp-lib (ZAPI), for ONTAP clusters
extends_documentation_fragment:
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
options:
  plugin:
    description: The name of this plugin; the file must end in C(.arrays.yml) or C(.arrays.yaml).
    type: str
    required: true
    choices: [storage.datamotion.arrays]
  arrays:
    description:
      - The arrays to read, one entry each.
      - "Keys of every entry: C(name) (the inventory host name of the array; default: its address), C(type)
        (C(vnx) or C(ontap), required), C(address) (a VNX SP address or an ONTAP cluster's host name, required),
        C(username), C(password), C(timeout)."
      - "VNX only: C(scope), C(security_file), C(naviseccli_path). ONTAP only: C(port), C(https),
        C(validate_certs), C(use_rest)."
      - A key that is not given falls back to the environment variable the modules read for it
        (for example E(VNX_PASSWORD), E(ONTAP_PORT)).
    type: list
    elements: dict
    required: true
  attached_hosts:
    description:
      - Also yield the hosts attached to the arrays (VNX storage-group hosts, ONTAP igroups), with host variables
        C(datamotion_luns), C(datamotion_lun_pools), C(datamotion_lun_wwns) and C(datamotion_arrays), in group
        C(datamotion_hosts).
      - "Each VNX LUN in C(datamotion_luns) has the keys array, storage_group, lun, lun_id, wwn, pool, size_gb, hlu."
      - "Each ONTAP LUN (one per LUN map of the igroup) has the keys array, svm, igroup, lun (its name), path, lun_id
        (the LUN ID of the map, what the host sees), volume, aggregate (null when the volume is not in exactly one
        aggregate the cluster reports), pool, serial, wwn (the NAA identifier, V(600a0980) and the serial in hex),
        size (bytes), size_gb."
      - "The pool of an ONTAP LUN, in C(datamotion_lun_pools) and the LUN's pool key, is always its volume as
        C(svm:volume) (never the aggregate), so a keyed group on C(datamotion_lun_pools) with prefix C(pool) makes, for
        a LUN in volume C(vol1) of SVM C(svm1), the group C(pool_svm1_vol1)."
      - ONTAP hosts also get C(datamotion_initiators), the initiators of the igroup.
      - An attached host named as an array in this file is an error.
    type: bool
    default: false
"""

EXAMPLES = r"""
# lab.arrays.yml: two arrays; credentials from VNX_USERNAME/VNX_PASSWORD and ONTAP_USERNAME/ONTAP_PASSWORD
plugin: storage.datamotion.arrays
arrays:
  - name: vnx_prod
    type: vnx
    address: 192.0.2.10
  - name: ontap_dr
    type: ontap
    address: cluster-dr.example.com
    password: !vault |
      $ANSIBLE_VAULT;1.1;AES256
      ...
attached_hosts: true
# every host with a LUN in pool Pool0 is in group pool_Pool0
keyed_groups:
  - key: datamotion_lun_pools
    prefix: pool
compose:
  lun_count: datamotion_luns | length
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/datamotion-inventory
"""

import logging
import os
import sys

from ansible.errors import AnsibleError, AnsibleParserError
from ansible.module_utils.common.text.converters import to_native
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.storage.datamotion.plugins.module_utils.ontap import client as ontap_client
from ansible_collections.storage.datamotion.plugins.module_utils.ontap.san import san_client
from ansible_collections.storage.datamotion.plugins.module_utils.ontap.common import (
    OntapError, connection_argument_spec)
from ansible_collections.storage.datamotion.plugins.module_utils.vnx import common as vnx_common
from ansible_collections.storage.datamotion.plugins.module_utils.vnx.client import VnxClient, VnxError

# The key of the address in each array type's module options.
ADDRESS_OPTION = {"vnx": "sp_address", "ontap": "hostname"}
COMMON_KEYS = ("name", "type", "address", "username", "password", "timeout")
TYPE_KEYS = {"vnx": ("scope", "security_file", "naviseccli_path"),
             "ontap": ("port", "https", "validate_certs", "use_rest")}


def module_spec(array_type):
    """The modules' connection options of that array type (their env fallbacks and types)."""
    return vnx_common.vnx_argument_spec() if array_type == "vnx" else connection_argument_spec()


def address(array):
    """The address an array entry reads (after the environment's fallbacks)."""
    return array["params"][ADDRESS_OPTION[array["type"]]]


class ArrayUnreadable(Exception):
    """An array could not be read: a warning (or an error under strict)."""


class _Failer:
    """Just enough of an AnsibleModule for the VNX library checks: fail_json raises."""

    def __init__(self, params):
        self.params = params

    def fail_json(self, msg, **kwargs):
        raise ArrayUnreadable(msg)


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):

    NAME = "storage.datamotion.arrays"

    def verify_file(self, path):
        return super(InventoryModule, self).verify_file(path) and path.endswith((".arrays.yml", ".arrays.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache=cache)
        config = self._read_config_data(path)
        unknown = sorted(set(config) - set(self._options) - {"plugin"})
        if unknown:
            raise AnsibleParserError("%s: unknown key %s (known: %s)"
                                     % (path, ", ".join(repr(k) for k in unknown), ", ".join(sorted(self._options))))
        arrays = [self._connection(path, i, entry) for i, entry in enumerate(self.get_option("arrays") or [])]
        names = {}
        for array in arrays:
            if array["name"] in names:
                raise AnsibleParserError("%s: arrays[%d].name: %r is also the name of arrays[%d]; give each array its own name"
                                         % (path, array["index"], array["name"], names[array["name"]]))
            names[array["name"]] = array["index"]

        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache") and cache
        facts = None
        if use_cache:
            try:
                facts = self._cache[cache_key]
            except KeyError:
                facts = None
        # an array added to the file, or one given another address, since the cache was written is read again
        wanted = dict((array["name"], address(array)) for array in arrays)
        if facts is not None and any((facts.get(name) or {}).get("address") != at for name, at in wanted.items()):
            facts = None
        if facts is None:
            facts = dict((array["name"], self._read(path, array)) for array in arrays)
            if self.get_option("cache") and None not in facts.values():
                # only what was read from the arrays: connection settings and credentials stay out;
                # an array that could not be read is not cached as having nothing
                self._cache[cache_key] = facts
        self._populate(path, arrays, facts)

    # ------------------------------------------------------------------ the file
    def _connection(self, path, index, entry):
        """One entry of `arrays`, checked, with the environment's fallbacks; names the file and key on errors."""
        where = "%s: arrays[%d]" % (path, index)
        if not isinstance(entry, dict):
            raise AnsibleParserError("%s: is %r; each array is a mapping with at least type and address" % (where, entry))
        for key, value in entry.items():
            # every key is one value: str() of a list would become a host name or an address
            if isinstance(value, (list, dict)):
                raise AnsibleParserError("%s.%s: is a %s (%r); give one value"
                                         % (where, key, "list" if isinstance(value, list) else "mapping", value))
        array_type = entry.get("type")
        if array_type not in TYPE_KEYS:
            raise AnsibleParserError("%s.type: is %r; give vnx or ontap" % (where, array_type))
        allowed = COMMON_KEYS + TYPE_KEYS[array_type]
        for key in entry:
            if key not in allowed:
                raise AnsibleParserError("%s: unknown key %r for a %s array (known: %s)"
                                         % (where, key, array_type, ", ".join(allowed)))
        if not entry.get("address"):
            raise AnsibleParserError("%s: key 'address' is missing; give the %s"
                                     % (where, "SP address" if array_type == "vnx" else "cluster's host name or address"))
        spec = module_spec(array_type)
        params = {}
        for option, rule in spec.items():
            key = "address" if option == ADDRESS_OPTION[array_type] else option
            if key not in allowed:
                continue
            value = entry.get(key)
            if value is None and rule.get("fallback"):
                # AWX injects '' for an optional credential input left blank: that is no value
                value = next((os.environ[v] for v in rule["fallback"][1] if os.environ.get(v)), None)
            if value is None:
                value = rule.get("default")
            if value is not None:
                try:
                    value = self._convert(rule.get("type"), value)
                except (TypeError, ValueError) as exc:
                    raise AnsibleParserError("%s.%s: %s" % (where, key, to_native(exc)))
            params[option] = value
        return dict(index=index, where=where, type=array_type, name=str(entry.get("name") or entry["address"]),
                    params=params)

    @staticmethod
    def _convert(kind, value):
        if kind == "bool":
            return boolean(value, strict=True)
        if kind == "int":
            return int(value)
        value = to_native(value)  # also decrypts a vaulted value
        return os.path.expanduser(value) if kind == "path" else value

    # ------------------------------------------------------------------ the arrays
    def _read(self, path, array):
        """The facts of one array, or None (and a warning) when it cannot be read."""
        try:
            read = self._read_vnx(array) if array["type"] == "vnx" else self._read_ontap(array)
            return dict(read, address=address(array))
        except (ArrayUnreadable, VnxError, OntapError) as exc:
            msg = "%s (%s array %r at %s): %s" % (array["where"], array["type"], array["name"], address(array), to_native(exc))
            if self.get_option("strict"):
                raise AnsibleError(msg)
            self.display.warning(msg + "; this array and its hosts are left out of the inventory")
            return None

    def _read_vnx(self, array):
        p = array["params"]
        failer = _Failer(p)
        vnx_common.check_storops(failer)
        if not p.get("security_file") and (p.get("username") is None or p.get("password") is None):
            raise ArrayUnreadable("no credentials: give username and password (or set VNX_USERNAME and VNX_PASSWORD), "
                                  "or a security_file")
        vnx_common.check_naviseccli(failer, p.get("naviseccli_path"))
        client = VnxClient(sp_address=p["sp_address"], username=p.get("username"), password=p.get("password"),
                           scope=p.get("scope") or 0, security_file=p.get("security_file"),
                           naviseccli_path=p.get("naviseccli_path"), timeout=p.get("timeout"))
        # storops logs each failed naviseccli call with its traceback (the client sends its logs to stderr, for the
        # modules): the warning of _read says what failed, so the inventory keeps them out of ansible-inventory's output
        logging.getLogger("storops").handlers = [logging.NullHandler()]
        system = client.get_system()
        if not system.serial:
            # a naviseccli that fails without an error text (exit 127, stderr only) reads as an empty array
            raise ArrayUnreadable("naviseccli answered no serial number for the system (getagent); check naviseccli_path "
                                  "and run it by hand against this SP")
        luns = client.list_luns()
        by_id = dict((lun.id, lun) for lun in luns)
        groups = client.list_storage_groups()
        attached = {}
        for group in groups:
            for host in group.hosts:
                for hlu, lun_id in sorted(group.hlus.items()):
                    lun = by_id.get(lun_id)
                    attached.setdefault(host, []).append(dict(
                        array=array["name"], storage_group=group.name, lun=lun.name if lun else None, lun_id=lun_id,
                        wwn=lun.wwn if lun else None, pool=lun.pool if lun else None,
                        size_gb=lun.size_gb if lun else None, hlu=hlu))
        return dict(
            vars=dict(vnx_serial=system.serial, vnx_model=system.model, vnx_revision=system.revision,
                      vnx_pools=[pool.facts() for pool in client.list_pools()],
                      vnx_luns=[lun.facts() for lun in luns],
                      vnx_storage_groups=[group.facts() for group in groups]),
            attached=attached)

    def _read_ontap(self, array):
        p = array["params"]
        missing = ontap_client.missing_library(p.get("use_rest"))
        if missing:
            raise ArrayUnreadable("the Python library %s is not installed where the inventory runs (pip install %s)"
                                  % (missing[0], missing[0]))
        if not p.get("username") or not p.get("password"):
            raise ArrayUnreadable("no credentials: give username and password (or set ONTAP_USERNAME and ONTAP_PASSWORD)")
        client = ontap_client.connect(p)
        facts = dict(vars=dict(ontap_transport=client.transport,
                               ontap_relationships=[rel.facts() for rel in client.relationships()]),
                     attached={}, initiators={})
        # read whether or not attached_hosts is set, as the VNX storage groups are: the cache serves both
        facts["attached"], facts["initiators"] = self._ontap_igroups(array["name"], client)
        return facts

    @staticmethod
    def _ontap_igroups(array_name, client):
        """Each igroup as an attached host: its LUN maps (in the VNX hosts' keys) and its initiators."""
        san = san_client(client)
        igroups = san.igroups()
        luns = dict(((lun.svm, lun.path), lun) for lun in san.luns())
        maps = san.lun_maps()
        volumes = client.volumes(set("%s:%s" % (m.svm, m.path.split("/")[2]) for m in maps))
        attached = dict((ig.name, []) for ig in igroups)
        for m in sorted(maps, key=lambda m: (m.igroup, m.lun_id)):
            lun = luns.get((m.svm, m.path))
            volume = m.path.split("/")[2]
            aggregates = getattr(volumes.get("%s:%s" % (m.svm, volume)), "aggregates", None) or []
            attached.setdefault(m.igroup, []).append(dict(
                array=array_name, svm=m.svm, igroup=m.igroup, lun=m.path.split("/")[3], path=m.path, lun_id=m.lun_id,
                volume=volume, aggregate=aggregates[0] if len(aggregates) == 1 else None,
                # the pool of an ONTAP LUN is its volume, as svm:volume: a volume is always known (an aggregate
                # is not to an SVM administrator, nor one for a FlexGroup) and volume names repeat across SVMs
                pool="%s:%s" % (m.svm, volume),
                serial=lun.serial if lun else None, wwn=lun.naa if lun else None,
                size=lun.size if lun else None, size_gb=round(lun.size / 1024.0 ** 3, 3) if lun else None))
        initiators = dict((ig.name, sorted(ig.initiators)) for ig in igroups)
        return attached, initiators

    # ------------------------------------------------------------------ the inventory
    def _populate(self, path, arrays, facts):
        strict = self.get_option("strict")
        array_names = set(array["name"] for array in arrays)
        hosts = {}
        host_arrays = {}
        initiators = {}
        for array in arrays:
            read = facts.get(array["name"])
            if read is None:
                continue
            p = array["params"]
            # the modules need storops/netapp-lib, which are where this plugin imported them, not
            # necessarily in the Python that interpreter discovery would find
            hostvars = dict(ansible_connection="local", ansible_python_interpreter=sys.executable,
                            datamotion_array_type=array["type"],
                            datamotion_array_address=p[ADDRESS_OPTION[array["type"]]])
            # the non-secret connection options, for the modules' options in a play (vnx_sp_address, ontap_port, ...)
            for option, value in p.items():
                if value is not None and option not in ("username", "password", "timeout"):
                    hostvars["%s_%s" % (array["type"], option)] = value
            hostvars.update(read["vars"])
            self._add(array["name"], ["datamotion_arrays", "datamotion_%s" % array["type"]], hostvars, strict)
            for host, luns in read["attached"].items():
                if host in array_names:
                    raise AnsibleParserError("%s: arrays[%d] (%s) has an attached host named %r, which is also the name of "
                                             "an array in this file (key 'name'); rename the array"
                                             % (path, array["index"], array["name"], host))
                hosts.setdefault(host, []).extend(luns)
                host_arrays.setdefault(host, set()).add(array["name"])  # an igroup without LUNs too
            for host, names in (read.get("initiators") or {}).items():
                initiators[host] = sorted(set(initiators.get(host, [])) | set(names))
        if not self.get_option("attached_hosts"):
            return
        for host, luns in sorted(hosts.items()):
            hostvars = dict(datamotion_luns=luns,
                            datamotion_lun_pools=sorted(set(lun["pool"] for lun in luns if lun["pool"])),
                            datamotion_lun_wwns=[lun["wwn"] for lun in luns if lun["wwn"]],
                            datamotion_arrays=sorted(host_arrays[host]))
            if host in initiators:
                hostvars["datamotion_initiators"] = initiators[host]
            self._add(host, ["datamotion_hosts"], hostvars, strict)

    def _add(self, host, groups, hostvars, strict):
        for group in groups:
            self.inventory.add_group(group)
        self.inventory.add_host(host, group=groups[0])
        for group in groups[1:]:
            self.inventory.add_child(group, host)
        for key, value in hostvars.items():
            self.inventory.set_variable(host, key, value)
        self._set_composite_vars(self.get_option("compose"), hostvars, host, strict=strict)
        self._add_host_to_composed_groups(self.get_option("groups"), hostvars, host, strict=strict)
        self._add_host_to_keyed_groups(self.get_option("keyed_groups"), hostvars, host, strict=strict)
