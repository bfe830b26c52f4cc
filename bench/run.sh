#!/usr/bin/env bash
# The main job: an optimised build of tdp-bench, run across the three formats.
# Arguments go to tdp-bench as they are, e.g. bench/run.sh --workload W4 --threads 2
# (shared mode next to exclusive W4; see tdp-bench --help).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f build-bench/build.ninja ]; then
	meson configure build-bench --buildtype=release -Doptimization=2 -Dtests=false -Darchs=arm64,x86,riscv >/dev/null
else
	meson setup build-bench --buildtype=release -Doptimization=2 -Dtests=false -Darchs=arm64,x86,riscv >/dev/null
fi
meson compile -C build-bench >/dev/null
exec build-bench/bench/tdp-bench "$@"
