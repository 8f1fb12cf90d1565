# A private PostgreSQL cluster for the tests, sourced by tests/run.sh (or by hand:
# `source tests/postgres.sh && start_private_postgres`): Debian's server, a fresh cluster in a
# temporary folder, listening on a free port of loopback and a unix socket in that folder only,
# run as the postgres user when we are root (initdb refuses root). Exports its URL as
# ITINERA_TEST_POSTGRES_URL. stop_private_postgres stops it and removes the folder.
# Any failure stops the caller loudly.

start_private_postgres() {
    local sudo=()
    if [ "$(id -u)" != 0 ]; then sudo=(sudo); fi
    if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
        echo "tests/postgres.sh: installing Debian's postgresql"
        "${sudo[@]}" apt-get update -qq
        "${sudo[@]}" apt-get install -y -qq postgresql
    fi
    local bin
    bin="$(compgen -G "/usr/lib/postgresql/*/bin" | sort -V | tail -n 1)"
    if [ -z "$bin" ] || [ ! -x "$bin/initdb" ] || [ ! -x "$bin/pg_ctl" ]; then
        echo "tests/postgres.sh: initdb and pg_ctl are missing after installing postgresql" >&2
        return 1
    fi
    local as_owner=()
    PG_TEST_DIR="$(mktemp -d /tmp/itinera-postgres.XXXXXX)"
    if [ "$(id -u)" = 0 ]; then
        chown postgres: "$PG_TEST_DIR"
        as_owner=(runuser -u postgres --)
    fi
    PG_TEST_BIN="$bin"
    PG_TEST_AS_OWNER=("${as_owner[@]}")
    local port
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    # Trust is enough for a cluster that only loopback and a private socket folder reach.
    "${as_owner[@]}" "$bin/initdb" --pgdata="$PG_TEST_DIR/data" --username=itinera \
        --auth=trust --encoding=UTF8 --no-locale --no-instructions >"$PG_TEST_DIR/initdb.log" 2>&1 || {
        cat "$PG_TEST_DIR/initdb.log" >&2
        echo "tests/postgres.sh: initdb failed" >&2
        return 1
    }
    "${as_owner[@]}" "$bin/pg_ctl" --pgdata="$PG_TEST_DIR/data" --log="$PG_TEST_DIR/server.log" \
        --wait --timeout=60 \
        -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$PG_TEST_DIR -c max_connections=200" \
        start >/dev/null || {
        cat "$PG_TEST_DIR/server.log" >&2
        echo "tests/postgres.sh: the private PostgreSQL did not start" >&2
        return 1
    }
    "${as_owner[@]}" "$bin/createdb" --host=127.0.0.1 --port="$port" --username=itinera itinera_test || {
        echo "tests/postgres.sh: could not create the test database" >&2
        return 1
    }
    export ITINERA_TEST_POSTGRES_URL="postgres://itinera@127.0.0.1:$port/itinera_test"
    echo "tests/postgres.sh: private PostgreSQL at $ITINERA_TEST_POSTGRES_URL"
}

stop_private_postgres() {
    if [ -n "${PG_TEST_DIR:-}" ] && [ -d "$PG_TEST_DIR/data" ]; then
        "${PG_TEST_AS_OWNER[@]}" "$PG_TEST_BIN/pg_ctl" --pgdata="$PG_TEST_DIR/data" \
            --mode=immediate stop >/dev/null 2>&1 || true
    fi
    if [ -n "${PG_TEST_DIR:-}" ]; then
        rm -rf "$PG_TEST_DIR"
    fi
}
