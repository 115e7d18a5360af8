#!/usr/bin/env python3
"""test_install.py - make install into a temporary prefix, then the suites.

Configures the source tree into a fresh build directory with every
installation path inside a temporary prefix, and checks:

- `make install DESTDIR=...` puts every file under the prefix (nothing
  outside it) and installs the program, the shipped rules, the man pages
  and, under $(datadir)/mailwarden/, the reference configuration (every
  key of the program's table), the systemd unit (naming the configured
  sbindir and sysconfdir) and the logrotate file;
- no silent defaults: the installed daemon, with no file at its default
  configuration path, refuses to start and names the path; so does
  `config -n`; -c /dev/null runs the built-in defaults; once the
  reference configuration is copied into place, `config -n` names it;
- hermetic tests: after a real `make install` into the prefix (so that
  the default rules_dir holds the shipped rules), and with a site's files
  put in place at their default paths (a configuration file, a site rule
  that tags clean mail, a policy scope that selects all mail and names a
  list the prefix lacks), the unit suites still pass: no test reads the
  installation.
"""

import os
import pwd
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mwtest  # noqa: E402

SRC = os.path.abspath(mwtest.SRCDIR)
R = mwtest.Results()
JOBS = "-j2"


def run(cmd, cwd, env=None, timeout=1800):
    # not the make check that runs this test: its TESTS and flags would
    # reach the inner make through MAKEFLAGS
    env = dict(env or os.environ)
    for k in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "TESTS"):
        env.pop(k, None)
    r = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True, env=env, timeout=timeout)
    return r.returncode, r.stdout


def as_nobody():
    nobody = pwd.getpwnam("nobody")
    os.setgroups([])
    os.setgid(nobody.pw_gid)
    os.setuid(nobody.pw_uid)


def files_under(top):
    out = []
    for d, _, names in os.walk(top):
        out.extend(os.path.join(d, n) for n in names)
    return out


if os.path.exists(os.path.join(SRC, "config.status")):
    print("source tree configured in place: an out-of-tree build is impossible; skipped")
    sys.exit(mwtest.SKIP)

