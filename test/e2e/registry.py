"""A Debian docker-registry on loopback for e2e tests, and images built here to push to it (a
busybox-static layer, any tar layer): shared by test_images.py and test_registry_apps.py."""
import base64
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile

import requests

from conftest import free_port, wait_for

REGISTRY = shutil.which("docker-registry")
BUSYBOX = "/bin/busybox"



def missing():
    """Why registry tests cannot run here (None when they can)."""
    if not REGISTRY or not os.path.exists(BUSYBOX) or not shutil.which("htpasswd"):
        return "needs docker-registry, busybox-static and apache2-utils (make deps)"
    return None


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def tar_layer(files, compress="gzip"):
    """files: list of (name, kind, payload): kind 'file' (bytes), 'dir', 'symlink' (target)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, kind, payload in files:
            ti = tarfile.TarInfo(name)
            ti.mtime = 1700000000
            if kind == "dir":
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                tf.addfile(ti)
            elif kind == "symlink":
                ti.type, ti.linkname = tarfile.SYMTYPE, payload
                tf.addfile(ti)
            else:
                ti.mode, ti.size = 0o755, len(payload)
                tf.addfile(ti, io.BytesIO(payload))
    data = raw.getvalue()
    if compress == "gzip":
        return gzip.compress(data, mtime=0), "application/vnd.oci.image.layer.v1.tar+gzip"
    if compress == "zstd":
        out = subprocess.run(["zstd", "-q", "-c"], input=data, stdout=subprocess.PIPE, check=True).stdout
        return out, "application/vnd.oci.image.layer.v1.tar+zstd"
    return data, "application/vnd.oci.image.layer.v1.tar"


def busybox_layer():
    with open(BUSYBOX, "rb") as f:
        bb = f.read()
    files = [("bin", "dir", None), ("bin/busybox", "file", bb)]
    for applet in ("sh", "ls", "cat", "echo", "sleep"):
        files.append(("bin/" + applet, "symlink", "busybox"))
    return tar_layer(files)


class Registry:
    """docker-registry on 127.0.0.1:<port>, storage and log in a temp dir; optional htpasswd."""

    def __init__(self, base, users=None):
        self.dir = os.path.join(base, "registry-%d" % free_port())
        os.makedirs(self.dir)
        self.port = free_port()
        self.host = "127.0.0.1:%d" % self.port
        self.url = "http://" + self.host
        self.auth = None
        cfg = ["version: 0.1", "log:", "  level: info", "storage:",
               "  filesystem:", "    rootdirectory: %s/data" % self.dir,
               "http:", "  addr: %s" % self.host]
        if users:
            pw = os.path.join(self.dir, "htpasswd")
            for i, (u, p) in enumerate(users.items()):
                subprocess.run(["htpasswd", "-B", "-b"] + (["-c"] if i == 0 else []) + [pw, u, p], check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            cfg += ["auth:", "  htpasswd:", "    realm: strata-test", "    path: %s" % pw]
            self.auth = next(iter(users.items()))
        with open(os.path.join(self.dir, "config.yml"), "w") as f:
            f.write("\n".join(cfg) + "\n")
        self.log = open(os.path.join(self.dir, "registry.log"), "w")
        self.proc = subprocess.Popen([REGISTRY, "serve", os.path.join(self.dir, "config.yml")],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(self._up, timeout=20, what="docker-registry up")

    def _up(self):
        try:
            return requests.get(self.url + "/v2/", timeout=1).status_code in (200, 401)
        except requests.RequestException:
            return False

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()

    def push_blob(self, name, data):
        d = sha(data)
        r = requests.post("%s/v2/%s/blobs/uploads/" % (self.url, name), auth=self.auth)
        assert r.status_code == 202, r.text
        loc = r.headers["Location"]
        if loc.startswith("/"):
            loc = self.url + loc
        r = requests.put(loc, params={"digest": d}, data=data, auth=self.auth,
                         headers={"Content-Type": "application/octet-stream"})
        assert r.status_code == 201, r.text
        return d

    def push_manifest(self, name, ref, body, media_type):
        r = requests.put("%s/v2/%s/manifests/%s" % (self.url, name, ref), data=body, auth=self.auth,
                         headers={"Content-Type": media_type})
        assert r.status_code == 201, r.text
        return sha(body)

    def push_image(self, name, tag, layers, config=None):
        """layers: [(bytes, media type)]; returns (manifest digest, manifest body)."""
        config = config or {"config": {"Cmd": ["/bin/sh"], "Env": ["PATH=/bin"]}}
        config.setdefault("architecture", "amd64")
        config.setdefault("os", "linux")
        config["rootfs"] = {"type": "layers", "diff_ids": []}
        cfg = json.dumps(config).encode()
        m = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
             "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": self.push_blob(name, cfg),
                        "size": len(cfg)},
             "layers": [{"mediaType": mt, "digest": self.push_blob(name, data), "size": len(data)}
                        for data, mt in layers]}
        body = json.dumps(m).encode()
        return self.push_manifest(name, tag, body, m["mediaType"]), body

    def blob_file(self, digest):
        h = digest.split(":")[1]
        return os.path.join(self.dir, "data/docker/registry/v2/blobs/sha256", h[:2], h, "data")

    def blob_gets(self, digest):
        with open(os.path.join(self.dir, "registry.log")) as f:
            return sum(1 for line in f if "GET /v2/" in line and "/blobs/" + digest in line and '" 200 ' in line)


def dir_layer(root):
    """A gzip'ed tar layer of everything under root (names relative to it)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name in sorted(os.listdir(root)):
            tf.add(os.path.join(root, name), arcname=name)
    return gzip.compress(raw.getvalue(), mtime=0), "application/vnd.oci.image.layer.v1.tar+gzip"


def docker_config(host, user, password):
    """A Docker config.json text with credentials for host."""
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    return json.dumps({"auths": {host: {"auth": auth}}})
