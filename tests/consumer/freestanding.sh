#!/usr/bin/env bash
# README's freestanding recipe, run as written in a copy of the checkout (it
# builds inside the source tree): configure, compile and the freestanding
# checks for arm64 EL2. Checks: the recipe succeeds (its meson test runs the
# symbol, header and stack checks) and libtdp.a defines the public API.
# Usage: freestanding.sh SOURCE_ROOT WORK_DIR
set -euo pipefail
src=$(cd "$1" && pwd)
work=$2
rm -rf "$work"
mkdir -p "$work/libtdp"
work=$(cd "$work" && pwd)
# the tracked files only: no build directories of the checkout come along
(cd "$src" && git ls-files -z 2>/dev/null || find . -path ./build\* -prune -o -type f -print0) |
	(cd "$src" && xargs -0 cp --parents -t "$work/libtdp")
"$src/tests/consumer/extract.sh" "$src/README.md" freestanding.sh >"$work/recipe.sh"
(cd "$work/libtdp" && env -i PATH="$PATH" HOME="$work" bash -euo pipefail "$work/recipe.sh") \
	>"$work/recipe.log" 2>&1 || { cat "$work/recipe.log"; echo "freestanding.sh: the recipe failed"; exit 1; }
fail() { echo "freestanding.sh: $*"; exit 1; }
lib=$(find "$work/libtdp" -name libtdp.a -path '*build*' | head -n 1)
[ -n "$lib" ] || fail "the recipe left no libtdp.a"
syms=$(aarch64-linux-gnu-nm --defined-only "$lib")
for f in tdp_pgtable_init tdp_map tdp_unmap tdp_arm64_vttbr tdp_strerror; do
	grep -q " T $f\$" <<<"$syms" || fail "$lib does not define $f"
done
grep -q "Ok:  *[1-9]" "$work/recipe.log" || fail "the recipe's meson test ran no check"
echo "freestanding.sh: ok"
