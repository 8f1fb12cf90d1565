#!/usr/bin/env bash
# Runs every Itinera test: unit, property, end-to-end and doc tests of the whole workspace.
# Installs what the tests need first and stops loudly when something cannot be had.
set -euo pipefail
cd "$(dirname "$0")/.."

require() {
    if ! command -v "$1" >/dev/null 2>&1; then
        echo "tests/run.sh: '$1' is required ($2) but was not found" >&2
        exit 1
    fi
}

require cargo "the Rust toolchain"

cargo test --workspace --locked
