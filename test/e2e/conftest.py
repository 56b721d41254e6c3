"""Fixtures for end-to-end tests: real `strata` processes on loopback, killed for real."""
import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest
import requests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STRATA = os.environ.get("STRATA_BIN", os.path.join(ROOT, "build", "strata"))
# The team's shared fixtures sit beside the repository (CI: a fresh clone with shared/ beside it).
FIXTURES = os.environ.get("STRATA_FIXTURES") or next(
    (p for p in (os.path.join(os.path.dirname(ROOT), "shared", "research", "fixtures"),
                 "/work/shared/research/fixtures") if os.path.isdir(p)),
    os.path.join(os.path.dirname(ROOT), "shared", "research", "fixtures"))


def _ephemeral_range():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = (int(x) for x in f.read().split())
            return lo, hi
    except (OSError, ValueError):
        return 32768, 60999


_used_ports = set()


def free_port():
    """A loopback port nobody listens on, taken outside the kernel's ephemeral range.

    Ports from bind(0) come from the ephemeral range, which outgoing connections (the tests' own
    clients, Raft peers) also draw from: between picking such a port and the master binding it,
    a client connection may take it, and the master fails with EADDRINUSE. Ports below the
    ephemeral range are only ever taken by explicit binds."""
    lo, hi = _ephemeral_range()
    top = lo - 1 if lo > 21000 else 65535
    bottom = 20001 if lo > 21000 else hi + 1
    for _ in range(1000):
        port = random.randint(bottom, top)
        if port in _used_ports:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _used_ports.add(port)
        return port
    raise RuntimeError("no free port")


class Master:
    """One `strata master` (or `strata dev`) process with its own data dir and ports."""

    def __init__(self, data_dir, http_port, raft_port, masters=None, dev=False, log=None, extra=None):
        self.extra = extra or []
        self.data_dir = data_dir
        self.http_port = http_port
        self.raft_port = raft_port
        self.masters = masters
        self.dev = dev
        self.proc = None
        self.log_path = log or os.path.join(data_dir + ".log")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def raft_addr(self):
        return f"127.0.0.1:{self.raft_port}"

    def start(self):
        cmd = [STRATA, "dev" if self.dev else "master", "--data-dir", self.data_dir,
               "--http", f"127.0.0.1:{self.http_port}", "--raft", self.raft_addr,
               "--bootstrap-admin-key", AUTH_PUBLIC_KEY]  # the session's admin (see the end of this file)
        if self.masters:
            cmd += ["--masters", ",".join(self.masters)]
        cmd += self.extra
        self.logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=self.logf, stderr=subprocess.STDOUT)
        return self

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if getattr(self, "logf", None):
            self.logf.close()
            self.logf = None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def request(self, method, path, **kw):
        kw.setdefault("timeout", 10)
        return requests.request(method, self.url + path, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def patch(self, path, **kw):
        return self.request("PATCH", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def session_delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def wait_ready(self, timeout=15):
        """Until this master answers /ping and knows a leader."""
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"master exited with {self.proc.returncode}; log:\n" + self.log())
            try:
                r = requests.get(self.url + "/v2/leader", timeout=1)
                if r.status_code == 200:
                    return r.json()["leader"]
                last = r.text
            except requests.RequestException as e:
                last = str(e)
            time.sleep(0.05)
        raise TimeoutError(f"master {self.url} not ready: {last}\n" + self.log())

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-4000:].decode(errors="replace")
        except OSError:
            return ""


