#!/bin/sh
# dkim_bench.sh - DKIM verification cost next to `openssl speed`
#
# usage: contrib/bench/dkim_bench.sh [BUILD_DIR]   (default: .)
# Runs dkim_bench (built by 'make bench-dkim') and, in the same run, openssl
# speed for RSA-2048 and Ed25519 verification and SHA-256, so the cost
# per message can be compared with one bare signature verification plus
# one pass of hashing.
set -e
build=${1:-.}
"$build/contrib/bench/dkim_bench" 2
echo "openssl speed (same machine, same run; user CPU time):"
openssl speed -seconds 2 rsa2048 2>/dev/null | grep -E '^rsa 2048|verify/s'
openssl speed -seconds 2 ed25519 2>/dev/null | grep -E 'Ed25519'
openssl speed -seconds 2 -bytes 16384 -evp sha256 2>/dev/null |
    grep -E '^sha256' | awk '{ printf "sha256 16 KiB blocks: %.0f MB/s\n", $2 / 1000 }'
