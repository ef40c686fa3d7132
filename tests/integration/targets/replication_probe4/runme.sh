#!/usr/bin/env bash
# Attacks on the replication role (probe 4) through the playbooks against their own ontap-sim (files/seed.yml: a
# volume mounted beneath another, so a break has two levels), over REST and ZAPI: a failover and a failback killed
# at each step (ontap-sim's kill_play fault), check mode before each step.
set -eux
cd "$(dirname "$0")"
work="$(mktemp -d)"
ontap-sim serve --seed files/seed.yml >"$work/ready" &
sim_pid=$!
trap 'kill $sim_pid; wait $sim_pid || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do [ -s "$work/ready" ] && break; sleep 0.1; done
python=${ANSIBLE_TEST_PYTHON_INTERPRETER:-python}
for use_rest in ${REPLICATION_TRANSPORTS:-always never}; do
    "$python" ../replication_playbooks/files/backend.py "$work/ready" "$use_rest" >"$work/backend.json"
    "$python" probe.py "$work/ready" "$work" "$use_rest" ${PROBE4_ATTACKS:-}
done
