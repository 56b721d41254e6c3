"""Every response shape of Marathon's API, checked against Marathon's own RAML types: a field
Marathon does not send, a missing required field or a wrong type fails (marathon_shapes.py says
how, marathon_raml.json is generated from the RAML by marathon_raml_gen.py).

Design: one real master and agent are brought into a state where every kind of object exists —
healthy tasks with health results, a task in TASK_KILLING, a failed task (lastTaskFailure), an
app that cannot be placed (queue entry, open deployment), nested groups — and each test reads one
endpoint the way clients do and checks the body against the RAML type Marathon's API RAML names
for that route (docs/docs/rest-api/public/api/v2/*.raml)."""
import os
import shutil
import tempfile

import pytest

from conftest import Agent, Master, free_port, running_tasks, wait_for
from marathon_shapes import array_of, object_with, problems

SERVER = "mkdir -p www && echo ok > www/health && cd www && exec python3 -m http.server --bind 127.0.0.1 $PORT0"
ALL_APP_EMBEDS = ["apps.tasks", "apps.counts", "apps.deployments", "apps.lastTaskFailure", "apps.failures",
                  "apps.taskStats", "apps.readiness"]


@pytest.fixture(scope="module")
def live():
    base = tempfile.mkdtemp(prefix="strata-e2e-shapes-")
    m = Master(os.path.join(base, "m"), free_port(), free_port()).start()
    a = None
    try:
        m.wait_ready()
        a = Agent(os.path.join(base, "a1"), [m], resources="cpus:4;mem:4000;disk:1000;ports:[31000-31100]").start()
        wait_for(lambda: len(m.get("/v1/nodes").json()["nodes"]) == 1, what="agent registration")
        web = {"id": "/prod/web", "cmd": SERVER, "instances": 2, "cpus": 0.1, "mem": 64,
               "portDefinitions": [{"port": 0, "name": "http", "protocol": "tcp"}],
               "labels": {"team": "web"}, "env": {"A": "1"},
               "healthChecks": [{"protocol": "HTTP", "path": "/health", "portIndex": 0, "gracePeriodSeconds": 10,
                                 "intervalSeconds": 1, "timeoutSeconds": 1, "maxConsecutiveFailures": 3}]}
        # Ignores SIGTERM: a kill leaves it in TASK_KILLING for its grace period.
        stubborn = {"id": "/prod/stubborn", "cmd": "trap '' TERM; sleep 1000", "instances": 2, "cpus": 0.1,
                    "mem": 16, "taskKillGracePeriodSeconds": 120}
        fails = {"id": "/ops/fails", "cmd": "sleep 0.2; exit 3", "cpus": 0.1, "mem": 16, "backoffSeconds": 60}
        big = {"id": "/ops/big", "cmd": "sleep 1000", "cpus": 64, "mem": 16}
        ready = {"id": "/prod/ready", "cmd": SERVER, "cpus": 0.1, "mem": 64,
                 "portDefinitions": [{"port": 0, "name": "http"}],
                 # never ready: its deployment stays open and lists the readiness results
                 "readinessChecks": [{"name": "readiness", "protocol": "HTTP", "path": "/never", "portName": "http",
                                      "intervalSeconds": 2, "timeoutSeconds": 1}]}
        for app in (web, stubborn, fails, big, ready):
            r = m.post("/v2/apps", json=app)
            assert r.status_code == 201, r.text
        wait_for(lambda: len([t for t in running_tasks(m, "/prod/web") if t.get("healthCheckResults")
                              and all(h["alive"] for h in t["healthCheckResults"])]) == 2,
                 timeout=40, what="2 healthy web tasks")
        wait_for(lambda: len(running_tasks(m, "/prod/stubborn")) == 2, timeout=20, what="stubborn running")
        wait_for(lambda: m.get("/v2/apps/ops/fails", params={"embed": "apps.lastTaskFailure"}).json()["app"]
                 .get("lastTaskFailure"), timeout=20, what="a task failure")
        wait_for(lambda: any(a.get("readinessCheckResults") for d in m.get("/v2/deployments").json()
                             for a in d["currentActions"]), timeout=30, what="readiness results in a deployment")
        victim = running_tasks(m, "/prod/stubborn")[0]["id"]
        r = m.delete(f"/v2/apps/prod/stubborn/tasks/{victim}")
        assert r.status_code == 200, r.text
        wait_for(lambda: any(t["state"] == "TASK_KILLING" for t in m.get("/v2/tasks").json()["tasks"]),
                 timeout=20, what="a task in TASK_KILLING")
        yield m
    finally:
        try:
            for app in m.get("/v2/apps").json().get("apps", []):
                m.delete(f"/v2/apps{app['id']}", params={"force": "true"})
        except Exception:
            pass
        if a:
            a.kill_tasks()
            a.stop()
        m.stop()
        shutil.rmtree(base, ignore_errors=True)


