#!/usr/bin/env python3
"""DMARC aggregate reports, recorded by the milter and mailed by Postfix.

mailwarden milter records every DMARC evaluation of mail that a real
Postfix passes to it (dmarc_report_dir); nsd serves the sender domains'
DMARC records with their rua= addresses.  Then `mailwarden dmarc report
--send` writes the RFC 9990 reports and hands each to the private
Postfix's own sendmail(1), which delivers it to the Maildir, where the
test reads it back:

- a rua address inside the Policy Domain is mailed without a check;
- a rua address in another domain is mailed only when that domain
  publishes <policy-domain>._report._dmarc.<rua-domain> (RFC 9990
  section 3); without it the address is skipped and nothing is sent;
- the delivered report is a well-formed report mail (Subject "Report
  Domain: ... Submitter: ... Report-ID: ...", a gzip attachment named
  as the RFC says) whose XML counts the messages the milter saw and
  validates against the RFC 9990 schema;
- with dmarc_failure_reports on, a message that fails DMARC for a domain
  with ruf= is spooled as an RFC 9991 failure report, and `mailwarden
  dmarc failures --send` mails it to the authorized ruf= address only
  (an Abuse Reporting Format auth-failure report with the header fields
  and not the body) and empties the spool.

Issue 14, item 11: a Policy Domain (evil.example) whose rua= holds
addresses that sendmail would read as something else, such as
"all-staff(@evil.example" (the local mailbox all-staff and a comment:
with `sendmail -t` Postfix appended myorigin and delivered the report to
all-staff@example.net), gets reports only at its well-formed addresses,
including a quoted local part that round-trips, and each delivered
message's envelope recipient (Delivered-To) is the address its To field
names.
"""

import email
import email.policy
import gzip
import os
import shutil
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsserver  # noqa: E402
import mwtest  # noqa: E402
from mwtest import MAILWARDEN, send  # noqa: E402

mwtest.skip_unless_root_with_postfix()
dnsserver.skip_unless_nsd()

ZONES = {
    "org": "", "net": "", "com": "", "example": "",
    "example.org": '''
        @       TXT "v=spf1 ip4:192.0.2.10 -all"
        _dmarc  TXT "v=DMARC1; p=none; rua=mailto:dmarc-org@example.net,mailto:thief@example.com; ruf=mailto:dmarc-org@example.net"
        ''',
    # example.net takes reports for example.org, not for unauth.example
    "example.net": '''
        @       TXT "v=spf1 ip4:192.0.2.20 -all"
        _dmarc  TXT "v=DMARC1; p=quarantine; rua=mailto:dmarc-net@example.net"
        example.org._report._dmarc TXT "v=DMARC1"
        ''',
    "example.com": '''
        @       TXT "v=spf1 -all"
        ''',
    # rua= with hostile local parts beside two good ones
    "evil.example": '''
        @       TXT "v=spf1 ip4:192.0.2.40 -all"
        _dmarc  TXT "v=DMARC1; p=none; rua=mailto:all-staff(@evil.example,mailto:<all-staff>@evil.example,mailto:all-staff@evil.example?x,mailto:good.name@evil.example,mailto:all.staff.@evil.example,mailto:\\"dmarc..in\\"@evil.example"
        ''',
    "unauth.example": '''
        @       TXT "v=spf1 ip4:192.0.2.30 -all"
        _dmarc  TXT "v=DMARC1; p=none; rua=mailto:collector@example.net; ruf=mailto:collector@example.net"
        ''',
}
MSG = """From: {user}@{domain}
To: Bob <bob@example.net>
Subject: report {n}
Message-ID: <report-{n}@{domain}>

Hello.
"""
XSD = os.path.join(os.environ.get("TOP_SRCDIR", "."), "tests", "data",
                   "dmarc", "rfc9990.xsd")

ns = dnsserver.NSD(ZONES).start()
work = mwtest.Workdir(prefix="mw-dmarc-report-")
run = work.sub("run", owner="postfix")
store = work.sub("store", owner="postfix")
outdir = work.sub("out")
milter = mwtest.Milter(work, {
    "socket": "unix:%s/mw.sock" % run,
    "user": "postfix",
    "authserv_id": "mx.mailwarden.test",
    "log_file": os.path.join(run, "verdicts.log"),
    "pid_file": "",
    "dns_servers": ns.addr,
    "rules_dir": "",
    "dmarc_report_dir": store,
    "dmarc_report_org": "Mailwarden Test",
    "dmarc_report_email": "dmarc-reports@mailwarden.test",
    "dmarc_failure_reports": "yes",
}).start()
# the site's own domain is example.net: an address without a domain
# becomes a mailbox there (myorigin), as on a real site
pf = mwtest.Postfix(work, milter.postfix_spec(), extra={
    "myorigin": "example.net",
    "virtual_mailbox_domains": "example.net evil.example",
})
# local submission: sendmail(1) -> postdrop -> maildrop -> pickup
with open(os.path.join(pf.dir, "master.cf"), "a") as f:
    f.write("pickup unix n - n 1 1 pickup\n")
