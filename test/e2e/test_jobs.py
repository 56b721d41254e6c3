"""Metronome jobs end to end: the v1 API's shapes and errors, a schedule that fires on time,
FORBID that never overlaps, ON_FAILURE that retries until activeDeadlineSeconds, and
`strata job run --wait`. One master and one agent (native runtime) serve the whole module; the
scheduled tests share two minute ticks so the module's wall time stays near two minutes."""
import os
import subprocess
import time

import pytest

from conftest import STRATA, master_and_agent, wait_for

RUN = {"cpus": 0.1, "mem": 32, "disk": 0}


@pytest.fixture(scope="module")
def one(tmp_path_factory):
    base = str(tmp_path_factory.mktemp("jobs"))
    with master_and_agent(base) as (m, a):
        yield m, a, base


def job(jid, cmd, **run):
    return {"id": jid, "run": dict(RUN, cmd=cmd, **run)}


def history(m, jid):
    return m.get(f"/v1/jobs/{jid}", params={"embed": "history"}).json()["history"]


def finished(m, jid, n=1):
    h = history(m, jid)
    return h if h["successCount"] + h["failureCount"] >= n else None


def test_api_shapes_and_errors(one):
    m, _, _ = one
    r = m.post("/v1/jobs", json=job("api.crud", "true"))
    assert r.status_code == 201, r.text
    body = r.json()
    # Every default of the run spec is filled in, as Metronome answers.
    assert body["run"]["maxLaunchDelay"] == 3600 and body["run"]["restart"] == {"policy": "NEVER"}
    assert body["labels"] == {} and body["run"]["placement"] == {"constraints": []}
    r = m.post("/v1/jobs", json=job("api.crud", "true"))
    assert r.status_code == 409 and r.json()["message"] == "Job with this id already exists"
    r = m.post("/v1/jobs", json={"id": "api.bad", "run": {"cmd": "x", "cpus": 1, "mem": 8}})
    assert r.status_code == 422
    details = {d["path"]: d["errors"] for d in r.json()["details"]}
    assert r.json()["message"] == "Object is not valid"
    assert any("missing required properties" in e for e in details["/run"])
    assert any("lower than the required minimum" in e for e in details["/run/mem"])
    r = m.get("/v1/jobs/nope")
    assert r.status_code == 404 and r.json() == {"id": "nope", "message": "Job not found"}
    # Schedules: create, one only, get with nextRunAt, replace, delete.
    sched = {"id": "nightly", "cron": "30 2 * * *", "timezone": "Europe/Berlin"}
    r = m.post("/v1/jobs/api.crud/schedules", json=sched)
    assert r.status_code == 201, r.text
    assert r.json()["nextRunAt"].endswith(":30:00.000+0000") and r.json()["concurrencyPolicy"] == "ALLOW"
    r = m.post("/v1/jobs/api.crud/schedules", json=dict(sched, id="other"))
    assert r.status_code == 409 and "Only one schedule" in r.json()["message"]
    r = m.post("/v1/jobs/api.crud/schedules", json=dict(sched, id="tz", timezone="Mars/Base"))
    assert r.status_code == 422 and r.json()["details"][0]["errors"] == ["No time zone found with this id"]
    r = m.put("/v1/jobs/api.crud/schedules/nightly", json={"cron": "0 3 * * *", "enabled": False})
    assert r.status_code == 200 and "nextRunAt" not in r.json() and r.json()["id"] == "nightly"
    assert m.get("/v1/jobs/api.crud/schedules/gone").status_code == 404
    # PUT replaces the definition, keeps the schedules; the path's id wins.
    r = m.put("/v1/jobs/api.crud", json=job("whatever", "echo changed"))
    assert r.status_code == 200 and r.json()["id"] == "api.crud" and r.json()["run"]["cmd"] == "echo changed"
    got = m.get("/v1/jobs/api.crud", params={"embed": "schedules"}).json()
    assert [s["id"] for s in got["schedules"]] == ["nightly"]
    # The DC/OS prefix serves the same jobs.
    assert any(j["id"] == "api.crud" for j in m.get("/service/metronome/v1/jobs").json())
    assert m.delete("/v1/jobs/api.crud/schedules/nightly").status_code == 200
    assert m.get("/v1/jobs/api.crud/schedules").json() == []
    # A job with an active run is kept unless stopCurrentJobRuns.
    assert m.post("/v1/jobs", json=job("api.long", "sleep 30")).status_code == 201
    run = m.post("/v1/jobs/api.long/runs").json()
    assert run["status"] in ("INITIAL", "STARTING") and run["completedAt"] is None
    assert m.get(f"/v1/jobs/api.long/runs/{run['id']}").json()["id"] == run["id"]
    r = m.delete("/v1/jobs/api.long")
    assert r.status_code == 409 and "stopCurrentJobRuns" in r.json()["message"]
    r = m.get("/v1/jobs/api.long/runs/nope")
    assert r.status_code == 404 and r.json()["message"] == "Job Run not found"
    # Stopping the run kills its task and fails it.
    wait_for(lambda: m.get(f"/v1/jobs/api.long/runs/{run['id']}").json()["status"] == "ACTIVE", timeout=15,
             what="run active")
    assert m.post(f"/v1/jobs/api.long/runs/{run['id']}/actions/stop").status_code == 200
    h = wait_for(lambda: finished(m, "api.long"), timeout=15, what="stopped run finished")
    assert h["failureCount"] == 1 and h["failedFinishedRuns"][0]["id"] == run["id"]
    assert m.delete("/v1/jobs/api.long").status_code == 200
    assert m.delete("/v1/jobs/api.crud").status_code == 200


