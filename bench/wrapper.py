#!/usr/bin/env python3
"""Wrapper overhead on loopback: run by hand, prints figures for README's Performance.

    python3 bench/wrapper.py [--runs 300] [--hb target/release/hb]

Measures, against a minimal local ping receiver (a selectors loop, keep-alive):
  * median wall time of `true`, `hb run URL -- true` and the curl one-liner
    `curl URL/start; true; curl URL/$?`, runs alternating;
  * peak RSS of `hb run URL -- true` (/usr/bin/time -v);
  * with a monitor that accepts connections and never answers, how long after
    spawning hb the job starts, against the same job started bare.
Builds the release binary first unless --hb is given.
"""
import argparse
import os
import re
import selectors
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nOK"


def start_receiver():
    """A minimal keep-alive ping receiver: one thread, one write per answer, no
    Nagle, so the figures show hb's cost rather than the receiver's."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    listener.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ)
    buffers = {}

    def answer(conn):
        try:
            data = conn.recv(65536)
        except OSError:
            data = b""
        if not data:
            sel.unregister(conn)
            buffers.pop(conn, None)
            conn.close()
            return
        buf = buffers.get(conn, b"") + data
        while b"\r\n\r\n" in buf:
            head, rest = buf.split(b"\r\n\r\n", 1)
            found = re.search(rb"(?im)^content-length:\s*(\d+)", head)
            length = int(found.group(1)) if found else 0
            if len(rest) < length:
                break
            buf = rest[length:]
            conn.sendall(RESPONSE)
        buffers[conn] = buf

    def loop():
        while True:
            for key, _ in sel.select():
                if key.fileobj is listener:
                    try:
                        conn, _ = listener.accept()
                    except OSError:
                        continue
                    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    conn.setblocking(True)
                    sel.register(conn, selectors.EVENT_READ)
                else:
                    answer(key.fileobj)

    threading.Thread(target=loop, daemon=True).start()
    return "http://127.0.0.1:%d/ping/bench" % listener.getsockname()[1]


def start_hanging():
    """Accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    held = []

    def accept():
        while True:
            conn, _ = listener.accept()
            held.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    return "http://127.0.0.1:%d/ping/hang" % listener.getsockname()[1]


def wall(argv):
    begin = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - begin


def job_start_delay(argv):
    """Seconds from spawning argv to the moment its `date +%s%N` ran."""
    begin = time.time_ns()
    out = subprocess.run(argv, capture_output=True, text=True, check=False).stdout
    started = int(out.strip().splitlines()[-1])
    return (started - begin) / 1e9


def ms(seconds):
    return "%.2f ms" % (seconds * 1000)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--hb")
    args = parser.parse_args()

    hb = args.hb
    if not hb:
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
        hb = os.path.join(ROOT, "target", "release", "hb")
    true = shutil.which("true")
    curl = shutil.which("curl")
    url = start_receiver()
    quiet = ["--quiet"]

    cases = {
        "true": [true],
        "hb run URL -- true": [hb, "run", *quiet, url, "--", true],
    }
    if curl:
        line = 'curl -fsS -o /dev/null "$0/start"; true; curl -fsS -o /dev/null "$0/$?"'
        cases["curl one-liner"] = ["sh", "-c", line, url]
    times = {name: [] for name in cases}
    for argv in cases.values():  # warm up
        wall(argv)
    for _ in range(args.runs):
        for name, argv in cases.items():
            times[name].append(wall(argv))

    print("runs: %d each, alternating, loopback receiver %s" % (args.runs, url))
    medians = {name: statistics.median(t) for name, t in times.items()}
    for name, median in medians.items():
        print("  %-22s median %s" % (name, ms(median)))
    print("added by hb run:        %s" % ms(medians["hb run URL -- true"] - medians["true"]))
    if curl:
        print("added by curl one-liner: %s" % ms(medians["curl one-liner"] - medians["true"]))

    gnu_time = "/usr/bin/time"
    if os.path.exists(gnu_time):
        peaks = []
        for _ in range(10):
            err = subprocess.run(
                [gnu_time, "-v", hb, "run", *quiet, url, "--", true],
                capture_output=True, text=True, check=False,
            ).stderr
            found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", err)
            if found:
                peaks.append(int(found.group(1)))
        if peaks:
            print("peak RSS of hb run:     %.1f MB (max of %d runs)" % (max(peaks) / 1024, len(peaks)))
    else:
        print("peak RSS: /usr/bin/time not found (apt-get install time)")

    hang = start_hanging()
    job = ["sh", "-c", "date +%s%N"]
    bare, wrapped = [], []
    for _ in range(30):
        bare.append(job_start_delay(job))
        wrapped.append(job_start_delay(
            [hb, "run", *quiet, "--ping-budget", "200ms", hang, "--", *job]))
    print("monitor hanging: job starts %s after spawn (bare: %s); added %s" % (
        ms(statistics.median(wrapped)), ms(statistics.median(bare)),
        ms(statistics.median(wrapped) - statistics.median(bare))))


if __name__ == "__main__":
    sys.exit(main())
