#!/usr/bin/env python3
"""Jobs benchmark (issue 15): N Metronome jobs due in the same minute on simulated agents.

A master (cluster of one) and `strata agent-sim` (100 agents) run; N jobs are created, each with
a cron schedule for the same minute (the first minute boundary far enough ahead that creating
them all fits before it). After the tick every job's run is read back: the delay from the tick to the placement
of its task (the task's startedAt, set by the leader when it places the task, a Raft commit
before the LAUNCH goes out), p50/p99/max; and the master's RSS per job (after creating them,
before the tick, less the RSS before).

    python3 bench/bench_jobs.py [--jobs 10000] [--smoke]

Appends a section to bench/RESULTS.md (not with --smoke)."""
import argparse
import calendar
import datetime
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_api import ROOT, free_port, machine  # noqa: E402


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def parse_time(s):
    # "2026-12-07T23:14:00.022+0000"
    return calendar.timegm(time.strptime(s[:19], "%Y-%m-%dT%H:%M:%S")) + int(s[20:23]) / 1000


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--jobs", type=int, default=10000)
    ap.add_argument("--agents", type=int, default=100)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--no-record", action="store_true", help="print, do not append to RESULTS.md")
    ap.add_argument("--keep", action="store_true", help="keep the data dirs and logs")
    ap.add_argument("--perf-tick", help="profile the master from 1 s before the tick for 5 s into this file")
    ap.add_argument("--perf", help="record the master with `perf record -g` into this file (RSS figures then meaningless)")
    a = ap.parse_args()
    n = 200 if a.smoke else a.jobs
    strata = os.path.join(ROOT, a.build, "strata")
    base = tempfile.mkdtemp(prefix="strata-bench-jobs-")
    port, raft, sim_port = free_port(), free_port(), free_port()
    log = open(os.path.join(base, "master.log"), "wb")
    wrap = ["perf", "record", "-g", "-o", a.perf, "--"] if a.perf else []
    master = subprocess.Popen(wrap + [strata, "master", "--data-dir", os.path.join(base, "m"), "--http", f"127.0.0.1:{port}",
                               "--raft", f"127.0.0.1:{raft}", "--auth", "off"],  # bench_auth.py measures tokens
                              stdout=log, stderr=subprocess.STDOUT)
    sim = None
    try:
        for _ in range(200):
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                c.request("GET", "/v2/leader")
                r = c.getresponse()
                r.read()
                c.close()
                if r.status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.05)
        conn = [http.client.HTTPConnection("127.0.0.1", port, timeout=60)]

        def call(method, path, body=None):
            for attempt in range(2):
                try:
                    conn[0].request(method, path, json.dumps(body) if body is not None else None,
                                    {"Content-Type": "application/json"})
                    r = conn[0].getresponse()
                    data = r.read()
                    return r.status, (json.loads(data) if data else None)
                except (http.client.HTTPException, OSError):
                    # An idle keep-alive connection the server closed: open a new one once.
                    if attempt or master.poll() is not None:
                        raise
                    conn[0] = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

        sim = subprocess.Popen([strata, "agent-sim", "--master", f"http://127.0.0.1:{port}", "--count", str(a.agents),
                                "--http", f"127.0.0.1:{sim_port}"], stdout=open(os.path.join(base, "sim.log"), "wb"),
                               stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while len(call("GET", "/v1/nodes")[1]["nodes"]) < a.agents:
            if time.time() > deadline:
                raise TimeoutError("agents did not register")
            time.sleep(0.2)
        rss0 = rss_kib(master.pid)
        # The first minute boundary far enough ahead to create them all (about 2.5 ms a job here).
        margin = 15 + n * 0.006
        tick = (int(time.time() + margin) // 60 + 1) * 60
        t = time.gmtime(tick)
        cron = f"{t.tm_min} {t.tm_hour} * * *"
        t0 = time.time()
        for i in range(n):
            st, body = call("POST", "/v1/jobs", {
                "id": f"bench.job{i}", "run": {"cmd": "sleep 1000", "cpus": 0.01, "mem": 32, "disk": 0},
                "schedules": [{"id": "same-minute", "cron": cron}]})
            if st != 201:
                raise RuntimeError(f"POST job {i}: {st} {body}")
        create_s = time.time() - t0
        if time.time() > tick - 5:
            raise RuntimeError(f"creating {n} jobs took {create_s:.0f} s: past the tick")
        rss1 = rss_kib(master.pid)
        load = os.getloadavg()[0]
        prof = None
        if a.perf_tick:
            while time.time() < tick - 1:
                time.sleep(0.1)
            prof = subprocess.Popen(["perf", "record", "-g", "-p", str(master.pid), "-o", a.perf_tick, "--", "sleep", "5"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while time.time() < tick + 5:
            time.sleep(0.5)
        if prof:
            prof.wait(30)
        # Every job's run, with its task placed.
        delays = []
        deadline = time.time() + 120
        while True:
            st, jobs = call("GET", "/v1/jobs?embed=activeRuns&embed=history")
            delays = []
            for j in jobs:
                runs = j.get("activeRuns", [])
                if runs and runs[0]["tasks"]:
                    delays.append(parse_time(runs[0]["tasks"][0]["startedAt"]) - tick)
            if len(delays) >= n or time.time() > deadline:
                break
            time.sleep(1)
        if len(delays) < n:
            raise RuntimeError(f"only {len(delays)} of {n} runs placed")
        p50, p99, mx = pct(delays, 50), pct(delays, 99), max(delays)
        per_job = (rss1 - rss0) / n
        commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True).stdout.strip()
        line = (f"{n} jobs due at one tick, {a.agents} simulated agents: tick → task placed p50 {p50 * 1000:.0f} ms, "
                f"p99 {p99 * 1000:.0f} ms, max {mx * 1000:.0f} ms; master RSS {rss0 / 1024:.0f} → {rss1 / 1024:.0f} MiB "
                f"({per_job:.1f} KiB per job); creating them took {create_s:.1f} s")
        print(line)
        if not a.smoke and not a.perf and not a.perf_tick and not a.no_record:
            with open(os.path.join(ROOT, "bench", "RESULTS.md"), "a") as f:
                f.write(f"\n## Jobs: {n} due in the same minute (bench/bench_jobs.py)\n\n"
                        f"{datetime.date.today().isoformat()}, commit {commit}, {machine()}, load average "
                        f"{load:.1f} at the tick (a shared machine: other engineers' builds and tests ran).\n\n"
                        f"{line}.\n")
    finally:
        if sim:
            sim.terminate()
            sim.wait(10)
        master.terminate()
        master.wait(10)
        log.close()
        if a.keep or master.returncode not in (0, -15):
            print(f"master exited with {master.returncode}; logs kept in {base}", file=sys.stderr)
        else:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
