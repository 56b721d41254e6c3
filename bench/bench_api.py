#!/usr/bin/env python3
"""API write benchmark: acknowledged app creates per second through POST /v2/apps, with latency
percentiles, for 1 and 3 masters and 1 and 64 concurrent clients (4 configurations).

Starts its own masters on loopback (temporary data dirs, so every create is fsync'd to the Raft
log on the machine's disk before it is acknowledged), then drives the leader with keep-alive
HTTP/1.1 connections. The load generator is one Python process multiplexing all connections over
non-blocking sockets (selectors), with request bytes prepared by string formatting and responses
parsed only as far as status line and Content-Length: on a small machine 64 client processes
would take the CPU from the masters. Its own ceiling is measured first with GET /ping on the same
connections ("client ceiling"); a create rate close to it would mean the client is the limit.

    make bench          # 10 s per configuration; appends a table to bench/RESULTS.md
    make bench-smoke    # 2 s per configuration, prints only (checks that it runs)
    python3 bench/bench_api.py --seconds 30 --clients 1,16,64 --no-record
"""
import argparse
import datetime
import http.client
import json
import os
import platform
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    """A loopback port below the ephemeral range (see test/e2e/conftest.py for why)."""
    import random
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo = int(f.read().split()[0])
    except (OSError, ValueError):
        lo = 32768
    for _ in range(1000):
        port = random.randint(20001, lo - 1) if lo > 21000 else random.randint(40000, 60000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


def start_masters(strata, n, base):
    """n masters (a cluster of one when n == 1); returns (processes, leader's HTTP port)."""
    http_ports = [free_port() for _ in range(n)]
    raft = [free_port() for _ in range(n)]
    addrs = ",".join(f"127.0.0.1:{p}" for p in raft)
    procs = []
    for i in range(n):
        cmd = [strata, "master", "--data-dir", os.path.join(base, f"m{i}"), "--http", f"127.0.0.1:{http_ports[i]}",
               "--raft", f"127.0.0.1:{raft[i]}", "--log-level", "warn",
               "--auth", "off"]  # the core's figures; bench_auth.py measures what tokens cost
        if n > 1:
            cmd += ["--masters", addrs]
        log = open(os.path.join(base, f"m{i}.log"), "ab")
        procs.append(subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT))
    leader = None
    deadline = time.time() + 30
    while time.time() < deadline and leader is None:
        for p in http_ports:
            try:
                c = http.client.HTTPConnection("127.0.0.1", p, timeout=1)
                c.request("GET", "/v1/cluster")
                body = json.loads(c.getresponse().read())
                if body.get("state") == "leader":
                    leader = p
            except (OSError, ValueError):
                pass
        time.sleep(0.05)
    if leader is None:
        for p in procs:
            p.kill()
        raise RuntimeError("no leader within 30 s; logs in " + base)
    return procs, http_ports.index(leader), leader


class Conn:
    __slots__ = ("sock", "out", "inbuf", "t0", "n", "wid")

    def __init__(self, port, wid):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        self.out = b""
        self.inbuf = b""
        self.t0 = 0.0
        self.n = 0
        self.wid = wid


def ping_request(conn):
    return b"GET /ping HTTP/1.1\r\nHost: bench\r\n\r\n"


def create_request(tag):
    def make(conn):
        # No ports: 10,001 service ports (10000-20000) would run out long before the run does.
        body = ('{"id":"/bench/%s/w%d/a%d","cmd":"sleep 1000","cpus":0.01,"mem":16,"portDefinitions":[]}'
                % (tag, conn.wid, conn.n)).encode()
        return (b"POST /v2/apps HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: %d"
                b"\r\n\r\n%s" % (len(body), body))
    return make


