#!/usr/bin/env bash
# Durable pings per second through three `hb serve` nodes on one PostgreSQL database,
# next to one node on PostgreSQL and one on SQLite in the same run. Prints figures;
# not a test. Needs wrk and a release build; PG_URL_1 and PG_URL_3 are two empty
# databases (one for the single node, one for the three).
#   PG_URL_1=postgres://hb@127.0.0.1:5432/one PG_URL_3=postgres://hb@127.0.0.1:5432/three bench/nodes.sh
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
bin=${HB_BIN:-$root/target/release/hb}
checks=${CHECKS:-10000}
duration=${DURATION:-10s}
connections=${CONNECTIONS:-64}
: "${PG_URL_1:?nodes: set PG_URL_1 to an empty PostgreSQL database}"
: "${PG_URL_3:?nodes: set PG_URL_3 to another empty PostgreSQL database}"
command -v wrk >/dev/null || { echo "nodes: wrk is needed (apt-get install wrk)" >&2; exit 2; }
[ -x "$bin" ] || { echo "nodes: no hb binary at $bin (cargo build --release)" >&2; exit 2; }

tmp=$(mktemp -d)
# Stops the nodes this script started, by their PIDs.
stop_all() {
    for f in "$tmp"/*.pid; do
        [ -e "$f" ] || continue
        kill -TERM "$(cat "$f")" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$(cat "$f")" 2>/dev/null || break; sleep 0.1; done
        rm -f "$f"
    done
}
cleanup() { stop_all; rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# Starts a node; prints its address.
start() {
    local db=$1 name=$2
    "$bin" serve --listen 127.0.0.1:0 --db "$db" --config "$tmp/gen/hb.toml" >"$tmp/$name.out" 2>"$tmp/$name.err" &
    echo $! >"$tmp/$name.pid"
    for _ in $(seq 600); do
        if grep -q '^listening on ' "$tmp/$name.out"; then
            sed -n 's|^listening on http://||p' "$tmp/$name.out" | head -n1
            return 0
        fi
        sleep 0.05
    done
    echo "nodes: node $name did not start:" >&2
    cat "$tmp/$name.err" >&2
    exit 1
}

# Runs wrk against each address at once (the connections split between them); prints
# the summed requests per second and the worst p99.
load() {
    local n=$# i=0 per=$((connections / $#))
    for addr in "$@"; do
        wrk -t1 -c"$per" -d"$duration" --timeout 5s --latency -s "$here/ping.lua" \
            "http://$addr" -- "$tmp/uuids.txt" >"$tmp/wrk-$i.txt" &
        i=$((i + 1))
    done
    wait
    cat "$tmp"/wrk-*.txt | sed -n 's/^RESULT //p' | tr ' ' '\n' | awk -F= -v n="$n" '
        $1 == "rps" {rps += $2}
        $1 == "p99_ms" && $2 > p99 {p99 = $2}
        $1 == "non2xx" {bad += $2}
        END {printf "%d node(s): %.0f pings/s in all, worst p99 %s ms, non-2xx %d\n", n, rps, p99, bad}'
    rm -f "$tmp"/wrk-*.txt
}

echo "== durable pings through several nodes: $checks checks, wrk $duration, $connections connections in all"
echo "machine: $(nproc) cores; $(uptime | sed 's/^ *//')"
python3 "$here/benchtool.py" gen "$tmp/gen" --total "$checks" 2>/dev/null
cp "$tmp/gen/uuids-slow.txt" "$tmp/uuids.txt"

addr=$(start "$tmp/hb.db" sqlite)
echo -n "SQLite, "; load "$addr"
stop_all

addr=$(start "$PG_URL_1" pg1)
echo -n "PostgreSQL, "; load "$addr"
stop_all

a=$(start "$PG_URL_3" n1)
b=$(start "$PG_URL_3" n2)
c=$(start "$PG_URL_3" n3)
echo -n "PostgreSQL, "; load "$a" "$b" "$c"
for addr in "$a" "$b" "$c"; do
    echo "  $addr: $(curl -sf "http://$addr/metrics" | grep -E '^hb_node_conflicts_total' || true)"
done
