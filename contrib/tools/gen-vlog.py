#!/usr/bin/env python3
"""gen-vlog.py - write a synthetic mailwarden verdict log (one JSON per line)

Records follow the vlog_format() schema (filter/vlog.c) with filled-in
spf / dkim / dmarc / bayes objects shaped like the ones the auth modules
log, so `mailwarden log` can be benchmarked and demonstrated on realistic
volume.  The output is deterministic for a given --seed.

    contrib/tools/gen-vlog.py --lines 1000000 > /tmp/v.log
    contrib/tools/gen-vlog.py --lines 5000 --days 2 | gzip > v.log.1.gz

Options:
    --lines N        records to write (default 10000)
    --start T        first time, RFC 3339 (default 2026-11-10T00:00:00Z)
    --days D         period covered (default 7)
    --seed S         random seed (default 1)
    --malformed K    every K-th line is damaged (default 0: none)
"""

import argparse
import datetime as dt
import json
import math
import random
import sys

SYMBOLS = [
    # name, score, probability of hitting, spamminess (0 ham .. 1 spam)
    ("SPF_PASS", -0.1, 0.70, 0.0), ("SPF_FAIL", 3.0, 0.04, 0.9),
    ("SPF_SOFTFAIL", 1.5, 0.06, 0.7), ("SPF_NONE", 0.5, 0.10, 0.5),
    ("DKIM_VALID", -0.1, 0.60, 0.0), ("DKIM_INVALID", 2.0, 0.05, 0.8),
    ("DMARC_PASS", -0.5, 0.55, 0.0), ("DMARC_FAIL", 4.0, 0.05, 0.95),
    ("DMARC_REJECT", 6.0, 0.02, 1.0), ("BAYES_00", -2.0, 0.30, 0.0),
    ("BAYES_50", 0.8, 0.10, 0.5), ("BAYES_95", 4.0, 0.08, 1.0),
    ("BAYES_99", 6.0, 0.06, 1.0), ("RBL_SPAMHAUS_ZEN", 8.0, 0.04, 1.0),
    ("RBL_BARRACUDA", 3.5, 0.03, 1.0), ("URIBL_DBL_SPAM", 5.0, 0.03, 1.0),
    ("HTML_ONLY", 1.0, 0.10, 0.7), ("MIME_HTML_MOSTLY", 0.5, 0.12, 0.6),
    ("SUBJ_ALL_CAPS", 1.2, 0.02, 0.9), ("FROM_DISPLAY_SPOOF", 3.0, 0.02, 1.0),
    ("MISSING_DATE", 1.0, 0.01, 0.8), ("MISSING_MID", 1.5, 0.01, 0.8),
    ("LOTS_OF_MONEY", 2.0, 0.03, 0.9), ("PILLS_BODY", 4.5, 0.02, 1.0),
    ("PHISH_LOGIN_URL", 5.5, 0.01, 1.0), ("FREEMAIL_FROM", 0.3, 0.15, 0.4),
    ("LIST_SENDER_BLOCK", 6.5, 0.005, 1.0), ("LIST_CLIENT_ALLOW", -10.0, 0.02, 0.0),
    ("RCVD_IN_DNSWL_MED", -2.0, 0.05, 0.0), ("ARC_VALID", -0.2, 0.05, 0.0),
]
for i in range(30):
    SYMBOLS.append(("LOCAL_RULE_%02d" % i, round(0.2 + i * 0.15, 2), 0.01, 0.6))

DOMAINS_HAM = ["example.org", "example.net", "mail.example.com", "corp.example",
               "lists.example.org", "bank.example", "shop.example"]
DOMAINS_SPAM = ["spam%03d.example" % i for i in range(300)]
WORDS = ["invoice", "meeting", "viagra", "unsubscribe", "winner", "report",
         "password", "urgent", "lunch", "agenda", "crypto", "offer", "click",
         "account", "verify", "dear", "friend", "million", "project", "team"]


