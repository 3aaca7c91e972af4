#!/usr/bin/env bash
# Reads never hold up pings: ping throughput of `hb serve` with 100,000 checks loaded
# (each pinged once first), wrk for 10 s on 64 connections (a random one of the
# 100,000 checks per request, as serve-load.sh does), measured
#   (a) alone,
#   (b) while 4 client threads GET /metrics in a loop,
#   (c) while 4 client threads GET /api/v1/heartbeats (the full list, ~68 MB) in a loop,
#   (d) while 4 busy loops outside hb take CPU: the control, the share of pings any CPU
#       load of that size would take on this machine (CONTROL=0 leaves it out),
#   (a') alone again, to see how much the machine drifted over the run.
# A 5 s wrk warm-up comes first and is not reported. ROUNDS=N repeats a-d N times
# (a1 b1 c1 d1 a2 ...), for a machine whose load moves.
# Prints pings/s for each, b/a and c/a (target >= 80 %), how many /metrics and list
# answers the readers completed and their median latency; per window, the CPU time of
# the machine, of hb (by thread) and of the benchmark's own processes, and the other
# processes that used the most (the machine may be shared). Last, with nothing else
# sent to hb: the CPU time and memory one /metrics and one list answer cost.
#
#   cargo build --release && bench/serve-reads.sh
#
# Environment: HB_BIN (default target/release/hb), CHECKS (100000), DURATION (10, in
# seconds), CONNECTIONS (64), THREADS (2), READERS (4), ROUNDS (1), CONTROL (1),
# HB_SQLITE_SYNCHRONOUS (passed through; default FULL).
# Loopback only. Needs wrk, curl and python3. Takes about two minutes.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
bin=${HB_BIN:-$root/target/release/hb}
checks=${CHECKS:-100000}
duration=${DURATION:-10}
connections=${CONNECTIONS:-64}
threads=${THREADS:-2}
readers=${READERS:-4}
rounds=${ROUNDS:-1}
control=${CONTROL:-1}
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
# (`times` must run in this shell, not in a $(...) subshell, so it writes to a file.)
children_cpu() { tail -n1 "$1" | awk '{n = 0; for (i = 1; i <= 2; i++) {split($i, a, /[ms]/); n += a[1] * 60 + a[2]}; print n}'; }
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

# run LABEL [WHAT]: wrk for $duration s; WHAT is nothing (pings alone), a path (then
# $readers reader threads GET it in a loop, starting 0.5 s before wrk and starting no
# request after it stops), or "burn" ($readers busy loops outside hb, the control).
declare -A rps
run() {
    local label=$1 what=${2:-}
    local c0 c1 m0 m1 k0 k1 burners=()
    if [ "$what" = burn ]; then
        for _ in $(seq "$readers"); do
            timeout "$(awk -v d="$duration" 'BEGIN {print d + 1}')" sh -c 'while :; do :; done' &
            burners+=($!)
        done
        sleep 0.5
    elif [ -n "$what" ]; then
        "${tool[@]}" read "$addr" "$what" --clients "$readers" --seconds "$(awk -v d="$duration" 'BEGIN {print d + 0.5}')" \
            >"$tmp/read-$label.txt" 2>"$tmp/read-$label.err" &
        reader_pid=$!
        sleep 0.5
    fi
    local load
    load=$(cut -d' ' -f1 /proc/loadavg)
    times >"$tmp/times0"
    "${tool[@]}" procsnap "$tmp/procs0"
    thread_ticks "$server_pid" >"$tmp/threads0"
    c0=$(cpu_ticks "$server_pid")
    m0=$(machine_ticks)
    wrk -t"$threads" -c"$connections" -d"${duration}s" --timeout 5s --latency \
        -s "$here/ping.lua" "http://$addr" -- "$tmp/uuids.txt" >"$tmp/wrk-$label.txt"
    c1=$(cpu_ticks "$server_pid")
    m1=$(machine_ticks)
    thread_ticks "$server_pid" >"$tmp/threads1"
    if [ "$what" = burn ]; then
        for pid in "${burners[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    elif [ -n "$what" ]; then
        wait "$reader_pid" || true
        reader_pid=""
    fi
    times >"$tmp/times1"
    "${tool[@]}" procsnap "$tmp/procs1"
    k0=$(children_cpu "$tmp/times0")
    k1=$(children_cpu "$tmp/times1")
    local result desc
    case "$what" in
        "") desc="pings alone" ;;
        burn) desc="pings while $readers busy loops outside hb take CPU (control)" ;;
        *) desc="pings while $readers readers GET $what" ;;
    esac
    result=$(grep '^RESULT ' "$tmp/wrk-$label.txt" | sed 's/^RESULT //')
    rps[$label]=$(echo "$result" | tr ' ' '\n' | sed -n 's/^rps=//p')
    echo "$result" | tr ' ' '\n' | awk -F= -v l="$label" -v desc="$desc" -v t=$((c1 - c0)) -v hz="$hz" -v load="$load" '
        {v[$1] = $2}
        END {
            printf "(%s) %s: %s pings/s, p50 %s ms, p99 %s ms, max %s ms; non-2xx %s, socket errors %d; load before %s\n", l, desc, v["rps"], v["p50_ms"], v["p99_ms"], v["max_ms"], v["non2xx"], v["connect_err"] + v["read_err"] + v["write_err"] + v["timeouts"], load
        }'
    # The readers may run on past the window (a request in flight at its end is let
    # finish), so "the rest" is only a hint when they do. Processes that start and end
    # within the window count in "the rest" but are not named.
    awk -v l="$label" -v t=$((c1 - c0)) -v m=$((m1 - m0)) -v k="$(awk -v a="$k0" -v b="$k1" 'BEGIN {print b - a}')" \
        -v hz="$hz" -v d="$duration" -v cores="$(nproc)" '
        FNR == NR {before[$1] = $3; next}
        {used[$2] += $3 - before[$1]}
        END {
            line = ""
            for (n in used) if (used[n] > 0) line = line sprintf(", %s %.1f s", n, used[n] / hz)
            printf "(%s) CPU in the %s s: machine %.1f s of %d s; hb %.1f s (by thread%s); wrk, readers, busy loops %.1f s; the rest about %.1f s\n", l, d, m / hz, d * cores, t / hz, line, k, m / hz - t / hz - k
        }' "$tmp/threads0" "$tmp/threads1"
    echo "($label) other processes using most CPU in the window: $("${tool[@]}" proctop "$tmp/procs0" "$tmp/procs1" --exclude "$$,$server_pid")"
    if [ -n "$what" ] && [ "$what" != burn ]; then
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

