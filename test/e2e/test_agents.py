"""Agents and tasks end to end: real masters, real agents, real processes in cgroups."""
import os
import signal
import subprocess
import time

import pytest
import requests

from conftest import STRATA, Agent, Cluster, Master, free_port, master_and_agent, running_tasks, wait_for


@pytest.fixture
def one(tmpdir_path):
    with master_and_agent(tmpdir_path, ["--agent-timeout", "3"]) as ma:
        yield ma


def test_app_runs_on_the_agent_with_marathon_env_and_logs(one):
    m, a = one
    r = m.post("/v2/apps", json={"id": "/hello", "cmd": "echo task=$MESOS_TASK_ID port=$PORT0 app=$MARATHON_APP_ID; sleep 1000",
                                 "instances": 2, "cpus": 0.1, "mem": 32})
    assert r.status_code == 201
    tasks = wait_for(lambda: len(running_tasks(m, "/hello")) == 2 and running_tasks(m, "/hello"), what="2 running")
    node = m.get("/v1/nodes").json()["nodes"][0]
    assert node["tasks"] == 2 and abs(node["used"]["cpus"] - 0.2) < 1e-6 and node["used"]["mem"] == 64
    t = tasks[0]
    assert t["host"] and t["slaveId"] == node["id"] and 31000 <= t["ports"][0] <= 31100
    out = wait_for(lambda: subprocess.run([STRATA, "--master", m.url, "task", "log", t["id"]], capture_output=True,
                                          text=True).stdout, what="log output")
    assert f"task={t['id']}" in out and f"port={t['ports'][0]}" in out and "app=/hello" in out
    info = m.get("/v2/apps/hello").json()["app"]
    assert info["tasksRunning"] == 2 and len(info["tasks"]) == 2
    state = m.get("/master/state").json()
    assert state["slaves"][0]["pid"].startswith("slave(1)@")
    assert {x["name"] for x in state["frameworks"][0]["tasks"]} == {"hello"}


def test_scale_down_kills_youngest_and_delete_kills_all(one):
    m, a = one
    m.post("/v2/apps", json={"id": "/sc", "cmd": "sleep 1000", "instances": 3, "cpus": 0.1, "mem": 16})
    wait_for(lambda: len(running_tasks(m, "/sc")) == 3, what="3 running")
    assert m.put("/v2/apps/sc", json={"instances": 1}).status_code == 200
    wait_for(lambda: len(m.get("/v2/apps/sc/tasks").json()["tasks"]) == 1, what="scaled to 1")
    assert m.delete("/v2/apps/sc").status_code == 200
    wait_for(lambda: not [t for t in a.state()["tasks"] if t["taskId"].startswith("sc.")], what="agent empty")


def test_killed_task_process_is_relaunched_within_backoff(one):
    m, a = one
    m.post("/v2/apps", json={"id": "/crash", "cmd": "sleep 1000", "cpus": 0.1, "mem": 16, "backoffSeconds": 1})
    first = wait_for(lambda: running_tasks(m, "/crash"), what="running")[0]
    pid = next(t["pid"] for t in a.state()["tasks"] if t["taskId"] == first["id"])
    killed = time.time()
    os.kill(pid, signal.SIGKILL)
    second = wait_for(lambda: [t for t in running_tasks(m, "/crash") if t["id"] != first["id"]], timeout=5,
                      what="replacement")
    took = time.time() - killed
    assert took <= 2.0, f"relaunched after {took:.2f} s (backoffSeconds 1 + 1 s allowed)"
    failure = m.get("/v2/apps/crash").json()["app"]["lastTaskFailure"]
    assert failure["taskId"] == first["id"] and failure["state"] == "TASK_FAILED"


def test_app_that_cannot_fit_is_queued_with_the_reason(one):
    m, a = one
    m.post("/v2/apps", json={"id": "/huge", "cmd": "sleep 1000", "mem": 100000, "cpus": 0.1})
    q = wait_for(lambda: m.get("/v2/queue").json()["queue"], what="queued")
    entry = q[0]
    assert entry["app"]["id"] == "/huge" and entry["count"] == 1
    reasons = {x["reason"] for x in entry["processedOffersSummary"]["rejectSummaryLastOffers"]}
    assert "InsufficientMemory" in reasons


