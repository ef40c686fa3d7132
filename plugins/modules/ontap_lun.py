#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: ontap_lun
short_description: Create, grow or delete a LUN on NetApp ONTAP, thin or space reserved
version_added: 0.2.0
description:
  - Makes the LUN C(/vol/<volume>/<name>) of an SVM present with the size, OS type and space reservation you
    declare, or absent. The volume can be created on the fly.
  - A LUN is this collection's when its comment is C(managed by storage.datamotion), which this module writes
    when it creates the LUN. A LUN of the same name without that comment belongs to someone else - the module
    fails rather than change, adopt or delete it.
  - A LUN only grows. A smaller O(size) is refused (shrinking cuts off what the host wrote there).
  - Everything is read and checked first, so a bad input fails with nothing changed on the cluster.
author:
  - Storage DataMotion Team (@storage-datamotion)
extends_documentation_fragment:
  - storage.datamotion.ontap
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.actiongroups
attributes:
  check_mode:
    support: full
    details: Reads and plans, and fails as the real run would, without changing anything.
  diff_mode:
    support: full
options:
  svm:
    description: The SVM (Vserver) of the LUN.
    type: str
    required: true
    aliases: [vserver]
  volume:
    description: The volume that holds the LUN.
    type: str
    required: true
    aliases: [flexvol_name]
  name:
    description: The LUN's name in the volume; its path is C(/vol/<volume>/<name>).
    type: str
    required: true
  state:
    description:
      - V(present) creates the LUN or grows it; V(absent) deletes it when it is this collection's and not mapped
        (unmap it with M(storage.datamotion.ontap_lun_map) first).
    type: str
    choices: [present, absent]
    default: present
  size:
    description:
      - Size of the LUN, in bytes or with a unit (V(10GiB), V(512m); units are powers of 1024). Required to create
        it. ONTAP rounds it up to whole 512-byte sectors. A bigger size than the LUN's grows it; a smaller one is an error.
    type: str
  os_type:
    description:
      - The OS of the hosts that use the LUN; V(linux) when the LUN is created without it. ONTAP cannot change it on an
        existing LUN, so a different one is an error.
    type: str
    aliases: [ostype]
    choices: [aix, hpux, hyper_v, linux, netware, openvms, solaris, solaris_efi, vmware, windows, windows_2008, windows_gpt, xen]
  space_reserve:
    description:
      - V(false) makes a thin LUN, which takes from its volume only what is written; V(true) reserves the whole size
        in the volume (thick). A LUN created without it is thin; on an existing LUN, a value sets the reservation and
        no value leaves it as it is.
    type: bool
  volume_size:
    description:
      - Create the volume with this size (bytes or with a unit) in O(aggregate) when it does not exist. Without it a
        missing volume is an error. ONTAP takes 20 MiB at least.
    type: str
  aggregate:
    description: The aggregate of a volume created with O(volume_size).
    type: str
seealso:
  - module: storage.datamotion.ontap_lun_map
"""

EXAMPLES = r"""
- name: A thin 100 GiB LUN for a Linux host, in a volume made for it
  storage.datamotion.ontap_lun:
    hostname: cluster-b.example.com
    username: admin
    password: "{{ ontap_password }}"
    svm: svm_san
    volume: db01
    volume_size: 200GiB
    aggregate: aggr1
    name: data
    size: 100GiB
  register: lun

- name: Grow it
  storage.datamotion.ontap_lun:
    svm: svm_san
    volume: db01
    name: data
    size: 150GiB

- name: Delete it (after unmapping it)
  storage.datamotion.ontap_lun:
    svm: svm_san
    volume: db01
    name: data
    state: absent
