"""dnsserver.py - a real DNS server (nsd) for integration tests, and helpers.

Reusable by every integration test that needs DNS answers from a real
server (SPF, DKIM keys, DMARC records, DNSBLs):

    from dnsserver import NSD, SilentServer, DelayProxy, skip_unless_nsd

    skip_unless_nsd()                      # exit 77 when nsd is missing
    with NSD({"example.com": '''
            @    TXT "v=spf1 ip4:192.0.2.0/24 -all"
            mx   A   192.0.2.1
            '''}) as ns:
        print(ns.addr)                     # "127.0.0.57:40123"
        ...                                # dns_servers = <ns.addr>

NSD writes each zone (an SOA and NS are added when the text has none),
an nsd.conf with rate limiting off, no privilege drop, no chroot and no
remote control into a temporary directory, and starts `nsd -d` on a
random 127.0.0.x (2..250) and a random high port, retrying with other
choices when the address is taken (others run tests at the same time).
It waits until the server answers an SOA query for the first zone, and
stop() (or leaving the `with`) terminates it and removes the directory.

SilentServer binds UDP and TCP on a loopback address and never answers:
a dead server for timeout tests (a port with no listener would answer
with ICMP port-unreachable at once, which is not what a dead server
looks like).

DelayProxy forwards UDP and TCP queries to another server after a fixed
delay (benchmarks: a realistic round trip on loopback).

query() is a minimal stub resolver for readiness checks and assertions
independent of the code under test.
"""

import os
import random
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

NSD_BIN = shutil.which("nsd") or "/usr/sbin/nsd"


def skip_unless_nsd():
    """Exit with status 77 (automake: skipped) when nsd is not installed."""
    if not os.access(NSD_BIN, os.X_OK):
        print("SKIP: nsd not installed (apt-get install nsd)")
        sys.exit(77)


