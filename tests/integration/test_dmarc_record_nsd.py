#!/usr/bin/env python3
"""`mailwarden dmarc record DOMAIN` against a real DNS server (nsd).

The command must find a domain's DMARC policy the way the milter does:
through the resolver built from the configuration (dns_servers here,
dns_zone_files once), by the RFC 9989 tree walk or, with
dmarc_org_domain = psl, by the Public Suffix List; and print each query
with its answer, the record, where it was found, every tag's effective
value, the problems in the record, and the policy.  `--text` still
reads a record given on the command line.
"""

import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsserver  # noqa: E402
import mwtest  # noqa: E402

dnsserver.skip_unless_nsd()
MW = mwtest.MAILWARDEN

ZONES = {
    "test": "",
    "example.test": """
_dmarc     TXT "v=DMARC1; p=reject; sp=quarantine; np=reject; rua=mailto:d@example.test,nonsense; foo=1"
www        A   192.0.2.1
b          A   192.0.2.2
a.b        A   192.0.2.3
own        A   192.0.2.4
_dmarc.own TXT "v=DMARC1; p=reject; t=y"
""",
    "psd.test": """
_dmarc     TXT "v=DMARC1; p=quarantine; psd=y"
a.shop     A   192.0.2.5
""",
    "bad.test": """
_dmarc     TXT "v=DMARC1; p=rejct"
""",
}

R = mwtest.Results()
work = mwtest.Workdir(prefix="mw-dmarc-record-")
ns = dnsserver.NSD(ZONES).start()
BASE = "log_file =\nrules_dir =\nrules_site_dir =\ndns_servers = %s\n" % ns.addr
conf = work.write("mw.conf", BASE)
psl = work.write("psl.dat", "// test list\ntest\n")
conf_psl = work.write("psl.conf", BASE + "dmarc_org_domain = psl\n"
                      "dmarc_psl_file = %s\n" % psl)
# the milter's check off: the command still uses the list
conf_psl_off = work.write("psl-off.conf", BASE + "dmarc = no\ndmarc_org_domain = psl\n"
                          "dmarc_psl_file = %s\n" % psl)
zone = work.write("zone.db", '$ORIGIN zf.test.\n_dmarc IN TXT "v=DMARC1; p=none"\n'
                  'www IN A 192.0.2.9\n')
conf_zone = work.write("zone.conf", "log_file =\nrules_dir =\nrules_site_dir =\n"
                       "dns_zone_files = %s\n" % zone)


def record(*args):
    return subprocess.run([MW, "dmarc", "record"] + list(args), capture_output=True,
                          text=True, timeout=60)


def queries(out):
    """The (name, status) of every query line, in order."""
    return [(m.group(2), m.group(3)) for m in
            re.finditer(r"^query (\(cached\) )?(\S+) TXT (\S+)", out, re.M)]


def field(out, name):
    m = re.search(r"^%s: (.*)$" % re.escape(name), out, re.M)
    assert m, "no %r line in %s" % (name, out)
    return m.group(1)


def t_tree_walk_prints_every_query():
    p = record("-c", conf, "A.B.Example.Test")
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    q = queries(p.stdout)
    walk = q[:4]
    assert walk == [("_dmarc.a.b.example.test", "nxdomain"),
                    ("_dmarc.b.example.test", "nxdomain"),
                    ("_dmarc.example.test", "ok"),
                    ("_dmarc.test", "nxdomain")], q
    assert "v=DMARC1; p=reject; sp=quarantine" in p.stdout.split("_dmarc.example.test TXT ok")[1]
    assert field(p.stdout, "domain") == "a.b.example.test"
    assert field(p.stdout, "method").startswith("DNS tree walk")
    assert field(p.stdout, "found at") == \
        "_dmarc.example.test (the record of its organizational domain)", p.stdout
    assert field(p.stdout, "organizational domain") == "example.test"
    assert field(p.stdout, "record").startswith("v=DMARC1; p=reject; sp=quarantine; np=reject")
    for tag in ("p=reject", "sp=quarantine", "np=reject", "adkim=r", "aspf=r", "t=n",
                "psd=u", "fo=0", "rua=mailto:d@example.test", "ruf=(none)"):
        assert re.search(r"^  %s$" % re.escape(tag), p.stdout, re.M), (tag, p.stdout)
    assert "unknown tag ignored: 'foo=1'" in p.stdout, p.stdout
    assert "rua: not a URI, ignored: 'nonsense'" in p.stdout, p.stdout
    assert "fails DMARC: sp=quarantine" in p.stdout, p.stdout


