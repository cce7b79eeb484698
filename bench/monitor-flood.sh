#!/usr/bin/env bash
# The dashboard under a flood: pgbench -S with 8 clients for 10 seconds through `pgreel proxy --quiet` (headless),
# then through `pgreel monitor` (in a tmux terminal), against a PostgreSQL this script starts on its own.
# Prints the TPS of both and their ratio, how fast the dashboard answered keys during the flood, the events it
# dropped, and the monitor's peak memory (VmHWM).
#
#   bash bench/monitor-flood.sh          (PGREEL_BINARY=... to pick the build; default .build/release, else debug)
#   (compare release builds for figures that mean something: a debug build spends far more per event)
#   BENCH_ROUNDS=3 bash bench/monitor-flood.sh     (alternating rounds; medians are reported)
#   BENCH_SECONDS=30 BENCH_CLIENTS=16 bash bench/monitor-flood.sh
#
# Not a test: throughput on a shared machine is noisy. Everything runs on 127.0.0.1 and stops by itself.
set -euo pipefail

PROJECT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SECONDS_PER_RUN="${BENCH_SECONDS:-10}"
CLIENTS="${BENCH_CLIENTS:-8}"
ROUNDS="${BENCH_ROUNDS:-1}"

say() { printf 'bench: %s\n' "$*"; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

PGREEL="${PGREEL_BINARY:-}"
if [[ -z "$PGREEL" ]]; then
    for candidate in "$PROJECT_DIR/.build/release/pgreel" "$PROJECT_DIR/.build/debug/pgreel"; do
        # A build from before the dashboard existed does not count.
        [[ -x "$candidate" ]] && "$candidate" monitor --help 2>&1 | grep -q -- --history && { PGREEL="$candidate"; break; }
    done
fi
[[ -n "$PGREEL" && -x "$PGREEL" ]] || die "no pgreel binary: run 'swift build' first, or set PGREEL_BINARY"
command -v tmux >/dev/null || die "tmux is needed (apt-get install tmux)"

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' \
        2>/dev/null || echo $((20000 + RANDOM % 20000))
}
wait_for_port() {
    local port="$1" tries=0
    until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
        tries=$((tries + 1))
        (( tries < 300 )) || die "nothing listens on 127.0.0.1:$port after 30 s"
        sleep 0.1
    done
}

WORK="$(mktemp -d /tmp/pgreel-bench-XXXXXX)"
chmod 755 "$WORK"
DB_PORT="$(free_port)"
export PGREEL_DB_PORT="$DB_PORT" PGREEL_PGDATA="$WORK/pgdata"
TMUX_SOCKET="pgreel-bench-$$"
PROXY_PID=""
SESSION_COUNTER=0

