#!/usr/bin/env bash
# The playbooks replicate, failover and failback (role replication) against their own ontap-sim of three
# clusters (files/seed.yml: source src, targets dr1 and dr2): a whole lifecycle with check mode, idempotent re-runs
# and the source offline during the failover (over REST; its steps whose requests differ by transport over ZAPI too);
# then bad inputs (tests.yml, over both) and a fault at each step of failover and failback (faults.yml, over ZAPI).
set -eux
cd "$(dirname "$0")"
# shellcheck source=files/sim.sh
. files/sim.sh files/seed.yml
run() {
    ansible-playbook -i localhost, -c local -e "ansible_python_interpreter=$python" -e "@$work/backend.json" \
        -e "replication_junctions_file=$work/junctions.json" "$@"
}
ctl() {
    curl -sf -X POST "$(python -c 'import json,sys; print(json.load(open(sys.argv[1]))["control"])' "$work/ready")$1" \
        -H 'Content-Type: application/json' -d "${2:-"{}"}" >/dev/null
}
expect_fail() {   # expect_fail TEXT playbook args...: the run fails and says TEXT
    local text="$1"; shift
    if run "$@" >"$work/out" 2>&1; then cat "$work/out"; echo "expected a failure saying: $text"; return 1; fi
    grep -q -- "$text" "$work/out" || { cat "$work/out"; echo "the failure does not say: $text"; return 1; }
}
api() {           # api CLUSTER METHOD PATH [BODY]: a request to a cluster's REST API, as an admin would make by hand
    curl -sf -u 'admin:netapp1!' -X "$2" "$(python -c 'import json,sys; print(json.load(open(sys.argv[1]))["clusters"][sys.argv[2]])' \
        "$work/ready" "$1")$3" -H 'Content-Type: application/json' ${4:+-d "$4"}
}
uuid_of() {       # uuid_of CLUSTER PATH FIELD VALUE: the uuid of the record of PATH whose FIELD (a dotted name) is VALUE
    api "$1" GET "$2" | python -c 'import json,sys; f=sys.argv[1].split("."); print([r["uuid"] for r in json.load(sys.stdin)["records"]
        if (r[f[0]][f[1]] if len(f) > 1 else r[f[0]]) == sys.argv[2]][0])' "$3" "$4"
}
state_is() {      # state_is PYTHON-EXPRESSION: the expression holds of the clusters' state (s), else it is printed
    curl -sf "$(python -c 'import json,sys; print(json.load(open(sys.argv[1]))["control"])' "$work/ready")/state" \
        | python -c 'import json,sys; s=json.load(sys.stdin); assert eval(sys.argv[1]), json.dumps(s)' "$1"
}
no_change() {     # the run changes nothing
    run "$@" | tee "$work/out"
    grep -q 'changed=0 ' "$work/out"
}
# A role's run and the verify.yml after it go in one ansible-playbook run (PLAYBOOK verify.yml -e verify=...),
# which saves a start of Ansible each; verify.yml only reads and asserts, also under --check.

