"""A LIKE/UNLIKE constraint cannot stall the master: patterns over the regex budget are refused
with Marathon's 422 at the constraint's path, fast, and /ping answers meanwhile."""
import threading
import time

import requests

from conftest import wait_for  # noqa: F401  (fixtures come from conftest)

PATHOLOGICAL = "(a*)*" * 23 + "b"  # 117 bytes; held glibc regcomp for 8.5 s


def app(constraint, app_id="/regex-bomb"):
    return {"id": app_id, "cmd": "sleep 1000", "cpus": 0.1, "mem": 16, "instances": 0,
            "constraints": [["hostname", "UNIQUE"], constraint]}


def test_pathological_like_is_422_within_100ms(master):
    t0 = time.monotonic()
    r = master.post("/v2/apps", json=app(["rack", "LIKE", PATHOLOGICAL]))
    took = time.monotonic() - t0
    assert r.status_code == 422, r.text
    assert took < 0.1, f"took {took * 1000:.0f} ms"
    body = r.json()
    detail = [d for d in body["details"] if d["path"] == "/constraints(1)"]
    assert detail, body
    assert "regular expression budget" in detail[0]["errors"][0]
    # nothing was created
    assert master.get("/v2/apps/regex-bomb").status_code == 404


def test_unlike_and_put_are_checked_too(master):
    r = master.put("/v2/apps/regex-bomb", json=app(["rack", "UNLIKE", "(x|xx)+y"]))
    assert r.status_code == 422, r.text
    assert any(d["path"] == "/constraints(1)" for d in r.json()["details"])


def test_ping_never_waits_behind_it(master):
    stop = threading.Event()
    worst = [0.0]
    errors = []

    def ping():
        while not stop.is_set():
            t0 = time.monotonic()
            try:
                assert requests.get(master.url + "/ping", timeout=2).status_code == 200
            except Exception as e:  # noqa: BLE001 — reported below
                errors.append(e)
            worst[0] = max(worst[0], time.monotonic() - t0)
            time.sleep(0.005)

    th = threading.Thread(target=ping)
    th.start()
    try:
        for i in range(20):
            pattern = "(a*)*" * (23 + i % 4) + "b"
            assert master.post("/v2/apps", json=app(["rack", "LIKE", pattern], f"/bomb-{i}")).status_code == 422
    finally:
        stop.set()
        th.join()
    assert not errors, errors
    assert worst[0] < 0.5, f"/ping waited {worst[0] * 1000:.0f} ms"


def test_java_patterns_are_accepted_and_match_the_whole_value(master):
    ok = app(["rack", "LIKE", "rack-(\\d+)|(?!prod)[a-z]+"], "/regex-ok")
    r = master.post("/v2/apps", json=ok)
    assert r.status_code == 201, r.text
    assert master.get("/v2/apps/regex-ok").json()["app"]["constraints"][1] == \
        ["rack", "LIKE", "rack-(\\d+)|(?!prod)[a-z]+"]
    r = master.post("/v2/apps", json=app(["rack", "LIKE", "(unclosed"], "/regex-bad"))
    assert r.status_code == 422
    assert any(d["path"] == "/constraints(1)" and d["errors"] == ["is not a valid regular expression"]
               for d in r.json()["details"]), r.text
