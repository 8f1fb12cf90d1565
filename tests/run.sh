#!/usr/bin/env bash
# Runs every Itinera test: unit, property, end-to-end, interop and doc tests of the whole
# workspace. Installs what the tests need first (npm packages, Debian's libjna-java, chromium
# and postgresql), checks the committed web app against a fresh build, and stops loudly when
# something cannot be had.
set -euo pipefail
cd "$(dirname "$0")/.."

require() {
    if ! command -v "$1" >/dev/null 2>&1; then
        echo "tests/run.sh: '$1' is required ($2) but was not found" >&2
        exit 1
    fi
}

require cargo "the Rust toolchain"
require python3 "Python 3, for the Python SDK tests"
require java "Java 17, for the Kotlin SDK tests"

# JNA for the Kotlin bindings on the JVM, from Debian.
if [ ! -f /usr/share/java/jna.jar ]; then
    echo "tests/run.sh: installing Debian's libjna-java"
    if [ "$(id -u)" = 0 ]; then sudo=(); else sudo=(sudo); fi
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y -qq libjna-java
fi
test -f /usr/share/java/jna.jar || {
    echo "tests/run.sh: /usr/share/java/jna.jar is missing after installing libjna-java" >&2
    exit 1
}
require node "Node.js, for the JS automerge-repo interop tests"
require npm "npm, to install the JS packages from tests/package-lock.json"

# The JS automerge-repo packages, exactly as locked. (npm ci can refuse a lockfile that lacks
# other platforms' optional packages; install with the lockfile does not.)
echo "tests/run.sh: installing npm packages from tests/package-lock.json"
(cd tests && npm install --no-audit --no-fund --loglevel=error)
for package in @automerge/automerge-repo kotlin-compiler; do
    test -f "tests/node_modules/$package/package.json" || {
        echo "tests/run.sh: npm install did not provide $package" >&2
        exit 1
    }
done

# Debian's Chromium, for the head-office web app's browser tests.
if ! command -v chromium >/dev/null 2>&1; then
    echo "tests/run.sh: installing Debian's chromium"
    if [ "$(id -u)" = 0 ]; then sudo=(); else sudo=(sudo); fi
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y -qq chromium
fi
require chromium "Debian's chromium, for the web app's browser tests"

# playwright-core drives it, exactly as locked in tests/web.
echo "tests/run.sh: installing npm packages from tests/web/package-lock.json"
(cd tests/web && npm install --no-audit --no-fund --loglevel=error)
test -f tests/web/node_modules/playwright-core/package.json || {
    echo "tests/run.sh: npm install did not provide playwright-core" >&2
    exit 1
}

# The web app, built from web/package-lock.json: the server embeds web/dist, which is committed
# so that building the server needs no Node.js; a fresh build must give exactly those files.
echo "tests/run.sh: building the web app from web/package-lock.json"
(cd web && npm install --no-audit --no-fund --loglevel=error)
fresh="$(mktemp -d)"
(cd web && npx vite build --outDir "$fresh" --emptyOutDir --logLevel error)
if ! diff -r "$fresh" web/dist; then
    echo "tests/run.sh: web/dist is not the build of web/src: run 'npm run build' in web/ and commit web/dist" >&2
    rm -rf "$fresh"
    exit 1
fi
rm -rf "$fresh"

# The end-to-end tests run the real server binary, and the SDK tests its generated bindings.
cargo build --locked -p itinera-server
bash mobile/python/build.sh
bash mobile/kotlin/build.sh

log="$(mktemp)"
# The PostgreSQL store's tests and the server on it: a private cluster for this run only
# (tests/postgres.sh), stopped and removed on exit however the run ends.
source tests/postgres.sh
trap 'stop_private_postgres; rm -f "$log"' EXIT
start_private_postgres
cargo test --workspace --all-features --locked --no-fail-fast -- --skip docker_image 2>&1 | tee "$log"
# The container image builds where a Docker engine runs; elsewhere the test prints why not.
cargo test -p itinera-tests --locked --test packaging -- --nocapture 2>&1 | tee -a "$log"

# One closing line for the whole suite: the totals of every test binary and doc-test run.
awk '/^test result:/ { passed += $4; failed += $6 } END { printf "tests: %d passed, %d failed\n", passed, failed }' "$log"
