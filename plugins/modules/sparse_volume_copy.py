#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Storage DataMotion Team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: sparse_volume_copy
short_description: Copy a volume image or block device, keeping thin volumes thin
version_added: 0.1.0
description:
  - Makes O(dest) an exact byte-for-byte copy of O(src), where each is a regular file (a volume image) or a
    block device, and leaves the source's zero ranges unallocated on the destination.
  - The source is read by data extent, so holes are never read; data is written only where the destination
    differs from the source, so a re-run of a finished copy writes nothing and a re-run of an interrupted
    copy only completes it.
  - Zero ranges are skipped only where the destination is known to read back zeros (a file this module
    creates, a hole in an existing file, or a destination declared zeroed with O(dest_zeroed)). Elsewhere
    they are made zero with the cheapest method the kernel guarantees (see O(zero_method)), so old data on
    a reused destination is never left behind.
  - The host-assisted copy of the Cinder "efficient volume copy" specification, without C(dd).
author:
  - Storage DataMotion Team (@storage-datamotion)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - Reads the source and destination and reports what would be written, zeroed and skipped.
      - Runs every check the real run makes before writing (overlap, in use, read-only, free space, hole punching),
        so it fails where the real run would fail.
  diff_mode:
    support: full
    details: Shows the destination's allocation and whether it equals the source, before and after.
  platform:
    support: full
    platforms: linux
    details: Linux only - it relies on SEEK_DATA/SEEK_HOLE, fallocate hole punching, sysfs and the block device ioctls.
  action_group:
    description: Use C(group/storage.datamotion.local) in C(module_defaults) to set its options once.
    support: full
    membership:
      - storage.datamotion.local
