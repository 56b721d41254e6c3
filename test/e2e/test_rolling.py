"""Zero-downtime rolling upgrades of an HTTP app with an HTTP health check, watched from the event
stream: Marathon's bounds hold at every sample, clients that follow the healthy endpoints never see
a failed request, a version that never gets healthy takes nothing down and rolls back, and a
leader killed mid-upgrade is replaced by one that finishes the job."""
import json
import os
import socket
import threading
import time
import urllib.request

import pytest
import requests

from conftest import Agent, Cluster, Master, free_port, wait_for

# An HTTP server on $PORT0 that drains: on SIGTERM it keeps answering for a second, then exits
# (its kill grace period is longer), so a client that stops using it on TASK_KILLING loses nothing.
SERVER = r"""exec python3 -u -c '
import http.server, os, signal, socketserver, sys, threading
ver = os.environ.get("VERSION", "?")
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ver.encode() if self.path != "/health" or os.path.exists("healthy") else b"no"
        self.send_response(200 if self.path != "/health" or os.path.exists("healthy") else 503)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
s = S(("127.0.0.1", int(os.environ["PORT0"])), H)
signal.signal(signal.SIGTERM, lambda *a: threading.Timer(1.0, lambda: os._exit(0)).start())
s.serve_forever()
'"""

TERMINAL = {"TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_ERROR", "TASK_LOST", "TASK_DROPPED", "TASK_GONE",
            "TASK_GONE_BY_OPERATOR"}


def app_def(app_id, version, n=3, min_health=0.5, max_over=0.5, health_path="/health", startup="touch healthy"):
    return {"id": app_id, "cmd": f"{startup} && {SERVER}", "instances": n, "cpus": 0.25, "mem": 64,
            "env": {"VERSION": version}, "portDefinitions": [{"port": 0}], "taskKillGracePeriodSeconds": 3,
            "upgradeStrategy": {"minimumHealthCapacity": min_health, "maximumOverCapacity": max_over},
            "healthChecks": [{"protocol": "HTTP", "path": health_path, "portIndex": 0, "gracePeriodSeconds": 30,
                              "intervalSeconds": 1, "timeoutSeconds": 1, "maxConsecutiveFailures": 0}]}


def instance_of(task_or_instance_id):
    return task_or_instance_id.split("._app")[0]


