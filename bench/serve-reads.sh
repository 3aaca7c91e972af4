#!/usr/bin/env bash
# Reads never hold up pings: ping throughput of `hb serve` with 100,000 checks loaded,
# wrk for 10 s on 64 connections (a random one of the 100,000 checks per request, as
# serve-load.sh does), measured
#   (a) alone,
#   (b) while 4 client threads GET /metrics in a loop,
#   (c) while 4 client threads GET /api/v1/heartbeats (the full list) in a loop,
#   (a') alone again, to see how much the machine drifted over the run.
# A 5 s wrk warm-up comes first and is not reported.
# Prints pings/s for each, b/a and c/a (target >= 80 %), and how many /metrics and list
# answers the readers completed, with their median latency; also the CPU time hb and
# the readers used during each window.
#
#   cargo build --release && bench/serve-reads.sh
#
# Environment: HB_BIN (default target/release/hb), CHECKS (100000), DURATION (10, in
# seconds), CONNECTIONS (64), THREADS (2), READERS (4), HB_SQLITE_SYNCHRONOUS (passed
# through; default FULL).
# Loopback only. Needs wrk and python3. Takes about a minute and a half.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
bin=${HB_BIN:-$root/target/release/hb}
checks=${CHECKS:-100000}
duration=${DURATION:-10}
connections=${CONNECTIONS:-64}
threads=${THREADS:-2}
readers=${READERS:-4}
tool=(python3 "$here/benchtool.py")
hz=$(getconf CLK_TCK)

command -v wrk >/dev/null || { echo "serve-reads: wrk is needed (apt-get install wrk)" >&2; exit 2; }
[ -x "$bin" ] || { echo "serve-reads: no hb binary at $bin (cargo build --release)" >&2; exit 2; }

