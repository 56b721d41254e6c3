#!/usr/bin/python3
"""What authentication costs per API call: the same load (ApacheBench, keep-alive) against a
master with --auth off and one with tokens on, side by side. Two reads: GET /v2/apps/<id> (a
small handler, where the token check weighs most) and GET /v2/apps over 100 apps.

Off and on alternate for --rounds rounds; the medians are reported.

usage: bench/bench_auth.py [--build build] [--requests 20000] [--concurrency 16] [--rounds 5]"""
import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(strata, base, name, extra):
    http, raft = free_port(), free_port()
    log = open(os.path.join(base, name + ".log"), "ab")
    p = subprocess.Popen([strata, "master", "--data-dir", os.path.join(base, name), "--http", f"127.0.0.1:{http}",
                          "--raft", f"127.0.0.1:{raft}", "--log-level", "warn", *extra], stdout=log,
                         stderr=subprocess.STDOUT)
    return p, f"http://127.0.0.1:{http}"


def req(url, method="GET", body=None, token=None):
    r = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body is not None else None)
    r.add_header("Content-Type", "application/json")
    if token:
        r.add_header("Authorization", f"token={token}")
    with urllib.request.urlopen(r, timeout=10) as resp:
        return resp.status


def cpu_s(pid):
    """User + system CPU seconds the process has used (/proc/PID/stat fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ab(url, n, c, token, pid):
    cmd = ["ab", "-q", "-k", "-n", str(n), "-c", str(c)]
    if token:
        cmd += ["-H", f"Authorization: token={token}"]
    before = cpu_s(pid)
    out = subprocess.run(cmd + [url], capture_output=True, text=True, timeout=600).stdout
    cpu_us = (cpu_s(pid) - before) * 1e6 / n
    rps = float(re.search(r"Requests per second:\s+([\d.]+)", out).group(1))
    p99 = int(re.search(r"\s99%\s+(\d+)", out).group(1))
    failed = int(re.search(r"Failed requests:\s+(\d+)", out).group(1))
    non2xx = re.search(r"Non-2xx responses:\s+(\d+)", out)
    return rps, p99, failed + (int(non2xx.group(1)) if non2xx else 0), cpu_us


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--requests", type=int, default=20000)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    strata = os.path.abspath(os.path.join(args.build, "strata"))
    base = tempfile.mkdtemp(prefix="strata-bench-auth-")
    env_cfg = os.path.join(base, "auth.json")
    os.environ["STRATA_CONFIG"] = env_cfg
    key, pub = os.path.join(base, "admin.pem"), os.path.join(base, "admin.pub")
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", key], check=True, capture_output=True)
    subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-out", pub], check=True, capture_output=True)
    procs = []
    try:
        p_off, off = start(strata, base, "off", ["--auth", "off"])
        p_on, on = start(strata, base, "on", ["--bootstrap-admin-key", pub])
        procs += [p_off, p_on]
        token = None
        deadline = time.time() + 20
        while time.time() < deadline and not token:
            subprocess.run([strata, "--master", on, "auth", "login", "--service-account", "admin", "--private-key",
                            key], capture_output=True)
            t = subprocess.run([strata, "--master", on, "auth", "token"], capture_output=True, text=True)
            token = t.stdout.strip() if t.returncode == 0 else None
            time.sleep(0.1)
        assert token, "no token from the master"
        for url, tok in ((off, None), (on, token)):
            for i in range(100):
                req(f"{url}/v2/apps", "POST", {"id": f"/bench/app-{i}", "cmd": "sleep 1", "cpus": 0.01, "mem": 8,
                                              "instances": 0}, tok)
        rows = []
        for path in ("/v2/apps/bench/app-7", "/v2/apps"):
            n = args.requests if path != "/v2/apps" else args.requests // 10
            # alternate off/on rounds and keep the medians: a busy machine drifts between rounds
            offs, ons = [], []
            for _ in range(args.rounds):
                offs.append(ab(off + path, n, args.concurrency, None, p_off.pid))
                ons.append(ab(on + path, n, args.concurrency, token, p_on.pid))
            med = lambda xs: tuple(sorted(x[k] for x in xs)[len(xs) // 2] for k in range(4))
            rows.append((path, med(offs), med(ons)))
        print("| request | auth off: req/s, p99 ms, master CPU µs/req | auth on: req/s, p99 ms, master CPU µs/req "
              "| throughput change | CPU change |")
        print("| --- | --- | --- | --- | --- |")
        for path, a, b in rows:
            print(f"| GET {path} | {a[0]:.0f}, {a[1]}, {a[3]:.1f} | {b[0]:.0f}, {b[1]}, {b[3]:.1f} "
                  f"| {100 * (b[0] - a[0]) / a[0]:+.1f} % | {100 * (b[3] - a[3]) / a[3]:+.1f} % |")
            if a[2] or b[2]:
                print(f"  (failed or non-2xx: off {a[2]}, on {b[2]})")
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
