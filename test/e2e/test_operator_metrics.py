"""Daemons operators can run: every daemon's /metrics is valid Prometheus text (promtool check
metrics, from Debian's prometheus package), carries process_* and strata_build_info, has no
series that double-counts another, and the agent counts its tasks, launches and failures."""
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
    ms = samples(m.get("/metrics").text)
    assert ms["strata_agents_registered"] == 1 and ms["strata_agents_active"] == 1
    assert ms['strata_instances{state="running"}'] == 1
