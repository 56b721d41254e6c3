"""Why isn't it running? What a person reads from `strata app show|why`, `strata queue` and
`strata app list` about an app too big for the cluster, against a real master and agent."""
import json
import os
import subprocess

import pytest

from conftest import STRATA, master_and_agent, wait_for


def strata(m, *args, timeout=60):
    return subprocess.run([STRATA, "--master", m.url, *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def one(tmpdir_path):
    with master_and_agent(tmpdir_path, extra=["--fake-runtime"],
                          resources="cpus:2;mem:1000;disk:1000;ports:[31000-31100]") as (m, a):
        yield m, a


def queued(m, app_id):
    return any(e["app"]["id"] == app_id and e["processedOffersSummary"].get("rejectSummaryLastOffers")
               for e in m.get("/v2/queue").json()["queue"])


def test_an_app_too_big_for_the_cluster_says_insufficient_memory_everywhere(one):
    m, a = one
    assert m.post("/v2/apps", json={"id": "/big", "cmd": "sleep 1000", "mem": 5000, "cpus": 0.1}).status_code == 201
    assert m.post("/v2/apps", json={"id": "/small", "cmd": "sleep 1000", "mem": 32, "cpus": 0.1}).status_code == 201
    wait_for(lambda: queued(m, "/big"), timeout=20, what="/big queued with reasons")
    wait_for(lambda: m.get("/v2/apps/small").json()["app"]["tasksRunning"] == 1 and
             not m.get("/v2/apps/small").json()["app"]["deployments"], timeout=20, what="/small runs")

    # The API carries the per-agent reasons (Marathon's lastUnusedOffers).
    q = m.get("/v2/queue", params={"embed": "lastUnusedOffers"}).json()["queue"]
    big = next(e for e in q if e["app"]["id"] == "/big")
    assert big["lastUnusedOffers"][0]["reason"] == ["InsufficientMemory"]
    node = m.get("/v1/nodes").json()["nodes"][0]
    assert big["lastUnusedOffers"][0]["offer"]["agentId"] == node["id"]

    why = strata(m, "app", "why", "big")
    assert why.returncode == 0, why.stderr
    lines = why.stdout.splitlines()
    assert lines[0] == "App /big"
    assert lines[1] == "Status:       Waiting: InsufficientMemory (0 of 1 running)"
    assert "Declined by:  InsufficientMemory" in lines
    agent_row = next(line for line in lines if node["id"] in line)
    assert agent_row.split()[-1] == "InsufficientMemory"
    # Marathon's plan for a new app: StartApplication, then ScaleApplication (where it waits).
    assert any(line.startswith("Deployment:   ") and line.endswith("step 2 of 2") for line in lines)
    assert "  action:     ScaleApplication /big" in lines

    show = strata(m, "app", "show", "/big")
    assert show.returncode == 0, show.stderr
    assert "Status:       Waiting: InsufficientMemory (0 of 1 running)" in show.stdout
    assert "mem:" in show.stdout

    queue = strata(m, "queue")
    assert queue.returncode == 0, queue.stderr
    rows = [line.split() for line in queue.stdout.splitlines()]
    assert rows[0] == ["APP", "WAITING", "SINCE", "DELAY", "REASONS"]
    assert rows[1][0] == "/big" and rows[1][1] == "1" and rows[1][-1] == "InsufficientMemory"
    assert len(rows) == 2  # /small runs: it does not wait

    listing = strata(m, "app", "ls")
    assert listing.returncode == 0, listing.stderr
    by_id = {line.split()[0]: line for line in listing.stdout.splitlines()[1:]}
    assert "Waiting: InsufficientMemory" in by_id["/big"]
    assert by_id["/small"].split()[1] == "Running"

    j = strata(m, "-o", "json", "app", "why", "/big")
    assert json.loads(j.stdout)["status"] == "Waiting: InsufficientMemory"


def test_a_crashed_task_shows_its_exit_code_and_message(tmpdir_path):
    with master_and_agent(tmpdir_path) as (m, a):
        m.post("/v2/apps", json={"id": "/crash", "cmd": "echo about to fail >&2; exit 3", "mem": 32, "cpus": 0.1,
                                 "backoffSeconds": 60})
        wait_for(lambda: m.get("/v2/apps/crash").json()["app"].get("lastTaskFailure"), timeout=30,
                 what="a task failure")
        why = strata(m, "app", "why", "/crash")
        assert why.returncode == 0, why.stderr
        assert "Status:       Crash-looping (0 of 1 running)" in why.stdout
        fail = next(line for line in why.stdout.splitlines() if line.startswith("Last failure:"))
        assert fail.startswith("Last failure: TASK_FAILED at ") and fail.endswith(", exit code 3")
        assert "about to fail" in why.stdout
        listing = strata(m, "app", "list")
        assert "Crash-looping" in next(line for line in listing.stdout.splitlines() if line.startswith("/crash"))
        m.delete("/v2/apps/crash", params={"force": "true"})


def test_a_mistyped_verb_gets_a_suggestion(master):
    r = strata(master, "app", "lsit")
    assert r.returncode == 2
    assert r.stderr.strip() == "strata: unknown command 'app lsit'; did you mean 'strata app list'? " \
                               "(see 'strata app --help')"
    r = strata(master, "app", "update", "/x", "instnaces=2")
    assert r.returncode == 2
    assert "did you mean 'instances'?" in r.stderr
