#!/usr/bin/env python3
"""Run tdp-bench once, small, and check it reports every workload of every
configuration with sane numbers. Timing is not checked (never asserted in a
test); what is checked is that the bench ran its result checks and that the
output is complete and consistent."""
import json
import subprocess
import sys

bench = sys.argv[1]
out = subprocess.run([bench, "--reps", "1", "--calls", "4096", "--json"],
                     capture_output=True, text=True, timeout=550)
if out.returncode != 0:
    sys.exit(f"tdp-bench failed ({out.returncode}):\n{out.stderr}")
rows = json.loads(out.stdout)["rows"]
errors = []
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
if errors:
    print("\n".join(errors))
    sys.exit(1)
print(f"{len(rows)} rows from {len(configs)} configurations")
