#!/usr/bin/env python3
"""ARC trusted sealers end to end: Postfix, the milter, nsd.

author.example publishes DMARC p=reject (with rua=) and a DKIM key; a
mailing list (lists.example) receives Alice's signed message, finds
DKIM and DMARC passing, tags the Subject (which breaks Alice's
signature) and seals with dkimpy; a second list (rogue.example) does
exactly the same with its own key.  All keys and records are served by
nsd (dnsserver.py) on a random loopback address.

- without arc_trusted_sealers the list's message is rejected (DMARC);
- with arc_trusted_sealers = lists.example (SIGHUP) it is delivered,
  with override=trusted_forwarder in Authentication-Results and the
  verdict log, arc=pass header.oldest-pass=0;
- the rogue list's identical chain is still rejected;
- the trusted list's sealed message, with Subject and body replaced and
  sealed again by rogue.example, is rejected (the trusted claim is older
  than the rewrite);
- the aggregate report store records the override (reason
  trusted_forwarder, the sealer named in the comment).
"""

import glob
import json
import os
import re
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mwtest  # noqa: E402
from mwtest import header, read_log, send  # noqa: E402

mwtest.skip_unless_root_with_postfix()
try:
    import dnsserver  # noqa: E402
except ImportError:
    print("SKIP: dnsserver.py missing")
    sys.exit(77)
dnsserver.skip_unless_nsd()

SYS_PY = "/usr/bin/python3"
CHAIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "arc_chain.py")
if subprocess.run([SYS_PY, "-c", "import dkim, authres"]).returncode != 0:
    print("SKIP: needs python3-dkim and python3-authres")
    sys.exit(77)

AUTHSERV = "mx.mailwarden.test"
work = mwtest.Workdir(prefix="mw-arc-it-")
run_dir = work.sub("run", owner="postfix")
logdir = work.sub("log", owner="postfix")
reports = work.sub("reports", owner="postfix")
keydir = work.sub("keys", mode=0o700)
vlog = os.path.join(logdir, "verdicts.log")


def keygen(domain):
    out = subprocess.run([mwtest.MAILWARDEN, "dkim", "keygen", "--type", "rsa",
                          "--bits", "2048", "--domain", domain, "--selector",
                          "s1", "--out", os.path.join(keydir, domain + ".key")],
                         stdout=subprocess.PIPE, check=True).stdout.decode()
    return " ".join(re.findall(r'"[^"]*"', out))


zones = {
    "author.example": "s1._domainkey IN TXT %s\n"
                      "_dmarc IN TXT \"v=DMARC1; p=reject; "
                      "rua=mailto:agg@author.example\"\n" % keygen(
                          "author.example"),
    "lists.example": "s1._domainkey IN TXT %s\n" % keygen("lists.example"),
    "rogue.example": "s1._domainkey IN TXT %s\n" % keygen("rogue.example"),
}
dns = dnsserver.NSD(zones).start()

settings = {
    "socket": "unix:%s/mw.sock" % run_dir,
    "user": "postfix",
    "authserv_id": AUTHSERV,
    "log_file": vlog,
    "pid_file": "",
    "trust_authenticated": "no",
    "dns_servers": dns.addr,
    "dmarc_report_dir": reports,
}
milter = mwtest.Milter(work, settings).start()
pf = mwtest.Postfix(work, milter.postfix_spec()).start()
R = mwtest.Results()


def chain_through(list_domain, n):
    """Alice's signed message as list_domain forwards it: checked, Subject
    tagged, sealed."""
    orig = work.write("orig-%d.eml" % n, (
        "From: Alice <alice@author.example>\r\n"
        "To: members@%s\r\nSubject: agenda\r\n"
        "Date: Mon, 07 Dec 2026 05:00:00 +0000\r\n"
        "Message-ID: <agenda-%d@author.example>\r\n\r\n"
        "The agenda for Thursday.\r\n") % (list_domain, n))
    signed = os.path.join(work.path, "signed-%d.eml" % n)
    subprocess.run([SYS_PY, CHAIN, "dkim", orig, signed, "author.example",
                    "s1", os.path.join(keydir, "author.example.key")],
                   check=True)
    with open(signed, "rb") as f:
        data = f.read().replace(b"Subject: agenda",
                                b"Subject: [members] agenda")
    tagged = os.path.join(work.path, "tagged-%d.eml" % n)
    with open(tagged, "wb") as f:
        f.write(data)
    sealed = os.path.join(work.path, "sealed-%d.eml" % n)
    subprocess.run([SYS_PY, CHAIN, "seal", tagged, sealed, list_domain,
                    list_domain, "s1",
                    os.path.join(keydir, list_domain + ".key"),
                    "dkim=pass header.d=author.example; dmarc=pass "
                    "header.from=author.example"], check=True)
    with open(sealed, "rb") as f:
        return f.read().decode().replace("\r\n", "\n")