class EventSampler:
    """Follows /v2/events (re-seeding from the tasks API after a reconnect) and samples, 20+ times
    a second, how many of the app's instances are healthy (TASK_RUNNING and alive) and how many
    are alive at all (not terminal)."""

    def __init__(self, masters, app_id):
        self.masters, self.app_id = masters, app_id
        self.tasks = {}  # instance id -> {"state", "alive"}
        self.lock = threading.Lock()
        self.samples = []
        self.events = []
        self.stop_ev = threading.Event()
        self.connected = threading.Event()
        self.threads = [threading.Thread(target=self._follow, daemon=True),
                        threading.Thread(target=self._sample, daemon=True)]

    def start(self):
        for t in self.threads:
            t.start()
        assert self.connected.wait(10), "event stream did not attach"
        return self

    def stop(self):
        self.stop_ev.set()
        for t in self.threads:
            t.join(5)

    def _seed(self, url):
        tasks = requests.get(url + f"/v2/apps{self.app_id}/tasks", timeout=5).json()["tasks"]
        with self.lock:
            self.tasks = {instance_of(t["id"]): {"state": t["state"],
                                                 "alive": bool(t.get("healthCheckResults")) and
                                                 all(r["alive"] for r in t["healthCheckResults"])}
                          for t in tasks}

    def _apply(self, etype, ev):
        if ev.get("appId", ev.get("runSpecId")) != self.app_id:
            return
        with self.lock:
            if etype == "status_update_event":
                t = self.tasks.setdefault(instance_of(ev["taskId"]), {"state": None, "alive": False})
                t["state"] = ev["taskStatus"]
                if ev["taskStatus"] != "TASK_RUNNING":
                    t["alive"] = False
            elif etype == "health_status_changed_event":
                t = self.tasks.setdefault(instance_of(ev["instanceId"]), {"state": None, "alive": False})
                t["alive"] = bool(ev["alive"])

    def _follow(self):
        while not self.stop_ev.is_set():
            for m in self.masters:
                if self.stop_ev.is_set():
                    return
                try:
                    with requests.get(m.url + "/v2/events", headers={"Accept": "text/event-stream"}, stream=True,
                                      timeout=(2, 15)) as r:
                        if r.status_code != 200:
                            continue
                        self._seed(r.url.split("/v2/events")[0])
                        etype = None
                        for raw in r.iter_lines(chunk_size=1):
                            if self.stop_ev.is_set():
                                return
                            line = raw.decode()
                            if line.startswith("event: "):
                                etype = line[7:]
                            elif line.startswith("data: "):
                                ev = json.loads(line[6:])
                                self.events.append((etype, ev))
                                if etype == "event_stream_attached":
                                    self.connected.set()
                                self._apply(etype, ev)
                except (requests.RequestException, ValueError):
                    pass
            time.sleep(0.1)

    def _sample(self):
        while not self.stop_ev.is_set():
            with self.lock:
                live = [t for t in self.tasks.values() if t["state"] not in TERMINAL]
                healthy = sum(1 for t in live if t["state"] == "TASK_RUNNING" and t["alive"])
                self.samples.append((time.time(), healthy, len(live)))
            time.sleep(0.04)


class Client:
    """Sends requests to the healthy task endpoints (refreshed from /v2/apps/{id}/tasks every
    100 ms, as a load balancer would) and counts what fails."""

    def __init__(self, masters, app_id):
        self.masters, self.app_id = masters, app_id
        self.ok, self.failed, self.versions = 0, [], set()
        self.endpoints = []
        self.stop_ev = threading.Event()
        self.threads = [threading.Thread(target=self._refresh, daemon=True),
                        threading.Thread(target=self._send, daemon=True)]

    def start(self):
        for t in self.threads:
            t.start()
        wait_for(lambda: self.endpoints, timeout=10, what="healthy endpoints")
        return self

    def stop(self):
        self.stop_ev.set()
        for t in self.threads:
            t.join(5)

    def _refresh(self):
        while not self.stop_ev.is_set():
            for m in self.masters:
                try:
                    tasks = requests.get(m.url + f"/v2/apps{self.app_id}/tasks", timeout=2).json()["tasks"]
                except (requests.RequestException, ValueError, KeyError):
                    continue
                self.endpoints = [f"http://{t['host']}:{t['ports'][0]}/" for t in tasks
                                  if t["state"] == "TASK_RUNNING" and t.get("healthCheckResults") and
                                  all(r["alive"] for r in t["healthCheckResults"])]
                break
            time.sleep(0.1)

    def _send(self):
        i = 0
        while not self.stop_ev.is_set():
            eps = self.endpoints
            if not eps:
                time.sleep(0.02)
                continue
            url = eps[i % len(eps)]
            i += 1
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    self.versions.add(r.read().decode())
                self.ok += 1
            except Exception as e:  # noqa: BLE001 — every failure counts
                self.failed.append((url, repr(e)))
            time.sleep(0.01)


def bounds_hold(samples, n, min_healthy, max_total, since):
    bad = [(h, t) for (ts, h, t) in samples if ts >= since and (h < min_healthy or t > max_total)]
    return bad


def deployments(m):
    return m.get("/v2/deployments").json()


