"""Nobody gets in without a token (issue 13): the whole route table answers 401 without one, 403
with a token that lacks the route's permission and serves a token that has it; tenants see only
their own apps; tampered, expired and revoked tokens are refused; a follower forwards the caller's
identity; the CLI logs in and out; `strata dev` needs no login."""
import json
import os
import signal
import stat
import subprocess
import time

import pytest
import requests

from conftest import (AUTH_PRIVATE_KEY, STRATA, Master, free_port, master_and_agent, wait_for)

NO_AUTH = {"Authorization": None}  # conftest adds the admin's token unless a test names the header


def login(m, uid, password):
    r = requests.post(m.url + "/acs/api/v1/auth/login", json={"uid": uid, "password": password},
                      headers=NO_AUTH, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["token"]


def as_user(token):
    return {"Authorization": f"token={token}"}


def add_user(m, uid, password="password-" + "x" * 4, grants=()):
    r = m.put(f"/acs/api/v1/users/{uid}", json={"password": password, "description": uid})
    assert r.status_code == 201, r.text
    for rid, action in grants:
        r = m.put(f"/acs/api/v1/acls/{rid}/users/{uid}/{action}")
        assert r.status_code == 204, r.text
    return login(m, uid, password)


def route_url(m, rt):
    path = rt["pattern"]
    if rt["match"] == "id":
        path += "walk-x"
    elif rt["match"] == "id+suffix":
        path += "walk-x/" + rt["suffix"]
    return m.url + path


def call(method, url, headers):
    kw = {"headers": {**headers, "Accept": "text/event-stream" if url.endswith("/v2/events") else "application/json"},
          "timeout": 3, "stream": True}
    if method in ("POST", "PUT", "PATCH"):
        kw["json"] = {}
    try:
        r = requests.request(method, url, **kw)
        r.close()
        return r.status_code
    except requests.exceptions.ReadTimeout:
        return "stream"  # a stream that was accepted and stays open


def test_every_route_declares_a_permission_and_enforces_it(master):
    routes = master.get("/v1/auth/routes").json()["routes"]
    assert len(routes) > 40
    undeclared = [f"{r['method']} {r['pattern']}" for r in routes if r["permission"] is None]
    assert not undeclared, f"routes without a permission: {undeclared}"
    nobody = add_user(master, "nobody")
    checked = 0
    for rt in routes:
        url = route_url(master, rt)
        perm = rt["permission"]
        is_open = perm == "open" or (isinstance(perm, dict) and perm.get("metrics"))
        what = f"{rt['method']} {url}"
        anon = call(rt["method"], url, NO_AUTH)
        if is_open:
            assert anon != 401, what
            continue
        assert anon == 401, f"{what} without a token answered {anon}"
        bad = call(rt["method"], url, {"Authorization": "token=eyJhbGciOiJIUzI1NiJ9.e30.c2ln"})
        assert bad == 401, f"{what} with a forged token answered {bad}"
        if rt["pattern"] == "/acs/api/v1/auth/logout":
            # any token may log itself out
            assert call(rt["method"], url, as_user(add_user(master, "leaver"))) in (200, 204), what
            continue
        weak = call(rt["method"], url, as_user(nobody))
        if perm == "authenticated":
            assert weak not in (401, 403), f"{what} refused a valid token: {weak}"
        else:
            assert weak == 403, f"{what} with a token lacking {perm} answered {weak}"
        admin = call(rt["method"], url, {})  # conftest's admin token
        assert admin not in (401, 403), f"{what} refused the superuser: {admin}"
        checked += 1
    assert checked > 35


def test_every_agent_route_declares_a_permission_and_enforces_it(tmpdir_path):
    with master_and_agent(tmpdir_path, extra=["--fake-runtime"]) as (m, a):  # Agent(extra=…)
        routes = requests.get(a.url + "/v1/auth/routes", timeout=5).json()["routes"]
        assert {r["pattern"] for r in routes} >= {"/files/read", "/files/browse", "/state", "/v1/images",
                                                   "/v1/tasks/", "/v1/images/gc"}
        assert all(r["permission"] is not None for r in routes), routes
        nobody = add_user(m, "nobody")
        for rt in routes:
            path = rt["pattern"] + {"task-exec": "walk-x/exec", "dns-api": "version"}.get(rt["match"], "")
            url = a.url + path
            what = f"agent {rt['method']} {path}"
            anon = call(rt["method"], url, NO_AUTH)
            if rt["permission"] == "open":
                assert anon not in (401, 403), what  # (the DNS API answers 404 with DNS off)
                continue
            assert anon == 401, f"{what} without a token answered {anon}"
            assert call(rt["method"], url, {"Authorization": "token=eyJhbGciOiJIUzI1NiJ9.e30.c2ln"}) == 401, what
            assert call(rt["method"], url, as_user(nobody)) == 403, what
            assert call(rt["method"], url, {}) not in (401, 403), f"{what} refused the superuser"
        # a grant on the agent's sandbox lets its holder read files, nothing more
        reader = add_user(m, "log-reader", grants=[("dcos:mesos:agent:sandbox", "read")])
        assert call("GET", a.url + "/files/browse?path=/nope", as_user(reader)) == 404
        assert call("GET", a.url + "/state", as_user(reader)) == 403


def test_ping_and_metrics_are_open_unless_configured(master, tmpdir_path):
    assert requests.get(master.url + "/ping", headers=NO_AUTH).status_code == 200
    assert requests.get(master.url + "/metrics", headers=NO_AUTH).status_code == 200
    m = Master(os.path.join(tmpdir_path, "strict"), free_port(), free_port(), extra=["--metrics-auth"]).start()
    try:
        m.wait_ready()
        assert requests.get(m.url + "/metrics", headers=NO_AUTH).status_code == 401
        assert m.get("/metrics").status_code == 200
    finally:
        m.stop()


def test_tenant_a_sees_no_app_of_tenant_b(master):
    services = "dcos:service:marathon:marathon:services"
    a = add_user(master, "tenant-a-user", grants=[(f"{services}:/tenant-a", "full")])
    b = add_user(master, "tenant-b-user", grants=[(f"{services}:/tenant-b", "full")])
    app = {"cmd": "sleep 1000", "cpus": 0.1, "mem": 16, "instances": 0}
    assert requests.post(master.url + "/v2/apps", json={**app, "id": "/tenant-a/web"}, headers=as_user(a)).status_code == 201
    assert requests.post(master.url + "/v2/apps", json={**app, "id": "/tenant-b/db"}, headers=as_user(b)).status_code == 201
    # relative ids are under the root: "/tenant-b/x" for tenant A is someone else's
    r = requests.post(master.url + "/v2/apps", json={**app, "id": "tenant-b/x"}, headers=as_user(a))
    assert r.status_code == 403 and "tenant-a-user" in r.json()["message"], r.text
    ids_a = [x["id"] for x in requests.get(master.url + "/v2/apps", headers=as_user(a)).json()["apps"]]
    ids_b = [x["id"] for x in requests.get(master.url + "/v2/apps", headers=as_user(b)).json()["apps"]]
    assert ids_a == ["/tenant-a/web"] and ids_b == ["/tenant-b/db"]
    assert sorted(x["id"] for x in master.get("/v2/apps").json()["apps"]) == ["/tenant-a/web", "/tenant-b/db"]
    for method, path in [("GET", "/v2/apps/tenant-b/db"), ("DELETE", "/v2/apps/tenant-b/db"),
                         ("GET", "/v2/apps/tenant-b/db/versions"), ("GET", "/v2/groups/tenant-b"),
                         ("GET", "/v2/groups"), ("GET", "/v1/nodes")]:
        r = requests.request(method, master.url + path, headers=as_user(a), timeout=10)
        assert r.status_code == 403, f"{method} {path}: {r.status_code} {r.text}"
    # a prefix is not a group: /tenant-a does not cover /tenant-ab
    r = requests.post(master.url + "/v2/apps", json={**app, "id": "/tenant-ab/x"}, headers=as_user(a))
    assert r.status_code == 403
    assert requests.get(master.url + "/v2/groups/tenant-a", headers=as_user(a)).status_code == 200


def test_tampered_revoked_and_orphaned_tokens_are_refused(master):
    t = add_user(master, "carol", password="carol-password", grants=[("dcos:service:marathon:marathon:services", "read")])
    ok = requests.get(master.url + "/v2/apps", headers=as_user(t))
    assert ok.status_code == 200
    assert requests.get(master.url + "/v2/apps", headers={"Authorization": f"Bearer {t}"}).status_code == 200
    head, claims, sig = t.split(".")
    flipped = sig[:-2] + ("A" if sig[-2] != "A" else "B") + sig[-1]
    for bad in [f"{head}.{claims}.{flipped}", f"{head}.{claims[:-1]}.{sig}", f"{head}.{claims}", "garbage",
                t + "x"]:
        r = requests.get(master.url + "/v2/apps", headers=as_user(bad))
        assert r.status_code == 401, bad
    assert requests.get(master.url + "/v2/apps", headers={"Authorization": "Basic YWRtaW46YWRtaW4="}).status_code == 401
    # wrong password, unknown user
    assert requests.post(master.url + "/acs/api/v1/auth/login", json={"uid": "carol", "password": "nope-nope"},
                         headers=NO_AUTH).status_code == 401
    assert requests.post(master.url + "/acs/api/v1/auth/login", json={"uid": "nobody-here", "password": "x" * 9},
                         headers=NO_AUTH).status_code == 401
    # logout revokes that token only
    t2 = login(master, "carol", "carol-password")
    assert requests.post(master.url + "/acs/api/v1/auth/logout", headers=as_user(t2)).status_code == 204
    r = requests.get(master.url + "/v2/apps", headers=as_user(t2))
    assert r.status_code == 401 and "revoked" in r.json()["message"]
    assert requests.get(master.url + "/v2/apps", headers=as_user(t)).status_code == 200
    # revoking the user refuses every token issued before; a new login works
    assert master.post("/v1/auth/revoke", json={"uid": "carol"}).status_code == 204
    assert requests.get(master.url + "/v2/apps", headers=as_user(t)).status_code == 401
    t3 = login(master, "carol", "carol-password")
    assert requests.get(master.url + "/v2/apps", headers=as_user(t3)).status_code == 200
    # a removed user's tokens stop working
    assert master.delete("/acs/api/v1/users/carol").status_code == 204
    r = requests.get(master.url + "/v2/apps", headers=as_user(t3))
    assert r.status_code == 401 and "no longer exists" in r.json()["message"]


def test_expired_tokens_are_refused(tmpdir_path):
    m = Master(os.path.join(tmpdir_path, "short"), free_port(), free_port(), extra=["--token-ttl", "2"]).start()
    try:
        m.wait_ready()
        t = add_user(m, "dave", grants=[("dcos:service:marathon:marathon:services", "read")])
        assert requests.get(m.url + "/v2/apps", headers=as_user(t)).status_code == 200
        time.sleep(2.5)
        r = requests.get(m.url + "/v2/apps", headers=as_user(t))
        assert r.status_code == 401 and "expired" in r.json()["message"]
    finally:
        m.stop()


def test_service_account_login_needs_its_key_and_a_short_login_token(master, tmpdir_path):
    key = os.path.join(tmpdir_path, "sa.pem")
    pub = os.path.join(tmpdir_path, "sa.pub")
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", key], check=True, capture_output=True)
    subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-out", pub], check=True, capture_output=True)
    r = master.put("/acs/api/v1/users/ci-bot", json={"public_key": open(pub).read(), "description": "CI"})
    assert r.status_code == 201, r.text
    env = {**os.environ, "STRATA_CONFIG": os.path.join(tmpdir_path, "cli.json")}
    env.pop("STRATA_SERVICE_ACCOUNT")
    out = subprocess.run([STRATA, "--master", master.url, "auth", "login", "--service-account", "ci-bot",
                          "--private-key", key], env=env, capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    # the session admin's key is another account's: refused
    out = subprocess.run([STRATA, "--master", master.url, "auth", "login", "--service-account", "ci-bot",
                          "--private-key", AUTH_PRIVATE_KEY], env=env, capture_output=True, text=True, timeout=10)
    assert out.returncode == 1 and "login failed" in out.stderr
    listed = [u["uid"] for u in master.get("/acs/api/v1/users", params={"type": "service"}).json()["array"]]
    assert "ci-bot" in listed and "admin" in listed


def test_a_follower_forwards_the_callers_identity(cluster):
    leader = cluster.leader()
    follower = next(m for m in cluster.masters if m is not leader)
    services = "dcos:service:marathon:marathon:services"
    add_user(leader, "erin", password="erin-password", grants=[(f"{services}:/tenant-a", "full")])
    t = wait_for(lambda: requests.post(follower.url + "/acs/api/v1/auth/login",
                                       json={"uid": "erin", "password": "erin-password"}, headers=NO_AUTH,
                                       timeout=10).json().get("token"), what="login on a follower")
    app = {"cmd": "sleep 1000", "cpus": 0.1, "mem": 16, "instances": 0}
    r = requests.post(follower.url + "/v2/apps", json={**app, "id": "/tenant-a/f"}, headers=as_user(t))
    assert r.status_code == 201, r.text
    r = requests.post(follower.url + "/v2/apps", json={**app, "id": "/tenant-b/f"}, headers=as_user(t))
    assert r.status_code == 403 and "'erin'" in r.json()["message"], r.text
    r = requests.post(follower.url + "/v2/apps", json={**app, "id": "/tenant-a/g"}, headers=NO_AUTH)
    assert r.status_code == 401


def test_cli_users_grants_login_whoami_token_logout(master, tmpdir_path):
    cfg = os.path.join(tmpdir_path, "cli", "auth.json")
    env = {**os.environ, "STRATA_CONFIG": cfg}
    for k in ("STRATA_SERVICE_ACCOUNT", "STRATA_PRIVATE_KEY"):
        env.pop(k)

    def strata(*args, token=None, ok=True):
        e = dict(env)
        if token:
            e["STRATA_TOKEN"] = token
        p = subprocess.run([STRATA, "--master", master.url, *args], env=e, capture_output=True, text=True, timeout=15)
        if ok:
            assert p.returncode == 0, (args, p.stdout, p.stderr)
        return p

    admin = strata("auth", "token", token=None, ok=False)
    assert admin.returncode == 1 and "not logged in" in admin.stderr
    tok = master.post("/acs/api/v1/auth/login", json={"uid": "x"}, headers=NO_AUTH)  # bad body
    assert tok.status_code == 400
    from conftest import admin_token
    root = admin_token(master.url)
    strata("user", "add", "frank", "--password", "frank-password", token=root)
    strata("user", "grant", "frank", "dcos:service:marathon:marathon:services:/frank", "full", token=root)
    assert "frank" in strata("user", "list", token=root).stdout
    assert strata("app", "list", ok=False).returncode == 1  # not logged in: 401
    strata("auth", "login", "--username", "frank", "--password", "frank-password")
    assert stat.S_IMODE(os.stat(cfg).st_mode) == 0o600
    who = strata("auth", "whoami").stdout
    assert "frank (user)" in who and ":/frank" in who
    token = strata("auth", "token").stdout.strip()
    r = requests.get(master.url + "/v2/apps", headers=as_user(token))
    assert r.status_code == 200
    strata("app", "list")
    # STRATA_TOKEN overrides the file
    assert "admin" in strata("auth", "whoami", token=root).stdout
    strata("auth", "logout")
    assert requests.get(master.url + "/v2/apps", headers=as_user(token)).status_code == 401
    assert strata("app", "list", ok=False).returncode == 1
    strata("user", "revoke", "frank", "dcos:service:marathon:marathon:services:/frank", "full", token=root)
    strata("user", "remove", "frank", token=root)
    assert "frank" not in strata("user", "list", token=root).stdout


def test_strata_dev_needs_no_login_for_the_readme_commands(tmpdir_path):
    """`make run`, then the README's CLI commands, unchanged: dev writes its admin's token."""
    http, raft, agent_http = free_port(), free_port(), free_port()
    env = {**os.environ, "STRATA_CONFIG": os.path.join(tmpdir_path, "home", "auth.json")}
    for k in ("STRATA_SERVICE_ACCOUNT", "STRATA_PRIVATE_KEY"):
        env.pop(k)
    p = subprocess.Popen([STRATA, "dev", "--data-dir", os.path.join(tmpdir_path, ".strata"), "--http",
                          f"127.0.0.1:{http}", "--raft", f"127.0.0.1:{raft}", "--agent-http",
                          f"127.0.0.1:{agent_http}", "--log-level", "warn"], env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.STDOUT)
    try:
        url = f"http://localhost:{http}"

        def cli(*args):
            return subprocess.run([STRATA, "--master", url, *args], env=env, capture_output=True, text=True,
                                  timeout=15)

        wait_for(lambda: cli("node", "list").returncode == 0 and "active" in cli("node", "list").stdout,
                 timeout=15, what="dev agent registered, CLI authorized")
        app = os.path.join(tmpdir_path, "app.json")
        with open(app, "w") as f:
            json.dump({"id": "/hello", "cmd": "sleep 1000", "cpus": 0.1, "mem": 16, "instances": 0}, f)
        assert cli("app", "add", app).returncode == 0
        assert "/hello" in cli("app", "list").stdout
        assert cli("auth", "whoami").stdout.startswith("admin")
        assert requests.get(f"http://127.0.0.1:{http}/v2/apps", headers=NO_AUTH).status_code == 401
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(15)


def test_first_master_prints_a_one_time_bootstrap_password(tmpdir_path):
    http, raft = free_port(), free_port()
    log = os.path.join(tmpdir_path, "boot.log")
    with open(log, "wb") as f:
        p = subprocess.Popen([STRATA, "master", "--data-dir", os.path.join(tmpdir_path, "boot"), "--http",
                              f"127.0.0.1:{http}", "--raft", f"127.0.0.1:{raft}"], stdout=f, stderr=subprocess.STDOUT)
    try:
        def password():
            text = open(log).read()
            marker = "one-time password '"
            return text.split(marker, 1)[1].split("'", 1)[0] if marker in text else None
        pw = wait_for(password, timeout=15, what="bootstrap password in the log")
        r = requests.post(f"http://127.0.0.1:{http}/acs/api/v1/auth/login", json={"uid": "admin", "password": pw},
                          headers=NO_AUTH, timeout=10)
        assert r.status_code == 200, r.text
        who = requests.get(f"http://127.0.0.1:{http}/v1/auth/whoami", headers=as_user(r.json()["token"])).json()
        assert who["uid"] == "admin" and "dcos:superuser" in who["permissions"]
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(15)
    # restarted, it prints no password again: the admin exists
    with open(log, "wb") as f:
        p = subprocess.Popen([STRATA, "master", "--data-dir", os.path.join(tmpdir_path, "boot"), "--http",
                              f"127.0.0.1:{http}", "--raft", f"127.0.0.1:{raft}"], stdout=f, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: requests.get(f"http://127.0.0.1:{http}/ping", headers=NO_AUTH, timeout=1).ok, what="up")
        time.sleep(1)
        assert "one-time password" not in open(log).read()
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(15)


def test_groups_of_users_carry_grants(master):
    services = "dcos:service:marathon:marathon:services"
    t = add_user(master, "gina")
    assert requests.get(master.url + "/v2/apps/ops/x", headers=as_user(t)).status_code == 403
    assert master.put("/acs/api/v1/groups/ops", json={"description": "operators"}).status_code == 201
    assert master.put(f"/acs/api/v1/acls/{services}:/ops/groups/ops/read").status_code == 204
    assert master.put("/acs/api/v1/groups/ops/users/gina").status_code == 204
    assert requests.get(master.url + "/v2/apps/ops/x", headers=as_user(t)).status_code == 404  # allowed, absent
    assert "gina" in master.get("/acs/api/v1/groups").json()["array"][0]["members"]
    assert master.delete("/acs/api/v1/groups/ops/users/gina").status_code == 204
    assert requests.get(master.url + "/v2/apps/ops/x", headers=as_user(t)).status_code == 403


def test_writes_and_denials_are_audited(master):
    t = add_user(master, "hank", password="hank-password")
    app = {"id": "/audited", "cmd": "sleep 1", "cpus": 0.1, "mem": 16, "instances": 0}
    assert master.post("/v2/apps", json=app).status_code == 201
    assert requests.post(master.url + "/v2/apps", json={**app, "id": "/nope"}, headers=as_user(t)).status_code == 403
    assert requests.delete(master.url + "/v2/apps/audited", headers=NO_AUTH).status_code == 401
    assert master.get("/v2/apps").status_code == 200  # reads are not audited
    entries = master.get("/v1/audit", params={"limit": 50}).json()["entries"]
    got = [(e["uid"], e["method"], e["path"], e["status"], e["result"]) for e in entries]
    assert ("admin", "POST", "/v2/apps", 201, "allowed") in got
    assert ("hank", "POST", "/v2/apps", 403, "denied") in got
    assert (None, "DELETE", "/v2/apps/audited", 401, "denied") in got
    assert not any(e["method"] == "GET" and e["result"] == "allowed" for e in entries)  # denied reads are
    assert all(e["from"] == "127.0.0.1" for e in entries)
    # no password ever reaches the trail
    log = open(os.path.join(master.data_dir, "audit.log")).read()
    assert "hank-password" not in log
    assert stat.S_IMODE(os.stat(os.path.join(master.data_dir, "audit.log")).st_mode) == 0o600
    out = subprocess.run([STRATA, "--master", master.url, "audit", "list", "-n", "5"], capture_output=True, text=True,
                         timeout=10)
    assert out.returncode == 0 and "RESULT" in out.stdout, out.stderr


def test_privileged_host_volumes_and_root_need_their_own_grant(master):
    services = "dcos:service:marathon:marathon:services"
    t = add_user(master, "ivan", grants=[(f"{services}:/ivan", "full")])
    base = {"cmd": "sleep 1", "cpus": 0.1, "mem": 16, "instances": 0}
    asks = {
        "strata:apps:privileged": {"container": {"type": "DOCKER", "docker": {"image": "busybox", "privileged": True}}},
        "strata:apps:host-volumes": {"container": {"type": "MESOS", "volumes": [
            {"containerPath": "/host", "hostPath": "/", "mode": "RW"}]}},
        "strata:apps:user-root": {"user": "root"},
    }
    for i, (rid, extra) in enumerate(asks.items()):
        r = requests.post(master.url + "/v2/apps", json={**base, **extra, "id": f"/ivan/a{i}"}, headers=as_user(t))
        assert r.status_code == 403 and rid in r.json()["message"], r.text
        # also inside a group, and on update
        r = requests.put(master.url + "/v2/groups/ivan", json={"id": "/ivan", "apps": [{**base, **extra, "id": "g"}]},
                         headers=as_user(t))
        assert r.status_code == 403, r.text
        assert master.put(f"/acs/api/v1/acls/{rid}/users/ivan/create").status_code == 204
        r = requests.post(master.url + "/v2/apps", json={**base, **extra, "id": f"/ivan/a{i}"}, headers=as_user(t))
        assert r.status_code == 201, r.text
    assert requests.post(master.url + "/v2/apps", json={**base, "id": "/ivan/plain"}, headers=as_user(t)).status_code == 201


def test_tenants_list_only_their_own_tasks(tmpdir_path):
    services = "dcos:service:marathon:marathon:services"
    with master_and_agent(tmpdir_path, extra=["--fake-runtime"]) as (m, a):
        ta = add_user(m, "ta", grants=[(f"{services}:/tenant-a", "full")])
        app = {"cmd": "sleep 1000", "cpus": 0.1, "mem": 16, "instances": 1, "portDefinitions": []}
        assert m.post("/v2/apps", json={**app, "id": "/tenant-a/web"}).status_code == 201
        assert m.post("/v2/apps", json={**app, "id": "/tenant-b/db"}).status_code == 201
        wait_for(lambda: len(m.get("/v2/tasks").json()["tasks"]) == 2, what="two tasks")
        mine = requests.get(m.url + "/v2/tasks", headers=as_user(ta)).json()["tasks"]
        assert [t["appId"] for t in mine] == ["/tenant-a/web"]
        assert requests.get(m.url + "/v2/apps/tenant-b/db/tasks", headers=as_user(ta)).status_code == 403
        nobody = add_user(m, "nobody")
        assert requests.get(m.url + "/v2/tasks", headers=as_user(nobody)).status_code == 403
        for app_id in ("/tenant-a/web", "/tenant-b/db"):
            m.delete(f"/v2/apps{app_id}", params={"force": "true"})


def test_identities_and_tokens_survive_a_restart_from_a_snapshot(tmpdir_path):
    m = Master(os.path.join(tmpdir_path, "snap"), free_port(), free_port(), extra=["--snapshot-threshold", "16"]).start()
    try:
        m.wait_ready()
        t = add_user(m, "judy", password="judy-password",
                     grants=[("dcos:service:marathon:marathon:services:/judy", "full")])
        for i in range(40):  # past the snapshot threshold
            assert m.put(f"/acs/api/v1/acls/strata:x{i}/users/judy/read").status_code == 204
        m.stop()
        m.start()
        m.wait_ready()
        assert requests.get(m.url + "/v2/apps/judy/a", headers=as_user(t)).status_code == 404  # token still good
        assert login(m, "judy", "judy-password")
        who = requests.get(m.url + "/v1/auth/whoami", headers=as_user(t)).json()
        assert "strata:x39" in who["permissions"]
    finally:
        m.stop()


def test_a_login_flood_gets_429_not_the_whole_thread_pool(master):
    add_user(master, "kim", password="kim-password")
    import concurrent.futures
    with concurrent.futures.ThreadPoolExecutor(16) as ex:
        codes = list(ex.map(lambda _: requests.post(master.url + "/acs/api/v1/auth/login",
                                                     json={"uid": "kim", "password": "wrong-password"},
                                                     headers=NO_AUTH, timeout=30).status_code, range(32)))
    assert set(codes) <= {401, 429} and 429 in codes, codes
    assert master.get("/v2/apps", timeout=5).status_code == 200
    assert login(master, "kim", "kim-password")


def test_the_cli_logs_in_again_when_a_reset_master_refuses_its_stored_token(tmpdir_path):
    http, raft = free_port(), free_port()
    m = Master(os.path.join(tmpdir_path, "first"), http, raft).start()
    try:
        m.wait_ready()
        ok = lambda: subprocess.run([STRATA, "--master", m.url, "app", "list"], capture_output=True, timeout=15)
        assert ok().returncode == 0
        m.stop()
        # same address, new state (another token key): the stored token is stale
        m = Master(os.path.join(tmpdir_path, "second"), http, raft).start()
        m.wait_ready()
        p = ok()
        assert p.returncode == 0, p.stderr
    finally:
        m.stop()


def test_tenants_see_only_their_deployments_and_queue(master):
    services = "dcos:service:marathon:marathon:services"
    a = add_user(master, "dep-a", grants=[(f"{services}:/tenant-a", "full")])
    b = add_user(master, "dep-b", grants=[(f"{services}:/tenant-b", "full")])
    app = {"cmd": "sleep 1000", "cpus": 0.1, "mem": 16, "instances": 1}  # no agent: stays deploying, queued
    assert requests.post(master.url + "/v2/apps", json={**app, "id": "/tenant-a/q"}, headers=as_user(a)).status_code == 201
    assert requests.post(master.url + "/v2/apps", json={**app, "id": "/tenant-b/q"}, headers=as_user(b)).status_code == 201
    wait_for(lambda: len(master.get("/v2/deployments").json()) == 2, what="two deployments")
    wait_for(lambda: len(master.get("/v2/queue").json()["queue"]) == 2, what="two queued apps")
    for token, mine in ((a, "/tenant-a/q"), (b, "/tenant-b/q")):
        deps = requests.get(master.url + "/v2/deployments", headers=as_user(token)).json()
        assert [d["affectedApps"] for d in deps] == [[mine]], deps
        queue = requests.get(master.url + "/v2/queue", headers=as_user(token)).json()["queue"]
        assert [q["app"]["id"] for q in queue] == [mine], queue
    nobody = add_user(master, "nobody")
    assert requests.get(master.url + "/v2/deployments", headers=as_user(nobody)).status_code == 403
