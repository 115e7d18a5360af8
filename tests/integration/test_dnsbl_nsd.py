#!/usr/bin/env python3
"""DNS blocklists against a real DNS server.

nsd serves a client blocklist zone and a URI blocklist zone written here
(through tests/integration/dnsserver.py, the DNS layer's launcher);
`mailwarden scan --json` (the milter's own pipeline) is pointed at it
with dns_servers and must turn listings into the configured symbols,
refuse for a :reject entry, treat a 127.0.0.1 "query refused" answer as
an error and not a listing, and mark a zone the server refuses as
degraded.

Needs the DNS layer's resolver backends (dns_servers) and its nsd
launcher; where the build has them not yet, the test is skipped (77).
"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mwtest  # noqa: E402

try:
    from dnsserver import NSD, skip_unless_nsd  # noqa: E402
except ImportError:
    print("SKIP: tests/integration/dnsserver.py (the DNS layer's nsd "
          "launcher) is not in this tree yet")
    sys.exit(mwtest.SKIP)
skip_unless_nsd()
ref = subprocess.run([mwtest.MAILWARDEN, "config", "--reference"],
                     stdout=subprocess.PIPE, universal_newlines=True).stdout
if "dns_servers" not in ref:
    print("SKIP: this build has no DNS resolver backend (dns_servers); "
          "the blocklist logic is covered by check_dnsbl with a fake backend")
    sys.exit(mwtest.SKIP)


def nibbles(ip6_hex32):
    return ".".join(reversed(ip6_hex32))


work = mwtest.Workdir(prefix="mw-dnsbl-")
V6 = "20010db8000000000000000000000099"          # 2001:db8::99
srv = NSD({
    "bl.test": "99.2.0.192 IN A 127.0.0.2\n"
               "98.2.0.192 IN A 127.0.0.4\n"
               "97.2.0.192 IN A 127.0.0.1\n"
               "96.2.0.192 IN A 127.0.0.2\n"
               "96.2.0.192 IN A 127.0.0.4\n"
               "%s IN A 127.0.0.3\n" % nibbles(V6),
    "uribl.test": "spam-domain.example IN A 127.0.0.2\n"
                  "refused-domain.example IN A 127.0.0.1\n",
    "ipuri.test": "1.2.0.192 IN A 127.0.0.8\n",
}).start()

conf = {
    "log_file": "",
    "rules_dir": "",
    "rules_site_dir": "",
    "dns_servers": srv.addr,
    "dnsbl": "bl.test/127.0.0.2-127.0.0.3=RBL_TEST_SBL:3 "
             "bl.test/127.0.0.4=RBL_TEST_XBL:2:reject "
             "missing.test/127.0.0.2=RBL_MISSING:1",
    "uribl": "uribl.test/127.0.0.2=URIBL_TEST:4 ipuri.test/&8=URIBL_IP_TEST:1:ip",
}
for key, off in (("dmarc", "no"), ("spf", "no"), ("dkim", "no")):
    if "\n" + key + " " in "\n" + ref or ("`%s`" % key) in ref:
        conf[key] = off
path = work.write("mw.conf", "".join("%s = %s\n" % kv for kv in conf.items()))

MSG = """From: a@sender.example
To: b@rcpt.example
Subject: test
Message-ID: <{n}@sender.example>
Content-Type: text/html

<p>See <a href="http://www.spam-domain.example/x">this</a> and
<a href="http://refused-domain.example/">that</a> and http://clean.example/
and <a href="http://3221225985/login">your bank</a></p>
"""
R = mwtest.Results()


def scan(ip, n=0):
    mpath = work.write("m%d.eml" % n, MSG.format(n=n))
    return mwtest.scan_json(path, mpath, ip, "a@sender.example")


syms = mwtest.symbols


def t_listed_client_and_uri():
    v = scan("192.0.2.99", 1)
    s = syms(v)
    assert s["RBL_TEST_SBL"]["score"] == 3, s
    assert "bl.test" in s["RBL_TEST_SBL"]["detail"], s
    assert s["URIBL_TEST"]["score"] == 4, s
    assert "spam-domain.example" in s["URIBL_TEST"]["detail"], s
    # http://3221225985/ is 192.0.2.1, looked up as 1.2.0.192.ipuri.test
    assert "192.0.2.1 listed in ipuri.test" in s["URIBL_IP_TEST"]["detail"], s
    assert "RBL_TEST_XBL" not in s
    assert v["action"] == "tag", v["action"]


def t_reject_entry():
    v = scan("192.0.2.98", 2)
    assert v["action"] == "reject", v
    assert "bl.test" in v["reply"], v["reply"]


def t_two_records_two_symbols():
    s = syms(scan("192.0.2.96", 3))
    assert "RBL_TEST_SBL" in s and "RBL_TEST_XBL" in s, s


def t_refused_answers_are_errors():
    v = scan("192.0.2.97", 4)
    s = syms(v)
    assert "RBL_TEST_SBL" not in s and "RBL_TEST_XBL" not in s, s
    assert "DNSBL_ERROR" in s and "127.0.0.1" in s["DNSBL_ERROR"]["detail"], s
    assert "refused-domain" not in json.dumps(s.get("URIBL_TEST", {}))
    assert v["dns_degraded"] is True


def t_zone_not_served_is_degraded():
    v = scan("192.0.2.50", 5)
    s = syms(v)
    assert "RBL_MISSING" not in s, s
    assert "DNSBL_DEGRADED" in s and "missing.test" in s["DNSBL_DEGRADED"]["detail"], s
    assert v["dns_degraded"] is True


def t_ipv6_client():
    s = syms(scan("2001:db8::99", 6))
    assert "RBL_TEST_SBL" in s, s


try:
    R.check("listed client and URI domain", t_listed_client_and_uri)
    R.check(":reject entry refuses", t_reject_entry)
    R.check("two A records give two symbols", t_two_records_two_symbols)
    R.check("127.0.0.1 answers are errors, not listings", t_refused_answers_are_errors)
    R.check("a zone the server refuses is degraded", t_zone_not_served_is_degraded)
    R.check("IPv6 client in nibble form", t_ipv6_client)
finally:
    if R.failed:
        print("---- nsd log ----\n" + (srv.log() or "")[-3000:])
    srv.stop()
    work.cleanup()
R.exit()
