#!/usr/bin/env python3
"""Rate limits, greylisting and spam-trap clients through real Postfix
and a real Redis (issue 16).

Two mailwarden daemons, each behind its own Postfix (two MX hosts),
share one redis-server on loopback (policy_store = redis://...):

    ratelimit_user = 3/1h          (per SMTP AUTH user, XCLIENT LOGIN=)
    ratelimit_client = 2/4s        (per client address)
    ratelimit_sender_domain = 4/1h
    greylist = yes, greylist_delay = 2

- A user's limit trips on the fourth message (451 4.7.1 with the
  limit's text, MW_RATELIMIT_USER in the verdict log), `mailwarden
  ratelimit show` lists the user's counter and `ratelimit clear user`
  makes the next message go through.
- A client limit trips and recovers by itself once its window has
  slid past.
- A sender domain's limit counts the messages both MX hosts took;
  `ratelimit clear sender_domain` resets it.
- Greylisting: a first try is answered 451 4.7.1, a retry before
  greylist_delay too, the retry after it is delivered; and with a
  third Postfix relaying into the first (an MTA as the client), the
  message is delivered after the MTA's own retry.
- A spam-trap recipient (rcpt_reject scope) records its client in
  Redis; `ratelimit show traps` lists it.  That client's later mail
  gets MW_TRAP_CLIENT (score only in the main configuration; rejected
  550 5.7.1 to a scope with trap_client_action = reject, on both MX
  hosts) until `ratelimit clear trap IP` forgets it.
- Redis killed, then frozen (SIGSTOP): mail is accepted, the verdict
  log says degraded; once Redis answers again the checks are back.
- The metrics endpoint counts the deferrals, the degraded messages and
  the trap clients' messages, and not the policy store's Redis errors
  as the Bayes store's; `mailwarden status` has the policy store line.

Needs root, postfix and redis-server; exits 77 (skip) otherwise.
"""

import os
import signal
import smtplib
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bayestest  # noqa: E402
import loadtest  # noqa: E402
import mwtest  # noqa: E402
from mwtest import read_log, send  # noqa: E402

mwtest.skip_unless_root_with_postfix()
if bayestest.REDIS_SERVER is None:
    print("SKIP: redis-server is not installed")
    sys.exit(mwtest.SKIP)

GREY_DELAY = 2
CLIENT_WINDOW = 4
redis = bayestest.Redis()
work = mwtest.Workdir(prefix="mw-policy-it-")
scopes = work.sub("scopes.d")
work.write("scopes.d/05-trap.conf", "recipients = trap@example.net\n"
           "rcpt_reject = 550 5.1.1 <trap@example.net>: no such user here\n")
work.write("scopes.d/10-strict.conf", "recipients = strict@example.net\n"
           "trap_client_action = reject\n")


def host(name):
    """One MX: a milter (sharing Redis) and its Postfix."""
    run_dir = work.sub(name, "run", owner="postfix")
    logdir = work.sub(name, "log", owner="postfix")
    vlog = os.path.join(logdir, "verdicts.log")
    milter = mwtest.Milter(work, {
        "socket": "unix:%s/mw.sock" % run_dir,
        "user": "postfix",
        "authserv_id": "mx.mailwarden.test",
        "log_file": vlog,
        "pid_file": "",
        "rules_dir": "",
        "rules_site_dir": "",
        "dns_zone_files": os.path.join(mwtest.SRCDIR, "tests", "data", "dns",
                                       "empty.zone"),
        "spf": "no",
        "dmarc": "no",
        "dkim_verify": "no",
        "scope_dir": scopes,
        "policy_store": redis.url,
        "policy_redis_timeout": "300",
        "policy_redis_retry": "1",
        "ratelimit_user": "3/1h",
        "ratelimit_client": "2/%ds" % CLIENT_WINDOW,
        "ratelimit_sender_domain": "4/1h",
        "greylist": "yes",
        "greylist_delay": str(GREY_DELAY),
        "metrics_listen": "inet:%d@127.0.0.1" % mwtest.free_port(),
    }, name=name).start()
    pwork = mwtest.Workdir(prefix="mw-policy-it-%s-" % name)
    # no in_flow_delay: under the load test, cleanup would hold clients
    # up to a second for the queue manager, which is not what is tested
    pf = mwtest.Postfix(pwork, milter.postfix_spec(),
                        extra={"in_flow_delay": "0s"}).start()
    return milter, pf, pwork, vlog


milter1, pf1, pwork1, vlog1 = host("mx1")
milter2, pf2, pwork2, vlog2 = host("mx2")

