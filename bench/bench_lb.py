#!/usr/bin/env python3
"""Edge balancer benchmark (issue 12): `strata lb` with a real HAProxy.

  latency   one real task (the e2e test's Python server, Nagle off) behind the edge: p50/p99 of
            sequential keep-alive GETs straight to the task and through the edge's vhost
            frontend; the difference is what the edge adds.
  rps       requests/s through the edge with ApacheBench (32 clients), new connection per
            request and keep-alive, four tasks behind it; and straight to one task for scale.
  change    1,000 apps (one task each, simulated agents: `strata agent-sim`) all exposed by one
            balancer; then one app at a time is scaled 1 -> 2: time from the master's
            status_update_event TASK_RUNNING of the new task to HAProxy's Runtime API listing the
            new server (`show servers state`), with no reload. Also the first full render+load.

    python3 bench/bench_lb.py                 # all, records a dated table in bench/RESULTS.md
    python3 bench/bench_lb.py --smoke         # small and quick, prints only
    python3 bench/bench_lb.py --only change --no-record
"""
import argparse
import datetime
import http.client
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_api import ROOT, free_port, git_commit, machine  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "test", "e2e"))
from test_lb import APP_PY  # noqa: E402  (the e2e test's server)

# importing the e2e module set the test session's credentials; this cluster runs --auth off
for _k in ("STRATA_SERVICE_ACCOUNT", "STRATA_PRIVATE_KEY", "STRATA_CONFIG"):
    os.environ.pop(_k, None)


def http_json(port, method, path, body=None, timeout=30):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=json.dumps(body) if body is not None else None,
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
        return r.status, (json.loads(data) if data else None)
    finally:
        c.close()


def wait(what, fn, timeout, interval=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            v = fn()
            if v:
                return v
        except (OSError, ValueError, KeyError, http.client.HTTPException):
            pass
        time.sleep(interval)
    raise RuntimeError(f"timed out waiting for {what}")


class Proc:
    def __init__(self, cmd, log):
        self.logf = open(log, "ab")
        self.p = subprocess.Popen(cmd, stdout=self.logf, stderr=subprocess.STDOUT)

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(15)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.logf.close()


class Cluster:
    """A master, agents (a real one or simulated ones) and a balancer, under base."""

    def __init__(self, strata, base, sim_agents=0):
        self.procs = []
        try:
            self._start(strata, base, sim_agents)
        except BaseException:
            for p in reversed(self.procs):  # nothing started is left behind
                p.stop()
            raise

    def _start(self, strata, base, sim_agents):
        self.strata, self.base = strata, base
        self.port = free_port()
        self.procs.append(Proc([strata, "master", "--data-dir", f"{base}/m", "--http", f"127.0.0.1:{self.port}", "--raft",
                            f"127.0.0.1:{free_port()}", "--log-level", "warn", "--auth", "off"], f"{base}/m.log"))
        wait("master", lambda: http_json(self.port, "GET", "/v2/leader")[0] == 200, 30)
        if sim_agents:
            self.procs.append(Proc([strata, "agent-sim", "--master", f"http://127.0.0.1:{self.port}", "--count",
                                    str(sim_agents), "--hostname", "10.1.0.{i}",
                                    "--resources", "cpus:64;mem:262144;disk:100000;ports:[31000-32000]"],
                                   f"{base}/sim.log"))
        else:
            self.agent_port = free_port()
            self.procs.append(Proc([strata, "agent", "--master", f"http://127.0.0.1:{self.port}", "--data-dir",
                                    f"{base}/a", "--http", f"127.0.0.1:{self.agent_port}", "--resources",
                                    "cpus:8;mem:4000;disk:1000;ports:[31000-31200]", "--dns", "off",
                                    "--cgroup-parent", f"strata-bench-lb-{os.getpid()}"], f"{base}/a.log"))
        n = max(sim_agents, 1)
        wait("agents", lambda: len(http_json(self.port, "GET", "/v1/nodes")[1]["nodes"]) >= n, 60)
        self.lb_port, self.status_port = free_port(), free_port()
        self.procs.append(Proc([strata, "lb", "--master", f"http://127.0.0.1:{self.port}", "--group", "external",
                                "--http-port", str(self.lb_port), "--data-dir", f"{base}/lb", "--http",
                                f"127.0.0.1:{self.status_port}", "--log-level", "warn"], f"{base}/lb.log"))
        self.socket = f"{base}/lb/haproxy.sock"

    def lb_status(self):
        return http_json(self.status_port, "GET", "/_strata/lb/config")[1]

    def runtime(self, cmd):
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(self.socket)
            s.sendall(cmd.encode() + b"\n")
            out = b""
            while True:
                d = s.recv(65536)
                if not d:
                    return out.decode()
                out += d

    def stop(self):
        if hasattr(self, "agent_port"):  # tasks outlive agents by design: stop ours first
            try:
                for app in http_json(self.port, "GET", "/v2/apps")[1]["apps"]:
                    http_json(self.port, "DELETE", f"/v2/apps{app['id']}?force=true")
                wait("tasks gone", lambda: not http_json(self.agent_port, "GET", "/state")[1]["tasks"], 20)
            except (OSError, ValueError, KeyError, RuntimeError):
                pass
        for p in reversed(self.procs):
            p.stop()


def web(app_py, sp, n):
    return {"id": "/web", "cmd": f"exec python3 {app_py} $PORT0", "instances": n, "cpus": 0.1, "mem": 64,
            "portDefinitions": [{"port": sp}],
            "labels": {"HAPROXY_GROUP": "external", "HAPROXY_0_VHOST": "web.example.com"}}


def settle(c, n, sp):
    wait("tasks running", lambda: len([t for t in http_json(c.port, "GET", "/v2/apps/web/tasks")[1]["tasks"]
                                       if t["state"] == "TASK_RUNNING"]) == n, 60)
    wait("servers", lambda: sum(len(b["servers"]) for s in c.lb_status()["services"] for b in s["backends"]) == n, 30)
    time.sleep(1)


def timed_gets(port, host, n):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        conn.request("GET", "/", headers={"Host": host})
        r = conn.getresponse()
        r.read()
        out.append(time.perf_counter() - t0)
        if r.status != 200:
            raise RuntimeError(f"HTTP {r.status}")
    conn.close()
    return out


def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(q / 100 * len(v)))]


