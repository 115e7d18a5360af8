#!/bin/sh
# run-demo.sh - from a fresh Debian 12 checkout: install, build, start a
# private Postfix on a loopback port with mailwarden attached (default
# configuration), send contrib/samples/ through it and print the verdicts.
# Builds out of tree in build-demo/ (run-tests.sh uses build/ and
# build-asan/), so the two scripts run one after the other in either
# order in the same checkout.  Run as root from anywhere.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh contrib/install-deps.sh
autoreconf -fi
if [ -f "$top/config.status" ]; then
	# an in-tree build (./configure by hand) blocks every out-of-tree one
	echo "run-demo.sh: $top is configured in the source tree;" \
	    "run 'make distclean' there first" >&2
	exit 1
fi
dir="$top/build-demo"
mkdir -p "$dir"
cd "$dir"
"$top/configure" -q
make -j"$(nproc 2>/dev/null || echo 2)" mailwarden >/dev/null
MAILWARDEN="$dir/mailwarden"
export MAILWARDEN
# Debian's own python3 (with python3-dkim), not one from PATH
py=/usr/bin/python3
[ -x "$py" ] || py=python3
exec "$py" "$top/contrib/demo.py"
