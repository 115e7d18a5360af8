#!/usr/bin/env python3
"""test_ownership.py - files made as root are the service user's.

`mailwarden train` and `mailwarden dkim keygen` run as root against a
configuration whose `user` is the service user (here postfix, which the
test machine has): the LMDB store and the key belong to that user, with
the modes the daemon needs.  `config -n` as root checks every path as
that user and names the key and line of a path the user cannot use:
stores it writes (bayes_store, policy_store, sample_dir), files it reads
(rules and scope files inside their directories, dns_zone_files,
dmarc_psl_file); a missing rule directory left at its built-in default
is no problem, as the engine allows it.  `ratelimit clear` as root
gives the policy store it creates to the user too; `train` refuses a
missing user before creating anything, and as root without a
configuration file warns that what it makes stays root's.
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


def defaults_of(*keys):
    r = mw("config", "-c", "/dev/null")
    vals = dict(l.split(" = ", 1) for l in r.stdout.splitlines() if " = " in l)
    return [vals[k] for k in keys]


def t_config_check_skips_missing_default_rule_dirs():
    # rules_dir and rules_site_dir left at their defaults, which the
    # engine skips when missing: the check as the user skips them too
    defaults = defaults_of("rules_dir", "rules_site_dir")
    if any(os.path.exists(d) for d in defaults):
        print("  (not checkable here: a default rule directory exists: %s)" % defaults)
        return
    d = work.sub("defdirs", owner=USER, mode=0o750)
    c = work.write("defdirs.conf", "user = %s\nlog_file = %s/verdicts.log\nbayes_store =\n"
                   "scope_dir =\ndmarc_psl_file =\npid_file =\n" % (USER, d))
    r = mw("config", "-n", "-c", c)
    assert r.returncode == 0 and "configuration OK" in r.stdout + r.stderr, r.stdout + r.stderr
    assert "rules_dir" not in r.stderr and "rules_site_dir" not in r.stderr, r.stderr


def t_config_check_what_the_daemon_opens():
    # each path the daemon reads or writes, on its own line of the file
    base = work.sub("opens", mode=0o755)
    rules = work.sub("opens", "rules.d", mode=0o755)
    scopes = work.sub("opens", "scopes.d", mode=0o755)
    pstore = work.sub("opens", "policy", mode=0o700)
    samples = work.sub("opens", "samples", mode=0o700)
    def put(d, name, text):
        p = os.path.join(d, name)
        with open(p, "w") as f:
            f.write(text)
        return p

    cf = put(rules, "local.cf", "header LOCAL_T Subject =~ /never-seen-subject/\n"
             "score LOCAL_T 0.1\n")
    scope = put(scopes, "inbound.conf", "recipient_domains = example.net\n")
    zone = put(base, "test.zone", "example.org. 300 IN A 192.0.2.1\n")
    psl = put(base, "psl.dat", "com\norg\n")
    lines = ["user = %s" % USER, "pid_file =", "log_file = %s/verdicts.log" % log_dir,
             "bayes_store =", "rules_dir =",
             "rules_site_dir = %s" % rules,       # 6
             "scope_dir = %s" % scopes,           # 7
             "policy_store = %s" % pstore,        # 8
             "sample_dir = %s" % samples,         # 9
             "dns_zone_files = %s" % zone,        # 10
             "dmarc_psl_file = %s" % psl, ""]     # 11
    c = work.write("opens.conf", "\n".join(lines))
    items = [(cf, "rules_site_dir", 6), (scope, "scope_dir", 7), (pstore, "policy_store", 8),
             (samples, "sample_dir", 9), (zone, "dns_zone_files", 10), (psl, "dmarc_psl_file", 11)]
    for p, _, _ in items:
        os.chown(p, pw.pw_uid, pw.pw_gid)
        os.chmod(p, 0o700 if os.path.isdir(p) else 0o600)
    r = mw("config", "-n", "-c", c)
    assert r.returncode == 0, r.stdout + r.stderr
    for p, _, _ in items:
        os.chown(p, 0, 0)
    r = mw("config", "-n", "-c", c)
    assert r.returncode == 1, r.stdout + r.stderr
    for p, key, line in items:
        assert "opens.conf:%d: %s: %s: user %s cannot" % (line, key, p, USER) in r.stderr, \
            (key, r.stderr)
    assert "%d problem(s)" % len(items) in r.stderr, r.stderr


def t_ratelimit_as_root_gives_the_policy_store():
    ps = os.path.join(state, "policy")
    c = work.write("rl.conf", "user = %s\npolicy_store = %s\nrules_dir =\n"
                   "rules_site_dir =\nscope_dir =\n" % (USER, ps))
    r = mw("ratelimit", "clear", "-c", c, "user", "alice@example.org")
    assert r.returncode in (0, 1) and "ratelimit:" not in r.stderr, r.stdout + r.stderr
    for p in (ps, os.path.join(ps, "data.mdb"), os.path.join(ps, "lock.mdb")):
        st = os.stat(p)
        assert (st.st_uid, st.st_gid) == (pw.pw_uid, pw.pw_gid), (p, st.st_uid, st.st_gid)


def t_train_refuses_a_missing_user_creating_nothing():
    bad = work.write("bad-train.conf", "rules_dir =\nrules_site_dir =\nscope_dir =\n"
                     "user = mw-no-such-user\n")
    never = os.path.join(state, "never-bayes")
    r = mw("train", "-c", bad, "--store", never, "--spam", corpus("spam2", SPAM))
    assert r.returncode != 0 and not os.path.exists(never), (r.returncode, r.stderr)
    assert "bad-train.conf:4: user:" in r.stderr, r.stderr


def t_root_without_configuration_warns():
    # no -c and no file at the default path: built-in defaults, no user
    # to give files to; say so (skipped when this host has that file)
    default_conf = os.path.join(os.path.dirname(defaults_of("rules_site_dir")[0]),
                                "mailwarden.conf")
    if os.path.exists(default_conf):
        print("  (not checkable here: %s exists)" % default_conf)
        return
    st_dir = os.path.join(state, "rootowned")
    r = mw("train", "--store", st_dir, "--ham", corpus("ham2", HAM))
    assert r.returncode == 0, r.stderr
    warn = [l for l in r.stderr.splitlines() if "warning" in l]
    assert len(warn) == 1 and st_dir in warn[0] and "owned by root" in warn[0] \
        and "-c FILE" in warn[0] and "user" in warn[0], r.stderr
    out = os.path.join(keydir, "root.key")
    r = mw("dkim", "keygen", "--domain", "example.org", "--selector", "r", "--out", out)
    assert r.returncode == 0 and os.stat(out).st_uid == 0, r.stderr
    warn = [l for l in r.stderr.splitlines() if "warning" in l]
    assert len(warn) == 1 and out in warn[0] and "owned by root" in warn[0], r.stderr


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
    R.check("config -n as root: a missing default rule directory is no problem",
            t_config_check_skips_missing_default_rule_dirs)
    R.check("config -n as root: stores, rule and scope files, zones, PSL as the user",
            t_config_check_what_the_daemon_opens)
    R.check("ratelimit clear as root: the policy store belongs to the service user",
            t_ratelimit_as_root_gives_the_policy_store)
    R.check("train refuses a user that does not exist, creating nothing",
            t_train_refuses_a_missing_user_creating_nothing)
    R.check("train and keygen as root without a configuration file warn",
            t_root_without_configuration_warns)
    R.check("the daemon as the user: Bayes not degraded, signing works",
            t_daemon_as_user_bayes_and_signing)
finally:
    work.cleanup()
R.exit()
