#!/usr/bin/env bash
# Test the collection the way CI does: `make test` runs this with no arguments.
#
#   hack/test.sh                       every step, in order, stop at the first failure
#   hack/test.sh STEP [ARGS...]        one step; ARGS go to the step's tool, e.g.
#       hack/test.sh sanity --test validate-modules
#       hack/test.sh units tests/unit/plugins/module_utils/test_sparse.py
#       hack/test.sh integration sparse_volume_copy -v
#       hack/test.sh lint playbooks/demo.yml
#       hack/test.sh matrix 2.16           (only that ansible-core of the matrix)
#
# Steps: changelog sanity simulators units integration lint build importer ee demo molecule matrix
# KEEP_GOING=1 runs every step even after a failure, and every integration target even after
# a failing one (the exit status is still non-zero).
# BESIDE= (empty) runs every step one after the other; by default (BESIDE="matrix molecule") the
# matrix runs in the background from the start of integration on, molecule from the start of
# changelog on (see beside_from and start_beside).
# The tool venv is .venv (rebuilt when requirements change); the tests run in a fresh
# copy of the work tree at .build/ansible_collections/storage/datamotion, because
# ansible-test only works from a directory that is physically at such a path.
set -euo pipefail

# shellcheck source=hack/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# importer, ee and demo use what build made, not what molecule does: they come before the wait for molecule,
# so that they run while it ends (on the core it leaves idle) rather than alone after it.
ALL_STEPS=(changelog sanity simulators units integration lint build importer ee demo molecule matrix)
# steps that use the tarball and the collection installed from it
TARBALL_STEPS=" molecule importer ee demo "
PASSED=0
FAILED=0
SKIPPED=0
TIMINGS=()

# timed LABEL REGEX: copy stdin to stdout; at its end, print how long each part took, a part
# starting at a line that REGEX matches and named by its group 1, the longest first: where the
# time of a long step goes, so the next one to shorten is found by reading the log.
timed() {
    python -u -c '
import re, sys, time
label, pattern = sys.argv[1], re.compile(sys.argv[2].encode())
parts = []
for line in sys.stdin.buffer:
    sys.stdout.buffer.write(line)
    match = pattern.search(line)
    if match:
        parts.append([match.group(1).decode(errors="replace"), time.monotonic()])
ends = [start for _, start in parts[1:]] + [time.monotonic()]
spans = sorted(((end - start, name) for (name, start), end in zip(parts, ends)), reverse=True)
if spans:
    print("=== time per %s (%d, longest first)" % (label, len(spans)))
    for seconds, name in spans:
        print("%6.0fs  %s" % (seconds, name))
' "$@"
}

step_changelog() {
    antsibull-changelog lint "$@"
    [ -f changelogs/changelog.yaml ] || return 0
    antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml
    # CHANGELOG.rst must be exactly what antsibull-changelog makes of changelog.yaml
    # (`antsibull-changelog release` writes both); before the first release there is none.
    if python -c 'import sys, yaml; sys.exit(0 if yaml.safe_load(open(sys.argv[1])).get("releases") else 1)' \
            changelogs/changelog.yaml; then
        [ -f CHANGELOG.rst ] || die "changelogs/changelog.yaml has releases but there is no CHANGELOG.rst: run antsibull-changelog generate"
        cp CHANGELOG.rst "$BUILD/CHANGELOG.rst.committed"
        antsibull-changelog generate
        diff -u "$BUILD/CHANGELOG.rst.committed" CHANGELOG.rst \
            || die "CHANGELOG.rst differs from what antsibull-changelog generate makes of changelogs/changelog.yaml"
        log "CHANGELOG.rst matches changelogs/changelog.yaml"
    else
        [ ! -f CHANGELOG.rst ] || die "CHANGELOG.rst exists but changelogs/changelog.yaml has no release"
        log "no release yet: no CHANGELOG.rst"
    fi
}

step_sanity() {
    # No tests/sanity/ignore-*.txt: everything must pass clean.
    ansible-test sanity --python 3.11 --color no "$@"
}

