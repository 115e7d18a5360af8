#!/bin/sh
# bench-logreview.sh - throughput and peak memory of `mailwarden log`
#
# usage: contrib/tools/bench-logreview.sh [MAILWARDEN [LOG]]
#
# Runs summary, search (with and without a prefilterable criterion),
# explain and report over LOG (default /tmp/bench-1m.log, generated with
# gen-vlog.py when missing; LINES=N sets its size, default 1000000) and
# prints wall and user seconds, lines per second and the peak resident
# set size of each run (GNU time).  LOG.gz, when present, is read too.
# Run it on an idle machine: it is a measurement, not a test.
set -eu

MW=${1:-./mailwarden}
LOG=${2:-/tmp/bench-1m.log}
LINES=${LINES:-1000000}
HERE=$(dirname "$0")
TIMEOUT=${TIMEOUT:-1800}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

[ -x /usr/bin/time ] || { echo "needs GNU time (apt-get install time)"; exit 1; }
if [ ! -f "$LOG" ]; then
	echo "generating $LINES lines into $LOG"
	python3 "$HERE/gen-vlog.py" --lines "$LINES" --seed 1 > "$LOG"
fi
n=$(wc -l < "$LOG")
bytes=$(wc -c < "$LOG")
# a queue id and a client address from the middle of the log
mid=$(sed -n "$((n / 2))p" "$LOG")
qid=$(printf '%s' "$mid" | sed 's/.*"queue_id":"\([^"]*\)".*/\1/')
echo "log: $LOG, $n lines, $bytes bytes; mailwarden: $MW"
printf '%-44s %8s %8s %10s %10s\n' command wall_s user_s lines/s peak_KiB

run() {
	label=$1
	shift
	/usr/bin/time -f '%e %U %M' -o "$OUT/t" timeout "$TIMEOUT" "$@" \
	    > "$OUT/stdout" 2> "$OUT/stderr" || true
	read -r wall user rss < "$OUT/t"
	awk -v l="$label" -v w="$wall" -v u="$user" -v r="$rss" -v n="$n" \
	    'BEGIN { printf "%-44s %8.1f %8.1f %10.0f %10d\n", l, w, u,
	    (w > 0 ? n / w : 0), r }'
}

run "summary" "$MW" log summary "$LOG"
run "search --action reject --json" "$MW" log search --action reject \
    --json "$LOG"
run "search --ip 203.0.113.7 (prefiltered)" "$MW" log search \
    --ip 203.0.113.7 "$LOG"
run "search --symbol PILLS_BODY (prefiltered)" "$MW" log search \
    --symbol PILLS_BODY "$LOG"
run "explain $qid (prefiltered)" "$MW" log explain "$qid" "$LOG"
run "report --html" "$MW" log report --html "$OUT/r.html" "$LOG"
if [ -f "$LOG.gz" ]; then
	run "summary (gzip)" "$MW" log summary "$LOG.gz"
fi
