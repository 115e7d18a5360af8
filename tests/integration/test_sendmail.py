#!/usr/bin/env python3
"""End to end: a real Sendmail 8.17 with mailwarden attached through
contrib/sendmail/mailwarden.mc.example (sendmailtest.py).

Sendmail has no XCLIENT, so the SMTP client connects from the loopback
address the milter is to see (127.0.0.10 has the name mail.example.org
in Sendmail's hosts file, 127.0.0.77 has none, 127.0.0.200 is in
trusted_networks).  The DNS the milter sees is a real nsd.  Checked: the
macros mailwarden asks for at each stage arrive (queue id at end of
message, SMTP AUTH identity at MAIL FROM, client name at connect),
where the added and changed header fields land, the reject and tempfail
texts the client sees, DKIM signing of trusted and of authenticated mail
verified by python3-dkim, SIGHUP under mail flow, the verdict log against
Sendmail's own log, and Sendmail's F=T when the milter is down.

The test needs root (Sendmail's daemon) and nsd, or it is skipped; a
Sendmail that cannot be prepared (packages not downloadable, libwrap0
missing) fails it with the reason.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsserver  # noqa: E402
import mwtest  # noqa: E402
import sendmailtest  # noqa: E402
from mwtest import header, headers_of, read_log  # noqa: E402

if os.geteuid() != 0:
    print("SKIP: the Sendmail test needs root (sendmail -bD, namespaces)")
    sys.exit(mwtest.SKIP)
dnsserver.skip_unless_nsd()

AUTHSERV = "mx.mailwarden.test"
CLIENT = "127.0.0.10"          # mail.example.org, in example.org's SPF
NONAME = "127.0.0.77"          # no name in Sendmail's hosts file
BLOCKED = "127.0.0.66"         # client_list: REJECT
TRUSTED = "127.0.0.200"        # trusted_networks
PERCENT = "127.0.0.67"         # client_list: REJECT with a '%' in the text

work = mwtest.Workdir(prefix="mw-sendmail-it-")
keydir = work.sub("keys", owner="nobody", mode=0o700)   # read again at SIGHUP


def keygen(sel, ktype):
    out = subprocess.run([mwtest.MAILWARDEN, "dkim", "keygen", "--type", ktype,
                          "--domain", "example.org", "--selector", sel, "--out",
                          os.path.join(keydir, sel + ".key")],
                         stdout=subprocess.PIPE, check=True).stdout.decode()
    shutil.chown(os.path.join(keydir, sel + ".key"), "nobody")
    return "".join(re.findall(r'"([^"]*)"', out))


RECORDS = {"rsa._domainkey.example.org": keygen("rsa", "rsa"),
           "ed._domainkey.example.org": keygen("ed", "ed25519")}


def txt(name, value):
    return "%s. IN TXT %s" % (name, " ".join(
        '"%s"' % value[i:i + 250] for i in range(0, len(value), 250)))


ZONES = {
    "com": "", "org": "", "net": "", "example": "",
    "example.org": '''
        @       TXT "v=spf1 ip4:127.0.0.10 ip4:127.0.0.200 -all"
        _dmarc  TXT "v=DMARC1; p=none"
        ''' + "\n".join(txt(n, v) for n, v in RECORDS.items()),
    "promo.example": '''
        @       TXT "v=spf1 ip4:127.0.0.0/24 ~all"
        ''',
    "strict.example": '''
        @       TXT "v=spf1 ip4:192.0.2.1 -all"
        _dmarc  TXT "v=DMARC1; p=reject"
        ''',
    "held.example": '''
        @       TXT "v=spf1 ip4:192.0.2.1 -all"
        _dmarc  TXT "v=DMARC1; p=quarantine"
        ''',
}
ns = dnsserver.NSD(ZONES).start()

run_dir = work.sub("run", owner="nobody")
logdir = work.sub("log", owner="nobody")
vlog = os.path.join(logdir, "verdicts.log")
work.write("client.list", "%s REJECT Your network is blocked (test)\n"
           "%s REJECT 100%% of your mail is refused (test)\n" % (BLOCKED, PERCENT))
work.write("sender.list", "@promo.example SCORE 7 promotional sender\n")
settings = {
    "socket": "unix:%s/mw.sock" % run_dir,
    "user": "nobody",
    "authserv_id": AUTHSERV,
    "tag_score": "5",
    "reject_score": "15",
    "subject_tag": "[SPAM]",
    "log_file": vlog,
    "client_list": os.path.join(work.path, "client.list"),
    "sender_list": os.path.join(work.path, "sender.list"),
    "pid_file": "",
    "dns_servers": ns.addr,
    "trusted_networks": "127.0.0.128/25",
    "trust_authenticated": "yes",
    "spf_temperror_action": "tempfail",
    "dmarc_quarantine_milter": "yes",
    "max_scan_bytes": "64k",
    "dkim_sign_domains": "example.org:rsa:%s example.org:ed:%s" % (
        os.path.join(keydir, "rsa.key"), os.path.join(keydir, "ed.key")),
}
R = mwtest.Results()
milter = mwtest.Milter(work, settings).start()
try:
    sm = sendmailtest.Sendmail(work, settings["socket"],
                               hosts={CLIENT: "mail.example.org", BLOCKED: "bad.example"},
                               sasl_users={"alice": "alice-secret"}).start()
except Exception as e:  # noqa: BLE001 - the reason, then a failure
    print("FAIL: Sendmail could not be prepared or started: %s" % e)
    milter.stop()
    ns.stop()
    work.cleanup()
    sys.exit(1)
sent = []          # (SmtpResult, expected action) of every message
held_qids = set()  # quarantined: accepted, never delivered

PLAIN = """From: Alice <alice@example.org>
To: Bob <bob@example.net>
Subject: Lunch on Thursday?
Date: Thu, 26 Nov 2026 10:15:00 +0000
Message-ID: <lunch-{n}@example.org>

