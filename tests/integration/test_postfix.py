#!/usr/bin/env python3
"""End to end: a real Postfix with mailwarden attached through smtpd_milters.

Mail is sent over SMTP (XCLIENT presents the client address), the
delivered Maildir files and the SMTP replies are inspected, and the
verdict log is compared with what `mailwarden scan --json` prints for the
same message and envelope.
"""

import json
import os
import pwd
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsserver  # noqa: E402
import mwtest  # noqa: E402
from mwtest import header, read_log, send  # noqa: E402

mwtest.skip_unless_root_with_postfix()
dnsserver.skip_unless_nsd()

# The DNS the milter sees: a real nsd serving these zones.
ZONES = {
    # top-level zones, so that the DMARC tree walk gets NXDOMAIN as it
    # would from the real DNS (a server that is not authoritative refuses)
    "com": "", "org": "", "net": "", "example": "",
    "example.org": '''
        @       TXT "v=spf1 ip4:192.0.2.10 -all"
        _dmarc  TXT "v=DMARC1; p=none"
        ''',
    "promo.example": '''
        @       TXT "v=spf1 ip4:192.0.2.0/24 ~all"
        ''',
    "example.com": '''
        @       TXT "v=spf1 -all"
        ''',
}
ns = dnsserver.NSD(ZONES).start()

AUTHSERV = "mx.mailwarden.test"
work = mwtest.Workdir()
run = work.sub("run", owner="postfix")
logdir = work.sub("log", owner="postfix")
vlog = os.path.join(logdir, "verdicts.log")
work.write("client.list", "192.0.2.66 REJECT Your network is blocked (test)\n"
           "2001:db8:bad::/48 REJECT\n")
work.write("sender.list", "@promo.example SCORE 7 promotional sender\n")
settings = {
    "socket": "unix:%s/mw.sock" % run,
    "user": "postfix",
    "authserv_id": AUTHSERV,
    "tag_score": "5",
    "reject_score": "15",
    "subject_tag": "[SPAM]",
    "log_file": vlog,
    "client_list": os.path.join(work.path, "client.list"),
    "sender_list": os.path.join(work.path, "sender.list"),
    "max_scan_bytes": "64k",
    "pid_file": "",
    "dns_servers": ns.addr,
}
milter = mwtest.Milter(work, settings).start()
pf = mwtest.Postfix(work, milter.postfix_spec()).start()
R = mwtest.Results()
sent = []          # (SmtpResult, expected action) for every message

PLAIN = """From: Alice <alice@example.org>
To: Bob <bob@example.net>
Subject: Lunch on Thursday?
Date: Thu, 26 Nov 2026 10:15:00 +0000
Message-ID: <lunch-{n}@example.org>

Hi Bob, lunch on Thursday?
"""


def deliver_one(data, ip="192.0.2.10", sender="alice@example.org",
                rcpts=("bob@example.net",), expect="accept", name="mail.example.org"):
    """Send, wait for the delivery, return (reply, delivered message)."""
    before = len(pf.delivered())
    r = send(pf, sender, list(rcpts), data, client_ip=ip, client_name=name)
    sent.append((r, expect))
    assert r.code == 250, "expected 250, got %r" % (r,)
    msgs = pf.wait_delivered(before + 1)
    return r, msgs[-1]


def last_log_line():
    return mwtest.wait_for(lambda: read_log(vlog) and read_log(vlog)[-1], what="log line")


def t_privileges_dropped():
    st = os.stat(settings["socket"][5:])
    assert st.st_uid == pwd.getpwnam("postfix").pw_uid, "socket owner %d" % st.st_uid
    with open("/proc/%d/status" % milter.proc.pid) as f:
        uids = [l for l in f if l.startswith("Uid:")][0].split()[1:]
    assert set(uids) == {str(pwd.getpwnam("postfix").pw_uid)}, uids


def t_normal_message_gets_headers():
    r, m = deliver_one(PLAIN.format(n=1))
    ar = header(m, "Authentication-Results")
    assert ar and ar[0].startswith(AUTHSERV + ";"), ar
    assert "spf=pass smtp.mailfrom=alice@example.org" in ar[0], ar
    assert "dmarc=pass" in ar[0] and "header.from=example.org" in ar[0], ar
    score = header(m, "X-Spam-Score")
    assert len(score) == 1 and float(score[0]) < 0, score
    st = header(m, "X-Spam-Status")
    assert st and st[0].startswith("No, score=%s tag=5.0 reject=15.0" % score[0]), st
    assert "SPF_PASS" in st[0] and "DMARC_PASS" in st[0], st
    assert header(m, "X-Spam-Flag") == []
    assert header(m, "Subject") == ["Lunch on Thursday?"]


