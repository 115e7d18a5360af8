#!/usr/bin/env python3
"""Policy scopes through a real Postfix (issue 16).

Postfix B has mailwarden attached and hosts example.net and
strict.example; scopes (scope_dir) are:

    10-outbound  outbound = yes, tag = reject = 9, its own reject text
    20-abuse     recipients = abuse@, exempt
    30-strict    recipient_domains = strict.example, tag 2, reject 4
    (main file)  tag 5, reject 10

- Per-domain thresholds: one message scoring 3 is tagged for
  strict.example and not for example.net; the verdict log names the
  scope.
- abuse@ is exempt: delivered as sent (no header of ours), not scored.
- One policy per message: a recipient of another scope is answered
  452 4.5.3; with Postfix A relaying into B (Postfix as the client of a
  real delivery), a message to both domains arrives for both, each copy
  with its own scope's verdict.
- Outbound: an SMTP-AUTH sender (XCLIENT LOGIN=) and a trusted network
  are scored by 10-outbound and still DKIM-signed; spam from them is
  refused with the scope's text, which names no rule.
- A spam trap (05-trap, rcpt_reject): its recipient is refused at RCPT
  with the scope's reply and the client is logged; the other recipients
  of the message are delivered.
- A bad scope file on SIGHUP: the daemon logs FILE:LINE and keeps the
  generation it has.
"""

import os
import re
import signal
import smtplib
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mwtest  # noqa: E402
from mwtest import header, read_log, send  # noqa: E402

mwtest.skip_unless_root_with_postfix()

AUTHSERV = "mx.mailwarden.test"
work = mwtest.Workdir(prefix="mw-scope-it-")
run_dir = work.sub("run", owner="postfix")
logdir = work.sub("log", owner="postfix")
keydir = work.sub("keys", mode=0o755)
rules = work.sub("rules")
scopes = work.sub("scopes.d")
vlog = os.path.join(logdir, "verdicts.log")

work.write("rules/t.cf", "body THREE_POINTS /threepoints/i\nscore THREE_POINTS 3\n"
           "body TEN_POINTS /tenpoints/i\nscore TEN_POINTS 10\n")
SCOPES = {
    "05-trap.conf": "recipients = trap@example.net\n"
                    "rcpt_reject = 550 5.1.1 <trap@example.net>: no such user here\n",
    "10-outbound.conf": "outbound = yes\ntag_score = 9\nreject_score = 9\n"
                        "reject_text = Not sent: our outbound filter took it for spam; "
                        "ask the help desk\n",
    "20-abuse.conf": "recipients = abuse@\nexempt = yes\n",
    "30-strict.conf": "recipient_domains = strict.example\ntag_score = 2\n"
                      "reject_score = 4\n",
}
for name, text in SCOPES.items():
    work.write("scopes.d/" + name, text)
subprocess.run([mwtest.MAILWARDEN, "dkim", "keygen", "--domain", "example.org",
                "--selector", "s1", "--out", os.path.join(keydir, "s1.key")],
               stdout=subprocess.PIPE, check=True)
os.chown(os.path.join(keydir, "s1.key"), *[getattr(__import__("pwd").getpwnam(
    "postfix"), a) for a in ("pw_uid", "pw_gid")])

settings = {
    "socket": "unix:%s/mw.sock" % run_dir,
    "user": "postfix",
    "authserv_id": AUTHSERV,
    "log_file": vlog,
    "pid_file": "",
    "rules_dir": rules,
    "rules_site_dir": "",
    "dns_zone_files": os.path.join(mwtest.SRCDIR, "tests", "data", "dns", "empty.zone"),
    "spf": "no",
    "dmarc": "no",
    "dkim_verify": "no",
    "tag_score": "5",
    "reject_score": "10",
    "trusted_networks": "192.0.2.0/25",
    "dkim_sign_domains": "example.org:s1:%s" % os.path.join(keydir, "s1.key"),
    "scope_dir": scopes,
}
milter = mwtest.Milter(work, settings).start()
pf = mwtest.Postfix(work, milter.postfix_spec(), extra={
    "virtual_mailbox_domains": "example.net strict.example",
}).start()

# Postfix A: no milter, relays both domains to B, retries quickly
work_a = mwtest.Workdir(prefix="mw-scope-it-a-")
pf_a = mwtest.RelayPostfix(work_a, pf, "example.net strict.example").start()
R = mwtest.Results()

MSG = """From: Alice <alice@example.org>
To: {to}
Subject: {subject}
Date: Mon, 7 Dec 2026 05:00:00 +0000
Message-ID: <{mid}@example.org>

Hello, {body}.
"""


def msg(mid, body, to="someone", subject="Hello"):
    return MSG.format(mid=mid, body=body, to=to, subject=subject)


def by_mid(mid):
    return [m for m in pf.delivered() if ("<%s@example.org>" % mid).encode() in m]


