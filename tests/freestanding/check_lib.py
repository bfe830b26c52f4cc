#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""What a freestanding libtdp build promises, checked on the build itself.

check_lib.py symbols --nm NM LIB [--allow SYM ...]
    Every symbol the static library references is defined inside it, apart
    from the --allow list (empty: nothing from libc, no memset/memcpy, no
    libgcc helpers such as __aarch64_cas8_*).

check_lib.py headers --ninja NINJA --builddir DIR --srcdir DIR --allow-dir DIR ...
                     [--allow-file FILE ...]
    Every header the library's objects were compiled against (ninja's
    dependency log) is in the source tree or an --allow-dir (the compiler's
    own include directory, libatomic_ops'), never a libc header.

check_lib.py stack --cidir DIR --nm NM LIB --max BYTES [--report FILE]
    From gcc's -fcallgraph-info=su files: the deepest stack each public
    function can use, its frame plus its deepest chain of callees. Fails on
    recursion (a cycle), on a frame of dynamic size, on a callee whose size
    is unknown, or on a total above --max. Calls through a pointer are the
    caller's callbacks (memory, TLB and walk operations) and count as zero:
    the caller adds its own callbacks' use.
"""
import argparse
import os
import re
import subprocess
import sys


def nm_symbols(nm, lib):
    """(defined global names, undefined names) over every member of lib."""
    out = subprocess.run([nm, "-A", lib], check=True, capture_output=True, text=True).stdout
    defined, undefined, public = set(), set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        typ, name = parts[-2], parts[-1]
        if typ == "U":
            undefined.add(name)
        elif typ in "TDRBVWtdrbvwCG":
            defined.add(name)
            if typ == "T" and name.startswith("tdp_") and not name.startswith("tdp__"):
                public.add(name)
    return defined, undefined, public


def cmd_symbols(a):
    defined, undefined, _ = nm_symbols(a.nm, a.lib)
    missing = sorted(undefined - defined - set(a.allow or []))
    if missing:
        print("undefined symbols outside the library: " + ", ".join(missing))
        return 1
    print(f"{os.path.basename(a.lib)}: {len(undefined)} references, all defined inside "
          f"(allowed outside: {', '.join(a.allow or []) or 'none'})")
    return 0


def cmd_headers(a):
    out = subprocess.run([a.ninja, "-C", a.builddir, "-t", "deps"], check=True,
                         capture_output=True, text=True).stdout
    roots = [os.path.realpath(a.srcdir)] + [os.path.realpath(d) for d in a.allow_dir]
    files = {os.path.realpath(f) for f in a.allow_file}
    bad, seen, target = set(), 0, None
    for line in out.splitlines():
        if line and not line.startswith(" "):
            target = line.split(":")[0]
            continue
        path = line.strip()
        if not path or not target or "libtdp.a.p" not in target:
            continue
        full = os.path.realpath(os.path.join(a.builddir, path))
        seen += 1
        if full not in files and not any(full.startswith(r + os.sep) for r in roots):
            bad.add(full)
    if seen == 0:
        print("no dependency information for the library's objects (not built yet?)")
        return 1
    if bad:
        print("headers from outside the allowed directories:\n  " + "\n  ".join(sorted(bad)))
        return 1
    print(f"{seen} header dependencies, all in: " + ", ".join(roots))
    return 0


NODE = re.compile(r'node: \{ title: "([^"]+)" label: "([^"]*)"')
EDGE = re.compile(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"')
SIZE = re.compile(r"\\n(\d+) bytes \(([a-z,]+)\)")


def load_graph(cidir):
    """Per file: {name: (bytes, qualifier)} for defined functions, [(src, dst)] edges."""
    files = {}
    for fn in sorted(os.listdir(cidir)):
        if not fn.endswith(".ci"):
            continue
        nodes, edges = {}, []
        with open(os.path.join(cidir, fn), encoding="utf-8", errors="replace") as f:
            for line in f:
                m = NODE.search(line)
                if m:
                    s = SIZE.search(m.group(2))
                    if s:
                        nodes[m.group(1)] = (int(s.group(1)), s.group(2))
                    continue
                m = EDGE.search(line)
                if m:
                    edges.append((m.group(1), m.group(2)))
        files[fn] = (nodes, edges)
    return files


def stack_rows(cidir, nm, lib):
    """([(deepest stack in bytes, public function)], deepest first; [errors]).

    Also used by readme_stack.py, which compares the README's table with it.
    """
    files = load_graph(cidir)
    if not files:
        return [], [f"no .ci files in {cidir}: was the library built with -fcallgraph-info=su?"]
    _, _, public = nm_symbols(nm, lib)
    # A function is (file, name); a call resolves in its own file first
    # (static functions of the same name live in every format variant).
    exported = {}
    for fn, (nodes, _) in files.items():
        for name in nodes:
            exported.setdefault(name, []).append(fn)
    callees, frame, errors = {}, {}, []
    for fn, (nodes, edges) in files.items():
        for name, (size, qual) in nodes.items():
            frame[(fn, name)] = size
            callees.setdefault((fn, name), [])
            # "dynamic,bounded" is a realigned frame whose bound gcc gives
            if qual not in ("static", "dynamic,bounded"):
                errors.append(f"{name} ({fn}): frame of {qual} size")
        for src, dst in edges:
            if dst == "__indirect_call":
                continue
            if dst in nodes:
                callees[(fn, src)].append((fn, dst))
            elif dst in exported and len(exported[dst]) == 1:
                callees[(fn, src)].append((exported[dst][0], dst))
            else:
                errors.append(f"{src} ({fn}) calls {dst}, whose stack use is unknown")

    depth, state = {}, {}

    def deepest(root):
        # iterative depth-first search: the checker obeys the rule it checks
        stack = [(root, iter(callees[root]))]
        state[root] = "open"
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                stack.pop()
                depth[node] = frame[node] + max((depth[c] for c in callees[node]), default=0)
                state[node] = "done"
            elif state.get(nxt) == "open":
                errors.append("recursion: " + " -> ".join(n for _, n in
                              [s[0] for s in stack] + [nxt]))
            elif nxt not in state:
                state[nxt] = "open"
                stack.append((nxt, iter(callees[nxt])))

    rows = []
    for (fn, name) in sorted(frame):
        if name in public:
            if (fn, name) not in state:
                deepest((fn, name))
            rows.append((depth.get((fn, name), 0), name))
    if not rows:
        errors.append("no public function found in the call graph")
    rows.sort(reverse=True)
    return rows, errors


def cmd_stack(a):
    rows, errors = stack_rows(a.cidir, a.nm, a.lib)
    if not rows and errors:
        print("\n".join(errors))
        return 1
    text = "".join(f"{d:6d}  {n}\n" for d, n in rows)
    if a.report:
        with open(a.report, "w", encoding="utf-8") as f:
            f.write(text)
    sys.stdout.write(text)
    worst = rows[0][0] if rows else 0
    if worst > a.max:
        errors.append(f"{rows[0][1]} may use {worst} bytes of stack, above the bound {a.max}")
    if errors:
        print("\n".join(errors))
        return 1
    print(f"deepest public call: {worst} bytes ({rows[0][1]}), bound {a.max}")
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("symbols")
    s.add_argument("--nm", required=True)
    s.add_argument("--allow", nargs="*")
    s.add_argument("lib")
    h = sub.add_parser("headers")
    h.add_argument("--ninja", required=True)
    h.add_argument("--builddir", required=True)
    h.add_argument("--srcdir", required=True)
    h.add_argument("--allow-dir", action="append", default=[])
    h.add_argument("--allow-file", action="append", default=[])
    k = sub.add_parser("stack")
    k.add_argument("--cidir", required=True)
    k.add_argument("--nm", required=True)
    k.add_argument("--max", type=int, required=True)
    k.add_argument("--report")
    k.add_argument("lib")
    a = ap.parse_args()
    return {"symbols": cmd_symbols, "headers": cmd_headers, "stack": cmd_stack}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
