#!/usr/bin/env python3
"""Event stream benchmark: many GET /v2/events subscribers while the master churns tasks.

1. Starts one master (logs at warn) and --agents agents with --fake-runtime (tasks that only
   pretend to run, so thousands of status changes cost no processes).
2. Opens --subscribers SSE streams from this one process (non-blocking raw sockets and
   selectors; HTTP/1.0, so the body is the bare SSE stream as Marathon sends it), each with
   marathon-lb's filter (api_post_event, health_status_changed_event, status_update_event) or,
   with --all-events, none. Waits until every stream has its headers.
3. Workload: --apps apps (no ports, tiny resources) scaled 0 → --instances → 0, --rounds times
   (each step waits until the master reports the instances running, then gone). Every task goes
   TASK_STAGING → TASK_RUNNING → TASK_KILLING → TASK_KILLED: four status_update_events each.
4. Measures, over the workload: the master's CPU (utime + stime from /proc/PID/stat), the event
   delay (receive time here minus the event's own "timestamp", which the master sets when it
   emits; millisecond resolution), and events received vs the master's own counters
   (strata_events_delivered_total, strata_event_subscribers_dropped_total on /metrics).

Appends a table to bench/RESULTS.md unless --no-record (or --smoke).

    python3 bench/bench_events.py [--subscribers 1000] [--agents 4] [--apps 10] [--instances 100]
                                  [--rounds 3] [--all-events] [--smoke] [--no-record]
"""
import argparse
import calendar
import collections
import datetime
import http.client
import json
import os
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_api import ROOT, cpu_seconds, client_cpu_seconds, free_port, git_commit, machine  # noqa: E402

TS = re.compile(rb'"timestamp":"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{3})Z"')
STATUS = b"event: status_update_event"
LB_FILTER = ["api_post_event", "health_status_changed_event", "status_update_event"]


class Api:
    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method, path, body=None):
        self.conn.request(method, path, json.dumps(body) if body is not None else None,
                          {"Content-Type": "application/json"})
        r = self.conn.getresponse()
        data = r.read()
        return r.status, data

    def json(self, method, path, body=None):
        st, data = self.call(method, path, body)
        return st, json.loads(data) if data else None

    def metrics(self):
        st, data = self.call("GET", "/metrics")
        out = {}
        for line in data.decode().splitlines():
            if line and not line.startswith("#"):
                k, v = line.split()
                out[k] = float(v)
        return out


class Subscribers:
    """N SSE streams multiplexed with selectors. Only what is needed is parsed: event types by a
    regex over complete events, and each event's timestamp, turned into a delay histogram."""

    def __init__(self, port, n, query, sample):
        self.sel = selectors.DefaultSelector()
        self.n = n
        self.headers_seen = 0
        self.closed = 0
        self.delays = collections.Counter()   # ms -> count
        self.status = 0     # status_update_events received, all subscribers
        self.received = 0   # events received, all subscribers
        self.ts_cache = {}
        req = f"GET /v2/events{query} HTTP/1.0\r\nAccept: text/event-stream\r\n\r\n".encode()
        for _ in range(n):
            s = socket.socket()
            s.setblocking(False)
            try:
                s.connect(("127.0.0.1", port))
            except BlockingIOError:
                pass
            # Every subscriber counts its events; every `sample`-th also parses their timestamps
            # (the delay histogram), so the client's own parsing does not become the delay.
            timed = len(self.sel.get_map()) % sample == 0
            self.sel.register(s, selectors.EVENT_WRITE, {"req": req, "buf": b"", "head": False, "timed": timed})

    def _ms(self, sec, frac):
        base = self.ts_cache.get(sec)
        if base is None:
            base = calendar.timegm(time.strptime(sec.decode(), "%Y-%m-%dT%H:%M:%S")) * 1000
            self.ts_cache[sec] = base
        return base + int(frac)

    def _consume(self, st, data, now_ms):
        buf = st["buf"] + data
        if not st["head"]:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                st["buf"] = buf
                return
            status = buf.split(b" ", 2)[1]
            if status != b"200":
                raise RuntimeError(f"subscriber got {buf[:end]!r}")
            st["head"] = True
            self.headers_seen += 1
            buf = buf[end + 4:]
        if not st["timed"]:
            # Count only, without copying: an occurrence split across two reads is found in
            # (the previous read's last len(needle)-1 bytes + this read).
            t1, t2 = st.get("t1", b""), st.get("t2", b"")
            self.received += (t1 + buf[:6]).count(b"event: ") + buf.count(b"event: ")
            self.status += (t2 + buf[:25]).count(STATUS) + buf.count(STATUS)
            st["t1"], st["t2"], st["buf"] = buf[-6:], buf[-25:], b""
            return
        cut = buf.rfind(b"\r\n\r\n")
        if cut < 0:
            st["buf"] = buf
            return
        done, st["buf"] = buf[:cut + 4], buf[cut + 4:]
        self.received += done.count(b"event: ")
        self.status += done.count(STATUS)
        ms = self._ms
        self.delays.update(now_ms - ms(sec, frac) for sec, frac in TS.findall(done))

    def pump(self, timeout):
        for key, ev in self.sel.select(timeout):
            s, st = key.fileobj, key.data
            if ev & selectors.EVENT_WRITE:
                try:
                    s.send(st["req"])
                except OSError as e:
                    raise RuntimeError(f"connect failed: {e}")
                self.sel.modify(s, selectors.EVENT_READ, st)
                continue
            try:
                data = s.recv(262144)
            except (ConnectionResetError, BlockingIOError):
                data = b"" if not isinstance(sys.exc_info()[1], BlockingIOError) else None
            if data is None:
                continue
            if not data:
                self.sel.unregister(s)
                s.close()
                self.closed += 1
                continue
            self._consume(st, data, int(time.time() * 1000))

    def close(self):
        for key in list(self.sel.get_map().values()):
            key.fileobj.close()
        self.sel.close()


