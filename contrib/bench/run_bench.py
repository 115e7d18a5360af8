#!/usr/bin/python3
"""run_bench.py - mailwarden side by side with OpenDKIM+OpenDMARC, rspamd and
SpamAssassin, through the milter protocol, on one DKIM-signed message set.

    make && /usr/bin/python3 contrib/bench/run_bench.py [options]

Run by hand as root from the top of a built tree (never part of make check).
In one run, on the same message set and DNS data, for each filter and at each
concurrency (default 1, 4, 16) it measures with contrib/bench/mwload:
messages/s, CPU seconds per message (utime+stime, children included, of
every process of the filter, read from /proc before and after), latency
p50/p95/p99, and peak RSS and PSS (summed over the filter's processes,
sampled during the run); it checks what the filters said (accept/reject,
spf/dkim/dmarc results in their Authentication-Results) and prints the ratios
mailwarden/peer.  Filters:

  mailwarden-auth  mailwarden with SPF, DKIM and DMARC only (no rules, Bayes)
  mailwarden       the default configuration with dns_servers set: shipped
                   rules, and a Bayes store trained on the corpus's train
                   split when this build has Bayes
  opendkim+opendmarc  OpenDKIM (verify) then OpenDMARC (SPF via libspf2),
                   chained as Postfix chains smtpd_milters
  rspamd           rspamd's proxy in milter mode with self_scan, its default
                   rules, Bayes in a private Redis (trained like mailwarden's)
  spamassassin     spamass-milter + spamd -L (network tests off), Bayes
                   trained with sa-learn; on a subset (--sa-count), it is slow

DNS: nsd on 127.0.0.x port 53 (a random x; port 53 because OpenDKIM's
Nameservers and the resolv.conf OpenDMARC's libspf2 reads take no port)
serves the test domain (SPF for the client addresses, the DKIM key, DMARC
p=reject), the HELO name, and an empty root zone so that every other name
(DMARC tree walk, blocklists, PTR) gets NXDOMAIN at once.  OpenDMARC runs in
a private mount namespace whose /etc/resolv.conf names that server; the
system's file is never touched.

The message set (contrib/bench/mkset.py) and the trained stores are kept in
--workdir (default /tmp/mwbench) and reused by later runs; nothing is written
into the source tree unless --markdown/--svg/--json name a file there, and
then only between the markers of --markdown (a file without them is
refused), an SVG chart this script wrote, or a new --json file.

--slope measures CPU per message against message size instead: text and
attachment messages of each of --sizes KB (contrib/bench/sizeset.py, built
into WORKDIR/slope), every filter (default: all but SpamAssassin) over every
size at one concurrency, in one run; it writes a log-log chart (--svg,
default doc/bench-slope.svg beside --markdown) and the block between the
bench-slope markers of --markdown, with each filter's exact configuration.
--render JSON redraws both from the --json of such a run.
"""
import argparse
import datetime
import json
import math
import os
import platform
import pwd
import re
import resource
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
import dnsserver  # noqa: E402

HZ = os.sysconf("SC_CLK_TCK")
NCPU = os.cpu_count() or 1
DOMAIN = "bench.example"
SELECTOR = "bench2048"
AUTHSERV = "mx.bench.test"
CLIENT_NET = "198.51.100"


def log(*a):
    print("[%s]" % time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)


# ---- /proc accounting ----

def stat_fields(pid):
    """Fields of /proc/PID/stat after the command name (state first), or
    None when the process is gone."""
    try:
        with open("/proc/%s/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    return s[s.rfind(")") + 2:].split()


def proc_table():
    """{pid: ppid} of every process."""
    out = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            rest = stat_fields(d)
            if rest is not None:
                out[int(d)] = int(rest[1])
    return out


def tree(roots):
    """roots and all their descendants."""
    table = proc_table()
    kids = {}
    for pid, ppid in table.items():
        kids.setdefault(ppid, []).append(pid)
    out, stack = [], [r for r in roots if r in table]
    while stack:
        p = stack.pop()
        out.append(p)
        stack.extend(kids.get(p, []))
    return out


def cpu_ticks(pids):
    """utime+stime+cutime+cstime summed (clock ticks)."""
    tot = 0
    for p in pids:
        rest = stat_fields(p)
        if rest is not None:
            tot += sum(int(x) for x in rest[11:15])
    return tot


def mem_kb(pids):
    """(sum of VmRSS, sum of Pss) in kB."""
    rss = pss = 0
    for p in pids:
        try:
            with open("/proc/%d/smaps_rollup" % p) as f:
                for line in f:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1])
                    elif line.startswith("Rss:"):
                        rss += int(line.split()[1])
        except OSError:
            continue
    return rss, pss


