#!/usr/bin/env python3
"""Ping latency of `hb serve` while slow clients hold sockets: run by hand, prints figures.

    cargo build --release && python3 bench/slow-sockets.py [--slow 2000] [--requests 500]

Starts `target/release/hb serve --listen 127.0.0.1:PORT --db TMP` with its open-file
limit at 1024 (as under `ulimit -n 1024`), creates one check (POST /api/v1/heartbeats
{"name": "x", "interval": "1h"}), then measures p50/p99/max latency of GET /healthz and
of GET on the check's ping URL, each request on a new connection:
  * with no other clients (baseline);
  * while --slow sockets (default 2,000, about twice what the server may hold) send
    partial request heads, a byte now and then; a socket the server closes is replaced
    at once, so the pressure stays on.
Then sends SIGTERM with the slow sockets still open and times the exit.

A request counts as failed when it gets no 200 within --request-timeout (15 s, more
than the server's 10 s header timeout). Loopback only; bounded by --budget seconds in
all; stops (SIGTERM, then SIGKILL) only the process it started. Standard library only.
"""
import argparse
import json
import math
import os
import resource
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOST = "127.0.0.1"
SLOW_HEAD = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "


class OutOfTime(Exception):
    pass


class Budget:
    def __init__(self, seconds):
        self.deadline = time.monotonic() + seconds

    def left(self):
        return self.deadline - time.monotonic()

    def check(self, what):
        if self.left() <= 0:
            raise OutOfTime(f"out of time ({what})")


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def http_once(port, method, path, body=None, timeout=15.0):
    """One request on a new connection; (status or None, seconds, error or None)."""
    start = time.monotonic()
    try:
        with socket.create_connection((HOST, port), timeout=timeout) as s:
            s.settimeout(max(0.01, timeout - (time.monotonic() - start)))
            head = f"{method} {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nConnection: close\r\n"
            if body is not None:
                head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            s.sendall(head.encode() + b"\r\n" + (body or b""))
            data = b""
            while True:
                left = timeout - (time.monotonic() - start)
                if left <= 0:
                    raise socket.timeout("timed out")
                s.settimeout(left)
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        elapsed = time.monotonic() - start
        line = data.split(b"\r\n", 1)[0].split()
        if len(line) < 2:
            return None, elapsed, "closed without an answer"
        return int(line[1]), elapsed, None
    except (OSError, ValueError) as e:
        return None, time.monotonic() - start, type(e).__name__


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = max(0, math.ceil(p / 100 * len(sorted_values)) - 1)
    return sorted_values[k]


def measure(label, port, path, n, request_timeout, budget, phase_seconds):
    """n sequential GETs of path; prints one line of figures."""
    latencies, failures, reasons = [], 0, {}
    phase_end = time.monotonic() + phase_seconds
    done = 0
    for _ in range(n):
        if time.monotonic() > phase_end or budget.left() <= 0:
            break
        status, elapsed, error = http_once(port, "GET", path, timeout=request_timeout)
        done += 1
        if status == 200:
            latencies.append(elapsed)
        else:
            failures += 1
            reason = error or f"status {status}"
            reasons[reason] = reasons.get(reason, 0) + 1
    latencies.sort()
    ms = lambda v: f"{v * 1000:8.2f} ms"
    note = "" if done == n else f"  (stopped after {done}: time)"
    why = f"  {reasons}" if reasons else ""
    print(
        f"{label:<14} p50 {ms(percentile(latencies, 50))}  p99 {ms(percentile(latencies, 99))}"
        f"  max {ms(latencies[-1] if latencies else float('nan'))}  failed {failures}/{done}{note}{why}",
        flush=True,
    )


class SlowClients:
    """Holds `count` sockets that send partial request heads; replaces closed ones."""

    def __init__(self, port, count, budget):
        self.port, self.count, self.budget = port, count, budget
        self.sel = selectors.DefaultSelector()
        self.socks = {}  # socket -> last send time
        self.closed_by_server = 0
        self.connect_failures = 0
        self.opened = 0
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def open_one(self):
        try:
            s = socket.create_connection((HOST, self.port), timeout=2)
            s.sendall(SLOW_HEAD)
            s.setblocking(False)
        except OSError:
            self.connect_failures += 1
            return False
        self.sel.register(s, selectors.EVENT_READ)
        self.socks[s] = time.monotonic()
        self.opened += 1
        return True

    def fill(self, limit):
        """Opens sockets up to the target, at most `limit` now."""
        opened = 0
        while len(self.socks) < self.count and opened < limit and not self.stop.is_set():
            if not self.open_one():
                break
            opened += 1

    def reap(self):
        for key, _ in self.sel.select(timeout=0):
            s = key.fileobj
            try:
                gone = s.recv(4096) == b""  # an answer (408/400) is followed by a close
            except BlockingIOError:
                gone = False
            except OSError:
                gone = True
            if gone:
                self.sel.unregister(s)
                self.socks.pop(s, None)
                s.close()
                self.closed_by_server += 1

    def trickle(self):
        now = time.monotonic()
        for s, last in list(self.socks.items()):
            if now - last >= 5:
                try:
                    s.send(b"a")
                except OSError:
                    pass
                self.socks[s] = now

    def run(self):
        while not self.stop.is_set():
            with self.lock:
                self.reap()
                self.fill(500)
                self.trickle()
            self.stop.wait(0.2)

    def start(self, budget_seconds):
        """Opens all sockets (bounded in time), then keeps them up in the background."""
        end = time.monotonic() + budget_seconds
        while len(self.socks) < self.count and time.monotonic() < end:
            with self.lock:
                self.reap()
                self.fill(self.count)
            if len(self.socks) < self.count:
                time.sleep(0.05)
        self.thread.start()

    def close(self):
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join(timeout=5)
        with self.lock:
            for s in list(self.socks):
                try:
                    self.sel.unregister(s)
                except (KeyError, ValueError):
                    pass
                s.close()
            self.socks.clear()


