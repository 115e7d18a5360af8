#!/usr/bin/env python3
"""The ldns backend and SPF against a real DNS server (nsd) on loopback.

nsd serves zones this test writes (dnsserver.NSD, random 127.0.0.x and
port).  `mailwarden dns` proves the resolver: TXT/A/AAAA/MX/PTR answers,
CNAME chains inside and across zones, NXDOMAIN vs NODATA, REFUSED as
SERVFAIL, TCP fallback for a TXT record too large for UDP, a dead server
timing out within the configured time, failover to the next server.
`mailwarden scan` and `mailwarden spf` then evaluate SPF against it:
pass (ip4, mx, include), fail rejected with 550 5.7.23 and the domain's
explanation, the null sender checked as postmaster@HELO, and a dead
server giving temperror within dns_message_timeout (tempfail 451 4.4.3
or accept, as configured).
"""

import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsserver  # noqa: E402
import mwtest  # noqa: E402

dnsserver.skip_unless_nsd()
MW = mwtest.MAILWARDEN
BIG = " ".join('"%s"' % (chr(ord("a") + i % 26) * 250) for i in range(12))

ZONES = {
    "example.com": """
@       TXT   "v=spf1 ip4:192.0.2.0/28 mx include:_spf.example.net -all exp=why.example.com"
why     TXT   "%{i} is not allowed to send mail for %{d}"
@       MX    10 mx1
mx1     A     192.0.2.40
mx1     AAAA  2001:db8::10
alias   CNAME mx1
ext     CNAME target.example.net.
big     TXT   """ + BIG + """
helo    A     192.0.2.20
helo    TXT   "v=spf1 a -all"
down    TXT   "v=spf1 include:gone.example.net -all"
""",
    "example.net": """
_spf    TXT   "v=spf1 ip4:198.51.100.0/24 ~all"
target  A     192.0.2.99
""",
    "2.0.192.in-addr.arpa": """
40      PTR   mx1.example.com.
""",
}

R = mwtest.Results()
work = tempfile.mkdtemp(prefix="mw-dns-it-")
ns = dnsserver.NSD(ZONES).start()
dead = dnsserver.SilentServer().start()
# no command reads the host's configuration: -c with explicit paths
HERMETIC = ["rules_dir =", "rules_site_dir =", "scope_dir ="]
HCONF = os.path.join(work, "hermetic.conf")
with open(HCONF, "w") as f:
    f.write("\n".join(HERMETIC) + "\n")


def dns(*args, servers=None, timeout=1000, retries=0):
    cmd = [MW, "dns", "-c", HCONF, "--timeout", str(timeout), "--retries", str(retries)]
    for s in servers or [ns.addr]:
        cmd += ["--server", s]
    t0 = time.monotonic()
    p = subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=60)
    return p, (time.monotonic() - t0) * 1000


def first_line(p):
    return p.stdout.splitlines()[0] if p.stdout else ""


def expect(p, status, *records):
    head = first_line(p).split()
    assert len(head) >= 3 and head[2] == status, "got %r (stderr %r)" % (p.stdout, p.stderr)
    body = p.stdout.splitlines()[1:]
    for r in records:
        assert any(r in line for line in body), "no %r in %r" % (r, p.stdout)


def check_answers():
    p, _ = dns("example.com", "TXT")
    expect(p, "ok", "v=spf1 ip4:192.0.2.0/28 mx include:_spf.example.net")
    expect(dns("mx1.example.com", "A")[0], "ok", "192.0.2.40")
    expect(dns("mx1.example.com", "AAAA")[0], "ok", "2001:db8::10")
    expect(dns("example.com", "MX")[0], "ok", "10 mx1.example.com")
    expect(dns("40.2.0.192.in-addr.arpa", "PTR")[0], "ok", "mx1.example.com")


def check_cname():
    expect(dns("alias.example.com", "A")[0], "ok", "192.0.2.40")
    # the target is in another zone: nsd answers with the CNAME only and
    # the backend asks again for the target
    expect(dns("ext.example.com", "A")[0], "ok", "192.0.2.99")


def check_negative():
    p = dns("nope.example.com", "A")[0]
    expect(p, "nxdomain")
    assert "ttl=60" in first_line(p), first_line(p)      # SOA minimum
    expect(dns("mx1.example.com", "TXT")[0], "nodata")
    # nsd refuses names outside its zones: temporary, never "no record"
    expect(dns("www.other.test", "A")[0], "servfail")


def check_tcp_fallback():
    # over UDP without EDNS the server truncates: the answer needs TCP
    r = dnsserver.query(ns.addr, "big.example.com", 16)
    assert r is not None and r[2] & 0x0200, "server did not set TC: %r" % (r,)
    r = dnsserver.query(ns.addr, "big.example.com", 16, tcp=True)
    assert r is not None and r[1] == 1
    p = dns("big.example.com", "TXT")[0]
    expect(p, "ok", "strings=12 len=3000")


def check_dead_server_times_out():
    p, ms = dns("example.com", "TXT", servers=[dead.addr], timeout=300, retries=1)
    expect(p, "timeout")
    assert p.returncode == 1
    assert 550 <= ms < 1500, "took %.0f ms for 2 tries of 300 ms" % ms