# Postfix C: no milter, relays example.net to mx1 and retries quickly
work_c = mwtest.Workdir(prefix="mw-policy-it-c-")
pf_c = mwtest.RelayPostfix(work_c, pf1, "example.net").start()
R = mwtest.Results()

MSG = """From: {frm}
To: bob@example.net
Subject: hello
Date: Mon, 7 Dec 2026 05:00:00 +0000
Message-ID: <{mid}@example.org>

Hello.
"""


def msg(mid, frm="alice@example.org"):
    return MSG.format(mid=mid, frm=frm)


def log_of(vlog, mid, count=1):
    def found():
        got = [v for v in read_log(vlog) if v.get("message_id") == "<%s@example.org>" % mid]
        return len(got) >= count and got
    return mwtest.wait_for(found, timeout=20, what="log of " + mid)


def delivered(pf, mid):
    return [m for m in pf.delivered() if ("<%s@example.org>" % mid).encode() in m]


def send_login(pf, login, mid, ip="198.51.100.7", frm="alice@example.org"):
    """XCLIENT LOGIN=: Postfix passes {auth_authen} to the milter."""
    s = smtplib.SMTP(pf.addr, pf.port, timeout=60)
    try:
        s.ehlo("test.local")
        code, text = s.docmd("XCLIENT", "ADDR=%s NAME=client.example.org LOGIN=%s"
                             % (ip, login))
        assert code == 220, (code, text)
        s.ehlo("client.example.org")
        assert s.mail(frm)[0] == 250
        assert s.rcpt("bob@example.net")[0] == 250
        try:
            code, text = s.data(mwtest.crlf(msg(mid, frm)))
        except smtplib.SMTPDataError as e:
            code, text = e.smtp_code, e.smtp_error
        return code, text.decode()
    finally:
        s.quit()


def policy(v):
    return v.get("policy", {})


def names(v):
    return [s["name"] for s in v["symbols"]]


def mw(*args):
    return subprocess.run([mwtest.MAILWARDEN] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True)


def t_user_limit_trips_and_is_cleared():
    # each from an address of its own: the client limit stays out of it
    for i in range(3):
        code, text = send_login(pf1, "carol", "u%d" % i, ip="198.51.100.%d" % (10 + i),
                                frm="carol@one.example")
        assert code == 250, (i, code, text)
    code, text = send_login(pf1, "carol", "u3", ip="198.51.100.13",
                            frm="carol@one.example")
    assert code == 451 and "4.7.1" in text, (code, text)
    assert "3 messages per 1h" in text and "user" in text, text
    v = log_of(vlog1, "u3")[0]
    assert v["action"] == "tempfail" and "MW_RATELIMIT_USER" in names(v), v
    assert policy(v)["ratelimit"] == "over" and policy(v)["limit"] == \
        "user 3 messages per 1h", policy(v)
    assert policy(log_of(vlog1, "u0")[0])["ratelimit"] == "ok"
    # the other MX counts carol too: the limit is shared
    code, text = send_login(pf2, "carol", "u4", ip="198.51.100.14",
                            frm="carol@one.example")
    assert code == 451, (code, text)
    shown = mw("ratelimit", "show", "-c", milter1.conf)
    assert shown.returncode == 0 and "counter  user carol  messages per 1h  3.0" in \
        shown.stdout, shown.stdout
    cleared = mw("ratelimit", "clear", "-c", milter1.conf, "user", "carol")
    assert cleared.returncode == 0 and "1 counter(s) removed" in cleared.stdout, \
        cleared.stdout
    code, text = send_login(pf2, "carol", "u5", ip="198.51.100.15",
                            frm="carol@one.example")
    assert code == 250, (code, text)
    mwtest.wait_for(lambda: delivered(pf2, "u5"), timeout=30, what="u5 delivered")
    assert mw("ratelimit", "clear", "-c", milter1.conf, "user",
              "nobody-here").returncode == 1


def t_client_limit_trips_and_recovers():
    # authenticated: not greylisted, and a user of its own each time
    ip = "198.51.100.20"
    for i in range(2):
        code, text = send_login(pf1, "c%d" % i, "c%d" % i, ip=ip, frm="x@two.example")
        assert code == 250, (i, code, text)
    code, text = send_login(pf1, "c2", "c2", ip=ip, frm="x@two.example")
    assert code == 451 and "client" in text and "2 messages per 4s" in text, \
        (code, text)
    assert "MW_RATELIMIT_CLIENT" in names(log_of(vlog1, "c2")[0])
    n = [0]

    def goes_through():
        n[0] += 1
        mid = "cr%d" % n[0]
        code, _ = send_login(pf1, mid, mid, ip=ip, frm="x@two.example")
        return code == 250
    mwtest.wait_for(goes_through, timeout=4 * CLIENT_WINDOW, interval=0.5,
                    what="the client limit to recover")