def machine_busy():
    """(busy, total) jiffies of all CPUs."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v[:8]) - idle, sum(v[:8])


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


class MemSampler(threading.Thread):
    def __init__(self, roots, interval=0.2):
        super().__init__(daemon=True)
        self.roots, self.interval = roots, interval
        self.peak_rss = self.peak_pss = 0
        self.stop_ev = threading.Event()

    def run(self):
        while not self.stop_ev.is_set():
            self.sample()
            self.stop_ev.wait(self.interval)

    def sample(self):
        rss, pss = mem_kb(tree(self.roots))
        self.peak_rss = max(self.peak_rss, rss)
        self.peak_pss = max(self.peak_pss, pss)

    def stop(self):
        self.stop_ev.set()
        self.join()
        self.sample()


# ---- helpers ----

def free_port():
    for _ in range(100):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", 0))
                return s.getsockname()[1]
            except OSError:
                continue
    raise RuntimeError("no free port")


def wait_for(pred, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.1)
    raise RuntimeError("timed out waiting for " + what)


def unix_ready(path):
    def pred():
        if not os.path.exists(path):
            return False
        with socket.socket(socket.AF_UNIX) as s:
            try:
                s.connect(path)
                return True
            except OSError:
                return False
    return pred


def tcp_ready(host, port):
    def pred():
        with socket.socket() as s:
            try:
                s.connect((host, port))
                return True
            except OSError:
                return False
    return pred


def train_counts(corpus):
    """(ham, spam) messages in the corpus's train split, from its
    MANIFEST.tsv; None when there is no manifest."""
    path = os.path.join(corpus, "MANIFEST.tsv")
    if not os.path.exists(path):
        return None
    n = {"ham": 0, "spam": 0}
    with open(path) as f:
        for line in f:
            cols = line.split("\t")
            if len(cols) > 2 and cols[0] == "train" and cols[1] in n:
                n[cols[1]] += 1
    return n["ham"], n["spam"]


def trained_on(ctx):
    """The training set of the Bayes stores, as the describe() lines say
    it."""
    if ctx.train:
        return "the corpus train split, %d ham + %d spam" % tuple(ctx.train)
    return "the corpus train split (no MANIFEST.tsv: counts unknown)"


def unpack_train(corpus, dest):
    for cls in ("ham", "spam"):
        with tarfile.open(os.path.join(corpus, "train", cls + ".tar.xz")) as t:
            if hasattr(tarfile, "data_filter"):
                t.extractall(dest, filter="data")
            else:
                t.extractall(dest)
    return os.path.join(dest, "train", "ham"), os.path.join(dest, "train", "spam")


class Proc:
    """A started daemon: Popen, its log, its root pids."""

    def __init__(self, argv, logpath, env=None, cwd=None):
        self.logf = open(logpath, "ab")
        self.argv = argv
        self.p = subprocess.Popen(argv, stdout=self.logf, stderr=self.logf,
                                  env=env, cwd=cwd, start_new_session=True)

    @property
    def pid(self):
        return self.p.pid

    def check(self):
        if self.p.poll() is not None:
            raise RuntimeError("%s exited with %d (log: %s)" % (
                self.argv[0], self.p.returncode, self.logf.name))

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.p.poll() is None:
            self.p.send_signal(sig)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.logf.close()


# ---- the filters ----

class Filter:
    name = "?"
    subset = None           # message count limit, or None
    fast = False            # several passes over the set per level

    def __init__(self, ctx):
        self.ctx = ctx
        self.procs = []
        self.files = []         # configuration files written, in order
        self.dir = tempfile.mkdtemp(prefix="mwbench-%s-" % self.name.split("+")[0],
                                    dir=ctx.tmp)
        os.chmod(self.dir, 0o755)

    def roots(self):
        return [p.pid for p in self.procs]

    def sockets(self):
        """The milter sockets, in chain order."""
        return ["unix:" + self.sock]

    def start(self):
        raise NotImplementedError

    def stop(self):
        for p in reversed(self.procs):
            p.stop()
        self.procs = []

    def describe(self):
        return ""

    def conf_file(self, path, text):
        """Write a configuration file of the filter (recorded for
        config())."""
        with open(path, "w") as f:
            f.write(text)
        self.files.append(path)

    def config(self):
        """[(label, text)]: the command line of each process started and
        every configuration file written, exactly, with the run's
        temporary paths named $DIR (this filter's directory), $WORKDIR
        (--workdir), $TMP (the run's temporary directory), $TOP (the
        source tree) and $NSD (the DNS server's address)."""
        def tidy(t):
            # whole path names only: /a/b is not the start of /a/b-build
            for path, name in ((self.dir, "$DIR"), (self.ctx.tmp, "$TMP"),
                               (self.ctx.workdir, "$WORKDIR"), (TOP, "$TOP"),
                               (self.ctx.dns_ip, "$NSD")):
                t = re.sub(re.escape(path) + r"(?![\w.-])", lambda m: name, t)
            return t
        out = [("command", tidy(shlex.join(p.argv))) for p in self.procs]
        for path in self.files:
            with open(path) as f:
                out.append((tidy(path), tidy(f.read())))
        return out


class Mailwarden(Filter):
    fast = True

    def __init__(self, ctx, full):
        self.name = "mailwarden" if full else "mailwarden-auth"
        self.full = full
        super().__init__(ctx)
        self.sock = os.path.join(self.dir, "mw.sock")
        self.conf = os.path.join(self.dir, "mailwarden.conf")
        self.notes = []

    def settings(self):
        keys = self.ctx.mw_keys
        s = {"socket": "unix:" + self.sock, "socket_mode": "0666",
             "user": "", "pid_file": "",
             "log_file": os.path.join(self.dir, "verdicts.log"),
             "log_level": "warning", "authserv_id": AUTHSERV,
             "dns_servers": self.ctx.dns_addr}
        if "rules_dir" in keys:
            s["rules_dir"] = os.path.join(TOP, "rules") if self.full else ""
            s["rules_site_dir"] = ""
        if "bayes_store" in keys:
            s["bayes_store"] = self.ctx.mw_bayes if self.full else ""
        if not self.full:
            for k in ("dnsbl", "uribl"):
                if k in keys:
                    s[k] = ""
        s.update(self.ctx.mw_set)
        return s

    def start(self):
        self.conf_file(self.conf, "".join(
            "%s = %s\n" % kv for kv in self.settings().items()))
        env = dict(os.environ)
        env.update(self.ctx.mw_env)
        p = Proc([self.ctx.mailwarden, "milter", "-f", "-c", self.conf],
                 os.path.join(self.dir, "milter.log"), env=env)
        self.procs.append(p)
        wait_for(lambda: (p.check(), unix_ready(self.sock)())[1], 60,
                 "mailwarden socket")

    def describe(self):
        keys = self.ctx.mw_keys
        have = [k for k in ("dkim_verify", "rules_dir", "bayes_store") if k in keys]
        parts = ["SPF", "DMARC"]
        if "dkim_verify" in keys:
            parts.insert(1, "DKIM")
        if self.full:
            if "rules_dir" in keys:
                parts.append("shipped rules")
            if "bayes_store" in keys:
                parts.append("Bayes (LMDB, trained on %s)" % trained_on(self.ctx))
        missing = [k for k in ("dkim_verify", "rules_dir", "bayes_store")
                   if k not in have]
        d = " + ".join(parts)
        if not self.full:
            d += "; rules and Bayes off (no training set)"
        if missing:
            d += " (this build lacks: %s)" % ", ".join(missing)
        return d


class NullMilter(Filter):
    """contrib/bench/nullmilter: libmilter and the protocol, no checks."""
    name = "null-milter"
    fast = True

    def start(self):
        self.sock = os.path.join(self.dir, "null.sock")
        p = Proc([self.ctx.nullmilter, "-p", "unix:" + self.sock],
                 os.path.join(self.dir, "nullmilter.log"))
        self.procs.append(p)
        wait_for(lambda: (p.check(), unix_ready(self.sock)())[1], 30,
                 "nullmilter socket")
        os.chmod(self.sock, 0o666)

    def describe(self):
        return ("contrib/bench/nullmilter: a libmilter milter that copies "
                "the message, adds one header and accepts (the floor)")


class OpendkimOpendmarc(Filter):
    name = "opendkim+opendmarc"
    fast = True

    def start(self):
        d = self.dir
        self.dkim_sock = os.path.join(d, "opendkim.sock")
        self.dmarc_sock = os.path.join(d, "opendmarc.sock")
        ns_ip = self.ctx.dns_ip
        self.conf_file(os.path.join(d, "opendkim.conf"), """Syslog no
Mode v
Socket local:%s
PidFile %s/opendkim.pid
Background no
UMask 000
Nameservers %s
AuthservID %s
""" % (self.dkim_sock, d, ns_ip, AUTHSERV))
        self.conf_file(os.path.join(d, "ignore.hosts"), "127.0.0.1\n")
        self.conf_file(os.path.join(d, "opendmarc.conf"), """Syslog false
Socket local:%s
PidFile %s/opendmarc.pid
Background false
UMask 000
AuthservID %s
TrustedAuthservIDs %s
IgnoreHosts %s/ignore.hosts
PublicSuffixList /usr/share/publicsuffix/public_suffix_list.dat
SPFSelfValidate true
""" % (self.dmarc_sock, d, AUTHSERV, AUTHSERV, d))
        self.conf_file(os.path.join(d, "resolv.conf"),
                       "nameserver %s\noptions attempts:2 timeout:2\n" % ns_ip)
        self.procs.append(Proc(["/usr/sbin/opendkim", "-f", "-x",
                                os.path.join(d, "opendkim.conf")],
                               os.path.join(d, "opendkim.log")))
        # OpenDMARC (libspf2, libresolv) reads /etc/resolv.conf: give it
        # its own in a private mount namespace
        self.procs.append(Proc([
            "unshare", "-m", "--propagation", "private", "sh", "-c",
            'mount --bind "$0" /etc/resolv.conf && exec "$@"',
            os.path.join(d, "resolv.conf"), "/usr/sbin/opendmarc", "-f",
            "-c", os.path.join(d, "opendmarc.conf")],
            os.path.join(d, "opendmarc.log")))
        for p, s in zip(self.procs, (self.dkim_sock, self.dmarc_sock)):
            wait_for(lambda: (p.check(), unix_ready(s)())[1], 60, s)

    def sockets(self):
        return ["unix:" + self.dkim_sock, "unix:" + self.dmarc_sock]

    def describe(self):
        return ("OpenDKIM %s (verify) then OpenDMARC %s (SPFSelfValidate, "
                "libspf2), chained" % (self.ctx.pkgver("opendkim"),
                                       self.ctx.pkgver("opendmarc")))


class Rspamd(Filter):
    name = "rspamd"

    def start(self):
        d = self.dir
        ctx = self.ctx
        self.sock = os.path.join(d, "milter.sock")
        self.ctl_port = free_port()
        redis_port = free_port()
        rdir = os.path.join(ctx.workdir, "rspamd-redis")
        dbdir = os.path.join(ctx.workdir, "rspamd-db")
        os.makedirs(rdir, exist_ok=True)
        os.makedirs(dbdir, exist_ok=True)
        self.procs.append(Proc([
            "redis-server", "--bind", "127.0.0.1", "--port", str(redis_port),
            "--dir", rdir, "--dbfilename", "dump.rdb", "--save", "",
            "--appendonly", "no", "--daemonize", "no"],
            os.path.join(d, "redis.log")))
        wait_for(lambda: subprocess.run(
            ["redis-cli", "-p", str(redis_port), "ping"], capture_output=True,
            text=True).stdout.strip() == "PONG", 60, "redis")
        self.redis_port = redis_port
        local = os.path.join(d, "local.d")
        os.makedirs(local)
        os.makedirs(os.path.join(d, "override.d"))
        files = {
            "worker-proxy.inc": """bind_socket = "%s mode=0666";
milter = yes;
upstream "local" { default = yes; self_scan = yes; }
timeout = 120s;
count = %d;
""" % (self.sock, NCPU),
            "worker-normal.inc": "enabled = false;\n",
            "worker-controller.inc": 'bind_socket = "127.0.0.1:%d";\n'
                                     % self.ctl_port,
            "options.inc": 'dns { nameserver = ["%s"]; }\n' % ctx.dns_addr,
            "redis.conf": 'servers = "127.0.0.1:%d";\n' % redis_port,
            "milter_headers.conf":
                'use = ["authentication-results", "x-spam-status"];\n',
            # every message of the set is new to it: greylisting would
            # answer a quarter of them 451 after scanning them in full
            "greylist.conf": "enabled = false;\n",
            "logging.inc": 'type = "file";\nfilename = "%s/rspamd.log";\n'
                           'level = "warning";\n' % d,
        }
        for name, text in files.items():
            self.conf_file(os.path.join(local, name), text)
        self.procs.append(Proc([
            "rspamd", "-f", "-i", "-c", "/etc/rspamd/rspamd.conf",
            "--var=LOCAL_CONFDIR=%s" % d, "--var=DBDIR=%s" % dbdir,
            "--var=RUNDIR=%s" % d, "--var=LOGDIR=%s" % d],
            os.path.join(d, "rspamd.stderr")))
        p = self.procs[-1]
        wait_for(lambda: (p.check(), unix_ready(self.sock)())[1], 300,
                 "rspamd milter socket")
        wait_for(tcp_ready("127.0.0.1", self.ctl_port), 120,
                 "rspamd controller")

    def train(self, ham, spam):
        mark = os.path.join(self.ctx.workdir, "rspamd-redis", "trained")
        if os.path.exists(mark) and not self.ctx.args.retrain:
            return
        log("rspamd: training Bayes on %s and %s" % (ham, spam))
        for cmd, src in (("learn_ham", ham), ("learn_spam", spam)):
            subprocess.run(["rspamc", "-h", "127.0.0.1:%d" % self.ctl_port,
                            "-n", str(NCPU), cmd, src], check=True,
                           stdout=subprocess.DEVNULL)
        subprocess.run(["redis-cli", "-p", str(self.redis_port), "save"],
                       check=True, stdout=subprocess.DEVNULL)
        open(mark, "w").close()

    def describe(self):
        return ("rspamd %s, proxy worker x%d (milter, self_scan), default "
                "rules, greylisting off, Bayes in Redis (trained on %s), "
                "Redis counted"
                % (self.ctx.pkgver("rspamd"), NCPU, trained_on(self.ctx)))


class SpamAssassin(Filter):
    name = "spamassassin"

    def __init__(self, ctx):
        super().__init__(ctx)
        self.subset = ctx.args.sa_count

    def start(self):
        d = self.dir
        ctx = self.ctx
        self.sock = os.path.join(d, "spamass.sock")
        port = free_port()
        pw = pwd.getpwnam("debian-spamd")
        bdir = os.path.join(ctx.workdir, "sa-bayes")
        os.makedirs(bdir, exist_ok=True)
        site = os.path.join(d, "site")
        home = os.path.join(d, "home")
        os.makedirs(site)
        os.makedirs(home)
        for p in (bdir, home):
            os.chown(p, pw.pw_uid, pw.pw_gid)
        self.site = site
        # the stock site config (/etc/spamassassin) plus a private Bayes path
        for fn in os.listdir("/etc/spamassassin"):
            src = os.path.join("/etc/spamassassin", fn)
            if os.path.isfile(src):
                shutil.copy(src, site)
        self.conf_file(os.path.join(site, "zz_bench.cf"),
                       "bayes_path %s/bayes\nbayes_file_mode 0666\n" % bdir)
        self.bdir = bdir
        self.procs.append(Proc([
            "/usr/sbin/spamd", "-L", "--listen=127.0.0.1:%d" % port,
            "-u", "debian-spamd", "-x", "-H", home,
            "--siteconfigpath=%s" % site, "-s", os.path.join(d, "spamd.log"),
            "-r", os.path.join(d, "spamd.pid")],
            os.path.join(d, "spamd.stderr")))
        p = self.procs[-1]
        wait_for(lambda: (p.check(), tcp_ready("127.0.0.1", port)())[1], 300,
                 "spamd")
        self.procs.append(Proc([
            "/usr/sbin/spamass-milter", "-p", self.sock,
            "-P", os.path.join(d, "spamass.pid"),
            "--", "-d", "127.0.0.1", "-p", str(port)],
            os.path.join(d, "spamass-milter.log")))
        p = self.procs[-1]
        wait_for(lambda: (p.check(), unix_ready(self.sock)())[1], 60,
                 "spamass-milter socket")
        os.chmod(self.sock, 0o666)

    def train(self, ham, spam):
        mark = os.path.join(self.bdir, "trained")
        if os.path.exists(mark) and not self.ctx.args.retrain:
            return
        log("spamassassin: training Bayes with sa-learn (takes minutes)")
        for opt, src in (("--ham", ham), ("--spam", spam)):
            subprocess.run(["sa-learn", "--siteconfigpath=%s" % self.site,
                            "-L", opt, src], check=True,
                           stdout=subprocess.DEVNULL)
        pw = pwd.getpwnam("debian-spamd")
        for fn in os.listdir(self.bdir):
            os.chown(os.path.join(self.bdir, fn), pw.pw_uid, pw.pw_gid)
        open(mark, "w").close()

    def describe(self):
        return ("SpamAssassin %s via spamass-milter %s, spamd -L (local "
                "tests only), Bayes (sa-learn, trained on %s); spamc runs "
                "are children of spamass-milter and counted"
                % (self.ctx.pkgver("spamassassin"),
                   self.ctx.pkgver("spamass-milter"), trained_on(self.ctx)))


# ---- running a level ----

class Ctx:
    pass


FILTERS = ("null-milter", "mailwarden-auth", "mailwarden",
           "opendkim+opendmarc", "rspamd", "spamassassin")


def make_filter(ctx, name, train_set):
    """The driver of filter name; train_set() gives the (ham, spam)
    directories of the training split (mailwarden's store is trained
    here, before its daemon starts)."""
    if name == "mailwarden-auth":
        return Mailwarden(ctx, False)
    if name == "mailwarden":
        if "bayes_store" in ctx.mw_keys:
            train_mailwarden(ctx, *train_set())
        return Mailwarden(ctx, True)
    if name == "null-milter":
        return NullMilter(ctx)
    if name == "opendkim+opendmarc":
        return OpendkimOpendmarc(ctx)
    if name == "rspamd":
        return Rspamd(ctx)
    if name == "spamassassin":
        return SpamAssassin(ctx)
    sys.exit("run_bench: unknown filter %s (known: %s)"
             % (name, ", ".join(FILTERS)))


def start_filter(f, train_set):
    """Start f, train the filters that train themselves, and wait until
    it is idle."""
    f.start()
    if hasattr(f, "train"):
        f.train(*train_set())
    settle(f)


def mwload(ctx, f, conc, count, extra=()):
    argv = [ctx.mwload, "--json", "-c", str(conc), "-n", str(count),
            "-i", ctx.ips_file]
    for s in f.sockets():
        argv += ["-s", s]
    argv += list(extra) + [ctx.msgdir]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=7200)
    try:
        return json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise RuntimeError("mwload failed: %s %s" % (r.stdout, r.stderr))


def settle(f, quiet_ticks=3, window=2.0, timeout=600):
    """Wait until the filter's processes are (nearly) idle: startup work
    such as rspamd's regexp compilation must not be billed to messages."""
    end = time.monotonic() + timeout
    last = cpu_ticks(tree(f.roots()))
    while time.monotonic() < end:
        time.sleep(window)
        now = cpu_ticks(tree(f.roots()))
        if now - last <= quiet_ticks:
            return
        last = now
    log("%s: still busy after %ds, measuring anyway" % (f.name, timeout))


def run_level(ctx, f, conc, count, extra=()):
    roots = f.roots()
    pids0 = tree(roots)
    load0 = loadavg()
    busy0 = machine_busy()
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu0 = cpu_ticks(pids0)
    sampler = MemSampler(roots)
    sampler.start()
    t0 = time.monotonic()
    res = mwload(ctx, f, conc, count, extra)
    wall = time.monotonic() - t0
    sampler.stop()
    cpu1 = cpu_ticks(tree(roots))
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy1 = machine_busy()
    load1 = loadavg()
    n = res["messages"] or 1
    filt_s = (cpu1 - cpu0) / HZ
    load_s = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    jiffies_busy = busy1[0] - busy0[0]
    jiffies_all = busy1[1] - busy0[1]
    machine_cores = NCPU * jiffies_busy / jiffies_all if jiffies_all else 0
    other = max(0.0, machine_cores - (filt_s + load_s) / wall)
    res.update({
        "filter": f.name, "cpu_s": filt_s, "cpu_ms_per_msg": 1000 * filt_s / n,
        "mwload_cpu_s": load_s, "wall_s": wall,
        "peak_rss_mb": sampler.peak_rss / 1024.0,
        "peak_pss_mb": sampler.peak_pss / 1024.0,
        "processes": len(tree(roots)),
        "load_before": load0, "load_after": load1,
        "machine_busy_cores": machine_cores, "other_busy_cores": other,
    })
    return res


def profile(ctx, f, outdir, conc, count):
    """One more pass under perf (cpu-clock sampling: no hardware counters
    in this guest); writes perf-NAME.data and perf-NAME.txt, the flat
    profile by symbol, and returns the text."""
    os.makedirs(outdir, exist_ok=True)
    data = os.path.join(outdir, "perf-%s.data" % f.name)
    txt = os.path.join(outdir, "perf-%s.txt" % f.name)
    pids = ",".join(str(p) for p in tree(f.roots()))
    cg = ["--call-graph", ctx.profile_callgraph] if ctx.profile_callgraph \
        else ["-g"]
    rec = subprocess.Popen(["perf", "record", "-q", "-e", "cpu-clock",
                            "-F", "4000"] + cg + ["-p", pids, "-o", data],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1.0)
    res = mwload(ctx, f, conc, count)
    rec.send_signal(signal.SIGINT)
    rec.wait(60)
    rep = subprocess.run(["perf", "report", "-i", data, "--stdio",
                          "--no-children", "-g", "none", "--percent-limit",
                          "0.3", "--sort", "dso,symbol"],
                         capture_output=True, text=True).stdout
    with open(txt, "w") as fh:
        fh.write("# %s, %d messages at concurrency %d, %.1f msg/s under perf\n"
                 % (f.name, res["messages"], conc, res["msgs_per_sec"]))
        fh.write(rep)
    return txt


def switches(ctx, f, conc, count):
    """One more pass at concurrency conc counted by `perf stat -a`
    (the whole machine: the filter, mwload, the kernel): context
    switches, futex calls and scheduler wake-ups per message.  Where a
    daemon costs more than `mailwarden scan` for the same work, this is
    where it shows (malloc's arena locks, preemption; doc/benchmarks.md).
    None when perf cannot count."""
    events = ["context-switches", "syscalls:sys_enter_futex",
              "sched:sched_wakeup"]
    out = os.path.join(f.dir, "switches.csv")
    argv = ["perf", "stat", "-a", "-x,", "-o", out,
            "-e", ",".join(events), ctx.mwload, "--json", "-c", str(conc),
            "-n", str(count), "-i", ctx.ips_file]
    for sock in f.sockets():
        argv += ["-s", sock]
    r = subprocess.run(argv + [ctx.msgdir], capture_output=True, text=True,
                       timeout=7200)
    if r.returncode != 0 or not os.path.exists(out):
        return None
    got = {}
    with open(out) as fh:
        for line in fh:
            parts = line.strip().split(",")
            if len(parts) > 2 and parts[2] in events:
                try:
                    got[parts[2]] = float(parts[0]) / count
                except ValueError:
                    return None
    if len(got) != len(events):
        return None
    return {"context_switches": got["context-switches"],
            "futex": got["syscalls:sys_enter_futex"],
            "wakeups": got["sched:sched_wakeup"]}


def scan_cpu(ctx, f, runs=5, overrides=None):
    """The pipeline without the milter protocol: `mailwarden scan` over the
    whole set in one process, best of runs, less the best of the same
    command over the first message alone (start-up: loading the rules,
    compiling the Hyperscan prefilter, opening the Bayes store), divided
    by the other messages; CPU ms per message.  The scan runs with the
    daemon's settings (rules_hyperscan as the daemon has it), so the two
    are the same work."""
    conf = os.path.join(f.dir, "scan.conf")
    settings = f.settings()
    if "rules_hyperscan" in ctx.mw_keys:
        settings["rules_hyperscan"] = "yes"
    settings.update(overrides or {})
    with open(conf, "w") as fh:
        for k, v in settings.items():
            if k not in ("socket", "socket_mode"):
                fh.write("%s = %s\n" % (k, v))
    files = sorted(os.path.join(ctx.msgdir, n) for n in os.listdir(ctx.msgdir))

    def best_of(paths):
        best = None
        for _ in range(runs):
            ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run([ctx.mailwarden, "scan", "-c", conf, "--ip",
                            CLIENT_NET + ".10", "--helo", "client.bench.test",
                            "--from", "sender@" + DOMAIN, "--rcpt",
                            "user@bench.test"] + paths, check=True,
                           stdout=subprocess.DEVNULL)
            ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
            best = cpu if best is None else min(best, cpu)
        return best

    if len(files) < 2:
        return 1000.0 * best_of(files) / max(len(files), 1)
    return 1000.0 * max(best_of(files) - best_of(files[:1]), 0.0) / \
        (len(files) - 1)


def scan_breakdown(ctx, f):
    """CPU per message of `mailwarden scan` with the checks switched on
    one after the other: what each stage adds.  The first row (all checks
    off) is reading and parsing the files, the MIME decoding that always
    runs, the verdict and its log line."""
    keys = ctx.mw_keys
    stages = [("SPF + DMARC", {"spf": "yes", "dmarc": "yes"})]
    if "dkim_verify" in keys:
        stages.append(("+ DKIM", {"dkim_verify": "yes"}))
    if "rules_dir" in keys:
        stages.append(("+ shipped rules", {"rules_dir": os.path.join(TOP, "rules")}))
    if "bayes_store" in keys:
        stages.append(("+ Bayes (LMDB)", {"bayes_store": ctx.mw_bayes}))
    cur = {"spf": "no", "dmarc": "no", "rules_dir": "", "bayes_store": ""}
    if "dkim_verify" in keys:
        cur["dkim_verify"] = "no"
    rows = [("all checks off", scan_cpu(ctx, f, overrides=dict(cur)))]
    for label, over in stages:
        cur.update(over)
        rows.append((label, scan_cpu(ctx, f, overrides=dict(cur))))
    return rows


def pkgver(name):
    r = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", name],
                       capture_output=True, text=True)
    return r.stdout.strip() or "?"


