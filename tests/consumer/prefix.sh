#!/usr/bin/env bash
# README's "installed prefix" recipe, run as written: libtdp installed into a
# scratch $HOME, a program built through pkg-config against the shared library
# (rpath) and the static one. Then what the recipe promises: the shared build
# needs libtdp.so.0 and runs only while the prefix exists, the static one needs
# no libtdp at all. Usage: prefix.sh SOURCE_ROOT WORK_DIR
set -euo pipefail
src=$(cd "$1" && pwd)
work=$2
rm -rf "$work"
mkdir -p "$work/home"
work=$(cd "$work" && pwd)
ln -s "$src" "$work/libtdp"
cp "$src/tests/consumer/main.c" "$work/myhv.c"
"$src/tests/consumer/extract.sh" "$src/README.md" prefix.sh >"$work/recipe.sh"
# A clean environment: nothing from the caller's PKG_CONFIG_PATH or LD_LIBRARY_PATH helps.
(cd "$work" && env -i PATH="$PATH" HOME="$work/home" bash -euo pipefail recipe.sh) \
	>"$work/recipe.log" 2>&1 || { cat "$work/recipe.log"; echo "prefix.sh: the recipe failed"; exit 1; }
fail() { echo "prefix.sh: $*"; exit 1; }
lib=$work/home/opt/libtdp/lib
readelf -d "$lib/libtdp.so.0.1.0" | grep -q 'Library soname: \[libtdp.so.0\]' ||
	fail "libtdp.so.0.1.0 has no SONAME libtdp.so.0"
[ "$(readlink "$lib/libtdp.so.0")" = libtdp.so.0.1.0 ] || fail "no libtdp.so.0 -> libtdp.so.0.1.0"
readelf -d "$work/myhv" | grep -q 'Shared library: \[libtdp.so.0\]' || fail "myhv does not need libtdp.so.0"
if readelf -d "$work/myhv-static" | grep -q 'Shared library: \[libtdp'; then
	fail "myhv-static needs a shared libtdp"
fi
mv "$work/home/opt" "$work/home/opt.gone"
if "$work/myhv" >/dev/null 2>&1; then fail "myhv ran without its prefix: it did not use the shared library"; fi
"$work/myhv-static" >/dev/null || fail "myhv-static needs the prefix at run time"
echo "prefix.sh: ok"
