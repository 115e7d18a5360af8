#!/usr/bin/python3
"""mkset.py - build the benchmark's message set: real mail, DKIM-signed.

    /usr/bin/python3 contrib/bench/mkset.py OUTDIR [--count 1000]
        [--mean-kb 26] [--seed 1] [--corpus /work/shared/corpus]

Takes messages of 2-100 KB from the corpus's test split (real ham and spam,
unpacked from the tar.xz archives into a temporary directory that is removed
afterwards), and for each one:

  - drops the mbox "From " line, turns line ends into CRLF;
  - replaces From (and drops Sender, Return-Path and any old signatures or
    Authentication-Results) with an address at the test domain, so that
    SPF, DKIM and DMARC can pass against the benchmark's DNS server;
  - grows it to a target size with one attachment when the size drawn for
    it is larger than the message.  The corpus (2002-2005 mail) averages
    6 KB; today's mail averages tens of KB because of HTML, attachments and
    forwards, and the reference figures are for a mean of 26 KB.  Target
    sizes come from a log-normal distribution clipped to 2-100 KB whose
    location is solved so that the set's mean is --mean-kb.  Half of the
    grown messages get a base64 binary attachment (a PDF-like blob of
    seeded random bytes), half a forwarded message (message/rfc822) made of
    other corpus messages, so content scanners see text as well;
  - signs it with DKIM (python3-dkim, RSA-2048, rsa-sha256,
    c=relaxed/relaxed, d=DOMAIN, s=SELECTOR, its default header list) and
    verifies the signature again with the same key; a message whose
    signature does not verify is left out and counted.

OUTDIR gets msgs/NNNN.eml, dkim.key (private, PEM), dkim.p (the public key
as the p= tag wants it) and manifest.json (parameters, sizes, sources).
Everything is deterministic for a given seed and corpus.
"""
import argparse
import base64
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

try:
    import dkim
except ImportError:  # pyenv's python3 has no python3-dkim: use Debian's
    if sys.executable != "/usr/bin/python3" and os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    sys.exit("mkset: python3-dkim is needed (apt-get install python3-dkim)")

MIN_SIZE = 2 * 1024
MAX_SIZE = 100 * 1024
SIGMA = 1.5     # spread of the log-normal target sizes
DROP = {b"from", b"sender", b"return-path", b"dkim-signature",
        b"domainkey-signature", b"authentication-results",
        b"arc-seal", b"arc-message-signature", b"arc-authentication-results",
        b"received-spf"}


def crlf(data):
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")


def split_message(raw):
    """(list of (name, raw field bytes incl. CRLF), body) or None if malformed."""
    if raw.startswith(b"From "):
        raw = raw.split(b"\n", 1)[1] if b"\n" in raw else b""
    raw = crlf(raw)
    end = raw.find(b"\r\n\r\n")
    if end < 0:
        return None
    head, body = raw[:end + 2], raw[end + 4:]
    fields = []
    for line in head.split(b"\r\n")[:-1]:
        if line[:1] in (b" ", b"\t"):
            if not fields:
                return None
            fields[-1][1] += line + b"\r\n"
            continue
        m = re.match(rb"([!-9;-~]+)[ \t]*:", line)
        if not m:
            return None     # a line that would end the header section early
        fields.append([m.group(1), line + b"\r\n"])
    return fields, body


def field_value(fields, name):
    for n, raw in fields:
        if n.lower() == name:
            v = raw.split(b":", 1)[1]
            return re.sub(rb"\r\n[ \t]+", b" ", v).strip()
    return None


def boundary_of(ctype):
    m = re.search(rb'boundary\s*=\s*"([^"]+)"', ctype, re.I) or \
        re.search(rb"boundary\s*=\s*([^\s;]+)", ctype, re.I)
    return m.group(1) if m else None


