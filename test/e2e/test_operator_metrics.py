"""Daemons operators can run: every daemon's /metrics is valid Prometheus text (promtool check
metrics, from Debian's prometheus package), carries process_* and strata_build_info, has no
series that double-counts another, and the agent counts its tasks, launches and failures."""
import json
import re
import subprocess

import pytest
import requests

from conftest import master_and_agent, wait_for


def promtool(text):
    return subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)


def samples(text):
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


@pytest.fixture
def one(tmpdir_path):
    with master_and_agent(tmpdir_path) as (m, a):
        yield m, a


def test_every_daemon_serves_valid_metrics_with_process_and_build_info(one):
    m, a = one
    m.post("/v2/apps", json={"id": "/ok", "cmd": "sleep 1000", "mem": 32, "cpus": 0.1})
    m.post("/v2/apps", json={"id": "/bad", "cmd": "exit 3", "mem": 32, "cpus": 0.1, "backoffSeconds": 600})
    wait_for(lambda: m.get("/v2/apps/ok").json()["app"]["tasksRunning"] == 1, timeout=30, what="/ok runs")
    wait_for(lambda: m.get("/v2/apps/bad").json()["app"].get("lastTaskFailure"), timeout=30, what="/bad fails")

    for daemon, url in (("master", m.url), ("agent", a.url)):
        r = requests.get(url + "/metrics", timeout=5)
        assert r.status_code == 200
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        check = promtool(r.text)
        assert check.returncode == 0 and check.stdout == "" and check.stderr == "", (daemon, check.stdout,
                                                                                      check.stderr)
        s = samples(r.text)
        for family in ("process_cpu_seconds_total", "process_resident_memory_bytes", "process_virtual_memory_bytes",
                       "process_open_fds", "process_max_fds", "process_start_time_seconds"):
            assert family in s, (daemon, family)
        assert s["process_resident_memory_bytes"] > 1e6 and s["process_open_fds"] > 3
        assert s[f'strata_build_info{{version="0.1.0",daemon="{daemon}"}}'] == 1
        # no "all" series beside the per-state ones: sum() over a family counts each thing once
        assert not re.search(r'state="all"', r.text), daemon

    s = samples(requests.get(a.url + "/metrics", timeout=5).text)
    assert s['strata_agent_tasks{state="TASK_RUNNING"}'] == 1
    assert s["strata_agent_task_launches_total"] >= 2
    failures = {k: v for k, v in s.items() if k.startswith("strata_agent_task_failures_total")}
    assert sum(failures.values()) >= 1, failures
    assert s["strata_agent_subscribed"] == 1
    # request latency histograms: the POSTs above on the master, the scrapes on the agent
    assert s['strata_http_request_duration_seconds_count{method="GET",code="2xx"}'] >= 1
    ms = samples(m.get("/metrics").text)
    posts = ms['strata_http_request_duration_seconds_count{method="POST",code="2xx"}']
    assert posts >= 2  # the two apps, and the agent's status updates
    assert ms['strata_http_request_duration_seconds_bucket{method="POST",code="2xx",le="+Inf"}'] == posts
    assert ms["strata_agents_registered"] == 1 and ms["strata_agents_active"] == 1
    assert ms['strata_instances{state="running"}'] == 1


def test_json_logs_parse_line_by_line_and_carry_request_ids(tmpdir_path):
    with master_and_agent(tmpdir_path, master_extra=["--log-format", "json", "--log-level", "debug"],
                          extra=["--log-format", "json"]) as (m, a):
        r = m.post("/v2/apps", json={"id": "/j", "cmd": "sleep 1000", "mem": 32, "cpus": 0.1},
                   headers={"X-Request-Id": "ci-build-42"})
        assert r.status_code == 201 and r.headers["X-Request-Id"] == "ci-build-42"
        own = m.get("/v2/apps").headers["X-Request-Id"]
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]+", own)
        wait_for(lambda: m.get("/v2/apps/j").json()["app"]["tasksRunning"] == 1, timeout=30, what="/j runs")
        for proc in (m, a):
            lines = [ln for ln in open(proc.log_path).read().splitlines() if ln.strip()]
            assert lines, proc.log_path
            docs = [json.loads(ln) for ln in lines]  # every line is one JSON object
            for d in docs:
                assert set(d) <= {"ts", "level", "msg", "request"} and d["level"] in ("debug", "info", "warn", "error")
        docs = [json.loads(ln) for ln in open(m.log_path).read().splitlines() if ln.strip()]
        assert any(d.get("request") == "ci-build-42" and "POST /v2/apps" in d["msg"] for d in docs)
        assert any(d.get("request") == own for d in docs)
        agent_docs = [json.loads(ln) for ln in open(a.log_path).read().splitlines() if ln.strip()]
        assert any("TASK_RUNNING" in d["msg"] and d["msg"].startswith("task j.instance-") for d in agent_docs)


def test_strata_dev_passes_agent_flags_to_its_agent(tmpdir_path):
    import os
    from conftest import Master, free_port
    cg = f"strata-devtest-{os.getpid()}"
    m = Master(os.path.join(tmpdir_path, "dev"), free_port(), free_port(), dev=True,
               extra=["--agent-http", f"127.0.0.1:{free_port()}", "--dns", "off", "--cgroup-parent", cg,
                      "--resources", "cpus:1.5;mem:700;disk:100;ports:[33000-33010]", "--sandbox-keep=2"]).start()
    try:
        m.wait_ready()
        nodes = wait_for(lambda: m.get("/v1/nodes").json()["nodes"], timeout=20, what="the built-in agent")
        res = nodes[0]["resources"]
        assert (res["cpus"], res["mem"], res["disk"]) == (1.5, 700, 100)
    finally:
        m.stop()
