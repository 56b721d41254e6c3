"""What a task printed before it died: `strata task log|list` for finished tasks, kept by the
agent's sandbox retention, against a real master and agent (native runtime, real processes)."""
import os
import signal
import subprocess
import time

import pytest

from conftest import STRATA, master_and_agent, wait_for


def strata(m, *args, timeout=60):
    return subprocess.run([STRATA, "--master", m.url, *args], capture_output=True, text=True, timeout=timeout)


CRASH = "for i in 1 2 3 4 5; do echo out$i; done; echo 'err line' >&2; printf 'no newline'; exit 7"


@pytest.fixture
def one(tmpdir_path):
    with master_and_agent(tmpdir_path, extra=["--sandbox-keep", "2"]) as (m, a):
        yield m, a


def failure(m, app):
    return m.get(f"/v2/apps{app}").json()["app"].get("lastTaskFailure")


def test_a_crashed_tasks_output_is_readable_after_it_died(one):
    m, a = one
    m.post("/v2/apps", json={"id": "/crash", "cmd": CRASH, "mem": 32, "cpus": 0.1, "backoffSeconds": 600})
    f = wait_for(lambda: failure(m, "/crash"), timeout=30, what="the task's failure")
    task_id = f["taskId"]
    # the master forgets the task; the agent keeps its sandbox
    wait_for(lambda: not [t for t in m.get("/v2/tasks").json()["tasks"] if t["id"] == task_id], timeout=20,
             what="the master to expunge the task")

    r = strata(m, "task", "log", task_id)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "out1\nout2\nout3\nout4\nout5\nno newline"
    r = strata(m, "task", "logs", task_id, "--stderr")
    assert r.returncode == 0 and r.stdout == "err line\n", r.stderr

    # -n 3: exactly the last three lines (the last one without its newline counts, as with tail)
    r = strata(m, "task", "log", task_id, "-n", "3")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "out4\nout5\nno newline"
    assert len(r.stdout.splitlines()) == 3
    r = strata(m, "task", "log", task_id, "--stderr", "-n", "3")
    assert r.stdout == "err line\n"

    # by app (its newest task) and by id prefix
    r = strata(m, "task", "log", "/crash")
    assert r.returncode == 0 and r.stdout.startswith("out1\n"), r.stderr
    r = strata(m, "task", "log", task_id[:20], "-n", "1")
    assert r.returncode == 0 and r.stdout == "no newline", r.stderr

    r = strata(m, "task", "list", "--all")
    assert r.returncode == 0, r.stderr
    row = next(line.split() for line in r.stdout.splitlines() if line.startswith(task_id))
    assert row[1] == "/crash" and row[3] == "TASK_FAILED"

    r = strata(m, "task", "log", "/nothing-here")
    assert r.returncode == 1
    assert r.stderr.startswith("strata: Task '/nothing-here' does not exist")
    m.delete("/v2/apps/crash", params={"force": "true"})


def test_retention_keeps_the_newest_sandboxes_per_app_and_previous_reads_the_one_before(one):
    m, a = one
    m.post("/v2/apps", json={"id": "/flap", "cmd": "echo run $MESOS_TASK_ID; exit 1", "mem": 32, "cpus": 0.1,
                             "backoffSeconds": 1, "backoffFactor": 1.0})
    sandboxes = lambda: [s for s in a_get(a, "/v1/sandboxes")["sandboxes"] if s["appId"] == "/flap" and not s["live"]]
    wait_for(lambda: len(sandboxes()) >= 3, timeout=40, what="three finished tasks")
    m.put("/v2/apps/flap", json={"instances": 0}, params={"force": "true"})
    wait_for(lambda: not [s for s in a_get(a, "/v1/sandboxes")["sandboxes"] if s["live"]], timeout=20,
             what="no live task")
    ended = sorted(sandboxes(), key=lambda s: -s["finishedAt"])
    assert a_post(a, "/v1/sandboxes/gc") in (202, 409)
    wait_for(lambda: len(sandboxes()) == 2, timeout=20, what="retention to keep 2")
    kept = [s["taskId"] for s in sandboxes()]
    assert kept == [s["taskId"] for s in ended[:2]]
    for s in ended[2:]:
        assert not os.path.exists(os.path.join(a.data_dir, "sandboxes", s["taskId"]))
    assert os.path.isdir(os.path.join(a.data_dir, "sandboxes", kept[0]))

    newest = strata(m, "task", "log", "/flap")
    before = strata(m, "task", "log", "/flap", "--previous")
    assert newest.stdout == f"run {kept[0]}\n", newest.stderr
    assert before.stdout == f"run {kept[1]}\n", before.stderr
    m.delete("/v2/apps/flap", params={"force": "true"})


def test_follow_by_app_goes_on_across_a_restart(one):
    m, a = one
    m.post("/v2/apps", json={"id": "/again", "cmd": "echo run $MESOS_TASK_ID; sleep 1; exit 1", "mem": 32,
                             "cpus": 0.1, "backoffSeconds": 1, "backoffFactor": 1.0})
    wait_for(lambda: m.get("/v2/apps/again/tasks").json()["tasks"], timeout=20, what="a task")
    p = subprocess.Popen([STRATA, "--master", m.url, "task", "log", "/again", "-f"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 25
        out = ""
        while time.time() < deadline:
            time.sleep(1)
            if p.poll() is not None:
                break
            tasks = {s["taskId"] for s in a_get(a, "/v1/sandboxes")["sandboxes"] if s["appId"] == "/again"}
            if len(tasks) >= 4:
                break
    finally:
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=10)
    runs = [line for line in out.splitlines() if line.startswith("run ")]
    assert len(set(runs)) >= 2, (out, err)
    assert "following" in err
    m.delete("/v2/apps/again", params={"force": "true"})


def a_get(a, path):
    import requests
    return requests.get(a.url + path, timeout=5).json()


def a_post(a, path):
    import requests
    return requests.post(a.url + path, timeout=5).status_code
