#!/usr/bin/env python3
"""The daemon without -f: it detaches, writes its pid file, keeps serving
after the starting process has returned, refuses to start on a bad
configuration (naming file, line and key), and on SIGTERM exits and
removes its pid file.

Issue 14, item 12: the pid file is written as root in a directory the
service user owns, so that user could put a symbolic or hard link to any
file at the pid file's path.  The daemon must leave such a file alone
(and not remove it on exit), and it must create its unix socket with the
service user as owner and socket_mode as mode without touching the path
as root afterwards."""

import os
import pwd
import signal
import socket
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mwtest  # noqa: E402

if os.geteuid() != 0:
    print("SKIP: needs root (privilege drop)")
    sys.exit(77)

work = mwtest.Workdir("mw-daemon-")
run = work.sub("run", owner="nobody")
R = mwtest.Results()
port = mwtest.free_port()
conf = work.write("d.conf", "\n".join([
    "socket = inet:%d@127.0.0.1" % port,
    "user = nobody",
    "pid_file = %s/mw.pid" % run,
    "log_file =",
    "dns_zone_files =",
    "rules_dir =", "rules_site_dir =", "scope_dir =",
]) + "\n")
pidfile = os.path.join(run, "mw.pid")


def t_bad_config_refuses_to_start():
    bad = work.write("bad.conf", "tag_score = 5\nreject_score = never\n")
    r = subprocess.run([mwtest.MAILWARDEN, "milter", "-c", bad],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True, timeout=30)
    assert r.returncode != 0, r
    assert "bad.conf:2: reject_score" in r.stdout, r.stdout
    r = subprocess.run([mwtest.MAILWARDEN, "config", "-n", "-c", bad],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True, timeout=30)
    assert r.returncode != 0 and "bad.conf:2: reject_score" in r.stdout, r.stdout


def t_detaches_and_serves():
    r = subprocess.run([mwtest.MAILWARDEN, "milter", "-c", conf], timeout=30)
    assert r.returncode == 0, r
    pid = int(mwtest.wait_for(lambda: os.path.exists(pidfile) and open(pidfile).read().strip(),
                              what="pid file"))
    os.kill(pid, 0)
    with open("/proc/%d/status" % pid) as f:
        uid = [l for l in f if l.startswith("Uid:")][0].split()[1]
    assert int(uid) == pwd.getpwnam("nobody").pw_uid, uid
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass
    os.kill(pid, signal.SIGTERM)
    mwtest.wait_for(lambda: not os.path.exists("/proc/%d" % pid), what="exit")
    assert not os.path.exists(pidfile), "pid file left behind"


def t_warnings_logged_at_start_and_reload():
    """What config -n warns about, the daemon logs when it loads the
    configuration: a score for a symbol nothing emits, a trusted ARC sealer
    that is a top-level domain; again on SIGHUP."""
    m = mwtest.Milter(work, {
        "socket": "inet:%d@127.0.0.1" % mwtest.free_port(), "user": "",
        "pid_file": "", "log_file": "", "dns_zone_files": "",
        "rules_dir": "", "rules_site_dir": "",
        "symbol_scores": "SPF_FAILL=5", "arc_trusted_sealers": "com"},
        name="warn").start()
    try:
        want = ("symbol_scores: SPF_FAILL: no rule or check emits",
                "arc_trusted_sealers: com: a public suffix")
        mwtest.wait_for(lambda: all(w in m.log_text() for w in want),
                        what="both warnings at start")
        m.signal(signal.SIGHUP)
        mwtest.wait_for(lambda: all(m.log_text().count(w) >= 2 for w in want),
                        what="both warnings again on reload")
    finally:
        m.stop()


def daemon_pids(conf_path):
    """Pids of `mailwarden milter -c conf_path` processes."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if b"milter" in argv and conf_path.encode() in argv:
            out.append(int(d))
    return out


def stop_daemon(conf_path):
    for pid in daemon_pids(conf_path):
        os.kill(pid, signal.SIGTERM)
    mwtest.wait_for(lambda: not daemon_pids(conf_path), what="exit")


def start_and_serve(conf_path, connect):
    r = subprocess.run([mwtest.MAILWARDEN, "milter", "-c", conf_path], timeout=30)
    assert r.returncode == 0, r

    def serving():
        try:
            with connect():
                return True
        except OSError:
            return False
    # the pid file is written before the socket listens
    mwtest.wait_for(serving, what="the daemon's socket")


def t_pid_file_link_left_alone(kind):
    target = work.write("precious-%s.txt" % kind, "precious data\n")
    before = os.stat(target)
    if kind == "symlink":
        os.symlink(target, pidfile)
    else:
        os.link(target, pidfile)
    try:
        start_and_serve(conf, lambda: socket.create_connection(
            ("127.0.0.1", port), timeout=5))
        with open(target) as f:
            assert f.read() == "precious data\n", "the daemon wrote through the %s" % kind
        after = os.stat(target)
        assert (after.st_uid, after.st_mode, after.st_size) == \
            (before.st_uid, before.st_mode, before.st_size), (before, after)
        stop_daemon(conf)
        # not written, so not removed either
        assert os.path.lexists(pidfile), "the daemon removed a file it did not write"
        if kind == "symlink":
            assert os.readlink(pidfile) == target
        with open(target) as f:
            assert f.read() == "precious data\n"
    finally:
        stop_daemon(conf)
        if os.path.lexists(pidfile):
            os.unlink(pidfile)


def t_unix_socket_owner_and_mode():
    sock = os.path.join(run, "mw.sock")
    uconf = work.write("u.conf", "\n".join([
        "socket = unix:%s" % sock,
        "socket_mode = 0640",
        "user = nobody",
        "pid_file = %s/u.pid" % run,
        "log_file =",
        "dns_zone_files =",
        "rules_dir =", "rules_site_dir =", "scope_dir =",
    ]) + "\n")

    def connect():
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(5)
        s.connect(sock)
        return s
    try:
        start_and_serve(uconf, connect)
        st = os.lstat(sock)
        nobody = pwd.getpwnam("nobody")
        assert stat.S_ISSOCK(st.st_mode), oct(st.st_mode)
        assert (st.st_uid, st.st_gid) == (nobody.pw_uid, nobody.pw_gid), \
            (st.st_uid, st.st_gid)
        assert stat.S_IMODE(st.st_mode) == 0o640, oct(st.st_mode)
    finally:
        stop_daemon(uconf)


try:
    R.check("a bad configuration is refused with file:line", t_bad_config_refuses_to_start)
    R.check("detaches, drops privileges, serves, exits on SIGTERM", t_detaches_and_serves)
    R.check("config -n's warnings logged at start and on reload",
            t_warnings_logged_at_start_and_reload)
    R.check("a pid file that is a symbolic link is not followed",
            lambda: t_pid_file_link_left_alone("symlink"))
    R.check("a pid file that is a hard link is not written",
            lambda: t_pid_file_link_left_alone("hardlink"))
    R.check("the unix socket is created with its owner and mode",
            t_unix_socket_owner_and_mode)
finally:
    if os.path.exists(pidfile):
        try:
            os.kill(int(open(pidfile).read()), signal.SIGKILL)
        except (OSError, ValueError):
            pass
    work.cleanup()
R.exit()