def open_fds(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hb", default=os.path.join(ROOT, "target", "release", "hb"))
    ap.add_argument("--slow", type=int, default=2000, help="slow sockets to hold (2000)")
    ap.add_argument("--requests", type=int, default=500, help="requests per figure (500)")
    ap.add_argument("--nofile", type=int, default=1024, help="hb serve's open-file limit (1024)")
    ap.add_argument("--request-timeout", type=float, default=15.0)
    ap.add_argument("--budget", type=float, default=300.0, help="seconds for the whole run (300)")
    args = ap.parse_args()

    if not os.access(args.hb, os.X_OK):
        sys.exit(f"slow-sockets: no hb binary at {args.hb} (cargo build --release)")
    budget = Budget(args.budget)

    # This client holds the slow sockets: it needs descriptors of its own.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.slow + 200
    if soft < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
        except (ValueError, OSError):
            pass
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        print(f"slow-sockets: only {soft} descriptors here; holding {soft - 200} slow sockets", file=sys.stderr)
        args.slow = max(0, soft - 200)

    tmp = tempfile.mkdtemp(prefix="hb-slow-sockets-")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HB_")}
    env["XDG_CONFIG_HOME"] = tmp  # no user config file
    nofile = args.nofile

    def limit_files():
        resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    out = open(os.path.join(tmp, "out"), "wb")
    err = open(os.path.join(tmp, "err"), "wb")
    server = subprocess.Popen(
        [args.hb, "serve", "--listen", f"{HOST}:{port}", "--db", os.path.join(tmp, "hb.db")],
        stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env, preexec_fn=limit_files,
    )
    slow = None
    try:
        print(f"== hb serve with {args.slow} slow sockets, open-file limit {nofile}, {args.requests} requests per figure")
        print(f"machine: {os.cpu_count()} cores; load {' '.join(open('/proc/loadavg').read().split()[:3])}")
        start_by = time.monotonic() + 30
        while True:
            budget.check("waiting for the server")
            if server.poll() is not None:
                raise RuntimeError(f"hb serve exited with {server.returncode}")
            status, _, _ = http_once(port, "GET", "/healthz", timeout=2)
            if status == 200:
                break
            if time.monotonic() > start_by:
                raise RuntimeError("hb serve did not answer /healthz within 30 s")
            time.sleep(0.05)
        print(f"server: pid {server.pid} on {HOST}:{port}; {open_fds(server.pid)} descriptors open")

        req = urllib.request.Request(
            f"http://{HOST}:{port}/api/v1/heartbeats",
            data=json.dumps({"name": "x", "interval": "1h"}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            created = json.load(resp)
        ping_url = created["ping_url"]
        ping_path = "/" + ping_url.split("://", 1)[1].split("/", 1)[1]

        phase = max(10.0, budget.left() / 6)
        measure("base /healthz", port, "/healthz", args.requests, args.request_timeout, budget, phase)
        measure("base ping", port, ping_path, args.requests, args.request_timeout, budget, phase)

        budget.check("opening slow sockets")
        slow = SlowClients(port, args.slow, budget)
        t = time.monotonic()
        slow.start(min(60.0, max(1.0, budget.left() / 4)))
        print(
            f"slow sockets: {len(slow.socks)} held after {time.monotonic() - t:.1f} s"
            f" ({slow.closed_by_server} closed by the server so far, {slow.connect_failures} connects failed);"
            f" server has {open_fds(server.pid)} descriptors open",
            flush=True,
        )
        before = slow.closed_by_server
        t = time.monotonic()
        phase = max(10.0, budget.left() / 4)
        measure("slow /healthz", port, "/healthz", args.requests, args.request_timeout, budget, phase)
        measure("slow ping", port, ping_path, args.requests, args.request_timeout, budget, phase)
        with slow.lock:
            held, closed = len(slow.socks), slow.closed_by_server - before
        print(
            f"while measuring: {closed} slow sockets closed by the server in {time.monotonic() - t:.1f} s;"
            f" {held} held; server has {open_fds(server.pid)} descriptors open"
        )

        t = time.monotonic()
        server.send_signal(signal.SIGTERM)
        try:
            code = server.wait(timeout=max(1.0, min(15.0, budget.left())))
            print(f"SIGTERM -> exit: {time.monotonic() - t:.2f} s with the slow sockets open (exit code {code})")
        except subprocess.TimeoutExpired:
            print(f"SIGTERM -> still running after {time.monotonic() - t:.1f} s")
    except (OutOfTime, RuntimeError, OSError, KeyError, ValueError) as e:
        print(f"slow-sockets: {e}", file=sys.stderr)
        return_code = 1
    else:
        return_code = 0
    finally:
        if slow is not None:
            slow.close()
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        out.close()
        err.close()
        with open(os.path.join(tmp, "err"), "rb") as f:
            lines = f.read().decode(errors="replace").splitlines()
        notices = [l for l in lines if "to make room" in l]
        print(f"server stderr: {len(lines)} line(s), {len(notices)} about making room")
        for line in notices[:3]:
            print(f"  {line}")
        shutil.rmtree(tmp, ignore_errors=True)
    return return_code


if __name__ == "__main__":
    sys.exit(main())
