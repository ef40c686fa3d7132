#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: host_lun
short_description: Find an array LUN's block device on a Linux host, make it read-only or read-write, or remove it
version_added: 0.2.0
description:
  - Finds the block device of an array LUN on this host by its WWN - the C(wwn-0x<wwn>), C(scsi-3<wwn>) and
    C(dm-uuid-mpath-3<wwn>) links in O(by_id_dir), or a disk whose SCSI C(wwid) is C(naa.<wwn>) - and, when it
    is not there yet, asks the SCSI hosts to scan (O(rescan)) and waits for it (O(wait), O(timeout)).
  - When a multipath map is built over the LUN's paths, the map is the device; its paths are listed under it.
  - O(state=present) only finds it and reports what it is (size, logical block size, read-only flag, holders,
    partitions, mounts).
  - O(state=read_only) and O(state=read_write) set the kernel's read-only flag (C(BLKROSET)) on the device, its
    partitions and, for a multipath map, each of its paths, and read each flag back (C(BLKROGET)).
    This is how an array-side C(access_mode=ro) exposure is enforced on the host.
  - O(state=absent) flushes the device's buffers, then removes it from the host so that unmapping the LUN on the
    array leaves no dead path behind - a SCSI disk through C(/sys/block/<sdX>/device/delete), a multipath map
    with C(multipath -f) and then each of its paths, a loop device (what the VNX simulator exposes) by
    detaching it (C(LOOP_CLR_FD)) - and removes the LUN's links from O(by_id_dir).
  - What os-brick's connectors do for Cinder before and after an attach, as one idempotent module.
author:
  - Storage DataMotion Team (@storage-datamotion)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - Finds the device as the real run does (a SCSI rescan is discovery, not a change, so it runs in check mode
        too) and reports what would be set or removed, refusals included.
  diff_mode:
    support: full
    details: Shows the device's presence and read-only flags before and after.
  platform:
    support: full
    platforms: linux
    details: Linux only - it relies on sysfs, /proc and the block and loop device ioctls.
  action_group:
    description: Use C(group/storage.datamotion.local) in C(module_defaults) to set its options once.
    support: full
    membership:
      - storage.datamotion.local
