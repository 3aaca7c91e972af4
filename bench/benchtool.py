#!/usr/bin/env python3
"""Small tools for the hb serve benchmarks (standard library only).

  gen      write a config file declaring many checks, and their UUIDs, one file per group
  ping     send one ping (success, or e.g. --suffix /fail) to every UUID in a file, over keep-alive connections
  receive  a webhook receiver that logs "<arrival unix time> <body>" per request
  alerts   read a receiver log and print alert figures
  wait     wait until a receiver log holds N lines (bounded in time)
  read     N client threads GET one path in a loop for a bounded time; print counts and latency
  hang     a webhook receiver that accepts connections, reads, and never answers
  arrivals print the time of the k-th logged request relative to a start time
  procsnap write "pid ticks comm" for every process (its own CPU ticks)
  proctop  the processes that used the most CPU between two procsnap files
"""

import argparse
import asyncio
import json
import os
import http.client
import signal
import threading
import statistics
import sys
import time
import uuid as uuidlib
from datetime import datetime


def cmd_gen(args):
    groups = []  # (file name, count, toml lines for the schedule)
    if args.fast:
        groups.append(("fast", args.fast, [f'interval = "{args.fast_interval}"', f'grace_period = "{args.fast_grace}"']))
    if args.burst:
        groups.append(("burst", args.burst, ['cron = "* * * * *"', 'grace_period = "1s"']))
    rest = args.total - sum(g[1] for g in groups)
    if rest < 0:
        sys.exit("gen: groups exceed --total")
    groups.append(("slow", rest, ['interval = "1h"', 'grace_period = "1h"']))
    os.makedirs(args.dir, exist_ok=True)
    n = 0
    with open(os.path.join(args.dir, "hb.toml"), "w") as cfg:
        if args.webhook:
            cfg.write(f'[[channel]]\nname = "hook"\nkind = "webhook"\nurl = "{args.webhook}"\n\n')
        for name, count, schedule in groups:
            with open(os.path.join(args.dir, f"uuids-{name}.txt"), "w") as out:
                for _ in range(count):
                    u = str(uuidlib.uuid4())
                    out.write(u + "\n")
                    cfg.write(f'[[check]]\nname = "{name}-{n}"\nuuid = "{u}"\n' + "\n".join(schedule) + "\n\n")
                    n += 1
    print(f"gen: {n} checks in {args.dir}/hb.toml", file=sys.stderr)


async def ping_all(host, port, uuids, conns, suffix=""):
    queue = list(reversed(uuids))
    failures = []

    async def worker():
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while queue:
                u = queue.pop()
                writer.write(f"GET /api/v1/ping/{u}{suffix} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
                await writer.drain()
                status = await reader.readline()
                length = 0
                while True:
                    line = await reader.readline()
                    if line in (b"\r\n", b""):
                        break
                    k, _, v = line.decode().partition(":")
                    if k.lower() == "content-length":
                        length = int(v)
                await reader.readexactly(length)
                if b" 200 " not in status:
                    failures.append((u, status))
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(conns)))
    return failures


def cmd_ping(args):
    with open(args.uuids) as f:
        uuids = [line.strip() for line in f if line.strip()]
    host, port = args.addr.rsplit(":", 1)
    t0 = time.time()
    failures = asyncio.run(asyncio.wait_for(ping_all(host, int(port), uuids, args.conns, args.suffix), args.timeout))
    t1 = time.time()
    if args.times:
        with open(args.times, "w") as f:
            f.write(f"{t0:.6f} {t1:.6f}\n")
    print(f"ping: {len(uuids)} pings in {t1 - t0:.2f} s ({len(uuids) / (t1 - t0):.0f}/s), {len(failures)} not 200, "
          f"first at {t0:.3f}, last at {t1:.3f}", file=sys.stderr)
    if failures:
        sys.exit(f"ping: first failure {failures[0]}")