@pytest.fixture
def tmpdir_path():
    d = tempfile.mkdtemp(prefix="strata-e2e-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def master(tmpdir_path):
    """A single master (cluster of one)."""
    m = Master(os.path.join(tmpdir_path, "m0"), free_port(), free_port()).start()
    m.wait_ready()
    yield m
    m.stop()


class Cluster:
    def __init__(self, base, n=3, extra=None):
        raft_ports = [free_port() for _ in range(n)]
        addrs = [f"127.0.0.1:{p}" for p in raft_ports]
        self.masters = [Master(os.path.join(base, f"m{i}"), free_port(), raft_ports[i], masters=addrs, extra=extra)
                        for i in range(n)]

    def start(self):
        for m in self.masters:
            m.start()
        for m in self.masters:
            m.wait_ready(30)
        return self

    def leader(self, timeout=10):
        """The master that is leader (by its own /v1/cluster view)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            for m in self.masters:
                if not m.alive():
                    continue
                try:
                    c = m.get("/v1/cluster", params={"stale": "true"}, timeout=1).json()
                    if c.get("state") == "leader":
                        return m
                except (requests.RequestException, ValueError):
                    pass
            time.sleep(0.05)
        raise TimeoutError("no leader")

    def stop(self):
        for m in self.masters:
            m.stop()


@pytest.fixture
def cluster(tmpdir_path):
    c = Cluster(tmpdir_path).start()
    yield c
    c.stop()


class Agent:
    """One `strata agent` process (native runtime: real processes in cgroups; needs root)."""

    def __init__(self, data_dir, masters, resources="cpus:2;mem:2000;disk:1000;ports:[31000-31100]",
                 attributes=None, hostname=None, extra=None):
        self.data_dir = data_dir
        self.extra = list(extra or [])  # e.g. ["--fake-runtime"]: tasks that only pretend to run
        self.http_port = free_port()
        self.masters = masters
        _agent_ports[self.http_port] = masters[0].http_port  # its API takes its master's tokens
        self.resources = resources
        self.attributes = attributes
        self.hostname = hostname
        self.proc = None
        self.log_path = data_dir + ".log"

    @property
    def url(self):
        return f"http://127.0.0.1:{self.http_port}"

    def start(self):
        # Agents sharing this machine (and other test runs) each get their own cgroup parent.
        cmd = [STRATA, "agent", "--master", ",".join(m.url for m in self.masters), "--data-dir", self.data_dir,
               "--http", f"127.0.0.1:{self.http_port}", "--resources", self.resources,
               "--cgroup-parent", f"strata-test-{os.getpid()}-{self.http_port}"]
        if self.attributes:
            cmd += ["--attributes", self.attributes]
        if self.hostname:
            cmd += ["--hostname", self.hostname]
        cmd += self.extra
        self.logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=self.logf, stderr=subprocess.STDOUT)
        return self

    def state(self):
        return requests.get(self.url + "/state", timeout=5).json()

    def signal(self, sig):
        self.proc.send_signal(sig)

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def kill_tasks(self):
        """Tasks outlive agents by design: tests clean theirs up."""
        try:
            for t in self.state()["tasks"]:
                if t.get("pid"):
                    try:
                        os.killpg(t["pid"], signal.SIGKILL)
                    except OSError:
                        pass
        except (requests.RequestException, ValueError):
            pass

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-4000:].decode(errors="replace")
        except OSError:
            return ""


def wait_for(fn, timeout=10, interval=0.05, what="condition"):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = fn()
        except (requests.RequestException, ValueError, KeyError) as e:
            last = e
        else:
            if last:
                return last
        time.sleep(interval)
    raise TimeoutError(f"timed out waiting for {what}; last: {last!r}")


@contextlib.contextmanager
def master_and_agent(base, master_extra=None, agent_dir="a1", **agent_kw):
    """A master (cluster of one) and one agent registered with it, under base: the `one` fixture
    of several test files. On exit the agent's tasks are killed, then both processes stop."""
    m = Master(os.path.join(base, "m"), free_port(), free_port(), extra=master_extra).start()
    a = None
    try:
        m.wait_ready()
        a = Agent(os.path.join(base, agent_dir), [m], **agent_kw).start()
        wait_for(lambda: len(m.get("/v1/nodes").json()["nodes"]) == 1, what="agent registration")
        yield m, a
    finally:
        if a:
            a.kill_tasks()
            a.stop()
        m.stop()


def remove_all_apps(m, a, timeout=20):
    """Deletes every app of master m (force) and waits for agent a to run no task; if they outlive
    timeout, the agent is asked to kill them (a fixture's teardown before the agent stops)."""
    for app in m.get("/v2/apps").json().get("apps", []):
        m.delete(f"/v2/apps{app['id']}", params={"force": "true"})
    try:
        wait_for(lambda: not a.state()["tasks"], timeout=timeout, what="tasks gone")
    except TimeoutError:
        a.kill_tasks()


def running_tasks(master, app_id):
    r = master.get(f"/v2/apps{app_id}/tasks")
    if r.status_code != 200:
        return []
    return [t for t in r.json()["tasks"] if t["state"] == "TASK_RUNNING"]


@pytest.fixture
def forced_writes(monkeypatch):
    """Writes to /v2/apps say force=true. For suites whose masters run without agents: every
    deployment stays open there and, as in Marathon, a second change to the same app is 409
    (locked) unless forced. Those suites are about the documents the API keeps, replication and
    restarts, not about deployments (test_deployments.py is)."""
    def forced(method, url, kw):
        if method.upper() in ("PUT", "PATCH", "DELETE") and "/v2/apps" in url and "force=" not in url:
            params = dict(kw.pop("params", None) or {})
            params.setdefault("force", "true")
            kw["params"] = params
        return kw

    real = requests.api.request
    real_session = requests.sessions.Session.request

    def request(method, url, **kw):
        return real(method, url, **forced(method, url, kw))

    def session_request(self, method, url, **kw):
        return real_session(self, method, url, **forced(method, url, kw))

    monkeypatch.setattr(requests, "request", request)
    monkeypatch.setattr(requests.api, "request", request)
    monkeypatch.setattr(requests.sessions.Session, "request", session_request)


# --- STRATA_RAML_CHECK=1: every Marathon answer any e2e test receives is checked against
# Marathon's RAML types (marathon_shapes.py); the run fails at the end listing each mismatch.
# Off by default: suites that poke Strata's own endpoints are unaffected, and the dedicated
# check (test_marathon_shapes.py) always runs. ---
RAML_PROBLEMS = []


def pytest_configure(config):
    if os.environ.get("STRATA_RAML_CHECK") != "1":
        return
    import json as _json
    import urllib.parse
    from marathon_shapes import problems, raml_type_for
    real_send = requests.sessions.Session.send

    def send(self, req, **kw):
        resp = real_send(self, req, **kw)
        if kw.get("stream") or "json" not in resp.headers.get("Content-Type", ""):
            return resp
        path = urllib.parse.urlsplit(req.url).path
        t = raml_type_for(req.method, path, resp.status_code)
        if t is not None and resp.content:
            try:
                doc = _json.loads(resp.content)
            except ValueError:
                return resp
            for p in problems(t, doc):
                RAML_PROBLEMS.append(f"{req.method} {path}: {p}")
        return resp
    requests.sessions.Session.send = send


def pytest_sessionfinish(session, exitstatus):
    if RAML_PROBLEMS:
        seen = sorted(set(RAML_PROBLEMS))
        print(f"\n{len(seen)} answers differ from Marathon's RAML types (STRATA_RAML_CHECK=1):")
        for p in seen[:200]:
            print("  " + p)
        session.exitstatus = 1
# --- Authentication (issue 13) --------------------------------------------------------------------
# Masters refuse calls without a token. The test session has one Ed25519 key pair: every master
# started through Master creates the superuser service account "admin" with its public half
# (--bootstrap-admin-key), and every process the tests start inherits the credentials from the
# environment: agents and agent-sim log in with STRATA_SERVICE_ACCOUNT/STRATA_PRIVATE_KEY, and the
# CLI does too, keeping each master's token in the session's own token file (STRATA_CONFIG), so
# tests running side by side never share one. The test process's own HTTP calls get the token
# the way a user's script does — `strata auth login` then `strata auth token` — through one
# default Authorization header installed on requests' Session below, per master (keyed by the
# port free_port() handed out). A request that names an Authorization header itself (even None,
# which sends none) is left alone: that is how the auth tests send no, bad or other tokens.
_AUTH_DIR = tempfile.mkdtemp(prefix="strata-e2e-auth-")
AUTH_PRIVATE_KEY = os.path.join(_AUTH_DIR, "admin.pem")
AUTH_PUBLIC_KEY = os.path.join(_AUTH_DIR, "admin.pub")
subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", AUTH_PRIVATE_KEY], check=True,
               capture_output=True)
