#!/usr/bin/env bash
# Alerts of `hb serve` with 100,000 checks loaded:
#   - start-up time (process start until "listening on" is printed) and RSS, with
#     the database already holding the checks;
#   - CPU time used over 10 s when nothing is due;
#   - alert latency: 1,000 checks (interval 1s, grace 1s) pinged once, each due at
#     its last ping + 2 s; time from that deadline to the webhook arriving;
#   - a burst: 10,000 checks (cron "* * * * *", grace 1s) that all go down at the
#     same instant (the next minute + 1 s), one webhook channel: time until the
#     last alert arrives, alerts/s, duplicate event_ids at the receiver.
#
#   cargo build --release && bench/serve-alerts.sh
#
# Environment: HB_BIN (default target/release/hb), CHECKS (100000), FAST (1000),
# BURST (10000), HB_SQLITE_SYNCHRONOUS (passed through; default FULL).
# Loopback only. Needs python3. Takes one to two minutes (the burst waits for a
# minute boundary).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
bin=${HB_BIN:-$root/target/release/hb}
checks=${CHECKS:-100000}
fast=${FAST:-1000}
burst=${BURST:-10000}
tool=(python3 "$here/benchtool.py")
hz=$(getconf CLK_TCK)

[ -x "$bin" ] || { echo "serve-alerts: no hb binary at $bin (cargo build --release)" >&2; exit 2; }

tmp=$(mktemp -d)
server_pid=""
receiver_pid=""
stop_pid() {
    local pid=$1
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
stop_server() { stop_pid "$server_pid"; server_pid=""; }
cleanup() {
    stop_server
    stop_pid "$receiver_pid"
    receiver_pid=""
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ms() { date +%s%3N; }

# Starts hb serve on the database, with an optional config file; sets server_pid,
# addr and startup_ms (process start until "listening on" is printed).
start_server() {
    local config=${1:-}
    local args=(serve --listen 127.0.0.1:0 --db "$tmp/hb.db")
    [ -n "$config" ] && args+=(--config "$config")
    : >"$tmp/out"
    local t0
    t0=$(now_ms)
    "$bin" "${args[@]}" >"$tmp/out" 2>>"$tmp/err" &
    server_pid=$!
    for _ in $(seq 12000); do
        if grep -q '^listening on ' "$tmp/out"; then
            startup_ms=$(($(now_ms) - t0))
            addr=$(sed -n 's|^listening on http://||p' "$tmp/out" | head -n1)
            return 0
        fi
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.01
    done
    echo "serve-alerts: hb serve did not start:" >&2
    cat "$tmp/err" >&2
    exit 1
}

rss() { awk -v k="$2" '$1 == k":" {printf "%.1f MB", $2 / 1024}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

echo "== hb serve alerts: $checks checks ($fast interval 1s grace 1s, $burst cron * * * * * grace 1s)"
echo "machine: $(nproc) cores; $(uptime | sed 's/^ *//'); synchronous=${HB_SQLITE_SYNCHRONOUS:-FULL}"

"${tool[@]}" receive "$tmp/received.log" >"$tmp/receiver.out" 2>"$tmp/receiver.err" &
receiver_pid=$!
for _ in $(seq 100); do grep -q '^receiving on ' "$tmp/receiver.out" && break; sleep 0.05; done
hook=$(sed -n 's|^receiving on ||p' "$tmp/receiver.out")
[ -n "$hook" ] || { echo "serve-alerts: the receiver did not start" >&2; cat "$tmp/receiver.err" >&2; exit 1; }

"${tool[@]}" gen "$tmp/gen" --total "$checks" --fast "$fast" --burst "$burst" --webhook "$hook" 2>/dev/null

# First start: the config file creates the checks in an empty database.
start_server "$tmp/gen/hb.toml"
echo "start-up, empty database, config file declaring $checks checks: $startup_ms ms"
stop_server
start_server "$tmp/gen/hb.toml"
echo "start-up, database holding $checks checks, the same config file: $startup_ms ms"
stop_server
for run in 1 2 3; do
    start_server
    echo "start-up, database holding $checks checks, no config file (run $run): $startup_ms ms"
    [ "$run" = 3 ] || stop_server
done
sleep 1
echo "RSS after start-up: $(rss "$server_pid" VmRSS) (peak $(rss "$server_pid" VmHWM))"

# Idle: 1,000 checks up with deadlines an hour or more away, nothing due.
head -n 1000 "$tmp/gen/uuids-slow.txt" >"$tmp/idle.txt"
"${tool[@]}" ping "$addr" "$tmp/idle.txt" 2>/dev/null
sleep 1
c0=$(cpu_ticks "$server_pid")
sleep 10
c1=$(cpu_ticks "$server_pid")
awk -v t=$((c1 - c0)) -v hz="$hz" 'BEGIN {printf "idle CPU over 10 s: %.2f s of CPU time (%.2f %% of one core)\n", t / hz, t / hz / 10 * 100}'

# Alert latency: each fast check is due at its last ping + 2 s.
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
"${tool[@]}" ping "$addr" "$tmp/gen/uuids-fast.txt"
"${tool[@]}" wait "$tmp/received.log" "$fast" --timeout 60 >/dev/null
sleep 2
"${tool[@]}" alerts "$tmp/received.log" --group fast --label "alert latency ($fast checks)" --expect "$fast" --after 2

# Burst: ping the burst checks early in a minute; all are due at the next minute + 1 s.
while [ $((10#$(date +%S))) -lt 2 ] || [ $((10#$(date +%S))) -gt 30 ]; do sleep 0.5; done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
t_ping=$(date +%s)
"${tool[@]}" ping "$addr" "$tmp/gen/uuids-burst.txt" --conns 32
deadline=$(( (t_ping / 60 + 1) * 60 + 1 ))
if [ "$(date +%s)" -ge $((deadline - 1)) ]; then
    echo "serve-alerts: pinging the burst checks took past the minute boundary; figures below are not valid" >&2
fi
echo "burst: $burst checks due at $(date -u -d "@$deadline" +%H:%M:%SZ), $((deadline - $(date +%s))) s from now"
"${tool[@]}" wait "$tmp/received.log" $((fast + burst)) --timeout $((deadline - $(date +%s) + 60)) >/dev/null
sleep 3
"${tool[@]}" alerts "$tmp/received.log" --group burst --label "burst ($burst checks down at once)" --expect "$burst" --deadline "$deadline"
curl -sf "http://$addr/metrics" | grep '^hb_alerts_total' | tr '\n' ' ' | sed 's/^/server: /; s/ $/\n/'
echo "RSS at the end: $(rss "$server_pid" VmRSS) (peak $(rss "$server_pid" VmHWM))"
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
