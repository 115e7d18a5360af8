#!/usr/bin/env python3
"""Content rules end to end: a real Postfix with mailwarden attached.

A rule with a reject-level score refuses the message at SMTP and the
client sees the rule's description; a tag-level rule tags the delivered
message; rules see the decoded text of a base64 HTML part; SIGHUP with a
broken rule file keeps the running rules (the error names file:line in
the daemon's log) and a fixed file is picked up by the next SIGHUP.
SpamAssassin's X-Spam-Relays-Untrusted holds the client as Postfix saw
it (address, verified name, HELO, Postfix's own name from {j}, sender,
queue id), and Postfix's own Received field is not listed again.
"""

import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mwtest  # noqa: E402
from mwtest import header, read_log, send  # noqa: E402

mwtest.skip_unless_root_with_postfix()

work = mwtest.Workdir(prefix="mw-rules-")
run = work.sub("run", owner="postfix")
logdir = work.sub("log", owner="postfix")
rules = work.sub("rules")
vlog = os.path.join(logdir, "verdicts.log")

REJECT_DESC = "Offers cheap pills (integration test rule)"
work.write("rules/10_test.cf", """\
body     IT_CHEAP_PILLS   /\\bbuy cheap pills now\\b/i
describe IT_CHEAP_PILLS   %s
score    IT_CHEAP_PILLS   20

header   IT_SUBJ_DISCOUNT Subject =~ /\\bdiscount\\b/i
describe IT_SUBJ_DISCOUNT Subject mentions a discount
score    IT_SUBJ_DISCOUNT 6

body     __IT_WINTER      /winter/i
body     __IT_SALE        /sale/i
meta     IT_WINTER_SALE   __IT_WINTER && __IT_SALE
describe IT_WINTER_SALE   Winter sale wording
score    IT_WINTER_SALE   5.5

header   IT_RELAY_NO_RDNS X-Spam-Relays-Untrusted =~ /^\[ ip=192\.0\.2\.77 rdns= helo=relays\.example by=mx\.mailwarden\.test ident= envfrom=alice\@example\.org intl=0 id=\w+ auth= msa=0 \]$/
describe IT_RELAY_NO_RDNS Client without reverse DNS (relay list)
score    IT_RELAY_NO_RDNS 6
""" % REJECT_DESC)

settings = {
    "socket": "unix:%s/mw.sock" % run,
    "user": "postfix",
    "authserv_id": "mx.mailwarden.test",
    "tag_score": "5",
    "reject_score": "15",
    "log_file": vlog,
    "rules_dir": rules,
    "rules_site_dir": "",
    "dmarc": "no",
    "pid_file": "",
}
milter = mwtest.Milter(work, settings).start()
pf = mwtest.Postfix(work, milter.postfix_spec()).start()
R = mwtest.Results()

TEMPLATE = """From: Alice <alice@example.org>
To: Bob <bob@example.net>
Subject: {subject}
Date: Thu, 26 Nov 2026 10:15:00 +0000
Message-ID: <{n}@example.org>
MIME-Version: 1.0
{ctype}

{body}
"""
counter = [0]


def message(subject="Hello", body="Just saying hello.", ctype="Content-Type: text/plain"):
    counter[0] += 1
    return TEMPLATE.format(subject=subject, body=body, ctype=ctype, n="rules-%d" % counter[0])


def last_log():
    return mwtest.wait_for(lambda: read_log(vlog) and read_log(vlog)[-1], what="log line")


def symbols(entry):
    return {s["name"]: s for s in entry["symbols"]}


def t_reject_rule_refuses_with_description():
    r = send(pf, "alice@example.org", ["bob@example.net"],
             message(body="Friends, buy cheap pills now!"), client_ip="192.0.2.10")
    assert r.code == 550, r
    assert "5.7.1" in r.text and REJECT_DESC in r.text, r.text
    e = mwtest.wait_for(lambda: [x for x in read_log(vlog) if x["action"] == "reject"],
                        what="reject log line")[-1]
    s = symbols(e)
    assert s["IT_CHEAP_PILLS"]["score"] == 20, s
    assert s["IT_CHEAP_PILLS"]["detail"] == REJECT_DESC, s


def t_tag_rule_tags_delivered_message():
    before = len(pf.delivered())
    r = send(pf, "alice@example.org", ["bob@example.net"],
             message(subject="Member discount inside"), client_ip="192.0.2.10")
    assert r.code == 250, r
    msg = pf.wait_delivered(before + 1)[-1]
    assert header(msg, "X-Spam-Flag") == ["YES"], header(msg, "X-Spam-Flag")
    status = " ".join(header(msg, "X-Spam-Status"))
    assert "IT_SUBJ_DISCOUNT" in status, status
    e = last_log()
    assert e["action"] == "tag" and "IT_SUBJ_DISCOUNT" in symbols(e), e


