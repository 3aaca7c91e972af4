#!/usr/bin/env bash
# A receiver that hangs delays only its own channel: `hb serve` with two webhook
# channels created through the API, one pointing at a receiver that accepts the
# connection and never answers ("a-hang", created first, first by name), one at a
# healthy receiver that answers 200 at once and logs each arrival ("fine"). 200 checks
# (interval 1h) get a failure ping each, as fast as they can be sent (16 connections);
# the figure is the time from the first failure ping to the healthy receiver's 100th
# and 200th `down` alert. Target: all 200 within 2 s.
#
# Before that, a baseline on the same server: 200 other checks fail while "fine" is
# the only channel.
#
#   cargo build --release && bench/serve-hanging-receiver.sh
#
# Environment: HB_BIN (default target/release/hb), CHECKS (200),
# HB_SQLITE_SYNCHRONOUS (passed through; default FULL).
# Loopback only (the config file sets allow_private_targets = true so channels made
# through the API may reach 127.0.0.1). Needs python3 and curl. Takes about 15 s.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
bin=${HB_BIN:-$root/target/release/hb}
checks=${CHECKS:-200}
tool=(python3 "$here/benchtool.py")

[ -x "$bin" ] || { echo "serve-hanging-receiver: no hb binary at $bin (cargo build --release)" >&2; exit 2; }

tmp=$(mktemp -d)
server_pid=""
fine_pid=""
hang_pid=""
stop_pid() {
    local pid=$1
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    stop_pid "$server_pid"
    stop_pid "$fine_pid"
    stop_pid "$hang_pid"
    server_pid="" fine_pid="" hang_pid=""
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_receiver NAME SUBCOMMAND: sets ${NAME}_pid and prints the URL.
start_receiver() {
    local name=$1 sub=$2
    "${tool[@]}" "$sub" "$tmp/$name.log" --max-seconds 600 >"$tmp/$name.out" 2>"$tmp/$name.err" &
    printf -v "${name}_pid" %s $!
    for _ in $(seq 100); do grep -q '^receiving on ' "$tmp/$name.out" && break; sleep 0.05; done
    local url
    url=$(sed -n 's|^receiving on ||p' "$tmp/$name.out")
    [ -n "$url" ] || { echo "serve-hanging-receiver: the $name receiver did not start" >&2; cat "$tmp/$name.err" >&2; exit 1; }
    hooks[$name]="${url}hb"
}

# api METHOD PATH [JSON]: a management call; fails on a non-2xx answer.
api() {
    local args=(-sS -f -X "$1" "http://$addr$2")
    [ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' --data "$3")
    curl "${args[@]}"
}

count_lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }

declare -A hooks
start_receiver fine receive
start_receiver hang hang

echo "== hb serve: one webhook receiver hangs, $checks checks fail at once"
echo "machine: $(nproc) cores; $(uptime | sed 's/^ *//'); synchronous=${HB_SQLITE_SYNCHRONOUS:-FULL}"
"${tool[@]}" gen "$tmp/gen" --total $((2 * checks)) 2>/dev/null
head -n "$checks" "$tmp/gen/uuids-slow.txt" >"$tmp/baseline.txt"
tail -n +"$((checks + 1))" "$tmp/gen/uuids-slow.txt" >"$tmp/measured.txt"
{ echo "allow_private_targets = true"; echo; cat "$tmp/gen/hb.toml"; } >"$tmp/hb.toml"

: >"$tmp/out"
"$bin" serve --listen 127.0.0.1:0 --db "$tmp/hb.db" --config "$tmp/hb.toml" >"$tmp/out" 2>"$tmp/err" &
server_pid=$!
for _ in $(seq 600); do grep -q '^listening on ' "$tmp/out" && break; kill -0 "$server_pid" 2>/dev/null || break; sleep 0.05; done
addr=$(sed -n 's|^listening on http://||p' "$tmp/out" | head -n1)
[ -n "$addr" ] || { echo "serve-hanging-receiver: hb serve did not start" >&2; cat "$tmp/err" >&2; exit 1; }

api POST /api/v1/channels "{\"name\":\"fine\",\"kind\":\"webhook\",\"url\":\"${hooks[fine]}\"}" >/dev/null
# Every check starts up (one success ping each), so a failure ping is a change to down.
"${tool[@]}" ping "$addr" "$tmp/gen/uuids-slow.txt" --conns 16 2>/dev/null
sleep 1

# fail LABEL FILE: one failure ping per check in FILE; waits for the healthy receiver
# to hold $checks more down alerts (at most 30 s); prints the 1st, 100th and 200th.
fail() {
    local label=$1 file=$2
    local before t0
    before=$(count_lines "$tmp/fine.log")
    "${tool[@]}" ping "$addr" "$file" --conns 16 --suffix /fail --times "$tmp/times-$label" 2>"$tmp/ping-$label.err" \
        || { cat "$tmp/ping-$label.err" >&2; exit 1; }
    t0=$(cut -d' ' -f1 "$tmp/times-$label")
    "${tool[@]}" wait "$tmp/fine.log" $((before + checks)) --timeout 30 >/dev/null
    local hung
    hung=$(grep -c ' accept$' "$tmp/hang.log" 2>/dev/null || true)
    tail -n +"$((before + 1))" "$tmp/fine.log" >"$tmp/fine-$label.log"
    awk -v t0="$t0" -v l="$label" '{printf "%s: %d failure pings sent in %.0f ms\n", l, n, ($2 - t0) * 1000}' n="$(wc -l <"$file")" "$tmp/times-$label"
    "${tool[@]}" arrivals "$tmp/fine-$label.log" --event down --start "$t0" --label "$label: healthy receiver" 1 $((checks / 2)) "$checks"
    echo "$label: connections the hanging receiver had accepted by then: ${hung:-0}"
}

fail "baseline (\"fine\" the only channel)" "$tmp/baseline.txt"

api POST /api/v1/channels "{\"name\":\"a-hang\",\"kind\":\"webhook\",\"url\":\"${hooks[hang]}\"}" >/dev/null
# Make sure the channels exist as expected before the measured run.
api GET /api/v1/channels | python3 -c 'import json,sys; print("channels:", ", ".join(c["name"] + " -> " + c.get("url", "?") for c in json.load(sys.stdin)["channels"]))'
sleep 1
fail "with a hanging receiver" "$tmp/measured.txt"

sleep 1
curl -sf "http://$addr/metrics" | grep '^hb_alerts_total' | tr '\n' ' ' | sed 's/^/server: /; s/ $/\n/'
echo "hanging receiver: $(grep -c ' accept$' "$tmp/hang.log" || true) connections accepted, $(grep -c ' closed$' "$tmp/hang.log" || true) closed by hb so far"
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
