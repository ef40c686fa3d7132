#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: ontap_lun_map
short_description: Map a LUN to a host's igroup on NetApp ONTAP, creating the igroup with its initiators, or unmap it
version_added: 0.2.0
description:
  - Makes the igroup O(igroup) of the SVM present with the host's O(initiators) (created, or completed with the
    missing ones) and the LUN O(path) mapped to it at O(lun_id), or at the lowest free LUN ID when none is given.
    V(absent) unmaps the LUN from the igroup and leaves the igroup.
  - An igroup is taken as the host's only when every initiator in it is one of O(initiators); an igroup that also
    holds another initiator belongs to another host and the module fails instead of mapping the LUN there. Its
    protocol and OS type are never changed.
  - Safe under parallel forks - when another run creates the igroup or maps the LUN first, the module reads the
    cluster again and converges on what is there, or fails with the cluster's error when that is not what was asked.
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
    description: The SVM (Vserver) of the LUN and the igroup.
    type: str
    required: true
    aliases: [vserver]
  path:
    description: The LUN, C(/vol/<volume>/<name>).
    type: str
    required: true
    aliases: [lun]
  igroup:
    description: The initiator group of the host.
    type: str
    required: true
    aliases: [initiator_group_name]
  initiators:
    description:
      - The host's initiators (iSCSI names such as V(iqn.1994-05.com.redhat:host1), or FC WWPNs). Required to create
        the igroup; missing ones are added to an existing igroup. An igroup that holds other initiators belongs to
        another host too, so the LUN is neither mapped to it nor unmapped from it - list them all to claim it.
    type: list
    elements: str
    default: []
  protocol:
    description: The igroup's protocol, when it is created (an existing igroup must already have it).
    type: str
    choices: [iscsi, fcp, mixed]
    default: iscsi
  os_type:
    description: The igroup's OS type, when it is created (an existing igroup must already have it).
    type: str
    choices: [aix, hpux, hyper_v, linux, netware, openvms, solaris, vmware, windows, xen]
    default: linux
  lun_id:
    description:
      - The LUN ID the host sees (0 to 4095). Without it ONTAP picks the lowest free one. A LUN already mapped to the
        igroup at another ID is an error (changing it cuts the host's path).
    type: int
  lun_planned:
    description:
      - In check mode only - a LUN that does not exist yet is one that an earlier task of the run makes (M(storage.datamotion.ontap_lun)
        in check mode plans it), so the igroup is read, checked and the map planned as they would be once it exists. In a real
        run a missing LUN is an error all the same.
    type: bool
    default: false
    version_added: 0.3.0
  state:
    description: V(present) maps the LUN; V(absent) unmaps it from the igroup (give O(initiators) as for V(present)).
    type: str
    choices: [present, absent]
    default: present
seealso:
  - module: storage.datamotion.ontap_lun
"""

EXAMPLES = r"""
- name: Map a LUN to this host
  storage.datamotion.ontap_lun_map:
    hostname: cluster-b.example.com
    username: admin
    password: "{{ ontap_password }}"
    svm: svm_san
    path: /vol/db01/data
    igroup: host1
    initiators: ["iqn.1994-05.com.redhat:host1"]
  register: mapped

- name: Unmap it
  storage.datamotion.ontap_lun_map:
    svm: svm_san
    path: /vol/db01/data
    igroup: host1
    state: absent
"""

RETURN = r"""
lun_id:
  description: The LUN ID of the map after the run (check mode - V(null) when ONTAP would pick it); V(null) when unmapped.
  returned: always
  type: int
  sample: 0
igroup:
  description: The igroup after the run (check mode - as it would be).
  returned: always
  type: dict
  sample: {name: host1, protocol: iscsi, os_type: linux, initiators: ["iqn.1994-05.com.redhat:host1"]}
naa:
  description: The NAA identifier of the LUN hosts see (its link is C(/dev/disk/by-id/wwn-0x<naa>) on Linux).
  returned: when the LUN exists
  type: str
  sample: 600a098077663049712b4e3475636b33
actions:
  description: What the run did (check mode - would do), in order.
  returned: always
  type: list
  elements: str
  sample: ["create igroup host1 with iqn.1994-05.com.redhat:host1", "map LUN /vol/db01/data to igroup host1"]
transport:
  description: The API used, V(rest) or V(zapi).
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.storage.datamotion.plugins.module_utils.ontap.client import connect, missing_library
from ansible_collections.storage.datamotion.plugins.module_utils.ontap.common import OntapError, connection_argument_spec
from ansible_collections.storage.datamotion.plugins.module_utils.ontap.san import (
    IGROUP_OS_TYPES, MAX_LUN_ID, Lun, plan_map, san_client, split_lun_path,
)

ATTEMPTS = 3   # a parallel run may change the igroup or its maps between our read and our change


def argument_spec():
    spec = connection_argument_spec()
    spec.update(
        svm=dict(type="str", required=True, aliases=["vserver"]),
        path=dict(type="str", required=True, aliases=["lun"]),
        igroup=dict(type="str", required=True, aliases=["initiator_group_name"]),
        initiators=dict(type="list", elements="str", default=[]),
        protocol=dict(type="str", default="iscsi", choices=["iscsi", "fcp", "mixed"]),
        os_type=dict(type="str", default="linux", choices=list(IGROUP_OS_TYPES)),
        lun_id=dict(type="int"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        lun_planned=dict(type="bool", default=False),
    )
    return spec


def describe(action, want):
    kind, value = action
    if kind == "create_igroup":
        return "create igroup %s (%s, %s) with %s" % (want["igroup"], want["protocol"], want["os_type"], ", ".join(value))
    if kind == "add_initiators":
        return "add %s to igroup %s" % (", ".join(value), want["igroup"])
    if kind == "map":
        return "map LUN %s to igroup %s%s" % (want["path"], want["igroup"], "" if value is None else " as LUN ID %d" % value)
    return "unmap LUN %s from igroup %s" % (want["path"], want["igroup"])


class Run:
    def __init__(self, module):
        self.module = module
        p = module.params
        split_lun_path(p["path"])
        if p["lun_id"] is not None and not 0 <= p["lun_id"] <= MAX_LUN_ID:
            raise OntapError("lun_id %d is outside 0 to %d" % (p["lun_id"], MAX_LUN_ID))
        self.want = dict(svm=p["svm"], path=p["path"], igroup=p["igroup"], initiators=list(dict.fromkeys(p["initiators"])),
                         protocol=p["protocol"], os_type=p["os_type"], lun_id=p["lun_id"], state=p["state"])
        self.client = connect(p)
        self.san = san_client(self.client)

    def read(self):
        igroups = self.san.igroups(self.want["svm"])
        igroup = next((ig for ig in igroups if ig.name == self.want["igroup"]), None)
        maps = self.san.maps(self.want["svm"], igroup.name) if igroup else []
        return igroups, igroup, maps

    def execute(self):
        want = self.want
        if want["svm"] not in self.client.svms([want["svm"]]):
            raise OntapError("SVM %s does not exist on ONTAP cluster %s" % (want["svm"], self.module.params["hostname"]))
        lun = self.san.lun(want["svm"], want["path"])
        if lun is None:
            if want["state"] == "absent":
                return self.report([], None, [], None, None)
            if not (self.module.check_mode and self.module.params["lun_planned"]):
                raise OntapError("LUN %s does not exist in SVM %s; create it first (storage.datamotion.ontap_lun)" % (want["path"], want["svm"]))
            lun = Lun(svm=want["svm"], path=want["path"], size=0, os_type="", space_reserve=False)
        igroups, igroup, maps = self.read()
        before = self.facts(igroup, maps)
        done = []
        for attempt in range(ATTEMPTS):
            actions = plan_map(want, lun, igroup, maps, igroups)
            if not actions or self.module.check_mode:
                done.extend(actions)
                break
            try:
                for action in actions:
                    self.apply(action, lun, igroup)
                    done.append(action)
            except OntapError:
                # what a parallel run did in between may already be what we want: read again and plan again
                if attempt == ATTEMPTS - 1:
                    raise
                igroups, igroup, maps = self.read()
                continue
            igroups, igroup, maps = self.read()
            break
        return self.report(done, lun, maps, igroup, before)

    def apply(self, action, lun, igroup):
        kind, value = action
        want = self.want
        if kind == "create_igroup":
            self.san.create_igroup(want["svm"], want["igroup"], want["protocol"], want["os_type"], value)
        elif kind == "add_initiators":
            self.san.add_initiators(igroup, value)
        elif kind == "map":
            self.san.map_lun(want["svm"], want["path"], want["igroup"], value)
        elif kind == "unmap":
            self.san.unmap_lun(lun, igroup)

    def facts(self, igroup, maps):
        mine = [m for m in maps if m.path == self.want["path"]]
        ig = dict(name=igroup.name, protocol=igroup.protocol, os_type=igroup.os_type, initiators=list(igroup.initiators)) if igroup else {}
        return dict(igroup=ig, lun_id=mine[0].lun_id if mine else None)

    def report(self, done, lun, maps, igroup, before):
        want = self.want
        after = self.facts(igroup, maps)
        if self.module.check_mode and done:
            for kind, value in done:
                if kind == "create_igroup":
                    after["igroup"] = dict(name=want["igroup"], protocol=want["protocol"], os_type=want["os_type"], initiators=list(value))
                elif kind == "add_initiators":
                    after["igroup"]["initiators"] = after["igroup"]["initiators"] + list(value)
                elif kind == "map":
                    after["lun_id"] = value
                elif kind == "unmap":
                    after["lun_id"] = None
        result = dict(changed=bool(done), actions=[describe(a, want) for a in done], lun_id=after["lun_id"], igroup=after["igroup"],
                      transport=self.client.transport)
        if lun is not None and lun.naa:
            result["naa"] = lun.naa
        if self.module._diff:
            result["diff"] = dict(before=before or {}, after=after)
        self.module.exit_json(**result)


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    missing = missing_library(module.params["use_rest"])
    if missing:
        module.fail_json(msg=missing_required_lib(missing[0]), exception=str(missing[1]))
    try:
        Run(module).execute()
    except OntapError as exc:
        module.fail_json(msg=str(exc))


if __name__ == "__main__":
    main()