"""

RETURN = r"""
lun:
  description: The LUN after the run (check mode - as it would be); empty when absent.
  returned: always
  type: dict
  contains:
    path:
      description: C(/vol/<volume>/<name>).
      type: str
    size:
      description: Size in bytes.
      type: int
    used:
      description: Bytes the LUN's data occupies on the cluster (what was written to a thin LUN).
      type: int
    os_type:
      description: The LUN's OS type.
      type: str
    space_reserve:
      description: Whether the whole size is reserved in the volume.
      type: bool
    serial:
      description: ONTAP's serial number of the LUN.
      type: str
    naa:
      description: The NAA identifier hosts see (C(600a0980) then the serial's hex); C(/dev/disk/by-id/wwn-0x<naa>) on Linux.
      type: str
    wwn_link:
      description: The name of the LUN's link in C(/dev/disk/by-id) on a Linux host that sees it.
      type: str
    ours:
      description: Whether this collection created the LUN.
      type: bool
  sample:
    path: /vol/db01/data
    size: 107374182400
    used: 1048576
    os_type: linux
    space_reserve: false
    serial: wf0Iq+N4uck3
    naa: 600a098077663049712b4e3475636b33
    wwn_link: wwn-0x600a098077663049712b4e3475636b33
    ours: true
actions:
  description: What the run did (check mode - would do), in order.
  returned: always
  type: list
  elements: str
  sample: ["create volume svm_san:db01 of 214748364800 bytes in aggr1", "create LUN /vol/db01/data of 107374182400 bytes"]
actions_done:
  description:
    - When the task fails, the actions that were done before the failure (they stay on the cluster), in order; empty
      when it failed before changing anything.
  returned: failure
  type: list
  elements: str
  sample: ["create volume svm_san:db01 of 214748364800 bytes in aggr1"]
transport:
  description: The API used, V(rest) or V(zapi).
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.storage.datamotion.plugins.module_utils.ontap.client import connect, missing_library
from ansible_collections.storage.datamotion.plugins.module_utils.ontap.common import OntapError, connection_argument_spec
from ansible_collections.storage.datamotion.plugins.module_utils.ontap.san import (
    LUN_OS_TYPES, MAX_LUN_SIZE, MIN_LUN_SIZE, lun_path, lun_size, parse_size, plan_lun, san_client,
)


MIN_VOLUME_SIZE = 20 * 1024 ** 2


def argument_spec():
    spec = connection_argument_spec()
    spec.update(
        svm=dict(type="str", required=True, aliases=["vserver"]),
        volume=dict(type="str", required=True, aliases=["flexvol_name"]),
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        size=dict(type="str"),
        os_type=dict(type="str", aliases=["ostype"], choices=list(LUN_OS_TYPES)),
        space_reserve=dict(type="bool"),
        volume_size=dict(type="str"),
        aggregate=dict(type="str"),
    )
    return spec


def describe(action, want):
    kind, value = action
    return {
        "create_volume": "create volume %s:%s of %s bytes in %s" % (want["svm"], want["volume"], value, want.get("aggregate")),
        "create": "create LUN %s of %s bytes" % (want["path"], value),
        "resize": "grow LUN %s to %s bytes" % (want["path"], value),
        "set_space_reserve": "set space reservation of LUN %s to %s" % (want["path"], value),
        "delete": "delete LUN %s" % want["path"],
    }[kind]


def desired(params):
    want = dict(svm=params["svm"], volume=params["volume"], state=params["state"], os_type=params["os_type"],
                space_reserve=params["space_reserve"], aggregate=params["aggregate"], path=lun_path(params["volume"], params["name"]))
    want["size"] = lun_size(params["size"]) if params["size"] is not None else None
    if want["size"] is not None and not MIN_LUN_SIZE <= want["size"] <= MAX_LUN_SIZE:
        raise OntapError("size %s is outside what ONTAP allows for a LUN (%d bytes to 128 TiB)" % (params["size"], MIN_LUN_SIZE))
    create_volume = None
    if params["volume_size"] is not None:
        if not params["aggregate"]:
            raise OntapError("volume_size needs aggregate: the aggregate to create volume %s in" % params["volume"])
        create_volume = dict(size=parse_size(params["volume_size"]), aggregate=params["aggregate"])
        if create_volume["size"] < MIN_VOLUME_SIZE:
            raise OntapError("volume_size %s is below the %d bytes (20 MiB) ONTAP allows for a volume" % (params["volume_size"], MIN_VOLUME_SIZE))
    return want, create_volume


def run(module):
    want, create_volume = desired(module.params)
    client = connect(module.params)
    san = san_client(client)
    if want["svm"] not in client.svms([want["svm"]]):
        raise OntapError("SVM %s does not exist on ONTAP cluster %s" % (want["svm"], module.params["hostname"]))
    current = san.lun(want["svm"], want["path"])
    volume = san.volume(want["svm"], want["volume"]) if want["state"] == "present" else None
    available = None
    if current is None and volume is None and create_volume and want["state"] == "present":
        aggregate = client.aggregates([create_volume["aggregate"]]).get(create_volume["aggregate"])
        available = aggregate.available if aggregate else None
    actions = plan_lun(want, current, volume, create_volume, available)
    before = current.facts() if current else {}
    if actions and not module.check_mode:
        done = []
        try:
            for kind, value in actions:
                apply(san, want, current, kind, value)
                done.append(describe((kind, value), want))
            after = san.lun(want["svm"], want["path"])
            if want["state"] == "present" and after is None:
                raise OntapError("LUN %s is not on the cluster after it was created; re-run to converge" % want["path"])
        except OntapError as exc:
            # what was done before the failure stays (a volume created, then the LUN refused): the caller is told
            module.fail_json(msg=str(exc), changed=bool(done), actions_done=done)
        after_facts = after.facts() if after else {}
    else:
        after_facts = predicted(before, want, actions)
    result = dict(changed=bool(actions), actions=[describe(a, want) for a in actions], lun=after_facts, transport=client.transport)
    if module._diff:
        result["diff"] = dict(before=before, after=after_facts)
    module.exit_json(**result)


def apply(san, want, current, kind, value):
    if kind == "create_volume":
        try:
            san.create_volume(want["svm"], want["volume"], value, want["aggregate"])
        except OntapError:
            # a parallel run (another LUN of this volume) may have created it first: go on in it if it takes a LUN
            raced = san.volume(want["svm"], want["volume"])
            if raced is None or raced.type != "rw":
                raise
    elif kind == "create":
        try:
            san.create_lun(want["svm"], want["path"], value, want["os_type"] or "linux", bool(want["space_reserve"]))
        except OntapError:
            # a parallel run may have created it first: converge only on a LUN of ours, else the cluster's error stands
            raced = san.lun(want["svm"], want["path"])
            if raced is None or not raced.ours:
                raise
    elif kind == "resize":
        san.resize_lun(current, value)
    elif kind == "set_space_reserve":
        san.set_space_reserve(current, value)
    elif kind == "delete":
        san.delete_lun(current)


def predicted(before, want, actions):
    """The LUN's facts as the actions would leave them (check mode, or nothing to do)."""
    if want["state"] == "absent":
        return {}
    after = dict(before) if before else dict(path=want["path"], volume=want["volume"], name=want["path"].split("/")[3],
                                             svm=want["svm"], os_type=want["os_type"] or "linux", used=0, ours=True)
    for kind, value in actions:
        if kind in ("create", "resize"):
            after["size"] = value
        if kind in ("create", "set_space_reserve"):
            after["space_reserve"] = bool(want["space_reserve"])
    return after


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    missing = missing_library(module.params["use_rest"])
    if missing:
        module.fail_json(msg=missing_required_lib(missing[0]), exception=str(missing[1]))
    try:
        run(module)
    except OntapError as exc:
        module.fail_json(msg=str(exc), actions_done=[])


if __name__ == "__main__":
    main()
