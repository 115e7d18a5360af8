#!/bin/sh
# fuzz.sh - build the libFuzzer targets with clang + ASan/UBSan and run
# each for a while; `make fuzz` calls it.
#
# Usage: contrib/tools/fuzz.sh [SECONDS] [TARGET...]
#   SECONDS   per target (default $FUZZ_SECONDS, else 60)
#   TARGET    fuzz_mime or tests/fuzz/fuzz_mime (default: every
#             tests/fuzz/fuzz_*.c)
# Environment:
#   FUZZ_BUILDDIR  where to build and keep corpora (default ./build-fuzz)
#   CC             the compiler (default clang)
#   FUZZ_FLAGS     more libFuzzer flags (e.g. -jobs=2 -workers=2)
#
# The build is a separate configure --with-fuzzer --with-sanitizer in
# $FUZZ_BUILDDIR/obj.  A source tree configured in place cannot host
# another build, so then a clean copy of the sources is made first
# (make distdir) into $FUZZ_BUILDDIR/src.
#
# Each target runs with its seed corpus (tests/fuzz/<t>.in, read only),
# its dictionary (tests/fuzz/<t>.dict) and a working corpus
# $FUZZ_BUILDDIR/corpus/<t> that is kept between runs, so runs add up.
# Crashes land in $FUZZ_BUILDDIR/crashes/<t>/; copy a reproducer into
# tests/fuzz/<t>.repro/ so that `make check` replays it.  The table at
# the end gives, per target, the CPU seconds spent, executions, the
# corpus size and the crashes; the exit status is 1 if any target
# crashed.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-${FUZZ_SECONDS:-60}}
[ $# -gt 0 ] && shift
bdir=${FUZZ_BUILDDIR:-$(pwd)/build-fuzz}
mkdir -p "$bdir"
bdir=$(cd "$bdir" && pwd)
: "${CC:=clang}"

if ! command -v "$CC" >/dev/null 2>&1; then
	echo "fuzz.sh: $CC not found (apt-get install clang)" >&2
	exit 1
fi

src=$top
if [ -f "$top/config.status" ]; then
	echo "== copying the sources (make distdir) to $bdir/src"
	make -s -C "$top" distdir distdir="$bdir/src" >/dev/null
	src=$bdir/src
fi
obj=$bdir/obj
mkdir -p "$obj"
if [ ! -f "$obj/Makefile" ]; then
	echo "== configuring $obj with $CC --with-fuzzer --with-sanitizer"
	(cd "$obj" && CC=$CC "$src/configure" -q --with-fuzzer \
	    --with-sanitizer=address,undefined)
fi

if [ $# -gt 0 ]; then
	targets=$*
else
	targets=$(cd "$top/tests/fuzz" && ls fuzz_*.c | sed 's/\.c$//')
fi

report=$bdir/report.txt
printf '%-20s %8s %8s %12s %8s %8s\n' target wall_s cpu_s execs corpus crashes \
    > "$report"
crashed=0
for t in $targets; do
	t=$(basename "$t")
	echo "== $t: building"
	make -s -C "$obj" "tests/fuzz/$t" >/dev/null
	corpus=$bdir/corpus/$t
	crashes=$bdir/crashes/$t
	mkdir -p "$corpus" "$crashes"
	dict=
	[ -f "$top/tests/fuzz/$t.dict" ] && dict=-dict=$top/tests/fuzz/$t.dict
	seeds=
	[ -d "$top/tests/fuzz/$t.in" ] && seeds=$top/tests/fuzz/$t.in
	repro=
	[ -d "$top/tests/fuzz/$t.repro" ] && repro=$top/tests/fuzz/$t.repro
	before=$(ls "$crashes" | wc -l)
	echo "== $t: fuzzing for $secs s${dict:+ with its dictionary}"
	log=$bdir/$t.log
	# CPU time of this target: the children's times before and after
	# (times runs in this shell: in a $(...) subshell it would read 0)
	times > "$bdir/.times0"
	w0=$(date +%s)
	set +e
	"$obj/tests/fuzz/$t" -max_total_time="$secs" -timeout=10 \
	    -rss_limit_mb=2048 -print_final_stats=1 $dict \
	    -artifact_prefix="$crashes/" ${FUZZ_FLAGS:-} \
	    "$corpus" $seeds $repro > "$log" 2>&1
	rc=$?
	set -e
	w1=$(date +%s)
	times > "$bdir/.times1"
	cpu=$({ sed -n 2p "$bdir/.times0"; sed -n 2p "$bdir/.times1"; } | tr '\n' ' ' | awk '
	    function s(t,  m) { m = t; sub(/m.*/, "", m); sub(/^[0-9.]+m/, "", t);
	        sub(/s$/, "", t); return m * 60 + t }
	    { printf "%.0f", s($3) + s($4) - s($1) - s($2) }')
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	after=$(ls "$crashes" | wc -l)
	n=$(ls "$corpus" | wc -l)
	printf '%-20s %8s %8s %12s %8s %8s\n' "$t" $((w1 - w0)) "$cpu" \
	    "${execs:-?}" "$n" $((after - before)) >> "$report"
	if [ "$rc" -ne 0 ] || [ "$after" -gt "$before" ]; then
		crashed=1
		echo "== $t: CRASH (exit $rc); log $log"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|artifact_prefix|Test unit written)' \
		    "$log" | head -10
		echo "   reproduce: $obj/tests/fuzz/$t FILE;" \
		    "keep it: cp FILE $top/tests/fuzz/$t.repro/"
	else
		tail -1 "$log"
	fi
done
echo
cat "$report"
exit $crashed
