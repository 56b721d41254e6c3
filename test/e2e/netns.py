"""Test hosts in network namespaces: a bridge in the root namespace (where the masters run) and
one namespace per agent host, joined by veth pairs, so a test can cut one host's network
(`ip link set … down`) for real. Needs root and iproute2 (CI runs as root)."""
import os
import random
import subprocess


def sh(*args, check=True):
    return subprocess.run(list(args), check=check, capture_output=True, text=True)


class HostNet:
    def __init__(self, n_hosts):
        tag = f"{random.randrange(16 ** 4):04x}"
        self.tag = tag
        self.subnet = f"10.{random.randrange(200, 250)}.{random.randrange(1, 250)}"
        self.bridge = f"stbr{tag}"
        self.gateway = f"{self.subnet}.1"
        self.hosts = []
        sh("ip", "link", "add", self.bridge, "type", "bridge")
        sh("ip", "addr", "add", f"{self.gateway}/24", "dev", self.bridge)
        sh("ip", "link", "set", self.bridge, "up")
        for i in range(n_hosts):
            ns = f"st{tag}h{i}"
            host_if, ns_if = f"st{tag}v{i}", f"st{tag}p{i}"
            ip = f"{self.subnet}.{10 + i}"
            sh("ip", "netns", "add", ns)
            sh("ip", "link", "add", host_if, "type", "veth", "peer", "name", ns_if)
            sh("ip", "link", "set", host_if, "master", self.bridge)
            sh("ip", "link", "set", host_if, "up")
            sh("ip", "link", "set", ns_if, "netns", ns)
            sh("ip", "-n", ns, "addr", "add", f"{ip}/24", "dev", ns_if)
            sh("ip", "-n", ns, "link", "set", ns_if, "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            sh("ip", "-n", ns, "route", "add", "default", "via", self.gateway)
            self.hosts.append({"ns": ns, "ip": ip, "link": host_if})

    def prefix(self, i):
        """Command prefix that runs a program on host i. nsenter enters only the network
        namespace: `ip netns exec` would also remount /sys and hide the cgroup hierarchies the
        agent's runtime needs."""
        return ["nsenter", f"--net=/run/netns/{self.hosts[i]['ns']}"]

    def cut(self, i):
        sh("ip", "link", "set", self.hosts[i]["link"], "down")

    def heal(self, i):
        sh("ip", "link", "set", self.hosts[i]["link"], "up")

    def close(self):
        for h in self.hosts:
            sh("ip", "link", "del", h["link"], check=False)
            sh("ip", "netns", "del", h["ns"], check=False)
        sh("ip", "link", "del", self.bridge, check=False)
