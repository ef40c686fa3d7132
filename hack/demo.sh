#!/usr/bin/env bash
# `make demo`: build and install the collection from the work tree into .build, then run
# playbooks/demo.yml against localhost. Extra arguments go to ansible-playbook, e.g.
#   hack/demo.sh -e demo_dir=/var/tmp/demo -e demo_size_mib=1024
set -euo pipefail

# shellcheck source=hack/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ensure_venv
stage_tree
(cd "$STAGE" && build_and_install)
export ANSIBLE_COLLECTIONS_PATH="$INSTALLED"
log "collection installed in $INSTALLED; running playbooks/demo.yml"
cd "$REPO"
exec ansible-playbook -i localhost, -c local \
    -e "ansible_python_interpreter=$VENV/bin/python" \
    -e "demo_dir=$BUILD/demo" \
    "$@" playbooks/demo.yml