options:
  src:
    description:
      - Path of the source, a regular file or a block device.
    type: path
    required: true
  dest:
    description:
      - Path of the destination, a regular file or a block device.
      - A block device must be at least as large as the source; bytes past the source's size are left as
        they are. It is opened exclusively, so a mounted or otherwise claimed device is refused.
      - A missing file is created (see O(create)) with mode C(0600); an existing file is resized to the
        source's size.
    type: path
    required: true
  sparse:
    description:
      - V(auto) leaves zero ranges unallocated where the destination allows it and otherwise zeroes them by
        the best available method.
      - V(always) requires zero ranges to end up unallocated; it fails before writing anything when the
        destination can neither be trusted to read zeros nor punch holes.
      - V(never) writes zero ranges as data, for a fully allocated destination. On a block device,
        allocation cannot be observed, so zeros are written only where the device does not read zeros.
      - V(always) cannot be combined with O(zero_method=zeroout) or O(zero_method=write), and V(never) cannot be
        combined with O(discard_after_copy=true); the task fails before writing.
    type: str
    choices: [auto, always, never]
    default: auto
  dest_zeroed:
    description:
      - Whether the destination already reads back zeros everywhere (for example a new thin LUN).
      - V(auto) trusts only what the module can know - a file it creates, and holes in an existing file.
      - V(true) trusts the caller, the C(sparse_copy_volume) capability of the Cinder specification - zero
        ranges are skipped without reading or zeroing the destination. If the promise is wrong, old data
        stays in those ranges.
      - The promise is used only where it cannot be checked. A file or a loop device tells which of its
        ranges are allocated, and those are zeroed anyway at no extra read.
      - V(false) is the same as V(auto).
      - Any boolean spelling Ansible accepts (V(yes), V(no), V(1), V(0)) is taken as V(true) or V(false).
    type: raw
    choices: [auto, true, false]
    default: auto
  zero_method:
    description:
      - How zero ranges are made zero on a destination that is not known to read zeros.
      - V(auto) punches a hole (on a block device, WRITE_ZEROES with unmap, which frees thin space) and falls
        back to C(BLKZEROOUT), then to writing zeros, where the device does not support it.
      - V(punch), V(zeroout) and V(write) use only that method and fail when it is not supported.
        A discard (C(BLKDISCARD)) is never used to zero, because it does not guarantee zeros.
      - V(zeroout) and V(write) cannot be combined with O(sparse=always); V(punch) and V(zeroout) cannot be combined
        with O(discard_after_copy=true). The task fails before writing.
    type: str
    choices: [auto, punch, zeroout, write]
    default: auto
  block_size:
    description:
      - Bytes read or written per I/O. A positive multiple of O(zero_block_size), at most 64 MiB.
      - The device sees larger requests, built by the kernel's readahead and writeback; a chunk that fits the
        CPU's cache copies fastest.
    type: int
    default: 524288
  zero_block_size:
    description:
      - Granularity of zero detection in bytes, a multiple of 512 (and of a destination device's logical block
        size). Smaller finds more zeros in partly used blocks; larger is a little faster.
    type: int
    default: 4096
  verify:
    description:
      - After the copy and its flush, read the source again and read the destination back from the device
        (after dropping it from the page cache), and compare both with what the copy read.
      - RV(verified=true) proves that the destination, as read back, equals the source as read again after the
        copy, and that the source did not change while it was copied and verified - its content is what the copy
        read and, for a file, its size, modification time and change time are unchanged.
      - A source that changed during the copy fails the task with a message saying so; the destination then holds a
        mix of old and new data. Copy a volume that nothing writes to (unmounted, or a snapshot). Without O(verify),
        a file source whose size, modification time or change time (ctime) changed during the copy fails too; one
        changed less than 2 seconds before the copy began, where a coarse clock may leave its times as they were,
        is read again at the end and fails if its content changed.
      - It cannot see a device source that was changed and changed back between the reads, nor writes after the
        verification. It costs one more read of the source's data and of the destination's.
    type: bool
    default: false
  verify_source:
    description:
      - With O(verify=true), whether to read the source again. V(false) compares the destination, read back from
        its device, with the digest of what the copy read, and skips the second read of the source.
      - Only for a source that nothing can write while it is copied, a block device with the kernel's read-only
        flag (O(storage.datamotion.host_lun#module:state=read_only), or
        C(blockdev --setro)), such as an array snapshot exposed read-only. Any other source is refused before
        anything is written.
      - Ignored without O(verify).
    type: bool
    default: true
    version_added: 0.3.0
  create:
    description:
      - Create O(dest) as a file when it does not exist. When V(false), a missing destination is an error.
    type: bool
    default: true
  discard_after_copy:
    description:
      - The specification's alternative for destinations that cannot zero without writing - zero ranges that
        do not read zeros are overwritten with zeros, flushed, then released with a discard (a hole punch
        on a file). Ranges that no longer read zeros after the discard are written again.
      - Cannot be combined with O(sparse=never), nor with O(zero_method=punch) or O(zero_method=zeroout); the task
        fails before writing.
    type: bool
    default: false
  lock_timeout:
    description:
      - Seconds to wait for the lock on a destination file that another program holds (another copy onto it,
        C(qemu-nbd), C(flock)). V(0) fails at once, naming the holder where it can be seen.
      - The copy holds an exclusive C(flock) and an exclusive OFD lock on a destination file from before its first
        write until the end of its verification, so two copies onto one file never interleave. A block device is
        opened exclusively instead (C(O_EXCL)), which a second copy or a mount already refuses; a loop device (or a
        partition of one) also takes the locks of its backing file, so copies onto two loop devices over one file
        never interleave either.
    type: int
    default: 0
    version_added: 0.2.0
notes:
  - Needs read access to O(src) and write access to O(dest); block devices usually need root (C(become)).
  - Before writing anything, and in check mode alike, the module refuses a source and destination that share
    storage (the same file or device, a loop device and its backing file, loop devices over one file at
    overlapping offsets, a partition and its disk, a device-mapper device and the devices it is built on - two
    logical volumes of one volume group are taken as apart, since sysfs does not say which extents each uses),
    a destination in use
    (a mounted or claimed device, a file that backs a loop device, an active swap file, a running program, a device
    whose storage is shared with another
    device that is mounted or claimed), a read-only destination, a missing
    destination under C(/dev) (it is never created there), and a copy whose data cannot fit in the free space
    of the destination's filesystem (for a file or loop device destination; a source with an allocation map
    is read to count its non-zero data when its allocation alone does not fit, and a block device source
    without one is not checked). The space needed includes what the filesystem takes to record where the data
    lies - one extent per run of data, with every block of the file's extent tree taken as half full at each
    level (16-byte records, as in XFS), plus 8 blocks, and nothing on tmpfs, which keeps no such map - so that XFS
    with a small margin does not run out of space mid-copy. A filesystem whose free space is so fragmented that one run of data needs many extents is not
    foreseen.
  - A copy that runs out of space mid-way (another program filled the filesystem) fails saying what the
    destination holds - up to which byte it is the source's, what the rest reads, and how much space is free -
    and keeps it, so that a re-run once there is room writes only what is missing.
  - A destination that another process has open (found in C(/proc/PID/fd) and C(/proc/PID/maps)), that is locked
    (C(flock), POSIX or OFD locks, as C(qemu-nbd) holds them) or that is the image of a mounted FUSE filesystem
    (C(ntfs-3g), C(fuse2fs)) is refused, naming the program and its pid, in check mode too. Not seen, and so not
    refused - a process in another PID namespace whose C(/proc) is not visible, another host on shared storage (NFS,
    a LUN mapped elsewhere), a kernel user without a file descriptor (an NFS export by knfsd, a LIO fileio backstore),
    and a program that opens the destination after the check without asking for a lock.
  - O(src) and O(dest) are each opened once, and every check runs on the open file, so a path changed during the
    task (a symbolic link replaced) cannot make the copy write a file it would have refused.
  - The destination's filesystem is probed on a temporary file in its directory (unnamed where the filesystem has
    C(O_TMPFILE), else named and removed at once, in check mode too) - hole punching, in-place zeroing and the largest
    file it can hold - so check mode predicts what the real run does and a copy that cannot work fails before writing.
  - A failed task reports C(changed=true) when it had already created or written the destination. A task stopped
    with SIGINT or SIGTERM reports, like any failure, how far it got.
  - Runs on the host that sees both paths, usually with O(src) and O(dest) attached to it.
  - The digest (RV(digest)) is a sha256 over the offsets and bytes of the non-zero blocks and the size, so
    it is the same for equal content whatever the allocation; it is not the C(sha256sum) of the volume.
