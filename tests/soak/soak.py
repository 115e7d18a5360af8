#!/usr/bin/env python3
"""soak.py - mail at a steady rate through a real Postfix and mailwarden.

    tests/soak/soak.py [--minutes 10] [--rate 20] [--concurrency 32]
                       [--rss-tolerance 0.10] [--json FILE]

Starts nsd (SPF and DMARC for 200 sender domains), mailwarden milter
with the shipped rules and a client blocklist, and a private Postfix,
all on loopback, as the integration tests do (tests/integration/mwtest.py);
then sends for --minutes at --rate messages per second from
--concurrency SMTP clients, one message per connection.  The mix:
plain mail of 1-30 KB that passes SPF and DMARC (80%), bulk-mail
wording that the shipped rules score (10%), a blocklisted client (5%,
refused 550) and a sender whose SPF fails (5%, refused 550 5.7.23).

It asserts:
  - no lost message: sent = delivered + refused with a 4xx/5xx reply;
    every delivered message carries mailwarden's Authentication-Results;
  - RSS flat: the milter's RSS at the end is within --rss-tolerance
    (default 10%) plus 4 MiB of its RSS after the first 10% of the run
    (the warm-up: caches and thread pools fill); not checked when the
    milter is built with AddressSanitizer, whose quarantine grows RSS
    (LeakSanitizer checks leaks at exit there);
  - no descriptor growth: once the load stops and Postfix has closed
    its milter connections, the milter has no more open descriptors
    than before the load.

It prints the figures (rate achieved, DATA round trip percentiles,
RSS after warm-up/at the end/maximum and at every tenth of the run,
descriptors, threads) and exits 0 when the
assertions hold, 1 when not, 77 when it cannot run here (not root, no
postfix, no nsd).  make check runs a one-minute version
(tests/soak/test_soak.py); the ten-minute figures are in
doc/operations.md.
"""

import argparse
import json
import os
import random
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import dnsserver  # noqa: E402
import loadtest  # noqa: E402
import mwtest  # noqa: E402
from mwtest import header  # noqa: E402

AUTHSERV = "mx.mailwarden.test"
NDOMAINS = 200

BULK = """Dear friend,

Congratulations! You have been selected to receive a FREE gift card.
This is not spam: you signed up with one of our partners. Act now, this
limited time offer expires soon. 100% guaranteed, risk-free trial.

Click here to claim it: http://claim.example.com/?id={n}

To be removed from our mailing list reply with REMOVE in the subject.
"""


def zones():
    body = ['_dmarc TXT "v=DMARC1; p=none"', 'fail TXT "v=spf1 -all"',
            '_dmarc.fail TXT "v=DMARC1; p=none"']
    for i in range(NDOMAINS):
        body.append('d%d TXT "v=spf1 ip4:192.0.2.0/24 -all"' % i)
    return {"soak.test": "\n".join(body), "test": ""}


def message_mix(rng):
    n = 0
    while True:
        n += 1
        r = rng.random()
        d = "d%d.soak.test" % rng.randrange(NDOMAINS)
        if r < 0.80:
            yield loadtest.Msg(loadtest.plain(n, domain=d, size=rng.randrange(1000, 30000)),
                               mail_from="news@" + d, tag="ham")
        elif r < 0.90:
            text = ("From: Offers <offers@%s>\nTo: bob@example.net\nSubject: You have WON\n"
                    "Message-ID: <bulk%d@%s>\n\n" % (d, n, d)) + BULK.format(n=n)
            yield loadtest.Msg(text, mail_from="offers@" + d, tag="bulk")
        elif r < 0.95:
            yield loadtest.Msg(loadtest.plain(n, domain=d), mail_from="news@" + d,
                               client_ip="192.0.2.66", client_name="bad.example",
                               tag="blocked")
        else:
            yield loadtest.Msg(loadtest.plain(n, domain="fail.soak.test"),
                               mail_from="x@fail.soak.test", tag="spffail")


def pct(values, p):
    if not values:
        return 0.0
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def idle_fds(pid, baseline, timeout=20):
    """Wait for the descriptor count to come back to baseline."""
    end = time.monotonic() + timeout
    n = loadtest.proc_stats(pid)["fds"]
    while n > baseline and time.monotonic() < end:
        time.sleep(0.2)
        n = loadtest.proc_stats(pid)["fds"]
    return n


