# User-facing targets: `make demo` and `make test`. The logic lives in hack/*.sh.
# Single steps, with optional extra arguments for the underlying tool:
#   make sanity ARGS="--test validate-modules"
#   make units ARGS=tests/unit/plugins/module_utils/test_sparse.py
#   make integration ARGS="sparse_volume_copy -v"
#   make lint ARGS=playbooks/demo.yml
#   make molecule                 every extensions/molecule scenario (molecule test --all)
#   make importer                 galaxy-importer on the built tarball
#   make ee                       ansible-builder introspect of the installed collection
#   make matrix ARGS=2.16         sanity + units on one ansible-core of the matrix
# Releasing: set `version` in galaxy.yml, then `make release` turns changelogs/fragments/
# into that version's entry in changelogs/changelog.yaml and CHANGELOG.rst (and deletes
# the fragments); commit all of it. ARGS go to `antsibull-changelog release`.
SHELL := /bin/bash
ARGS ?=

.PHONY: demo test venv changelog sanity simulators units integration lint build molecule importer ee matrix release clean distclean

demo:
	bash hack/demo.sh $(ARGS)

test:
	bash hack/test.sh

changelog sanity simulators units integration lint build molecule importer ee matrix:
	bash hack/test.sh $@ $(ARGS)

release:
	bash -c '. hack/common.sh && ensure_venv && cd "$$REPO" && antsibull-changelog release $(ARGS)'

venv:
	bash -c '. hack/common.sh && ensure_venv && ensure_pip_bootstrap'

clean:
	rm -rf .build tests/output .ansible collections

distclean: clean
	rm -rf .venv .venvs
