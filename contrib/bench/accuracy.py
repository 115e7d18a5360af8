#!/usr/bin/python3
"""accuracy.py - detection of mailwarden, SpamAssassin and rspamd side by side.

    make && /usr/bin/python3 contrib/bench/accuracy.py [options]

Run by hand as root from the top of a built tree (never part of make check;
it takes about ten minutes, most of it SpamAssassin).  In one run, on the
same split of the corpus (default ../shared/corpus: train for training,
test for checking), every filter learns the train split and then judges
each test message; the script prints, for each filter at its defaults:

  ham tagged or rejected   (false positives, first: losing ham is worse)
  spam accepted            (false negatives)
  (1-ROCA)%                the share of (ham, spam) pairs the filter's score
                           orders the wrong way (ties count half), x100:
                           how well it ranks, whatever the thresholds

Filters (--filters picks some):

  mailwarden        shipped rules + Bayes (LMDB, trained with `train`)
  mailwarden-rules  shipped rules, Bayes off: a new site
  mailwarden-bayes  Bayes only, no rules
  spamassassin      Debian's SpamAssassin, stock rules, spamd -L (local
                    tests only), Bayes trained with sa-learn, auto-learning
                    and the auto-welcomelist off
  rspamd            Debian's rspamd, stock configuration, greylisting off,
                    Bayes in a private Redis trained with rspamc and
                    `Learn-Type: bulk` (so it learns every message)

No network: mailwarden reads an empty root zone (dns_zone_files), rspamd
asks a private nsd that serves only an empty root zone, SpamAssassin runs
local tests only; every DNS name is NXDOMAIN for all three.  No envelope:
each message is judged as a file, without client address or HELO.

"Tagged or rejected" is: mailwarden's action tag or reject; SpamAssassin's
score at or above its required_score (5); rspamd's action other than
"no action" and "greylist".

Everything is kept in --workdir (default /tmp/mwaccuracy) and reused by
later runs (--retrain starts over); the source tree is written only when
--markdown names a file there, between the markers
<!-- accuracy-begin --> and <!-- accuracy-end -->.
"""
import argparse
import concurrent.futures
import datetime
import http.client
import json
import os
import platform
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
import dnsserver  # noqa: E402

BEGIN, END = "<!-- accuracy-begin -->", "<!-- accuracy-end -->"

# an empty root: every name rspamd asks about is NXDOMAIN
ROOT_ZONE = """
@   SOA ns. hostmaster. 1 3600 600 86400 300
@   NS  ns.
ns  A   127.0.0.1
"""


def log(*a):
    print("accuracy:", *a, file=sys.stderr, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.2)
    raise RuntimeError("timed out waiting for " + what)


def tcp_ready(port):
    def ready():
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return True
        except OSError:
            return False
    return ready


def pkgver(name):
    r = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", name],
                       capture_output=True, text=True)
    return r.stdout.strip() or "?"


def unpack(corpus, dest):
    """dest/{train,test}/{ham,spam}/ from the corpus archives (once)."""
    for split in ("train", "test"):
        for cls in ("ham", "spam"):
            d = os.path.join(dest, split, cls)
            if os.path.isdir(d) and os.listdir(d):
                continue
            with tarfile.open(os.path.join(corpus, split, cls + ".tar.xz")) as t:
                if hasattr(tarfile, "data_filter"):
                    t.extractall(dest, filter="data")
                else:
                    t.extractall(dest)


def files_of(d):
    return sorted(os.path.join(d, f) for f in os.listdir(d))


class Daemon:
    def __init__(self, argv, logpath, **kw):
        self.logf = open(logpath, "ab")
        self.p = subprocess.Popen(argv, stdout=self.logf, stderr=self.logf,
                                  start_new_session=True, **kw)
        self.argv = argv

    def check(self):
        if self.p.poll() is not None:
            raise RuntimeError("%s exited with %d (log: %s)" % (
                self.argv[0], self.p.returncode, self.logf.name))
        return True

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait()
        self.logf.close()


