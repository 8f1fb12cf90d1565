#!/usr/bin/env bash
# Builds the Python wheel with maturin (the native library, its UniFFI bindings, the package
# and py.typed, tagged for this platform) into target/wheels/, and installs it into a virtual
# environment of its own, target/python-venv/, which the tests run.
#   bash mobile/python/build.sh [debug|release]
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$(pwd)"
profile="${1:-debug}"
venv="$root/target/python-venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check 'maturin>=1.16,<2'
flags=(--profile dev)
[ "$profile" = release ] && flags=(--release)
rm -f "$root"/target/wheels/itinera-*.whl
(cd mobile/python && "$venv/bin/maturin" build --locked "${flags[@]}" \
    --interpreter "$venv/bin/python" --out "$root/target/wheels")
"$venv/bin/pip" install --quiet --disable-pip-version-check --force-reinstall \
    "$root"/target/wheels/itinera-*.whl