def assert_shape(type_name, doc):
    found = problems(type_name, doc)
    assert not found, "\n".join(found)


# (route, query, RAML type of the 200 body) — types as Marathon's API RAML declares them per route.
READS = [
    ("/v2/apps", {"embed": ALL_APP_EMBEDS}, "app.AppList"),
    ("/v2/apps", {}, "app.AppList"),
    ("/v2/apps/prod/web", {"embed": ALL_APP_EMBEDS}, object_with(app="app.AppInfo")),
    ("/v2/apps/prod/stubborn", {}, object_with(app="app.AppInfo")),
    ("/v2/apps/prod/web/tasks", {}, "task.TaskList"),
    ("/v2/apps/prod/stubborn/tasks", {}, "task.TaskList"),
    ("/v2/tasks", {}, "task.TaskList"),
    ("/v2/apps/prod/web/versions", {}, "app.VersionList"),
    ("/v2/groups", {"embed": ["group.groups", "group.apps", "group.pods"] + ALL_APP_EMBEDS}, "group.GroupInfo"),
    ("/v2/groups/prod", {}, "group.GroupInfo"),
    ("/v2/groups/prod/apps", {}, "app.AppList"),
    ("/v2/deployments", {}, array_of("deploymentEventsInfo.DeploymentStepInfo")),
    ("/v2/queue", {}, "queue.Queue"),
    ("/v2/info", {}, "info.MarathonInfo"),
    ("/v2/leader", {}, "info.LeaderInfo"),
]


@pytest.mark.parametrize("route,query,raml", READS, ids=[f"{r[0]}{'+embeds' if r[1] else ''}" for r in READS])
def test_read_matches_marathon_raml(live, route, query, raml):
    r = live.get(route, params=query)
    assert r.status_code == 200, r.text
    assert_shape(raml, r.json())


def test_app_version_and_writes_match_marathon_raml(live):
    m = live
    version = m.get("/v2/apps/prod/web/versions").json()["versions"][0]
    r = m.get(f"/v2/apps/prod/web/versions/{version}")
    assert r.status_code == 200
    assert_shape("app.App", r.json())
    r = m.post("/v2/apps", json={"id": "/shape/new", "cmd": "sleep 1000", "cpus": 0.1, "mem": 16, "instances": 0})
    assert r.status_code == 201, r.text
    assert_shape("app.AppInfo", r.json())
    r = m.put("/v2/apps/shape/new", json={"cmd": "sleep 999", "instances": 0}, params={"force": "true"})
    assert r.status_code == 200, r.text
    assert_shape("deploymentResult.DeploymentResult", r.json())
    r = m.put("/v2/groups/shape", params={"force": "true"}, json={"id": "/shape", "apps": [{"id": "new", "cmd": "sleep 998", "instances": 0}]})
    assert r.status_code == 200, r.text
    assert_shape("deploymentResult.DeploymentResult", r.json())
    r = m.delete("/v2/apps/shape/new", params={"force": "true"})
    assert r.status_code == 200, r.text
    assert_shape("deploymentResult.DeploymentResult", r.json())


def test_task_kill_answers_match_marathon_raml(live):
    m = live
    victim = running_tasks(m, "/prod/stubborn")[0]["id"]
    r = m.delete(f"/v2/apps/prod/stubborn/tasks/{victim}")
    assert r.status_code == 200, r.text
    assert_shape({"union": [{"ref": "task.TaskSingle"}, {"ref": "deploymentResult.DeploymentResult"}]}, r.json())
    r = m.post("/v2/tasks/delete", json={"ids": ["nonexistent.instance-00000000-0000-0000-0000-000000000000._app.1"]})
    assert r.status_code == 200, r.text
    assert_shape({"union": [{"ref": "task.TaskList"}, {"ref": "deploymentResult.DeploymentResult"}]}, r.json())


def test_a_killing_task_carries_only_marathon_fields(live):
    """Strict clients build a task object from exactly Marathon's fields: one in TASK_KILLING
    must not carry anything else (it carried `message`)."""
    killing = [t for t in live.get("/v2/tasks").json()["tasks"] if t["state"] == "TASK_KILLING"]
    assert killing
    for t in killing:
        assert_shape("task.Task", t)
        assert "message" not in t


