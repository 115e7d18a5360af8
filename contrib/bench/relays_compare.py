#!/usr/bin/env python3
"""relays_compare.py - mailwarden's relay list against SpamAssassin's.

    contrib/bench/relays_compare.py MAILWARDEN DIR...

Runs `MAILWARDEN rules relays` and contrib/bench/sa_relays.pl over every
file under DIR... and compares, per message, SpamAssassin's
X-Spam-Relays-Untrusted with mailwarden's.  Without a client address
both read the Received fields alone, but SpamAssassin also guesses which
hops belong to the site (it has no trusted_networks here) and mailwarden
only skips leading private addresses, so mailwarden's list may start
with hops SpamAssassin trusted.  The comparison therefore lines the two
lists up at SpamAssassin's first entry and counts:

- messages whose first untrusted relay (what most relay rules read)
  appears in mailwarden's list, byte for byte;
- messages whose whole list from there on is identical;
- identical entries over all entries.
Needs: apt-get install spamassassin.
"""

import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def table(cmd):
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         check=False).stdout
    d = {}
    for line in out.decode("latin-1").splitlines():
        if "\t" in line:
            k, v = line.split("\t", 1)
            d[k] = v
    return d


def entries(s):
    return re.findall(r"\[ [^\]]* \]", s)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    files = sorted(os.path.join(r, n) for d in sys.argv[2:]
                   for r, _, ns in os.walk(d) for n in ns)
    mw = table([sys.argv[1], "rules", "relays"] + files)
    sa = table(["perl", os.path.join(HERE, "sa_relays.pl")] + files)
    total = first = whole = same = n = 0
    for f in files:
        s, m = entries(sa.get(f, "")), entries(mw.get(f, ""))
        if not s:
            continue
        total += 1
        if s[0] not in m:
            n += max(len(s), 1)
            continue
        first += 1
        tail = m[m.index(s[0]):]
        whole += tail == s
        same += sum(a == b for a, b in zip(s, tail))
        n += max(len(s), len(tail))
    print("messages with untrusted relays (SpamAssassin): %d" % total)
    print("first untrusted relay identical: %d (%.1f%%)" % (first, 100.0 * first / max(total, 1)))
    print("whole list identical from there: %d (%.1f%%)" % (whole, 100.0 * whole / max(total, 1)))
    print("entries identical: %d of %d (%.1f%%)" % (same, n, 100.0 * same / max(n, 1)))


if __name__ == "__main__":
    main()
