#!/usr/bin/env bash
# README's Debian package recipe: dpkg-buildpackage -us -uc -b on a copy of
# the checkout (it writes the .debs into the source's parent directory), the
# packages unpacked into a scratch root with dpkg -x (no root, nothing
# installed on the machine), then a program and the kit's example built
# through the root's tdp.pc and tdp-testkit.pc, and run. Also checks the
# split: the shared library alone in libtdp0, testkit.h in the kit's package
# only, the SONAME. Usage: deb.sh SOURCE_ROOT WORK_DIR
set -euo pipefail
src=$(cd "$1" && pwd)
work=$2
rm -rf "$work"
mkdir -p "$work/pkg/libtdp" "$work/root"
work=$(cd "$work" && pwd)
fail() { echo "deb.sh: $*"; exit 1; }
# the checkout's files as they are (tracked, and new ones not ignored): no build directories
(cd "$src" && git ls-files -z --cached --others --exclude-standard |
	tar --null --ignore-failed-read -T - -cf -) | tar -xf - -C "$work/pkg/libtdp"
(cd "$work/pkg/libtdp" && dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1 ||
	{ tail -n 40 "$work/build.log"; fail "dpkg-buildpackage failed"; }
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
for p in libtdp0 libtdp-dev libtdp-testkit-dev; do
	deb=$work/pkg/${p}_${version}_$arch.deb
	[ -f "$deb" ] || fail "no $deb"
	dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./||' >"$work/$p.list"
	dpkg -x "$deb" "$work/root"
done
has() { grep -qx "$2" "$work/$1.list" || fail "$1 has no $2"; }
hasnot() { if grep -q "$2" "$work/$1.list"; then fail "$1 holds $2"; fi; }
libdir=usr/lib/$multiarch
has libtdp0 "$libdir/libtdp.so.0.1.0"
has libtdp0 "$libdir/libtdp.so.0"
hasnot libtdp0 'include/\|\.a$\|pkgconfig\|libtdp\.so$'
has libtdp-dev usr/include/tdp/tdp.h
has libtdp-dev "$libdir/libtdp.a"
has libtdp-dev "$libdir/libtdp.so"
has libtdp-dev "$libdir/pkgconfig/tdp.pc"
hasnot libtdp-dev 'testkit'
has libtdp-testkit-dev usr/include/tdp/testkit.h
has libtdp-testkit-dev "$libdir/libtdp-testkit.a"
has libtdp-testkit-dev "$libdir/pkgconfig/tdp-testkit.pc"
readelf -d "$work/root/$libdir/libtdp.so.0.1.0" | grep -q 'Library soname: \[libtdp.so.0\]' ||
	fail "libtdp.so.0.1.0 has no SONAME libtdp.so.0"
# The root's .pc files, paths prefixed with the root; atomic_ops.pc (required
# by tdp.pc) comes from the machine, as libtdp-dev's dependency would bring it.
export PKG_CONFIG_SYSROOT_DIR=$work/root PKG_CONFIG_PATH=$work/root/$libdir/pkgconfig
cc -std=c11 -o "$work/myhv" "$src/tests/consumer/main.c" $(pkg-config --cflags --libs tdp)
readelf -d "$work/myhv" | grep -q 'Shared library: \[libtdp.so.0\]' || fail "myhv does not need libtdp.so.0"
LD_LIBRARY_PATH=$work/root/$libdir "$work/myhv" || fail "myhv failed against the packaged library"
cc -std=c11 -o "$work/hv_example" "$src/tests/example/hv_example.c" $(pkg-config --cflags --libs tdp-testkit)
LD_LIBRARY_PATH=$work/root/$libdir "$work/hv_example" >"$work/hv_example.log" ||
	{ cat "$work/hv_example.log"; fail "hv_example failed against the packaged kit"; }
echo "deb.sh: ok (libtdp0, libtdp-dev, libtdp-testkit-dev $version)"
