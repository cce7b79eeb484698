#!/usr/bin/env bash
# Local demo PostgreSQL for pgreel: `make db-up`, `make db-down`, `make db-status`.
#
#   scripts/db.sh up       create the cluster if needed, start it, seed test_data (idempotent)
#   scripts/db.sh down     stop it (idempotent)
#   scripts/db.sh status   say whether it runs; exit 0 if it does, 3 if not
#
# The cluster listens on 127.0.0.1:${PGREEL_DB_PORT:-5432} only. LOCAL DEMO ONLY: it trusts every connection from
# 127.0.0.1 (any user name, any password), so `make proxy` works with zero set-up. Never expose it.
#
# Data lives in ./.pgdata, unless the postgres user (we run the server as postgres when we are root; PostgreSQL
# refuses to run as root) cannot reach the project directory: then in /tmp/pgreel-pgdata-<hash of the project path>.
# PGREEL_PGDATA overrides the location, PGREEL_PG_BINDIR the PostgreSQL bin directory, and PGREEL_PG_LIBDIR gives
# the libraries of a build that needs them (a major from scripts/postgres-versions.sh: its lib directory), set as
# LD_LIBRARY_PATH on the PostgreSQL programs alone.
set -euo pipefail

PROJECT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PORT="${PGREEL_DB_PORT:-5432}"
PG_USER=postgres

say() { printf 'db: %s\n' "$*"; }
die() { printf 'db: %s\n' "$*" >&2; exit 1; }

[[ "$PORT" =~ ^[0-9]+$ ]] && (( PORT > 0 && PORT < 65536 )) || die "PGREEL_DB_PORT='$PORT' is not a TCP port number"

# The PostgreSQL server binaries: $PGREEL_PG_BINDIR, `pg_config --bindir`, the newest /usr/lib/postgresql/*/bin,
# then the real directory of an initdb in PATH.
has_server() { [[ -x "$1/initdb" && -x "$1/pg_ctl" && -x "$1/postgres" ]]; }
find_bindir() {
    local dir
    if [[ -n "${PGREEL_PG_BINDIR:-}" ]]; then
        has_server "$PGREEL_PG_BINDIR" && { echo "$PGREEL_PG_BINDIR"; return 0; }
        return 1
    fi
    if command -v pg_config >/dev/null 2>&1; then
        dir="$(pg_config --bindir 2>/dev/null || true)"
        [[ -n "$dir" ]] && has_server "$dir" && { echo "$dir"; return 0; }
    fi
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5 -V -r); do
        has_server "$dir" && { echo "$dir"; return 0; }
    done
    if command -v initdb >/dev/null 2>&1; then
        dir="$(dirname "$(readlink -f "$(command -v initdb)")")"
        has_server "$dir" && { echo "$dir"; return 0; }
    fi
    return 1
}

# Runs a server program as the postgres user when we are root, as ourselves otherwise; from a directory that user
# can enter (postgres fails to start from a working directory it cannot read).
as_owner() {
    if (( EUID == 0 )); then
        (cd / && runuser -u "$PG_USER" -- "$@")
    else
        "$@"
    fi
}

choose_data_dir() {
    if [[ -n "${PGREEL_PGDATA:-}" ]]; then
        echo "$PGREEL_PGDATA"
        return
    fi
    local local_dir="$PROJECT_DIR/.pgdata"
    if (( EUID != 0 )); then
        echo "$local_dir"
        return
    fi
    # As root: .pgdata works only if postgres can traverse every directory down to the project.
    if runuser -u "$PG_USER" -- test -x "$PROJECT_DIR" 2>/dev/null; then
        echo "$local_dir"
    else
        echo "/tmp/pgreel-pgdata-$(printf '%s' "$PROJECT_DIR" | md5sum | cut -c1-12)"
    fi
}

# Something accepts TCP connections on 127.0.0.1:$1 (bash's /dev/tcp; no extra tools needed).
port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

running_port() {
    # Line 4 of postmaster.pid is the port.
    sed -n 4p "$DATA_DIR/postmaster.pid" 2>/dev/null || true
}

is_running() {
    [[ -f "$DATA_DIR/PG_VERSION" ]] && as_owner "${PG_ENV[@]}" "$BIN/pg_ctl" -D "$DATA_DIR" status >/dev/null 2>&1
}

# The seed's table with its 3 rows, only when it does not exist yet (the demo's own changes are kept).
seed() {
    local port="$1" exists
    local psql=("${PG_ENV[@]}" "$PSQL" -X -q -v ON_ERROR_STOP=1 -h "$DATA_DIR" -p "$port" -U postgres -d postgres)
    exists="$("${psql[@]}" -tA -c "SELECT to_regclass('public.test_data') IS NOT NULL")"
    [[ "$exists" == t ]] && return 0
    "${psql[@]}" <<'SQL'
CREATE TABLE test_data (id serial PRIMARY KEY, name text, value int, created_at timestamp DEFAULT now());
INSERT INTO test_data (name, value) VALUES ('test1', 150), ('test2', 200), ('test3', 300);
SQL
    say "created table test_data with 3 rows"
}

