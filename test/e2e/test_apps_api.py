"""Marathon's apps API against one real master: upstream fixtures, validation, updates, versions,
filters, DC/OS prefixes, limits and garbage, and the CLI on top of it."""
import copy
import glob
import json
import os
import random
import socket
import subprocess
import time

import pytest
import requests

from conftest import FIXTURES, STRATA


# No agents here: see conftest.forced_writes.
pytestmark = pytest.mark.usefixtures("forced_writes")

# What Marathon fills in when a field is absent (api.md §9.2).
APP_DEFAULTS = {
    "instances": 1, "cpus": 1, "mem": 128, "disk": 0, "gpus": 0, "executor": "",
    "backoffSeconds": 1, "backoffFactor": 1.15, "maxLaunchDelaySeconds": 300,
    "requirePorts": False, "killSelection": "YOUNGEST_FIRST", "labels": {},
}
# Keys every GET /v2/apps/{id} answer carries (the definition with defaults, plus status).
ALWAYS = ["id", "instances", "cpus", "mem", "disk", "gpus", "executor", "backoffSeconds", "backoffFactor",
          "maxLaunchDelaySeconds", "requirePorts", "labels", "networks", "upgradeStrategy",
          "unreachableStrategy", "killSelection", "version", "versionInfo", "tasksStaged", "tasksRunning",
          "tasksHealthy", "tasksUnhealthy", "deployments", "tasks"]
# ≤1.4 input fields: accepted, translated, never emitted.
LEGACY = ["ports", "uris", "ipAddress"]
STATUS_FIELDS = ["version", "versionInfo", "tasksStaged", "tasksRunning", "tasksHealthy", "tasksUnhealthy",
                 "deployments", "tasks", "lastTaskFailure", "tasksStats", "readinessCheckResults"]
HC_KEYS = ["protocol", "intervalSeconds", "timeoutSeconds", "gracePeriodSeconds", "maxConsecutiveFailures",
           "delaySeconds"]

FIXTURE_GLOBS = [
    "marathon/tests/system/apps/*.json",
    "marathon/docs/articles/examples/requests/app-simple.json",
    "dcos-core-cli/python/lib/dcoscli/tests/data/marathon/apps/*.json",
    "marathon-lb/tests/*.json",
    "marathon-lb/ci/backends*/*.json",
]
CLI_APPS = "dcos-core-cli/python/lib/dcoscli/tests/data/marathon/apps/"

# Fixtures a Marathon 1.5-1.10 master rejects, found by posting every fixture, each with the reason:
# (status, message, [(error path, text in one of its errors)]).
REJECTED = {
    # Not JSON at all (a missing closing brace): the parser's message travels as a string.
    CLI_APPS + "bad.json": (400, "Invalid JSON", []),
    # "network": "bogus" is no DockerNetwork enum value: a deserialisation (Play-JSON) error, which
    # Marathon ≥1.5 answers with 422 "Invalid JSON" (the file name is from the ≤1.4 days of 400).
    CLI_APPS + "app_add_400.json": (422, "Invalid JSON",
                                    [("/container/docker/network", "error.expected.validenumvalue")]),
    # An update body (no id) that the DC/OS CLI sends with PUT: as a new app it lacks the required id.
    # test_cli_fixture_update_bodies_apply_with_put uses it as intended.
    CLI_APPS + "update_zero_instance_sleep.json": (422, "Invalid JSON", [("/id", "error.path.missing")]),
    # marathon-lb's CI definitions for DC/OS 1.9 (Marathon 1.4, which ignored the unknown `networks`)
    # carry both the legacy container.docker.network and the 1.5 `networks`; Marathon ≥1.5's
    # normalisation refuses to mix them (api.md §2: "Mixing legacy and new network fields is an error").
    "marathon-lb/ci/backends_1.9/docker_bridge.json": (
        422, "Object is not valid", [("/", "must not specify both container.docker.network and networks")]),
    "marathon-lb/ci/backends_1.9/docker_host.json": (
        422, "Object is not valid", [("/", "must not specify both container.docker.network and networks")]),
    # ...and this one also has the legacy ipAddress next to networks.
    "marathon-lb/ci/backends_1.9/docker_ippc.json": (
        422, "Object is not valid", [("/", "must not specify both container.docker.network and networks"),
                                     ("/", "must not specify both networks and ipAddress")]),
}


def fixture_paths():
    out = []
    for p in FIXTURE_GLOBS:
        out += sorted(os.path.relpath(f, FIXTURES) for f in glob.glob(os.path.join(FIXTURES, p)))
    return out


def load_fixture(rel):
    with open(os.path.join(FIXTURES, rel), "rb") as f:
        return f.read()


def assert_error(r, status, message, paths=()):
    """r is Marathon's error body with this status and message; each (path, text) is among details."""
    assert r.status_code == status, f"want {status}, got {r.status_code}: {r.text[:500]}"
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    err = r.json()
    assert err["message"] == message, err
    if status == 422:
        assert isinstance(err["details"], list) and err["details"], err
        for d in err["details"]:
            assert d["path"].startswith("/") and isinstance(d["errors"], list) and d["errors"], err
    for path, needle in paths:
        assert any(d["path"] == path and any(needle in e for e in d["errors"]) for d in err["details"]), \
            f"no error {needle!r} at {path}: {err}"
    return err


def explicit_ports(doc):
    """Every non-zero port number a definition asks for (portDefinitions, portMappings, legacy ports)."""
    found = set()

    def walk(x, key=None):
        if isinstance(x, dict):
            for k, v in x.items():
                walk(v, k)
        elif isinstance(x, list):
            for v in x:
                walk(v, key)
        elif isinstance(x, int) and not isinstance(x, bool) and x and key in ("port", "servicePort", "ports",
                                                                             "hostPort", "number"):
            found.add(x)
    walk(doc)
    return found


def service_ports(app):
    ports = [p["port"] for p in app.get("portDefinitions", [])]
    ports += [p["servicePort"] for p in app.get("container", {}).get("portMappings", []) if "servicePort" in p]
    return ports


def uses_volumes(doc, kind):
    return any(kind in v for v in (doc.get("container") or {}).get("volumes", []))