seealso:
  - name: Cinder specification, efficient volume copy for volume migration
    description: The capability negotiation this module follows.
    link: https://specs.openstack.org/openstack/cinder-specs/specs/liberty/efficient-volume-copy-for-volume-migration.html
"""

EXAMPLES = r"""
- name: Copy a thin volume image to a new file, keeping it thin
  storage.datamotion.sparse_volume_copy:
    src: /var/lib/images/volume-1234.raw
    dest: /var/lib/images/volume-1234-copy.raw

- name: Migrate a LUN onto a reused LUN; zero ranges are punched so no old data survives
  storage.datamotion.sparse_volume_copy:
    src: /dev/mapper/old-lun
    dest: /dev/mapper/new-lun
    verify: true
  become: true
  register: copy

- name: Copy onto a new thin LUN that the array guarantees reads zeros
  storage.datamotion.sparse_volume_copy:
    src: /dev/mapper/old-lun
    dest: /dev/mapper/new-lun
    dest_zeroed: true
  become: true

- name: Show what a copy would do, without writing
  storage.datamotion.sparse_volume_copy:
    src: /dev/mapper/old-lun
    dest: /dev/mapper/new-lun
  check_mode: true
"""

RETURN = r"""
src:
  description: The source path.
  returned: always
  type: str
  sample: /dev/loop0
dest:
  description: The destination path.
  returned: always
  type: str
  sample: /dev/loop1
src_type:
  description: What the source is - V(file) (a regular file) or V(block) (a block device).
  returned: always
  type: str
  sample: block
dest_type:
  description: What the destination is - V(file) (a regular file, possibly created by this task) or V(block) (a block device).
  returned: always
  type: str
  sample: file
bytes_total:
  description: Size of the source in bytes.
  returned: always
  type: int
  sample: 4294967296
bytes_written:
  description:
    - Bytes of source data written to the destination (with O(sparse=never), zeros written as data too).
    - RV(bytes_written) + RV(bytes_unchanged) + RV(bytes_skipped_zero) + RV(bytes_skipped_hole) = RV(bytes_total).
  returned: always
  type: int
  sample: 429916160
bytes_unchanged:
  description: Bytes that already equalled the source on the destination and were not rewritten.
  returned: always
  type: int
  sample: 0
bytes_skipped_zero:
  description: Bytes the source holds as written zeros, not written to the destination.
  returned: always
  type: int
  sample: 1288699904
bytes_skipped_hole:
  description: Bytes of holes in the source, neither read nor written.
  returned: always
  type: int
  sample: 2576351232
bytes_zeroed:
  description: Bytes of the destination made zero by RV(zero_method) because they did not read zeros (a subset of the skipped bytes).
  returned: always
  type: int
  sample: 2147483648
