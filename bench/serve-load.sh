#!/usr/bin/env bash
# Ping throughput of `hb serve`: a fresh database with 10,000 checks, wrk for 10 s on
# 64 connections, each request pinging a random one of the 10,000 checks. Runs once
# with synchronous=FULL (the default) and once with HB_SQLITE_SYNCHRONOUS=NORMAL.
#
#   cargo build --release && bench/serve-load.sh
#
# Environment: HB_BIN (default target/release/hb), CHECKS (10000), DURATION (10s),
# CONNECTIONS (64), THREADS (2), MODES ("FULL NORMAL"; add "postgres" with PG_URL set to an
# empty database, e.g. PG_URL=postgres://hb@127.0.0.1:5432/bench MODES="FULL postgres").
# Loopback only. Needs wrk and python3.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
bin=${HB_BIN:-$root/target/release/hb}
checks=${CHECKS:-10000}
duration=${DURATION:-10s}
connections=${CONNECTIONS:-64}
threads=${THREADS:-2}
modes=${MODES:-FULL NORMAL}

command -v wrk >/dev/null || { echo "serve-load: wrk is needed (apt-get install wrk)" >&2; exit 2; }
[ -x "$bin" ] || { echo "serve-load: no hb binary at $bin (cargo build --release)" >&2; exit 2; }

tmp=$(mktemp -d)
server_pid=""
stop_server() {
    if [ -n "$server_pid" ]; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=""
    fi
}
cleanup() { stop_server; rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# Starts hb serve on $1 (db) with optional config $2; sets server_pid and addr.
start_server() {
    local db=$1 config=${2:-}
    local args=(serve --listen 127.0.0.1:0 --db "$db")
    [ -n "$config" ] && args+=(--config "$config")
    : >"$tmp/out"
    "$bin" "${args[@]}" >"$tmp/out" 2>"$tmp/err" &
    server_pid=$!
    for _ in $(seq 600); do
        if grep -q '^listening on ' "$tmp/out"; then
            addr=$(sed -n 's|^listening on http://||p' "$tmp/out" | head -n1)
            return 0
        fi
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.05
    done
    echo "serve-load: hb serve did not start:" >&2
    cat "$tmp/err" >&2
    exit 1
}

echo "== hb serve ping throughput: $checks checks, wrk $duration, $connections connections, $threads threads"
echo "machine: $(nproc) cores; $(uptime | sed 's/^ *//')"
python3 "$here/benchtool.py" gen "$tmp/gen" --total "$checks" 2>/dev/null
cp "$tmp/gen/uuids-slow.txt" "$tmp/uuids.txt"

for mode in $modes; do
    db="$tmp/hb-$mode.db"
    if [ "$mode" = postgres ]; then
        db=${PG_URL:?serve-load: set PG_URL to an empty PostgreSQL database for MODES=postgres}
    fi
    export HB_SQLITE_SYNCHRONOUS=$mode
    start_server "$db" "$tmp/gen/hb.toml"
    # The checks are now in the database; serve them without the config file, as a
    # monitor would after its first start.
    stop_server
    start_server "$db"
    echo "-- synchronous=$mode (server pid $server_pid on $addr)"
    echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
    wrk -t"$threads" -c"$connections" -d"$duration" --timeout 5s --latency \
        -s "$here/ping.lua" "http://$addr" -- "$tmp/uuids.txt" >"$tmp/wrk-$mode.txt"
    echo "load after:  $(cut -d' ' -f1-3 /proc/loadavg)"
    result=$(grep '^RESULT ' "$tmp/wrk-$mode.txt" | sed 's/^RESULT //')
    pings=$(curl -sf "http://$addr/metrics" | awk '/^hb_pings_total/ {s += $2} END {print s + 0}')
    echo "$result" | tr ' ' '\n' | awk -F= -v m="$mode" '
        {v[$1] = $2}
        END {
            printf "synchronous=%s: %s req/s, p50 %s ms, p99 %s ms, max %s ms; %s requests in %s s\n", m, v["rps"], v["p50_ms"], v["p99_ms"], v["max_ms"], v["requests"], v["seconds"]
            printf "synchronous=%s: non-2xx %s, socket errors: connect %s, read %s, write %s, timeouts %s\n", m, v["non2xx"], v["connect_err"], v["read_err"], v["write_err"], v["timeouts"]
        }'
    echo "synchronous=$mode: pings counted by the server (/metrics): $pings"
    stop_server
    unset HB_SQLITE_SYNCHRONOUS
done
