#!/usr/bin/env python3
"""Container benchmark, side by side in one run (a master and an agent, OCI runtime, runc):

1. Launch latency: POST /v2/apps with a busybox container (host network) → TASK_RUNNING in the
   master's API, and → the container's first output line in its sandbox; versus `runc run` by
   hand of the same bundle (the config.json Strata generated, on a copy of the image directory)
   → its first output line. The ratio is the agent's overhead.
2. Throughput: N sequential short containers (`true`): by hand with `runc run`, and through
   Strata as app create → RUNNING/FINISHED → delete → gone.

Needs root, runc and busybox-static. Appends a table to bench/RESULTS.md.

    python3 bench/bench_containers.py [--runs 20] [--seq 100] [--smoke]
"""
import argparse
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "test", "e2e"))
from bench_api import ROOT, machine  # noqa: E402
from conftest import Agent, Master, free_port, wait_for  # noqa: E402
from test_containers import make_image  # noqa: E402


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def first_line_of(proc, deadline=30):
    end = time.time() + deadline
    line = proc.stdout.readline()
    if not line or time.time() > end:
        raise RuntimeError("no output from the container")
    return line


def strata_launch(m, a, image, i):
    """POST → RUNNING (API) and → first output (sandbox), in seconds."""
    app = {"id": f"/bench-{i}", "cmd": "echo started; exec sleep 1000", "cpus": 0.1, "mem": 32,
           "container": {"type": "MESOS", "docker": {"image": "file://" + image}}}
    t0 = time.time()
    assert m.post("/v2/apps", json=app).status_code == 201
    running = output = None
    task = None
    while running is None or output is None:
        if running is None:
            ts = m.get(f"/v2/apps/bench-{i}/tasks").json().get("tasks", [])
            if ts and ts[0]["state"] == "TASK_RUNNING":
                running = time.time() - t0
                task = ts[0]["id"]
        if task and output is None:
            r = requests.get(a.url + "/files/read", params={"task": task, "file": "stdout"}, timeout=5)
            if r.ok and "started" in r.json()["data"]:
                output = time.time() - t0
        if time.time() - t0 > 60:
            raise RuntimeError("launch timed out")
        time.sleep(0.005)
    m.delete(f"/v2/apps/bench-{i}", params={"force": "true"})
    wait_for(lambda: task not in [x["taskId"] for x in a.state()["tasks"]], timeout=60, what="removed")
    return running, output


def hand_bundle(base, a, m, image):
    """The bundle Strata generated for a container, re-pointed at a plain copy of the image."""
    app = {"id": "/bundle-src", "cmd": "echo started; exec sleep 1000", "cpus": 0.1, "mem": 32,
           "container": {"type": "MESOS", "docker": {"image": "file://" + image}}}
    m.post("/v2/apps", json=app)
    t = wait_for(lambda: [x for x in a.state()["tasks"] if x["state"] == "TASK_RUNNING"], timeout=60,
                 what="bundle source")[0]
    cfg = json.load(open(os.path.join(a.data_dir, "containers", t["taskId"], "config.json")))
    m.delete("/v2/apps/bundle-src", params={"force": "true"})
    wait_for(lambda: not a.state()["tasks"], timeout=60, what="bundle source removed")
    bundle = os.path.join(base, "bundle")
    shutil.copytree(image, os.path.join(bundle, "rootfs"), symlinks=True)
    os.makedirs(os.path.join(bundle, "sandbox"))
    cfg["root"]["path"] = "rootfs"
    cfg["linux"]["cgroupsPath"] = f"/strata-bench-hand-{os.getpid()}"
    for mnt in cfg["mounts"]:
        if mnt["destination"] == "/mnt/mesos/sandbox":
            mnt["source"] = os.path.join(bundle, "sandbox")
    return bundle, cfg


