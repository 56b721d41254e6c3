"""`strata … --wait` against a real master and agent (fake runtime): what a CI/CD pipeline calls.

The CLI follows the deployment through /v2/events when the master serves it, else by polling
/v2/deployments and the app; either way the exit status is the verdict."""
import json
import os
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import STRATA, Agent, free_port, running_tasks, wait_for


class FakeAgent(Agent):
    """An agent whose tasks are scripted (STARTING, RUNNING) instead of real processes."""

    def start(self):
        cmd = [STRATA, "agent", "--master", ",".join(m.url for m in self.masters), "--data-dir", self.data_dir,
               "--http", f"127.0.0.1:{self.http_port}", "--resources", self.resources, "--fake-runtime"]
        self.logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=self.logf, stderr=subprocess.STDOUT)
        return self


@pytest.fixture
def agent(master, tmpdir_path):
    a = FakeAgent(os.path.join(tmpdir_path, "a0"), [master]).start()
    wait_for(lambda: master.get("/v1/nodes").json().get("nodes"), timeout=20, what="agent registered")
    yield a
    a.stop()


@pytest.fixture
def native_agent(master, tmpdir_path):
    """A real agent: the fake runtime reports every task healthy, real checks need real processes."""
    a = Agent(os.path.join(tmpdir_path, "a1"), [master]).start()
    wait_for(lambda: master.get("/v1/nodes").json().get("nodes"), timeout=20, what="agent registered")
    yield a
    a.kill_tasks()  # asks the agent: before stopping it
    a.stop()


def strata(master, *args, timeout=90):
    return subprocess.run([STRATA, "--master", master.url, *args], capture_output=True, text=True,
                          timeout=timeout)


def write_app(tmpdir_path, app):
    path = os.path.join(tmpdir_path, app["id"].strip("/").replace("/", "_") + ".json")
    with open(path, "w") as f:
        json.dump(app, f)
    return path