def wait_mid(mid, count=1, timeout=30):
    return mwtest.wait_for(lambda: len(by_mid(mid)) >= count and by_mid(mid),
                           timeout=timeout, what="%d copies of %s" % (count, mid))


def log_of(mid, count=1):
    def found():
        got = [v for v in read_log(vlog) if v.get("message_id") == "<%s@example.org>" % mid]
        return len(got) >= count and got
    return mwtest.wait_for(found, timeout=20, what="log of " + mid)


def ours(m):
    return [v for v in header(m, "Authentication-Results")
            if v.lower().startswith(AUTHSERV)]


def send_login(rcpts, data, login, ip="198.51.100.7"):
    """XCLIENT with LOGIN=: Postfix passes {auth_authen} to the milter."""
    s = smtplib.SMTP(pf.addr, pf.port, timeout=60)
    try:
        s.ehlo("test.local")
        code, text = s.docmd("XCLIENT", "ADDR=%s NAME=client.example.org LOGIN=%s"
                             % (ip, login))
        assert code == 220, (code, text)
        s.ehlo("client.example.org")
        assert s.mail("alice@example.org")[0] == 250
        for r in rcpts:
            assert s.rcpt(r)[0] == 250
        code, text = s.data(mwtest.crlf(data))
        return code, text.decode()
    finally:
        s.quit()


def t_per_domain_thresholds():
    r = send(pf, "a@sender.example", ["bob@example.net"], msg("t1", "threepoints"),
             client_ip="198.51.100.7")
    assert r.code == 250, r
    r = send(pf, "a@sender.example", ["bob@strict.example"], msg("t2", "threepoints"),
             client_ip="198.51.100.7")
    assert r.code == 250, r
    plain, strict = wait_mid("t1")[0], wait_mid("t2")[0]
    assert header(plain, "X-Spam-Flag") == [], header(plain, "X-Spam-Flag")
    assert header(strict, "X-Spam-Flag") == ["YES"], header(strict, "X-Spam-Flag")
    assert "scope" not in log_of("t1")[0], log_of("t1")
    v = log_of("t2")[0]
    assert v["scope"] == "30-strict" and v["action"] == "tag", v
    assert v["thresholds"] == {"tag": 2.0, "reject": 4.0}, v["thresholds"]
    r = send(pf, "a@sender.example", ["bob@strict.example"], msg("t3", "tenpoints"),
             client_ip="198.51.100.7")
    assert r.code == 550 and "limit 4.0" in r.text, r


def t_exempt_untouched():
    r = send(pf, "a@sender.example", ["abuse@strict.example"],
             msg("x1", "tenpoints threepoints"), client_ip="198.51.100.7")
    assert r.code == 250, r
    m = wait_mid("x1")[0]
    assert ours(m) == [] and header(m, "X-Spam-Status") == [], m[:600]
    v = log_of("x1")[0]
    assert v["scope"] == "20-abuse" and v["scored"] is False, v
    assert v["unscored_why"] == "exempt scope" and v["symbols"] == [], v


def t_452_split_direct():
    s = smtplib.SMTP(pf.addr, pf.port, timeout=60)
    try:
        s.ehlo("client.example.org")
        assert s.mail("a@sender.example")[0] == 250
        assert s.rcpt("bob@example.net")[0] == 250
        code, text = s.rcpt("carol@strict.example")
        assert code == 452 and b"4.5.3" in text, (code, text)
        assert s.rcpt("dave@example.net")[0] == 250    # same scope: fine
        code, text = s.data(mwtest.crlf(msg("s1", "threepoints")))
        assert code == 250, (code, text)
    finally:
        s.quit()
    v = log_of("s1")[0]
    assert v["rcpts"] == ["bob@example.net", "dave@example.net"], v["rcpts"]


def t_452_split_through_postfix():
    """Postfix A is the client: it defers carol and delivers her copy in
    a later transaction; each copy carries its own scope's verdict."""
    r = send(pf_a, "a@sender.example", ["bob@example.net", "carol@strict.example"],
             msg("p1", "threepoints", to="bob@example.net, carol@strict.example"))
    assert r.code == 250, r
    try:
        copies = pf_a.wait_retried(lambda: len(by_mid("p1")) >= 2 and by_mid("p1"),
                                   "2 copies of p1", timeout=120)
    except TimeoutError:
        raise AssertionError("carol's copy never came:\n---- relay's log\n%s\n"
                             "---- receiving Postfix's log\n%s" % (
                                 pf_a.log_text()[-3000:], pf.log_text()[-3000:]))
    flags = sorted(tuple(header(m, "X-Spam-Flag")) for m in copies)
    assert flags == [(), ("YES",)], flags
    logs = log_of("p1", 2)
    got = sorted((tuple(v["rcpts"]), v.get("scope"), v["action"]) for v in logs)
    assert got == [(("bob@example.net",), None, "accept"),
                   (("carol@strict.example",), "30-strict", "tag")], got
    assert "452 4.5.3" in pf_a.log_text(), pf_a.log_text()[-2000:]


