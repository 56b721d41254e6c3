#!/usr/bin/env python3
"""Runs every test suite and ends with the line `N passed, N failed`.

Suites: cmocka unit tests (normal build and ASan+UBSan build), pytest end-to-end tests against
real binaries, and a short libFuzzer run of every fuzz target over its corpus (when clang's
fuzzer runtime is installed). Each cmocka test case and each pytest test counts as one test."""
import argparse
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
passed = 0
failed = 0
failures = []


def count(name, ok, n=1):
    global passed, failed
    if ok:
        passed += n
    else:
        failed += n
        failures.append(name)


def run_unit(build, label):
    tests = json.loads(subprocess.check_output(["meson", "introspect", build, "--tests"], cwd=ROOT))
    env = dict(os.environ, CMOCKA_MESSAGE_OUTPUT="stdout")
    if label == "asan":
        env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0"
        env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
    for t in sorted(tests, key=lambda t: t["name"]):
        print(f"== unit ({label}): {t['name']}", flush=True)
        try:
            p = subprocess.run(t["cmd"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
            out = p.stdout + p.stderr
            rc = p.returncode
        except subprocess.TimeoutExpired as e:
            out, rc = f"timed out: {e}", -1
        ok_n = sum(int(m) for m in re.findall(r"\[  PASSED  \] (\d+) test", out))
        bad_n = sum(int(m) for m in re.findall(r"\[  FAILED  \] (\d+) test", out))
        if ok_n:
            count(f"{label}:{t['name']}", True, ok_n)
        if bad_n:
            count(f"{label}:{t['name']}", False, bad_n)
        if rc != 0 and bad_n == 0:
            # a crash, a sanitizer report or a leak after the tests ran
            count(f"{label}:{t['name']} (exit {rc})", False)
        if rc != 0 or bad_n:
            print(out[-6000:])
        else:
            print(f"   {ok_n} passed")


def run_e2e(build):
    xml = os.path.join(ROOT, build, "e2e-junit.xml")
    env = dict(os.environ, STRATA_BIN=os.path.join(ROOT, build, "strata"), PYTHONDONTWRITEBYTECODE="1")
    print("== e2e (pytest)", flush=True)
    p = subprocess.run(["/usr/bin/python3", "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        f"--junitxml={xml}", "test/e2e"], cwd=ROOT, env=env)
    if not os.path.exists(xml):
        count("e2e: pytest did not run", False)
        return
    root = ET.parse(xml).getroot()
    for case in root.iter("testcase"):
        name = f"e2e:{case.get('classname')}.{case.get('name')}"
        bad = case.find("failure") is not None or case.find("error") is not None
        skipped = case.find("skipped") is not None
        if skipped:
            # A skipped test hides a missing capability: it counts as a failure.
            count(name + " (skipped)", False)
        else:
            count(name, not bad)
    if p.returncode not in (0, 1):
        count(f"e2e: pytest exit {p.returncode}", False)


def run_fuzz(seconds):
    fuzz_dir = os.path.join(ROOT, "test", "fuzz")
    if not any(f.startswith("fuzz_") for f in os.listdir(fuzz_dir)):
        return
    print("== fuzz (libFuzzer smoke)", flush=True)
    build = os.path.join(ROOT, "build-fuzz")
    env = dict(os.environ, CC="clang")
    if not os.path.exists(os.path.join(build, "build.ninja")):
        r = subprocess.run(["meson", "setup", build, "-Dfuzz=true", "-Db_lundef=false", "-Dwerror=false"], cwd=ROOT, env=env,
                           capture_output=True, text=True)
        if r.returncode != 0:
            print(r.stdout[-3000:], r.stderr[-3000:])
            count("fuzz: meson setup", False)
            return
    else:
        subprocess.run(["meson", "setup", "--reconfigure", build], cwd=ROOT, env=env, capture_output=True)
    targets = sorted(f[:-2] for f in os.listdir(fuzz_dir) if f.startswith("fuzz_") and f.endswith(".c"))
    r = subprocess.run(["ninja", "-C", build] + targets, cwd=ROOT, capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stdout[-3000:])
        count("fuzz: build", False)
        return
    for f in sorted(os.listdir(fuzz_dir)):
        if not (f.startswith("fuzz_") and f.endswith(".c")):
            continue
        name = f[:-2]
        corpus = os.path.join(fuzz_dir, "corpus", name[len("fuzz_"):])
        os.makedirs(corpus, exist_ok=True)
        work = os.path.join(build, "corpus-" + name)
        os.makedirs(work, exist_ok=True)
        p = subprocess.run([os.path.join(build, name), f"-max_total_time={seconds}", "-timeout=10",
                            "-rss_limit_mb=2048", work, corpus], cwd=build, capture_output=True, text=True)
        ok = p.returncode == 0
        print(f"   {name}: {'ok' if ok else 'FAILED'}")
        if not ok:
            print(p.stderr[-4000:])
        count(f"fuzz:{name}", ok)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--asan-build", default="build-asan")
    ap.add_argument("--fuzz-seconds", type=int, default=int(os.environ.get("FUZZ_SECONDS", "15")))
    ap.add_argument("--only", choices=["unit", "e2e", "fuzz"])
    a = ap.parse_args()
    if a.only in (None, "unit"):
        run_unit(a.build, "unit")
        if a.asan_build and os.path.exists(os.path.join(ROOT, a.asan_build, "build.ninja")):
            run_unit(a.asan_build, "asan")
    if a.only in (None, "e2e"):
        run_e2e(a.build)
    if a.only in (None, "fuzz"):
        run_fuzz(a.fuzz_seconds)
    if failures:
        print("failed:")
        for f in failures:
            print("  " + f)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
