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
target is refused (finding 13)."""

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


ATTACKS = {"junctions": junctions, "race": race, "lost": lost}
for attack in attacks or ATTACKS:
    ATTACKS[attack]()
print("%d defects (%s)" % (len(defects), use_rest))
sys.exit(1 if defects else 0)
