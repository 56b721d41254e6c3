"""Deployments on a real master and agent: rolling restarts within Marathon's bounds, locking,
rollback and cancel through /v2/deployments, restart, dependency order."""
import os
import threading
import time

import pytest

from conftest import Agent, Master, free_port, running_tasks, wait_for


@pytest.fixture
def one(tmpdir_path):
    m = Master(os.path.join(tmpdir_path, "m"), free_port(), free_port()).start()
    m.wait_ready()
    a = Agent(os.path.join(tmpdir_path, "a"), [m], resources="cpus:8;mem:8000;disk:1000;ports:[31000-31200]").start()
    wait_for(lambda: len(m.get("/v1/nodes").json()) == 1, what="agent registered")
    yield m, a
    for app in m.get("/v2/apps").json().get("apps", []):
        m.delete(f"/v2/apps{app['id']}?force=true")
    try:
        wait_for(lambda: not m.get("/v2/tasks").json()["tasks"], timeout=15, what="tasks gone")
    except TimeoutError:
        pass
    a.kill_tasks()  # asks the agent: before stopping it
    a.stop()
    m.stop()


# A version that can never start (its user does not exist): a deployment to it stays open and,
# since no new instance ever becomes healthy, no old one is killed.
NEVER_STARTS = {"user": "no-such-user-strata", "backoffSeconds": 60}


def app_def(app_id, cmd="sleep 1000", n=3, **kw):
    d = {"id": app_id, "cmd": cmd, "cpus": 0.01, "mem": 16, "instances": n}
    d.update(kw)
    return d


def deployments(m):
    return m.get("/v2/deployments").json()


def wait_no_deployments(m, timeout=30):
    wait_for(lambda: deployments(m) == [], timeout=timeout, what="deployments to finish")


class Sampler(threading.Thread):
    """Polls the app's tasks 20+ times a second: running and total (non-terminal) counts."""

    def __init__(self, m, app_id):
        super().__init__(daemon=True)
        self.m, self.app_id = m, app_id
        self.samples = []
        self.stop_ev = threading.Event()

    def run(self):
        while not self.stop_ev.is_set():
            try:
                tasks = self.m.get(f"/v2/apps{self.app_id}/tasks").json()["tasks"]
                running = sum(1 for t in tasks if t["state"] == "TASK_RUNNING")
                self.samples.append((running, len(tasks)))
            except Exception:
                pass
            time.sleep(0.04)

    def stop(self):
        self.stop_ev.set()
        self.join(5)


def test_config_change_rolls_within_the_bounds_and_the_deployment_ends(one):
    m, _ = one
    r = m.post("/v2/apps", json=app_def("/roll", n=3, upgradeStrategy={"minimumHealthCapacity": 1.0,
                                                                          "maximumOverCapacity": 0.0}))
    assert r.status_code == 201, r.text
    wait_for(lambda: len(running_tasks(m, "/roll")) == 3, timeout=20, what="3 running")
    wait_no_deployments(m)
    old_ids = {t["id"] for t in running_tasks(m, "/roll")}

    s = Sampler(m, "/roll")
    s.start()
    r = m.put("/v2/apps/roll", json={"cmd": "sleep 1001"})
    assert r.status_code == 200, r.text
    dep_id = r.json()["deploymentId"]
    listed = deployments(m)
    assert [d["id"] for d in listed] == [dep_id]
    assert listed[0]["affectedApps"] == ["/roll"]
    assert listed[0]["steps"] == [{"actions": [{"action": "RestartApplication", "app": "/roll"}]}]
    assert listed[0]["currentActions"][0]["action"] == "RestartApplication"
    app = m.get("/v2/apps/roll").json()["app"]
    assert app["deployments"] == [{"id": dep_id}]
    wait_no_deployments(m, timeout=40)
    s.stop()

    tasks = running_tasks(m, "/roll")
    assert len(tasks) == 3 and not ({t["id"] for t in tasks} & old_ids)
    version = m.get("/v2/apps/roll").json()["app"]["version"]
    assert all(t["version"] == version for t in tasks)
    assert len(s.samples) >= 2  # the 20 Hz sampler with health checks is test_rolling.py
    # n=3 {1.0, 0.0}: at least 3 running at all times, at most 3 + the one extra.
    assert min(r for r, _ in s.samples) >= 3, s.samples
    assert max(t for _, t in s.samples) <= 4, s.samples


