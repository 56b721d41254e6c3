#!/usr/bin/env python3
"""Control-plane benchmark at cluster scale: real masters, thousands of simulated agents
(`strata agent-sim`), driven through the public API. Five scenarios (issue 6):

  c1m       5,000 agents in 5 attribute classes; 1,000 apps x 1,000 instances, each app pinned to
            one class: time to the first task running and to 50/95/99/100 % running,
            placements/s and running/s.
  churn     1,000 agents, 10,000 apps x 1 running task, then 20 app changes per second for 60 s:
            p50/p99 of submit -> placed and submit -> running; API p99 of the mutating calls,
            single-app reads and GET /v2/apps (all 10,000 apps).
  failover  3 masters, 1,000 agents, 10,000 tasks; kill -9 the leader: time until a new leader
            accepts writes, until every agent has resubscribed, until the state is reconciled
            (every task running once: none lost, none duplicated, none relaunched).
  loss      an agent dies (stops answering): time until its tasks run elsewhere (15 s timeout).
  memory    master RSS per agent, and per task at 10k, 100k and 1M tasks.

Each scenario has a small variant (--smoke) that finishes in well under a minute. The full run
appends a dated table (machine, date, commit) to bench/RESULTS.md; --smoke only prints.

    make bench-smoke                                   # every smoke variant, prints only
    python3 bench/bench_scale.py                       # all five, full size, records
    python3 bench/bench_scale.py --only churn,loss     # some of them
    python3 bench/bench_scale.py --only c1m --no-record

Figures come from the API: /metrics (instance totals by state, summed from per-app counters, so
polling is cheap even at a million tasks), /v2/apps/{id}/tasks (stagedAt/startedAt, stamped with
the leader's clock on this same machine), and the simulator's own control API (/v1/sim/stats:
subscriptions, launches, kills). Master memory is VmRSS from /proc.
"""
import argparse
import datetime
import http.client
import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_api import ROOT, filesystem, free_port, git_commit, machine  # noqa: E402


# --- processes --------------------------------------------------------------------------------

class Api:
    """A keep-alive HTTP/1.1 connection to one port; reconnects after errors."""

    def __init__(self, port, timeout=60):
        self.port, self.timeout, self.conn = port, timeout, None

    def call(self, method, path, body=None, timeout=None):
        """(status, parsed JSON or text, seconds). Status 0 on a transport error."""
        data = json.dumps(body) if body is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else {}
        t0 = time.perf_counter()
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout or self.timeout)
            self.conn.request(method, path, body=data, headers=headers)
            r = self.conn.getresponse()
            raw = r.read()
            dt = time.perf_counter() - t0
            ctype = r.getheader("Content-Type") or ""
            payload = json.loads(raw) if "json" in ctype and raw else raw.decode(errors="replace")
            return r.status, payload, dt
        except (OSError, http.client.HTTPException, ValueError):
            if self.conn:
                self.conn.close()
            self.conn = None
            return 0, None, time.perf_counter() - t0


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Masters:
    """1 or 3 `strata master` processes with fresh data dirs under base."""

    def __init__(self, strata, base, n=1, extra=()):
        self.base = base
        self.http = [free_port() for _ in range(n)]
        raft = [free_port() for _ in range(n)]
        addrs = ",".join(f"127.0.0.1:{p}" for p in raft)
        self.procs = []
        for i in range(n):
            cmd = [strata, "master", "--data-dir", os.path.join(base, f"m{i}"), "--http", f"127.0.0.1:{self.http[i]}",
                   "--raft", f"127.0.0.1:{raft[i]}", "--log-level", "warn", "--auth", "off", *extra]
            if n > 1:
                cmd += ["--masters", addrs]
            log = open(os.path.join(base, f"m{i}.log"), "ab")
            self.procs.append(subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT))
        self.leader = self.find_leader(30)

    def urls(self):
        return ",".join(f"http://127.0.0.1:{p}" for p in self.http)

    def find_leader(self, timeout, exclude=()):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for i, p in enumerate(self.http):
                if i in exclude or self.procs[i].poll() is not None:
                    continue
                st, body, _ = Api(p, 1).call("GET", "/v1/cluster?stale=true", timeout=1)
                if st == 200 and isinstance(body, dict) and body.get("state") == "leader":
                    return i
            time.sleep(0.02)
        raise RuntimeError(f"no leader within {timeout} s; logs in {self.base}")

    @property
    def pid(self):
        return self.procs[self.leader].pid

    @property
    def port(self):
        return self.http[self.leader]

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait()