def t_rules_see_decoded_html():
    import base64
    html = "<html><body><p>Buy <b>cheap</b>\r\n<i>pills</i> now</p></body></html>"
    body = base64.encodebytes(html.encode()).decode()
    r = send(pf, "alice@example.org", ["bob@example.net"],
             message(body=body, ctype="Content-Type: text/html; charset=utf-8\n"
                                      "Content-Transfer-Encoding: base64"),
             client_ip="192.0.2.10")
    assert r.code == 550 and REJECT_DESC in r.text, r


def t_meta_rule_through_milter():
    before = len(pf.delivered())
    r = send(pf, "alice@example.org", ["bob@example.net"],
             message(body="Our winter sale starts on Monday."), client_ip="192.0.2.10")
    assert r.code == 250, r
    msg = pf.wait_delivered(before + 1)[-1]
    status = " ".join(header(msg, "X-Spam-Status"))
    assert "IT_WINTER_SALE" in status and "__IT_" not in status, status


def t_clean_message_untouched():
    before = len(pf.delivered())
    r = send(pf, "alice@example.org", ["bob@example.net"], message(), client_ip="192.0.2.10")
    assert r.code == 250, r
    msg = pf.wait_delivered(before + 1)[-1]
    assert header(msg, "X-Spam-Flag") in ([], ["NO"]), header(msg, "X-Spam-Flag")
    assert not [n for n in symbols(last_log()) if n.startswith("IT_")]


def t_relay_pseudo_header():
    before = len(pf.delivered())
    r = send(pf, "alice@example.org", ["bob@example.net"], message(),
             client_ip="192.0.2.77", helo="relays.example")
    assert r.code == 250, r
    msg = pf.wait_delivered(before + 1)[-1]
    status = " ".join(header(msg, "X-Spam-Status"))
    assert "IT_RELAY_NO_RDNS" in status, (status, last_log())
    # with a name the first relay has rdns=, and the rule misses
    r = send(pf, "alice@example.org", ["bob@example.net"], message(),
             client_ip="192.0.2.77", client_name="mail.example.org",
             helo="relays.example")
    assert r.code == 250, r
    mwtest.wait_for(lambda: len(pf.delivered()) >= before + 2, what="delivery")
    assert "IT_RELAY_NO_RDNS" not in symbols(last_log()), last_log()


def t_sighup_with_broken_rules_keeps_old_set():
    work.write("rules/20_new.cf", "body IT_NEW_RULE /brand new phrase/\nscore IT_NEW_RULE 20\n"
               "describe IT_NEW_RULE New rule\n\nbody IT_BROKEN /unclosed(/\n")
    milter.signal(signal.SIGHUP)
    mwtest.wait_for(lambda: "reload failed" in milter.log_text(), what="reload failure")
    log = milter.log_text()
    want = os.path.join(rules, "20_new.cf") + ":5:"
    assert want in log, log[-2000:]
    # the old rules are in force, the new one is not
    r = send(pf, "alice@example.org", ["bob@example.net"],
             message(body="buy cheap pills now"), client_ip="192.0.2.10")
    assert r.code == 550 and REJECT_DESC in r.text, r
    r = send(pf, "alice@example.org", ["bob@example.net"],
             message(body="a brand new phrase"), client_ip="192.0.2.10")
    assert r.code == 250, r
    assert milter.alive()


def t_sighup_with_fixed_rules_loads_new_set():
    work.write("rules/20_new.cf", "body IT_NEW_RULE /brand new phrase/\nscore IT_NEW_RULE 20\n"
               "describe IT_NEW_RULE New rule\n")
    n = milter.log_text().count("configuration reloaded")
    milter.signal(signal.SIGHUP)
    mwtest.wait_for(lambda: milter.log_text().count("configuration reloaded") > n,
                    what="reload")
    r = send(pf, "alice@example.org", ["bob@example.net"],
             message(body="a brand new phrase"), client_ip="192.0.2.10")
    assert r.code == 550 and "New rule" in r.text, r


try:
    R.check("reject rule refuses at SMTP with its description", t_reject_rule_refuses_with_description)
    R.check("tag rule tags the delivered message", t_tag_rule_tags_delivered_message)
    R.check("rules see decoded HTML text", t_rules_see_decoded_html)
    R.check("meta rule through the milter", t_meta_rule_through_milter)
    R.check("clean message untouched", t_clean_message_untouched)
    R.check("X-Spam-Relays-Untrusted: the client as Postfix saw it", t_relay_pseudo_header)
    R.check("SIGHUP with a broken rule file keeps the old set", t_sighup_with_broken_rules_keeps_old_set)
    R.check("SIGHUP with fixed rules loads the new set", t_sighup_with_fixed_rules_loads_new_set)
finally:
    pf.stop()
    rc = milter.stop()
    if R.failed:
        print("---- milter log ----\n" + milter.log_text()[-4000:])
        print("---- postfix log ----\n" + pf.log_text()[-4000:])
    work.cleanup()
R.exit()
