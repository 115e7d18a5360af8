#!/usr/bin/env python3
"""Bayes in the milter, end to end through real Postfix instances.

Two "hosts" (each a Postfix with its own mailwarden milter) share one token
database in a redis-server this test starts on loopback: what
`mailwarden train` teaches through host A's configuration decides host B's
verdicts.  A third milter uses an LMDB store that `mailwarden train` fills
while the milter runs: the milter reads the new counts without a reload.
When Redis goes away, mail keeps flowing at once, marked degraded in the
verdict log.

Needs root, postfix and redis-server; exits 77 (skip) otherwise.
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mwtest  # noqa: E402
import bayestest  # noqa: E402
from bayestest import mw  # noqa: E402
from mwtest import header, read_log, send  # noqa: E402

mwtest.skip_unless_root_with_postfix()
if bayestest.REDIS_SERVER is None:
    print("SKIP: redis-server is not installed")
    sys.exit(mwtest.SKIP)

SPAMS = ["Subject: cheap pills {n}\n\nbuy cheap viagra pills now, best "
         "price, order today {n}\n",
         "Subject: viagra offer {n}\n\ncheap viagra, order pills online, "
         "best price {n}\n"]
HAMS = ["Subject: project meeting {n}\n\nthe project meeting is on monday, "
        "agenda attached {n}\n",
        "Subject: notes {n}\n\nthanks for the notes, see you at the project "
        "meeting {n}\n"]
HEAD = ("From: {frm}\nTo: Bob <bob@example.net>\nDate: Thu, 26 Nov 2026 "
        "10:15:00 +0000\nMessage-ID: <{tag}-{n}@example.org>\n")

redis = bayestest.Redis()
work = mwtest.Workdir(prefix="mw-bayes-it-")
R = mwtest.Results()


def training_files(cls, texts, count):
    d = work.sub("train", cls)
    for i in range(count):
        with open(os.path.join(d, "%d.eml" % i), "w") as f:
            f.write(HEAD.format(frm="x%d@sender.example" % i, tag=cls, n=i) +
                    texts[i % len(texts)].format(n=i))
    return d


def host(name, store, extra=None):
    logdir = work.sub(name)
    settings = {
        "socket": "inet:%d@127.0.0.1" % mwtest.free_port(),
        "user": "",
        "pid_file": "",
        "log_file": os.path.join(logdir, "verdicts.log"),
        "bayes_store": store,
        "bayes_min_spam": "5",
        "bayes_min_ham": "5",
        "bayes_redis_timeout": "300",
        "bayes_redis_retry": "30",
        "dmarc": "no",
        "spf": "no",
        "rules_dir": "",
        "rules_site_dir": "",
    }
    settings.update(extra or {})
    hw = mwtest.Workdir(prefix="mw-bayes-%s-" % name)
    milter = mwtest.Milter(hw, settings, name=name).start()
    pf = mwtest.Postfix(hw, milter.postfix_spec()).start()
    return {"milter": milter, "pf": pf, "log": settings["log_file"],
            "conf": milter.conf, "work": hw}


def deliver(h, text, n):
    pf = h["pf"]
    before = len(pf.delivered())
    data = HEAD.format(frm="Someone <someone@sender.example>", tag="it",
                       n=n) + text.format(n=n)
    r = send(pf, "someone@sender.example", ["bob@example.net"], data,
             client_ip="192.0.2.10", client_name="mail.sender.example")
    assert r.code == 250, r
    msg = pf.wait_delivered(before + 1)[-1]
    line = mwtest.wait_for(lambda: [x for x in read_log(h["log"])
                                    if x["queue_id"] == r.queue_id],
                           what="verdict log line")[0]
    return msg, line


hosts = []
try:
    spam_dir = training_files("spam", SPAMS, 6)
    ham_dir = training_files("ham", HAMS, 6)
    a = host("a", redis.url)
    b = host("b", redis.url)
    c = host("c", os.path.join(work.path, "lmdb"))
    hosts = [a, b, c]

    def untrained_states_it():
        msg, line = deliver(b, SPAMS[0], 100)
        assert line["bayes"]["skipped"] == "untrained", line["bayes"]
        assert "BAYES_UNTRAINED" in header(msg, "X-Spam-Status")[0]

    def training_on_a_teaches_b():
        mw("train", "-c", a["conf"], "--spam", spam_dir)
        mw("train", "-c", a["conf"], "--ham", ham_dir)
        msg, line = deliver(b, SPAMS[1], 101)
        bay = line["bayes"]
        assert bay["store"] == "redis" and bay["probability"] >= 0.99, bay
        assert bay["learned"] == {"spam": 6, "ham": 6}, bay
        assert any(s["name"] == "BAYES_99" for s in line["symbols"])
        assert header(msg, "X-Spam-Flag") == ["YES"], header(msg, "X-Spam-Flag")
        msg, line = deliver(b, HAMS[0], 102)
        assert line["bayes"]["band"] == "BAYES_00", line["bayes"]
        assert line["action"] == "accept"

    def lmdb_milter_reads_while_train_writes():
        msg, line = deliver(c, SPAMS[0], 200)
        assert line["bayes"]["skipped"] == "untrained", line["bayes"]
        mw("train", "-c", c["conf"], "--spam", spam_dir)
        mw("train", "-c", c["conf"], "--ham", ham_dir)
        msg, line = deliver(c, SPAMS[0], 201)
        assert line["bayes"]["store"] == "lmdb", line["bayes"]
        assert line["bayes"]["probability"] >= 0.99, line["bayes"]

    def redis_down_mail_flows_degraded():
        redis.kill()
        t0 = time.monotonic()
        msg, line = deliver(b, SPAMS[1], 103)
        msg2, line2 = deliver(b, SPAMS[0], 104)
        dt = time.monotonic() - t0
        for x in (line, line2):
            assert x["bayes"]["probability"] is None, x["bayes"]
            assert x["bayes"]["degraded"] is True, x["bayes"]
            assert not any(s["name"].startswith("BAYES_") for s in x["symbols"])
        assert dt < 10, "two messages took %.1f s" % dt
        assert b["milter"].alive()

    R.check("untrained: no band, BAYES_UNTRAINED in the header",
            untrained_states_it)
    R.check("training through host A decides host B (shared Redis)",
            training_on_a_teaches_b)
    R.check("LMDB milter reads what train writes, no reload",
            lmdb_milter_reads_while_train_writes)
    R.check("Redis down: mail flows, Bayes marked degraded",
            redis_down_mail_flows_degraded)
finally:
    for h in hosts:
        h["pf"].stop()
        h["milter"].stop()
        if R.failed:
            print("---- %s stderr\n%s" % (h["conf"], h["milter"].log_text()[-3000:]))
        if not os.environ.get("MW_KEEP"):
            h["work"].cleanup()
    redis.stop()
    if not os.environ.get("MW_KEEP"):
        work.cleanup()
R.exit()