def t_blocklisted_client_refused_with_reason():
    r = send(pf, "alice@example.org", ["bob@example.net"], PLAIN.format(n=2),
             client_ip="192.0.2.66", client_name="bad.example")
    sent.append((r, "reject"))
    assert r.code == 550, r
    assert r.text.startswith("5.7.1 Your network is blocked (test)"), r.text


def t_blocklisted_ipv6_client_refused():
    r = send(pf, "alice@example.org", ["bob@example.net"], PLAIN.format(n=3),
             client_ip="IPV6:2001:db8:bad::25", client_name="bad6.example")
    sent.append((r, "reject"))
    assert r.code == 550 and "5.7.1" in r.text, r
    assert "2001:db8:bad::25" in r.text, r.text


def t_over_tag_threshold_is_tagged():
    r, m = deliver_one(PLAIN.format(n=4), sender="offers@promo.example", expect="tag")
    assert header(m, "X-Spam-Flag") == ["YES"], header(m, "X-Spam-Flag")
    assert header(m, "Subject") == ["[SPAM] Lunch on Thursday?"], header(m, "Subject")
    assert header(m, "X-Spam-Status")[0].startswith("Yes, score="), header(m, "X-Spam-Status")
    assert "LIST_SENDER_BLOCK" in header(m, "X-Spam-Status")[0]
    line = last_log_line()
    assert line["action"] == "tag" and line["queue_id"] == r.queue_id, line


def t_forged_authres_removed():
    forged = ("Authentication-Results: %s; dkim=pass header.d=bank.example\n"
              "Authentication-Results: upstream.example.net; spf=none\n"
              "Authentication-Results: (sneaky) MX.MAILWARDEN.TEST; dkim=pass header.d=bank.example\n"
              "Authentication-Results: %s.; dkim=pass header.d=bank.example\n"
              "X-Spam-Flag: NO\n" % (AUTHSERV, AUTHSERV.upper())) + PLAIN.format(n=5)
    r, m = deliver_one(forged)
    ar = header(m, "Authentication-Results")
    ours = [v for v in ar if v.lower().startswith(AUTHSERV)]
    assert len(ours) == 1 and "bank.example" not in ours[0], ar
    assert any(v.startswith("upstream.example.net") for v in ar), ar
    assert header(m, "X-Spam-Flag") == [], "incoming X-Spam-Flag kept"


def t_log_has_one_line_per_message():
    lines = read_log(vlog)
    assert len(lines) == len(sent), "%d lines for %d messages" % (len(lines), len(sent))
    for (r, expect), line in zip(sent, lines):
        assert line["action"] == expect, (line["action"], expect, r)
        if r.queue_id:
            assert line["queue_id"] == r.queue_id, (line["queue_id"], r.queue_id)
        for key in ("time", "client", "helo", "mail_from", "rcpts", "from", "message_id",
                    "size", "spf", "dkim", "dmarc", "bayes", "symbols", "score",
                    "action", "reply", "elapsed_ms", "dns_ms"):
            assert key in line, key
    assert lines[1]["reply"] == "550 5.7.1 Your network is blocked (test)", lines[1]["reply"]


ADDED_AFTER_MILTER = ("return-path", "delivered-to", "x-original-to")


def added_after_milter(name, value):
    """Postfix's Received header and the delivery headers: a milter on
    smtpd never sees those."""
    return name in ADDED_AFTER_MILTER or \
        (name == "received" and b"by mx.mailwarden.test (Postfix)" in value)


def t_scan_json_matches_milter_line():
    data = PLAIN.format(n=6).replace("Subject: Lunch", "Subject: =?utf-8?q?Caf=C3=A9?= lunch")
    r, m = deliver_one(data, sender="carol@promo.example", expect="tag")
    mwtest.assert_scan_matches(
        milter, last_log_line(), mwtest.as_milter_saw_it(m, AUTHSERV, added_after_milter),
        ["--ip", "192.0.2.10", "--name", "mail.example.org", "--helo", "client.example.org",
         "--from", "carol@promo.example", "--rcpt", "bob@example.net",
         "--queue-id", r.queue_id])