Hi Bob, lunch on Thursday?
"""


def send(data, ip=CLIENT, sender="alice@example.org", rcpts=("bob@example.net",),
         expect="accept", auth=None):
    r = mwtest.send(sm, sender, list(rcpts), data, client_ip=ip, auth=auth)
    sent.append((r, expect))
    return r


def deliver_one(data, **kw):
    """Send, wait for the delivery, return (reply, delivered message)."""
    before = len(sm.delivered())
    r = send(data, **kw)
    assert r.code == 250 and r.queue_id, "expected 250, got %r" % (r,)
    return r, sm.wait_delivered(before + 1)[-1]


def log_line(qid):
    return mwtest.wait_for(lambda: [l for l in read_log(vlog) if l["queue_id"] == qid],
                           what="verdict log line for " + qid)[-1]


def names(m):
    return [n.lower() for n, v in headers_of(m)]


def t_clean_message_headers_in_place():
    r, m = deliver_one(PLAIN.format(n=1))
    hs = names(m)
    # smfi_insheader(0): above Sendmail's own Received (as with Postfix)
    assert hs[0] == "authentication-results" and hs[1] == "received", hs
    ar = header(m, "Authentication-Results")
    assert len(ar) == 1 and ar[0].startswith(AUTHSERV + ";"), ar
    assert "spf=pass smtp.mailfrom=alice@example.org" in ar[0], ar
    assert "dmarc=pass" in ar[0] and "header.from=example.org" in ar[0], ar
    # smfi_addheader: after the last field of the message
    assert hs[-2:] == ["x-spam-score", "x-spam-status"], hs
    assert float(header(m, "X-Spam-Score")[0]) < 0, header(m, "X-Spam-Score")
    assert header(m, "X-Spam-Flag") == [] and header(m, "Subject") == ["Lunch on Thursday?"]
    # the value starts after exactly one space (SMFIP_HDR_LEADSPC)
    assert b"\nX-Spam-Score: -" in m, m[:600]
    assert b"id %s" % r.queue_id.encode() in m, "Sendmail's Received names the queue id"


def t_macros_at_each_stage():
    """i at end of message, the client's name at connect, HELO, and no
    {auth_authen} without AUTH."""
    r, m = deliver_one(PLAIN.format(n=2))
    line = log_line(r.queue_id)
    assert line["client"] == {"ip": CLIENT, "name": "mail.example.org"}, line["client"]
    assert line["helo"] == "client.example.org" and line["auth"] is None, line
    assert line["mail_from"] == "alice@example.org", line["mail_from"]
    assert line["rcpts"] == ["bob@example.net"], line["rcpts"]
    assert line["message_id"] == "<lunch-2@example.org>", line["message_id"]
    # a client without a name: Sendmail (like Postfix) says [address]
    r, m = deliver_one(PLAIN.format(n=3), ip=NONAME)
    assert log_line(r.queue_id)["client"] == {"ip": NONAME, "name": "[%s]" % NONAME}


def t_forged_headers_removed_by_index():
    """smfi_chgheader(name, index, NULL) counts as Sendmail does: the
    second and third of three A-R fields go, the first (upstream) stays."""
    forged = ("Authentication-Results: upstream.example.net; spf=none\n"
              "Authentication-Results: %s; dkim=pass header.d=bank.example\n"
              "Authentication-Results: (sneaky) MX.MAILWARDEN.TEST; dkim=pass\n"
              "X-Spam-Flag: NO\nX-Spam-Score: -100\nX-Spam-Flag: NO\n" % AUTHSERV
              ) + PLAIN.format(n=4)
    r, m = deliver_one(forged)
    ar = header(m, "Authentication-Results")
    ours = [v for v in ar if v.lower().startswith(AUTHSERV)]
    assert len(ours) == 1 and "bank.example" not in ours[0], ar
    assert [v for v in ar if v.startswith("upstream.example.net")], ar
    assert header(m, "X-Spam-Flag") == [], header(m, "X-Spam-Flag")
    assert len(header(m, "X-Spam-Score")) == 1 and header(m, "X-Spam-Score")[0] != "-100"


def t_spam_tagged_subject_changed():
    r, m = deliver_one(PLAIN.format(n=5), sender="offers@promo.example", expect="tag")
    assert header(m, "X-Spam-Flag") == ["YES"], header(m, "X-Spam-Flag")
    assert header(m, "Subject") == ["[SPAM] Lunch on Thursday?"], header(m, "Subject")
    # smfi_chgheader keeps the field where it was
    hs = names(m)
    assert hs.index("subject") < hs.index("date"), hs
    st = header(m, "X-Spam-Status")[0]
    assert st.startswith("Yes, score=") and "LIST_SENDER_BLOCK" in st, st
    assert log_line(r.queue_id)["action"] == "tag"


def t_list_reject_text_reaches_client():
    r = send(PLAIN.format(n=6), ip=BLOCKED, expect="reject")
    assert r.code == 550, r
    assert r.text == "5.7.1 Your network is blocked (test)", r.text


def t_dmarc_reject_text_reaches_client():
    data = PLAIN.format(n=7).replace("alice@example.org", "ceo@strict.example")
    r = send(data, sender="ceo@strict.example", expect="reject")
    assert r.code == 550, r
    line = [l for l in read_log(vlog) if l["message_id"] == "<lunch-7@example.org>"][-1]
    assert line["action"] == "reject" and line["dmarc"]["result"] == "fail", line["dmarc"]
    assert line["reply"] == "550 " + r.text, (line["reply"], r.text)
    assert "DMARC" in r.text and r.text.startswith("5.7.1 "), r.text


def t_tempfail_text_reaches_client():
    """SPF temperror (the domain's DNS refuses) with spf_temperror_action
    = tempfail: Sendmail answers DATA with mailwarden's 4xx, keeps nothing."""
    data = PLAIN.format(n=8).replace("alice@example.org", "x@unserved.test")
    before = len(sm.delivered())
    r = send(data, sender="x@unserved.test", expect="tempfail")
    assert r.code == 451 and r.text.startswith("4.4.3 "), r
    line = [l for l in read_log(vlog) if l["message_id"] == "<lunch-8@example.org>"][-1]
    assert line["reply"] == "451 " + r.text, (line["reply"], r.text)
    assert len(sm.delivered()) == before
    assert [f for f in os.listdir(sm.queue) if f.startswith("qf")] == [], os.listdir(sm.queue)


def t_percent_in_reject_text():
    """smfi_setreply wants '%' doubled; Sendmail shows it single."""
    r = send(PLAIN.format(n=14), ip=PERCENT, expect="reject")
    assert r.code == 550 and r.text == "5.7.1 100% of your mail is refused (test)", r


def t_dmarc_quarantine_held_by_sendmail():
    """dmarc_quarantine_milter: smfi_quarantine makes Sendmail accept the
    message and keep it in its queue, quarantined, undelivered."""
    data = PLAIN.format(n=15).replace("alice@example.org", "news@held.example")
    before = len(sm.delivered())
    r = send(data, sender="news@held.example", expect="tag")
    assert r.code == 250 and r.queue_id, r
    held_qids.add(r.queue_id)
    qf = os.path.join(sm.queue, "qf" + r.queue_id)
    mwtest.wait_for(lambda: os.path.exists(qf) or
                    os.path.exists(os.path.join(sm.queue, "hf" + r.queue_id)),
                    what="the held queue file")
    held = [f for f in os.listdir(sm.queue) if f.endswith(r.queue_id)]
    assert "hf" + r.queue_id in held, held      # Sendmail's quarantined queue file
    with open(os.path.join(sm.queue, "hf" + r.queue_id), "rb") as f:
        q = [l for l in f.read().split(b"\n") if l.startswith(b"q")]
    assert q and b"DMARC" in q[0], q
    assert len(sm.delivered()) == before
    line = log_line(r.queue_id)
    assert line["dmarc"]["result"] == "fail" and line["dmarc"]["policy"] == "quarantine", \
        line["dmarc"]
    sm.wait_log(r"%s: milter=mailwarden, quarantine=DMARC policy of held\.example" % r.queue_id)


def t_two_messages_one_session():
    """Sendmail gives each transaction of a session its own queue id; the
    milter reads it at end of message and starts each message afresh
    (RSET between them aborts a third)."""
    import smtplib
    s = smtplib.SMTP(timeout=60, source_address=(CLIENT, 0))
    qids = []
    try:
        s.connect(sm.addr, sm.port)
        s.ehlo("client.example.org")
        before = len(sm.delivered())
        for n, subject in ((16, "first"), (17, "second")):
            s.mail("alice@example.org")
            s.rcpt("bob@example.net")
            extra = "X-Only-First: yes\n" if n == 16 else ""
            code, msg = s.data(mwtest.crlf(extra + PLAIN.format(n=n).replace(
                "Lunch on Thursday?", subject)))
            assert code == 250, (code, msg)
            qids.append(sm.queue_id(msg.decode()))
            sent.append((mwtest.SmtpResult(code, msg.decode(), qids[-1]), "accept"))
        s.mail("alice@example.org")
        s.rcpt("bob@example.net")
        s.rset()
    finally:
        s.quit()
    assert len(set(qids)) == 2 and None not in qids, qids
    msgs = sm.wait_delivered(before + 2)[-2:]
    lines = [log_line(q) for q in qids]
    assert [l["subject"] for l in lines] == ["first", "second"], lines
    assert [l["message_id"] for l in lines] == ["<lunch-16@example.org>",
                                                "<lunch-17@example.org>"], lines
    second = [m for m in msgs if b"Subject: second" in m][0]
    assert len(header(second, "Authentication-Results")) == 1, second[:800]
    assert header(second, "X-Only-First") == []


def t_scan_json_matches_milter_line():
    """The same pipeline: `mailwarden scan --json` of what the milter saw
    through Sendmail prints the milter's verdict line."""
    data = PLAIN.format(n=30).replace("Subject: Lunch", "Subject: =?utf-8?q?Caf=C3=A9?= lunch")
    r, m = deliver_one(data, sender="carol@promo.example", expect="tag")
    ours = lambda name, value: (   # noqa: E731 - Sendmail's own Received
        name == "received" and b"by mx.mailwarden.test (8.17" in value)
    mwtest.assert_scan_matches(
        milter, log_line(r.queue_id), mwtest.as_milter_saw_it(m, AUTHSERV, ours),
        ["--ip", CLIENT, "--name", "mail.example.org", "--helo", "client.example.org",
         "--from", "carol@promo.example", "--rcpt", "bob@example.net",
         "--queue-id", r.queue_id])


def t_bad_header_without_colon():
    data = ("From: a@example.org\nSubject: no colon follows\nthis line has no colon\n"
            "X-After: x\n\nbody\n")
    r, m = deliver_one(data)
    assert b"this line has no colon" in m
    assert log_line(r.queue_id)["action"] == "accept"


def t_bad_nul_byte_in_header():
    r = send("From: a@example.org\nSubject: nul \x00 inside\n\nbody\n")
    print("  Sendmail's reply: %d %s" % (r.code, r.text))
    assert r.code in (250, 550, 554), r
    assert milter.alive()
    if r.code == 250:
        assert log_line(r.queue_id)["queue_id"] == r.queue_id
    else:
        sent.pop()        # refused by Sendmail itself: the milter saw nothing


def t_bad_8bit_header():
    r, m = deliver_one(b"From: a@example.org\nSubject: caf\xe9 \xff\xfe\n\nbody\n")
    line = log_line(r.queue_id)
    json.dumps(line)
    assert "HEADER_8BIT" in [x["name"] for x in line["symbols"]], line["symbols"]


def t_bad_big_header():
    """Sendmail's own limit on the header (MaxHeadersLength, 32 KiB by
    default) refuses a 2 MB field before the milter decides anything."""
    data = "From: a@example.org\nX-Huge: " + ("abcdefghij" * 200000) + "\nSubject: big\n\nbody\n"
    r = send(data)
    print("  Sendmail's reply: %d %s" % (r.code, r.text))
    assert milter.alive()
    if r.code == 250:
        assert log_line(r.queue_id)["queue_id"] == r.queue_id
    else:
        assert r.code == 552 and "Headers too large" in r.text, r
        sent.pop()


def t_bad_5000_recipients():
    rcpts = ["user%d@discard.example" % i for i in range(5000)]
    r = send(PLAIN.format(n=32), rcpts=rcpts)
    assert r.code == 250 and r.queue_id, r
    line = log_line(r.queue_id)
    assert line["rcpt_count"] == 5000, line["rcpt_count"]
    assert len(line["rcpts"]) == 1000
    assert "RCPTS_TRUNCATED" in [x["name"] for x in line["symbols"]]


def t_bad_message_over_max_scan_bytes():
    body = "".join("line %06d of a long message body\n" % i for i in range(30000))
    r, m = deliver_one(PLAIN.format(n=31) + body)
    assert m.count(b"of a long message body") == 30000, "message not delivered whole"
    line = log_line(r.queue_id)
    assert line["truncated"] is True and line["size"] > 900000, line
    assert "SCAN_TRUNCATED" in [x["name"] for x in line["symbols"]]


def t_bad_empty_body():
    r, m = deliver_one("From: a@example.org\nSubject: empty\n\n")
    assert log_line(r.queue_id)["action"] == "accept"


def dkimpy_verify(msg_bytes):
    return mwtest.dkimpy_verify(work, RECORDS, msg_bytes)


def signed_ok(m):
    sigs = header(m, "DKIM-Signature")
    assert len(sigs) == 2, sigs
    assert dkimpy_verify(m) == ["pass", "pass"], (dkimpy_verify(m), m.decode()[:1500])
    path = work.write("signed.eml", m.decode("utf-8", "surrogateescape"))
    conf = work.write("verify.conf", "dns_servers = %s\n" % ns.addr)
    out = subprocess.run([mwtest.MAILWARDEN, "dkim", "verify", "-c", conf, path],
                         stdout=subprocess.PIPE)
    assert out.returncode == 0 and out.stdout.count(b": pass (") == 2, out.stdout


def t_dkim_signs_trusted_network():
    """Sendmail writes address fields anew after the milter (a folded To
    comes out on one line): the default relaxed header canonicalization
    is what lets the signature survive that."""
    data = PLAIN.format(n=9).replace("To: Bob <bob@example.net>\n",
                                     "To: Bob <bob@example.net>,\n\tCarol <carol@example.net>\n")
    r, m = deliver_one(data, ip=TRUSTED)
    assert header(m, "To") == ["Bob <bob@example.net>, Carol <carol@example.net>"], \
        header(m, "To")
    assert b"To: Bob <bob@example.net>, Carol <carol@example.net>\n" in m, \
        "Sendmail no longer refolds To: update doc/operations.md"
    signed_ok(m)
    line = log_line(r.queue_id)
    assert [d["result"] for d in line["dkim"]] == ["signed", "signed"], line["dkim"]


def t_dkim_signs_authenticated_sender():
    """{auth_authen} (asked for at MAIL FROM) makes the sender trusted."""
    r, m = deliver_one(PLAIN.format(n=10), ip=NONAME, auth=("alice", "alice-secret"))
    line = log_line(r.queue_id)
    assert line["auth"] == "alice", line["auth"]
    assert line["scored"] is False, line
    signed_ok(m)


def t_dkim_signature_survives_date_added_by_sendmail():
    """A message without Date or Message-ID: Sendmail adds both after the
    milter has seen the header (Postfix adds them before), so a signature
    must not have oversigned the Date field that was not there."""
    data = PLAIN.format(n=11).replace("Date: Thu, 26 Nov 2026 10:15:00 +0000\n", "")
    data = data.replace("Message-ID: <lunch-11@example.org>\n", "")
    r, m = deliver_one(data, ip=TRUSTED)
    assert len(header(m, "Date")) == 1 and len(header(m, "Message-Id")) == 1, m[:800]
    assert log_line(r.queue_id)["message_id"] is None
    signed_ok(m)


def t_sighup_under_mail_flow():
    """Reload with a changed client list while 4 clients send: every
    message gets a verdict, none a tempfail, the new list applies after."""
    work.write("client.list", "%s REJECT Reloaded list (test)\n" % BLOCKED)
    results = []
    lock = threading.Lock()

    def client(k):
        for i in range(5):
            r = mwtest.send(sm, "alice@example.org", ["bob@example.net"],
                                  PLAIN.format(n="hup-%d-%d" % (k, i)), client_ip=CLIENT)
            with lock:
                results.append(r)

    before = len(sm.delivered())
    threads = [threading.Thread(target=client, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    hups = 0
    while any(t.is_alive() for t in threads):
        milter.signal(signal.SIGHUP)
        hups += 1
        threads[0].join(0.15)
    for t in threads:
        t.join()
    sent.extend((r, "accept") for r in results)
    assert hups >= 2, hups
    assert [r.code for r in results] == [250] * 20, results
    sm.wait_delivered(before + 20)
    r = send(PLAIN.format(n=12), ip=BLOCKED, expect="reject")
    assert r.code == 550 and "Reloaded list (test)" in r.text, r


def t_verdict_log_matches_sendmail_log():
    """One verdict line per message, with Sendmail's queue id; Sendmail's
    log has the same id for the same message and outcome."""
    lines = read_log(vlog)
    assert len(lines) == len(sent), "%d lines for %d messages" % (len(lines), len(sent))
    by_qid = {l["queue_id"]: l for l in lines}
    assert len(by_qid) == len(lines), "queue ids not unique"
    for r, expect in sent:
        if r.queue_id:
            line = by_qid[r.queue_id]
            if r.queue_id not in held_qids:
                sm.wait_log(r"%s: to=.*stat=Sent" % r.queue_id)
            assert line["action"] == expect, (line["action"], expect, r)
            smlog = "\n".join(sm.log_lines(r.queue_id))
            assert "from=<%s>" % line["mail_from"] in smlog, smlog
            assert ("stat=Sent" in smlog) == (r.queue_id not in held_qids), smlog
    for line in lines:
        qid = line["queue_id"]
        smlog = "\n".join(sm.log_lines(qid))
        assert "from=<%s>" % line["mail_from"] in smlog, (qid, smlog)
        if line["action"] in ("reject", "tempfail"):
            # Sendmail logs the text as the milter gave it, '%' doubled
            reply = line["reply"].replace("%", "%%")
            assert "Milter: data, reject=%s" % reply in smlog, smlog
        assert "%s: client=%s action=%s" % (qid, line["client"]["ip"], line["action"]) \
            in milter.log_text()


# A second Sendmail and milter: the .mc's macro lists without anything
# mailwarden reads (only {daemon_name}), and the snippet's filter line
# with T=R:2s, while this milter's DNS never answers and it waits for it
# up to 4 s (dns_timeout, one try, for SPF and HELO SPF in parallel).
OTHER_MACROS = "".join("define(`confMILTER_MACROS_%s', `{daemon_name}')dnl\n" % stage for stage in
                       ("CONNECT", "HELO", "ENVFROM", "ENVRCPT", "DATA", "EOH", "EOM"))
silent = None
slow_milter = None
sm2 = None
drain_stack = []


def start_second():
    global silent, slow_milter, sm2
    silent = dnsserver.SilentServer().start()
    slow = dict(settings, socket="unix:%s/slow.sock" % run_dir,
                log_file=os.path.join(logdir, "slow.log"), dns_servers=silent.addr,
                dns_timeout="4000", dns_retries="0", dns_message_timeout="6000",
                spf_temperror_action="accept")
    slow_milter = mwtest.Milter(work, slow, name="slow").start()
    line = sendmailtest.milter_line(slow["socket"])
    line, n = re.subn(r"T=S:10s;R:60s;E:5m", "T=S:10s;R:2s;E:5m", line)
    assert n == 1, line
    sm2 = sendmailtest.Sendmail(work, slow["socket"], filter_line=line, mc_extra=OTHER_MACROS,
                                name="sendmail2", sasl_users={"alice": "alice-secret"}).start()


def t_macros_are_mailwardens_own():
    """Sendmail sends what the milter asked for with smfi_setsymlist,
    whatever Milter.macros.* say: with none of them naming i or
    {auth_authen}, the queue id (i at end of message) and the AUTH
    identity (at MAIL FROM) still arrive."""
    start_second()
    cf = open(sm2.cf).read()
    macros = re.findall(r"^O Milter\.macros\.(\w+)=(.*)$", cf, re.M)
    assert len(macros) == 7 and set(v for k, v in macros) == {"{daemon_name}"}, macros
    r = mwtest.send(sm2, "alice@example.org", ["bob@example.net"], PLAIN.format(n=20),
                    client_ip=NONAME, auth=("alice", "alice-secret"))
    assert r.code == 250 and r.queue_id, r
    line = mwtest.wait_for(lambda: read_log(slow_milter.settings["log_file"]),
                           what="slow milter's log")[-1]
    assert line["queue_id"] == r.queue_id and line["auth"] == "alice", line
    sm2.wait_delivered(1)


def t_reply_timeout_tempfails():
    """T=R shorter than the milter's wait for DNS: Sendmail gives up on
    the filter and, with F=T, tempfails the message.  R (each reply),
    not E, bounds the wait for the verdict: Sendmail checks E only
    between the packets of the end-of-message answer."""
    before = len(sm2.delivered())
    r = mwtest.send(sm2, "carol@example.org", ["bob@example.net"], PLAIN.format(n=21),
                    client_ip=CLIENT)
    print("  Sendmail's reply: %d %s" % (r.code, r.text))
    assert 400 <= r.code < 500, "T=R:2s with F=T must tempfail, got %r" % (r,)
    log = sm2.wait_log(r"Milter \(mailwarden\): timeout")
    assert "Milter (mailwarden): to error state" in log, log[-3000:]
    assert len(sm2.delivered()) == before
    # the milter itself would have accepted it (spf_temperror_action)
    line = mwtest.wait_for(lambda: [l for l in read_log(slow_milter.settings["log_file"])
                                    if l["message_id"] == "<lunch-21@example.org>"],
                           timeout=10, what="slow milter's verdict")[-1]
    assert line["action"] == "accept" and line["spf"]["result"] == "temperror", line


def t_sigterm_drains_under_sendmail():
    """SIGTERM while four messages are in the milter (its DNS answers
    after 1.5 s): they get their verdict and are delivered, a new
    connection is refused with a 4xx, the milter exits 0, and then
    Sendmail's F=T tempfails."""
    global drain_stack
    proxy = dnsserver.DelayProxy(ns.addr, 1500).start()
    conf = dict(settings, socket="unix:%s/drain.sock" % run_dir,
                log_file=os.path.join(logdir, "drain.log"), dns_servers=proxy.addr)
    dm = mwtest.Milter(work, conf, name="drain").start()
    sm3 = sendmailtest.Sendmail(work, conf["socket"], name="sendmail3",
                                hosts={CLIENT: "mail.example.org"}).start()
    drain_stack = [sm3, dm, proxy]
    results = {}

    def client(k):
        results[k] = mwtest.send(sm3, "alice@example.org", ["bob@example.net"],
                                 PLAIN.format(n="drain-%d" % k), client_ip=CLIENT)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    mwtest.wait_for(lambda: len(re.findall(r"milter=mailwarden, action=mail, continue",
                                           sm3.log_text())) >= 4, what="four messages in flight")
    dm.signal(signal.SIGTERM)
    late = mwtest.send(sm3, "alice@example.org", ["bob@example.net"], PLAIN.format(n="late"),
                       client_ip=CLIENT)
    for t in threads:
        t.join()
    print("  in flight: %s; new during the drain: %d %s" % (
        sorted(r.code for r in results.values()), late.code, late.text))
    assert sorted(r.code for r in results.values()) == [250] * 4, results
    assert 400 <= late.code < 500, late
    assert dm.stop() == 0, dm.log_text()
    sm3.wait_delivered(4)
    lines = read_log(conf["log_file"])
    assert sorted(l["queue_id"] for l in lines) == sorted(r.queue_id for r in results.values())
    after = mwtest.send(sm3, "alice@example.org", ["bob@example.net"], PLAIN.format(n="after"),
                        client_ip=CLIENT)
    assert after.code == 451 and after.text.startswith("4.3.2"), after


def t_milter_down_sendmail_tempfails():
    """F=T: with the milter gone Sendmail answers 4xx, delivers nothing."""
    rc = milter.stop()
    assert rc == 0, "milter exit status %r\n%s" % (rc, milter.log_text())
    before = len(sm.delivered())
    r = mwtest.send(sm, "alice@example.org", ["bob@example.net"], PLAIN.format(n=13),
                    client_ip=CLIENT)
    print("  Sendmail's reply: %d %s" % (r.code, r.text))
    assert 400 <= r.code < 500, "F=T must tempfail, got %r" % (r,)
    assert len(sm.delivered()) == before
    sm.wait_log(r"Milter \(mailwarden\): to error state")


try:
    R.run([
            ("clean mail: A-R on top, X-Spam at the end", t_clean_message_headers_in_place),
            ("macros: queue id, client name, HELO, sender", t_macros_at_each_stage),
            ("forged A-R and X-Spam fields removed by index", t_forged_headers_removed_by_index),
            ("spam tagged, Subject changed in place", t_spam_tagged_subject_changed),
            ("list REJECT: mailwarden's text reaches the client",
             t_list_reject_text_reaches_client),
            ("DMARC p=reject: refused with mailwarden's text", t_dmarc_reject_text_reaches_client),
            ("SPF temperror: tempfail text reaches the client", t_tempfail_text_reaches_client),
            ("'%' in a reject text reaches the client single", t_percent_in_reject_text),
            ("DMARC p=quarantine: held in Sendmail's queue", t_dmarc_quarantine_held_by_sendmail),
            ("two messages in one session, each its own", t_two_messages_one_session),
            ("scan --json prints the milter's log line", t_scan_json_matches_milter_line),
            ("bad input: header line without colon", t_bad_header_without_colon),
            ("bad input: NUL byte in a header", t_bad_nul_byte_in_header),
            ("bad input: 8-bit header bytes", t_bad_8bit_header),
            ("bad input: 2 MB header", t_bad_big_header),
            ("bad input: 5000 recipients", t_bad_5000_recipients),
            ("bad input: message over max_scan_bytes", t_bad_message_over_max_scan_bytes),
            ("bad input: empty body", t_bad_empty_body),
            ("DKIM: trusted network signed, verified", t_dkim_signs_trusted_network),
            ("DKIM: SMTP AUTH sender signed, verified", t_dkim_signs_authenticated_sender),
            ("DKIM: signature survives Date added by Sendmail",
             t_dkim_signature_survives_date_added_by_sendmail),
            ("SIGHUP under mail flow", t_sighup_under_mail_flow),
            ("verdict log matches Sendmail's log", t_verdict_log_matches_sendmail_log),
            ("macros: mailwarden's own lists, not Milter.macros.*",
             t_macros_are_mailwardens_own),
            ("T=R shorter than the milter's DNS wait: F=T tempfails",
             t_reply_timeout_tempfails),
            ("SIGTERM drains the messages in flight", t_sigterm_drains_under_sendmail),
            ("milter down: Sendmail F=T tempfails", t_milter_down_sendmail_tempfails),
    ], milter, stops_milter=t_milter_down_sendmail_tempfails)
finally:
    sm.stop()
    milter.stop()
    ns.stop()
    for x in [sm2, slow_milter, silent] + drain_stack:
        if x is not None:
            x.stop()
    if R.failed:
        print("---- milter stderr\n" + milter.log_text()[-5000:])
        print("---- sendmail log\n" + sm.log_text()[-8000:])
        print("---- sendmail stderr\n" + sm.stderr_text()[-2000:])
    if not os.environ.get("MW_KEEP"):
        work.cleanup()
R.exit()
