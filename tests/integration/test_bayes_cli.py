#!/usr/bin/env python3
"""Bayes from the command line: train over files, folders, Maildirs and mbox
files (idempotent, forget, relearn), stats, tokens, dump and load between
LMDB and a real redis-server, two configurations ("hosts") sharing one Redis
database, and a Redis outage seen by `scan` (bounded wait, degraded mark).

redis-server is started by this test on 127.0.0.1 and a free port, with a
temporary directory, and stopped at the end; without it the Redis checks
are skipped (and reported as such).
"""

import json
import os
import re
import shutil
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mwtest  # noqa: E402
import bayestest  # noqa: E402
from bayestest import mw  # noqa: E402

work = tempfile.mkdtemp(prefix="mw-bayes-cli-")
R = mwtest.Results()

SPAMS = [
    "Subject: cheap pills {n}\n\nbuy cheap viagra pills now, best price {n}\n",
    "Subject: viagra offer {n}\n\ncheap viagra, order pills online {n}\n",
    "Subject: best price {n}\n\nviagra cialis cheap, buy now {n}\n",
]
HAMS = [
    "Subject: meeting {n}\n\nthe project meeting is on monday {n}\n",
    "Subject: agenda {n}\n\nthanks for the notes, see you at the meeting {n}\n",
]


def path(*p):
    return os.path.join(work, *p)


def write(rel, text):
    p = path(rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "w") as f:
        f.write(text)
    return p


def conf(name, store, extra=""):
    return write(name + ".conf", "bayes_store = %s\nlog_file =\n"
                 "bayes_min_spam = 2\nbayes_min_ham = 2\ndmarc = no\nspf = no\n"
                 "rules_dir =\nrules_site_dir =\n%s" % (store, extra))


def summary(out):
    """Numbers of the train summary line."""
    m = re.search(r"(\d+) message\(s\) as \w+: (\d+) new, (\d+) already "
                  r"known, (\d+) relearned, (\d+) forgotten, (\d+) not "
                  r"learned before; (\d+) unreadable", out)
    assert m, "no summary in %r" % out
    keys = ("seen", "new", "known", "relearned", "forgotten", "unknown",
            "unreadable")
    return dict(zip(keys, map(int, m.groups())))


def stats(cfg, *extra):
    out = mw("bayes", "stats", "-c", cfg, *extra).stdout
    m = re.search(r"messages\s+(\d+) spam, (\d+) ham", out)
    t = re.search(r"tokens\s+(\d+)", out)
    return int(m.group(1)), int(m.group(2)), int(t.group(1))


# spam: a folder of files; ham: a Maildir and an mbox
for i, t in enumerate(SPAMS):
    write("spam/%d.eml" % i, t.format(n=i))
write("maildir/cur/1.host:2,S", HAMS[0].format(n=1))
write("maildir/new/2.host", HAMS[1].format(n=2))
os.makedirs(path("maildir", "tmp"))
MBOX = "".join(
    "From sender%d@example.org  Thu Aug 22 13:17:2%d 2002\n" % (i, i) +
    HAMS[i % 2].format(n=10 + i) +
    ("\nFrom the desk of nobody: not a separator\n" if i == 0 else "") + "\n"
    for i in range(3))
write("inbox.mbox", MBOX)
lmdb = conf("lmdb", path("db"))


def train_is_idempotent():
    s = summary(mw("train", "-c", lmdb, "--spam", path("spam")).stdout)
    assert (s["seen"], s["new"]) == (3, 3), s
    s = summary(mw("train", "-c", lmdb, "--spam", path("spam")).stdout)
    assert (s["seen"], s["new"], s["known"]) == (3, 0, 3), s
    assert stats(lmdb)[:2] == (3, 0)


def train_reads_maildir_and_mbox():
    s = summary(mw("train", "-c", lmdb, "--ham", path("maildir"),
                   path("inbox.mbox")).stdout)
    # 2 in the Maildir, 3 in the mbox (the body "From " line is no split)
    assert (s["seen"], s["new"]) == (5, 5), s
    assert stats(lmdb)[:2] == (3, 5)


def forget_and_relearn():
    one = path("spam", "0.eml")
    s = summary(mw("train", "-c", lmdb, "--forget", one).stdout)
    assert s["forgotten"] == 1, s
    s = summary(mw("train", "-c", lmdb, "--forget", one).stdout)
    assert s["unknown"] == 1, s
    assert stats(lmdb)[:2] == (2, 5)
    s = summary(mw("train", "-c", lmdb, "--ham", path("spam", "1.eml")).stdout)
    assert s["relearned"] == 1, s
    assert stats(lmdb)[:2] == (1, 6)
    # back to where we were for the checks below
    mw("train", "-c", lmdb, "--spam", path("spam"))
    assert stats(lmdb)[:2] == (3, 5)


