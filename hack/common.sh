#!/usr/bin/env bash
# Shared helpers for hack/test.sh and hack/demo.sh (sourced, not run).
#
# Layout, all under the repository (gitignored):
#   .venv/                                        tool venv (python3.11 -m venv)
#   .build/ansible_collections/storage/datamotion staged copy of the work tree;
#                                                 ansible-test only runs from such a path
#   .build/dist/                                  built collection tarball
#   .build/collections/                           collection installed from that tarball
#   .build/demo/                                  demo playbook work directory
#   .venvs/ansible-<version>/                     ansible-core matrix venvs (sanity, units)
#   .venvs/importer/                              galaxy-importer and ansible-builder

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
NAMESPACE=storage
COLLECTION=datamotion
PYTHON="${PYTHON:-python3.11}"
VENV="$REPO/.venv"
BUILD="$REPO/.build"
STAGE="$BUILD/ansible_collections/$NAMESPACE/$COLLECTION"
DIST="$BUILD/dist"
INSTALLED="$BUILD/collections"
# requirement files that go into the tool venv; the stamp is their combined hash
VENV_REQUIREMENTS=(requirements-dev.txt requirements.txt tests/unit/requirements.txt tests/integration/requirements.txt
                   simulators/pyproject.toml)

VENVS="$REPO/.venvs"
# The ansible-core matrix of `make test` (sanity and units), besides the version in .venv:
# "<ansible-core minor> <python minor>". The oldest is meta/runtime.yml's requires_ansible;
# the newest is the latest ansible-core release: bump it when a new one comes out.
# 2.20 and later need Python >= 3.12 on the controller; 3.12 rather than 3.13, because
# storops imports the `pipes` module that Python 3.13 removed.
MATRIX=("2.16 3.11" "2.21 3.12")

# plain output in logs (CI), colours on a terminal
if [ ! -t 1 ]; then
    export ANSIBLE_NOCOLOR=1 NO_COLOR=1
fi

log() { printf '%s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

requirements_hash() {
    local f
    for f in "${VENV_REQUIREMENTS[@]}"; do
        if [ -f "$REPO/$f" ]; then
            printf '== %s\n' "$f"
            cat "$REPO/$f"
        fi
    done | sha256sum | cut -d' ' -f1
}

# Create .venv, or rebuild it when a requirements file changed.
ensure_venv() {
    local want have="" f args=()
    want="$(requirements_hash)"
    [ -f "$VENV/.requirements.sha256" ] && have="$(cat "$VENV/.requirements.sha256")"
    if [ -x "$VENV/bin/ansible-test" ] && [ "$want" = "$have" ]; then
        log "tool venv $VENV is up to date"
    else
        log "building tool venv $VENV with $PYTHON"
        command -v "$PYTHON" >/dev/null || die "$PYTHON not found (set PYTHON=/path/to/python3.11)"
        rm -rf "$VENV"
        "$PYTHON" -m venv "$VENV"
        for f in "${VENV_REQUIREMENTS[@]}"; do
            [[ "$f" == *.txt && -f "$REPO/$f" ]] && args+=(-r "$REPO/$f")
        done
        # The simulators (datamotion_sim) are installed editable, so tests run the tree's
        # code; "compat" mode is a plain path entry instead of an import hook, which saves
        # ~10 ms on each naviseccli-sim call (a VNX snap copy makes five of them).
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${args[@]}" \
            --config-settings editable_mode=compat -e "$REPO/simulators"
        printf '%s\n' "$want" >"$VENV/.requirements.sha256"
    fi
    export VIRTUAL_ENV="$VENV"
    export PATH="$VENV/bin:$PATH"
    hash -r
}

# A working interpreter for Python X.Y: pythonX.Y on the PATH if it runs (pyenv shims
# that are on the PATH but not selected do not), else one that pyenv has installed.
find_python() {
    local version="$1" candidate root
    root="$(pyenv root 2>/dev/null || true)"
    for candidate in "python$version" ${root:+"$root"/versions/"$version".*/bin/python"$version"}; do
        # the interpreter a venv was made from, when the candidate is a venv's
        if "$candidate" -c 'import sys; print(getattr(sys, "_base_executable", sys.executable))' 2>/dev/null; then
            return
        fi
    done
    return 1
}

# ensure_side_venv NAME PYTHON_VERSION PIP_ARGS...: the venv .venvs/NAME, made with Python
# PYTHON_VERSION and `pip install PIP_ARGS`; rebuilt when the arguments, a requirements
# file they name (-r FILE) or an editable project's pyproject.toml (-e DIR) change. Prints nothing but logs; the venv's path is .venvs/NAME.
ensure_side_venv() {
    local name="$1" version="$2" dir="$VENVS/$1" want have="" python arg prev=""
    shift 2
    want="$( (printf '%s\n' "$version" "$@"
              for arg in "$@"; do
                  [ "$prev" = -r ] && [ -f "$arg" ] && cat "$arg"
                  [ "$prev" = -e ] && [ -f "$arg/pyproject.toml" ] && cat "$arg/pyproject.toml"
                  prev="$arg"
              done) | sha256sum | cut -d' ' -f1)"
    [ -f "$dir/.requirements.sha256" ] && have="$(cat "$dir/.requirements.sha256")"
    if [ -x "$dir/bin/python" ] && [ "$want" = "$have" ]; then
        log "venv $dir is up to date"
        return
    fi
    python="$(find_python "$version")" \
        || die "no working python$version (put it on the PATH, or install it with pyenv)"
    log "building venv $dir with $python"
    rm -rf "$dir"
    "$python" -m venv "$dir"
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check "$@"
    printf '%s\n' "$want" >"$dir/.requirements.sha256"
}