def test_checker_catches_missing_extra_and_mistyped_fields():
    """The checker itself: each kind of difference is reported with its JSON path."""
    good = {"leader": "127.0.0.1:8080"}
    assert problems("info.LeaderInfo", good) == []
    assert problems("info.LeaderInfo", {}) == ["/leader: missing"]
    assert problems("info.LeaderInfo", dict(good, strata_version="1")) == ["/strata_version: extra field"]
    assert problems("info.LeaderInfo", {"leader": 1}) == ["/leader: expected string, got 1"]
    assert problems("task.TaskList", {"tasks": [{"state": "RUNNING"}]})
    assert problems("app.VersionList", {"versions": ["yesterday"]}) == ['/versions/0: expected datetime, got "yesterday"']
    assert problems("label.KVLabels", {"any": "x"}) == []
    assert problems("label.KVLabels", {"any": 1}) == ["/any: expected string, got 1"]


def test_the_checked_state_has_every_kind_of_object(live):
    """The shapes above are only worth something if the bodies hold what they describe."""
    m = live
    assert m.get("/v2/queue").json()["queue"], "an unplaceable app is queued"
    assert len(m.get("/v2/deployments").json()) >= 2, "/ops/big's and /prod/ready's deployments are open"
    apps = {a["id"]: a for a in m.get("/v2/apps", params={"embed": ALL_APP_EMBEDS}).json()["apps"]}
    assert apps["/ops/fails"].get("lastTaskFailure")
    assert all(t.get("healthCheckResults") for t in apps["/prod/web"]["tasks"]), apps["/prod/web"]["tasks"]
    assert {t["state"] for t in apps["/prod/stubborn"]["tasks"]} >= {"TASK_KILLING", "TASK_RUNNING"}
    assert m.get("/v2/groups").json()["groups"]
    wait_for(lambda: m.get("/v2/apps/prod/ready", params={"embed": "apps.readiness"}).json()["app"]
             .get("readinessCheckResults"), timeout=20, what="readiness results")
    app = m.get("/v2/apps/prod/ready", params={"embed": "apps.readiness"}).json()["app"]
    assert_shape(object_with(app="app.AppInfo"), {"app": app})


def test_tasks_stats_count_and_time_the_tasks_by_version(live):
    """embed=apps.taskStats as Marathon fills it (TaskStatsByVersion): every part that has tasks."""
    app = live.get("/v2/apps/prod/web", params={"embed": "apps.taskStats"}).json()["app"]
    stats = app["tasksStats"]
    assert_shape("task.TaskStatsByVersion", stats)
    for part in ("totalSummary", "withLatestConfig", "startedAfterLastScaling"):
        s = stats[part]["stats"]
        assert s["counts"] == {"staged": 0, "running": 2, "healthy": 2, "unhealthy": 0}, (part, stats)
        assert 0 < s["lifeTime"]["averageSeconds"] < 600 and 0 < s["lifeTime"]["medianSeconds"] < 600
    assert "withOutdatedConfig" not in stats  # no task runs an older config


def test_metrics_json_is_marathons_dropwizard_document(live):
    """GET /metrics with Accept: application/json answers Marathon's JSON (metrics.raml);
    Prometheus text stays the default."""
    r = live.get("/metrics", headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json")
    doc = r.json()
    assert_shape("metrics.Metrics", doc)
    assert doc["version"] == "4.0.0"
    n_apps = len(live.get("/v2/apps").json()["apps"])
    assert doc["gauges"]["marathon.apps.active.gauge"]["value"] == n_apps
    running = len([t for t in live.get("/v2/tasks").json()["tasks"] if t["state"] == "TASK_RUNNING"])
    assert doc["gauges"]["marathon.instances.running.gauge"]["value"] == running
    assert doc["counters"]["marathon.deployments.counter"]["count"] >= 2
    wait_for(lambda: live.get("/metrics", headers={"Accept": "application/json"}).json()["counters"]
             ["marathon.deployments.counter"]["count"] == len(live.get("/v2/deployments").json()),
             what="the deployments counter is the number of open deployments")
    for accept in (None, "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"):
        r = live.get("/metrics", headers={"Accept": accept} if accept else {})
        assert r.headers["Content-Type"].startswith("text/plain") and "strata_apps " in r.text
