"""Containers end to end: apps with container.docker.image run under runc from a local busybox
image directory (an overlay lower layer the test builds from Debian's busybox-static): HTTP on a
bridge-mapped port, logs, isolation, the pids limit, exec, agent restart, cleanup."""
import os
import random
import re
import shutil
import subprocess
import time

import pytest
import requests

from conftest import STRATA, Agent, Master, free_port, remove_all_apps, running_tasks, wait_for

BUSYBOX = "/bin/busybox"
CAP_SYS_ADMIN = 21


def require(cond, why):
    # Never skip silently: a machine that lacks what containers need fails with the reason.
    if not cond:
        pytest.fail(f"containers cannot be tested here: {why}")


def make_image(base):
    """A busybox rootfs as a single-layer local image: /bin/* applets, /etc/passwd, /www."""
    require(os.path.exists(BUSYBOX), f"{BUSYBOX} missing (Debian busybox-static; `make deps`)")
    root = os.path.join(base, "image")
    for d in ("bin", "etc", "www", "tmp", "root"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    shutil.copy(BUSYBOX, os.path.join(root, "bin", "busybox"))
    applets = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True, check=True).stdout.split()
    for a in applets:
        p = os.path.join(root, "bin", a)
        if not os.path.exists(p):
            os.symlink("busybox", p)
    with open(os.path.join(root, "etc", "passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")
    with open(os.path.join(root, "etc", "group"), "w") as f:
        f.write("root:x:0:\nnogroup:x:65534:\n")
    with open(os.path.join(root, "www", "index.html"), "w") as f:
        f.write("hello from a strata container\n")
    return root


@pytest.fixture
def ctr(tmpdir_path):
    require(shutil.which("runc"), "runc is not installed (`make deps`)")
    require(os.path.exists("/usr/lib/cni/bridge"), "CNI plugins missing (containernetworking-plugins)")
    image = make_image(tmpdir_path)
    m = Master(os.path.join(tmpdir_path, "m"), free_port(), free_port()).start()
    m.wait_ready()
    n = random.randint(10, 250)
    bridge = f"stt{os.getpid() % 10000}{n}"[:15]
    # A port range of its own: other suites' agents on this machine use 31000-31100.
    lo = random.randrange(42000, 48000, 100)
    a = Agent(os.path.join(tmpdir_path, "a1"), [m], resources=f"cpus:2;mem:2000;disk:1000;ports:[{lo}-{lo + 99}]",
              extra=["--cni-bridge", bridge, "--cni-subnet", f"10.{n}.{random.randint(0, 255)}.0/24"]).start()
    wait_for(lambda: len(m.get("/v1/nodes").json()["nodes"]) == 1, what="agent registration")
    yield m, a, image
    remove_all_apps(m, a)
    a.stop()
    m.stop()
    subprocess.run(["ip", "link", "del", bridge], capture_output=True)


def container_app(app_id, image, cmd, bridge_ports=None, **extra):
    app = {"id": app_id, "cmd": cmd, "cpus": 0.1, "mem": 64, "instances": 1,
           "container": {"type": "MESOS", "docker": {"image": "file://" + image}}}
    if bridge_ports is not None:
        app["networks"] = [{"mode": "container/bridge"}]
        app["container"]["portMappings"] = [{"containerPort": p, "hostPort": 0} for p in bridge_ports]
    app.update(extra)
    return app


def one_running(m, app_id, timeout=30):
    return wait_for(lambda: running_tasks(m, app_id), timeout=timeout, what=f"{app_id} running")[0]


def read_file(a, task_id, name):
    r = requests.get(a.url + "/files/read", params={"task": task_id, "file": name}, timeout=5)
    return r.json()["data"] if r.status_code == 200 else ""


def wait_output(a, task_id, pattern, timeout=20, name="stdout"):
    return wait_for(lambda: re.search(pattern, read_file(a, task_id, name)), timeout=timeout,
                    what=f"{pattern!r} in {name} of {task_id}")


def test_container_serves_http_on_a_bridge_mapped_port_and_logs_are_readable(ctr):
    m, a, image = ctr
    r = m.post("/v2/apps", json=container_app(
        "/web", image, "echo serving on $PORT0; exec httpd -f -v -p 8080 -h /www", bridge_ports=[8080]))
    assert r.status_code == 201, r.text
    t = one_running(m, "/web")
    port = t["ports"][0]
    body = wait_for(lambda: requests.get(f"http://127.0.0.1:{port}/", timeout=2).text, timeout=20,
                    what="HTTP through the port mapping")
    assert body == "hello from a strata container\n"
    wait_output(a, t["id"], rf"serving on {port}")
    # httpd -v logs each response on stderr, which is the sandbox's stderr file
    wait_output(a, t["id"], r"response:200", name="stderr")
    out = subprocess.run([STRATA, "--master", m.url, "task", "log", t["id"]], capture_output=True, text=True)
    assert "serving on" in out.stdout, out.stderr


def test_isolation_processes_caps_filesystem(ctr, tmpdir_path):
    m, a, image = ctr
    volume = os.path.join(tmpdir_path, "vol")
    os.makedirs(volume)
    marker = f"/etc/strata-marker-{os.getpid()}"
    cmd = ("echo procs=$(ls /proc | grep -c '^[0-9]*$'); grep CapEff /proc/self/status; "
           f"echo inside > {marker} && echo rootfs_write=ok; "
           "echo v > /data/v && echo volume_write=ok; "
           "echo s > $MESOS_SANDBOX/s && echo sandbox_write=ok; "
           "mount -t tmpfs none /mnt 2>/dev/null && echo mount=ok || echo mount=denied; "
           "echo 1 > /proc/sys/kernel/ns_last_pid 2>/dev/null && echo procsys=rw || echo procsys=ro; "
           "echo done; exec sleep 1000")
    app = container_app("/iso", image, cmd)
    app["container"]["volumes"] = [{"containerPath": "/data", "hostPath": volume, "mode": "RW"}]
    r = m.post("/v2/apps", json=app)
    assert r.status_code == 201, r.text
    t = one_running(m, "/iso")
    wait_output(a, t["id"], r"done")
    out = read_file(a, t["id"], "stdout")
    procs = int(re.search(r"procs=(\d+)", out).group(1))
    assert procs <= 4, f"the container sees {procs} processes: {out}"
    cap_eff = int(re.search(r"CapEff:\s*([0-9a-f]+)", out).group(1), 16)
    assert not cap_eff & (1 << CAP_SYS_ADMIN), out
    assert cap_eff != 0  # Docker's default set, not nothing
    assert "rootfs_write=ok" in out and "volume_write=ok" in out and "sandbox_write=ok" in out, out
    assert "mount=denied" in out and "procsys=ro" in out, out
    # writes landed in the upper layer, the volume and the sandbox: not on the host, not in the image
    assert not os.path.exists(marker)
    assert not os.path.exists(os.path.join(image, marker.lstrip("/")))
    assert open(os.path.join(volume, "v")).read() == "v\n"
    sandbox = next(x["sandbox"] for x in a.state()["tasks"] if x["taskId"] == t["id"])
    assert open(os.path.join(sandbox, "s")).read() == "s\n"


def cgroup_pids_dir(task_id):
    """The task's directory in the v1 pids hierarchy (<mount>/<cgroup parent>/<task id>)."""
    for line in open("/proc/self/mountinfo"):
        f = line.split()
        if " - cgroup " in line and "pids" in f[-1].split(","):
            for parent in os.listdir(f[4]):
                d = os.path.join(f[4], parent, task_id)
                if os.path.isdir(d):
                    return d
    return None


def test_fork_bomb_is_stopped_by_the_pids_limit_and_the_agent_stays_responsive(ctr):
    m, a, image = ctr
    app = container_app("/bomb", image, "echo bombing; b() { b | b & }; b; sleep 1000")
    app["container"]["type"] = "DOCKER"  # docker.parameters are for the DOCKER type
    app["container"]["docker"]["parameters"] = [{"key": "pids-limit", "value": "64"}]
    assert m.post("/v2/apps", json=app).status_code == 201
    t = one_running(m, "/bomb")
    wait_output(a, t["id"], "bombing")
    pids_dir = wait_for(lambda: cgroup_pids_dir(t["id"]), what="the task's pids cgroup")
    assert open(os.path.join(pids_dir, "pids.max")).read().strip() == "64"
    # the limit is hit (fork fails inside) ...
    wait_for(lambda: int(open(os.path.join(pids_dir, "pids.events")).read().split()[1]) > 0, timeout=20,
             what="pids.max reached")
    assert int(open(os.path.join(pids_dir, "pids.current")).read()) <= 64
    # ... while the agent answers and still launches tasks
    t0 = time.time()
    assert a.state()["tasks"]
    assert time.time() - t0 < 2
    assert m.post("/v2/apps", json={"id": "/calm", "cmd": "sleep 1000", "cpus": 0.1, "mem": 16}).status_code == 201
    one_running(m, "/calm")
    # and killing the bomb ends every process in it
    assert m.delete("/v2/apps/bomb").status_code == 200
    wait_for(lambda: t["id"] not in [x["taskId"] for x in a.state()["tasks"]], timeout=30, what="bomb removed")


def test_agent_restart_keeps_the_container_and_delete_cleans_up(ctr):
    m, a, image = ctr
    assert m.post("/v2/apps", json=container_app("/keep", image, "exec httpd -f -p 8080 -h /www",
                                                 bridge_ports=[8080])).status_code == 201
    t = one_running(m, "/keep")
    port = t["ports"][0]
    wait_for(lambda: requests.get(f"http://127.0.0.1:{port}/", timeout=2).ok, timeout=20, what="HTTP")
    pid = next(x["pid"] for x in a.state()["tasks"] if x["taskId"] == t["id"])
    a.kill9()
    assert requests.get(f"http://127.0.0.1:{port}/", timeout=2).ok  # serves with the agent down
    a.start()
    wait_for(lambda: a.state()["subscribed"], what="resubscribed")
    time.sleep(1)
    after = running_tasks(m, "/keep")
    assert [x["id"] for x in after] == [t["id"]] and after[0]["startedAt"] == t["startedAt"]
    assert next(x["pid"] for x in a.state()["tasks"] if x["taskId"] == t["id"]) == pid
    bundle = os.path.join(a.data_dir, "containers", t["id"])
    assert os.path.isdir(bundle)
    assert m.delete("/v2/apps/keep").status_code == 200
    wait_for(lambda: not os.path.exists(bundle), timeout=30, what="bundle removed")
    assert bundle not in open("/proc/self/mountinfo").read()
    with pytest.raises(requests.RequestException):
        requests.get(f"http://127.0.0.1:{port}/", timeout=1)


def test_image_that_cannot_be_resolved_fails_the_task_with_the_reason(ctr):
    m, a, image = ctr
    app = container_app("/noimg", image, "true")
    app["container"]["docker"]["image"] = "file:///nonexistent/image"
    assert m.post("/v2/apps", json=app).status_code == 201
    msg = wait_for(lambda: [u for u in open(a.log_path).read().splitlines() if "nonexistent" in u],
                   timeout=20, what="launch failure logged")
    assert "is not a directory" in msg[0]


def strata_exec(m, task_id, *cmd):
    return subprocess.run([STRATA, "--master", m.url, "task", "exec", task_id, "--", *cmd], capture_output=True,
                          text=True, timeout=30)


def test_task_exec_runs_inside_the_container_and_a_native_task_with_their_exit_codes(ctr):
    m, a, image = ctr
    assert m.post("/v2/apps", json=container_app("/box", image, "echo hi > /tmp/inside; exec sleep 1000")).status_code == 201
    assert m.post("/v2/apps", json={"id": "/nat", "cmd": "echo native > marker; exec sleep 1000",
                                    "cpus": 0.1, "mem": 16, "env": {"GREETING": "hello"}}).status_code == 201
    box = one_running(m, "/box")
    nat = one_running(m, "/nat")
    # inside the container: its filesystem and its pid namespace
    r = wait_for(lambda: (lambda p: p.returncode == 0 and "hi" in p.stdout and p)(
        strata_exec(m, box["id"], "sh", "-c", "cat /tmp/inside; cat /proc/1/comm")), timeout=15, what="exec output")
    assert r.stdout.split() == ["hi", "sleep"], r  # pid 1 is the task: its pid namespace
    r = strata_exec(m, box["id"], "sh", "-c", "echo out; echo err >&2; exit 7")
    assert r.returncode == 7 and r.stdout == "out\n" and "err" in r.stderr, r
    # a native task: its sandbox as cwd, its env, its cgroup
    r = strata_exec(m, nat["id"], "sh", "-c", "cat marker; echo $GREETING; cat /proc/self/cgroup | grep pids")
    assert r.returncode == 0, r
    lines = r.stdout.splitlines()
    assert lines[0] == "native" and lines[1] == "hello" and nat["id"] in lines[2], r
    assert strata_exec(m, nat["id"], "false").returncode == 1
    # bad requests are clear
    r = requests.post(a.url + f"/v1/tasks/{box['id']}/exec", json={"cmd": []}, timeout=5)
    assert r.status_code == 400
    r = requests.post(a.url + "/v1/tasks/nope/exec", json={"cmd": ["true"]}, timeout=5)
    assert r.status_code == 404
