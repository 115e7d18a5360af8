"""dnsserver - a real nsd serving zone files that a test writes.

    srv = NsdServer(workdir, {"bl.test": "99.2.0.192 IN A 127.0.0.2\n"}).start()
    ... srv.addr, srv.port ...
    srv.stop()

nsd (Debian package nsd) runs in the foreground on a random 127.0.0.x
address (127.0.0.2-127.0.0.250) and a random high port, retrying on
collision since other tests run at the same time; no chroot, no user
switch, no remote control, everything under the test's directory.  Each
zone gets an SOA and an NS record; the records given are appended as is
(owner names relative to the zone).  start() returns once nsd answers
the SOA query of every zone.
"""

import os
import random
import shutil
import socket
import struct
import subprocess
import time

NSD = shutil.which("nsd", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")

SOA = """$ORIGIN {zone}.
$TTL 60
@ IN SOA ns.{zone}. hostmaster.{zone}. 1 3600 600 86400 60
@ IN NS ns.{zone}.
ns IN A 127.0.0.1
"""


def dns_query(addr, port, name, qtype=6, timeout=0.5):
    """Send one query; return the rcode, or None without an answer."""
    qid = random.randint(0, 0xffff)
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack(">HH", qtype, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        try:
            s.sendto(q, (addr, port))
            data, _ = s.recvfrom(4096)
        except OSError:
            return None
    if len(data) < 12 or struct.unpack(">H", data[:2])[0] != qid:
        return None
    return data[3] & 0x0f


class NsdServer:
    def __init__(self, work, zones):
        self.dir = os.path.join(work.path, "nsd")
        os.makedirs(self.dir, exist_ok=True)
        self.zones = dict(zones)
        self.proc = None
        self.addr = None
        self.port = None

    def _write(self):
        conf = ["server:",
                "  ip-address: %s@%d" % (self.addr, self.port),
                "  port: %d" % self.port,
                "  do-ip6: no",
                "  username: \"\"",
                "  chroot: \"\"",
                "  zonesdir: \"%s\"" % self.dir,
                "  pidfile: \"%s/nsd.pid\"" % self.dir,
                "  xfrdfile: \"%s/xfrd.state\"" % self.dir,
                "  zonelistfile: \"%s/zone.list\"" % self.dir,
                "  database: \"\"",
                "  logfile: \"%s/nsd.log\"" % self.dir,
                "  server-count: 1",
                "  verbosity: 1",
                "  hide-version: yes",
                "remote-control:",
                "  control-enable: no"]
        for zone, records in self.zones.items():
            path = os.path.join(self.dir, zone + ".zone")
            with open(path, "w") as f:
                f.write(SOA.format(zone=zone) + records)
            conf += ["zone:", "  name: %s" % zone, "  zonefile: \"%s\"" % path]
        self.conf = os.path.join(self.dir, "nsd.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(conf) + "\n")

    def _ready(self):
        return all(dns_query(self.addr, self.port, z) == 0 for z in self.zones)

    def start(self, tries=20):
        if not NSD:
            raise RuntimeError("nsd is not installed")
        for _ in range(tries):
            self.addr = "127.0.0.%d" % random.randint(2, 250)
            self.port = random.randint(20000, 60000)
            self._write()
            self.log = open(os.path.join(self.dir, "stderr"), "ab")
            self.proc = subprocess.Popen([NSD, "-d", "-c", self.conf],
                                         stdout=self.log, stderr=self.log)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.proc.poll() is None:
                if self._ready():
                    return self
                time.sleep(0.05)
            self.stop()        # address or port taken: try another
        raise RuntimeError("nsd did not start: %s" % self.log_text())

    def log_text(self):
        out = ""
        for name in ("stderr", "nsd.log"):
            try:
                with open(os.path.join(self.dir, name), "rb") as f:
                    out += f.read().decode("utf-8", "replace")
            except FileNotFoundError:
                pass
        return out

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log.close()
        self.proc = None