for r in $(seq "$rounds"); do
    sfx=$([ "$rounds" = 1 ] || echo "$r")
    run "a$sfx"
    run "b$sfx" /metrics
    run "c$sfx" /api/v1/heartbeats
    [ "$control" = 1 ] && run "d$sfx" burn
done
run "a'"

echo "-- summary"
for r in $(seq "$rounds"); do
    sfx=$([ "$rounds" = 1 ] || echo "$r")
    awk -v r="$sfx" -v a="${rps[a$sfx]}" -v b="${rps[b$sfx]}" -v c="${rps[c$sfx]}" -v d="${rps[d$sfx]:-}" 'BEGIN {
        printf "b%s/a%s (pings while reading /metrics): %.0f %%   c%s/a%s (pings while reading the list): %.0f %%   (target >= 80 %%)", r, r, b / a * 100, r, r, c / a * 100
        if (d != "") printf "   control d%s/a%s: %.0f %%", r, r, d / a * 100
        printf "\n"
    }'
done
awk -v a="${rps[a$([ "$rounds" = 1 ] || echo 1)]}" -v a2="${rps["a'"]}" 'BEGIN {printf "drift: a'"'"' (pings alone, repeated at the end) is %.0f %% of the first a\n", a2 / a * 100}'

# What one read costs hb, with nothing else sent to it: CPU time per answer (robust to
# other load on the machine, unlike the wall times) and memory.
echo "-- one read at a time, no pings"
rss() { awk -v k="$2" '$1 == k":" {printf "%.0f MB", $2 / 1024}' "/proc/$1/status"; }
sleep 1
echo "hb RSS before: $(rss "$server_pid" VmRSS) (peak so far $(rss "$server_pid" VmHWM))"
for spec in "/metrics 10" "/api/v1/heartbeats 2" "/healthz 100"; do
    set -- $spec
    c0=$(cpu_ticks "$server_pid")
    t0=$(date +%s%N)
    for _ in $(seq "$2"); do curl -sf -o /dev/null --max-time 60 "http://$addr$1"; done
    t1=$(date +%s%N)
    c1=$(cpu_ticks "$server_pid")
    awk -v p="$1" -v n="$2" -v t=$((c1 - c0)) -v hz="$hz" -v w=$((t1 - t0)) 'BEGIN {
        printf "%s: %d answers one after another, %.1f ms wall and %.1f ms of hb CPU each\n", p, n, w / 1e6 / n, t / hz * 1000 / n
    }'
done
echo "hb RSS after: $(rss "$server_pid" VmRSS) (peak $(rss "$server_pid" VmHWM))"
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