tmp = tempfile.mkdtemp(prefix="mw-install-")
os.chmod(tmp, 0o755)    # the installed program runs as nobody too
prefix = os.path.join(tmp, "prefix")
build = os.path.join(tmp, "build")
stage = os.path.join(tmp, "stage")
os.makedirs(build)
try:
    args = [os.path.join(SRC, "configure"), "-q", "--prefix=" + prefix]
    if os.environ.get("SHARED_DIR"):
        args.append("SHARED_DIR=" + os.environ["SHARED_DIR"])
    rc, out = run(args, build)
    if rc != 0:
        print(out)
        sys.exit("configure failed")
    rc, out = run(["make", JOBS], build)
    if rc != 0:
        print(out[-4000:])
        sys.exit("make failed")

    def t_destdir_install_stays_in_prefix():
        rc, out = run(["make", "install", "DESTDIR=" + stage], build)
        assert rc == 0, out[-3000:]
        files = files_under(stage)
        outside = [f for f in files if not f.startswith(stage + prefix + "/")]
        assert not outside, "installed outside the prefix: %s" % outside
        inst = {os.path.relpath(f, stage + prefix) for f in files}
        for want in ("sbin/mailwarden", "share/mailwarden/rules/10_headers.cf",
                     "share/man/man8/mailwarden.8", "share/man/man5/mailwarden.conf.5",
                     "share/mailwarden/mailwarden.conf.example",
                     "share/mailwarden/mailwarden.service",
                     "share/mailwarden/logrotate.mailwarden"):
            assert want in inst, "%s not installed (%s)" % (want, sorted(inst))
        assert not any(f.startswith("etc/") for f in inst), "make install wrote a configuration"
        # the installed guides name this build's paths, as the program does
        with open(os.path.join(stage + prefix, "share", "doc", "mailwarden",
                               "operations.md")) as f:
            ops = f.read()
        assert "%s/etc/mailwarden/mailwarden.conf" % prefix in ops
        assert "%s/share/mailwarden/mailwarden.conf.example" % prefix in ops
        assert " /etc/mailwarden" not in ops, "a system path left in the installed guide"

    def t_reference_configuration_and_unit():
        share = os.path.join(stage + prefix, "share", "mailwarden")
        with open(os.path.join(share, "mailwarden.conf.example")) as f:
            example = f.read()
        mw = os.path.join(build, "mailwarden")
        keys = subprocess.run([mw, "config", "--reference"], stdout=subprocess.PIPE,
                              universal_newlines=True, check=True).stdout
        names = [line.split("`")[1] for line in keys.splitlines() if line.startswith("| `")]
        assert len(names) > 50, names
        missing = [k for k in names if "\n#%s = " % k not in example]
        assert not missing, "keys missing from the example: %s" % missing
        # every key uncommented is still a valid configuration
        active = os.path.join(tmp, "active.conf")
        with open(active, "w") as f:
            f.write("\n".join(l[1:] if l[1:2].isalpha() else l for l in example.splitlines())
                    # run as root, config -n would check paths as user
                    # mailwarden, which this machine need not have
                    .replace("\nuser = mailwarden\n", "\nuser =\n"))
        rc, out = run([mw, "config", "-n", "-c", active], tmp)
        assert rc == 0, out
        with open(os.path.join(share, "mailwarden.service")) as f:
            unit = f.read()
        conf = os.path.join(prefix, "etc", "mailwarden", "mailwarden.conf")
        assert "ExecStart=%s/sbin/mailwarden milter -f -c %s\n" % (prefix, conf) in unit, unit

    R.check("make install DESTDIR= installs everything under the prefix",
            t_destdir_install_stays_in_prefix)
    R.check("reference configuration holds every key; the unit names configured paths",
            t_reference_configuration_and_unit)

    rc, out = run(["make", "install"], build)
    if rc != 0:
        print(out[-3000:])
        sys.exit("make install failed")
    mw = os.path.join(prefix, "sbin", "mailwarden")
    conf = os.path.join(prefix, "etc", "mailwarden", "mailwarden.conf")

    def t_no_silent_defaults():
        sock = os.path.join(tmp, "mw.sock")
        r = subprocess.run([mw, "milter", "-f"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True, timeout=20)
        assert r.returncode != 0 and conf in r.stdout and "/dev/null" in r.stdout, r.stdout
        r = subprocess.run([mw, "config", "-n"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True)
        assert r.returncode != 0 and conf in r.stdout, r.stdout
        # as nobody: as root it would also check paths as user mailwarden
        r = subprocess.run([mw, "config", "-n", "-c", "/dev/null"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True,
                           preexec_fn=as_nobody)
        assert r.returncode == 0 and "/dev/null" in r.stdout, r.stdout
        # the daemon on explicit defaults starts and names what it read
        cfg = os.path.join(tmp, "sock.conf")
        with open(cfg, "w") as f:
            f.write("socket = unix:%s\nuser =\npid_file =\nlog_file =\n" % sock)
        p = subprocess.Popen([mw, "milter", "-f", "-c", cfg], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, universal_newlines=True)
        try:
            mwtest.wait_for(lambda: os.path.exists(sock), what="milter socket")
        finally:
            p.terminate()
            text = p.communicate(timeout=30)[0]
        assert "(configuration %s)" % cfg in text, text
        os.makedirs(os.path.dirname(conf))
        shutil.copy(os.path.join(prefix, "share", "mailwarden", "mailwarden.conf.example"), conf)
        r = subprocess.run([mw, "config", "-n"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True,
                           preexec_fn=as_nobody)
        assert r.returncode == 0 and r.stdout.startswith(conf + ":"), r.stdout
        os.unlink(conf)

    def t_unit_suites_pass_after_install():
        # the default rules_dir now holds the shipped rules
        assert os.path.exists(os.path.join(prefix, "share", "mailwarden", "rules", "50_meta.cf"))
        # and a site's files at the default paths: the configuration and
        # the rule change the verdict on clean mail, the scope makes any
        # engine that reads it fail to load
        etc = os.path.join(prefix, "etc", "mailwarden")
        for name, text in (
                ("mailwarden.conf", "tag_score = 0.5\nreject_score = 1\n"),
                ("rules.d/zz_site.cf", "body SITE_TAGS_ALL /./\n"
                 "describe SITE_TAGS_ALL a site rule that tags clean mail\n"
                 "score SITE_TAGS_ALL 50\n"),
                # its list is not there: an engine reading it fails to load
                ("scopes.d/all.conf", "clients = 0.0.0.0/0 ::/0\ntag_score = 0.1\n"
                 "reject_score = 1000\nclient_list = %s/lists/site.list\n" % etc)):
            path = os.path.join(etc, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
        rc, out = run(["make", JOBS, "check", "TESTS=$(UNIT_TESTS)"], build)
        summary = [l for l in out.splitlines() if l.startswith(("# ", "FAIL", "ERROR"))]
        print("\n".join(summary))
        assert rc == 0 and "# PASS:" in out, out[-6000:]

    R.check("no silent defaults: the installed daemon refuses without its file",
            t_no_silent_defaults)
    R.check("unit suites pass with the package installed in the prefix",
            t_unit_suites_pass_after_install)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
R.exit()
