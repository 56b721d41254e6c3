"""Marathon's apps API against one real master: fixtures, validation, updates, versions, filters."""
import glob
import json
import os
import socket
import subprocess

import pytest
import requests

from conftest import FIXTURES, STRATA

APP_DEFAULTS = {
    "instances": 1, "cpus": 1, "mem": 128, "disk": 0, "gpus": 0, "executor": "",
    "backoffSeconds": 1, "backoffFactor": 1.15, "maxLaunchDelaySeconds": 300,
    "requirePorts": False, "killSelection": "YOUNGEST_FIRST",
}
ALWAYS = ["id", "instances", "cpus", "mem", "disk", "gpus", "executor", "backoffSeconds", "backoffFactor",
          "maxLaunchDelaySeconds", "requirePorts", "labels", "networks", "upgradeStrategy",
          "unreachableStrategy", "killSelection", "version", "versionInfo", "tasksStaged", "tasksRunning",
          "tasksHealthy", "tasksUnhealthy", "deployments"]
LEGACY = ["ports", "uris", "ipAddress"]


def fixture_paths():
    pats = ["marathon/tests/system/apps/*.json",
            "marathon/docs/articles/examples/requests/app-simple.json",
            "dcos-core-cli/python/lib/dcoscli/tests/data/marathon/apps/*.json",
            "marathon-lb/tests/1-nginx*.json", "marathon-lb/tests/zdd_app_blue*.json",
            "marathon-lb/ci/backends/*.json", "marathon-lb/ci/backends_1.9/ucr_host.json"]
    out = []
    for p in pats:
        out += sorted(glob.glob(os.path.join(FIXTURES, p)))
    return out


# Fixtures Marathon itself rejects, with the reason (see test_model_app_fixtures.c).
INVALID = {
    "app_add_400.json": 422,          # docker network "bogus": not a known enum value
    "bad.json": 400,                  # not JSON at all
}
NOT_APPS = {"update_zero_instance_sleep.json"}  # an update body, not an app definition


def test_fixture_list_is_not_empty():
    assert len(fixture_paths()) >= 30, f"shared fixtures not found under {FIXTURES}"


@pytest.mark.parametrize("path", fixture_paths(), ids=lambda p: os.path.basename(str(p)))
def test_every_valid_fixture_is_accepted_and_read_back_with_defaults(master, path):
    name = os.path.basename(path)
    with open(path, "rb") as f:
        body = f.read()
    try:
        doc = json.loads(body)
    except ValueError:
        doc = None
    if isinstance(doc, dict) and "apps" in doc:
        # marathon-lb's zdd fixtures are GET /v2/apps answers: every app in them is a valid input.
        for app in doc["apps"]:
            app = dict(app, id=app["id"] + "-" + name.replace(".json", "").replace("_", "-").replace(".", "-"))
            r = master.post("/v2/apps", json=app)
            assert r.status_code == 201, f"{name}: {r.status_code} {r.text}"
        return
    r = master.post("/v2/apps", data=body)
    if name in INVALID:
        assert r.status_code == INVALID[name], r.text
        err = r.json()
        assert "message" in err
        if r.status_code == 422:
            assert err["details"] and all("path" in d and d["errors"] for d in err["details"])
        return
    if name in NOT_APPS:
        return
    assert r.status_code == 201, f"{name}: {r.status_code} {r.text}"
    assert r.headers["Marathon-Deployment-Id"]
    created = r.json()
    assert created["deployments"][0]["id"] == r.headers["Marathon-Deployment-Id"]
    assert r.headers["Location"].endswith(created["id"])
    app = master.get("/v2/apps" + created["id"]).json()["app"]
    for key in ALWAYS:
        assert key in app, f"{name}: {key} missing"
    for key in LEGACY:
        assert key not in app, f"{name}: legacy {key} emitted"
    assert "network" not in app.get("container", {}).get("docker", {})
    for hc in app.get("healthChecks", []):
        for key in ["protocol", "intervalSeconds", "timeoutSeconds", "gracePeriodSeconds",
                    "maxConsecutiveFailures", "delaySeconds"]:
            assert key in hc, f"{name}: healthCheck.{key} missing"
    for pd in app.get("portDefinitions", []):
        if not app["requirePorts"]:
            assert 10000 <= pd["port"] <= 20000 or pd["port"] != 0


