#!/usr/bin/env python3
"""`mailwarden dkim testkey` against a real DNS server (nsd).

Like opendkim-testkey: for every signing key of the configuration
(dkim_sign_domains) the command fetches selector._domainkey.domain
through the configured resolver (dns_servers = the nsd) and says
whether the published key is the private key.  nsd serves a matching
RSA key, a mismatched one, an Ed25519 key with t=y, none for a fourth
key, and records with the other faults the command must name: h=
without sha256, k= of the wrong type, a key under 1024 bits (refused,
RFC 8301) and under 2048 (warned), a revoked and a malformed record.
Exit status: 0 when every key passes (warnings allowed), 1 when one
fails, 2 for usage and configuration errors.
"""

import base64
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsserver  # noqa: E402
import mwtest  # noqa: E402

dnsserver.skip_unless_nsd()
MW = mwtest.MAILWARDEN
OPENSSL = "openssl"

R = mwtest.Results()
work = mwtest.Workdir(prefix="mw-testkey-")
os.chmod(work.path, 0o700)


def run(*args):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=120)


def keygen(name, domain, selector, kind="rsa", bits=2048):
    """A private key file and the record keygen prints for it."""
    path = os.path.join(work.path, name + ".key")
    p = run(MW, "dkim", "keygen", "--type", kind, "--bits", str(bits), "--domain",
            domain, "--selector", selector, "--out", path)
    assert p.returncode == 0, p.stderr
    return path, "".join(re.findall(r'"([^"]*)"', p.stdout))


def rsa512_record():
    """A 512-bit RSA public key record (keygen refuses such keys)."""
    pem = run(OPENSSL, "genrsa", "512").stdout
    der = subprocess.run([OPENSSL, "rsa", "-pubout", "-outform", "DER"], input=pem.encode(),
                         capture_output=True, timeout=60).stdout
    assert der, "openssl could not make a 512-bit key"
    return "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()


def txt(s):
    return " ".join('"%s"' % s[i:i + 250] for i in range(0, len(s), 250))


good, good_rec = keygen("good", "good.test", "s1")
bad, _ = keygen("bad", "bad.test", "s1")
_, other_rec = keygen("other", "other.test", "s1")
ed, ed_rec = keygen("ed", "ed.test", "ed", kind="ed25519")
gone, _ = keygen("gone", "gone.test", "s1")
hsha1, hsha1_rec = keygen("hsha1", "faults.test", "hsha1")
ktype, ktype_rec = keygen("ktype", "faults.test", "ktype", kind="ed25519")
short, short_rec = keygen("short", "faults.test", "short", bits=1024)
tiny, _ = keygen("tiny", "faults.test", "tiny", bits=1024)
revoked, _ = keygen("revoked", "faults.test", "revoked")
broken, _ = keygen("broken", "faults.test", "broken")

ZONES = {
    "good.test": "s1._domainkey TXT %s\n" % txt(good_rec),
    "bad.test": "s1._domainkey TXT %s\n" % txt(other_rec),
    "ed.test": "ed._domainkey TXT %s\n" % txt(ed_rec + "; t=y"),
    "gone.test": "www A 192.0.2.1\n",
    "faults.test": "\n".join([
        "hsha1._domainkey TXT %s" % txt(hsha1_rec.replace("k=rsa;", "k=rsa; h=sha1;")),
        "ktype._domainkey TXT %s" % txt(ktype_rec.replace("k=ed25519", "k=rsa")),
        "short._domainkey TXT %s" % txt(short_rec),
        "tiny._domainkey TXT %s" % txt(rsa512_record()),
        'revoked._domainkey TXT "v=DKIM1; k=rsa; p="',
        'broken._domainkey TXT "v=DKIM1; k=rsa; p=MIIB; p=again"',
    ]) + "\n",
}
assert "h=sha1" in ZONES["faults.test"] and "k=rsa" in ZONES["faults.test"]
ns = dnsserver.NSD(ZONES).start()


def conf(name, *keys):
    return work.write(name, "log_file =\nrules_dir =\nrules_site_dir =\n"
                      "dns_servers = %s\ndkim_sign_domains = %s\n" % (ns.addr, " ".join(keys)))


FOUR = conf("four.conf", "good.test:s1:" + good, "bad.test:s1:" + bad,
            "ed.test:ed:" + ed, "gone.test:s1:" + gone)