# ---- the filters: each gives {path: (flagged, score)} for the test set ----

class Mailwarden:
    def __init__(self, a, work, variant):
        self.a = a
        self.work = work
        self.variant = variant          # "full", "rules", "bayes"
        self.name = {"full": "mailwarden", "rules": "mailwarden-rules",
                     "bayes": "mailwarden-bayes"}[variant]
        self.store = os.path.join(work, "mw-bayes")
        self.zone = os.path.join(TOP, "tests", "data", "dns", "empty.zone")

    def conf(self, bayes, rules):
        path = os.path.join(self.work, "mw-%s.conf" % self.name)
        with open(path, "w") as f:
            f.write("user =\npid_file =\nlog_file =\nrules_site_dir =\n"
                    "dns_zone_files = %s\n" % self.zone)
            f.write("rules_dir = %s\n" % (os.path.join(TOP, "rules")
                                          if rules else ""))
            f.write("bayes_store = %s\n" % (self.store if bayes else ""))
        return path

    def train(self, ham, spam):
        mark = os.path.join(self.store, ".trained")
        if os.path.exists(mark) and not self.a.retrain:
            return
        shutil.rmtree(self.store, ignore_errors=True)
        os.makedirs(self.store)
        conf = self.conf(True, False)
        log("mailwarden: training Bayes")
        for opt, src in (("--ham", ham), ("--spam", spam)):
            subprocess.run([self.a.mailwarden, "train", "-c", conf, opt, src],
                           check=True, stdout=subprocess.DEVNULL)
        open(mark, "w").close()

    def judge(self, files):
        conf = self.conf(self.variant != "rules", self.variant != "bayes")
        out = {}
        chunk = 200
        for i in range(0, len(files), chunk):
            r = subprocess.run([self.a.mailwarden, "scan", "-c", conf, "--json"]
                               + files[i:i + chunk], check=True,
                               capture_output=True, text=True)
            lines = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
            if len(lines) != len(files[i:i + chunk]):
                raise RuntimeError("mailwarden scan: %d lines for %d files"
                                   % (len(lines), len(files[i:i + chunk])))
            for f, v in zip(files[i:i + chunk], lines):
                out[f] = (v["action"] in ("tag", "reject"), float(v["score"]))
        return out

    def describe(self):
        return {"full": "shipped rules + Bayes (LMDB)",
                "rules": "shipped rules, Bayes off",
                "bayes": "Bayes only, no rules"}[self.variant]