options:
  wwn:
    description:
      - The LUN's world-wide name, as the array gives it (C(60:06:01:60:...), what M(storage.datamotion.vnx_volume)
        returns), or as hosts show it (C(0x6006...), C(naa.6006...), plain hex), in any case.
      - 16 or 32 hex digits.
    type: str
    required: true
  by_id_dir:
    description:
      - Directory of the links that name block devices by WWN. For the VNX simulator, its C(device_dir).
    type: path
    default: /dev/disk/by-id
  state:
    description:
      - V(present) - the device must be on the host; report it.
      - V(read_only) / V(read_write) - the device must be on the host with that kernel read-only flag.
      - V(absent) - the device must not be on the host. A LUN that is not found is already absent.
    type: str
    choices: [present, read_only, read_write, absent]
    default: present
  rescan:
    description:
      - When the device is not found (states other than V(absent)), write C(- - -) to every
        C(/sys/class/scsi_host/*/scan) before waiting for it.
    type: bool
    default: true
  wait:
    description:
      - Wait up to O(timeout) seconds for the device to appear (states other than V(absent)), and for a removed
        device to leave (V(absent)). When V(false) it is looked for once.
    type: bool
    default: true
  timeout:
    description: Seconds to wait (see O(wait)).
    type: int
    default: 30
  force:
    description:
      - With O(state=absent), remove the device even when a process has it open or another device (LVM, md) is
        built on it - they get I/O errors from then on. Its buffers are still flushed first.
      - A mounted device (or one whose partitions or holders are mounted) is refused even with O(force=true);
        unmount it first. The module never unmounts anything.
    type: bool
    default: false
notes:
  - Needs root.
  - O(state=read_only) is refused while a filesystem on the device is mounted read-write (its writes would fail);
    remount it read-only first.
  - The read-only flag is the kernel's, not the array's; it lasts until it is cleared or the device is removed.
    A device the array presents write-protected cannot be made read-write, and the task fails saying so.
seealso:
  - module: storage.datamotion.vnx_host_access
  - module: storage.datamotion.sparse_volume_copy
"""

EXAMPLES = r"""
- name: Expose a LUN read-only to the backup host
  storage.datamotion.vnx_host_access:
    lun: db01
    host: backup01
    access_mode: ro
  register: access

- name: Find it and enforce read-only on the host
  storage.datamotion.host_lun:
    wwn: "{{ access.connection.wwn }}"
    state: read_only
  become: true
  register: lun

- name: Copy it
  storage.datamotion.sparse_volume_copy:
    src: "{{ lun.device.path }}"
    dest: /backup/db01.img
  become: true

- name: Remove it from the host before the array unmaps it
  storage.datamotion.host_lun:
    wwn: "{{ access.connection.wwn }}"
    state: absent
  become: true
"""

RETURN = r"""
actions:
  description: What was done (or, in check mode, would be done), in order.
  returned: always
  type: list
  elements: str
  sample: ["set /dev/sdc read-only", "set /dev/sdc1 read-only"]
rescanned:
  description: The SCSI hosts asked to scan because the device was not found at first.
  returned: always
  type: list
  elements: str
  sample: [host0, host1]
device:
  description: The LUN's device on this host after the task, or V(null) when it is not there.
  returned: always
  type: dict
  contains:
    path:
      description: The device to use - the multipath map (C(/dev/mapper/<name>)) when one exists, else the path.
      type: str
      sample: /dev/sdc
    links:
      description: The links in O(by_id_dir) that name it.
      type: list
      elements: str
      sample: [/dev/disk/by-id/wwn-0x600601601234abcd0000000000000001]
    wwn:
      description: The WWN, lower-case hex without C(0x) or colons.
      type: str
      sample: 600601601234abcd0000000000000001
    size_bytes:
      description: Size in bytes.
      type: int
      sample: 1073741824
    logical_block_size:
      description: Logical block size in bytes.
      type: int
      sample: 512
    read_only:
      description: The kernel's read-only flag of RV(device.path) (C(BLKROGET)).
      type: bool
      sample: true
    holders:
      description: Devices built on it (LVM, md), other than its own partitions.
      type: list
      elements: str
      sample: []
    partitions:
      description: Its partitions, each with C(path) and C(read_only).
      type: list
      elements: dict
      sample: [{path: /dev/sdc1, read_only: true}]
    mounted:
      description: Whether it, a partition or a holder is mounted.
      type: bool
      sample: false
    mountpoints:
      description: Where it, its partitions and holders are mounted.
      type: list
      elements: str
      sample: []
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.storage.datamotion.plugins.module_utils.hostlun import (
    Host,
    HostLunError,
    flag_plan,
    normalize_wwn,
    predicted,
    remove_plan,
)
from ansible_collections.storage.datamotion.plugins.module_utils.wait import WaitTimeout, wait_for


def find(module, host, wwn):
    """(device or None, SCSI hosts rescanned) as the state asks: absent looks once."""
    p = module.params
    dev = host.find(wwn)
    if dev is not None or p["state"] == "absent":
        return dev, []
    rescanned = host.rescan() if p["rescan"] else []
    try:
        dev = wait_for(lambda: host.find(wwn), lambda d: d is not None, p["timeout"] if p["wait"] else 0,
                       what="the block device of WWN %s" % wwn)
    except WaitTimeout:
        dev = None
    return dev, rescanned


def not_found(module, wwn, rescanned):
    p = module.params
    how = "after asking %d SCSI host(s) to scan" % len(rescanned) if rescanned else "without a SCSI rescan"
    waited = "waiting %ss" % p["timeout"] if p["wait"] else "looking once"
    module.fail_json(msg="host_lun %s: no block device with WWN %s in %s or sysfs (%s, %s). Is the LUN in a storage "
                         "group connected to this host (vnx_host_access), and is by_id_dir right?"
                         % (p["state"], wwn, p["by_id_dir"], how, waited), changed=False, device=None, actions=[],
                     rescanned=rescanned)


def view(dev):
    if dev is None:
        return {"present": False}
    flags = {dev.path: dev.read_only}
    flags.update({part.path: part.read_only for part in dev.partitions})
    flags.update(zip(dev.paths, dev.paths_read_only))
    return {"present": True, "path": dev.path, "read_only": flags}


def set_flags(module, host, dev, read_only):
    for path in dev.flagged():
        host.set_read_only(path, read_only)
    bad = [path for path in dev.flagged() if host.read_only(path) != read_only]
    if bad:
        module.fail_json(msg="host_lun: the kernel's read-only flag of %s still reads %d after BLKROSET %d. A device the "
                             "array presents write-protected (access_mode ro) cannot be made read-write on the host."
                             % (", ".join(bad), int(not read_only), int(read_only)), changed=True)


def remove_actions(dev):
    actions = ["flush %s" % path for path in [dev.path] + [part.path for part in dev.partitions]]
    if dev.kind == "loop":
        actions.append("detach loop device %s" % dev.path)
    elif dev.kind == "multipath":
        actions.append("flush and remove multipath map %s" % dev.path)
        actions.extend("delete SCSI device %s" % path for path in dev.paths)
    else:
        actions.append("delete SCSI device %s" % dev.path)
    actions.extend("remove link %s" % link for link in dev.links)
    return actions


def remove(module, host, dev):
    for path in [part.path for part in dev.partitions] + [dev.path]:
        host.flush(path)
    name = host.name_of(dev.path)
    removed = []
    if dev.kind == "loop":
        host.detach_loop(name)
        removed.append(name)
    elif dev.kind == "multipath":
        slaves = host.slaves(name)
        for path in slaves:
            host.flush(host.dev_path(path))
        rc, out, err = module.run_command(["multipath", "-f", host.dm_name(name) or name])
        if rc != 0:
            raise HostLunError("flushing the multipath map %s failed (multipath -f, rc %d): %s"
                               % (dev.path, rc, (err or out).strip()))
        for slave in slaves:
            host.delete_scsi(slave)
        removed.extend(slaves)
    else:
        host.delete_scsi(name)
        removed.append(name)
    rdevs = {n: host.rdev(n) for n in removed}
    try:
        wait_for(lambda: all(host.gone(n, r) for n, r in rdevs.items()), bool,
                 module.params["timeout"] if module.params["wait"] else 0, what="%s to leave the host" % dev.path)
    except WaitTimeout:
        raise HostLunError("%s was asked to leave the host but is still there after %ss" % (dev.path, module.params["timeout"]))
    for link in dev.links:
        try:
            os.unlink(link)
        except FileNotFoundError:
            pass


def run_module(module):
    p = module.params
    try:
        wwn = normalize_wwn(p["wwn"])
    except ValueError as e:
        module.fail_json(msg="host_lun: %s" % e, changed=False)
    if p["timeout"] < 0:
        module.fail_json(msg="host_lun: timeout must be 0 or more seconds, got %d" % p["timeout"], changed=False)
    host = Host(by_id_dir=p["by_id_dir"])
    state = p["state"]
    result = dict(changed=False, actions=[], rescanned=[], device=None)
    try:
        dev, result["rescanned"] = find(module, host, wwn)
        if dev is None:
            if state != "absent":
                not_found(module, wwn, result["rescanned"])
            after = None
        elif state == "present":
            after = dev
        elif state == "absent":
            refusals = remove_plan(dev, p["force"])
            if refusals:
                module.fail_json(msg="host_lun absent: refusing to remove %s (WWN %s): %s"
                                     % (dev.path, wwn, "; ".join(refusals)), **result)
            result["actions"] = remove_actions(dev)
            if p["force"] and (dev.holders or dev.open_by):
                module.warn("host_lun: removing %s although %s" % (dev.path, "; ".join(remove_plan(dev, False))))
            if not module.check_mode:
                remove(module, host, dev)
            after = None
        else:
            ro = state == "read_only"
            result["actions"], refusals = flag_plan(dev, ro)
            if refusals:
                module.fail_json(msg="host_lun %s: refusing to set %s read-only: %s" % (state, dev.path, "; ".join(refusals)),
                                 **result)
            if result["actions"] and not module.check_mode:
                set_flags(module, host, dev, ro)
                after = host.find(wwn)
            else:
                after = predicted(dev, ro)
    except HostLunError as e:
        module.fail_json(msg="host_lun %s of WWN %s: %s" % (state, wwn, e), changed=bool(result["actions"]) and not module.check_mode,
                         actions=result["actions"])
    result["changed"] = bool(result["actions"])
    result["device"] = after.facts() if after is not None else None
    if module._diff:
        result["diff"] = {"before": view(dev), "after": view(after)}
    module.exit_json(**result)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            wwn=dict(type="str", required=True),
            by_id_dir=dict(type="path", default="/dev/disk/by-id"),
            state=dict(type="str", default="present", choices=["present", "read_only", "read_write", "absent"]),
            rescan=dict(type="bool", default=True),
            wait=dict(type="bool", default=True),
            timeout=dict(type="int", default=30),
            force=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    run_module(module)


if __name__ == "__main__":
    main()