FAULTS = conf("faults.conf", *["faults.test:%s:%s" % (s, p) for s, p in (
    ("hsha1", hsha1), ("ktype", ktype), ("short", short), ("tiny", tiny),
    ("revoked", revoked), ("broken", broken))])
PASSING = conf("passing.conf", "good.test:s1:" + good, "ed.test:ed:" + ed)


def testkey(path):
    return run(MW, "dkim", "testkey", "-c", path)


def sections(out):
    """{selector.domain: the text of that key's section}"""
    parts = re.split(r"^key (\S+) selector (\S+): ", out, flags=re.M)
    return {"%s.%s" % (parts[i + 1], parts[i]): parts[i + 2]
            for i in range(1, len(parts) - 2, 3)}


def t_four_keys():
    p = testkey(FOUR)
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    s = sections(p.stdout)
    assert sorted(s) == ["ed.ed.test", "s1.bad.test", "s1.gone.test", "s1.good.test"], s
    g = s["s1.good.test"]
    assert "query s1._domainkey.good.test TXT ok" in g, g
    assert "public key: matches the private key (2048 bits)" in g, g
    assert "  result: ok\n" in g and "error" not in g and "warning" not in g, g
    b = s["s1.bad.test"]
    assert "public key: does NOT match the private key" in b, b
    assert "error: the published public key does not match the private key in %s" % bad in b, b
    assert "  result: FAIL\n" in b, b
    e = s["ed.ed.test"]
    assert "(ed25519-sha256, 256 bits)" in e, e
    assert "public key: matches the private key" in e, e
    assert "warning: t=y: the domain is testing DKIM" in e, e
    assert "  result: ok, with warnings\n" in e, e
    m = s["s1.gone.test"]
    assert "query s1._domainkey.gone.test TXT nxdomain" in m, m
    assert "error: no key record is published at s1._domainkey.gone.test (nxdomain)" in m, m
    assert "  result: FAIL\n" in m, m
    assert p.stdout.rstrip().endswith("4 key(s): 1 ok, 1 with warnings, 2 failed"), p.stdout


def t_warnings_alone_pass():
    p = testkey(PASSING)
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    assert "2 key(s): 1 ok, 1 with warnings, 0 failed" in p.stdout, p.stdout


def t_record_faults_named():
    p = testkey(FAULTS)
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    s = sections(p.stdout)
    assert len(s) == 6, s
    assert "error: h= does not list sha256" in s["hsha1.faults.test"], s["hsha1.faults.test"]
    assert "FAIL" in s["hsha1.faults.test"]
    k = s["ktype.faults.test"]
    assert "error: the record has k=rsa (given), but the private key is ed25519" in k, k
    sh = s["short.faults.test"]
    assert "matches the private key (1024 bits)" in sh, sh
    assert "warning: RSA key of 1024 bits: RFC 8301 asks for 2048 bits or more" in sh, sh
    assert "  result: ok, with warnings\n" in sh, sh
    t = s["tiny.faults.test"]
    assert "error: RSA key of 512 bits: verifiers refuse keys under 1024 bits" in t, t
    assert "does NOT match" in t, t
    assert "error: unusable record: key revoked (empty p=)" in s["revoked.faults.test"], \
        s["revoked.faults.test"]
    br = s["broken.faults.test"]
    assert re.search(r"error: (record syntax|unusable record): .*(duplicate|p=)", br), br
    assert "6 key(s): 0 ok, 1 with warnings, 5 failed" in p.stdout, p.stdout


def t_usage_and_configuration():
    none = work.write("none.conf", "log_file =\nrules_dir =\nrules_site_dir =\n"
                      "dns_servers = %s\n" % ns.addr)
    p = testkey(none)
    assert p.returncode == 2 and "no signing keys" in p.stderr, (p.returncode, p.stderr)
    p = run(MW, "dkim", "testkey", "-c", FOUR, "extra")
    assert p.returncode == 2, p.returncode
    p = run(MW, "dkim", "testkey", "--help")
    assert p.returncode == 0 and "testkey" in p.stdout, p.stdout


try:
    for name, fn in [
            ("matching, mismatched, t=y and missing keys", t_four_keys),
            ("warnings alone: exit 0", t_warnings_alone_pass),
            ("h=, k=, short, tiny, revoked, malformed records", t_record_faults_named),
            ("usage and configuration errors", t_usage_and_configuration)]:
        R.check(name, fn)
finally:
    ns.stop()
    work.cleanup()
R.exit()
