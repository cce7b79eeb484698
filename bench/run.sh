#!/usr/bin/env bash
# `make bench`: pgreel side by side with a direct connection and pgbouncer, in one run, interleaved round by round.
#
# Starts its own PostgreSQL (fsync off, pgbench scale 10) in a temporary directory, pgreel (release build) with
# recording on and with --no-record, and pgbouncer in session mode (installed with apt-get when missing and
# possible). Prints one table of medians and writes it as CSV and Markdown under bench/results/.
#
#   ROUNDS=3 DURATION=3 bash bench/run.sh      (defaults)
#   SMOKE=1 bash bench/run.sh                  (a ~20-second check that the script still works: CI may run it)
#   BASELINE=/path/to/old/pgreel bash bench/run.sh
#                                              (an older build beside this one, interleaved round by round, recording
#                                              on: the before/after of a change measured in one run)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PROJECT_DIR="$PWD"

SMOKE="${SMOKE:-0}"
ROUNDS="${ROUNDS:-3}"
# 3 s per pgbench run keeps the whole bench under 10 minutes (3 modes x 3 client counts x 4 targets x 3 rounds).
DURATION="${DURATION:-3}"
MODES=(simple extended prepared)
CLIENTS=(1 8 32)
BIG_ROWS="${BIG_ROWS:-1000000}"
REPLAY_QUERIES="${REPLAY_QUERIES:-100000}"
FIDELITY_CLIENTS="${FIDELITY_CLIENTS:-50}"
FIDELITY_SECONDS="${FIDELITY_SECONDS:-10}"
if [[ "$SMOKE" == 1 ]]; then
    ROUNDS=1; DURATION=1; MODES=(extended); CLIENTS=(1 8); BIG_ROWS=20000; REPLAY_QUERIES=2000; FIDELITY_SECONDS=2
fi

# shellcheck source=bench/lib.sh
source bench/lib.sh
bench_workspace pgreel-bench

log "building pgreel (release)"
swift build -c release --product pgreel 2>&1 | tail -n 1 >&2
PGREEL="$PROJECT_DIR/.build/release/pgreel"

# --- PostgreSQL and pgbouncer ---------------------------------------------------------------------------------
SCALE=10; [[ "$SMOKE" == 1 ]] && SCALE=1
start_bench_postgres "$SCALE"
start_bench_pgbouncer

# --- pgreel -------------------------------------------------------------------------------------------------
BASELINE="${BASELINE:-}"
if [[ -n "$BASELINE" ]]; then
    [[ -x "$BASELINE" ]] || die "BASELINE=$BASELINE is not an executable pgreel"
    BASELINE="$(cd "$(dirname "$BASELINE")" && pwd)/$(basename "$BASELINE")"
fi
start_pgreel() {  # name, extra args... (BINARY=path runs another build)
    local name="$1"; shift
    local port; port="$(free_port)"
    # The pseudo user is named postgres too (trust), so one pgbench command line serves every target.
    "${BINARY:-$PGREEL}" proxy --listen "127.0.0.1:$port" --upstream "postgres://postgres@127.0.0.1:$PGPORT/bench" \
        --user postgres --sessions "$WORK/sessions-$name" --quiet "$@" > "$WORK/$name.log" 2>&1 &
    local pid=$!
    wait_for_port "$port" || die "pgreel ($name) did not start: $(tail -n 3 "$WORK/$name.log")"
    echo "$port $pid"
}
# start_pgreel runs in a subshell (process substitution): the parent records the pids it prints, for cleanup.
read -r REC_PORT REC_PID < <(start_pgreel record); PIDS+=("$REC_PID")
read -r NOREC_PORT NOREC_PID < <(start_pgreel norecord --no-record); PIDS+=("$NOREC_PID")

TARGETS=(direct)
declare -A PORT_OF=([direct]="$PGPORT" [pgreel]="$REC_PORT" [pgreel_norecord]="$NOREC_PORT")
declare -A PID_OF=([pgreel]="$REC_PID" [pgreel_norecord]="$NOREC_PID")
if [[ -n "$BOUNCER_PORT" ]]; then
    TARGETS+=(pgbouncer); PORT_OF[pgbouncer]="$BOUNCER_PORT"; PID_OF[pgbouncer]="$BOUNCER_PID"
fi
TARGETS+=(pgreel pgreel_norecord)
if [[ -n "$BASELINE" ]]; then
    read -r BASE_PORT BASE_PID < <(BINARY="$BASELINE" start_pgreel baseline); PIDS+=("$BASE_PID")
    TARGETS+=(baseline); PORT_OF[baseline]="$BASE_PORT"; PID_OF[baseline]="$BASE_PID"
fi