# The matrix venv for ansible-core MINOR on Python PYVER: that ansible-core, the collection's
# runtime requirements, ansible-test's own unit-test requirements and tests/unit's.
ensure_matrix_venv() {
    local core="$1" pyver="$2" dir="$VENVS/ansible-$1" units_txt
    local args=("ansible-core~=$core.0" setuptools -r "$REPO/requirements.txt")
    [ -f "$REPO/tests/unit/requirements.txt" ] && args+=(-r "$REPO/tests/unit/requirements.txt")
    [ -f "$REPO/simulators/pyproject.toml" ] && args+=(-e "$REPO/simulators")
    ensure_side_venv "ansible-$core" "$pyver" "${args[@]}"
    if [ ! -f "$dir/.units-requirements" ]; then
        units_txt="$("$dir/bin/python" -c 'import ansible_test, os; print(os.path.join(os.path.dirname(ansible_test.__file__), "_data", "requirements", "units.txt"))')"
        "$dir/bin/python" -m pip install --quiet --disable-pip-version-check -r "$units_txt"
        touch "$dir/.units-requirements"
    fi
    ensure_pip_bootstrap "$dir"
}

# Debian packages some tests use beyond the base image: FUSE filesystems (ntfs-3g,
# fuse2fs) as destinations that cannot punch holes, and qemu-nbd (qemu-utils), a program
# that holds an image open and locked. Installed when we are root with apt-get (CI is);
# elsewhere those tests skip and say which package they miss.
TEST_PACKAGES=(ntfs-3g fuse2fs qemu-utils)
ensure_test_packages() {
    local missing=() pkg
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || return 0
    for pkg in "${TEST_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -gt 0 ] || return 0
    log "installing test packages: ${missing[*]}"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } >/dev/null \
        || log "WARNING: could not install ${missing[*]}: the tests that need them will skip"
}

# ansible-test bootstraps pip in each of its venvs with a script it downloads from a
# host that this network does not reach; it looks in ~/.ansible/test/cache first.
# Put our own stand-in there: ensurepip, then pip installs what ansible-test asked for.
# The argument is the venv whose ansible-test will run (default .venv).
ensure_pip_bootstrap() {
    local venv="${1:-$VENV}" at_dir pip_version cache
    at_dir="$("$venv/bin/python" -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')"
    pip_version="$(sed -n "s/.*pip='\([0-9.]*\)'.*/\1/p" "$at_dir/_internal/python_requirements.py" | head -n1)"
    [ -n "$pip_version" ] || die "cannot find the pip version ansible-test bootstraps"
    cache="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
    if [ -f "$cache" ]; then
        log "pip bootstrap for ansible-test: $cache (present)"
        return
    fi
    mkdir -p "$(dirname "$cache")"
    cat >"$cache.new" <<'PY'
"""Offline stand-in for the get-pip script that ansible-test downloads (storage.datamotion hack/common.sh)."""
import subprocess
import sys

SKIP = {"--no-setuptools": "setuptools", "--no-wheel": "wheel"}


def main():
    argv = sys.argv[1:]
    python = sys.executable
    subprocess.check_call([python, "-m", "ensurepip", "--upgrade"])
    subprocess.check_call([python, "-m", "pip", "install"] + [a for a in argv if a not in SKIP])
    for flag, dist in SKIP.items():
        if flag in argv:
            subprocess.call([python, "-m", "pip", "uninstall", "--yes", "--quiet", dist],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


main()
PY
    mv "$cache.new" "$cache"
    log "pip bootstrap for ansible-test: wrote $cache"
}

# Copy the work tree (tracked + untracked-but-not-ignored files, as in a clone plus local
# edits) to .build/ansible_collections/storage/datamotion (or to the directory given, which
# must end in ansible_collections/storage/datamotion), fresh each time.
stage_tree() {
    local stage="${1:-$STAGE}"
    rm -rf "$stage"
    mkdir -p "$stage"
    if git -C "$REPO" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        (cd "$REPO" && git ls-files -z --cached --others --exclude-standard \
            | tar --null --files-from=- --ignore-failed-read -cf -) | tar -xf - -C "$stage"
    else
        # not a git checkout (e.g. an unpacked archive): copy all but the tool droppings
        (cd "$REPO" && tar --exclude=./.venv --exclude=./.venvs --exclude=./.build --exclude=./.git \
            --exclude=./tests/output --exclude=./.ansible --exclude=./collections -cf - .) \
            | tar -xf - -C "$stage"
    fi
    # Give the copy its own (empty) git repository: ansible-test and ansible-lint then select
    # files exactly as in a clone (.gitignore honoured) instead of finding the outer repository,
    # which ignores .build/ and would hide every file.
    git -C "$stage" init --quiet
    log "staged $(find "$stage" -path "$stage/.git" -prune -o -type f -print | wc -l) files in $stage"
}

# Build the collection from the staged copy and install it into .build/collections.
build_and_install() {
    local tarball
    rm -rf "$DIST" "$INSTALLED"
    mkdir -p "$DIST" "$INSTALLED"
    (cd "$STAGE" && ansible-galaxy collection build --force --output-path "$DIST")
    tarball="$(ls "$DIST/$NAMESPACE-$COLLECTION-"*.tar.gz)"
    ansible-galaxy collection install --force -p "$INSTALLED" "$tarball" 2>&1 \
        | grep -v 'is not part of the configured Ansible collections paths' || true
    [ -f "$INSTALLED/ansible_collections/$NAMESPACE/$COLLECTION/MANIFEST.json" ] \
        || die "collection was not installed into $INSTALLED"
    export ANSIBLE_COLLECTIONS_PATH="$INSTALLED"
}