class Sim:
    """One `strata agent-sim` process."""

    def __init__(self, strata, base, masters, count, *extra):
        self.port = free_port()
        self.count = count
        cmd = [strata, "agent-sim", "--master", masters.urls(), "--count", str(count), "--http",
               f"127.0.0.1:{self.port}", *extra]
        log = open(os.path.join(base, "sim.log"), "ab")
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        self.api = Api(self.port)

    def stats(self):
        for _ in range(50):
            st, body, _ = self.api.call("GET", "/v1/sim/stats")
            if st == 200:
                return body
            time.sleep(0.1)
        raise RuntimeError("agent-sim does not answer")

    def post(self, path):
        return self.api.call("POST", path)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def metrics(port):
    """The leader's gauges: {"apps": n, "agents_active": n, "instances_running": n, …}."""
    st, text, _ = Api(port, 30).call("GET", "/metrics")
    out = {}
    if st != 200:
        return out
    for line in text.splitlines():
        if line.startswith("#") or " " not in line:
            continue
        name, value = line.rsplit(" ", 1)
        name = name.replace("strata_", "").replace('{state="', "_").replace('"}', "")
        out[name] = float(value)
    return out


def wait(what, fn, timeout, interval=0.05):
    """Polls fn until it returns something true; returns (value, seconds) or raises."""
    t0 = time.perf_counter()
    deadline = t0 + timeout
    last = None
    while time.perf_counter() < deadline:
        last = fn()
        if last:
            return last, time.perf_counter() - t0
        time.sleep(interval)
    raise TimeoutError(f"{what}: not reached in {timeout:.0f} s (last: {last!r})")


def registered(masters, sim, timeout):
    wait(f"{sim.count} agents subscribed", lambda: sim.stats()["subscribed"] == sim.count, timeout, 0.2)
    wait(f"{sim.count} agents active", lambda: metrics(masters.port).get("agents_active") == sim.count, timeout, 0.2)


def iso_ms(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp() * 1000 if s else None


def pct(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))] if v else float("nan")


def create_apps(api, apps):
    """POSTs each app; returns the latencies. Raises on a non-201."""
    lat = []
    for app in apps:
        st, body, dt = api.call("POST", "/v2/apps", app)
        if st != 201:
            raise RuntimeError(f"POST /v2/apps {app['id']}: {st} {body}")
        lat.append(dt)
    return lat


def fmt_s(x):
    return f"{x:.2f} s" if x == x else "—"


# --- scenarios --------------------------------------------------------------------------------
# Each returns (title, description, rows); a row is (measure, figure, target or "", met: True/False/None).

C1M_SHAPE = None  # (agents, apps, instances per app) from --c1m-shape, else the scenario's own


