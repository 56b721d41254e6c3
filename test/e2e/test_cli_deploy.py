"""`strata … --wait` against a real master and agent (fake runtime): what a CI/CD pipeline calls.

The CLI follows the deployment through /v2/events when the master serves it, else by polling
/v2/deployments and the app; either way the exit status is the verdict."""
import json
import os
import subprocess

import pytest

from conftest import STRATA, Agent, free_port, running_tasks, wait_for


class FakeAgent(Agent):
    """An agent whose tasks are scripted (STARTING, RUNNING) instead of real processes."""

    def start(self):
        cmd = [STRATA, "agent", "--master", ",".join(m.url for m in self.masters), "--data-dir", self.data_dir,
               "--http", f"127.0.0.1:{self.http_port}", "--resources", self.resources, "--fake-runtime"]
        self.logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=self.logf, stderr=subprocess.STDOUT)
        return self


@pytest.fixture
def agent(master, tmpdir_path):
    a = FakeAgent(os.path.join(tmpdir_path, "a0"), [master]).start()
    wait_for(lambda: master.get("/v1/nodes").json().get("nodes"), timeout=20, what="agent registered")
    yield a
    a.stop()


def strata(master, *args, timeout=90):
    return subprocess.run([STRATA, "--master", master.url, *args], capture_output=True, text=True,
                          timeout=timeout)


def write_app(tmpdir_path, app):
    path = os.path.join(tmpdir_path, app["id"].strip("/").replace("/", "_") + ".json")
    with open(path, "w") as f:
        json.dump(app, f)
    return path


def test_add_wait_exits_0_once_the_app_runs(master, agent, tmpdir_path):
    path = write_app(tmpdir_path, {"id": "/ci/web", "cmd": "sleep 1000", "instances": 2, "cpus": 0.1, "mem": 32})
    r = strata(master, "app", "add", path, "--wait", "--timeout", "60")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Created app /ci/web (deployment " in r.stdout
    assert "succeeded" in r.stdout.splitlines()[-1]
    # the verdict is true: both instances run, at the app's version
    assert len(running_tasks(master, "/ci/web")) == 2

    # scale with --wait: the new count is there when the command returns
    r = strata(master, "app", "scale", "ci/web", "3", "--wait", "--timeout", "60")
    assert r.returncode == 0, r.stdout + r.stderr
    assert len(running_tasks(master, "/ci/web")) == 3

    # -o json: the answer, progress objects and a result, one JSON document per line
    r = strata(master, "-o", "json", "app", "update", "ci/web", "instances=1", "--wait", "--timeout", "60")
    assert r.returncode == 0, r.stdout + r.stderr
    docs = [json.loads(line) for line in r.stdout.splitlines()]
    assert docs[-1]["type"] == "result" and docs[-1]["result"] == "success"
    assert any(d.get("type") == "progress" for d in docs)
    assert len(running_tasks(master, "/ci/web")) == 1

    r = strata(master, "deployment", "list")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("ID")


def test_an_app_that_never_gets_healthy_fails_the_wait(master, agent, tmpdir_path):
    path = write_app(tmpdir_path, {
        "id": "/ci/sick", "cmd": "sleep 1000", "instances": 1, "cpus": 0.1, "mem": 32,
        "healthChecks": [{"protocol": "COMMAND", "command": {"value": "exit 1"},
                          "gracePeriodSeconds": 1, "intervalSeconds": 1, "maxConsecutiveFailures": 1000}],
    })
    r = strata(master, "app", "add", path, "--wait", "--timeout", "20")
    # 4: --timeout passed (the deployment never ends); 3 if the master declares it failed
    assert r.returncode in (3, 4), r.stdout + r.stderr
    assert r.stderr.startswith("strata: deployment "), r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_wait_usage_errors_exit_2_before_anything_is_sent(master):
    r = strata(master, "app", "scale", "nope", "3", "--timeout", "5")
    assert r.returncode == 2
    assert r.stderr == "strata: --timeout goes with --wait\n"
    assert master.get("/v2/apps/nope").status_code == 404
