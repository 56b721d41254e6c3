"""The groups API (/v2/groups) against a real master: create, read with embeds, replace,
scaleBy, versions and rollback, dryRun plans in dependency order, locking, delete — and, with an
agent, a group of three dependent apps deploying in dependency order."""
import json
import os

import pytest

from conftest import FIXTURES, Agent, wait_for


def app(id_, instances=0, cmd="sleep 1000", **kw):
    d = {"id": id_, "cmd": cmd, "instances": instances, "cpus": 0.1, "mem": 16}
    d.update(kw)
    return d


def test_root_group_always_exists(master):
    r = master.get("/v2/groups")
    assert r.status_code == 200
    g = r.json()
    assert g["id"] == "/"
    assert g["apps"] == [] and g["groups"] == [] and g["pods"] == []
    assert master.get("/v2/groups/nope").status_code == 404
    assert master.get("/v2/groups/nope").json()["message"] == "Group '/nope' does not exist"


def test_create_read_replace_delete(master):
    with open(os.path.join(FIXTURES, "dcos-core-cli/python/lib/dcoscli/tests/data/marathon/groups/complicated.json")) as f:
        body = json.load(f)
    r = master.post("/v2/groups", json=body)
    assert r.status_code == 201, r.text
    dep = r.json()["deploymentId"]
    assert r.headers["Marathon-Deployment-Id"] == dep
    assert r.json()["version"].endswith("Z")

    g = master.get("/v2/groups/test-group").json()
    assert g["id"] == "/test-group"
    assert [a["id"] for a in g["apps"]] == ["/test-group/appingroups"]
    sub = {s["id"]: s for s in g["groups"]}
    assert set(sub) == {"/test-group/app", "/test-group/moregroups"}
    assert sub["/test-group/app"]["apps"][0]["dependencies"] == ["/product/database"]
    nested = sub["/test-group/moregroups"]["groups"][0]
    assert nested["id"] == "/test-group/moregroups/moregroups"
    assert nested["apps"][0]["id"] == "/test-group/moregroups/moregroups/sleep1"
    # The app is a real app of the apps API.
    assert master.get("/v2/apps/test-group/moregroups/moregroups/sleep1").status_code == 200

    # Embeds: only what was asked for.
    g = master.get("/v2/groups/test-group", params={"embed": "group.apps"}).json()
    assert "groups" not in g and "apps" in g
    g = master.get("/v2/groups/test-group", params=[("embed", "group.apps"), ("embed", "group.apps.counts")]).json()
    assert g["apps"][0]["tasksRunning"] == 0
    apps = master.get("/v2/groups/test-group/apps").json()["apps"]
    assert [a["id"] for a in apps] == ["/test-group/appingroups"]

    r = master.post("/v2/groups", json=body)
    assert r.status_code == 409
    assert r.json()["message"] == "Group /test-group is already created. Use PUT to change this group."

    # "apps" replaces the direct apps; "groups" absent keeps the subgroups.
    r = master.put("/v2/groups/test-group", params={"force": "true"},
                   json={"apps": [app("updated")]})
    assert r.status_code == 200, r.text
    g = master.get("/v2/groups/test-group").json()
    assert [a["id"] for a in g["apps"]] == ["/test-group/updated"]
    assert len(g["groups"]) == 2
    assert master.get("/v2/apps/test-group/appingroups").status_code == 404

    # "groups" replaces the subgroups: unlisted ones go with their apps.
    r = master.put("/v2/groups/test-group", params={"force": "true"},
                   json={"groups": [{"id": "app", "apps": [app("sleep10")]}]})
    assert r.status_code == 200, r.text
    g = master.get("/v2/groups/test-group").json()
    assert [s["id"] for s in g["groups"]] == ["/test-group/app"]
    assert master.get("/v2/apps/test-group/moregroups/moregroups/sleep1").status_code == 404
    assert master.get("/v2/groups/test-group/moregroups").status_code == 404

    r = master.delete("/v2/groups/test-group", params={"force": "true"})
    assert r.status_code == 200, r.text
    assert r.headers["Marathon-Deployment-Id"] == r.json()["deploymentId"]
    assert master.get("/v2/groups/test-group").status_code == 404
    assert master.get("/v2/apps/test-group/updated").status_code == 404
    assert master.get("/v2/groups").json()["groups"] == []


