#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The results directory of tdp-bench --out and bench/run.sh, on tiny runs.

Usage: check_outputs.py TDP_BENCH RUN_SH TMPDIR

  - tdp-bench --out DIR --plot FILE, both relative, from another directory:
    the four files land there, nothing else does, and they hold one
    measurement (the table is stdout; CSV, JSON and table agree row by row;
    the two SVGs are the same bytes);
  - bench/run.sh (with TDP_BENCH, so it runs the test build instead of
    building its own) from another directory, with a relative --out, and
    without --out from a copy of the script: bench/results/DATE-TIME/ next to
    it, named on the last line;
  - an output path under a regular file fails before the run: the arguments
    ask for a run of minutes, and the answer must come within seconds.
Timing is not checked beyond that bound.
"""
import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

from checks import SVG_NS, check, verdict

NAMES = ["tdp-bench.csv", "tdp-bench.json", "tdp-bench.svg", "tdp-bench.txt"]
SMALL = ["--config", "ept-4l", "--config", "arm64-16k-48", "--workload", "W1,W4,lookup",
         "--reps", "2", "--calls", "4096"]
# W4 with 16M calls, 101 times, on every configuration: far longer than FAST seconds
LONG = ["--workload", "W4", "--calls", "16M", "--reps", "101"]
FAST = 30


def run(argv, cwd, env=None, timeout=300):
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=None if env is None else {**os.environ, **env})


def last_line(text):
    lines = text.strip().splitlines()
    return lines[-1] if lines else ""


def check_results(what, d, stdout, stderr):
    """The four files of one run in d: complete, parseable and from the same rows."""
    if not check(os.path.isdir(d), f"{what}: no directory {d}"):
        return
    check(sorted(os.listdir(d)) == NAMES, f"{what}: {d} holds {sorted(os.listdir(d))}")
    check(last_line(stderr) == f"tdp-bench: results in {os.path.realpath(d)}/",
          f"{what}: last line {last_line(stderr)!r} does not name {d}")
    files = {}
    for n in NAMES:
        try:
            with open(os.path.join(d, n), encoding="utf-8", newline="") as f:
                files[n] = f.read()
        except OSError as e:
            check(False, f"{what}: {n}: {e}")
            return
    check(files["tdp-bench.txt"] == stdout, f"{what}: tdp-bench.txt is not the printed table")

    def no_constant(c):
        raise ValueError(f"non-JSON number {c}")

    try:
        doc = json.loads(files["tdp-bench.json"], parse_constant=no_constant)
    except ValueError as e:
        check(False, f"{what}: tdp-bench.json does not parse: {e}")
        return
    rows = doc["rows"]
    check(doc["meta"].get("reps") == 2 and doc["meta"].get("calls") == 4096,
          f"{what}: JSON meta {doc['meta']}")
    check(sorted({r["config"] for r in rows}) == ["arm64-16k-48", "ept-4l"]
          and {r["workload"] for r in rows} == {"W1", "W4", "lookup"},
          f"{what}: JSON rows are not the ones asked for")
    table = list(csv.reader(io.StringIO(files["tdp-bench.csv"])))
    check(table and table[0] == list(rows[0]), f"{what}: CSV header {table[:1]}")
    check(len(table) - 1 == len(rows), f"{what}: {len(table) - 1} CSV rows, {len(rows)} in JSON")
    for line, r in zip(table[1:], rows):
        want = ["" if v is None else f"{v:.4f}" if isinstance(v, float) else str(v)
                for v in r.values()]
        check(line == want, f"{what}: CSV row {line}\n  JSON row {want}")
    # the table rounds what CSV and JSON give to 4 decimals: to 3, to whole ns from 1000 ns
    lines = [x.split() for x in files["tdp-bench.txt"].splitlines()[1:] if x.strip()]
    check(len(lines) == len(rows), f"{what}: {len(lines)} table rows, {len(rows)} in JSON")
    for f, r in zip(lines, rows):
        tol = 0.0006 if r["ns_med"] < 1000 else max(0.51, r["ns_med"] * 5e-4)
        check(f[:3] == [r["config"], r["workload"], r["op"]]
              and abs(float(f[6]) - r["ns_med"]) <= tol,
              f"{what}: table row {f[:7]} is not JSON's {r['config']} {r['workload']} "
              f"{r['op']} {r['ns_med']}")
    try:
        root = ET.fromstring(files["tdp-bench.svg"])
    except ET.ParseError as e:
        check(False, f"{what}: tdp-bench.svg is not well-formed XML: {e}")
        return
    bars = [e for e in root.iter(SVG_NS + "rect") if e.get("class") == "bar"]
    check(root.tag == SVG_NS + "svg" and len(bars) == len(rows),
          f"{what}: SVG root {root.tag} with {len(bars)} bars for {len(rows)} rows")


def fresh(path):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def main():
    if len(sys.argv) != 4:
        print("usage: check_outputs.py TDP_BENCH RUN_SH TMPDIR", file=sys.stderr)
        return 2
    bench, run_sh, tmp = (os.path.abspath(a) for a in sys.argv[1:])
    repo = os.path.dirname(os.path.dirname(run_sh))
    fresh(tmp)
    env = {"TDP_BENCH": bench}

    # tdp-bench by hand, relative paths from its own directory
    a = fresh(os.path.join(tmp, "a"))
    p = run([bench, *SMALL, "--out", "res/run1", "--plot", "p.svg"], a)
    if check(p.returncode == 0, f"tdp-bench --out: exit {p.returncode}: {p.stderr}"):
        check(sorted(os.listdir(a)) == ["p.svg", "res"], f"tdp-bench: {a} holds {os.listdir(a)}")
        check_results("tdp-bench --out res/run1", os.path.join(a, "res", "run1"), p.stdout,
                      p.stderr)
        with open(os.path.join(a, "p.svg"), "rb") as f1, \
             open(os.path.join(a, "res", "run1", "tdp-bench.svg"), "rb") as f2:
            check(f1.read() == f2.read(), "tdp-bench: --plot and the directory's SVG differ")

    # bench/run.sh from elsewhere: relative paths are the caller's, not the repository's
    b = fresh(os.path.join(tmp, "b"))
    p = run([run_sh, *SMALL, "--out", "out2", "--plot", "p2.svg"], b, env)
    if check(p.returncode == 0, f"run.sh --out: exit {p.returncode}: {p.stderr}"):
        check(sorted(os.listdir(b)) == ["out2", "p2.svg"], f"run.sh: {b} holds {os.listdir(b)}")
        check_results("run.sh --out out2", os.path.join(b, "out2"), p.stdout, p.stderr)
        for n in ("out2", "p2.svg"):
            check(not os.path.exists(os.path.join(repo, n)), f"run.sh: {n} in {repo}")

    # run.sh's default: bench/results/DATE-TIME/ beside the script, whatever the caller's directory
    tree = fresh(os.path.join(tmp, "tree"))
    os.makedirs(os.path.join(tree, "bench"))
    shutil.copy(run_sh, os.path.join(tree, "bench", "run.sh"))
    c = fresh(os.path.join(tmp, "c"))
    p = run([os.path.join(tree, "bench", "run.sh"), *SMALL], c, env)
    if check(p.returncode == 0, f"run.sh: exit {p.returncode}: {p.stderr}"):
        check(os.listdir(c) == [], f"run.sh without --out wrote {os.listdir(c)} into its cwd")
        results = os.path.join(tree, "bench", "results")
        runs = os.listdir(results) if os.path.isdir(results) else []
        if check(len(runs) == 1 and re.fullmatch(r"\d{4}-\d\d-\d\d-\d{6}", runs[0]),
                 f"run.sh without --out: {results} holds {runs}"):
            check_results("run.sh", os.path.join(results, runs[0]), p.stdout, p.stderr)

    # fail fast: a regular file where a directory should be; tests run as root, so permission
    # bits would not stop the writes
    d = fresh(os.path.join(tmp, "d"))
    with open(os.path.join(d, "file"), "w"):
        pass
    cases = [([bench, "--out", "file/sub"], "file/sub"),
             ([bench, "--out", "file"], "file"),
             ([bench, "--plot", "file/p.svg"], "file/p.svg"),
             ([bench, "--out", "new/deep", "--plot", "file/p.svg"], "file/p.svg"),
             ([run_sh, "--out", "file/sub"], "file/sub")]
    for argv, bad in cases:
        what = " ".join([os.path.basename(argv[0])] + argv[1:])
        try:
            p = run(argv + LONG, d, env, timeout=FAST)
        except subprocess.TimeoutExpired:
            check(False, f"{what}: still running after {FAST} s: the path was not checked first")
            continue
        check(p.returncode != 0, f"{what}: exit 0")
        check(f"cannot write {bad}:" in p.stderr, f"{what}: stderr {p.stderr!r}")
        check(p.stdout == "", f"{what}: printed {p.stdout!r}")
        check(sorted(os.listdir(d)) == ["file"] and os.path.isfile(os.path.join(d, "file")),
              f"{what}: left {sorted(os.listdir(d))} behind")

    return verdict("check_outputs: results directory, relative paths and fail-fast OK")


if __name__ == "__main__":
    sys.exit(main())
