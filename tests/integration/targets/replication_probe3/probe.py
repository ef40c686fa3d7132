# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Attacks on the replication role's failback, driven through the playbooks as a user would, against ontap-sim:
after a failover the source holds data a reverse resync would discard, hidden from a naive check in three ways; the
failback must refuse it and change nothing (argv: ready file, work dir, use_rest)."""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "replication_playbooks", "files"))
from probe_common import ctl, playbook, rest, state, use_rest  # noqa: E402


def volume_uuid(cluster, svm, name):
    recs = rest(cluster, "GET", "/api/storage/volumes?svm.name=%s&name=%s" % (svm, name))["records"]
    return recs[0]["uuid"]


def snapshot(cluster, svm, vol, name):
    rest(cluster, "POST", "/api/storage/volumes/%s/snapshots" % volume_uuid(cluster, svm, vol), {"name": name})


def delete_snapshots(cluster, svm, vol, prefix):
    uuid = volume_uuid(cluster, svm, vol)
    for s in rest(cluster, "GET", "/api/storage/volumes/%s/snapshots" % uuid)["records"]:
        if s["name"].startswith(prefix):
            rest(cluster, "DELETE", "/api/storage/volumes/%s/snapshots/%s" % (uuid, s["uuid"]))


def tags(cluster, svm, vol):
    return state()[cluster]["volumes"]["%s:%s" % (svm, vol)]["tags"]


def failed_over():
    """ensure, then fail over to dr1 with the source offline, then the source comes back."""
    ctl("/reset", {})
    for args in (("replicate",), ("failover", "-e", "replication_failover_target=dr1")):
        if args[0] == "failover":
            ctl("/clusters/src/offline", {})
        rc, out = playbook(*args)
        assert rc == 0, out
    ctl("/clusters/src/online", {})


def write_on_source(vol):
    ctl("/volumes/write", {"cluster": "src", "svm": "svm_be", "volume": vol, "bytes": 8192, "tag": "late-on-source"})


def main():
    """One failover, then on each of three volumes a write on the source that a detection could miss, and one failback
    that must refuse naming all three and change nothing:
    be02: a snapshot of one name taken on both sides after the write (a snapshot policy's hourly.<time>, an admin's
          before-failback) is not a snapshot they share;
    be03: the source's snapmirror snapshot deleted (to free space): no snapshot shared, the resync rewrites it all;
    be04: an admin's snapshot on the source only, after the write: the delta still runs from the shared snapshot."""
    failed_over()
    for vol in ("be02", "be03", "be04"):
        write_on_source(vol)
    time.sleep(1.1)
    snapshot("dr1", "svm_dr1", "be02", "before-failback")
    snapshot("src", "svm_be", "be02", "before-failback")
    delete_snapshots("src", "svm_be", "be03", "snapmirror.")
    snapshot("src", "svm_be", "be04", "admin-only")
    before = state()["src"]["relationships"]
    rc, out = playbook("failback")
    after = state()["src"]["relationships"]
    lost = [v for v in ("be02", "be03", "be04") if "late-on-source" not in tags("src", "svm_be", v)]
    named = [v for v in ("be02", "be03", "be04") if "%s (" % v in out]
    if rc == 0 or "replication_failback_discard_source_writes" not in out or before != after or lost or len(named) != 3:
        print(out)
        print("DEFECT (%s): failback rc=%s, volumes named %s, source relationships changed=%s, writes on the source lost on %s"
              % (use_rest, rc, named, before != after, lost))
        return 1
    print("ok (%s): failback refused naming be02, be03, be04; nothing changed" % use_rest)
    return 0


sys.exit(main())
