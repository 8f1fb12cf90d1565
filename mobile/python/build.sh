#!/usr/bin/env bash
# Builds the native library and generates the Python bindings into mobile/python/itinera/.
#   bash mobile/python/build.sh [debug|release]
set -euo pipefail
cd "$(dirname "$0")/../.."
profile="${1:-debug}"
flags=()
[ "$profile" = release ] && flags=(--release)
cargo build --locked "${flags[@]}" -p itinera-bindings
library="target/$profile/libitinera.so"
cargo run --locked -q -p uniffi-bindgen -- generate --library "$library" --language python --out-dir mobile/python/itinera --no-format
cp "$library" mobile/python/itinera/
