#!/usr/bin/env bash
# The main job: an optimised build of tdp-bench, run across the three formats.
# Arguments go to tdp-bench as they are, e.g. bench/run.sh --workload W4 --threads 2
# (shared mode next to exclusive W4; see tdp-bench --help). The run's table,
# CSV, JSON and plot land in bench/results/DATE-TIME/ unless --out DIR names
# another directory. The script stays in the caller's directory, so relative
# paths (--out, --plot) mean what they mean where it was typed.
# TDP_BENCH=path/to/tdp-bench runs that binary instead of building one (the
# tests run the script this way, with the test build's tdp-bench).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bench=${TDP_BENCH:-}
if [ -z "$bench" ]; then
	opts=(--buildtype=release -Doptimization=2 -Dtests=false -Darchs=arm64,x86,riscv)
	if [ -f "$root/build-bench/build.ninja" ]; then
		meson configure "$root/build-bench" "${opts[@]}" >/dev/null
	else
		meson setup "$root/build-bench" "$root" "${opts[@]}" >/dev/null
	fi
	meson compile -C "$root/build-bench" >/dev/null
	bench=$root/build-bench/bench/tdp-bench
fi
# Before the caller's arguments: an --out among them comes later and wins.
exec "$bench" --out "$root/bench/results/$(date +%Y-%m-%d-%H%M%S)" "$@"
