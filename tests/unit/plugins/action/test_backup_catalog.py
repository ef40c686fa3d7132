# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""backup_catalog's command run for real on this host (as the connection would run it): a prepared directory has
nothing of interrupted backups left and nothing else touched; a commit writes the manifest before the image gets
its name (a kill between them leaves no named image without its manifest) and keeps the newest backups, this one
counting as the newest; check mode changes nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from ansible_collections.storage.datamotion.plugins.action import backup_catalog

OLD = ["20261201T000000000000Z", "20261202T000000000000Z", "20261203T000000000000Z"]


def command(req, manifest=None, prelude=""):
    req = dict(dict(state="prepared", check_mode=False), **req)
    proc = subprocess.run([sys.executable, "-c", prelude + backup_catalog.SCRIPT, json.dumps(req)],
                          input=manifest.encode() if manifest is not None else None,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    return proc.returncode, json.loads(proc.stdout.decode().splitlines()[-1]) if proc.stdout else proc.stderr.decode()


def touch(d, *names):
    for name in names:
        with open(os.path.join(d, name), "w") as f:
            f.write(name)


def commit(d, stamp, keep, prelude=""):
    return command(dict(path=d, state="committed", manifest="%s/%s.img.manifest.json" % (d, stamp),
                        partial="%s/%s.img.partial" % (d, stamp), image="%s/%s.img" % (d, stamp), keep=keep),
                   backup_catalog.render({"image": stamp + ".img"}), prelude)


def test_prepared_makes_the_directory_private_and_removes_only_what_interrupted_backups_left(tmp_path):
    d = str(tmp_path / "db01")
    rc, out = command(dict(path=d))
    assert rc == 0 and out["changed"] and os.stat(d).st_mode & 0o777 == 0o700
    touch(d, OLD[0] + ".img", OLD[0] + ".img.manifest.json",            # a backup
          OLD[1] + ".img.partial",                                       # killed during its copy
          OLD[2] + ".img.manifest.json",                                 # killed before its image's name
          "." + OLD[2] + ".img.manifest.json.abc123.tmp",                # killed in its manifest's write
          "notes.img.manifest.json", "mine.img.partial", "x.img")        # not this role's
    rc, out = command(dict(path=d, check_mode=True))
    assert rc == 0 and out["changed"] and len(out["removed"]) == 3 and len(os.listdir(d)) == 8
    rc, out = command(dict(path=d))
    assert rc == 0 and out["backups"] == [os.path.join(d, OLD[0] + ".img")]
    assert sorted(os.listdir(d)) == sorted([OLD[0] + ".img", OLD[0] + ".img.manifest.json", "notes.img.manifest.json",
                                            "mine.img.partial", "x.img"])
    rc, out = command(dict(path=d))
    assert rc == 0 and not out["changed"] and out["removed"] == []


def test_commit_writes_the_manifest_before_the_image_is_named(tmp_path):
    d = str(tmp_path)
    stamp = OLD[2]
    touch(d, stamp + ".img.partial")
    # the process kills itself where the image would get its name
    rc, _out = commit(d, stamp, 0, "import os, signal\n_r = os.rename\nos.rename = lambda a, b: "
                                   "os.kill(os.getpid(), signal.SIGKILL) if a.endswith('.partial') else _r(a, b)\n")
    assert rc == -signal.SIGKILL
    assert sorted(os.listdir(d)) == [stamp + ".img.manifest.json", stamp + ".img.partial"]
    assert json.load(open(os.path.join(d, stamp + ".img.manifest.json"))) == {"image": stamp + ".img"}
    # the next run takes both for the leftovers they are
    rc, out = command(dict(path=d))
    assert rc == 0 and os.listdir(d) == []
    touch(d, stamp + ".img.partial")
    rc, out = commit(d, stamp, 0)
    assert rc == 0 and out["named"] and out["backups"] == [os.path.join(d, stamp + ".img")]
    assert sorted(os.listdir(d)) == [stamp + ".img", stamp + ".img.manifest.json"]
    assert os.stat(os.path.join(d, stamp + ".img.manifest.json")).st_mode & 0o777 == 0o600


def test_commit_keeps_the_newest_and_counts_this_one_newest_whatever_its_stamp(tmp_path):
    d = str(tmp_path)
    for stamp in OLD[1:]:
        touch(d, stamp + ".img", stamp + ".img.manifest.json")
    touch(d, "notes.img.manifest.json", OLD[0] + ".img.partial")
    # a clock set back: this backup's stamp is older than the others'
    rc, out = commit(d, OLD[0], 2)
    assert rc == 0, out
    assert out["removed"] == [os.path.join(d, OLD[1] + ".img"), os.path.join(d, OLD[1] + ".img.manifest.json")]
    assert out["backups"] == [os.path.join(d, OLD[2] + ".img"), os.path.join(d, OLD[0] + ".img")]
    assert sorted(os.listdir(d)) == sorted([OLD[0] + ".img", OLD[0] + ".img.manifest.json", OLD[2] + ".img",
                                            OLD[2] + ".img.manifest.json", "notes.img.manifest.json"])


def test_a_failed_commit_says_whether_the_image_was_named(tmp_path):
    d = str(tmp_path)
    rc, out = commit(d, OLD[0], 0)  # no image was copied
    assert rc == 1 and not out["named"] and "No such file" in out["error"]
