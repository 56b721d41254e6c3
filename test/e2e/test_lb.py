"""`strata lb`: a real HAProxy driven from app labels, with a client sending ~1000 requests/s
through the edge while tasks change. Zero failed requests during a rolling upgrade, a scale
4 -> 1 -> 4 and 100 frontend reloads in a row; a task change is live within 1 s."""
import http.client
import json
import os
import subprocess
import threading
import time

import pytest
import requests

from conftest import STRATA, free_port, master_and_agent, remove_all_apps, stop_process, wait_for

# The app: a threaded HTTP server answering "<VERSION> <port>"; on SIGTERM it keeps serving for
# 1.5 s before it exits (the graceful stop every zero-downtime setup relies on: the balancer drops
# the task when it turns TASK_KILLING, the task finishes what it was sent).
APP_PY = r'''
import os, signal, sys, threading, time
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
port = int(sys.argv[1])
body = ("%s %d\n" % (os.environ.get("VERSION", "1"), port)).encode()
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
def term(*_):
    threading.Thread(target=lambda: (time.sleep(1.5), os._exit(0)), daemon=True).start()
signal.signal(signal.SIGTERM, term)
ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer.request_queue_size = 512
ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
'''


class Lb:
    """One `strata lb` process with its own HAProxy."""

    def __init__(self, base, masters, domain="cluster", extra=None):
        self.http_port = free_port()
        self.status_port = free_port()
        self.data_dir = os.path.join(base, "lb")
        self.log_path = os.path.join(base, "lb.log")
        cmd = [STRATA, "lb", "--master", ",".join(masters), "--group", "external",
               "--http-port", str(self.http_port), "--domain", domain, "--data-dir", self.data_dir,
               "--http", f"127.0.0.1:{self.status_port}"] + (extra or [])
        self.logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=self.logf, stderr=subprocess.STDOUT)

    def status(self):
        return requests.get(f"http://127.0.0.1:{self.status_port}/_strata/lb/config", timeout=5).json()

    def servers(self, backend):
        for svc in self.status()["services"]:
            for b in svc["backends"]:
                if b["name"] == backend:
                    return b["servers"]
        return None

    def get(self, host, path="/", port=None):
        c = http.client.HTTPConnection("127.0.0.1", port or self.http_port, timeout=5)
        try:
            c.request("GET", path, headers={"Host": host, "Connection": "close"})
            r = c.getresponse()
            return r.status, r.read().decode()
        finally:
            c.close()

    def stop(self):
        stop_process(self.proc)
        self.logf.close()

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read()[-3000:].decode(errors="replace")


class Load:
    """~rate requests/s through the edge while the body of the `with` runs: ApacheBench (C, one new
    connection per request) sends rate requests each second, and a Python probe reads the bodies
    (which version answers) at a low rate. Every request that fails (refused, reset, timed out,
    not 2xx) is counted."""

    def __init__(self, lb, host, rate=1000, concurrency=8):
        self.lb, self.host, self.rate_wanted, self.concurrency = lb, host, rate, concurrency
        self.ok = 0
        self.failures = []
        self.bodies = {}
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.bench, daemon=True),
                        threading.Thread(target=self.probe, daemon=True)]

    def bench(self):
        url = f"http://127.0.0.1:{self.lb.http_port}/"
        while not self.stopping.is_set():
            second = time.monotonic()
            out = subprocess.run(["ab", "-q", "-l", "-s", "10", "-n", str(self.rate_wanted), "-c",
                                  str(self.concurrency), "-H", f"Host: {self.host}", url],
                                 capture_output=True, text=True)
            fields = {}
            for line in out.stdout.splitlines():
                k, _, v = line.partition(":")
                fields[k.strip()] = v.strip()
            done = int(fields.get("Complete requests", "0"))
            failed = int(fields.get("Failed requests", "0")) + int(fields.get("Non-2xx responses", "0"))
            if out.returncode != 0 or not done:
                self.failures.append((time.time(), f"ab failed: {out.stderr.strip()[-300:]}"))
            elif failed:
                self.failures.append((time.time(), f"ab: {failed} of {done} failed"))
            self.ok += done - failed
            rest = 1 - (time.monotonic() - second)
            if rest > 0:
                time.sleep(rest)

    def probe(self):
        while not self.stopping.is_set():
            try:
                status, body = self.lb.get(self.host)
                if status != 200:
                    self.failures.append((time.time(), f"probe: HTTP {status}"))
                else:
                    self.bodies[body] = self.bodies.get(body, 0) + 1
                    self.last_body = body
                    self.ok += 1
            except (OSError, http.client.HTTPException) as e:
                self.failures.append((time.time(), f"probe: {type(e).__name__}: {e}"))
            time.sleep(0.05)

    def __enter__(self):
        self.start = time.monotonic()
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for t in self.threads:
            t.join(30)
        self.seconds = time.monotonic() - self.start

    @property
    def rate(self):
        return (self.ok + len(self.failures)) / self.seconds


