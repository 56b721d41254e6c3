#!/usr/bin/env python3
"""Launch benchmark on `strata dev` (a master and an agent in one process, native runtime):

1. POST /v2/apps (instances 1, cmd "sleep 1000") → the task is TASK_RUNNING, watched through
   the master's API: p50/p99 over N runs (default 100). Each app is deleted before the next.
2. One app scaled from 0 to 500 instances on the one agent: launches per second until all 500
   are TASK_RUNNING.

Needs root (tasks run in cgroups). Appends a table to bench/RESULTS.md.

    python3 bench/bench_launch.py [--runs 100] [--scale 500] [--smoke]
"""
import argparse
import datetime
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_api import ROOT, free_port, machine  # noqa: E402


class Api:
    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(self, method, path, body=None):
        self.conn.request(method, path, json.dumps(body) if body is not None else None,
                          {"Content-Type": "application/json"})
        r = self.conn.getresponse()
        data = r.read()
        return r.status, json.loads(data) if data else None


def wait_running(api, app_id, n, timeout=60, poll=0.0005):
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        st, body = api.call("GET", f"/v2/apps{app_id}/tasks")
        if st == 200 and sum(t["state"] == "TASK_RUNNING" for t in body["tasks"]) >= n:
            return time.perf_counter()
        time.sleep(poll)
    raise TimeoutError(f"{app_id}: {n} tasks not running")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--scale", type=int, default=500)
    ap.add_argument("--smoke", action="store_true")
    a = ap.parse_args()
    runs, scale = (10, 50) if a.smoke else (a.runs, a.scale)
    base = tempfile.mkdtemp(prefix="strata-bench-launch-")
    # A task command no other process on the machine runs, so the cleanup below kills only ours.
    sleep_cmd = f"sleep 1000.{os.getpid()}"
    http_port, raft_port, agent_port = free_port(), free_port(), free_port()
    strata = os.path.join(ROOT, a.build, "strata")
    proc = subprocess.Popen([strata, "dev", "--data-dir", base, "--http", f"127.0.0.1:{http_port}", "--raft",
                             f"127.0.0.1:{raft_port}", "--agent-http", f"127.0.0.1:{agent_port}", "--log-level",
                             "warn", "--auth", "off"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        api = None
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                api = Api(http_port)
                st, body = api.call("GET", "/v1/nodes")
                if st == 200 and body["nodes"] and body["nodes"][0]["connected"]:
                    break
            except OSError:
                pass
            time.sleep(0.05)
        lat = []
        for i in range(runs):
            t0 = time.perf_counter()
            st, _ = api.call("POST", "/v2/apps", {"id": f"/lat/a{i}", "cmd": sleep_cmd, "cpus": 0.01, "mem": 8,
                                                  "portDefinitions": []})
            assert st == 201, st
            t1 = wait_running(api, f"/lat/a{i}", 1)
            lat.append((t1 - t0) * 1000)
            api.call("DELETE", f"/lat/a{i}".join(["/v2/apps", ""]))
        lat.sort()
        p50, p99 = lat[len(lat) // 2], lat[min(len(lat) - 1, int(len(lat) * 0.99))]
        print(f"POST /v2/apps -> TASK_RUNNING over {runs} runs: p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
              f"min {lat[0]:.1f} ms, max {lat[-1]:.1f} ms", flush=True)
        time.sleep(2)  # let the deletions settle
        st, _ = api.call("POST", "/v2/apps", {"id": "/scale", "cmd": sleep_cmd, "cpus": 0.001, "mem": 1,
                                              "instances": 0, "portDefinitions": []})
        assert st == 201
        t0 = time.perf_counter()
        st, _ = api.call("PUT", "/v2/apps/scale", {"instances": scale})
        assert st == 200
        t1 = wait_running(api, "/scale", scale, timeout=300, poll=0.05)
        rate = scale / (t1 - t0)
        print(f"scale 0 -> {scale} on one agent: {t1 - t0:.2f} s, {rate:.0f} launches/s", flush=True)
        api.call("DELETE", "/v2/apps/scale")
        time.sleep(3)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
        # tasks outlive the agent by design: clean up what is left
        subprocess.run(["pkill", "-f", f"__shim {base}"], check=False)
        subprocess.run(["pkill", "-9", "-f", sleep_cmd], check=False)
        shutil.rmtree(base, ignore_errors=True)
    if a.smoke:
        return 0
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    with open(os.path.join(ROOT, "bench", "RESULTS.md"), "a") as f:
        f.write(f"\n## Launch latency and rate (bench/bench_launch.py) — {datetime.date.today()}, commit {commit}\n\n")
        f.write(f"Machine: {machine()}. `strata dev` (master + agent, native runtime with cgroups), "
                "client polling the API every 0.5 ms.\n\n")
        f.write("| measure | figure | target |\n| --- | --- | --- |\n")
        f.write(f"| POST /v2/apps → TASK_RUNNING, p50 ({runs} runs) | {p50:.1f} ms | < 20 ms |\n")
        f.write(f"| POST /v2/apps → TASK_RUNNING, p99 | {p99:.1f} ms | |\n")
        f.write(f"| one app scaled 0 → {scale} on one agent | {rate:.0f} launches/s ({t1 - t0:.2f} s) | |\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
