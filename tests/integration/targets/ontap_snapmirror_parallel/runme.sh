#!/usr/bin/env bash
# The same task in five forks at once (-f 5), over REST and over ZAPI: create, update, failover,
# delete of one 10-item list. Every fork must report success and none may hang (issue 13, item 6).
# The ONTAP simulator's URLs come from integration_config.yml, which hack/test.sh writes.
set -eux
config="$(cd ../.. && pwd)/integration_config.yml"
for use_rest in always never; do
    ansible-playbook -i inventory.ini -f 5 -e "@${config}" -e "smp_use_rest=${use_rest}" \
        -e "ansible_python_interpreter=$(command -v python)" parallel.yml "$@"
done