def scenario_c1m(strata, base, smoke):
    agents, classes, n_apps, per_app = (250, 5, 20, 100) if smoke else (5000, 5, 1000, 1000)
    if C1M_SHAPE:
        agents, n_apps, per_app = C1M_SHAPE
    total = n_apps * per_app
    limit = 45 if smoke and not C1M_SHAPE else 300
    m = Masters(strata, base)
    sim = Sim(strata, base, m, agents, "--classes", str(classes), "--resources", "cpus:64;mem:262144")
    try:
        registered(m, sim, 120)
        rss0 = rss_kib(m.pid)
        api = Api(m.port)
        samples = []  # (t, placed, running)
        t0 = time.perf_counter()
        cpu0, sim_cpu0, me0 = cpu_seconds(m.pid), cpu_seconds(sim.proc.pid), time.process_time()
        apps = [{"id": f"/c1m/app{i}", "cmd": "sleep 1d", "cpus": 0.01, "mem": 16, "instances": per_app,
                 "constraints": [["class", "IS", f"c{i % classes}"]]} for i in range(n_apps)]
        post_lat = []
        creator = threading.Thread(target=lambda: post_lat.extend(create_apps(Api(m.port), apps)))
        creator.start()
        done = False
        while time.perf_counter() - t0 < limit:
            g = metrics(m.port)
            t = time.perf_counter() - t0
            samples.append((t, g.get("instances_stored", 0), g.get("instances_running", 0)))
            if samples[-1][2] >= total:
                done = True
                break
            time.sleep(0.02 if smoke else 0.25)
        creator.join()
        cpu = cpu_seconds(m.pid) - cpu0
        sim_cpu, me = cpu_seconds(sim.proc.pid) - sim_cpu0, time.process_time() - me0
        rss = rss_kib(m.pid)
        sst = sim.stats()
    finally:
        sim.stop()
        m.stop()

    def first(frac, col):
        return next((t for t, *v in samples if v[col] >= frac * total and v[col] > 0), float("nan"))

    t_all_placed = first(1.0, 0)
    placed_last = samples[-1][1]
    place_rate = (total / t_all_placed) if t_all_placed == t_all_placed else placed_last / samples[-1][0]
    t100 = first(1.0, 1)
    run_rate = total / t100 if t100 == t100 else samples[-1][2] / samples[-1][0]
    target = "" if smoke else "≤ 60 s"
    rows = [
        ("first task TASK_RUNNING", fmt_s(first(1e-9, 1)), "", None),
        ("50 % running", fmt_s(first(0.5, 1)), "", None),
        ("95 % running", fmt_s(first(0.95, 1)), "", None),
        ("99 % running", fmt_s(first(0.99, 1)), "", None),
        ("100 % running", fmt_s(t100) if done else f"not reached: {samples[-1][2]:.0f} of {total} after {limit} s",
         target, (done and t100 <= 60) if not smoke else None),
        ("placements/s (all instances placed)", f"{place_rate:,.0f}/s ({fmt_s(t_all_placed)})", "", None),
        ("running/s", f"{run_rate:,.0f}/s", "", None),
        ("POST /v2/apps p50 / p99 during the run",
         f"{1000 * pct(post_lat, .5):.1f} / {1000 * pct(post_lat, .99):.1f} ms", "", None),
        ("CPU: master / simulator / driver (100 % = one core)",
         f"{100 * cpu / samples[-1][0]:.0f} / {100 * sim_cpu / samples[-1][0]:.0f} / "
         f"{100 * me / samples[-1][0]:.0f} %", "", None),
        ("master RSS before → after", f"{rss0 / 1024:.0f} → {rss / 1024:.0f} MiB", "", None),
        ("simulator RSS", f"{sst['rssKiB'] / 1024:.0f} MiB for {sst['tasks']:,} tasks", "", None),
    ]
    desc = (f"{agents:,} simulated agents in {classes} classes; {n_apps:,} apps × {per_app:,} instances "
            f"(0.01 cpu, 16 MiB, 1 port), each pinned to one class with IS; apps POSTed one after another "
            f"from t = 0; /metrics polled.")
    return "C1M-shaped placement", desc, rows


def _lister(port, n_apps, stop, out):
    """Churn's second client: GET /v2/apps every 0.5 s until stop; sends its latencies to out."""
    la, lat, error = Api(port), [], None
    while not stop.is_set():
        st, body, dt = la.call("GET", "/v2/apps")
        if st == 200:
            lat.append(dt)
            if len(body["apps"]) != n_apps:
                error = f"GET /v2/apps returned {len(body['apps'])} apps"
                break
        stop.wait(0.5)
    out.put(lat if error is None else error)


