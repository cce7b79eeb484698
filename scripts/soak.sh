#!/usr/bin/env bash
# `make soak`: 200 pgbench clients through pgreel (release build, recording on) for SOAK_SECONDS (default 300).
#
# Its own PostgreSQL (fsync off, max_connections 300, pgbench scale 10) in a temporary directory; pgbench with
# the extended protocol and a mixed workload (tpcb-like: reads and writes in a transaction; select-only: reads).
# Checks, and exits non-zero when one fails:
#   - zero failed transactions (pgbench's own count);
#   - every transaction recorded: the session files hold one successful END per tpcb-like transaction and one
#     successful `SELECT abalance` per transaction of either script that pgbench counts, plus what ran of the
#     transactions pgbench abandons when the time is up (at most one per client);
#   - pgreel's RSS and open descriptors, sampled every SOAK_SAMPLE seconds, flat after the warm-up (the first
#     fifth of the run): the last sample at most 25% + 16 MiB over the first after warm-up, descriptors equal.
# Prints the figures (first/last/max) and keeps them in bench/results/soak-<date>.txt.
#
#   SOAK_SECONDS=60 SOAK_CLIENTS=50 make soak      shorter
#   SOAK_SKIP_BUILD=1 make soak                    use the release build already there
#   SOAK_KEEP=1 make soak                          keep the temporary directory (session files, samples, logs)
#   SOAK_ANALYZE=/tmp/pgreel-soak-XXXXXX bash scripts/soak.sh   check a kept run again, without running it
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PROJECT_DIR="$PWD"
SECONDS_TOTAL="${SOAK_SECONDS:-300}"
CLIENTS="${SOAK_CLIENTS:-200}"
SAMPLE="${SOAK_SAMPLE:-5}"
THREADS="${SOAK_THREADS:-4}"

# shellcheck source=bench/lib.sh
source bench/lib.sh
log() { printf 'soak: %s\n' "$*" >&2; }
die() { printf 'soak: %s\n' "$*" >&2; exit 1; }

PGREEL_PID=""; SAMPLER_PID=""; PGPORT=""
if [[ -n "${SOAK_ANALYZE:-}" ]]; then
    WORK="$SOAK_ANALYZE"
    SOAK_KEEP=1
else
    WORK="$(mktemp -d /tmp/pgreel-soak-XXXXXX)"
    chmod 755 "$WORK"
fi
cleanup() {
    [[ -n "$SAMPLER_PID" ]] && kill "$SAMPLER_PID" 2>/dev/null || true
    [[ -n "$PGREEL_PID" ]] && kill "$PGREEL_PID" 2>/dev/null || true
    [[ -n "$PGPORT" ]] && { PGREEL_PGDATA="$WORK/pgdata" PGREEL_DB_PORT="$PGPORT" bash scripts/db.sh down >/dev/null 2>&1 || true; }
    [[ -n "${SOAK_KEEP:-}" ]] || rm -rf "$WORK"
}
trap cleanup EXIT

command -v jq >/dev/null || die "jq not found (apt-get install jq)"

if [[ -z "${SOAK_ANALYZE:-}" ]]; then
    if [[ -z "${SOAK_SKIP_BUILD:-}" ]]; then
        log "building pgreel (release)"
        swift build -c release --product pgreel 2>&1 | tail -n 1 >&2
    fi
    PGREEL="$PROJECT_DIR/.build/release/pgreel"
    [[ -x "$PGREEL" ]] || die "no release build at $PGREEL"

    # --- PostgreSQL ---------------------------------------------------------------------------------------------
    start_bench_postgres 10 soak

    # --- pgreel ---------------------------------------------------------------------------------------------------
    PORT="$(free_port)"
    "$PGREEL" proxy --listen "127.0.0.1:$PORT" --upstream "postgres://postgres@127.0.0.1:$PGPORT/soak" \
        --sessions "$WORK/sessions" --quiet >"$WORK/pgreel.log" 2>&1 &
    PGREEL_PID=$!
    for _ in $(seq 1 100); do grep -q "127.0.0.1:$PORT" "$WORK/pgreel.log" 2>/dev/null && break; sleep 0.1; done
    grep -q "127.0.0.1:$PORT" "$WORK/pgreel.log" || die "pgreel did not start: $(cat "$WORK/pgreel.log")"

    # RSS (KiB) and open descriptors of pgreel, every SAMPLE seconds.
    (
        start=$(date +%s)
        while kill -0 "$PGREEL_PID" 2>/dev/null; do
            rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$PGREEL_PID/status" 2>/dev/null || echo 0)
            fds=$(ls "/proc/$PGREEL_PID/fd" 2>/dev/null | wc -l)
            echo "$(( $(date +%s) - start )) $rss $fds"
            sleep "$SAMPLE"
        done
    ) >"$WORK/samples.txt" &
    SAMPLER_PID=$!

    log "$CLIENTS clients, ${SECONDS_TOTAL}s, -M extended, tpcb-like@5 + select-only@5, through pgreel"
    set +e
    "$PGBENCH" -h 127.0.0.1 -p "$PORT" -U pseudo_user -n -M extended -c "$CLIENTS" -j "$THREADS" -T "$SECONDS_TOTAL" \
        -b tpcb-like@5 -b select-only@5 soak >"$WORK/pgbench.txt" 2>"$WORK/pgbench.err"
    PGBENCH_STATUS=$?
    echo "$PGBENCH_STATUS" >"$WORK/pgbench.status"
    set -e
    kill "$SAMPLER_PID" 2>/dev/null || true; wait "$SAMPLER_PID" 2>/dev/null || true; SAMPLER_PID=""
    # Stop pgreel so every session file is closed, then count.
    kill -TERM "$PGREEL_PID"; wait "$PGREEL_PID" 2>/dev/null || true; PGREEL_PID=""