def check_canonical(app, inp, t0):
    """The read-back app carries every default, no legacy field and assigned service ports."""
    for key in ALWAYS:
        assert key in app, f"{key} missing"
    for key in LEGACY:
        assert key not in app, f"legacy {key} emitted"
    docker = (app.get("container") or {}).get("docker") or {}
    assert "network" not in docker and "portMappings" not in docker, "legacy docker networking emitted"
    for key, default in APP_DEFAULTS.items():
        if key not in inp:
            assert app[key] == default, f"{key}: {app[key]!r}, want default {default!r}"
        else:
            assert app[key] == inp[key] or key == "requirePorts", f"{key}: {app[key]!r}, sent {inp[key]!r}"
    assert app["id"].startswith("/")
    if not any(k in inp for k in ("networks", "ipAddress")) and "network" not in (
            (inp.get("container") or {}).get("docker") or {}):
        assert app["networks"] == [{"mode": "host"}]
    if "upgradeStrategy" not in inp:
        if uses_volumes(inp, "persistent") or uses_volumes(inp, "external"):
            assert app["upgradeStrategy"] == {"minimumHealthCapacity": 0.5, "maximumOverCapacity": 0}
        else:
            assert app["upgradeStrategy"] == {"minimumHealthCapacity": 1, "maximumOverCapacity": 1}
    if "unreachableStrategy" not in inp:
        want = "disabled" if uses_volumes(inp, "persistent") else {"inactiveAfterSeconds": 0,
                                                                    "expungeAfterSeconds": 0}
        assert app["unreachableStrategy"] == want
    # the version is the server's, not one sent in (GET answers fed back in carry old ones)
    assert len(app["version"]) == 24 and app["version"].endswith("Z")
    assert app["version"] >= time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t0 - 1))
    assert app["versionInfo"] == {"lastScalingAt": app["version"], "lastConfigChangeAt": app["version"]}
    for k in ("tasksStaged", "tasksRunning", "tasksHealthy", "tasksUnhealthy"):
        assert app[k] == 0
    assert app["tasks"] == [] and isinstance(app["deployments"], list)
    n_ports = len(service_ports(app))
    for i, hc in enumerate(app.get("healthChecks", [])):
        for key in HC_KEYS:
            assert key in hc, f"healthChecks({i}).{key} missing: {hc}"
        if hc["protocol"] != "COMMAND":
            assert "port" in hc or 0 <= hc["portIndex"] < max(n_ports, 1), hc
    asked = explicit_ports(inp)
    for p in service_ports(app):
        assert isinstance(p, int) and p > 0, f"service port {p} not assigned"
        assert p in asked or 10000 <= p <= 20000, f"service port {p} outside 10000-20000"


def apps_in(rel):
    """The app definitions a fixture holds: itself, or each app of a GET /v2/apps answer."""
    doc = json.loads(load_fixture(rel))
    return doc["apps"] if isinstance(doc, dict) and "apps" in doc else [doc]


def test_fixture_list_is_complete():
    paths = fixture_paths()
    assert len(paths) >= 45, f"shared fixtures not found under {FIXTURES}"
    assert set(REJECTED) <= set(paths), set(REJECTED) - set(paths)


@pytest.mark.parametrize("rel", fixture_paths())
def test_every_valid_fixture_is_created_and_read_back_canonical(master, rel):
    body = load_fixture(rel)
    if rel in REJECTED:
        status, message, paths = REJECTED[rel]
        err = assert_error(master.post("/v2/apps", data=body, headers={"Content-Type": "application/json"}),
                           status, message, paths)
        if status == 400:
            assert isinstance(err["details"], str) and err["details"]
        assert master.get("/v2/apps").json()["apps"] == []
        return
    for inp in apps_in(rel):
        t0 = time.time()
        # marathon-lb's GET /v2/apps answers (zdd, marathon15_apps) are fed back in, status fields
        # and all, as zdd.py does; single-app files go byte for byte.
        data = body if len(apps_in(rel)) == 1 and not json.loads(body).get("apps") else json.dumps(inp)
        r = master.post("/v2/apps", data=data, headers={"Content-Type": "application/json"})
        assert r.status_code == 201, f"{rel}: {r.status_code} {r.text}"
        created = r.json()
        dep = r.headers["Marathon-Deployment-Id"]
        assert created["deployments"] == [{"id": dep}]
        assert r.headers["Location"].endswith("/v2/apps" + created["id"])
        got = master.get("/v2/apps" + created["id"])
        assert got.status_code == 200
        app = got.json()["app"]
        check_canonical(app, inp, t0)
        # the create answer is the stored app
        for k in app:
            if k not in STATUS_FIELDS:
                assert created[k] == app[k], f"{k}: POST said {created[k]!r}, GET says {app[k]!r}"
        # and what was read back goes in again unchanged (export, edit, re-import)
        again = dict(app, id=app["id"] + "-copy")
        r = master.post("/v2/apps", json=again)
        assert r.status_code == 201, f"{rel}: reposting the read-back app: {r.status_code} {r.text}"
        copy_ = master.get("/v2/apps" + again["id"]).json()["app"]
        for k in set(app) | set(copy_):
            if k not in STATUS_FIELDS and k != "id":
                assert copy_.get(k) == app.get(k), f"{k} changed on a round trip: {app.get(k)!r} -> {copy_.get(k)!r}"


def test_assigned_service_ports_are_unique_across_all_fixture_apps(master):
    """All valid fixtures in one master (ids made unique): every auto-assigned service port lies in
    10000-20000 and differs from every port already taken by an earlier app."""
    taken = set()
    n = 0
    for i, rel in enumerate(p for p in fixture_paths() if p not in REJECTED):
        for j, inp in enumerate(apps_in(rel)):
            inp = dict(inp, id=f"/u{i}-{j}/" + inp["id"].strip("/"))
            r = master.post("/v2/apps", json=inp)
            assert r.status_code == 201, f"{rel}: {r.text}"
            asked = explicit_ports(inp)
            for p in service_ports(r.json()):
                if p not in asked:
                    assert 10000 <= p <= 20000, (rel, p)
                    assert p not in taken, f"{rel}: service port {p} assigned twice"
                taken.add(p)
            n += 1
    assert n >= 40
    listed = master.get("/v2/apps").json()["apps"]
    assert len(listed) == n
    # the list shows the same ports as the create answers did
    assert {p for a in listed for p in service_ports(a)} == taken


def test_cli_fixture_update_bodies_apply_with_put(master):
    """zero_instance_sleep(_v2).json and update_zero_instance_sleep.json, used the way the DC/OS CLI
    uses them: create, then update with PUT."""
    r = master.post("/v2/apps", data=load_fixture(CLI_APPS + "zero_instance_sleep.json"))
    assert r.status_code == 201
    port = r.json()["portDefinitions"][0]["port"]
    r = master.put("/v2/apps/zero-instance-app", data=load_fixture(CLI_APPS + "zero_instance_sleep_v2.json"))
    assert r.status_code == 200, r.text
    app = master.get("/v2/apps/zero-instance-app").json()["app"]
    assert app["labels"] == {"PACKAGE_ID": "zero-instance-app", "PACKAGE_VERSION": "1.2.3"}
    r = master.put("/v2/apps/zero-instance-app", data=load_fixture(CLI_APPS + "update_zero_instance_sleep.json"))
    assert r.status_code == 200, r.text
    app = master.get("/v2/apps/zero-instance-app").json()["app"]
    assert (app["cpus"], app["mem"], app["cmd"], app["instances"]) == (1, 20, "sleep 100", 0)
    assert app["portDefinitions"][0]["port"] == port, "an update must keep the assigned service port"
    assert len(master.get("/v2/apps/zero-instance-app/versions").json()["versions"]) == 3


