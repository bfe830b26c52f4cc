#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The symbols a library exports are exactly the functions its headers declare.

check_exports.py --gcc GCC --readelf READELF -I DIR [--headers-in DIR [--skip NAME ...]]
                 [--header H ...] LIB

Declared: every function the headers H (and every *.h in --headers-in but
the --skip ones) declare (not static inline), as gcc
lists them (-aux-info) from a translation unit including them, counting only
declarations whose file is one of H (not what they include); plus `extern`
objects of H. Exported: for a shared library its dynamic symbol table's
defined global symbols; for a static library (libtdp.a, which has no export
table) its members' defined global symbols of default visibility, the ones a
shared object linked from it would export. Fails when a symbol is exported
and not declared (an internal symbol leaking: a missing hidden visibility or
a TDP_API on an internal function) or declared and not exported as a
function (a public function without TDP_API, or not built).

--expect-bad NAME (repeatable) turns the check into its own negative control:
it passes only if the symbols it finds wrong are exactly the NAMEs.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

AUX = re.compile(r"^/\* (?P<file>.+?):\d+:[NO][CF] \*/ (?P<decl>.*)$")
NAME = re.compile(r"(\w+) \(")


def declared(gcc, incdirs, headers):
    """(functions, objects) the headers declare, by name."""
    paths = {os.path.realpath(h) for h in headers}
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "decls.c")
        aux = os.path.join(tmp, "decls.aux")
        with open(src, "w") as f:
            f.writelines(f'#include "{os.path.realpath(h)}"\n' for h in headers)
        cmd = [gcc, "-std=c11", "-fsyntax-only", "-aux-info", aux, src]
        cmd += [f"-I{os.path.realpath(d)}" for d in incdirs]
        subprocess.run(cmd, check=True, cwd=tmp)
        funcs = set()
        with open(aux) as f:
            for line in f:
                m = AUX.match(line.strip())
                if not m or os.path.realpath(os.path.join(tmp, m["file"])) not in paths:
                    continue
                if re.match(r"static\b", m["decl"]):
                    continue  # static inline: nothing to export
                n = NAME.search(m["decl"])
                if n:
                    funcs.add(n.group(1))
    objects = set()
    for h in headers:
        with open(h) as f:
            for line in f:
                m = re.search(r"\bextern\b[^(]*?\b(\w+)\s*;", line)
                if m:
                    objects.add(m.group(1))
    return funcs, objects


def exported(readelf, lib):
    """{name: type} of the library's exported symbols."""
    shared = not lib.endswith(".a")
    cmd = [readelf, "-W", "--dyn-syms" if shared else "-s", lib]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    syms = {}
    for line in out.splitlines():
        parts = line.split()
        # Num: Value Size Type Bind Vis Ndx Name
        if len(parts) < 8 or not parts[0].endswith(":") or not parts[0][:-1].isdigit():
            continue
        typ, bind, vis, ndx, name = parts[3], parts[4], parts[5], parts[6], parts[7]
        if ndx == "UND" or bind not in ("GLOBAL", "WEAK") or vis not in ("DEFAULT", "PROTECTED"):
            continue
        # AddressSanitizer's one-definition-rule markers of exported objects
        # (__odr_asan.NAME) are the compiler's, not the library's API
        if name.startswith("__odr_asan."):
            continue
        syms[name.split("@")[0]] = typ
    return syms


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gcc", required=True)
    ap.add_argument("--readelf", required=True)
    ap.add_argument("-I", dest="incdirs", action="append", default=[])
    ap.add_argument("--headers-in")
    ap.add_argument("--skip", action="append", default=[])
    ap.add_argument("--header", action="append", default=[])
    ap.add_argument("--expect-bad", action="append", default=[])
    ap.add_argument("lib")
    a = ap.parse_args()
    if a.headers_in:
        a.header += [os.path.join(a.headers_in, n) for n in sorted(os.listdir(a.headers_in))
                     if n.endswith(".h") and n not in a.skip]
    funcs, objects = declared(a.gcc, a.incdirs, a.header)
    syms = exported(a.readelf, a.lib)
    if not funcs:
        print("no function declared in " + ", ".join(a.header))
        return 1
    bad = {}
    for name in sorted(set(syms) - funcs - objects):
        bad[name] = f"exported, not declared: {name} ({syms[name]})"
    for name in sorted(funcs):
        if syms.get(name) != "FUNC":
            bad[name] = f"declared, not exported as a function: {name}"
    for name in sorted(objects):
        if syms.get(name) != "OBJECT":
            bad[name] = f"declared, not exported as an object: {name}"
    lib = os.path.basename(a.lib)
    for b in bad.values():
        print(f"{lib}: {b}")
    if a.expect_bad:
        ok = set(bad) == set(a.expect_bad)
        print(f"{lib}: expected wrong: {', '.join(sorted(a.expect_bad))}: "
              + ("found exactly those" if ok else "not what was found"))
        return 0 if ok else 1
    if bad:
        return 1
    print(f"{lib}: exports exactly the {len(funcs)} functions and {len(objects)} objects "
          f"its headers declare")
    return 0

if __name__ == "__main__":
    sys.exit(main())
