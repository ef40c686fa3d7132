#!/usr/bin/env bash
# `make demo`: build and install the collection from the work tree into .build, start the VNX and
# ONTAP simulators, and run the collection's playbooks as a storage administrator would against
# real arrays, with the simulators' connection details as extra variables:
#   storage.datamotion.demo                    sparse copies of image files on the controller
#   storage.datamotion.snap_copy_and_migrate   VNX: snap copy of a LUN, copied onto a new LUN, verified
#                                              (the migration role's host method)
#   storage.datamotion.backup_volume           VNX: the LUN backed up to a sparse image through a snapshot
#   storage.datamotion.restore_volume          VNX: the image restored onto a new LUN, verified
#   storage.datamotion.replicate               ONTAP: a backend of three volumes replicated with SnapMirror
#   storage.datamotion.failover                ONTAP: the backend failed over with the source cluster offline
# The simulators are stopped and the loop devices detached on exit, also on failure.
# Extra arguments go to every ansible-playbook run, e.g.  hack/demo.sh -v
# hack/test.sh's demo step sources this file and calls run_demo against the installed collection.
set -euo pipefail

# shellcheck source=hack/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

DEMO_SOURCE_LUN=demo_db01
DEMO_VOLUMES=(cinder_pool1 cinder_pool2 cinder_pool3)

# POST a JSON body (or nothing) to the ONTAP simulator's control endpoint
ontap_control() {
    python - "$DEMO_ONTAP_CONTROL$1" "${2:-}" <<'PY'
import sys
import urllib.request

request = urllib.request.Request(sys.argv[1], data=sys.argv[2].encode() or b"", method="POST",
                                 headers={"Content-Type": "application/json"})
urllib.request.urlopen(request, timeout=30).read()
PY
}

demo_cleanup() {
    local rc=$?
    set +e
    if [ -n "${DEMO_ONTAP_PID:-}" ]; then
        kill "$DEMO_ONTAP_PID" 2>/dev/null && wait "$DEMO_ONTAP_PID" 2>/dev/null
    fi
    if [ -n "${DEMO_HOME:-}" ]; then
        VNXSIM_HOME="$DEMO_HOME/vnx" vnx-sim teardown >/dev/null || log "vnx-sim teardown failed: loop devices may be left over $DEMO_HOME"
        rm -rf "$DEMO_HOME"
    fi
    [ "$rc" = 0 ] || log "demo FAILED (exit $rc); simulators stopped"
    return "$rc"
}