@pytest.fixture
def one(tmpdir_path):
    m = Master(os.path.join(tmpdir_path, "m"), free_port(), free_port()).start()
    m.wait_ready()
    a = Agent(os.path.join(tmpdir_path, "a"), [m], resources="cpus:8;mem:8000;disk:1000;ports:[31000-31300]").start()
    wait_for(lambda: len(m.get("/v1/nodes").json()["nodes"]) == 1, what="agent registered")
    yield m, a
    a.kill_tasks()  # asks the agent: before stopping it
    a.stop()
    m.stop()


def start_app(m, app_id, n=3, **kw):
    r = m.post("/v2/apps", json=app_def(app_id, "v1", n=n, **kw))
    assert r.status_code == 201, r.text
    wait_for(lambda: m.get(f"/v2/apps{app_id}").json()["app"]["tasksHealthy"] == n, timeout=40,
             what=f"{n} healthy")
    wait_for(lambda: deployments(m) == [], timeout=20, what="first deployment done")


def test_rolling_upgrade_holds_the_bounds_and_drops_no_request(one):
    m, _ = one
    start_app(m, "/web")
    sampler = EventSampler([m], "/web").start()
    client = Client([m], "/web").start()
    time.sleep(0.5)
    since = time.time()
    r = m.put("/v2/apps/web", json=app_def("/web", "v2"))
    assert r.status_code == 200, r.text
    dep = r.json()["deploymentId"]
    wait_for(lambda: deployments(m) == [], timeout=60, what="the upgrade to finish")
    time.sleep(0.5)
    client.stop()
    sampler.stop()

    # n=3 {0.5, 0.5}: at least ceil(1.5) = 2 healthy, at most floor(4.5) = 4 in total, always.
    samples = [s for s in sampler.samples if s[0] >= since]
    assert len(samples) >= 20 * (samples[-1][0] - samples[0][0]) * 0.8, "sampler under 20 Hz"
    assert not bounds_hold(samples, 3, 2, 4, since), bounds_hold(samples, 3, 2, 4, since)
    assert max(t for _, _, t in samples) > 3  # it did use the room above n
    assert client.failed == [], client.failed[:5]
    assert client.ok > 50 and client.versions == {"v1", "v2"}
    tasks = m.get("/v2/apps/web/tasks").json()["tasks"]
    assert len(tasks) == 3 and all(t["state"] == "TASK_RUNNING" for t in tasks)
    types = [e for e, _ in sampler.events]
    for t in ("deployment_info", "deployment_step_success", "deployment_success", "status_update_event",
              "health_status_changed_event"):
        assert t in types, t
    assert any(e == "deployment_success" and ev["id"] == dep for e, ev in sampler.events)


def test_version_that_never_gets_healthy_stays_stuck_and_rolls_back(one):
    m, _ = one
    start_app(m, "/stuck", n=2, min_health=1.0, max_over=0.5)
    old = {t["id"] for t in m.get("/v2/apps/stuck/tasks").json()["tasks"]}
    sampler = EventSampler([m], "/stuck").start()
    since = time.time()
    r = m.put("/v2/apps/stuck", json=app_def("/stuck", "v2", n=2, min_health=1.0, max_over=0.5,
                                             startup="rm -f healthy"))
    dep = r.json()["deploymentId"]
    # The new version starts, never becomes healthy: the old instances all stay.
    wait_for(lambda: len(m.get("/v2/apps/stuck/tasks").json()["tasks"]) == 3, timeout=20, what="a new task")
    time.sleep(4)
    tasks = m.get("/v2/apps/stuck/tasks").json()["tasks"]
    assert old <= {t["id"] for t in tasks if t["state"] == "TASK_RUNNING"}
    assert [d["id"] for d in deployments(m)] == [dep]
    r = m.delete(f"/v2/deployments/{dep}")
    assert r.status_code == 200, r.text
    wait_for(lambda: deployments(m) == [], timeout=30, what="the rollback")
    wait_for(lambda: {t["id"] for t in m.get("/v2/apps/stuck/tasks").json()["tasks"]} == old, timeout=20,
             what="only the old tasks")
    sampler.stop()
    assert m.get("/v2/apps/stuck").json()["app"]["env"]["VERSION"] == "v1"
    # {1.0, 0.5}, n=2: never fewer than 2 healthy, never more than 3.
    assert not bounds_hold(sampler.samples, 2, 2, 3, since), bounds_hold(sampler.samples, 2, 2, 3, since)
    assert any(e == "deployment_failed" and ev["id"] == dep for e, ev in sampler.events)


