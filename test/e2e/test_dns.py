"""DNS on every agent (issue 11): one master and two agents, each agent a host in its own network
namespace serving DNS on its own address, queried with `dig` from the root namespace.

- every name family (Mesos-DNS A/SRV with host ports, infrastructure names, DC/OS names, the
  mirror zone, SOA/NS), NXDOMAIN, TCP, forwarding through a local upstream started here and
  SERVFAIL from an upstream that never answers, Mesos-DNS's HTTP API, `strata dns lookup`, the
  resolver tasks are given (STRATA_DNS_ADDRESS, the containers' resolv.conf);
- a task started, killed or turned unhealthy is reflected within 1 s (measured: the time from
  when the master's API first shows the change to when the agent's DNS first shows it, both
  polled in one loop);
- with the master kill -9'd the agents keep answering the same records. The outage lasts
  STRATA_DNS_OUTAGE_S seconds (default 20; the issue's 5 minutes is the same code path, only
  longer: nothing on the agent expires), then the master returns and no name flaps;
- with three masters, `_leader._tcp.mesos` follows a kill -9 of the leader while the tasks' names
  stay put;
- tasks on a named container network are found at their own IPs (A, SRV with the container port,
  DC/OS containerip/autoip/agentip)."""
import os
import socket
import struct
import subprocess
import threading
import time

import pytest
import requests

from conftest import STRATA, Agent, Master, free_port, running_tasks, wait_for
from netns import HostNet
from test_containers import container_app, make_image
from test_named_networks import cluster  # noqa: F401 (a fixture: two hosts on a named network)

OUTAGE_S = float(os.environ.get("STRATA_DNS_OUTAGE_S", "20"))
FAKE_ANSWER = "192.0.2.55"


def dig(server, name, qtype="A", tcp=False):
    """dig +short: the answer lines (sorted)."""
    cmd = ["dig", f"@{server}", "-p", "53", name, qtype, "+short", "+time=3", "+tries=1"]
    if tcp:
        cmd.append("+tcp")
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout
    return sorted(line for line in out.splitlines() if line and not line.startswith(";"))


def dig_full(server, name, qtype="A"):
    cmd = ["dig", f"@{server}", "-p", "53", name, qtype, "+time=5", "+tries=1"]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=15).stdout


def status(server, name, qtype="A"):
    for line in dig_full(server, name, qtype).splitlines():
        if "status:" in line:
            return line.split("status:")[1].split(",")[0].strip()
    return None


class FakeUpstream(threading.Thread):
    """A resolver for forwarded names: answers every A question with FAKE_ANSWER, or (silent)
    never answers at all."""

    def __init__(self, ip, silent=False):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((ip, 0))
        self.sock.settimeout(0.2)
        self.addr = f"{ip}:{self.sock.getsockname()[1]}"
        self.silent = silent
        self.queries = 0
        self.stopping = False

    def run(self):
        while not self.stopping:
            try:
                data, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            self.queries += 1
            if self.silent or len(data) < 12:
                continue
            end = 12
            while end < len(data) and data[end] != 0:
                end += data[end] + 1
            question = data[12:end + 5]
            header = data[:2] + b"\x81\x80" + struct.pack(">HHHH", 1, 1, 0, 0)
            answer = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 30, 4) + socket.inet_aton(FAKE_ANSWER)
            self.sock.sendto(header + question + answer, peer)

    def stop(self):
        self.stopping = True
        self.sock.close()


class DnsAgent(Agent):
    """`strata agent` in host i's namespace, DNS on its address (port 53 of its own namespace);
    kill_tasks and stop are conftest's."""

    def __init__(self, net, i, master_url, data_dir, upstream):
        self.ip = net.hosts[i]["ip"]
        self.data_dir = data_dir
        self.log_path = data_dir + ".log"
        self.cmd = net.prefix(i) + [STRATA, "agent", "--master", master_url, "--data-dir", data_dir, "--http",
                                    f"{self.ip}:5051", "--hostname", f"host-{i}",
                                    "--resources", "cpus:2;mem:1000;disk:1000;ports:[31000-31100]",
                                    "--cgroup-parent", f"strata-test-{os.getpid()}-{net.tag}-{i}",
                                    "--dns", f"{self.ip}:53", "--dns-upstream", upstream]
        self.logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.cmd, stdout=self.logf, stderr=subprocess.STDOUT)

    @property
    def url(self):
        return f"http://{self.ip}:5051"


