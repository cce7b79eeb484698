#!/usr/bin/env bash
# Rebuilds the fuzz seed corpus (Fuzz/Corpus/) from real traffic: a throwaway PostgreSQL, capture.py relaying
# between it and psql / pgbench (simple and extended protocol, errors, COPY in and out, NOTIFY, a cancelled
# query), then split.py cutting the streams into small files. The session tracker's seeds are written by hand
# below (their bytes are MessageScript programs, not wire bytes). Not part of `make fuzz`: the corpus is kept in git.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
FUZZ_DIR="$PWD"
WORK="$(mktemp -d /tmp/pgreel-corpus-XXXXXX)"
chmod 755 "$WORK"
PG_PORT="${CORPUS_PG_PORT:-55871}"
RELAY_PORT="${CORPUS_RELAY_PORT:-55872}"
BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
as_pg() { (cd / && runuser -u postgres -- "$@"); }
cleanup() {
    [[ -n "${RELAY_PID:-}" ]] && kill "$RELAY_PID" 2>/dev/null || true
    as_pg "$BIN/pg_ctl" -D "$WORK/data" stop -m immediate >/dev/null 2>&1 || true
    [[ -n "${KEEP_CAPTURE:-}" ]] || rm -rf "$WORK"
}
trap cleanup EXIT
chown postgres "$WORK"
as_pg "$BIN/initdb" -D "$WORK/data" -U postgres --auth=trust >/dev/null
as_pg "$BIN/pg_ctl" -D "$WORK/data" -l "$WORK/server.log" -w \
    -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $WORK" start >/dev/null
python3 scripts/capture.py --listen "$RELAY_PORT" --upstream "$PG_PORT" --out "$WORK/capture" --seconds 60 &
RELAY_PID=$!
sleep 1
PSQL=(psql -h 127.0.0.1 -p "$RELAY_PORT" -U postgres -d postgres -v ON_ERROR_STOP=0 -q)
"${PSQL[@]}" >/dev/null 2>&1 <<'SQL' || true
CREATE TABLE t (id int PRIMARY KEY, name text, at timestamptz DEFAULT now());
INSERT INTO t SELECT g, 'name ' || g FROM generate_series(1, 20) g;
SELECT * FROM t WHERE id < 5;
SELECT 1 / 0;
SELECT 1; SELECT 'two', NULL; UPDATE t SET name = 'x' WHERE id = 1;
;
BEGIN; SELECT * FROM t WHERE id = 2 FOR UPDATE; COMMIT;
COPY t (id, name) FROM STDIN;
100	copied
101	also copied
\.
COPY (SELECT * FROM t ORDER BY id LIMIT 3) TO STDOUT;
LISTEN c; NOTIFY c, 'hello';
DO $$ BEGIN RAISE NOTICE 'a notice'; END $$;
SELECT $1::int + 1 \bind 41 \g
SELECT name FROM t WHERE id = $1 \parse s1
\bind_named s1 3 \g
ALTER ROLE postgres PASSWORD 'not-a-real-password';
SET statement_timeout = 50; SELECT pg_sleep(1);
SQL
pgbench -h 127.0.0.1 -p "$RELAY_PORT" -U postgres -i -s 1 -q postgres >/dev/null 2>&1
pgbench -h 127.0.0.1 -p "$RELAY_PORT" -U postgres -M extended -t 3 -c 1 postgres >/dev/null 2>&1
pgbench -h 127.0.0.1 -p "$RELAY_PORT" -U postgres -M prepared -t 3 -c 1 postgres >/dev/null 2>&1
sleep 1
kill "$RELAY_PID"; wait "$RELAY_PID" 2>/dev/null || true; RELAY_PID=
rm -rf Corpus/StartupPacketFuzz Corpus/FrontendFramingFuzz Corpus/BackendFramingFuzz
python3 scripts/split.py "$WORK/capture" Corpus

# SessionTrackerFuzz: MessageScript programs (op byte, then the op's parameter bytes; see TrackerCheck.swift).
mkdir -p Corpus/SessionTrackerFuzz
seed() { printf "$2" > "Corpus/SessionTrackerFuzz/$1"; }
# maxRows byte, then: Query, RowDescription(2 cols), DataRow x3, CommandComplete, ReadyForQuery.
seed simple-query '\x02\x00\x00\x0b\x02\x00\x01\x00\x0c\x02\x01\x03abc\x01\x02xy\x0c\x02\x01\x01z\x01\x00\x0c\x00\x0f\x00\x14\x00'
# Parse, Bind, Describe portal, Execute, Sync / ParseComplete, BindComplete, RowDescription, DataRow, CC, RFQ.
seed extended '\x01\x01\x01\x08\x01\x17\x02\x00\x01\x00\x01\x01\x02\x0142\x00\x03\x01\x00\x05\x00\x00\x06\x19\x00\x19\x01\x0b\x01\x00\x0c\x01\x01\x0242\x0f\x00\x14\x00'
# Execute that fails, the pipeline skipped until Sync.
seed pipeline-error '\x01\x01\x01\x00\x00\x02\x00\x01\x00\x00\x00\x05\x00\x00\x02\x00\x01\x00\x00\x00\x05\x00\x00\x06\x19\x00\x19\x01\x12\x14\x00'
# COPY FROM STDIN: Query, CopyInResponse, CopyData x2, CopyDone, CC, RFQ.
seed copy-in '\x00\x00\x03\x16\x00\x09\x051\tab\n\x09\x032\tc\x0a\x00\x0f\x02\x14\x00'
# COPY TO STDOUT with more rows than kept, a notice and a notification.
seed copy-out '\x00\x00\x04\x16\x01\x17\x031\ta\x17\x032\tb\x17\x033\tc\x18\x13\x0f\x02\x14\x00\x1c'
echo "corpus: $(find Corpus -type f | wc -l) files in $FUZZ_DIR/Corpus"
