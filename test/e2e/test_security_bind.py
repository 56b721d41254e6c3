"""A second master on an address already in use fails with a clear error instead of sharing the
port with the first (SO_REUSEPORT let both answer, alternately)."""
import os

from conftest import Master, free_port


def _second(tmpdir_path, http_port, raft_port):
    m = Master(os.path.join(tmpdir_path, "second"), http_port, raft_port).start()
    try:
        rc = m.proc.wait(10)
    finally:
        m.stop()
    return rc, m.log()


def test_second_master_on_the_same_http_port_fails(master, tmpdir_path):
    rc, log = _second(tmpdir_path, master.http_port, free_port())
    assert rc != 0
    assert f"cannot listen for HTTP on 127.0.0.1:{master.http_port}: address already in use" in log, log
    # the first master alone answers, every time
    data_dir = master.get("/v1/cluster").json()
    for _ in range(20):
        assert master.get("/ping").status_code == 200
        assert master.get("/v1/cluster").json() == data_dir


def test_second_master_on_the_same_raft_port_fails(master, tmpdir_path):
    rc, log = _second(tmpdir_path, free_port(), master.raft_port)
    assert rc != 0
    assert f"cannot listen for Raft on 127.0.0.1:{master.raft_port}: address already in use" in log, log
    assert master.get("/ping").status_code == 200
