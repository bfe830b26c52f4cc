#!/usr/bin/env bash
# Link checks for the README's instructions: libtdp as a Meson subproject and
# through its installed pkg-config file. Usage: check.sh SOURCE_ROOT WORK_DIR
set -euo pipefail
src=$(cd "$1" && pwd)
work=$2
rm -rf "$work"
mkdir -p "$work/sub/subprojects"
cp "$src/tests/consumer/main.c" "$src/tests/consumer/meson.build" "$work/sub/"
ln -s "$src" "$work/sub/subprojects/libtdp"
# The consumer must build against the subproject with libtdp's tests and bench off.
meson setup "$work/sub/build" "$work/sub" --force-fallback-for=tdp \
	-Dlibtdp:tests=false -Dlibtdp:bench=false >"$work/sub.log" 2>&1 || { cat "$work/sub.log"; exit 1; }
meson compile -C "$work/sub/build" >>"$work/sub.log" 2>&1 || { cat "$work/sub.log"; exit 1; }
"$work/sub/build/consumer"
# pkg-config: install into a staging root, then build with the flags the .pc file gives.
meson setup "$work/inst-build" "$src" -Dtests=false -Dbench=false --prefix=/usr \
	>"$work/inst.log" 2>&1 || { cat "$work/inst.log"; exit 1; }
meson install -C "$work/inst-build" --destdir "$work/root" >>"$work/inst.log" 2>&1 ||
	{ cat "$work/inst.log"; exit 1; }
pcdir=$(dirname "$(find "$work/root" -name tdp.pc | head -n 1)")
flags=$(PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_SYSROOT_DIR="$work/root" pkg-config --cflags --libs --static tdp)
cc -std=c11 "$src/tests/consumer/main.c" $flags -o "$work/pc-consumer"
LD_LIBRARY_PATH="$(dirname "$(find "$work/root" -name 'libtdp.so' | head -n 1)")" "$work/pc-consumer"
