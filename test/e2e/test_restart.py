"""Everything acknowledged survives restarts: one master kill -9'd, three masters all stopped,
and enough writes to go through Raft snapshots, so that a restart is snapshot + log replay."""
import concurrent.futures
import os
import time

import pytest
import requests

from conftest import Cluster, Master, free_port

# Their masters mostly run without agents: see conftest.forced_writes.
pytestmark = pytest.mark.usefixtures("forced_writes")


def create_many(url, prefix, n, threads=8):
    def one(i):
        r = requests.post(url + "/v2/apps", json={"id": f"{prefix}/a{i}", "cmd": "sleep 1", "mem": 16 + i % 7,
                                                  "labels": {"i": str(i)}}, timeout=30)
        assert r.status_code == 201, r.text
        return r.json()["id"]
    with concurrent.futures.ThreadPoolExecutor(threads) as ex:
        return set(ex.map(one, range(n)))


def apps(m, stale=False):
    """Every app exactly as the API shows it (definition, version, versionInfo, service ports)."""
    r = m.get("/v2/apps", params={"stale": "true"} if stale else None, timeout=30)
    assert r.status_code == 200, r.text
    return {a["id"]: a for a in r.json()["apps"]}


def versions(m, ids):
    return {i: m.get(f"/v2/apps{i}/versions").json()["versions"] for i in ids}


def snapshots(data_dir):
    found = []
    for root, _, files in os.walk(data_dir):
        found += [f for f in files if f.startswith("snapshot-") and not f.endswith(".meta")]
    return found


def churn(url, prefix, n_apps, n_writes):
    """n_writes updates spread over the apps, some deleted and re-created, through one session."""
    s = requests.Session()
    for i in range(n_writes):
        k = i % n_apps
        if i % 50 == 49:
            assert s.delete(url + f"/v2/apps{prefix}/a{k}", timeout=10).status_code == 200
            r = s.post(url + "/v2/apps", json={"id": f"{prefix}/a{k}", "cmd": f"sleep {i}"}, timeout=10)
            assert r.status_code == 201, r.text
        else:
            r = s.put(url + f"/v2/apps{prefix}/a{k}", json={"instances": i % 5, "env": {"W": str(i)}}, timeout=10)
            assert r.status_code == 200, r.text


@pytest.mark.parametrize("threshold", [None, 64])
def test_single_master_kill9_restart_keeps_apps_and_versions(tmpdir_path, threshold):
    extra = ["--snapshot-threshold", str(threshold)] if threshold else []
    m = Master(os.path.join(tmpdir_path, "m"), free_port(), free_port(), extra=extra).start()
    try:
        m.wait_ready()
        create_many(m.url, "/r", 50)
        for i in range(5):
            assert m.put("/v2/apps/r/a0", json={"mem": 100 + i}).status_code == 200
        if threshold:
            churn(m.url, "/r", 50, 300)
            assert snapshots(m.data_dir), "300+ writes with --snapshot-threshold 64 took no snapshot"
        assert m.delete("/v2/apps/r/a1").status_code == 200
        before = apps(m)
        vers = versions(m, ["/r/a0", "/r/a2", "/r/a49"])
        assert len(before) == 49 and len(vers["/r/a0"]) >= 6
        m.kill9()
        m.start()
        m.wait_ready()
        assert apps(m) == before
        assert versions(m, ["/r/a0", "/r/a2", "/r/a49"]) == vers
        assert m.get("/v2/apps/r/a1").status_code == 404
        # and it keeps working: new versions are newer, service ports stay unique
        r = m.post("/v2/apps", json={"id": "/r/after", "cmd": "sleep 1"})
        assert r.status_code == 201
        taken = {p["port"] for a in before.values() for p in a["portDefinitions"]}
        assert r.json()["portDefinitions"][0]["port"] not in taken
        assert r.json()["version"] > max(a["version"] for a in before.values())
        assert m.post("/v2/apps", json={"id": "/r/a2", "cmd": "sleep 1"}).status_code == 409
        # a second restart (now from whatever the first one wrote) changes nothing either
        after = apps(m)
        m.kill9()
        m.start()
        m.wait_ready()
        assert apps(m) == after
    finally:
        m.stop()


def test_three_masters_all_stopped_and_restarted(tmpdir_path):
    # A small snapshot threshold: 1,000+ entries mean several snapshots on every master, so the
    # restart is the latest snapshot + replay of the log after it.
    c = Cluster(tmpdir_path, extra=["--snapshot-threshold", "128"]).start()
    try:
        leader = c.leader()
        create_many(leader.url, "/s", 150)
        churn(leader.url, "/s", 150, 900)
        before = apps(leader)
        vers = versions(leader, ["/s/a0", "/s/a49", "/s/a149"])
        commit = leader.get("/v1/cluster").json()["commitIndex"]
        assert commit > 128 * 5  # several snapshot intervals (creates may share entries)
        for m in c.masters:
            assert snapshots(m.data_dir), f"{m.url} took no snapshot"
        # all three go down: two hard, one clean
        for m in c.masters[:2]:
            m.kill9()
        c.masters[2].stop()
        c.start()
        leader = c.leader()
        assert apps(leader) == before
        assert versions(leader, ["/s/a0", "/s/a49", "/s/a149"]) == vers
        assert leader.get("/v1/cluster").json()["commitIndex"] >= commit
        for m in c.masters:
            deadline = time.time() + 15
            while apps(m, stale=True) != before:
                assert time.time() < deadline, f"{m.url} did not converge after restart"
                time.sleep(0.1)
        # writes work and are visible everywhere
        r = c.masters[0].post("/v2/apps", json={"id": "/s/new", "cmd": "sleep 1"})
        assert r.status_code == 201, r.text
        for m in c.masters:
            assert m.get("/v2/apps/s/new").status_code == 200
    finally:
        c.stop()


