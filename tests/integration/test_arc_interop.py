#!/usr/bin/env python3
"""ARC interoperability: chains sealed by dkimpy, verified by mailwarden.

dkimpy (python3-dkim with python3-authres, Debian) seals one, two and
three hops, with the changes a list makes between them (Subject tag,
body footer, an added field); `mailwarden arc verify` must find each
chain passing with the right oldest-pass instance, and dkimpy's own
arc_verify must agree on every message.  Then broken chains, each of
which both must fail, mailwarden with the expected reason:
a body modified after the last seal, the AMS of two sets swapped (a
reordered set), a missing instance, cv=pass at i=1, a duplicate
instance, and a field the newest AMS signed deleted.

Keys are made with `mailwarden dkim keygen` and served to mailwarden by
the zone-file DNS backend (dns_zone_files), to dkimpy by its dnsfunc.
Prints one line per case and "N passed, N failed".
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

MW = os.environ.get("MAILWARDEN") or os.path.join(
    os.environ.get("TOP_BUILDDIR", "."), "mailwarden")
SYS_PY = "/usr/bin/python3"          # Debian's python3-dkim lives there
HERE = os.path.dirname(os.path.abspath(__file__))
CHAIN = os.path.join(HERE, "arc_chain.py")


def run(args):
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def have_dkimpy():
    try:
        return run([SYS_PY, "-c", "import dkim, authres"]).returncode == 0
    except OSError:
        return False


if not os.access(MW, os.X_OK) or not have_dkimpy():
    print("SKIP: needs mailwarden, python3-dkim and python3-authres")
    sys.exit(77)

work = tempfile.mkdtemp(prefix="mw-arc-interop-")
results = []


def path(name):
    return os.path.join(work, name)


def record(name, ok, detail=""):
    results.append(ok)
    print("%s %s%s" % ("ok  " if ok else "FAIL", name,
                       (": " + detail) if detail and not ok else ""))


def must(args):
    out = run(args)
    if out.returncode != 0:
        sys.exit("%s: %s" % (" ".join(args), out.stderr.decode()))
    return out.stdout.decode()


# ---------------------------------------------------------------- keys

DOMAINS = ["author.example", "lists1.example", "fwd2.example", "hop3.example"]
with open(path("keys.zone"), "w") as z:
    for d in DOMAINS:
        rec = must([MW, "dkim", "keygen", "--type", "rsa", "--bits", "2048",
                    "--domain", d, "--selector", "s1", "--out",
                    path(d + ".key")])
        txt = " ".join(re.findall(r'"[^"]*"', rec))
        z.write("s1._domainkey.%s. 300 IN TXT %s\n" % (d, txt))
with open(path("mw.conf"), "w") as f:
    f.write("dns_zone_files = %s\n" % path("keys.zone"))

# ----------------------------------------------------- message surgery


def fields(data):
    """header fields (each with its folding and CRLF) and the body"""
    head, _, body = data.partition(b"\r\n\r\n")
    out = []
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and out:
            out[-1] += b"\r\n" + line
        else:
            out.append(line)
    return out, body


def join(hdrs, body):
    return b"\r\n".join(hdrs) + b"\r\n\r\n" + body


def name_is(f, name, inst=None):
    if not f.lower().startswith(name.lower() + b":"):
        return False
    return inst is None or re.match(rb"[^:]*:\s*i=%d;" % inst, f) is not None


def edit(src, dst, fn):
    with open(path(src), "rb") as f:
        hdrs, body = fields(f.read())
    hdrs, body = fn(hdrs, body)
    with open(path(dst), "wb") as f:
        f.write(join(hdrs, body))


# ------------------------------------------------------------- chains

with open(path("m0.eml"), "wb") as f:
    f.write(b"From: Alice <alice@author.example>\r\n"
            b"To: list@lists1.example\r\nSubject: meeting notes\r\n"
            b"Date: Mon, 07 Dec 2026 05:00:00 +0000\r\n"
            b"Message-ID: <notes-1@author.example>\r\n\r\n"
            b"Notes of the meeting.\r\n")
must([SYS_PY, CHAIN, "dkim", path("m0.eml"), path("m1.eml"),
      "author.example", "s1", path("author.example.key")])


def seal(src, dst, domain, results):
    must([SYS_PY, CHAIN, "seal", path(src), path(dst), domain, domain, "s1",
          path(domain + ".key"), results])


seal("m1.eml", "hop1.eml", "lists1.example",
     "dkim=pass header.d=author.example; dmarc=pass "
     "header.from=author.example")


def list_rewrite(hdrs, body):
    hdrs = [b"Subject: [list] meeting notes" if name_is(h, b"Subject") else h
            for h in hdrs]
    return hdrs, body + b"-- \r\nlist footer\r\n"


edit("hop1.eml", "hop1-mod.eml", list_rewrite)
seal("hop1-mod.eml", "hop2.eml", "fwd2.example",
     "arc=pass; dkim=fail header.d=author.example")
edit("hop2.eml", "hop2-mod.eml",
     lambda h, b: ([b"X-Forwarded-By: fwd2.example"] + h, b))
seal("hop2-mod.eml", "hop3.eml", "hop3.example", "arc=pass")

# -------------------------------------------------------- broken chains

edit("hop2.eml", "bad-body.eml", lambda h, b: (h, b + b"appended\r\n"))


def swap_ams(hdrs, body):
    out = []
    for h in hdrs:
        if name_is(h, b"ARC-Message-Signature", 1):
            h = re.sub(rb"i=1;", b"i=2;", h, count=1)
        elif name_is(h, b"ARC-Message-Signature", 2):
            h = re.sub(rb"i=2;", b"i=1;", h, count=1)
        out.append(h)
    return out, body


edit("hop2.eml", "bad-reordered.eml", swap_ams)
edit("hop2.eml", "bad-missing.eml", lambda h, b: (
    [f for f in h if not any(name_is(f, n, 1) for n in (
        b"ARC-Seal", b"ARC-Message-Signature",
        b"ARC-Authentication-Results"))], b))
edit("hop1.eml", "bad-cv1.eml", lambda h, b: (
    [f.replace(b"cv=none", b"cv=pass") if name_is(f, b"ARC-Seal") else f
     for f in h], b))
edit("hop2.eml", "bad-duplicate.eml", lambda h, b: (
    [f for f in h if name_is(f, b"ARC-Authentication-Results", 2)] + h, b))
edit("hop2.eml", "bad-deleted.eml", lambda h, b: (
    [f for f in h if not name_is(f, b"Date")], b))

GOOD = [("1 hop", "hop1.eml", 0), ("2 hops, Subject and body rewritten",
                                   "hop2.eml", 2),
        ("3 hops, a field added", "hop3.eml", 2)]
BAD = [("body modified after the last seal", "bad-body.eml",
        "ARC-Message-Signature i=2: body hash did not verify"),
       ("reordered set (AMS instances swapped)", "bad-reordered.eml",
        "ARC-Message-Signature i=2: "),
       ("missing instance", "bad-missing.eml", "instance i=1 of 2 has no"),
       ("cv=pass at i=1", "bad-cv1.eml", "ARC-Seal i=1 has cv=pass"),
       ("duplicate instance", "bad-duplicate.eml",
        "duplicate ARC-Authentication-Results for instance i=2"),
       ("AMS over a deleted field", "bad-deleted.eml",
        "ARC-Message-Signature i=2: signature did not verify")]

# -------------------------------------------------------------- verify

theirs = {}
for line in must([SYS_PY, CHAIN, "verify", path("keys.zone")] +
                 [path(f) for _, f, _ in GOOD + BAD]).splitlines():
    fn, cv = line.split(" ", 2)[:2]
    theirs[os.path.basename(fn)] = cv

for name, fn, oldest in GOOD:
    out = run([MW, "arc", "verify", "-c", path("mw.conf"), path(fn)])
    text = out.stdout.decode()
    want = "arc=pass (%s, oldest-pass %d)" % (
        re.search(r"(\d+) hop", name).group(1) + " set" +
        ("" if name.startswith("1 ") else "s"), oldest)
    record("mailwarden passes " + name, out.returncode == 0 and want in text,
           (text + out.stderr.decode())[-600:])
    record("dkimpy agrees on " + name, theirs.get(fn) == "pass",
           "dkimpy says %s" % theirs.get(fn))

for name, fn, reason in BAD:
    out = run([MW, "arc", "verify", "-c", path("mw.conf"), path(fn)])
    text = out.stdout.decode()
    record("mailwarden fails " + name, out.returncode == 1 and
           "arc=fail" in text and reason in text,
           (text + out.stderr.decode())[-600:])
    record("dkimpy agrees on " + name, theirs.get(fn) == "fail",
           "dkimpy says %s" % theirs.get(fn))

# the verdict of the scan pipeline is the CLI's: arc= in A-R, the log
out = run([MW, "scan", "-c", path("mw.conf"), "--ip", "192.0.2.7",
           path("hop2.eml")])
text = out.stdout.decode()
record("scan adds arc=pass with oldest-pass to Authentication-Results",
       "arc=pass" in text and "header.oldest-pass=2" in text and
       "smtp.remote-ip=192.0.2.7" in text and "ARC_PASS" in text,
       (text + out.stderr.decode())[-800:])

failed = results.count(False)
print("%d passed, %d failed" % (results.count(True), failed))
shutil.rmtree(work, ignore_errors=True)
sys.exit(1 if failed else 0)
