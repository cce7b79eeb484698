#!/usr/bin/env bash
# Replay fidelity on a large, varied capture (docs/replay.md "Fidelity, measured"): a fresh database is recorded
# through pgreel under pgbench TPC-B with 32 clients, pgbench -C (a new session per transaction: thousands of short
# sessions) and psql's seed workflow, then the whole capture is replayed with --realtime against a copy of the
# database as it was before the recording. Prints the share of queries that matched and the kinds of mismatch.
#
#   bash bench/replay-capture.sh        (PGREEL=path to pick the build; default .build/release/pgreel)
#   CAPTURE_SECONDS=10 CAPTURE_PORT=55450
# Starts its own PostgreSQL (scripts/db.sh, in a temporary directory) and removes it at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PGREEL="${PGREEL:-$PWD/.build/release/pgreel}"
SECONDS_PER_LOAD="${CAPTURE_SECONDS:-10}"
PORT="${CAPTURE_PORT:-55450}"
PROXY_PORT=$((PORT + 1))
[[ -x "$PGREEL" ]] || { echo "replay-capture: build pgreel first (swift build -c release)" >&2; exit 1; }
BIN="$(bash scripts/postgres-versions.sh bindir "$(pg_config --version | sed 's/[^0-9]*\([0-9]*\).*/\1/')")"
WORK="$(mktemp -d /tmp/pgreel-capture-XXXXXX)"; chmod 755 "$WORK"
PROXY_PID=""
db() { PGREEL_PGDATA="$WORK/pg" PGREEL_DB_PORT="$PORT" bash scripts/db.sh "$1" >/dev/null; }
cleanup() {
    [[ -n "$PROXY_PID" ]] && kill "$PROXY_PID" 2>/dev/null || true
    db down || true
    [[ "${CAPTURE_KEEP:-}" == 1 ]] && echo "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT
psql_() { "$BIN/psql" -X -q -h 127.0.0.1 -p "$PORT" -U postgres "$@"; }

db up
psql_ -d postgres -c "ALTER SYSTEM SET max_connections = 200" >/dev/null
db down; db up
psql_ -d postgres -c "CREATE DATABASE capture TEMPLATE postgres"
"$BIN/pgbench" -i -s 2 -q -h 127.0.0.1 -p "$PORT" -U postgres capture >/dev/null 2>&1
psql_ -d postgres -c "CREATE DATABASE capture_before TEMPLATE capture"

"$PGREEL" proxy --listen "127.0.0.1:$PROXY_PORT" --upstream "postgres://postgres@127.0.0.1:$PORT/capture" \
    --user postgres --sessions "$WORK/sessions" --quiet > "$WORK/proxy.log" 2>&1 &
PROXY_PID=$!
sleep 1
echo "recording: pgbench TPC-B 32 clients, pgbench -S -C 4 clients, psql seed workflow, ${SECONDS_PER_LOAD} s each at once"
"$BIN/pgbench" -n -c 32 -j 2 -T "$SECONDS_PER_LOAD" -h 127.0.0.1 -p "$PROXY_PORT" -U postgres capture 2>&1 \
    | grep -E "^tps|processed" &
B1=$!
"$BIN/pgbench" -n -S -C -c 4 -j 1 -T "$SECONDS_PER_LOAD" -h 127.0.0.1 -p "$PROXY_PORT" -U postgres capture 2>&1 \
    | grep -E "^tps|processed" &
B2=$!
for _ in $(seq 20); do
    "$BIN/psql" -X -q -h 127.0.0.1 -p "$PROXY_PORT" -U postgres -d capture >/dev/null <<'SQL'
SELECT * FROM test_data;
INSERT INTO test_data (name, value) VALUES ('new_record', 999);
UPDATE test_data SET value = 1000 WHERE name = 'new_record';
SELECT * FROM test_data WHERE value > 500;
DELETE FROM test_data WHERE name = 'new_record';
SQL
done
wait "$B1" "$B2"
kill -TERM "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null || true; PROXY_PID=""
echo "recorded $(ls "$WORK/sessions" | wc -l) session files"

psql_ -d postgres -c "CREATE DATABASE capture_replay TEMPLATE capture_before"
status=0
NO_COLOR=1 "$PGREEL" replay "$WORK/sessions" --db-url "postgres://postgres@127.0.0.1:$PORT/capture_replay" \
    --realtime --quiet --ignore-column created_at --report "$WORK/report.json" > "$WORK/replay.txt" 2>&1 || status=$?
sed -n '/Replay Summary/,/^━/p' "$WORK/replay.txt" | grep -v "slower than recorded\|^   ▲\|… and"
python3 - "$WORK/report.json" <<'PY'
import collections, json, sys
report = json.load(open(sys.argv[1]))
s = report["summary"]
print(f"\nmatched {s['matched']} of {s['executed']} executed queries ({100.0 * s['matched'] / max(s['executed'], 1):.2f}%)")
kinds = collections.Counter()
examples = {}
for f in report["files"]:
    for q in f["queries"]:
        if q["status"] != "mismatched" and not q["unexpected_error"]:
            continue
        d = q.get("difference") or {}
        sql = " ".join(q["sql"].split())[:60]
        key = (d.get("kind", "error"), d.get("column", ""), sql)
        kinds[key] += 1
        examples.setdefault(key, (d.get("recorded_value") or d.get("recorded"), d.get("replayed_value") or d.get("replayed")))
print("mismatches by kind, column and statement:")
for (kind, column, sql), n in kinds.most_common(12):
    rec, rep = examples[(kind, column, sql)]
    print(f"  {n:6d}  {kind:16s} {column:10s} {sql}   (e.g. recorded {str(rec)[:30]!r}, replayed {str(rep)[:30]!r})")
PY
exit 0