fi
PGBENCH_STATUS="$(cat "$WORK/pgbench.status" 2>/dev/null || echo 0)"

failures=()
[[ $PGBENCH_STATUS == 0 ]] || failures+=("pgbench exited $PGBENCH_STATUS: $(tail -n 3 "$WORK/pgbench.err")")
total=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$WORK/pgbench.txt")
failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$WORK/pgbench.txt")
tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' "$WORK/pgbench.txt")
# Per script: " - 280096 transactions (50.1% of total, ...)" under "SQL script N: ...".
tpcb=$(awk '/^SQL script 1:/ {s = 1} s && /^ - [0-9]+ transactions/ {print $2; exit}' "$WORK/pgbench.txt")
selects=$(awk '/^SQL script 2:/ {s = 1} s && /^ - [0-9]+ transactions/ {print $2; exit}' "$WORK/pgbench.txt")
[[ "$tpcb" =~ ^[0-9]+$ && "$selects" =~ ^[0-9]+$ ]] || die "cannot read pgbench's output: $(head -c 2000 "$WORK/pgbench.txt")"
[[ "${failed:-0}" == 0 ]] || failures+=("$failed failed transactions")

# Count what the session files recorded: successful results of END and of SELECT abalance.
files=$(ls "$WORK/sessions"/*.json | wc -l)
read -r recorded_end recorded_select recorded_errors recorded_begin < <(
    for file in "$WORK/sessions"/*.json; do
        jq -r '
            ([.[] | select(.type == "query") | {key: (.data.query_number | tostring), value: .data.sql}] | from_entries) as $sql
            | [.[] | select(.type == "query_result")] as $results
            | [($results | map(select(.data.error == null and $sql[.data.query_number | tostring] == "END;")) | length),
               ($results | map(select(.data.error == null
                    and ($sql[.data.query_number | tostring] | startswith("SELECT abalance")))) | length),
               ($results | map(select(.data.error != null)) | length),
               ($results | map(select(.data.error == null and $sql[.data.query_number | tostring] == "BEGIN;")) | length)]
            | @tsv' "$file"
    done | awk '{e += $1; s += $2; x += $3; b += $4} END {print e, s, x, b}')
# Every transaction pgbench counts must be in the files. When the time is up, pgbench abandons the transaction
# each client has in flight (at most one per client, not counted): whatever of it ran is recorded too (a BEGIN
# without END, a SELECT, perhaps an END whose answer pgbench no longer read).
extra_end=$(( recorded_end - tpcb ))
(( extra_end >= 0 && extra_end <= CLIENTS )) || failures+=("recorded $recorded_end END for $tpcb tpcb-like transactions")
unfinished=$(( recorded_begin - recorded_end ))
extra=$(( recorded_select - tpcb - selects ))
(( unfinished >= 0 && extra >= 0 && unfinished + extra <= 2 * CLIENTS && extra <= CLIENTS )) ||
    failures+=("recorded $recorded_select SELECT abalance for $(( tpcb + selects )) transactions")
[[ "$recorded_errors" == 0 ]] || failures+=("$recorded_errors recorded errors")
closed=$(for file in "$WORK/sessions"/*.json; do jq -e 'length > 0' "$file" >/dev/null && echo ok; done | wc -l)
[[ "$closed" == "$files" ]] || failures+=("$(( files - closed )) session files are not valid JSON arrays")

# RSS and descriptors: first sample after warm-up, last, max.
warm=$(( SECONDS_TOTAL / 5 ))
read -r rss_first fds_first < <(awk -v w="$warm" '$1 >= w {print $2, $3; exit}' "$WORK/samples.txt")
read -r rss_last fds_last < <(awk 'END {print $2, $3}' "$WORK/samples.txt")
read -r rss_max fds_max < <(awk 'BEGIN {r = 0; f = 0} {if ($2 > r) r = $2; if ($3 > f) f = $3} END {print r, f}' "$WORK/samples.txt")
samples=$(wc -l <"$WORK/samples.txt")
(( rss_last <= rss_first * 125 / 100 + 16384 )) || failures+=("RSS grew after warm-up: ${rss_first} KiB -> ${rss_last} KiB")
(( fds_last == fds_first )) || failures+=("descriptors changed after warm-up: $fds_first -> $fds_last")

mkdir -p bench/results
report="bench/results/soak-$(date -u +%Y-%m-%d_%H-%M-%S).txt"
{
    echo "pgreel soak, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores"
    echo "workload: $CLIENTS clients, ${SECONDS_TOTAL}s, pgbench -M extended -b tpcb-like@5 -b select-only@5, scale 10"
    echo "transactions: $total (tpcb-like $tpcb, select-only $selects), failed ${failed:-?}, tps ${tps:-?}"
    echo "recorded: $files session files, $recorded_end END + $recorded_select SELECT abalance (pgbench counted $tpcb + $(( tpcb + selects )); from transactions abandoned when the time was up: $extra_end END, $extra SELECT, $unfinished BEGIN without END), $recorded_errors errors, $closed files closed as JSON arrays"
    echo "pgreel RSS (MiB): first after ${warm}s warm-up $(( rss_first / 1024 )), last $(( rss_last / 1024 )), max $(( rss_max / 1024 ))"
    echo "pgreel open descriptors: first after warm-up $fds_first, last $fds_last, max $fds_max ($samples samples, every ${SAMPLE}s)"
    echo "session files: $(du -sh "$WORK/sessions" | cut -f1)"
    if (( ${#failures[@]} == 0 )); then echo "result: PASS"; else printf 'result: FAIL: %s\n' "${failures[@]}"; fi
} | tee "$report"
(( ${#failures[@]} == 0 ))
