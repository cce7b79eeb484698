#!/usr/bin/env bash
# `make bench-floor`: what a proxy costs on this machine before it does anything, next to pgreel.
#
# Runs pgbench -S (simple protocol) at 1 and 8 clients, interleaved round by round, through: a direct connection,
# pgbouncer (C, libevent), relay-floor (bench/relay-floor: a bare swift-nio relay, bytes in and the same bytes out,
# no parsing, no recording, the channel options pgreel uses), pgreel --no-record and pgreel recording. Prints the
# medians: TPS, ratio to pgbouncer, latency added per transaction, and the process's CPU per transaction split
# into user and kernel time. docs/performance.md ("The floor") explains what the figures show.
#
#   bash bench/floor.sh                 ROUNDS=5 DURATION=5 by default (about 4 minutes with the first build)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PROJECT_DIR="$PWD"
ROUNDS="${ROUNDS:-5}"
DURATION="${DURATION:-5}"
CLIENTS=(1 8)

# shellcheck source=bench/lib.sh
source bench/lib.sh
bench_workspace pgreel-floor

log "building pgreel and relay-floor (release)"
swift build -c release --product pgreel 2>&1 | tail -n 1 >&2
(cd bench/relay-floor && swift build -c release 2>&1 | tail -n 1 >&2)
PGREEL="$PROJECT_DIR/.build/release/pgreel"
FLOOR="$PROJECT_DIR/bench/relay-floor/.build/release/relay-floor"

start_bench_postgres 10
start_bench_pgbouncer
[[ -n "$BOUNCER_PORT" ]] || die "$BOUNCER_NOTE: the floor needs pgbouncer to compare with"

declare -A PORT_OF=([direct]="$PGPORT" [pgbouncer]="$BOUNCER_PORT")
declare -A PID_OF=([pgbouncer]="$BOUNCER_PID")
start() {  # name, command...
    local name="$1" port; shift
    port="$(free_port)"
    "$@" "$port" > "$WORK/$name.log" 2>&1 &
    PIDS+=($!); PID_OF[$name]=$!; PORT_OF[$name]="$port"
    wait_for_port "$port" || die "$name did not start: $(tail -n 3 "$WORK/$name.log")"
}
# exec: a backgrounded function runs in a subshell, and its pid must be the process measured.
floor_cmd() { exec "$FLOOR" "$1" "$PGPORT"; }
pgreel_cmd() {  # extra args..., port (last)
    local port="${*: -1}"
    exec "$PGREEL" proxy --listen "127.0.0.1:$port" --upstream "postgres://postgres@127.0.0.1:$PGPORT/bench" \
        --user postgres --sessions "$WORK/sessions-$port" --quiet "${@:1:$#-1}"
}
start relay_floor floor_cmd
start pgreel_norecord pgreel_cmd --no-record
start pgreel pgreel_cmd
TARGETS=(direct pgbouncer relay_floor pgreel_norecord pgreel)

RAW="$WORK/floor.csv"
for round in $(seq "$ROUNDS"); do
    for clients in "${CLIENTS[@]}"; do
        for target in "${TARGETS[@]}"; do
            read -r tps lat cpu user < <(pgbench_run simple "$clients" "$DURATION" "${PORT_OF[$target]}" \
                "${PID_OF[$target]:-}") || die "pgbench failed against $target"
            echo "$clients,$target,$tps,$lat,$cpu,$user" >> "$RAW"
            log "round $round c=$clients $target: $tps tps"
        done
    done
done

STAMP="$(date -u +%Y-%m-%d_%H-%M-%S)"
mkdir -p bench/results
python3 - "$RAW" "bench/results/floor-$STAMP.md" "$ROUNDS" "$DURATION" <<'PY'
import csv, statistics, sys
raw, out, rounds, duration = sys.argv[1:]
runs = {}
for clients, target, tps, lat, cpu, user in csv.reader(open(raw)):
    runs.setdefault((int(clients), target), []).append(
        (float(tps), float(lat), float(cpu) if cpu else None, float(user) if user else None))
def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None
lines = [f"pgbench -S, simple protocol, medians of {rounds} interleaved rounds of {duration} s", "",
         "| clients | target | tps | /pgbouncer | added µs/tx | CPU µs/tx | user | kernel |",
         "|---|---|---|---|---|---|---|---|"]
for clients in sorted({k[0] for k in runs}):
    direct_lat = med(r[1] for r in runs[(clients, "direct")])
    bouncer_tps = med(r[0] for r in runs[(clients, "pgbouncer")])
    for target in ["direct", "pgbouncer", "relay_floor", "pgreel_norecord", "pgreel"]:
        rows = runs[(clients, target)]
        tps, lat = med(r[0] for r in rows), med(r[1] for r in rows)
        cpu, user = med(r[2] for r in rows), med(r[3] for r in rows)
        name = {"relay_floor": "swift-nio relay (floor)", "pgreel_norecord": "pgreel --no-record"}.get(target, target)
        cells = [str(clients), name, f"{tps:.0f}", f"{tps / bouncer_tps:.2f}",
                 "" if target == "direct" else f"{(lat - direct_lat) * 1000:.1f}",
                 "" if cpu is None else f"{cpu:.1f}", "" if user is None else f"{user:.1f}",
                 "" if cpu is None else f"{cpu - user:.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
text = "\n".join(lines) + "\n"
open(out, "w").write(text)
print(text)
print(f"written to {out}")
PY