def test_empty_group_and_errors(master):
    r = master.post("/v2/groups", json={"id": "/x/y"})
    assert r.status_code == 201, r.text
    # An empty group exists, with its parent.
    assert master.get("/v2/groups/x/y").json()["apps"] == []
    assert [g["id"] for g in master.get("/v2/groups/x").json()["groups"]] == ["/x/y"]
    # No app where a group is.
    r = master.post("/v2/apps", json=app("/x/y"))
    assert r.status_code == 409, r.text

    r = master.put("/v2/groups/prod", json={"apps": [app("/other/web")]})
    assert r.status_code == 422
    assert "is not child of /prod" in r.json()["details"][0]["errors"][0]
    assert r.json()["details"][0]["path"] == "/apps(0)/id"
    r = master.put("/v2/groups/prod", json={"apps": [{"id": "web", "cpus": "lots"}]})
    assert r.status_code == 422
    assert r.json()["details"][0]["path"].startswith("/apps(0)/")
    r = master.put("/v2/groups/prod", json={"groups": [{"apps": []}]})
    assert r.status_code == 422
    r = master.put("/v2/groups/prod", json={"scaleBy": -1, "id": "/prod"})
    assert r.status_code in (404, 422)
    r = master.put("/v2/groups/prod", data="{", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    # Nothing was created by the failed writes.
    assert master.get("/v2/groups/prod").status_code == 404

    # A group where an app is.
    assert master.post("/v2/apps", json=app("/solo")).status_code == 201
    r = master.post("/v2/groups", json={"id": "/solo/inner"})
    assert r.status_code == 409
    assert r.json()["message"] == "An app with the path /solo already exists."


SHOP = {
    "id": "/shop",
    "groups": [
        {"id": "back", "apps": [app("db"), app("api", dependencies=["/shop/back/db"])]},
        {"id": "front", "dependencies": ["/shop/back"], "apps": [app("web")]},
    ],
}


def test_dry_run_steps_follow_dependencies(master):
    r = master.put("/v2/groups/shop", params={"dryRun": "true"}, json=SHOP)
    assert r.status_code == 200, r.text
    steps = [[(a["action"], a["app"]) for a in s["actions"]] for s in r.json()["steps"]]
    assert steps[0] == [("StartApplication", "/shop/back/db"), ("StartApplication", "/shop/back/api"),
                        ("StartApplication", "/shop/front/web")]
    # db, then api (depends on db), then web (its group depends on all of /shop/back).
    assert steps[1:] == [[("ScaleApplication", "/shop/back/db")], [("ScaleApplication", "/shop/back/api")],
                         [("ScaleApplication", "/shop/front/web")]]
    # Nothing changed.
    assert master.get("/v2/groups/shop").status_code == 404

    # For real, with one instance each: no agent, so the deployment stays and shows its plan.
    body = json.loads(json.dumps(SHOP))
    for g in body["groups"]:
        for a in g["apps"]:
            a["instances"] = 1
    r = master.put("/v2/groups/shop", json=body)
    assert r.status_code == 200, r.text
    g = master.get("/v2/groups/shop/front").json()
    assert g["dependencies"] == ["/shop/back"]
    mine = [d for d in master.get("/v2/deployments").json() if d["id"] == r.json()["deploymentId"]]
    assert len(mine) == 1
    acts = [[a["app"] for a in s["actions"] if a["action"] != "StartApplication"] for s in mine[0]["steps"]]
    assert [a for a in acts if a] == [["/shop/back/db"], ["/shop/back/api"], ["/shop/front/web"]]

    # A cycle through a group dependency is refused.
    r = master.put("/v2/groups/shop/back", params={"dryRun": "true"},
                   json={"dependencies": ["/shop/front"]})
    assert r.status_code == 422
    assert r.json()["message"] == "Dependency graph has cyclic dependencies."


def test_locked_group_needs_force(master):
    # No agent: the deployment of one instance cannot finish, so the app stays locked.
    r = master.put("/v2/groups/lock", json={"apps": [app("a", instances=1)]})
    assert r.status_code == 200, r.text
    first = r.json()["deploymentId"]
    r = master.put("/v2/groups/lock", json={"scaleBy": 2})
    assert r.status_code == 409, r.text
    assert r.json()["message"].startswith("App is locked by one or more deployments.")
    assert r.json()["deployments"] == [{"id": first}]
    assert master.get("/v2/apps/lock/a").json()["app"]["instances"] == 1
    r = master.put("/v2/groups/lock", params={"force": "true"}, json={"scaleBy": 2.5})
    assert r.status_code == 200, r.text
    assert master.get("/v2/apps/lock/a").json()["app"]["instances"] == 3
    r = master.delete("/v2/groups/lock")
    assert r.status_code == 409
    assert master.delete("/v2/groups/lock", params={"force": "true"}).status_code == 200


def test_versions_and_rollback(master):
    f = {"force": "true"}
    r1 = master.put("/v2/groups/ver", params=f, json={"apps": [app("a", cmd="sleep 101")], "dependencies": []})
    assert r1.status_code == 200, r1.text
    v1 = r1.json()["version"]
    r2 = master.put("/v2/groups/ver", params=f,
                    json={"apps": [app("a", cmd="sleep 202"), app("b")], "dependencies": ["/elsewhere"]})
    assert r2.status_code == 200, r2.text
    v2 = r2.json()["version"]
    versions = master.get("/v2/groups/ver/versions").json()
    assert isinstance(versions, list)
    assert versions[:2] == [v2, v1]
    old = master.get(f"/v2/groups/ver/versions/{v1}").json()
    assert [(a["id"], a["cmd"]) for a in old["apps"]] == [("/ver/a", "sleep 101")]
    assert master.get("/v2/groups/ver/versions/2001-01-01T00:00:00.000Z").status_code == 404

    r = master.put("/v2/groups/ver", params=f, json={"version": v1})
    assert r.status_code == 200, r.text
    g = master.get("/v2/groups/ver").json()
    assert [(a["id"], a["cmd"]) for a in g["apps"]] == [("/ver/a", "sleep 101")]
    assert g["dependencies"] == []
    assert master.get("/v2/apps/ver/b").status_code == 404
    assert master.get("/v2/groups/ver/versions").json()[0] == r.json()["version"]

    r = master.put("/v2/groups/ver", params=f, json={"version": "2001-01-01T00:00:00.000Z"})
    assert r.status_code == 422
    assert "not available in version" in r.json()["message"]
    # The root's history lists root changes.
    master.put("/v2/groups", params=f, json={"groups": [{"id": "ver"}]})
    assert len(master.get("/v2/groups/versions").json()) == 1


def running_task(m, app_id):
    tasks = m.get(f"/v2/apps{app_id}/tasks").json()["tasks"]
    running = [t for t in tasks if t["state"] == "TASK_RUNNING" and t.get("startedAt")]
    return running[0] if running else None


def test_group_of_three_apps_deploys_in_dependency_order(master, tmpdir_path):
    agent = Agent(os.path.join(tmpdir_path, "a0"), [master]).start()
    try:
        wait_for(lambda: master.get("/v1/nodes").json().get("nodes"), timeout=20, what="agent registered")
        body = {"apps": [
            app("web", instances=1, cmd="sleep 600", dependencies=["/chain/api"]),
            app("api", instances=1, cmd="sleep 600", dependencies=["/chain/db"]),
            app("db", instances=1, cmd="sleep 600"),
        ]}
        r = master.put("/v2/groups/chain", json=body)
        assert r.status_code == 200, r.text
        names = ("db", "api", "web")
        tasks = wait_for(lambda: all(running_task(master, f"/chain/{a}") for a in names) and
                         {a: running_task(master, f"/chain/{a}") for a in names},
                         timeout=60, what="all three apps running")
        # A dependent app gets no task before its dependency's tasks are running (no health
        # checks): its task is staged only after the dependency's task started.
        assert tasks["api"]["stagedAt"] >= tasks["db"]["startedAt"], tasks
        assert tasks["web"]["stagedAt"] >= tasks["api"]["startedAt"], tasks
        assert tasks["db"]["startedAt"] < tasks["api"]["startedAt"] < tasks["web"]["startedAt"], tasks
        master.delete("/v2/groups/chain", params={"force": "true"})
    finally:
        agent.kill_tasks()
        agent.stop()