# The lifecycle runs whole over REST. Over ZAPI it keeps only the steps whose requests differ by transport: under the
# role, the modules and the client are the same code for both but for the transport's requests and how it reads their
# answers back, and check mode, the refusals, the lock and the failback's planning act on what those reads return.
# Kept over ZAPI: ensure in check mode from nothing (the prediction uses the transport's default policy), for real
# (creation with schedule and aggregate) and again (idempotence rests on how each transport reads the relationships
# back), status (lag), and the failover with the source down (over either transport no request to it) and its re-run
# (broken-off relationships and mounted volumes read back). tests.yml runs over both, and its faults.yml fails over and
# back over ZAPI with a fault at every step; replication_probe3 checks over both that a failback finds the writes on
# the source.
for use_rest in ${REPLICATION_TRANSPORTS:-always never}; do
    python files/backend.py "$work/ready" "$use_rest" >"$work/backend.json"
    python files/backend.py "$work/ready" "$use_rest" sim_backend >"$work/tests.json"
    ctl /reset
    # ensure: check mode predicts and changes nothing, the run converges, the re-run changes nothing
    run storage.datamotion.replicate verify.yml --check -e verify=empty
    run storage.datamotion.replicate verify.yml -e verify=ensured
    no_change storage.datamotion.replicate
    [ "$use_rest" = never ] || run storage.datamotion.replicate -e replication_action=update
    run storage.datamotion.replicate -e replication_action=status
    # failover with the source down: never a request to it, one target only, a re-run changes nothing
    ctl /relationships/age '{"cluster": "dr2", "destination_path": "svm_dr2:be01", "seconds": 600}'
    ctl /clusters/src/offline
    ctl /stats/reset
    [ "$use_rest" = never ] || run storage.datamotion.failover verify.yml --check -e verify=ensured
    run storage.datamotion.failover verify.yml -e verify=failed_over -e source_requests=0
    no_change storage.datamotion.failover
    if [ "$use_rest" = always ]; then
        expect_fail "failback is refused" storage.datamotion.failback
        expect_fail "already failed over to target" storage.datamotion.failover -e replication_failover_target=dr2
        # failback keeps what was written on the target
        ctl /clusters/src/online
        run verify.yml -e verify=write
        # a write on the source after the failover: the reverse resync would discard it, so the failback is refused
        # until replication_failback_discard_source_writes accepts the loss, and nothing changes before
        ctl /volumes/write '{"cluster": "src", "svm": "svm_be", "volume": "be02", "bytes": 8192, "tag": "late-on-source"}'
        expect_fail "would discard what was written on the source since the snapshot it shares with the target: be02 (8192 bytes" \
            storage.datamotion.failback
        grep -q 'replication_failback_discard_source_writes (\["be02"\]' "$work/out" || { cat "$work/out"; exit 1; }
        expect_fail "would discard what was written on the source" storage.datamotion.failback --check
        # check mode from the first step predicts the whole failback: the reverse resync is planned, not done, and
        # the steps after it are shown as planned rather than failing on relationships that do not exist yet
        run storage.datamotion.failback verify.yml --check -e replication_writers_stopped=true -e verify=failed_over \
            -e '{"replication_failback_discard_source_writes": ["be02"]}' | tee "$work/out"
        grep -q "be01, be02.*reverse resync predicted, not done" "$work/out" || { cat "$work/out"; exit 1; }
        # replication_writers_stopped=false (a string from -e) stops at the pause point
        run storage.datamotion.failback verify.yml -e verify=reversed -e replication_writers_stopped=false \
            -e '{"replication_failback_discard_source_writes": ["be02"]}'
        run storage.datamotion.failback verify.yml -e replication_writers_stopped=true --check -e verify=reversed
        run storage.datamotion.failback verify.yml -e replication_writers_stopped=true -e verify=failed_back
        expect_fail "nothing to fail back" storage.datamotion.failback
        no_change storage.datamotion.replicate
        # a failed transfer leaves be01 unhealthy on dr1: ensure's check mode names it (the run transfers once more)
        ctl /faults '{"cluster": "dr1", "transfer_fail": "svm_dr1:be01", "count": 1, "message": "Injected failure"}'
        expect_fail "dr1" storage.datamotion.replicate -e replication_action=update
        run storage.datamotion.replicate --check | tee "$work/out"
        grep -q "svm_dr1:be01 on target dr1 is not healthy" "$work/out" || { cat "$work/out"; exit 1; }
        run storage.datamotion.replicate
        # two failovers at once to different targets: the backend's lock lets exactly one of them break anything
        ctl /clusters/src/offline
        run storage.datamotion.failover -e replication_failover_target=dr1 >"$work/f1" 2>&1 & f1_pid=$!
        f2=0; run storage.datamotion.failover -e replication_failover_target=dr2 >"$work/f2" 2>&1 || f2=$?
        f1=0; wait $f1_pid || f1=$?
        { [ "$f1" = 0 ] && [ "$f2" != 0 ]; } || { [ "$f1" != 0 ] && [ "$f2" = 0 ]; } \
            || { cat "$work/f1" "$work/f2"; echo "two failovers at once: exactly one must succeed ($f1, $f2)"; exit 1; }
        grep -qE "is locked by another run|already failed over to target" "$work/f1" "$work/f2" \
            || { cat "$work/f1" "$work/f2"; echo "the second failover did not say why it stopped"; exit 1; }
        if grep -q "two failovers of this backend ran at once" "$work/f1" "$work/f2"; then
            cat "$work/f1" "$work/f2"; echo "both failovers broke relationships"; exit 1
        fi
        # a relationship broken by hand on dr2 (a DR test) is no failover in progress: a failover without a target
        # does not take dr2 (a day behind) for its own, it refuses naming the relationship, and changes nothing
        ctl /reset
        run storage.datamotion.replicate
        api dr2 PATCH "/api/snapmirror/relationships/$(uuid_of dr2 '/api/snapmirror/relationships?fields=destination.path' \
            destination.path svm_dr2:be03)" '{"state": "broken_off"}' >/dev/null
        ctl /relationships/age '{"cluster": "dr2", "destination_path": "svm_dr2:be01", "seconds": 86400}'
        ctl /clusters/src/offline
        for check in --check ""; do
            expect_fail "target dr2 holds broken-off relationships of the backend (be03) while be01, be02, be04 still mirror" \
                storage.datamotion.failover $check
        done
        state_is "[k for t in ('dr1', 'dr2') for k, r in s[t]['relationships'].items() if r['mirror_state'] != 'snapmirrored'
                   or r['status'] != 'idle'] == ['svm_dr2:be03']"
        # failed over to dr1, be02's relationship deleted there by hand (its volume and writes kept) and be05 made there by
        # the applications: the failback refuses to leave them behind; a volume the source lost is named before anything changes
        ctl /reset
        run storage.datamotion.replicate
        ctl /clusters/src/offline
        run storage.datamotion.failover -e replication_failover_target=dr1
        ctl /clusters/src/online
        ctl /volumes/write '{"cluster": "dr1", "svm": "svm_dr1", "volume": "be02", "bytes": 4096, "tag": "on-dr1"}'
        api dr1 DELETE "/api/snapmirror/relationships/$(uuid_of dr1 '/api/snapmirror/relationships?fields=destination.path' \
            destination.path svm_dr1:be02)?destination_only=true" >/dev/null
        api dr1 POST /api/storage/volumes '{"name": "be05", "svm": {"name": "svm_dr1"}, "size": "1GiB", "nas": {"path": "/data/be05"}}' >/dev/null
        for check in --check ""; do
            expect_fail "holds writable volumes of the backend without a relationship from svm_be: be02, be05. They may hold" \
                storage.datamotion.failback -e replication_writers_stopped=true $check
        done
        state_is "s['src']['relationships'] == {} and s['dr1']['volumes']['svm_dr1:be02']['type'] == 'rw'"
        be03=$(uuid_of src '/api/storage/volumes?fields=name' name be03)
        api src PATCH "/api/storage/volumes/$be03" '{"state": "offline"}' >/dev/null
        api src DELETE "/api/storage/volumes/$be03" >/dev/null
        for check in --check ""; do
            expect_fail "SVM svm_be on the source has no volume be03, failed over to dr1" \
                storage.datamotion.failback -e replication_writers_stopped=true $check
        done
        grep -q "create_destination" "$work/out" && { cat "$work/out"; echo "the refusal names a module option"; exit 1; }
        state_is "s['src']['relationships'] == {} and 'svm_be:be03' not in s['src']['volumes']"
        # a failback past its switch (the reverse relationships broken off, the source writable again), failed at the
        # resync of dr1: a failover to dr1 then says that the source volumes are writable again, in check mode too
        ctl /reset
        run storage.datamotion.replicate
        ctl /clusters/src/offline
        run storage.datamotion.failover -e replication_failover_target=dr1
        ctl /clusters/src/online
        ctl /faults '{"cluster": "dr1", "operation": "PATCH /api/snapmirror/relationships/{uuid}", "count": 4, "errno": "13001",
                      "message": "Injected failure of the resync"}'
        expect_fail "Injected failure of the resync" storage.datamotion.failback -e replication_writers_stopped=true
        curl -sf -X DELETE "$(python -c 'import json,sys; print(json.load(open(sys.argv[1]))["control"])' "$work/ready")/faults"
        state_is "all(r['mirror_state'] == 'broken-off' for r in s['dr1']['relationships'].values())"
        for check in --check ""; do
            run storage.datamotion.failover $check | tee "$work/out"
            grep -q "WARNING: a failback from dr1 got past its switch for be01, be02, be03, be04" "$work/out" \
                || { cat "$work/out"; echo "the failover did not say that the source took its volumes over again"; exit 1; }
        done
        # be04's relationship on dr2 deleted by hand during a failover to dr1: the failback does its work, then says that
        # dr2 does not mirror be04 rather than that every other target mirrors again
        ctl /reset
        run storage.datamotion.replicate
        ctl /clusters/src/offline
        run storage.datamotion.failover -e replication_failover_target=dr1
        ctl /clusters/src/online
        api dr2 DELETE "/api/snapmirror/relationships/$(uuid_of dr2 '/api/snapmirror/relationships?fields=destination.path' \
            destination.path svm_dr2:be04)?destination_only=true" >/dev/null
        for check in --check ""; do
            expect_fail "not every target mirrors the source again: target dr2 has no relationship for be04" \
                storage.datamotion.failback -e replication_writers_stopped=true $check
        done
        state_is "all(r['mirror_state'] == 'snapmirrored' for r in s['dr1']['relationships'].values()) and s['src']['relationships'] == {}"
        # a DR test on dr2 quiesces every relationship of the backend and breaks be03 (dr2 a day behind), and this controller
        # has no record of a failover (a job in a fresh container): the same states as the role's failover killed after its
        # first break, so a failover without a target refuses, naming them and each target's lag, and changes nothing
        ctl /reset
        run storage.datamotion.replicate
        rm -f "$work/junctions.json.failovers"
        for vol in be01 be02 be03 be04; do
            api dr2 PATCH "/api/snapmirror/relationships/$(uuid_of dr2 '/api/snapmirror/relationships?fields=destination.path' \
                destination.path "svm_dr2:$vol")" '{"state": "paused"}' >/dev/null
        done
        api dr2 PATCH "/api/snapmirror/relationships/$(uuid_of dr2 '/api/snapmirror/relationships?fields=destination.path' \
            destination.path svm_dr2:be03)" '{"state": "broken_off"}' >/dev/null
        ctl /relationships/age '{"cluster": "dr2", "destination_path": "svm_dr2:be01", "seconds": 86400}'
        ctl /clusters/src/offline
        for check in --check ""; do
            expect_fail "target dr2 holds broken-off relationships of the backend (be03) and quiesced ones (be01, be02, be04), and no record" \
                storage.datamotion.failover $check
            grep -q "Lag per target: dr1: [0-9]* s, dr2: [0-9]\{5,\} s" "$work/out" || { cat "$work/out"; echo "no lag per target"; exit 1; }
            grep -q "by this role's failover" "$work/out" && { cat "$work/out"; echo "a DR test called the role's failover"; exit 1; }
        done
        state_is "(all(r['mirror_state'] == 'snapmirrored' and r['status'] == 'idle' for r in s['dr1']['relationships'].values())
                   and s['dr2']['relationships']['svm_dr2:be03']['mirror_state'] == 'broken-off')"
        # failed over to dr1, then every relationship of the backend deleted on dr1 (volumes and writes kept): the failback
        # names dr1's writable volumes instead of "nothing to fail back", and a failover (source down again) refuses to
        # make them writable on dr2 too
        ctl /reset
        run storage.datamotion.replicate
        ctl /clusters/src/offline
        run storage.datamotion.failover -e replication_failover_target=dr1
        ctl /clusters/src/online
        for vol in be01 be02 be03 be04; do
            api dr1 DELETE "/api/snapmirror/relationships/$(uuid_of dr1 '/api/snapmirror/relationships?fields=destination.path' \
                destination.path "svm_dr1:$vol")?destination_only=true" >/dev/null
        done
        for check in --check ""; do
            expect_fail "dr1 holds be01, be02, be03, be04 writable without a relationship from the source" \
                storage.datamotion.failback -e replication_writers_stopped=true $check
        done
        ctl /clusters/src/offline
        for check in --check ""; do
            expect_fail "dr1 holds be01, be02, be03, be04 writable without a relationship of the backend" storage.datamotion.failover $check
        done
        state_is "all(r['mirror_state'] == 'snapmirrored' and r['status'] == 'idle' for r in s['dr2']['relationships'].values())"
        # the refusal's advice followed: the relationships re-created on dr1 (broken off onto its writable volumes), the
        # failback carries dr1's writes back and both targets mirror again
        ctl /clusters/src/online
        ctl /volumes/write '{"cluster": "dr1", "svm": "svm_dr1", "volume": "be02", "bytes": 4096, "tag": "on-dr1"}'
        for vol in be01 be02 be03 be04; do
            api dr1 POST /api/snapmirror/relationships "{\"source\": {\"path\": \"svm_be:$vol\"}, \"destination\": {\"path\": \"svm_dr1:$vol\"}}" >/dev/null
        done
        run storage.datamotion.failback -e replication_writers_stopped=true
        state_is "(all(r['mirror_state'] == 'snapmirrored' for t in ('dr1', 'dr2') for r in s[t]['relationships'].values())
                   and len(s['dr1']['relationships']) == 4 and s['src']['relationships'] == {}
                   and 'on-dr1' in s['src']['volumes']['svm_be:be02']['tags'])"
        # a failover to dr1 stopped after its first break (be01 broken off, the rest quiesced), the source back: the failback
        # resumes dr1's quiesced relationships too, and leaves every relationship of both targets mirroring
        ctl /reset
        run storage.datamotion.replicate
        for vol in be01 be02 be03 be04; do
            api dr1 PATCH "/api/snapmirror/relationships/$(uuid_of dr1 '/api/snapmirror/relationships?fields=destination.path' \
                destination.path "svm_dr1:$vol")" '{"state": "paused"}' >/dev/null
        done
        api dr1 PATCH "/api/snapmirror/relationships/$(uuid_of dr1 '/api/snapmirror/relationships?fields=destination.path' \
            destination.path svm_dr1:be01)" '{"state": "broken_off"}' >/dev/null
        run storage.datamotion.failback -e replication_writers_stopped=true
        state_is "(all(r['mirror_state'] == 'snapmirrored' and r['status'] == 'idle' for t in ('dr1', 'dr2')
                       for r in s[t]['relationships'].values()) and len(s['dr1']['relationships']) == 4)"
        # be04 deleted on dr1 (relationship and volume) during a failover to dr1: the failback does its work, then says that
        # dr1 itself no longer holds be04 rather than reporting success
        ctl /reset
        run storage.datamotion.replicate
        ctl /clusters/src/offline
        run storage.datamotion.failover -e replication_failover_target=dr1
        ctl /clusters/src/online
        api dr1 DELETE "/api/snapmirror/relationships/$(uuid_of dr1 '/api/snapmirror/relationships?fields=destination.path' \
            destination.path svm_dr1:be04)?destination_only=true" >/dev/null
        dr1be04=$(uuid_of dr1 '/api/storage/volumes?fields=name' name be04)
        api dr1 PATCH "/api/storage/volumes/$dr1be04" '{"state": "offline"}' >/dev/null
        api dr1 DELETE "/api/storage/volumes/$dr1be04" >/dev/null
        for check in --check ""; do
            expect_fail "not every target mirrors the source again: target dr1 has no relationship for be04" \
                storage.datamotion.failback -e replication_writers_stopped=true $check
        done
        # dr1 mirrors with gold, its SVM's own policy: the failback's reverse relationships take reverse_policy (default
        # MirrorAllSnapshots), not gold, which the source lacks; a reverse_policy the source lacks is named as the source's
        python -c 'import json,sys; b=json.load(open(sys.argv[1])); b["replication_backend"]["targets"][0]["policy"] = "gold"