def test_on_failure_retries_until_the_active_deadline(one):
    m, _, base = one
    marks = os.path.join(base, "flaky.marks")
    spec = job("retry.until", f"date +%s.%N >> {marks}; exit 1",
               restart={"policy": "ON_FAILURE", "activeDeadlineSeconds": 6})
    assert m.post("/v1/jobs", json=spec).status_code == 201
    run = m.post("/v1/jobs/retry.until/runs").json()
    h = wait_for(lambda: finished(m, "retry.until"), timeout=30, what="run to fail")
    assert h["failureCount"] == 1 and h["successCount"] == 0
    done = h["failedFinishedRuns"][0]
    assert done["id"] == run["id"]
    attempts = [float(x) for x in open(marks).read().split()]
    assert len(attempts) >= 3, attempts  # relaunched after each failure…
    assert len(done["tasks"]) == len(attempts)
    created = attempts[0]
    assert all(t < created + 6.5 for t in attempts), attempts  # …never after the deadline
    # Nothing more starts once the run is over.
    time.sleep(2)
    assert len(open(marks).read().split()) == len(attempts)


def test_cli_job_run_wait(one):
    m, _, _ = one
    env = dict(os.environ, STRATA_MASTER=m.url)
    assert m.post("/v1/jobs", json=job("cli.ok", "echo out-of-the-job")).status_code == 201
    assert m.post("/v1/jobs", json=job("cli.bad", "exit 7")).status_code == 201
    p = subprocess.run([STRATA, "job", "run", "cli.ok", "--wait", "--timeout", "30"], env=env, capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "SUCCESS" in p.stdout and "out-of-the-job" in p.stderr
    p = subprocess.run([STRATA, "job", "run", "cli.bad", "--wait"], env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 3 and "failed" in p.stderr
    p = subprocess.run([STRATA, "job", "list"], env=env, capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and "cli.ok" in p.stdout and "SUCCESS" in p.stdout
    p = subprocess.run([STRATA, "job", "schedule", "cli.ok", "61 * * * *"], env=env, capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 1 and "out of range 0-59" in p.stderr


def test_schedules_fire_on_time_and_forbid_never_overlaps(one):
    """Two jobs every minute, for two ticks: one records when each run starts (within 1 s of the
    tick); one runs 90 s under FORBID, so its second tick is skipped and recorded as such."""
    m, _, base = one
    starts = os.path.join(base, "ontime.starts")
    spans = os.path.join(base, "forbid.spans")
    every = {"id": "every-minute", "cron": "* * * * *"}
    on_time = dict(job("sched.ontime", f"date +%s.%N >> {starts}"), schedules=[every])
    forbid = dict(job("sched.forbid", f"echo start $(date +%s.%N) >> {spans}; sleep 90; echo end $(date +%s.%N) >> {spans}"),
                  schedules=[dict(every, concurrencyPolicy="FORBID")])
    # Not too close to a tick: the first tick must come after both jobs exist.
    while time.time() % 60 > 55:
        time.sleep(0.5)
    assert m.post("/v1/jobs", json=on_time).status_code == 201
    assert m.post("/v1/jobs", json=forbid).status_code == 201
    first_tick = (int(time.time()) // 60 + 1) * 60
    wait_for(lambda: finished(m, "sched.ontime", 2), timeout=first_tick + 60 + 30 - time.time(),
             interval=0.5, what="two scheduled runs")
    ticks = [float(x) for x in open(starts).read().split()][:2]
    assert len(ticks) == 2
    for i, t in enumerate(ticks):
        tick = first_tick + 60 * i
        assert tick <= t < tick + 1.0, f"run {i} started {t - tick:.3f} s after its tick"
    # FORBID: the second tick found the first run active: skipped, with the reason recorded.
    t = wait_for(lambda: [s for s in m.get("/v1/jobs/sched.forbid/ticks").json()["skipped"]
                          if s["reason"] == "concurrency"], timeout=10, what="FORBID skip")
    assert t[0]["count"] == 1 and t[0]["first"] == (first_tick + 60) * 1000
    runs = m.get("/v1/jobs/sched.forbid", params={"embed": "activeRuns"}).json()["activeRuns"]
    assert len(runs) == 1  # never two at once
    lines = open(spans).read().split("\n")
    assert sum(1 for line in lines if line.startswith("start")) == 1
    p = subprocess.run([STRATA, "job", "history", "sched.forbid"], env=dict(os.environ, STRATA_MASTER=m.url),
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and "concurrency" in p.stdout
    m.delete("/v1/jobs/sched.forbid", params={"stopCurrentJobRuns": "true"})
    m.delete("/v1/jobs/sched.ontime", params={"stopCurrentJobRuns": "true"})


def test_chronos_parent_then_child(one):
    """Chronos's API over the same jobs: an ISO 8601 schedule a few seconds ahead starts the
    parent; its success triggers the dependent child, which runs after it; both are listed."""
    m, _, base = one
    order = os.path.join(base, "chronos.order")
    start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3))
    parent = {"name": "chronos.parent", "command": f"echo parent $(date +%s.%N) >> {order}", "schedule": f"R1/{start}/PT1H",
              "epsilon": "PT30S", "retries": 0, "cpus": 0.1, "mem": 32, "disk": 0}
    child = {"name": "chronos.child", "command": f"echo child $(date +%s.%N) >> {order}", "parents": ["chronos.parent"],
             "cpus": 0.1, "mem": 32, "disk": 0}
    r = m.post("/v1/scheduler/iso8601", json=parent)
    assert r.status_code == 204, r.text
    r = m.post("/v1/scheduler/dependency", json=child)
    assert r.status_code == 204, r.text
    r = m.post("/v1/scheduler/dependency", json=dict(child, name="chronos.orphan", parents=["nope"]))
    assert r.status_code == 400 and "does not exist" in r.json()["message"]
    r = m.post("/v1/scheduler/iso8601", json=dict(parent, schedule="R1/yesterday/PT1H"))
    assert r.status_code == 400
    wait_for(lambda: finished(m, "chronos.child"), timeout=40, what="child run")
    lines = [line.split() for line in open(order).read().splitlines()]
    assert [w[0] for w in lines] == ["parent", "child"], lines
    assert float(lines[0][1]) < float(lines[1][1])
    jobs = {j["name"]: j for j in m.get("/v1/scheduler/jobs").json()}
    assert jobs["chronos.parent"]["schedule"] == f"R1/{start}/PT1H" and jobs["chronos.parent"]["successCount"] == 1
    assert jobs["chronos.child"]["parents"] == ["chronos.parent"] and jobs["chronos.child"]["successCount"] == 1
    # The Metronome API sees the same jobs; PUT …/job/{name} runs one now; DELETE removes it.
    assert m.get("/v1/jobs/chronos.child").json()["dependencies"] == [{"id": "chronos.parent"}]
    assert m.put("/v1/scheduler/job/chronos.child").status_code == 204
    wait_for(lambda: finished(m, "chronos.child", 2), timeout=20, what="manual run")
    assert m.delete("/v1/scheduler/job/chronos.child").status_code == 204
    assert m.delete("/v1/scheduler/job/chronos.parent").status_code == 204
    assert m.delete("/v1/scheduler/job/chronos.parent").status_code == 404