def runc_run(bundle, cfg, root, name, args):
    cfg = json.loads(json.dumps(cfg))
    cfg["process"]["args"] = args
    with open(os.path.join(bundle, "config.json"), "w") as f:
        json.dump(cfg, f)
    return subprocess.Popen(["runc", "--root", root, "run", "--bundle", bundle, name], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--seq", type=int, default=100)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args()
    if args.smoke:
        args.runs, args.seq = 3, 5
    base = tempfile.mkdtemp(prefix="strata-bench-ctr-")
    image = make_image(base)
    m = Master(os.path.join(base, "m"), free_port(), free_port()).start()
    m.wait_ready()
    a = Agent(os.path.join(base, "a"), [m], resources="cpus:2;mem:4000;disk:1000;ports:[47000-47099]").start()
    wait_for(lambda: len(m.get("/v1/nodes").json()["nodes"]) == 1, what="agent")
    try:
        load = os.getloadavg()[0]
        strata_running, strata_output = [], []
        for i in range(args.runs):
            r, o = strata_launch(m, a, image, i)
            strata_running.append(r)
            strata_output.append(o)

        bundle, cfg = hand_bundle(base, a, m, image)
        root = os.path.join(base, "runc-root")
        hand = []
        for i in range(args.runs):
            t0 = time.time()
            p = runc_run(bundle, cfg, root, f"hand-{i}", ["sh", "-c", "echo started; exec sleep 1000"])
            first_line_of(p)
            hand.append(time.time() - t0)
            subprocess.run(["runc", "--root", root, "kill", f"hand-{i}", "KILL"], capture_output=True)
            p.wait(30)
            subprocess.run(["runc", "--root", root, "delete", "--force", f"hand-{i}"], capture_output=True)

        t0 = time.time()
        for i in range(args.seq):
            p = runc_run(bundle, cfg, root, f"seq-{i}", ["true"])
            p.wait(30)
        hand_rate = args.seq / (time.time() - t0)

        t0 = time.time()
        for i in range(args.seq):
            app = {"id": f"/seq-{i}", "cmd": "true", "cpus": 0.1, "mem": 32,
                   "container": {"type": "MESOS", "docker": {"image": "file://" + image}}}
            assert m.post("/v2/apps", json=app).status_code == 201
            wait_for(lambda: any(x["state"] in ("TASK_RUNNING", "TASK_FINISHED") for x in a.state()["tasks"]),
                     timeout=60, interval=0.005, what="seq container started")
            m.delete(f"/v2/apps/seq-{i}", params={"force": "true"})
            wait_for(lambda: not a.state()["tasks"], timeout=60, interval=0.005, what="seq container gone")
        strata_rate = args.seq / (time.time() - t0)
    finally:
        a.stop()
        m.stop()

    def ms(x):
        return f"{x * 1000:.0f}"

    rows = [
        ("launch → TASK_RUNNING (API)", strata_running, None),
        ("launch → first output line", strata_output, hand),
    ]
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    out = [f"\n## Containers (bench/bench_containers.py) — {datetime.date.today()}, commit {commit}\n",
           f"Machine: {machine()}; load average {load:.2f} at the start. runc "
           f"{subprocess.run(['runc', '--version'], capture_output=True, text=True).stdout.split()[2]}, "
           f"busybox image as a local single-layer directory, host network. {args.runs} launches each; "
           f"{args.seq} sequential short containers (`true`).\n",
           "| measure | Strata p50 / p90 ms | runc by hand p50 / p90 ms | ratio (p50) |",
           "| --- | --- | --- | --- |"]
    for name, s, h in rows:
        hs = f"{ms(pct(h, 50))} / {ms(pct(h, 90))}" if h else "—"
        ratio = f"{pct(s, 50) / pct(h, 50):.1f}×" if h else "—"
        out.append(f"| {name} | {ms(pct(s, 50))} / {ms(pct(s, 90))} | {hs} | {ratio} |")
    out.append(f"| sequential short containers per second | {strata_rate:.1f}/s (create → started → delete → gone) "
               f"| {hand_rate:.1f}/s (`runc run true`) | {hand_rate / strata_rate:.1f}× |")
    text = "\n".join(out) + "\n"
    print(text)
    if not args.no_record and not args.smoke:
        with open(os.path.join(ROOT, "bench", "RESULTS.md"), "a") as f:
            f.write(text)
    shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