def binary_part(rng, size, n):
    """A base64 attachment of about size bytes on the wire."""
    raw_len = max(64, size * 57 // 78 - 200)
    blob = b"%PDF-1.4\n" + rng.randbytes(raw_len)
    b64 = base64.encodebytes(blob).replace(b"\n", b"\r\n")
    return (b"Content-Type: application/pdf; name=\"document-%d.pdf\"\r\n"
            b"Content-Transfer-Encoding: base64\r\n"
            b"Content-Disposition: attachment; filename=\"document-%d.pdf\"\r\n"
            b"\r\n" % (n, n)) + b64


def forward_part(rng, size, pool):
    """A message/rfc822 part: other corpus messages, at most size bytes."""
    out = b""
    for _ in range(200):
        cand = pool[rng.randrange(len(pool))]
        if len(out) + len(cand) + 2 <= size:
            out += cand if not out else b"\r\n" + cand
        if len(out) > size - 1024:
            break
    if not out:
        return None
    return (b"Content-Type: message/rfc822\r\n"
            b"Content-Disposition: attachment; filename=\"forwarded.eml\"\r\n"
            b"\r\n") + out


def grow(fields, body, part, rng):
    """Add part as the last MIME part, wrapping a single-part message."""
    ctype = field_value(fields, b"content-type") or b""
    b = boundary_of(ctype) if ctype.lower().startswith(b"multipart/") else None
    if b is not None:
        close = body.rfind(b"--" + b + b"--")
        if close >= 0:
            body = (body[:close] + b"--" + b + b"\r\n" + part + b"\r\n" +
                    body[close:])
            return fields, body
    # wrap: the old content headers go into the first part
    nb = b"=_bench_%016x" % rng.getrandbits(64)
    inner = [raw for n, raw in fields if n.lower() in
             (b"content-type", b"content-transfer-encoding",
              b"content-disposition")]
    if not inner:
        inner = [b"Content-Type: text/plain; charset=us-ascii\r\n"]
    outer = [[n, raw] for n, raw in fields if n.lower() not in
             (b"content-type", b"content-transfer-encoding",
              b"content-disposition", b"mime-version")]
    outer.append([b"MIME-Version", b"MIME-Version: 1.0\r\n"])
    outer.append([b"Content-Type",
                  b"Content-Type: multipart/mixed; boundary=\"" + nb + b"\"\r\n"])
    body = (b"This is a multi-part message in MIME format.\r\n\r\n--" + nb +
            b"\r\n" + b"".join(inner) + b"\r\n" + body +
            (b"" if body.endswith(b"\r\n") else b"\r\n") +
            b"--" + nb + b"\r\n" + part + b"\r\n--" + nb + b"--\r\n")
    return outer, body


def target_sizes(z, bases, mean):
    """Per-message target sizes: clipped log-normal, solved for the mean."""
    sigma = SIGMA

    def final_mean(mu):
        tot = 0
        for zi, b in zip(z, bases):
            t = min(MAX_SIZE, max(MIN_SIZE, math.exp(mu + sigma * zi)))
            tot += max(b, t)
        return tot / len(bases)

    lo, hi = math.log(1000), math.log(200000)
    for _ in range(60):
        mid = (lo + hi) / 2
        if final_mean(mid) < mean:
            lo = mid
        else:
            hi = mid
    mu = (lo + hi) / 2
    return [int(min(MAX_SIZE - 1024, max(MIN_SIZE, math.exp(mu + sigma * zi))))
            for zi in z]


def genkey(path):
    subprocess.run(["openssl", "genrsa", "-out", path, "2048"], check=True,
                   capture_output=True)
    der = subprocess.run(["openssl", "rsa", "-in", path, "-pubout",
                          "-outform", "DER"], check=True,
                         capture_output=True).stdout
    return base64.b64encode(der).decode()


def load_corpus(corpus, split, tmp):
    msgs = []
    for cls in ("ham", "spam"):
        with tarfile.open(os.path.join(corpus, split, cls + ".tar.xz")) as t:
            t.extractall(tmp, filter="data") if hasattr(tarfile, "data_filter") \
                else t.extractall(tmp)
        d = os.path.join(tmp, split, cls)
        for name in sorted(os.listdir(d)):
            with open(os.path.join(d, name), "rb") as f:
                msgs.append((cls, name, f.read()))
    return msgs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--mean-kb", type=float, default=26.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--corpus", default=os.environ.get(
        "MW_CORPUS", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                  "..", "..", "..", "shared", "corpus")))
    ap.add_argument("--split", default="test")
    ap.add_argument("--domain", default="bench.example")
    ap.add_argument("--selector", default="bench2048")
    args = ap.parse_args()

    rng = random.Random(args.seed)
    tmp = tempfile.mkdtemp(prefix="mw-corpus-")
    try:
        corpus = load_corpus(args.corpus, args.split, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    parsed = []
    for cls, name, raw in corpus:
        sp = split_message(raw)
        if sp is None:
            continue
        size = sum(len(r) for _, r in sp[0]) + 2 + len(sp[1])
        if 512 <= len(raw) and size <= MAX_SIZE - 2048:
            parsed.append((cls, name, sp, size))
    pool = [crlf(raw.split(b"\n", 1)[1] if raw.startswith(b"From ") else raw)
            for _, _, raw in corpus if len(raw) < 30000]
    rng.shuffle(parsed)
    # messages of 2 KB and more first; smaller ones (grown) only as spares
    parsed.sort(key=lambda p: p[3] < MIN_SIZE)
    parsed = parsed[:args.count + args.count // 10]   # spares for failures
    z = [rng.gauss(0.0, 1.0) for _ in parsed]

    os.makedirs(os.path.join(args.outdir, "msgs"), exist_ok=True)
    keyfile = os.path.join(args.outdir, "dkim.key")
    pub = genkey(keyfile)
    with open(os.path.join(args.outdir, "dkim.p"), "w") as f:
        f.write(pub + "\n")
    with open(keyfile, "rb") as f:
        key = f.read()
    txt = ("v=DKIM1; k=rsa; p=" + pub).encode()

    def dnsfunc(name, timeout=5):
        if name.rstrip(b".").lower() == (
                "%s._domainkey.%s" % (args.selector, args.domain)).encode():
            return txt
        return None

    def build(mean):
        sizes = target_sizes(z, [p[3] for p in parsed], mean)
        out, failed = [], 0
        for i, ((cls, name, (fields, body), size), target) in enumerate(
                zip(parsed, sizes)):
            if len(out) == args.count:
                break
            mrng = random.Random(args.seed * 1000003 + i)
            fields = [[nm, raw] for nm, raw in fields if nm.lower() not in DROP]
            fields.insert(0, [b"From", b"From: Bench Sender %d <sender%04d@%s>\r\n"
                              % (i, i, args.domain.encode())])
            kind = None
            if size < MIN_SIZE:
                target = max(target, MIN_SIZE + 1024)
            if target > size + 1024:
                need = target - size - 700
                part = forward_part(mrng, need, pool) if i % 2 else None
                kind = "forward"
                if part is None:
                    kind = "binary"
                    part = binary_part(mrng, need, i)
                fields, body = grow(fields, body, part, mrng)
            msg = b"".join(raw for _, raw in fields) + b"\r\n" + body
            try:
                sig = dkim.sign(msg, args.selector.encode(),
                                args.domain.encode(), key,
                                canonicalize=(b"relaxed", b"relaxed"))
                signed = sig + msg
                ok = dkim.verify(signed, dnsfunc=dnsfunc)
            except Exception:       # dkimpy refuses some real-world mail
                ok = False
            if not ok or not MIN_SIZE <= len(signed) <= MAX_SIZE:
                failed += 1
                continue
            out.append(({"source": "%s/%s" % (cls, name), "class": cls,
                         "bytes": len(signed), "grown": kind}, signed))
        return out, failed

    want = args.mean_kb * 1024
    mean = want
    for _ in range(4):
        out, failed = build(mean)
        got = sum(m["bytes"] for m, _ in out) / len(out)
        if abs(got - want) < 0.02 * want:
            break
        mean *= want / got
    grown = {"binary": 0, "forward": 0}
    for n, (meta, signed) in enumerate(out):
        meta["file"] = "%04d.eml" % n
        if meta["grown"]:
            grown[meta["grown"]] += 1
        with open(os.path.join(args.outdir, "msgs", meta["file"]), "wb") as f:
            f.write(signed)
    out = [m for m, _ in out]
    if len(out) < args.count:
        print("mkset: only %d messages (wanted %d)" % (len(out), args.count),
              file=sys.stderr)
    nbytes = [m["bytes"] for m in out]
    man = {"domain": args.domain, "selector": args.selector,
           "seed": args.seed, "split": args.split, "count": len(out),
           "mean_bytes": sum(nbytes) / len(nbytes),
           "median_bytes": sorted(nbytes)[len(nbytes) // 2],
           "min_bytes": min(nbytes), "max_bytes": max(nbytes),
           "spam": sum(1 for m in out if m["class"] == "spam"),
           "ham": sum(1 for m in out if m["class"] == "ham"),
           "grown": grown, "left_out": failed, "messages": out}
    with open(os.path.join(args.outdir, "manifest.json"), "w") as f:
        json.dump(man, f, indent=1)
    print("mkset: %d messages (%d ham, %d spam), mean %.1f KB, median %.1f KB, "
          "%d-%d bytes; grown: %d binary, %d forward; left out %d"
          % (len(out), man["ham"], man["spam"], man["mean_bytes"] / 1024,
             man["median_bytes"] / 1024, man["min_bytes"], man["max_bytes"],
             grown["binary"], grown["forward"], failed))


if __name__ == "__main__":
    main()
