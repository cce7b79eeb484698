#!/usr/bin/env bash
# `make upgrade-demo`: will the application's sessions on PostgreSQL 15 give the same results on 18?
#
#   1. two demo clusters, PostgreSQL 15 and 18 (scripts/db.sh, the data of `make run`: test_data with 3 rows), plus
#      pgbench's tables (pgbench -i -s 1) on both; a copy of 15's database as it is now (pgreel_before);
#   2. the headless proxy (`pgreel proxy`) in front of 15 records the seed workflow (psql) and a short pgbench run
#      (select-only, prepared statements);
#   3. `pgreel replay DIR --db-url <the copy on 15> --compare-with <18>`: every session on both at once, every result
#      compared A (15) vs recording, B (18) vs recording and A vs B, latencies side by side.
# The clusters, the proxy and the temporary directory go at the end, whatever happens (trap).
#
#   UPGRADE_DEMO_PORT (55415): 15 listens there, 18 on the next port, the proxy on the one after.
#   UPGRADE_DEMO_KEEP=1: keep the temporary directory (session files, replay outputs, logs).
#   PGREEL: the pgreel binary (default .build/debug/pgreel; `make upgrade-demo` builds it).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PROJECT_DIR="$PWD"

PGREEL="${PGREEL:-$PROJECT_DIR/.build/debug/pgreel}"
BASE_PORT="${UPGRADE_DEMO_PORT:-55415}"
PORT15="$BASE_PORT"
PORT18="$((BASE_PORT + 1))"
PROXY_PORT="$((BASE_PORT + 2))"
OLD=15
NEW=18

say() { printf '\n==> %s\n' "$*"; }
die() { printf 'upgrade-demo: %s\n' "$*" >&2; exit 1; }

[[ -x "$PGREEL" ]] || die "$PGREEL is not built: run make build (or make upgrade-demo)"
bash scripts/postgres-versions.sh ensure "$NEW"
BIN15="$(bash scripts/postgres-versions.sh bindir "$OLD")" || die "PostgreSQL $OLD is not installed"
BIN18="$(bash scripts/postgres-versions.sh bindir "$NEW")"
# A cached build finds its libraries through LD_LIBRARY_PATH, set on its PostgreSQL programs alone.
LIB18="$(dirname "$BIN18")/lib"
pg18() { env LD_LIBRARY_PATH="$LIB18" "$@"; }

WORK="$(mktemp -d /tmp/pgreel-upgrade-XXXXXX)"
chmod 755 "$WORK"   # the postgres user runs the clusters in here
SESSIONS="$WORK/sessions"
PROXY_PID=""

db() {   # db 15|18 up|down: scripts/db.sh with that major's binaries, data and port
    local major="$1" action="$2"
    if [[ "$major" == "$OLD" ]]; then
        PGREEL_PGDATA="$WORK/pg$OLD" PGREEL_PG_BINDIR="$BIN15" PGREEL_DB_PORT="$PORT15" bash scripts/db.sh "$action"
    else
        PGREEL_PGDATA="$WORK/pg$NEW" PGREEL_PG_BINDIR="$BIN18" PGREEL_PG_LIBDIR="$LIB18" PGREEL_DB_PORT="$PORT18" \
            bash scripts/db.sh "$action"
    fi
}

