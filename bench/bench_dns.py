#!/usr/bin/python3
"""DNS query throughput and latency: Strata's agent DNS against unbound, same records, one core each.

1. Starts a master and an agent (--fake-runtime: tasks that only pretend to run), creates
   apps of one instance each (groups of 1000) until they make --records A names, and waits until
   the agent's DNS serves them (through the real path: Raft, the discovery view streamed to the
   agent, its zone); the names are those the agent lists in /v1/enumerate.
2. Writes the same names as a zone file (SOA, NS, one A record each) and serves it with unbound
   (auth-zone, one thread).
3. Runs dnsperf against each, the server pinned to core --server-core and dnsperf to
   --client-core (taskset), for --seconds, over the same query file (every name once, shuffled,
   repeated by dnsperf); prints qps, latency and the ratio, and the load average.
4. Freshness: scales one of the apps 0 -> 1 -> 0 (--freshness rounds) and times each change from
   the API's answer to the agent's DNS answering it (A record, then NXDOMAIN), polled every 1 ms.

Targets (issue 11): at least unbound's qps, >= 50,000 qps on one core, freshness p99 <= 1 s."""
import argparse
import json
import os
import random
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_api import machine  # noqa: E402


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


def ask(port, name):
    """One A question over UDP: (rcode, answer count), or None on timeout."""
    qid = random.randrange(65536)
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(p)]) + p.encode() for p in name.strip(".").split(".")) + b"\0\0\1\0\1"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(1)
        s.sendto(q, ("127.0.0.1", port))
        try:
            r = s.recv(4096)
        except socket.timeout:
            return None
    return r[3] & 15, struct.unpack(">H", r[6:8])[0]