subprocess.run(["openssl", "pkey", "-in", AUTH_PRIVATE_KEY, "-pubout", "-out", AUTH_PUBLIC_KEY], check=True,
               capture_output=True)
os.environ["STRATA_SERVICE_ACCOUNT"] = "admin"
os.environ["STRATA_PRIVATE_KEY"] = AUTH_PRIVATE_KEY
os.environ["STRATA_CONFIG"] = os.path.join(_AUTH_DIR, "auth.json")
os.environ.pop("STRATA_TOKEN", None)
import atexit  # noqa: E402
atexit.register(shutil.rmtree, _AUTH_DIR, True)

_tokens = {}      # "127.0.0.1:port" -> token
_agent_ports = {}  # agent API port -> the port of the master whose tokens it checks
_last = [None]     # the latest token obtained: for agents started outside Agent
_no_token = {}    # "127.0.0.1:port" -> time of the last failed attempt


def admin_token(base_url, fresh=False):
    """The session admin's token for the master at base_url, via the CLI as a user would get it
    (None while the master cannot issue one yet, e.g. before its first leader commits the admin)."""
    env = dict(os.environ)
    if fresh:
        subprocess.run([STRATA, "--master", base_url, "auth", "login", "--service-account", "admin",
                        "--private-key", AUTH_PRIVATE_KEY], env=env, capture_output=True, timeout=10)
    r = subprocess.run([STRATA, "--master", base_url, "auth", "token"], env=env, capture_output=True, text=True,
                       timeout=10)
    return r.stdout.strip() if r.returncode == 0 and r.stdout.strip() else None