def test_locked_app_is_409_unless_forced(one):
    m, _ = one
    m.post("/v2/apps", json=app_def("/locked", n=1))
    wait_for(lambda: len(running_tasks(m, "/locked")) == 1, timeout=20, what="running")
    wait_no_deployments(m)
    # A version that never runs keeps the deployment open (the old task stays).
    r = m.put("/v2/apps/locked", json=NEVER_STARTS)
    dep = r.json()["deploymentId"]
    r = m.put("/v2/apps/locked", json={"cmd": "sleep 1002"})
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["deployments"] == [{"id": dep}]
    assert "locked" in body["message"] and dep in body["message"]
    assert len(running_tasks(m, "/locked")) == 1  # nothing was taken down
    r = m.put("/v2/apps/locked?force=true", json={"cmd": "sleep 1002", "user": "root"})
    assert r.status_code == 200, r.text
    assert [d["id"] for d in deployments(m)] in ([r.json()["deploymentId"]], [])
    wait_no_deployments(m, timeout=30)
    tasks = running_tasks(m, "/locked")
    assert len(tasks) == 1


def test_delete_deployment_rolls_back_and_force_only_stops(one):
    m, _ = one
    m.post("/v2/apps", json=app_def("/rb", n=2, cmd="sleep 1003"))
    wait_for(lambda: len(running_tasks(m, "/rb")) == 2, timeout=20, what="running")
    wait_no_deployments(m)
    before = m.get("/v2/apps/rb").json()["app"]
    old_ids = {t["id"] for t in running_tasks(m, "/rb")}
    dep = m.put("/v2/apps/rb", json=NEVER_STARTS).json()["deploymentId"]
    time.sleep(1)
    assert {t["id"] for t in running_tasks(m, "/rb")} == old_ids  # stuck, old ones kept

    assert m.delete("/v2/deployments/nope").status_code == 404
    r = m.delete(f"/v2/deployments/{dep}")
    assert r.status_code == 200, r.text
    back = r.json()["deploymentId"]
    assert back != dep
    wait_no_deployments(m, timeout=30)
    app = m.get("/v2/apps/rb").json()["app"]
    assert app["cmd"] == before["cmd"] and app.get("user") == before.get("user")
    assert {t["id"] for t in running_tasks(m, "/rb")} == old_ids  # the original version never went away

    dep = m.put("/v2/apps/rb", json=NEVER_STARTS).json()["deploymentId"]
    r = m.delete(f"/v2/deployments/{dep}?force=true")
    assert r.status_code == 202, r.text
    assert deployments(m) == []
    assert m.get("/v2/apps/rb").json()["app"]["user"] == "no-such-user-strata"


def test_restart_replaces_every_task_with_the_same_definition(one):
    m, _ = one
    m.post("/v2/apps", json=app_def("/rs", n=2))
    wait_for(lambda: len(running_tasks(m, "/rs")) == 2, timeout=20, what="running")
    wait_no_deployments(m)
    before = m.get("/v2/apps/rs").json()["app"]
    old_ids = {t["id"] for t in running_tasks(m, "/rs")}
    assert m.post("/v2/apps/nope/restart").status_code == 404
    r = m.post("/v2/apps/rs/restart")
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"deploymentId", "version"}
    wait_no_deployments(m, timeout=30)
    wait_for(lambda: len(running_tasks(m, "/rs")) == 2, timeout=20, what="running again")
    after = m.get("/v2/apps/rs").json()["app"]
    assert after["cmd"] == before["cmd"]
    assert after["versionInfo"]["lastConfigChangeAt"] > before["versionInfo"]["lastConfigChangeAt"]
    assert not ({t["id"] for t in running_tasks(m, "/rs")} & old_ids)


def test_bulk_change_deploys_in_dependency_order_and_rejects_cycles(one):
    m, _ = one
    r = m.put("/v2/apps", json=[app_def("/dep/db", n=1), app_def("/dep/web", n=1, dependencies=["/dep/db"]),
                                app_def("/dep/lb", n=1, dependencies=["/dep/web"])])
    assert r.status_code == 200, r.text
    listed = deployments(m)
    assert len(listed) == 1
    steps = [[a["action"] + ":" + a["app"] for a in s["actions"]] for s in listed[0]["steps"]]
    assert steps[-3:] == [["ScaleApplication:/dep/db"], ["ScaleApplication:/dep/web"], ["ScaleApplication:/dep/lb"]], steps
    assert steps[-3:] == [["ScaleApplication:/dep/db"], ["ScaleApplication:/dep/web"], ["ScaleApplication:/dep/lb"]]
    wait_no_deployments(m, timeout=40)
    started = {}
    for app in ("/dep/db", "/dep/web", "/dep/lb"):
        t = running_tasks(m, app)
        assert len(t) == 1
        started[app] = t[0]["stagedAt"]
    assert started["/dep/db"] < started["/dep/web"] < started["/dep/lb"]

    r = m.put("/v2/apps/dep/db", json={"dependencies": ["/dep/lb"]})
    assert r.status_code == 422, r.text
    assert "cyclic" in r.json()["message"]
