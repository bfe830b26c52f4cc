#!/usr/bin/env bash
# Before/after ratios of two tdp-bench builds measured in one run: the two
# binaries alternate for ROUNDS rounds (so drift in the machine hits both),
# and each row's ns_med is reduced to its median over the rounds.
#   bench/compare.sh BEFORE_BIN AFTER_BIN ROUNDS [tdp-bench arguments...]
# e.g. bench/compare.sh /tmp/old/build-bench/bench/tdp-bench \
#          build-bench/bench/tdp-bench 15 --workload W1,W4,W5 --reps 9
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: $0 BEFORE_BIN AFTER_BIN ROUNDS [tdp-bench args]" >&2; exit 2; }
before=$1 after=$2 rounds=$3
shift 3
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for r in $(seq 1 "$rounds"); do
	"$before" "$@" --csv >"$out/before.$r.csv"
	"$after" "$@" --csv >"$out/after.$r.csv"
done
python3 - "$out" <<'PY'
import csv, glob, statistics, sys
def load(kind):
    rows = {}
    for f in sorted(glob.glob(f"{sys.argv[1]}/{kind}.*.csv")):
        for r in csv.DictReader(open(f)):
            rows.setdefault((r["config"], r["workload"], r["op"]), []).append(float(r["ns_med"]))
    return rows
b, a = load("before"), load("after")
print(f"{'config':20} {'work':5} {'op':9} {'before':>9} {'after':>9} {'ratio':>6}")
for k in b:
    if k in a:
        mb, ma = statistics.median(b[k]), statistics.median(a[k])
        print(f"{k[0]:20} {k[1]:5} {k[2]:9} {mb:9.3f} {ma:9.3f} {ma / mb:6.3f}")
PY
