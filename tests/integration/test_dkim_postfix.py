#!/usr/bin/env python3
"""DKIM end to end through a real Postfix with mailwarden attached.

- Mail from a trusted network leaves signed (RSA-2048 and Ed25519, dual
  signing) and the delivered message verifies with python3-dkim and with
  `mailwarden dkim verify`.
- Mail from elsewhere is not signed by us and gets dkim=none.
- With a real DNS server (nsd, tests/integration/dnsserver.py) serving
  the key records on a random loopback address and port: a correctly
  signed message gets dkim=pass and DKIM_VALID_AUTHOR, the same message
  with its body changed in transit gets dkim=fail (body hash).  Without
  nsd this part is skipped and says so.
"""

import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mwtest  # noqa: E402
from mwtest import header, read_log, send  # noqa: E402

mwtest.skip_unless_root_with_postfix()

SYS_PY = "/usr/bin/python3"
AUTHSERV = "mx.mailwarden.test"
work = mwtest.Workdir(prefix="mw-dkim-it-")
run_dir = work.sub("run", owner="postfix")
logdir = work.sub("log", owner="postfix")
keydir = work.sub("keys", mode=0o700)
vlog = os.path.join(logdir, "verdicts.log")


def keygen(sel, ktype):
    out = subprocess.run([mwtest.MAILWARDEN, "dkim", "keygen", "--type", ktype,
                          "--domain", "example.org", "--selector", sel, "--out",
                          os.path.join(keydir, sel + ".key")],
                         stdout=subprocess.PIPE, check=True).stdout.decode()
    return "".join(re.findall(r'"([^"]*)"', out))


RECORDS = {"rsa._domainkey.example.org": keygen("rsa", "rsa"),
           "ed._domainkey.example.org": keygen("ed", "ed25519")}

# the DNS part: nsd (dnsserver.py) and mailwarden's resolver
dns = None
have_resolver = "`dns_servers`" in subprocess.run(
    [mwtest.MAILWARDEN, "config", "--reference"],
    stdout=subprocess.PIPE).stdout.decode()
try:
    import dnsserver  # noqa: E402
except ImportError:
    dnsserver = None
if have_resolver and dnsserver and shutil.which("nsd"):
    zone = "\n".join("%s. IN TXT %s" % (name, " ".join(
        '"%s"' % txt[i:i + 250] for i in range(0, len(txt), 250)))
        for name, txt in RECORDS.items())
    dns = dnsserver.NSD({"example.org": zone}).start()

settings = {
    "socket": "unix:%s/mw.sock" % run_dir,
    "user": "postfix",
    "authserv_id": AUTHSERV,
    "log_file": vlog,
    "pid_file": "",
    "trusted_networks": "192.0.2.0/25",
    "trust_authenticated": "no",
    "dkim_sign_domains": "example.org:rsa:%s example.org:ed:%s" % (
        os.path.join(keydir, "rsa.key"), os.path.join(keydir, "ed.key")),
}
if dns:
    settings["dns_servers"] = dns.addr
milter = mwtest.Milter(work, settings).start()
pf = mwtest.Postfix(work, milter.postfix_spec()).start()
R = mwtest.Results()

MSG = """From: Alice <alice@example.org>
To: Bob <bob@example.net>
Subject: Quarterly numbers
Date: Thu, 26 Nov 2026 10:15:00 +0000
Message-ID: <q-{n}@example.org>

Hi Bob,

the numbers are attached.  Regards,
Alice
"""


def deliver(data, ip):
    before = len(pf.delivered())
    r = send(pf, "alice@example.org", ["bob@example.net"], data, client_ip=ip,
             client_name="client.example.org")
    assert r.code == 250, r
    return pf.wait_delivered(before + 1)[-1]


def dkimpy_verify(msg_bytes):
    return mwtest.dkimpy_verify(work, RECORDS, msg_bytes)


def ours(m):
    return [v for v in header(m, "Authentication-Results")
            if v.lower().startswith(AUTHSERV)]