def scenario_churn(strata, base, smoke):
    agents, n_apps, rate, seconds = (100, 500, 10, 10) if smoke else (1000, 10000, 20, 60)
    m = Masters(strata, base)
    sim = Sim(strata, base, m, agents)
    try:
        registered(m, sim, 120)
        api = Api(m.port)
        apps = [{"id": f"/churn/app{i}", "cmd": "sleep 1d", "cpus": 0.01, "mem": 16, "instances": 1,
                 "portDefinitions": []} for i in range(n_apps)]
        t0 = time.perf_counter()
        create_apps(api, apps)
        wait(f"{n_apps} running", lambda: metrics(m.port).get("instances_running") == n_apps, 300, 0.2)
        fill = time.perf_counter() - t0
        changes, put_lat, get_lat = [], [], []

        # The lister runs in its own process: parsing 6.7 MB of JSON holds a Python process's GIL
        # for ~0.1 s, and in a thread of this process that stall was counted into the PUT and
        # GET latencies (and delayed the PUTs after their submit time was taken).
        ctx = multiprocessing.get_context("fork")
        stop = ctx.Event()
        lq = ctx.Queue()
        lt = ctx.Process(target=_lister, args=(m.port, n_apps, stop, lq))
        lt.start()
        start = time.perf_counter()
        k = 0
        while time.perf_counter() - start < seconds:
            due = start + k / rate
            now = time.perf_counter()
            if due > now:
                time.sleep(due - now)
            app_id = f"/churn/app{(k * 7919) % n_apps}"
            submit = time.time() * 1000
            st, body, dt = api.call("PUT", f"/v2/apps{app_id}", {"env": {"CHURN": str(k)}})
            if st != 200:
                raise RuntimeError(f"PUT {app_id}: {st} {body}")
            put_lat.append(dt)
            changes.append((app_id, body["version"], submit))
            st, _, dt = api.call("GET", f"/v2/apps{app_id}")
            get_lat.append(dt)
            k += 1
        stop.set()
        list_lat = lq.get(timeout=120)
        if isinstance(list_lat, str):
            raise RuntimeError(list_lat)
        lt.join()
        # Every change replaced the app's instance: read when the new one was placed and ran.
        placed, running, missing = [], [], 0
        deadline = time.time() + 60
        for app_id, version, submit in changes:
            while True:
                st, body, _ = api.call("GET", f"/v2/apps{app_id}/tasks")
                t = [x for x in body["tasks"] if x.get("version") == version] if st == 200 else []
                if t and t[0].get("startedAt") or time.time() > deadline:
                    break
                time.sleep(0.05)
            if not t or not t[0].get("startedAt"):
                missing += 1
                continue
            placed.append(iso_ms(t[0]["stagedAt"]) - submit)
            running.append(iso_ms(t[0]["startedAt"]) - submit)
    finally:
        sim.stop()
        m.stop()
    big = not smoke
    rows = [
        (f"fill: {n_apps:,} apps created and running", fmt_s(fill), "", None),
        ("app changes applied", f"{len(changes)} in {seconds} s ({len(changes) / seconds:.1f}/s); {missing} not "
                                f"running within 60 s", "", missing == 0),
        ("submit → placed p50 / p99", f"{pct(placed, .5):.1f} / {pct(placed, .99):.1f} ms", "p99 ≤ 5 ms",
         pct(placed, .99) <= 5 if big else None),
        ("submit → running p50 / p99", f"{pct(running, .5):.1f} / {pct(running, .99):.1f} ms", "", None),
        ("PUT /v2/apps/{id} p50 / p99", f"{1000 * pct(put_lat, .5):.2f} / {1000 * pct(put_lat, .99):.2f} ms",
         "p99 ≤ 10 ms", 1000 * pct(put_lat, .99) <= 10 if big else None),
        ("GET /v2/apps/{id} p50 / p99", f"{1000 * pct(get_lat, .5):.2f} / {1000 * pct(get_lat, .99):.2f} ms", "",
         None),
        (f"GET /v2/apps ({n_apps:,} apps) p50 / p99",
         f"{1000 * pct(list_lat, .5):.1f} / {1000 * pct(list_lat, .99):.1f} ms ({len(list_lat)} calls)",
         "p99 ≤ 100 ms", 1000 * pct(list_lat, .99) <= 100 if big else None),
    ]
    desc = (f"{agents:,} simulated agents, {n_apps:,} apps × 1 instance (no ports); then {rate} app changes per "
            f"second for {seconds} s (PUT of a new env var: a new version replaces the instance), each followed by "
            f"a GET of that app, while another client lists all apps every 0.5 s. Placed = the new task's "
            f"stagedAt (leader clock when the placement is submitted to Raft), running = its startedAt; the "
            f"submit time is taken just before the PUT is sent.")
    return "Churn latency", desc, rows