def mailwarden_config(mw):
    """{key: default value} of every configuration key this build
    knows."""
    with tempfile.NamedTemporaryFile("w", suffix=".conf") as f:
        f.write("user =\n")
        f.flush()
        r = subprocess.run([mw, "config", "-c", f.name], capture_output=True,
                           text=True)
    if r.returncode != 0:
        sys.exit("run_bench: %s config failed: %s" % (mw, r.stderr.strip()))
    return dict((k.strip(), v.strip()) for k, v in (
        line.split(" = ", 1) for line in r.stdout.splitlines()
        if " = " in line and not line.startswith("#")))


def train_mailwarden(ctx, ham, spam):
    if "bayes_store" not in ctx.mw_keys:
        return
    store = ctx.mw_bayes
    shutil.rmtree(store, ignore_errors=True)
    os.makedirs(store)
    conf = os.path.join(ctx.tmp, "train.conf")
    with open(conf, "w") as f:
        f.write("user =\npid_file =\nlog_file =\nbayes_store = %s\n" % store)
    log("mailwarden: training Bayes (%s)" % store)
    t0 = time.monotonic()
    subprocess.run([ctx.mailwarden, "train", "-c", conf, "--ham", ham],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run([ctx.mailwarden, "train", "-c", conf, "--spam", spam],
                   check=True, stdout=subprocess.DEVNULL)
    log("mailwarden: trained in %.1f s" % (time.monotonic() - t0))


# ---- output ----

def fmt(v, nd=2):
    if v is None:
        return "-"
    if v >= 100:
        return "%.0f" % v
    if v >= 10:
        return "%.1f" % v
    return ("%%.%df" % nd) % v


def conc_label(r):
    if r.get("rate"):
        return "%d @ %.0f/s" % (r["concurrency"], r["rate"])
    return "%d" % r["concurrency"]


def markdown(ctx, results, meta):
    out = []
    out.append("Measured %s on %s (%s, %d CPUs), kernel %s; mailwarden %s."
               % (meta["date"], meta["host_model"], meta["virt"], NCPU,
                  meta["kernel"], meta["mw_version"]))
    out.append("Message set: %d messages, %s.  Load average before the run "
               "%s, after %s; the last column is the CPU other people used "
               "during each level (cores, from /proc/stat)." % (
                   meta["set"]["count"], meta["set_desc"],
                   " ".join("%.2f" % x for x in meta["load_start"]),
                   " ".join("%.2f" % x for x in meta["load_end"])))
    if meta.get("train"):
        out.append("Bayes training set (mailwarden, rspamd, SpamAssassin): "
                   "the corpus train split, %d ham + %d spam." % tuple(
                       meta["train"]))
    out.append("")
    out.append("| filter | conc. | msgs | msg/s | CPU ms/msg | p50 ms | p95 ms "
               "| p99 ms | peak RSS MB | peak PSS MB | others' load |")
    out.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
               "| ---: | ---: |")
    for r in results:
        out.append("| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %.2f |" % (
            r["filter"], conc_label(r), r["messages"],
            fmt(r["msgs_per_sec"]), fmt(r["cpu_ms_per_msg"], 3),
            fmt(r["p50_ms"]), fmt(r["p95_ms"]), fmt(r["p99_ms"]),
            fmt(r["peak_rss_mb"]), fmt(r["peak_pss_mb"]),
            r["other_busy_cores"]))
    out.append("")
    # correctness, at the highest unpaced level of each filter
    out.append("What the filters answered at the highest concurrency (spf/dkim/"
               "dmarc: results in the Authentication-Results they added; - = "
               "they add none):")
    out.append("")
    out.append("| filter | msgs | accept | reject | tempfail | spf=pass | "
               "dkim=pass | dmarc=pass | flagged spam | errors |")
    out.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
               "| ---: |")
    last = {}
    for r in results:
        if not r.get("rate"):
            last[r["filter"]] = r

    def passed(r, m):
        a = r["auth"][m]
        return "%d" % a["pass"] if a["absent"] < r["messages"] else "-"
    for name, r in last.items():
        out.append("| %s | %d | %d | %d | %d | %s | %s | %s | %d | %d |" % (
            name, r["messages"], r["accept"], r["reject"], r["tempfail"],
            passed(r, "spf"), passed(r, "dkim"), passed(r, "dmarc"),
            r["spam_yes"], r["errors"]))
    out.append("")
    # ratios: the full pipeline against every peer, and the auth checks
    # against the auth-only peer
    pairs = [("mailwarden", n) for n in last if not n.startswith("mailwarden")
             and n != "null-milter"]
    if "opendkim+opendmarc" in last:
        pairs.insert(0, ("mailwarden-auth", "opendkim+opendmarc"))
    table = []
    for mine, peer in pairs:
        mw = {r["concurrency"]: r for r in results
              if r["filter"] == mine and not r.get("rate")}
        for r in results:
            if r["filter"] != peer or r.get("rate") or \
                    r["concurrency"] not in mw:
                continue
            m = mw[r["concurrency"]]

            def ratio(k):
                return fmt(m[k] / r[k], 3) if r[k] else "-"
            table.append("| %s / %s | %d | %s | %s | %s | %s |" % (
                mine, peer, r["concurrency"], ratio("msgs_per_sec"),
                ratio("cpu_ms_per_msg"), ratio("p99_ms"),
                ratio("peak_pss_mb")))
    if table:
        out.append("Ratios mailwarden / peer at the same concurrency (msg/s: "
                   "above 1 is faster; CPU, p99 and PSS: below 1 is cheaper):")
        out.append("")
        out.append("| pair | conc. | msg/s | CPU/msg | p99 | PSS |")
        out.append("| --- | ---: | ---: | ---: | ---: | ---: |")
        out += table
        out.append("")
    # goals
    goals = []

    def rows(name, paced=False):
        return [r for r in results if r["filter"] == name and
                bool(r.get("rate")) == paced]
    auth, full = rows("mailwarden-auth"), rows("mailwarden")
    floor = rows("null-milter")
    scan = meta.get("scan_ms", {})
    if auth:
        worst = max(r["cpu_ms_per_msg"] for r in auth)
        g = ("auth checks <= 0.4 ms CPU/msg (issue 21): %.3f ms at the "
             "worst level -> %s" % (worst, "met" if worst <= 0.4 else
                                    "MISSED"))
        if floor:
            g += ("; the null milter (libmilter alone) costs %.3f-%.3f ms" % (
                min(r["cpu_ms_per_msg"] for r in floor),
                max(r["cpu_ms_per_msg"] for r in floor)))
        if "mailwarden-auth" in scan:
            g += "; the checks alone (mailwarden scan) %.3f ms" % \
                scan["mailwarden-auth"]
        goals.append(g)
    if full:
        worst = max(r["cpu_ms_per_msg"] for r in full)
        g = ("full pipeline <= 1 ms CPU/msg: %.3f ms at the worst level -> %s"
             % (worst, "met" if worst <= 1.0 else "MISSED"))
        if "mailwarden" in scan:
            g += "; the checks alone (mailwarden scan) %.3f ms" % \
                scan["mailwarden"]
        goals.append(g)
        if "mailwarden" in scan and floor:
            over = worst - scan["mailwarden"]
            nm = max(r["cpu_ms_per_msg"] for r in floor)
            goals.append("daemon over scan <= the null milter (issue 21): "
                         "%.3f ms over scan, null milter %.3f ms -> %s"
                         % (over, nm, "met" if over <= nm else "MISSED"))
        c16 = [r for r in full if r["concurrency"] == 16]
        if c16:
            goals.append("p99 <= 10 ms at concurrency 16, warm cache: %.2f ms "
                         "with the two cores saturated -> %s" % (
                             c16[0]["p99_ms"],
                             "met" if c16[0]["p99_ms"] <= 10 else "MISSED"))
            for r in rows("mailwarden", True):
                goals.append("p99 at concurrency 16 paced at %.0f msg/s: "
                             "%.2f ms -> %s" % (
                                 r["rate"], r["p99_ms"],
                                 "met" if r["p99_ms"] <= 10 else "MISSED"))
            goals.append("PSS <= 32 MB at concurrency 16: %.1f MB -> %s"
                         % (c16[0]["peak_pss_mb"],
                            "met" if c16[0]["peak_pss_mb"] <= 32 else "MISSED"))
    if meta.get("scan_stages"):
        out.append("The checks without the milter protocol: `mailwarden scan` "
                   "over the set in one process (best of five, less the "
                   "same over one message: start-up left out; the "
                   "daemon's settings, Hyperscan prefilter included), "
                   "checks switched on one after the other:")
        out.append("")
        out.append("| checks | CPU ms/msg | added |")
        out.append("| --- | ---: | ---: |")
        prev = None
        for label, ms in meta["scan_stages"]:
            out.append("| %s | %.3f | %s |" % (
                label, ms, "" if prev is None else "%+.3f" % (ms - prev)))
            prev = ms
        out.append("")
    if goals:
        out.append("Goals (issues 9 and 21):")
        out.append("")
        out += ["- " + g for g in goals]
        out.append("")
    out.append("Filters:")
    out.append("")
    out += ["- %s: %s" % (k, v) for k, v in meta["filters"].items()]
    return "\n".join(out) + "\n"


