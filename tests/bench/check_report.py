#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Parse every output format of bench/report.c, as produced by report_sample.

Usage: check_report.py REPORT_SAMPLE TMPDIR

The expectations below mirror the rows hard-coded in report_sample.c; change
both together. Exits 0 when every check passed, otherwise prints each failed
check and exits 1.
"""
import csv
import io
import json
import math
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

from checks import SVG_NS, check, verdict

NROWS = 6
ODD = 'odd<&"name>,1'
CONFIGS = {"arm64-4k-48", ODD}
# (config, workload, op) of the one row whose floor_ns is -1
FLOORLESS = ("arm64-4k-48", "W4", "lookup")
CC = 'cc 12.2\t"sample"'
CSV_HEADER = [
    "config", "workload", "op", "unit", "units", "bytes", "calls", "entries", "tables",
    "ns_med", "ns_min", "ns_max", "munits_per_s", "gib_per_s", "floor_ns", "x_floor", "flushes",
]


def run(binary, *args):
    p = subprocess.run([binary, *args], capture_output=True, timeout=60)
    return p.returncode, p.stdout.decode("utf-8"), p.stderr.decode("utf-8", "replace")


def is_floorless(config, workload, op):
    return (config, workload, op) == FLOORLESS


def check_rates(fmt, name, ns_med, units, nbytes, munits, gibs):
    """The throughput fields follow from the median: 1e3/ns_med, and bytes per ns in GiB/s."""
    check(munits is not None and math.isclose(munits, 1e3 / ns_med, rel_tol=1e-3, abs_tol=1e-4),
          f"{fmt}: {name}: munits_per_s {munits!r} for ns_med {ns_med}")
    if nbytes == 0:
        check(gibs is None, f"{fmt}: {name}: gib_per_s {gibs!r} for a row that covers no range")
    else:
        want = nbytes / units / ns_med * 1e9 / 2**30
        check(gibs is not None and math.isclose(gibs, want, rel_tol=1e-3, abs_tol=1e-4),
              f"{fmt}: {name}: gib_per_s {gibs!r}, expected {want:.4f}")


def check_json(binary):
    rc, out, err = run(binary, "json")
    if not check(rc == 0, f"json: exit {rc}: {err.strip()}"):
        return

    def no_constant(name):
        raise ValueError(f"non-JSON number {name}")

    # json.loads would accept NaN and Infinity; the report promises neither
    try:
        doc = json.loads(out, parse_constant=no_constant)
    except ValueError as e:
        check(False, f"json: does not parse: {e}")
        return
    meta = doc.get("meta") or {}
    check(meta.get("reps") == 5, f"json: meta.reps {meta.get('reps')!r}")
    check(meta.get("size") == 1 << 30, f"json: meta.size {meta.get('size')!r}")
    check(meta.get("cc") == CC, f"json: meta.cc does not round-trip: {meta.get('cc')!r}")
    rows = doc.get("rows")
    if not check(isinstance(rows, list) and len(rows) == NROWS,
                 f"json: expected {NROWS} rows, got "
                 f"{len(rows) if isinstance(rows, list) else repr(rows)}"):
        return
    for r in rows:
        check(set(r) == set(CSV_HEADER), f"json: keys {sorted(r)} differ from the CSV columns")
    check({r.get("config") for r in rows} == CONFIGS,
          f"json: config names do not round-trip: {sorted({str(r.get('config')) for r in rows})}")
    nfloorless = 0
    for r in rows:
        if is_floorless(r.get("config"), r.get("workload"), r.get("op")):
            nfloorless += 1
            check(r.get("floor_ns") is None and r.get("x_floor") is None,
                  f"json: floor-less row has floor_ns={r.get('floor_ns')!r} "
                  f"x_floor={r.get('x_floor')!r}")
        else:
            check(isinstance(r.get("floor_ns"), (int, float))
                  and isinstance(r.get("x_floor"), (int, float)),
                  f"json: row {r.get('config')} {r.get('workload')} {r.get('op')} lost its floor")
    check(nfloorless == 1, f"json: {nfloorless} floor-less rows, expected 1")
    for r in rows:
        check_rates("json", f"{r['config']} {r['workload']} {r['op']}", r["ns_med"], r["units"],
                    r["bytes"], r["munits_per_s"], r["gib_per_s"])


def check_csv(binary):
    rc, out, err = run(binary, "csv")
    if not check(rc == 0, f"csv: exit {rc}: {err.strip()}"):
        return
    table = list(csv.reader(io.StringIO(out, newline="")))
    if not check(len(table) > 0, "csv: no output"):
        return
    check(table[0] == CSV_HEADER, f"csv: header {table[0]}")
    rows = table[1:]
    if not check(len(rows) == NROWS, f"csv: expected {NROWS} rows, got {len(rows)}"):
        return
    for r in rows:
        if not check(len(r) == len(CSV_HEADER), f"csv: row with {len(r)} fields: {r}"):
            return
    check({r[0] for r in rows} == CONFIGS,
          f"csv: config names do not round-trip: {sorted({r[0] for r in rows})}")
    i_floor, i_x = CSV_HEADER.index("floor_ns"), CSV_HEADER.index("x_floor")
    nfloorless = 0
    for r in rows:
        if is_floorless(r[0], r[1], r[2]):
            nfloorless += 1
            check(r[i_floor] == "" and r[i_x] == "",
                  f"csv: floor-less row has floor fields {r[i_floor]!r}, {r[i_x]!r}")
            continue
        try:
            float(r[i_floor])
            float(r[i_x])
        except ValueError:
            check(False, f"csv: row {r[:3]} has non-numeric floor fields")
    check(nfloorless == 1, f"csv: {nfloorless} floor-less rows, expected 1")

    def num(r, field):
        v = r[CSV_HEADER.index(field)]
        return float(v) if v != "" else None

    for r in rows:
        check_rates("csv", " ".join(r[:3]), num(r, "ns_med"), num(r, "units"), num(r, "bytes"),
                    num(r, "munits_per_s"), num(r, "gib_per_s"))


def check_svg(binary, tmpdir):
    path = os.path.join(tmpdir, "report.svg")
    if os.path.exists(path):
        os.remove(path)
    rc, _, err = run(binary, "svg", path)
    if not check(rc == 0, f"svg: exit {rc}: {err.strip()}"):
        return
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as e:
        check(False, f"svg: does not parse: {e}")
        return
    check(root.tag == SVG_NS + "svg", f"svg: root element is {root.tag}")
    rects = list(root.iter(SVG_NS + "rect"))
    bars = [r for r in rects if r.get("class") == "bar"]
    check(len(rects) >= NROWS, f"svg: {len(rects)} rect elements for {NROWS} rows")
    check(len(bars) == NROWS, f"svg: {len(bars)} bars for {NROWS} rows")
    texts = ["".join(t.itertext()) for t in root.iter(SVG_NS + "text")]
    check(any(ODD in t for t in texts), "svg: the escaped config name is in no text element")
    check(any("W1 map (ns/page)" in t for t in texts), "svg: no 'W1 map (ns/page)' group label")
    # self-contained: nothing to run and nothing to fetch
    for el in root.iter():
        tag = el.tag.rsplit("}", 1)[-1]
        check(tag not in ("script", "style", "image", "foreignObject"), f"svg: has a <{tag}>")

    # fopen fails: the directory does not exist
    missing = os.path.join(tmpdir, "no-such-dir", "report.svg")
    rc, _, _ = run(binary, "svg", missing)
    check(rc != 0, f"svg: writing to {missing} exited 0")
    # fopen succeeds but the data never fits: only ferror/fclose can tell
    if os.path.exists("/dev/full"):
        rc, _, _ = run(binary, "svg", "/dev/full")
        check(rc != 0, "svg: writing to /dev/full exited 0")


def check_table(binary):
    rc, out, err = run(binary, "table")
    if not check(rc == 0, f"table: exit {rc}: {err.strip()}"):
        return
    lines = [line for line in out.splitlines() if line.strip()]
    if not check(len(lines) == NROWS + 1,
                 f"table: {len(lines)} non-blank lines, expected {NROWS + 1}"):
        return
    header = lines[0].split()
    check(header[:1] == ["config"] and header[-1:] == ["flushes"], f"table: header {lines[0]!r}")
    # "x floor" is two words in the header; the sample's names have no spaces
    if not check("floor" in header, f"table: no floor column in {lines[0]!r}"):
        return
    i_floor = header.index("floor")
    if not check("GiB/s" in header and header.index("GiB/s") == i_floor - 1
                 and header.index("Munits/s") == i_floor - 2,
                 f"table: no Munits/s, GiB/s columns before floor in {lines[0]!r}"):
        return
    nfloorless = 0
    for line in lines[1:]:
        f = line.split()
        if not check(len(f) == len(header) - 1, f"table: {len(f)} fields in {line!r}"):
            continue
        # lookups cover no range of guest memory: no GiB/s, and only they lack one
        lookup = f[2] == "lookup"
        check((f[i_floor - 1] == "-") == lookup and f[i_floor - 2] != "-",
              f"table: rates {f[i_floor - 2]!r} {f[i_floor - 1]!r} in {line!r}")
        if is_floorless(f[0], f[1], f[2]):
            nfloorless += 1
            check(f[i_floor] == "-" and f[i_floor + 1] == "-",
                  f"table: floor-less row shows {f[i_floor]!r} {f[i_floor + 1]!r}")
        else:
            check(f[i_floor] != "-" and f[i_floor + 1] != "-",
                  f"table: row lost its floor: {line!r}")
    check(nfloorless == 1, f"table: {nfloorless} floor-less rows, expected 1")
    check("\n\n" in out, "table: no blank line between configurations")


def main():
    if len(sys.argv) != 3:
        print("usage: check_report.py REPORT_SAMPLE TMPDIR", file=sys.stderr)
        return 2
    binary, tmpdir = os.path.abspath(sys.argv[1]), sys.argv[2]
    os.makedirs(tmpdir, exist_ok=True)
    for name, fn in (("json", check_json), ("csv", check_csv), ("table", check_table)):
        try:
            fn(binary)
        except Exception as e:  # a crash in one format should not hide the others
            check(False, f"{name}: {type(e).__name__}: {e}")
    try:
        check_svg(binary, tmpdir)
    except Exception as e:
        check(False, f"svg: {type(e).__name__}: {e}")
    return verdict("check_report: all formats OK")


if __name__ == "__main__":
    sys.exit(main())
