"""`strata agent-sim`: simulated agents over real connections to real masters."""
import json
import os
import subprocess

import pytest
import requests

from conftest import STRATA, Cluster, Master, free_port, running_tasks, wait_for


class Sim:
    """One `strata agent-sim` process and its control API."""

    def __init__(self, log_path, masters, count, *extra):
        self.port = free_port()
        self.log_path = log_path
        cmd = [STRATA, "agent-sim", "--master", ",".join(m.url for m in masters), "--count", str(count),
               "--http", f"127.0.0.1:{self.port}", "--log-level", "info", *extra]
        self.logf = open(log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=self.logf, stderr=subprocess.STDOUT)

    def get(self, path):
        return requests.get(f"http://127.0.0.1:{self.port}{path}", timeout=5).json()

    def post(self, path):
        return requests.post(f"http://127.0.0.1:{self.port}{path}", timeout=5)

    def stats(self):
        return self.get("/v1/sim/stats")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.logf.close()


@pytest.fixture
def sim50(tmpdir_path):
    m = Master(os.path.join(tmpdir_path, "m"), free_port(), free_port(), extra=["--agent-timeout", "3"]).start()
    m.wait_ready()
    s = Sim(os.path.join(tmpdir_path, "sim.log"), [m], 50, "--classes", "5", "--attributes", "rack:r{i%10}",
            "--resources", "cpus:4;mem:4096", "--start-delay-ms", "50")
    try:
        wait_for(lambda: len(m.get("/v1/nodes").json()["nodes"]) == 50, timeout=20, what="50 agents registered")
        yield m, s
    finally:
        s.stop()
        m.stop()


def test_simulated_agents_register_with_their_own_identity(sim50):
    m, s = sim50
    nodes = m.get("/v1/nodes").json()["nodes"]
    assert len({n["id"] for n in nodes}) == 50
    assert {n["hostname"] for n in nodes} == {f"sim-{i}" for i in range(50)}
    for n in nodes:
        i = int(n["hostname"].split("-")[1])
        assert n["attributes"] == {"class": f"c{i % 5}", "rack": f"r{i % 10}"}
        assert n["resources"]["cpus"] == 4 and n["resources"]["mem"] == 4096
        assert n["connected"] and n["state"] == "active"
    st = s.stats()
    assert st["subscribed"] == 50 and st["badEvents"] == 0


def test_app_runs_on_its_class_and_a_dead_agent_is_replaced(sim50):
    m, s = sim50
    r = m.post("/v2/apps", json={"id": "/web", "cmd": "sleep 1000", "instances": 12, "cpus": 1, "mem": 128,
                                 "constraints": [["class", "IS", "c1"]]})
    assert r.status_code == 201
    tasks = wait_for(lambda: len(running_tasks(m, "/web")) == 12 and running_tasks(m, "/web"), timeout=20,
                     what="12 running")
    hosts = {t["host"] for t in tasks}
    assert all(int(h.split("-")[1]) % 5 == 1 for h in hosts)
    st = s.stats()
    assert st["tasksByState"] == {"TASK_RUNNING": 12} and st["launches"] == 12
    # Kill the agent that runs most of them; the master (3 s timeout) replaces its tasks elsewhere.
    victim = max(hosts, key=lambda h: sum(t["host"] == h for t in tasks))
    lost = {t["id"] for t in tasks if t["host"] == victim}
    assert s.post(f"/v1/sim/agents/{victim}/stop").status_code == 200

    def replaced():
        now = running_tasks(m, "/web")
        return len(now) == 12 and not {t["id"] for t in now} & lost and all(t["host"] != victim for t in now)

    wait_for(replaced, timeout=30, what="tasks of the dead agent replaced elsewhere")
    node = next(n for n in m.get("/v1/nodes").json()["nodes"] if n["hostname"] == victim)
    assert node["state"] == "unreachable"
    # The machine comes back empty: it resubscribes under its old id and gets no task back.
    assert s.post(f"/v1/sim/agents/{victim}/start").status_code == 200
    wait_for(lambda: next(n for n in m.get("/v1/nodes").json()["nodes"] if n["hostname"] == victim)["state"]
             == "active", timeout=20, what="agent active again")
    assert len(running_tasks(m, "/web")) == 12