def test_host_ports_fixed_dynamic_and_freed_when_a_task_ends(one):
    """requirePorts takes exactly the declared host port; a second app needing it waits with
    InsufficientPorts until the first one's task ends and frees it; dynamic ports never collide."""
    m, a = one
    base = {"cmd": "sleep 1000", "cpus": 0.01, "mem": 8, "requirePorts": True,
            "portDefinitions": [{"port": 31050}]}
    assert m.post("/v2/apps", json=dict(base, id="/fixed")).status_code == 201
    t = wait_for(lambda: running_tasks(m, "/fixed"), what="fixed running")[0]
    assert t["ports"] == [31050]
    assert m.post("/v2/apps", json=dict(base, id="/clash")).status_code == 201

    def clash_reasons():
        for q in m.get("/v2/queue").json()["queue"]:
            if q["app"]["id"] == "/clash":
                return {r["reason"] for r in q["processedOffersSummary"]["rejectSummaryLastOffers"]}
        return set()
    wait_for(lambda: "InsufficientPorts" in clash_reasons(), what="clash queued for its port")
    assert m.post("/v2/apps", json={"id": "/dyn", "cmd": "sleep 1000", "cpus": 0.01, "mem": 8, "instances": 3,
                                    "portDefinitions": [{"port": 0}, {"port": 0}]}).status_code == 201
    dyn = wait_for(lambda: len(running_tasks(m, "/dyn")) == 3 and running_tasks(m, "/dyn"), what="dyn running")
    ports = [p for x in dyn for p in x["ports"]]
    assert len(ports) == 6 and len(set(ports)) == 6 and 31050 not in ports, ports
    assert m.put("/v2/apps/fixed", json={"instances": 0}).status_code == 200
    c = wait_for(lambda: running_tasks(m, "/clash"), what="clash placed once the port is free")[0]
    assert c["ports"] == [31050]


def test_app_for_another_role_waits_with_unfulfilled_role(one):
    """Agents offer unreserved resources (role "*"): an app that accepts only slave_public waits."""
    m, a = one
    r = m.post("/v2/apps", json={"id": "/public", "cmd": "sleep 1000", "cpus": 0.01, "mem": 8,
                                 "acceptedResourceRoles": ["slave_public"]})
    assert r.status_code == 201, r.text
    q = wait_for(lambda: [x for x in m.get("/v2/queue").json()["queue"] if x["app"]["id"] == "/public"],
                 what="queued")
    assert "UnfulfilledRole" in {x["reason"] for x in q[0]["processedOffersSummary"]["rejectSummaryLastOffers"]}
    assert not running_tasks(m, "/public")


def test_memory_hog_is_killed_alone(one):
    m, a = one
    m.post("/v2/apps", json={"id": "/calm", "cmd": "sleep 1000", "cpus": 0.1, "mem": 32})
    m.post("/v2/apps", json={"id": "/hog", "cmd": "head -c 400m /dev/zero | tail", "cpus": 0.1, "mem": 32,
                             "backoffSeconds": 100})
    calm = wait_for(lambda: running_tasks(m, "/calm"), what="calm running")[0]
    failure = wait_for(lambda: m.get("/v2/apps/hog").json()["app"].get("lastTaskFailure"), timeout=15,
                       what="hog failure")
    assert failure["state"] == "TASK_FAILED" and "Memory" in failure["message"]
    assert running_tasks(m, "/calm")[0]["id"] == calm["id"]


