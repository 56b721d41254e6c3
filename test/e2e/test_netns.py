"""One master and three agents, each agent a separate host in its own network namespace."""
import os
import signal
import subprocess
import time

import pytest
import requests

from conftest import STRATA, Master, free_port, running_tasks, wait_for
from netns import HostNet


class NsAgent:
    def __init__(self, net, i, master_url, data_dir, resources, attributes=""):
        self.net, self.i = net, i
        self.ip = net.hosts[i]["ip"]
        self.url = f"http://{self.ip}:5051"
        self.data_dir = data_dir
        cmd = net.prefix(i) + [STRATA, "agent", "--master", master_url, "--data-dir", data_dir, "--http",
                               f"{self.ip}:5051", "--hostname", f"host-{i}", "--resources", resources,
                               "--cgroup-parent", f"strata-test-{os.getpid()}-{net.tag}-{i}"]
        if attributes:
            cmd += ["--attributes", attributes]
        self.log = open(data_dir + ".log", "ab")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)

    def kill_tasks(self):
        meta = os.path.join(self.data_dir, "meta", "tasks")
        subprocess.run(["pkill", "-9", "-f", f"__shim {meta}"], check=False)
        try:
            for t in requests.get(self.url + "/state", timeout=2).json()["tasks"]:
                if t.get("pid"):
                    try:
                        os.killpg(t["pid"], signal.SIGKILL)
                    except OSError:
                        pass
        except (requests.RequestException, ValueError):
            pass

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


@pytest.fixture
def hosts(tmpdir_path):
    net = HostNet(3)
    port = free_port()
    # The master listens on every interface (the hosts reach it on the bridge's address, which
    # it advertises); the test talks to it on loopback.
    m = Master(os.path.join(tmpdir_path, "m"), port, free_port(),
               extra=["--agent-timeout", "3", "--http", f"0.0.0.0:{port}", "--advertise", net.gateway])
    m.start()
    m.wait_ready()
    url = f"http://{net.gateway}:{port}"
    agents = [NsAgent(net, 0, url, os.path.join(tmpdir_path, "a0"), "cpus:2;mem:1000;disk:1000;ports:[31000-31100]",
                      "rack:r1"),
              NsAgent(net, 1, url, os.path.join(tmpdir_path, "a1"), "cpus:2;mem:500;disk:1000;ports:[31000-31100]",
                      "rack:r2"),
              NsAgent(net, 2, url, os.path.join(tmpdir_path, "a2"), "cpus:2;mem:500;disk:1000;ports:[31000-31100]",
                      "rack:r2")]
    try:
        wait_for(lambda: len([n for n in m.get("/v1/nodes").json()["nodes"] if n["connected"]]) == 3, timeout=15,
                 what="3 agents")
        yield net, m, agents
    finally:
        for a in agents:
            a.kill_tasks()
            a.stop()
        m.stop()
        net.close()


def host_of(m, app_id):
    return sorted(t["host"] for t in running_tasks(m, app_id))


def test_agents_are_separate_hosts_with_their_own_addresses(hosts):
    net, m, agents = hosts
    nodes = m.get("/v1/nodes").json()["nodes"]
    assert sorted(n["address"] for n in nodes) == sorted(f"{h['ip']}:5051" for h in net.hosts)
    assert sorted(n["hostname"] for n in nodes) == ["host-0", "host-1", "host-2"]


def test_placement_respects_resources(hosts):
    net, m, agents = hosts
    # 600 MiB fits only on host-0 (1000 MiB); the second instance fits nowhere and is queued
    m.post("/v2/apps", json={"id": "/big", "cmd": "sleep 1000", "instances": 2, "cpus": 0.1, "mem": 600})
    wait_for(lambda: host_of(m, "/big") == ["host-0"], what="one on host-0")
    q = wait_for(lambda: m.get("/v2/queue").json()["queue"], what="queued")
    assert q[0]["count"] == 1
    assert "InsufficientMemory" in {r["reason"] for r in q[0]["processedOffersSummary"]["rejectSummaryLastOffers"]}


