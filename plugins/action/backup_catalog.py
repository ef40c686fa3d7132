# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action of storage.datamotion.backup_catalog: the files of one LUN's backups on the backup host, one command each.

Each step of the backup role on its backup directory (make it and clear what interrupted backups left; write a
backup's manifest, name its image, apply the retention) was one to three module runs; this runs one small Python
script through the connection instead (plugin_utils.hostscript), the manifest on its stdin.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.validation import check_type_int
from ansible.plugins.action import ActionBase
from ansible_collections.storage.datamotion.plugins.plugin_utils import hostscript
from ansible_collections.storage.datamotion.plugins.plugin_utils.hostscript import render

# Runs on the host: `<python> -c SCRIPT <request as JSON>`, the manifest's text on stdin for a commit. Prints
# {"changed", "backups", "removed", "named", "actions"} or {"error", "named", "removed"} with exit code 1.
# A backup is <stamp>.img with <stamp>.img.manifest.json; <stamp>.img.partial is an image being copied.
SCRIPT = hostscript.WRITE_ATOMIC + r"""
import errno, json, re, stat, sys
req = json.loads(sys.argv[1])
d, check = req["path"], req["check_mode"]
STAMP = r"[0-9]{8}T[0-9]+Z"
out = {"changed": False, "backups": [], "removed": [], "named": False, "actions": []}


def did(text):
    out["changed"] = True
    out["actions"].append(text)


def remove(path):
    if not check:
        try:
            os.unlink(path)
        except OSError as e:
            if e.errno != errno.ENOENT:
                raise
    out["removed"].append(path)
    did("remove %s" % path)


def listing():
    try:
        return set(os.listdir(d))
    except OSError as e:
        if e.errno != errno.ENOENT or not check:
            raise
        return set()


def backups(names):
    # only this role's backups: a stamped image with its manifest
    return sorted(n for n in names if re.match(STAMP + r"\.img$", n) and n + ".manifest.json" in names)


try:
    if req["state"] == "prepared":
        try:
            mode = stat.S_IMODE(os.stat(d).st_mode)
        except OSError as e:
            if e.errno != errno.ENOENT:
                raise
            mode = None
        if mode is None:
            if not check:
                os.mkdir(d, 0o700)
                os.chmod(d, 0o700)
            did("make directory %s" % d)
        elif mode != 0o700:
            if not check:
                os.chmod(d, 0o700)
            did("set the mode of %s to 0700" % d)
        names = listing()
        # left by runs killed during their copy, or between their manifest and their image's name (or in the
        # manifest's write); the caller's lock says no other run is making them
        for n in sorted(names):
            if (re.match(STAMP + r"\.img\.partial$", n)
                    or re.match(STAMP + r"\.img\.manifest\.json$", n) and n[:-len(".manifest.json")] not in names
                    or re.match(r"\." + STAMP + r"\.img\.manifest\.json\..*\.tmp$", n)):
                remove(os.path.join(d, n))
                names.discard(n)
        out["backups"] = [os.path.join(d, n) for n in backups(names)]
    else:
        manifest, partial, image, keep = req["manifest"], req["partial"], req["image"], req["keep"]
        text = getattr(sys.stdin, "buffer", sys.stdin).read().decode("utf-8")
        if not check:
            write_atomic(manifest, text)
        did("write %s" % manifest)
        # last: an image under its final name always has its manifest, whenever the run is stopped
        if partial:
            if not check:
                os.rename(partial, image)
                sync_dir(os.path.dirname(image) or ".")
            out["named"] = True
            did("rename %s to %s" % (partial, image))
        names = listing()
        if check and partial:
            names |= {os.path.basename(image), os.path.basename(manifest)}
        # this run's backup counts as the newest, whatever the clock says
        mine = os.path.basename(image)
        kept = [n for n in backups(names) if n != mine] + ([mine] if mine in backups(names) else [])
        if keep:
            # an image goes before its manifest: a kill in between leaves a manifest without an image, which the
            # next run removes
            for n in kept[:-keep]:
                remove(os.path.join(d, n))
                remove(os.path.join(d, n + ".manifest.json"))
            kept = kept[-keep:]
        out["backups"] = [os.path.join(d, n) for n in kept]
except EnvironmentError as e:
    print(json.dumps({"error": str(e), "named": out["named"], "removed": out["removed"]}))
    sys.exit(1)
print(json.dumps(out))
"""


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("path", "state", "manifest", "record", "partial", "image", "keep"))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = self._task.args
        path, state = args.get("path"), args.get("state", "prepared")
        if not path or not isinstance(path, str) or not path.startswith("/"):
            raise AnsibleActionFail("backup_catalog: path must be the absolute path of the LUN's backups directory")
        if state not in ("prepared", "committed"):
            raise AnsibleActionFail("backup_catalog: state must be prepared or committed, got %s" % state)
        req = dict(path=path, state=state, check_mode=bool(self._task.check_mode))
        manifest = None
        if state == "committed":
            record, partial, image = args.get("record"), args.get("partial") or "", args.get("image")
            if not isinstance(record, dict):
                raise AnsibleActionFail("backup_catalog: state=committed needs record, the manifest (a dictionary)")
            if not args.get("manifest") or not image:
                raise AnsibleActionFail("backup_catalog: state=committed needs manifest and image (their paths)")
            try:
                keep = check_type_int(args.get("keep", 0))
            except TypeError as e:
                raise AnsibleActionFail("backup_catalog: keep must be a number of backups: %s" % e)
            if keep < 0:
                raise AnsibleActionFail("backup_catalog: keep must be 0 (keep all) or more, got %d" % keep)
            req.update(manifest=args["manifest"], partial=partial, image=image, keep=keep)
            manifest = render(record)
        answer = hostscript.run(self, task_vars, SCRIPT, [json.dumps(req)], manifest)
        if "error" in answer:
            result.update(failed=True, named=answer.get("named", False), removed=answer.get("removed", []),
                          msg="backup_catalog %s (%s): %s - check that the backup directory is writable by the task's "
                          "user (become)" % (path, state, answer["error"]))
            return result
        result.update(answer)
        return result
