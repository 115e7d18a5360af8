#!/bin/sh
# run-tests.sh - from a fresh Debian 12 checkout: install what the build
# and the tests need, build with -Werror, run the whole test suite, then
# check that a release tarball builds and passes on its own (make
# distcheck), then run it again built with AddressSanitizer +
# UndefinedBehaviorSanitizer.
# Every test log is printed, so Check's summary lines reach the output.
# Run as root from the top of the source tree (../shared beside it).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh contrib/install-deps.sh
autoreconf -fi
jobs=$(nproc 2>/dev/null || echo 2)
status=0

run_suite() {	# $1 = build dir, rest = configure options
	dir=$1
	shift
	mkdir -p "$dir"
	(cd "$dir" && "$top/configure" -q --enable-werror "$@" &&
	    make -j"$jobs" >/dev/null && make -j"$jobs" check) || status=1
	(cd "$dir" && make -s show-test-logs) || true
}

echo "==== build and test (plain)"
run_suite "$top/build"
echo "==== make distcheck"
(cd "$top/build" && make -j"$jobs" distcheck >distcheck.out 2>&1 &&
    tail -n 4 distcheck.out) ||
    { grep -E "^(FAIL|ERROR):" "$top/build/distcheck.out";
      tail -n 60 "$top/build/distcheck.out"; status=1; }
echo "==== build and test (ASan + UBSan)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_suite "$top/build-asan" --with-sanitizer
if [ "$status" -ne 0 ]; then
	# once more at the very end, where a truncated CI page still shows them
	for d in "$top/build" "$top/build-asan"; do
		[ -d "$d/tests" ] || continue
		for t in $(grep -rlE '^:test-result: (FAIL|ERROR)' \
		    --include='*.trs' "$d/tests" 2>/dev/null); do
			echo "==== FAILED in $(basename "$d"): ${t%.trs}.log (its end)"
			tail -n 150 "${t%.trs}.log"
		done
	done
	echo "==== FAILED"
else
	echo "==== all tests passed"
fi
exit "$status"