def test_task_that_turns_unhealthy_is_replaced_during_normal_running(one):
    m, a = one
    app = app_def("/turns", "v1", n=1)
    app["healthChecks"][0].update(maxConsecutiveFailures=2, gracePeriodSeconds=5)
    assert m.post("/v2/apps", json=app).status_code == 201
    first = wait_for(lambda: [t for t in m.get("/v2/apps/turns/tasks").json()["tasks"]
                              if t.get("healthCheckResults") and t["healthCheckResults"][0]["alive"]],
                     timeout=30, what="healthy")[0]["id"]
    os.unlink(os.path.join(a.data_dir, "sandboxes", first, "healthy"))
    wait_for(lambda: [t for t in m.get("/v2/apps/turns/tasks").json()["tasks"]
                      if t["id"] != first and t.get("healthCheckResults") and t["healthCheckResults"][0]["alive"]],
             timeout=40, what="a healthy replacement")


def test_leader_killed_mid_upgrade_resumes_and_finishes_within_bounds(tmpdir_path):
    c = Cluster(tmpdir_path).start()
    a = None
    try:
        leader = c.leader()
        a = Agent(os.path.join(tmpdir_path, "a"), c.masters,
                  resources="cpus:8;mem:8000;disk:1000;ports:[31000-31300]").start()
        wait_for(lambda: len(leader.get("/v1/nodes").json()["nodes"]) == 1, what="agent registered")
        # New instances take ~3 s to become healthy, so the upgrade is still running at the kill.
        r = leader.post("/v2/apps", json=app_def("/ha", "v1", n=3))
        assert r.status_code == 201, r.text
        wait_for(lambda: leader.get("/v2/apps/ha").json()["app"]["tasksHealthy"] == 3, timeout=40, what="healthy")
        wait_for(lambda: deployments(leader) == [], timeout=20, what="first deployment")
        sampler = EventSampler(c.masters, "/ha").start()
        since = time.time()
        r = leader.put("/v2/apps/ha", json=app_def("/ha", "v2", n=3, startup="(sleep 3; touch healthy) & true"))
        assert r.status_code == 200, r.text
        dep = r.json()["deploymentId"]
        # Kill it once the first new instance is healthy (the plan is half done).
        wait_for(lambda: any(t["healthCheckResults"] and t["healthCheckResults"][0]["alive"] and
                             t["version"] == r.json()["version"]
                             for t in leader.get("/v2/apps/ha/tasks").json()["tasks"]), timeout=30,
                 what="a healthy new instance")
        leader.kill9()
        new = c.leader(timeout=20)
        assert new is not leader
        assert [d["id"] for d in deployments(new)] in ([dep], [])
        wait_for(lambda: deployments(new) == [], timeout=60, what="the new leader to finish the upgrade")
        tasks = new.get("/v2/apps/ha/tasks").json()["tasks"]
        version = new.get("/v2/apps/ha").json()["app"]["version"]
        assert len(tasks) == 3 and all(t["version"] == version and t["state"] == "TASK_RUNNING" for t in tasks)
        time.sleep(0.3)
        sampler.stop()
        # n=3 {0.5, 0.5}: >= 2 healthy, <= 4 in total, across the failover.
        assert not bounds_hold(sampler.samples, 3, 2, 4, since), bounds_hold(sampler.samples, 3, 2, 4, since)
    finally:
        if a:
            a.kill_tasks()  # asks the agent: before stopping it
            a.stop()
        c.stop()
