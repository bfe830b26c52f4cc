#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Run the negative control and fail (exit 1) only for the intended reason.

Usage: negative.py EXPECTED -- run.py ARGS...

The test is registered with should_fail, which accepts any failure; a
negative control that failed to boot would then look like a success. So:
exit 1 when the run failed with a "TDP-EMU: FAIL" line containing EXPECTED,
and 0 (meson: unexpected pass) when it passed or failed some other way.
"""
import subprocess
import sys


def main() -> int:
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        sys.exit(__doc__)
    expected, cmd = sys.argv[1], sys.argv[3:]
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    out = p.stdout.decode("utf-8", "replace")
    sys.stdout.write(out)
    fails = [ln for ln in out.splitlines() if "TDP-EMU: FAIL" in ln]
    if p.returncode != 0 and fails and expected in fails[0]:
        print(f"negative.py: failed as intended ({expected!r})")
        return 1
    print(f"negative.py: did not fail with {expected!r}: counts as a broken control")
    return 0


if __name__ == "__main__":
    sys.exit(main())
