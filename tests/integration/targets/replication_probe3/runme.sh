#!/usr/bin/env bash
# Attacks on the replication role's failback (probe 3) through the playbooks against their own ontap-sim
# (the seed of replication_playbooks), over REST and ZAPI. Cheap: a few failovers per transport. The ZAPI pass stays
# whole: all it checks is what the failback reads to find the writes (snapshots and their deltas), which is the
# transport's own.
set -eux
cd "$(dirname "$0")"
# shellcheck source=../replication_playbooks/files/sim.sh
. ../replication_playbooks/files/sim.sh ../replication_playbooks/files/seed.yml
for use_rest in ${REPLICATION_TRANSPORTS:-always never}; do
    "$python" ../replication_playbooks/files/backend.py "$work/ready" "$use_rest" >"$work/backend.json"
    "$python" probe.py "$work/ready" "$work" "$use_rest"
done
