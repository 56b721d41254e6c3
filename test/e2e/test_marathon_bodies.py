"""Request bodies as Marathon reads them: a null field is a field not given (Play's readNullable;
clients that serialise every attribute of their app object send `"version": null`), and the
field rules Marathon's validators apply, with the errors at the paths Marathon names."""
import pytest

# No agents here: see conftest.forced_writes.
pytestmark = pytest.mark.usefixtures("forced_writes")

APP = {"id": "/nulls", "cmd": "sleep 1000", "cpus": 0.1, "mem": 16, "instances": 1, "labels": {"a": "b"}}


def everything_null(extra):
    """A body as clients that send every attribute write it: unset ones null."""
    body = {k: None for k in ("version", "versionInfo", "args", "container", "constraints", "healthChecks",
                              "user", "uris", "fetch", "env", "dependencies", "acceptedResourceRoles",
                              "portDefinitions", "upgradeStrategy", "residency", "secrets", "tasks",
                              "lastTaskFailure", "deployments", "tasksRunning")}
    body.update(extra)
    return body


def test_nulls_in_post_put_and_patch_are_absent_fields(master):
    r = master.post("/v2/apps", json=everything_null(APP))
    assert r.status_code == 201, r.text
    app = master.get("/v2/apps/nulls").json()["app"]
    # absent portDefinitions: Marathon's default, one port named "default"
    assert app["cmd"] == "sleep 1000" and app["labels"] == {"a": "b"} and app["portDefinitions"][0]["name"] == "default"
    # PUT (partial by default) with "version": null is an update, not a rollback or an error
    r = master.put("/v2/apps/nulls", json=everything_null({"id": "/nulls", "instances": 2}))
    assert r.status_code == 200, r.text
    assert master.get("/v2/apps/nulls").json()["app"]["instances"] == 2
    # "cmd": null keeps the command; "labels": null keeps the labels
    r = master.put("/v2/apps/nulls", json={"cmd": None, "labels": None, "instances": 3})
    assert r.status_code == 200, r.text
    app = master.get("/v2/apps/nulls").json()["app"]
    assert (app["cmd"], app["labels"], app["instances"]) == ("sleep 1000", {"a": "b"}, 3)
    r = master.patch("/v2/apps/nulls", json={"version": None, "cmd": None, "instances": 1})
    assert r.status_code == 200, r.text
    assert master.get("/v2/apps/nulls").json()["app"]["instances"] == 1
    # nested nulls too: a port definition's null name is no name
    r = master.put("/v2/apps/nulls", json={"portDefinitions": [{"port": 0, "name": None, "labels": None}]})
    assert r.status_code == 200, r.text
    pd = master.get("/v2/apps/nulls").json()["app"]["portDefinitions"]
    assert len(pd) == 1 and "name" not in pd[0]


def test_nulls_in_bulk_and_group_bodies_are_absent_fields(master):
    r = master.put("/v2/apps", json=[everything_null(dict(APP, id="/bulk"))])
    assert r.status_code == 200, r.text
    assert master.get("/v2/apps/bulk").json()["app"]["cmd"] == "sleep 1000"
    r = master.put("/v2/groups/g", json={"id": "/g", "version": None, "scaleBy": None, "dependencies": None,
                                        "apps": [everything_null(dict(APP, id="c"))]})
    assert r.status_code == 200, r.text
    assert master.get("/v2/apps/g/c").json()["app"]["cmd"] == "sleep 1000"


def test_a_null_without_the_field_it_stands_for_is_still_invalid(master):
    # null is "absent", so a new app whose cmd is null has no command: Marathon's error
    r = master.post("/v2/apps", json=dict(APP, id="/nocmd", cmd=None))
    assert r.status_code == 422
    assert "must either contain one of 'cmd' or 'args'" in r.text
    r = master.post("/v2/apps", json=dict(APP, id=None))
    assert r.status_code == 422 and r.json()["details"][0]["path"] == "/id"


@pytest.mark.parametrize("cmd,status,message,path,error", [
    # AppValidation.validateCanonicalAppAPI: isTrue("must not be an empty string")(_.cmd.forall(_.length() > 1)),
    # a rule on the whole app, so Marathon reports it at "/"
    ("x", 422, "Object is not valid", "/", "must not be an empty string"),
    (" ", 422, "Object is not valid", "/", "must not be an empty string"),
    # app.raml cmd minLength: 1 — the generated reader refuses "" before validation, at /cmd
    ("", 422, "Invalid JSON", "/cmd", "error.minLength"),
    ("xy", 201, None, None, None),
])
def test_short_commands_follow_marathons_rules(master, cmd, status, message, path, error):
    r = master.post("/v2/apps", json={"id": "/short", "cmd": cmd, "cpus": 0.1, "mem": 16})
    assert r.status_code == status, r.text
    if message:
        assert r.json() == {"message": message, "details": [{"path": path, "errors": [error]}]}
        r = master.put("/v2/groups/g", json={"apps": [{"id": "a", "cmd": cmd}]})
        assert r.status_code == 422 and error in r.text, r.text