def bench_zones(pubkey):
    """The zones nsd serves: test domain, HELO name, empty root."""
    chunks = [pubkey[i:i + 200] for i in range(0, len(pubkey), 200)]
    return {
        DOMAIN: """
@           TXT "v=spf1 ip4:%s.0/24 -all"
@           MX  10 mx
mx          A   %s.1
%s._domainkey TXT ( "v=DKIM1; k=rsa; p=" %s )
_dmarc      TXT "v=DMARC1; p=reject; adkim=r; aspf=r"
""" % (CLIENT_NET, CLIENT_NET, SELECTOR, " ".join('"%s"' % c for c in chunks)),
        "bench.test": """
client      A   %s.10
client      TXT "v=spf1 ip4:%s.0/24 -all"
mx          A   127.0.0.1
""" % (CLIENT_NET, CLIENT_NET),
        ".": """
@   SOA ns. hostmaster. 1 3600 600 86400 300
@   NS  ns.
ns  A   127.0.0.1
""",
    }


BEGIN, END = "<!-- bench-results-begin -->", "<!-- bench-results-end -->"


def write_markdown(path, text):
    """Write text between the BEGIN/END markers of path, keeping what is
    around them (doc/benchmarks.md); a new file gets the markers."""
    write_block(path, text, BEGIN, END)


SUM_BEGIN, SUM_END = "<!-- bench-summary-begin -->", "<!-- bench-summary-end -->"


def md_table(lines, i):
    """Rows (lists of cells) of the Markdown table starting at lines[i]."""
    rows = []
    for line in lines[i + 2:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip().strip("|").split("|")])
    return rows