class SpamAssassin:
    name = "spamassassin"

    def __init__(self, a, work):
        self.a = a
        self.work = work
        self.bdir = os.path.join(work, "sa-bayes")
        self.site = os.path.join(work, "sa-site")
        self.spamd = None

    def setup(self):
        pw = pwd.getpwnam("debian-spamd")
        os.makedirs(self.bdir, exist_ok=True)
        os.chown(self.bdir, pw.pw_uid, pw.pw_gid)
        shutil.rmtree(self.site, ignore_errors=True)
        os.makedirs(self.site)
        for fn in os.listdir("/etc/spamassassin"):
            src = os.path.join("/etc/spamassassin", fn)
            if os.path.isfile(src):
                shutil.copy(src, self.site)
        with open(os.path.join(self.site, "zz_accuracy.cf"), "w") as f:
            f.write("bayes_path %s/bayes\nbayes_file_mode 0666\n"
                    "bayes_auto_learn 0\nuse_auto_whitelist 0\n" % self.bdir)

    def train(self, ham, spam):
        self.setup()
        mark = os.path.join(self.bdir, "trained")
        if os.path.exists(mark) and not self.a.retrain:
            return
        for fn in os.listdir(self.bdir):
            os.unlink(os.path.join(self.bdir, fn))
        log("spamassassin: training Bayes with sa-learn (minutes)")
        for opt, src in (("--ham", ham), ("--spam", spam)):
            subprocess.run(["sa-learn", "--siteconfigpath=%s" % self.site,
                            "-L", opt, src], check=True,
                           stdout=subprocess.DEVNULL)
        pw = pwd.getpwnam("debian-spamd")
        for fn in os.listdir(self.bdir):
            os.chown(os.path.join(self.bdir, fn), pw.pw_uid, pw.pw_gid)
        open(mark, "w").close()

    def one(self, path):
        with open(path, "rb") as f:
            r = subprocess.run(["spamc", "-d", "127.0.0.1", "-p",
                                str(self.port), "-c"], stdin=f,
                               capture_output=True, text=True)
        score, thr = r.stdout.strip().split("/")
        return path, (float(score) >= float(thr), float(score))

    def judge(self, files):
        self.port = free_port()
        home = os.path.join(self.work, "sa-home")
        os.makedirs(home, exist_ok=True)
        pw = pwd.getpwnam("debian-spamd")
        os.chown(home, pw.pw_uid, pw.pw_gid)
        self.spamd = Daemon(["/usr/sbin/spamd", "-L", "-m", "2",
                             "--listen=127.0.0.1:%d" % self.port,
                             "-u", "debian-spamd", "-x", "-H", home,
                             "--siteconfigpath=%s" % self.site,
                             "-s", os.path.join(self.work, "spamd.log")],
                            os.path.join(self.work, "spamd.stderr"))
        try:
            wait_for(lambda: self.spamd.check() and tcp_ready(self.port)(),
                     300, "spamd")
            with concurrent.futures.ThreadPoolExecutor(2) as ex:
                return dict(ex.map(self.one, files))
        finally:
            self.spamd.stop()

    def describe(self):
        return ("SpamAssassin %s, stock rules, spamd -L, Bayes (sa-learn)"
                % pkgver("spamassassin"))


