#!/usr/bin/env bash
# README's subproject recipe, run as written: a parent project (its meson.build
# taken from the README) with libtdp in subprojects/libtdp, configured with no
# option. Checks: the program links and runs; the build has two targets, the
# library and the program (no tests, bench, kit, fuzzers, no cmocka); the
# parent's `meson install` installs its program and nothing of libtdp.
# Usage: subproject.sh SOURCE_ROOT WORK_DIR
set -euo pipefail
src=$(cd "$1" && pwd)
work=$2
rm -rf "$work"
mkdir -p "$work/parent/subprojects"
work=$(cd "$work" && pwd)
parent=$work/parent
ln -s "$src" "$parent/subprojects/libtdp"
cp "$src/tests/consumer/main.c" "$parent/myhv.c"
"$src/tests/consumer/extract.sh" "$src/README.md" subproject/meson.build >"$parent/meson.build"
"$src/tests/consumer/extract.sh" "$src/README.md" subproject.sh >"$work/recipe.sh"
(cd "$parent" && env -i PATH="$PATH" HOME="$work" bash -euo pipefail "$work/recipe.sh") \
	>"$work/recipe.log" 2>&1 || { cat "$work/recipe.log"; echo "subproject.sh: the recipe failed"; exit 1; }
fail() { echo "subproject.sh: $*"; exit 1; }
targets=$(meson introspect --targets "$parent/build" |
	python3 -c 'import json, sys; print(" ".join(sorted(t["name"] for t in json.load(sys.stdin))))')
[ "$targets" = "myhv tdp" ] || fail "targets are '$targets', not 'myhv tdp'"
if grep -qi cmocka "$parent/build/meson-logs/meson-log.txt"; then fail "the configure looked for cmocka"; fi
meson install -C "$parent/build" --destdir "$work/dest" >"$work/install.log" 2>&1 ||
	{ cat "$work/install.log"; fail "meson install failed"; }
installed=$(cd "$work/dest" && find . ! -type d | sort | tr '\n' ' ')
[ "$installed" = "./usr/local/bin/myhv " ] || fail "the parent installed '$installed', not its myhv alone"
echo "subproject.sh: ok"
