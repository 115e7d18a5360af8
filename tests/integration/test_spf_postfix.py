#!/usr/bin/env python3
"""SPF end to end: a real Postfix, mailwarden as its milter, nsd for DNS.

nsd (dnsserver.NSD) serves the sender domains on a random loopback
address; mailwarden milter uses it through dns_servers with
spf_fail_action = reject and spf_temperror_action = tempfail; mail goes
in over SMTP with XCLIENT presenting the client address:

- a client the domain's SPF fails is refused at DATA with 550 5.7.23
  and the domain's exp= explanation, and nothing is delivered;
- a client the domain permits is delivered with spf=pass
  smtp.mailfrom=... in Authentication-Results and a Received-SPF field;
- the null sender is checked as postmaster@HELO (smtp.helo=...);
- with nsd stopped, a domain not in the cache gets the configured
  temperror action: 451 4.4.3, and the message is not lost (Postfix
  keeps it for the client to retry).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsserver  # noqa: E402
import mwtest  # noqa: E402
from mwtest import header, read_log, send  # noqa: E402

mwtest.skip_unless_root_with_postfix()
dnsserver.skip_unless_nsd()

ZONES = {
    "spf.test": """
@       TXT   "v=spf1 ip4:192.0.2.0/24 -all exp=why.spf.test"
why     TXT   "%{i} is not a mail server of %{d}"
mx      A     198.51.100.25
mx      TXT   "v=spf1 a -all"
late    TXT   "v=spf1 ip4:192.0.2.0/24 -all"
""",
}
MSG = """From: Alice <alice@spf.test>
To: Bob <bob@example.net>
Subject: SPF {n}
Message-ID: <spf-{n}@spf.test>

Hello.
"""

ns = dnsserver.NSD(ZONES).start()
work = mwtest.Workdir(prefix="mw-spf-it-")
run = work.sub("run", owner="postfix")
logdir = work.sub("log", owner="postfix")
vlog = os.path.join(logdir, "verdicts.log")
milter = mwtest.Milter(work, {
    "socket": "unix:%s/mw.sock" % run,
    "user": "postfix",
    "authserv_id": "mx.mailwarden.test",
    "log_file": vlog,
    "pid_file": "",
    "dns_servers": ns.addr,
    "dns_timeout": "500",
    "dns_retries": "0",
    "dns_message_timeout": "3000",
    "spf_fail_action": "reject",
    "spf_temperror_action": "tempfail",
    "spf_received_header": "yes",
    "dmarc": "no",
}).start()
pf = mwtest.Postfix(work, milter.postfix_spec()).start()
R = mwtest.Results()


def check_fail_rejected():
    r = send(pf, "alice@spf.test", ["bob@example.net"], MSG.format(n=1),
             client_ip="203.0.113.5", helo="mail.client.test")
    assert r.code == 550, r
    assert r.text.startswith("5.7.23 SPF MAIL FROM check failed for spf.test: "
                             "203.0.113.5 is not a mail server of spf.test"), r
    assert pf.delivered() == [], "a refused message was delivered"


def check_pass_delivered():
    pf.flush_maildir()
    r = send(pf, "alice@spf.test", ["bob@example.net"], MSG.format(n=2),
             client_ip="192.0.2.7", helo="mail.client.test")
    assert r.code == 250, r
    msg = pf.wait_delivered(1)[0]
    ar = " ".join(header(msg, "Authentication-Results"))
    assert "spf=pass smtp.mailfrom=alice@spf.test" in ar, ar
    rs = header(msg, "Received-SPF")
    assert rs and rs[0].startswith("pass (mx.mailwarden.test: domain of "
                                   "alice@spf.test designates 192.0.2.7"), rs
    line = [v for v in read_log(vlog) if v["queue_id"] == r.queue_id]
    assert line and line[0]["spf"]["result"] == "pass", line


def check_null_sender_helo():
    pf.flush_maildir()
    r = send(pf, "", ["bob@example.net"], MSG.format(n=3),
             client_ip="198.51.100.25", helo="mx.spf.test")
    assert r.code == 250, r
    msg = pf.wait_delivered(1)[0]
    ar = " ".join(header(msg, "Authentication-Results"))
    assert "spf=pass smtp.helo=mx.spf.test" in ar, ar


def check_dns_down_tempfail():
    ns.stop()
    r = send(pf, "alice@late.spf.test", ["bob@example.net"], MSG.format(n=4),
             client_ip="192.0.2.7", helo="mail.client.test")
    assert r.code == 451, r
    assert r.text.startswith("4.4.3 "), r
    line = [v for v in read_log(vlog) if v["action"] == "tempfail"]
    assert line and line[-1]["spf"]["result"] == "temperror", line
    assert line[-1]["dns_degraded"] is True


try:
    R.check("SPF fail refused with 550 5.7.23 and the explanation",
            check_fail_rejected)
    R.check("SPF pass delivered with spf=pass and Received-SPF",
            check_pass_delivered)
    R.check("null sender checked as postmaster@HELO", check_null_sender_helo)
    R.check("DNS server stopped: 451 4.4.3 tempfail", check_dns_down_tempfail)
finally:
    pf.stop()
    milter.stop()
    ns.stop()
    if R.failed:
        print("--- postfix log\n" + pf.log_text()[-3000:])
        print("--- milter log\n" + milter.log_text()[-3000:])
    work.cleanup()
R.exit()
