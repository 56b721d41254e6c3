"""The CLI with people's habits, against a real master and agent: -o yaml and -o wide, aliases,
API advice in CLI words, node show by hostname, completion scripts and manual pages generated
from the command table."""
import json
import os
import subprocess

import pytest
import yaml

from conftest import STRATA, master_and_agent, wait_for


def strata(m, *args, timeout=60, **kw):
    return subprocess.run([STRATA, "--master", m.url, *args], capture_output=True, text=True, timeout=timeout, **kw)


@pytest.fixture
def one(tmpdir_path):
    with master_and_agent(tmpdir_path, extra=["--fake-runtime"], hostname="node-7.example",
                          resources="cpus:2;mem:1000;disk:1000;ports:[31000-31100]") as (m, a):
        yield m, a


def test_yaml_wide_and_aliases(one):
    m, a = one
    m.post("/v2/apps", json={"id": "/web", "cmd": "sleep 1000", "mem": 32, "cpus": 0.1, "labels": {"team": "a"},
                             "constraints": [["hostname", "UNIQUE"]]})
    wait_for(lambda: m.get("/v2/apps/web").json()["app"]["tasksRunning"] == 1, timeout=20, what="/web runs")
    as_json = json.loads(strata(m, "app", "show", "/web", "-o", "json").stdout)
    r = strata(m, "app", "get", "/web", "-o", "yaml")
    assert r.returncode == 0, r.stderr
    assert yaml.safe_load(r.stdout) == as_json
    r = strata(m, "-o", "yaml", "apps", "ls")
    assert [x["id"] for x in yaml.safe_load(r.stdout)] == ["/web"]

    wide = strata(m, "app", "list", "-o", "wide")
    header = wide.stdout.splitlines()[0].split()
    assert header[-2:] == ["LABELS", "CONSTRAINTS"]
    assert wide.stdout.splitlines()[1].split()[-2:] == ["team=a", "hostname:UNIQUE"]

    task = m.get("/v2/apps/web/tasks").json()["tasks"][0]["id"]
    r = strata(m, "task", "ls")
    assert task in r.stdout
    r = strata(m, "node", "show", "node-7.example")
    assert r.returncode == 0, r.stderr
    assert "hostname:" in r.stdout and "node-7.example" in r.stdout
    r = strata(m, "node", "show", "no-such-host")
    assert r.returncode == 1 and r.stderr.startswith("strata: no node with the id or hostname 'no-such-host'")


def test_api_advice_becomes_cli_advice(one):
    m, a = one
    m.post("/v2/apps", json={"id": "/huge", "cmd": "sleep 1000", "mem": 50000, "cpus": 0.1})
    wait_for(lambda: m.get("/v2/deployments").json(), timeout=10, what="a deployment that cannot end")
    r = strata(m, "app", "scale", "/huge", "2")
    assert r.returncode == 1
    assert "Use --force to override." in r.stderr and "?force=true" not in r.stderr, r.stderr
    assert "See 'strata deployment list'." in r.stderr
    r = strata(m, "app", "scale", "/huge", "0", "--force")
    assert r.returncode == 0, r.stderr


def test_bash_completion_is_generated_from_the_command_table(tmpdir_path):
    script = os.path.join(tmpdir_path, "strata.bash")
    with open(script, "w") as f:
        r = subprocess.run([STRATA, "completion", "bash"], stdout=f, text=True)
    assert r.returncode == 0
    assert subprocess.run(["bash", "-n", script]).returncode == 0

    def complete(*words):
        line = " ".join(words)
        prog = (f"source {script}; COMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; _strata; "
                "printf '%s\\n' \"${COMPREPLY[@]}\"")
        return subprocess.run(["bash", "-c", prog], capture_output=True, text=True).stdout.split()

    assert complete("strata", "ap") == ["app"]
    assert complete("strata", "app", "upd") == ["update"]
    assert complete("strata", "--master", "http://x", "app", "w") == ["why"]
    assert "--rollback-on-failure" in complete("strata", "app", "update", "/web", "--roll")
    assert complete("strata", "-o", "ya") == ["yaml"]
    zsh = subprocess.run([STRATA, "completion", "zsh"], capture_output=True, text=True)
    assert zsh.returncode == 0 and "bashcompinit" in zsh.stdout


def test_manual_pages_are_generated_from_the_command_table(tmpdir_path):
    d = os.path.join(tmpdir_path, "man1")
    r = subprocess.run([STRATA, "man", "write", d], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    pages = sorted(os.listdir(d))
    assert "strata.1" in pages and "strata-app.1" in pages and "strata-task.1" in pages
    for p in pages:
        lint = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", os.path.join(d, p)], capture_output=True,
                              text=True)
        assert lint.returncode == 0 and lint.stderr == "", (p, lint.stderr)
    text = subprocess.run(["man", "-l", os.path.join(d, "strata-app.1")], capture_output=True, text=True,
                          env={**os.environ, "MANPAGER": "cat", "MANWIDTH": "100"}).stdout
    assert "strata app why" in text and "Examples:" in text and "--rollback-on-failure" in text.replace("‐", "-")