def freshness(api, dport, app_id, name, rounds):
    """Scales one app 0 -> 1 -> 0 rounds times; per change, the time from the API call's answer to
    the agent's DNS answering accordingly (polled every 1 ms)."""
    up, down = [], []
    for _ in range(rounds):
        for instances, want, out in ((1, lambda r: r and r[1] > 0, up), (0, lambda r: r and r[0] == 3, down)):
            st, body = http("PUT", f"{api}/v2/apps{app_id}?force=true", {"instances": instances})
            assert st == 200, (st, body)
            t0 = time.time()
            while not want(ask(dport, name)):
                if time.time() - t0 > 10:
                    raise RuntimeError(f"{name} did not change within 10 s")
                time.sleep(0.001)
            out.append(time.time() - t0)
    return up, down


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--records", type=int, default=10000)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--freshness", type=int, default=50, help="scale 0->1->0 rounds for the freshness figures")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--server-core", type=int, default=0)
    ap.add_argument("--client-core", type=int, default=1)
    ap.add_argument("--smoke", action="store_true", help="1,000 records, 3 s runs, 5 freshness rounds")
    a = ap.parse_args()
    if a.smoke:
        a.records, a.seconds, a.rounds, a.freshness = 1000, 3, 1, 5
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
        # Each task gives 6 to 9 A names (Mesos-DNS's, its canonical and slave names, DC/OS's): enough
        # apps for --records names; an agent checkpoints (fsyncs) every task it runs, so fewer tasks
        # load faster.
        n_apps = a.records // 6 + 1
        probe = []
        t0 = time.time()
        for g in range((n_apps + 999) // 1000):
            apps = []
            for i in range(g * 1000, min(n_apps, (g + 1) * 1000)):
                apps.append({"id": f"app{i}", "cmd": "sleep 1000", "instances": 1, "cpus": 0.01, "mem": 1,
                             "portDefinitions": []})
                probe.append(f"app{i}-g{g}-bench.marathon.mesos.")
            st, body = http("POST", api + "/v2/groups", {"id": f"/bench/g{g}", "apps": apps}, timeout=120)
            assert st in (200, 201), (st, str(body)[:300])
        progress = {"next": time.time() + 10}

        def served():
            for n in probe[::97] + [probe[-1]]:
                st, hosts = http("GET", f"http://127.0.0.1:{ahttp}/v1/hosts/{n}")
                if st != 200 or hosts[0]["ip"] != "127.0.0.1":
                    if time.time() > progress["next"]:
                        progress["next"] = time.time() + 10
                        print(f"  {time.time() - t0:.0f} s: waiting for {n}", flush=True)
                    return False
            return len(http("GET", f"http://127.0.0.1:{ahttp}/v1/enumerate")[1]["frameworks"][0]["tasks"]) == n_apps
        wait_until(served, 900, "all apps served")
        # the records the agent serves: the first --records A names of /v1/enumerate
        names = []
        seen = set()
        for t in http("GET", f"http://127.0.0.1:{ahttp}/v1/enumerate")[1]["frameworks"][0]["tasks"]:
            for r in t["records"]:
                if r["rtype"] == "A" and r["name"].endswith(".mesos.") and r["name"] not in seen:
                    seen.add(r["name"])
                    names.append(r["name"])
        names = names[:a.records]
        assert len(names) == a.records, len(names)
        load_s = time.time() - t0
        print(f"{n_apps} apps placed, running and in the agent's DNS in {load_s:.1f} s; {len(names)} A names",
              flush=True)

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
        # warm both, then alternate them --rounds times (the machine is shared: a burst of other
        # work then hits both); each server's figures are those of its median-qps round
        servers = (("strata", dport), ("unbound", uport))
        for name, p in servers:
            dnsperf(p, queries, 2, a.client_core, a.clients)
        runs = {name: [] for name, _ in servers}
        for _ in range(a.rounds):
            for name, p in servers:
                runs[name].append(dnsperf(p, queries, a.seconds, a.client_core, a.clients))
        results = {name: sorted(rs, key=lambda r: r["qps"] or 0)[len(rs) // 2] for name, rs in runs.items()}
        load_after = os.getloadavg()
        rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True).stdout.strip()
        ub = subprocess.run(["unbound", "-V"], capture_output=True, text=True).stdout.splitlines()[0]
        print(f"machine: {machine()}; commit {rev}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
        print(f"load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
              f"after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")
        print(f"{a.records} A records; dnsperf -c {a.clients} -q 500 -l {a.seconds} on core {a.client_core}, "
              f"servers on core {a.server_core}; {ub}; {a.rounds} alternating rounds, median shown")
        for name, rs in runs.items():
            print(f"  {name} qps per round: " + ", ".join(f"{r['qps']:.0f}" for r in rs))
        print("| server | qps | avg latency ms | max ms | stddev ms | lost |")
        print("| --- | --- | --- | --- | --- | --- |")
        for name, r in results.items():
            print(f"| {name} | {r['qps']:.0f} | {r['avg_ms']:.3f} | {r['max_ms']:.2f} | {r['stddev_ms']:.3f} | "
                  f"{r['lost']:.0f} |")
        ratio = results["strata"]["qps"] / results["unbound"]["qps"]
        print(f"strata / unbound qps: {ratio:.2f}")
        if a.freshness:
            # unbound is done: give the master and the agent the machine back
            unbound.terminate()
            up, down = freshness(api, dport, "/bench/g0/app0", probe[0], a.freshness)
            print(f"freshness with {n_apps} apps ({a.freshness} rounds; PUT answered -> DNS answers):")
            print("| change | p50 ms | p99 ms | max ms |")
            print("| --- | --- | --- | --- |")
            for what, xs in (("scale 0 -> 1: placed, launched, TASK_RUNNING committed, A record served", up),
                             ("scale 1 -> 0: kill decided, NXDOMAIN served", down)):
                print(f"| {what} | {pct(xs, 50) * 1000:.1f} | {pct(xs, 99) * 1000:.1f} | {max(xs) * 1000:.1f} |")
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
        if os.environ.get("BENCH_KEEP"):
            print("kept", base)
        else:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
