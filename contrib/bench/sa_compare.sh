#!/bin/sh
# sa_compare.sh - mailwarden vs SpamAssassin, same rules, same messages.
#
#   contrib/bench/sa_compare.sh BUILDDIR CORPUSDIR...
#
# Extracts the regex rules of Debian's SpamAssassin (/usr/share/spamassassin)
# into one file, then measures CPU per message of MIME + rules in
# bench_content (BUILDDIR/tests/bench/bench_content, `make bench`) and of
# SpamAssassin (contrib/bench/sa_bench.pl, network tests off) over the
# message files of CORPUSDIR..., and prints both and the ratio.
# Needs: apt-get install spamassassin.
set -e
here=$(cd "$(dirname "$0")" && pwd)
build=$1; shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 "$here/sa_extract.py" /usr/share/spamassassin > "$tmp/sa-regex.cf"
echo "rule file: $(grep -cE '^(header|body|rawbody|uri|full|meta) ' "$tmp/sa-regex.cf") rules"
mw=$("$build/tests/bench/bench_content" corpus -r "$tmp/sa-regex.cf" -n 3 "$@")
echo "mailwarden: $mw"
files=$(for d in "$@"; do find "$d" -type f; done)
# shellcheck disable=SC2086
sa=$(perl "$here/sa_bench.pl" "$tmp/sa-regex.cf" $files)
echo "$sa"
mwms=$(echo "$mw" | sed -n 's/.*mean \([0-9.]*\) ms.*/\1/p')
sams=$(echo "$sa" | sed -n 's/.*mean \([0-9.]*\) ms.*/\1/p')
echo "ratio (SpamAssassin / mailwarden): $(echo "$sams $mwms" | awk '{printf "%.1f", $1 / $2}')"
