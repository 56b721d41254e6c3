"""A job every minute on three masters whose leader is `kill -9`ed right at the tick: each tick
still gives exactly one run, never two, never none unless it is recorded as skipped.

STRATA_JOBS_HA_TICKS sets how many ticks (each one a leader killed at it); the default of 2 keeps
the wall time near three minutes, the issue's 20 take about 21."""
import calendar
import os
import time

import pytest

from conftest import Agent, Cluster, wait_for

TICKS = int(os.environ.get("STRATA_JOBS_HA_TICKS", "2"))


@pytest.fixture
def three(tmpdir_path):
    c = Cluster(tmpdir_path).start()
    a = Agent(os.path.join(tmpdir_path, "a1"), c.masters).start()
    try:
        wait_for(lambda: len(c.leader().get("/v1/nodes").json()["nodes"]) == 1, timeout=20, what="agent")
        yield c, a, tmpdir_path
    finally:
        a.kill_tasks()
        a.stop()
        c.stop()


def any_master(c, path, **kw):
    for m in c.masters:
        if m.alive():
            try:
                r = m.get(path, timeout=3, **kw)
                if r.status_code == 200:
                    return r.json()
            except Exception:
                pass
    return None


def test_leader_killed_at_each_tick_gives_exactly_one_run_per_tick(three):
    c, a, base = three
    starts = os.path.join(base, "starts")
    spec = {"id": "ha.tick", "run": {"cmd": f"date +%s.%N >> {starts}", "cpus": 0.1, "mem": 32, "disk": 0},
            "schedules": [{"id": "every-minute", "cron": "* * * * *", "startingDeadlineSeconds": 60}]}
    while time.time() % 60 > 50:
        time.sleep(0.5)
    assert c.leader().post("/v1/jobs", json=spec).status_code == 201
    first = (int(time.time()) // 60 + 1) * 60
    killed = []
    for k in range(TICKS):
        tick = first + 60 * k
        # Kill the leader at the tick: a little before, at, or after it.
        leader = c.leader(timeout=30)
        offset = [-0.05, 0.0, 0.02, 0.1][k % 4]
        while time.time() < tick + offset:
            time.sleep(0.005)
        leader.kill9()
        killed.append(leader)
        c.leader(timeout=30)  # a new one
        leader.start()  # back as a follower, same data
        leader.wait_ready(30)
    # Every tick handled: the cursor passed the last one.
    last = first + 60 * (TICKS - 1)
    wait_for(lambda: (any_master(c, "/v1/jobs/ha.tick/ticks") or {}).get("cursors", {}).get("every-minute", 0)
             >= last * 1000, timeout=90, what="every tick handled")
    h = wait_for(lambda: (lambda j: j["history"] if j and not j.get("activeRuns") and
                          j["history"]["successCount"] + j["history"]["failureCount"] >= 1 else None)(
        any_master(c, "/v1/jobs/ha.tick", params={"embed": ["history", "activeRuns"]})), timeout=60,
        what="runs finished")
    runs = h["successfulFinishedRuns"] + h["failedFinishedRuns"]
    skipped = any_master(c, "/v1/jobs/ha.tick/ticks")["skipped"]
    skipped_ticks = set()
    for s in skipped:
        for t in range(s["first"], s["last"] + 1, 60000):
            skipped_ticks.add(t // 1000)
    # A run belongs to the last tick at or before its creation (it starts within the deadline).
    per_tick = {}
    for r in runs:
        created = calendar.timegm(time.strptime(r["createdAt"][:19], "%Y-%m-%dT%H:%M:%S"))
        t = int(created) // 60 * 60
        per_tick[t] = per_tick.get(t, 0) + 1
    for k in range(TICKS):
        tick = first + 60 * k
        n = per_tick.get(tick, 0)
        assert n <= 1, f"tick {tick} ran {n} times"
        assert n == 1 or tick in skipped_ticks, f"tick {tick} neither ran nor was recorded as skipped"
        assert not (n == 1 and tick in skipped_ticks), f"tick {tick} ran and was skipped"
    assert os.path.exists(starts), f"no run started a task: {runs}"
    lines = open(starts).read().split()
    assert len(lines) == sum(per_tick.get(first + 60 * k, 0) for k in range(TICKS))
