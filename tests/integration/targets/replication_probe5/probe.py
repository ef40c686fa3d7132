# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Attacks on the replication role (probe 5, issue 17), through the playbooks as a user would, against ontap-sim
(argv: ready file, work dir, use_rest, then the names of the attacks to run; none: all of them).

junctions: a junction path of the failover held on the target by another volume is refused before anything changes,
check mode too (finding 10); a DP volume an admin mounted elsewhere on the target is mounted where the source had it
(finding 7); the record of the source's junction paths holds however the source's hostname is spelled (finding 8),
and a failover without a record says so.
race: a second failover to another target breaks while this one quiesces: this one stops before its break (finding 9).
lost: a mount fails mid-failover: the error names the volumes broken off; with that target offline, naming the other
target is refused (finding 13).
lostsource: a volume listed by name and lost on the source is named as lost by the failback, and once left out of the
names, its data on the target is still named (finding 11).
switched: a failover with the source down after a failback past its switch says so (finding 16); a release that fails
on the failover target fails the failback naming it, and a re-run finishes (finding 14)."""

import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "replication_playbooks", "files"))
from probe_common import ctl, playbook, rest, state, use_rest, work  # noqa: E402

attacks = sys.argv[4:]
REST = use_rest == "always"
defects = []


def defect(text, out=""):
    print(out[-6000:])
    print("DEFECT (%s): %s" % (use_rest, text))
    defects.append(text)


def picture():
    s = state()
    return {c: {"relationships": {p: (r["mirror_state"], r["status"]) for p, r in s[c]["relationships"].items()},
                "volumes": {p: (v["type"], v["junction_path"]) for p, v in s[c]["volumes"].items()}} for c in ("src", "dr1", "dr2")}


def broken(cluster):
    return sorted(p.split(":")[1] for p, r in state()[cluster]["relationships"].items() if "broken" in r["mirror_state"])


def writable_twice():
    return sorted(set(broken("dr1")) & set(broken("dr2")))


def volume_uuid(cluster, svm, name):
    return rest(cluster, "GET", "/api/storage/volumes?svm.name=%s&name=%s" % (svm, name))["records"][0]["uuid"]


def mount(cluster, svm, name, path):
    rest(cluster, "PATCH", "/api/storage/volumes/%s" % volume_uuid(cluster, svm, name), {"nas": {"path": path}})
    for _attempt in range(100):
        if state()[cluster]["volumes"]["%s:%s" % (svm, name)]["junction_path"] == (path or None):
            return
        time.sleep(0.1)
    raise AssertionError("%s:%s not mounted at %r" % (svm, name, path))


def replicated():
    ctl("/reset")
    rc, out = playbook("replicate")
    assert rc == 0, out


def junctions():
    replicated()
    rest("dr1", "POST", "/api/storage/volumes", {"name": "scratch", "svm": {"name": "svm_dr1"}, "aggregates": [{"name": "aggr1"}],
                                                 "size": "100MiB", "nas": {"path": "/be03"}})
    for _attempt in range(100):
        if "svm_dr1:scratch" in state()["dr1"]["volumes"]:
            break
        time.sleep(0.1)
    ctl("/clusters/src/offline")
    over = ("failover", "-e", "replication_failover_target=dr1")
    before = picture()
    for check in (True, False):
        rc, out = playbook(*over, check=check)
        if rc == 0 or "volume scratch is mounted there" not in out or "/be03" not in out:
            defect("a junction path held on dr1 by volume scratch: %s rc %s, not refused naming scratch and /be03"
                   % ("check mode" if check else "the run", rc), out)
        if picture() != before:
            defect("a junction path held on dr1 by volume scratch: the refused %s changed the clusters"
                   % ("check mode" if check else "run"), out)
    mount("dr1", "svm_dr1", "scratch", "")
    # an admin mounted a DP volume of dr1 elsewhere (to read it); and the inventory spells the source's host otherwise
    mount("dr1", "svm_dr1", "be03", "/elsewhere")
    backend = json.load(open(os.path.join(work, "backend.json")))
    cluster = backend["replication_backend"]["source"]["cluster"]
    cluster["hostname"] = "localhost" if cluster["hostname"] != "localhost" else "127.0.0.1"
    spelled = os.path.join(work, "spelled.json")
    json.dump({"replication_backend": backend["replication_backend"]}, open(spelled, "w"))
    rc, out = playbook(*over, "-e", "@" + spelled)
    s = state()["dr1"]["volumes"]
    paths = {v: s["svm_dr1:" + v]["junction_path"] for v in ("be01", "be02", "be03")}
    if rc != 0 or paths != {"be01": "/be01", "be02": "/be01/be02", "be03": "/be03"}:
        defect("failover with be03 mounted at /elsewhere on dr1 and the source's host spelled %s: rc %s, mounted %s"
               % (cluster["hostname"], rc, paths), out)
    # no record of the junction paths at all: said, and in the report
    rc, out = playbook(*over, "-e", "replication_junctions_file=" + os.path.join(work, "none.json"), "-e", "@" + spelled, check=True)
    if "WARNING: the source did not answer and replication_junctions_file" not in out or "'junction_path_guessed': True" not in out:
        defect("a failover with the source down and no junction record: no warning (rc %s)" % rc, out)
    print("junctions (%s): dr1 mounted %s" % (use_rest, paths))


def race():
    replicated()
    ctl("/clusters/src/offline")
    ctl("/faults", {"cluster": "dr1", "slow_quiesce": 8})
    result = {}
    run = threading.Thread(target=lambda: result.update(out=playbook("failover", "-e", "replication_failover_target=dr1")))
    run.start()
    for _attempt in range(600):
        if any(r["status"] == "quiescing" for r in state()["dr1"]["relationships"].values()):
            break
        time.sleep(0.05)
    else:
        defect("race: dr1 never quiescing")
    # the other operator's failover to dr2, with its own record file, breaks be01 there meanwhile
    uuid = rest("dr2", "GET", "/api/snapmirror/relationships?destination.path=svm_dr2:be01")["records"][0]["uuid"]
    rest("dr2", "PATCH", "/api/snapmirror/relationships/%s" % uuid, {"state": "paused"})
    for _attempt in range(100):
        if state()["dr2"]["relationships"]["svm_dr2:be01"]["status"] == "quiesced":
            break
        time.sleep(0.1)
    rest("dr2", "PATCH", "/api/snapmirror/relationships/%s" % uuid, {"state": "broken_off"})
    run.join()
    ctl("/faults", method="DELETE")
    rc, out = result["out"]
    if rc == 0 or writable_twice() or "dr2" not in out:
        defect("race: a failover to dr2 broke be01 while the failover to dr1 quiesced: rc %s, writable on both %s"
               % (rc, writable_twice()), out)
    print("race (%s): rc %s, broken on dr1 %s, on dr2 %s" % (use_rest, rc, broken("dr1"), broken("dr2")))


def lost():
    replicated()
    ctl("/clusters/src/offline")
    ctl("/faults", {"cluster": "dr1", "operation": "PATCH /api/storage/volumes/{uuid}" if REST else "volume-mount", "errno": "13001",
                    "message": "Injected mount failure."})
    rc, out = playbook("failover", "-e", "replication_failover_target=dr1")
    ctl("/faults", method="DELETE")
    done = broken("dr1")
    if rc == 0 or not done or "Broken off (writable) on dr1: %s." % ", ".join(done) not in out:
        defect("a mount failed mid-failover: rc %s, the error does not name the volumes broken off on dr1 (%s)" % (rc, done), out)
    ctl("/clusters/dr1/offline")
    rc, out = playbook("failover", "-e", "replication_failover_target=dr2")
    ctl("/clusters/dr1/online")
    if rc == 0 or writable_twice() or "Bring dr1 back" not in out:
        defect("dr1 offline after a failover to it broke %s: naming dr2 gave rc %s, writable on both %s"
               % (done, rc, writable_twice()), out)
    print("lost (%s): broken on dr1 %s, on dr2 %s" % (use_rest, done, broken("dr2")))


def lostsource():
    """Volumes listed by name, be03 lost on the source after a failover to dr1: the failback names it as lost (not as a
    name to correct), and once it is left out of the names, says that its data stays broken off on dr1 (finding 11)."""
    ctl("/reset")
    backend = json.load(open(os.path.join(work, "backend.json")))["replication_backend"]
    names = os.path.join(work, "names.json")
    json.dump({"replication_backend": dict(backend, source=dict(backend["source"], volumes=["be01", "be02", "be03"]))}, open(names, "w"))
    rc, out = playbook("replicate", "-e", "@" + names)
    assert rc == 0, out
    ctl("/clusters/src/offline")
    rc, out = playbook("failover", "-e", "replication_failover_target=dr1", "-e", "@" + names)
    assert rc == 0, out
    ctl("/clusters/src/online")
    uuid = volume_uuid("src", "svm_be", "be03")
    rest("src", "PATCH", "/api/storage/volumes/%s" % uuid, {"state": "offline"})
    rest("src", "DELETE", "/api/storage/volumes/%s" % uuid)
    rc, out = playbook("failback", "-e", "@" + names, check=True)
    if rc == 0 or "has no volume be03, failed over to dr1" not in out or "correct the names" in out:
        defect("be03 lost on the source, listed by name: the failback gave rc %s without the lost-volume text" % rc, out)
    json.dump({"replication_backend": dict(backend, source=dict(backend["source"], volumes=["be01", "be02"]))}, open(names, "w"))
    rc, out = playbook("failback", "-e", "@" + names, check=True)
    if "does not name: be03" not in out:
        defect("be03 left out of the names after the failback's advice: its data on dr1 is named nowhere (rc %s)" % rc, out)
    print("lostsource (%s): broken on dr1 %s" % (use_rest, broken("dr1")))


def settled():
    """No transfer runs and no call but this one is answered (a killed run leaves its calls going on)."""
    for _attempt in range(300):
        s = state()
        moving = [r for c in ("src", "dr1", "dr2") for r in s[c]["relationships"].values()
                  if r["transfer"] or r["status"] in ("transferring", "quiescing", "finalizing")]
        if ctl("/in_flight", method="GET")["in_flight"] <= 1 and not moving:
            return
        time.sleep(0.1)


def switched():
    """A failback killed past its switch (at the first resync of dr1): with the source down again, a failover to dr1
    says that the source volumes were writable since (finding 16). Then the release on dr1 fails: the failback fails
    naming dr1, and a re-run finishes it (finding 14)."""
    rel = "/api/snapmirror/relationships/{uuid}"
    stopped = ("failback", "-e", "replication_writers_stopped=true")
    replicated()
    ctl("/clusters/src/offline")
    rc, out = playbook("failover", "-e", "replication_failover_target=dr1")
    assert rc == 0, out
    ctl("/clusters/src/online")
    rc, out = playbook("failback")
    assert rc == 0, out
    settled()
    ctl("/faults", {"cluster": "dr1", "operation": "PATCH " + rel if REST else "snapmirror-resync", "kill_play": True,
                    "body": '"snapmirrored"' if REST else None})
    rc, out = playbook(*stopped)
    ctl("/faults", method="DELETE")
    assert rc == -9, out
    settled()
    ctl("/clusters/src/offline")
    rc, out = playbook("failover", "-e", "replication_failover_target=dr1", check=True)
    if "WARNING: a failback from dr1 got past its switch" not in out or "the source did not answer" not in out:
        defect("a failover with the source down after a failback past its switch: nothing said of the source's writes (rc %s)"
               % rc, out)
    ctl("/clusters/src/online")
    ctl("/faults", {"cluster": "dr1", "operation": "DELETE " + rel if REST else "snapmirror-release", "count": 10, "errno": "13001",
                    "message": "Injected release failure."})
    rc, out = playbook(*stopped)
    ctl("/faults", method="DELETE")
    if rc == 0 or "target dr1" not in out or "did not release them" not in out:
        defect("the release on dr1 failed in the failback: rc %s, dr1 not named as unreleased" % rc, out)
    rc, out = playbook(*stopped)
    s = state()
    left = sorted(p for c in ("src", "dr1") for p, r in s[c]["relationships"].items() if r["mirror_state"] != "snapmirrored")
    if rc != 0 or s["src"]["relationships"] or left:
        defect("the failback after the failed release: rc %s, reverse left %s, not mirroring %s"
               % (rc, sorted(s["src"]["relationships"]), left), out)
    print("switched (%s): done" % use_rest)


ATTACKS = {"junctions": junctions, "race": race, "lost": lost, "lostsource": lostsource, "switched": switched}
for attack in attacks or ATTACKS:
    ATTACKS[attack]()
print("%d defects (%s)" % (len(defects), use_rest))
sys.exit(1 if defects else 0)
