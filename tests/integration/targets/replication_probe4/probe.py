# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Attacks on the replication role (probe 4), through the playbooks as a user would, against ontap-sim
(argv: ready file, work dir, use_rest, then the names of the attacks to run; none: all of them).

kills: a failover and a failback, each killed (SIGKILL to the ansible-playbook process group, by ontap-sim's kill_play
fault, right after the call of that step acted) at every step in turn; before each step check mode must change
nothing and predict what the run then does; after each kill no volume is writable on two targets, and the last run
converges with the data written on the failed-over side back on the source."""

import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "replication_playbooks", "files"))
from probe_common import ctl, playbook, rest, state, use_rest  # noqa: E402

attacks = sys.argv[4:]
REST = use_rest == "always"
VOLUMES = ("be01", "be02", "be03")
REL = "/api/snapmirror/relationships/{uuid}"
defects = []
previous = {"killed": False}   # whether the last step's run was killed
ZAPI_KILLS = ("failover killed at a break", "failback killed at the reverse resync",
              "failback killed at a break of the reverse relationships",
              "failback killed at the resync of the original relationships", "failback killed at the release on the target")


def changed_tasks(out):
    """The tasks that reported changed, in order (a task looped or included several times counts once)."""
    tasks, task = [], None
    for line in out.splitlines():
        m = re.match(r"^TASK \[(.*)\] \**$", line)
        if m:
            task = m.group(1)
        elif line.startswith("changed: ") and task and task not in tasks:
            tasks.append(task)
    return tasks


def picture():
    """What check mode must leave alone: every relationship's state and every volume's type, path and data."""
    s = state()
    return {c: {"relationships": {p: (r["source_path"], r["mirror_state"], r["status"]) for p, r in s[c]["relationships"].items()},
                "volumes": {p: (v["type"], v["junction_path"], sorted(v["tags"])) for p, v in s[c]["volumes"].items()}}
            for c in ("src", "dr1", "dr2")}


def settled():
    """Wait until no transfer runs and no call is answered but this one (a killed run leaves its transfers going on,
    and the calls it sent beside the one it was killed at), so check mode sees a still picture."""
    for _attempt in range(300):
        s = state()
        moving = [r for c in ("src", "dr1", "dr2") for r in s[c]["relationships"].values()
                  if r["transfer"] or r["status"] in ("transferring", "quiescing", "finalizing")]
        if ctl("/in_flight", method="GET")["in_flight"] <= 1 and not moving:
            return
        time.sleep(0.1)


def writable_twice():
    """Volumes of the backend writable (broken off) on both targets at once."""
    s = state()
    broken = {c: {p.split(":")[1] for p, r in s[c]["relationships"].items() if "broken" in r["mirror_state"]}
              for c in ("dr1", "dr2")}
    return sorted(broken["dr1"] & broken["dr2"])


def defect(text, out=""):
    print(out[-6000:])
    print("DEFECT (%s): %s" % (use_rest, text))
    defects.append(text)


def step(label, name, args, kill, last=False):
    """Check mode, then the real run killed at the call named by kill (cluster, REST operation, ZAPI api, body text),
    or run to the end when kill is None. A kill runs over one transport, the one in ZAPI_KILLS or REST (to keep the
    target short; PROBE4_ALL_KILLS=1: over both). Over ZAPI check mode runs only where a kill left the clusters: a
    step after one that ran to its end starts from a state the REST pass checks too, and check mode is decided above
    the transport (the module reads and plans with the same code, then stops before any request that changes)."""
    all_kills = os.environ.get("PROBE4_ALL_KILLS")
    if kill and (label in ZAPI_KILLS) == REST and not all_kills:
        return
    settled()
    crc, cout = 0, None
    if REST or previous["killed"] or all_kills:
        before = picture()
        crc, cout = playbook(name, *args, check=True)
        after = picture()
        if after != before:
            diff = dict(("%s %s" % (c, p), (v, after[c][k].get(p))) for c in before for k in before[c]
                        for p, v in before[c][k].items() if after[c][k].get(p) != v)
            defect("%s: check mode changed the clusters: %s" % (label, diff), cout)
    if kill:
        cluster, rest_op, zapi_op, body = kill
        ctl("/faults", {"cluster": cluster, "operation": rest_op if REST else zapi_op, "kill_play": True, "body": body})
    rc, out = playbook(name, *args)
    ctl("/faults", method="DELETE")
    if last and rc == 2 and "nothing to fail back" in out and "replication_action ensure resumes them" not in out:
        rc = 0   # the kill came after the last change: nothing is left (the state is checked after the last step)
    elif last and rc == 2 and "replication_action ensure resumes them" in out:
        # killed after its release, the failback left only the other targets' quiesced relationships: ensure ends it
        settled()
        if cout is not None:
            crc, cout = playbook("replicate", check=True)
        rc, out = playbook("replicate")
    previous["killed"] = rc == -9
    if kill and rc != -9:
        defect("%s: the kill at %s never came (rc %s)" % (label, kill, rc), out)
    elif not kill and rc != 0:
        defect("%s: the run did not converge (rc %s)" % (label, rc), out)
    done = changed_tasks(out)
    if cout is not None:
        predicted = changed_tasks(cout)
        if crc != 0 and (kill or rc == 0):
            defect("%s: check mode failed (rc %s) where the run goes on" % (label, crc), cout)
        missed = [t for t in done if t not in predicted]
        if missed or (not kill and done != predicted):
            defect("%s: check mode predicted changes in %s, the run changed %s" % (label, predicted, done), cout + out)
    twice = writable_twice()
    if twice:
        defect("%s: writable on dr1 and dr2 at once: %s" % (label, twice), out)
    print("%s (%s): killed=%s, check predicted %s changed tasks, the run changed %d"
          % (label, use_rest, rc == -9, "no" if cout is None else len(predicted), len(done)))


def kills():
    ctl("/reset")
    rc, out = playbook("replicate")
    assert rc == 0, out
    ctl("/clusters/src/offline")
    over = ("failover", ["-e", "replication_failover_target=dr1"])
    step("failover killed at a quiesce", *over, ("dr1", "PATCH " + REL, "snapmirror-quiesce", '"paused"' if REST else None))
    step("failover killed at a break", *over, ("dr1", "PATCH " + REL, "snapmirror-break", '"broken_off"' if REST else None))
    step("failover killed at the mount of the second level", *over,
         ("dr1", "PATCH /api/storage/volumes/{uuid}", "volume-mount", "/be01/be02"))
    step("failover after the kills", *over, None)
    for vol in VOLUMES:
        ctl("/volumes/write", {"cluster": "dr1", "svm": "svm_dr1", "volume": vol, "bytes": 4096, "tag": "on-dr1"})
    ctl("/clusters/src/online")
    # an admin quiesced dr2 meanwhile: the failback resumes it
    for rec in rest("dr2", "GET", "/api/snapmirror/relationships?destination.path=svm_dr2:*")["records"]:
        rest("dr2", "PATCH", "/api/snapmirror/relationships/%s" % rec["uuid"], {"state": "paused"})
    back = ("failback", [])
    stopped = ("failback", ["-e", "replication_writers_stopped=true"])
    step("failback killed at the reverse resync", *back,
         ("src", "PATCH " + REL, "snapmirror-resync", '"snapmirrored"' if REST else None))
    step("failback to the pause point", *back, None)
    step("failback killed at the final update", *stopped,
         ("src", "POST " + REL + "/transfers", "snapmirror-update", None))
    step("failback killed at a break of the reverse relationships", *stopped,
         ("src", "PATCH " + REL, "snapmirror-break", '"broken_off"' if REST else None))
    # no mount step in the failback: the source volumes keep their junction paths through the reverse resync
    step("failback killed at the resync of the original relationships", *stopped,
         ("dr1", "PATCH " + REL, "snapmirror-resync", '"snapmirrored"' if REST else None))
    step("failback killed at the delete of the reverse relationships", *stopped,
         ("src", "DELETE " + REL, "snapmirror-destroy", None))
    step("failback killed at the release on the target", *stopped,
         ("dr1", "DELETE " + REL, "snapmirror-release", None))
    step("failback killed at the resume of the other target", *stopped,
         ("dr2", "PATCH " + REL, "snapmirror-resume", '"snapmirrored"' if REST else None))
    step("failback after the kills", *stopped, None, last=True)
    s = state()
    lost = [v for v in VOLUMES if "on-dr1" not in s["src"]["volumes"]["svm_be:" + v]["tags"]]
    left = sorted(s["src"]["relationships"])
    bad = sorted(p for c in ("dr1", "dr2") for p, r in s[c]["relationships"].items()
                 if r["mirror_state"] != "snapmirrored" or r["status"] != "idle")
    if lost or left or bad:
        defect("after the failback: written on dr1 and lost %s, reverse relationships left %s, not mirroring %s"
               % (lost, left, bad))


def refailover():
    """A failback killed before its resync of the original direction (every reverse relationship broken off: the source is
    writable again), then the source goes down again and the failover finishes the failover to dr1, and the
    applications write on dr1: the next failback must carry those writes back (a resync of dr1 from the source would
    roll them back). Over REST only: which volumes go back to the reverse resync is decided above the transport, from
    the relationships' states and the volumes' snapshot deltas, and ontap_volume_info reads those over ZAPI for the
    failback's check of the source side as well (PROBE4_ALL_KILLS=1: over both)."""
    if not REST and not os.environ.get("PROBE4_ALL_KILLS"):
        return
    stopped = ("failback", ["-e", "replication_writers_stopped=true"])
    ctl("/reset")
    rc, out = playbook("replicate")
    assert rc == 0, out
    ctl("/clusters/src/offline")
    rc, out = playbook("failover", "-e", "replication_failover_target=dr1")
    assert rc == 0, out
    for vol in VOLUMES:
        ctl("/volumes/write", {"cluster": "dr1", "svm": "svm_dr1", "volume": vol, "bytes": 4096, "tag": "on-dr1"})
    ctl("/clusters/src/online")
    rc, out = playbook("failback")
    assert rc == 0, out
    settled()
    # killed right after the first resync of the original direction: every reverse relationship broken off (the
    # source writable again), one volume of dr1 resynced, the others still broken off
    ctl("/faults", {"cluster": "dr1", "operation": "PATCH " + REL if REST else "snapmirror-resync",
                    "kill_play": True, "body": '"snapmirrored"' if REST else None})
    rc, out = playbook(stopped[0], *stopped[1])
    ctl("/faults", method="DELETE")
    assert rc == -9, out
    settled()
    previous["killed"] = True
    ctl("/clusters/src/offline")
    # named: with one volume of dr1 resynced, dr1's relationships no longer read as a failover in progress
    step("failover after a failback killed before its resync", "failover", ["-e", "replication_failover_target=dr1"], None)
    for vol in VOLUMES:
        ctl("/volumes/write", {"cluster": "dr1", "svm": "svm_dr1", "volume": vol, "bytes": 8192, "tag": "after-refailover"})
    ctl("/clusters/src/online")
    step("failback after the failover to dr1 again", "failback", [], None)
    step("failback after the failover to dr1 again, writers stopped", *stopped, None, last=True)
    s = state()
    lost = ["%s:%s" % (v, t) for v in VOLUMES for t in ("on-dr1", "after-refailover") if t not in s["src"]["volumes"]["svm_be:" + v]["tags"]]
    bad = sorted(p for c in ("dr1", "dr2") for p, r in s[c]["relationships"].items()
                 if r["mirror_state"] != "snapmirrored" or r["status"] != "idle")
    if lost or s["src"]["relationships"] or bad:
        defect("refailover: written on dr1 and lost %s, reverse relationships left %s, not mirroring %s"
               % (lost, sorted(s["src"]["relationships"]), bad))
    print("refailover (%s): kept on the source %s" % (use_rest, sorted(s["src"]["volumes"]["svm_be:be01"]["tags"])))