def scenario_failover(strata, base, smoke):
    agents, n_apps, per_app = (100, 10, 100) if smoke else (1000, 100, 100)
    total = n_apps * per_app
    m = Masters(strata, base, 3)
    sim = Sim(strata, base, m, agents)
    try:
        registered(m, sim, 120)
        create_apps(Api(m.port), [{"id": f"/fo/app{i}", "cmd": "sleep 1d", "cpus": 0.01, "mem": 16,
                                   "instances": per_app, "portDefinitions": []} for i in range(n_apps)])
        wait(f"{total} running", lambda: sim.stats()["tasksByState"].get("TASK_RUNNING") == total
             and metrics(m.port).get("instances_running") == total, 300, 0.2)
        before = sim.stats()
        old = m.leader
        time.sleep(3)  # let the followers catch up on every status update
        t_kill_ms = time.time() * 1000
        t0 = time.perf_counter()
        m.procs[old].send_signal(signal.SIGKILL)
        m.procs[old].wait()
        # writes: any surviving master (followers forward to the leader)
        survivors = [i for i in range(3) if i != old]
        write_at, k = None, 0
        while write_at is None and time.perf_counter() - t0 < 30:
            port = m.http[survivors[k % 2]]
            st, _, _ = Api(port, 1).call("POST", "/v2/apps", {"id": f"/fo/probe{k}", "cmd": "sleep 1d", "instances": 0},
                                         timeout=1)
            if st == 201:
                write_at = time.perf_counter() - t0
            k += 1
            time.sleep(0.01)
        m.leader = m.find_leader(10, exclude=(old,))

        def all_resubscribed():
            s = sim.stats()
            return s if s["subscribed"] == agents and s["firstSubscribedAt"] > t_kill_ms else None

        s, _ = wait("every agent resubscribed", all_resubscribed, 60, 0.05)
        resub = (s["lastSubscribedAt"] - t_kill_ms) / 1000

        def reconciled():
            s = sim.stats()
            g = metrics(m.port)
            return (s["tasksByState"].get("TASK_RUNNING") == total and s["tasks"] == total
                    and s["launches"] == before["launches"] and s["kills"] == before["kills"]
                    and g.get("instances_running") == total and g.get("instances_stored") == total)

        _, _ = wait("reconciled", reconciled, 60, 0.05)
        recon = time.perf_counter() - t0
    finally:
        sim.stop()
        m.stop()
    big = not smoke
    rows = [
        ("new leader accepts writes (POST /v2/apps → 201)", fmt_s(write_at or float("nan")), "≤ 2 s",
         (write_at or 99) <= 2 if big else None),
        (f"all {agents:,} agents resubscribed", fmt_s(resub), "≤ 5 s", resub <= 5 if big else None),
        (f"reconciled: {total:,} tasks running once, none lost, relaunched or killed", fmt_s(recon), "", None),
    ]
    desc = (f"3 masters, {agents:,} simulated agents, {n_apps} apps × {per_app} instances, all running; the "
            f"leader is killed with SIGKILL. Writes are probed every 10 ms on the surviving masters; "
            f"resubscription times come from the simulator (its agents' last SUBSCRIBED); reconciled = the "
            f"new leader and the simulator both count every task running exactly once, with no launch or kill "
            f"since the failover.")
    return "Leader failover", desc, rows