def web_app(app_py, service_port, instances=4, version="1", labels=None):
    return {
        "id": "/web", "cmd": f"exec python3 {app_py} $PORT0", "instances": instances, "cpus": 0.1, "mem": 64,
        "env": {"VERSION": version},
        "portDefinitions": [{"port": service_port}],
        "labels": dict({"HAPROXY_GROUP": "external", "HAPROXY_0_VHOST": "web.example.com"}, **(labels or {})),
        "healthChecks": [{"protocol": "HTTP", "path": "/health", "portIndex": 0, "gracePeriodSeconds": 10,
                          "intervalSeconds": 1, "timeoutSeconds": 2, "maxConsecutiveFailures": 3}],
        "upgradeStrategy": {"minimumHealthCapacity": 1, "maximumOverCapacity": 1},
    }


def settled(m, app_id, n):
    """The app has no deployment and n healthy running tasks."""
    if m.get("/v2/deployments").json():
        return False
    tasks = m.get(f"/v2/apps{app_id}/tasks").json()["tasks"]
    healthy = [t for t in tasks if t["state"] == "TASK_RUNNING"
               and t.get("healthCheckResults") and all(r["alive"] for r in t["healthCheckResults"])]
    return len(tasks) == n and len(healthy) == n


@pytest.fixture
def edge(tmpdir_path):
    with master_and_agent(tmpdir_path, resources="cpus:8;mem:4000;disk:1000;ports:[31000-31200]") as (m, a):
        app_py = os.path.join(tmpdir_path, "app.py")
        with open(app_py, "w") as f:
            f.write(APP_PY)
        lb = Lb(tmpdir_path, [m.url])
        try:
            wait_for(lambda: lb.status()["haproxy"]["running"], timeout=15, what="haproxy serving")
            yield m, a, lb, app_py
        finally:
            lb.stop()
            remove_all_apps(m, a)


def deploy(m, app, n, timeout=60):
    r = m.put(f"/v2/apps{app['id']}", json=app)
    assert r.status_code in (200, 201), r.text
    wait_for(lambda: settled(m, app["id"], n), timeout=timeout, interval=0.2, what=f"{app['id']} settled with {n}")