def t_bad_header_without_colon():
    data = ("From: a@example.org\nSubject: no colon follows\nthis line has no colon\n"
            "X-After: x\n\nbody\n")
    r, m = deliver_one(data)
    assert b"this line has no colon" in m


def t_bad_nul_byte_in_header():
    data = "From: a@example.org\nSubject: nul \x00 inside\n\nbody\n"
    r = send(pf, "a@example.org", ["bob@example.net"], data, client_ip="192.0.2.10")
    sent.append((r, "accept"))
    assert r.code in (250, 550, 554), r
    assert milter.alive()
    if r.code == 250:
        pf.wait_delivered(1)


def t_bad_8bit_header():
    data = b"From: a@example.org\nSubject: caf\xe9 \xff\xfe\n\nbody\n"
    r, m = deliver_one(data)
    line = last_log_line()
    json.dumps(line)   # parsed and re-encodable: valid JSON came out
    assert "HEADER_8BIT" in [s["name"] for s in line["symbols"]], line["symbols"]


def t_bad_2mb_header():
    data = "From: a@example.org\nX-Huge: " + ("abcdefghij" * 200000) + "\nSubject: big\n\nbody\n"
    r, m = deliver_one(data)
    assert milter.alive()
    line = last_log_line()
    assert line["queue_id"] == r.queue_id


def t_bad_5000_recipients():
    rcpts = ["user%d@discard.example" % i for i in range(5000)]
    r = send(pf, "a@example.org", rcpts, PLAIN.format(n=7), client_ip="192.0.2.10")
    sent.append((r, "accept"))
    assert r.code == 250, r
    line = mwtest.wait_for(lambda: read_log(vlog)[-1]["queue_id"] == r.queue_id
                           and read_log(vlog)[-1], what="log line for 5000 rcpts")
    assert line["rcpt_count"] == 5000, line["rcpt_count"]
    assert len(line["rcpts"]) == 1000
    assert "RCPTS_TRUNCATED" in [s["name"] for s in line["symbols"]]


def t_bad_message_over_max_scan_bytes():
    body = "".join("line %06d of a long message body\n" % i for i in range(30000))
    r, m = deliver_one(PLAIN.format(n=8) + body)
    assert m.count(b"of a long message body") == 30000, "message not delivered whole"
    line = last_log_line()
    assert line["truncated"] is True and line["size"] > 900000, line
    assert "SCAN_TRUNCATED" in [s["name"] for s in line["symbols"]]


def t_bad_empty_body():
    r, m = deliver_one("From: a@example.org\nSubject: empty\n\n")
    line = last_log_line()
    assert line["action"] == "accept" and line["queue_id"] == r.queue_id


def t_log_review_on_the_real_log():
    """mailwarden log over what this milter wrote (issue 8)."""
    lines = read_log(vlog)
    rejects = [l for l in lines if l["action"] == "reject"]
    out = subprocess.run([mwtest.MAILWARDEN, "log", "summary", vlog], check=True,
                         stdout=subprocess.PIPE, universal_newlines=True).stdout
    assert "Messages %d (1 input(s), %d lines, 0 malformed" % (len(lines), len(lines)) in out, out
    assert any(l.split()[:2] == ["reject", str(len(rejects))] for l in out.splitlines()), out
    out = subprocess.run([mwtest.MAILWARDEN, "log", "search", "--json", "--action", "reject",
                          vlog], check=True, stdout=subprocess.PIPE,
                         universal_newlines=True).stdout
    found = [json.loads(l) for l in out.splitlines()]
    assert [l["queue_id"] for l in found] == [l["queue_id"] for l in rejects], found
    tagged = [l for l in lines if l["action"] == "tag"][0]
    out = subprocess.run([mwtest.MAILWARDEN, "log", "explain", tagged["queue_id"], vlog],
                         check=True, stdout=subprocess.PIPE, universal_newlines=True).stdout
    assert tagged["queue_id"] in out and "LIST_SENDER_BLOCK" in out, out
    assert "promotional sender" in out, out
    html = os.path.join(work.path, "report.html")
    subprocess.run([mwtest.MAILWARDEN, "log", "report", "--html", html, vlog], check=True)
    page = open(html, encoding="utf-8").read()
    assert "<svg" in page and "<script" not in page.lower(), page[:300]
    assert tagged["queue_id"] in page or rejects[0]["queue_id"] in page