def test_failed_task_is_replaced_and_scale_down_kills(sim50):
    m, s = sim50
    r = m.post("/v2/apps", json={"id": "/f", "cmd": "sleep 1000", "instances": 4, "cpus": 0.5, "mem": 64,
                                 "backoffSeconds": 1})
    assert r.status_code == 201, r.text
    first = wait_for(lambda: len(running_tasks(m, "/f")) == 4 and running_tasks(m, "/f"), timeout=20,
                     what="4 running")
    victim = first[0]["id"]
    assert s.post(f"/v1/sim/tasks/{victim}/fail").json()["state"] == "TASK_FAILED"
    assert s.post(f"/v1/sim/tasks/{victim}/fail").status_code == 404  # already ended

    def replaced():
        ids = {t["id"] for t in running_tasks(m, "/f")}  # one snapshot: two reads could straddle the failure
        return len(ids) == 4 and victim not in ids

    wait_for(replaced, timeout=20, what="failed task replaced")
    failure = m.get("/v2/apps/f").json()["app"].get("lastTaskFailure")
    assert failure and failure["taskId"] == victim and failure["state"] == "TASK_FAILED"
    assert m.put("/v2/apps/f", json={"instances": 1}).status_code == 200
    wait_for(lambda: s.stats()["tasksByState"] == {"TASK_RUNNING": 1}, timeout=20, what="3 killed on the agents")
    wait_for(lambda: len(m.get("/v2/apps/f/tasks").json()["tasks"]) == 1, timeout=20, what="scaled to 1")
    st = s.stats()
    assert st["kills"] >= 3 and st["launches"] == 5, json.dumps(st)


def test_agents_follow_a_new_leader_and_keep_their_tasks(tmpdir_path):
    c = Cluster(tmpdir_path).start()
    s = None
    try:
        leader = c.leader()
        s = Sim(os.path.join(tmpdir_path, "sim.log"), c.masters, 20)
        wait_for(lambda: s.stats()["subscribed"] == 20, timeout=20, what="20 subscribed")
        r = leader.post("/v2/apps", json={"id": "/ha", "cmd": "sleep 1000", "instances": 30, "cpus": 0.1, "mem": 16})
        assert r.status_code == 201, r.text
        before = {t["id"] for t in wait_for(lambda: len(running_tasks(leader, "/ha")) == 30 and
                                            running_tasks(leader, "/ha"), timeout=20, what="30 running")}
        subscribes = s.stats()["subscribes"]
        leader.kill9()
        new = c.leader(timeout=20)
        assert new is not leader
        wait_for(lambda: s.stats()["subscribes"] >= subscribes + 20 and s.stats()["subscribed"] == 20, timeout=30,
                 what="every agent resubscribed to the new leader")
        # Reconciled: the same 30 tasks, none lost, none duplicated, nothing killed.
        wait_for(lambda: {t["id"] for t in running_tasks(new, "/ha")} == before, timeout=20, what="same tasks")
        st = s.stats()
        assert st["tasksByState"] == {"TASK_RUNNING": 30} and st["kills"] == 0 and st["launches"] == 30
    finally:
        if s:
            s.stop()
        c.stop()


def test_bad_flags_are_refused():
    r = subprocess.run([STRATA, "agent-sim", "--master", "http://127.0.0.1:1", "--attributes", "k:{nope}"],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 2 and "unknown placeholder" in r.stderr
    r = subprocess.run([STRATA, "agent-sim", "--count", "3"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 2 and "--master is required" in r.stderr
    r = subprocess.run([STRATA, "agent-sim", "--master", "x", "--fail-rate", "0.7", "--lose-rate", "0.5"],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 2


def test_one_bad_status_field_does_not_fail_the_batch(tmpdir_path):
    """An agent's update with an over-long message or a negative timestamp is still applied, with the
    rest of its batch: a rejected batch would be resent by the agent forever."""
    m = Master(os.path.join(tmpdir_path, "m"), free_port(), free_port()).start()
    try:
        m.wait_ready()
        body = {"agentId": None, "hostname": "raw-1", "address": "raw-1:5051", "resources": {"cpus": 4, "mem": 4096, "ports": [[31000, 31100]]},
                "attributes": {}, "tasks": []}
        stream = requests.post(m.url + "/internal/v1/agents/subscribe", json=body, stream=True, timeout=10)
        assert stream.status_code == 200
        node = wait_for(lambda: m.get("/v1/nodes").json()["nodes"], what="raw agent registered")[0]
        agent_id = node["id"]
        assert m.post("/v2/apps", json={"id": "/raw", "cmd": "sleep 1d", "instances": 2, "cpus": 0.1,
                                        "mem": 16}).status_code == 201
        tasks = wait_for(lambda: len(m.get("/v2/apps/raw/tasks").json()["tasks"]) == 2 and
                         m.get("/v2/apps/raw/tasks").json()["tasks"], what="2 placed")
        ups = [{"uuid": "u1", "taskId": tasks[0]["id"], "state": "TASK_RUNNING", "message": "é" * 1500,
                "timestamp": -5},
               {"uuid": "u2", "taskId": tasks[1]["id"], "state": "TASK_RUNNING", "message": "", "timestamp": 1}]
        r = m.post(f"/internal/v1/agents/{agent_id}/updates", json={"term": 0, "updates": ups})
        assert r.status_code == 200 and set(r.json()["acknowledged"]) == {"u1", "u2"}
        wait_for(lambda: len(running_tasks(m, "/raw")) == 2, what="both updates applied")
        stream.close()
    finally:
        m.stop()