cmd_up() {
    if (( EUID == 0 )) && ! id -u "$PG_USER" >/dev/null 2>&1; then
        die "running as root but there is no '$PG_USER' user to run PostgreSQL as;" \
            "install PostgreSQL: apt-get install postgresql"
    fi
    if is_running; then
        local port
        port="$(running_port)"
        say "already running on 127.0.0.1:${port} (data: $DATA_DIR)"
        if [[ "$port" != "$PORT" ]]; then
            say "note: it runs on port $port, not on the requested $PORT; run 'make db-down' first to move it"
        fi
        return 0
    fi
    if port_in_use "$PORT"; then
        die "port $PORT on 127.0.0.1 is already taken by another program (not this demo cluster);" \
            "free it or pick another: make db-up PGREEL_DB_PORT=55432"
    fi

    if [[ -z "${PGREEL_PGDATA:-}" && "$DATA_DIR" != "$PROJECT_DIR/.pgdata" ]]; then
        say "note: the $PG_USER user cannot reach $PROJECT_DIR, so the data lives in $DATA_DIR"
    fi
    if [[ ! -f "$DATA_DIR/PG_VERSION" ]]; then
        say "creating a demo cluster in $DATA_DIR"
        mkdir -p "$DATA_DIR"
        chmod 700 "$DATA_DIR"
        if (( EUID == 0 )); then
            chown "$PG_USER:" "$DATA_DIR"
        fi
        as_owner "${PG_ENV[@]}" "$BIN/initdb" -D "$DATA_DIR" -U postgres --auth-local=trust --auth-host=trust \
            -E UTF8 --locale=C >"$DATA_DIR.initdb.log" 2>&1 \
            || { cat "$DATA_DIR.initdb.log" >&2; rm -f "$DATA_DIR.initdb.log"; die "initdb failed"; }
        rm -f "$DATA_DIR.initdb.log"
        # Written through the owner so the files keep the right owner and mode.
        as_owner tee "$DATA_DIR/pg_hba.conf" >/dev/null <<'HBA'
# pgreel LOCAL DEMO cluster: everything from this machine is trusted (any password works). Never expose it.
local   all   all                  trust
host    all   all   127.0.0.1/32   trust
HBA
        as_owner tee -a "$DATA_DIR/postgresql.conf" >/dev/null <<CONF

# pgreel demo cluster
listen_addresses = '127.0.0.1'
unix_socket_directories = '$DATA_DIR'
max_connections = 200
shared_buffers = '64MB'
CONF
    elif (( EUID == 0 )); then
        chown -R "$PG_USER:" "$DATA_DIR"
    fi

    if ! as_owner "${PG_ENV[@]}" "$BIN/pg_ctl" -D "$DATA_DIR" -l "$DATA_DIR/server.log" -o "-p $PORT" -w -t 60 start >/dev/null; then
        tail -n 20 "$DATA_DIR/server.log" >&2 || true
        die "PostgreSQL did not start (log: $DATA_DIR/server.log)"
    fi
    seed "$PORT"
    say "PostgreSQL is up on 127.0.0.1:$PORT (data: $DATA_DIR; local demo: trust auth, any password works)"
    say "connect: psql -h 127.0.0.1 -p $PORT -U postgres -d postgres"
}

cmd_down() {
    if ! is_running; then
        say "not running (data: $DATA_DIR)"
        return 0
    fi
    as_owner "${PG_ENV[@]}" "$BIN/pg_ctl" -D "$DATA_DIR" -m fast -w -t 60 stop >/dev/null
    say "stopped (data kept in $DATA_DIR)"
}

cmd_status() {
    if is_running; then
        say "running on 127.0.0.1:$(running_port) (data: $DATA_DIR)"
        return 0
    fi
    say "not running (data: $DATA_DIR)"
    return 3
}

usage() {
    echo "usage: $0 up|down|status   (port: PGREEL_DB_PORT, default 5432)" >&2
    exit 2
}

[[ $# -eq 1 ]] || usage
case "$1" in up|down|status) ;; *) usage ;; esac

BIN="$(find_bindir)" || die "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found" \
    "${PGREEL_PG_BINDIR:+in $PGREEL_PG_BINDIR }- install them (apt-get install postgresql) or set PGREEL_PG_BINDIR"
DATA_DIR="$(realpath -m "$(choose_data_dir)")"
PSQL="$BIN/psql"
# env(1) puts LD_LIBRARY_PATH on the PostgreSQL program only, never on runuser or a shell (a build's lib directory
# may hold its own libtinfo, which the system's bash cannot use).
PG_ENV=()
if [[ -n "${PGREEL_PG_LIBDIR:-}" ]]; then
    PG_ENV=(env "LD_LIBRARY_PATH=$PGREEL_PG_LIBDIR")
fi
[[ -x "$PSQL" ]] || PSQL="$(command -v psql)" || die "psql not found; install it: apt-get install postgresql-client"

"cmd_$1"
