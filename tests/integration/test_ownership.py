#!/usr/bin/env python3
"""test_ownership.py - files made as root are the service user's.

`mailwarden train` and `mailwarden dkim keygen` run as root against a
configuration whose `user` is the service user (here postfix, which the
test machine has): the LMDB store and the key belong to that user, with
the modes the daemon needs.  `config -n` as root checks every path as
that user and names the key and line of a path the user cannot use.
Then the daemon, started as that user (as its systemd unit does), scores
with Bayes (not degraded) and signs trusted mail.  A configuration
naming a user that does not exist makes keygen refuse, creating nothing.
"""

import os
import pwd
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mwtest  # noqa: E402
from mwtest import header, read_log, send  # noqa: E402

mwtest.skip_unless_root_with_postfix()
USER = "postfix"
pw = pwd.getpwnam(USER)
MW = mwtest.MAILWARDEN
R = mwtest.Results()
work = mwtest.Workdir(prefix="mw-own-")

SPAM = ("From: x{n}@sender.example\nTo: bob@example.net\nSubject: cheap pills {n}\n"
        "Message-ID: <s{n}@sender.example>\n\nbuy cheap viagra pills now, best price, "
        "order today {n}\n")
HAM = ("From: y{n}@sender.example\nTo: bob@example.net\nSubject: project meeting {n}\n"
       "Message-ID: <h{n}@sender.example>\n\nthe project meeting is on monday, agenda "
       "attached {n}\n")


def mw(*args):
    return subprocess.run([MW] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)


def corpus(name, text):
    d = work.sub("corpus", name)
    for i in range(6):
        with open(os.path.join(d, "%d.eml" % i), "w") as f:
            f.write(text.format(n=i))
    return d


run_dir = work.sub("run", owner=USER, mode=0o750)
log_dir = work.sub("log", owner=USER, mode=0o750)
state = work.sub("state", mode=0o755)          # root's, as /var/lib is
keydir = work.sub("keys", mode=0o755)
store = os.path.join(state, "bayes")
key = os.path.join(keydir, "example.org.key")
vlog = os.path.join(log_dir, "verdicts.log")
conf = work.write("mw.conf", "\n".join([
    "socket = unix:%s/mw.sock" % run_dir, "user = %s" % USER, "pid_file =",
    "log_file = %s" % vlog, "bayes_store = %s" % store, "bayes_min_spam = 5",
    "bayes_min_ham = 5", "dmarc = no", "spf = no", "rules_dir =", "rules_site_dir =", "scope_dir =",
    "trusted_networks = 192.0.2.0/25", "trust_authenticated = no",
    "authserv_id = mx.mailwarden.test",
    "dkim_sign_domains = example.org:own:%s" % key, ""]))


def t_train_as_root_gives_the_store():
    for cls, text in (("--spam", SPAM), ("--ham", HAM)):
        r = mw("train", "-c", conf, cls, corpus(cls[2:], text))
        assert r.returncode == 0, r.stderr
    for p in (store, os.path.join(store, "data.mdb"), os.path.join(store, "lock.mdb")):
        st = os.stat(p)
        assert (st.st_uid, st.st_gid) == (pw.pw_uid, pw.pw_gid), (p, st.st_uid, st.st_gid)


def t_keygen_as_root_gives_the_key():
    r = mw("dkim", "keygen", "-c", conf, "--domain", "example.org", "--selector", "own",
           "--out", key)
    assert r.returncode == 0, r.stderr
    st = os.stat(key)
    assert st.st_uid == pw.pw_uid and st.st_mode & 0o777 == 0o600, (st.st_uid, oct(st.st_mode))


def t_keygen_refuses_a_missing_user():
    bad = work.write("bad.conf", "rules_dir =\nrules_site_dir =\nuser = mw-no-such-user\n")
    out = os.path.join(keydir, "never.key")
    r = mw("dkim", "keygen", "-c", bad, "--domain", "example.org", "--selector", "x",
           "--out", out)
    assert r.returncode != 0 and not os.path.exists(out), r
    assert "bad.conf:3: user:" in r.stderr and "adduser" in r.stderr, r.stderr


def t_config_check_as_the_user():
    r = mw("config", "-n", "-c", conf)
    assert r.returncode == 0, r.stdout + r.stderr
    # a verdict log directory the user cannot write: named with key and line
    os.chown(log_dir, 0, 0)
    try:
        r = mw("config", "-n", "-c", conf)
    finally:
        os.chown(log_dir, pw.pw_uid, pw.pw_gid)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "mw.conf:4: log_file: %s: user %s cannot" % (log_dir, USER) in r.stderr, r.stderr