def readme_summary(block, md_name):
    """The README's performance summary, made from the results block that
    a run wrote into doc/benchmarks.md (so no figure is typed by hand):
    the run's header, every filter at concurrency 16, the CPU ratios over
    the levels, the goals and each filter's configuration."""
    lines = block.splitlines()
    head = [x for x in lines if x.startswith("Measured ") or
            x.startswith("Message set:") or
            x.startswith("Bayes training set")]
    if len(head) < 2:
        raise ValueError("%s: no 'Measured' and 'Message set' lines in the "
                         "results block" % md_name)
    res = [i for i, x in enumerate(lines) if x.startswith("| filter | conc.")]
    if not res:
        raise ValueError("%s: no results table in the results block"
                         % md_name)
    out = ["Generated by `contrib/bench/run_bench.py --readme` from the run "
           "recorded in [%s](%s). %s" % (md_name, md_name, " ".join(head)),
           "", "At concurrency 16 (closed loop, both cores saturated):", "",
           "| filter | msg/s | CPU ms/msg | p99 ms | PSS MB |",
           "| --- | ---: | ---: | ---: | ---: |"]
    for r in md_table(lines, res[0]):
        if r[1] == "16":
            out.append("| %s | %s | %s | %s | %s |" % (r[0], r[3], r[4],
                                                       r[7], r[9]))
    out.append("")
    rat = [i for i, x in enumerate(lines) if x.startswith("| pair | conc.")]
    if rat:
        spans = {}
        for r in md_table(lines, rat[0]):
            spans.setdefault(r[0], []).append(r)
        out.append("CPU per message, mailwarden / peer, over the "
                   "concurrency levels of the same run (below 1 is cheaper):")
        out.append("")
        for pair, rows in spans.items():
            cpu = sorted((x[3] for x in rows if x[3] != "-"), key=float)
            if cpu:
                out.append("- %s: %s-%s" % (pair, cpu[0], cpu[-1]))
        out.append("")
    for title in ("Goals", "Filters:"):
        k = [i for i, x in enumerate(lines) if x.startswith(title)]
        if not k:
            continue
        out.append(lines[k[0]])
        out.append("")
        for x in lines[k[0] + 1:]:
            if x.startswith("- "):
                out.append(x)
            elif x.strip() and not x.startswith("- "):
                break
        out.append("")
    return "\n".join(out)


def write_readme(path, md_path):
    """Put readme_summary() of md_path's results block between path's
    summary markers; the rest of path stays as it is."""
    with open(md_path) as f:
        md = f.read()
    if BEGIN not in md or END not in md:
        raise ValueError("%s: no results block (%s ... %s)"
                         % (md_path, BEGIN, END))
    block = md.split(BEGIN, 1)[1].split(END, 1)[0]
    with open(path) as f:
        old = f.read()
    if SUM_BEGIN not in old or SUM_END not in old:
        raise ValueError("%s: no summary markers (%s ... %s)"
                         % (path, SUM_BEGIN, SUM_END))
    rel = os.path.relpath(md_path, os.path.dirname(os.path.abspath(path)))
    head, rest = old.split(SUM_BEGIN, 1)
    text = (head + SUM_BEGIN + "\n" + readme_summary(block, rel) +
            rest[rest.index(SUM_END):])
    with open(path, "w") as f:
        f.write(text)


# ---- cost against message size (--slope) ----

SLOPE_FILTERS = ("null-milter", "mailwarden-auth", "mailwarden",
                 "opendkim+opendmarc", "rspamd")
SLOPE_BEGIN, SLOPE_END = "<!-- bench-slope-begin -->", "<!-- bench-slope-end -->"
SVG_MARK = "written by contrib/bench/run_bench.py in slope mode"
SLOPE_SET_VERSION = 1