def test_agent_kill9_keeps_tasks_and_recovers_them(one):
    m, a = one
    m.post("/v2/apps", json={"id": "/keep", "cmd": "sleep 1000", "instances": 2, "cpus": 0.1, "mem": 16})
    before = sorted((t["id"], t["startedAt"]) for t in wait_for(lambda: len(running_tasks(m, "/keep")) == 2 and
                                                                 running_tasks(m, "/keep"), what="running"))
    pids = sorted(t["pid"] for t in a.state()["tasks"])
    a.kill9()
    time.sleep(0.5)
    for p in pids:
        os.kill(p, 0)  # still alive
    a.start()
    wait_for(lambda: a.state()["subscribed"], what="resubscribed")
    time.sleep(1)
    after = sorted((t["id"], t["startedAt"]) for t in running_tasks(m, "/keep"))
    assert after == before
    assert sorted(t["pid"] for t in a.state()["tasks"]) == pids


def test_silent_agent_goes_unreachable_and_its_tasks_are_replaced_then_surplus_killed(tmpdir_path):
    m = Master(os.path.join(tmpdir_path, "m"), free_port(), free_port(), extra=["--agent-timeout", "3"]).start()
    m.wait_ready()
    a1 = Agent(os.path.join(tmpdir_path, "a1"), [m], hostname="node-1").start()
    a2 = None
    wait_for(lambda: len(m.get("/v1/nodes").json()["nodes"]) == 1, what="a1")
    try:
        m.post("/v2/apps", json={"id": "/u", "cmd": "sleep 1000", "instances": 2, "cpus": 0.1, "mem": 16})
        wait_for(lambda: len(running_tasks(m, "/u")) == 2, what="running on a1")
        a2 = Agent(os.path.join(tmpdir_path, "a2"), [m], hostname="node-2",
                   resources="cpus:2;mem:2000;disk:1000;ports:[31200-31300]").start()
        wait_for(lambda: len(m.get("/v1/nodes").json()["nodes"]) == 2, what="a2")
        a1.signal(signal.SIGSTOP)
        stopped = time.time()
        wait_for(lambda: [n for n in m.get("/v1/nodes").json()["nodes"] if n["state"] == "unreachable"], timeout=10,
                 what="unreachable")
        wait_for(lambda: len([t for t in running_tasks(m, "/u") if t["host"] == "node-2"]) == 2, timeout=10,
                 what="replacements on node-2")
        print(f"replacements running {time.time() - stopped:.2f} s after the agent went silent (timeout 3 s)")
        a1.signal(signal.SIGCONT)
        # the agent returns: never more than 2 instances running for long
        wait_for(lambda: [n for n in m.get("/v1/nodes").json()["nodes"] if n["hostname"] == "node-1"
                          and n["state"] == "active"], timeout=10, what="node-1 back")
        wait_for(lambda: len([t for t in m.get("/v2/apps/u/tasks").json()["tasks"]
                              if t["state"] in ("TASK_RUNNING", "TASK_UNREACHABLE")]) == 2, timeout=10,
                 what="surplus killed")
    finally:
        if a2:
            a2.kill_tasks()
            a2.stop()
        a1.signal(signal.SIGCONT)
        a1.kill_tasks()
        a1.stop()
        m.stop()


def test_master_failover_restarts_nothing(tmpdir_path):
    c = Cluster(tmpdir_path).start()
    a = Agent(os.path.join(tmpdir_path, "a"), c.masters).start()
    try:
        leader = c.leader()
        wait_for(lambda: len(leader.get("/v1/nodes").json()["nodes"]) == 1, what="agent")
        leader.post("/v2/apps", json={"id": "/ha", "cmd": "sleep 1000", "instances": 2, "cpus": 0.1, "mem": 16})
        before = sorted((t["id"], t["startedAt"]) for t in wait_for(
            lambda: len(running_tasks(leader, "/ha")) == 2 and running_tasks(leader, "/ha"), what="running"))
        pids = sorted(t["pid"] for t in a.state()["tasks"])
        leader.kill9()
        new = c.leader(15)
        wait_for(lambda: [n for n in new.get("/v1/nodes").json()["nodes"] if n["connected"]], timeout=10,
                 what="agent resubscribed to the new leader")
        time.sleep(2)
        assert sorted((t["id"], t["startedAt"]) for t in running_tasks(new, "/ha")) == before
        assert sorted(t["pid"] for t in a.state()["tasks"]) == pids
    finally:
        a.kill_tasks()
        a.stop()
        c.stop()