def t_daemon_as_user_bayes_and_signing():
    def as_user():
        os.setgroups([])
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)
        os.umask(0o027)

    # the build tree may sit where the service user cannot look (a
    # checkout under a 0700 directory): run a copy from the work dir
    mw_copy = os.path.join(work.path, "mailwarden")
    shutil.copy2(MW, mw_copy)
    os.chmod(mw_copy, 0o755)
    errlog = open(os.path.join(work.path, "daemon.err"), "w")
    proc = subprocess.Popen([mw_copy, "milter", "-f", "-c", conf], preexec_fn=as_user,
                            stdout=errlog, stderr=subprocess.STDOUT)
    pf = None
    try:
        sock = os.path.join(run_dir, "mw.sock")
        mwtest.wait_for(lambda: os.path.exists(sock) or proc.poll() is not None,
                        what="milter socket")
        assert proc.poll() is None, open(errlog.name).read()
        pf = mwtest.Postfix(work, "unix:" + sock).start()
        # from outside: scored, Bayes from the store train filled as root
        r = send(pf, "x9@sender.example", ["bob@example.net"], SPAM.format(n=9),
                 client_ip="198.51.100.7", client_name="mail.sender.example")
        assert r.code == 250, r
        pf.wait_delivered(1)
        line = mwtest.wait_for(lambda: read_log(vlog), what="verdict")[0]
        bay = line["bayes"]
        assert bay.get("store") == "lmdb" and bay.get("probability", 0) > 0.9 \
            and not bay.get("skipped") and not bay.get("degraded"), bay
        # from the trusted network: signed with the key keygen made as root
        r = send(pf, "alice@example.org", ["bob@example.net"],
                 "From: Alice <alice@example.org>\nTo: bob@example.net\n"
                 "Subject: numbers\nMessage-ID: <own1@example.org>\n\nattached\n",
                 client_ip="192.0.2.10", client_name="client.example.org")
        assert r.code == 250, r
        m = pf.wait_delivered(2)[-1]
        sig = header(m, "DKIM-Signature")
        assert sig and "s=own" in sig[0] and "d=example.org" in sig[0], sig
        assert "LMDB open" not in open(errlog.name).read()
    finally:
        if pf:
            pf.stop()
        proc.terminate()
        proc.wait(timeout=60)


def t_daemon_as_root_makes_its_dirs_the_users():
    base = work.sub("fresh", mode=0o755)
    c = work.write("fresh.conf", "\n".join([
        "socket = unix:%s/run/mw.sock" % base, "user = %s" % USER, "pid_file =",
        "log_file = %s/log/verdicts.log" % base, "dmarc_report_dir = %s/dmarc" % base,
        "rules_dir =", "rules_site_dir =", "scope_dir =", "dmarc = no", "spf = no", ""]))
    proc = subprocess.Popen([MW, "milter", "-f", "-c", c], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, universal_newlines=True)
    made = ("run/mw.sock", "log", "dmarc", "log/verdicts.log")
    try:
        # the socket can appear before the log is opened: wait for all
        mwtest.wait_for(lambda: all(os.path.exists(os.path.join(base, p)) for p in made)
                        or proc.poll() is not None, what="socket, log and report dirs")
        assert proc.poll() is None, proc.communicate()[0]
    finally:
        proc.terminate()
        out = proc.communicate(timeout=60)[0]
    for d in ("log", "dmarc", os.path.join("log", "verdicts.log")):
        st = os.stat(os.path.join(base, d))
        assert st.st_uid == pw.pw_uid, (d, st.st_uid, out)


try:
    R.check("the daemon started as root makes log and report dirs the user's",
            t_daemon_as_root_makes_its_dirs_the_users)
    R.check("train as root: the LMDB store belongs to the service user",
            t_train_as_root_gives_the_store)
    R.check("dkim keygen as root: the key belongs to the service user, 0600",
            t_keygen_as_root_gives_the_key)
    R.check("dkim keygen refuses a user that does not exist", t_keygen_refuses_a_missing_user)
    R.check("config -n as root checks paths as the user, with key and line",
            t_config_check_as_the_user)
    R.check("the daemon as the user: Bayes not degraded, signing works",
            t_daemon_as_user_bayes_and_signing)
finally:
    work.cleanup()
R.exit()