def submit(data, bounce):
    before = len(pf.delivered())
    r = send(pf, bounce, ["bob@example.net"], data, client_ip="198.51.100.7",
             client_name="mail.lists.example")
    return r, before


def ours(m):
    return [v for v in header(m, "Authentication-Results")
            if v.lower().startswith(AUTHSERV)]


def reload(extra):
    n = milter.log_text().count("configuration reloaded")
    milter.write_conf(extra)
    milter.signal(signal.SIGHUP)
    mwtest.wait_for(lambda: milter.log_text().count("configuration reloaded")
                    > n, what="reload")


def t_rejected_without_trusted_sealers():
    r, _ = submit(chain_through("lists.example", 1), "list-bounces@lists.example")
    assert r.code == 550 and "DMARC" in r.text, r
    line = read_log(vlog)[-1]
    assert line["arc"]["result"] == "pass", line["arc"]
    assert line["dmarc"]["override"] is None, line["dmarc"]


def t_delivered_with_trusted_sealer():
    reload({"arc_trusted_sealers": "lists.example"})
    r, before = submit(chain_through("lists.example", 2),
                       "list-bounces@lists.example")
    assert r.code == 250, r
    m = pf.wait_delivered(before + 1)[-1]
    ar = " ".join(ours(m))
    assert "arc=pass" in ar and "header.oldest-pass=0" in ar, ar
    assert "smtp.remote-ip=198.51.100.7" in ar, ar
    assert "dis=none; override=trusted_forwarder: trusted ARC sealer " \
        "lists.example (i=1) saw dmarc=pass header.from=author.example" in ar, ar
    line = read_log(vlog)[-1]
    assert line["dmarc"]["override"] == "trusted_forwarder", line["dmarc"]
    assert line["dmarc"]["disposition"] == "none", line["dmarc"]
    assert [s["domain"] for s in line["arc"]["sealers"]] == ["lists.example"]


def t_untrusted_sealer_rejected():
    r, _ = submit(chain_through("rogue.example", 3), "bounces@rogue.example")
    assert r.code == 550 and "DMARC" in r.text, r
    assert read_log(vlog)[-1]["arc"]["result"] == "pass"


def t_rewritten_after_trusted_seal_rejected():
    """An attacker takes a message the trusted list sealed, replaces the
    Subject and the body and seals a set of its own: the chain passes
    (oldest-pass 2), but the trusted sealer's claim no longer describes
    the message, so DMARC rejects it."""
    chain_through("lists.example", 4)
    with open(os.path.join(work.path, "sealed-4.eml"), "rb") as f:
        data = f.read()
    head, _, _ = data.partition(b"\r\n\r\n")
    head = head.replace(b"Subject: [members] agenda",
                        b"Subject: invoice overdue")
    evil = os.path.join(work.path, "evil-4.eml")
    with open(evil, "wb") as f:
        f.write(head + b"\r\n\r\nPay to the new account today.\r\n")
    resealed = os.path.join(work.path, "evil-sealed-4.eml")
    subprocess.run([SYS_PY, CHAIN, "seal", evil, resealed, "rogue.example",
                    "rogue.example", "s1",
                    os.path.join(keydir, "rogue.example.key"),
                    "arc=pass; dmarc=pass header.from=author.example"],
                   check=True)
    with open(resealed, "rb") as f:
        msg = f.read().decode().replace("\r\n", "\n")
    r, _ = submit(msg, "bounces@rogue.example")
    assert r.code == 550 and "DMARC" in r.text, r
    line = read_log(vlog)[-1]
    assert line["arc"]["result"] == "pass", line["arc"]
    assert line["arc"]["oldest_pass"] == 2, line["arc"]
    assert [s["domain"] for s in line["arc"]["sealers"]] == \
        ["lists.example", "rogue.example"], line["arc"]
    assert line["dmarc"]["override"] is None, line["dmarc"]


def t_report_records_override():
    lines = []
    for p in glob.glob(os.path.join(reports, "dmarc-*.jsonl")):
        with open(p) as f:
            lines += [json.loads(x) for x in f if x.strip()]
    over = [x for x in lines if x.get("reason") == "trusted_forwarder"]
    assert len(over) == 1, lines
    assert "lists.example" in over[0].get("comment", ""), over
    assert len([x for x in lines if x.get("disp") == "reject"]) == 3, lines


try:
    R.check("p=reject through a sealing list: rejected without "
            "arc_trusted_sealers", t_rejected_without_trusted_sealers)
    R.check("delivered with arc_trusted_sealers, override=trusted_forwarder",
            t_delivered_with_trusted_sealer)
    R.check("an untrusted sealer's identical chain is rejected",
            t_untrusted_sealer_rejected)
    R.check("a trusted seal followed by an attacker's rewrite and seal is "
            "rejected", t_rewritten_after_trusted_seal_rejected)
    R.check("the aggregate report store records the override",
            t_report_records_override)
finally:
    pf.stop()
    milter.stop()
    dns.stop()
    work.cleanup()
R.exit()
