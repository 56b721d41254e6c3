"""Image store e2e: Debian's docker-registry on loopback, an image built here (busybox-static as an
OCI layer) pushed with the registry HTTP API, pulled with `strata image pull`."""
import http.server
import json
import os
import subprocess
import threading

import pytest

from conftest import STRATA, free_port, wait_for
from registry import Registry, busybox_layer, missing, sha, tar_layer

pytestmark = pytest.mark.skipif(missing() is not None, reason=str(missing()))


def strata_image(data_dir, *args, check=True):
    p = subprocess.run([STRATA, "image", args[0], "--data-dir", data_dir, "--quiet"] + list(args[1:]),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    if check:
        assert p.returncode == 0, p.stderr
    return p


@pytest.fixture
def registry(tmpdir_path):
    r = Registry(tmpdir_path)
    yield r
    r.stop()


def pulled(data_dir, *refs, extra=()):
    p = strata_image(data_dir, "pull", *extra, *refs)
    return json.loads(p.stdout)


def test_pull_busybox_unpacks_layers_and_second_pull_is_a_noop(registry, tmpdir_path):
    layer, mt = busybox_layer()
    extra, mt2 = tar_layer([("etc", "dir", None), ("etc/motd", "file", b"hello\n"),
                            ("bin/.wh.cat", "file", b""), ("opt", "dir", None), ("opt/.wh..wh..opq", "file", b"")])
    digest, _ = registry.push_image("demo/busybox", "1", [(layer, mt), (extra, mt2)])
    data = os.path.join(tmpdir_path, "agent")
    ref = "%s/demo/busybox:1" % registry.host
    [img] = pulled(data, ref)
    assert img["digest"] == digest
    assert img["config"]["Cmd"] == ["/bin/sh"]
    bottom, top = img["layers"]
    assert os.path.isfile(os.path.join(bottom, "bin/busybox"))
    assert os.readlink(os.path.join(bottom, "bin/sh")) == "busybox"
    out = subprocess.run([os.path.join(bottom, "bin/busybox"), "echo", "ok"], stdout=subprocess.PIPE, text=True)
    assert out.stdout == "ok\n"
    with open(os.path.join(top, "etc/motd")) as f:
        assert f.read() == "hello\n"
    st = os.lstat(os.path.join(top, "bin/cat"))  # whiteout → char device 0/0
    assert (st.st_mode & 0o170000) == 0o020000 and st.st_rdev == 0
    assert os.getxattr(os.path.join(top, "opt"), "trusted.overlay.opaque") == b"y"
    gets = registry.blob_gets(sha(layer))
    assert gets == 1
    # second pull: answered from the store, no registry traffic at all
    registry.stop()
    [again] = pulled(data, ref)
    assert again["digest"] == digest and again["layers"] == img["layers"]
    listing = json.loads(strata_image(data, "list").stdout)
    assert [(x["ref"], x["digest"], x["layers"]) for x in listing] == [(ref, digest, 2)]


def test_concurrent_pulls_download_once_and_force_re_resolves(registry, tmpdir_path):
    layer, mt = busybox_layer()
    digest, _ = registry.push_image("demo/app", "v1", [(layer, mt)])
    data = os.path.join(tmpdir_path, "agent")
    ref = "%s/demo/app:v1" % registry.host
    p = subprocess.run([STRATA, "image", "pull", "--data-dir", data, ref, ref, ref], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "pulling layer 1/1" in p.stderr and "unpacking layer 1/1" in p.stderr  # progress for the status message
    imgs = json.loads(p.stdout)
    assert len(imgs) == 3 and all(i["digest"] == digest for i in imgs)
    assert registry.blob_gets(sha(layer)) == 1
    # the tag moves: a plain pull keeps the old image, --force re-resolves it
    layer2, mt2 = tar_layer([("v2", "file", b"2")], compress="none")
    digest2, _ = registry.push_image("demo/app", "v1", [(layer, mt), (layer2, mt2)])
    assert pulled(data, ref)[0]["digest"] == digest
    forced = pulled(data, ref, extra=("--force",))[0]
    assert forced["digest"] == digest2 and len(forced["layers"]) == 2
    assert registry.blob_gets(sha(layer)) == 1  # the shared layer was not fetched again


def test_tampered_blob_is_refused(registry, tmpdir_path):
    layer, mt = tar_layer([("hello", "file", b"hello world\n")])
    registry.push_image("demo/tamper", "1", [(layer, mt)])
    path = registry.blob_file(sha(layer))
    with open(path, "r+b") as f:
        f.seek(len(layer) // 2)
        b = f.read(1)
        f.seek(len(layer) // 2)
        f.write(bytes([b[0] ^ 0xFF]))
    data = os.path.join(tmpdir_path, "agent")
    p = strata_image(data, "pull", "%s/demo/tamper:1" % registry.host, check=False)
    assert p.returncode == 1
    assert "blob %s digest mismatch (got sha256:" % sha(layer) in p.stderr
    assert not os.listdir(os.path.join(data, "images/layers/sha256"))
    assert not os.listdir(os.path.join(data, "images/tmp"))


def test_basic_auth_registry(tmpdir_path):
    reg = Registry(tmpdir_path, users={"alice": "s3cret"})
    try:
        layer, mt = tar_layer([("f", "file", b"x")])
        reg.push_image("private/app", "1", [(layer, mt)])
        data = os.path.join(tmpdir_path, "agent")
        ref = "%s/private/app:1" % reg.host
        p = strata_image(data, "pull", ref, check=False)
        assert p.returncode == 1 and "requires credentials" in p.stderr, p.stderr
        p = strata_image(data, "pull", "--username", "alice", "--password", "wrong", ref, check=False)
        assert p.returncode == 1 and "refused the credentials for user 'alice'" in p.stderr, p.stderr
        cfg = os.path.join(tmpdir_path, "docker-config.json")
        import base64
        with open(cfg, "w") as f:
            json.dump({"auths": {reg.host: {"auth": base64.b64encode(b"alice:s3cret").decode()}}}, f)
        [img] = pulled(data, ref, extra=("--registry-config", cfg))
        assert os.path.isfile(os.path.join(img["layers"][0], "f"))
    finally:
        reg.stop()


class TokenRegistry(http.server.BaseHTTPRequestHandler):
    """A registry that wants bearer tokens, and the token server, in one python server."""
    blobs = {}
    manifests = {}
    redirect = set()
    user = ("bob", "pw")
    token = "tok-123"
    log = []

    def log_message(self, *a):
        pass

    def do_GET(self):
        import base64
        TokenRegistry.log.append(self.path)
        if self.path.startswith("/direct/"):  # where blobs are redirected to (an object store, say)
            body, ct = self.blobs[self.path[len("/direct/"):]]
            return self._send(200, body, ct)
        if self.path.startswith("/token?"):
            want = "Basic " + base64.b64encode(("%s:%s" % self.user).encode()).decode()
            if self.headers.get("Authorization") != want or "scope=repository%3Atok%2Fapp%3Apull" not in self.path:
                return self._send(401, b"{}")
            return self._send(200, json.dumps({"access_token": self.token}).encode())
        if self.headers.get("Authorization") != "Bearer " + self.token:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Bearer realm="http://%s/token",service="test",scope="repository:tok/app:pull"'
                             % self.headers["Host"])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        kind, _, ref = self.path[len("/v2/tok/app/"):].partition("/")
        store = self.manifests if kind == "manifests" else self.blobs
        if ref not in store:
            return self._send(404, b'{"errors":[{"code":"BLOB_UNKNOWN","message":"unknown"}]}')
        if kind == "blobs" and ref in self.redirect:
            self.send_response(307)
            self.send_header("Location", "/direct/" + ref)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body, ct = store[ref]
        self._send(200, body, ct)

    def _send(self, code, body, ct="application/json"):
        self.send_response(code)
        self.send_header("Content-Type", ct)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_bearer_token_flow_zstd_layer_and_oci_index(tmpdir_path):
    layer, mt = tar_layer([("z", "file", b"zstd layer\n")], compress="zstd")
    cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Entrypoint": ["/z"]}}).encode()
    TokenRegistry.blobs = {sha(layer): (layer, "application/octet-stream"), sha(cfg): (cfg, "application/json")}
    TokenRegistry.redirect = {sha(layer)}
    man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                      "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(cfg),
                                 "size": len(cfg)},
                      "layers": [{"mediaType": mt, "digest": sha(layer), "size": len(layer)}]}).encode()
    other = b'{"schemaVersion": 2, "config": {}, "layers": []}'
    index = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(other), "size": len(other),
         "platform": {"os": "linux", "architecture": "arm64"}},
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(man), "size": len(man),
         "platform": {"os": "linux", "architecture": "amd64"}}]}).encode()
    oci = "application/vnd.oci.image.manifest.v1+json"
    TokenRegistry.manifests = {"multi": (index, "application/vnd.oci.image.index.v1+json"), sha(man): (man, oci),
                               sha(other): (other, oci)}
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), TokenRegistry)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        ref = "127.0.0.1:%d/tok/app:multi" % srv.server_address[1]
        data = os.path.join(tmpdir_path, "agent")
        p = strata_image(data, "pull", ref, check=False)
        assert p.returncode == 1 and "token server" in p.stderr and "anonymous" in p.stderr, p.stderr
        [img] = pulled(data, ref, extra=("--username", "bob", "--password", "pw"))
        assert img["digest"] == sha(man)
        assert img["config"] == {"Entrypoint": ["/z"]}
        with open(os.path.join(img["layers"][0], "z")) as f:
            assert f.read() == "zstd layer\n"
        assert not any(sha(other) in path for path in TokenRegistry.log)
        assert "/direct/" + sha(layer) in TokenRegistry.log  # the blob's redirect was followed
    finally:
        srv.shutdown()


