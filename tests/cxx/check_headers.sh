#!/usr/bin/env bash
# Each public header on its own, as the first include of a translation unit:
# it must compile as C11 and as C++11 and C++17 with warnings as errors
# (self-contained, no C-only constructs), and every header that declares
# anything must open an extern "C" block (tdp.h only includes the others).
# Usage: check_headers.sh INCLUDE_DIR CC CXX [compiler arguments...]
# CC and CXX may be empty: that language is then not checked.
set -euo pipefail
inc=$1 cc=$2 cxx=$3
shift 3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0 n=0
for h in "$inc"/tdp/*.h; do
	name=$(basename "$h")
	n=$((n + 1))
	# a declaration after the include keeps -pedantic's "empty translation unit" quiet
	printf '#include <tdp/%s>\nint tdp_header_check_%s;\n' "$name" "${name%.h}" >"$work/t.c"
	cp "$work/t.c" "$work/t.cpp"
	if [ -n "$cc" ] && ! $cc -std=c11 -Wall -Wextra -Werror -pedantic -I"$inc" "$@" \
		-fsyntax-only "$work/t.c"; then
		echo "$name: not self-contained in C11"; fail=1
	fi
	for std in c++11 c++17; do
		if [ -n "$cxx" ] && ! $cxx -std=$std -Wall -Wextra -Werror -pedantic -I"$inc" "$@" \
			-fsyntax-only "$work/t.cpp"; then
			echo "$name: does not compile as $std"; fail=1
		fi
	done
	if [ "$name" != tdp.h ] && ! grep -q '^extern "C" {$' "$h"; then
		echo "$name: no extern \"C\" block"; fail=1
	fi
done
[ "$n" -gt 0 ] || { echo "no header in $inc/tdp"; exit 1; }
[ $fail = 0 ] && echo "$n headers: self-contained in C and C++, with C linkage"
exit $fail