step_simulators() {
    # The simulators' own tests: the real client libraries (storops, netapp-lib,
    # netapp-ontap, requests) against datamotion_sim, with no Ansible in between.
    if [ -z "$(find simulators/tests -name 'test_*.py' -print -quit 2>/dev/null)" ]; then
        log "no simulator tests (simulators/tests/test_*.py) yet"
        return 99
    fi
    python -m pytest -q -p no:cacheprovider simulators/tests "$@"
}

step_units() {
    # The unit requirements (pytest-xdist, mock, pytest-mock, tests/unit/requirements.txt)
    # are already in .venv, so --local needs no network. pytest's "no tests collected"
    # (exit 5) is treated as success by ansible-test; a tree without tests/unit is skipped.
    if [ -z "$(find tests/unit -name 'test_*.py' -print -quit 2>/dev/null)" ]; then
        log "no unit tests (tests/unit/**/test_*.py) yet"
        return 99
    fi
    ansible-test units --python 3.11 --local --color no "$@"
}

# The integration targets that run in a second ansible-test beside the others (globs of target names).
INTEGRATION_SECOND="${INTEGRATION_SECOND-vnx_* sparse_volume_copy* host_lun migration_host_safety backup_* replication_probe5}"

# integration_run ARGS...: ansible-test integration in the current directory, then how long each target took
integration_run() {
    ansible-test integration --python 3.11 --local --allow-destructive --color no "$@" 2>&1 \
        | timed "integration target" '^Running (\S+) integration test'
}

