#!/usr/bin/env python3
"""bench_report.py - the writers of contrib/bench/run_bench.py on made-up
results: the size-slope chart (SVG) and doc block, the marked-block and
owned-file writers, and the README summary.  No service, no measurement:
the benchmark itself is run by hand.

Environment (set by `make check`): TOP_SRCDIR.  By hand:

    TOP_SRCDIR=. python3 tests/integration/bench_report.py
"""

import math
import os
import re
import sys
import tempfile
import types
import xml.etree.ElementTree as ET

from checks import check, exit_status

TOP = os.path.abspath(os.environ.get("TOP_SRCDIR", "."))
sys.path.insert(0, os.path.join(TOP, "contrib", "bench"))
import run_bench  # noqa: E402

SVG_NS = "{http://www.w3.org/2000/svg}"
FILTERS = ["null-milter", "mailwarden-auth", "rspamd"]
SIZES = [1, 256, 1024]


def fake_results():
    """CPU ms = base + per-MB slope x size: known answers."""
    base = {"null-milter": 0.2, "mailwarden-auth": 0.5, "rspamd": 10.0}
    slope = {("null-milter", "text"): 1.0, ("null-milter", "attachment"): 1.0,
             ("mailwarden-auth", "text"): 40.0,
             ("mailwarden-auth", "attachment"): 36.0,
             ("rspamd", "text"): 300.0, ("rspamd", "attachment"): 20.0}
    out = []
    for f in FILTERS:
        for kind in ("text", "attachment"):
            for kb in SIZES:
                nbytes = kb * 1024 + 512
                out.append({"filter": f, "kind": kind, "kb": kb,
                            "bytes": nbytes, "messages": 100 + kb,
                            "other_busy_cores": 0.05,
                            "cpu_ms_per_msg": base[f] + slope[(f, kind)] *
                            nbytes / (1024.0 * 1024)})
    return out


def fake_meta():
    return {"date": "2026-12-07 17:00", "host_model": "Test CPU <x&y>",
            "virt": "KVM guest", "ncpu": 2, "kernel": "6.1", "mw_version":
            "abc1234", "minutes": 12.4, "load_start": [0.5, 0.6, 0.7],
            "load_end": [1.0, 1.1, 1.2], "concurrency": 4, "slope_cpu": 3.0,
            "set_desc": "made up", "train": [2282, 1043],
            "max_scan_bytes": "1048576",
            "filters": {"null-milter": "config of null-milter",
                        "mailwarden-auth": "config of mailwarden-auth, no "
                        "training set",
                        "rspamd": "config of rspamd, Bayes (trained on "
                        "the train split)"},
            "config": {"mailwarden-auth": [["command", "mailwarden milter -c $DIR/mw.conf"],
                                           ["$DIR/mw.conf", "rules_dir = \n"]]},
            "warnings": []}


def test_svg():
    res, meta = fake_results(), fake_meta()
    svg = run_bench.slope_svg(res, meta)
    try:
        root = ET.fromstring(svg.encode())
    except ET.ParseError as e:
        check("the chart parses as XML", False, e)
        return
    check("the chart parses as XML", root.tag == SVG_NS + "svg", root.tag)
    lines = [p for p in root.iter(SVG_NS + "polyline")
             if p.get("class") == "series"]
    check("one polyline per filter and kind", len(lines) == len(FILTERS) * 2,
          len(lines))
    got = {(p.get("data-filter"), p.get("data-kind")) for p in lines}
    check("every filter and kind drawn",
          got == {(f, k) for f in FILTERS for k in ("text", "attachment")}, got)
    dashed = {p.get("data-kind") for p in lines if p.get("stroke-dasharray")}
    solid = {p.get("data-kind") for p in lines if not p.get("stroke-dasharray")}
    check("attachment dashed, text solid",
          dashed == {"attachment"} and solid == {"text"}, (dashed, solid))
    colors = {}
    for p in lines:
        colors.setdefault(p.get("data-filter"), set()).add(p.get("stroke"))
    check("one colour per filter, distinct",
          all(len(c) == 1 for c in colors.values()) and
          len({min(c) for c in colors.values()}) == len(FILTERS), colors)
    for p in lines:
        pts = [tuple(map(float, xy.split(","))) for xy in p.get("points").split()]
        if len(pts) != len(SIZES):
            check("a point per size", False, p.get("points"))
            return
        xs = [x for x, _ in pts]
        ys = [y for _, y in pts]
        if not (xs == sorted(xs) and ys == sorted(ys, reverse=True)):
            check("larger sizes right, dearer messages up", False, pts)
            return
    check("larger sizes right, dearer messages up", True)
    # log scale: distances on the size axis go with the log of the ratio
    # of the sizes (1.5, 256.5 and 1024.5 KB)
    rsp = [p for p in lines if p.get("data-filter") == "rspamd" and
           p.get("data-kind") == "text"][0]
    pts = [tuple(map(float, xy.split(","))) for xy in rsp.get("points").split()]
    got = (pts[2][0] - pts[1][0]) / (pts[1][0] - pts[0][0])
    want = math.log(1024.5 / 256.5) / math.log(256.5 / 1.5)
    check("the size axis is logarithmic", abs(got - want) < 0.01, (got, want))
    check("the escaped machine name is in the chart",
          "Test CPU <x&y>" in "".join(root.itertext()))
    check("the chart says who wrote it", run_bench.SVG_MARK in svg)


