"""Named cluster networks across agents: one master with `--network`, two agents each a host in
its own network namespace (netns.py). Tasks on the named network get IPs from their agent's
/24, reach each other across agents by IP, cannot open connections to their agent's host ports;
a container/bridge port mapping is reachable from the other host."""
import os
import random
import subprocess

import pytest
import requests

from conftest import STRATA, Master, free_port, running_tasks, wait_for
from netns import HostNet
from test_containers import make_image, require
from test_netns import NsAgent


@pytest.fixture
def cluster(tmpdir_path):
    require(subprocess.run(["which", "runc"], capture_output=True).returncode == 0, "runc is not installed")
    require(os.path.exists("/usr/lib/cni/bridge"), "CNI plugins missing (containernetworking-plugins)")
    require(subprocess.run(["which", "iptables"], capture_output=True).returncode == 0, "iptables is not installed")
    image = make_image(tmpdir_path)
    net = HostNet(2)
    port = free_port()
    cidr_b = random.randrange(100, 200)
    m = Master(os.path.join(tmpdir_path, "m"), port, free_port(),
               extra=["--http", f"0.0.0.0:{port}", "--advertise", net.gateway,
                      "--network", f"dcos=10.{cidr_b}.0.0/16"])
    m.start()
    m.wait_ready()
    url = f"http://{net.gateway}:{port}"
    agents = [NsAgent(net, i, url, os.path.join(tmpdir_path, f"a{i}"),
                      "cpus:2;mem:1000;disk:1000;ports:[31000-31100]") for i in range(2)]
    try:
        wait_for(lambda: len([n for n in m.get("/v1/nodes").json()["nodes"] if n["connected"]]) == 2, timeout=15,
                 what="2 agents")
        yield net, m, agents, image, f"10.{cidr_b}."
    finally:
        for app in m.get("/v2/apps").json().get("apps", []):
            m.delete(f"/v2/apps{app['id']}", params={"force": "true"})
        for a in agents:
            try:
                wait_for(lambda: not requests.get(a.url + "/state", timeout=2).json()["tasks"], timeout=20,
                         what="tasks gone")
            except Exception:
                a.kill_tasks()
            a.stop()
        m.stop()
        net.close()


def exec_in(m, task_id, *cmd):
    return subprocess.run([STRATA, "--master", m.url, "task", "exec", task_id, "--", *cmd], capture_output=True,
                          text=True, timeout=60)


# busybox nc rather than busybox wget, which crashes in Debian's static build
def http_get_cmd(host, port, path="/"):
    return ["sh", "-c", f"printf 'GET {path} HTTP/1.0\\r\\n\\r\\n' | nc -w 3 {host} {port}"]


def fetch_in(m, task_id, host, port, path="/"):
    p = exec_in(m, task_id, *http_get_cmd(host, port, path))
    return p.stdout if " 200 " in p.stdout else ""


def test_tasks_on_a_named_network_talk_across_agents_and_not_to_their_host(cluster):
    net, m, agents, image, prefix = cluster
    app = {"id": "/web", "instances": 2, "cpus": 0.1, "mem": 64,
           "cmd": "hostname > /www/index.html; exec httpd -f -p 8080 -h /www",
           "constraints": [["hostname", "UNIQUE"]],
           "container": {"type": "MESOS", "docker": {"image": "file://" + image}},
           "networks": [{"mode": "container", "name": "dcos"}]}
    r = m.post("/v2/apps", json=app)
    assert r.status_code == 201, r.text
    try:
        tasks = wait_for(lambda: len(running_tasks(m, "/web")) == 2 and running_tasks(m, "/web"), timeout=60,
                         what="two tasks on the named network")
    except TimeoutError:
        print(m.get("/v2/apps/web").json()["app"].get("lastTaskFailure"), m.get("/v2/queue").json())
        for ag in agents:
            print(open(ag.data_dir + ".log").read()[-3000:])
        raise
    ips = {t["host"]: t["ipAddresses"][0]["ipAddress"] for t in tasks}
    # each task has an IP in its own agent's /24 of 10.x.0.0/16
    subnets = {ip.rsplit(".", 1)[0] for ip in ips.values()}
    assert len(subnets) == 2 and all(ip.startswith(prefix) for ip in ips.values()), ips
    by_host = {t["host"]: t for t in tasks}
    a, b = sorted(by_host)
    # task on host a fetches from task on host b by IP, and the other way
    for src, dst in ((a, b), (b, a)):
        out = wait_for(lambda: fetch_in(m, by_host[src]["id"], ips[dst], 8080), timeout=30,
                       what=f"{src} → {dst} over the named network")
        assert out.rstrip().endswith("\n" + by_host[dst]["id"]), out  # the peer's hostname: its task id
    # isolation: the agent's API (a host port nothing maps) is closed to the task, on the host's
    # address and on the bridge gateway alike
    host_ip = net.hosts[int(a.split("-")[1])]["ip"]
    gw = ips[a].rsplit(".", 1)[0] + ".1"
    for target in (host_ip, gw):
        p = exec_in(m, by_host[a]["id"], *http_get_cmd(target, 5051, "/ping"))
        assert "pong" not in p.stdout, (target, p.stdout, p.stderr)
    # while the agent answers on that port from elsewhere
    assert requests.get(f"http://{host_ip}:5051/ping", timeout=5).text == "pong"
    # and it is the agent's rule that keeps the task out: without it the task gets through
    rule = ["INPUT", "-i", "stn-dcos", "-m", "conntrack", "--ctstate", "NEW", "-j", "DROP"]
    i = int(a.split("-")[1])
    subprocess.run(net.prefix(i) + ["iptables", "-w", "-D"] + rule, check=True)
    try:
        assert "pong" in exec_in(m, by_host[a]["id"], *http_get_cmd(host_ip, 5051, "/ping")).stdout
    finally:
        subprocess.run(net.prefix(i) + ["iptables", "-w", "-I"] + rule, check=True)


def test_bridge_port_mapping_is_reachable_from_another_host(cluster):
    net, m, agents, image, _ = cluster
    app = {"id": "/pub", "instances": 1, "cpus": 0.1, "mem": 64, "cmd": "exec httpd -f -p 8080 -h /www",
           "constraints": [["hostname", "CLUSTER", "host-0"]],
           "container": {"type": "MESOS", "docker": {"image": "file://" + image},
                         "portMappings": [{"containerPort": 8080, "hostPort": 0}]},
           "networks": [{"mode": "container/bridge"}]}
    assert m.post("/v2/apps", json=app).status_code == 201
    t = wait_for(lambda: running_tasks(m, "/pub"), timeout=60, what="/pub running")[0]
    port = t["ports"][0]
    cmd = net.prefix(1) + ["/bin/busybox"] + http_get_cmd(net.hosts[0]["ip"], port)
    out = wait_for(lambda: (lambda p: " 200 " in p.stdout and p.stdout)(subprocess.run(cmd, capture_output=True,
                                                                                        text=True)),
                   timeout=30, what="the mapped port from host-1")
    assert out.endswith("\n\nhello from a strata container\n"), out  # text mode: \r\n read as \n