def test_labels_route_vhosts_to_healthy_instances_and_status_shows_them(edge):
    m, a, lb, app_py = edge
    sp = free_port()
    deploy(m, web_app(app_py, sp, instances=2, labels={"HAPROXY_0_AUTH": "realm:u:p"}), 2)
    ports = {t["ports"][0] for t in m.get("/v2/apps/web/tasks").json()["tasks"]}
    wait_for(lambda: len(lb.servers(f"web_{sp}") or []) == 2, what="two servers")
    seen = set()
    for _ in range(20):
        status, body = lb.get("web.example.com")
        assert status == 200
        seen.add(int(body.split()[1]))
    assert seen == ports  # both instances take traffic
    # --domain: <app name>.<domain>; the service port frontend; an unknown host is not routed
    assert lb.get("web.cluster:%d" % lb.http_port)[0] == 200
    assert lb.get("anything", port=sp)[0] == 200
    assert lb.get("other.example.com")[0] == 503
    st = lb.status()
    assert {"app": "/web", "label": "HAPROXY_0_AUTH", "message": "not supported by strata lb: ignored"} in st["issues"]
    assert f"backend web_{sp}" in st["config"]
    out = subprocess.run([STRATA, "lb", "status", "--lb", f"127.0.0.1:{lb.status_port}"], capture_output=True,
                         text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    assert f"web_{sp}" in out.stdout and "HAPROXY_0_AUTH" in out.stdout
    for p in ports:
        assert f"127.0.0.1:{p}" in out.stdout
    cfg = subprocess.run([STRATA, "lb", "config", "--lb", f"127.0.0.1:{lb.status_port}"], capture_output=True,
                         text=True, timeout=10)
    assert cfg.returncode == 0 and "frontend strata_http_in" in cfg.stdout
    bad = subprocess.run([STRATA, "lb", "status", "--lb", f"127.0.0.1:{free_port()}"], capture_output=True,
                         text=True, timeout=10)
    assert bad.returncode != 0 and "cannot reach the balancer" in bad.stderr


def test_a_task_change_is_live_within_one_second_without_a_reload(edge):
    m, a, lb, app_py = edge
    sp = free_port()
    deploy(m, web_app(app_py, sp, instances=1), 1)
    wait_for(lambda: len(lb.servers(f"web_{sp}") or []) == 1, what="one server")
    reloads = lb.status()["haproxy"]["reloads"]
    # watch the event stream for the new task turning healthy
    healthy_at = {}
    stop = threading.Event()

    def watch():
        with requests.get(m.url + "/v2/events", stream=True, timeout=60,
                          headers={"Accept": "text/event-stream"}) as r:
            for line in r.iter_lines():
                if stop.is_set():
                    return
                if line.startswith(b"data:"):
                    ev = json.loads(line[5:])
                    if ev.get("eventType") == "health_status_changed_event" and ev.get("alive"):
                        healthy_at.setdefault(ev.get("instanceId") or ev.get("taskId"), time.time())
    w = threading.Thread(target=watch, daemon=True)
    w.start()
    time.sleep(0.5)
    old = {t["ports"][0] for t in m.get("/v2/apps/web/tasks").json()["tasks"]}
    assert m.put("/v2/apps/web", json={"instances": 2}).status_code == 200
    new_port = wait_for(lambda: ({t["ports"][0] for t in m.get("/v2/apps/web/tasks").json()["tasks"]} - old),
                        timeout=30, what="the new task").pop()
    served_at = None
    deadline = time.time() + 30
    while time.time() < deadline and served_at is None:
        status, body = lb.get("web.example.com")
        if status == 200 and int(body.split()[1]) == new_port:
            served_at = time.time()
        else:
            time.sleep(0.005)
    stop.set()
    assert served_at, "the new task never got traffic"
    assert healthy_at, "no health_status_changed_event seen"
    delay = served_at - min(healthy_at.values())
    print(f"task healthy -> served through the edge: {delay * 1000:.0f} ms")
    assert delay < 1.0
    assert lb.status()["haproxy"]["reloads"] == reloads  # a backend change is no reload


def test_zero_failed_requests_during_rolling_upgrade_scale_and_reloads(edge):
    m, a, lb, app_py = edge
    sp = free_port()
    deploy(m, web_app(app_py, sp, instances=4), 4)
    wait_for(lambda: len(lb.servers(f"web_{sp}") or []) == 4, what="four servers")
    # an app without tasks whose vhost flips: every flip is a frontend change, hence a reload
    flip = {"id": "/flip", "cmd": "sleep 1000", "instances": 0, "cpus": 0.1, "mem": 16,
            "portDefinitions": [{"port": free_port()}],
            "labels": {"HAPROXY_GROUP": "external", "HAPROXY_0_VHOST": "flip-0.example.com"}}
    assert m.post("/v2/apps", json=flip).status_code == 201
    wait_for(lambda: any(s["backend"].startswith("flip_") for s in lb.status()["services"]), what="flip routed")
    with Load(lb, "web.example.com") as load:
        time.sleep(2)
        # 1. a rolling upgrade to version 2
        deploy(m, web_app(app_py, sp, instances=4, version="2"), 4, timeout=90)
        wait_for(lambda: getattr(load, "last_body", "").startswith("2 "), what="v2 serving")
        t1 = time.time()
        # 2. scale 4 -> 1 -> 4
        deploy(m, dict(web_app(app_py, sp, instances=1, version="2")), 1)
        deploy(m, dict(web_app(app_py, sp, instances=4, version="2")), 4)
        t2 = time.time()
        # 3. 100 frontend reloads in a row
        before = lb.status()["haproxy"]["reloads"]
        for i in range(1, 101):
            r = m.patch("/v2/apps/flip", params={"force": "true"},
                        json={"labels": {"HAPROXY_GROUP": "external", "HAPROXY_0_VHOST": f"flip-{i}.example.com"}})
            assert r.status_code == 200, r.text
            wait_for(lambda: lb.status()["haproxy"]["reloads"] >= before + i, timeout=20,
                     what=f"reload {i}")
        t3 = time.time()
        time.sleep(1)
    st = lb.status()
    print(f"load: {load.ok} ok, {len(load.failures)} failed, {load.rate:.0f} req/s over {load.seconds:.1f} s; "
          f"upgrade+scale {t2 - t1:.1f} s, 100 reloads in {t3 - t2:.1f} s; haproxy {st['haproxy']}")
    assert st["haproxy"]["failed"] == 0, st["haproxy"]
    assert load.failures == [], load.failures[:20]
    assert load.ok > 10000
    assert any(b.startswith("1 ") for b in load.bodies) and any(b.startswith("2 ") for b in load.bodies)


def test_master_failover_and_reconnect_resync(tmpdir_path):
    """The balancer follows the next master of its list when one is down, and resyncs."""
    with master_and_agent(tmpdir_path) as (m, a):
        app_py = os.path.join(tmpdir_path, "app.py")
        with open(app_py, "w") as f:
            f.write(APP_PY)
        dead = f"http://127.0.0.1:{free_port()}"
        lb = Lb(tmpdir_path, [dead, m.url])
        try:
            sp = free_port()
            deploy(m, web_app(app_py, sp, instances=1), 1)
            wait_for(lambda: len(lb.servers(f"web_{sp}") or []) == 1, timeout=20, what="routed via the 2nd master")
            st = lb.status()
            assert st["master"] == m.url and st["connected"]
            wait_for(lambda: lb.status()["haproxy"]["running"], what="haproxy serving")
            assert lb.get("web.example.com")[0] == 200
        finally:
            lb.stop()
            remove_all_apps(m, a)


def test_bad_flags_are_one_line_errors():
    for args, msg in [([], "--master is required"),
                      (["--master", "m:1", "--http-port", "80"], "--group is required"),
                      (["--master", "m:1", "--group", "g", "--http-port", "0"], "not a port"),
                      (["--master", "m:1", "--group", "g", "--http-port", "80", "--bogus"], "unknown")]:
        r = subprocess.run([STRATA, "lb"] + args, capture_output=True, text=True, timeout=10)
        assert r.returncode == 2 and msg in r.stderr, (args, r.stderr)


def cli(m, *args, timeout=120):
    return subprocess.run([STRATA, "--master", m.url, *args], capture_output=True, text=True, timeout=timeout)


def write_def(base, name, app):
    path = os.path.join(base, name)
    with open(path, "w") as f:
        json.dump(app, f)
    return path


def test_a_branch_gets_its_own_hostname_and_instances(edge, tmpdir_path):
    m, a, lb, app_py = edge
    sp = free_port()
    deploy(m, web_app(app_py, sp, instances=1), 1)
    branch = web_app(app_py, sp, instances=1, version="feature")
    r = cli(m, "app", "add", write_def(tmpdir_path, "web.json", branch), "--branch", "Feature/X")
    assert r.returncode == 0, r.stderr
    wait_for(lambda: settled(m, "/web-feature-x", 1), timeout=60, interval=0.2, what="branch healthy")
    app = m.get("/v2/apps/web-feature-x").json()["app"]
    assert app["labels"]["STRATA_BRANCH"] == "feature-x" and app["labels"]["STRATA_BRANCH_OF"] == "/web"
    assert "HAPROXY_0_VHOST" not in app["labels"] and app["portDefinitions"][0]["port"] != sp
    wait_for(lambda: lb.get("web-feature-x.cluster")[1].startswith("feature "), what="branch routed")
    for _ in range(10):  # the branch and the main app each keep their own instances
        assert lb.get("web-feature-x.cluster")[1].startswith("feature ")
        assert lb.get("web.example.com")[1].startswith("1 ")
        assert lb.get("web.cluster")[1].startswith("1 ")
    listed = cli(m, "app", "list", "--branch")
    assert listed.returncode == 0 and "feature-x" in listed.stdout and "/web-feature-x" in listed.stdout
    assert m.delete("/v2/apps/web-feature-x", params={"force": "true"}).status_code == 200
    wait_for(lambda: lb.get("web-feature-x.cluster")[0] == 503, what="branch route removed")
    assert lb.get("web.example.com")[0] == 200
    bad = cli(m, "app", "add", write_def(tmpdir_path, "web.json", branch), "--branch", "--")
    assert bad.returncode == 2 and "branch" in bad.stderr


def test_blue_green_switches_in_one_step_and_a_bad_version_changes_nothing(edge, tmpdir_path):
    m, a, lb, app_py = edge
    sp = free_port()
    v1 = write_def(tmpdir_path, "v1.json", web_app(app_py, sp, instances=2, version="1"))
    r = cli(m, "app", "deploy", v1, "--strategy", "blue-green")
    assert r.returncode == 0, r.stdout + r.stderr
    assert m.get("/v2/apps/web-blue").status_code == 200
    wait_for(lambda: lb.get("web.example.com")[1].startswith("1 "), what="blue serving")
    bad = web_app(app_py, sp, instances=2, version="bad")
    bad["cmd"] = "sleep 1000"  # never answers its health check
    with Load(lb, "web.example.com", rate=500) as load:
        time.sleep(1)
        v2 = write_def(tmpdir_path, "v2.json", web_app(app_py, sp, instances=2, version="2"))
        r = cli(m, "app", "deploy", v2, "--strategy", "blue-green")
        assert r.returncode == 0, r.stdout + r.stderr
        assert m.get("/v2/apps/web-blue").status_code == 404 and m.get("/v2/apps/web-green").status_code == 200
        wait_for(lambda: lb.get("web.example.com")[1].startswith("2 "), what="green serving")
        switched = time.time()
        time.sleep(1)
        r = cli(m, "app", "deploy", write_def(tmpdir_path, "bad.json", bad), "--strategy", "blue-green",
                "--timeout", "12")
        assert r.returncode == 3 and "keeps serving" in r.stderr, r.stdout + r.stderr
        assert m.get("/v2/apps/web-blue").status_code == 404  # the bad version is gone
        time.sleep(1)
    print(f"blue-green load: {load.ok} ok, {len(load.failures)} failed, {load.rate:.0f} req/s")
    assert load.failures == [], load.failures[:20]
    # one step: after the switch no request reached version 1
    assert not [b for b in load.bodies if b.startswith("bad")]
    assert lb.get("web.example.com")[1].startswith("2 ")
    assert switched


def test_an_ab_header_rule_sends_matching_requests_to_version_b(edge, tmpdir_path):
    m, a, lb, app_py = edge
    sp = free_port()
    group = {"HAPROXY_DEPLOYMENT_GROUP": "shop"}
    a_app = dict(web_app(app_py, sp, instances=1, version="A"), id="/shop-a")
    a_app["labels"] = dict(a_app["labels"], HAPROXY_DEPLOYMENT_STARTED_AT="2026-01-01T00:00:00Z", **group)
    b_app = dict(web_app(app_py, free_port(), instances=1, version="B"), id="/shop-b")
    b_app["labels"] = dict(b_app["labels"], HAPROXY_DEPLOYMENT_STARTED_AT="2026-01-02T00:00:00Z",
                           STRATA_LB_AB_HEADER="X-Variant: b", **group)
    deploy(m, a_app, 1)
    deploy(m, b_app, 1)
    wait_for(lambda: len(lb.servers(f"shop_{sp}_b") or []) == 1 and len(lb.servers(f"shop_{sp}") or []) == 1,
             what="both backends")

    def get(headers):
        c = http.client.HTTPConnection("127.0.0.1", lb.http_port, timeout=5)
        try:
            c.request("GET", "/", headers=dict({"Host": "web.example.com", "Connection": "close"}, **headers))
            return c.getresponse().read().decode().split()[0]
        finally:
            c.close()
    for _ in range(10):
        assert get({}) == "A"
        assert get({"X-Variant": "b"}) == "B"
        assert get({"X-Variant": "c"}) == "A"
    st = lb.status()
    svc = next(s for s in st["services"] if s["backend"] == f"shop_{sp}")
    assert svc["ab"]["backend"] == f"shop_{sp}_b" and svc["apps"] == ["/shop-a", "/shop-b"]


def test_a_service_port_another_process_holds_is_reported_not_fatal(edge):
    m, a, lb, app_py = edge
    import socket as sk
    busy = free_port()
    holder = sk.socket()
    holder.setsockopt(sk.SOL_SOCKET, sk.SO_REUSEADDR, 1)
    holder.bind(("0.0.0.0", busy))
    holder.listen(1)
    try:
        deploy(m, web_app(app_py, busy, instances=1), 1)
        wait_for(lambda: len(lb.servers(f"web_{busy}") or []) == 1, what="server")
        st = lb.status()
        assert any("another process" in i["message"] for i in st["issues"]), st["issues"]
        assert f"frontend web_{busy}" not in st["config"]
        # the vhost still routes, and later reloads still succeed
        wait_for(lambda: lb.get("web.example.com")[0] == 200, what="vhost routed")
        reloads = st["haproxy"]["reloads"]
        other = {"id": "/other", "cmd": "sleep 1000", "instances": 0, "cpus": 0.1, "mem": 16,
                 "portDefinitions": [{"port": free_port()}],
                 "labels": {"HAPROXY_GROUP": "external", "HAPROXY_0_VHOST": "other.example.com"}}
        assert m.post("/v2/apps", json=other).status_code == 201
        wait_for(lambda: lb.status()["haproxy"]["reloads"] > reloads, what="a later reload")
        assert lb.status()["haproxy"]["failed"] == 0
    finally:
        holder.close()
    # once the port is free, the next resync binds it
    m.put("/v2/apps/other", params={"force": "true"}, json={"instances": 0, "labels": {"HAPROXY_GROUP": "external"}})
    wait_for(lambda: f"frontend web_{busy}" in lb.status()["config"], timeout=20, what="port bound once free")


def test_a_canary_ramps_10_50_100_with_zero_failed_requests(edge, tmpdir_path):
    m, a, lb, app_py = edge
    sp = free_port()
    r = cli(m, "app", "deploy", write_def(tmpdir_path, "v1.json", web_app(app_py, sp, instances=2, version="1")),
            "--strategy", "blue-green")
    assert r.returncode == 0, r.stdout + r.stderr
    wait_for(lambda: lb.get("web.example.com")[1].startswith("1 "), what="v1 serving")

    def share_of_2(n=400):
        return sum(lb.get("web.example.com")[1].startswith("2 ") for _ in range(n)) / n
    with Load(lb, "web.example.com", rate=300) as load:
        v2 = write_def(tmpdir_path, "v2.json", web_app(app_py, sp, instances=2, version="2"))
        r = cli(m, "app", "deploy", v2, "--strategy", "canary", "--weight", "10")
        assert r.returncode == 0, r.stdout + r.stderr
        wait_for(lambda: len([s for s in lb.servers(f"web_{sp}") or []]) == 4, what="canary servers")
        s10 = share_of_2()
        r = cli(m, "app", "promote", "web", "--weight", "50")
        assert r.returncode == 0, r.stdout + r.stderr
        time.sleep(1.5)
        s50 = share_of_2()
        r = cli(m, "app", "promote", "web")
        assert r.returncode == 0, r.stdout + r.stderr
        time.sleep(1.5)
        s100 = share_of_2()
    print(f"canary shares: {s10:.2f} {s50:.2f} {s100:.2f}; load {load.ok} ok, {len(load.failures)} failed")
    assert 0.04 <= s10 <= 0.18 and 0.35 <= s50 <= 0.65 and s100 == 1.0
    assert load.failures == [], load.failures[:20]
    assert m.get("/v2/apps/web-blue").status_code == 404
    # abort: a canary removed, the old version serves everything
    r = cli(m, "app", "deploy", v2.replace("v2", "v2"), "--strategy", "canary", "--weight", "30")
    assert r.returncode == 0, r.stdout + r.stderr
    r = cli(m, "app", "abort", "web")
    assert r.returncode == 0 and m.get("/v2/apps/web-blue").status_code == 404, r.stdout + r.stderr
    assert share_of_2(50) == 1.0


def test_https_frontend_and_redirect_to_https(tmpdir_path):
    """--https-port with --ssl-cert terminates TLS for the vhosts; HAPROXY_0_REDIRECT_TO_HTTPS sends
    plain HTTP there with a 301."""
    import ssl
    pem = os.path.join(tmpdir_path, "edge.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                    "/CN=web.example.com", "-keyout", pem + ".key", "-out", pem + ".crt"],
                   check=True, capture_output=True, timeout=60)
    with open(pem, "w") as out:
        for part in (".crt", ".key"):
            with open(pem + part) as f:
                out.write(f.read())
    with master_and_agent(tmpdir_path) as (m, a):
        app_py = os.path.join(tmpdir_path, "app.py")
        with open(app_py, "w") as f:
            f.write(APP_PY)
        https_port = free_port()
        lb = Lb(tmpdir_path, [m.url], extra=["--https-port", str(https_port), "--ssl-cert", pem])
        try:
            sp = free_port()
            deploy(m, web_app(app_py, sp, instances=1, labels={"HAPROXY_0_REDIRECT_TO_HTTPS": "true"}), 1)
            wait_for(lambda: len(lb.servers(f"web_{sp}") or []) == 1, what="server")
            wait_for(lambda: lb.status()["haproxy"]["running"], what="haproxy serving")
            c = http.client.HTTPConnection("127.0.0.1", lb.http_port, timeout=5)
            c.request("GET", "/some/path?q=1", headers={"Host": "web.example.com"})
            r = c.getresponse()
            assert r.status == 301
            assert r.getheader("Location") == f"https://web.example.com:{https_port}/some/path?q=1"
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            s = http.client.HTTPSConnection("127.0.0.1", https_port, timeout=5, context=ctx)
            s.request("GET", "/", headers={"Host": "web.example.com"})
            r = s.getresponse()
            assert r.status == 200 and r.read().decode().startswith("1 ")
        finally:
            lb.stop()
            remove_all_apps(m, a)