def run(args):
    if os.geteuid() != 0 or not mwtest.POSTFIX:
        print("SKIP: the soak needs root and postfix")
        return 77
    if not os.access(dnsserver.NSD_BIN, os.X_OK):
        print("SKIP: nsd not installed")
        return 77
    rng = random.Random(args.seed)
    ns = dnsserver.NSD(zones()).start()
    work = mwtest.Workdir(prefix="mw-soak-")
    run_dir = work.sub("run", owner="postfix")
    logdir = work.sub("log", owner="postfix")
    work.write("client.list", "192.0.2.66 REJECT Your network is blocked (soak)\n")
    settings = {
        "socket": "unix:%s/mw.sock" % run_dir,
        "user": "postfix",
        "authserv_id": AUTHSERV,
        "pid_file": "",
        "log_file": os.path.join(logdir, "verdicts.log"),
        "client_list": os.path.join(work.path, "client.list"),
        "dns_servers": ns.addr,
        "spf_fail_action": "reject",
        "rules_dir": os.path.join(mwtest.SRCDIR, "rules"),
        "rules_site_dir": "",
        "log_level": "warning",
    }
    milter = pf = None
    ok = True
    try:
        milter = mwtest.Milter(work, settings).start()
        pf = mwtest.Postfix(work, milter.postfix_spec(),
                            extra={"default_process_limit": str(args.concurrency * 2 + 20)}).start()
        mbox = loadtest.Mailbox(pf)
        pid = milter.proc.pid
        with open("/proc/%d/maps" % pid) as f:
            sanitized = "libasan" in f.read()
        # one message first: lazily started threads exist, caches are warm
        first = loadtest.send_one(pf, next(message_mix(random.Random(0))))
        loadtest.account(mbox, [first])
        fds_before = None
        for _ in range(10):                 # Postfix closes its connection
            n = loadtest.proc_stats(pid)["fds"]
            fds_before = n if fds_before is None else min(fds_before, n)
            time.sleep(0.1)

        sampler = loadtest.Sampler(pid, interval=1.0)
        sampler.start()
        load = loadtest.Load(pf, args.concurrency, rate=args.rate)

        def drain_mailbox():
            while not load.stop.is_set():
                mbox.collect()
                time.sleep(1)
        threading.Thread(target=drain_mailbox, daemon=True).start()
        t0 = time.monotonic()
        timer = threading.Timer(args.minutes * 60, load.stop.set)
        timer.start()
        outcomes = load.run(message_mix(rng))
        elapsed = time.monotonic() - t0
        timer.cancel()
        sampler.stop()
        acct = loadtest.account(mbox, outcomes, timeout=120)
        fds_after = idle_fds(pid, fds_before)

        samples = [s for _, s in sampler.samples]
        warm = samples[max(0, len(samples) // 10 - 1)] if samples else {}
        end = samples[-1] if samples else {}
        rss_max = max((s["rss_kb"] for s in samples), default=0)
        lat = [o.seconds for o in outcomes if o.code]
        kinds = {}
        for o in outcomes:
            k = "%s %s" % (o.msg.tag, o.code)
            kinds[k] = kinds.get(k, 0) + 1
        fig = {
            "minutes": args.minutes, "concurrency": args.concurrency,
            "rate_target": args.rate, "rate_achieved": round(len(outcomes) / elapsed, 2),
            "sent": acct.sent, "delivered": len(acct.delivered),
            "refused_4xx": sum(1 for o in acct.refused if o.code < 500),
            "refused_5xx": sum(1 for o in acct.refused if o.code >= 500),
            "lost": len(acct.lost),
            "data_rtt_ms": {p: round(pct(lat, p) * 1000, 1) for p in (50, 95, 99, 100)},
            "rss_kb": {"warm": warm.get("rss_kb"), "end": end.get("rss_kb"), "max": rss_max},
            "fds": {"idle_before": fds_before, "idle_after": fds_after,
                    "max": max((s["fds"] for s in samples), default=0)},
            "threads_max": max((s["threads"] for s in samples), default=0),
            # RSS at every tenth of the run: flat, or still climbing?
            "rss_timeline_kb": [samples[min(len(samples) - 1, len(samples) * k // 10)]["rss_kb"]
                                for k in range(11)] if samples else [],
            "outcomes": kinds,
        }
        print(json.dumps(fig, indent=2, sort_keys=True))
        if args.json:
            with open(args.json, "w") as f:
                json.dump(fig, f, indent=2, sort_keys=True)

        def fail(msg):
            nonlocal ok
            ok = False
            print("FAIL: " + msg)
        if acct.lost:
            fail("%d message(s) lost, e.g. %s" % (len(acct.lost), acct.lost[:3]))
        for o in acct.delivered:
            ar = header(mbox.ids[o.msg.id] + b"\n", "Authentication-Results")
            if not ar or not ar[0].startswith(AUTHSERV + ";"):
                fail("delivered without mailwarden's verdict: %s" % o.msg.mail_from)
                break
        for o in acct.refused:
            if o.msg.tag in ("ham", "bulk") and o.code >= 500:
                fail("%s message refused: %r" % (o.msg.tag, o.result))
                break
        limit = warm.get("rss_kb", 0) * (1 + args.rss_tolerance) + 4096
        if sanitized:
            # ASan keeps freed memory in quarantine and its own pools:
            # RSS says nothing about leaks there (LeakSanitizer does)
            print("NOTE: the milter runs under AddressSanitizer: RSS not checked")
        elif end.get("rss_kb", 0) > limit:
            fail("RSS grew from %d to %d KiB (limit %d)" % (warm["rss_kb"], end["rss_kb"], limit))
        if fds_after > fds_before:
            fail("descriptors grew from %d to %d: %s" % (
                fds_before, fds_after, loadtest.fd_targets(pid)))
        if fig["rate_achieved"] < args.rate * 0.9:
            # a shared machine may be busy: worth saying, not a failure
            print("WARNING: rate achieved %.1f/s, below 90%% of %.1f/s" % (
                fig["rate_achieved"], args.rate))
        if not milter.alive():
            fail("the milter died")
    finally:
        if pf:
            pf.stop()
        if milter:
            rc = milter.stop()
            if rc != 0:
                print("FAIL: milter exit status %r\n%s" % (rc, milter.log_text()[-3000:]))
                ok = False
            elif not ok:
                print(milter.log_text()[-3000:])
        ns.stop()
        if not os.environ.get("MW_KEEP"):
            work.cleanup()
    print("PASS" if ok else "FAILED")
    return 0 if ok else 1


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--rate", type=float, default=20, help="messages per second")
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--rss-tolerance", type=float, default=0.10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", help="also write the figures here")
    return run(ap.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
