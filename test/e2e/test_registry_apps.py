"""Apps whose image comes from a registry: Debian's docker-registry on loopback, a busybox image
built and pushed by the test (registry.py), run by the agent's OCI runtime through its image
store — HTTP on a bridge-mapped port, logs, the image released when the task goes, a tampered
blob failing the task, a registry with basic auth (agent --registry-config, the app's
pullConfig)."""
import os
import random
import subprocess

import pytest
import requests

from conftest import Agent, Master, free_port, remove_all_apps, running_tasks, wait_for
from registry import Registry, dir_layer, docker_config, missing, sha, tar_layer
from test_containers import make_image, one_running, require, wait_output

WEB_CONFIG = {"config": {"Cmd": ["httpd", "-f", "-v", "-p", "8080", "-h", "/www"], "Env": ["PATH=/bin"],
                         "WorkingDir": "/www"}}


@pytest.fixture
def cluster(tmpdir_path):
    require(missing() is None, str(missing()))
    require(subprocess.run(["which", "runc"], capture_output=True).returncode == 0, "runc is not installed")
    require(os.path.exists("/usr/lib/cni/bridge"), "CNI plugins missing (containernetworking-plugins)")
    m = Master(os.path.join(tmpdir_path, "m"), free_port(), free_port()).start()
    m.wait_ready()
    n = random.randint(10, 250)
    bridge = f"str{os.getpid() % 10000}{n}"[:15]
    lo = random.randrange(42000, 48000, 100)
    prefix = f"10.{n}.{random.randint(0, 255)}."
    a = Agent(os.path.join(tmpdir_path, "a1"), [m], resources=f"cpus:2;mem:2000;disk:1000;ports:[{lo}-{lo + 99}]",
              extra=["--cni-bridge", bridge, "--cni-subnet", prefix + "0/24"])
    started = []

    def start(*flags):
        a.extra = a.extra[:4] + list(flags)
        a.start()
        started.append(a)
        wait_for(lambda: a.state()["subscribed"], what="agent subscribed")
        return a

    start.subnet_prefix = prefix
    yield m, start, tmpdir_path
    if started and a.proc.poll() is None:  # without a running agent, the master's apps go with it
        remove_all_apps(m, a, timeout=30)
    a.stop()
    m.stop()
    subprocess.run(["ip", "link", "del", bridge], capture_output=True)


def web_image(registry, base, name="demo/web", tags=("1",)):
    """Pushes the busybox web image under every tag; returns (refs, layer, manifest digest)."""
    root = make_image(os.path.join(base, "img-" + name.replace("/", "-")))
    layer, mt = dir_layer(root)
    digest, body = registry.push_image(name, tags[0], [(layer, mt)], config=dict(WEB_CONFIG))
    for tag in tags[1:]:
        registry.push_manifest(name, tag, body, "application/vnd.oci.image.manifest.v1+json")
    return [f"{registry.host}/{name}:{tag}" for tag in tags], layer, digest


def registry_app(app_id, image, **extra):
    app = {"id": app_id, "cpus": 0.1, "mem": 64, "instances": 1,
           "container": {"type": "MESOS", "docker": {"image": image},
                         "portMappings": [{"containerPort": 8080, "hostPort": 0}]},
           "networks": [{"mode": "container/bridge"}]}
    app.update(extra)
    return app


def last_failure(m, app_id, timeout=60):
    return wait_for(lambda: m.get(f"/v2/apps{app_id}").json()["app"].get("lastTaskFailure"), timeout=timeout,
                    what=f"a failed task of {app_id}")


def images(a):
    return {x["ref"]: x for x in requests.get(a.url + "/v1/images", timeout=5).json()["images"]}