def scenario_loss(strata, base, smoke):
    agents, n_apps, per_app = (50, 5, 40) if smoke else (1000, 100, 100)
    total = n_apps * per_app
    m = Masters(strata, base)
    sim = Sim(strata, base, m, agents)
    try:
        registered(m, sim, 120)
        api = Api(m.port)
        create_apps(api, [{"id": f"/loss/app{i}", "cmd": "sleep 1d", "cpus": 0.01, "mem": 16, "instances": per_app,
                           "portDefinitions": []} for i in range(n_apps)])
        wait(f"{total} running", lambda: sim.stats()["tasksByState"].get("TASK_RUNNING") == total, 300, 0.2)
        _, agents_list, _ = sim.api.call("GET", "/v1/sim/agents")
        victim = max(agents_list, key=lambda a: a["tasks"])
        t0 = time.perf_counter()
        sim.post(f"/v1/sim/agents/{victim['index']}/stop")

        def replaced():
            s = sim.stats()
            return s["tasksByState"].get("TASK_RUNNING") == total and metrics(m.port).get("instances_running") == total

        _, dt = wait("replacements running", replaced, 60, 0.05)
    finally:
        sim.stop()
        m.stop()
    rows = [(f"agent with {victim['tasks']} tasks dies → all {total:,} running again", fmt_s(dt), "≤ 16 s",
             dt <= 16)]
    desc = (f"1 master (default --agent-timeout 15 s), {agents:,} simulated agents, {n_apps} apps × {per_app} "
            f"instances; the agent running the most tasks is stopped through the simulator's control API (its "
            f"connections close, it goes silent); measured until the simulator again runs {total:,} tasks and the "
            f"master counts as many running.")
    return "Agent loss", desc, rows


def scenario_memory(strata, base, smoke):
    agents, n_apps, steps = (200, 100, (10, 50)) if smoke else (5000, 1000, (10, 100, 1000))
    m = Masters(strata, base)
    rows = []
    sim = None
    try:
        time.sleep(1)
        rss0 = rss_kib(m.pid)
        sim = Sim(strata, base, m, agents, "--resources", "cpus:64;mem:262144")
        registered(m, sim, 120)
        time.sleep(1)
        rss_agents = rss_kib(m.pid)
        rows.append((f"master RSS with {agents:,} agents, no task", f"{rss_agents / 1024:.0f} MiB "
                     f"({(rss_agents - rss0) * 1024 / agents:,.0f} bytes per agent)", "", None))
        api = Api(m.port)
        create_apps(api, [{"id": f"/mem/app{i}", "cmd": "sleep 1d", "cpus": 0.01, "mem": 16, "instances": 0}
                          for i in range(n_apps)])
        for per_app in steps:
            total = n_apps * per_app
            for i in range(n_apps):
                st, body, _ = api.call("PUT", f"/v2/apps/mem/app{i}", {"instances": per_app})
                if st != 200:
                    raise RuntimeError(f"PUT: {st} {body}")
            try:
                wait(f"{total} running", lambda: metrics(m.port).get("instances_running") == total,
                     60 if smoke else 600, 0.5)
            except TimeoutError as e:
                rows.append((f"{total:,} tasks", str(e), "", False))
                break
            time.sleep(1)
            rss = rss_kib(m.pid)
            per_task = (rss - rss_agents) * 1024 / total
            big = total >= 1000000
            rows.append((f"master RSS at {total:,} tasks", f"{rss / 1024:,.0f} MiB ({per_task:,.0f} bytes per task)",
                         "≤ 1 KiB/task (≤ 1 GiB)" if big else "", per_task <= 1024 if big else None))
    finally:
        if sim:
            sim.stop()
        m.stop()
    desc = (f"1 master, {agents:,} simulated agents, {n_apps:,} apps scaled step by step; VmRSS of the master "
            f"after each step is running (it includes Raft log entries not yet compacted and allocator slack). "
            f"Per task = growth since the agents registered / tasks.")
    return "Master memory", desc, rows