def test_defaults_and_service_ports(master):
    r = master.post("/v2/apps", json={"id": "web", "cmd": "python3 -m http.server $PORT0"})
    assert r.status_code == 201
    r2 = master.post("/v2/apps", json={"id": "/other/web", "cmd": "sleep 100",
                                       "portDefinitions": [{"port": 0}, {"port": 0, "name": "admin"}]})
    assert r2.status_code == 201
    app = master.get("/v2/apps/web").json()["app"]
    for k, v in APP_DEFAULTS.items():
        assert app[k] == v, k
    assert app["id"] == "/web"
    assert app["networks"] == [{"mode": "host"}]
    assert app["upgradeStrategy"] == {"minimumHealthCapacity": 1, "maximumOverCapacity": 1}
    assert app["unreachableStrategy"] == {"inactiveAfterSeconds": 0, "expungeAfterSeconds": 0}
    assert app["portDefinitions"][0]["name"] == "default" and app["portDefinitions"][0]["protocol"] == "tcp"
    assert app["version"].endswith("Z") and len(app["version"]) == 24
    ports = [p["port"] for p in app["portDefinitions"]]
    ports += [p["port"] for p in r2.json()["portDefinitions"]]
    assert len(set(ports)) == 3 and all(10000 <= p <= 20000 for p in ports)
    # explicit [] means no ports at all
    r = master.post("/v2/apps", json={"id": "noports", "cmd": "sleep 1", "portDefinitions": []})
    assert r.status_code == 201 and r.json()["portDefinitions"] == []


def test_service_ports_survive_updates(master):
    """Marathon keeps an app's auto-assigned service ports across updates, partial or full
    (GroupManager.assignDynamicServicePorts reuses the old app's ports before taking new ones)."""
    master.post("/v2/apps", json={"id": "sp", "cmd": "sleep 1"})
    master.post("/v2/apps", json={"id": "sp-other", "cmd": "sleep 1"})
    port = master.get("/v2/apps/sp").json()["app"]["portDefinitions"][0]["port"]
    assert master.put("/v2/apps/sp", json={"instances": 2}).status_code == 200
    assert master.get("/v2/apps/sp").json()["app"]["portDefinitions"][0]["port"] == port
    assert master.put("/v2/apps/sp", json={"cmd": "sleep 2"}).status_code == 200
    assert master.get("/v2/apps/sp").json()["app"]["portDefinitions"][0]["port"] == port
    assert master.put("/v2/apps/sp", json={"portDefinitions": [{"port": 0}, {"port": 0}]}).status_code == 200
    ports = [p["port"] for p in master.get("/v2/apps/sp").json()["app"]["portDefinitions"]]
    assert ports[0] == port and ports[1] != port
    r = master.put("/v2/apps/sp", params={"partialUpdate": "false"}, json={"cmd": "sleep 3"})
    assert r.status_code == 200
    after = master.get("/v2/apps/sp").json()["app"]["portDefinitions"][0]["port"]
    assert after == port, f"a full replace moved the service port {port} -> {after}"


@pytest.mark.parametrize("body,path,needle", [
    ({"id": "x", "cmd": "sleep 1", "cpus": -1}, "/cpus", "got -1.0, expected 0.0 or more"),
    ({"id": "x", "cmd": "sleep 1", "mem": -5}, "/mem", "expected 0.0 or more"),
    ({"id": "x", "cmd": "sleep 1", "instances": -1}, "/instances", "got -1, expected 0 or more"),
    ({"id": "Bad", "cmd": "sleep 1"}, "/id", "must fully match regular expression"),
    ({"id": "bad_id", "cmd": "sleep 1"}, "/id", "must fully match regular expression"),
    ({"id": "x", "cmd": "sleep 1", "args": ["a"]}, "/", "must either contain one of 'cmd' or 'args'"),
    ({"id": "x"}, "/", "must either contain one of 'cmd' or 'args'"),
    ({"id": "x", "cmd": "sleep 1", "healthChecks": [{"protocol": "HTTP", "portIndex": 3}]},
     "/healthChecks(0)/portIndex", "Health check port indices must address an element of the ports array"),
    ({"id": "x", "cmd": "sleep 1", "portDefinitions": [],
      "healthChecks": [{"protocol": "TCP", "intervalSeconds": 5}]},
     "/healthChecks(0)", "Health check port indices must address an element of the ports array"),
    ({"id": "x", "cmd": "sleep 1", "upgradeStrategy": {"minimumHealthCapacity": 1.2, "maximumOverCapacity": 0}},
     "/upgradeStrategy/minimumHealthCapacity", "got 1.2, expected between 0.0 and 1.0"),
    ({"id": "x", "cmd": "sleep 1", "upgradeStrategy": {"minimumHealthCapacity": 0.5, "maximumOverCapacity": 2}},
     "/upgradeStrategy/maximumOverCapacity", "got 2.0, expected between 0.0 and 1.0"),
    ({"id": "x", "cmd": "sleep 1", "constraints": [["hostname", "SOMETIMES"]]}, "/constraints(0)",
     "operator must be one of the following UNIQUE, CLUSTER, GROUP_BY, LIKE, MAX_PER, UNLIKE or IS"),
    ({"id": "x", "cmd": "sleep 1", "portDefinitions": [{"port": 10500}, {"port": 10500}]},
     "/portDefinitions", "Ports must be unique."),
    ({"id": "x", "cmd": "sleep 1", "portDefinitions": [{"port": 0, "name": "Bad_Name"}]},
     "/portDefinitions(0)/name", "must fully match regular expression"),
    ({"id": "x", "cmd": "sleep 1", "uris": ["http://a/b"], "fetch": [{"uri": "http://c/d"}]},
     "/uris", "may not be set in conjunction with fetch"),
    ({"id": "x", "cmd": "sleep 1", "ports": [0], "portDefinitions": [{"port": 0}, {"port": 0}]},
     "/", "cannot specify both ports and port definitions"),
    ({"id": "x", "cmd": "sleep 1", "labels": {f"k{i}": "v" for i in range(10000)}},
     "/labels", "must not have more than"),
])
def test_invalid_definitions_get_422_with_marathon_paths(master, body, path, needle):
    r = master.post("/v2/apps", json=body)
    assert_error(r, 422, "Object is not valid", [(path, needle)])
    assert "X-Marathon-Leader" in r.headers
    # the same definition through PUT is refused the same way, and nothing was stored
    r = master.put("/v2/apps/" + body["id"], json=body)
    assert r.status_code == 422, r.text
    assert master.get("/v2/apps").json()["apps"] == []


@pytest.mark.parametrize("body,path,error", [
    ({"id": "x", "cmd": "sleep 1", "cpus": "lots"}, "/cpus", "error.expected.jsnumber"),
    ({"id": 7, "cmd": "sleep 1"}, "/id", "error.expected.jsstring"),
    ({"cmd": "sleep 1"}, "/id", "error.path.missing"),
    ({"id": "x", "cmd": "sleep 1", "instances": 1.5}, "/instances", "error.expected.int"),
    ({"id": "x", "cmd": "sleep 1", "labels": {"a": 1}}, "/labels/a", "error.expected.jsstring"),
    ({"id": "x", "cmd": "sleep 1", "killSelection": "RANDOM"}, "/killSelection", "error.expected.validenumvalue"),
])
def test_wrong_json_types_are_422_invalid_json(master, body, path, error):
    assert_error(master.post("/v2/apps", json=body), 422, "Invalid JSON", [(path, error)])