def t_trusted_mail_leaves_signed():
    m = deliver(MSG.format(n=1), "192.0.2.10")
    sigs = header(m, "DKIM-Signature")
    assert len(sigs) == 2, sigs
    assert any("a=rsa-sha256" in s for s in sigs), sigs
    assert any("a=ed25519-sha256" in s for s in sigs), sigs
    for s in sigs:
        assert "d=example.org" in s and "c=relaxed/relaxed" in s, s
    assert dkimpy_verify(m) == ["pass", "pass"], dkimpy_verify(m)
    line = read_log(vlog)[-1]
    assert [d["result"] for d in line["dkim"]] == ["signed", "signed"], line["dkim"]
    if dns:
        path = work.write("signed.eml", m.decode("utf-8", "surrogateescape"))
        conf = work.write("verify.conf", "dns_servers = %s\n" % dns.addr)
        out = subprocess.run([mwtest.MAILWARDEN, "dkim", "verify", "-c", conf, path],
                             stdout=subprocess.PIPE)
        assert out.returncode == 0 and out.stdout.count(b": pass (") == 2, out.stdout


def t_other_mail_not_signed_by_us():
    m = deliver(MSG.format(n=2), "198.51.100.7")
    assert header(m, "DKIM-Signature") == [], header(m, "DKIM-Signature")
    assert any("dkim=none" in v for v in ours(m)), ours(m)


ODD = """From: Alice <alice@example.org>
To: Bob <bob@example.net>,
\tCarol <carol@example.net>
Subject:  Folded
   and   spaced\tsubject
Date: Thu, 26 Nov 2026 10:15:00 +0000
Message-ID: <odd-{n}@example.org>

  leading space
trailing space  \t
"""


def signed_by_dkimpy(n, canon="relaxed/simple", text=MSG):
    """A message signed for example.org with the RSA key, as an outside
    signer would send it (python3-dkim)."""
    h, b = canon.split("/")
    script = ("import sys, dkim\n"
              "msg = sys.stdin.buffer.read()\n"
              "sig = dkim.sign(msg, b'rsa', b'example.org', open(sys.argv[1], 'rb')"
              ".read(), canonicalize=(b'%s', b'%s'))\n"
              "sys.stdout.buffer.write(sig + msg)\n" % (h, b))
    pkcs1 = os.path.join(keydir, "rsa.pkcs1")
    if not os.path.exists(pkcs1):
        subprocess.run(["openssl", "pkey", "-in", os.path.join(keydir, "rsa.key"),
                        "-traditional", "-out", pkcs1], check=True)
    data = text.format(n=n).replace("\n", "\r\n").encode()
    return subprocess.run([SYS_PY, "-c", script, pkcs1], input=data,
                          stdout=subprocess.PIPE, check=True).stdout.decode()


def t_inbound_signed_passes():
    m = deliver(signed_by_dkimpy(3).replace("\r\n", "\n"), "198.51.100.7")
    ar = ours(m)
    assert any("dkim=pass" in v and "header.d=example.org" in v and
               "header.s=rsa" in v for v in ar), ar
    line = read_log(vlog)[-1]
    names = [s["name"] for s in line["symbols"]]
    assert "DKIM_VALID_AUTHOR" in names, names


def t_inbound_simple_canon_passes():
    """simple/simple over folded, oddly spaced fields: the milter must hand
    header values over byte for byte (leading space, folding)."""
    m = deliver(signed_by_dkimpy(5, "simple/simple", ODD).replace("\r\n", "\n"),
                "198.51.100.7")
    ar = ours(m)
    assert any("dkim=pass" in v and "header.s=rsa" in v for v in ar), ar


def t_inbound_body_changed_fails():
    data = signed_by_dkimpy(4).replace("\r\n", "\n").replace(
        "attached.", "attached, and wire the money to the new account.")
    m = deliver(data, "198.51.100.7")
    ar = ours(m)
    assert any('dkim=fail reason="body hash did not verify"' in v for v in ar), ar


try:
    R.check("trusted mail leaves signed (RSA + Ed25519) and verifies",
            t_trusted_mail_leaves_signed)
    R.check("other mail is not signed, dkim=none", t_other_mail_not_signed_by_us)
    if dns:
        R.check("inbound signed mail gets dkim=pass", t_inbound_signed_passes)
        R.check("inbound simple/simple over odd folding gets dkim=pass",
                t_inbound_simple_canon_passes)
        R.check("inbound mail with a changed body gets dkim=fail",
                t_inbound_body_changed_fails)
    else:
        print("SKIP: inbound verification through Postfix needs nsd")
finally:
    pf.stop()
    milter.stop()
    if dns:
        dns.stop()
    work.cleanup()
R.exit()
