"""Everything acknowledged survives restarts: one master kill -9'd, three masters all stopped,
and enough writes to go through a Raft snapshot."""
import concurrent.futures
import os
import time

import requests

from conftest import Cluster, Master, free_port


def create_many(url, prefix, n, threads=16):
    def one(i):
        r = requests.post(url + "/v2/apps", json={"id": f"{prefix}/a{i}", "cmd": "sleep 1", "mem": 16 + i % 7},
                          timeout=30)
        assert r.status_code == 201, r.text
        return r.json()["id"]
    with concurrent.futures.ThreadPoolExecutor(threads) as ex:
        return set(ex.map(one, range(n)))


def snapshot_stale(m):
    apps = m.get("/v2/apps", params={"stale": "true"}).json()["apps"]
    return {a["id"]: (a["version"], a["mem"], a["portDefinitions"][0]["port"]) for a in apps}


def snapshot(m):
    apps = m.get("/v2/apps").json()["apps"]
    return {a["id"]: (a["version"], a["mem"], a["portDefinitions"][0]["port"]) for a in apps}


def test_single_master_kill9_restart_keeps_apps_and_versions(tmpdir_path):
    m = Master(os.path.join(tmpdir_path, "m"), free_port(), free_port()).start()
    m.wait_ready()
    create_many(m.url, "/r", 50)
    for i in range(5):
        assert m.put("/v2/apps/r/a0", json={"mem": 100 + i}).status_code == 200
    before = snapshot(m)
    versions = m.get("/v2/apps/r/a0/versions").json()["versions"]
    m.kill9()
    m.start()
    m.wait_ready()
    assert snapshot(m) == before
    assert m.get("/v2/apps/r/a0/versions").json()["versions"] == versions
    # and it keeps working: service ports stay unique
    r = m.post("/v2/apps", json={"id": "/r/after", "cmd": "sleep 1"})
    assert r.status_code == 201
    assert r.json()["portDefinitions"][0]["port"] not in {v[2] for v in before.values()}
    m.stop()


def test_three_masters_all_stopped_and_restarted(tmpdir_path):
    # A small snapshot threshold: 1,500+ entries mean several snapshots, so restart = the
    # latest snapshot + replay of the log after it, on every master.
    c = Cluster(tmpdir_path, extra=["--snapshot-threshold", "256"]).start()
    leader = c.leader()
    create_many(leader.url, "/s", 200)
    s = requests.Session()
    for i in range(1500):
        r = s.put(leader.url + f"/v2/apps/s/a{i % 200}", json={"instances": i % 5}, timeout=10)
        assert r.status_code == 200, r.text
    before = snapshot(leader)
    commit = leader.get("/v1/cluster").json()["commitIndex"]
    for m in c.masters[:2]:
        m.kill9()
    c.masters[2].stop()
    c.start()
    leader = c.leader()
    assert snapshot(leader) == before
    assert leader.get("/v1/cluster").json()["commitIndex"] > commit
    assert any(f.startswith("snapshot-") for m in c.masters for f in os.listdir(os.path.join(m.data_dir, "master", "raft"))
               ) or any(f.startswith("snapshot-") for m in c.masters for f in os.listdir(os.path.join(m.data_dir, "master")))
    for m in c.masters:
        deadline = time.time() + 10
        while snapshot_stale(m) != before:
            assert time.time() < deadline, f"{m.url} did not converge after restart"
            time.sleep(0.1)
    c.stop()