@pytest.mark.parametrize("body", [b'{"id": "x", "cmd": ', b"", b"{'id': 'x'}", b'{"id":"x","cmd":"a b"} trailing',
                                  b'{"id":"x","id":"y","cmd":"a b"}', b"NaN"])
def test_unparsable_json_is_400(master, body):
    err = assert_error(master.post("/v2/apps", data=body, headers={"Content-Type": "application/json"}),
                       400, "Invalid JSON")
    assert isinstance(err["details"], str) and err["details"]


def test_duplicate_is_409_and_unknown_is_404(master):
    assert master.post("/v2/apps", json={"id": "dup", "cmd": "sleep 1"}).status_code == 201
    assert_error(master.post("/v2/apps", json={"id": "/dup", "cmd": "sleep 2"}), 409,
                 "An app with id [/dup] already exists.")
    assert master.get("/v2/apps/dup").json()["app"]["cmd"] == "sleep 1"
    assert_error(master.get("/v2/apps/nope"), 404, "App '/nope' does not exist")
    assert_error(master.get("/v2/apps/a/b/nope"), 404, "App '/a/b/nope' does not exist")
    assert_error(master.delete("/v2/apps/nope"), 404, "App '/nope' does not exist")
    assert_error(master.patch("/v2/apps/nope", json={"instances": 2}), 404, "App '/nope' does not exist")
    assert_error(master.get("/v2/apps/nope/versions"), 404, "App '/nope' does not exist")
    assert master.get("/v2/apps/nope").status_code == 404  # PATCH did not create it


def test_put_creates_updates_partially_and_replaces(master):
    r = master.put("/v2/apps/p", json={"cmd": "sleep 100", "mem": 64, "labels": {"a": "1"}})
    assert r.status_code == 201, r.text
    assert set(r.json()) == {"deploymentId", "version"}
    assert r.headers["Marathon-Deployment-Id"] == r.json()["deploymentId"]
    created = master.get("/v2/apps/p").json()["app"]
    assert created["id"] == "/p" and created["version"] == r.json()["version"]
    r = master.put("/v2/apps/p", json={"instances": 3})
    assert r.status_code == 200 and set(r.json()) == {"deploymentId", "version"}
    assert r.headers["Marathon-Deployment-Id"] == r.json()["deploymentId"]
    app = master.get("/v2/apps/p").json()["app"]
    assert app["instances"] == 3 and app["cmd"] == "sleep 100" and app["mem"] == 64 and app["labels"] == {"a": "1"}
    assert app["version"] == r.json()["version"]
    # a scale only moves lastScalingAt
    assert app["versionInfo"]["lastScalingAt"] == app["version"]
    assert app["versionInfo"]["lastConfigChangeAt"] == created["version"]
    # a partial update replaces whole top-level fields
    assert master.put("/v2/apps/p", json={"labels": {"b": "2"}}).status_code == 200
    app = master.get("/v2/apps/p").json()["app"]
    assert app["labels"] == {"b": "2"} and app["instances"] == 3
    assert app["versionInfo"]["lastConfigChangeAt"] == app["version"]
    # partialUpdate=false: the body is the whole app, everything else back to defaults
    r = master.put("/v2/apps/p", params={"partialUpdate": "false"}, json={"cmd": "sleep 5"})
    assert r.status_code == 200
    app = master.get("/v2/apps/p").json()["app"]
    assert (app["instances"], app["mem"], app["cmd"], app["labels"]) == (1, 128, "sleep 5", {})
    assert app["versionInfo"]["lastConfigChangeAt"] == app["version"]
    # the id in the URL wins over one in the body
    assert master.put("/v2/apps/p", json={"id": "/elsewhere", "instances": 2}).status_code == 200
    assert master.get("/v2/apps/p").json()["app"]["instances"] == 2
    assert master.get("/v2/apps/elsewhere").status_code == 404
    # an invalid update changes nothing
    before = master.get("/v2/apps/p").json()["app"]
    assert_error(master.put("/v2/apps/p", json={"cpus": -2}), 422, "Object is not valid", [("/cpus", "0.0 or more")])
    assert master.get("/v2/apps/p").json()["app"] == before


def test_patch_is_partial_and_never_creates(master):
    master.post("/v2/apps", json={"id": "pa", "cmd": "sleep 1", "env": {"X": "1"}, "mem": 50})
    r = master.patch("/v2/apps/pa", json={"env": {"A": "1"}})
    assert r.status_code == 200 and r.json()["deploymentId"] == r.headers["Marathon-Deployment-Id"]
    app = master.get("/v2/apps/pa").json()["app"]
    assert app["env"] == {"A": "1"} and app["mem"] == 50 and app["cmd"] == "sleep 1"
    assert_error(master.patch("/v2/apps/pa", json={"mem": -1}), 422, "Object is not valid", [("/mem", "")])


def test_versions_and_rollback(master):
    master.post("/v2/apps", json={"id": "v", "cmd": "sleep 1", "mem": 32})
    master.put("/v2/apps/v", json={"mem": 64})
    master.put("/v2/apps/v", json={"mem": 96})
    r = master.get("/v2/apps/v/versions")
    assert r.status_code == 200 and list(r.json()) == ["versions"]
    versions = r.json()["versions"]
    assert len(versions) == 3 and versions == sorted(versions, reverse=True) and len(set(versions)) == 3
    assert versions[0] == master.get("/v2/apps/v").json()["app"]["version"]
    old = master.get(f"/v2/apps/v/versions/{versions[-1]}").json()
    assert old["mem"] == 32 and old["version"] == versions[-1] and old["id"] == "/v"
    assert "tasks" not in old and "tasksRunning" not in old  # a plain definition, no status
    assert master.get(f"/v2/apps/v/versions/{versions[1]}").json()["mem"] == 64
    # any ISO-8601 spelling of the same instant names the version
    for alt in [versions[1].replace("Z", "+00:00"), versions[1][:23] + "000Z", versions[1].replace("Z", "+0000")]:
        r = master.get(f"/v2/apps/v/versions/{alt}")
        assert r.status_code == 200 and r.json()["mem"] == 64, (alt, r.status_code, r.text[:100])
    assert_error(master.get("/v2/apps/v/versions/2001-01-01T00:00:00.000Z"), 404,
                 "App '/v' does not exist in version 2001-01-01T00:00:00.000Z")
    # rollback: a body with only the version (and the id)
    r = master.put("/v2/apps/v", json={"version": versions[-1]})
    assert r.status_code == 200, r.text
    app = master.get("/v2/apps/v").json()["app"]
    assert app["mem"] == 32 and app["version"] > versions[0] and app["version"] == r.json()["version"]
    assert app["versionInfo"]["lastConfigChangeAt"] == app["version"]
    assert len(master.get("/v2/apps/v/versions").json()["versions"]) == 4
    r = master.put("/v2/apps/v", json={"id": "/v", "version": versions[1]})
    assert r.status_code == 200 and master.get("/v2/apps/v").json()["app"]["mem"] == 64
    assert_error(master.put("/v2/apps/v", json={"version": "2001-01-01T00:00:00.000Z"}), 404,
                 "App '/v' does not exist in version 2001-01-01T00:00:00.000Z")