def segments(data_dir):
    """(first, last) Raft indexes of every closed log segment under data_dir."""
    out = []
    for root, _, files in os.walk(data_dir):
        for f in files:
            parts = f.split("-")
            if len(parts) == 2 and all(p.isdigit() and len(p) == 16 for p in parts):
                out.append((int(parts[0]), int(parts[1])))
    return out


def test_follower_far_behind_catches_up_through_a_snapshot(tmpdir_path):
    """A follower that is down while the others write far past their snapshots (more than the 1,024
    entries a snapshot leaves behind) can only catch up by installing the leader's snapshot."""
    c = Cluster(tmpdir_path, extra=["--snapshot-threshold", "64"]).start()
    try:
        leader = c.leader()
        behind = [m for m in c.masters if m is not leader][0]
        behind_at = behind.get("/v1/cluster").json()["lastIndex"]
        behind.kill9()
        create_many(leader.url, "/k", 100)
        churn(leader.url, "/k", 100, 1400)
        want = apps(leader)
        first = min(a for a, _ in segments(leader.data_dir))
        assert first > behind_at + 1, f"the leader still has the log from {first}: no snapshot needed"
        behind.start()
        behind.wait_ready(30)
        deadline = time.time() + 20
        while apps(behind, stale=True) != want:
            assert time.time() < deadline, "the returning follower did not catch up"
            time.sleep(0.1)
        assert snapshots(behind.data_dir)
        # and the follower restarts from what it installed
        behind.kill9()
        behind.start()
        behind.wait_ready(30)
        deadline = time.time() + 10
        while apps(behind, stale=True) != want:
            assert time.time() < deadline, "the follower lost the installed snapshot on restart"
            time.sleep(0.1)
    finally:
        c.stop()


def test_kill9_in_the_middle_of_writes_loses_nothing_acknowledged(tmpdir_path):
    """kill -9 while 8 clients write (so the log ends in whatever was half written): the master
    restarts, and every create it acknowledged is there; unacknowledged ones may or may not be."""
    import threading
    m = Master(os.path.join(tmpdir_path, "m"), free_port(), free_port(), extra=["--snapshot-threshold", "200"]).start()
    try:
        m.wait_ready()
        acked, stop = [], threading.Event()

        def write(w):
            s = requests.Session()
            i = 0
            while not stop.is_set():
                i += 1
                try:
                    r = s.post(m.url + "/v2/apps", json={"id": f"/w{w}/a{i}", "cmd": "sleep 1",
                                                         "env": {"PAD": "x" * 2000}}, timeout=5)
                except requests.RequestException:
                    return
                if r.status_code == 201:
                    acked.append(r.json()["id"])
        threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]
        for t in threads:
            t.start()
        time.sleep(1.5)
        m.kill9()
        stop.set()
        for t in threads:
            t.join(10)
        assert len(acked) > 100
        m.start()
        m.wait_ready()
        have = set(apps(m))
        lost = [a for a in acked if a not in have]
        assert not lost, f"{len(lost)} acknowledged creates lost: {lost[:5]}"
        assert m.post("/v2/apps", json={"id": "/after", "cmd": "sleep 1"}).status_code == 201
    finally:
        m.stop()


def test_all_three_masters_kill9_during_writes_lose_nothing_acknowledged(tmpdir_path):
    import threading
    c = Cluster(tmpdir_path, extra=["--snapshot-threshold", "200"]).start()
    try:
        leader = c.leader()
        acked, stop = [], threading.Event()

        def write(w):
            s = requests.Session()
            i = 0
            while not stop.is_set():
                i += 1
                target = c.masters[(w + i) % 3]
                try:
                    r = s.post(target.url + "/v2/apps", json={"id": f"/w{w}/a{i}", "cmd": "sleep 1"}, timeout=5)
                except requests.RequestException:
                    return
                if r.status_code == 201:
                    acked.append(r.json()["id"])
        threads = [threading.Thread(target=write, args=(w,)) for w in range(6)]
        for t in threads:
            t.start()
        time.sleep(1.5)
        for m in [leader] + [m for m in c.masters if m is not leader]:
            m.kill9()
        stop.set()
        for t in threads:
            t.join(10)
        assert len(acked) > 100
        c.start()
        leader = c.leader()
        have = set(apps(leader))
        lost = [a for a in acked if a not in have]
        assert not lost, f"{len(lost)} acknowledged creates lost: {lost[:5]}"
        for m in c.masters:
            deadline = time.time() + 15
            while set(apps(m, stale=True)) != have:
                assert time.time() < deadline, f"{m.url} did not converge"
                time.sleep(0.1)
    finally:
        c.stop()