def t_outbound_login_scored_and_signed():
    code, text = send_login(["bob@example.net"], msg("o1", "threepoints"),
                            "alice@example.org")
    assert code == 250, (code, text)
    m = wait_mid("o1")[0]
    sigs = header(m, "DKIM-Signature")
    assert len(sigs) == 1 and "d=example.org" in sigs[0] and "s=s1" in sigs[0], sigs
    assert header(m, "X-Spam-Status") == [] and header(m, "X-Spam-Score") == [], m[:800]
    v = log_of("o1")[0]
    assert v["auth"] == "alice@example.org", v
    assert v["scope"] == "10-outbound" and v["scored"] is True, v
    assert sorted(s["name"] for s in v["symbols"]) == ["ARC_NONE", "DKIM_SIGNED", "THREE_POINTS"], \
        v["symbols"]
    assert [d["result"] for d in v["dkim"]] == ["signed"], v["dkim"]


def t_outbound_trusted_network_scored_and_signed():
    r = send(pf, "alice@example.org", ["bob@example.net"], msg("o2", "threepoints"),
             client_ip="192.0.2.10")
    assert r.code == 250, r
    m = wait_mid("o2")[0]
    assert len(header(m, "DKIM-Signature")) == 1, m[:800]
    v = log_of("o2")[0]
    assert v["scope"] == "10-outbound" and v["score"] == 3.0, v


def t_outbound_spam_refused_without_rule_names():
    try:
        code, text = send_login(["bob@example.net"], msg("o3", "tenpoints"),
                                "alice@example.org")
    except smtplib.SMTPDataError as e:
        code, text = e.smtp_code, e.smtp_error.decode()
    assert code == 550, (code, text)
    assert "outbound filter" in text and "TEN_POINTS" not in text, text
    v = log_of("o3")[0]
    assert v["action"] == "reject" and v["scope"] == "10-outbound", v
    assert "TEN_POINTS" in [s["name"] for s in v["symbols"]], v["symbols"]


def t_spam_trap_refused_at_rcpt():
    s = smtplib.SMTP(pf.addr, pf.port, timeout=60)
    try:
        s.ehlo("test.local")
        assert s.docmd("XCLIENT", "ADDR=203.0.113.66 NAME=[UNAVAILABLE]")[0] == 220
        s.ehlo("spammer.example")
        assert s.mail("a@sender.example")[0] == 250
        code, text = s.rcpt("trap@example.net")
        assert code == 550 and b"5.1.1" in text and b"no such user here" in text, \
            (code, text)
        assert s.rcpt("bob@example.net")[0] == 250
        assert s.data(mwtest.crlf(msg("trap1", "hello")))[0] == 250
    finally:
        s.quit()
    v = log_of("trap1")[0]
    assert v["rcpts"] == ["bob@example.net"] and "scope" not in v, v
    mwtest.wait_for(lambda: "spam trap: client=203.0.113.66 rcpt=trap@example.net "
                    "scope=05-trap" in milter.log_text(), timeout=10,
                    what="the trap line in the daemon log")


def t_bad_reload_keeps_generation():
    bad = work.write("scopes.d/40-bad.conf", "recipient_domains = example.net\n"
                     "tag_score = lots\n")
    before = milter.log_text()
    milter.signal(signal.SIGHUP)
    want = "%s:2: tag_score: bad value 'lots'" % bad
    mwtest.wait_for(lambda: want in milter.log_text()[len(before):], timeout=20,
                    what="reload error in the daemon log")
    assert milter.alive()
    r = send(pf, "a@sender.example", ["bob@strict.example"], msg("r1", "threepoints"),
             client_ip="198.51.100.7")
    assert r.code == 250, r
    v = log_of("r1")[0]
    assert v["scope"] == "30-strict" and v["action"] == "tag", v
    os.unlink(bad)


try:
    R.check("per-domain thresholds, scope in the verdict log", t_per_domain_thresholds)
    R.check("exempt abuse@: delivered untouched, not scored", t_exempt_untouched)
    R.check("a recipient of another scope gets 452 4.5.3", t_452_split_direct)
    R.check("Postfix as client: both scopes' copies arrive, each with its verdict",
            t_452_split_through_postfix)
    R.check("outbound: SMTP-AUTH sender scored and signed",
            t_outbound_login_scored_and_signed)
    R.check("outbound: trusted network scored and signed",
            t_outbound_trusted_network_scored_and_signed)
    R.check("outbound spam refused with the scope's text, no rule names",
            t_outbound_spam_refused_without_rule_names)
    R.check("spam trap refused at RCPT, client logged, others delivered",
            t_spam_trap_refused_at_rcpt)
    R.check("bad scope file on SIGHUP: FILE:LINE logged, old generation kept",
            t_bad_reload_keeps_generation)
finally:
    pf_a.stop()
    pf.stop()
    milter.stop()
    if not os.environ.get("MW_KEEP"):
        work_a.cleanup()
        work.cleanup()
R.exit()