def test_markdown():
    res, meta = fake_results(), fake_meta()
    md = run_bench.slope_markdown(res, meta, "bench-slope.svg")
    check("the block links the chart", "](bench-slope.svg)" in md, md[:300])
    check("the block says machine, commit and load",
          "Test CPU <x&y>" in md and "abc1234" in md and
          "0.50 0.60 0.70" in md and "1.00 1.10 1.20" in md, md[:800])
    check("the block says the training set and whose",
          "Training set of the Bayes stores (rspamd): the corpus train "
          "split, 2282 ham + 1043 spam; the other filters have none." in md,
          md)
    check("the block gives each filter's exact configuration",
          "<details><summary>mailwarden-auth: exact configuration</summary>"
          in md and "rules_dir = " in md and "- rspamd: config of rspamd"
          in md)
    head = "| kind | size KB | null-milter | mailwarden-auth | rspamd |"
    check("the table has a column per filter", head in md, md)
    # rspamd text at 1024 KB: 10 + 300 * (1024.5 / 1024) ms
    row = [x for x in md.splitlines() if x.startswith("| text | 1024.5 |")]
    check("the 1 MB text row", len(row) == 2 and
          row[0].split("|")[5].strip() == run_bench.fmt(
              10.0 + 300.0 * 1024.5 / 1024, 3), row)
    per = [x for x in md.splitlines() if x.startswith("| rspamd | ")]
    check("CPU per additional MB from the two largest sizes",
          per == ["| rspamd | 300 | 20.0 |"], per)
    check("the sizes over mailwarden's max_scan_bytes are named",
          "`max_scan_bytes` is 1048576" in md and
          "1024 KB text and 1024 KB attachment messages" in md and
          "256 KB" not in md.split("max_scan_bytes")[1].split("\n")[0], md)
    md2 = run_bench.slope_markdown(
        [r for r in res if not r["filter"].startswith("mailwarden")], meta,
        "x.svg")
    check("without mailwarden, nothing said of max_scan_bytes",
          "max_scan_bytes" not in md2, md2)


def raises(exc, fn, *args):
    """Whether fn(*args) raises exc."""
    try:
        fn(*args)
    except exc:
        return True
    return False


def test_writers(tmp):
    doc = os.path.join(tmp, "doc.md")
    before = "# Title\n\nhand-written text\n\n"
    after = "\n## Later\n\nmore hand-written text\n"
    with open(doc, "w") as f:
        f.write(before + run_bench.SLOPE_BEGIN + "\nold figures\n" +
                run_bench.SLOPE_END + after)
    svg = os.path.join(tmp, "bench-slope.svg")
    args = types.SimpleNamespace(markdown=doc, svg=None)
    run = {"meta": fake_meta(), "results": fake_results()}
    out = sys.stdout
    sys.stdout = open(os.devnull, "w")
    try:
        run_bench.write_slope(args, run)
    finally:
        sys.stdout.close()
        sys.stdout = out
    with open(doc) as f:
        text = f.read()
    check("the doc keeps what is around the block",
          text.startswith(before + run_bench.SLOPE_BEGIN + "\n") and
          text.endswith(run_bench.SLOPE_END + after), text[:200])
    check("the old figures are gone, the new ones in",
          "old figures" not in text and "| rspamd | 300 | 20.0 |" in text)
    check("the chart written beside the doc", os.path.exists(svg))
    with open(svg) as f:
        first = f.read()
    run_bench.write_owned(svg, first.replace("CPU per", "CPU  per"),
                          run_bench.SVG_MARK)
    with open(svg) as f:
        check("its own chart is replaced", "CPU  per" in f.read())
    foreign = os.path.join(tmp, "other.svg")
    with open(foreign, "w") as f:
        f.write("<svg>someone else's</svg>\n")
    refused = raises(ValueError, run_bench.write_owned, foreign, first,
                     run_bench.SVG_MARK)
    with open(foreign) as f:
        check("a chart it did not write is refused and kept",
              refused and f.read() == "<svg>someone else's</svg>\n")
    plain = os.path.join(tmp, "plain.md")
    with open(plain, "w") as f:
        f.write("no markers here\n")
    refused = raises(ValueError, run_bench.write_block, plain, "x\n",
                     run_bench.SLOPE_BEGIN, run_bench.SLOPE_END)
    with open(plain) as f:
        check("a file without the markers is refused and kept",
              refused and f.read() == "no markers here\n")
    check("no temporary files left",
          sorted(os.listdir(tmp)) == ["bench-slope.svg", "doc.md", "other.svg",
                                      "plain.md"], os.listdir(tmp))


