#!/usr/bin/env bash
# Fuzzes Itinera: writes the seed corpora (real frames and documents), then runs each cargo-fuzz
# target for SECONDS (default 300) and prints the executions run and crashes found per target.
#
#   bash tests/fuzz/run.sh [SECONDS] [TARGET...]
#
# Needs nightly Rust and cargo-fuzz (installed here if missing). A crash stops its target and
# leaves the input in tests/fuzz/artifacts/<target>/; fix it, then keep the input under
# tests/fuzz/crashers/<target>/ so the test suite replays it.
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds="${1:-300}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(frame session document)

rustup toolchain list | grep -q '^nightly' || {
    echo "tests/fuzz/run.sh: cargo-fuzz needs nightly Rust: rustup toolchain install nightly" >&2
    exit 1
}
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked

cargo run --quiet --release --manifest-path tests/fuzz/Cargo.toml --target-dir target/fuzz \
    --bin seed_corpus -- tests/fuzz/corpus

status=0
for target in "${targets[@]}"; do
    work="target/fuzz-corpus/$target"
    mkdir -p "$work" "tests/fuzz/artifacts/$target"
    log="target/fuzz-$target.log"
    echo "fuzzing $target for ${seconds}s (log: $log)"
    if cargo +nightly fuzz run --fuzz-dir tests/fuzz --target-dir target/fuzz "$target" \
        "$work" "tests/fuzz/corpus/$target" -- \
        -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
        -print_final_stats=1 >"$log" 2>&1; then
        crashes=0
    else
        crashes=1
        status=1
    fi
    runs="$(grep -oE '^stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo '?')"
    corpus="$(find "$work" -type f | wc -l)"
    echo "$target: $runs executions in ${seconds}s, corpus $corpus inputs, crashes found: $crashes"
    if [ "$crashes" != 0 ]; then
        grep -E 'panicked|ERROR|SUMMARY|Test unit written' "$log" | head -20
    fi
done
exit "$status"
