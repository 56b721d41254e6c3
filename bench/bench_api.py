#!/usr/bin/env python3
"""API write benchmark: acknowledged app creates per second through POST /v2/apps, and latency
percentiles, with 1 and 3 masters and 1 and 64 concurrent clients.

Starts its own masters on loopback (temporary data dirs), drives them with keep-alive HTTP/1.1
connections from worker processes (so the Python client is not the bottleneck: its own ceiling
is measured against GET /ping first), and appends a table to bench/RESULTS.md.

    make bench          # 10 s per configuration
    make bench-smoke    # 2 s per configuration (checks that it runs)
"""
import argparse
import datetime
import http.client
import json
import multiprocessing as mp
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_masters(strata, n, base):
    http_ports = [free_port() for _ in range(n)]
    raft = [free_port() for _ in range(n)]
    addrs = ",".join(f"127.0.0.1:{p}" for p in raft)
    procs = []
    for i in range(n):
        cmd = [strata, "master", "--data-dir", os.path.join(base, f"m{i}"), "--http", f"127.0.0.1:{http_ports[i]}",
               "--raft", f"127.0.0.1:{raft[i]}", "--log-level", "warn"]
        if n > 1:
            cmd += ["--masters", addrs]
        procs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
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
        raise RuntimeError("no leader")
    return procs, leader


def worker(port, path, seconds, wid, clients, start_at, q):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    lat = []
    errors = 0
    i = 0
    while time.time() < start_at:
        time.sleep(0.001)
    end = start_at + seconds
    while time.time() < end:
        t0 = time.perf_counter()
        if path == "/ping":
            conn.request("GET", "/ping")
            ok_status = 200
        else:
            # No ports: 10,001 service ports (10000-20000) would run out long before the clients do.
            body = json.dumps({"id": f"/bench/c{clients}/w{wid}/a{i}", "cmd": "sleep 1000", "cpus": 0.01, "mem": 16,
                               "portDefinitions": []})
            conn.request("POST", "/v2/apps", body, {"Content-Type": "application/json"})
            ok_status = 201
        r = conn.getresponse()
        r.read()
        t1 = time.perf_counter()
        if r.status == ok_status:
            lat.append(t1 - t0)
        else:
            errors += 1
        i += 1
    q.put((lat, errors))


def run(port, path, clients, seconds):
    q = mp.Queue()
    start_at = time.time() + 0.5
    ps = [mp.Process(target=worker, args=(port, path, seconds, w, clients, start_at, q)) for w in range(clients)]
    for p in ps:
        p.start()
    lat, errors = [], 0
    for _ in ps:
        l, e = q.get()
        lat += l
        errors += e
    for p in ps:
        p.join()
    lat.sort()
    pct = lambda f: lat[min(len(lat) - 1, int(f * len(lat)))] * 1000 if lat else float("nan")
    return {"ops": len(lat) / seconds, "p50": pct(0.50), "p99": pct(0.99), "errors": errors, "n": len(lat)}


def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) // 1024 // 1024
    return f"{os.cpu_count()} cores, {cpu}, {mem} GiB RAM, {platform.system()} {platform.release()}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--no-record", action="store_true")
    a = ap.parse_args()
    seconds = 2 if a.smoke else a.seconds
    strata = os.path.join(ROOT, a.build, "strata")
    rows = []
    for n_masters in (1, 3):
        base = tempfile.mkdtemp(prefix="strata-bench-")
        procs, leader = start_masters(strata, n_masters, base)
        try:
            for clients in (1, 64):
                ping = run(leader, "/ping", clients, min(seconds, 3))
                r = run(leader, "/v2/apps", clients, seconds)
                rows.append((n_masters, clients, r, ping))
                print(f"{n_masters} master(s), {clients:2d} client(s): {r['ops']:8.0f} creates/s  "
                      f"p50 {r['p50']:.2f} ms  p99 {r['p99']:.2f} ms  errors {r['errors']}  "
                      f"(client ceiling: {ping['ops']:.0f} pings/s)", flush=True)
        finally:
            for p in procs:
                p.kill()
                p.wait()
            shutil.rmtree(base, ignore_errors=True)
    if a.smoke or a.no_record:
        return 0
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    with open(os.path.join(ROOT, "bench", "RESULTS.md"), "a") as f:
        f.write(f"\n## API creates (bench/bench_api.py) — {datetime.date.today()}, commit {commit}\n\n")
        f.write(f"Machine: {machine()}. {seconds:.0f} s per row; the load generator runs on the same machine.\n\n")
        f.write("| masters | clients | acknowledged creates/s | p50 ms | p99 ms | errors | client ceiling (GET /ping/s) |\n")
        f.write("| --- | --- | --- | --- | --- | --- | --- |\n")
        for n, c, r, ping in rows:
            f.write(f"| {n} | {c} | {r['ops']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {r['errors']} | {ping['ops']:.0f} |\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
