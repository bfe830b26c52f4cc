#!/usr/bin/env bash
# The whole test suite: a -Werror build with its tests, then the same tests
# under AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
run() {
	local dir=$1; shift
	if [ -f "$dir/build.ninja" ]; then
		meson configure "$dir" "$@" >/dev/null
	else
		meson setup "$dir" "$@" >/dev/null
	fi
	meson compile -C "$dir" >/dev/null
	local rc=0
	meson test -C "$dir" --print-errorlogs "${MESON_TEST_ARGS[@]}" || rc=$?
	passed=$((passed + $(grep -c '"result": "OK"' "$dir/meson-logs/testlog.json" || true)))
	failed=$((failed + $(grep -Ec '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' \
		"$dir/meson-logs/testlog.json" || true)))
	return $rc
}
passed=0
failed=0
trap 'echo "tests: $passed passed, $failed failed"' EXIT
MESON_TEST_ARGS=("$@")
echo "== build-test: gcc -Wall -Wextra -Werror =="
run build-test -Dwerror=true -Dbench=true
echo "== build-san: AddressSanitizer + UndefinedBehaviorSanitizer =="
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	run build-san -Dwerror=true -Dbench=true -Db_sanitize=address,undefined -Db_lundef=false \
		-Dc_args=-fno-sanitize-recover=all