def scenario_latency_rps(strata, base, smoke, results):
    c = Cluster(strata, base)
    try:
        app_py = f"{base}/app.py"
        with open(app_py, "w") as f:
            f.write(APP_PY)
        sp = free_port()
        http_json(c.port, "POST", "/v2/apps", web(app_py, sp, 1))
        settle(c, 1, sp)
        task_port = http_json(c.port, "GET", "/v2/apps/web/tasks")[1]["tasks"][0]["ports"][0]
        n = 500 if smoke else 5000
        timed_gets(task_port, "x", 200)  # warm up
        direct = timed_gets(task_port, "web.example.com", n)
        edge = timed_gets(c.lb_port, "web.example.com", n)
        for name, v in (("direct", direct), ("edge", edge)):
            results.append((f"latency {name} p50 / p99 (keep-alive, sequential, {n} GETs)",
                            f"{pct(v, 50) * 1e6:.0f} µs / {pct(v, 99) * 1e6:.0f} µs"))
        results.append(("latency added by the edge p50 / p99",
                        f"{(pct(edge, 50) - pct(direct, 50)) * 1e6:.0f} µs / {(pct(edge, 99) - pct(direct, 99)) * 1e6:.0f} µs"))
        http_json(c.port, "PUT", "/v2/apps/web", {"instances": 4})
        settle(c, 4, sp)
        total = 3000 if smoke else 30000
        for label, keep, port in (("edge, new connection per request", [], c.lb_port),
                                  ("edge, keep-alive", ["-k"], c.lb_port),
                                  ("direct to one task, new connection per request", [], task_port)):
            out = subprocess.run(["ab", "-q", "-l", "-c", "32", "-n", str(total), *keep, "-H", "Host: web.example.com",
                                  f"http://127.0.0.1:{port}/"], capture_output=True, text=True).stdout
            fields = dict((k.strip(), v.strip()) for k, _, v in (line.partition(":") for line in out.splitlines()))
            failed = int(fields.get("Failed requests", "0")) + int(fields.get("Non-2xx responses", "0"))
            rps = fields.get("Requests per second", "?").split()[0]
            results.append((f"requests/s {label} (ab -c 32, 4 tasks)" if port == c.lb_port else
                            f"requests/s {label} (ab -c 32)", f"{rps} ({failed} failed)"))
    finally:
        c.stop()


