#!/usr/bin/env python3
"""The service files in contrib/: the systemd unit and the logrotate file.

- contrib/systemd/mailwarden.service passes `systemd-analyze verify`
  (with the built program and man pages in place of the installed ones)
  and matches what the daemon needs: it runs as the service user with no
  capabilities, systemd creates the directories of the default socket,
  verdict log and state, stopping leaves room for shutdown_timeout,
  reload is SIGHUP, and W^X is not enforced (PCRE2's JIT needs it).
- contrib/logrotate.mailwarden rotates the verdict log of a running,
  detached daemon (pid file branch of its postrotate) twice, through a
  real Postfix: no line is lost, each lands in the file current when
  its message passed, and `mailwarden log search` reads them all back
  from the plain, rotated and compressed files.
- contrib/sendmail/mailwarden.mc.example builds a sendmail.cf with
  Sendmail's own m4 macros (Debian sendmail-cf; a real Sendmail cannot be
  installed beside Postfix): the filter line names the daemon's default
  socket, tempfails when the filter is down, waits longer at end of
  message than dns_message_timeout, and the macros mailwarden reads (i,
  {auth_authen}) are sent.
"""

import gzip
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import loadtest  # noqa: E402
import mwtest  # noqa: E402

SRC = mwtest.SRCDIR
BUILD = os.environ.get("TOP_BUILDDIR", os.path.join(SRC))
R = mwtest.Results()


def unit_text():
    with open(os.path.join(SRC, "contrib", "systemd", "mailwarden.service")) as f:
        return f.read()


def settings(text):
    out = {}
    for line in text.splitlines():
        m = re.match(r"^([A-Za-z]+)=(.*)$", line)
        if m:
            out.setdefault(m.group(1), []).append(m.group(2))
    return out


