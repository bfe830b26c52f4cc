#!/usr/bin/env python3
"""Run tdp-bench once, small, and check it reports every workload of every
configuration with sane numbers. Timing is not checked (never asserted in a
test); what is checked is that the bench ran its result checks and that the
output is complete and consistent.

Usage: check_bench.py TDP_BENCH            every workload, exclusive mode
       check_bench.py TDP_BENCH --threads N  W4 only, with the shared-mode rows
"""
import json
import subprocess
import sys

bench = sys.argv[1]
if len(sys.argv) == 4 and sys.argv[2] == "--threads":
    threads = int(sys.argv[3])
elif len(sys.argv) == 2:
    threads = 0
else:
    sys.exit("usage: check_bench.py TDP_BENCH [--threads N]")


def check_threads(doc, n):
    """The shared-mode rows next to the exclusive W4 rows of each configuration."""
    rows, errors = doc["rows"], []
    if doc["meta"].get("threads") != n:
        errors.append(f"meta.threads is {doc['meta'].get('threads')!r}, asked for {n}")
    configs = sorted({r["config"] for r in rows})
    if len(configs) != 8:
        errors.append(f"expected 8 configurations, got {configs}")
    shared = {("map/1t", 1), ("fault/1t", 1)}
    if n > 1:
        shared |= {(f"map/{n}t", n), (f"fault/{n}t", n)}
    for c in configs:
        mine = {r["op"]: r for r in rows if r["config"] == c}
        want = {"map", "fault", "unmap"} | {op for op, _ in shared}
        if set(mine) != want:
            errors.append(f"{c}: ops {sorted(mine)}, expected {sorted(want)}")
            continue
        for op in ("map", "fault", "unmap"):
            if mine[op]["threads"] != 0 or mine[op]["scale"] is not None:
                errors.append(f"{c} W4 {op}: exclusive row with threads/scale")
        for op, t in shared:
            r = mine[op]
            name = f"{c} W4 {op}"
            if r["threads"] != t:
                errors.append(f"{name}: threads {r['threads']}, expected {t}")
            if r["units"] != 4096 or r["calls"] != 4096:
                errors.append(f"{name}: {r['units']} units, {r['calls']} calls, asked for 4096")
            # the bench checks this itself; a wrong count would have failed the run
            if r["tables"] != mine["map"]["tables"]:
                errors.append(f"{name}: {r['tables']} tables, exclusive map {mine['map']['tables']}")
            if not (0 < r["ns_min"] <= r["ns_med"] <= r["ns_max"]):
                errors.append(f"{name}: min/med/max out of order")
            if t == 1:
                if r["scale"] is not None or not r["floor_ns"] or r["floor_ns"] <= 0:
                    errors.append(f"{name}: 1-thread row needs a floor and no scale")
            elif not (isinstance(r["scale"], (int, float)) and r["scale"] > 0):
                errors.append(f"{name}: no scale ({r['scale']!r})")
    return errors, len(rows), len(configs)


if threads:
    out = subprocess.run([bench, "--workload", "W4", "--threads", str(threads), "--reps", "3",
                          "--calls", "4096", "--json"],
                         capture_output=True, text=True, timeout=550)
    if out.returncode != 0:
        sys.exit(f"tdp-bench --threads {threads} failed ({out.returncode}):\n{out.stderr}")
    errors, nrows, nconfigs = check_threads(json.loads(out.stdout), threads)
    if errors:
        print("\n".join(errors))
        sys.exit(1)
    print(f"{nrows} rows from {nconfigs} configurations, shared mode with {threads} threads")
    sys.exit(0)

out = subprocess.run([bench, "--reps", "1", "--calls", "4096", "--json"],
                     capture_output=True, text=True, timeout=550)
if out.returncode != 0:
    sys.exit(f"tdp-bench failed ({out.returncode}):\n{out.stderr}")
doc = json.loads(out.stdout)
rows = doc["rows"]
errors = []
# without --threads the output keeps its shape: no shared-mode fields
if "threads" in doc["meta"] or any("threads" in r or "scale" in r for r in rows):
    errors.append("threads/scale fields without --threads")
configs = sorted({r["config"] for r in rows})
if len(configs) != 8:
    errors.append(f"expected 8 configurations, got {configs}")
want = {("W1", "map"), ("W1", "unmap"), ("W2", "map"), ("W2", "unmap"), ("W4", "map"), ("W4", "fault"),
        ("W4", "unmap"), ("W5", "split"), ("protect", "wrprot"), ("zap", "zap"),
        ("lookup", "lookup")}
for c in configs:
    have = {(r["workload"], r["op"]) for r in rows if r["config"] == c}
    missing = want - have
    if missing:
        errors.append(f"{c}: missing {sorted(missing)}")
    fourk = not c.startswith(("arm64-16k", "arm64-64k"))
    if fourk and ("W3", "map") not in have:
        errors.append(f"{c}: no W3 (1 GiB blocks)")
    if not fourk and ("W3", "map") in have:
        errors.append(f"{c}: W3 without 1 GiB blocks")
    ad = c.startswith(("ept", "riscv"))
    if ad != (("young", "clear") in have and ("dirty", "collect") in have):
        errors.append(f"{c}: A/D rows {'missing' if ad else 'unexpected'}")
for r in rows:
    name = f'{r["config"]} {r["workload"]} {r["op"]}'
    if not (0 < r["ns_min"] <= r["ns_med"] <= r["ns_max"]):
        errors.append(f"{name}: min/med/max out of order")
    if r["floor_ns"] is None or r["floor_ns"] <= 0:
        errors.append(f"{name}: no floor")
    if r["units"] <= 0:
        errors.append(f"{name}: no units")
    if r["workload"] == "W4" and r["calls"] != 4096:
        errors.append(f"{name}: {r['calls']} calls, asked for 4096")
    if r["workload"] == "W4" and r["op"] == "unmap" and r["flushes"] != 4096:
        errors.append(f"{name}: {r['flushes']} flushes for 4096 unmaps")
    if (r["workload"], r["op"]) in (("W1", "map"), ("W5", "split")) and r["tables"] == 0:
        errors.append(f"{name}: allocated no table")
    # bytes: the guest range behind the rows' GiB/s
    page = 16 << 10 if "-16k-" in r["config"] else 64 << 10 if "-64k-" in r["config"] else 4096
    want = {"W3": 64 << 30, "W4": 4096 * page, "lookup": 0}.get(r["workload"], 1 << 30)
    if r["bytes"] != want:
        errors.append(f"{name}: bytes {r['bytes']}, expected {want}")
    # JSON carries 4 decimals: a sub-ns median is known to 0.00005 ns only
    tol = 1e-3 + 6e-5 / r["ns_med"]
    if r["bytes"] and not (r["gib_per_s"] and abs(r["gib_per_s"] * 2**30 * r["ns_med"] * r["units"]
                                                  / 1e9 / r["bytes"] - 1) < tol):
        errors.append(f"{name}: gib_per_s {r['gib_per_s']} for ns_med {r['ns_med']}")
if errors:
    print("\n".join(errors))
    sys.exit(1)
print(f"{len(rows)} rows from {len(configs)} configurations")