def unreadable_is_reported():
    r = mw("train", "-c", lmdb, "--spam", path("missing"), check=False)
    assert r.returncode == 1, r
    assert "missing" in r.stderr and summary(r.stdout)["unreadable"] == 1


def tokens_show_the_message():
    out = mw("bayes", "tokens", "-c", lmdb, path("spam", "2.eml")).stdout
    toks = out.split("\n")
    assert "subject:best" in toks and "viagra" in toks, out
    out = mw("bayes", "tokens", "-v", "-c", lmdb, path("spam", "2.eml")).stdout
    assert re.search(r"spam probability 0\.9\d+", out), out


def scan_scores_with_the_store():
    out = mw("scan", "-c", lmdb, "--json", path("spam", "2.eml")).stdout
    b = json.loads(out)["bayes"]
    assert b["probability"] > 0.9 and b["learned"] == {"spam": 3, "ham": 5}, b
    assert b["store"] == "lmdb" and b["tokens"], b


def load_refuses_a_nonempty_store():
    dump = path("dump.txt")
    with open(dump, "w") as f:
        f.write(mw("bayes", "dump", "-c", lmdb).stdout)
    r = mw("bayes", "load", "-c", lmdb, dump, check=False)
    assert r.returncode == 1 and "not empty" in r.stderr, r


R.check("train is idempotent", train_is_idempotent)
R.check("train reads a Maildir and an mbox", train_reads_maildir_and_mbox)
R.check("forget and relearn", forget_and_relearn)
R.check("unreadable paths are reported", unreadable_is_reported)
R.check("bayes tokens shows the message", tokens_show_the_message)
R.check("scan scores with the store", scan_scores_with_the_store)
R.check("load refuses a non-empty store", load_refuses_a_nonempty_store)

redis = None
if bayestest.REDIS_SERVER is None:
    print("skipped: Redis checks (redis-server not installed)")
else:
    redis = bayestest.Redis()
    host_a = conf("host-a", redis.url)
    host_b = conf("host-b", redis.url)

    def dump_moves_to_redis_and_back():
        dump = path("dump.txt")
        mw("bayes", "load", "-c", host_a, dump)
        assert stats(host_a) == stats(lmdb), (stats(host_a), stats(lmdb))
        a = sorted(mw("bayes", "dump", "-c", lmdb).stdout.splitlines())
        b = sorted(mw("bayes", "dump", "-c", host_a).stdout.splitlines())
        assert a == b
        # and back into a fresh LMDB store
        mw("bayes", "load", "-c", lmdb, "--store", path("db2"), dump)
        assert stats(lmdb, "--store", path("db2")) == stats(lmdb)

    def hosts_share_learning():
        before = json.loads(mw("scan", "-c", host_b, "--json",
                               path("spam", "2.eml")).stdout)["bayes"]
        assert before["store"] == "redis" and before["probability"] > 0.9
        new = write("spam2/x.eml", SPAMS[0].format(n=99))
        s = summary(mw("train", "-c", host_a, "--spam", new).stdout)
        assert s["new"] == 1, s
        after = json.loads(mw("scan", "-c", host_b, "--json",
                              path("spam", "2.eml")).stdout)["bayes"]
        assert after["learned"]["spam"] == before["learned"]["spam"] + 1
        # host B learning the same message again changes nothing
        s = summary(mw("train", "-c", host_b, "--spam", new).stdout)
        assert s["known"] == 1, s

    def redis_down_degrades_scan():
        redis.kill()
        # connection refused: immediate
        t0 = time.monotonic()
        r = mw("scan", "-c", host_b, "--json", path("spam", "2.eml"))
        b = json.loads(r.stdout)["bayes"]
        assert b["probability"] is None and b["degraded"] is True, b
        assert time.monotonic() - t0 < 5
        # a server that accepts and never answers: one timeout
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        silent = conf("silent", "redis://127.0.0.1:%d/0" %
                      sock.getsockname()[1], "bayes_redis_timeout = 300\n")
        t0 = time.monotonic()
        r = mw("scan", "-c", silent, "--json", path("spam", "2.eml"),
               path("spam", "1.eml"))
        dt = time.monotonic() - t0
        lines = [json.loads(x)["bayes"] for x in r.stdout.splitlines()]
        assert all(x["degraded"] for x in lines), lines
        # two messages, one wait: the second is skipped at once
        assert 0.25 < dt < 3, dt
        sock.close()
        r = mw("train", "-c", host_a, "--spam", path("spam"), check=False)
        assert r.returncode == 1 and "Redis" in r.stderr, r

    R.check("dump moves a store to Redis and back", dump_moves_to_redis_and_back)
    R.check("two hosts share learning through Redis", hosts_share_learning)
    R.check("Redis down: scan degrades within the timeout",
            redis_down_degrades_scan)
    redis.stop()

shutil.rmtree(work, ignore_errors=True)
R.exit()