def check_failover():
    p, ms = dns("example.com", "TXT", servers=[dead.addr, ns.addr], timeout=300)
    expect(p, "ok", "v=spf1")
    assert ms >= 290, "did not wait for the dead server (%.0f ms)" % ms


MSG = "From: a@example.com\r\nTo: b@example.net\r\nSubject: t\r\n\r\nhi\r\n"


def scan(conf_extra, ip, sender, helo="client.example.org", servers=None):
    conf = os.path.join(work, "mw.conf")
    lines = ["dns_servers = %s" % " ".join(servers or [ns.addr]),
             "dns_timeout = 1000", "dns_retries = 0", "authserv_id = mx.test",
             "log_file = ", "dmarc = no"] + HERMETIC + conf_extra
    with open(conf, "w") as f:
        f.write("\n".join(lines) + "\n")
    msg = os.path.join(work, "m.eml")
    with open(msg, "w") as f:
        f.write(MSG)
    base = [MW, "scan", "-c", conf, "--ip", ip, "--helo", helo, "--from", sender]
    t0 = time.monotonic()
    j = subprocess.run(base + ["--json", msg], capture_output=True, text=True, timeout=60)
    ms = (time.monotonic() - t0) * 1000
    assert j.returncode == 0, j.stderr
    rep = subprocess.run(base + [msg], capture_output=True, text=True, timeout=60)
    return json.loads(j.stdout), rep.stdout, ms


def check_spf_pass():
    v, rep, _ = scan([], "192.0.2.5", "a@example.com")
    assert v["spf"]["result"] == "pass", v["spf"]
    assert v["spf"]["mechanism"] == "ip4:192.0.2.0/28", v["spf"]
    assert "spf=pass smtp.mailfrom=a@example.com" in rep, rep
    v, _, _ = scan([], "192.0.2.40", "a@example.com")
    assert (v["spf"]["result"], v["spf"]["mechanism"]) == ("pass", "mx"), v["spf"]
    v, _, _ = scan([], "198.51.100.7", "a@example.com")
    assert v["spf"]["mechanism"] == "include:_spf.example.net", v["spf"]
    assert v["spf"]["lookups"] == 2, v["spf"]


def check_spf_fail_rejected():
    v, rep, _ = scan(["spf_fail_action = reject"], "203.0.113.9", "a@example.com")
    assert v["action"] == "reject", v
    assert v["reply"] == ("550 5.7.23 SPF MAIL FROM check failed for example.com: "
                          "203.0.113.9 is not allowed to send mail for example.com"), v["reply"]
    assert v["spf"]["explanation"] == "203.0.113.9 is not allowed to send mail for example.com"


def check_spf_null_sender_uses_helo():
    v, rep, _ = scan([], "192.0.2.20", "", helo="helo.example.com")
    assert v["spf"]["result"] == "pass" and v["spf"]["identity"] == "helo", v["spf"]
    assert "spf=pass smtp.helo=helo.example.com" in rep, rep


def check_spf_dead_server_tempfail():
    extra = ["spf_temperror_action = tempfail", "dns_timeout = 2000",
             "dns_message_timeout = 500"]
    v, _, ms = scan(extra, "192.0.2.5", "a@example.com", servers=[dead.addr])
    assert v["spf"]["result"] == "temperror", v["spf"]
    assert v["action"] == "tempfail" and v["reply"].startswith("451 4.4.3 "), v
    assert v["dns_degraded"] is True
    assert ms < 1900, "not bounded by dns_message_timeout: %.0f ms" % ms


def check_spf_dead_server_accept():
    v, _, _ = scan(["dns_timeout = 300"], "192.0.2.5", "a@example.com", servers=[dead.addr])
    assert v["spf"]["result"] == "temperror" and v["action"] == "accept", v


def check_spf_command_trace():
    p = subprocess.run([MW, "spf", "-c", HCONF, "--server", ns.addr, "--ip", "198.51.100.7",
                        "--helo", "helo.example.com", "--from", "a@example.com"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert "identity: mailfrom" in out and "result: pass" in out, out
    assert "mechanism: include:_spf.example.net (record of example.com)" in out, out
    assert "lookup TXT _spf.example.net: ok (1)" in out, out
    assert "identity: helo" in out and "result: fail" in out, out


try:
    R.check("answers: TXT, A, AAAA, MX, PTR", check_answers)
    R.check("CNAME inside a zone and across zones", check_cname)
    R.check("NXDOMAIN, NODATA and REFUSED kept apart", check_negative)
    R.check("TCP fallback for a 3000-byte TXT", check_tcp_fallback)
    R.check("dead server: timeout after the configured tries", check_dead_server_times_out)
    R.check("dead first server: failover to the next", check_failover)
    R.check("SPF pass via ip4, mx and include", check_spf_pass)
    R.check("SPF fail rejected 550 5.7.23 with exp=", check_spf_fail_rejected)
    R.check("SPF null sender: postmaster@HELO", check_spf_null_sender_uses_helo)
    R.check("SPF dead server: tempfail 451 4.4.3 within the deadline",
            check_spf_dead_server_tempfail)
    R.check("SPF dead server: temperror accepted", check_spf_dead_server_accept)
    R.check("mailwarden spf prints result and trace", check_spf_command_trace)
finally:
    dead.stop()
    ns.stop()
    subprocess.run(["rm", "-rf", work])
R.exit()
