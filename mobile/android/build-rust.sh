#!/usr/bin/env bash
# Builds libitinera.so for each Android ABI with cargo-ndk, and generates the Kotlin bindings.
# Needs the Android NDK (ANDROID_NDK_HOME) and `cargo install cargo-ndk`; then
# `./gradlew :sample:assembleDebug` builds the sample app.
set -euo pipefail
cd "$(dirname "$0")/../.."
rustup target add aarch64-linux-android armv7-linux-androideabi x86_64-linux-android
cargo ndk -t arm64-v8a -t armeabi-v7a -t x86_64 \
    -o mobile/android/itinera/src/main/jniLibs \
    build --release --locked -p itinera-bindings
rm -rf mobile/kotlin/generated
cargo run --locked -q -p uniffi-bindgen -- generate \
    --library mobile/android/itinera/src/main/jniLibs/arm64-v8a/libitinera.so \
    --language kotlin --out-dir mobile/kotlin/generated --no-format
