#!/usr/bin/env bash
# Builds the native library and generates the Kotlin bindings (package com.itinera.sdk, from
# bindings/uniffi.toml) into mobile/kotlin/generated/.
#   bash mobile/kotlin/build.sh [debug|release]
set -euo pipefail
cd "$(dirname "$0")/../.."
profile="${1:-debug}"
flags=()
[ "$profile" = release ] && flags=(--release)
cargo build --locked "${flags[@]}" -p itinera-bindings
library="target/$profile/libitinera.so"
rm -rf mobile/kotlin/generated
cargo run --locked -q -p uniffi-bindgen -- generate --library "$library" --language kotlin \
    --out-dir mobile/kotlin/generated --no-format
mkdir -p mobile/kotlin/generated/lib
cp "$library" mobile/kotlin/generated/lib/
