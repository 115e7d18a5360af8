#!/usr/bin/env python3
"""DNS allowlists, sender-domain lists, hashed address lists and the
authentication-gated allowlists against a real DNS server.

nsd serves a DNSWL-style zone, a DBL-style zone, an HBL-style zone and the
SPF record of a listed sender's domain (tests/integration/dnsserver.py);
`mailwarden scan --json` (the milter's own pipeline) is pointed at it with
dns_servers.  For each list: a listed case gives the configured symbol, an
unlisted case gives none, and a refused-code answer is an error, never a
listing or an allowance.  The welcomelist_auth sender gets its allowance
when SPF passes for its domain or a DKIM signature of its domain (served
by nsd, made by `mailwarden dkim`) verifies, and not when a forged From
(or a forged envelope sender) names it without authentication.

The HBL query names are computed here with Python's hashlib, independently
of the C code under test.
"""

import hashlib
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mwtest  # noqa: E402

try:
    from dnsserver import NSD, skip_unless_nsd  # noqa: E402
except ImportError:
    print("SKIP: tests/integration/dnsserver.py is not in this tree")
    sys.exit(mwtest.SKIP)
skip_unless_nsd()


def sha1(address):
    return hashlib.sha1(address.lower().encode()).hexdigest()


work = mwtest.Workdir(prefix="mw-dnsrep-")
KEY = os.path.join(work.path, "s1.key")
r = subprocess.run([mwtest.MAILWARDEN, "dkim", "keygen", "--type", "ed25519",
                    "--domain", "partner.test", "--selector", "s1", "--out",
                    KEY], stdout=subprocess.PIPE, universal_newlines=True)
assert r.returncode == 0
DKIM_RECORD = "".join(re.findall(r'"([^"]*)"', r.stdout))
srv = NSD({
    # DNSWL: 127.0.CATEGORY.TRUST; 127.0.0.255 is "query refused"
    "wl.test": "88.2.0.192 IN A 127.0.10.3\n"
               "87.2.0.192 IN A 127.0.0.255\n"
               "85.2.0.192 IN A 127.0.15.1\n",
    "dbl.test": "listed-sender.example IN A 127.0.1.2\n"
                "listed-helo.example IN A 127.0.1.2\n"
                "partner.test IN A 127.0.1.2\n"
                "refused-sender.example IN A 127.255.255.254\n",
    "hbl.test": "%s IN A 127.0.3.2\n" % sha1("Spammer@HBL-sender.example") +
                "%s IN A 127.255.255.252\n" % sha1("refused@hbl-sender.example"),
    "partner.test": '@ IN TXT "v=spf1 ip4:192.0.2.0/25 -all"\n'
                    's1._domainkey IN TXT "%s"\n' % DKIM_RECORD,
}).start()

lists = work.write("welcome.list", "# test\nboss@partner.test\n")
dkim_list = work.write("dkim.list", "partner.test\n")
conf = {
    "log_file": "",
    "rules_dir": "",
    "rules_site_dir": "",
    "dns_servers": srv.addr,
    "dmarc": "no",
    "dkim_verify": "yes",
    "spf": "yes",
    "dmarc_psl_file": os.path.join(mwtest.SRCDIR, "tests/data/dnsbl/psl.dat"),
    "dnswl": "wl.test/127.0.*.3=TEST_DNSWL_HI:-5 "
             "wl.test/127.0.*.1=TEST_DNSWL_LOW:-1",
    "dbl": "dbl.test/127.0.1.2=TEST_DBL_SENDER:3:envfrom:from "
           "dbl.test/127.0.1.2=TEST_DBL_HELO:1:helo "
           "dbl.test/127.0.1.2=TEST_DBL_DKIM:0.5:dkim "
           "hbl.test/127.0.3.2=TEST_HBL:4:envfrom:from:hashed",
    "welcomelist_auth": lists,
    "dkim_allowlist": dkim_list,
}
path = work.write("mw.conf", "".join("%s = %s\n" % kv for kv in conf.items()))

MSG = """From: {hfrom}
To: b@rcpt.example
Subject: test
Message-ID: <{n}@sender.example>

hello
"""
R = mwtest.Results()
counter = [0]


def scan(ip, mfrom, hfrom=None, helo="mx.clean.example", sign=False):
    counter[0] += 1
    n = counter[0]
    mpath = work.write("m%d.eml" % n, MSG.format(n=n, hfrom=hfrom or mfrom))
    if sign:
        r = subprocess.run([mwtest.MAILWARDEN, "dkim", "sign", "-k",
                            "partner.test:s1:" + KEY, mpath],
                           stdout=subprocess.PIPE, universal_newlines=True)
        assert r.returncode == 0 and "DKIM-Signature:" in r.stdout
        mpath = work.write("m%d.signed.eml" % n, r.stdout)
    return mwtest.scan_json(path, mpath, ip, mfrom, helo=helo)


syms = mwtest.symbols


def assert_refused(v, name, code):
    """an error answer: no symbol name, DNSBL_ERROR naming code, degraded"""
    s = syms(v)
    assert not any(k.startswith(name) for k in s), s
    assert "DNSBL_ERROR" in s and code in s["DNSBL_ERROR"]["detail"], s
    assert v["dns_degraded"] is True


def t_dnswl_listed():
    s = syms(scan("192.0.2.88", "a@clean.example"))
    assert s["TEST_DNSWL_HI"]["score"] == -5, s
    assert "TEST_DNSWL_LOW" not in s, s
    assert syms(scan("192.0.2.85", "a@clean.example"))[
        "TEST_DNSWL_LOW"]["score"] == -1