step_integration() {
    # --allow-destructive: targets aliased `destructive` run here (this is a throw-away host
    # from the tests' point of view); targets aliased `needs/root` run when we are root and
    # are skipped otherwise; `unsupported` targets (real arrays) are never run here.
    if [ -z "$(find tests/integration/targets -mindepth 1 -maxdepth 1 -type d -print -quit 2>/dev/null)" ]; then
        log "no integration targets (tests/integration/targets/*) yet"
        return 99
    fi
    # The ONTAP targets run against one ontap-sim, started here from their seed; its URLs go to
    # tests/integration/integration_config.yml, which ansible-test hands to every target.
    local seed=tests/integration/targets/setup_ontap_sim/files/seed.yml sim_pid="" sim_out rc=0
    if [ -f "$seed" ]; then
        sim_out="$(mktemp)"
        ontap-sim serve --seed "$seed" >"$sim_out" &
        sim_pid=$!
        for _ in $(seq 100); do [ -s "$sim_out" ] && break; sleep 0.1; done
        python - "$sim_out" "$BUILD/async" >tests/integration/integration_config.yml <<'PY'
import json, sys
from urllib.parse import urlsplit
ready = json.loads(open(sys.argv[1]).readline())
src, dst = (urlsplit(ready["clusters"][name]) for name in ("src", "dst"))
# ansible_async_dir: async writes results under ~ expanded from $HOME and async_status reads
# them under the passwd home; with HOME elsewhere (a CI runner) jobs are "not found".
print(json.dumps({"ontap_sim_control": ready["control"], "ontap_sim_host": dst.hostname,
                  "ontap_sim_src_port": src.port, "ontap_sim_dst_port": dst.port,
                  "ansible_async_dir": sys.argv[2]}, indent=2))
PY
    fi
    local keep_going=() second=() stage2="$BUILD/integration2/ansible_collections/$NAMESPACE/$COLLECTION" pid2="" rc2=0
    [ "${KEEP_GOING:-0}" != 1 ] || keep_going=(--continue-on-error)
    # With no arguments the block-device targets (INTEGRATION_SECOND) run in a second ansible-test, in
    # its own copy of the tree (its own tests/output), beside the others: each target waits on its
    # simulator, on sleeps of its waits and on the disk much of its time, which the other one fills.
    # Every target makes its own simulator state (a temporary VNXSIM_HOME, ephemeral ports).
    if [ $# -eq 0 ]; then
        mapfile -t second < <(cd tests/integration/targets && ls -d $INTEGRATION_SECOND 2>/dev/null)
    fi
    if [ ${#second[@]} -gt 0 ]; then
        # ansible-test makes this key on its first run; two first runs at once would both make it, and one fails
        if [ ! -f "$HOME/.ansible/test/id_rsa" ]; then
            mkdir -p "$HOME/.ansible/test"
            ssh-keygen -m PEM -q -t rsa -N '' -f "$HOME/.ansible/test/id_rsa"
        fi
        stage_tree "$stage2" 2>/dev/null
        cp tests/integration/integration_config.yml "$stage2/tests/integration/" 2>/dev/null || true
        (cd "$stage2" && integration_run "${keep_going[@]}" "${second[@]}") >"$BUILD/integration2.log" 2>&1 &
        pid2=$!
        set -- "${second[@]/#/--exclude=}"
        log "integration: ${second[*]} run beside the other targets (log: $BUILD/integration2.log)"
    fi
    integration_run "${keep_going[@]}" "$@" || rc=$?
    if [ -n "$pid2" ]; then
        wait "$pid2" || rc2=$?
        printf '\n=== integration, the targets run beside (%s)\n' "$BUILD/integration2.log"
        cat "$BUILD/integration2.log"
        [ "$rc2" = 0 ] || rc=$rc2
    fi
    if [ -n "$sim_pid" ]; then
        kill "$sim_pid" && wait "$sim_pid" 2>/dev/null || true
    fi
    return "$rc"
}

step_lint() {
    ansible-lint --profile production "$@"
}

step_build() {
    local module names=()
    build_and_install
    log "tarball contents:"
    tar -tzf "$DIST"/*.tar.gz | sed 's/^/  /' >&2
    for module in plugins/modules/*.py; do
        [ -f "$module" ] || continue
        names+=("$NAMESPACE.$COLLECTION.$(basename "$module" .py)")
    done
    if [ ${#names[@]} -eq 0 ]; then
        log "no modules in plugins/modules yet: nothing to render"
    else
        # One ansible-doc run per form for all modules (a start of Ansible costs about as much as a
        # page): it fails on a page it cannot render, and only warns about a module it does not find,
        # so each module's page is looked for in the output.
        log "ansible-doc ${names[*]}"
        ANSIBLE_NOCOLOR=1 ansible-doc "${names[@]}" >"$BUILD/ansible-doc.txt"
        python - "$BUILD/ansible-doc.txt" "${names[@]}" >&2 <<'PY'
import sys
text = open(sys.argv[1]).read()
for name in sys.argv[2:]:
    if "> MODULE %s " % name not in text:
        sys.exit("ansible-doc %s: no page in %s" % (name, sys.argv[1]))
    print("ansible-doc %s: page rendered" % name)
PY
        # the JSON form checks that the docs parse into options/examples/return values
        ansible-doc --json "${names[@]}" | python -c '
import json, sys
docs = json.load(sys.stdin)
for name in sys.argv[1:]:
    doc = docs.get(name) or sys.exit("ansible-doc --json: no %s" % name)
    for key in ("doc", "examples", "return"):
        if not doc.get(key):
            sys.exit("ansible-doc %s: no %s" % (name, key))
    print("ansible-doc %s: %d options, %d return values" % (name, len(doc["doc"].get("options", {})), len(doc["return"])))
' "${names[@]}" >&2
    fi
    check_tarball_headers
}

# Every Python file in the tarball carries the collection's licence header, except empty
# ones (package markers such as plugins/module_utils/vnx/__init__.py: nothing to license).
check_tarball_headers() {
    local tarball missing
    tarball="$(ls "$DIST/$NAMESPACE-$COLLECTION-"*.tar.gz)"
    missing="$(python - "$tarball" <<'PY'
import sys
import tarfile

with tarfile.open(sys.argv[1]) as tar:
    for member in tar.getmembers():
        if member.isfile() and member.name.endswith(".py") and member.size > 0:
            head = tar.extractfile(member).read(1024).decode("utf-8", "replace")
            if "GNU General Public License v3.0+" not in head:
                print(member.name)
PY
)"
    [ -z "$missing" ] || die "Python files in the tarball without the licence header: $missing"
    log "every Python file in the tarball has the licence header"
}

step_molecule() {
    # Every scenario under extensions/molecule/ (molecule's collection layout), delegated
    # driver on localhost, against the collection that step_build installed. Each
    # molecule.yml sets `prerun: false`: molecule's own prerun would install the work tree
    # into ~/.ansible/collections, shared by every checkout on the machine.
    if [ -z "$(find extensions/molecule -mindepth 2 -maxdepth 2 -name molecule.yml -print -quit 2>/dev/null)" ]; then
        log "no molecule scenarios (extensions/molecule/*/molecule.yml) yet"
        return 99
    fi
    # molecule keeps a scenario's "prepared" state under ~/.ansible/tmp across runs and then skips
    # prepare; a scenario without a destroy playbook resets it only by starting with destroy
    local stale
    stale="$(grep -L '^  test_sequence: \[destroy,' extensions/molecule/*/molecule.yml || true)"
    [ -z "$stale" ] || die "molecule scenarios whose test_sequence does not start with destroy: $stale"
    [ -n "${ANSIBLE_COLLECTIONS_PATH:-}" ] || build_and_install
    # one absolute async dir, so async tasks find their jobs with HOME elsewhere (see step_integration)
    ANSIBLE_ASYNC_DIR="$BUILD/async" molecule test --all "$@" 2>&1 | timed "molecule action" '\[(\S+ > \S+)\] Executing$'
}

step_importer() {
    # What Galaxy and Automation Hub run on an upload (galaxy-importer: metadata schema,
    # ansible-doc of every plugin, ansible-lint, changelog, README), on the built tarball.
    # Settings: hack/galaxy-importer.cfg. Any ERROR or WARNING line fails the step.
    local tarball work="$BUILD/importer"
    ensure_side_venv importer 3.11 -r "$REPO/hack/requirements-importer.txt"
    tarball="$(ls "$DIST/$NAMESPACE-$COLLECTION-"*.tar.gz)"
    rm -rf "$work"
    mkdir -p "$work/home/.ansible/collections/ansible_collections/$NAMESPACE"
    # ansible-lint resolves storage.datamotion.* from ~/.ansible/collections only (the importer
    # unpacks the tarball as placeholder_namespace.placeholder_name): a HOME of the step's own,
    # holding the collection just built, so neither a stale copy in the user's HOME nor its
    # absence decides what the lint sees
    ln -s "$INSTALLED/ansible_collections/$NAMESPACE/$COLLECTION" \
        "$work/home/.ansible/collections/ansible_collections/$NAMESPACE/$COLLECTION"
    # importer_result.json lands in the current directory
    (cd "$work" && env -u ANSIBLE_COLLECTIONS_PATH HOME="$work/home" PATH="$VENVS/importer/bin:$PATH" VIRTUAL_ENV="$VENVS/importer" \
        GALAXY_IMPORTER_CONFIG="$REPO/hack/galaxy-importer.cfg" \
        "$VENVS/importer/bin/python" -m galaxy_importer.main "$tarball" "$@") | tee "$work/importer.log"
    if grep -Eq '^(WARNING|ERROR|CRITICAL)' "$work/importer.log"; then
        die "galaxy-importer reported problems:$(printf '\n'; grep -E '^(WARNING|ERROR|CRITICAL)' "$work/importer.log")"
    fi
    grep -q '^Importer processing completed successfully' "$work/importer.log" \
        || die "galaxy-importer did not complete"
}

step_ee() {
    # What ansible-builder takes from this collection when it builds an execution
    # environment that includes it. With no meta/execution-environment.yml (ansible-lint
    # checks any file of that name as an EE definition, which this is not), it reads
    # requirements.txt and bindep.txt at the collection root: `introspect` of the installed
    # collection must list exactly their entries, attributed to storage.datamotion.
    local work="$BUILD/ee"
    ensure_side_venv importer 3.11 -r "$REPO/hack/requirements-importer.txt"
    rm -rf "$work"
    mkdir -p "$work"
    "$VENVS/importer/bin/ansible-builder" introspect "$INSTALLED" "$@" | tee "$work/introspect.yml"
    python - "$work/introspect.yml" "$INSTALLED/ansible_collections/$NAMESPACE/$COLLECTION" <<'PY'
import os
import sys

import yaml

found = yaml.safe_load(open(sys.argv[1]))
coll = sys.argv[2]
for kind, name in (("python", "requirements.txt"), ("system", "bindep.txt")):
    with open(os.path.join(coll, name)) as f:
        want = sorted(s for s in (line.split("#")[0].strip() for line in f) if s)
    # introspect lists "REQUIREMENT  # from collection NAMESPACE.NAME"
    got = sorted(entry.split("#")[0].strip() for entry in found.get(kind) or []
                 if entry.endswith("# from collection storage.datamotion"))
    if got != want:
        sys.exit("ansible-builder introspect, %s: got %s, want %s (from %s)" % (kind, got, want, name))
    print("ansible-builder introspect: %s requirements as listed in %s: %s" % (kind, name, want or "none"))
PY
    # The example EE definition (examples/ee) in ansible-builder's current format: `create`
    # writes the build context (building needs a container engine, which CI need not have).
    "$VENVS/importer/bin/ansible-builder" create -f examples/ee/execution-environment.yml -c "$work/context" --output-filename Containerfile >&2
    grep -q 'python3.12' "$work/context/Containerfile" \
        || die "ansible-builder create: no python3.12 in $work/context/Containerfile"
    log "ansible-builder create examples/ee/execution-environment.yml: $work/context/Containerfile"
}

step_demo() {
    # make demo, against the collection that step_build installed: hack/demo.sh's run_demo starts the
    # simulators, runs the playbooks and stops the simulators, also on failure
    if [ ! -f plugins/modules/sparse_volume_copy.py ]; then
        log "plugins/modules/sparse_volume_copy.py not there yet: demo skipped"
        return 99
    fi
    [ -n "${ANSIBLE_COLLECTIONS_PATH:-}" ] || build_and_install
    # shellcheck source=hack/demo.sh
    . "$REPO/hack/demo.sh"
    run_demo "$@"
}

# Sanity tests the matrix leaves to the sanity step: their script is the same (but for blank
# lines) in ansible-test 2.16, 2.19 and 2.21 and reads only the files, never ansible-core, so
# another ansible-core cannot change their verdict; and changelog, which the changelog step runs
# with the antsibull-changelog of .venv. pylint, validate-modules, import, compile, ansible-doc,
# runtime-metadata, pep8 and yamllint (their pinned tool or their code differs) run on every version.
MATRIX_SKIP=(changelog line-endings no-assert no-get-exception no-illegal-filenames no-smart-quotes
             replace-urlopen shebang symlinks use-argspec-type-path use-compat-six)
# Trees the matrix's sanity leaves to the sanity step: not in the tarball (galaxy.yml build_ignore) and
# run only with .venv's ansible-core (the simulators, the engine benchmarks), so another ansible-core's
# verdict on them tells a user nothing. Their pylint alone took 31 s CPU per matrix entry.
MATRIX_EXCLUDE=(simulators/ benchmarks/)

step_matrix() {
    # ansible-test sanity and units on the oldest and the newest ansible-core (MATRIX in
    # hack/common.sh), each in its own venv .venvs/ansible-<version>. Arguments pick entries.
    local entry core pyver ran=0
    for entry in "${MATRIX[@]}"; do
        read -r core pyver <<<"$entry"
        if [ $# -gt 0 ] && [[ " $* " != *" $core "* ]]; then
            continue
        fi
        ensure_matrix_venv "$core" "$pyver"
        (
            export VIRTUAL_ENV="$VENVS/ansible-$core" PATH="$VENVS/ansible-$core/bin:$PATH"
            hash -r
            log "--- ansible-core $(python -c 'from ansible.release import __version__; print(__version__)'), Python $pyver: sanity"
            ansible-test sanity --python "$pyver" --color no "${MATRIX_SKIP[@]/#/--skip-test=}" "${MATRIX_EXCLUDE[@]/#/--exclude=}"
            if [ -n "$(find tests/unit -name 'test_*.py' -print -quit 2>/dev/null)" ]; then
                log "--- ansible-core $core, Python $pyver: units"
                ansible-test units --python "$pyver" --local --color no
            fi
        )
        ran=1
    done
    [ "$ran" = 1 ] || die "no matrix entry for '$*' (entries: ${MATRIX[*]})"
}

run_step() {
    local step="$1" start rc=0
    shift
    printf '\n=== %s\n' "$step"
    start=$SECONDS
    # a subshell with its own errexit: inside `cmd || rc=$?` bash would ignore set -e
    set +e
    (
        set -e
        cd "$STAGE"
        "step_$step" "$@"
    )
    rc=$?
    set -e
    record_step "$step" "$rc" "$start"
}

# Steps that share no state with the steps they run beside: the matrix works in its own copy
# of the tree ($BUILD/matrix/...: its own tests/output), its own venvs (.venvs/ansible-*; the
# sanity venvs under ~/.ansible/test are keyed by Python and a hash of the requirements each
# ansible-test pins, and the sanity step before it has ended) and loop devices and ports of its own (the unit tests detach only the loop devices they attached and
# listen on ephemeral ports). Integration and molecule mostly run one Ansible process at a
# time, so on two cores the matrix's pylint and pytest use the core they leave idle.
# molecule beside changelog, sanity, simulators, units and integration (and all steps up to demo): its own copy of the tree, its own tarball
# and installed collection ($BUILD/molecule/{dist,collections}); molecule keeps its state per scenario
# and project path (~/.ansible/tmp), each scenario's simulators keep theirs under molecule's ephemeral
# directory (replication and retire_vnx: ports picked by a digest of that directory, so each checkout has its
# own), the tests beside it use temporary directories and ephemeral ports (or look for free ones),
# and all of them look only at the loop devices over their own files.
BESIDE="${BESIDE-matrix molecule}"
# step -> pid, and step -> $SECONDS when it started
declare -A BESIDE_PID=() BESIDE_START=()

# beside_from STEP: the step from whose start on STEP runs beside. The matrix waits for sanity (see
# above); molecule needs nothing the steps make, and the sooner it starts the less it runs alone at the end.
beside_from() {
    case "$1" in
        matrix) echo integration ;;
        molecule) echo changelog ;;
    esac
}

# start_beside STEP: run STEP in the background, in its own copy of the tree, its output to
# $BUILD/STEP.log (printed by finish_beside when it ends, so the logs do not interleave).
start_beside() {
    local step="$1" stage="$BUILD/$1/ansible_collections/$NAMESPACE/$COLLECTION"
    stage_tree "$stage" 2>/dev/null
    printf '\n=== %s: started beside the next steps (log: %s)\n' "$step" "$BUILD/$step.log"
    BESIDE_START[$step]=$SECONDS
    rm -f "$BUILD/$step.end"
    # its own process group (set -m), so that stop_beside ends all of it
    set -m
    (
        rc=0
        (
            set -e
            # a tarball step builds and installs its own copy (build_and_install), apart from the build step's
            STAGE="$stage" DIST="$BUILD/$step/dist" INSTALLED="$BUILD/$step/collections"
            cd "$stage"
            "step_$step"
        ) || rc=$?
        echo "$SECONDS" >"$BUILD/$step.end"
        exit "$rc"
    ) >"$BUILD/$step.log" 2>&1 </dev/null &
    BESIDE_PID[$step]=$!
    set +m
}

# finish_beside [STEP]: record every background step that has ended (printing its log, as
# run_step would); with STEP, wait for that one to end first.
finish_beside() {
    local rc step end
    for step in "${!BESIDE_PID[@]}"; do
        if [ "$step" != "${1:-}" ] && kill -0 "${BESIDE_PID[$step]}" 2>/dev/null; then
            continue
        fi
        rc=0
        wait "${BESIDE_PID[$step]}" || rc=$?
        unset "BESIDE_PID[$step]"
        end="$(cat "$BUILD/$step.end" 2>/dev/null || echo "$SECONDS")"
        printf '\n=== %s (ran beside the steps above; log %s)\n' "$step" "$BUILD/$step.log"
        cat "$BUILD/$step.log"
        # its own duration, not the time until it was looked at
        record_step "$step" "$rc" $((SECONDS - end + BESIDE_START[$step]))
    done
}

stop_beside() {
    local step
    for step in "${!BESIDE_PID[@]}"; do
        kill -TERM -- "-${BESIDE_PID[$step]}" 2>/dev/null || true
        wait "${BESIDE_PID[$step]}" 2>/dev/null || true
        printf '=== %s stopped (log so far: %s)\n' "$step" "$BUILD/$step.log"
        unset "BESIDE_PID[$step]"
    done
}

record_step() {
    local step="$1" rc="$2" start="$3"
    case "$rc" in
        0) PASSED=$((PASSED + 1)); TIMINGS+=("$(printf '%-12s %5ss  passed' "$step" $((SECONDS - start)))") ;;
        99) SKIPPED=$((SKIPPED + 1)); TIMINGS+=("$(printf '%-12s %5ss  skipped' "$step" $((SECONDS - start)))") ;;
        *)
            FAILED=$((FAILED + 1))
            TIMINGS+=("$(printf '%-12s %5ss  FAILED (exit %s)' "$step" $((SECONDS - start)) "$rc")")
            printf '=== %s FAILED (exit %s) after %ss\n' "$step" "$rc" $((SECONDS - start))
            if [ "${KEEP_GOING:-0}" != 1 ]; then
                summary
                exit "$rc"
            fi
            return
            ;;
    esac
    printf '=== %s done in %ss\n' "$step" $((SECONDS - start))
}