print(json.dumps(b))' "$work/backend.json" >"$work/gold.json"
        ctl /reset
        run -e "@$work/gold.json" storage.datamotion.replicate
        ctl /clusters/src/offline
        run -e "@$work/gold.json" storage.datamotion.failover -e replication_failover_target=dr1
        ctl /clusters/src/online
        python -c 'import json,sys; b=json.load(open(sys.argv[1])); b["replication_backend"]["targets"][0]["reverse_policy"] = "gold"
print(json.dumps(b))' "$work/gold.json" >"$work/gold_reverse.json"
        expect_fail "the reverse resync on the source cluster 127.0.0.1 (SVM svm_be, the reverse relationships' destination) failed" \
            -e "@$work/gold_reverse.json" storage.datamotion.failback -e replication_writers_stopped=true
        grep -q "replication_backend.targets\[dr1\].reverse_policy (gold), which must exist on the source cluster" "$work/out" \
            || { cat "$work/out"; exit 1; }
        run -e "@$work/gold.json" storage.datamotion.failback -e replication_writers_stopped=true
        state_is "(all(r['mirror_state'] == 'snapmirrored' and r['policy'] == 'gold' for r in s['dr1']['relationships'].values())
                   and s['src']['relationships'] == {})"
        # failed over to dr1, the source back with be02 offline: the failback (check mode too) refuses before any change
        ctl /reset
        run storage.datamotion.replicate
        ctl /clusters/src/offline
        run storage.datamotion.failover -e replication_failover_target=dr1
        ctl /clusters/src/online
        api src PATCH "/api/storage/volumes/$(uuid_of src '/api/storage/volumes?fields=name' name be02)" '{"state": "offline"}' >/dev/null
        for check in --check ""; do
            expect_fail "source volumes of SVM svm_be on 127.0.0.1 are not online: be02 (offline)" \
                storage.datamotion.failback -e replication_writers_stopped=true $check
        done
        state_is "(s['src']['relationships'] == {} and all(r['mirror_state'] == 'broken-off' for r in s['dr1']['relationships'].values()))"
        # nothing failed over, dr1 unreadable: the refusal does not say that no target is broken off
        ctl /reset
        run storage.datamotion.replicate
        ctl /clusters/dr1/offline
        expect_fail "(targets broken off: none among those read; not read: dr1)" storage.datamotion.failback
    fi
    # bad inputs and faults at every step
    ctl /reset
    ansible-playbook -i localhost, -c local -e "ansible_python_interpreter=$python" -e "@$work/tests.json" \
        -e "replication_junctions_file=$work/junctions.json" tests.yml
done