RAW="$WORK/raw.csv"
echo "round,mode,clients,target,tps,latency_ms,cpu_us_per_tx" > "$RAW"
for round in $(seq "$ROUNDS"); do
    for mode in "${MODES[@]}"; do
        for clients in "${CLIENTS[@]}"; do
            for target in "${TARGETS[@]}"; do
                read -r tps lat cpu _ < <(pgbench_run "$mode" "$clients" "$DURATION" "${PORT_OF[$target]}" \
                    "${PID_OF[$target]:-}") || die "pgbench failed against $target"
                echo "$round,$mode,$clients,$target,$tps,$lat,$cpu" >> "$RAW"
                log "round $round $mode c=$clients $target: $tps tps"
            done
        done
    done
done

# --- big results: 1M-row SELECT and COPY in/out ---------------------------------------------------------------
read -r BIG_PORT BIG_PID < <(start_pgreel big); PIDS+=("$BIG_PID")
BIG_TARGETS=(direct pgreel)
declare -A BIG_PORT_OF=([direct]="$PGPORT" [pgreel]="$BIG_PORT")
if [[ -n "$BASELINE" ]]; then
    read -r BIG_BASE_PORT BIG_BASE_PID < <(BINARY="$BASELINE" start_pgreel bigbaseline); PIDS+=("$BIG_BASE_PID")
    BIG_TARGETS+=(baseline); BIG_PORT_OF[baseline]="$BIG_BASE_PORT"
fi
BIGRAW="$WORK/big.csv"
echo "test,target,seconds" > "$BIGRAW"
timed() { local start end; start="$(date +%s.%N)"; "$@" >/dev/null; end="$(date +%s.%N)"; python3 -c "print(round($end - $start, 3))"; }
"$PSQL" -X -q -h 127.0.0.1 -p "$PGPORT" -U postgres -d bench \
    -c "DROP TABLE IF EXISTS big_in" -c "CREATE TABLE big_in (id int, name text, value float8)" \
    -c "\\copy (SELECT g, 'name ' || g, g * 1.5 FROM generate_series(1, $BIG_ROWS) g) TO '$WORK/big.tsv'"
for round in $(seq "$ROUNDS"); do
    for target in "${BIG_TARGETS[@]}"; do
        port="${BIG_PORT_OF[$target]}"
        q=(-X -q -h 127.0.0.1 -p "$port" -U postgres -d bench)
        echo "select,$target,$(timed "$PSQL" "${q[@]}" -c "SELECT g, md5(g::text) FROM generate_series(1, $BIG_ROWS) g")" >> "$BIGRAW"
        "$PSQL" "${q[@]}" -c "TRUNCATE big_in" >/dev/null
        echo "copy_in,$target,$(timed "$PSQL" "${q[@]}" -c "\\copy big_in FROM '$WORK/big.tsv'")" >> "$BIGRAW"
        echo "copy_out,$target,$(timed "$PSQL" "${q[@]}" -c "\\copy big_in TO '$WORK/big.out'")" >> "$BIGRAW"
        log "round $round big $target done"
    done
done
BIG_RSS_KB="$(awk '/VmHWM/ {print $2}' "/proc/$BIG_PID/status")"
BASE_RSS_KB=""; [[ -n "$BASELINE" ]] && BASE_RSS_KB="$(awk '/VmHWM/ {print $2}' "/proc/$BIG_BASE_PID/status")"

# --- replay: a recorded pgbench session replayed vs pgbench's own one-connection rate -------------------------
REPLAY_NOTE=""
if "$PGREEL" replay --help >/dev/null 2>&1; then
    read -r REPLAY_REC_PORT REPLAY_REC_PID < <(start_pgreel replayrec); PIDS+=("$REPLAY_REC_PID")
    "$PGBENCH" -n -S -M prepared -c 1 -t "$REPLAY_QUERIES" -h 127.0.0.1 -p "$REPLAY_REC_PORT" -U postgres bench >/dev/null 2>&1
    sleep 1
    direct_out="$("$PGBENCH" -n -S -M prepared -c 1 -t "$REPLAY_QUERIES" -h 127.0.0.1 -p "$PGPORT" -U postgres bench 2>&1)"
    PGBENCH_ONE_TPS="$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$direct_out" | tail -n 1)"
    file="$(ls -S "$WORK"/sessions-replayrec/*.json | head -n 1)"
    start="$(date +%s.%N)"
    "$PGREEL" replay "$file" --db-url "postgres://postgres@127.0.0.1:$PGPORT/bench" --quiet >/dev/null 2>&1 || true
    end="$(date +%s.%N)"
    REPLAY_QPS="$(python3 -c "print(round($REPLAY_QUERIES / ($end - $start), 1))")"
    if [[ -n "$BASELINE" ]]; then
        start="$(date +%s.%N)"
        "$BASELINE" replay "$file" --db-url "postgres://postgres@127.0.0.1:$PGPORT/bench" --quiet >/dev/null 2>&1 || true
        end="$(date +%s.%N)"
        BASE_REPLAY_QPS="$(python3 -c "print(round($REPLAY_QUERIES / ($end - $start), 1))")"
    fi
