#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The README's table of stack use per public call, held to the build.

readme_stack.py check  --readme README.md --format F --tolerance BYTES --max BYTES
                       --compiler "gcc 12.2.0" --cidir DIR --nm NM LIB
readme_stack.py update --readme README.md --format F (--report FILE | --cidir DIR --nm NM LIB)

F is the format of a one-format freestanding build (arm64, riscv or x86);
it picks the table's column. The measured depths are those of fs_stack
(check_lib.py's stack_rows, from gcc's -fcallgraph-info=su call graph),
computed again here rather than read from fs_stack's report, so the two
tests may run in any order.

check fails when a row of the column differs from the measurement by more
than --tolerance bytes, when the "deepest" row is not the deepest public
call, when a row names a call the library does not export, or when the bound
the README states for fs_stack is not --max. It skips (exit 77) when the
build's compiler is not the one the README's figures were measured with:
other compilers lay out frames differently.

update rewrites the column from the measurement (or from a stack-usage.txt
that fs_stack wrote, e.g. build-fs-aarch64/tests/freestanding/stack-usage.txt),
leaving every other column and any text after a number (such as "(no A/D
yet)") as it was.
"""
import argparse
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_lib  # noqa: E402

TABLE_START = "**Stack use per public call**"
COLUMN_KEY = {"arm64": "arm64", "riscv": "RISC-V", "x86": "EPT"}
CALL = re.compile(r"`(tdp_[a-z0-9_]+)`")
NUMBER = re.compile(r"^(\**)(\d+)(.*)$")
COMPILER = re.compile(r"\((gcc|clang) (\d+),")
BOUND = re.compile(r"exceeds (\d+) bytes")


def find_table(lines):
    """(index of the header row, column names, the introduction's text) of the stack table."""
    for i, line in enumerate(lines):
        if line.startswith(TABLE_START):
            for j in range(i + 1, min(i + 10, len(lines))):
                if lines[j].startswith("| call |"):
                    return (j, [c.strip() for c in lines[j].strip().strip("|").split("|")],
                            "\n".join(lines[i:j]))
    raise SystemExit("README: no stack table after " + TABLE_START)


def column_of(cols, fmt):
    key = COLUMN_KEY[fmt]
    hits = [k for k, c in enumerate(cols) if key in c]
    if len(hits) != 1:
        raise SystemExit(f"README: {len(hits)} stack table columns mention {key!r}")
    return hits[0]


def table_rows(lines, head):
    """Yield (line index, cells) for each body row of the table at head."""
    for i in range(head + 2, len(lines)):
        if not lines[i].startswith("|"):
            return
        yield i, [c.strip() for c in lines[i].strip().strip("|").split("|")]


def measured(a):
    if getattr(a, "report", None):
        rows = []
        with open(a.report, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    d, n = line.split()
                    rows.append((int(d), n))
        return dict((n, d) for d, n in rows)
    rows, errors = check_lib.stack_rows(a.cidir, a.nm, a.lib)
    if not rows:
        raise SystemExit("\n".join(errors))
    # errors such as recursion are fs_stack's to report; the depths stand
    return dict((n, d) for d, n in rows)


def cmd_check(a):
    with open(a.readme, encoding="utf-8") as f:
        text = f.read()
    lines = text.splitlines()
    head, cols, intro = find_table(lines)
    col = column_of(cols, a.format)
    want = COMPILER.search(intro)
    have = a.compiler.split()
    if not want or not have or want.group(1) != have[0] or want.group(2) != have[1].split(".")[0]:
        named = f"{want.group(1)} {want.group(2)}" if want else "(no compiler named)"
        print(f"README figures are for {named}; "
              f"this build uses {a.compiler}: not compared")
        return 77
    depth = measured(a)
    errors, seen = [], 0
    for _, cells in table_rows(lines, head):
        num = NUMBER.match(cells[col])
        if not num:
            errors.append(f"row {cells[0]!r}: no number in column {cols[col]!r}: {cells[col]!r}")
            continue
        stated = int(num.group(2))
        call = CALL.search(cells[0])
        if call:
            name = call.group(1)
            if name not in depth:
                errors.append(f"{name}: in the README, not a public call of this library")
                continue
            got = depth[name]
        elif "deepest" in cells[0]:
            name, got = "deepest", max(depth.values())
        else:
            errors.append(f"row {cells[0]!r}: neither a call nor the deepest row")
            continue
        seen += 1
        if abs(stated - got) > a.tolerance:
            errors.append(f"{name}: README says {stated}, the build measures {got} "
                          f"(tolerance {a.tolerance})")
    bounds = set(BOUND.findall(text))
    if bounds != {str(a.max)}:
        errors.append(f"README states the fs_stack bound as {sorted(bounds) or 'nothing'}, "
                      f"the test uses {a.max}")
    if errors:
        print("\n".join(errors))
        print("after a deliberate change: tests/freestanding/readme_stack.py update --readme "
              "README.md --format " + a.format + " --report <build>/tests/freestanding/"
              "stack-usage.txt")
        return 1
    print(f"README column {cols[col]!r}: {seen} rows within {a.tolerance} bytes of the build")
    return 0


def cmd_update(a):
    with open(a.readme, encoding="utf-8") as f:
        text = f.read()
    lines = text.split("\n")
    head, cols, _ = find_table(lines)
    col = column_of(cols, a.format)
    depth = measured(a)
    changed = 0
    for i, cells in table_rows(lines, head):
        call = CALL.search(cells[0])
        if call and call.group(1) in depth:
            got = depth[call.group(1)]
        elif not call and "deepest" in cells[0]:
            got = max(depth.values())
        else:
            continue
        num = NUMBER.match(cells[col])
        if not num:
            continue
        stars = num.group(1)
        new = f"{stars}{got}{num.group(3)}" if stars else f"{got}{num.group(3)}"
        if new != cells[col]:
            changed += 1
            cells[col] = new
            lines[i] = "| " + " | ".join(cells) + " |"
    with open(a.readme, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    print(f"README column {cols[col]!r}: {changed} rows rewritten")
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("check", "update"):
        s = sub.add_parser(name)
        s.add_argument("--readme", required=True)
        s.add_argument("--format", required=True, choices=sorted(COLUMN_KEY))
        s.add_argument("--cidir")
        s.add_argument("--nm")
        s.add_argument("lib", nargs="?")
        if name == "check":
            s.add_argument("--tolerance", type=int, required=True)
            s.add_argument("--max", type=int, required=True)
            s.add_argument("--compiler", required=True)
        else:
            s.add_argument("--report")
    a = ap.parse_args()
    if not getattr(a, "report", None) and not (a.cidir and a.nm and a.lib):
        ap.error("give --cidir, --nm and LIB" + (" (or --report)" if a.cmd == "update" else ""))
    return cmd_check(a) if a.cmd == "check" else cmd_update(a)


if __name__ == "__main__":
    sys.exit(main())