def _auth_key(url):
    try:
        rest = url.split("://", 1)[1]
    except IndexError:
        return None
    hostport = rest.split("/", 1)[0]
    host, _, port = hostport.rpartition(":")
    # masters and agents on ports free_port() handed out, and agents in network namespaces (5051)
    if not port.isdigit() or (int(port) not in _used_ports and int(port) != 5051):
        return None
    port = _agent_ports.get(int(port), int(port))
    return f"127.0.0.1:{port}"


def _token_for(key, fresh=False):
    if not fresh and key in _tokens:
        return _tokens[key]
    if not fresh and time.time() - _no_token.get(key, 0) < 0.1:
        return None
    t = admin_token("http://" + key, fresh=True)
    if t:
        _tokens[key] = t
        _last[0] = t
        _no_token.pop(key, None)
    else:
        _tokens.pop(key, None)
        _no_token[key] = time.time()
    return t or _last[0]


_plain_session_request = requests.sessions.Session.request


def _session_request_with_token(self, method, url, **kw):
    key = _auth_key(url)
    headers = kw.get("headers") or {}
    if key is None or any(h.lower() == "authorization" for h in headers) or \
            any(h.lower() == "authorization" for h in self.headers):
        return _plain_session_request(self, method, url, **kw)
    token = _token_for(key)
    if token:
        kw["headers"] = {**headers, "Authorization": f"token={token}"}
    r = _plain_session_request(self, method, url, **kw)
    if r.status_code == 401:
        # a master restarted with new state (another key), or the token was revoked: log in again
        token = _token_for(key, fresh=True)
        if token:
            kw["headers"] = {**headers, "Authorization": f"token={token}"}
            r = _plain_session_request(self, method, url, **kw)
    return r


requests.sessions.Session.request = _session_request_with_token


def auth_header_line(port):
    """'Authorization: token=…\\r\\n' for a hand-written request to the master on port (raw-socket
    tests), or '' while it has no token to give."""
    token = _token_for(f"127.0.0.1:{port}") if port in _used_ports else None
    return f"Authorization: token={token}\r\n" if token else ""


def stop_process(proc, timeout=10):
    """SIGTERM, then SIGKILL after timeout seconds; waits for the exit either way."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)