def rfc3339(t):
    d = dt.datetime.fromtimestamp(t, dt.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (d.microsecond // 1000)


def client_ip(rng, spammy):
    if spammy and rng.random() < 0.5:
        # a few heavy hitters among the bad sources
        return "203.0.113.%d" % rng.choice([7, 7, 7, 66, 66, 99, 123])
    if rng.random() < 0.1:
        return "2001:db8:%x::%x" % (rng.randrange(1 << 16), rng.randrange(1 << 16))
    return "198.51.100.%d" % rng.randrange(1, 255) if spammy else \
        "192.0.2.%d" % rng.randrange(1, 255)


def auth(rng, spammy, dom, ip, degraded):
    def pick(p_pass):
        if degraded and rng.random() < 0.5:
            return "temperror"
        r = rng.random()
        if r < p_pass:
            return "pass"
        return rng.choice(["fail", "softfail", "none", "neutral", "permerror"])

    spf = {"result": pick(0.3 if spammy else 0.95), "domain": dom,
           "mechanism": "ip4:%s/24" % ip if ":" not in ip else "include:_spf." + dom,
           "lookups": rng.randrange(1, 8)}
    dkim = []
    for _ in range(rng.choice([0, 1, 1, 1, 2])):
        res = pick(0.3 if spammy else 0.9)
        dkim.append({"domain": dom, "selector": "s%d" % rng.randrange(2020, 2027),
                     "algorithm": rng.choice(["rsa-sha256", "ed25519-sha256"]),
                     "bits": rng.choice([1024, 2048, 256]),
                     "result": res,
                     "reason": None if res == "pass" else "body hash did not verify"})
    dres = "pass" if (spf["result"] == "pass" or any(d["result"] == "pass" for d in dkim)) \
        else rng.choice(["fail", "none"])
    if degraded and rng.random() < 0.5:
        dres = "temperror"
    dmarc = {"result": dres, "domain": dom,
             "policy": rng.choice(["none", "quarantine", "reject"]),
             "disposition": "none",
             "alignment": {"spf": "relaxed", "dkim": "relaxed"},
             "record_source": "_dmarc." + dom}
    return spf, dkim, dmarc


def record(rng, t, n, args):
    spammy = rng.random() < 0.3
    dom = rng.choice(DOMAINS_SPAM if spammy else DOMAINS_HAM)
    ip = client_ip(rng, spammy)
    degraded = rng.random() < 0.005
    spf, dkim, dmarc = auth(rng, spammy, dom, ip, degraded)
    syms = []
    for name, score, p, spamminess in SYMBOLS:
        w = spamminess if spammy else 1 - spamminess
        if rng.random() < p * 2 * w:
            syms.append({"name": name, "score": score,
                         "detail": "matched %s" % rng.choice(WORDS)})
    score = round(sum(s["score"] for s in syms), 2)
    action = "reject" if score >= 15 else "tag" if score >= 5 else "accept"
    forced = None
    if degraded and rng.random() < 0.3:
        action, forced = "tempfail", "DNS_TEMPFAIL"
    reply = None
    if action == "reject":
        reply = "550 5.7.1 Message rejected as spam (score %.1f)" % score
    elif action == "tempfail":
        reply = "451 4.7.1 Temporary failure, please retry"
    prob = round(min(1.0, max(0.0, rng.gauss(0.93 if spammy else 0.05, 0.08))), 4)
    qid = "%010X" % rng.randrange(1 << 40)
    user = rng.choice(WORDS)
    rec = {
        "time": rfc3339(t), "queue_id": qid,
        "client": {"ip": ip, "name": "mx%d.%s" % (rng.randrange(9), dom)},
        "helo": "mx." + dom, "auth": None,
        "mail_from": "" if rng.random() < 0.02 else "%s@%s" % (user, dom),
        "rcpts": ["user%d@example.net" % rng.randrange(500)],
        "rcpt_count": 1,
        "from": "%s <%s@%s>" % (user.title(), user, dom),
        "subject": "%s %s %d" % (rng.choice(WORDS), rng.choice(WORDS), n),
        "message_id": "<%d.%s@%s>" % (n, qid, dom),
        "size": int(rng.lognormvariate(9, 1)), "truncated": False,
        "spf": spf, "dkim": dkim, "dmarc": dmarc,
        "bayes": {"probability": prob,
                  "tokens": [{"token": w, "p": round(rng.random(), 3)}
                             for w in rng.sample(WORDS, 5)]},
        "symbols": syms, "scored": True, "score": score,
        "thresholds": {"tag": 5.0, "reject": 15.0}, "action": action,
    }
    if forced:
        rec["forced_by"] = forced
    rec.update({"reply": reply, "dns_degraded": degraded,
                "elapsed_ms": round(rng.lognormvariate(2.0, 0.8), 3),
                "dns_ms": round(rng.lognormvariate(1.2, 0.9), 3), "v": 1})
    return rec


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lines", type=int, default=10000)
    ap.add_argument("--start", default="2026-11-10T00:00:00Z")
    ap.add_argument("--days", type=float, default=7)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--malformed", type=int, default=0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    t0 = dt.datetime.fromisoformat(args.start.replace("Z", "+00:00")).timestamp()
    step = args.days * 86400 / max(args.lines, 1)
    out = sys.stdout
    t = t0
    for n in range(args.lines):
        # busier during the day: a diurnal factor on the spacing
        hour = (t - t0) / 3600 % 24
        t += rng.expovariate(1 / step) * (1.5 - math.sin(math.pi * hour / 24))
        line = json.dumps(record(rng, t, n, args), separators=(",", ":"))
        if args.malformed and n % args.malformed == args.malformed - 1:
            line = line[: len(line) // 2]
        out.write(line + "\n")


if __name__ == "__main__":
    main()