def t_own_record_with_testing():
    p = record("-c", conf, "own.example.test")
    assert p.returncode == 0, p.stdout + p.stderr
    assert queries(p.stdout)[0] == ("_dmarc.own.example.test", "ok"), p.stdout
    assert field(p.stdout, "found at") == "_dmarc.own.example.test (the domain's own record)"
    assert "p=reject (t=y: quarantine applied)" in p.stdout, p.stdout


def t_nonexistent_subdomain_gets_np():
    p = record("-c", conf, "gone.example.test")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "np=reject (the domain does not exist)" in p.stdout, p.stdout
    p = record("-c", conf, "www.example.test")
    assert "fails DMARC: sp=quarantine\n" in p.stdout, p.stdout


def t_public_suffix_domain_record():
    p = record("-c", conf, "a.shop.psd.test")
    assert p.returncode == 0, p.stdout + p.stderr
    assert field(p.stdout, "found at") == \
        "_dmarc.psd.test (the record of a public suffix domain above it)", p.stdout
    assert field(p.stdout, "organizational domain") == "shop.psd.test", p.stdout
    assert "  psd=y\n" in p.stdout


def t_psl_mode_asks_only_the_registrable_domain():
    for c in (conf_psl, conf_psl_off):
        p = record("-c", c, "a.b.example.test")
        assert p.returncode == 0, p.stdout + p.stderr
        assert field(p.stdout, "method").startswith("Public Suffix List")
        names = [n for n, _ in queries(p.stdout)]
        assert names[:2] == ["_dmarc.a.b.example.test", "_dmarc.example.test"], names
        assert "_dmarc.b.example.test" not in names and "_dmarc.test" not in names, names
        assert field(p.stdout, "found at").startswith("_dmarc.example.test "), p.stdout
        assert field(p.stdout, "organizational domain") == "example.test", p.stdout


def t_no_record_exits_1():
    p = record("-c", conf, "nothing.test")
    assert p.returncode == 1, p.stdout
    assert queries(p.stdout)[:2] == [("_dmarc.nothing.test", "nxdomain"),
                                     ("_dmarc.test", "nxdomain")], p.stdout
    assert field(p.stdout, "result") == "none: no DMARC record", p.stdout


def t_unusable_record_names_its_error():
    p = record("-c", conf, "bad.test")
    assert p.returncode == 1, p.stdout
    assert "p: not none, quarantine or reject: 'rejct'" in p.stdout, p.stdout
    assert field(p.stdout, "result").startswith("permerror: record at _dmarc.bad.test has a bad p")


def t_zone_files_of_the_configuration():
    p = record("-c", conf_zone, "www.zf.test")
    assert p.returncode == 0, p.stdout + p.stderr
    assert ("_dmarc.zf.test", "ok") in queries(p.stdout), p.stdout
    assert "fails DMARC: p=none" in p.stdout, p.stdout


def t_text_is_still_parsed():
    p = record("--text", "v=DMARC1; p=quarantine; adkim=s; ri=3600")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "query" not in p.stdout
    assert "  p=quarantine\n" in p.stdout and "  adkim=s\n" in p.stdout, p.stdout
    assert "tag removed by RFC 9989, ignored: 'ri=3600'" in p.stdout, p.stdout
    p = record("--text", "p=none; v=DMARC1")
    assert p.returncode == 1 and "v=DMARC1 must come first" in p.stdout, p.stdout


def t_usage_errors():
    assert record().returncode == 2
    assert record("-c", conf, "a.example", "b.example").returncode == 2
    p = record("-c", conf, "bad..name")
    assert p.returncode == 2 and "not a domain name" in p.stderr, p.stderr


try:
    for name, fn in [
            ("tree walk: every query, record, tags, problems", t_tree_walk_prints_every_query),
            ("the domain's own record, t=y", t_own_record_with_testing),
            ("np for a domain that does not exist", t_nonexistent_subdomain_gets_np),
            ("record of a public suffix domain (psd=y)", t_public_suffix_domain_record),
            ("dmarc_org_domain = psl", t_psl_mode_asks_only_the_registrable_domain),
            ("no record: exit 1", t_no_record_exits_1),
            ("unusable record: its error named", t_unusable_record_names_its_error),
            ("dns_zone_files of the configuration", t_zone_files_of_the_configuration),
            ("--text", t_text_is_still_parsed),
            ("usage errors", t_usage_errors)]:
        R.check(name, fn)
finally:
    ns.stop()
    work.cleanup()
R.exit()
