#!/usr/bin/env python3
"""config_lint.py - what `config -n`, `rules check`, `symbols`, `spf` and
`dns` tell an operator about a configuration (issue 14, items 3-6).

Every case writes its own configuration, rule and zone files into a
temporary directory; nothing is read from the host's installation.
Environment (set by `make check`): MAILWARDEN.  Call by hand:

    MAILWARDEN=./mailwarden python3 tests/integration/config_lint.py
"""

import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import mwtest  # noqa: E402

MW = os.environ.get("MAILWARDEN", "./mailwarden")


def run(*args):
    p = subprocess.run([MW, *args], capture_output=True, timeout=120)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def expect(cond, what, detail=""):
    assert cond, what + (": " + detail[:3000] if detail else "")


def write(d, name, text):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(text)
    return path


ZONE = """$ORIGIN example.org.
$TTL 300
@ IN SOA ns hostmaster 1 3600 600 86400 300
@ IN TXT "v=spf1 ip4:192.0.2.1 -all"
"""


def base_conf(d, extra=""):
    """No rule directory, no host files: every engine named explicitly."""
    return write(d, "c.conf", "rules_dir =\nrules_site_dir =\n"
                 "dns_servers = 127.0.0.1:9\n" + extra)


def test_zone_files_honoured(d):
    """Item 6: dns_zone_files from -c, not the network."""
    zone = write(d, "z.zone", ZONE)
    conf = base_conf(d, "dns_zone_files = %s\n" % zone)
    rc, out, err = run("spf", "-c", conf, "--ip", "192.0.2.1", "--helo", "example.org")
    expect(rc == 0 and "result: pass" in out, "spf -c uses dns_zone_files", out + err)
    rc, out, err = run("spf", "-c", conf, "--ip", "192.0.2.9", "--helo", "example.org")
    expect("result: fail" in out, "spf -c zone: another address fails", out + err)
    rc, out, err = run("dns", "-c", conf, "example.org", "TXT")
    expect(rc == 0 and "TXT ok" in out and "v=spf1 ip4:192.0.2.1 -all" in out,
           "dns -c uses dns_zone_files", out + err)
    rc, out, err = run("dns", "-c", conf, "nothere.example.org", "A")
    expect("nxdomain" in out, "dns -c zone: a name outside is nxdomain", out + err)


TESTS = (test_zone_files_honoured,)


def main():
    if not os.path.exists(MW):
        print("mailwarden binary not found: " + MW)
        return 77
    r = mwtest.Results()
    with tempfile.TemporaryDirectory() as d:
        for t in TESTS:
            sub = os.path.join(d, t.__name__)
            os.mkdir(sub)
            r.check(t.__name__, lambda t=t, sub=sub: t(sub))
    r.exit()


if __name__ == "__main__":
    sys.exit(main())
