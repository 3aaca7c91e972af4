#!/usr/bin/env bash
# Deadline -> webhook latency across three `hb serve` nodes on one PostgreSQL database
# (10,000 checks due within a couple of seconds of each other), then the same with
# one node killed (kill -9) while it is delivering: how long until the others have
# delivered everything, and how many deliveries were repeated. Prints figures; not a
# test. Needs a release build and an empty database:
#   PG_URL=postgres://hb@127.0.0.1:5432/alerts bench/nodes-alerts.sh
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
bin=${HB_BIN:-$root/target/release/hb}
checks=${CHECKS:-10000}
: "${PG_URL:?nodes-alerts: set PG_URL to an empty PostgreSQL database}"
[ -x "$bin" ] || { echo "nodes-alerts: no hb binary at $bin (cargo build --release)" >&2; exit 2; }
tool=(python3 "$here/benchtool.py")

tmp=$(mktemp -d)
stop_pid() {
    local pid=$1
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
    [ -n "${KEEP_LOGS:-}" ] && cp "$tmp"/*.err "$KEEP_LOGS"/ 2>/dev/null;
    for f in "$tmp"/*.pid; do [ -e "$f" ] && stop_pid "$(cat "$f")"; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start() {
    local name=$1
    "$bin" serve --listen 127.0.0.1:0 --db "$PG_URL" --config "$tmp/gen/hb.toml" >"$tmp/$name.out" 2>"$tmp/$name.err" &
    echo $! >"$tmp/$name.pid"
    for _ in $(seq 1200); do
        if grep -q '^listening on ' "$tmp/$name.out"; then
            sed -n 's|^listening on http://||p' "$tmp/$name.out" | head -n1
            return 0
        fi
        sleep 0.05
    done
    echo "nodes-alerts: node $name did not start:" >&2
    cat "$tmp/$name.err" >&2
    exit 1
}

echo "== alerts across three nodes on PostgreSQL: $checks checks, interval 1s, grace 1s"
echo "machine: $(nproc) cores; $(uptime | sed 's/^ *//')"
"${tool[@]}" receive "$tmp/received.log" >"$tmp/receiver.out" 2>"$tmp/receiver.err" &
echo $! >"$tmp/receiver.pid"
for _ in $(seq 100); do grep -q '^receiving on ' "$tmp/receiver.out" && break; sleep 0.05; done
hook=$(sed -n 's|^receiving on ||p' "$tmp/receiver.out")
"${tool[@]}" gen "$tmp/gen" --total "$checks" --fast "$checks" --webhook "$hook" 2>/dev/null
split -n l/3 "$tmp/gen/uuids-fast.txt" "$tmp/part-"

a=$(start n1)
if [ "${NODES:-3}" = 1 ]; then
    b=$a c=$a
else
    b=$(start n2)
    c=$(start n3)
fi

# Round 1: every check pinged once, through the three nodes; each is due 2 s later.
pings=()
"${tool[@]}" ping "$a" "$tmp/part-aa" & pings+=($!)
"${tool[@]}" ping "$b" "$tmp/part-ab" & pings+=($!)
"${tool[@]}" ping "$c" "$tmp/part-ac" & pings+=($!)
wait "${pings[@]}"
"${tool[@]}" wait "$tmp/received.log" "$checks" --timeout 120 >/dev/null
sleep 3
"${tool[@]}" alerts "$tmp/received.log" --group fast --label "${NODES:-3} node(s), $checks checks" --expect "$checks" --after 2
[ "${NODES:-3}" = 1 ] && exit 0

# Round 2: the same, and node 1 is killed once the first alerts of the round arrive.
lines1=$(wc -l <"$tmp/received.log")
downs() { tail -n +$((lines1 + 1)) "$tmp/received.log" | grep -c '"event": *"down"' || true; }
pings=()
"${tool[@]}" ping "$a" "$tmp/part-aa" & pings+=($!)
"${tool[@]}" ping "$b" "$tmp/part-ab" & pings+=($!)
"${tool[@]}" ping "$c" "$tmp/part-ac" & pings+=($!)
wait "${pings[@]}"
for _ in $(seq 3000); do
    [ "$(downs)" -ge 50 ] && break
    sleep 0.02
done
killed=$(date +%s.%N)
kill -KILL "$(cat "$tmp/n1.pid")"
rm -f "$tmp/n1.pid"
# Each check sends an up (the pings of this round) and a down.
"${tool[@]}" wait "$tmp/received.log" $((lines1 + 2 * checks)) --timeout 120 >/dev/null || true
sleep 8
tail -n +$((lines1 + 1)) "$tmp/received.log" >"$tmp/round2.log"
"${tool[@]}" alerts "$tmp/round2.log" --group fast --label "node 1 killed (kill -9) while delivering" --expect "$checks" --after 2
python3 - "$tmp/round2.log" "$killed" <<'PY'
import json, sys
log, killed = sys.argv[1], float(sys.argv[2])
downs = []
for line in open(log):
    at, _, body = line.rstrip("\n").partition(" ")
    if json.loads(body).get("event") == "down":
        downs.append(float(at))
print(f"after the kill: the last down alert arrived {max(downs) - killed:.1f} s after kill -9 "
      f"({len(downs)} down deliveries)")
PY