class Rspamd:
    name = "rspamd"

    def __init__(self, a, work, ns):
        self.a = a
        self.work = work
        self.ns = ns
        self.procs = []

    def start(self):
        d = os.path.join(self.work, "rspamd")
        rdir = os.path.join(self.work, "rspamd-redis")
        dbdir = os.path.join(self.work, "rspamd-db")
        for x in (d, rdir, dbdir):
            os.makedirs(x, exist_ok=True)
        self.redis_port = free_port()
        self.procs.append(Daemon([
            "redis-server", "--bind", "127.0.0.1", "--port",
            str(self.redis_port), "--dir", rdir, "--dbfilename", "dump.rdb",
            "--save", "", "--appendonly", "no", "--daemonize", "no"],
            os.path.join(d, "redis.log")))
        wait_for(tcp_ready(self.redis_port), 60, "redis")
        self.normal_port = free_port()
        self.ctl_port = free_port()
        local = os.path.join(d, "local.d")
        shutil.rmtree(local, ignore_errors=True)
        os.makedirs(local)
        os.makedirs(os.path.join(d, "override.d"), exist_ok=True)
        files = {
            "worker-normal.inc": 'bind_socket = "127.0.0.1:%d";\ncount = 2;\n'
                                 % self.normal_port,
            "worker-proxy.inc": "enabled = false;\n",
            "worker-controller.inc": 'bind_socket = "127.0.0.1:%d";\n'
                                     % self.ctl_port,
            "options.inc": 'dns { nameserver = ["%s"]; }\n' % self.ns.addr,
            "redis.conf": 'servers = "127.0.0.1:%d";\n' % self.redis_port,
            "greylist.conf": "enabled = false;\n",
            "logging.inc": 'type = "file";\nfilename = "%s/rspamd.log";\n'
                           'level = "warning";\n' % d,
        }
        for name, text in files.items():
            with open(os.path.join(local, name), "w") as f:
                f.write(text)
        self.procs.append(Daemon([
            "rspamd", "-f", "-i", "-c", "/etc/rspamd/rspamd.conf",
            "--var=LOCAL_CONFDIR=%s" % d, "--var=DBDIR=%s" % dbdir,
            "--var=RUNDIR=%s" % d, "--var=LOGDIR=%s" % d],
            os.path.join(d, "rspamd.stderr")))
        p = self.procs[-1]
        wait_for(lambda: p.check() and tcp_ready(self.normal_port)(), 300,
                 "rspamd normal worker")
        wait_for(tcp_ready(self.ctl_port), 120, "rspamd controller")

    def stop(self):
        for p in reversed(self.procs):
            p.stop()
        self.procs = []

    def post(self, port, path, body, headers):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            c.request("POST", path, body=body, headers=headers)
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    def train(self, ham, spam):
        self.start()
        mark = os.path.join(self.work, "rspamd-redis", "trained")
        if os.path.exists(mark) and not self.a.retrain:
            return
        log("rspamd: training Bayes (Learn-Type: bulk)")
        subprocess.run(["redis-cli", "-p", str(self.redis_port), "flushall"],
                       check=True, stdout=subprocess.DEVNULL)
        for cmd, src in (("learnham", ham), ("learnspam", spam)):
            def learn(path, cmd=cmd):
                with open(path, "rb") as f:
                    return self.post(self.ctl_port, "/" + cmd, f.read(),
                                     {"Learn-Type": "bulk"})[0]
            with concurrent.futures.ThreadPoolExecutor(2) as ex:
                codes = list(ex.map(learn, files_of(src)))
            log("rspamd: %s: %d learned, %d refused" % (
                cmd, codes.count(200), len(codes) - codes.count(200)))
        subprocess.run(["redis-cli", "-p", str(self.redis_port), "save"],
                       check=True, stdout=subprocess.DEVNULL)
        open(mark, "w").close()

    def one(self, path):
        with open(path, "rb") as f:
            st, body = self.post(self.normal_port, "/checkv2", f.read(), {})
        if st != 200:
            raise RuntimeError("rspamd: %s: HTTP %d" % (path, st))
        v = json.loads(body)
        return path, (v["action"] not in ("no action", "greylist"),
                      float(v["score"]))

    def judge(self, files):
        try:
            with concurrent.futures.ThreadPoolExecutor(2) as ex:
                return dict(ex.map(self.one, files))
        finally:
            self.stop()

    def describe(self):
        return ("rspamd %s, stock configuration, greylisting off, Bayes in "
                "Redis" % pkgver("rspamd"))


# ---- figures ----

def figures(res, ham, spam):
    fp = sum(1 for f in ham if res[f][0])
    fn = sum(1 for f in spam if not res[f][0])
    hs = sorted(res[f][1] for f in ham)
    # (1-ROCA): pairs (h, s) with score(h) > score(s), ties half
    import bisect
    bad = 0.0
    for f in spam:
        s = res[f][1]
        lo = bisect.bisect_left(hs, s)
        hi = bisect.bisect_right(hs, s)
        bad += (len(hs) - hi) + 0.5 * (hi - lo)
    roca = 100.0 * bad / (len(hs) * len(spam))
    return {"ham": len(ham), "spam": len(spam), "fp": fp, "fn": fn,
            "fp_pct": 100.0 * fp / len(ham), "fn_pct": 100.0 * fn / len(spam),
            "one_minus_roca_pct": roca}


def markdown(rows, meta):
    out = ["Measured by `contrib/bench/accuracy.py` on %s (%s, %d cores): "
           "trained on `%s/train`, checked on `%s/test` (%d ham, %d spam); "
           "no network (every DNS name NXDOMAIN), no envelope."
           % (meta["date"], meta["machine"], meta["cores"], meta["corpus"],
              meta["corpus"], meta["ham"], meta["spam"]), "",
           "| filter (defaults) | ham tagged or rejected | spam accepted | "
           "(1-ROCA)% |", "| --- | ---: | ---: | ---: |"]
    for name, desc, f in rows:
        out.append("| %s (%s) | %.2f%% (%d) | %.2f%% (%d) | %.3f |" % (
            name, desc, f["fp_pct"], f["fp"], f["fn_pct"], f["fn"],
            f["one_minus_roca_pct"]))
    return "\n".join(out) + "\n"


