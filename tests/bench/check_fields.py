#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The README's "Reading the benchmark" documents exactly what tdp-bench writes.

Usage: check_fields.py TDP_BENCH README.md

Two tiny runs (one configuration, W4 with 256 calls; once with --threads 2,
which adds the threads and scale fields) give the CSV header, the JSON keys
and the table's header line. The README's "field" table must list the CSV
header's fields in its order, its "column" entries must be exactly the
table's columns, the fields it marks "only with `--threads`" must be what
--threads adds, and its "meta" table must list the JSON meta keys.
"""
import csv
import io
import json
import re
import subprocess
import sys

from checks import check, verdict

RUN = ["--config", "ept-4l", "--workload", "W4", "--calls", "256", "--reps", "1"]
ONLY_THREADS = "only with `--threads`"


def section(text, title):
    """The lines of one '## ' section, without its heading."""
    lines, inside = [], False
    for line in text.splitlines():
        if line.startswith("## "):
            if inside:
                break
            inside = line[3:].strip() == title
            continue
        if inside:
            lines.append(line)
    return lines


def tables(lines):
    """Markdown tables as {first header cell: [row cells, ...]}."""
    found, i = {}, 0
    while i < len(lines):
        if lines[i].startswith("|") and i + 1 < len(lines) and re.match(r"^\|[-| ]+\|$", lines[i + 1]):
            head = [c.strip() for c in lines[i].strip("|").split("|")]
            rows, i = [], i + 2
            while i < len(lines) and lines[i].startswith("|"):
                rows.append([c.strip() for c in lines[i].strip("|").split("|")])
                i += 1
            found[head[0]] = rows
        else:
            i += 1
    return found


def name(cell):
    m = re.fullmatch(r"`([^`]+)`", cell)
    return m.group(1) if m else None


def run(bench, *extra):
    """CSV header, JSON (rows' keys, meta's keys) and the table's header of one tiny run."""
    got = {}
    for fmt in ("csv", "json", "table"):
        p = subprocess.run([bench, *RUN, *extra, "--format", fmt], capture_output=True, text=True,
                           timeout=120)
        if p.returncode != 0:
            sys.exit(f"tdp-bench {' '.join(RUN + list(extra))} --format {fmt} failed:\n{p.stderr}")
        got[fmt] = p.stdout
    header = next(csv.reader(io.StringIO(got["csv"])))
    doc = json.loads(got["json"])
    return header, doc, got["table"].splitlines()[0]


def main():
    if len(sys.argv) != 3:
        print("usage: check_fields.py TDP_BENCH README.md", file=sys.stderr)
        return 2
    bench, readme = sys.argv[1], sys.argv[2]
    with open(readme, encoding="utf-8") as f:
        found = tables(section(f.read(), "Reading the benchmark"))
    if not check("field" in found and "meta" in found,
                 f"README: no 'field' and 'meta' tables in \"Reading the benchmark\" "
                 f"(tables: {sorted(found)})"):
        return report()
    fields = [name(r[0]) for r in found["field"]]
    optional = {name(r[0]) for r in found["field"] if ONLY_THREADS in r[2]}
    # (column, only with --threads) for the fields the table shows
    columns = [(name(r[1]), name(r[0]) in optional) for r in found["field"] if r[1] != "-"]
    meta = [name(r[0]) for r in found["meta"]]
    meta_optional = {name(r[0]) for r in found["meta"] if ONLY_THREADS in r[1]}
    check(None not in fields + [c for c, _ in columns] + meta,
          "README: a field, column or meta cell is not one `name`")

    plain = run(bench)
    threaded = run(bench, "--threads", "2")
    for what, (header, doc, table), extra in (("without --threads", plain, set()),
                                              ("with --threads 2", threaded, optional)):
        want = [f for f in fields if f not in optional or f in extra]
        check(header == want, f"{what}: CSV header {header}\n  README lists {want}")
        for r in doc["rows"]:
            if not check(list(r) == header, f"{what}: JSON row keys {list(r)} differ from the CSV "
                                             f"header {header}"):
                break
        want_meta = [m for m in meta if m not in meta_optional or extra]
        check(list(doc["meta"]) == want_meta,
              f"{what}: JSON meta keys {list(doc['meta'])}\n  README lists {want_meta}")
        # the header's names are separated by spaces but "x floor" holds one: take the
        # documented names out one by one, longest first, and nothing may be left
        cols = [c for c, opt in columns if not opt or extra]
        rest = table
        for c in sorted(cols, key=len, reverse=True):
            hit = re.search(r"(^| )" + re.escape(c) + r"( |$)", rest)
            if check(hit, f"{what}: README column {c!r} is not in the table header {table!r}"):
                rest = rest[:hit.start()] + "  " + rest[hit.end():]
        check(not rest.strip(), f"{what}: table columns {rest.split()} are not in the README")
    return report()


def report():
    return verdict("check_fields: README and tdp-bench agree")


if __name__ == "__main__":
    sys.exit(main())
