#!/usr/bin/env python3
"""demo.py - the main job end to end on the default configuration.

Starts a private DNS server (nsd) and a private Postfix on loopback ports
with mailwarden attached (default configuration; only the socket, log,
list paths and DNS server point into the demo), sends every message in
contrib/samples/ through it over SMTP, and prints each verdict and what
was delivered.
"""

import email.parser
import email.utils
import json
import os
import subprocess
import sys

top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(top, "tests", "integration"))
os.environ.setdefault("MAILWARDEN", os.path.join(top, "mailwarden"))
import dnsserver  # noqa: E402
import mwtest  # noqa: E402

try:
    import dkim      # Debian python3-dkim (dkimpy)
except ImportError:  # the demo still runs, without a signed sample
    dkim = None

# What the demo's DNS server (a private nsd on loopback) publishes for the
# sample senders: SPF and DMARC records, as their owners would.
ZONES = {
    # top-level zones, so that the DMARC tree walk gets NXDOMAIN as it
    # would from the real DNS (a server that is not authoritative refuses)
    "com": "", "org": "", "net": "", "example": "",
    "example.org": '''
        @       TXT "v=spf1 ip4:192.0.2.0/24 -all"
        _dmarc  TXT "v=DMARC1; p=none; rua=mailto:dmarc@example.org"
        ''',
    "promo.example.com": '''
        @       TXT "v=spf1 ip4:203.0.113.0/24 -all"
        ''',
    "paypal.example": '''
        @       TXT "v=spf1 ip4:198.18.0.0/15 -all"
        _dmarc  TXT "v=DMARC1; p=reject"
        ''',
    "example.com": '''
        @       TXT "v=spf1 mx -all"
        @       MX  10 mx
        mx      A   192.0.2.66
        ''',
}

# client address and HELO each sample arrives from
ENVELOPES = {
    "ham-plain.eml": ("192.0.2.10", "mail.example.org"),
    "spam-pills.eml": ("198.51.100.23", "localhost"),
    "forged-authres.eml": ("203.0.113.9", "mx.paypal.example"),
    "blocked-client.eml": ("192.0.2.66", "mta.example.com"),
}


def main():
    if os.geteuid() != 0:
        sys.exit("run the demo as root (it starts a private Postfix)")
    if subprocess.run(["id", "mailwarden"], stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL).returncode != 0:
        subprocess.run(["useradd", "--system", "--no-create-home",
                        "--shell", "/usr/sbin/nologin", "mailwarden"], check=True)
    work = mwtest.Workdir("mw-demo-")
    # example.org signs its mail: a key made by `mailwarden dkim keygen`,
    # published in the demo DNS; the signing is done by dkimpy, an
    # independent implementation
    key = os.path.join(work.path, "demo.key")
    record = subprocess.run([os.environ["MAILWARDEN"], "dkim", "keygen", "--domain",
                             "example.org", "--selector", "demo", "--out", key],
                            stdout=subprocess.PIPE, universal_newlines=True,
                            check=True).stdout
    zones = dict(ZONES)
    zones["example.org"] += record.replace("demo._domainkey.example.org.", "demo._domainkey")
    ns = dnsserver.NSD(zones).start()
    run = work.sub("run", owner="mailwarden")
    log = os.path.join(work.sub("log", owner="mailwarden"), "verdicts.log")
    settings = {
        "socket": "unix:%s/mailwarden.sock" % run,
        "pid_file": "",
        "log_file": log,
        "authserv_id": "mx.mailwarden.test",
        "socket_mode": "0666",
        "dns_servers": ns.addr,
        # the shipped rules, from the source tree (make install puts
        # them in the default rules_dir)
        "rules_dir": os.path.join(top, "rules"),
    }
    for kind in ("client", "sender", "helo"):
        settings[kind + "_list"] = os.path.join(top, "contrib", "lists",
                                                kind + ".list.example")
    milter = mwtest.Milter(work, settings, name="mailwarden").start()
    pf = mwtest.Postfix(work, milter.postfix_spec()).start()
    try:
        samples = sorted(os.listdir(os.path.join(top, "contrib", "samples")))
        for name in samples:
            path = os.path.join(top, "contrib", "samples", name)
            with open(path, "rb") as f:
                data = f.read()
            if name == "ham-plain.eml" and dkim is not None:
                with open(key, "rb") as f:
                    data = dkim.sign(data.replace(b"\n", b"\r\n"), b"demo",
                                     b"example.org", f.read()) + data
            msg = email.parser.BytesParser().parsebytes(data, headersonly=True)
            sender = email.utils.parseaddr(msg.get("From", ""))[1] or "someone@example.org"
            ip, helo = ENVELOPES.get(name, ("192.0.2.10", "mail.example.org"))
            before = len(pf.delivered())
            r = mwtest.send(pf, sender, ["bob@example.net"], data, client_ip=ip,
                            client_name=helo, helo=helo)
            print("=" * 72)
            print("%s  from %s [%s], MAIL FROM <%s>" % (name, helo, ip, sender))
            print("  SMTP reply: %d %s" % (r.code, r.text))
            line = mwtest.wait_for(lambda: len(mwtest.read_log(log)) > samples.index(name)
                                   and mwtest.read_log(log)[samples.index(name)],
                                   what="verdict")
            print("  verdict:    %s, score %.1f" % (line["action"], line["score"]))
            for s in line["symbols"]:
                print("    %-22s %5.1f  %s" % (s["name"], s["score"], s.get("detail", "")))
            if r.code == 250:
                m = pf.wait_delivered(before + 1)[-1]
                for h in ("Authentication-Results", "X-Spam-Flag", "X-Spam-Score",
                          "X-Spam-Status", "Subject"):
                    for v in mwtest.header(m, h):
                        print("  delivered %s: %s" % (h, v))
        print("=" * 72)
        print("verdict log: %s" % log)
        with open(log) as f:
            sys.stdout.write(f.read())
    finally:
        pf.stop()
        milter.stop()
        ns.stop()
        if not os.environ.get("MW_KEEP"):
            work.cleanup()


if __name__ == "__main__":
    main()
