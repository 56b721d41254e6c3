#!/usr/bin/env python3
"""Placement through the real master, C1M-shaped and scaled down: one `strata master` (a cluster
of one), one `strata agent-sim` process with A simulated agents in 5 attribute classes, N apps of
I instances each pinned to one class (["class","IS","c<k%5>"], 0.01 cpu, 16 MiB, one dynamic host
port).

1. fill: every app created (PUT /v2/apps in bulk), time until the simulated agents run every
   instance and the master has acknowledged every update; master RSS after.
2. churn: one new one-instance app at a time: submit (POST /v2/apps) → the instance is in the
   master's state (GET /v2/apps/{id}/tasks lists it), p50/p99; and the POST's own latency.

    python3 bench/bench_place_sim.py [--agents 500] [--apps 100] [--instances 1000] [--churn 200]
                                     [--build build] [--perf perf.data]

Prints one line per figure; writes nothing. --perf FILE records the master with `perf record
--call-graph dwarf` during --perf-phase (fill or churn).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_api import ROOT, free_port  # noqa: E402


def call(port, method, path, body=None, timeout=120):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            text = r.read()
            try:
                return r.status, json.loads(text) if text else None
            except ValueError:
                return r.status, text
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def up(port):
    try:
        return call(port, "GET", "/ping", timeout=2)[0] == 200
    except OSError:
        return False


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def wait(fn, timeout, what):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(0.05)
    raise TimeoutError(f"{what}: {last}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--agents", type=int, default=500)
    ap.add_argument("--apps", type=int, default=100)
    ap.add_argument("--instances", type=int, default=1000)
    ap.add_argument("--churn", type=int, default=200)
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--perf")
    ap.add_argument("--master-arg", action="append", default=[], help="extra flag for strata master")
    ap.add_argument("--perf-phase", choices=["fill", "churn"], default="fill")
    a = ap.parse_args()
    strata = os.path.join(ROOT, a.build, "strata")
    base = tempfile.mkdtemp(prefix="strata-bench-place-")
    http, raft, sim_http = free_port(), free_port(), free_port()
    log = open(os.path.join(base, "log"), "ab")
    wrap = os.environ.get("BENCH_WRAP", "").split()  # e.g. "valgrind --tool=massif" (diagnostics)
    master = subprocess.Popen([*wrap, strata, "master", "--data-dir", os.path.join(base, "m"), "--http",
                               f"127.0.0.1:{http}", "--raft", f"127.0.0.1:{raft}", "--log-level", "warn", "--auth", "off",
                               *a.master_arg],
                              stdout=log, stderr=subprocess.STDOUT)
    procs = [master]
    try:
        wait(lambda: up(http) if master.poll() is None else sys.exit("master died"), 20, "master up")
        sim = subprocess.Popen([strata, "agent-sim", "--master", f"http://127.0.0.1:{http}", "--count",
                                str(a.agents), "--classes", "5", "--http", f"127.0.0.1:{sim_http}", "--resources",
                                "cpus:64;mem:262144;disk:100000;ports:[31000-33000]", "--ramp", "0"],
                               stdout=log, stderr=subprocess.STDOUT)
        procs.append(sim)
        wait(lambda: len(call(http, "GET", "/v1/nodes")[1]["nodes"]) == a.agents, 60, "agents registered")
        total = a.apps * a.instances
        rss0 = rss_kib(master.pid)
        perf = None
        def perf_start():
            return subprocess.Popen(["perf", "record", "--call-graph", "dwarf,16384", "-F", "499", "-o", a.perf,
                                     "-p", str(master.pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if a.perf and a.perf_phase == "fill":
            perf = perf_start()
        t0 = time.time()
        batch = 100
        for k in range(0, a.apps, batch):
            apps = [{"id": f"/c1m/a{i}", "cmd": "sleep 1000", "cpus": 0.01, "mem": 16, "instances": a.instances,
                     "constraints": [["class", "IS", f"c{i % 5}"]], "portDefinitions": [{"port": 0}]}
                    for i in range(k, min(a.apps, k + batch))]
            st, body = call(http, "PUT", "/v2/apps", apps)
            assert st == 200, (st, body)
        t_created = time.time() - t0

        progress = {"at": time.time()}

        def all_running():
            s = call(sim_http, "GET", "/v1/sim/stats")[1]
            if time.time() - progress["at"] >= 10:
                progress["at"] = time.time()
                print(f"  {time.time() - t0:.0f} s: {s['tasksByState']}, updates pending {s['updatesPending']}, "
                      f"master RSS {rss_kib(master.pid) // 1024} MiB", flush=True)
            return s if s["tasksByState"].get("TASK_RUNNING", 0) >= total and s["updatesPending"] == 0 else None
        s = wait(all_running, a.timeout, "all running")
        t_fill = time.time() - t0
        if perf and a.perf_phase == "fill":
            perf.send_signal(2)
            perf.wait(60)
        rss = rss_kib(master.pid)
        if os.environ.get("BENCH_DU"):
            subprocess.run(["du", "-sh", os.path.join(base, "m")])
        if os.environ.get("BENCH_TRIM") and shutil.which("gdb"):
            # Diagnostic: how much of the RSS is free heap glibc keeps (fragmentation, peaks).
            subprocess.run(["gdb", "-p", str(master.pid), "-batch", "-ex", "call (int)malloc_trim(0)"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            print(f"after malloc_trim: RSS {rss_kib(master.pid) / 1024:.0f} MiB", flush=True)
        print(f"fill {total} instances ({a.apps} apps x {a.instances}) on {a.agents} agents: created in "
              f"{t_created:.2f} s, all TASK_RUNNING in {t_fill:.2f} s ({total / t_fill:.0f}/s)", flush=True)
        print(f"master RSS {rss / 1024:.0f} MiB, {rss0 / 1024:.0f} MiB before the fill "
              f"({(rss - rss0) * 1024 / total:.0f} bytes/instance); "
              f"sim launches {s['launches']}", flush=True)

        if a.perf and a.perf_phase == "churn":
            perf = perf_start()
        placed, puts = [], []
        for n in range(a.churn):
            # A new one-instance app each time, so that the poll below reads one task, not n.
            t1 = time.perf_counter()
            st, _ = call(http, "POST", "/v2/apps", {"id": f"/churn/c{n}", "cmd": "sleep 1000", "cpus": 0.01,
                                                    "mem": 16, "constraints": [["class", "IS", f"c{n % 5}"]],
                                                    "portDefinitions": [{"port": 0}]})
            t2 = time.perf_counter()
            assert st == 201, st
            deadline = time.time() + 30
            while not call(http, "GET", f"/v2/apps/churn/c{n}/tasks")[1]["tasks"]:
                assert time.time() < deadline, "churn instance not placed"
                time.sleep(0.0005)
            t3 = time.perf_counter()
            puts.append((t2 - t1) * 1000)
            placed.append((t3 - t1) * 1000)

        def pct(v, p):
            v = sorted(v)
            return v[min(len(v) - 1, int(len(v) * p))]
        if perf and a.perf_phase == "churn":
            perf.send_signal(2)
            perf.wait(60)
        print(f"churn over {a.churn}: submit -> placed p50 {pct(placed, .5):.2f} ms p99 {pct(placed, .99):.2f} ms; "
              f"POST p50 {pct(puts, .5):.2f} ms p99 {pct(puts, .99):.2f} ms", flush=True)
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        log.close()
        shutil.copy(os.path.join(base, "log"), os.path.join(tempfile.gettempdir(), "bench_place_sim.log"))
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
