"""Escape attempts from a container run as an ordinary app (no privileged grant): each denied —
raw sockets (CAP_NET_RAW is dropped), a user namespace, mounts, writing /proc/sys, a setuid
binary, and another task's sandbox (not visible)."""
import re

from conftest import wait_for
from test_containers import container_app, ctr, one_running, read_file  # noqa: F401  (ctr: the fixture)

ATTEMPTS = ("ping -c 1 -W 1 127.0.0.1 >/dev/null 2>&1 && echo raw=ok || echo raw=denied; "
            "unshare -U true 2>/dev/null && echo userns=ok || echo userns=denied; "
            "unshare -m true 2>/dev/null && echo mountns=ok || echo mountns=denied; "
            "mount -t tmpfs none /mnt 2>/dev/null && echo mount=ok || echo mount=denied; "
            "echo 1 > /proc/sys/net/ipv4/ip_forward 2>/dev/null && echo procsys=rw || echo procsys=ro; "
            "cp /bin/busybox /tmp/id && chmod u+s /tmp/id && su nobody -s /bin/sh -c '/tmp/id -u' 2>&1 | "
            "  sed 's/^/setuid=/'; "
            "ls /proc/1/root/ >/dev/null 2>&1; ls -d $MESOS_SANDBOX/../* 2>/dev/null | wc -l | sed 's/^/siblings=/'; "
            "echo done; exec sleep 1000")


def test_escape_attempts_from_a_container_are_denied(ctr):
    m, a, image = ctr
    r = m.post("/v2/apps", json=container_app("/victim", image, "echo secret-data > $MESOS_SANDBOX/mine; "
                                              "exec sleep 1000"))
    assert r.status_code == 201, r.text
    victim = one_running(m, "/victim")
    r = m.post("/v2/apps", json=container_app("/escape", image, ATTEMPTS))
    assert r.status_code == 201, r.text
    t = one_running(m, "/escape")
    out = wait_for(lambda: (lambda o: o if "done" in o else None)(read_file(a, t["id"], "stdout")), timeout=30,
                   what="the attempts' output")
    for verdict in ("raw=denied", "userns=denied", "mountns=denied", "mount=denied", "procsys=ro"):
        assert verdict in out, out
    # the setuid copy does not make nobody root (no_new_privileges)
    assert re.search(r"^setuid=65534$", out, re.M), out
    # the other task's sandbox is not reachable from inside: only our own sandbox is mounted
    assert "secret-data" not in out
    assert re.search(r"^siblings=[01]$", out, re.M), out
    assert victim["id"] not in out
