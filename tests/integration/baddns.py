"""baddns - a DNS server that answers every query wrongly, for fault tests.

    from baddns import GarbageServer
    with GarbageServer() as g:               # every mode, in turn
        ... dns_servers = g.addr ...
    g.served                                  # {mode: replies sent}

It binds UDP and TCP on a random 127.0.0.x and a random high port
(dnsserver.bind_random) and answers each UDP query with the next of
these modes, in turn, so that every message of a test meets several:

  wrong-id        a well-formed answer with another ID (a resolver must
                  ignore it and keep waiting: ends as a timeout)
  flood           fifty replies with wrong IDs, then silence
  wrong-question  right ID, an answer for another name
  wrong-type      right ID and name, another query type
  truncated       right ID, ANCOUNT=1, the packet cut inside the record
  short           five bytes
  garbage         right ID followed by random bytes
  pointer-loop    right ID, a question name that is a compression
                  pointer to itself
  not-response    right ID, QR bit clear (an echo of the query)
  bad-rdlength    an A record whose RDLENGTH runs past the packet
  tc-silent-tcp   TC set (retry over TCP), and the TCP side accepts
                  and never answers

Nothing here is a valid answer, so a resolver must end every lookup as
a temporary failure (timeout, malformed, servfail) - never as an
answer, never as NXDOMAIN.
"""

import random
import socket
import struct
import threading

from dnsserver import bind_random

MODES = ("wrong-id", "flood", "wrong-question", "wrong-type", "truncated",
         "short", "garbage", "pointer-loop", "not-response", "bad-rdlength",
         "tc-silent-tcp")


def _question_end(q):
    """Offset just past the question's QNAME+QTYPE+QCLASS, or None."""
    i = 12
    while i < len(q):
        n = q[i]
        if n == 0:
            return i + 5 if i + 5 <= len(q) else None
        if n >= 64:
            return None
        i += n + 1
    return None


def _name(text):
    out = b""
    for label in text.split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\x00"


def reply_for(mode, q, rng=random):
    """The bytes mode sends back for query q (a list: several packets)."""
    qid = q[:2]
    end = _question_end(q)
    if end is None:
        return [qid + b"\x81\x01" + b"\0" * 8]        # FORMERR, header only
    question = q[12:end]
    qtype = struct.unpack("!H", q[end - 4:end - 2])[0]
    # QR, RD, RA, NOERROR; QD=1 AN=1
    hdr = b"\x81\x80" + struct.pack("!HHHH", 1, 1, 0, 0)
    a_rr = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 300, 4) + bytes([192, 0, 2, 1])
    txt = b"\x0fv=spf1 +all ok"
    txt_rr = b"\xc0\x0c" + struct.pack("!HHIH", 16, 1, 300, len(txt)) + txt
    rr = txt_rr if qtype == 16 else a_rr
    good = hdr + question + rr
    if mode == "wrong-id":
        return [struct.pack("!H", struct.unpack("!H", qid)[0] ^ 0x5a5a) + good]
    if mode == "flood":
        out = []
        for _ in range(50):
            other = rng.randrange(65536)
            if other == struct.unpack("!H", qid)[0]:
                other ^= 1
            out.append(struct.pack("!H", other) + good)
        return out
    if mode == "wrong-question":
        return [qid + hdr + _name("evil.attacker.example") + q[end - 4:end] + rr]
    if mode == "wrong-type":
        other = 1 if qtype != 1 else 16
        return [qid + hdr + q[12:end - 4] + struct.pack("!HH", other, 1) + rr]
    if mode == "truncated":
        p = qid + good
        return [p[:len(qid) + len(hdr) + len(question) + 7]]
    if mode == "short":
        return [qid + b"\x81\x80\x00"]
    if mode == "garbage":
        return [qid + bytes(rng.randrange(256) for _ in range(rng.randrange(10, 300)))]
    if mode == "pointer-loop":
        return [qid + hdr + b"\xc0\x0c" + q[end - 4:end] + rr]
    if mode == "not-response":
        return [q]
    if mode == "bad-rdlength":
        bad = b"\xc0\x0c" + struct.pack("!HHIH", qtype, 1, 300, 400) + b"\x01\x02"
        return [qid + hdr + question + bad]
    if mode == "tc-silent-tcp":
        return [qid + b"\x83\x80" + struct.pack("!HHHH", 1, 0, 0, 0) + question]
    raise ValueError(mode)


class GarbageServer:
    """Answers every UDP query with a malformed or mismatched reply."""

    def __init__(self, modes=MODES, seed=None):
        self.modes = tuple(modes)
        self.rng = random.Random(seed)
        self.served = {m: 0 for m in self.modes}
        self.queries = 0
        self.udp = self.tcp = None
        self.ip = self.port = None
        self.running = False
        self.threads = []
        self.held = []              # accepted TCP connections, never answered
        self.lock = threading.Lock()

    @property
    def addr(self):
        return "%s:%d" % (self.ip, self.port)

    def start(self):
        self.ip, self.port, self.udp, self.tcp = bind_random()
        self.udp.settimeout(0.2)
        self.tcp.settimeout(0.2)
        self.tcp.listen(64)
        self.running = True
        for fn in (self._udp_loop, self._tcp_loop):
            t = threading.Thread(target=fn, daemon=True)
            t.start()
            self.threads.append(t)
        return self

    def _udp_loop(self):
        while self.running:
            try:
                q, client = self.udp.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                break
            with self.lock:
                mode = self.modes[self.queries % len(self.modes)]
                self.queries += 1
                self.served[mode] += 1
            for p in reply_for(mode, q, self.rng):
                try:
                    self.udp.sendto(p, client)
                except OSError:
                    pass

    def _tcp_loop(self):
        while self.running:
            try:
                c, _ = self.tcp.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            with self.lock:
                self.held.append(c)
                self.served.setdefault("tcp-accepted", 0)
                self.served["tcp-accepted"] += 1

    def stop(self):
        self.running = False
        for t in self.threads:
            t.join(2)
        for s in [self.udp, self.tcp] + self.held:
            if s is not None:
                s.close()
        self.udp = self.tcp = None
        self.held = []

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
