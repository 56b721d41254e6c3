"""`strata cluster status` asks every master for its own view: a stopped master shows as
unreachable, not as a healthy follower."""
import subprocess

from conftest import STRATA, wait_for


def test_a_stopped_master_shows_as_unreachable(cluster):
    leader = cluster.leader()
    down = next(m for m in cluster.masters if m is not leader)
    down.kill9()
    r = subprocess.run([STRATA, "--master", leader.url, "cluster", "status"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    rows = {line.split()[2]: line for line in r.stdout.splitlines()[3:] if line.strip()}
    assert f"127.0.0.1:{down.http_port}" in rows, r.stdout
    assert "unreachable: cannot reach master at" in rows[f"127.0.0.1:{down.http_port}"]
    live = rows[f"127.0.0.1:{leader.http_port}"].split()
    assert live[3:5] == ["leader", "leader"], r.stdout