def test_kill_endpoints_scale_wipe_host_and_task_ids(one):
    m, a = one
    m.post("/v2/apps", json={"id": "/k", "cmd": "sleep 1000", "instances": 3, "cpus": 0.1, "mem": 16})
    tasks = wait_for(lambda: len(running_tasks(m, "/k")) == 3 and running_tasks(m, "/k"), what="3 running")
    # one task, no scale: killed and replaced
    r = m.delete(f"/v2/apps/k/tasks/{tasks[0]['id']}")
    assert r.status_code == 200 and r.json()["task"]["id"] == tasks[0]["id"]
    wait_for(lambda: len(running_tasks(m, "/k")) == 3 and tasks[0]["id"] not in
             {t["id"] for t in running_tasks(m, "/k")}, what="replaced")
    # kill and scale: the app shrinks
    victim = running_tasks(m, "/k")[0]["id"]
    r = m.post("/v2/tasks/delete?scale=true", json={"ids": [victim]})
    assert r.status_code == 200 and r.json()["deploymentId"]
    assert m.get("/v2/apps/k").json()["app"]["instances"] == 2
    wait_for(lambda: len(m.get("/v2/apps/k/tasks").json()["tasks"]) == 2, what="2 left")
    assert m.delete("/v2/apps/k/tasks?scale=true&wipe=true").status_code == 400
    r = m.post("/v2/tasks/delete", json={"ids": ["not-a-task-id"]})
    assert r.status_code == 400 and "Invalid task id" in r.json()["message"]
    # legacy forms parse (unknown ones are ignored)
    r = m.post("/v2/tasks/delete", json={"ids": ["k.marathon-6c1d2f0e-1234-4abc-9def-0123456789ab"]})
    assert r.status_code == 200 and r.json()["tasks"] == []
    assert m.get("/v2/apps/k/tasks/nope").status_code in (200, 404)
    r = m.delete("/v2/apps/k/tasks/k.instance-6c1d2f0e-1234-4abc-9def-0123456789ab._app")
    assert r.status_code == 404 and "does not exist" in r.json()["message"]
    # host filter: everything on this agent
    r = m.delete("/v2/apps/k/tasks", params={"host": "*"})
    assert r.status_code == 200 and len(r.json()["tasks"]) == 2


def test_strata_dev_with_a_relative_data_dir_runs_tasks_and_stops_cleanly(tmpdir_path):
    """What `make run` does: `strata dev --data-dir .strata` from a working directory."""
    http, raft, agent_http = free_port(), free_port(), free_port()
    p = subprocess.Popen([STRATA, "dev", "--data-dir", ".strata", "--http", f"127.0.0.1:{http}", "--raft",
                          f"127.0.0.1:{raft}", "--agent-http", f"127.0.0.1:{agent_http}",
                          "--log-level", "warn"], cwd=tmpdir_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{http}"
    try:
        wait_for(lambda: any(n["connected"] for n in requests.get(url + "/v1/nodes", timeout=1).json()["nodes"]),
                 timeout=15, what="dev agent connected")
        r = requests.post(url + "/v2/apps", json={"id": "/dev", "cmd": "sleep 1000", "cpus": 0.1, "mem": 16,
                                                  "portDefinitions": []})
        assert r.status_code == 201
        wait_for(lambda: [t for t in requests.get(url + "/v2/apps/dev/tasks").json()["tasks"]
                          if t["state"] == "TASK_RUNNING"], what="task running under strata dev")
        assert os.path.isdir(os.path.join(tmpdir_path, ".strata", "agent", "sandboxes"))
        # leave nothing behind for other tests
        requests.delete(url + "/v2/apps/dev")
        wait_for(lambda: not requests.get(url + "/v2/apps/dev/tasks").ok or
                 not requests.get(url + "/v2/apps/dev/tasks").json()["tasks"], what="killed")
    finally:
        p.send_signal(signal.SIGTERM)
        out = p.communicate(timeout=15)[0].decode(errors="replace")
    assert p.returncode == 0, out