def parse_response(buf):
    """(status, bytes consumed) for one complete response at the start of buf, else None."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = buf[:end]
    status = int(head[9:12])
    length = 0
    i = head.lower().find(b"\r\ncontent-length:")
    if i >= 0:
        j = head.find(b"\r\n", i + 2)
        length = int(head[i + 17:j if j >= 0 else len(head)])
    total = end + 4 + length
    if len(buf) < total:
        return None
    return status, total


def drive(port, clients, seconds, make_request, ok_status):
    """Keeps `clients` requests in flight (one per connection) for `seconds`; returns stats."""
    sel = selectors.DefaultSelector()
    conns = [Conn(port, w) for w in range(clients)]
    lat = []
    statuses = {}
    clock = time.perf_counter
    start = clock()
    end = start + seconds

    def send(c):
        c.out = make_request(c)
        c.n += 1
        c.t0 = clock()
        try:
            sent = c.sock.send(c.out)
            c.out = c.out[sent:]
        except BlockingIOError:
            pass
        sel.modify(c.sock, selectors.EVENT_READ | (selectors.EVENT_WRITE if c.out else 0), c)

    for c in conns:
        sel.register(c.sock, selectors.EVENT_READ, c)
        send(c)
    active = len(conns)
    while active:
        for key, ev in sel.select(timeout=1.0):
            c = key.data
            if ev & selectors.EVENT_WRITE and c.out:
                sent = c.sock.send(c.out)
                c.out = c.out[sent:]
                if not c.out:
                    sel.modify(c.sock, selectors.EVENT_READ, c)
            if not ev & selectors.EVENT_READ:
                continue
            try:
                data = c.sock.recv(65536)
            except BlockingIOError:
                continue
            if not data:
                raise RuntimeError("the master closed a keep-alive connection")
            c.inbuf += data
            got = parse_response(c.inbuf)
            if got is None:
                continue
            status, used = got
            now = clock()
            c.inbuf = c.inbuf[used:]
            statuses[status] = statuses.get(status, 0) + 1
            if status == ok_status:
                lat.append(now - c.t0)
            if now < end:
                send(c)
            else:
                sel.unregister(c.sock)
                c.sock.close()
                active -= 1
        if clock() > end + 60:
            raise RuntimeError("requests still outstanding 60 s after the end")
    elapsed = clock() - start
    lat.sort()

    def pct(f):
        return lat[min(len(lat) - 1, int(f * len(lat)))] * 1000 if lat else float("nan")
    errors = sum(n for s, n in statuses.items() if s != ok_status)
    return {"ops": len(lat) / elapsed, "p50": pct(0.50), "p99": pct(0.99), "max": pct(1.0), "errors": errors,
            "statuses": statuses, "n": len(lat)}


def cpu_seconds(pid):
    """User + system CPU seconds a process has used so far (from /proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def client_cpu_seconds():
    t = os.times()
    return t.user + t.system


def apps_gauge(port):
    """strata_apps from the leader's /metrics: how many apps the replicated state holds."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", "/metrics")
    for line in c.getresponse().read().decode().splitlines():
        if line.startswith("strata_apps "):
            return int(float(line.split()[1]))
    return None


def machine():
    cpu = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) / 1024 / 1024
    return f"{os.cpu_count()} cores, {cpu}, {mem:.0f} GiB RAM, {platform.system()} {platform.release()}"


def filesystem(path):
    """The file system type (and device) a path lives on, from /proc/mounts."""
    path = os.path.realpath(path)
    best = ("", "?", "?")
    try:
        with open("/proc/mounts") as f:
            for line in f:
                dev, mnt, fstype = line.split()[:3]
                if (path == mnt or path.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best[0]):
                    best = (mnt, fstype, dev)
    except OSError:
        pass
    return f"{best[1]} on {best[2]}"


def git_commit():
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                          text=True).stdout.strip() or "unknown"
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "src"], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()
    return head + (" (src/ with uncommitted changes)" if dirty else "")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build", help="build directory holding strata (default build)")
    ap.add_argument("--seconds", type=float, default=10, help="seconds per configuration (default 10)")
    ap.add_argument("--clients", default="1,64", help="concurrent clients, comma-separated (default 1,64)")
    ap.add_argument("--masters", default="1,3", help="cluster sizes, comma-separated (default 1,3)")
    ap.add_argument("--smoke", action="store_true", help="2 s per configuration, record nothing")
    ap.add_argument("--no-record", action="store_true", help="do not append to bench/RESULTS.md")
    ap.add_argument("--tmp", default=None, help="where the masters' data dirs go (default $TMPDIR)")
    a = ap.parse_args()
    seconds = 2 if a.smoke else a.seconds
    strata = os.path.join(ROOT, a.build, "strata")
    if not os.access(strata, os.X_OK):
        print(f"bench_api: {strata} not built (run make)", file=sys.stderr)
        return 1
    clients_list = [int(x) for x in a.clients.split(",")]
    load = os.getloadavg()
    print(f"machine: {machine()}; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)
    rows = []
    fs = "?"
    for n_masters in [int(x) for x in a.masters.split(",")]:
        base = tempfile.mkdtemp(prefix="strata-bench-api-", dir=a.tmp)
        fs = filesystem(base)
        procs, leader_i, leader = start_masters(strata, n_masters, base)
        try:
            created = 0
            for clients in clients_list:
                ping = drive(leader, clients, min(seconds, 3), ping_request, 200)
                cpu0 = [cpu_seconds(p.pid) for p in procs] + [client_cpu_seconds()]
                t0 = time.perf_counter()
                r = drive(leader, clients, seconds, create_request(f"m{n_masters}c{clients}"), 201)
                wall = time.perf_counter() - t0
                cpu1 = [cpu_seconds(p.pid) for p in procs] + [client_cpu_seconds()]
                use = [100 * (b - a) / wall for a, b in zip(cpu0, cpu1)]
                followers = [u for i, u in enumerate(use[:-1]) if i != leader_i]
                r["cpu"] = (f"{use[leader_i]:.0f}" + (f" / {max(followers):.0f}" if followers else "")
                            + f" / {use[-1]:.0f}")
                rows.append((n_masters, clients, r, ping))
                # every acknowledged create is in the state: the count is not the client's fiction
                created += r["n"]
                held = apps_gauge(leader)
                if held is not None and held != created:
                    raise RuntimeError(f"{created} creates acknowledged but the leader holds {held} apps")
                print(f"{n_masters} master(s), {clients:2d} client(s): {r['ops']:8.0f} creates/s  "
                      f"p50 {r['p50']:6.2f} ms  p99 {r['p99']:6.2f} ms  max {r['max']:7.2f} ms  "
                      f"errors {r['errors']}  (client ceiling: {ping['ops']:.0f} pings/s; CPU % leader/follower/client: "
                      f"{r['cpu']})", flush=True)
                if r["errors"]:
                    print(f"   statuses: {r['statuses']}", flush=True)
            dead = [p.args[4] for p in procs if p.poll() is not None]
            if dead:
                raise RuntimeError(f"masters died during the run: {dead}")
        finally:
            for p in procs:
                p.kill()
                p.wait()
            shutil.rmtree(base, ignore_errors=True)
    if a.smoke or a.no_record:
        return 0
    with open(os.path.join(ROOT, "bench", "RESULTS.md"), "a") as f:
        f.write(f"\n## API creates (bench/bench_api.py) — {datetime.date.today()}, commit {git_commit()}\n\n")
        f.write(f"Machine: {machine()}; data dirs on {fs}; load average {load[0]:.2f} at the start. {seconds:g} s per row. One load-generator process "
                f"(non-blocking keep-alive connections) on the same machine; every create is committed "
                f"(fsync'd; with 3 masters on a majority) before its 201.\n\n")
        f.write("| masters | clients | acknowledged creates/s | p50 ms | p99 ms | max ms | errors "
                "| client ceiling (GET /ping/s) | CPU % leader / busiest follower / client |\n")
        f.write("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
        for n, c, r, ping in rows:
            f.write(f"| {n} | {c} | {r['ops']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {r['max']:.2f} "
                    f"| {r['errors']} | {ping['ops']:.0f} | {r['cpu']} |\n")
    print("appended to bench/RESULTS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
