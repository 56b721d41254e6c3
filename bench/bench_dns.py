#!/usr/bin/python3
"""DNS query throughput and latency: Strata's agent DNS against unbound, same records, one core each.

1. Starts a master and an agent (--fake-runtime: tasks that only pretend to run), creates
   --records apps of one instance each (groups of 1000), and waits until the agent's DNS serves
   every `<app>.marathon.mesos` A record (through the real path: Raft, the discovery view
   streamed to the agent, its zone).
2. Writes the same names as a zone file (SOA, NS, one A record each) and serves it with unbound
   (auth-zone, one thread).
3. Runs dnsperf against each, the server pinned to core --server-core and dnsperf to
   --client-core (taskset), for --seconds, over the same query file (every name once, shuffled,
   repeated by dnsperf); prints qps, latency and the ratio, and the load average.

Targets (issue 11): at least unbound's qps, and >= 50,000 qps on one core."""
import argparse
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, timeout=60):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def wait_until(fn, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if fn():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("timed out: " + what)


def dnsperf(port, queries, seconds, client_core, clients):
    cmd = ["taskset", "-c", str(client_core), "dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", queries,
           "-l", str(seconds), "-c", str(clients), "-q", "500", "-t", "2"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60).stdout

    def num(pattern):
        m = re.search(pattern, out)
        return float(m.group(1)) if m else None
    return {"qps": num(r"Queries per second:\s+([\d.]+)"), "lost": num(r"Queries lost:\s+(\d+)"),
            "completed": num(r"Queries completed:\s+(\d+)"),
            "avg_ms": (num(r"Average Latency \(s\):\s+([\d.]+)") or 0) * 1000,
            "max_ms": (num(r"max ([\d.]+)\)") or 0) * 1000,
            "stddev_ms": (num(r"Latency StdDev \(s\):\s+([\d.]+)") or 0) * 1000, "raw": out}


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores, {model}, Linux {os.uname().release}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--records", type=int, default=10000)
    ap.add_argument("--seconds", type=int, default=15)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--server-core", type=int, default=0)
    ap.add_argument("--client-core", type=int, default=1)
    ap.add_argument("--smoke", action="store_true", help="1,000 records, 3 s runs")
    a = ap.parse_args()
    if a.smoke:
        a.records, a.seconds = 1000, 3
    for tool in ("dnsperf", "unbound", "taskset"):
        if not shutil.which(tool):
            sys.exit(f"bench_dns: {tool} is not installed (make deps)")
    strata = os.path.join(a.build, "strata")
    base = tempfile.mkdtemp(prefix="strata-bench-dns-")
    procs = []
    try:
        port, dport = free_port(), free_port()
        mlog = open(os.path.join(base, "master.log"), "wb")
        procs.append(subprocess.Popen(["taskset", "-c", str(a.client_core), strata, "master", "--data-dir",
                                       os.path.join(base, "m"), "--http", f"127.0.0.1:{port}", "--raft",
                                       f"127.0.0.1:{free_port()}", "--log-level", "warn"], stdout=mlog, stderr=mlog))
        api = f"http://127.0.0.1:{port}"
        wait_until(lambda: http("GET", api + "/v1/cluster")[1].get("state") == "leader", 30, "leader")
        alog = open(os.path.join(base, "agent.log"), "wb")
        ahttp = free_port()
        procs.append(subprocess.Popen(["taskset", "-c", str(a.server_core), strata, "agent", "--master", api,
                                       "--data-dir", os.path.join(base, "a"), "--http", f"127.0.0.1:{ahttp}",
                                       "--fake-runtime", "--log-level", "warn", "--resources",
                                       f"cpus:{a.records};mem:{a.records * 2};disk:1000;ports:[31000-31001]",
                                       "--dns", f"127.0.0.1:{dport}", "--dns-upstream", "127.0.0.1:9"],
                                      stdout=alog, stderr=alog))
        wait_until(lambda: len(http("GET", api + "/v1/nodes")[1]["nodes"]) == 1, 30, "agent")
        names = []
        t0 = time.time()
        for g in range((a.records + 999) // 1000):
            apps = []
            for i in range(g * 1000, min(a.records, (g + 1) * 1000)):
                apps.append({"id": f"app{i}", "cmd": "sleep 1000", "instances": 1, "cpus": 0.01, "mem": 1,
                             "portDefinitions": []})
                names.append(f"app{i}-g{g}-bench.marathon.mesos.")
            st, body = http("POST", api + "/v2/groups", {"id": f"/bench/g{g}", "apps": apps}, timeout=120)
            assert st in (200, 201), (st, str(body)[:300])

        def served():
            st, hosts = http("GET", f"http://127.0.0.1:{ahttp}/v1/hosts/{names[-1]}")
            return st == 200 and hosts[0]["ip"] == "127.0.0.1" and \
                len(http("GET", f"http://127.0.0.1:{ahttp}/v1/enumerate")[1]["frameworks"][0]["tasks"]) == a.records
        wait_until(served, 600, "all records served")
        load_s = time.time() - t0
        print(f"{a.records} apps placed, running and in the agent's DNS in {load_s:.1f} s", flush=True)

        queries = os.path.join(base, "queries.txt")
        shuffled = names[:]
        random.shuffle(shuffled)
        with open(queries, "w") as f:
            f.writelines(f"{n} A\n" for n in shuffled)

        zone = os.path.join(base, "mesos.zone")
        with open(zone, "w") as f:
            f.write("$ORIGIN mesos.\n$TTL 60\n@ IN SOA ns1.mesos. root.ns1.mesos. 1 60 600 86400 60\n"
                    "@ IN NS ns1.mesos.\nns1 IN A 127.0.0.1\n")
            f.writelines(f"{n} 60 IN A 127.0.0.1\n" for n in names)
        uport = free_port()
        conf = os.path.join(base, "unbound.conf")
        with open(conf, "w") as f:
            f.write(f"""server:
  interface: 127.0.0.1@{uport}
  do-daemonize: no
  num-threads: 1
  username: ""
  chroot: ""
  directory: "{base}"
  pidfile: "{base}/unbound.pid"
  use-syslog: no
  logfile: ""
  verbosity: 0
  access-control: 127.0.0.0/8 allow
  do-ip6: no
  so-reuseport: no
auth-zone:
  name: "mesos."
  zonefile: "{zone}"
  for-downstream: yes
  for-upstream: no
""")
        ulog = open(os.path.join(base, "unbound.log"), "wb")
        unbound = subprocess.Popen(["taskset", "-c", str(a.server_core), "unbound", "-d", "-c", conf],
                                   stdout=ulog, stderr=ulog)
        procs.append(unbound)

        def unbound_up():
            out = subprocess.run(["dig", "@127.0.0.1", "-p", str(uport), "+short", names[0]], capture_output=True,
                                 text=True, timeout=5).stdout
            return "127.0.0.1" in out
        wait_until(unbound_up, 30, "unbound serving")

        load_before = os.getloadavg()
        results = {}
        # warm both, then measure each in turn
        for name, p in (("strata", dport), ("unbound", uport)):
            dnsperf(p, queries, 2, a.client_core, a.clients)
        for name, p in (("strata", dport), ("unbound", uport)):
            results[name] = dnsperf(p, queries, a.seconds, a.client_core, a.clients)
        load_after = os.getloadavg()
        rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True).stdout.strip()
        ub = subprocess.run(["unbound", "-V"], capture_output=True, text=True).stdout.splitlines()[0]
        print(f"machine: {machine()}; commit {rev}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
        print(f"load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
              f"after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")
        print(f"{a.records} A records; dnsperf -c {a.clients} -q 500 -l {a.seconds} on core {a.client_core}, "
              f"servers on core {a.server_core}; {ub}")
        print("| server | qps | avg latency ms | max ms | stddev ms | lost |")
        print("| --- | --- | --- | --- | --- | --- |")
        for name, r in results.items():
            print(f"| {name} | {r['qps']:.0f} | {r['avg_ms']:.3f} | {r['max_ms']:.2f} | {r['stddev_ms']:.3f} | "
                  f"{r['lost']:.0f} |")
        ratio = results["strata"]["qps"] / results["unbound"]["qps"]
        print(f"strata / unbound qps: {ratio:.2f}")
        with open(os.path.join(base, "results.json"), "w") as f:
            json.dump({k: {x: y for x, y in v.items() if x != "raw"} for k, v in results.items()}, f)
        for name, r in results.items():
            if not r["qps"]:
                print(r["raw"])
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