pf.start()

# dmarc report --send runs dmarc_report_sendmail -oi -f FROM -- RCPT;
# this one is the private instance's sendmail, never the system's
wrapper = os.path.join(work.path, "sendmail")
with open(wrapper, "w") as f:
    f.write("#!/bin/sh\nexec %s -C %s \"$@\"\n" % (
        shutil.which("sendmail", path="/usr/sbin:/usr/bin:/sbin"), pf.dir))
os.chmod(wrapper, 0o755)
milter.write_conf({"dmarc_report_sendmail": wrapper})
R = mwtest.Results()
HOST = socket.gethostname()     # the receiver: mailwarden's host name
t0 = int(time.time()) - 5
state = {}

SENDS = [
    ("alice", "example.org", "192.0.2.10", 250),    # pass
    ("alice", "example.org", "192.0.2.99", 250),    # SPF fail, p=none
    ("carol", "example.net", "192.0.2.20", 250),    # pass
    ("eve", "unauth.example", "192.0.2.30", 250),   # pass
    ("eve", "unauth.example", "192.0.2.98", 250),   # SPF fail, p=none
    ("mallory", "evil.example", "192.0.2.40", 250),  # pass
]
GOOD_EVIL = ['"dmarc..in"@evil.example', "all-staff@evil.example",
             "good.name@evil.example"]


def check_mail_recorded():
    for n, (user, domain, ip, want) in enumerate(SENDS):
        r = send(pf, "%s@%s" % (user, domain), ["bob@example.net"],
                 MSG.format(user=user, domain=domain, n=n), client_ip=ip)
        assert r.code == want, (domain, ip, r)
    pf.wait_delivered(len(SENDS))
    files = os.listdir(store)
    assert files, "nothing recorded in dmarc_report_dir"


