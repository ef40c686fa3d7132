#!/usr/bin/env bash
# Attacks on the replication role's failback (probe 3) through the playbooks against their own ontap-sim
# (the seed of replication_playbooks), over REST and ZAPI. Cheap: a few failovers per transport.
set -eux
cd "$(dirname "$0")"
work="$(mktemp -d)"
ontap-sim serve --seed ../replication_playbooks/files/seed.yml >"$work/ready" &
sim_pid=$!
trap 'kill $sim_pid; wait $sim_pid || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do [ -s "$work/ready" ] && break; sleep 0.1; done
python=${ANSIBLE_TEST_PYTHON_INTERPRETER:-python}
for use_rest in ${REPLICATION_TRANSPORTS:-always never}; do
    "$python" ../replication_playbooks/files/backend.py "$work/ready" "$use_rest" >"$work/backend.json"
    "$python" probe.py "$work/ready" "$work" "$use_rest"
done
