# SPDX-License-Identifier: MIT
"""What the bench output checks share: failures gathered rather than the
first one raised (a run shows every mismatch), and the SVG namespace."""

SVG_NS = "{http://www.w3.org/2000/svg}"

failures = []


def check(cond, what):
    """Record `what` as a failure unless cond holds; returns cond."""
    if not cond:
        failures.append(what)
    return cond


def verdict(ok_line):
    """Print the failures (or ok_line when there are none); the exit status."""
    for what in failures:
        print("FAIL", what)
    if failures:
        return 1
    print(ok_line)
    return 0