def test_config(tmp):
    """A filter's exact configuration: its command lines and files, the
    run's paths named, whole path names only."""
    ctx = types.SimpleNamespace(tmp=os.path.join(tmp, "run"),
                                workdir=os.path.join(tmp, "work"),
                                dns_ip="127.0.0.7")
    os.makedirs(ctx.tmp)
    f = run_bench.NullMilter(ctx)
    f.procs = [types.SimpleNamespace(argv=[
        run_bench.TOP + "-build/prog", "-p", "unix:" + f.dir + "/s.sock",
        "two words"])]
    f.conf_file(os.path.join(f.dir, "x.conf"),
                "dns = 127.0.0.7:53\nother = 127.0.0.71\nstore = %s/db\n"
                "rules = %s/rules\n" % (ctx.workdir, run_bench.TOP))
    got = f.config()
    want = [("command", "%s-build/prog -p unix:$DIR/s.sock 'two words'"
             % run_bench.TOP),
            ("$DIR/x.conf", "dns = $NSD:53\nother = 127.0.0.71\n"
             "store = $WORKDIR/db\nrules = $TOP/rules\n")]
    check("a filter's configuration, with the run's paths named", got == want,
          "%r\n%r" % (got, want))


def test_readme_summary():
    """The README summary states the configuration and the training set
    of each row of its table."""
    block = "\n".join([
        "Measured 2026-12-07 17:00 on Test CPU (KVM guest, 2 CPUs), kernel "
        "6.1; mailwarden abc1234.",
        "Message set: 10 messages, made up.  Load average before the run 0.1.",
        "Bayes training set (mailwarden, rspamd, SpamAssassin): the corpus "
        "train split, 2282 ham + 1043 spam.",
        "",
        "| filter | conc. | msgs | msg/s | CPU ms/msg | p50 ms | p95 ms | "
        "p99 ms | peak RSS MB | peak PSS MB | others' load |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
        "| ---: |",
        "| mailwarden-auth | 16 | 30 | 2000 | 0.600 | 1 | 2 | 3 | 9 | 7 | 0.02 |",
        "| mailwarden | 16 | 30 | 1000 | 1.600 | 1 | 2 | 3 | 9 | 20 | 0.02 |",
        "",
        "Filters:",
        "",
        "- mailwarden-auth: SPF + DKIM + DMARC; rules and Bayes off (no "
        "training set)",
        "- mailwarden: SPF + DKIM + DMARC + shipped rules + Bayes (LMDB, "
        "trained on the corpus train split, 2282 ham + 1043 spam)",
        ""])
    s = run_bench.readme_summary(block, "doc/benchmarks.md")
    rows = re.findall(r"^\| (mailwarden[-a-z]*) \|", s, re.M)
    check("the summary has the rows at concurrency 16",
          rows == ["mailwarden-auth", "mailwarden"], s)
    for name in rows:
        line = [x for x in s.splitlines() if x.startswith("- %s: " % name)]
        check("the summary configures row " + name,
              len(line) == 1 and ("training set" in line[0] or
                                  "trained on" in line[0]), line)
    check("the summary keeps the training-set line",
          "2282 ham + 1043 spam" in s.split("| filter |")[0], s[:400])


def main():
    test_svg()
    test_markdown()
    with tempfile.TemporaryDirectory() as tmp:
        test_writers(tmp)
    with tempfile.TemporaryDirectory() as tmp:
        test_config(tmp)
    test_readme_summary()
    return exit_status()


if __name__ == "__main__":
    sys.exit(main())
