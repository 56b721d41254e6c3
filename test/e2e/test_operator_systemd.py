"""`make install` puts the binary, the systemd units, man pages and bash completion in place, and
`systemd-analyze verify` accepts both units as installed (no systemd runs PID 1 in the test
environment, so the units are verified rather than started)."""
import os
import shutil
import subprocess

import pytest

from conftest import ROOT


def test_make_install_and_the_units_verify(tmpdir_path):
    if not shutil.which("systemd-analyze"):
        pytest.fail("systemd-analyze is missing (Debian: systemd)")
    dest = os.path.join(tmpdir_path, "root")
    r = subprocess.run(["make", "-C", ROOT, "-o", "build", "install", f"DESTDIR={dest}"], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    binary = os.path.join(dest, "usr/local/bin/strata")
    assert os.access(binary, os.X_OK)
    units = os.path.join(dest, "lib/systemd/system")
    assert sorted(os.listdir(units)) == ["strata-agent.service", "strata-master.service"]
    man = os.path.join(dest, "usr/local/share/man")
    assert os.path.exists(os.path.join(man, "man1", "strata.1"))
    assert os.path.exists(os.path.join(dest, "usr/local/share/bash-completion/completions/strata"))

    agent = open(os.path.join(units, "strata-agent.service")).read()
    assert "\nKillMode=process\n" in agent  # tasks outlive their agent
    for unit in ("strata-master.service", "strata-agent.service"):
        # the staged copy, pointing at the staged binary
        text = open(os.path.join(units, unit)).read().replace("/usr/local/bin/strata", binary)
        staged = os.path.join(tmpdir_path, unit)
        with open(staged, "w") as f:
            f.write(text)
        v = subprocess.run(["systemd-analyze", "verify", staged], capture_output=True, text=True,
                           env={**os.environ, "MANPATH": man})
        assert v.returncode == 0 and v.stderr.strip() == "", (unit, v.stderr)
    # the daemons accept the flags the units give them
    r = subprocess.run([binary, "agent", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "--data-dir" in r.stdout


def test_an_agent_from_a_config_file_and_the_environment(master, tmpdir_path):
    from conftest import STRATA, free_port, wait_for
    port = free_port()
    cfg = os.path.join(tmpdir_path, "agent.toml")
    with open(cfg, "w") as f:
        f.write(f'# the agent of a test\nmaster = "{master.url}"\ndata-dir = "{tmpdir_path}/a"\n'
                f'http = "127.0.0.1:{port}"\nresources = "cpus:1.5;mem:700;disk:100;ports:[33000-33010]"\n'
                f'fake-runtime = true\ndns = off\n')
    env = {**os.environ, "STRATA_AGENT_HOSTNAME": "cfg-host"}
    p = subprocess.Popen([STRATA, "agent", "--config", cfg, "--attributes", "rack:r9"], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        node = wait_for(lambda: master.get("/v1/nodes").json()["nodes"], timeout=20, what="the agent")[0]
        assert node["hostname"] == "cfg-host" and node["attributes"] == {"rack": "r9"}
        assert (node["resources"]["cpus"], node["resources"]["mem"]) == (1.5, 700)
    finally:
        p.terminate()
        p.wait(10)
    bad = os.path.join(tmpdir_path, "bad.toml")
    with open(bad, "w") as f:
        f.write("master = http://x\nnonsense\n")
    r = subprocess.run([STRATA, "agent", "--config", bad], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.strip().endswith("line 2: expected KEY = VALUE")