else
    REPLAY_NOTE="pgreel replay not available in this build"
fi

# --- replay timing fidelity: 50 concurrent pgbench sessions recorded, then replayed at recorded timing ---------
# pgreplay's measure: how late queries were sent after their recorded time (p95, max), and the queries per second
# achieved against those the recording had. Target: lag p95 <= 5 ms.
FIDELITY_LINE=""
if "$PGREEL" replay --help 2>&1 | grep -q -- --concurrency; then
    read -r FIDELITY_PORT FIDELITY_PID < <(start_pgreel fidelity); PIDS+=("$FIDELITY_PID")
    "$PGBENCH" -n -S -c "$FIDELITY_CLIENTS" -j 2 -T "$FIDELITY_SECONDS" -h 127.0.0.1 -p "$FIDELITY_PORT" -U postgres bench \
        >/dev/null 2>&1
    kill -TERM "$FIDELITY_PID" 2>/dev/null || true; wait "$FIDELITY_PID" 2>/dev/null || true
    "$PGREEL" replay "$WORK/sessions-fidelity" --db-url "postgres://postgres@127.0.0.1:$PGPORT/bench" --realtime \
        --quiet --report "$WORK/fidelity.json" >/dev/null 2>&1 || true
    FIDELITY_LINE="$(python3 - "$WORK/fidelity.json" <<'PY' || true
import json, sys
schedule = json.load(open(sys.argv[1]))["schedule"]
lag = schedule.get("lag") or {}
print(f"{schedule['sessions']} sessions, at most {schedule['concurrency']} at once; late p50 {lag.get('p50_ms')} ms, "
      f"p95 {lag.get('p95_ms')} ms, max {lag.get('max_ms')} ms; {schedule.get('achieved_qps')} queries/s achieved "
      f"vs {schedule.get('scheduled_qps')} scheduled|{lag.get('p95_ms')}")
PY
)"
    log "replay fidelity: ${FIDELITY_LINE%%|*}"
fi

# --- monitor vs headless ---------------------------------------------------------------------------------------
MONITOR_NOTE=""
if [[ -x bench/monitor-flood.sh ]] && "$PGREEL" monitor --help >/dev/null 2>&1; then
    log "monitor vs headless (bench/monitor-flood.sh)"
    MONITOR_LINE="$(PGREEL_BINARY="$PGREEL" BENCH_ROUNDS="$ROUNDS" BENCH_SECONDS="$(( DURATION < 5 ? 5 : DURATION ))" \
        bash bench/monitor-flood.sh 2>/dev/null | sed -n 's/^RESULT //p' | tail -n 1 || true)"
    [[ -n "$MONITOR_LINE" ]] || MONITOR_NOTE="bench/monitor-flood.sh failed"
else
    MONITOR_NOTE="pgreel monitor not available in this build"
fi

# --- display cost: showing a value costs what is shown, whatever its size --------------------------------------
log "display cost (pgreel-display-bench)"
swift build -c release --product pgreel-display-bench 2>&1 | tail -n 1 >&2
DISPLAY_ITERATIONS=21; [[ "$SMOKE" == 1 ]] && DISPLAY_ITERATIONS=3
DISPLAY_BENCH_ITERATIONS="$DISPLAY_ITERATIONS" "$PROJECT_DIR/.build/release/pgreel-display-bench" > "$WORK/display.md" \
    || echo "pgreel-display-bench failed" > "$WORK/display.md"

# --- report ----------------------------------------------------------------------------------------------------
STAMP="$(date -u +%Y-%m-%d_%H-%M-%S)"
# A smoke run only checks the script: its figures do not go into bench/results.
RESULTS=bench/results; [[ "$SMOKE" == 1 ]] && RESULTS="$WORK"
mkdir -p "$RESULTS"
python3 bench/report.py "$RAW" "$BIGRAW" "$RESULTS/$STAMP" \
    --big-rss-kb "$BIG_RSS_KB" --bouncer-note "$BOUNCER_NOTE" \
    --baseline "$BASELINE" --baseline-rss-kb "$BASE_RSS_KB" --baseline-replay-qps "${BASE_REPLAY_QPS:-}" \
    --replay-qps "${REPLAY_QPS:-}" --pgbench-one-tps "${PGBENCH_ONE_TPS:-}" --replay-note "$REPLAY_NOTE" \
    --monitor-line "${MONITOR_LINE:-}" --monitor-note "$MONITOR_NOTE" --display "$WORK/display.md" \
    --fidelity-line "${FIDELITY_LINE:-}" \
    --rounds "$ROUNDS" --duration "$DURATION" --big-rows "$BIG_ROWS"
