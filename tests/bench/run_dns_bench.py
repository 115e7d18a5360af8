#!/usr/bin/env python3
"""run_dns_bench.py - SPF throughput and per-message DNS latency, by hand.

    make tests/bench/bench_dns && python3 tests/bench/run_dns_bench.py [DELAY_MS]

Starts nsd (tests/integration/dnsserver.py) on loopback with a bench zone,
and a DelayProxy in front of it that answers DELAY_MS (default 20) later,
like an upstream resolver a few hops away.  Then:

1. SPF evaluations per second against nsd directly, cold (no cache: four
   queries per evaluation: TXT, MX, A, include TXT) and warm (all cached),
   with 1 and 4 threads.
2. Per-message DNS latency through the delaying proxy: the DNS work of a
   scan (SPF with a fresh sender domain, a DKIM key, _dmarc, two DNSBL
   queries) run one after another, and with the first queries prefetched
   at once (dns_prefetch, as scan_begin does) with 4 and 8 threads.
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import dnsserver  # noqa: E402

BENCH = os.environ.get("BENCH_DNS", os.path.join(HERE, "bench_dns"))
DELAY = int(sys.argv[1]) if len(sys.argv) > 1 else 20
ZONE = {"bench.test": """
_spf        TXT "v=spf1 ip4:198.51.100.0/24 ip4:192.0.2.0/24 -all"
*.senders   TXT "v=spf1 mx include:_spf.bench.test -all"
*.senders   MX  10 mx.bench.test.
mx          A   203.0.113.1
"""}


def run(*args):
    out = subprocess.run([BENCH] + [str(a) for a in args], capture_output=True,
                         text=True, timeout=600)
    print(out.stdout.strip() or out.stderr.strip())


dnsserver.skip_unless_nsd()
with dnsserver.NSD(ZONE) as ns, dnsserver.DelayProxy(ns.addr, DELAY) as slow:
    print("nsd at %s, proxy with %d ms delay at %s" % (ns.addr, DELAY, slow.addr))
    run("spf", ns.addr, 4000, 1, "cold")
    run("spf", ns.addr, 4000, 4, "cold")
    run("spf", ns.addr, 200000, 1, "warm")
    run("spf", ns.addr, 200000, 4, "warm")
    run("message", slow.addr, 200, "seq", 4)
    run("message", slow.addr, 200, "overlap", 4)
    run("message", slow.addr, 200, "overlap", 8)
