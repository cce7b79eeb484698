# Shared by bench/run.sh, bench/floor.sh and scripts/soak.sh (sourced, not run): a working directory cleaned up on exit, a PostgreSQL
# of the bench's own, pgbouncer in session mode in front of it, and one pgbench run with the proxy's CPU time.
# Expects PROJECT_DIR; sets WORK, PIDS (processes to kill on exit), PGPORT, PGBENCH, PSQL, BOUNCER_PORT, BOUNCER_PID
# and BOUNCER_NOTE.

log() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
as_postgres() { if (( EUID == 0 )); then runuser -u postgres -- "$@"; else "$@"; fi; }
# A temporary directory named after $1, removed on exit with everything the bench started.
bench_workspace() {
    WORK="$(mktemp -d "/tmp/$1-XXXXXX")"
    chmod 755 "$WORK"
    PIDS=()
    trap bench_cleanup EXIT
}

bench_cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    stop_bench_postgres
    stop_bench_pgbouncer
    rm -rf "$WORK"
}

TICK="$(getconf CLK_TCK)"
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
user_ticks() { awk '{print $14}' "/proc/$1/stat"; }

PGBIN="$(pg_config --bindir 2>/dev/null || ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
PGBENCH="$PGBIN/pgbench"; PSQL="$PGBIN/psql"
[[ -x "$PGBENCH" ]] || PGBENCH="$(command -v pgbench)" || die "pgbench not found"

# A PostgreSQL in $WORK/pgdata tuned for benchmarks (no fsync, 300 connections), with a database $2 (default
# `bench`) at pgbench scale $1.
start_bench_postgres() {
    local scale="$1" database="${2:-bench}"
    PGPORT="$(free_port)"
    export PGREEL_PGDATA="$WORK/pgdata" PGREEL_DB_PORT="$PGPORT"
    bash "$PROJECT_DIR/scripts/db.sh" up >/dev/null
    as_postgres "$PSQL" -X -q -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres \
        -c "ALTER SYSTEM SET fsync = off" -c "ALTER SYSTEM SET synchronous_commit = off" \
        -c "ALTER SYSTEM SET full_page_writes = off" -c "ALTER SYSTEM SET max_connections = 300" \
        -c "CREATE DATABASE $database" >/dev/null
    bash "$PROJECT_DIR/scripts/db.sh" down >/dev/null && bash "$PROJECT_DIR/scripts/db.sh" up >/dev/null
    log "pgbench -i -s $scale"
    "$PGBENCH" -i -q -s "$scale" -h 127.0.0.1 -p "$PGPORT" -U postgres "$database" >/dev/null 2>&1
}

stop_bench_postgres() {
    PGREEL_PGDATA="$WORK/pgdata" PGREEL_DB_PORT="${PGPORT:-}" bash "$PROJECT_DIR/scripts/db.sh" down >/dev/null 2>&1 || true
}

# pgbouncer (session mode) in front of the bench database; installed with apt-get when missing and possible.
# Without it BOUNCER_PORT stays empty and BOUNCER_NOTE says why.
start_bench_pgbouncer() {
    BOUNCER_PORT=""; BOUNCER_PID=""; BOUNCER_NOTE=""
    if ! command -v pgbouncer >/dev/null 2>&1 && (( EUID == 0 )) && command -v apt-get >/dev/null 2>&1; then
        log "installing pgbouncer"
        (apt-get install -y -qq pgbouncer >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq pgbouncer; }) >/dev/null 2>&1 || true
    fi
    if ! command -v pgbouncer >/dev/null 2>&1; then
        BOUNCER_NOTE="pgbouncer not installed (apt-get install pgbouncer failed or not root)"
        log "$BOUNCER_NOTE"
        return 0
    fi
    BOUNCER_PORT="$(free_port)"
    mkdir -p "$WORK/bouncer"
    cat > "$WORK/bouncer/pgbouncer.ini" <<INI
[databases]
bench = host=127.0.0.1 port=$PGPORT dbname=bench
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BOUNCER_PORT
unix_socket_dir =
auth_type = trust
auth_file = $WORK/bouncer/users.txt
pool_mode = session
max_client_conn = 300
default_pool_size = 64
logfile = $WORK/bouncer/pgbouncer.log
pidfile = $WORK/bouncer/pgbouncer.pid
INI
    echo '"postgres" ""' > "$WORK/bouncer/users.txt"
    if (( EUID == 0 )); then chown -R postgres: "$WORK/bouncer"; fi
    as_postgres pgbouncer "$WORK/bouncer/pgbouncer.ini" >/dev/null 2>&1 &
    # The pgbouncer process itself, from its pid file ($! is a subshell or runuser, which burn no CPU).
    for _ in $(seq 50); do
        [[ -s "$WORK/bouncer/pgbouncer.pid" ]] && { BOUNCER_PID="$(cat "$WORK/bouncer/pgbouncer.pid")"; break; }
        sleep 0.1
    done
    [[ -n "$BOUNCER_PID" ]] || die "pgbouncer did not start (see $WORK/bouncer/pgbouncer.log)"
}

stop_bench_pgbouncer() {
    [[ -n "${BOUNCER_PID:-}" ]] && kill "$BOUNCER_PID" 2>/dev/null || true
    # Also a pgbouncer whose pid was never read (it failed to come up in time, or the script stopped early).
    pkill -f "$WORK/bouncer/pgbouncer.ini" 2>/dev/null || true
}

# Waits until something listens on 127.0.0.1:$1 (5 s at most).
wait_for_port() {
    for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
    return 1
}

# One pgbench -S run: mode clients seconds port [pid of the process in between]. Prints
# "tps latency_ms cpu_us_per_tx user_us_per_tx" (the last two empty without a pid).
pgbench_run() {
    local mode="$1" clients="$2" seconds="$3" port="$4" pid="${5:-}" threads out tps lat txs cpu="" user=""
    threads=$(( clients < 2 ? 1 : 2 ))
    local cpu_before=0 user_before=0
    if [[ -n "$pid" ]]; then cpu_before="$(cpu_ticks "$pid")"; user_before="$(user_ticks "$pid")"; fi
    out="$("$PGBENCH" -n -S -M "$mode" -c "$clients" -j "$threads" -T "$seconds" \
        -h 127.0.0.1 -p "$port" -U postgres bench 2>&1)" || { echo "$out" >&2; return 1; }
    tps="$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out" | tail -n 1)"
    lat="$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' <<<"$out")"
    txs="$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")"
    if [[ -n "$pid" ]]; then
        read -r cpu user < <(python3 -c "
t = max($txs, 1) * $TICK / 1e6
print(round(($(cpu_ticks "$pid") - $cpu_before) / t, 2), round(($(user_ticks "$pid") - $user_before) / t, 2))")
    fi
    echo "$tps $lat $cpu $user"
}