def test_add_wait_exits_0_once_the_app_runs(master, agent, tmpdir_path):
    path = write_app(tmpdir_path, {"id": "/ci/web", "cmd": "sleep 1000", "instances": 2, "cpus": 0.1, "mem": 32})
    r = strata(master, "app", "add", path, "--wait", "--timeout", "60")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Created app /ci/web (deployment " in r.stdout
    assert "succeeded" in r.stdout.splitlines()[-1]
    # the verdict is true: both instances run, at the app's version
    assert len(running_tasks(master, "/ci/web")) == 2

    # scale with --wait: the new count is there when the command returns
    r = strata(master, "app", "scale", "ci/web", "3", "--wait", "--timeout", "60")
    assert r.returncode == 0, r.stdout + r.stderr
    assert len(running_tasks(master, "/ci/web")) == 3

    # -o json: the answer, progress objects and a result, one JSON document per line
    r = strata(master, "-o", "json", "app", "update", "ci/web", "instances=1", "--wait", "--timeout", "60")
    assert r.returncode == 0, r.stdout + r.stderr
    docs = [json.loads(line) for line in r.stdout.splitlines()]
    assert docs[-1]["type"] == "result" and docs[-1]["result"] == "success"
    assert any(d.get("type") == "progress" for d in docs)
    assert len(running_tasks(master, "/ci/web")) == 1

    r = strata(master, "deployment", "list")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("ID")


def test_an_app_that_never_gets_healthy_fails_the_wait(master, native_agent, tmpdir_path):
    path = write_app(tmpdir_path, {
        "id": "/ci/sick", "cmd": "sleep 1000", "instances": 1, "cpus": 0.1, "mem": 32,
        "healthChecks": [{"protocol": "COMMAND", "command": {"value": "exit 1"},
                          "gracePeriodSeconds": 1, "intervalSeconds": 1, "maxConsecutiveFailures": 1000}],
    })
    r = strata(master, "app", "add", path, "--wait", "--timeout", "20")
    # 4: --timeout passed (the deployment never ends); 3 if the master declares it failed
    assert r.returncode in (3, 4), r.stdout + r.stderr
    assert r.stderr.startswith("strata: deployment "), r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_wait_usage_errors_exit_2_before_anything_is_sent(master):
    r = strata(master, "app", "scale", "nope", "3", "--timeout", "5")
    assert r.returncode == 2
    assert r.stderr == "strata: --timeout goes with --wait\n"
    assert master.get("/v2/apps/nope").status_code == 404


class _FakeMarathon(BaseHTTPRequestHandler):
    """Marathon's side of one restart: the event stream (SSE), the deployment list, the app."""
    protocol_version = "HTTP/1.0"  # Marathon's stream: no chunking, the body runs until close
    outcome = "deployment_success"
    deployed = None

    def log_message(self, *args):
        pass

    def _json(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.startswith("/v2/events"):
            if self.headers.get("Accept") != "text/event-stream":
                return self._json(405, {"message": "Accept must be text/event-stream"})
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            self.wfile.write(b"event: event_stream_attached\r\ndata: {\"remoteAddress\":\"127.0.0.1\"}\r\n\r\n")
            self.wfile.flush()
            self.deployed.wait(30)
            time.sleep(1)  # the deployment runs a while: the CLI polls meanwhile
            self.wfile.write(b"\r\n")  # a heartbeat
            self.wfile.write(("event: %s\r\ndata: {\"id\":\"d-42\",\"reason\":\"task failed\"}\r\n\r\n"
                              % self.outcome).encode())
            self.wfile.flush()
            time.sleep(2)
            return None
        if self.path == "/v2/deployments":
            return self._json(200, [{"id": "d-42", "affectedApps": ["/web"], "currentStep": 1, "totalSteps": 1,
                                     "currentActions": [{"action": "RestartApplication", "app": "/web"}]}]
                              if self.deployed.is_set() else [])
        if self.path == "/v2/apps/web":
            return self._json(200, {"app": {"id": "/web", "instances": 1, "tasksRunning": 1, "version": "v1",
                                            "tasks": [{"version": "v1"}]}})
        return self._json(404, {"message": "URI not found"})

    def do_POST(self):
        self.deployed.set()
        return self._json(200, {"deploymentId": "d-42", "version": "v2"})


@pytest.mark.parametrize("outcome,code", [("deployment_success", 0), ("deployment_failed", 3)])
def test_the_event_stream_decides_the_exit_status(outcome, code):
    """The CLI's libcurl event stream against a scripted Marathon: the event is the verdict
    (the deployment stays listed, so polling alone could never end the wait)."""
    handler = type("Handler", (_FakeMarathon,), {"outcome": outcome, "deployed": threading.Event()})
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        r = subprocess.run([STRATA, "--master", url, "app", "restart", "web", "--wait", "--timeout", "30"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == code, r.stdout + r.stderr
        assert "deployment d-42: step 1/1 RestartApplication /web" in r.stdout
        if code == 0:
            assert r.stdout.splitlines()[-1].startswith("Deployment d-42 succeeded")
        else:
            assert r.stderr == "strata: deployment d-42 failed: task failed\n"
        assert "note:" not in r.stdout  # the stream was used, no fallback
    finally:
        server.shutdown()
        server.server_close()


def crashing_update(master, tmpdir_path, app_id, *flags):
    path = write_app(tmpdir_path, {"id": app_id, "cmd": "sleep 1000", "instances": 2, "cpus": 0.1, "mem": 32,
                                   "backoffSeconds": 1, "backoffFactor": 1.0})
    r = strata(master, "app", "add", path, "--wait", "--timeout", "60")
    assert r.returncode == 0, r.stdout + r.stderr
    old = {t["id"] for t in running_tasks(master, app_id)}
    assert len(old) == 2
    # While the new version crashes, sample how many tasks run (capacity).
    lowest = [2]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            lowest[0] = min(lowest[0], len(running_tasks(master, app_id)))
            time.sleep(0.2)

    t = threading.Thread(target=sample)
    t.start()
    try:
        r = strata(master, "app", "update", app_id, "cmd=echo cannot start >&2; exit 1", "--wait", "--timeout",
                   "90", *flags)
    finally:
        stop.set()
        t.join()
    return r, old, lowest[0]


def test_a_crash_looping_version_fails_the_wait_with_the_tasks_message(master, native_agent, tmpdir_path):
    r, old, lowest = crashing_update(master, tmpdir_path, "/ci/crashy")
    assert r.returncode == 3, r.stdout + r.stderr
    line = r.stderr.strip()
    assert len(line.splitlines()) == 1
    assert line.startswith("strata: deployment ") and " failed: 3 tasks of /ci/crashy failed before one ran " \
                                                         "3 s healthy; last: Command exited with status 1" in line, line
    assert "cannot start" in line  # the task's own last words
    assert master.get("/v2/deployments").json() == []
    # the app keeps the new definition (Marathon-style retries go on); the old tasks still serve
    assert "exit 1" in master.get("/v2/apps/ci/crashy").json()["app"]["cmd"]
    assert lowest == 2
    master.delete("/v2/apps/ci/crashy", params={"force": "true"})


def test_rollback_on_failure_restores_the_old_version_without_losing_capacity(master, native_agent, tmpdir_path):
    r, old, lowest = crashing_update(master, tmpdir_path, "/ci/undo", "--rollback-on-failure")
    assert r.returncode == 3, r.stdout + r.stderr
    assert "Rolling back app /ci/undo to version " in r.stdout
    assert "; rolled back to version " in r.stderr
    app = master.get("/v2/apps/ci/undo").json()["app"]
    assert app["cmd"] == "sleep 1000"
    wait_for(lambda: len(running_tasks(master, "/ci/undo")) == 2 and not master.get("/v2/deployments").json(),
             timeout=30, what="the old version back at 2 tasks")
    assert lowest == 2, "capacity dropped during the failed deployment or the rollback"
    master.delete("/v2/apps/ci/undo", params={"force": "true"})


def test_marathons_behaviour_stays_with_a_label(master, native_agent, tmpdir_path):
    """STRATA_DEPLOY_MAX_FAILURES=0: the deployment goes on retrying, as Marathon's does."""
    path = write_app(tmpdir_path, {"id": "/ci/marathon", "cmd": "sleep 1000", "instances": 1, "cpus": 0.1, "mem": 32,
                                   "backoffSeconds": 1, "backoffFactor": 1.0,
                                   "labels": {"STRATA_DEPLOY_MAX_FAILURES": "0"}})
    assert strata(master, "app", "add", path, "--wait", "--timeout", "60").returncode == 0
    r = strata(master, "app", "update", "/ci/marathon", "cmd=exit 1", "--wait", "--timeout", "8")
    assert r.returncode == 4, r.stdout + r.stderr
    assert len(master.get("/v2/deployments").json()) == 1
    master.delete("/v2/apps/ci/marathon", params={"force": "true"})


def test_the_masters_rollback_on_failure_keeps_the_old_tasks(master, native_agent, tmpdir_path):
    """STRATA_DEPLOY_ON_FAILURE=rollback: the master rolls the deployment back itself, as DELETE
    /v2/deployments/{id} does: the original definition returns and its tasks were never replaced."""
    path = write_app(tmpdir_path, {"id": "/ci/selfheal", "cmd": "sleep 1000", "instances": 2, "cpus": 0.1, "mem": 32,
                                   "backoffSeconds": 1, "backoffFactor": 1.0,
                                   "labels": {"STRATA_DEPLOY_ON_FAILURE": "rollback"}})
    assert strata(master, "app", "add", path, "--wait", "--timeout", "60").returncode == 0
    old = {t["id"] for t in running_tasks(master, "/ci/selfheal")}
    r = strata(master, "app", "update", "/ci/selfheal", "cmd=exit 1", "--wait", "--timeout", "60")
    assert r.returncode == 3, r.stdout + r.stderr
    assert "; rolled back by deployment " in r.stderr
    wait_for(lambda: not master.get("/v2/deployments").json(), timeout=30, what="the rollback to end")
    assert master.get("/v2/apps/ci/selfheal").json()["app"]["cmd"] == "sleep 1000"
    assert {t["id"] for t in running_tasks(master, "/ci/selfheal")} == old
    master.delete("/v2/apps/ci/selfheal", params={"force": "true"})
