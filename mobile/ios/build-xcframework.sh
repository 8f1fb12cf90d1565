#!/usr/bin/env bash
# Builds itinera-bindings for iOS devices and simulators, generates the Swift bindings into
# Sources/Itinera, and packs the libraries into build/itineraFFI.xcframework.
# Needs macOS with Xcode (xcodebuild, lipo).
set -euo pipefail
cd "$(dirname "$0")/../.."
targets=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios)
rustup target add "${targets[@]}"
for target in "${targets[@]}"; do
    cargo build --release --locked --target "$target" -p itinera-bindings
done
out=mobile/ios/build
rm -rf "$out" && mkdir -p "$out/headers" "$out/sim"
cargo run --locked -q -p uniffi-bindgen -- generate \
    --library target/aarch64-apple-ios/release/libitinera.a \
    --language swift --out-dir "$out/generated"
cp "$out/generated/itinera.swift" mobile/ios/Sources/Itinera/
cp "$out/generated/itineraFFI.h" "$out/headers/"
cp "$out/generated/itineraFFI.modulemap" "$out/headers/module.modulemap"
lipo -create target/aarch64-apple-ios-sim/release/libitinera.a target/x86_64-apple-ios/release/libitinera.a \
    -output "$out/sim/libitinera.a"
xcodebuild -create-xcframework \
    -library target/aarch64-apple-ios/release/libitinera.a -headers "$out/headers" \
    -library "$out/sim/libitinera.a" -headers "$out/headers" \
    -output "$out/itineraFFI.xcframework"