cleanup() {
    local status=$?
    if [[ -n "$PROXY_PID" ]]; then kill "$PROXY_PID" 2>/dev/null || true; wait "$PROXY_PID" 2>/dev/null || true; fi
    db "$OLD" down >/dev/null 2>&1 || true
    db "$NEW" down >/dev/null 2>&1 || true
    if [[ "${UPGRADE_DEMO_KEEP:-}" == 1 ]]; then
        echo "upgrade-demo: kept $WORK"
    else
        rm -rf "$WORK"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "PostgreSQL $OLD on 127.0.0.1:$PORT15 and PostgreSQL $NEW on 127.0.0.1:$PORT18, with the demo data"
db "$OLD" up
db "$NEW" up
"$BIN15/pgbench" -i -s 1 -q -h 127.0.0.1 -p "$PORT15" -U postgres postgres 2>&1 | tail -n 1
pg18 "$BIN18/pgbench" -i -s 1 -q -h 127.0.0.1 -p "$PORT18" -U postgres postgres 2>&1 | tail -n 1
# What a replay should start from: the database as it was before the recorded sessions changed it.
"$BIN15/psql" -X -q -h 127.0.0.1 -p "$PORT15" -U postgres -d template1 \
    -c "CREATE DATABASE pgreel_before TEMPLATE postgres"
VERSION15="$("$BIN15/psql" -X -At -h 127.0.0.1 -p "$PORT15" -U postgres -c 'SHOW server_version' | cut -d' ' -f1)"
VERSION18="$(pg18 "$BIN18/psql" -X -At -h 127.0.0.1 -p "$PORT18" -U postgres -c 'SHOW server_version' | cut -d' ' -f1)"

say "pgreel proxy on 127.0.0.1:$PROXY_PORT in front of PostgreSQL $VERSION15, recording to $SESSIONS"
NO_COLOR=1 "$PGREEL" proxy --listen "127.0.0.1:$PROXY_PORT" \
    --upstream "postgres://postgres@127.0.0.1:$PORT15/postgres" --sessions "$SESSIONS" --quiet \
    >"$WORK/proxy.log" 2>&1 &
PROXY_PID=$!
for _ in $(seq 100); do
    grep -q "127.0.0.1:$PROXY_PORT" "$WORK/proxy.log" 2>/dev/null && break
    kill -0 "$PROXY_PID" 2>/dev/null || { cat "$WORK/proxy.log" >&2; die "the proxy did not start"; }
    sleep 0.1
done

say "recording the seed workflow (psql $OLD) and pgbench -S -M prepared, 2 clients x 100 transactions"
"$BIN15/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PROXY_PORT" -U pseudo_user -d postgres >/dev/null <<'SQL'
SELECT * FROM test_data;
INSERT INTO test_data (name, value) VALUES ('new_record', 999);
UPDATE test_data SET value = 1000 WHERE name = 'new_record';
SELECT * FROM test_data WHERE value > 500;
DELETE FROM test_data WHERE name = 'new_record';
SQL
"$BIN15/pgbench" -S -M prepared -c 2 -j 2 -t 100 -n -h 127.0.0.1 -p "$PROXY_PORT" -U pseudo_user postgres \
    | grep -E '^(number of transactions actually processed|number of failed transactions)'
# SIGTERM: the proxy lets the sessions end and closes every file.
kill -TERM "$PROXY_PID"
wait "$PROXY_PID" 2>/dev/null || true
PROXY_PID=""
ls "$SESSIONS"

say "pgreel replay --compare-with: the $(ls "$SESSIONS" | wc -l) files on PostgreSQL $VERSION15 (A: pgreel_before) and $VERSION18 (B) at once"
# created_at is the seed's now(): each cluster filled its own, so it is not compared. --no-pipeline times every
# query on its own, like the recording, so the latencies of A and B compare like with like.
STATUS=0
NO_COLOR=1 "$PGREEL" replay "$SESSIONS" --db-url "postgres://postgres@127.0.0.1:$PORT15/pgreel_before" \
    --compare-with "postgres://postgres@127.0.0.1:$PORT18/postgres" --ignore-column created_at --no-pipeline --quiet \
    >"$WORK/replay.txt" 2>&1 || STATUS=$?
sed -n '/Replay Summary/,$p' "$WORK/replay.txt"
if [[ "$STATUS" != 0 ]]; then
    echo "Differences (exit status $STATUS):"
    grep -B3 -A6 '✗\|≠\|Query failed' "$WORK/replay.txt" | head -n 60
    echo "UPGRADE_DEMO_KEEP=1 keeps the outputs."
    exit 1
fi
