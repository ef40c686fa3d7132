# shellcheck shell=bash
# Sourced by the runme.sh of replication_playbooks, replication_probe3 and replication_probe4 (after `cd` into the
# target): start ontap-sim from the seed given as $1, in a new directory $work that holds its ready line ($work/ready),
# both stopped and removed when the script exits. $python is the interpreter ansible-test runs the tests with.
work="$(mktemp -d)"
ontap-sim serve --seed "$1" >"$work/ready" &
sim_pid=$!
trap 'kill $sim_pid; wait $sim_pid || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do [ -s "$work/ready" ] && break; sleep 0.1; done
python=${ANSIBLE_TEST_PYTHON_INTERPRETER:-python}