tmp=$(mktemp -d)
server_pid=""
reader_pid=""
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
    stop_pid "$reader_pid"
    reader_pid=""
    stop_server
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Starts hb serve on the database, with an optional config file; sets server_pid and addr.
start_server() {
    local config=${1:-}
    local args=(serve --listen 127.0.0.1:0 --db "$tmp/hb.db")
    [ -n "$config" ] && args+=(--config "$config")
    : >"$tmp/out"
    "$bin" "${args[@]}" >"$tmp/out" 2>>"$tmp/err" &
    server_pid=$!
    for _ in $(seq 6000); do
        if grep -q '^listening on ' "$tmp/out"; then
            addr=$(sed -n 's|^listening on http://||p' "$tmp/out" | head -n1)
            return 0
        fi
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.02
    done
    echo "serve-reads: hb serve did not start:" >&2
    cat "$tmp/err" >&2
    exit 1
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# CPU ticks of hb's threads, one "tid name ticks" a line (a thread that ends within a
# window is not counted: tokio's blocking threads end after 10 s idle).
thread_ticks() {
    local t
    for t in /proc/"$1"/task/*; do
        printf '%s %s %s\n' "${t##*/}" "$(tr ' ' _ <"$t/comm" 2>/dev/null)" "$(sed 's/.*) //' "$t/stat" 2>/dev/null | awk '{print $12 + $13}')"
    done 2>/dev/null | awk 'NF == 3'
}
# CPU seconds used by this shell's finished children (wrk, the readers), from `times`.
children_cpu() { times | tail -n1 | awk '{n = 0; for (i = 1; i <= 2; i++) {split($i, a, /[ms]/); n += a[1] * 60 + a[2]}; print n}'; }
# Busy ticks of the whole machine (all cores), from /proc/stat.
machine_ticks() { awk '$1 == "cpu" {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }

echo "== hb serve: pings while reading, $checks checks, wrk ${duration}s, $connections connections, $threads threads, $readers readers"
echo "machine: $(nproc) cores; $(uptime | sed 's/^ *//'); synchronous=${HB_SQLITE_SYNCHRONOUS:-FULL}"
"${tool[@]}" gen "$tmp/gen" --total "$checks" 2>/dev/null
cp "$tmp/gen/uuids-slow.txt" "$tmp/uuids.txt"
# The config file creates the checks in an empty database; then serve them without it.
start_server "$tmp/gen/hb.toml"
stop_server
start_server
echo "server pid $server_pid on $addr"
# Every check pinged once, so the list and /metrics see checks that are up (with a
# last ping and a next due), as on a monitor in use.
"${tool[@]}" ping "$addr" "$tmp/uuids.txt" --conns 32 2>&1 | sed 's/^/setup: /'
list_bytes=$(curl -sf -o /dev/null -w '%{size_download}' "http://$addr/api/v1/heartbeats")
echo "setup: the list is $list_bytes bytes; /metrics is $(curl -sf "http://$addr/metrics" | wc -c) bytes"
sleep 1

# run LABEL [PATH]: wrk for $duration s, with $readers readers on PATH if given; the
# readers start 0.5 s before wrk and stop (start no new request) when it stops.
declare -A rps
run() {
    local label=$1 path=${2:-}
    local c0 c1 m0 m1 k0 k1
    if [ -n "$path" ]; then
        "${tool[@]}" read "$addr" "$path" --clients "$readers" --seconds "$(awk -v d="$duration" 'BEGIN {print d + 0.5}')" \
            >"$tmp/read-$label.txt" 2>"$tmp/read-$label.err" &
        reader_pid=$!
        sleep 0.5
    fi
    local load
    load=$(cut -d' ' -f1 /proc/loadavg)
    c0=$(cpu_ticks "$server_pid")
    m0=$(machine_ticks)
    k0=$(children_cpu)
    thread_ticks "$server_pid" >"$tmp/threads0"
    wrk -t"$threads" -c"$connections" -d"${duration}s" --timeout 5s --latency \
        -s "$here/ping.lua" "http://$addr" -- "$tmp/uuids.txt" >"$tmp/wrk-$label.txt"
    c1=$(cpu_ticks "$server_pid")
    m1=$(machine_ticks)
    thread_ticks "$server_pid" >"$tmp/threads1"
    if [ -n "$path" ]; then
        wait "$reader_pid" || true
        reader_pid=""
    fi
    k1=$(children_cpu)
    local result
    result=$(grep '^RESULT ' "$tmp/wrk-$label.txt" | sed 's/^RESULT //')
    rps[$label]=$(echo "$result" | tr ' ' '\n' | sed -n 's/^rps=//p')
    echo "$result" | tr ' ' '\n' | awk -F= -v l="$label" -v what="${path:-nothing else}" -v t=$((c1 - c0)) -v hz="$hz" -v d="$duration" -v load="$load" '
        {v[$1] = $2}
        END {
            printf "(%s) pings while reading %s: %s pings/s, p50 %s ms, p99 %s ms, max %s ms; non-2xx %s, socket errors %d; load before %s\n", l, what, v["rps"], v["p50_ms"], v["p99_ms"], v["max_ms"], v["non2xx"], v["connect_err"] + v["read_err"] + v["write_err"] + v["timeouts"], load
        }'
    # The readers may run on past the window (a request in flight at its end is let
    # finish), so "others" is only a hint when they do.
    awk -v l="$label" -v t=$((c1 - c0)) -v m=$((m1 - m0)) -v k="$(awk -v a="$k0" -v b="$k1" 'BEGIN {print b - a}')" \
        -v hz="$hz" -v d="$duration" -v cores="$(nproc)" '
        FNR == NR {before[$1] = $3; next}
        {used[$2] += $3 - before[$1]}
        END {
            line = ""
            for (n in used) line = line sprintf(", %s %.1f s", n, used[n] / hz)
            printf "(%s) CPU in the %s s: machine %.1f s of %d s; hb %.1f s (by thread%s); wrk and readers %.1f s; other processes about %.1f s\n", l, d, m / hz, d * cores, t / hz, line, k, m / hz - t / hz - k
        }' "$tmp/threads0" "$tmp/threads1"
    if [ -n "$path" ]; then
        sed -n 's/^RESULT //p' "$tmp/read-$label.txt" | tr ' ' '\n' | awk -F= -v l="$label" '
            {v[$1] = $2}
            END {
                printf "(%s) readers on %s: %s answers in %s s (%s/s; %s errors), median %s ms, p90 %s ms, max %s ms, %s bytes each; reader CPU %s s\n", l, v["path"], v["answers"], v["wall_s"], v["per_s"], v["errors"], v["p50_ms"], v["p90_ms"], v["max_ms"], v["bytes"], v["client_cpu_s"]
            }'
        sed 's/^/  /' "$tmp/read-$label.err"
    fi
}

# Warm-up (not reported): the first seconds of pings after the set-up run slower (the
# write-ahead log left by 100,000 set-up pings is checkpointed, pages come into cache).
wrk -t"$threads" -c"$connections" -d5s -s "$here/ping.lua" "http://$addr" -- "$tmp/uuids.txt" >/dev/null
sleep 1

run a
run b /metrics
run c /api/v1/heartbeats
run "a'"
awk -v a="${rps[a]}" -v b="${rps[b]}" -v c="${rps[c]}" -v a2="${rps["a'"]}" 'BEGIN {
    printf "b/a (pings while reading /metrics): %.0f %%   c/a (pings while reading the list): %.0f %%   (target >= 80 %%)\n", b / a * 100, c / a * 100
    printf "drift: a'"'"'/a %.0f %% (a'"'"' is the first run repeated at the end)\n", a2 / a * 100
}'
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