def test_defaults_and_service_ports(master):
    r = master.post("/v2/apps", json={"id": "web", "cmd": "python3 -m http.server $PORT0"})
    assert r.status_code == 201
    r2 = master.post("/v2/apps", json={"id": "/other/web", "cmd": "sleep 100",
                                       "portDefinitions": [{"port": 0}, {"port": 0, "name": "admin"}]})
    app = master.get("/v2/apps/web").json()["app"]
    for k, v in APP_DEFAULTS.items():
        assert app[k] == v, k
    assert app["id"] == "/web"
    assert app["labels"] == {}
    assert app["networks"] == [{"mode": "host"}]
    assert app["upgradeStrategy"] == {"minimumHealthCapacity": 1, "maximumOverCapacity": 1}
    assert app["unreachableStrategy"] == {"inactiveAfterSeconds": 0, "expungeAfterSeconds": 0}
    assert app["version"].endswith("Z") and len(app["version"]) == 24
    ports = [p["port"] for p in app["portDefinitions"]]
    ports += [p["port"] for p in r2.json()["portDefinitions"]]
    assert len(set(ports)) == 3 and all(10000 <= p <= 20000 for p in ports)


@pytest.mark.parametrize("body,path,needle", [
    ({"id": "x", "cmd": "sleep 1", "cpus": -1}, "/cpus", "0.0 or more"),
    ({"id": "Bad_Id", "cmd": "sleep 1"}, "/id", "must fully match regular expression"),
    ({"id": "x", "cmd": "sleep 1", "args": ["a"]}, "/", "must either contain one of 'cmd' or 'args'"),
    ({"id": "x", "cmd": "sleep 1", "healthChecks": [{"protocol": "HTTP", "portIndex": 3}]},
     "/healthChecks(0)", "Health check port indices"),
    ({"id": "x", "cmd": "sleep 1", "upgradeStrategy": {"minimumHealthCapacity": 1.2, "maximumOverCapacity": 0}},
     "/upgradeStrategy/minimumHealthCapacity", "got 1.2, expected between 0.0 and 1.0"),
    ({"id": "x", "cmd": "sleep 1", "constraints": [["hostname", "SOMETIMES"]]}, "/constraints(0)", "operator"),
])
def test_invalid_definitions_get_422_with_marathon_paths(master, body, path, needle):
    r = master.post("/v2/apps", json=body)
    assert r.status_code == 422, r.text
    err = r.json()
    assert err["message"] == "Object is not valid"
    hits = [d for d in err["details"] if d["path"].startswith(path) and any(needle in e for e in d["errors"])]
    assert hits, err


def test_wrong_json_types_are_422_invalid_json(master):
    r = master.post("/v2/apps", json={"id": "x", "cmd": "sleep 1", "cpus": "lots"})
    assert r.status_code == 422
    assert r.json()["message"] == "Invalid JSON"
    assert r.json()["details"][0]["path"] == "/cpus"


def test_unparsable_json_is_400(master):
    r = master.post("/v2/apps", data=b'{"id": "x", "cmd": ')
    assert r.status_code == 400
    assert r.json()["message"] == "Invalid JSON"
    assert isinstance(r.json()["details"], str)


def test_duplicate_is_409_and_unknown_is_404(master):
    assert master.post("/v2/apps", json={"id": "dup", "cmd": "sleep 1"}).status_code == 201
    r = master.post("/v2/apps", json={"id": "dup", "cmd": "sleep 2"})
    assert r.status_code == 409
    assert r.json()["message"] == "An app with id [/dup] already exists."
    r = master.get("/v2/apps/nope")
    assert r.status_code == 404 and r.json()["message"] == "App '/nope' does not exist"
    assert master.delete("/v2/apps/nope").status_code == 404
    assert master.patch("/v2/apps/nope", json={"instances": 2}).status_code == 404