def slope_files(kb):
    """Distinct messages built for a size point (mwload reuses them round
    robin): 50 up to 16 KB, 8 at 256 KB and more."""
    return max(8, min(50, 2048 // kb))


def slope_set(ctx, sizes):
    """The size-slope message set in WORKDIR/slope (built by this script;
    reused while its sizes and version match): for each kind of
    sizeset.KINDS and each size in KB a directory of DKIM-signed
    messages.  Returns (points, pubkey, description)."""
    import random
    sys.path.insert(0, HERE)
    import mkset        # noqa: E402  (python3-dkim; the key, the corpus)
    import sizeset      # noqa: E402
    import dkim         # noqa: E402
    args = ctx.args
    setdir = os.path.join(ctx.workdir, "slope")
    manpath = os.path.join(setdir, "manifest.json")
    want = {"version": SLOPE_SET_VERSION, "sizes": sizes, "domain": DOMAIN,
            "selector": SELECTOR}
    man = None
    if os.path.exists(manpath) and not args.rebuild_set:
        with open(manpath) as f:
            man = json.load(f)
        if any(man.get(k) != v for k, v in want.items()):
            man = None
    if man is None:
        shutil.rmtree(setdir, ignore_errors=True)
        os.makedirs(setdir)
        log("building the size-slope message set in %s" % setdir)
        tmp = tempfile.mkdtemp(prefix="mw-corpus-", dir=ctx.tmp)
        raws = [raw for cls, _, raw in mkset.load_corpus(args.corpus, "test", tmp)
                if cls == "ham"]
        shutil.rmtree(tmp, ignore_errors=True)
        bodies = sizeset.bodies_of(raws)
        keyfile = os.path.join(setdir, "dkim.key")
        pub = mkset.genkey(keyfile)
        with open(keyfile, "rb") as f:
            key = f.read()
        txt = ("v=DKIM1; k=rsa; p=" + pub).encode()

        def dnsfunc(name, timeout=5):
            return txt if name.rstrip(b".").lower() == (
                "%s._domainkey.%s" % (SELECTOR, DOMAIN)).encode() else None
        rnd = random.Random(1)
        points = []
        for kind in sizeset.KINDS:
            for kb in sizes:
                d = os.path.join(setdir, "%s-%d" % (kind, kb))
                paths = sizeset.build_point(d, kind, kb * 1024, slope_files(kb),
                                            bodies, rnd, DOMAIN, key, SELECTOR)
                with open(paths[0], "rb") as f:
                    if not dkim.verify(f.read(), dnsfunc=dnsfunc):
                        sys.exit("run_bench: %s: DKIM signature does not "
                                 "verify" % paths[0])
                nbytes = [os.path.getsize(p) for p in paths]
                points.append({"kind": kind, "kb": kb, "dir": os.path.basename(d),
                               "files": len(paths),
                               "bytes": sum(nbytes) / len(nbytes)})
                log("slope set: %s %d KB, %d messages of %.1f KB" % (
                    kind, kb, len(paths), points[-1]["bytes"] / 1024))
        man = dict(want, pubkey=pub, bodies=len(bodies), points=points)
        with open(manpath + ".tmp", "w") as f:
            json.dump(man, f, indent=1)
        os.replace(manpath + ".tmp", manpath)
    points = [dict(p, dir=os.path.join(setdir, p["dir"])) for p in man["points"]]
    nfiles = [p["files"] for p in points]
    desc = ("for each size %s KB, %s messages (contrib/bench/sizeset.py); "
            "text: plain text (us-ascii) made of the bodies of the %d ham "
            "messages of the corpus test split, one after the other; "
            "attachment: a short text (2,000 bytes of such a body) and a "
            "base64 attachment of random bytes; %d-%d distinct messages per "
            "point (fewer for the larger sizes), sent round robin; "
            "DKIM-signed (RSA-2048, relaxed/relaxed) for %s, sender and "
            "From at %s, client addresses in %s.0/24: every message should "
            "pass SPF, DKIM and DMARC" % (
                ", ".join(str(kb) for kb in sizes),
                " and ".join(sizeset.KINDS), man["bodies"], min(nfiles),
                max(nfiles), DOMAIN, DOMAIN, CLIENT_NET))
    return points, man["pubkey"], desc


def slope_count(ctx, guess_ms):
    """Messages for a measurement that costs the filter about --slope-cpu
    seconds of CPU, when one costs guess_ms."""
    a = ctx.args
    n = int(a.slope_cpu * 1000.0 / max(guess_ms, 0.02))
    return max(2 * a.slope_concurrency, min(a.slope_max, n))


def slope_filter(ctx, f, points, warnings):
    """Every point of the set through the running filter f at one
    concurrency.  The number of messages of each point comes from the
    cost of the point before it times the square root of the size ratio
    (between a fixed cost and one linear in the size: a point lasts
    between half and twice --slope-cpu)."""
    conc = ctx.args.slope_concurrency
    out = []
    ctx.msgdir = points[0]["dir"]
    w = run_level(ctx, f, conc, ctx.args.slope_warmup)
    log("%s: warm-up %d messages, %.3f ms CPU/msg" % (
        f.name, w["messages"], w["cpu_ms_per_msg"]))
    for p in points:
        same = [r for r in out if r["kind"] == p["kind"]]
        if same:
            last = same[-1]
            guess = last["cpu_ms_per_msg"] * math.sqrt(p["bytes"] / last["bytes"])
        else:
            # the first of a kind: the other kind at the same size
            twin = [r for r in out if r["kb"] == p["kb"]]
            guess = (twin or [w])[-1]["cpu_ms_per_msg"]
        n = slope_count(ctx, guess)
        ctx.msgdir = p["dir"]
        mwload(ctx, f, conc, min(n, 2 * conc))      # the new size, uncounted
        r = run_level(ctx, f, conc, n)
        r.update({"kind": p["kind"], "kb": p["kb"], "bytes": p["bytes"]})
        out.append(r)
        log("%s %s %d KB: %d messages, %.3f ms CPU/msg, %.1f msg/s, others' "
            "load %.2f" % (f.name, p["kind"], p["kb"], r["messages"],
                           r["cpu_ms_per_msg"], r["msgs_per_sec"],
                           r["other_busy_cores"]))
        for x in check_sane(r, expected_auth(ctx, f.name)):
            warnings.append("%s %s %d KB: %s" % (f.name, p["kind"], p["kb"], x))
            log("WARNING " + warnings[-1])
    return out


def slope_main(ctx):
    """--slope: one run, every filter over every size point; writes the
    chart and the doc block."""
    args = ctx.args
    t0 = time.monotonic()
    sizes = [int(x) for x in args.sizes.split(",")]
    filters = [x.strip() for x in (args.filters or ",".join(SLOPE_FILTERS))
               .split(",") if x.strip()]
    meta = run_meta()
    meta.update({"concurrency": args.slope_concurrency, "train": ctx.train,
                 "slope_cpu": args.slope_cpu, "config": {},
                 "max_scan_bytes": ctx.mw_set.get(
                     "max_scan_bytes", ctx.mw_conf.get("max_scan_bytes"))})
    results, warnings = [], []
    train_set = train_dirs(ctx)
    ns = None
    try:
        points, pubkey, meta["set_desc"] = slope_set(ctx, sizes)
        meta["load_start"] = loadavg()
        ns = start_nsd(ctx, pubkey)
        for name in filters:
            f = make_filter(ctx, name, train_set)
            log("%s: starting" % name)
            try:
                start_filter(f, train_set)
                meta["filters"][name] = f.describe()
                meta["config"][name] = f.config()
                results += slope_filter(ctx, f, points, warnings)
            finally:
                f.stop()
    finally:
        finish(ctx, ns, meta)
    meta["warnings"] = warnings
    meta["minutes"] = (time.monotonic() - t0) / 60
    run = {"meta": meta, "results": results}
    if args.json:
        with open(args.json, "x") as f:
            json.dump(run, f, indent=1)
    write_slope(args, run)


def slope_svg_path(args):
    """--svg, or bench-slope.svg beside --markdown, or None."""
    if args.svg:
        return args.svg
    if args.markdown:
        return os.path.join(os.path.dirname(os.path.abspath(args.markdown)),
                            "bench-slope.svg")
    return None


def check_outputs(args):
    """Before measuring: refuse outputs that would be refused after a
    long run (ValueError)."""
    def need(path, *marks):
        if path and os.path.exists(path):
            with open(path) as f:
                text = f.read()
            if not all(m in text for m in marks):
                raise ValueError("%s lacks %s: not overwritten"
                                 % (path, " ... ".join(marks)))
    if args.json and os.path.exists(args.json) and not args.readme_only:
        raise ValueError("%s exists: not overwritten" % args.json)
    if args.slope:
        need(args.markdown, SLOPE_BEGIN, SLOPE_END)
        need(slope_svg_path(args), SVG_MARK)
    else:
        need(args.markdown, BEGIN, END)
    need(args.readme, SUM_BEGIN, SUM_END)


def write_slope(args, run):
    """The SVG and the doc block of a slope run (also from --render)."""
    svg = slope_svg_path(args)
    rel = os.path.relpath(svg, os.path.dirname(os.path.abspath(args.markdown))) \
        if svg and args.markdown else (svg or "bench-slope.svg")
    text = slope_markdown(run["results"], run["meta"], rel)
    print(text)
    try:
        if svg:
            write_owned(svg, slope_svg(run["results"], run["meta"]), SVG_MARK)
            log("chart written to %s" % svg)
        if args.markdown:
            write_block(args.markdown, text, SLOPE_BEGIN, SLOPE_END)
            log("block written to %s" % args.markdown)
    except (OSError, ValueError) as e:
        sys.exit("run_bench: %s" % e)


def log_ticks(lo, hi):
    """Decades covering [lo, hi]: (first, last) powers of ten."""
    a = 10.0 ** math.floor(math.log10(lo))
    b = 10.0 ** math.ceil(math.log10(hi))
    if b <= a:
        b = a * 10
    return a, b


def tick_label(v, unit=""):
    if v >= 1024 and unit == "KB":
        return "%g MB" % (v / 1024)
    return ("%g" % v) + (" " + unit if unit else "")


# a filter keeps its colour whichever filters a run has
SLOPE_COLORS = {"null-milter": "#555555", "mailwarden-auth": "#ff7f0e",
                "mailwarden": "#d62728", "opendkim+opendmarc": "#2ca02c",
                "rspamd": "#1f77b4", "spamassassin": "#9467bd"}
OTHER_COLORS = ("#8c564b", "#e377c2", "#17becf", "#bcbd22")


def slope_colors(filters):
    """{filter: colour}, distinct."""
    out, spare = {}, list(OTHER_COLORS)
    for f in filters:
        c = SLOPE_COLORS.get(f)
        out[f] = c if c and c not in out.values() else \
            (spare.pop(0) if spare else "#000000")
    return out


def slope_series(results):
    """{(filter, kind): [(KB, ms)]} in the order of the results, and the
    filters and kinds in that order."""
    series, filters, kinds = {}, [], []
    for r in results:
        if r["filter"] not in filters:
            filters.append(r["filter"])
        if r["kind"] not in kinds:
            kinds.append(r["kind"])
        series.setdefault((r["filter"], r["kind"]), []).append(
            (r["bytes"] / 1024.0, r["cpu_ms_per_msg"]))
    return series, filters, kinds


def slope_svg(results, meta):
    """The chart of a slope run as SVG text: message size against CPU per
    message, both axes logarithmic, one polyline per filter and kind (text
    solid, attachment dashed)."""
    from xml.sax.saxutils import escape, quoteattr
    series, filters, kinds = slope_series(results)
    pts = [p for s in series.values() for p in s if p[1] > 0]
    if not pts:
        raise ValueError("no measurement to draw")
    W, H, L, R, T, B = 820, 520, 72, 200, 64, 58
    pw, ph = W - L - R, H - T - B
    # from the power of 4 below the smallest size (1 KB), with a margin
    # on the right; ticks at the powers of 4 between
    small = min(p[0] for p in pts)
    x0 = min(4.0 ** math.floor(math.log(small, 4)), small / 1.25)
    x1 = max(p[0] for p in pts) * 1.25
    y0, y1 = log_ticks(min(p[1] for p in pts), max(p[1] for p in pts))

    def X(v):
        return L + pw * math.log(v / x0) / math.log(x1 / x0)

    def Y(v):
        return T + ph * (1 - math.log(v / y0) / math.log(y1 / y0))
    o = ['<?xml version="1.0" encoding="UTF-8"?>',
         '<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
         'viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">'
         % (W, H, W, H),
         "<!-- %s from the run of %s; do not edit -->" % (
             SVG_MARK, escape(meta.get("date", "?"))),
         '<rect width="100%" height="100%" fill="white"/>',
         '<text x="%d" y="24" font-size="16" font-weight="bold">CPU per '
         'message against message size</text>' % L,
         '<text x="%d" y="44" fill="#444">%s</text>' % (L, escape(
             "%s, %s (%s CPUs), mailwarden %s, concurrency %s" % (
                 meta.get("date", "?"), meta.get("host_model", "?"),
                 meta.get("ncpu", "?"), meta.get("mw_version", "?"),
                 meta.get("concurrency", "?"))))]
    # grid and ticks
    v = 4.0 ** math.ceil(math.log(x0, 4) - 1e-9)
    while v <= x1:
        x = X(v)
        o.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>'
                 % (x, T, x, T + ph))
        o.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>'
                 % (x, T + ph + 18, escape(tick_label(v, "KB"))))
        v *= 4
    d = y0
    while d <= y1 * 1.0001:
        for m in range(1, 10):
            val = d * m
            if val > y1 * 1.0001:
                break
            y = Y(val)
            o.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s"/>'
                     % (L, y, L + pw, y, "#bbb" if m == 1 else "#eee"))
            if m == 1:
                o.append('<text x="%d" y="%.1f" text-anchor="end">%s</text>'
                         % (L - 6, y + 4, escape(tick_label(val))))
        d *= 10
    o.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" '
             'stroke="#333"/>' % (L, T, pw, ph))
    o.append('<text x="%.1f" y="%d" text-anchor="middle">message size '
             '(log scale)</text>' % (L + pw / 2, H - 12))
    o.append('<text transform="translate(18 %.1f) rotate(-90)" '
             'text-anchor="middle">CPU ms per message (log scale)</text>'
             % (T + ph / 2))
    # the series
    colors = slope_colors(filters)
    for name in filters:
        color = colors[name]
        for kind in kinds:
            s = [p for p in series.get((name, kind), []) if p[1] > 0]
            if not s:
                continue
            dash = ' stroke-dasharray="7 4"' if kind != kinds[0] else ""
            o.append('<polyline class="series" data-filter=%s data-kind=%s '
                     'fill="none" stroke="%s" stroke-width="2"%s points="%s"/>'
                     % (quoteattr(name), quoteattr(kind), color, dash,
                        " ".join("%.1f,%.1f" % (X(a), Y(b)) for a, b in s)))
            for a, b in s:
                o.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s">'
                         '<title>%s</title></circle>' % (
                             X(a), Y(b), color, escape("%s, %s, %.1f KB: "
                                                       "%.3f ms" % (name, kind, a, b))))
    # legend
    lx, ly = L + pw + 16, T + 8
    for i, name in enumerate(filters):
        color = colors[name]
        y = ly + 20 * i
        o.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" '
                 'stroke-width="3"/>' % (lx, y, lx + 24, y, color))
        o.append('<text x="%d" y="%d">%s</text>' % (lx + 30, y + 4,
                                                    escape(name)))
    y = ly + 20 * len(filters) + 14
    for j, kind in enumerate(kinds):
        dash = ' stroke-dasharray="7 4"' if j else ""
        o.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#000" '
                 'stroke-width="2"%s/>' % (lx, y, lx + 24, y, dash))
        o.append('<text x="%d" y="%d">%s</text>' % (lx + 30, y + 4,
                                                    escape(kind)))
        y += 20
    o.append("</svg>")
    return "\n".join(o) + "\n"


def per_mb(series):
    """CPU ms per additional MB between the two largest points of a
    series, or None."""
    s = sorted(series)
    if len(s) < 2 or s[-1][0] <= s[-2][0]:
        return None
    return (s[-1][1] - s[-2][1]) / ((s[-1][0] - s[-2][0]) / 1024.0)


