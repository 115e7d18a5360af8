#!/usr/bin/env python3
"""The daemon without -f: it detaches, writes its pid file, keeps serving
after the starting process has returned, refuses to start on a bad
configuration (naming file, line and key), and on SIGTERM exits and
removes its pid file."""

import os
import pwd
import signal
import socket
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


try:
    R.check("a bad configuration is refused with file:line", t_bad_config_refuses_to_start)
    R.check("detaches, drops privileges, serves, exits on SIGTERM", t_detaches_and_serves)
finally:
    if os.path.exists(pidfile):
        try:
            os.kill(int(open(pidfile).read()), signal.SIGKILL)
        except (OSError, ValueError):
            pass
    work.cleanup()
R.exit()