def test_put_creates_updates_partially_and_replaces(master):
    r = master.put("/v2/apps/p", json={"cmd": "sleep 100", "mem": 64})
    assert r.status_code == 201, r.text
    assert r.json()["deploymentId"] and r.json()["version"]
    assert r.headers["Marathon-Deployment-Id"] == r.json()["deploymentId"]
    r = master.put("/v2/apps/p", json={"instances": 3})
    assert r.status_code == 200
    app = master.get("/v2/apps/p").json()["app"]
    assert app["instances"] == 3 and app["cmd"] == "sleep 100" and app["mem"] == 64
    # a scale only moves lastScalingAt
    assert app["versionInfo"]["lastScalingAt"] == app["version"]
    assert app["versionInfo"]["lastConfigChangeAt"] < app["version"]
    r = master.put("/v2/apps/p?partialUpdate=false", json={"cmd": "sleep 5"})
    assert r.status_code == 200
    app = master.get("/v2/apps/p").json()["app"]
    assert app["instances"] == 1 and app["mem"] == 128 and app["cmd"] == "sleep 5"
    assert app["versionInfo"]["lastConfigChangeAt"] == app["version"]
    r = master.patch("/v2/apps/p", json={"env": {"A": "1"}})
    assert r.status_code == 200
    assert master.get("/v2/apps/p").json()["app"]["env"] == {"A": "1"}


def test_versions_and_rollback(master):
    master.post("/v2/apps", json={"id": "v", "cmd": "sleep 1", "mem": 32})
    master.put("/v2/apps/v", json={"mem": 64})
    master.put("/v2/apps/v", json={"mem": 96})
    versions = master.get("/v2/apps/v/versions").json()["versions"]
    assert len(versions) == 3 and versions == sorted(versions, reverse=True)
    old = master.get(f"/v2/apps/v/versions/{versions[-1]}").json()
    assert old["mem"] == 32 and old["version"] == versions[-1]
    r = master.get("/v2/apps/v/versions/2001-01-01T00:00:00.000Z")
    assert r.status_code == 404 and "does not exist in version" in r.json()["message"]
    r = master.put("/v2/apps/v", json={"version": versions[-1]})
    assert r.status_code == 200, r.text
    app = master.get("/v2/apps/v").json()["app"]
    assert app["mem"] == 32 and app["version"] > versions[0]
    assert len(master.get("/v2/apps/v/versions").json()["versions"]) == 4


def test_delete_then_gone(master):
    master.post("/v2/apps", json={"id": "/g/d", "cmd": "sleep 1"})
    r = master.delete("/v2/apps/g/d")
    assert r.status_code == 200 and r.json()["deploymentId"]
    assert master.get("/v2/apps/g/d").status_code == 404
    assert master.get("/v2/apps/g/d/versions").status_code == 404


def test_list_filters_and_embeds(master):
    master.post("/v2/apps", json={"id": "/f/a", "cmd": "sleep 11", "labels": {"env": "prod", "tier": "web"}})
    master.post("/v2/apps", json={"id": "/f/b", "cmd": "python3 x", "labels": {"env": "dev"}})
    master.post("/v2/apps", json={"id": "/h/c", "cmd": "sleep 12"})

    def ids(**params):
        r = master.get("/v2/apps", params=params)
        assert r.status_code == 200, r.text
        return sorted(a["id"] for a in r.json()["apps"])
    assert ids() == ["/f/a", "/f/b", "/h/c"]
    assert ids(id="/F/") == ["/f/a", "/f/b"]
    assert ids(cmd="SLEEP") == ["/f/a", "/h/c"]
    assert ids(label="env==prod") == ["/f/a"]
    assert ids(label="env!=prod") == ["/f/b", "/h/c"]
    assert ids(label="env in (dev, prod)") == ["/f/a", "/f/b"]
    assert ids(label="env notin (dev)") == ["/f/a", "/h/c"]
    assert ids(label="tier") == ["/f/a"]
    assert ids(label="env==prod,tier==db") == []
    assert master.get("/v2/apps", params={"label": "env in (x"}).status_code == 400
    apps = master.get("/v2/apps", params={"embed": "apps.tasks"}).json()["apps"]
    assert all(a["tasks"] == [] for a in apps)
    apps = master.get("/v2/apps").json()["apps"]
    assert all("tasks" not in a and a["deployments"] == [] for a in apps)


def test_bulk_put_creates_and_updates_and_is_all_or_nothing(master):
    master.post("/v2/apps", json={"id": "/b/one", "cmd": "sleep 1"})
    r = master.put("/v2/apps", json=[{"id": "/b/one", "instances": 2}, {"id": "/b/two", "cmd": "sleep 2"}])
    assert r.status_code == 200, r.text
    assert master.get("/v2/apps/b/one").json()["app"]["instances"] == 2
    assert master.get("/v2/apps/b/two").status_code == 200
    r = master.put("/v2/apps", json=[{"id": "/b/three", "cmd": "sleep 3"}, {"id": "/b/bad", "cpus": -1, "cmd": "x y"}])
    assert r.status_code == 422
    assert r.json()["details"][0]["path"].startswith("/(1)")
    assert master.get("/v2/apps/b/three").status_code == 404


