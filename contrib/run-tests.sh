#!/bin/sh
# run-tests.sh - from a fresh Debian 12 checkout: install what the build
# and the tests need, build with -Werror, run the whole test suite, then
# check that a release tarball builds and passes on its own (make
# distcheck), then run it again built with AddressSanitizer +
# UndefinedBehaviorSanitizer.
# Every test log is printed, so Check's summary lines reach the output.
# Builds out of tree in build/ and build-asan/ (run-demo.sh uses
# build-demo/), so the two scripts run in either order in one checkout.
# Whatever step fails, the script goes on to its summary: the failing
# logs and a last line "==== FAILED" or "==== all tests passed".
# Run as root from the top of the source tree (../shared beside it).
# No set -e: a failed step sets status and the script carries on.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc 2>/dev/null || echo 2)
status=0
failed_steps=

step_failed() {	# $1 = what failed
	echo "==== step failed: $1"
	failed_steps="$failed_steps
  $1"
	status=1
}

sh contrib/install-deps.sh || step_failed "contrib/install-deps.sh"
autoreconf -fi || step_failed "autoreconf -fi"
if [ -f "$top/config.status" ]; then
	# configured in the source tree (./configure by hand): every
	# out-of-tree configure would stop with "already configured"
	step_failed "$top is configured in the source tree: run 'make distclean' there"
fi

run_suite() {	# $1 = build dir, rest = configure options
	dir=$1
	shift
	mkdir -p "$dir"
	(cd "$dir" && "$top/configure" -q --enable-werror "$@" &&
	    make -j"$jobs" >/dev/null && make -j"$jobs" check) ||
	    step_failed "build and test in $dir${*:+ ($*)}"
	(cd "$dir" && make -s show-test-logs) || true
}

echo "==== build and test (plain)"
run_suite "$top/build"
echo "==== make distcheck"
if (cd "$top/build" && make -j"$jobs" distcheck >distcheck.out 2>&1); then
	tail -n 4 "$top/build/distcheck.out"
else
	step_failed "make distcheck (log: $top/build/distcheck.out)"
	# a failed distcheck need not have a FAIL line (configure, build,
	# install or uninstall check): print the end of its log in any case
	grep -E "^(FAIL|ERROR):" "$top/build/distcheck.out" 2>/dev/null || true
	tail -n 60 "$top/build/distcheck.out" 2>/dev/null || true
fi
echo "==== build and test (ASan + UBSan)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_suite "$top/build-asan" --with-sanitizer
if [ "$status" -ne 0 ]; then
	# once more at the very end, where a truncated CI page still shows them
	# (distcheck leaves its build tree behind when its check fails)
	for d in "$top/build" "$top"/build/mailwarden-*/_build/sub "$top/build-asan"; do
		[ -d "$d/tests" ] || continue
		for t in $(grep -rlE '^:test-result: (FAIL|ERROR)' \
		    --include='*.trs' "$d/tests" 2>/dev/null); do
			echo "==== FAILED in ${d#"$top"/}: ${t%.trs}.log (its end)"
			tail -n 150 "${t%.trs}.log"
		done
	done
	echo "==== failed steps:$failed_steps"
	echo "==== FAILED"
else
	echo "==== all tests passed"
fi
exit "$status"