def slow():
    """A target that answers after two minutes (replication_target_timeout is 5 s): status and a failover end without
    waiting for it, say which target did not answer, and a failover chooses only with a target named. Over ZAPI only
    the failover to dr1: the client's timeout is what differs by transport, and each of the three runs meets it."""
    ctl("/reset")
    rc, out = playbook("replicate")
    assert rc == 0, out
    ctl("/faults", {"cluster": "dr2", "latency": 120})
    ctl("/clusters/src/offline")
    runs = {}
    cases = (("status", ("replicate", "-e", "replication_action=status")), ("failover", ("failover",)),
             ("failover to dr1", ("failover", "-e", "replication_failover_target=dr1")))
    for label, args in cases if REST or os.environ.get("PROBE4_ALL_KILLS") else cases[2:]:
        try:
            runs[label] = playbook(*args, timeout=100)
        except subprocess.TimeoutExpired:
            defect("%s with dr2 answering after 120 s and replication_target_timeout 5 s: still running after 100 s" % label)
            runs[label] = (None, "")
    ctl("/faults", method="DELETE")
    if "status" in runs:
        rc, out = runs["status"]
        if rc != 0 or not re.search(r"be01\s+dr2\s+unreachable", out):
            defect("status with dr2 slow: rc %s, dr2 not shown unreachable" % rc, out)
    if "failover" in runs:
        rc, out = runs["failover"]
        if rc == 0 or "dr2" not in out or "could not be read" not in out:
            defect("failover with dr2 slow and no target named: rc %s, not refused naming dr2" % rc, out)
    rc, out = runs["failover to dr1"]
    s = state()
    broken = sorted(p for p, r in s["dr1"]["relationships"].items() if "broken" in r["mirror_state"])
    if rc != 0 or len(broken) != 3 or "dr2" not in out:
        defect("failover to dr1 with dr2 slow: rc %s, broken on dr1 %s, dr2 not named" % (rc, broken), out)
    print("slow (%s): %s" % (use_rest, ", ".join("%s rc %s" % (label, run[0]) for label, run in runs.items())))


ATTACKS = {"kills": kills, "refailover": refailover, "slow": slow}
for attack in attacks or ATTACKS:
    ATTACKS[attack]()
print("%d defects (%s)" % (len(defects), use_rest))
sys.exit(1 if defects else 0)