def t_sender_domain_counted_across_hosts():
    users = iter("d%d" % i for i in range(10))
    for pf in (pf1, pf2, pf1, pf2):
        u = next(users)
        code, text = send_login(pf, u, u, ip="198.51.100.%d" % (30 + int(u[1:])),
                                frm="news@shared.example")
        assert code == 250, (u, code, text)
    u = next(users)
    code, text = send_login(pf2, u, u, ip="198.51.100.40", frm="news@shared.example")
    assert code == 451 and "sender domain" in text, (code, text)
    v = log_of(vlog2, u)[0]
    assert "MW_RATELIMIT_SENDER_DOMAIN" in names(v), v
    cleared = mw("ratelimit", "clear", "-c", milter2.conf, "sender_domain",
                 "Shared.Example")
    assert cleared.returncode == 0 and "1 counter(s) removed" in cleared.stdout, \
        cleared.stdout
    u = next(users)
    code, text = send_login(pf1, u, u, ip="198.51.100.41", frm="news@shared.example")
    assert code == 250, (code, text)


def t_greylist_first_try_then_retry():
    frm, ip = "first@grey.example", "203.0.113.10"
    r = send(pf1, frm, ["bob@example.net"], msg("g1", frm), client_ip=ip)
    assert r.code == 451 and "4.7.1" in r.text and "Greylisted" in r.text, r
    v = log_of(vlog1, "g1")[0]
    assert v["action"] == "tempfail" and "MW_GREYLIST" in names(v), v
    assert policy(v)["greylist"] == "new", policy(v)
    # too soon, from another address of the same /24
    r = send(pf1, frm, ["bob@example.net"], msg("g1", frm), client_ip="203.0.113.11")
    assert r.code == 451, r
    assert policy(log_of(vlog1, "g1", 2)[1])["greylist"] == "early"
    time.sleep(GREY_DELAY + 0.5)
    r = send(pf1, frm, ["bob@example.net"], msg("g1", frm), client_ip=ip)
    assert r.code == 250, r
    assert policy(log_of(vlog1, "g1", 3)[2])["greylist"] == "passed"
    mwtest.wait_for(lambda: delivered(pf1, "g1"), timeout=30, what="g1 delivered")
    # the triplet is known on the other MX too
    r = send(pf2, frm, ["bob@example.net"], msg("g2", frm), client_ip=ip)
    assert r.code == 250 and policy(log_of(vlog2, "g2")[0])["greylist"] == "known", r


def t_greylist_mta_retries():
    """Postfix C is the client: deferred first, delivered on its retry."""
    frm = "relay@grey.example"
    r = send(pf_c, frm, ["bob@example.net"], msg("m1", frm))
    assert r.code == 250, r
    try:
        pf_c.wait_retried(lambda: delivered(pf1, "m1"),
                          "the relayed message after its retry", timeout=60)
    except TimeoutError:
        raise AssertionError("not delivered: %r\n%s" % (
            [(v.get("action"), v.get("policy")) for v in read_log(vlog1)
             if v.get("message_id") == "<m1@example.org>"], pf_c.log_text()[-3000:]))
    got = [policy(v)["greylist"] for v in log_of(vlog1, "m1", 2)]
    assert got[0] == "new" and got[-1] == "passed", got
    assert "451 4.7.1" in pf_c.log_text(), pf_c.log_text()[-2000:]


def t_trap_client_recorded():
    s = smtplib.SMTP(pf1.addr, pf1.port, timeout=60)
    try:
        s.ehlo("test.local")
        assert s.docmd("XCLIENT", "ADDR=203.0.113.66 NAME=[UNAVAILABLE]")[0] == 220
        s.ehlo("spammer.example")
        assert s.mail("a@sender.example")[0] == 250
        code, text = s.rcpt("trap@example.net")
        assert code == 550 and b"5.1.1" in text, (code, text)
    finally:
        s.quit()
    shown = mw("ratelimit", "show", "-c", milter2.conf, "traps")
    assert shown.returncode == 0 and "trap     client 203.0.113.66  hits 1" in \
        shown.stdout, shown.stdout


