#!/usr/bin/env bash
# Attacks on the replication role (probe 5) through the playbooks against their own ontap-sim (the seed of probe 4: a
# volume mounted beneath another): junction paths on the failover target, two failovers at once, a target lost
# mid-break; probe.py says why.
set -eux
cd "$(dirname "$0")"
# shellcheck source=../replication_playbooks/files/sim.sh
. ../replication_playbooks/files/sim.sh files/seed.yml
for use_rest in ${REPLICATION_TRANSPORTS:-always never}; do
    "$python" ../replication_playbooks/files/backend.py "$work/ready" "$use_rest" >"$work/backend.json"
    "$python" probe.py "$work/ready" "$work" "$use_rest" ${PROBE5_ATTACKS:-}
done