def slope_markdown(results, meta, svg_rel):
    """The doc block of a slope run: the chart, how it was measured, the
    table, the filters' exact configurations."""
    series, filters, kinds = slope_series(results)
    cells = {(r["filter"], r["kind"], r["kb"]): r for r in results}
    rows = []
    for r in results:
        if (r["kind"], r["kb"]) not in [(k, s) for k, s, _ in rows]:
            rows.append((r["kind"], r["kb"], r["bytes"]))
    rows.sort(key=lambda x: (kinds.index(x[0]), x[1]))
    out = ["![CPU per message against message size, log-log: %s; text solid, "
           "attachment dashed](%s)" % (", ".join(filters), svg_rel), ""]
    out.append("Generated by `contrib/bench/run_bench.py --slope` (chart and "
               "this block). Measured %s on %s (%s, %s CPUs), kernel %s; "
               "mailwarden %s; the run took %.1f minutes. Load average before "
               "the run %s, after %s." % (
                   meta.get("date", "?"), meta.get("host_model", "?"),
                   meta.get("virt", "?"), meta.get("ncpu", "?"),
                   meta.get("kernel", "?"), meta.get("mw_version", "?"),
                   meta.get("minutes", 0),
                   " ".join("%.2f" % x for x in meta.get("load_start", [])),
                   " ".join("%.2f" % x for x in meta.get("load_end", []))))
    out.append("")
    out.append("Each filter in turn, at concurrency %s (closed loop), on the "
               "same messages and DNS data; for each point as many messages "
               "as cost the filter about %s s of CPU (estimated from the "
               "point before), after a few uncounted ones of the new size. "
               "Messages: %s." % (meta.get("concurrency", "?"),
                                  meta.get("slope_cpu", "?"),
                                  meta.get("set_desc", "?")))
    trained = [f for f, d in meta.get("filters", {}).items() if "trained" in d]
    if meta.get("train") and trained:
        out.append("Training set of the Bayes stores (%s): the corpus train "
                   "split, %d ham + %d spam; the other filters have none."
                   % ((", ".join(trained),) + tuple(meta["train"])))
    msb = meta.get("max_scan_bytes")
    if msb and str(msb).isdigit():
        big = [r for r in rows if r[2] > int(msb)]
        if big and any(f.startswith("mailwarden") for f in filters):
            out.append("mailwarden's `max_scan_bytes` is %s bytes (default): "
                       "its content checks (MIME, rules, Bayes) read that much "
                       "of the body of the %s messages; DKIM hashes all of it."
                       % (msb, " and ".join("%d KB %s" % (kb, k)
                                            for k, kb, _ in big)))
    out.append("")

    def grid(title, cell):
        """A table of a row per kind and size, a column per filter."""
        out.extend([title, "", "| kind | size KB | " + " | ".join(filters) +
                    " |", "| --- | ---: | " + " | ".join("---:" for _ in filters)
                    + " |"])
        for kind, kb, nbytes in rows:
            out.append("| %s | %.1f | %s |" % (kind, nbytes / 1024, " | ".join(
                cell(cells[(f, kind, kb)]) if (f, kind, kb) in cells else "-"
                for f in filters)))
        out.append("")
    grid("CPU ms per message (utime+stime of every process of the filter, "
         "children included, from /proc):",
         lambda r: fmt(r["cpu_ms_per_msg"], 3))
    out.append("CPU ms per additional MB, between the two largest sizes:")
    out.append("")
    out.append("| filter | " + " | ".join(kinds) + " |")
    out.append("| --- | " + " | ".join("---:" for _ in kinds) + " |")
    for f in filters:
        vals = [per_mb(series.get((f, k), [])) for k in kinds]
        out.append("| %s | %s |" % (f, " | ".join(
            "-" if v is None else fmt(v) for v in vals)))
    out.append("")
    grid("Messages measured per point, and the CPU others used meanwhile "
         "(cores):", lambda r: "%d, %.2f" % (r["messages"],
                                             r["other_busy_cores"]))
    out.append("Filters:")
    out.append("")
    out += ["- %s: %s" % (k, v) for k, v in meta.get("filters", {}).items()]
    out.append("")
    for name, files in meta.get("config", {}).items():
        out.append("<details><summary>%s: exact configuration</summary>" % name)
        out.append("")
        for label, text in files:
            out.append("`%s`:" % label)
            out.append("")
            out.append("```")
            out.append(text.rstrip("\n"))
            out.append("```")
            out.append("")
        out.append("</details>")
        out.append("")
    if meta.get("warnings"):
        out.append("Warnings:")
        out.append("")
        out += ["- " + w for w in meta["warnings"]]
        out.append("")
    return "\n".join(out)


def write_block(path, text, begin, end):
    """Put text between the markers begin and end of path, keeping the
    rest of the file; a new file is created with the markers around the
    text.  A file without the markers is refused (never overwritten)."""
    if not os.path.exists(path):
        with open(path, "x") as f:
            f.write(begin + "\n" + text + end + "\n")
        return
    with open(path) as f:
        old = f.read()
    if begin not in old or end not in old:
        raise ValueError("%s has no %s ... %s block: not overwritten"
                         % (path, begin, end))
    head, rest = old.split(begin, 1)
    new = head + begin + "\n" + text + rest[rest.index(end):]
    tmp = "%s.tmp%d" % (path, os.getpid())
    with open(tmp, "x") as f:
        f.write(new)
    os.replace(tmp, path)


def write_owned(path, text, mark):
    """Write text to path through a temporary file and a rename; an
    existing path is replaced only if it holds mark (a file this script
    wrote)."""
    if os.path.exists(path):
        with open(path) as f:
            if mark not in f.read():
                raise ValueError("%s exists and was not written by this "
                                 "script: not overwritten" % path)
    tmp = "%s.tmp%d" % (path, os.getpid())
    with open(tmp, "x") as f:
        f.write(text)
    os.replace(tmp, path)


def expected_auth(ctx, name):
    """The checks whose pass filter name writes into every message."""
    if name.startswith("mailwarden"):
        return ["spf", "dmarc"] + (
            ["dkim"] if "dkim_verify" in ctx.mw_keys else [])
    return {"opendkim+opendmarc": ["dkim", "dmarc"],
            "rspamd": ["spf", "dkim", "dmarc"]}.get(name, [])


def check_sane(r, expect_auth):
    """Warnings when a filter's answers make the measurement worthless."""
    warn = []
    n = r["messages"]
    if r["errors"]:
        warn.append("%d protocol errors" % r["errors"])
    if n and r["accept"] + r["reject"] + r["tempfail"] + r["discard"] < n:
        warn.append("messages without a final answer")
    for m in expect_auth:
        got = r["auth"][m]["pass"]
        if got < 0.97 * n:
            warn.append("only %d of %d with %s=pass" % (got, n, m))
    return warn


def setup_ctx(args):
    """The run's context: binaries, workdir, mailwarden's keys, the
    training set's size, a temporary directory and the client address
    list."""
    ctx = Ctx()
    ctx.args = args
    ctx.workdir = os.path.abspath(args.workdir)
    os.makedirs(ctx.workdir, exist_ok=True)
    os.chmod(ctx.workdir, 0o755)
    ctx.mailwarden = os.path.abspath(args.mailwarden)
    ctx.mwload = os.path.abspath(args.mwload)
    ctx.nullmilter = os.path.abspath(args.nullmilter)
    for p in (ctx.mailwarden, ctx.mwload, ctx.nullmilter):
        if not os.access(p, os.X_OK):
            sys.exit("run_bench: %s not built (make)" % p)
    ctx.pkgver = pkgver
    ctx.mw_conf = mailwarden_config(ctx.mailwarden)
    ctx.mw_keys = set(ctx.mw_conf)
    ctx.mw_bayes = os.path.join(ctx.workdir, "mw-bayes")
    ctx.profile_callgraph = args.profile_callgraph
    ctx.mw_env = dict(e.split("=", 1) for e in args.mw_env)
    ctx.mw_set = dict((k.strip(), v.strip()) for k, v in
                      (e.split("=", 1) for e in args.mw_set))
    ctx.train = train_counts(args.corpus)
    ctx.tmp = tempfile.mkdtemp(prefix="mwbench-run-")
    os.chmod(ctx.tmp, 0o755)
    ctx.ips_file = os.path.join(ctx.tmp, "ips")
    with open(ctx.ips_file, "w") as f:
        for i in range(10, 250):
            f.write("%s.%d\n" % (CLIENT_NET, i))
    return ctx


def run_meta():
    """What a results block says about the run: date, machine, kernel,
    the commit measured."""
    meta = {"filters": {}}
    meta["date"] = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    meta["kernel"] = platform.release()
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    meta["host_model"] = next((l.split(":", 1)[1].strip() for l in lscpu.splitlines()
                               if l.startswith("Model name")), "?")
    meta["virt"] = next((l.split(":", 1)[1].strip() + " guest" for l in lscpu.splitlines()
                         if l.startswith("Hypervisor vendor")), "bare metal")
    meta["ncpu"] = NCPU
    meta["mw_version"] = subprocess.run(
        ["git", "-C", TOP, "describe", "--always", "--dirty"],
        capture_output=True, text=True).stdout.strip()
    return meta


def train_dirs(ctx):
    """A function returning the (ham, spam) directories of the corpus
    train split, unpacked into ctx.tmp the first time it is called."""
    got = []

    def train_set():
        if not got:
            got.append(unpack_train(ctx.args.corpus,
                                    os.path.join(ctx.tmp, "train")))
        return got[0]
    return train_set


def start_nsd(ctx, pubkey):
    """nsd serving bench_zones(pubkey) on port 53 of a loopback address
    (ctx.dns_ip, ctx.dns_addr)."""
    dnsserver.skip_unless_nsd()
    ns = dnsserver.NSD(bench_zones(pubkey), port=53, soa_minimum=300)
    ns.start()
    ctx.dns_ip = ns.ip
    ctx.dns_addr = "%s:53" % ns.ip
    log("nsd on %s" % ctx.dns_addr)
    return ns