def test_registry_image_serves_http_logs_and_is_released(cluster):
    m, start, base = cluster
    reg = Registry(base)
    try:
        [ref], layer, digest = web_image(reg, base)
        a = start()
        r = m.post("/v2/apps", json=registry_app("/web", ref))
        assert r.status_code == 201, r.text
        t = one_running(m, "/web", timeout=90)
        port = t["ports"][0]
        body = wait_for(lambda: requests.get(f"http://127.0.0.1:{port}/", timeout=2).text, timeout=20,
                        what="HTTP through the port mapping")
        assert body == "hello from a strata container\n"
        wait_output(a, t["id"], r"response:200", name="stderr")  # the image's Cmd: httpd -v
        # the container's own IP (its bridge subnet), in Marathon's task and in Mesos' state
        [ip] = t["ipAddresses"]
        assert ip["protocol"] == "IPv4" and ip["ipAddress"].startswith(start.subnet_prefix), t
        [mt] = [x for x in m.get("/master/state").json()["frameworks"][0]["tasks"] if x["id"] == t["id"]]
        infos = mt["statuses"][0]["container_status"]["network_infos"]
        assert infos == [{"ip_addresses": [{"protocol": "IPv4", "ip_address": ip["ipAddress"]}]}], mt
        assert reg.blob_gets(sha(layer)) == 1
        img = images(a)[ref]
        assert img["digest"] == digest and img["in_use"] == 1
        # a second instance shares the pulled image: no more blob traffic
        assert m.put("/v2/apps/web", json={"instances": 2}).status_code == 200
        wait_for(lambda: len(running_tasks(m, "/web")) == 2, timeout=60, what="two instances")
        assert reg.blob_gets(sha(layer)) == 1 and images(a)[ref]["in_use"] == 2
        # the image is released with the tasks: gc can reclaim its layers
        assert m.delete("/v2/apps/web").status_code == 200
        wait_for(lambda: not a.state()["tasks"], timeout=30, what="tasks removed")
        wait_for(lambda: images(a)[ref]["in_use"] == 0, timeout=10, what="image released")
        gc = requests.post(a.url + "/v1/images/gc", params={"maxAge": 0}, timeout=30).json()
        assert gc["layersRemoved"] == 1 and gc["refsRemoved"] == 1, gc
        assert ref not in images(a)
        layer_dir = os.path.join(a.data_dir, "images/layers/sha256", sha(layer).split(":")[1])
        assert not os.path.exists(layer_dir)
    finally:
        reg.stop()


def test_tampered_blob_fails_the_task_with_the_reason(cluster):
    m, start, base = cluster
    reg = Registry(base)
    try:
        layer, mt = tar_layer([("hello", "file", b"hello world\n")])
        reg.push_image("demo/bad", "1", [(layer, mt)], config=dict(WEB_CONFIG))
        path = reg.blob_file(sha(layer))
        data = bytearray(open(path, "rb").read())
        data[-1] ^= 0xFF
        open(path, "wb").write(bytes(data))
        start()
        assert m.post("/v2/apps", json=registry_app("/bad", f"{reg.host}/demo/bad:1")).status_code == 201
        failure = last_failure(m, "/bad")
        assert failure["state"] == "TASK_FAILED"
        assert f"blob {sha(layer)} digest mismatch (got sha256:" in failure["message"], failure
    finally:
        reg.stop()


def test_registry_with_auth(cluster):
    m, start, base = cluster
    reg = Registry(base, users={"alice": "s3cret"})
    try:
        # one tag per case: a ref already in the store is used without asking the registry
        (ref, ref2, ref3, ref4), _, _ = web_image(reg, base, name="team/web", tags=("1", "2", "3", "4"))
        creds = os.path.join(base, "registry-config.json")
        with open(creds, "w") as f:
            f.write(docker_config(reg.host, "alice", "s3cret"))
        # the agent's --registry-config
        a = start("--registry-config", creds)
        assert m.post("/v2/apps", json=registry_app("/priv", ref)).status_code == 201
        t = one_running(m, "/priv", timeout=90)
        wait_for(lambda: requests.get(f"http://127.0.0.1:{t['ports'][0]}/", timeout=2).ok, timeout=20, what="HTTP")
        # an app's pullConfig wins over the agent's: wrong credentials fail clearly
        bad = registry_app("/wrong", ref2, secrets={"pull": {"source": docker_config(reg.host, "alice", "x")}})
        bad["container"]["docker"]["pullConfig"] = {"secret": "pull"}
        assert m.post("/v2/apps", json=bad).status_code == 201
        msg = last_failure(m, "/wrong")["message"]
        assert f"registry {reg.host} refused the credentials for user 'alice'" in msg, msg
        for app in ("/priv", "/wrong"):
            m.delete(f"/v2/apps{app}", params={"force": "true"})
        wait_for(lambda: not a.state()["tasks"], timeout=30, what="tasks removed")
        a.stop()

        # without credentials: a clear failure; with the app's pullConfig: it runs
        a = start()
        assert m.post("/v2/apps", json=registry_app("/anon", ref3)).status_code == 201
        msg = last_failure(m, "/anon")["message"]
        assert f"registry {reg.host} requires credentials" in msg, msg
        good = registry_app("/pc", ref4, secrets={"pull": {"source": docker_config(reg.host, "alice", "s3cret")}})
        good["container"]["docker"]["pullConfig"] = {"secret": "pull"}
        assert m.post("/v2/apps", json=good).status_code == 201
        one_running(m, "/pc", timeout=90)
        # a secret the agent cannot resolve (a secret-store path) says so
        store = registry_app("/store", ref3, secrets={"pull": {"source": "/team/registry-creds"}})
        store["container"]["docker"]["pullConfig"] = {"secret": "pull"}
        assert m.post("/v2/apps", json=store).status_code == 201
        msg = last_failure(m, "/store")["message"]
        assert "pullConfig secret 'pull'" in msg and "no secret store" in msg, msg
    finally:
        reg.stop()