bytes_released:
  description:
    - Bytes of the destination that already read zeros but were allocated, and were released (hole punched,
      or discarded with O(discard_after_copy)), so they no longer take space. Counted only where the
      destination's allocation map shows them freed.
  returned: always
  type: int
  sample: 0
sparse:
  description:
    - Whether the destination's zero ranges are left unallocated - false when zeros had to be written or zeroed in
      place (O(sparse=never), a fallback from punching, or a discard the destination does not support).
  returned: always
  type: bool
  sample: true
sparse_reason:
  description: Why zero ranges were handled the way they were.
  returned: always
  type: str
  sample: "block device not known to read zeros: ranges that do not read zeros are zeroed with WRITE_ZEROES/unmap (punch)"
zero_method:
  description:
    - How zero ranges were handled - V(skip) (destination known to read zeros), V(punch), V(zeroout), V(write),
      several joined with C(+) after a fallback, or V(none) when nothing needed zeroing.
  returned: always
  type: str
  sample: punch
src_map:
  description:
    - How the source's data extents were found - V(seek_data) (a file's SEEK_DATA/SEEK_HOLE map),
      V(loop_backing_file) (a loop device, through its backing file), or V(none) (a block device without an
      allocation map, read whole).
  returned: always
  type: str
  sample: seek_data
dest_created:
  description: Whether the destination file was created.
  returned: always
  type: bool
  sample: false
dest_resized:
  description: Whether an existing destination file was resized to the source's size.
  returned: always
  type: bool
  sample: false
dest_allocated_before:
  description:
    - Bytes allocated to the destination before the copy; for a loop device (or a partition of one), to its range
      of the backing file, in whole blocks of that file.
    - V(null) for a block device that does not report allocation, or a destination that did not exist.
  returned: always
  type: int
  sample: 4294967296
dest_allocated_after:
  description: Bytes allocated to the destination after the copy (in check mode, the same as before).
  returned: always
  type: int
  sample: 429916160
duration:
  description: Seconds the copy took, including the final flush and verification.
  returned: always
  type: float
  sample: 1.83
throughput_mib_s:
  description: MiB of source data read (holes, which are not read, are not counted) per second of RV(duration).
  returned: always
  type: float
  sample: 2238.1
zero_ranges_trusted:
  description:
    - Whether the source's zero ranges were skipped on the caller's word (O(dest_zeroed=true) on a device that has no
      allocation map) without reading the destination there; equality in the diff is then not claimed unless
      O(verify=true) read it back.
  returned: always
  type: bool
  sample: false
  version_added: 0.2.0
verified:
  description:
    - Whether the destination was read back and equalled the source as read again after the copy, with the source
      unchanged during the copy (see O(verify)).
  returned: always
  type: bool
  sample: true
digest:
  description: Digest of the source's content (see notes), when O(verify=true); otherwise V(null).
  returned: always
  type: str
  sample: "sparse-sha256:5d41402abc4b2a76b9719d911017c592ae3e0a0c0f6d4e22c0d1d16b2d3a0f1e"
state:
  description:
    - Added by Ansible because the result has a RV(dest) key - what the path O(dest) is after the task, as
      C(lstat) sees it - V(file) (for a block device too), V(link) (a symbolic link, as C(/dev/mapper) paths are) or
      V(hard) (a file with several hard links). Use RV(dest_type) to tell a file from a block device.
  returned: when O(dest) exists
  type: str
  sample: file
size:
  description:
    - Added by Ansible because the result has a RV(dest) key - the C(lstat) size of O(dest), which is V(0) for a block
      device and the length of the target's name for a symbolic link; use RV(bytes_total) for the size copied.
  returned: when O(dest) exists
  type: int
  sample: 4294967296
mode:
  description: Added by Ansible because the result has a RV(dest) key - the permissions of O(dest).
  returned: when O(dest) exists
  type: str
  sample: "0600"
uid:
  description: Added by Ansible because the result has a RV(dest) key - the owner id of O(dest).
  returned: when O(dest) exists
  type: int
  sample: 0
gid:
  description: Added by Ansible because the result has a RV(dest) key - the group id of O(dest).
  returned: when O(dest) exists
  type: int
  sample: 0
owner:
  description: Added by Ansible because the result has a RV(dest) key - the owner name of O(dest).
  returned: when O(dest) exists
  type: str
  sample: root