def t_trap_client_counted_then_cleared():
    ip, frm = "203.0.113.66", "a@sender.example"
    # main configuration: the symbol's score only (greylisting may defer)
    r = send(pf1, frm, ["bob@example.net"], msg("tc1", frm), client_ip=ip)
    assert r.code == 250 or (r.code == 451 and "Greylisted" in r.text), r
    v = log_of(vlog1, "tc1")[0]
    assert "MW_TRAP_CLIENT" in names(v), v
    assert policy(v)["trap_client"] == "listed", policy(v)
    # a scope with trap_client_action = reject, on either MX
    for pf, vlog, mid in ((pf1, vlog1, "tc2"), (pf2, vlog2, "tc3")):
        r = send(pf, frm, ["strict@example.net"], msg(mid, frm), client_ip=ip)
        assert r.code == 550 and "5.7.1" in r.text and "spam trap" in r.text, r
        v = log_of(vlog, mid)[0]
        assert v["action"] == "reject" and "MW_TRAP_CLIENT" in names(v), v
    # another client is not concerned
    r = send(pf1, frm, ["strict@example.net"], msg("tc4", frm),
             client_ip="203.0.113.67")
    assert r.code != 550, r
    assert policy(log_of(vlog1, "tc4")[0])["trap_client"] == "no"
    cleared = mw("ratelimit", "clear", "-c", milter1.conf, "trap", ip)
    assert cleared.returncode == 0 and "removed" in cleared.stdout, cleared.stdout
    r = send(pf2, frm, ["strict@example.net"], msg("tc5", frm), client_ip=ip)
    assert r.code != 550, r
    v = log_of(vlog2, "tc5")[0]
    assert "MW_TRAP_CLIENT" not in names(v) and policy(v)["trap_client"] == "no", v
    assert mw("ratelimit", "clear", "-c", milter1.conf, "trap", ip).returncode == 1


def t_redis_down_degrades():
    redis.kill()
    try:
        code, text = send_login(pf1, "erin", "k1", ip="198.51.100.99",
                                frm="erin@three.example")
        assert code == 250, (code, text)
        v = log_of(vlog1, "k1")[0]
        assert v["action"] == "accept" and policy(v).get("degraded") is True, v
        r = send(pf1, "k@grey2.example", ["bob@example.net"], msg("k2", "k@grey2.example"),
                 client_ip="203.0.113.90")
        assert r.code == 250, r
        assert policy(log_of(vlog1, "k2")[0])["greylist"] == "degraded"
    finally:
        redis.restart()


def t_redis_frozen_degrades():
    """Frozen: connections are accepted, nothing is answered."""
    time.sleep(1.5)                     # past policy_redis_retry
    os.kill(redis.proc.pid, signal.SIGSTOP)
    try:
        code, text = send_login(pf2, "frank", "f1", ip="198.51.100.98",
                                frm="frank@four.example")
        assert code == 250, (code, text)
        v = log_of(vlog2, "f1")[0]
        assert v["action"] == "accept" and policy(v).get("degraded") is True, v
    finally:
        os.kill(redis.proc.pid, signal.SIGCONT)
    time.sleep(1.5)
    code, text = send_login(pf2, "frank", "f2", ip="198.51.100.97",
                            frm="frank@four.example")
    assert code == 250, (code, text)
    assert policy(log_of(vlog2, "f2")[0]) == {"ratelimit": "ok", "greylist": "trusted"}, \
        log_of(vlog2, "f2")[0]


