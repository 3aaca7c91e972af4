#!/usr/bin/env python3
"""The dashboard's figures (issue 8, "Measured"), printed, not asserted:

  - GET / at 10,000 and 100,000 checks: median time (client on loopback, one keep-alive
    connection; targets <= 50 ms at 10,000 and <= 150 ms at 100,000) and page size
    (<= 200 KB);
  - an unchanged page refreshed with If-None-Match: median time of the 304 (<= 2 ms);
  - ping throughput at 10,000 checks (wrk, 64 connections, 10 s) alone and while a
    reader GETs / every 100 ms, as 10 browsers' worth of refreshes (>= 90 % of alone).

Every check is pinged once first (1 % of them with /fail, so the list has checks down at
its top), as on a monitor in use.

    cargo build --release && python3 bench/dashboard.py

Environment: HB_BIN (default target/release/hb), SIZES (default "10000 100000"),
DURATION (wrk seconds, 10), REQUESTS (timed GETs per page, 20).
Loopback only. Needs wrk. Takes about three minutes.
"""

import http.client
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BIN = os.environ.get("HB_BIN", os.path.join(ROOT, "target/release/hb"))
SIZES = [int(s) for s in os.environ.get("SIZES", "10000 100000").split()]
DURATION = int(os.environ.get("DURATION", "10"))
REQUESTS = int(os.environ.get("REQUESTS", "20"))
TOOL = [sys.executable, os.path.join(HERE, "benchtool.py")]


class Server:
    def __init__(self, tmp, config=None):
        args = [BIN, "serve", "--listen", "127.0.0.1:0", "--db", os.path.join(tmp, "hb.db")]
        if config:
            args += ["--config", config]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=open(os.path.join(tmp, "err"), "a"), text=True)
        line = self.proc.stdout.readline()
        m = re.match(r"listening on http://(\S+)", line)
        if not m:
            sys.exit(f"dashboard: hb serve did not start: {line!r}")
        self.addr = m.group(1)
        self.host, self.port = self.addr.rsplit(":", 1)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def timed_gets(server, path, n, etag=None):
    """n GETs on one keep-alive connection: (seconds each, statuses, last body size, last ETag)."""
    conn = http.client.HTTPConnection(server.host, int(server.port), timeout=60)
    times, statuses, size, tag = [], [], 0, None
    for _ in range(n):
        headers = {"If-None-Match": etag} if etag else {}
        t0 = time.perf_counter()
        conn.request("GET", path, headers=headers)
        r = conn.getresponse()
        body = r.read()
        times.append(time.perf_counter() - t0)
        statuses.append(r.status)
        if r.status == 200:
            size, tag = len(body), r.getheader("ETag")
    conn.close()
    return times, statuses, size, tag


def ms(values):
    return f"median {statistics.median(values) * 1000:.1f} ms, p90 {sorted(values)[int(len(values) * 0.9) - 1] * 1000:.1f} ms, max {max(values) * 1000:.1f} ms"


def wrk(server, uuids):
    out = subprocess.run(
        ["wrk", "-t2", "-c64", f"-d{DURATION}s", "--timeout", "5s", "-s", os.path.join(HERE, "ping.lua"),
         f"http://{server.addr}", "--", uuids],
        capture_output=True, text=True, check=True).stdout
    m = re.search(r"^RESULT .*rps=(\d+).*p99_ms=([\d.]+)", out, re.M)
    return int(m.group(1)), float(m.group(2))


def refresher(server, stop, stats):
    """GET / every 100 ms with the last ETag, as the page's script does (10 browsers' worth)."""
    conn = http.client.HTTPConnection(server.host, int(server.port), timeout=60)
    etag = None
    while not stop.is_set():
        t0 = time.perf_counter()
        conn.request("GET", "/", headers={"If-None-Match": etag} if etag else {})
        r = conn.getresponse()
        r.read()
        stats.append((r.status, time.perf_counter() - t0))
        if r.status == 200:
            etag = r.getheader("ETag")
        stop.wait(max(0.0, 0.1 - (time.perf_counter() - t0)))
    conn.close()


def main():
    if not os.access(BIN, os.X_OK):
        sys.exit(f"dashboard: no hb binary at {BIN} (cargo build --release)")
    if not shutil.which("wrk"):
        sys.exit("dashboard: wrk is needed (apt-get install wrk)")
    print(f"== hb dashboard: {os.cpu_count()} cores; load {open('/proc/loadavg').read().split()[0]}")
    for n in SIZES:
        tmp = tempfile.mkdtemp()
        try:
            subprocess.run(TOOL + ["gen", os.path.join(tmp, "gen"), "--total", str(n)], check=True, stderr=subprocess.DEVNULL)
            uuids = os.path.join(tmp, "gen", "uuids-slow.txt")
            with open(uuids) as f:
                all_uuids = [line.strip() for line in f if line.strip()]
            failing = os.path.join(tmp, "failing.txt")
            with open(failing, "w") as f:
                f.write("\n".join(all_uuids[: max(1, n // 100)]) + "\n")
            # The config file creates the checks; then they are served without it.
            Server(tmp, os.path.join(tmp, "gen", "hb.toml")).stop()
            server = Server(tmp)
            subprocess.run(TOOL + ["ping", server.addr, uuids, "--conns", "32"], check=True, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
            subprocess.run(TOOL + ["ping", server.addr, failing, "--conns", "8", "--suffix", "/fail"], check=True, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
            time.sleep(1)
            print(f"-- {n} checks ({max(1, n // 100)} down), server {server.addr}")
            for path in ["/", "/?sort=name&page=3", "/?q=slow-99", "/?status=down", f"/checks/{all_uuids[-1]}"]:
                timed_gets(server, path, 3)  # warm-up
                times, statuses, size, etag = timed_gets(server, path, REQUESTS)
                print(f"GET {path}: {ms(times)}; {size / 1024:.0f} KB; statuses {sorted(set(statuses))}")
                if path == "/":
                    # Unchanged: the 304 the page's script gets.
                    t304, s304, _, _ = timed_gets(server, "/", 200, etag)
                    only = [t for t, s in zip(t304, s304) if s == 304]
                    print(f"GET / unchanged (If-None-Match): {len(only)} of 200 were 304; {ms(only)}")
            if n == SIZES[0]:
                wrk(server, uuids)  # warm-up, not reported
                alone, p99a = wrk(server, uuids)
                stop, stats = threading.Event(), []
                t = threading.Thread(target=refresher, args=(server, stop, stats))
                t.start()
                busy, p99b = wrk(server, uuids)
                stop.set()
                t.join()
                again, _ = wrk(server, uuids)
                full = [d for s, d in stats if s == 200]
                print(f"pings alone: {alone}/s (p99 {p99a} ms); with GET / every 100 ms: {busy}/s (p99 {p99b} ms) = {busy / alone * 100:.0f} % (target >= 90 %); alone again: {again}/s")
                if full:
                    print(f"  the refresher got {len(stats)} answers ({len(full)} full pages, as every ping changes the page), {ms(full)}")
            server.stop()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
