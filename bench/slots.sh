#!/usr/bin/env bash
# The cost of GET /api/v1/heartbeats/{uuid}/slots: a check due every minute
# (`* * * * *`) with 7 days of stored slot outcomes (one in ten missed, the rest ok),
# asked for 6 days (8,641 slots, under the 10,000 limit; 7 days is over it and a 400).
# Prints the median and the 95th percentile of N answers (curl's time_total), and the
# answer's size. Target: <= 20 ms.
#
#   cargo build --release && bench/slots.sh
#
# Environment: HB_BIN (default target/release/hb), N (default 100). Loopback only.
# Needs curl and python3 (with its sqlite3 module).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
bin=${HB_BIN:-$root/target/release/hb}
n=${N:-100}
[ -x "$bin" ] || { echo "slots: no hb binary at $bin (cargo build --release)" >&2; exit 2; }

tmp=$(mktemp -d)
server_pid=""
stop_server() {
    [ -n "$server_pid" ] || return 0
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
}
trap 'stop_server; rm -rf "$tmp"' EXIT

start_server() {
    "$bin" serve --listen 127.0.0.1:0 --db "$tmp/hb.db" >"$tmp/out" 2>"$tmp/err" &
    server_pid=$!
    for _ in $(seq 100); do
        grep -q '^listening on ' "$tmp/out" && break
        sleep 0.1
    done
    addr=$(sed -n 's|^listening on http://||p' "$tmp/out" | head -n1)
    [ -n "$addr" ] || { echo "slots: hb did not start" >&2; cat "$tmp/err" >&2; exit 1; }
}

start_server
uuid=$(curl -fsS -X POST "http://$addr/api/v1/heartbeats" -H 'Content-Type: application/json' \
    -d '{"name": "minutely", "cron": "* * * * *"}' |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["uuid"])')
stop_server

# Seven days of history: the check made 7 days ago, its ledger judged up to 2 minutes ago.
python3 - "$tmp/hb.db" "$uuid" <<'PY'
import json, sqlite3, sys, time
db, uuid = sys.argv[1], sys.argv[2]
minute = 60_000
now = int(time.time() * 1000) // minute * minute
created = now - 7 * 86_400_000
through = now - 2 * minute
con = sqlite3.connect(db)
state = json.loads(con.execute("SELECT state FROM checks WHERE uuid = ?", (uuid,)).fetchone()[0])
state["slots"] = {"since": created, "through": through}
con.execute("UPDATE checks SET created_ms = ?, state = ? WHERE uuid = ?", (created, json.dumps(state), uuid))
rows = []
for i, due in enumerate(range(created + minute, through + 1, minute)):
    rows.append((uuid, due, "missed", None) if i % 10 == 0 else (uuid, due, "ok", i))
con.executemany("INSERT INTO slots (check_uuid, due_ms, status, ping) VALUES (?, ?, ?, ?)", rows)
con.commit()
print(f"stored slot outcomes: {len(rows)}")
PY

start_server
from=$(python3 -c 'import datetime as d; print((d.datetime.now(d.timezone.utc) - d.timedelta(days=6)).strftime("%Y-%m-%dT%H:%M:%SZ"))')
url="http://$addr/api/v1/heartbeats/$uuid/slots?from=$from"
code=$(curl -s -o "$tmp/body" -w '%{http_code}' "$url")
[ "$code" = 200 ] || { echo "slots: answer $code: $(cat "$tmp/body")" >&2; exit 1; }
count=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["slots"]))' "$tmp/body")
wide=$(curl -s -o /dev/null -w '%{http_code}' "http://$addr/api/v1/heartbeats/$uuid/slots")
for _ in $(seq "$n"); do
    curl -s -o /dev/null -w '%{time_total}\n' "$url"
done >"$tmp/times"
python3 - "$tmp/times" "$count" "$(wc -c <"$tmp/body")" "$wide" <<'PY'
import statistics, sys
times = sorted(float(t) * 1000 for t in open(sys.argv[1]))
p95 = times[max(0, int(len(times) * 0.95) - 1)]
print(f"slots: 6 days of * * * * *: {sys.argv[2]} slots, {int(sys.argv[3]) // 1024} KiB; "
      f"median {statistics.median(times):.1f} ms, p95 {p95:.1f} ms over {len(times)} answers "
      f"(7 days: HTTP {sys.argv[4]})")
PY