def t_redis_outages_under_load():
    """8 concurrent clients, each message from a client, sender and
    domain of its own (so greylisting, not the limits, answers them),
    while Redis is killed, restarted, frozen and thawed."""
    time.sleep(1.5)                     # past policy_redis_retry

    def stream():
        n = 0
        while True:
            n += 1
            frm = "load%d@load%d.example" % (n, n % 97)
            yield loadtest.Msg(MSG.format(mid="load%d" % n, frm=frm), mail_from=frm,
                               client_ip="198.18.%d.%d" % (n // 250 % 250, n % 250 + 1),
                               tag=str(n))
    run = loadtest.Phases(pf1, stream(), 8)
    phase, marks, load = run.phase, run.marks, run.load
    phase("healthy", 2)
    redis.kill()
    phase("killed", 3)
    redis.restart()
    phase("restarted", 2)
    os.kill(redis.proc.pid, signal.SIGSTOP)
    try:
        phase("frozen", 3)
    finally:
        os.kill(redis.proc.pid, signal.SIGCONT)
    phase("thawed", 3)
    run.finish()
    acct = loadtest.account(loadtest.Mailbox(pf1, remove=False), load.results)
    print("  " + acct.summary())
    assert not acct.lost, acct.lost[:3]
    assert not [o for o in acct.refused if o.code >= 500], acct.refused[:3]
    slowest = max(o.seconds for o in load.results)
    assert slowest <= 0.3 + 2.0, "a message waited %.2fs for Redis" % slowest
    logs = {v["queue_id"]: v for v in read_log(vlog1) if v.get("queue_id")}

    def during(a, b, pad=0.5):
        return [o for o in load.results
                if o.started >= marks[a] + pad and o.ended <= marks[b] - pad]
    for a, b in (("healthy", "killed"), ("killed", "restarted"),
                 ("restarted", "frozen"), ("frozen", "thawed")):
        codes = [o.code for o in during(a, b, pad=0)]
        print("  %s: %d messages, %d accepted" % (a, len(codes), codes.count(250)))
    for name, end in (("killed", "restarted"), ("frozen", "thawed")):
        outs = during(name, end)
        assert outs, "no mail while Redis was " + name
        # the checks are skipped: accepted, and the log says why
        assert all(o.code == 250 for o in outs), [o.result for o in outs][:3]
        assert all(policy(logs[o.result.queue_id]).get("degraded") for o in outs), \
            [policy(logs[o.result.queue_id]) for o in outs][:3]
    healthy = during("healthy", "killed")
    assert healthy and all(o.code == 451 and "Greylisted" in o.result.text
                           for o in healthy), [o.result for o in healthy][:3]


def t_metrics_count_deferrals():
    spec = milter1.settings["metrics_listen"]
    port = int(spec.split(":", 1)[1].split("@")[0])
    text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port,
                                  timeout=10).read().decode()

    def val(series):
        for ln in text.splitlines():
            if ln.startswith(series + " "):
                return float(ln.split()[1])
        raise AssertionError("no %s in %s" % (series, text[-3000:]))
    assert val('mailwarden_policy_deferred_total{reason="ratelimit"}') >= 3
    assert val('mailwarden_policy_deferred_total{reason="greylist"}') >= 3
    assert val("mailwarden_policy_degraded_total") >= 1
    # the policy store's Redis is not the Bayes store's: not counted there
    assert val("mailwarden_bayes_redis_errors_total") == 0
    assert val("mailwarden_policy_trap_client_total") >= 2
    assert val('mailwarden_policy_store_healthy{backend="redis"}') in (0, 1)
    st = mw("status", "-c", milter1.conf)
    assert st.returncode in (0, 1), st.stdout
    assert "policy store   redis, deferred " in st.stdout and \
        "trap clients " in st.stdout, st.stdout


def t_clean_exit():
    for m in (milter1, milter2):
        rc = m.stop()
        assert rc == 0, "exit %s: %s" % (rc, m.log_text()[-2000:])
        bad = [ln for ln in m.log_text().splitlines()
               if "Sanitizer" in ln or "runtime error" in ln or "panic" in ln]
        assert not bad, bad


try:
    R.check("user limit: 451 4.7.1 with its text, shared by both MX, cleared by "
            "ratelimit clear", t_user_limit_trips_and_is_cleared)
    R.check("client limit trips and recovers when its window has slid",
            t_client_limit_trips_and_recovers)
    R.check("sender domain limit counts the mail of both MX hosts",
            t_sender_domain_counted_across_hosts)
    R.check("greylisting: first try 451, early retry 451, retry after delay delivered",
            t_greylist_first_try_then_retry)
    R.check("greylisting: an MTA client's own retry is delivered",
            t_greylist_mta_retries)
    R.check("spam-trap client recorded in the shared store", t_trap_client_recorded)
    R.check("a recorded trap client's mail: MW_TRAP_CLIENT, rejected by a scope's "
            "trap_client_action, forgotten by ratelimit clear trap",
            t_trap_client_counted_then_cleared)
    R.check("Redis killed: accepted, verdict log says degraded", t_redis_down_degrades)
    R.check("Redis frozen: accepted, degraded; used again once thawed",
            t_redis_frozen_degrades)
    R.check("Redis killed and frozen under load: nothing lost, skipped checks "
            "marked degraded", t_redis_outages_under_load)
    R.check("metrics count deferrals and degraded messages", t_metrics_count_deferrals)
    R.check("both daemons stop cleanly (no sanitizer report)", t_clean_exit)
finally:
    pf_c.stop()
    pf1.stop()
    pf2.stop()
    milter1.stop()
    milter2.stop()
    for w in (work_c, pwork1, pwork2, work):
        w.cleanup()
    redis.stop()
R.exit()