def listen_port():
    """A random port for a test listener, outside the kernel's ephemeral
    range: a port in that range can be taken at any moment as the source
    port of some other test's outgoing connection (CI once lost a Postfix
    start to exactly that)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = (int(x) for x in f.read().split())
    except (OSError, ValueError):
        lo, hi = 32768, 60999
    if lo > 12000:
        return random.randint(10000, lo - 1)
    if hi < 63000:
        return random.randint(hi + 1, 65000)
    return random.randint(20000, 60000)


def random_loopback():
    """A random 127.0.0.x (x in 2..250) and a random listener port."""
    return "127.0.0.%d" % random.randint(2, 250), listen_port()


def bind_random(stream=True):
    """(ip, port, udp socket, tcp listener or None) on a free random loopback port."""
    for _ in range(20):
        ip, port = random_loopback()
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM) if stream else None
        try:
            u.bind((ip, port))
            if t is not None:
                t.bind((ip, port))
                t.listen(1)
        except OSError:
            u.close()
            if t is not None:
                t.close()
            continue
        return ip, port, u, t
    raise RuntimeError("no free loopback port")


def zone_text(origin, body, ttl=300, soa_minimum=60):
    """Zone file text for origin: $ORIGIN/$TTL, then SOA and NS if body has none."""
    origin = origin.rstrip(".") + "."
    lines = ["$ORIGIN %s" % origin, "$TTL %d" % ttl]
    upper = body.upper()
    if " SOA " not in upper and "\tSOA\t" not in upper:
        lines.append("@ IN SOA ns.%s hostmaster.%s 1 3600 600 86400 %d"
                     % (origin, origin, soa_minimum))
    if " NS " not in upper and "\tNS\t" not in upper:
        lines.append("@ IN NS ns.%s" % origin)
    for line in body.splitlines():
        lines.append(line.strip() if line.strip() else "")
    return "\n".join(lines) + "\n"


def build_query(name, qtype, qid=None):
    """Wire-format query (RD set) for name and a numeric qtype."""
    qid = random.randint(0, 65535) if qid is None else qid
    wire = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        if label:
            raw = label.encode()
            wire += bytes([len(raw)]) + raw
    return wire + b"\x00" + struct.pack("!HH", qtype, 1), qid


def query(addr, name, qtype=6, timeout=1.0, tcp=False):
    """Send one query; return (rcode, ancount, flags) or None on timeout."""
    host, port = addr.rsplit(":", 1)
    wire, qid = build_query(name, qtype)
    try:
        if tcp:
            with socket.create_connection((host, int(port)), timeout) as s:
                s.sendall(struct.pack("!H", len(wire)) + wire)
                n = struct.unpack("!H", _recv_all(s, 2))[0]
                reply = _recv_all(s, n)
        else:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.settimeout(timeout)
                s.sendto(wire, (host, int(port)))
                reply = s.recv(65535)
    except (OSError, socket.timeout):
        return None
    rid, flags, _, ancount = struct.unpack("!HHHH", reply[:8])
    if rid != qid:
        return None
    return flags & 0xF, ancount, flags


def _recv_all(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise OSError("short read")
        data += chunk
    return data


class NSD:
    """nsd serving the given zones {origin: body} on a random loopback address."""

    def __init__(self, zones, ip=None, port=None, soa_minimum=60):
        if not zones:
            raise ValueError("at least one zone")
        self.zones = {o.rstrip(".").lower(): b for o, b in zones.items()}
        self.want_ip, self.want_port = ip, port
        self.soa_minimum = soa_minimum
        self.dir = None
        self.proc = None
        self.ip = self.port = None

    @property
    def addr(self):
        return "%s:%d" % (self.ip, self.port)

    def _write(self):
        conf = [
            "server:",
            "  ip-address: %s@%d" % (self.ip, self.port),
            "  do-ip6: no",
            "  server-count: 1",
            "  reuseport: no",
            "  username: \"\"",
            "  chroot: \"\"",
            "  database: \"\"",
            "  zonesdir: \"%s\"" % self.dir,
            "  zonelistfile: \"%s/zone.list\"" % self.dir,
            "  xfrdfile: \"%s/xfrd.state\"" % self.dir,
            "  xfrdir: \"%s\"" % self.dir,
            "  pidfile: \"%s/nsd.pid\"" % self.dir,
            "  logfile: \"%s/nsd.log\"" % self.dir,
            "  verbosity: 1",
            "  hide-version: yes",
            "  minimal-responses: no",
            "  refuse-any: no",
            "  round-robin: no",
            "  rrl-ratelimit: 0",
            "  rrl-whitelist-ratelimit: 0",
            "remote-control:",
            "  control-enable: no",
        ]
        for origin, body in self.zones.items():
            # "" is the root zone (give its SOA and NS in the body)
            fname = "%s.zone" % (origin or "root")
            with open(os.path.join(self.dir, fname), "w") as f:
                f.write(zone_text(origin, body, soa_minimum=self.soa_minimum))
            conf += ["zone:", "  name: \"%s\"" % (origin or "."),
                     "  zonefile: \"%s\"" % fname]
        with open(os.path.join(self.dir, "nsd.conf"), "w") as f:
            f.write("\n".join(conf) + "\n")

    def log(self):
        try:
            with open(os.path.join(self.dir, "nsd.log")) as f:
                return f.read()
        except OSError:
            return ""

    def start(self, timeout=15.0, attempts=8):
        self.dir = tempfile.mkdtemp(prefix="mw-nsd-")
        last = ""
        for _ in range(attempts):
            ip, port = random_loopback()
            self.ip = self.want_ip or ip
            self.port = self.want_port or port
            self._write()
            check = subprocess.run([NSD_BIN.replace("nsd", "nsd-checkconf"),
                                    os.path.join(self.dir, "nsd.conf")],
                                   capture_output=True, text=True)
            if check.returncode != 0:
                raise RuntimeError("nsd.conf: " + check.stdout + check.stderr)
            self.proc = subprocess.Popen(
                [NSD_BIN, "-d", "-c", os.path.join(self.dir, "nsd.conf")],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if self._wait_ready(timeout):
                return self
            last = self.log()
            if self.proc.poll() is None:
                self.proc.kill()
            _, err = self.proc.communicate()
            last += err.decode(errors="replace")
            self.proc = None
            if self.want_ip and self.want_port:
                break
        shutil.rmtree(self.dir, ignore_errors=True)
        raise RuntimeError("nsd did not start: " + last[-2000:])

    def _wait_ready(self, timeout):
        first = next(iter(self.zones))
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                return False
            r = query(self.addr, first, 6, timeout=0.2)
            if r is not None and r[0] == 0 and r[1] >= 1:
                return True
            time.sleep(0.05)
        return False

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            if self.proc.stderr:
                self.proc.stderr.close()
            self.proc = None
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class SilentServer:
    """Binds UDP and TCP on a random loopback address and never answers."""

    def __init__(self):
        self.udp = self.tcp = None
        self.ip = self.port = None

    @property
    def addr(self):
        return "%s:%d" % (self.ip, self.port)

    def start(self):
        # the listener's backlog fills and is never read
        self.ip, self.port, self.udp, self.tcp = bind_random()
        return self

    def stop(self):
        for s in (self.udp, self.tcp):
            if s is not None:
                s.close()
        self.udp = self.tcp = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class DelayProxy:
    """Forwards UDP (and TCP) DNS queries to upstream after delay_ms."""

    def __init__(self, upstream, delay_ms):
        self.upstream = upstream.rsplit(":", 1)
        self.upstream = (self.upstream[0], int(self.upstream[1]))
        self.delay = delay_ms / 1000.0
        self.sock = None
        self.ip = self.port = None
        self.running = False
        self.threads = []

    @property
    def addr(self):
        return "%s:%d" % (self.ip, self.port)

    def start(self):
        self.ip, self.port, self.sock, _ = bind_random(stream=False)
        self.sock.settimeout(0.2)
        self.running = True
        t = threading.Thread(target=self._loop, daemon=True)
        t.start()
        self.threads.append(t)
        return self

    def _forward(self, data, client):
        time.sleep(self.delay)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as up:
            up.settimeout(2)
            try:
                up.sendto(data, self.upstream)
                reply = up.recv(65535)
                sock = self.sock        # None once stopped
                if sock is not None:
                    sock.sendto(reply, client)
            except OSError:
                pass

    def _loop(self):
        while self.running:
            try:
                data, client = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                break
            threading.Thread(target=self._forward, args=(data, client),
                             daemon=True).start()

    def stop(self):
        self.running = False
        for t in self.threads:
            t.join(2)
        if self.sock:
            self.sock.close()
            self.sock = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