def reference():
    ref = subprocess.run([mwtest.MAILWARDEN, "config", "--reference"],
                         stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout
    return dict(re.findall(r"^\| `([a-z0-9_]+)` \| `([^`]*)`", ref, re.M))


def t_unit_verifies():
    if not shutil.which("systemd-analyze"):
        print("  (systemd-analyze not installed: verify skipped)")
        return
    d = tempfile.mkdtemp(prefix="mw-unit-")
    try:
        for sec, page in (("8", "mailwarden.8"), ("5", "mailwarden.conf.5")):
            os.makedirs(os.path.join(d, "man", "man" + sec))
            shutil.copy(os.path.join(BUILD, "doc", page), os.path.join(d, "man", "man" + sec))
        conf = os.path.join(d, "mailwarden.conf")
        open(conf, "w").close()
        text = unit_text().replace("/usr/local/sbin/mailwarden", os.path.abspath(mwtest.MAILWARDEN))
        text = text.replace("/usr/local/etc/mailwarden/mailwarden.conf", conf)
        unit = os.path.join(d, "mailwarden.service")
        with open(unit, "w") as f:
            f.write(text)
        r = subprocess.run(["systemd-analyze", "verify", unit], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True,
                           env=dict(os.environ, MANPATH=os.path.join(d, "man")))
        assert r.returncode == 0 and not r.stdout.strip(), r.stdout
    finally:
        shutil.rmtree(d, ignore_errors=True)


def t_unit_matches_daemon():
    s = settings(unit_text())
    ref = reference()
    assert s["User"] == ["mailwarden"] and s["Group"] == ["mailwarden"], s.get("User")
    assert s["CapabilityBoundingSet"] == [""], "the daemon needs no capability"
    assert s["NoNewPrivileges"] == ["yes"] and s["ProtectSystem"] == ["strict"]
    sock = ref["socket"]
    assert sock.startswith("unix:/run/%s/" % s["RuntimeDirectory"][0]), (sock, s["RuntimeDirectory"])
    assert ref["log_file"].startswith("/var/log/%s/" % s["LogsDirectory"][0]), ref["log_file"]
    assert s["StateDirectory"] == ["mailwarden"], "no /var/lib/mailwarden for the Bayes store"
    # the socket directory is group-traversable only: Postfix joins the group
    assert s["RuntimeDirectoryMode"] == ["0750"] and ref["socket_mode"] == "0660"
    assert int(s["TimeoutStopSec"][0]) > int(ref["shutdown_timeout"]), \
        "systemd would kill the daemon while it drains"
    assert s["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert any(" milter -f " in x for x in s["ExecStart"]), "must stay in the foreground"
    assert s["MemoryDenyWriteExecute"] == ["no"], "PCRE2 JIT needs W+X memory"


def t_logrotate_rotates_a_running_daemon():
    if not shutil.which("logrotate"):
        print("  (logrotate not installed: skipped)")
        return
    mwtest.skip_unless_root_with_postfix()
    work = mwtest.Workdir(prefix="mw-logrotate-")
    run = work.sub("run", owner="postfix")
    logdir = work.sub("log", owner="postfix", mode=0o750)
    log = os.path.join(logdir, "verdicts.log")
    pidf = os.path.join(run, "mw.pid")
    conf = work.write("mw.conf", "socket = unix:%s/mw.sock\nuser = postfix\npid_file = %s\n"
                      "log_file = %s\ndmarc = no\nspf = no\n" % (run, pidf, log))
    pf = None
    try:
        # detached, as without systemd: the parent exits once it serves
        r = subprocess.run([mwtest.MAILWARDEN, "milter", "-c", conf], timeout=30)
        assert r.returncode == 0, "milter did not start (%d)" % r.returncode
        pid = int(mwtest.wait_for(lambda: os.path.exists(pidf) and open(pidf).read().strip(),
                                  what="pid file"))
        pf = mwtest.Postfix(work, "unix:%s/mw.sock" % run).start()
        mbox = loadtest.Mailbox(pf)
        lr = open(os.path.join(SRC, "contrib", "logrotate.mailwarden")).read()
        lr = lr.replace("/var/log/mailwarden/verdicts.log", log)
        lr = lr.replace("su mailwarden mailwarden", "su postfix postfix")
        lr = lr.replace("create 0640 mailwarden mailwarden", "create 0640 postfix postfix")
        lr = lr.replace("/run/mailwarden/mailwarden.pid", pidf)
        lr = lr.replace("/run/systemd/system", os.path.join(work.path, "no-systemd"))
        lrconf = work.write("logrotate.conf", lr)
        state = os.path.join(work.path, "logrotate.state")
        batches = []
        for rnd in range(3):
            out = loadtest.Load(pf, 2).run(
                loadtest.Msg(loadtest.plain(i), tag="r%d" % rnd) for i in range(4))
            acct = loadtest.account(mbox, out)
            assert len(acct.delivered) == 4 and not acct.lost, acct.summary()
            batches.append({o.result.queue_id for o in acct.delivered})
            mwtest.wait_for(lambda: len(open(log).read().splitlines()) >= 4, what="log lines")
            if rnd < 2:
                r = subprocess.run(["logrotate", "-f", "-s", state, lrconf],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   universal_newlines=True)
                assert r.returncode == 0, r.stdout
                assert os.path.exists(log), "logrotate did not create the new file"
                time.sleep(0.3)     # SIGUSR1 is handled asynchronously
        files = {"cur": log, "1": log + ".1", "2": log + ".2.gz"}
        assert all(os.path.exists(p) for p in files.values()), os.listdir(logdir)

        def qids(p):
            opener = gzip.open if p.endswith(".gz") else open
            with opener(p, "rt") as f:
                return {__import__("json").loads(ln)["queue_id"] for ln in f}
        assert qids(files["2"]) == batches[0], (qids(files["2"]), batches[0])
        assert qids(files["1"]) == batches[1]
        assert qids(files["cur"]) == batches[2]
        r = subprocess.run([mwtest.MAILWARDEN, "log", "search", "--json", files["2"],
                            files["1"], files["cur"]], stdout=subprocess.PIPE,
                           universal_newlines=True)
        assert r.returncode == 0 and len(r.stdout.splitlines()) == 12, r.stdout
        os.kill(pid, signal.SIGTERM)
        mwtest.wait_for(lambda: not os.path.exists("/proc/%d" % pid), what="milter exit")
        assert not os.path.exists(pidf), "pid file left behind"
    finally:
        if pf:
            pf.stop()
        if os.path.exists(pidf):
            try:
                os.kill(int(open(pidf).read()), signal.SIGKILL)
            except (OSError, ValueError):
                pass
        if not os.environ.get("MW_KEEP"):
            work.cleanup()


def t_sendmail_snippet():
    cf_m4 = "/usr/share/sendmail/cf/m4/cf.m4"
    if not os.path.exists(cf_m4) or not shutil.which("m4"):
        print("  (sendmail-cf not installed: skipped)")
        return
    with open(os.path.join(SRC, "contrib", "sendmail", "mailwarden.mc.example")) as f:
        snippet = f.read()
    mc = ("divert(-1)\ninclude(`%s')\ndivert(0)dnl\nOSTYPE(`linux')dnl\n"
          "DOMAIN(`generic')dnl\n%sMAILER(`local')dnl\nMAILER(`smtp')dnl\n"
          % (cf_m4, snippet))
    r = subprocess.run(["m4"], input=mc, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True)
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr
    cf = r.stdout
    ref = reference()
    xs = re.findall(r"^Xmailwarden, (.*)$", cf, re.M)
    assert len(xs) == 1, xs
    opts = dict(o.strip().split("=", 1) for o in xs[0].split(", "))
    assert opts["S"] == ref["socket"], (opts["S"], ref["socket"])
    assert opts["F"] == "T", "the MTA must tempfail when the filter is down"
    timeouts = dict(t.split(":", 1) for t in opts["T"].split(";"))
    unit = {"s": 1, "m": 60, "h": 3600}
    end = int(timeouts["E"][:-1]) * unit[timeouts["E"][-1]]
    assert end * 1000 > int(ref["dns_message_timeout"]), (timeouts, ref["dns_message_timeout"])
    assert re.search(r"^O InputMailFilters=mailwarden$", cf, re.M)
    envfrom = re.search(r"^O Milter\.macros\.envfrom=(.*)$", cf, re.M).group(1)
    eom = re.search(r"^O Milter\.macros\.eom=(.*)$", cf, re.M).group(1)
    assert "{auth_authen}" in envfrom, envfrom
    assert "i" in [m.strip() for m in eom.split(",")], eom


R.check("systemd unit passes systemd-analyze verify", t_unit_verifies)
R.check("systemd unit matches what the daemon needs", t_unit_matches_daemon)
R.check("logrotate rotates the verdict log of a running daemon",
        t_logrotate_rotates_a_running_daemon)
R.check("the Sendmail snippet builds a sendmail.cf with Sendmail's m4",
        t_sendmail_snippet)
R.exit()
