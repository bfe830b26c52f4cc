#!/usr/bin/env bash
# The whole test suite:
# - a -Werror build with its tests, then the same tests under
#   AddressSanitizer + UndefinedBehaviorSanitizer;
# - a clang ThreadSanitizer build running the shared-mode tests (suite
#   shared, and test_epoch): any data race fails them;
# - freestanding builds for aarch64, riscv64 and x86-64 with their checks
#   (symbols, headers, stack use) and the bare-metal hypervisors on emulated
#   CPUs (meson test --suite emu: QEMU for arm64 and RISC-V, Bochs for x86);
# - the unit tests built for aarch64 and riscv64 Linux, run under qemu-user;
# - the Debian packages, built and used from a scratch root (tests/consumer/deb.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
# Configure (or reconfigure) and compile a build directory; show the errors if it fails.
build() {
	local dir=$1; shift
	if [ -f "$dir/build.ninja" ]; then
		# a cross file is fixed at setup; meson configure takes the options only
		local opts=() skip=0 a
		for a in "$@"; do
			if [ $skip = 1 ]; then skip=0; continue; fi
			if [ "$a" = --cross-file ]; then skip=1; continue; fi
			opts+=("$a")
		done
		meson configure "$dir" "${opts[@]}" >/dev/null
	else
		meson setup "$dir" "$@" >/dev/null
	fi
	if ! meson compile -C "$dir" >"$dir/compile.log" 2>&1; then
		tail -n 40 "$dir/compile.log"
		return 1
	fi
}
# Run a build directory's tests (the arguments select them; none: all) and count the results.
check() {
	local dir=$1; shift
	local rc=0
	rm -f "$dir/meson-logs/testlog.json" # count this run only
	meson test -C "$dir" --print-errorlogs "$@" "${MESON_TEST_ARGS[@]}" || rc=$?
	passed=$((passed + $(grep -Ec '"result": "(OK|EXPECTEDFAIL)"' "$dir/meson-logs/testlog.json" || true)))
	failed=$((failed + $(grep -Ec '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' \
		"$dir/meson-logs/testlog.json" || true)))
	return $rc
}
run() {
	local dir=$1; shift
	build "$dir" "$@"
	check "$dir"
}
passed=0
failed=0
trap 'echo "tests: $passed passed, $failed failed"' EXIT
MESON_TEST_ARGS=("$@")
echo "== build-test: gcc -Wall -Wextra -Werror =="
run build-test -Dwerror=true -Dbench=true -Dcxx=enabled -Ddocs=enabled
echo "== build-san: AddressSanitizer + UndefinedBehaviorSanitizer =="
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	run build-san -Dwerror=true -Dbench=true -Db_sanitize=address,undefined -Db_lundef=false \
		-Dc_args=-fno-sanitize-recover=all
echo "== build-tsan: clang ThreadSanitizer, shared mode (suite shared, test_epoch) =="
# TSan wants clang's runtime; b_lundef=false as for every clang sanitizer. The
# tests are chosen by name (meson intersects --suite with names): the shared
# suite's, and the kit's epoch test from the unit suite.
CC=clang build build-tsan -Dwerror=true -Dbench=false -Db_sanitize=thread -Db_lundef=false
mapfile -t tsan_tests < <(meson test -C build-tsan --list --suite shared | sed -n 's|^.* / ||p')
[ ${#tsan_tests[@]} -gt 0 ] || { echo "build-tsan: no test in suite shared"; exit 1; }
# half the shared tests' operations: with change reports checked they take about 6.5
# minutes at full scale under ThreadSanitizer, near meson's 10-minute timeout
TDP_SHARED_SCALE=50 TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1" \
	check build-tsan "${tsan_tests[@]}" test_epoch
# One format per build, as a hypervisor links it; the emulator tests must run.
for fs in aarch64:arm64 riscv64:riscv x86_64:x86; do
	cpu=${fs%%:*} fmt=${fs#*:}
	echo "== build-fs-$cpu: freestanding $fmt, checks and emulator tests =="
	run "build-fs-$cpu" --cross-file "cross/$cpu-freestanding.ini" -Dfreestanding=true \
		-Darchs="$fmt" -Dwerror=true -Demu=enabled
done
# every format in one freestanding library, for each architecture
for cpu in aarch64 riscv64 x86_64; do
	echo "== build-fs-$cpu-all: freestanding, every format =="
	run "build-fs-$cpu-all" --cross-file "cross/$cpu-freestanding.ini" -Dfreestanding=true \
		-Dwerror=true -Demu=disabled
done
# their cmocka is built from Debian's source tarball (subprojects/cmocka.wrap),
# which apt-get fetches into this checkout once
bash .ci/fetch-cmocka
for cpu in aarch64 riscv64; do
	echo "== build-$cpu: the unit tests for $cpu Linux under qemu-user =="
	run "build-$cpu" --cross-file "cross/$cpu-linux.ini" -Dwerror=true -Dbench=false
done
echo "== build-deb: the Debian packages, built (library and kit only) and used from a scratch root =="
if tests/consumer/deb.sh . build-deb; then
	passed=$((passed + 1))
else
	failed=$((failed + 1))
	exit 1
fi