def check_send():
    p = subprocess.run([MAILWARDEN, "dmarc", "report", "-c", milter.conf,
                        "--from", str(t0), "--to", str(int(time.time()) + 5),
                        "--out", outdir, "--send"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=120)
    state["out"] = p.stdout
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    lines = p.stdout.splitlines()
    sent = sorted(ln.split(" to ")[1] for ln in lines if ln.startswith("sent "))
    assert sent == sorted(["dmarc-net@example.net", "dmarc-org@example.net"]
                          + GOOD_EVIL), p.stdout
    for bad in ("all-staff(@evil.example", "<all-staff>@evil.example",
                "all.staff.@evil.example"):
        assert "skip mailto:%s for evil.example: not a mailto: address " \
            "that can be used" % bad in lines, (bad, p.stdout)
    assert any(ln.startswith("skip thief@example.com for example.org: "
                             "external destination not authorized")
               for ln in lines), p.stdout
    assert any(ln.startswith("skip collector@example.net for unauth.example: "
                             "external destination not authorized")
               for ln in lines), p.stdout
    # four reports written: one per Policy Domain
    written = [ln for ln in lines if ln.endswith(" messages")]
    assert len(written) == 4, p.stdout


def reports():
    out = {}
    for raw in pf.delivered():
        m = email.message_from_bytes(raw, policy=email.policy.default)
        if str(m["Subject"] or "").startswith("Report Domain: "):
            # the To field as written (a quoted local part stays quoted)
            raw_to = email.message_from_bytes(raw)["To"]
            out[str(raw_to)] = m
    return out


def check_recipients():
    """Each report went to the address its To names, none elsewhere."""
    mwtest.wait_for(lambda: len(reports()) >= 5, timeout=60,
                    what="five report mails delivered")
    time.sleep(1)
    got = {}
    for raw in pf.delivered():
        m = email.message_from_bytes(raw, policy=email.policy.compat32)
        if not str(m["Subject"] or "").startswith("Report Domain: "):
            continue
        rcpts = m.get_all("Delivered-To")
        assert rcpts and len(rcpts) == 1, (rcpts, raw[:500])
        assert rcpts[0].lower() == str(m["To"]).lower(), (rcpts, m["To"])
        got.setdefault(str(m["Subject"]).split()[2], []).append(rcpts[0])
    assert sorted(got.get("evil.example", [])) == GOOD_EVIL, got
    everyone = [r for rs in got.values() for r in rs]
    assert not [r for r in everyone if r.endswith("@example.net") and
                not r.startswith("dmarc-")], everyone


def failure_reports():
    return [raw for raw in pf.delivered()
            if b"Subject: DMARC failure report for " in raw]


def check_failure_reports():
    spool = os.path.join(store, "failures")
    files = sorted(os.listdir(spool))
    # one for example.org (192.0.2.99), one for unauth.example; none
    # for the messages that passed (fo=0)
    assert len(files) == 2, files
    p = subprocess.run([MAILWARDEN, "dmarc", "failures", "-c", milter.conf,
                        "--send"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True,
                       timeout=120)
    state["out"] = p.stdout + p.stderr
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    assert [ln for ln in p.stdout.splitlines() if ln.startswith("sent ")
            and ln.endswith(" to dmarc-org@example.net")], p.stdout
    assert any(ln.startswith("skip collector@example.net for unauth.example: "
                             "external destination not authorized")
               for ln in p.stdout.splitlines()), p.stdout
    assert os.listdir(spool) == [], os.listdir(spool)
    mwtest.wait_for(lambda: failure_reports(), timeout=60,
                    what="a failure report delivered")
    time.sleep(1)
    got = failure_reports()
    assert len(got) == 1, len(got)
    raw = got[0]
    m = email.message_from_bytes(raw, policy=email.policy.default)
    assert str(m["To"]) == "dmarc-org@example.net", m["To"]
    assert m.get_content_type() == "multipart/report", m.get_content_type()
    assert m.get_param("report-type") == "feedback-report", m["Content-Type"]
    types = [part.get_content_type() for part in m.iter_parts()]
    assert types == ["text/plain", "message/feedback-report",
                     "text/rfc822-headers"], types
    for field in (b"Feedback-Type: auth-failure", b"Auth-Failure: dmarc",
                  b"Reported-Domain: example.org", b"Source-IP: 192.0.2.99",
                  b"Original-Mail-From: <alice@example.org>",
                  b"Identity-Alignment: none", b"Version: 1",
                  b"dmarc=fail"):
        assert field in raw, (field, raw[:3000])
    # the original header fields, never the body
    assert b"Message-ID: <report-1@example.org>" in raw, raw[-1500:]
    assert b"Hello." not in raw, raw[-1500:]


def check_delivered_reports():
    mwtest.wait_for(lambda: len(reports()) >= 2, timeout=60,
                    what="two report mails delivered")
    time.sleep(1)
    got = reports()
    assert sorted(got) == sorted(["dmarc-net@example.net",
                                  "dmarc-org@example.net"] + GOOD_EVIL), \
        sorted(got)
    counts = {}
    for to, m in got.items():
        if to.endswith("@evil.example"):
            continue    # check_recipients; three copies of one report
        domain = "example.org" if to.startswith("dmarc-org") else "example.net"
        subj = str(m["Subject"])
        assert subj.startswith("Report Domain: %s Submitter: %s Report-ID: <"
                               % (domain, HOST)), subj
        assert str(m["From"]) == "dmarc-reports@mailwarden.test", m["From"]
        parts = [p for p in m.iter_attachments()]
        assert len(parts) == 1, [p.get_content_type() for p in parts]
        att = parts[0]
        assert att.get_content_type() == "application/gzip", att
        name = att.get_filename()
        # receiver!policy-domain!begin!end[!id].xml.gz
        assert name.startswith("%s!%s!" % (HOST, domain)) and \
            name.endswith(".xml.gz"), name
        xml = gzip.decompress(att.get_content())
        root = ET.fromstring(xml)
        ns_ = {"d": root.tag[1:].split("}")[0]} if root.tag.startswith("{") else {}
        pre = "d:" if ns_ else ""
        pd = root.find("%spolicy_published/%sdomain" % (pre, pre), ns_)
        assert pd is not None and pd.text == domain, ET.tostring(root)[:300]
        total = 0
        for rec in root.findall("%srecord" % pre, ns_):
            total += int(rec.find("%srow/%scount" % (pre, pre), ns_).text)
        counts[domain] = total
        path = os.path.join(work.path, name)
        with open(path, "wb") as f:
            f.write(xml)
        if shutil.which("xmllint") and os.path.exists(XSD):
            v = subprocess.run(["xmllint", "--noout", "--schema", XSD, path],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               universal_newlines=True)
            assert v.returncode == 0, v.stdout
    assert counts == {"example.org": 2, "example.net": 1}, counts


try:
    R.check("the milter records DMARC evaluations of mail through Postfix",
            check_mail_recorded)
    R.check("dmarc report --send mails authorized rua addresses only",
            check_send)
    R.check("the report mails arrive through Postfix, valid RFC 9990 XML",
            check_delivered_reports)
    R.check("hostile rua local parts get nothing; each mail reached its To",
            check_recipients)
    R.check("failure reports: spooled, sent to the authorized ruf only",
            check_failure_reports)
finally:
    pf.stop()
    milter.stop()
    ns.stop()
    if R.failed:
        print("--- report output\n" + state.get("out", ""))
        print("--- postfix log\n" + pf.log_text()[-3000:])
        print("--- milter log\n" + milter.log_text()[-3000:])
    work.cleanup()
R.exit()