@pytest.mark.parametrize("prefix", ["", "/marathon", "/service/marathon"])
def test_dcos_prefixes(master, prefix):
    r = requests.post(master.url + prefix + "/v2/apps", json={"id": "pre" + str(len(prefix)), "cmd": "sleep 1"})
    assert r.status_code == 201
    assert requests.get(master.url + prefix + "/v2/apps/pre" + str(len(prefix))).status_code == 200
    assert requests.get(master.url + prefix + "/v2/info").json()["name"] == "marathon"


def test_info_leader_ping_and_leader_header(master):
    assert master.get("/ping").text == "pong"
    info = master.get("/v2/info").json()
    assert info["name"] == "marathon" and info["elected"] is True
    assert info["leader"] == f"127.0.0.1:{master.http_port}"
    assert "marathon_config" in info and "http_config" in info
    r = master.get("/v2/leader")
    assert r.json() == {"leader": f"127.0.0.1:{master.http_port}"}
    assert r.headers["X-Marathon-Leader"] == f"http://127.0.0.1:{master.http_port}"


def test_unknown_route_and_wrong_method(master):
    r = master.get("/v2/nothing-here")
    assert r.status_code == 404 and r.json()["message"].startswith("URI not found")
    assert master.session_delete("/v2/info").status_code == 405


def test_large_body_is_413_and_garbage_never_hurts(master):
    r = master.post("/v2/apps", data=b"{" + b" " * (1024 * 1024 + 10) + b"}")
    assert r.status_code == 413
    for body in [b"\x00\xff\xfe" * 1000, b"[" * 100000, b'{"id":"n","cmd":"sleep 1","cpus":1e999999}',
                 json.dumps({"id": "many", "cmd": "x y", "labels": {f"k{i}": "v" for i in range(10000)}}).encode(),
                 b'{"id":' + b'"a' * 5000 + b'"}']:
        r = master.post("/v2/apps", data=body)
        assert 400 <= r.status_code < 500, (r.status_code, r.text[:200])
    # a raw connection that sends half a request and leaves
    s = socket.create_connection(("127.0.0.1", master.http_port))
    s.sendall(b"POST /v2/apps HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"id\":")
    s.close()
    assert master.get("/ping").text == "pong"
    assert master.alive()


def cli(master, *args, stdin=None):
    return subprocess.run([STRATA, "--master", master.url, *args], input=stdin, capture_output=True, text=True,
                          timeout=30)


def test_cli_app_commands(master, tmp_path):
    f = tmp_path / "app.json"
    f.write_text(json.dumps({"id": "/cli/web", "cmd": "sleep 100", "mem": 64}))
    r = cli(master, "app", "add", str(f))
    assert r.returncode == 0 and "/cli/web" in r.stdout, r.stderr
    r = cli(master, "app", "list")
    assert r.returncode == 0 and "/cli/web" in r.stdout and "ID" in r.stdout.splitlines()[0]
    r = cli(master, "app", "update", "/cli/web", "instances=3")
    assert r.returncode == 0, r.stderr
    r = cli(master, "app", "show", "/cli/web", "-o", "json")
    assert r.returncode == 0 and json.loads(r.stdout)["instances"] == 3
    r = cli(master, "app", "versions", "/cli/web")
    assert r.returncode == 0 and len(r.stdout.split()) == 2
    r = cli(master, "cluster", "status")
    assert r.returncode == 0 and "leader" in r.stdout
    r = cli(master, "app", "remove", "/cli/web")
    assert r.returncode == 0
    r = cli(master, "app", "show", "/cli/web")
    assert r.returncode == 1 and r.stderr.strip() == "strata: App '/cli/web' does not exist"
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    r = cli(master, "app", "add", str(bad))
    assert r.returncode != 0 and r.stderr.startswith("strata: ") and len(r.stderr.strip().splitlines()) == 1
    r = cli(master, "app", "add", "-", stdin=json.dumps({"id": "bad", "cmd": "x y", "cpus": -1}))
    assert r.returncode == 1 and "Object is not valid" in r.stderr and "/cpus" in r.stderr
    r = cli(master, "app", "frobnicate")
    assert r.returncode == 2
