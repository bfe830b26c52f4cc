#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Run one emulator test and decide it from what the hypervisor printed.

Usage: run.py [--timeout S] [--cwd DIR] -- COMMAND ARGS...

The bare-metal hypervisors print "TDP-EMU: PASS" as their last word when
every check held, or "TDP-EMU: FAIL <why>" on the first that did not. The
emulator's own exit status is not used (Bochs has none worth reading, and
QEMU's semihosting exit code is checked by the line anyway). Exit 0 only on
a PASS line with no FAIL line before the emulator stopped or timed out.
"""
import argparse
import subprocess
import sys

PASS = "TDP-EMU: PASS"
FAIL = "TDP-EMU: FAIL"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--cwd", default=None)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    if not cmd:
        ap.error("no command")
    try:
        p = subprocess.run(cmd, cwd=a.cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=a.timeout)
        out, how = p.stdout, f"exit status {p.returncode}"
    except subprocess.TimeoutExpired as e:
        out, how = e.stdout or b"", f"timed out after {a.timeout:g} s"
    text = out.decode("utf-8", "replace").replace("\r", "")
    sys.stdout.write(text)
    lines = [ln.strip() for ln in text.splitlines()]
    failed = [ln for ln in lines if FAIL in ln]
    passed = any(ln.endswith(PASS) for ln in lines)
    if failed:
        print(f"run.py: the hypervisor reported a failure ({how}): {failed[0]}")
        return 1
    if not passed:
        print(f"run.py: no '{PASS}' line ({how})")
        return 1
    print(f"run.py: passed ({how})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
