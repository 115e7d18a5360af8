#!/bin/sh
# run-demo.sh - from a fresh Debian 12 checkout: install, build, start a
# private Postfix on a loopback port with mailwarden attached (default
# configuration), send contrib/samples/ through it and print the verdicts.
# Run as root from anywhere.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh contrib/install-deps.sh
autoreconf -fi
./configure -q
make -j"$(nproc 2>/dev/null || echo 2)" mailwarden >/dev/null
# Debian's own python3 (with python3-dkim), not one from PATH
py=/usr/bin/python3
[ -x "$py" ] || py=python3
exec "$py" contrib/demo.py