summary() {
    printf '\n=== timings\n'
    printf '%s\n' "${TIMINGS[@]}"
    printf '%-12s %5ss\n' total "$SECONDS"
    if [ "$SKIPPED" -gt 0 ]; then
        printf '%d passed, %d failed, %d skipped\n' "$PASSED" "$FAILED" "$SKIPPED"
    else
        printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
    fi
}

main() {
    local start step beside
    if [ $# -gt 0 ] && [[ " ${ALL_STEPS[*]} " != *" $1 "* ]]; then
        die "unknown step '$1' (steps: ${ALL_STEPS[*]})"
    fi
    # only these need nothing that the steps before them make (molecule builds its own tarball)
    for step in $BESIDE; do
        case "$step" in matrix | molecule) ;; *) die "BESIDE='$BESIDE': it can name matrix and molecule, or be empty" ;; esac
    done

    printf '=== setup\n'
    start=$SECONDS
    ensure_venv
    ensure_pip_bootstrap
    ensure_test_packages
    stage_tree
    TIMINGS+=("$(printf '%-12s %5ss' setup $((SECONDS - start)))")
    printf '=== setup done in %ss\n' $((SECONDS - start))

    if [ $# -gt 0 ]; then
        step="$1"
        shift
        if [[ "$TARBALL_STEPS" == *" $step "* ]]; then
            (cd "$STAGE" && build_and_install >/dev/null)
            export ANSIBLE_COLLECTIONS_PATH="$INSTALLED"
        fi
        run_step "$step" "$@"
    else
        trap stop_beside EXIT
        for step in "${ALL_STEPS[@]}"; do
            for beside in $BESIDE; do
                [ "$step" != "$(beside_from "$beside")" ] || start_beside "$beside"
            done
            if [[ " $BESIDE " == *" $step "* ]]; then
                finish_beside "$step"
                continue
            fi
            run_step "$step"
            # steps run in subshells; the demo uses what build installed
            [ "$step" = build ] && export ANSIBLE_COLLECTIONS_PATH="$INSTALLED"
            finish_beside
        done
    fi

    summary
    [ "$FAILED" -eq 0 ]
}

main "$@"
