#!/usr/bin/python3
"""arc_chain.py - build and check ARC chains with dkimpy (python3-dkim).

Runs under Debian's /usr/bin/python3 (python3-dkim, python3-authres live
there); the tests call it as a program so they may run under any python.

    arc_chain.py seal MSG OUT SRV_ID DOMAIN SELECTOR KEYFILE RESULTS
        add "Authentication-Results: SRV_ID; RESULTS" (what that hop
        found), then let dkimpy's arc_sign add the ARC set of the next
        instance (cv= from an arc= entry of RESULTS, none without one).
    arc_chain.py dkim MSG OUT DOMAIN SELECTOR KEYFILE
        DKIM-sign MSG (relaxed/relaxed) as the author's domain.
    arc_chain.py verify ZONEFILE MSG...
        dkimpy's arc_verify of each MSG, keys from ZONEFILE (the TXT
        lines mailwarden's zone backend reads); prints "MSG cv reason".
"""

import re
import sys

import dkim


def read(p):
    with open(p, "rb") as f:
        return f.read()


def write(p, data):
    with open(p, "wb") as f:
        f.write(data)


def seal(msg, out, srv, domain, sel, key, results):
    data = read(msg)
    ar = ("Authentication-Results: %s; %s\r\n" % (srv, results)).encode()
    data = ar + data
    sigs = dkim.arc_sign(data, sel.encode(), domain.encode(), read(key),
                         srv.encode(), include_headers=[
                             b"from", b"to", b"subject", b"date",
                             b"message-id"])
    if not sigs:
        sys.exit("arc_sign made no set")
    write(out, b"".join(sigs) + data)


def sign(msg, out, domain, sel, key):
    data = read(msg)
    sig = dkim.sign(data, sel.encode(), domain.encode(), read(key),
                    canonicalize=(b"relaxed", b"relaxed"),
                    include_headers=[b"from", b"to", b"subject", b"date",
                                     b"message-id"])
    write(out, sig + data)


def zone_records(path):
    recs = {}
    for line in open(path):
        m = re.match(r"(\S+?)\.?\s.*TXT\s+(.*)$", line.strip())
        if m:
            recs[m.group(1).lower()] = "".join(
                re.findall(r'"([^"]*)"', m.group(2))).encode()
    return recs


def verify(zone, msgs):
    recs = zone_records(zone)

    def dnsfunc(name, timeout=5):
        n = name.decode() if isinstance(name, bytes) else name
        return recs.get(n.rstrip(".").lower())

    for m in msgs:
        cv, _res, reason = dkim.arc_verify(read(m), dnsfunc=dnsfunc)
        print("%s %s %s" % (m, cv.decode(), reason))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "seal":
        seal(*args)
    elif cmd == "dkim":
        sign(*args)
    elif cmd == "verify":
        verify(args[0], args[1:])
    else:
        sys.exit(__doc__)
