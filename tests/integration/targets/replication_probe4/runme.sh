#!/usr/bin/env bash
# Attacks on the replication role (probe 4) through the playbooks against their own ontap-sim (files/seed.yml: a
# volume mounted beneath another, so a break has two levels): a failover and a failback killed at each step (ontap-sim's
# kill_play fault, the steps shared out between REST and ZAPI), check mode before each step (over ZAPI only where a
# ZAPI kill left the clusters), and a slow target (over ZAPI one run of three); probe.py says why.
set -eux
cd "$(dirname "$0")"
# shellcheck source=../replication_playbooks/files/sim.sh
. ../replication_playbooks/files/sim.sh files/seed.yml
for use_rest in ${REPLICATION_TRANSPORTS:-always never}; do
    "$python" ../replication_playbooks/files/backend.py "$work/ready" "$use_rest" >"$work/backend.json"
    "$python" probe.py "$work/ready" "$work" "$use_rest" ${PROBE4_ATTACKS:-}
done
