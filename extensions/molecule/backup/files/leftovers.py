# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Print, one a line, every temporary object a backup or restore run left, and exit 1 if there is any.

leftovers.py VNX_SIM HOME BACKUPS: HOME is the simulator's home (VNXSIM_HOME, its by-id/ links), BACKUPS
the backup directory. Left means: a LUN dmbk-* (a mount point) or a snapshot snap-as-vol-dmbk-* on the
array, an HLU in any storage group, a loop device over a file under HOME, a link in HOME/by-id, an
unfinished image (*.partial), an image without its manifest or a manifest without its image.
One process instead of one task per kind: the scenario asks this after every case.
"""

from __future__ import absolute_import, division, print_function

import json
import os
import subprocess
import sys


def visible_files(top, recurse):
    """The paths under top whose names do not start with a dot (what ansible.builtin.find lists by default)."""
    if not os.path.isdir(top):
        return []
    if not recurse:
        return [os.path.join(top, name) for name in sorted(os.listdir(top)) if not name.startswith(".")]
    found = []
    for root, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found.extend(os.path.join(root, name) for name in files if not name.startswith("."))
    return sorted(found)


def leftovers(vnx_sim, home, backups):
    state = json.loads(subprocess.run([vnx_sim, "state"], check=True, capture_output=True, text=True).stdout)
    left = ["LUN %s on the array" % lun["name"] for lun in state["luns"] if lun["name"].startswith("dmbk-")]
    left += ["snapshot %s on the array" % snap["name"] for snap in state["snapshots"]
             if snap["name"].startswith("snap-as-vol-dmbk-")]
    left += ["HLU %s (LUN id %s) in storage group %s" % (hlu, alu, group["name"])
             for group in state["storage_groups"] for hlu, alu in sorted(group["hlus"].items())]
    loops = subprocess.run(["losetup", "--list", "--noheadings", "--output", "NAME,BACK-FILE"],
                           check=True, capture_output=True, text=True).stdout
    left += ["loop device %s" % line.strip() for line in loops.splitlines() if home in line]
    left += ["link %s" % path for path in visible_files(os.path.join(home, "by-id"), recurse=False)]
    files = visible_files(backups, recurse=True)
    left += ["unfinished image %s" % path for path in files if path.endswith(".partial")]
    images = {path for path in files if path.endswith(".img")}
    manifests = {path[:-len(".manifest.json")] for path in files if path.endswith(".img.manifest.json")}
    left += ["image without its manifest %s" % path for path in sorted(images - manifests)]
    left += ["manifest without its image %s.manifest.json" % path for path in sorted(manifests - images)]
    return left


def main():
    left = leftovers(*sys.argv[1:4])
    for line in left:
        print(line)
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main())
