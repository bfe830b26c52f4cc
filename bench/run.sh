#!/usr/bin/env bash
# The main job: an optimised build of tdp-bench, run across the three formats.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f build-bench/build.ninja ]; then
	meson configure build-bench --buildtype=release -Doptimization=2 -Dtests=false -Darchs=arm64,x86,riscv >/dev/null
else
	meson setup build-bench --buildtype=release -Doptimization=2 -Dtests=false -Darchs=arm64,x86,riscv >/dev/null
fi
meson compile -C build-bench >/dev/null
exec build-bench/bench/tdp-bench "$@"
