#!/usr/bin/env python3
"""VIP rule sync time (issue 11): how long one nftables transaction of the agent takes to apply
one backend change with N VIPs programmed (target: 10 ms at 10,000 VIPs; kube-proxy's iptables
mode took 2.66 s at 2,000 services).

Runs in a fresh network namespace (needs root and the nftables packages). The ruleset has the
agent's shape (this script writes the same text as src/model/vip_nft.c; see
test/unit/test_model_vip_nft.c for that text), applied
through libnftables' nft_run_cmd_from_buffer as src/agent/vip_agent.c does (via ctypes, one
context reused): first the whole table, then each round one backend of one random VIP changes
(the delta transaction: flush and refill that VIP's chain). Times exclude building the text.

usage: bench/bench_vip.py [--vips 10000] [--backends 2] [--rounds 20]"""
import argparse
import ctypes
import os
import random
import statistics
import subprocess
import sys
import time


def chain(i):
    return f"v_11_{((i + 1) >> 16) & 255}_{((i + 1) >> 8) & 255}_{(i + 1) & 255}_tcp_80"


def rule(i, k, bump):
    m = ", ".join(f"{j} : 10.1.{j}.{(i % 250) + 1} . {31000 + (bump if j == 0 else 0)}" for j in range(k))
    return f"meta l4proto tcp dnat ip to numgen random mod {k} map {{ {m} }}"


def full(n, k):
    """The whole table, as vip_nft_full writes it."""
    elems = ",\n      ".join(f"11.{((i + 1) >> 16) & 255}.{((i + 1) >> 8) & 255}.{(i + 1) & 255} . tcp . 80 : goto {chain(i)}"
                            for i in range(n))
    chains = "".join(f"  chain {chain(i)} {{\n    {rule(i, k, 0)}\n  }}\n" for i in range(n))
    return ("add table ip strata\ndelete table ip strata\ntable ip strata {\n  map vips {\n"
            "    type ipv4_addr . inet_proto . inet_service : verdict\n"
            f"    elements = {{ {elems} }}\n  }}\n" + chains +
            "  chain prerouting {\n    type nat hook prerouting priority dstnat; policy accept;\n"
            "    ip daddr . meta l4proto . th dport vmap @vips\n  }\n"
            "  chain output {\n    type nat hook output priority -100; policy accept;\n"
            "    ip daddr . meta l4proto . th dport vmap @vips\n  }\n}\n")


def delta(i, k, bump):
    """One VIP's backend changed, as vip_nft_delta writes it."""
    return f"flush chain ip strata {chain(i)}\nadd rule ip strata {chain(i)} {rule(i, k, bump)}\n"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--vips", type=int, default=10000)
    p.add_argument("--backends", type=int, default=2)
    p.add_argument("--rounds", type=int, default=20)
    p.add_argument("--in-netns", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    if not a.in_netns:
        ns = f"stvipbench{os.getpid()}"
        subprocess.run(["ip", "netns", "add", ns], check=True)
        try:
            return subprocess.run(["ip", "netns", "exec", ns, sys.executable, __file__, "--in-netns",
                                   "--vips", str(a.vips), "--backends", str(a.backends), "--rounds", str(a.rounds)]
                                  ).returncode
        finally:
            subprocess.run(["ip", "netns", "del", ns])
    lib = ctypes.CDLL("libnftables.so.1")
    lib.nft_ctx_new.restype = ctypes.c_void_p
    lib.nft_ctx_new.argtypes = [ctypes.c_uint32]
    lib.nft_run_cmd_from_buffer.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    ctx = lib.nft_ctx_new(0)
    text = full(a.vips, a.backends).encode()
    t0 = time.perf_counter()
    assert lib.nft_run_cmd_from_buffer(ctx, text) == 0
    first = time.perf_counter() - t0
    times = []
    for r in range(a.rounds):
        text = delta(random.randrange(a.vips), a.backends, r + 1).encode()
        t0 = time.perf_counter()
        assert lib.nft_run_cmd_from_buffer(ctx, text) == 0
        times.append(time.perf_counter() - t0)
    times.sort()
    print(f"vips={a.vips} backends/vip={a.backends} rounds={a.rounds}")
    print(f"first programming (whole table): {first * 1000:.1f} ms")
    print(f"one backend change (delta transaction): p50 {statistics.median(times) * 1000:.1f} ms, "
          f"p99/max {times[-1] * 1000:.1f} ms")


if __name__ == "__main__":
    sys.exit(main())
