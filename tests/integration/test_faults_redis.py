#!/usr/bin/env python3
"""Redis faults under load: the Bayes token store goes away mid-run.

A real Postfix with mailwarden (bayes_store = redis://...) receives mail
from 16 concurrent SMTP clients while the test

  1. kills redis-server (connections refused),
  2. restarts it empty, retrains, and then freezes it with SIGSTOP
     (connections accepted, nothing answered: every command must time
     out within bayes_redis_timeout),
  3. lets it run again.

Asserted throughout: no message is lost and none is refused (Bayes never
refuses or delays mail), no DATA round trip is longer than
bayes_redis_timeout plus a fixed allowance, messages scored while Redis
was unusable say so in the verdict log ("bayes": {"degraded": true,
"probability": null}, no BAYES_* band symbol), Bayes is back within
bayes_redis_retry seconds of Redis being back, the outage is logged a
bounded number of times, and SIGTERM afterwards drains with nothing
stuck in flight.

Needs root, postfix and redis-server; exits 77 (skip) otherwise.
"""

import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bayestest  # noqa: E402
import loadtest  # noqa: E402
import mwtest  # noqa: E402
from mwtest import header, read_log  # noqa: E402

mwtest.skip_unless_root_with_postfix()
if bayestest.REDIS_SERVER is None:
    print("SKIP: redis-server is not installed")
    sys.exit(mwtest.SKIP)

TIMEOUT_MS = 300
RETRY_S = 2
ALLOWANCE = 2.0
SPAM = ("From: Offers <offers@sender.example>\nTo: bob@example.net\n"
        "Subject: cheap pills {n}\nMessage-ID: <spam{n}@sender.example>\n\n"
        "buy cheap viagra pills now, best price, order today {n}\n")
HAM = ("From: Alice <alice@sender.example>\nTo: bob@example.net\n"
       "Subject: project meeting {n}\nMessage-ID: <ham{n}@sender.example>\n\n"
       "the project meeting is on monday, agenda attached {n}\n")

redis = bayestest.Redis()
work = mwtest.Workdir(prefix="mw-faults-redis-")
run = work.sub("run", owner="postfix")
logdir = work.sub("log", owner="postfix")
vlog = os.path.join(logdir, "verdicts.log")
milter = mwtest.Milter(work, {
    "socket": "unix:%s/mw.sock" % run,
    "user": "postfix",
    "authserv_id": "mx.mailwarden.test",
    "pid_file": "",
    "log_file": vlog,
    "bayes_store": redis.url,
    "bayes_min_spam": "5",
    "bayes_min_ham": "5",
    "bayes_redis_timeout": str(TIMEOUT_MS),
    "bayes_redis_retry": str(RETRY_S),
    "spf": "no",
    "dmarc": "no",
    "rules_dir": "",
    "rules_site_dir": "",
})
R = mwtest.Results()
pf = None


def train():
    for cls, text in (("spam", SPAM), ("ham", HAM)):
        d = work.sub("train", cls)
        for i in range(6):
            with open(os.path.join(d, "%d.eml" % i), "w") as f:
                f.write(text.format(n=i))
        bayestest.mw("train", "-c", milter.conf, "--" + cls, d)


def stream():
    n = 1000
    while True:
        n += 1
        yield loadtest.Msg((SPAM if n % 2 else HAM).format(n=n),
                           mail_from="x%d@sender.example" % n, tag=str(n))


