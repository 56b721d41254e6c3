"""Health and readiness checks end to end: a real master and agent, real processes, real checks."""
import os

import pytest

from conftest import master_and_agent, running_tasks, wait_for

# Serves ./www on $PORT0; www/health exists until the test removes it.
SERVER = ("mkdir -p www && echo ok > www/health && cd www && exec python3 -m http.server --bind 127.0.0.1 $PORT0")


@pytest.fixture
def one(tmpdir_path):
    with master_and_agent(tmpdir_path, ["--agent-timeout", "5"]) as ma:
        yield ma


def http_check(**kw):
    hc = {"protocol": "HTTP", "path": "/health", "portIndex": 0, "gracePeriodSeconds": 5, "intervalSeconds": 1,
          "timeoutSeconds": 1, "maxConsecutiveFailures": 2}
    hc.update(kw)
    return hc


def app_info(m, app_id, embed="apps.tasks"):
    return m.get(f"/v2/apps{app_id}", params={"embed": embed}).json()["app"]


def healthy_tasks(m, app_id):
    return [t for t in running_tasks(m, app_id)
            if t.get("healthCheckResults") and all(r["alive"] for r in t["healthCheckResults"])]


def test_http_check_makes_tasks_healthy(one):
    m, a = one
    r = m.post("/v2/apps", json={"id": "/web", "cmd": SERVER, "instances": 2, "cpus": 0.1, "mem": 64,
                                 "portDefinitions": [{"port": 0}], "healthChecks": [http_check()]})
    assert r.status_code == 201, r.text
    wait_for(lambda: len(healthy_tasks(m, "/web")) == 2, timeout=30, what="2 healthy tasks")
    info = app_info(m, "/web")
    assert info["tasksHealthy"] == 2 and info["tasksUnhealthy"] == 0 and info["tasksRunning"] == 2
    res = info["tasks"][0]["healthCheckResults"][0]
    assert res["alive"] is True and res["consecutiveFailures"] == 0 and res["firstSuccess"] and res["lastSuccess"]
    assert "lastFailure" not in res and res["instanceId"] == info["tasks"][0]["id"].rsplit("._app", 1)[0]
    # /v2/tasks carries the same results
    all_tasks = m.get("/v2/tasks").json()["tasks"]
    assert all(t["healthCheckResults"][0]["alive"] for t in all_tasks if t["appId"] == "/web")


def test_tcp_and_command_checks(one):
    m, a = one
    r = m.post("/v2/apps", json={"id": "/multi", "cmd": SERVER, "instances": 1, "cpus": 0.1, "mem": 64,
                                 "portDefinitions": [{"port": 0}],
                                 "healthChecks": [{"protocol": "TCP", "portIndex": 0, "intervalSeconds": 1,
                                                   "timeoutSeconds": 1, "gracePeriodSeconds": 5},
                                                  {"protocol": "COMMAND", "intervalSeconds": 1, "timeoutSeconds": 2,
                                                   "delaySeconds": 0, "gracePeriodSeconds": 5,
                                                   "command": {"value": "test -f \"$MESOS_SANDBOX/www/health\" && "
                                                                        "test -n \"$MARATHON_APP_ID\""}}]})
    assert r.status_code == 201, r.text
    tasks = wait_for(lambda: [t for t in healthy_tasks(m, "/multi") if len(t["healthCheckResults"]) == 2],
                     timeout=30, what="healthy via TCP and COMMAND")
    results = tasks[0]["healthCheckResults"]
    assert len(results) == 2 and all(x["alive"] for x in results)
    assert app_info(m, "/multi")["tasksHealthy"] == 1


def sandbox(a, task_id):
    return os.path.join(a.data_dir, "sandboxes", task_id)


def test_failing_task_is_killed_and_replaced(one):
    m, a = one
    r = m.post("/v2/apps", json={"id": "/flaky", "cmd": SERVER, "instances": 1, "cpus": 0.1, "mem": 64,
                                 "backoffSeconds": 1, "portDefinitions": [{"port": 0}],
                                 "healthChecks": [http_check(maxConsecutiveFailures=2)]})
    assert r.status_code == 201, r.text
    first = wait_for(lambda: healthy_tasks(m, "/flaky"), timeout=30, what="healthy")[0]["id"]
    os.unlink(os.path.join(sandbox(a, first), "www", "health"))  # now 404
    # It fails (and is reported unhealthy), then is killed and replaced by a new task.
    wait_for(lambda: [t for t in running_tasks(m, "/flaky") if t["id"] != first], timeout=40,
             what="a replacement task")
    assert first not in [t["id"] for t in m.get("/v2/apps/flaky/tasks").json()["tasks"]]
    failure = wait_for(lambda: app_info(m, "/flaky", "apps.lastTaskFailure").get("lastTaskFailure"), what="failure")
    assert failure["taskId"] == first and failure["state"] == "TASK_KILLED"
    assert "health check failed" in failure["message"] and "HTTP 404" in failure["message"]


def test_max_consecutive_failures_zero_never_kills(one):
    m, a = one
    r = m.post("/v2/apps", json={"id": "/keep", "cmd": SERVER, "instances": 1, "cpus": 0.1, "mem": 64,
                                 "portDefinitions": [{"port": 0}],
                                 "healthChecks": [http_check(maxConsecutiveFailures=0, gracePeriodSeconds=0)]})
    assert r.status_code == 201, r.text
    first = wait_for(lambda: healthy_tasks(m, "/keep"), timeout=30, what="healthy")[0]["id"]
    os.unlink(os.path.join(sandbox(a, first), "www", "health"))

    def failing():
        t = running_tasks(m, "/keep")
        return t and t[0]["healthCheckResults"][0]["consecutiveFailures"] >= 3 and t
    t = wait_for(failing, timeout=30, what="3 failures")[0]
    res = t["healthCheckResults"][0]
    assert t["id"] == first and res["alive"] is False and res["lastFailureCause"] == "HTTP 404" and res["lastFailure"]
    info = app_info(m, "/keep")
    assert info["tasksUnhealthy"] == 1 and info["tasksHealthy"] == 0


def test_readiness_check_is_reported(one):
    m, a = one
    r = m.post("/v2/apps", json={"id": "/ready", "cmd": SERVER, "instances": 1, "cpus": 0.1, "mem": 64,
                                 "portDefinitions": [{"port": 0, "name": "http"}],
                                 "readinessChecks": [{"name": "rc", "portName": "http", "path": "/health",
                                                      "intervalSeconds": 2, "timeoutSeconds": 1}]})
    assert r.status_code == 201, r.text

    def ready():
        res = app_info(m, "/ready", "apps.readiness").get("readinessCheckResults")
        return res and res[0]["ready"] and res
    res = wait_for(ready, timeout=30, what="ready")
    assert res[0]["name"] == "rc" and res[0]["taskId"] == running_tasks(m, "/ready")[0]["id"]