@pytest.fixture
def dnsnet(tmpdir_path):
    net = HostNet(2)
    live, silent = FakeUpstream(net.gateway), FakeUpstream(net.gateway, silent=True)
    live.start()
    silent.start()
    port = free_port()
    m = Master(os.path.join(tmpdir_path, "m"), port, free_port(),
               extra=["--http", f"0.0.0.0:{port}", "--advertise", net.gateway])
    m.start()
    agents = []
    try:
        m.wait_ready()
        url = f"http://{net.gateway}:{port}"
        agents = [DnsAgent(net, 0, url, os.path.join(tmpdir_path, "a0"), live.addr),
                  DnsAgent(net, 1, url, os.path.join(tmpdir_path, "a1"), silent.addr)]
        wait_for(lambda: len([n for n in m.get("/v1/nodes").json()["nodes"] if n["connected"]]) == 2, timeout=15,
                 what="2 agents")
        yield net, m, agents, live
    finally:
        for a in agents:
            a.kill_tasks()
            a.stop()
        m.stop()
        live.stop()
        silent.stop()
        net.close()


def srv_ports(server, name):
    return sorted(int(line.split()[2]) for line in dig(server, name, "SRV"))


def test_every_name_family_from_every_agent(dnsnet):
    net, m, agents, live = dnsnet
    ips = sorted(a.ip for a in agents)
    r = m.post("/v2/apps", json={"id": "/prod/web", "cmd": "sleep 1000", "instances": 2, "cpus": 0.1, "mem": 16,
                                 "constraints": [["hostname", "UNIQUE"]],
                                 "portDefinitions": [{"port": 0, "name": "http"}, {"port": 0, "protocol": "udp"}]})
    assert r.status_code == 201, r.text
    tasks = wait_for(lambda: len(running_tasks(m, "/prod/web")) == 2 and running_tasks(m, "/prod/web"),
                     what="2 running")
    tcp_ports = sorted(t["ports"][0] for t in tasks)
    udp_ports = sorted(t["ports"][1] for t in tasks)
    for a in agents:
        wait_for(lambda: dig(a.ip, "web-prod.marathon.mesos") == ips, timeout=5, what="A on " + a.ip)
        assert dig(a.ip, "WEB-PROD.marathon.mesos.") == ips  # case-insensitive
        assert dig(a.ip, "web-prod.marathon.mesos", tcp=True) == ips
        assert dig(a.ip, "web.prod.marathon.mesos") == ips  # the DiscoveryInfo name as is, like Mesos-DNS
        assert dig(a.ip, "web-prod.marathon.slave.mesos") == ips
        assert srv_ports(a.ip, "_web-prod._tcp.marathon.mesos") == tcp_ports
        assert srv_ports(a.ip, "_web-prod._udp.marathon.mesos") == udp_ports
        assert srv_ports(a.ip, "_http._web-prod._tcp.marathon.mesos") == tcp_ports
        # SRV targets resolve, and the answer carries them as additional data
        srv = dig(a.ip, "_web-prod._tcp.marathon.mesos", "SRV")
        for line in srv:
            prio, weight, port, target = line.split()
            assert (prio, weight) == ("0", "1")
            assert dig(a.ip, target)[0] in ips
        assert "ADDITIONAL SECTION" in dig_full(a.ip, "_web-prod._tcp.marathon.mesos", "SRV")
        assert sorted(int(x.split()[2]) for x in dig(a.ip, "_web-prod._tcp.marathon.slave.mesos", "SRV")) == \
            sorted(tcp_ports + udp_ports)
        assert dig(a.ip, "leader.mesos") == [net.gateway]
        assert dig(a.ip, "master.mesos") == [net.gateway]
        assert dig(a.ip, "master0.mesos") == [net.gateway]
        assert dig(a.ip, "marathon.mesos") == [net.gateway]
        assert dig(a.ip, "_leader._tcp.mesos", "SRV") == [f"0 1 {m.http_port} leader.mesos."]
        assert dig(a.ip, "slave.mesos") == ips
        assert dig(a.ip, "_slave._tcp.mesos", "SRV") == ["0 1 5051 slave.mesos."]
        assert dig(a.ip, "ns1.mesos") == [a.ip]
        assert dig(a.ip, "web-prod.marathon.autoip.dcos.thisdcos.directory") == ips
        assert dig(a.ip, "web-prod.marathon.agentip.dcos.thisdcos.directory") == ips
        assert dig(a.ip, "web-prod.marathon.mesos.thisdcos.directory") == ips
        # host networking: no container IP
        assert status(a.ip, "web-prod.marathon.containerip.dcos.thisdcos.directory") == "NXDOMAIN"
        assert status(a.ip, "nope.marathon.mesos") == "NXDOMAIN"
        assert status(a.ip, "_nope._tcp.marathon.mesos", "SRV") == "NXDOMAIN"
        assert status(a.ip, "web-prod.marathon.mesos", "AAAA") == "NOERROR"  # NODATA
        soa = dig_full(a.ip, "mesos", "SOA")
        assert "status: NOERROR" in soa and "ns1.mesos. root.ns1.mesos." in soa and "60 600 86400 60" in soa
        assert " aa " in soa.split("flags:")[1].split(";")[0] + " "
        assert "ns1.mesos." in dig_full(a.ip, "mesos", "NS")

    # forwarding: agent 0 through the live upstream, agent 1's never answers (SERVFAIL)
    assert dig(agents[0].ip, "example.test") == [FAKE_ANSWER]
    assert live.queries >= 1
    started = time.time()
    assert status(agents[1].ip, "example.test") == "SERVFAIL"
    assert time.time() - started < 4.5  # one upstream, 2 s timeout
    # while a forward is outstanding the server keeps answering cluster names at once
    t = threading.Thread(target=status, args=(agents[1].ip, "slow.example.test"))
    t.start()
    time.sleep(0.2)
    q0 = time.time()
    assert dig(agents[1].ip, "leader.mesos") == [net.gateway]
    assert time.time() - q0 < 0.5
    t.join()

    # Mesos-DNS's HTTP API on the agent
    a = agents[0]
    assert requests.get(a.url + "/v1/version").json()["Service"] == "Mesos-DNS"
    cfg = requests.get(a.url + "/v1/config").json()
    assert cfg["Domain"] == "mesos" and cfg["TTL"] == 60 and cfg["Resolvers"] == live.addr
    hosts = requests.get(a.url + "/v1/hosts/web-prod.marathon.mesos").json()
    assert sorted(h["ip"] for h in hosts) == ips and hosts[0]["host"] == "web-prod.marathon.mesos."
    svc = requests.get(a.url + "/v1/services/_web-prod._tcp.marathon.mesos").json()
    assert sorted(int(s["port"]) for s in svc) == tcp_ports and sorted(s["ip"] for s in svc) == ips
    assert requests.get(a.url + "/mesos_dns/v1/hosts/nope.marathon.mesos").json() == [{"host": "", "ip": ""}]
    enum = requests.get(a.url + "/v1/enumerate").json()
    assert sorted(t["name"] for t in enum["frameworks"][0]["tasks"]) == ["web-prod", "web-prod"]

    # tasks get the agent's DNS: in their environment (native), as containers' resolv.conf
    r = m.post("/v2/apps", json={"id": "/envcheck", "cmd": "echo $STRATA_DNS_ADDRESS > dns.txt; sleep 1000",
                                 "cpus": 0.1, "mem": 16, "constraints": [["hostname", "CLUSTER", "host-0"]]})
    assert r.status_code == 201, r.text
    task = wait_for(lambda: running_tasks(m, "/envcheck") and running_tasks(m, "/envcheck")[0], what="envcheck")
    got = wait_for(lambda: requests.get(agents[0].url + "/files/read", params={
        "task": task["id"], "file": "dns.txt", "offset": 0, "length": 100}).json().get("data", "").strip() or None,
        what="task wrote its env")
    assert got == f"{agents[0].ip}:53"
    with open(os.path.join(agents[0].data_dir, "dns-resolv.conf")) as f:
        assert f.read().splitlines()[1] == f"nameserver {agents[0].ip}"
    # a container (runc, busybox) resolves the cluster's names and forwarded ones through it
    image = make_image(os.path.dirname(agents[0].data_dir))
    app = container_app("/resolver", image, "cat /etc/resolv.conf; nslookup web-prod.marathon.mesos; "
                        "nslookup example.test; sleep 1000", constraints=[["hostname", "CLUSTER", "host-0"]])
    assert m.post("/v2/apps", json=app).status_code == 201
    ctask = wait_for(lambda: running_tasks(m, "/resolver") and running_tasks(m, "/resolver")[0], timeout=30,
                     what="container running")

    def container_out():
        out = requests.get(agents[0].url + "/files/read", params={"task": ctask["id"], "file": "stdout", "offset": 0,
                                                                  "length": 4096}).json().get("data", "")
        return FAKE_ANSWER in out and out
    out = wait_for(container_out, timeout=15, what="the container's lookups")
    assert f"nameserver {agents[0].ip}" in out
    assert all(ip in out for ip in ips), out

    # the CLI: the records as the cluster serves them
    out = subprocess.run([STRATA, "--master", m.url, "dns", "lookup", "_web-prod._tcp.marathon.mesos", "SRV"],
                         capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    assert all(str(p) in out.stdout for p in tcp_ports)
    out = subprocess.run([STRATA, "--master", m.url, "dns", "lookup", "nope.marathon.mesos"],
                         capture_output=True, text=True, timeout=10)
    assert out.returncode == 1 and "No" in out.stderr


def measure(api_changed, dns_changed, timeout=20):
    """Polls the API and DNS in one loop; returns (t_api, t_dns) when both show the change."""
    t_api = t_dns = None
    deadline = time.time() + timeout
    while time.time() < deadline and (t_api is None or t_dns is None):
        if t_api is None and api_changed():
            t_api = time.time()
        if t_dns is None and dns_changed():
            t_dns = time.time()
        time.sleep(0.01)
    assert t_api is not None and t_dns is not None, (t_api, t_dns)
    return t_api, t_dns


def test_changes_reach_dns_within_a_second(dnsnet, tmpdir_path):
    net, m, agents, live = dnsnet
    flag = os.path.join(tmpdir_path, "healthy")
    open(flag, "w").close()
    name = "_fresh._tcp.marathon.mesos"
    app = {"id": "/fresh", "cmd": "sleep 1000", "instances": 1, "cpus": 0.1, "mem": 16,
           "portDefinitions": [{"port": 0}],
           "healthChecks": [{"protocol": "COMMAND", "command": {"value": f"test -f {flag}"}, "intervalSeconds": 1,
                             "timeoutSeconds": 1, "gracePeriodSeconds": 0, "maxConsecutiveFailures": 0,
                             "delaySeconds": 0}]}
    m.post("/v2/apps", json=app)
    results = {}

    def tasks():
        return running_tasks(m, "/fresh")

    def every_agent(n):
        """Every agent's DNS has n SRV records for the app (a change counts once all show it)."""
        return all(len(srv_ports(a.ip, name)) == n for a in agents)

    t_api, t_dns = measure(lambda: len(tasks()) == 1, lambda: every_agent(1))
    results["started"] = t_dns - t_api
    first = tasks()[0]

    # scale up: the new instance appears
    m.put("/v2/apps/fresh", json={"instances": 2})
    t_api, t_dns = measure(lambda: len(tasks()) == 2, lambda: every_agent(2))
    results["scaled up"] = t_dns - t_api

    # unhealthy: both fail their check; they leave the answers as soon as the master knows
    wait_for(lambda: all(t.get("healthCheckResults") and t["healthCheckResults"][0]["alive"] for t in tasks()),
             what="healthy")
    os.unlink(flag)

    def unhealthy():
        return all(t.get("healthCheckResults") and not t["healthCheckResults"][0]["alive"] for t in tasks())

    t_api, t_dns = measure(unhealthy, lambda: every_agent(0))
    results["unhealthy"] = t_dns - t_api
    assert all(status(a.ip, "fresh.marathon.mesos") == "NXDOMAIN" for a in agents)
    open(flag, "w").close()
    t_api, t_dns = measure(lambda: len(tasks()) == 2 and not unhealthy() and all(
        t["healthCheckResults"][0]["alive"] for t in tasks()), lambda: every_agent(2))
    results["healthy again"] = t_dns - t_api

    # killed: the instance leaves with the kill decision, before its process is gone
    port = first["ports"][0]
    r = m.delete(f"/v2/apps/fresh/tasks/{first['id']}", params={"scale": "true"})
    assert r.status_code == 200, r.text
    t_api = time.time()
    t_dns = wait_for(lambda: all(port not in srv_ports(a.ip, name) for a in agents) and time.time(), timeout=5,
                     interval=0.01, what="killed instance gone")
    results["killed"] = t_dns - t_api
    print("task change -> every agent's DNS (s, negative: DNS before the API poll saw it):",
          {k: round(v, 3) for k, v in results.items()})
    for what, delay in results.items():
        assert delay < 1.0, (what, delay)


def test_agents_keep_answering_with_the_master_down(dnsnet):
    net, m, agents, live = dnsnet
    m.post("/v2/apps", json={"id": "/steady", "cmd": "sleep 1000", "instances": 3, "cpus": 0.1, "mem": 16,
                             "portDefinitions": [{"port": 0}]})
    wait_for(lambda: len(running_tasks(m, "/steady")) == 3, what="3 running")
    names = [("steady.marathon.mesos", "A"), ("_steady._tcp.marathon.mesos", "SRV"), ("leader.mesos", "A"),
             ("slave.mesos", "A"), ("steady.marathon.autoip.dcos.thisdcos.directory", "A")]

    def answers(a):
        return {n: dig(a.ip, n, t) for n, t in names}

    want = {}
    for a in agents:
        want[a.ip] = wait_for(lambda: (lambda x: len(x["_steady._tcp.marathon.mesos"]) == 3 and x)(answers(a)),
                              timeout=5, what="answers")
    m.kill9()
    outage_end = time.time() + OUTAGE_S
    rounds = 0
    while time.time() < outage_end:
        for a in agents:
            assert answers(a) == want[a.ip], f"answers changed on {a.ip} with the master down"
            assert dig(agents[0].ip, "example.test") == [FAKE_ANSWER]  # forwarding needs no master
        rounds += 1
        time.sleep(1)
    print(f"{rounds} rounds of {len(names)} names on {len(agents)} agents answered during a {OUTAGE_S:.0f} s outage")
    m.start()
    m.wait_ready()
    settle = time.time() + 8
    while time.time() < settle:
        for a in agents:
            assert answers(a) == want[a.ip], f"a name flapped on {a.ip} when the master returned"
        time.sleep(0.2)
    wait_for(lambda: len([n for n in m.get("/v1/nodes").json()["nodes"] if n["connected"]]) == 2, timeout=15,
             what="agents back")
    for a in agents:
        assert answers(a) == want[a.ip]


def test_leader_names_follow_a_failover(tmpdir_path):
    """Three masters (one host, three ports): `_leader._tcp.mesos` names the leader's port, and
    after the leader is kill -9'd it names the new one; the tasks' names never go away."""
    net = HostNet(1)
    live = FakeUpstream(net.gateway)
    live.start()
    raft = [free_port() for _ in range(3)]
    addrs = [f"127.0.0.1:{p}" for p in raft]
    masters = []
    for i in range(3):
        port = free_port()
        masters.append(Master(os.path.join(tmpdir_path, f"m{i}"), port, raft[i], masters=addrs,
                              extra=["--http", f"0.0.0.0:{port}", "--advertise", net.gateway]))
    agent = None
    try:
        for m in masters:
            m.start()
        for m in masters:
            m.wait_ready(30)

        def leader():
            for m in masters:
                try:
                    if m.alive() and m.get("/v1/cluster", params={"stale": "true"}, timeout=1).json()["state"] == "leader":
                        return m
                except (requests.RequestException, ValueError, KeyError):
                    pass
            return None
        first = wait_for(leader, timeout=15, what="a leader")
        urls = ",".join(f"http://{net.gateway}:{m.http_port}" for m in masters)
        agent = DnsAgent(net, 0, urls, os.path.join(tmpdir_path, "a0"), live.addr)
        wait_for(lambda: first.get("/v1/nodes").json()["nodes"], timeout=15, what="agent")
        first.post("/v2/apps", json={"id": "/ha", "cmd": "sleep 1000", "instances": 2, "cpus": 0.1, "mem": 16,
                                     "portDefinitions": [{"port": 0}]})
        wait_for(lambda: len(srv_ports(agent.ip, "_ha._tcp.marathon.mesos")) == 2, timeout=15, what="ha in DNS")
        ports = srv_ports(agent.ip, "_ha._tcp.marathon.mesos")
        assert dig(agent.ip, "_leader._tcp.mesos", "SRV") == [f"0 1 {first.http_port} leader.mesos."]
        assert sorted(dig(agent.ip, "master.mesos")) == [net.gateway]
        assert dig(agent.ip, "master2.mesos") == [net.gateway]
        first.kill9()
        killed = time.time()
        second = wait_for(leader, timeout=15, what="a new leader")
        while dig(agent.ip, "_leader._tcp.mesos", "SRV") != [f"0 1 {second.http_port} leader.mesos."]:
            assert srv_ports(agent.ip, "_ha._tcp.marathon.mesos") == ports, "task names flapped in the failover"
            assert time.time() - killed < 20, "leader.mesos did not follow the failover"
            time.sleep(0.1)
        print(f"_leader._tcp.mesos names the new leader {time.time() - killed:.2f} s after the old one was killed")
        assert srv_ports(agent.ip, "_ha._tcp.marathon.mesos") == ports
    finally:
        if agent:
            agent.kill_tasks()
            agent.stop()
        for m in masters:
            m.stop()
        live.stop()
        net.close()


def test_dev_serves_dns_and_bad_dns_flags_fail_clearly(tmpdir_path):
    port, dport = free_port(), free_port()
    m = Master(os.path.join(tmpdir_path, "dev"), port, free_port(), dev=True,
               extra=["--agent-http", f"127.0.0.1:{free_port()}", "--dns", f"127.0.0.1:{dport}"])
    m.start()
    try:
        m.wait_ready()
        m.post("/v2/apps", json={"id": "/solo", "cmd": "sleep 1000", "cpus": 0.1, "mem": 16})

        def answer(name):
            out = subprocess.run(["dig", "@127.0.0.1", "-p", str(dport), name, "+short", "+time=2", "+tries=1"],
                                 capture_output=True, text=True, timeout=10).stdout
            return out.split()
        wait_for(lambda: answer("solo.marathon.mesos") == ["127.0.0.1"], timeout=10, what="dev DNS")
        assert answer("leader.mesos") == ["127.0.0.1"]
        # an explicit address that is taken stops the agent with a one-line reason
        out = subprocess.run([STRATA, "agent", "--master", m.url, "--data-dir", os.path.join(tmpdir_path, "a2"),
                              "--http", f"127.0.0.1:{free_port()}", "--fake-runtime", "--dns", f"127.0.0.1:{dport}"],
                             capture_output=True, text=True, timeout=20)
        assert out.returncode == 1 and f"cannot serve DNS on 127.0.0.1:{dport}" in out.stderr, out.stderr
        out = subprocess.run([STRATA, "agent", "--master", m.url, "--data-dir", os.path.join(tmpdir_path, "a3"),
                              "--http", f"127.0.0.1:{free_port()}", "--fake-runtime", "--dns", "nonsense"],
                             capture_output=True, text=True, timeout=20)
        assert out.returncode == 1 and "--dns 'nonsense' is not ADDR:PORT" in out.stderr, out.stderr
        out = subprocess.run([STRATA, "agent", "--master", m.url, "--data-dir", os.path.join(tmpdir_path, "a4"),
                              "--http", f"127.0.0.1:{free_port()}", "--fake-runtime", "--dns", f"127.0.0.1:{free_port()}",
                              "--dns-upstream", "not-an-ip"], capture_output=True, text=True, timeout=20)
        assert out.returncode == 1 and "DNS upstream 'not-an-ip' is not an IPv4 address" in out.stderr, out.stderr
    finally:
        # tasks outlive their agent by design: remove the app while the dev agent still runs
        m.delete("/v2/apps/solo", params={"force": "true"})
        try:
            wait_for(lambda: not running_tasks(m, "/solo"), timeout=10, what="solo gone")
        finally:
            m.stop()


def test_tasks_on_a_named_network_are_found_at_their_own_ips(cluster):
    """A container network (test_named_networks' two-host cluster, whose agents serve DNS on
    their addresses by default): A records name the tasks' own IPs, SRV the container port, and
    the DC/OS containerip/agentip names tell them apart."""
    net, m, agents, image, prefix = cluster
    app = {"id": "/db/pg", "instances": 2, "cpus": 0.1, "mem": 64, "cmd": "sleep 1000",
           "constraints": [["hostname", "UNIQUE"]],
           "container": {"type": "MESOS", "docker": {"image": "file://" + image},
                         "portMappings": [{"containerPort": 5432, "name": "pg"}]},
           "networks": [{"mode": "container", "name": "dcos"}]}
    r = m.post("/v2/apps", json=app)
    assert r.status_code == 201, r.text
    tasks = wait_for(lambda: len(running_tasks(m, "/db/pg")) == 2 and running_tasks(m, "/db/pg"), timeout=60,
                     what="two tasks on the named network")
    task_ips = sorted(t["ipAddresses"][0]["ipAddress"] for t in tasks)
    assert all(ip.startswith(prefix) for ip in task_ips)
    agent_ips = sorted(h["ip"] for h in net.hosts)
    for a in agents:
        wait_for(lambda: dig(a.ip, "pg-db.marathon.mesos") == task_ips, timeout=5, what="own IPs on " + a.ip)
        assert dig(a.ip, "pg-db.marathon.containerip.dcos.thisdcos.directory") == task_ips
        assert dig(a.ip, "pg-db.marathon.autoip.dcos.thisdcos.directory") == task_ips
        assert dig(a.ip, "pg-db.marathon.agentip.dcos.thisdcos.directory") == agent_ips
        assert dig(a.ip, "pg-db.marathon.slave.mesos") == agent_ips
        assert srv_ports(a.ip, "_pg-db._tcp.marathon.mesos") == [5432, 5432]
        assert srv_ports(a.ip, "_pg._pg-db._tcp.marathon.mesos") == [5432, 5432]
        for line in dig(a.ip, "_pg-db._tcp.marathon.mesos", "SRV"):
            assert dig(a.ip, line.split()[3])[0] in task_ips
