"""Path ids on every Marathon route read as Marathon reads them: clients that build
"/v2/apps/" + app["id"] send "/v2/apps//prod/web", and Marathon's resources turn every {id} into
`id.toAbsolutePath` (PathId.apply drops empty segments, canonicalPath resolves "." and "..";
mesosphere/marathon src/main/scala/mesosphere/marathon/state/PathId.scala)."""
import pytest

from conftest import wait_for

# No agents here: see conftest.forced_writes.
pytestmark = pytest.mark.usefixtures("forced_writes")

APP = {"id": "/prod/web", "cmd": "sleep 1000", "cpus": 0.1, "mem": 16, "instances": 1}


def spellings(app_id):
    """The ways clients spell one id: as given, "//"-prefixed (prefix + id), with empty inner
    segments, with "." and ".." segments, and with a trailing slash."""
    tail = app_id.lstrip("/")
    return ["/" + tail, "//" + tail, "//" + tail.replace("/", "//"), "/./" + tail,
            "/prod/../" + tail, "/" + tail + "/"]


def test_app_routes_accept_every_spelling_of_the_id(master):
    assert master.put("/v2/apps//prod/web", json=APP).status_code in (200, 201)
    version = master.get("/v2/apps/prod/web").json()["app"]["version"]
    for spelled in spellings("/prod/web"):
        base = "/v2/apps" + spelled.rstrip("/")
        r = master.get("/v2/apps" + spelled)
        assert r.status_code == 200, (spelled, r.text)
        assert r.json()["app"]["id"] == "/prod/web"
        r = master.get(base + "/tasks")
        assert r.status_code == 200 and r.json() == {"tasks": []}, (spelled, r.text)
        r = master.get(base + "/versions")
        assert r.status_code == 200 and version in r.json()["versions"], (spelled, r.text)
        r = master.get(base + "/versions/" + version)
        assert r.status_code == 200 and r.json()["id"] == "/prod/web", (spelled, r.text)
        r = master.delete(base + "/tasks")
        assert r.status_code == 200, (spelled, r.text)
        r = master.post(base + "/restart", params={"force": "true"})
        assert r.status_code == 200, (spelled, r.text)
        r = master.patch(base, json={"instances": 1})
        assert r.status_code == 200, (spelled, r.text)
    assert master.get("/v2/apps").json()["apps"][0]["id"] == "/prod/web"
    assert len(master.get("/v2/apps").json()["apps"]) == 1
    r = master.delete("/v2/apps//prod//web")
    assert r.status_code == 200, r.text
    r = master.get("/v2/apps//prod/web")
    assert r.status_code == 404
    assert r.json()["message"] == "App '/prod/web' does not exist"


def test_group_routes_accept_every_spelling_of_the_id(master):
    assert master.put("/v2/apps//prod/web", json=APP).status_code in (200, 201)
    for spelled in spellings("/prod"):
        base = "/v2/groups" + spelled.rstrip("/")
        r = master.get("/v2/groups" + spelled)
        assert r.status_code == 200 and r.json()["id"] == "/prod", (spelled, r.text)
        r = master.get(base + "/apps")
        assert r.status_code == 200 and [a["id"] for a in r.json()["apps"]] == ["/prod/web"], (spelled, r.text)
        r = master.get(base + "/versions")
        assert r.status_code == 200 and isinstance(r.json(), list), (spelled, r.text)
    r = master.put("/v2/groups//prod", json={"apps": [dict(APP, id="web", instances=0)]}, params={"force": "true"})
    assert r.status_code == 200, r.text
    assert master.get("/v2/apps/prod/web").json()["app"]["instances"] == 0
    r = master.delete("/v2/groups//prod", params={"force": "true"})
    assert r.status_code == 200, r.text
    assert master.get("/v2/groups/prod").status_code == 404


def test_queue_and_deployment_routes_accept_prefixed_ids(master):
    # No agent: the app's instance waits in the launch queue, and its deployment stays open.
    r = master.put("/v2/apps//prod/web", json=APP)
    assert r.status_code in (200, 201)
    wait_for(lambda: [q for q in master.get("/v2/queue").json()["queue"] if q["app"]["id"] == "/prod/web"],
             what="queued")
    r = master.delete("/v2/queue//prod//web/delay")
    assert r.status_code == 204, r.text
    deployment = master.get("/v2/deployments").json()[0]["id"]
    r = master.delete("/v2/deployments//" + deployment, params={"force": "true"})
    assert r.status_code == 202, r.text
    assert all(d["id"] != deployment for d in master.get("/v2/deployments").json())