def t_dnswl_unlisted():
    v = scan("192.0.2.86", "a@clean.example")
    s = syms(v)
    assert not any(k.startswith("TEST_DNSWL") for k in s), s


def t_dnswl_refused():
    assert_refused(scan("192.0.2.87", "a@clean.example"), "TEST_DNSWL",
                   "127.0.0.255")


def t_dbl_listed():
    s = syms(scan("192.0.2.86", "x@mail.listed-sender.example",
                  helo="mx1.listed-helo.example"))
    assert s["TEST_DBL_SENDER"]["score"] == 3, s
    assert "listed-sender.example (envfrom, from) listed in dbl.test" in \
        s["TEST_DBL_SENDER"]["detail"], s
    assert "TEST_DBL_HELO" in s, s


def t_dbl_from_only():
    s = syms(scan("192.0.2.86", "a@clean.example",
                  hfrom="Boss <boss@listed-sender.example>"))
    assert "TEST_DBL_SENDER" in s, s
    assert "TEST_DBL_HELO" not in s, s


def t_dbl_unlisted():
    s = syms(scan("192.0.2.86", "a@clean.example", helo="[192.0.2.86]"))
    assert not any(k.startswith("TEST_DBL") for k in s), s


def t_dbl_refused():
    assert_refused(scan("192.0.2.86", "a@refused-sender.example"),
                   "TEST_DBL", "127.255.255.254")


def t_hbl_listed():
    s = syms(scan("192.0.2.86", "a@clean.example",
                  hfrom="<spammer@hbl-sender.example>"))
    assert s["TEST_HBL"]["score"] == 4, s
    assert "spammer@hbl-sender.example (from) listed in hbl.test" in \
        s["TEST_HBL"]["detail"], s


def t_hbl_unlisted():
    s = syms(scan("192.0.2.86", "clean@hbl-sender.example"))
    assert "TEST_HBL" not in s, s


def t_hbl_refused():
    assert_refused(scan("192.0.2.86", "refused@hbl-sender.example"),
                   "TEST_HBL", "127.255.255.252")


def t_welcome_spf_pass():
    s = syms(scan("192.0.2.10", "boss@partner.test"))
    assert "SPF_PASS" in s, s
    assert s["WELCOMELIST_AUTH"]["score"] == -10, s
    assert "authenticated by SPF" in s["WELCOMELIST_AUTH"]["detail"], s
    # the same listing scores the envelope sender, but without a
    # signature not the DKIM identity
    assert "TEST_DBL_SENDER" in s and "TEST_DBL_DKIM" not in s, s


def t_welcome_dkim():
    # an ESP's envelope sender, the From signed by partner.test itself
    s = syms(scan("198.51.100.7", "bounce@esp.example",
                  hfrom="The Boss <boss@partner.test>", sign=True))
    assert "SPF_PASS" not in s, s
    assert "authenticated by DKIM" in s["WELCOMELIST_AUTH"]["detail"], s
    assert s["DKIM_ALLOWLIST"]["score"] == -5, s
    # the d= of the valid signature is asked in the :dkim entry's zone
    assert "partner.test (from, dkim) listed in dbl.test" in s["TEST_DBL_DKIM"]["detail"], s


def t_welcome_one_verdict():
    # envelope sender listed but SPF fails, From signed: allowed once,
    # and not also called unverified
    s = syms(scan("192.0.2.200", "boss@partner.test", sign=True))
    assert "authenticated by DKIM" in s["WELCOMELIST_AUTH"]["detail"], s
    assert "WELCOMELIST_AUTH_UNVERIFIED" not in s, s


def t_welcome_forged_from():
    s = syms(scan("192.0.2.10", "someone@clean.example",
                  hfrom="The Boss <boss@partner.test>"))
    assert "WELCOMELIST_AUTH" not in s, s
    assert "DKIM_ALLOWLIST" not in s, s
    assert s["WELCOMELIST_AUTH_UNVERIFIED"]["score"] == 0, s


def t_welcome_forged_envelope():
    # outside the SPF record's 192.0.2.0/25: SPF fails, nothing allowed
    s = syms(scan("192.0.2.200", "boss@partner.test"))
    assert "WELCOMELIST_AUTH" not in s, s
    assert "WELCOMELIST_AUTH_UNVERIFIED" in s, s


try:
    R.check("DNSWL listing lowers the score", t_dnswl_listed)
    R.check("DNSWL unlisted: no symbol", t_dnswl_unlisted)
    R.check("DNSWL 127.0.0.255 is an error, no allowance", t_dnswl_refused)
    R.check("DBL envelope sender and HELO listed", t_dbl_listed)
    R.check("DBL From domain listed", t_dbl_from_only)
    R.check("DBL unlisted and IP-literal HELO: no symbol", t_dbl_unlisted)
    R.check("DBL error code is not a listing", t_dbl_refused)
    R.check("HBL hashed From address listed", t_hbl_listed)
    R.check("HBL unlisted address", t_hbl_unlisted)
    R.check("HBL error code is not a listing", t_hbl_refused)
    R.check("welcomelist_auth: SPF pass allows", t_welcome_spf_pass)
    R.check("welcomelist_auth and dkim_allowlist: DKIM allows", t_welcome_dkim)
    R.check("welcomelist_auth: one verdict per message", t_welcome_one_verdict)
    R.check("welcomelist_auth: forged From gets nothing", t_welcome_forged_from)
    R.check("welcomelist_auth: SPF fail gets nothing", t_welcome_forged_envelope)
finally:
    if R.failed:
        print("---- nsd log ----\n" + (srv.log() or "")[-3000:])
    srv.stop()
    work.cleanup()
R.exit()