def write_markdown(path, text):
    with open(path) as f:
        doc = f.read()
    if BEGIN not in doc or END not in doc:
        raise SystemExit("%s has no %s ... %s markers" % (path, BEGIN, END))
    head, rest = doc.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(head + BEGIN + "\n" + text + END + tail)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", default=os.path.join(TOP, "..", "shared",
                                                    "corpus"))
    ap.add_argument("--workdir", default="/tmp/mwaccuracy")
    ap.add_argument("--mailwarden", default=os.path.join(TOP, "mailwarden"))
    ap.add_argument("--filters", default="mailwarden,mailwarden-rules,"
                    "mailwarden-bayes,spamassassin,rspamd")
    ap.add_argument("--retrain", action="store_true")
    ap.add_argument("--markdown", help="file whose marked section is replaced")
    ap.add_argument("--json", help="write the figures here as JSON")
    a = ap.parse_args()
    if not os.access(a.mailwarden, os.X_OK):
        raise SystemExit("no mailwarden binary at %s (--mailwarden)"
                         % a.mailwarden)
    os.makedirs(a.workdir, exist_ok=True)
    os.chmod(a.workdir, 0o755)
    cdir = os.path.join(a.workdir, "corpus")
    unpack(a.corpus, cdir)
    tr_ham, tr_spam = (os.path.join(cdir, "train", c) for c in ("ham", "spam"))
    ham = files_of(os.path.join(cdir, "test", "ham"))
    spam = files_of(os.path.join(cdir, "test", "spam"))
    wanted = a.filters.split(",")
    rows = []
    results = {}
    ns = None
    try:
        for name in wanted:
            if name.startswith("mailwarden"):
                f = Mailwarden(a, a.workdir, {"mailwarden": "full",
                                              "mailwarden-rules": "rules",
                                              "mailwarden-bayes": "bayes"}[name])
            elif name == "spamassassin":
                f = SpamAssassin(a, a.workdir)
            elif name == "rspamd":
                if ns is None:
                    dnsserver.skip_unless_nsd()
                    ns = dnsserver.NSD({".": ROOT_ZONE})
                    ns.start()
                f = Rspamd(a, a.workdir, ns)
            else:
                raise SystemExit("unknown filter %s" % name)
            t0 = time.monotonic()
            f.train(tr_ham, tr_spam)
            res = f.judge(ham + spam)
            fig = figures(res, ham, spam)
            log("%s: ham flagged %d/%d, spam accepted %d/%d, 1-ROCA %.3f%% "
                "(%.0f s)" % (name, fig["fp"], len(ham), fig["fn"], len(spam),
                              fig["one_minus_roca_pct"],
                              time.monotonic() - t0))
            rows.append((name, f.describe(), fig))
            results[name] = {"describe": f.describe(), "figures": fig,
                             "flagged_ham": sorted(os.path.basename(x) for x in
                                                   ham if res[x][0]),
                             "accepted_spam": sorted(os.path.basename(x) for x
                                                     in spam if not res[x][0])}
    finally:
        if ns is not None:
            ns.stop()
    meta = {"date": datetime.date.today().isoformat(),
            "machine": platform.machine(), "cores": os.cpu_count(),
            "corpus": os.path.relpath(os.path.abspath(a.corpus), TOP),
            "ham": len(ham), "spam": len(spam)}
    text = markdown(rows, meta)
    print(text)
    if a.markdown:
        write_markdown(a.markdown, text)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"meta": meta, "filters": results}, f, indent=1)


if __name__ == "__main__":
    main()
