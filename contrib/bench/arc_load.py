#!/usr/bin/env python3
"""arc_load.py - ARC-sealed traffic through the milter beside DKIM-only traffic.

Runs `mailwarden milter` (default configuration, no rules, no Bayes, keys
answered from a zone file built from tests/data/arc/keys.txt, never the
network) and drives it with contrib/bench/mwload over two message sets:

  arc   tests/data/arc/two-hops.eml: the author's DKIM signature and two
        ARC sets sealed by dkimpy (RSA-2048): 1 DKIM + 2 AMS + 2 seals
  dkim  the same message without its ARC fields: 1 DKIM signature

The sets alternate (dkim, arc, dkim, arc, ...) so that a change in the
machine's load hits both.  For each run: messages per second (mwload) and
the milter's CPU per message (utime + stime of the milter process from
/proc before and after).  Prints each run, the medians and the ARC/DKIM
ratios, and the machine's load average.  Run by hand, never by `make check`:

    python3 contrib/bench/arc_load.py --build BUILDDIR [--messages 2000]
        [--concurrency 2] [--rounds 3]
"""

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def zone_text():
    """keys.txt (name TAB record) as a master file; TXT split at 255."""
    out = ["$ORIGIN .", "$TTL 3600"]
    with open(os.path.join(SRC, "tests", "data", "arc", "keys.txt")) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            name, rec = line.rstrip("\n").split("\t", 1)
            parts = " ".join('"%s"' % rec[i:i + 255] for i in range(0, len(rec), 255))
            out.append("%s. IN TXT %s" % (name, parts))
    return "\n".join(out) + "\n"


def without_arc(raw):
    """The message without its ARC-* fields (and their continuation lines)."""
    head, sep, body = raw.partition(b"\n\n")
    keep, drop = [], False
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t"):
            if not drop:
                keep.append(line)
            continue
        drop = line.lower().startswith(b"arc-")
        if not drop:
            keep.append(line)
    return b"\n".join(keep) + sep + body


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_socket(path, proc):
    for _ in range(300):
        if proc.poll() is not None:
            raise SystemExit("milter exited with %d" % proc.returncode)
        if os.path.exists(path):
            with socket.socket(socket.AF_UNIX) as s:
                if s.connect_ex(path) == 0:
                    return
        time.sleep(0.05)
    raise SystemExit("milter socket did not appear")


def run_set(mwload, sock, pid, msgs, n, conc):
    before = cpu_seconds(pid)
    t0 = time.monotonic()
    p = subprocess.run([mwload, "-s", "unix:" + sock, "-c", str(conc), "-n", str(n), msgs],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wall = time.monotonic() - t0
    cpu = cpu_seconds(pid) - before
    if p.returncode != 0:
        raise SystemExit("mwload failed:\n" + p.stdout)
    return {"rate": n / wall, "cpu_ms": cpu * 1000 / n, "out": p.stdout}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True, help="the build directory")
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--show", action="store_true", help="print mwload's output")
    a = ap.parse_args()
    mw = os.path.join(a.build, "mailwarden")
    mwload = os.path.join(a.build, "contrib", "bench", "mwload")
    tmp = tempfile.mkdtemp(prefix="mw-arcload-")
    proc = None
    try:
        zone = os.path.join(tmp, "keys.zone")
        with open(zone, "w") as f:
            f.write(zone_text())
        raw = open(os.path.join(SRC, "tests", "data", "arc", "two-hops.eml"), "rb").read()
        sets = {}
        for name, text in (("arc", raw), ("dkim", without_arc(raw))):
            d = os.path.join(tmp, name)
            os.mkdir(d)
            with open(os.path.join(d, "m.eml"), "wb") as f:
                f.write(text)
            sets[name] = d
        sock = os.path.join(tmp, "mw.sock")
        conf = os.path.join(tmp, "mw.conf")
        with open(conf, "w") as f:
            f.write("socket = unix:%s\nuser =\npid_file =\nlog_file = %s\nrules_dir =\n"
                    "bayes_store =\ndns_zone_files = %s\ntrust_authenticated = no\n"
                    % (sock, os.path.join(tmp, "verdicts.log"), zone))
        err = open(os.path.join(tmp, "milter.stderr"), "wb")
        proc = subprocess.Popen([mw, "milter", "-f", "-c", conf], stdout=err, stderr=err)
        wait_socket(sock, proc)
        # warm up: key cache, first connections
        run_set(mwload, sock, proc.pid, sets["arc"], 200, a.concurrency)
        run_set(mwload, sock, proc.pid, sets["dkim"], 200, a.concurrency)
        res = {"arc": [], "dkim": []}
        for r in range(a.rounds):
            for name in ("dkim", "arc"):
                x = run_set(mwload, sock, proc.pid, sets[name], a.messages, a.concurrency)
                res[name].append(x)
                print("round %d %-4s %7.0f msg/s  %6.3f ms CPU/msg" %
                      (r + 1, name, x["rate"], x["cpu_ms"]))
                if a.show:
                    print(x["out"])
        med = {k: (statistics.median(x["rate"] for x in v),
                   statistics.median(x["cpu_ms"] for x in v)) for k, v in res.items()}
        for k in ("dkim", "arc"):
            print("median %-4s %7.0f msg/s  %6.3f ms CPU/msg" % (k, med[k][0], med[k][1]))
        print("ARC/DKIM: CPU per message x%.2f, throughput x%.2f" %
              (med["arc"][1] / med["dkim"][1], med["arc"][0] / med["dkim"][0]))
        print("load average: %s; %d CPUs" % (" ".join(open("/proc/loadavg").read().split()[:3]),
                                             os.cpu_count()))
        with open(os.path.join(tmp, "verdicts.log")) as f:
            lines = f.read().splitlines()
        arc_pass = sum('"arc":{"result":"pass"' in l for l in lines)
        arc_none = sum('"arc":{"result":"none"' in l for l in lines)
        print("verdict log: %d records, arc pass %d, arc none %d" %
              (len(lines), arc_pass, arc_none))
    finally:
        if proc and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if os.environ.get("ARC_LOAD_KEEP"):
            print("kept " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