def test_version_can_only_be_combined_with_id(master):
    """Marathon (AppValidation.validateAppUpdateVersion): "The 'version' field may only be combined
    with the 'id' field." A version next to other fields is neither a rollback nor an update."""
    master.post("/v2/apps", json={"id": "vv", "cmd": "sleep 1", "mem": 32})
    v0 = master.get("/v2/apps/vv").json()["app"]["version"]
    master.put("/v2/apps/vv", json={"mem": 64})
    r = master.put("/v2/apps/vv", json={"version": v0, "cmd": "sleep 99"})
    assert r.status_code == 422, f"version + cmd was accepted: {r.status_code} {r.text}"
    assert "may only be combined with the 'id' field" in r.text
    app = master.get("/v2/apps/vv").json()["app"]
    assert app["cmd"] == "sleep 1" and app["mem"] == 64


def test_delete_then_gone(master):
    master.post("/v2/apps", json={"id": "/g/d", "cmd": "sleep 1"})
    master.post("/v2/apps", json={"id": "/g/keep", "cmd": "sleep 1"})
    r = master.delete("/v2/apps/g/d")
    assert r.status_code == 200 and set(r.json()) == {"deploymentId", "version"}
    assert r.headers["Marathon-Deployment-Id"] == r.json()["deploymentId"]
    assert_error(master.get("/v2/apps/g/d"), 404, "App '/g/d' does not exist")
    assert master.get("/v2/apps/g/d/versions").status_code == 404
    assert master.delete("/v2/apps/g/d").status_code == 404
    assert [a["id"] for a in master.get("/v2/apps").json()["apps"]] == ["/g/keep"]
    # the id is free again, with a fresh version history
    assert master.post("/v2/apps", json={"id": "/g/d", "cmd": "sleep 2"}).status_code == 201
    assert len(master.get("/v2/apps/g/d/versions").json()["versions"]) == 1


def test_list_filters_and_embeds(master):
    master.post("/v2/apps", json={"id": "/f/a", "cmd": "sleep 11", "labels": {"env": "prod", "tier": "web"}})
    master.post("/v2/apps", json={"id": "/f/b", "cmd": "python3 x", "labels": {"env": "dev"}})
    master.post("/v2/apps", json={"id": "/h/c", "cmd": "sleep 12"})
    master.post("/v2/apps", json={"id": "/h/d", "args": ["sleep", "13"], "labels": {"a.b/c": "x y"}})

    def ids(**params):
        r = master.get("/v2/apps", params=params)
        assert r.status_code == 200, r.text
        return sorted(a["id"] for a in r.json()["apps"])
    assert ids() == ["/f/a", "/f/b", "/h/c", "/h/d"]
    assert ids(id="/F/") == ["/f/a", "/f/b"]
    assert ids(id="c") == ["/h/c"]
    assert ids(cmd="SLEEP") == ["/f/a", "/h/c"]
    assert ids(cmd="SLEEP", id="h") == ["/h/c"]
    assert ids(label="env==prod") == ["/f/a"]
    assert ids(label="env!=prod") == ["/f/b", "/h/c", "/h/d"]
    assert ids(label="env in (dev, prod)") == ["/f/a", "/f/b"]
    assert ids(label="env notin (dev)") == ["/f/a", "/h/c", "/h/d"]
    assert ids(label="tier") == ["/f/a"]
    assert ids(label="env==prod,tier==db") == []
    assert ids(label="env,tier==web") == ["/f/a"]
    assert ids(label=r"a\.b\/c==x\ y") == ["/h/d"]
    assert master.get("/v2/apps", params={"label": "env in (x"}).status_code == 400
    apps = master.get("/v2/apps", params={"embed": "apps.tasks"}).json()["apps"]
    assert len(apps) == 4 and all(a["tasks"] == [] for a in apps)
    apps = master.get("/v2/apps", params=[("embed", "apps.tasks"), ("embed", "apps.counts")]).json()["apps"]
    assert all(a["tasks"] == [] and a["tasksRunning"] == 0 for a in apps)
    apps = master.get("/v2/apps").json()["apps"]
    # counts and deployments always (each app's create is still deploying: no agent), tasks only
    # when embedded
    assert all("tasks" not in a and len(a["deployments"]) == 1 and a["tasksStaged"] == 0 for a in apps)
    assert all(k not in a for a in apps for k in LEGACY)


def test_list_shows_each_app_as_currently_stored(master):
    """The list reuses each app's encoded document while that version is current (app_text_cache):
    an update, a rollback or a delete between two lists must show at once, and the list must
    equal what GET /v2/apps/{id} says of the definition."""
    for i in range(5):
        assert master.post("/v2/apps", json={"id": f"/cache/a{i}", "cmd": f"sleep {i}"}).status_code == 201

    def listed():
        r = master.get("/v2/apps")
        assert r.status_code == 200, r.text
        return {a["id"]: a for a in r.json()["apps"] if a["id"].startswith("/cache/")}
    first = listed()
    assert sorted(first) == [f"/cache/a{i}" for i in range(5)]
    assert listed() == first  # from the cache this time: the same text
    v1 = first["/cache/a1"]["version"]
    assert master.put("/v2/apps/cache/a1", json={"cmd": "sleep 99"}).status_code == 200
    assert master.delete("/v2/apps/cache/a2").status_code == 200
    after = listed()
    assert after["/cache/a1"]["cmd"] == "sleep 99" and after["/cache/a1"]["version"] != v1
    assert "/cache/a2" not in after
    single = master.get("/v2/apps/cache/a1").json()["app"]
    for k in ("cmd", "version", "versionInfo", "instances", "tasksRunning", "tasksStaged", "deployments"):
        assert after["/cache/a1"][k] == single[k], k
    assert master.put("/v2/apps/cache/a1", json={"version": v1}).status_code == 200
    assert listed()["/cache/a1"]["cmd"] == "sleep 1"
    # filtered lists and embeds go through the same cache
    r = master.get("/v2/apps", params={"id": "/cache/a1", "embed": "apps.lastTaskFailure"})
    assert [a["cmd"] for a in r.json()["apps"]] == ["sleep 1"]