group:
  description: Added by Ansible because the result has a RV(dest) key - the group name of O(dest).
  returned: when O(dest) exists
  type: str
  sample: disk
secontext:
  description: Added by Ansible, where SELinux is enabled, because the result has a RV(dest) key - the SELinux context of O(dest).
  returned: when O(dest) exists and SELinux is enabled
  type: str
  sample: system_u:object_r:fixed_disk_device_t:s0
"""

import signal

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.parsing.convert_bool import boolean
from ansible_collections.storage.datamotion.plugins.module_utils.sparse import (
    CopyOptions,
    SparseCopyError,
    Terminated,
    copy_volume,
)


def parse_dest_zeroed(value):
    """dest_zeroed as the engine's promise: None (auto) or True; raises ValueError."""
    if isinstance(value, str) and value.lower() == "auto":
        return None
    try:
        return boolean(value, strict=True) or None
    except TypeError:
        raise ValueError("dest_zeroed must be auto, true or false, got %r" % (value,))


class DestZeroedChoices(tuple):
    """The documented choices of dest_zeroed (auto, true, false), holding every
    spelling of them that the module accepts (any case of auto, any boolean)."""

    def __contains__(self, value):
        try:
            parse_dest_zeroed(value)
        except (ValueError, TypeError):
            return False
        return True


def options_from(params):
    """Module parameters as engine options; raises ValueError on bad values."""
    return CopyOptions(
        sparse=params["sparse"],
        dest_zeroed=parse_dest_zeroed(params["dest_zeroed"]),
        zero_method=params["zero_method"],
        block_size=params["block_size"],
        zero_block_size=params["zero_block_size"],
        verify=params["verify"],
        verify_source=params["verify_source"],
        create=params["create"],
        discard_after_copy=params["discard_after_copy"],
        lock_timeout=params["lock_timeout"],
    )


UNREAD = "not read (dest_zeroed=true: zero ranges were trusted, not read)"


def diff_of(res, content_changed):
    """Allocation and equality before and after. Equality is claimed only for what
    was read: ranges skipped on the caller's word (dest_zeroed) were not, unless
    verify read them back; released allocation does not change the content."""
    trusted = res["zero_ranges_trusted"]
    before = {"path": res["dest"], "exists": not res["dest_created"], "allocated": res["dest_allocated_before"],
              "equals_source": UNREAD if trusted and not content_changed else not content_changed}
    after = {"path": res["dest"], "exists": True, "allocated": res["dest_allocated_after"],
             "equals_source": UNREAD if trusted and not res["verified"] else True}
    return {"before": before, "after": after}


def _terminate(signum, frame):
    raise Terminated("terminated by SIGTERM")


def run_module(module):
    try:
        opts = options_from(module.params)
    except ValueError as e:
        module.fail_json(msg=str(e))
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        result = copy_volume(module.params["src"], module.params["dest"], opts, check_mode=module.check_mode)
    except SparseCopyError as e:
        module.fail_json(msg=str(e), changed=e.changed)
    except KeyboardInterrupt as e:
        module.fail_json(msg="copying %s to %s was %s before anything was written"
                         % (module.params["src"], module.params["dest"],
                            "terminated (SIGTERM)" if isinstance(e, Terminated) else "interrupted"), changed=False)
    finally:
        signal.signal(signal.SIGTERM, previous)
    res = result.to_dict()
    if module._diff:
        res["diff"] = diff_of(res, result.content_changed)
    module.exit_json(**res)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            src=dict(type="path", required=True),
            dest=dict(type="path", required=True),
            sparse=dict(type="str", default="auto", choices=["auto", "always", "never"]),
            dest_zeroed=dict(type="raw", default="auto", choices=DestZeroedChoices(["auto", True, False])),
            zero_method=dict(type="str", default="auto", choices=["auto", "punch", "zeroout", "write"]),
            block_size=dict(type="int", default=524288),
            zero_block_size=dict(type="int", default=4096),
            verify=dict(type="bool", default=False),
            verify_source=dict(type="bool", default=True),
            create=dict(type="bool", default=True),
            discard_after_copy=dict(type="bool", default=False),
            lock_timeout=dict(type="int", default=0),
        ),
        supports_check_mode=True,
    )
    run_module(module)


if __name__ == "__main__":
    main()