def percentile(counter, p):
    total = sum(counter.values())
    if total == 0:
        return float("nan")
    rank = p * (total - 1)
    seen = 0
    for v in sorted(counter):
        seen += counter[v]
        if seen > rank:
            return v
    return max(counter)


def start(cmd, log):
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)


def wait_until(fn, timeout, what, pump=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if fn():
            return
        if pump:
            pump(0.05)
        else:
            time.sleep(0.05)
    raise TimeoutError(what)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--subscribers", type=int, default=1000)
    ap.add_argument("--agents", type=int, default=4)
    ap.add_argument("--apps", type=int, default=10)
    ap.add_argument("--instances", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--all-events", action="store_true", help="subscribe without an event_type filter")
    ap.add_argument("--sample", type=int, default=10, help="time the events of every N-th subscriber")
    ap.add_argument("--smoke", action="store_true", help="100 subscribers, 2 apps × 20, 1 round; no record")
    ap.add_argument("--no-record", action="store_true")
    ap.add_argument("--tmp", default=None)
    ap.add_argument("--perf", metavar="FILE", help="perf record the master during the workload into FILE")
    a = ap.parse_args()
    if a.smoke:
        a.subscribers, a.apps, a.instances, a.rounds, a.no_record = 100, 2, 20, 1, True
    strata = os.path.join(ROOT, a.build, "strata")
    base = tempfile.mkdtemp(prefix="strata-bench-events-", dir=a.tmp)
    procs = []
    logs = []
    subs = None
    try:
        port = free_port()
        mlog = open(os.path.join(base, "master.log"), "wb")
        logs.append(mlog)
        master = start([strata, "master", "--data-dir", os.path.join(base, "m"), "--http", f"127.0.0.1:{port}",
                        "--raft", f"127.0.0.1:{free_port()}", "--log-level", "warn", "--auth", "off"], mlog)
        procs.append(master)
        api = Api(port)

        def leader():
            try:
                return api.json("GET", "/v1/cluster")[1].get("state") == "leader"
            except (OSError, http.client.HTTPException, ValueError):
                api.conn.close()
                return False
        wait_until(leader, 30, "no leader")
        per_agent = a.apps * a.instances // a.agents + a.instances
        for i in range(a.agents):
            alog = open(os.path.join(base, f"agent{i}.log"), "wb")
            logs.append(alog)
            procs.append(start([strata, "agent", "--master", f"http://127.0.0.1:{port}", "--data-dir",
                                os.path.join(base, f"a{i}"), "--http", f"127.0.0.1:{free_port()}",
                                "--hostname", f"bench-{i}", "--fake-runtime", "--resources",
                                f"cpus:{per_agent};mem:{per_agent * 16};disk:1000;ports:[31000-31001]"], alog))
        wait_until(lambda: len((api.json("GET", "/v1/nodes")[1] or {}).get("nodes", [])) >= a.agents, 30, "agents did not register")
        app_ids = [f"/bench/ev{i}" for i in range(a.apps)]
        for app_id in app_ids:
            st, body = api.call("POST", "/v2/apps", {"id": app_id, "cmd": "sleep 1000", "instances": 0,
                                                     "cpus": 0.01, "mem": 1, "portDefinitions": []})
            assert st == 201, body

        query = "" if a.all_events else "?" + "&".join(f"event_type={t}" for t in LB_FILTER)
        t0 = time.time()
        subs = Subscribers(port, a.subscribers, query, a.sample)
        wait_until(lambda: subs.headers_seen == a.subscribers, 60, "subscribers not all attached", subs.pump)
        connect_s = time.time() - t0
        m0 = api.metrics()
        if m0.get("strata_event_subscribers") != a.subscribers:
            raise RuntimeError(f"master counts {m0.get('strata_event_subscribers')} subscribers")
        subs.delays.clear()
        subs.status = 0
        subs.received = 0

        # The workload runs in a thread (blocking HTTP); this thread keeps pumping the streams.
        done = threading.Event()
        failure = []

        def running_total(wapi):
            st, apps = wapi.json("GET", "/v2/apps?id=/bench")
            return sum(x["tasksRunning"] for x in apps["apps"]), sum(x["tasksStaged"] + x["tasksRunning"]
                                                                     for x in apps["apps"])

        def workload():
            try:
                wapi = Api(port)
                for _ in range(a.rounds):
                    for target in (a.instances, 0):
                        for app_id in app_ids:
                            st, body = wapi.call("PUT", f"/v2/apps{app_id}?force=true", {"instances": target})
                            assert st in (200, 201), body
                        deadline = time.time() + 120
                        want = target * len(app_ids)
                        while time.time() < deadline:
                            running, live = running_total(wapi)
                            if (target and running == want) or (not target and live == 0):
                                break
                            time.sleep(0.1)
                        else:
                            raise TimeoutError(f"instances did not reach {target} per app")
            except Exception as e:  # noqa: BLE001 — reported by the main thread
                failure.append(e)
            finally:
                done.set()

        perf = None
        if a.perf:
            perf = subprocess.Popen(["perf", "record", "-F", "2000", "-g", "-o", a.perf, "-p", str(master.pid)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cpu0 = cpu_seconds(master.pid)
        ccpu0 = client_cpu_seconds()
        w0 = time.time()
        th = threading.Thread(target=workload)
        th.start()
        while not done.is_set():
            subs.pump(0.05)
        wall = time.time() - w0
        cpu1 = cpu_seconds(master.pid)
        if perf:
            perf.send_signal(signal.SIGINT)
            perf.wait(30)
        # Let the last events arrive, then compare with the master's counters.
        m1 = api.metrics()
        want = m1["strata_events_delivered_total"] - m0["strata_events_delivered_total"]
        deadline = time.time() + 10
        while subs.received < want and time.time() < deadline:
            subs.pump(0.05)
        ccpu1 = client_cpu_seconds()
        th.join()
        if failure:
            raise failure[0]
        emitted = m1["strata_events_emitted_total"] - m0["strata_events_emitted_total"]
        dropped = m1["strata_event_subscribers_dropped_total"] - m0["strata_event_subscribers_dropped_total"]
        status_events = subs.status / max(1, a.subscribers - subs.closed)
        res = {
            "subscribers": a.subscribers,
            "filter": "all events" if a.all_events else "marathon-lb's 3 types",
            "agents": a.agents,
            "workload": f"{a.apps} apps × 0→{a.instances}→0, {a.rounds} rounds",
            "connect_s": connect_s,
            "wall_s": wall,
            "emitted": int(emitted),
            "status_per_sub": status_events,
            "delivered": int(want),
            "received": subs.received,
            "dropped": int(dropped),
            "closed": subs.closed,
            "master_cpu_s": cpu1 - cpu0,
            "client_cpu_s": ccpu1 - ccpu0,
            "timed_subscribers": (a.subscribers + a.sample - 1) // a.sample,
            "timed_events": sum(subs.delays.values()),
            "p50": percentile(subs.delays, 0.50),
            "p99": percentile(subs.delays, 0.99),
            "max": max(subs.delays) if subs.delays else float("nan"),
        }
        print(json.dumps(res, indent=1))
        if not a.no_record:
            record(res)
    finally:
        if subs:
            subs.close()
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(10)
        for f in logs:
            f.close()
        shutil.rmtree(base, ignore_errors=True)


def record(r):
    today = datetime.date.today().isoformat()
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    lines = [
        "",
        f"## Event stream (bench/bench_events.py) — {today}, commit {git_commit()}",
        "",
        f"Machine: {machine()}; load average {load} at the end. One master, {r['agents']} agents with "
        f"--fake-runtime, {r['subscribers']} SSE subscribers ({r['filter']}) in one Python process "
        f"on the same machine; workload {r['workload']} ({r['wall_s']:.1f} s).",
        "",
        "| measure | figure |",
        "| --- | --- |",
        f"| subscribers connected (all headers received) | {r['subscribers']} in {r['connect_s']:.2f} s |",
        f"| events emitted during the workload / status_update_events per subscriber | {r['emitted']} / "
        f"{r['status_per_sub']:.0f} |",
        f"| event copies queued by the master / received by the subscribers | {r['delivered']} / {r['received']} |",
        f"| subscribers dropped / closed | {r['dropped']} / {r['closed']} |",
        f"| master CPU over the workload | {r['master_cpu_s']:.2f} s ({100 * r['master_cpu_s'] / r['wall_s']:.0f} % "
        f"of one core) |",
        f"| subscriber process CPU | {r['client_cpu_s']:.2f} s ({100 * r['client_cpu_s'] / r['wall_s']:.0f} %) |",
        f"| event delay p50 / p99 / max (receive − event timestamp; {r['timed_events']} events at "
        f"{r['timed_subscribers']} subscribers) | {r['p50']} / {r['p99']} / {r['max']} ms |",
    ]
    with open(os.path.join(ROOT, "bench", "RESULTS.md"), "a") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
