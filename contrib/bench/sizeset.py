"""sizeset.py - messages of a chosen size, for the cost-against-size
measurements: `scan_cost.py slope` (instructions) and `run_bench.py
--slope` (CPU time through the milter protocol).

Two kinds of message, from the bodies of real mail:

  text        plain text (us-ascii) made of corpus bodies one after the
              other, cut at the size (and ended by a line break);
  attachment  multipart/mixed: a short text (the first 2,000 bytes of a
              corpus body) and a base64 attachment of random bytes
              (application/pdf) of about the size.

Line ends are CRLF; with a key the message is DKIM-signed (relaxed/relaxed,
From, To, Subject, Date and Message-ID signed), so that the benchmark's DNS
data lets it pass DKIM.  The same random generator and the same calls give
the same messages.
"""
import base64
import os

KINDS = ("text", "attachment")


def bodies_of(raws):
    """The bodies (after the first empty line) of raw messages, LF line
    ends; messages without a body are left out."""
    out = []
    for raw in raws:
        raw = raw.replace(b"\r\n", b"\n")
        i = raw.find(b"\n\n")
        if i > 0:
            out.append(raw[i + 2:])
    return out


def corpus_bodies(d):
    """bodies_of() the files in directory d, in name order."""
    raws = []
    for name in sorted(os.listdir(d)):
        with open(os.path.join(d, name), "rb") as f:
            raws.append(f.read())
    return bodies_of(raws)


def make_message(kind, size, n, bodies, rnd, domain, key=None,
                 selector=None):
    """One message of about size bytes of kind text or attachment; n
    numbers the sender and the Message-ID; key (PEM bytes) and selector
    sign it for domain."""
    hdr = ("From: Sender %d <sender%d@%s>\nTo: rcpt@example.org\n"
           "Subject: size test %s %d\nDate: Mon, 07 Dec 2026 05:00:00 +0000\n"
           "Message-ID: <slope.%s.%d.%d@%s>\nMIME-Version: 1.0\n"
           % (n, n, domain, kind, size, kind, size, n, domain))
    if kind == "text":
        body = b""
        k = rnd.randrange(len(bodies))
        while len(body) < size:
            body += bodies[k % len(bodies)] + b"\n"
            k += 1
        # cut at the size, ended by a line break as mail that came by
        # SMTP always is (DKIM implementations disagree about white space
        # at the end of an unterminated last line)
        body = body[:size]
        if not body.endswith(b"\n"):
            body += b"\n"
        msg = hdr.encode() + b"Content-Type: text/plain; charset=us-ascii\n\n" + \
            body
    elif kind == "attachment":
        text = bodies[rnd.randrange(len(bodies))][:2000]
        blob = bytes(rnd.getrandbits(8) for _ in range(max(size * 3 // 4, 1)))
        b64 = base64.encodebytes(blob)
        msg = (hdr + "Content-Type: multipart/mixed; boundary=\"b1\"\n\n"
               "--b1\nContent-Type: text/plain; charset=us-ascii\n\n"
               ).encode() + text + \
            (b"\n--b1\nContent-Type: application/pdf; name=\"a.pdf\"\n"
             b"Content-Transfer-Encoding: base64\n\n") + b64 + b"--b1--\n"
    else:
        raise ValueError("unknown kind %r" % kind)
    msg = msg.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if key:
        import dkim
        sig = dkim.sign(msg, selector.encode(), domain.encode(), key,
                        canonicalize=(b"relaxed", b"relaxed"),
                        include_headers=[b"from", b"to", b"subject", b"date",
                                         b"message-id"])
        msg = sig + msg
    return msg


def build_point(outdir, kind, size, count, bodies, rnd, domain, key=None,
                selector=None, first=1):
    """count messages of kind and size into outdir (created; it must not
    exist), numbered from first; returns their paths."""
    os.makedirs(outdir)
    paths = []
    for i in range(count):
        p = os.path.join(outdir, "%04d.eml" % i)
        with open(p, "wb") as f:
            f.write(make_message(kind, size, first + i, bodies, rnd, domain,
                                 key, selector))
        paths.append(p)
    return paths