SCENARIOS = {"c1m": scenario_c1m, "churn": scenario_churn, "failover": scenario_failover, "loss": scenario_loss,
             "memory": scenario_memory}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build", help="build directory holding strata (default build)")
    ap.add_argument("--smoke", action="store_true", help="small variants (each well under a minute), record nothing")
    ap.add_argument("--only", default=",".join(SCENARIOS), help="comma-separated scenarios (default: all)")
    ap.add_argument("--no-record", action="store_true", help="do not append to bench/RESULTS.md")
    ap.add_argument("--tmp", default=None, help="where the masters' data dirs go (default $TMPDIR)")
    ap.add_argument("--c1m-shape", default=None, metavar="AGENTS,APPS,PER_APP",
                    help="c1m at another size (e.g. 1000,100,1000 for a quicker before/after); records nothing")
    a = ap.parse_args()
    if a.c1m_shape:
        global C1M_SHAPE
        try:
            C1M_SHAPE = tuple(int(x) for x in a.c1m_shape.split(","))
            if len(C1M_SHAPE) != 3 or min(C1M_SHAPE) < 1:
                raise ValueError
        except ValueError:
            print("bench_scale: --c1m-shape wants three positive integers AGENTS,APPS,PER_APP", file=sys.stderr)
            return 2
        a.no_record = True
    strata = os.path.join(ROOT, a.build, "strata")
    if not os.access(strata, os.X_OK):
        print(f"bench_scale: {strata} not built (run make)", file=sys.stderr)
        return 1
    names = [n for n in a.only.split(",") if n]
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        print(f"bench_scale: unknown scenario(s) {unknown}; choose from {list(SCENARIOS)}", file=sys.stderr)
        return 2
    load = os.getloadavg()
    print(f"machine: {machine()}; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)
    record = not (a.smoke or a.no_record)
    failed = []
    header_written = False

    def write(text):
        with open(os.path.join(ROOT, "bench", "RESULTS.md"), "a") as f:
            f.write(text)

    for name in names:
        base = tempfile.mkdtemp(prefix=f"strata-bench-scale-{name}-", dir=a.tmp)
        if record and not header_written:
            # Each scenario's table is appended as soon as it is measured: a run cut short keeps
            # what it measured.
            write(f"\n## Control plane at scale (bench/bench_scale.py) — {datetime.date.today()}, "
                  f"commit {git_commit()}\n\n"
                  f"Machine: {machine()}; data dirs on {filesystem(base)}; load average {load[0]:.2f} at the "
                  f"start. Masters, the simulator (`strata agent-sim`, one process) and the Python driver share "
                  f"the machine.\n")
            header_written = True
        t0 = time.perf_counter()
        print(f"== {name}{' (smoke)' if a.smoke else ''}", flush=True)
        try:
            title, desc, rows = SCENARIOS[name](strata, base, a.smoke)
        except (RuntimeError, TimeoutError, OSError, KeyError) as e:
            print(f"   FAILED: {e} (logs kept in {base})", flush=True)
            failed.append(name)
            if record:
                write(f"\n### {name}: did not complete\n\n{e}\n")
            continue
        for measure, figure, target, met in rows:
            flag = "" if met is None else ("  [met]" if met else "  [NOT MET]")
            print(f"   {measure}: {figure}{'  (target ' + target + ')' if target else ''}{flag}", flush=True)
        print(f"   ({time.perf_counter() - t0:.0f} s)", flush=True)
        if record:
            text = f"\n### {title}\n\n{desc}\n\n| measure | figure | target | met |\n| --- | --- | --- | --- |\n"
            for measure, figure, target, met in rows:
                text += f"| {measure} | {figure} | {target} | {'' if met is None else ('yes' if met else '**no**')} |\n"
            write(text)
            print("   appended to bench/RESULTS.md", flush=True)
        shutil.rmtree(base, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