def test_network_cut_unreachable_replaced_then_healed_without_surplus(hosts):
    net, m, agents = hosts
    m.post("/v2/apps", json={"id": "/svc", "cmd": "sleep 1000", "instances": 3, "cpus": 0.5, "mem": 100})
    wait_for(lambda: len(running_tasks(m, "/svc")) == 3, what="3 running")
    victim = next(t["host"] for t in running_tasks(m, "/svc"))
    i = int(victim.split("-")[1])
    on_victim = {t["id"] for t in running_tasks(m, "/svc") if t["host"] == victim}
    cut_at = time.time()
    net.cut(i)
    wait_for(lambda: [n for n in m.get("/v1/nodes").json()["nodes"] if n["hostname"] == victim and
                      n["state"] == "unreachable"], timeout=10, what="unreachable")
    wait_for(lambda: len([t for t in running_tasks(m, "/svc") if t["host"] != victim]) == 3, timeout=10,
             what="replacements elsewhere")
    print(f"replaced {time.time() - cut_at:.2f} s after the cut (agent timeout 3 s)")
    states = {t["id"]: t["state"] for t in m.get("/v2/apps/svc/tasks").json()["tasks"]}
    assert all(states.get(t) == "TASK_UNREACHABLE" for t in on_victim)
    net.heal(i)
    wait_for(lambda: [n for n in m.get("/v1/nodes").json()["nodes"] if n["hostname"] == victim and
                      n["state"] == "active"], timeout=15, what="back")
    # surplus killed: exactly 3 live instances once settled, and they stay 3
    wait_for(lambda: len([t for t in m.get("/v2/apps/svc/tasks").json()["tasks"]
                          if t["state"] in ("TASK_RUNNING", "TASK_UNREACHABLE", "TASK_STAGING")]) == 3,
             timeout=15, what="no surplus")
    time.sleep(2)
    tasks = m.get("/v2/apps/svc/tasks").json()["tasks"]
    assert len(running_tasks(m, "/svc")) == 3, [(t["host"], t["state"]) for t in tasks]


def hosts_of(m, app_id, n, timeout=10):
    return wait_for(lambda: len(running_tasks(m, app_id)) == n and host_of(m, app_id), timeout=timeout,
                    what=f"{n} running of {app_id}")


def queued_reasons(m, app_id):
    for q in m.get("/v2/queue").json()["queue"]:
        if q["app"]["id"] == app_id:
            return {r["reason"] for r in q["processedOffersSummary"]["rejectSummaryLastOffers"]}
    return set()


def test_every_constraint_operator(hosts):
    """host-0: rack r1; host-1 and host-2: rack r2 (see the fixture)."""
    net, m, agents = hosts
    base = {"cmd": "sleep 1000", "cpus": 0.01, "mem": 8}
    m.post("/v2/apps", json=dict(base, id="/unique", instances=3, constraints=[["hostname", "UNIQUE"]]))
    assert hosts_of(m, "/unique", 3) == ["host-0", "host-1", "host-2"]
    m.post("/v2/apps", json=dict(base, id="/cluster", instances=3, constraints=[["rack", "CLUSTER", "r2"]]))
    assert set(hosts_of(m, "/cluster", 3)) <= {"host-1", "host-2"}
    m.post("/v2/apps", json=dict(base, id="/groupby", instances=4, constraints=[["rack", "GROUP_BY"]]))
    got = hosts_of(m, "/groupby", 4)
    assert got.count("host-0") == 2, got
    m.post("/v2/apps", json=dict(base, id="/like", instances=2, constraints=[["hostname", "LIKE", "host-[12]"]]))
    assert "host-0" not in hosts_of(m, "/like", 2)
    m.post("/v2/apps", json=dict(base, id="/unlike", instances=2, constraints=[["rack", "UNLIKE", "r1"]]))
    assert "host-0" not in hosts_of(m, "/unlike", 2)
    m.post("/v2/apps", json=dict(base, id="/is", instances=2, constraints=[["rack", "IS", "r1"]]))
    assert hosts_of(m, "/is", 2) == ["host-0", "host-0"]
    m.post("/v2/apps", json=dict(base, id="/maxper", instances=3, constraints=[["rack", "MAX_PER", "1"]]))
    assert len(set(hosts_of(m, "/maxper", 2))) == 2
    wait_for(lambda: "UnfulfilledConstraint" in queued_reasons(m, "/maxper"), what="queued with the reason")
    # a missing attribute matches nothing but UNLIKE
    m.post("/v2/apps", json=dict(base, id="/nozone", instances=1, constraints=[["zone", "IS", "a"]]))
    wait_for(lambda: "UnfulfilledConstraint" in queued_reasons(m, "/nozone"), what="nozone queued")
    m.post("/v2/apps", json=dict(base, id="/unlikezone", instances=1, constraints=[["zone", "UNLIKE", "a"]]))
    hosts_of(m, "/unlikezone", 1)