def finish(ctx, ns, meta):
    """After the filters: stop nsd, note the load, remove the temporary
    directory (unless --keep)."""
    if ns:
        ns.stop()
    meta["load_end"] = loadavg()
    if not ctx.args.keep:
        shutil.rmtree(ctx.tmp, ignore_errors=True)
    else:
        log("logs kept in %s" % ctx.tmp)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workdir", default="/tmp/mwbench")
    ap.add_argument("--corpus", default=os.environ.get(
        "MW_CORPUS", os.path.join(TOP, "..", "shared", "corpus")))
    ap.add_argument("--filters",
                    help="comma-separated, in this order (default: %s; with "
                    "--slope: %s)" % (",".join(FILTERS), ",".join(SLOPE_FILTERS)))
    ap.add_argument("--levels", default="1,4,16")
    ap.add_argument("--count", type=int, default=0,
                    help="messages per level (default: the whole set)")
    ap.add_argument("--passes", type=int, default=3,
                    help="passes over the set per level for the fast "
                    "filters (mailwarden, OpenDKIM+OpenDMARC), so that a "
                    "level lasts long enough to measure")
    ap.add_argument("--sa-count", type=int, default=200,
                    help="messages per level for SpamAssassin")
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--rebuild-set", action="store_true")
    ap.add_argument("--retrain", action="store_true")
    ap.add_argument("--mailwarden", default=os.path.join(TOP, "mailwarden"))
    ap.add_argument("--mwload", default=os.path.join(TOP, "contrib", "bench", "mwload"))
    ap.add_argument("--nullmilter",
                    default=os.path.join(TOP, "contrib", "bench", "nullmilter"))
    ap.add_argument("--json", help="write all results to this file (which "
                    "must not exist)")
    ap.add_argument("--markdown", help="write the tables between the markers "
                    "%s ... %s of this file (with --slope: %s ... %s); a new "
                    "file is created with them, a file without them refused"
                    % (BEGIN, END, SLOPE_BEGIN, SLOPE_END))
    ap.add_argument("--slope", action="store_true",
                    help="CPU per message against message size instead: "
                    "every filter over text and attachment messages of "
                    "each of --sizes at --slope-concurrency; writes the "
                    "chart (--svg) and the block of --markdown")
    ap.add_argument("--sizes", default="1,4,16,64,256,1024",
                    help="--slope: message sizes in KB")
    ap.add_argument("--slope-concurrency", type=int, default=4)
    ap.add_argument("--slope-cpu", type=float, default=4.0, metavar="SECONDS",
                    help="--slope: about this much CPU of the filter per "
                    "point (the count follows from the point before)")
    ap.add_argument("--slope-max", type=int, default=20000,
                    help="--slope: at most this many messages per point")
    ap.add_argument("--slope-warmup", type=int, default=200,
                    help="--slope: messages of the smallest size before the "
                    "first point (the first estimate of the cost)")
    ap.add_argument("--svg", help="--slope: the chart (default: "
                    "bench-slope.svg beside --markdown); replaced only if "
                    "this script wrote it")
    ap.add_argument("--render", metavar="JSON",
                    help="--slope: measure nothing, write the chart and the "
                    "block from the --json file of an earlier slope run")
    ap.add_argument("--readme", metavar="FILE",
                    help="after writing --markdown, regenerate the summary "
                    "between %s ... %s in FILE (README.md) from it"
                    % (SUM_BEGIN, SUM_END))
    ap.add_argument("--readme-only", action="store_true",
                    help="measure nothing: only regenerate --readme from the "
                    "results block already in --markdown")
    ap.add_argument("--profile", metavar="DIR",
                    help="after measuring, profile the mailwarden filters "
                    "with perf into DIR")
    ap.add_argument("--paced", type=float, default=0.5, metavar="FRACTION",
                    help="after the levels, one more run at the highest "
                    "concurrency paced at FRACTION of the throughput "
                    "measured there (latency below saturation; 0: skip)")
    ap.add_argument("--profile-concurrency", type=int, default=16)
    ap.add_argument("--switches", action="store_true",
                    help="also count context switches, futex calls and "
                    "wake-ups per message (perf stat -a) for the null "
                    "milter and mailwarden, in the log and --json")
    ap.add_argument("--profile-callgraph", metavar="MODE",
                    help="perf's --call-graph for --profile (default: -g, "
                    "frame pointers; 'dwarf' unwinds code built without "
                    "them, such as libc, at a larger data file)")
    ap.add_argument("--scan", action="store_true",
                    help="also time `mailwarden scan` over the set (the "
                    "pipeline without the milter protocol)")
    ap.add_argument("--mw-env", action="append", default=[], metavar="VAR=VALUE",
                    help="environment for the mailwarden daemons (e.g. "
                    "MALLOC_ARENA_MAX=2)")
    ap.add_argument("--mw-set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a mailwarden configuration key (both "
                    "mailwarden filters; experiments)")
    ap.add_argument("--show", type=int, default=0, metavar="N",
                    help="print the headers each filter adds to N messages")
    ap.add_argument("--keep", action="store_true",
                    help="keep the temporary directory (logs)")
    args = ap.parse_args()

    if args.readme and not args.markdown:
        ap.error("--readme needs --markdown (the run's results block)")
    if args.slope and args.readme:
        ap.error("--readme summarises the side-by-side run, not --slope")
    if args.profile_callgraph and not args.profile:
        ap.error("--profile-callgraph needs --profile DIR (it says how "
                 "that profile is taken)")
    if args.render:
        if not args.slope:
            ap.error("--render goes with --slope")
        with open(args.render) as f:
            write_slope(args, json.load(f))
        return
    try:
        check_outputs(args)
    except ValueError as e:
        sys.exit("run_bench: %s" % e)
    if args.readme_only:
        if not args.readme:
            ap.error("--readme-only needs --readme and --markdown")
        try:
            write_readme(args.readme, args.markdown)
        except (OSError, ValueError) as e:
            sys.exit("run_bench: %s" % e)
        return
    if os.geteuid() != 0:
        sys.exit("run_bench: run as root (nsd on port 53, namespaces, spamd user)")
    # the daemons run in sessions of their own: on SIGTERM unwind through
    # the finally clauses that stop them, as on ^C
    signal.signal(signal.SIGTERM, lambda *a: sys.exit("run_bench: terminated"))
    ctx = setup_ctx(args)
    if args.slope:
        return slope_main(ctx)

    setdir = os.path.join(ctx.workdir, "set")
    if args.rebuild_set or not os.path.exists(os.path.join(setdir, "manifest.json")):
        shutil.rmtree(setdir, ignore_errors=True)
        log("building the message set in %s" % setdir)
        subprocess.run(["/usr/bin/python3", os.path.join(HERE, "mkset.py"),
                        setdir, "--corpus", args.corpus, "--domain", DOMAIN,
                        "--selector", SELECTOR], check=True)
    with open(os.path.join(setdir, "manifest.json")) as f:
        manifest = json.load(f)
    with open(os.path.join(setdir, "dkim.p")) as f:
        pubkey = f.read().strip()
    ctx.msgdir = os.path.join(setdir, "msgs")
    count = args.count or manifest["count"]

    filters = [x.strip() for x in (args.filters or ",".join(FILTERS)).split(",")
               if x.strip()]
    levels = [int(x) for x in args.levels.split(",")]
    results, meta = [], run_meta()
    meta["set"] = {k: v for k, v in manifest.items() if k != "messages"}
    meta["set_desc"] = ("%d ham + %d spam from the corpus test split, mean "
                        "%.1f KB, median %.1f KB, %.1f-%.1f KB, DKIM-signed "
                        "(RSA-2048, relaxed/relaxed) for %s" % (
                            manifest["ham"], manifest["spam"],
                            manifest["mean_bytes"] / 1024,
                            manifest["median_bytes"] / 1024,
                            manifest["min_bytes"] / 1024,
                            manifest["max_bytes"] / 1024, DOMAIN))
    meta["load_start"] = loadavg()
    meta["levels"] = levels
    meta["train"] = ctx.train
    warnings = []
    train_set = train_dirs(ctx)
    ns = start_nsd(ctx, pubkey)
    try:
        for name in filters:
            f = make_filter(ctx, name, train_set)
            log("%s: starting" % name)
            try:
                start_filter(f, train_set)
                n = f.subset or count * (args.passes if f.fast else 1)
                if args.show:
                    argv = [ctx.mwload, "-v", "-n", str(args.show), "-i",
                            ctx.ips_file]
                    for sk in f.sockets():
                        argv += ["-s", sk]
                    r = subprocess.run(argv + [ctx.msgdir], capture_output=True,
                                       text=True)
                    print(r.stderr + r.stdout, file=sys.stderr)
                w = mwload(ctx, f, 4, min(args.warmup, n))
                log("%s: warm-up %d messages, %d errors" % (name, w["messages"], w["errors"]))
                settle(f)
                meta["filters"][name] = f.describe() + (
                    " (subset: %d messages per level)" % n if n < count else
                    " (%d passes over the set per level)" % (n // count)
                    if n > count else "")
                for c in levels:
                    r = run_level(ctx, f, c, n)
                    results.append(r)
                    log("%s c=%d: %.1f msg/s, %.3f ms CPU/msg, p99 %.2f ms, "
                        "PSS %.1f MB, accept %d reject %d tempfail %d, "
                        "spf/dkim/dmarc pass %d/%d/%d, others' load %.2f" % (
                            name, c, r["msgs_per_sec"], r["cpu_ms_per_msg"],
                            r["p99_ms"], r["peak_pss_mb"], r["accept"],
                            r["reject"], r["tempfail"],
                            r["auth"]["spf"]["pass"], r["auth"]["dkim"]["pass"],
                            r["auth"]["dmarc"]["pass"], r["other_busy_cores"]))
                    for w in check_sane(r, expected_auth(ctx, name)):
                        warnings.append("%s c=%d: %s" % (name, c, w))
                        log("WARNING %s c=%d: %s" % (name, c, w))
                top = [r for r in results if r["filter"] == name and
                       r["concurrency"] == max(levels) and not r.get("rate")]
                if args.paced and top:
                    rate = args.paced * top[0]["msgs_per_sec"]
                    r = run_level(ctx, f, max(levels), n, ["-R", "%.1f" % rate])
                    results.append(r)
                    log("%s c=%d paced at %.1f msg/s: p50 %.2f p95 %.2f p99 "
                        "%.2f ms, %.3f ms CPU/msg" % (
                            name, max(levels), rate, r["p50_ms"], r["p95_ms"],
                            r["p99_ms"], r["cpu_ms_per_msg"]))
                if args.scan and name.startswith("mailwarden"):
                    ms = scan_cpu(ctx, f)
                    meta.setdefault("scan_ms", {})[name] = ms
                    log("%s: mailwarden scan (no milter protocol): %.3f ms "
                        "CPU per message" % (name, ms))
                    if name == "mailwarden":
                        meta["scan_stages"] = scan_breakdown(ctx, f)
                        for label, ms in meta["scan_stages"]:
                            log("  scan, %s: %.3f ms" % (label, ms))
                if args.switches and (name.startswith("mailwarden") or
                                      name == "null-milter"):
                    sw = switches(ctx, f, max(levels), n)
                    meta.setdefault("switches", {})[name] = sw
                    log("%s: per message at c=%d, whole machine: %s" % (
                        name, max(levels), "perf cannot count" if sw is None
                        else "%.1f context switches, %.1f futex calls, "
                        "%.1f wake-ups" % (sw["context_switches"],
                                           sw["futex"], sw["wakeups"])))
                if args.profile and (name.startswith("mailwarden") or
                                     name == "null-milter"):
                    log("%s: profile in %s" % (name, profile(
                        ctx, f, args.profile, args.profile_concurrency, n)))
            finally:
                f.stop()
    finally:
        finish(ctx, ns, meta)
    meta["warnings"] = warnings
    text = markdown(ctx, results, meta)
    if warnings:
        text += "\nWarnings:\n\n" + "\n".join("- " + w for w in warnings) + "\n"
    print(text)
    if args.markdown:
        write_markdown(args.markdown, text)
        if args.readme:
            write_readme(args.readme, args.markdown)
    if args.json:
        with open(args.json, "x") as f:
            json.dump({"meta": meta, "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