# A simulated VNX with the LUN demo_db01 (1 GB, thin) in use by this machine, 64 MiB of data written
# through its device; the ONTAP clusters src and dst, with three volumes on src that hold new data.
start_simulators() {
    local ready dev
    export VNXSIM_HOME="$DEMO_HOME/vnx"
    mkdir -p "$VNXSIM_HOME"
    cat >"$DEMO_HOME/vnx-seed.yml" <<EOF
arrays:
  - address: 127.0.0.1
    name: demo-vnx
    pools:
      - {name: Pool0, size: 1 TiB}
      - {name: Flash, size: 100 GiB}
    users:
      - {name: sysadmin, password: sysadmin, scope: 0}
    hosts:
      - {name: localhost, ip: 127.0.0.1, this_machine: true}
EOF
    vnx-sim init --seed "$DEMO_HOME/vnx-seed.yml" >/dev/null
    navi() { naviseccli-sim -h 127.0.0.1 -user sysadmin -password sysadmin -scope 0 "$@"; }
    navi lun -create -capacity 1 -sq gb -poolName Pool0 -name "$DEMO_SOURCE_LUN" -type Thin
    navi storagegroup -create -gname localhost
    navi storagegroup -connecthost -host localhost -gname localhost -o
    navi storagegroup -addhlu -hlu 0 -alu 0 -gname localhost -o
    dev="$(vnx-sim state | python -c 'import json, sys; print(json.load(sys.stdin)["luns"][0]["link"])')"
    # 64 MiB of data in four runs, zeros and never-written space between them
    for mib in 0 200 512 900; do
        head -c $((16 * 1048576)) /dev/urandom | dd of="$dev" bs=1M seek="$mib" conv=notrunc,fsync status=none
    done
    log "VNX simulator: LUN $DEMO_SOURCE_LUN (1 GB thin, 64 MiB of data) exposed to this machine as $dev"

    cat >"$DEMO_HOME/ontap-seed.yml" <<EOF
clusters:
  - name: src
    svms: [{name: svm_src}]
    volumes:
$(for v in "${DEMO_VOLUMES[@]}"; do printf '      - {svm: svm_src, name: %s, size: 10GiB, type: rw, junction_path: /%s}\n' "$v" "$v"; done)
  - name: dst
    svms: [{name: svm_dst}]
peers:
  - {cluster: src, svm: svm_src, peer_cluster: dst, peer_svm: svm_dst, applications: [snapmirror]}
EOF
    ontap-sim serve --seed "$DEMO_HOME/ontap-seed.yml" >"$DEMO_HOME/ontap-sim.out" 2>"$DEMO_HOME/ontap-sim.err" &
    DEMO_ONTAP_PID=$!
    for _ in $(seq 100); do [ -s "$DEMO_HOME/ontap-sim.out" ] && break; sleep 0.1; done
    [ -s "$DEMO_HOME/ontap-sim.out" ] || die "ontap-sim did not start: $(cat "$DEMO_HOME/ontap-sim.err")"
    ready="$(head -n1 "$DEMO_HOME/ontap-sim.out")"
    read -r DEMO_ONTAP_SRC_PORT DEMO_ONTAP_DST_PORT DEMO_ONTAP_CONTROL < <(python -c '
import json, sys
from urllib.parse import urlsplit
ready = json.loads(sys.argv[1])
print(urlsplit(ready["clusters"]["src"]).port, urlsplit(ready["clusters"]["dst"]).port, ready["control"])' "$ready")
    for v in "${DEMO_VOLUMES[@]}"; do
        ontap_control /volumes/write "{\"cluster\": \"src\", \"svm\": \"svm_src\", \"volume\": \"$v\", \"bytes\": 2147483648}"
    done
    log "ONTAP simulator: clusters src (port $DEMO_ONTAP_SRC_PORT) and dst (port $DEMO_ONTAP_DST_PORT), 2 GiB written on each of ${DEMO_VOLUMES[*]}"
}

# Run the demo against the collection installed in $ANSIBLE_COLLECTIONS_PATH. Arguments go to
# every ansible-playbook run. A subshell, so that its trap stops the simulators whatever happens.
run_demo() (
    local start=$SECONDS volumes_json backend_json become=true
    DEMO_HOME="$(mktemp -d /tmp/datamotion-demo.XXXXXX)"
    trap demo_cleanup EXIT
    trap 'exit 130' INT TERM
    [ "$(id -u)" = 0 ] && become=false   # root already; no sudo needed for the copy
    start_simulators
    DEMO_TIMES=()
    playbook() {
        local t0=$SECONDS
        log ""
        log "=== ansible-playbook storage.datamotion.$1"
        ansible-playbook -i localhost, -c local -e "ansible_python_interpreter=$VENV/bin/python" "${@:2}" \
            "storage.datamotion.$1"
        DEMO_TIMES+=("$(printf '%-22s %4ss' "$1" $((SECONDS - t0)))")
    }
    volumes_json="$(printf '"%s",' "${DEMO_VOLUMES[@]}")"
    volumes_json="{\"backend_volumes\": [${volumes_json%,}]}"

    playbook demo -e "demo_dir=$BUILD/demo" "$@"
    playbook snap_copy_and_migrate -e vnx_sp_address=127.0.0.1 -e vnx_username=sysadmin -e vnx_password=sysadmin \
        -e "vnx_naviseccli_path=$(command -v naviseccli-sim)" -e "vnx_device_dir=$VNXSIM_HOME/dev/disk/by-id" \
        -e source_lun="$DEMO_SOURCE_LUN" -e target_lun="${DEMO_SOURCE_LUN}_flash" -e target_pool=Flash \
        -e migrate_become="$become" -e "migration_state_dir=$DEMO_HOME/migrations" "$@"
    # backup and restore through the backup role (the playbooks' become is for a real backup host; root here)
    local vnx_json
    vnx_json="{\"vnx_connection\": {\"sp_address\": \"127.0.0.1\", \"username\": \"sysadmin\", \"password\": \"sysadmin\",
      \"naviseccli_path\": \"$(command -v naviseccli-sim)\"}, \"backup_host\": \"localhost\",
      \"backup_dir\": \"$DEMO_HOME/backups\", \"backup_by_id_dir\": \"$VNXSIM_HOME/dev/disk/by-id\"}"
    [ "$become" = true ] || vnx_json="${vnx_json%\}}, \"ansible_become\": false}"
    playbook backup_volume -e "$vnx_json" -e "{\"backup_volumes\": [{\"lun\": \"$DEMO_SOURCE_LUN\"}]}" "$@"
    DEMO_IMAGE="$(ls "$DEMO_HOME/backups/$DEMO_SOURCE_LUN/"*.img)"
    playbook restore_volume -e "$vnx_json" -e "backup_restore_image=$DEMO_IMAGE" \
        -e "backup_restore_lun=${DEMO_SOURCE_LUN}_restored" -e backup_restore_pool=Pool0 "$@"
    # the backend as the replication role takes it (in real life: group_vars of localhost)
    backend_json="$(python -c 'import json, sys
cluster = lambda port: {"hostname": "127.0.0.1", "username": "admin", "password": "netapp1!", "port": int(port), "https": False}
print(json.dumps({"replication_backend": {"name": "demo", "source": {"cluster": cluster(sys.argv[1]), "svm": "svm_src",
    "volumes": json.loads(sys.argv[3])["backend_volumes"]}, "targets": [{"name": "dst", "cluster": cluster(sys.argv[2]),
    "svm": "svm_dst", "aggregate": "aggr1"}]}}))' "$DEMO_ONTAP_SRC_PORT" "$DEMO_ONTAP_DST_PORT" "$volumes_json")"
    playbook replicate -e "$backend_json" "$@"
    log ""
    log "=== the source cluster goes offline (ontap-sim control endpoint)"
    ontap_control /clusters/src/offline
    playbook failover -e "$backend_json" "$@"

    printf '\n=== demo summary (%ss)\n' $((SECONDS - start))
    printf 'took %s\n' "${DEMO_TIMES[@]}"
    vnx-sim state | python -c '
import filecmp, json, sys
state = json.load(sys.stdin)
luns = {lun["name"]: lun for lun in state["luns"]}
for lun in luns.values():
    print("VNX   LUN %-18s %4.1f GiB %-5s in %-6s %s" % (lun["name"], lun["size"] / 2**30, "thin" if lun["thin"] else "thick",
          lun["pool"], "exposed as " + lun["link"] if lun.get("link") else "not exposed"))
for copy, how in ((sys.argv[2], "host migration"), (sys.argv[3], "restore from the backup image")):
    same = filecmp.cmp(luns[sys.argv[1]]["file"], luns[copy]["file"], shallow=False)
    print("VNX   %s (%s) holds the same bytes as %s: %s" % (copy, how, sys.argv[1], same))
print("VNX   snapshots left: %d, snap copies left: %d" % (
    len(state["snapshots"]), len([lun for lun in luns.values() if lun["is_snap_mount_point"]])))' \
        "$DEMO_SOURCE_LUN" "${DEMO_SOURCE_LUN}_flash" "${DEMO_SOURCE_LUN}_restored"
    python - "$DEMO_IMAGE" <<'PY'
import json
import os
import sys

image = sys.argv[1]
m = json.load(open(image + ".manifest.json"))
st = os.stat(image)
print("BACKUP %s: LUN %s (WWN %s) as of snapshot %s at %s" % (image, m["source_lun"], m["source_wwn"], m["snapshot"],
      m["snapshot_time"]))
print("BACKUP %.1f GiB image, %.1f MiB allocated on disk, %s" % (m["size_bytes"] / 2**30, st.st_blocks * 512 / 2**20,
      m["sha256"][:32] + "..."))
PY
    python - "$DEMO_ONTAP_CONTROL/state" <<'PY'
import json
import sys
import urllib.request

state = json.load(urllib.request.urlopen(sys.argv[1], timeout=30))
print("ONTAP cluster src online: %s" % state["src"]["online"])
for path, rel in sorted(state["dst"]["relationships"].items()):
    volume = state["dst"]["volumes"][path]
    print("ONTAP %s <- %s: %s, %s bytes moved, volume %s mounted at %s" % (
        path, rel["source_path"], rel["mirror_state"], (rel["last_transfer"] or {}).get("bytes"), volume["type"],
        volume["junction_path"]))
PY
)

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    ensure_venv
    stage_tree
    (cd "$STAGE" && build_and_install)
    export ANSIBLE_COLLECTIONS_PATH="$INSTALLED"
    log "collection installed in $INSTALLED"
    cd "$REPO"
    run_demo "$@"
fi