cleanup() {
    [[ -n "$PROXY_PID" ]] && kill "$PROXY_PID" 2>/dev/null || true
    tmux -L "$TMUX_SOCKET" kill-server 2>/dev/null || true
    bash "$PROJECT_DIR/scripts/db.sh" down >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

say "PostgreSQL on 127.0.0.1:$DB_PORT (data in $WORK)"
bash "$PROJECT_DIR/scripts/db.sh" up >/dev/null
BIN="$(dirname "$(readlink -f "$(command -v pg_ctl 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/pg_ctl | sort -V | tail -n 1)")")"
PGBENCH="$BIN/pgbench"
[[ -x "$PGBENCH" ]] || PGBENCH="$(command -v pgbench)" || die "pgbench not found (apt-get install postgresql-contrib)"
"$PGBENCH" -i -q -s 1 -h 127.0.0.1 -p "$DB_PORT" -U postgres postgres >/dev/null 2>&1 || die "pgbench -i failed"
UPSTREAM="postgres://postgres@127.0.0.1:$DB_PORT/postgres"

# CPU seconds (user + system) a process has used so far.
cpu_seconds() {
    awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0
}

run_pgbench() {
    "$PGBENCH" -S -n -c "$CLIENTS" -j 2 -T "$SECONDS_PER_RUN" -h 127.0.0.1 -p "$1" -U pseudo_user postgres 2>&1 \
        | sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p'
}

# Both kinds of round start pgreel the same way, in a window of the same tmux server, so that they run under the
# same scheduling conditions (Linux groups a session's processes for fair CPU sharing: a proxy started from this
# script would share its group with pgbench, one started by tmux would not).
start_in_tmux() {  # name, command...
    local name="$1"; shift
    tmux -u -L "$TMUX_SOCKET" new-session -d -s "$name" -x 120 -y 40 "exec env LANG=C.UTF-8 $*"
    tmux -L "$TMUX_SOCKET" display-message -p -t "$name" '#{pane_pid}'
}

# One headless round: prints "TPS CPU-SECONDS".
headless_round() {
    local port name pid tps cpu
    port="$(free_port)"
    SESSION_COUNTER=$((SESSION_COUNTER + 1))
    name="headless$SESSION_COUNTER"
    pid="$(start_in_tmux "$name" "'$PGREEL' proxy --quiet --listen 127.0.0.1:$port --upstream '$UPSTREAM'" \
        "--sessions '$WORK/sessions-proxy' > '$WORK/proxy.log' 2>&1")"
    wait_for_port "$port"
    tps="$(run_pgbench "$port")"
    cpu="$(cpu_seconds "$pid")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    [[ -n "$tps" ]] || die "pgbench through the headless proxy failed"
    echo "$tps $cpu"
}

# One dashboard round in a 120x40 tmux terminal: sets ROUND_RESULT to "TPS CPU-SECONDS" and the PEAK_KB and SCREEN
# globals. With PROBE_KEYS=1, Tab is pressed about once a second while the flood runs and the time until the
# focused pane changes on screen is measured (the probing itself costs CPU, so throughput rounds do not probe).
monitor_round() {
    local port name pid bench_pid probe="${1:-0}"
    port="$(free_port)"
    SESSION_COUNTER=$((SESSION_COUNTER + 1))
    name="bench$SESSION_COUNTER"
    pid="$(start_in_tmux "$name" "'$PGREEL' monitor --listen 127.0.0.1:$port --upstream '$UPSTREAM'" \
        "--sessions '$WORK/sessions-monitor'")"
    wait_for_port "$port"
    run_pgbench "$port" >"$WORK/tps-monitor" &
    bench_pid=$!
    focused() { tmux -L "$TMUX_SOCKET" capture-pane -p -t "$name" | grep -o '─▶ [A-Z][a-z]*' | head -n 1; }
    sleep 1
    local presses=0 before start answered elapsed
    while (( probe )) && kill -0 "$bench_pid" 2>/dev/null && (( presses < SECONDS_PER_RUN - 2 )); do
        before="$(focused)"
        start=$(date +%s%N)
        tmux -L "$TMUX_SOCKET" send-keys -t "$name" Tab
        answered=0
        for _ in $(seq 1 100); do
            sleep 0.02
            if [[ "$(focused)" != "$before" ]]; then answered=1; break; fi
        done
        elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
        if (( answered )); then
            (( elapsed > KEY_WORST_MS )) && KEY_WORST_MS=$elapsed
            KEY_TIMES+=("$elapsed")
            KEY_ANSWERED=$((KEY_ANSWERED + 1))
        fi
        KEY_PRESSES=$((KEY_PRESSES + 1))
        presses=$((presses + 1))
        sleep 0.5
    done
    wait "$bench_pid" || true
    local tps cpu peak
    tps="$(cat "$WORK/tps-monitor")"
    cpu="$(cpu_seconds "$pid")"
    SCREEN="$(tmux -L "$TMUX_SOCKET" capture-pane -p -t "$name")"
    peak="$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)"
    [[ "$peak" =~ ^[0-9]+$ ]] && (( peak > PEAK_KB )) && PEAK_KB=$peak
    # q, and then a kill: a dashboard still folding in the flood's last events may see connections open and ask
    # before quitting, and a leftover would take CPU from the next round.
    tmux -L "$TMUX_SOCKET" send-keys -t "$name" q
    sleep 0.5
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    [[ -n "$tps" ]] || die "pgbench through the monitor failed"
    ROUND_RESULT="$tps $cpu"
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

KEY_PRESSES=0
KEY_ANSWERED=0
KEY_WORST_MS=0
KEY_TIMES=()
PEAK_KB=0
SCREEN=""
HEADLESS=()
MONITOR=()
for round in $(seq 1 "$ROUNDS"); do
    say "round $round/$ROUNDS: pgbench -S -c $CLIENTS -T $SECONDS_PER_RUN through pgreel proxy --quiet ..."
    HEADLESS+=("$(headless_round)")
    say "round $round/$ROUNDS: pgbench -S -c $CLIENTS -T $SECONDS_PER_RUN through pgreel monitor ..."
    monitor_round 0
    MONITOR+=("$ROUND_RESULT")
done
say "one more flood through pgreel monitor, pressing Tab about once a second ..."
monitor_round 1

# CPU per transaction is steadier than TPS on a machine shared with other work.
per_tx() { awk '{ printf "%.0f\n", $2 * 1e6 / ($1 * '"$SECONDS_PER_RUN"') }'; }
TPS_PROXY="$(printf '%s\n' "${HEADLESS[@]}" | awk '{ print $1 }' | median)"
TPS_MONITOR="$(printf '%s\n' "${MONITOR[@]}" | awk '{ print $1 }' | median)"
US_PROXY="$(printf '%s\n' "${HEADLESS[@]}" | per_tx | median)"
US_MONITOR="$(printf '%s\n' "${MONITOR[@]}" | per_tx | median)"
RATIO="$(awk -v m="$TPS_MONITOR" -v p="$TPS_PROXY" 'BEGIN { printf "%.3f", m / p }')"
DROPPED="$(grep -o '⚠ [0-9,]* events dropped' <<<"$SCREEN" | head -n 1 || true)"
QUERIES="$(grep -o '[0-9,]* queries' <<<"$SCREEN" | head -n 1 || true)"

echo
echo "pgbench -S, $CLIENTS clients, $SECONDS_PER_RUN s per run, $ROUNDS round(s), medians"
echo "  build: $PGREEL"
printf '  %-30s %s\n' "pgreel proxy --quiet" "$TPS_PROXY tps   (runs: $(printf '%s ' "${HEADLESS[@]}" | awk '{ for (i = 1; i <= NF; i += 2) printf "%.0f ", $i }'))"
printf '  %-30s %s\n' "pgreel monitor (tmux 120x40)" "$TPS_MONITOR tps   (runs: $(printf '%s ' "${MONITOR[@]}" | awk '{ for (i = 1; i <= NF; i += 2) printf "%.0f ", $i }'))"
printf '  %-30s %s\n' "monitor / headless" "$RATIO   (1.000 = no cost; the goal is >= 0.900)"
printf '  %-30s %s\n' "pgreel CPU per transaction" "headless ${US_PROXY} µs, monitor ${US_MONITOR} µs"
# The time is until the change shows in `tmux capture-pane`, polled every 20 ms by this script (itself short of CPU
# during the flood), so it is an upper bound of what the dashboard takes.
KEY_MEDIAN_MS=0
if (( ${#KEY_TIMES[@]} > 0 )); then
    KEY_MEDIAN_MS="$(printf '%s\n' "${KEY_TIMES[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')"
fi
printf '  %-30s %s\n' "keys answered during flood" \
    "$KEY_ANSWERED of $KEY_PRESSES, median ${KEY_MEDIAN_MS} ms, slowest ${KEY_WORST_MS} ms (until seen in capture-pane)"
printf '  %-30s %s\n' "monitor peak RSS (VmHWM)" "$((PEAK_KB / 1024)) MiB"
printf '  %-30s %s\n' "last dashboard screen" "${QUERIES:-?} seen, ${DROPPED:-no events dropped}"
# One line for bench/run.sh.
echo "RESULT headless_tps=$TPS_PROXY monitor_tps=$TPS_MONITOR ratio=$RATIO headless_us=$US_PROXY" \
    "monitor_us=$US_MONITOR keys=$KEY_ANSWERED/$KEY_PRESSES median_key_ms=$KEY_MEDIAN_MS slowest_ms=$KEY_WORST_MS peak_mib=$((PEAK_KB / 1024))" \
    "dropped=$(grep -o '[0-9,]*' <<<"${DROPPED:-0}" | tr -d , | head -n 1)"