def test_bulk_put_creates_and_updates_and_is_all_or_nothing(master):
    master.post("/v2/apps", json={"id": "/b/one", "cmd": "sleep 1"})
    r = master.put("/v2/apps", json=[{"id": "/b/one", "instances": 2}, {"id": "/b/two", "cmd": "sleep 2"}])
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"deploymentId", "version"}
    one = master.get("/v2/apps/b/one").json()["app"]
    assert one["instances"] == 2 and one["cmd"] == "sleep 1"
    assert master.get("/v2/apps/b/two").json()["app"]["cmd"] == "sleep 2"
    r = master.put("/v2/apps", json=[{"id": "/b/three", "cmd": "sleep 3"}, {"id": "/b/bad", "cpus": -1, "cmd": "x y"}])
    assert r.status_code == 422
    assert any(d["path"].startswith("/(1)") for d in r.json()["details"]), r.json()
    assert master.get("/v2/apps/b/three").status_code == 404
    r = master.put("/v2/apps", json={"id": "/b/x", "cmd": "sleep 1"})
    assert r.status_code in (400, 422), r.text  # not an array


@pytest.mark.parametrize("prefix", ["", "/marathon", "/service/marathon"])
def test_dcos_prefixes(master, prefix):
    url = master.url + prefix
    r = requests.post(url + "/v2/apps", json={"id": "/pre/app", "cmd": "sleep 1"}, timeout=10)
    assert r.status_code == 201 and r.headers["Marathon-Deployment-Id"]
    assert requests.get(url + "/v2/apps/pre/app", timeout=10).json()["app"]["id"] == "/pre/app"
    assert requests.put(url + "/v2/apps/pre/app", json={"instances": 0}, timeout=10).status_code == 200
    assert requests.patch(url + "/v2/apps/pre/app", json={"mem": 64}, timeout=10).status_code == 200
    assert len(requests.get(url + "/v2/apps/pre/app/versions", timeout=10).json()["versions"]) == 3
    assert [a["id"] for a in requests.get(url + "/v2/apps", params={"id": "pre"}, timeout=10).json()["apps"]] == [
        "/pre/app"]
    assert requests.get(url + "/v2/info", timeout=10).json()["name"] == "marathon"
    assert requests.get(url + "/v2/leader", timeout=10).json()["leader"] == f"127.0.0.1:{master.http_port}"
    assert requests.get(url + "/ping", timeout=10).text == "pong"
    r = requests.get(url + "/v2/nothing", timeout=10)
    assert r.status_code == 404 and r.json()["message"] == f"URI not found: {prefix}/v2/nothing"
    assert requests.delete(url + "/v2/apps/pre/app", timeout=10).status_code == 200
    assert requests.get(url + "/v2/apps/pre/app", timeout=10).status_code == 404


