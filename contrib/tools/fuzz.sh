#!/bin/sh
# fuzz.sh - build the libFuzzer targets with clang + ASan/UBSan and run each
# for a while.  Usage: contrib/tools/fuzz.sh [SECONDS] [TARGET...]
# Crashes land in build-fuzz/crash-*; copy a reproducer into
# tests/fuzz/fuzz_<target>.repro/ so that `make check` replays it.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-300}
[ $# -gt 0 ] && shift
mkdir -p "$top/build-fuzz"
cd "$top/build-fuzz"
[ -f Makefile ] || CC=clang "$top/configure" -q --with-fuzzer \
    --with-sanitizer=address,undefined
targets=${*:-$(cd "$top/tests/fuzz" && ls fuzz_*.c | sed 's/\.c$//')}
for t in $targets; do
	make -s "tests/fuzz/$t"
	corpus=$(mktemp -d)
	cp "$top/tests/fuzz/$t.in/"* "$corpus/" 2>/dev/null || true
	echo "== $t ($secs s)"
	"./tests/fuzz/$t" -max_total_time="$secs" -timeout=10 \
	    -rss_limit_mb=4096 "$corpus" 2>&1 | tail -3
	rm -rf "$corpus"
done