def t_redis_outages_under_load():
    train()
    run = loadtest.Phases(pf, stream(), 16)
    phase, marks = run.phase, run.marks
    phase("healthy", 3)
    redis.kill()                        # connections refused
    phase("killed", 4)
    redis.restart()                     # empty: train again, then freeze it
    train()
    phase("restarted", 3)
    os.kill(redis.proc.pid, signal.SIGSTOP)     # accepts, never answers
    phase("frozen", 4)
    os.kill(redis.proc.pid, signal.SIGCONT)
    phase("thawed", RETRY_S + 4)
    run.finish()
    load = run.load
    mbox = loadtest.Mailbox(pf)
    acct = loadtest.account(mbox, load.results)
    slowest = max(o.seconds for o in load.results)
    print("  %s; slowest DATA reply %.2fs" % (acct.summary(), slowest))
    assert not acct.lost, acct.lost
    assert len(acct.delivered) == acct.sent, [o.result for o in acct.refused][:5]
    for o in acct.delivered:
        ar = header(mbox.ids[o.msg.id] + b"\n", "Authentication-Results")
        assert ar and ar[0].startswith("mx.mailwarden.test;"), ar
    assert slowest <= TIMEOUT_MS / 1000.0 + ALLOWANCE, \
        "a message waited %.2fs for Redis" % slowest

    by_qid = {ln["queue_id"]: ln for ln in read_log(vlog)}
    rows = []
    for o in acct.delivered:
        ln = by_qid.get(o.result.queue_id)
        assert ln is not None, "no verdict log line for %s" % o.result.queue_id
        rows.append((o.started, o.ended, ln["bayes"], [s["name"] for s in ln["symbols"]]))
    for _, _, bay, names in rows:
        if bay.get("degraded"):
            assert bay["probability"] is None, bay
            assert not any(n.startswith("BAYES_") and n != "BAYES_UNTRAINED"
                           for n in names), names

    def during(a, b, pad=0.5):
        return [r for r in rows if r[0] >= marks[a] + pad and r[1] <= marks[b] - pad]
    healthy = during("healthy", "killed")
    killed = during("killed", "restarted")
    frozen = during("frozen", "thawed", pad=0.5)
    recovered = [r for r in rows if r[0] >= marks["thawed"] + RETRY_S + 1]
    print("  messages: healthy %d, Redis killed %d, frozen %d, recovered %d" % (
        len(healthy), len(killed), len(frozen), len(recovered)))
    assert healthy and killed and frozen and recovered, "a phase saw no mail"
    assert all(r[2].get("probability") is not None for r in healthy), \
        [r[2] for r in healthy if r[2].get("probability") is None][:3]
    # once Redis is known to be down, every message says so
    assert all(r[2].get("degraded") for r in killed), \
        [(r[0] - marks["killed"], r[1] - marks["killed"], r[2])
         for r in killed if not r[2].get("degraded")][:3]
    assert all(r[2].get("degraded") for r in frozen), \
        [r[2] for r in frozen if not r[2].get("degraded")][:3]
    assert all(not r[2].get("degraded") and r[2].get("probability") is not None
               for r in recovered), [r[2] for r in recovered if r[2].get("degraded")][:3]
    # an outage is reported, not once per message
    warnings = [ln for ln in milter.log_text().splitlines() if "redis" in ln.lower()]
    print("  %d diagnostic line(s) about Redis" % len(warnings))
    assert 1 <= len(warnings) <= 6, "\n".join(warnings[:20])
    assert milter.alive()


def t_sigterm_after_outages():
    milter.signal(signal.SIGTERM)
    took = loadtest.wait_exit(milter.proc, 5)
    # at once: 3 s covers LeakSanitizer's heap scan at exit in ASan builds
    assert took is not None and took < 3.0, took
    assert milter.proc.returncode == 0
    assert "stopping: refusing new mail, 0 message(s) in flight" in milter.log_text()


try:
    milter.start()
    pf = mwtest.Postfix(work, milter.postfix_spec()).start()
    R.check("Redis killed, restarted and frozen under load: mail flows, degraded marked",
            t_redis_outages_under_load)
    R.check("SIGTERM afterwards: nothing stuck in flight", t_sigterm_after_outages)
finally:
    with_proc = redis.proc
    if with_proc and with_proc.poll() is None:
        os.kill(with_proc.pid, signal.SIGCONT)
    if pf:
        pf.stop()
    milter.stop()
    redis.stop()
    if R.failed:
        print("---- milter stderr\n" + milter.log_text()[-4000:])
    if not os.environ.get("MW_KEEP"):
        work.cleanup()
R.exit()