def test_info_leader_ping_and_leader_header(master):
    me = f"127.0.0.1:{master.http_port}"
    r = master.get("/ping")
    assert r.status_code == 200 and r.text == "pong" and r.headers["Content-Type"].startswith("text/plain")
    r = master.get("/ping", headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.json() == "pong"
    info = master.get("/v2/info").json()
    assert info["name"] == "marathon" and info["elected"] is True and info["leader"] == me
    assert info["version"].startswith("1.")
    assert info["marathon_config"]["local_port_min"] == 10000 and info["marathon_config"]["local_port_max"] == 20000
    assert info["http_config"]["http_port"] == master.http_port
    assert "zookeeper_config" in info and "frameworkId" in info
    assert master.get("/v2/leader").json() == {"leader": me}
    # every answer names the leader, errors included
    for r in [master.get("/v2/leader"), master.get("/ping"), master.get("/v2/apps"), master.get("/v2/apps/nope"),
              master.get("/v2/nothing"), master.post("/v2/apps", data=b"{"),
              master.post("/v2/apps", json={"id": "h", "cmd": "sleep 1"})]:
        assert r.headers["X-Marathon-Leader"] == f"http://{me}", (r.request.url, r.headers)


def test_unknown_route_and_wrong_method(master):
    for path in ["/v2/nothing-here", "/v3/apps", "/", "/v2"]:
        r = master.get(path)
        if path == "/" and r.status_code == 200:
            continue  # the UI may live at /
        assert_error(r, 404, f"URI not found: {path}")
    assert master.delete("/v2/info").status_code == 405
    assert master.post("/ping").status_code == 405


def test_large_body_is_413_and_garbage_never_hurts(master):
    r = master.post("/v2/apps", data=b"{" + b" " * (1024 * 1024 + 10) + b"}")
    assert r.status_code == 413
    assert r.json()["message"]
    # a body just under the limit is parsed (and here refused on its merits)
    pad = json.dumps({"id": "big", "cmd": "sleep 1", "env": {"PAD": "x" * (1000 * 1000)}})
    assert master.post("/v2/apps", data=pad).status_code in (201, 422)
    rng = random.Random(7)
    garbage = [
        bytes(rng.getrandbits(8) for _ in range(4096)),
        b"\x00\xff\xfe" * 1000,
        b"[" * 100000,
        b'{"id":"n","cmd":"sleep 1","env":' + b'{"a":' * 50000 + b"1" + b"}" * 50000 + b"}",
        b'{"id":"n","cmd":"sleep 1","labels":{"a":' + b"[" * 5000 + b"]" * 5000 + b"}}",
        b'{"id":"n","cmd":"sleep 1","cpus":1e999999}',
        b'{"id":"n","cmd":"sleep 1","instances":123456789012345678901234567890}',
        b'{"id":"n","cmd":"sleep 1","instances":9223372036854775807}',
        b'{"id":"n","cmd":"sleep 1","instances":-9223372036854775808}',
        b'{"id":"n","cmd":"sleep \\u0000 1"}',
        b'{"id":"n","cmd":"sleep \xff 1"}',
        json.dumps({"id": "many", "cmd": "x y", "labels": {f"k{i}": "v" for i in range(10000)}}).encode(),
        json.dumps({"id": "many", "cmd": "x y", "env": {f"k{i}": "v" for i in range(10000)}}).encode(),
        json.dumps({"id": "many", "cmd": "x y", "portDefinitions": [{"port": 0}] * 20000}).encode(),
        json.dumps({"id": "many", "cmd": "x y", "constraints": [["hostname", "LIKE", "a"]] * 20000}).encode(),
        b'{"id":' + b'"a' * 5000 + b'"}',
    ]
    for body in garbage:
        t0 = time.time()
        r = master.post("/v2/apps", data=body, headers={"Content-Type": "application/json"})
        assert 400 <= r.status_code < 500, (r.status_code, r.text[:200], body[:60])
        assert r.json()["message"]
        assert time.time() - t0 < 5, f"{body[:60]!r} took {time.time() - t0:.1f} s"
        for method in ("PUT", "PATCH"):
            assert 400 <= master.request(method, "/v2/apps/n", data=body).status_code < 500
    # raw connections that misbehave: half a request, a bad request line, a lying length
    for raw in [b"POST /v2/apps HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"id\":",
                b"GARBAGE\r\n\r\n", b"GET /" + b"a" * 100000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                b"GET /ping HTTP/1.1\r\n" + b"X-A: b\r\n" * 10000 + b"\r\n",
                b"POST /v2/apps HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n{}",
                b"POST /v2/apps HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"]:
        s = socket.create_connection(("127.0.0.1", master.http_port), timeout=5)
        try:
            s.sendall(raw)
            s.shutdown(socket.SHUT_WR)
            s.recv(65536)
        except OSError:
            pass
        s.close()
    # many idle connections do not starve the others
    idle = [socket.create_connection(("127.0.0.1", master.http_port)) for _ in range(200)]
    t0 = time.time()
    assert master.get("/ping", timeout=5).text == "pong"
    assert time.time() - t0 < 2
    for s in idle:
        s.close()
    assert master.get("/ping").text == "pong"
    assert master.alive()
    assert master.get("/v2/apps").json()["apps"] == [] or all(
        a["id"] in ("/big",) for a in master.get("/v2/apps").json()["apps"])


def test_legacy_input_is_translated(master):
    r = master.post("/v2/apps", json={"id": "/l1", "cmd": "sleep 1", "ports": [0, 0],
                                      "uris": ["http://a/b.tgz", "http://a/run.sh"]})
    assert r.status_code == 201, r.text
    app = master.get("/v2/apps/l1").json()["app"]
    assert "ports" not in app and "uris" not in app
    assert len(app["portDefinitions"]) == 2 and all(10000 <= p["port"] <= 20000 for p in app["portDefinitions"])
    assert [(f["uri"], f["extract"]) for f in app["fetch"]] == [("http://a/b.tgz", True), ("http://a/run.sh", False)]
    r = master.post("/v2/apps", json={"id": "/l2", "cmd": "sleep 1", "container": {"type": "DOCKER", "docker": {
        "image": "nginx", "network": "BRIDGE", "portMappings": [{"containerPort": 80, "hostPort": 0}]}}})
    assert r.status_code == 201, r.text
    app = master.get("/v2/apps/l2").json()["app"]
    assert app["networks"] == [{"mode": "container/bridge"}]
    assert "network" not in app["container"]["docker"] and "portMappings" not in app["container"]["docker"]
    pm = app["container"]["portMappings"]
    assert len(pm) == 1 and pm[0]["containerPort"] == 80 and 10000 <= pm[0]["servicePort"] <= 20000
    r = master.post("/v2/apps", json={"id": "/l3", "cmd": "sleep 1", "container": {"type": "DOCKER", "docker": {
        "image": "nginx"}}, "ipAddress": {"networkName": "dcos"}})
    assert r.status_code == 201, r.text
    app = master.get("/v2/apps/l3").json()["app"]
    assert app["networks"] == [{"mode": "container", "name": "dcos"}] and "ipAddress" not in app


def test_many_nested_apps_are_listed_and_filtered(master):
    ids = [f"/prod/svc{i % 7}/app{i}" for i in range(150)]
    s = requests.Session()
    for i in ids:
        assert s.post(master.url + "/v2/apps", json={"id": i, "cmd": "sleep 1", "portDefinitions": []},
                      timeout=10).status_code == 201
    apps = master.get("/v2/apps").json()["apps"]
    assert sorted(a["id"] for a in apps) == sorted(ids)
    assert sorted(a["id"] for a in master.get("/v2/apps", params={"id": "/prod/svc3/"}).json()["apps"]) == sorted(
        i for i in ids if i.startswith("/prod/svc3/"))


def test_an_app_id_cannot_also_be_a_group(master):
    """/prod/svc1/app1 makes /prod/svc1 a group. Marathon's root group validation refuses an app
    with a group's id, and an app below another app ("Groups and Applications may not have the
    same identifier."), so GET /v2/apps/prod/svc1 can never mean two things."""
    assert master.post("/v2/apps", json={"id": "/prod/svc1/app1", "cmd": "sleep 1"}).status_code == 201
    r = master.post("/v2/apps", json={"id": "/prod/svc1", "cmd": "sleep 1"})
    assert r.status_code in (409, 422), f"an app with a group's id was created: {r.status_code}"
    r = master.post("/v2/apps", json={"id": "/prod/svc1/app1/sub", "cmd": "sleep 1"})
    assert r.status_code in (409, 422), f"an app below an app was created: {r.status_code}"
    assert [a["id"] for a in master.get("/v2/apps").json()["apps"]] == ["/prod/svc1/app1"]


def cli(master, *args, stdin=None, env=None):
    e = dict(os.environ)
    e.pop("STRATA_MASTER", None)
    e.update(env or {})
    return subprocess.run([STRATA, *args] if master is None else [STRATA, "--master", master.url, *args],
                          input=stdin, capture_output=True, text=True, timeout=30, env=e)


def one_error_line(r, rc=1):
    assert r.returncode == rc, (r.returncode, r.stdout, r.stderr)
    assert r.stdout == "", r.stdout
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("strata: "), r.stderr
    return lines[0]


def test_cli_app_commands(master, tmp_path):
    f = tmp_path / "app.json"
    f.write_text(json.dumps({"id": "/cli/web", "cmd": "sleep 100", "mem": 64, "labels": {"team": "a"}}))
    r = cli(master, "app", "add", str(f))
    assert r.returncode == 0, r.stderr
    dep = master.get("/v2/apps/cli/web").json()["app"]
    assert r.stdout.startswith("Created app /cli/web (deployment ") and r.stderr == ""
    r = cli(master, "app", "add", "-", stdin=json.dumps({"id": "cli/db", "cmd": "sleep 1", "cpus": 0.25}))
    assert r.returncode == 0 and "Created app /cli/db" in r.stdout, r.stderr
    r = cli(master, "app", "list")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["ID", "STATUS", "INSTANCES", "CPUS", "MEM", "DISK", "CMD/IMAGE", "VERSION"]
    assert [ln.split()[0] for ln in lines[1:]] == ["/cli/db", "/cli/web"]
    # no agent: the queue says why (STATUS is two words here)
    assert lines[2].split()[1:7] == ["Waiting:", "NoAgents", "0/1", "1", "64", "0"]
    r = cli(master, "app", "list", "-o", "json")
    assert r.returncode == 0 and sorted(a["id"] for a in json.loads(r.stdout)) == ["/cli/db", "/cli/web"]
    r = cli(master, "app", "list", "--label", "team==a")
    assert [ln.split()[0] for ln in r.stdout.splitlines()[1:]] == ["/cli/web"]
    r = cli(master, "app", "update", "--force", "/cli/web", "instances=3", "env.LOG=debug")
    assert r.returncode == 0 and r.stdout.startswith("Updated app /cli/web (deployment "), r.stderr
    app = master.get("/v2/apps/cli/web").json()["app"]
    assert app["instances"] == 3 and app["env"] == {"LOG": "debug"} and app["mem"] == 64
    assert dep["version"] < app["version"]
    r = cli(master, "app", "show", "/cli/web")
    assert r.returncode == 0
    fields = {ln.split(":", 1)[0]: ln.split(":", 1)[1].strip() for ln in r.stdout.splitlines() if ":" in ln}
    assert fields["id"] == "/cli/web" and fields["instances"].startswith("3") and fields["mem"] == "64"
    r = cli(master, "app", "show", "cli/web", "-o", "json")
    assert r.returncode == 0 and json.loads(r.stdout)["instances"] == 3
    r = cli(master, "-o", "json", "app", "versions", "/cli/web")
    assert r.returncode == 0 and json.loads(r.stdout) == master.get("/v2/apps/cli/web/versions").json()["versions"]
    r = cli(master, "app", "versions", "/cli/web")
    assert r.returncode == 0 and r.stdout.split() == master.get("/v2/apps/cli/web/versions").json()["versions"]
    assert len(r.stdout.split()) == 2
    r = cli(master, "app", "update", "--force", "/cli/web", "version=" + r.stdout.split()[-1])
    assert r.returncode == 0, r.stderr
    assert master.get("/v2/apps/cli/web").json()["app"]["instances"] == 1
    r = cli(master, "cluster", "status")
    assert r.returncode == 0
    assert r.stdout.splitlines()[0].startswith(f"leader: 127.0.0.1:{master.http_port}")
    assert "leader" in r.stdout.splitlines()[-1]
    r = cli(master, "cluster", "status", "-o", "json")
    assert r.returncode == 0 and json.loads(r.stdout)["leader"] == f"127.0.0.1:{master.http_port}"
    r = cli(master, "app", "remove", "--force", "/cli/web")
    assert r.returncode == 0 and r.stdout.startswith("Removed app /cli/web (deployment ")
    # errors: one line on stderr, nothing on stdout, non-zero exit
    assert one_error_line(cli(master, "app", "show", "/cli/web")) == "strata: App '/cli/web' does not exist"
    assert one_error_line(cli(master, "app", "remove", "--force", "/cli/web")) == "strata: App '/cli/web' does not exist"
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    assert "bad.json" in one_error_line(cli(master, "app", "add", str(bad)))
    assert "No such file" in one_error_line(cli(master, "app", "add", str(tmp_path / "missing.json")))
    line = one_error_line(cli(master, "app", "add", "-", stdin=json.dumps({"id": "bad", "cmd": "x y", "cpus": -1})))
    assert line.startswith("strata: Object is not valid: /cpus: ")
    line = one_error_line(cli(master, "app", "add", "-", stdin=json.dumps({"id": "/cli/db", "cmd": "sleep 1"})))
    assert line == "strata: An app with id [/cli/db] already exists."
    line = one_error_line(cli(None, "app", "list", env={"STRATA_MASTER": "http://127.0.0.1:1"}))
    assert "cannot reach master at http://127.0.0.1:1" in line
    one_error_line(cli(master, "app", "frobnicate"), rc=2)
    one_error_line(cli(master, "app", "show"), rc=2)
    r = cli(master, "app", "--help")
    assert r.returncode == 0 and "add" in r.stdout and "versions" in r.stdout
    # $STRATA_MASTER and a DC/OS-style path prefix
    r = cli(None, "app", "list", env={"STRATA_MASTER": master.url + "/service/marathon"})
    assert r.returncode == 0 and "/cli/db" in r.stdout, r.stderr


@pytest.mark.parametrize("hc,want", [
    ({"protocol": "HTTP"}, {"protocol": "HTTP", "portIndex": 0, "gracePeriodSeconds": 300, "intervalSeconds": 60,
                            "timeoutSeconds": 20, "maxConsecutiveFailures": 3, "delaySeconds": 15,
                            "ignoreHttp1xx": False}),
    ({"protocol": "HTTPS", "path": "/h", "portIndex": 1},
     {"protocol": "HTTPS", "path": "/h", "portIndex": 1, "gracePeriodSeconds": 300, "intervalSeconds": 60,
      "timeoutSeconds": 20, "maxConsecutiveFailures": 3, "delaySeconds": 15, "ignoreHttp1xx": False}),
    ({"protocol": "TCP", "intervalSeconds": 5}, {"protocol": "TCP", "portIndex": 0, "gracePeriodSeconds": 300,
                                                 "intervalSeconds": 5, "timeoutSeconds": 20,
                                                 "maxConsecutiveFailures": 3, "delaySeconds": 15}),
    ({"protocol": "COMMAND", "command": {"value": "true"}},
     {"protocol": "COMMAND", "command": {"value": "true"}, "gracePeriodSeconds": 300, "intervalSeconds": 60,
      "timeoutSeconds": 20, "maxConsecutiveFailures": 3, "delaySeconds": 15}),
    ({"protocol": "MESOS_HTTP", "path": "/"},
     {"protocol": "MESOS_HTTP", "path": "/", "portIndex": 0, "gracePeriodSeconds": 300, "intervalSeconds": 60,
      "timeoutSeconds": 20, "maxConsecutiveFailures": 3, "delaySeconds": 15, "ipProtocol": "IPv4"}),
    ({"protocol": "MESOS_TCP", "port": 8080},
     {"protocol": "MESOS_TCP", "port": 8080, "gracePeriodSeconds": 300, "intervalSeconds": 60,
      "timeoutSeconds": 20, "maxConsecutiveFailures": 3, "delaySeconds": 15, "ipProtocol": "IPv4"}),
])
def test_health_checks_are_read_back_fully_populated(master, hc, want):
    r = master.post("/v2/apps", json={"id": "hc", "cmd": "sleep 1", "portDefinitions": [{"port": 0}, {"port": 0}],
                                      "healthChecks": [hc]})
    assert r.status_code == 201, r.text
    assert master.get("/v2/apps/hc").json()["app"]["healthChecks"] == [want]
    assert r.json()["healthChecks"] == [want]


def test_concurrent_writers_race_cleanly(master):
    """16 clients at once: one create of an id wins and the others get 409; concurrent updates
    each make exactly one version; concurrently assigned service ports never collide."""
    import concurrent.futures
    with concurrent.futures.ThreadPoolExecutor(16) as ex:
        codes = list(ex.map(lambda i: master.post("/v2/apps", json={"id": "/race/same", "cmd": f"sleep {i}"}).status_code,
                            range(32)))
        assert sorted(codes) == [201] + [409] * 31, codes
        codes = list(ex.map(lambda i: master.put("/v2/apps/race/same", json={"env": {"I": str(i)}}).status_code,
                            range(48)))
        assert codes == [200] * 48
        assert len(master.get("/v2/apps/race/same/versions").json()["versions"]) == 49
        created = list(ex.map(lambda i: master.post("/v2/apps", json={
            "id": f"/race/p{i}", "cmd": "sleep 1", "portDefinitions": [{"port": 0}] * 3}), range(64)))
    assert all(r.status_code == 201 for r in created)
    ports = [p["port"] for r in created for p in r.json()["portDefinitions"]]
    assert len(ports) == 192 and len(set(ports)) == 192
    listed = master.get("/v2/apps", params={"id": "/race/p"}).json()["apps"]
    assert sorted(p["port"] for a in listed for p in a["portDefinitions"]) == sorted(ports)