def scenario_change(strata, base, smoke, results):
    n_apps = 100 if smoke else 1000
    c = Cluster(strata, base, sim_agents=10)
    try:
        ports = random.sample(range(20001, 30000), n_apps)
        t0 = time.time()
        for i in range(n_apps):
            st, _ = http_json(c.port, "POST", "/v2/apps", {
                "id": f"/bench/app{i:04d}", "cmd": "sleep 1000", "instances": 1, "cpus": 0.01, "mem": 8,
                "portDefinitions": [{"port": ports[i]}],
                "labels": {"HAPROXY_GROUP": "external", "HAPROXY_0_VHOST": f"app{i}.example.com"}})
            assert st == 201, st
        wait("every app routed", lambda: sum(1 for s in c.lb_status()["services"]
                                             if s["backends"][0]["servers"]) == n_apps, 300, 0.5)
        wait("haproxy idle", lambda: not http_json(c.port, "GET", "/v2/deployments")[1], 60)
        st = c.lb_status()
        results.append((f"{n_apps} apps: created and all routed", f"{time.time() - t0:.1f} s "
                        f"(config {len(st['config']) // 1024} KiB, last full render+load {st['haproxy']['lastReloadMs']:.0f} ms, "
                        f"resync {st['lastSyncMs']:.0f} ms)"))
        reloads = st["haproxy"]["reloads"]
        # one app at a time 1 -> 2: event to Runtime API state
        running_at = {}
        stop = threading.Event()

        def watch():
            conn = http.client.HTTPConnection("127.0.0.1", c.port, timeout=600)
            conn.request("GET", "/v2/events?event_type=status_update_event", headers={"Accept": "text/event-stream"})
            r = conn.getresponse()
            while not stop.is_set():
                line = r.fp.readline()
                if not line:
                    return
                if line.startswith(b"data:"):
                    ev = json.loads(line[5:])
                    if ev.get("taskStatus") == "TASK_RUNNING":
                        running_at[ev["taskId"]] = time.time()
        w = threading.Thread(target=watch, daemon=True)
        w.start()
        time.sleep(1)
        delays = []
        trials = 10 if smoke else 30
        for i in random.sample(range(n_apps), trials):
            app = f"/bench/app{i:04d}"
            old = {t["id"] for t in http_json(c.port, "GET", f"/v2/apps{app}/tasks")[1]["tasks"]}
            http_json(c.port, "PUT", f"/v2/apps{app}?force=true", {"instances": 2})
            new = wait("new task", lambda: {t["id"]: t for t in http_json(c.port, "GET", f"/v2/apps{app}/tasks")[1]["tasks"]
                                            if t["id"] not in old and t["state"] == "TASK_RUNNING"}, 30, 0.01)
            tid, task = next(iter(new.items()))
            backend = f"bench_app{i:04d}_{ports[i]}"
            needle = f" {task['ports'][0]} "

            def live():
                return any(needle in line and f" {backend} " in f" {line} " and line.split()[5] == "2"
                           for line in c.runtime(f"show servers state {backend}").splitlines()[1:])
            wait("server live", live, 30, 0.002)
            seen = time.time()
            ev = wait("event", lambda: running_at.get(tid), 10, 0.01)
            delays.append(seen - ev)
        stop.set()
        st = c.lb_status()
        results.append((f"task change -> HAProxy serving it, {n_apps} apps ({trials} changes) p50 / max",
                        f"{pct(delays, 50) * 1000:.0f} ms / {max(delays) * 1000:.0f} ms "
                        f"(reloads during the changes: {st['haproxy']['reloads'] - reloads})"))
    finally:
        c.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--only", default="latency,change")
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args()
    strata = os.path.join(ROOT, args.build, "strata")
    load_before = os.getloadavg()
    results = []
    for name, fn in (("latency", scenario_latency_rps), ("change", scenario_change)):
        if name not in args.only.split(","):
            continue
        base = tempfile.mkdtemp(prefix=f"bench-lb-{name}-")
        try:
            fn(strata, base, args.smoke, results)
        finally:
            if os.environ.get("BENCH_KEEP") is None:
                shutil.rmtree(base, ignore_errors=True)
    load_after = os.getloadavg()
    hx = subprocess.run(["haproxy", "-v"], capture_output=True, text=True).stdout.splitlines()[0]
    lines = [f"\n## Edge balancer (`bench/bench_lb.py`{' --smoke' if args.smoke else ''}) — "
             f"{datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC, commit {git_commit()}\n",
             f"Machine: {machine()}; {hx}. Load average {load_before[0]:.1f} before, {load_after[0]:.1f} after "
             f"(the machine is shared with other engineers' builds and tests: figures are pessimistic).\n",
             "| measure | result |", "| --- | --- |"] + [f"| {k} | {v} |" for k, v in results]
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.smoke and not args.no_record:
        with open(os.path.join(ROOT, "bench", "RESULTS.md"), "a") as f:
            f.write(text)


if __name__ == "__main__":
    main()