def t_sighup_bad_config_keeps_old():
    # issue 14 item 5: every error is logged, the old generation stays
    old = open(milter.conf).read()
    base = old.count("\n")         # the lines mwtest.Milter wrote
    milter.write_raw_conf(old + "reject_score = soon\n"
                          "spf_fail_actoin = reject\n")
    milter.signal(signal.SIGHUP)
    mwtest.wait_for(lambda: "spf_fail_actoin" in milter.log_text(), what="reload error")
    text = milter.log_text()
    assert "milter.conf:%d: reject_score: bad value 'soon'" % (base + 1) in text, text
    assert ("milter.conf:%d: spf_fail_actoin: unknown key; did you mean "
            "spf_fail_action?" % (base + 2)) in text, text
    assert text.count("reload failed, keeping the running configuration: ") == 2, text
    assert milter.alive()
    r = send(pf, "a@example.org", ["bob@example.net"], PLAIN.format(n=9),
             client_ip="192.0.2.66")
    sent.append((r, "reject"))
    assert r.code == 550, r


def t_sighup_good_config_applies():
    work.write("client.list", "192.0.2.77 REJECT Reloaded list (test)\n")
    milter.write_conf()
    milter.signal(signal.SIGHUP)
    mwtest.wait_for(lambda: "configuration reloaded" in milter.log_text(), what="reload")
    r = send(pf, "a@example.org", ["bob@example.net"], PLAIN.format(n=10),
             client_ip="192.0.2.77")
    sent.append((r, "reject"))
    assert r.code == 550 and "Reloaded list (test)" in r.text, r
    deliver_one(PLAIN.format(n=11), ip="192.0.2.66")   # no longer listed


def t_sigusr1_reopens_log():
    os.rename(vlog, vlog + ".1")
    milter.signal(signal.SIGUSR1)
    mwtest.wait_for(lambda: "verdict log reopened" in milter.log_text(), what="reopen")
    r, m = deliver_one(PLAIN.format(n=12))
    lines = mwtest.wait_for(lambda: read_log(vlog), what="new log file")
    assert len(lines) == 1 and lines[0]["queue_id"] == r.queue_id, lines


def t_milter_down_default_action():
    rc = milter.stop()
    assert rc == 0, "milter exit status %r\n%s" % (rc, milter.log_text())
    r = send(pf, "a@example.org", ["bob@example.net"], PLAIN.format(n=13),
             client_ip="192.0.2.10")
    assert 400 <= r.code < 500, "milter_default_action=tempfail, got %r" % (r,)


try:
    R.run([
            ("privileges dropped, socket owned by the service user", t_privileges_dropped),
            ("normal message delivered with A-R and X-Spam", t_normal_message_gets_headers),
            ("blocklisted client refused 550 5.7.1 with reason",
             t_blocklisted_client_refused_with_reason),
            ("blocklisted IPv6 client refused", t_blocklisted_ipv6_client_refused),
            ("message over tag threshold delivered tagged", t_over_tag_threshold_is_tagged),
            ("forged Authentication-Results removed", t_forged_authres_removed),
            ("verdict log: one line per message, queue id, action",
             t_log_has_one_line_per_message),
            ("scan --json prints the milter's log line", t_scan_json_matches_milter_line),
            ("bad input: header line without colon", t_bad_header_without_colon),
            ("bad input: NUL byte in a header", t_bad_nul_byte_in_header),
            ("bad input: 8-bit header bytes", t_bad_8bit_header),
            ("bad input: 2 MB header", t_bad_2mb_header),
            ("bad input: 5000 recipients", t_bad_5000_recipients),
            ("bad input: message over max_scan_bytes", t_bad_message_over_max_scan_bytes),
            ("bad input: empty body", t_bad_empty_body),
            ("mailwarden log on the milter's own log", t_log_review_on_the_real_log),
            ("SIGHUP with a bad config keeps the old one", t_sighup_bad_config_keeps_old),
            ("SIGHUP with a good config applies it", t_sighup_good_config_applies),
            ("SIGUSR1 reopens the verdict log", t_sigusr1_reopens_log),
            ("milter down: Postfix applies milter_default_action", t_milter_down_default_action),
    ], milter, stops_milter=t_milter_down_default_action)
finally:
    pf.stop()
    milter.stop()
    ns.stop()
    if R.failed:
        print("---- milter stderr\n" + milter.log_text()[-5000:])
        print("---- postfix maillog\n" + pf.log_text()[-5000:])
    if not os.environ.get("MW_KEEP"): work.cleanup()
R.exit()