def cmd_receive(args):
    log = open(args.log, "a", buffering=1 << 16)
    response = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

    async def handle(reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    k, _, v = line.partition(b":")
                    if k.strip().lower() == b"content-length":
                        length = int(v)
                body = await reader.readexactly(length) if length else b""
                now = time.time()
                log.write(f"{now:.6f} {body.decode()}\n")
                log.flush()
                writer.write(response)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
        port = server.sockets[0].getsockname()[1]
        print(f"receiving on http://127.0.0.1:{port}/", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        try:
            await asyncio.wait_for(stop.wait(), args.max_seconds)
        except asyncio.TimeoutError:
            pass
        server.close()
        log.flush()

    asyncio.run(main())


def cmd_read(args):
    """Each client thread keeps one keep-alive connection and GETs the path until the
    time is up; no request starts after it (one in flight then is let finish, within
    --timeout). Prints one RESULT line."""
    host, port = args.addr.rsplit(":", 1)
    deadline = time.monotonic() + args.seconds
    lat, sizes, errors, lock = [], [], [], threading.Lock()

    def client():
        conn = None
        while time.monotonic() < deadline:
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(host, int(port), timeout=args.timeout)
                t = time.monotonic()
                conn.request("GET", args.path, headers={"Accept": "*/*"})
                r = conn.getresponse()
                body = r.read()
                dt = time.monotonic() - t
                with lock:
                    if r.status == 200:
                        lat.append(dt)
                        sizes.append(len(body))
                    else:
                        errors.append(f"status {r.status}")
            except (OSError, http.client.HTTPException) as e:
                with lock:
                    errors.append(repr(e))
                if conn is not None:
                    conn.close()
                conn = None
                time.sleep(0.05)
        if conn is not None:
            conn.close()

    c0 = os.times()
    t0 = time.monotonic()
    threads = [threading.Thread(target=client, daemon=True) for _ in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(args.seconds + args.timeout + 5)
    wall = time.monotonic() - t0
    c1 = os.times()
    cpu = (c1.user - c0.user) + (c1.system - c0.system)
    with lock:
        n = len(lat)
        ms = [x * 1000 for x in lat]
        print(f"RESULT path={args.path} clients={args.clients} answers={n} errors={len(errors)} wall_s={wall:.2f} "
              f"per_s={n / wall:.1f} p50_ms={pct(ms, 50) if n else 0:.1f} p90_ms={pct(ms, 90) if n else 0:.1f} "
              f"max_ms={max(ms) if n else 0:.1f} bytes={statistics.median(sizes) if n else 0:.0f} "
              f"client_cpu_s={cpu:.2f}", flush=True)
        if errors:
            print(f"read: first error: {errors[0]}", file=sys.stderr)


def cmd_hang(args):
    """Accepts every connection and reads what is sent, never answering; logs
    "<unix time> accept" per connection."""
    log = open(args.log, "a", buffering=1)
    held = []

    async def handle(reader, writer):
        held.append(writer)
        log.write(f"{time.time():.6f} accept\n")
        try:
            while await reader.read(65536):
                pass
        except ConnectionError:
            pass
        finally:
            log.write(f"{time.time():.6f} closed\n")
            writer.close()

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
        port = server.sockets[0].getsockname()[1]
        print(f"receiving on http://127.0.0.1:{port}/", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        try:
            await asyncio.wait_for(stop.wait(), args.max_seconds)
        except asyncio.TimeoutError:
            pass
        server.close()
        for w in held:
            w.close()

    asyncio.run(main())


def cmd_arrivals(args):
    """The receiver log's requests (down events only when --event), sorted by arrival;
    prints the k-th arrival relative to --start, for each k asked."""
    times = []
    with open(args.log) as f:
        for line in f:
            at, _, body = line.rstrip("\n").partition(" ")
            if args.event and json.loads(body).get("event") != args.event:
                continue
            times.append(float(at))
    times.sort()
    for k in args.k:
        if k <= len(times):
            print(f"{args.label}: alert {k} of {len(times)} arrived {(times[k - 1] - args.start) * 1000:.0f} ms after the first failure ping")
        else:
            print(f"{args.label}: alert {k}: MISSING, only {len(times)} arrived")


def cmd_procsnap(args):
    with open(args.out, "w") as out:
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or int(pid) == os.getpid():
                continue
            try:
                with open(f"/proc/{pid}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            comm = stat[stat.index("(") + 1:stat.rindex(")")].replace(" ", "_")
            fields = stat[stat.rindex(")") + 2:].split()
            ticks = int(fields[11]) + int(fields[12])  # utime stime
            out.write(f"{pid} {ticks} {comm}\n")


def cmd_proctop(args):
    def load(path):
        with open(path) as f:
            return {p: (int(t), c) for p, t, c in (line.split(" ", 2) for line in f.read().splitlines())}
    before, after = load(args.before), load(args.after)
    skip = set(args.exclude.split(",")) if args.exclude else set()
    hz = os.sysconf("SC_CLK_TCK")
    used = sorted(((t - before.get(p, (0, c))[0], p, c) for p, (t, c) in after.items() if p not in skip), reverse=True)
    top = [f"{c} (pid {p}) {d / hz:.1f} s" for d, p, c in used[:args.top] if d / hz >= 0.1]
    print(", ".join(top) if top else "none over 0.1 s")


def ts(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def cmd_alerts(args):
    arrivals = []  # (arrival, event dict)
    with open(args.log) as f:
        for line in f:
            at, _, body = line.rstrip("\n").partition(" ")
            arrivals.append((float(at), json.loads(body)))
    downs = [(at, e) for at, e in arrivals if e.get("event") == "down"
             and e["check"]["name"].startswith(args.group + "-")]
    seen = {}
    for _, e in arrivals:
        seen[e["event_id"]] = seen.get(e["event_id"], 0) + 1
    dups = sum(c - 1 for c in seen.values() if c > 1)
    print(f"{args.label}: {len(downs)} down alerts received (expected {args.expect}), "
          f"{dups} duplicate event_id(s) among {len(arrivals)} requests")
    if not downs:
        return
    if args.deadline is not None:
        deadlines = [args.deadline] * len(downs)
    else:  # interval checks: deadline = last ping + interval + grace
        deadlines = [ts(e["check"]["last_ping"]) + args.after for _, e in downs]
    lat = [(at - d) * 1000 for (at, _), d in zip(downs, deadlines)]
    first = min(at for at, _ in downs)
    last = max(at for at, _ in downs)
    d0 = min(deadlines)
    print(f"{args.label}: deadline -> webhook received: p50 {pct(lat, 50):.0f} ms, p99 {pct(lat, 99):.0f} ms, "
          f"max {max(lat):.0f} ms, min {min(lat):.0f} ms")
    if args.deadline is not None:
        span = last - first
        rate = len(downs) / span if span > 0 else float("inf")
        print(f"{args.label}: first alert {(first - d0) * 1000:.0f} ms after the deadline, last {(last - d0) * 1000:.0f} ms "
              f"after; {rate:.0f} alerts/s between first and last; {len(downs) / (last - d0):.0f} alerts/s from the deadline")
    if len(downs) != args.expect or dups:
        print(f"{args.label}: MISMATCH: expected {args.expect} distinct alerts, no duplicates")


def cmd_wait(args):
    end = time.time() + args.timeout
    n = 0
    while time.time() < end:
        try:
            with open(args.log, "rb") as f:
                n = sum(1 for _ in f)
        except FileNotFoundError:
            n = 0
        if n >= args.lines:
            break
        time.sleep(0.2)
    print(n)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("dir")
    g.add_argument("--total", type=int, required=True)
    g.add_argument("--fast", type=int, default=0)
    g.add_argument("--fast-interval", default="1s")
    g.add_argument("--fast-grace", default="1s")
    g.add_argument("--burst", type=int, default=0)
    g.add_argument("--webhook")
    g.set_defaults(func=cmd_gen)
    g = sub.add_parser("ping")
    g.add_argument("addr")
    g.add_argument("uuids")
    g.add_argument("--conns", type=int, default=16)
    g.add_argument("--timeout", type=float, default=120)
    g.add_argument("--suffix", default="", help='appended to each ping path, e.g. "/fail"')
    g.add_argument("--times", help="write the first and last ping's start/end unix time here")
    g.set_defaults(func=cmd_ping)
    g = sub.add_parser("read")
    g.add_argument("addr")
    g.add_argument("path")
    g.add_argument("--clients", type=int, default=4)
    g.add_argument("--seconds", type=float, default=10)
    g.add_argument("--timeout", type=float, default=30, help="one request's time limit")
    g.set_defaults(func=cmd_read)
    g = sub.add_parser("hang")
    g.add_argument("log")
    g.add_argument("--max-seconds", type=float, default=600)
    g.set_defaults(func=cmd_hang)
    g = sub.add_parser("arrivals")
    g.add_argument("log")
    g.add_argument("--start", type=float, required=True)
    g.add_argument("--label", required=True)
    g.add_argument("--event")
    g.add_argument("k", type=int, nargs="+")
    g.set_defaults(func=cmd_arrivals)
    g = sub.add_parser("procsnap")
    g.add_argument("out")
    g.set_defaults(func=cmd_procsnap)
    g = sub.add_parser("proctop")
    g.add_argument("before")
    g.add_argument("after")
    g.add_argument("--exclude", help="comma-separated pids to leave out")
    g.add_argument("--top", type=int, default=3)
    g.set_defaults(func=cmd_proctop)
    g = sub.add_parser("receive")
    g.add_argument("log")
    g.add_argument("--max-seconds", type=float, default=1800)
    g.set_defaults(func=cmd_receive)
    g = sub.add_parser("alerts")
    g.add_argument("log")
    g.add_argument("--group", required=True)
    g.add_argument("--label", required=True)
    g.add_argument("--expect", type=int, required=True)
    g.add_argument("--after", type=float, default=2.0, help="interval + grace, seconds")
    g.add_argument("--deadline", type=float, help="one deadline for all (unix time)")
    g.set_defaults(func=cmd_alerts)
    g = sub.add_parser("wait")
    g.add_argument("log")
    g.add_argument("lines", type=int)
    g.add_argument("--timeout", type=float, default=60)
    g.set_defaults(func=cmd_wait)
    args = p.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