def test_gc_removes_unused_layers(registry, tmpdir_path):
    shared, mt = busybox_layer()
    only_a, mta = tar_layer([("a", "file", b"a")])
    only_b, mtb = tar_layer([("b", "file", b"b")])
    registry.push_image("demo/a", "1", [(shared, mt), (only_a, mta)])
    registry.push_image("demo/b", "1", [(shared, mt), (only_b, mtb)])
    data = os.path.join(tmpdir_path, "agent")
    imgs = {i["ref"]: i for i in pulled(data, "%s/demo/a:1" % registry.host, "%s/demo/b:1" % registry.host)}
    a, b = imgs["%s/demo/a:1" % registry.host], imgs["%s/demo/b:1" % registry.host]
    layers = os.path.join(data, "images/layers/sha256")
    assert len(os.listdir(layers)) == 3
    strata_image(data, "rm", "%s/demo/a:1" % registry.host)
    stats = json.loads(strata_image(data, "gc", "--max-age", "3600").stdout)
    assert stats["layersRemoved"] == 1 and stats["refsRemoved"] == 0
    assert sorted(os.listdir(layers)) == sorted(os.path.basename(p) for p in b["layers"])
    assert not os.path.exists(a["layers"][1])
    [again] = pulled(data, "%s/demo/b:1" % registry.host)  # b is intact
    assert again["layers"] == b["layers"]
    stats = json.loads(strata_image(data, "gc").stdout)
    assert stats["refsRemoved"] == 1 and stats["layersRemoved"] == 2
    assert os.listdir(layers) == []


def test_agent_refuses_a_bad_registry_config(tmpdir_path):
    bad = os.path.join(tmpdir_path, "cfg.json")
    with open(bad, "w") as f:
        f.write('{"auth": {}}')
    p = subprocess.run([STRATA, "agent", "--master", "127.0.0.1:1", "--registry-config", bad],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
    assert p.returncode == 2 and "is not a Docker config.json" in p.stderr


def test_image_command_usage_errors(tmpdir_path):
    data = os.path.join(tmpdir_path, "agent")
    p = strata_image(data, "pull", "NOT A REF", check=False)
    assert p.returncode == 1 and "not a valid image reference" in p.stderr
    p = strata_image(data, "frobnicate", check=False)
    assert p.returncode == 2 and "unknown image command" in p.stderr
