#!/usr/bin/env python3
"""log_report_chromium.py - render `mailwarden log report --html` in a
real browser and check what a postmaster would see.

The report is built from a synthetic log (contrib/tools/gen-vlog.py) and
the hand-made edge cases (hostile strings, malformed lines, gzip).  Headless
Chromium then
  - takes a screenshot, decoded here with zlib (no PIL): the page must not
    be blank, and the chart colours (accepted green, rejected red, the
    auth line colours) must be on it;
  - dumps the DOM after parsing: the charts, threshold markers, the
    review lists (likely false positives, tags, rejects) and each link's
    explain anchor must exist, and the hostile Subject and From values
    (script, markup, event handlers, RTL overrides, very long strings)
    must be text, never elements or bidi controls;
  - lays the page out at 1280 px and at 390 px (a phone), screenshots
    both, and measures it with a script injected into a copy of the page
    whose Content-Security-Policy is removed, so that any hostile script
    that escaped escaping would run and be caught: queue ids, times,
    numbers and headers must not wrap, no text may overflow its cell, the
    page itself must not scroll sideways (wide tables scroll in their box).
Chromium runs with a fresh profile, no network features, no sandbox (we
are root in CI).  Exit 77 (skip) when chromium is not installed.

Environment (set by `make check`): MAILWARDEN, TOP_SRCDIR.  By hand:
    MAILWARDEN=./mailwarden TOP_SRCDIR=. python3 tests/integration/log_report_chromium.py
KEEP_REPORT=DIR keeps the page and screenshot there.
"""

import html
import html.parser
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

from checks import check, exit_status

MW = os.environ.get("MAILWARDEN", "./mailwarden")
TOP = os.environ.get("TOP_SRCDIR", ".")
DATA = os.path.join(TOP, "tests", "data", "logreview")
WIDTH, HEIGHT = 1280, 2600


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def chromium(binary, tmp, url, *extra, width=None, height=None):
    width, height = width or WIDTH, height or HEIGHT
    profile = tempfile.mkdtemp(prefix="profile-", dir=tmp)
    args = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync",
            "--disable-default-apps", "--disable-extensions", "--hide-scrollbars",
            "--user-data-dir=" + profile, "--window-size=%d,%d" % (width, height),
            *extra, url]
    return subprocess.run(args, capture_output=True, timeout=180, cwd=tmp)


def png_pixels(path):
    """Decode an 8-bit RGB or RGBA non-interlaced PNG: (w, h, rows of RGB)."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, w = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or ctype not in (2, 6) or interlace:
                raise ValueError("unsupported PNG %d/%d/%d" % (depth, ctype, interlace))
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + ((a + b) >> 1)) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pred) & 255
        rows.append([line[i:i + 3] for i in range(0, stride, bpp)])
        prev = line
    return w, h, rows


def near(px, rgb, tol):
    return all(abs(px[i] - rgb[i]) <= tol for i in range(3))


class Dom(html.parser.HTMLParser):
    """Elements with their attributes and the text inside <pre>."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements, self.pre_text, self.in_pre, self.title = [], [], 0, ""
        self.in_title = False

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        self.in_pre += tag == "pre"
        self.in_title = tag == "title" and len(self.elements) < 10

    def handle_endtag(self, tag):
        self.in_pre -= tag == "pre" and self.in_pre > 0
        self.in_title = False

    def handle_data(self, data):
        if self.in_pre:
            self.pre_text.append(data)
        if self.in_title:
            self.title += data

    def find(self, tag=None, **attrs):
        return [a for t, a in self.elements if (tag is None or t == tag) and
                all(a.get(k.replace("_", "-")) == v for k, v in attrs.items())]


def build_report(tmp):
    log = os.path.join(tmp, "synthetic.log")
    gen = os.path.join(TOP, "contrib", "tools", "gen-vlog.py")
    with open(log, "w") as f:
        subprocess.run([sys.executable, gen, "--lines", "3000", "--days", "2"], stdout=f,
                       check=True, timeout=120)
    out = os.path.join(tmp, "report.html")
    inputs = [log] + [os.path.join(DATA, n) for n in
                      ("mixed.log", "hostile.log", "malformed.log", "rot-v.log.2.gz",
                       "review.log", "hostile-review.log")]
    p = subprocess.run([MW, "log", "report", "--html", out, "--rejects", "30", *inputs],
                       capture_output=True, timeout=120)
    check("report exits 0", p.returncode == 0, p.stderr)
    return out


def test_screenshot(binary, tmp, page):
    shot = os.path.join(tmp, "shot.png")
    p = chromium(binary, tmp, "file://" + page, "--screenshot=" + shot)
    check("chromium took a screenshot", p.returncode == 0 and os.path.exists(shot),
          p.stderr[-1500:])
    if not os.path.exists(shot):
        return
    w, h, rows = png_pixels(shot)
    check("screenshot has the window size", (w, h) == (WIDTH, HEIGHT), (w, h))
    page_bg, white = (0xf6, 0xf7, 0xf9), (255, 255, 255)
    ink = green = red = blue = 0
    for row in rows:
        for px in row:
            if near(px, page_bg, 6) or near(px, white, 6):
                continue
            ink += 1
            green += near(px, (0x4c, 0xaf, 0x50), 8)
            red += near(px, (0xd9, 0x30, 0x25), 8)
            blue += near(px, (0x1e, 0x88, 0xe5), 8)
    total = w * h
    print("     %d px: %.1f%% ink, %d green, %d red, %d blue" % (total, 100.0 * ink / total,
                                                              green, red, blue))
    check("screenshot is not blank (>= 3% non-background pixels)", ink >= 0.03 * total)
    check("accepted bars are drawn (green)", green >= 2000)
    check("rejected bars are drawn (red)", red >= 200)
    check("SPF pass-rate line is drawn (blue)", blue >= 200)


def test_dom(binary, tmp, page):
    p = chromium(binary, tmp, "file://" + page, "--dump-dom")
    dom_text = p.stdout.decode("utf-8", "replace")
    check("chromium dumped the DOM", p.returncode == 0 and "</html>" in dom_text,
          p.stderr[-1500:])
    dom = Dom()
    dom.feed(dom_text)
    check("title", dom.title == "mailwarden verdict report", dom.title)
    check("no script element", not dom.find("script"))
    check("no img/iframe/object element",
          not (dom.find("img") or dom.find("iframe") or dom.find("object")))
    for chart in ("chart-hourly", "chart-scores", "chart-auth", "chart-symbols",
                  "chart-reject-ips", "chart-reject-domains"):
        check("svg #" + chart, len(dom.find("svg", id=chart)) == 1)
    tags = [t for t, _ in dom.elements]
    check("bars in the charts", tags.count("rect") >= 50, tags.count("rect"))
    check("tag threshold marked", len(dom.find("line", **{"class": "threshold-tag"})) == 1)
    check("reject threshold marked",
          len(dom.find("line", **{"class": "threshold-reject"})) == 1)
    check("three pass-rate lines", all(dom.find("path", **{"class": "rate-" + c})
                                       for c in ("SPF", "DKIM", "DMARC")))
    check("rejects table", len(dom.find("table", id="reject-table")) == 1)
    links = [a["href"] for a in dom.find("a") if a.get("href", "").startswith("#explain-")]
    rejects = [h for h in links if h[len("#explain-"):].isdigit()]
    check("30 latest rejects link to explanations", len(rejects) == 30, len(rejects))
    for kind, table in (("tag", "tag-table"), ("fp", "fp-table")):
        check("list #" + table, len(dom.find("table", id=table)) == 1)
        check("30 %s rows link to explanations" % kind,
              len([h for h in links if h.startswith("#explain-%s-" % kind)]) == 30)
    check("longer lists fold into <details>", len(dom.find("details")) >= 3,
          len(dom.find("details")))
    for table in ("symbol-table", "zero-symbol-table", "net-table", "env-domain-table",
                  "from-domain-table", "own-domain-table"):
        check("table #" + table, len(dom.find("table", id=table)) == 1)
    missing = [h for h in links if not dom.find("article", id=h[1:])]
    check("every explain link has its anchor", not missing, missing)
    check("no link leaves the page",
          all(a.get("href", "#").startswith("#") for a in dom.find("a")))
    text = "".join(dom.pre_text)
    check("hostile subject shown as text", "<script>alert('subject')</script>" in text)
    check("hostile reply shown as text", "550 5.7.1 <script>alert('reply')</script>" in text)
    check("malformed lines listed", "malformed.log:13: raw control" in text)
    check("hostile review Subject shown as text",
          "<script>window.__pwned=1</script><img src=x" in dom_all_text(dom_text))
    check("no element carries an event handler",
          not [a for _, a in dom.elements if any(k.startswith("on") for k in a)])
    check("no style element from the log", len(dom.find("style")) == 1)
    check("no bidi override reaches the page",
          not any(c in dom_text for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067"
                                         "\u2068\u2069"))
    check("the override is shown as \\u{202e}", "\\u{202e}gnp.exe" in dom_text)


def dom_all_text(dom_text):
    class Text(html.parser.HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.parts = []

        def handle_data(self, data):
            self.parts.append(data)
    t = Text()
    t.feed(dom_text)
    return "".join(t.parts)


# Injected into a copy of the page without its CSP: measures the layout the
# way a reader sees it and reports as JSON in <pre id="layout-result">.
LAYOUT_JS = r"""
(function () {
  function lines(el) {
    var r = document.createRange(), tops = {}, rs, i;
    r.selectNodeContents(el);
    rs = r.getClientRects();
    for (i = 0; i < rs.length; i++)
      if (rs[i].width > 0) tops[Math.round(rs[i].top)] = 1;
    return Object.keys(tops).length;
  }
  var out = {wrapped: [], overflow: [], rows: {}, checked: 0};
  document.querySelectorAll("td.id, td.n, td.act, th").forEach(function (el) {
    out.checked++;
    if (lines(el) > 1) out.wrapped.push(el.className + ":" + el.textContent.slice(0, 40));
  });
  document.querySelectorAll("td.t").forEach(function (el) {
    if (lines(el) > 2) out.wrapped.push("time:" + el.textContent);
  });
  document.querySelectorAll("td, th").forEach(function (el) {
    if (el.getClientRects().length && el.scrollWidth > el.clientWidth + 1)
      out.overflow.push(el.className + ":" + el.textContent.slice(0, 40));
  });
  out.page_overflow = document.body.scrollWidth - WIDTH;
  ["fp-table", "tag-table", "reject-table"].forEach(function (id) {
    var t = document.getElementById(id);
    out.rows[id] = t ? t.rows.length - 1 : -1;
  });
  out.pwned = window.__pwned || 0;
  out.title = document.title;
  var pre = document.createElement("pre");
  pre.id = "layout-result";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
"""


def test_layout(binary, tmp, page, width):
    # Headless Chromium lays out at least 500 px wide whatever the window:
    # a narrower page is the root element set to that width (the page
    # has no media queries, so this is what a phone's viewport gives).
    src = open(page, encoding="utf-8").read()
    if width < 500:
        src = src.replace("</head>", "<style>html{width:%dpx}</style></head>" % width, 1)
    sized = os.path.join(tmp, "sized-%d.html" % width)
    with open(sized, "w", encoding="utf-8") as f:
        f.write(src)
    csp = src.index('<meta http-equiv="Content-Security-Policy"')
    src = src[:csp] + src[src.index(">", csp) + 1:]
    probe = os.path.join(tmp, "probe-%d.html" % width)
    with open(probe, "w", encoding="utf-8") as f:
        f.write(src.replace("</body>", "<script>var WIDTH = %d;" % width + LAYOUT_JS +
                            "</script></body>"))
    shot = os.path.join(tmp, "shot-%d.png" % width)
    p = chromium(binary, tmp, "file://" + sized, "--screenshot=" + shot, width=width,
                 height=1600)
    check("%d px: screenshot" % width, p.returncode == 0 and os.path.exists(shot))
    if os.path.exists(shot):
        w, h, rows = png_pixels(shot)
        ink = sum(1 for row in rows for px in row
                  if not near(px, (0xf6, 0xf7, 0xf9), 6) and not near(px, (255, 255, 255), 6))
        check("%d px: screenshot is not blank" % width, ink >= 0.03 * w * h, ink)
    p = chromium(binary, tmp, "file://" + probe, "--dump-dom", "--virtual-time-budget=3000",
                 width=width, height=1600)
    text = p.stdout.decode("utf-8", "replace")
    m = re.search(r'<pre id="layout-result">(.*?)</pre>', text, re.S)
    check("%d px: layout measured" % width, m is not None, p.stderr[-800:])
    if m is None:
        return
    r = json.loads(html.unescape(m.group(1)))
    print("     %d px: %d cells checked, rows %s, page overflow %d px" % (
        width, r["checked"], r["rows"], r["page_overflow"]))
    check("%d px: hostile scripts did not run" % width,
          r["pwned"] == 0 and r["title"] == "mailwarden verdict report", r)
    check("%d px: no queue id, time, number or header wraps" % width,
          r["checked"] > 500 and not r["wrapped"], r["wrapped"][:10])
    check("%d px: no text overflows its cell" % width, not r["overflow"], r["overflow"][:10])
    check("%d px: the page does not scroll sideways" % width, r["page_overflow"] <= 0,
          r["page_overflow"])
    check("%d px: the lists show their first 20 rows" % width,
          all(r["rows"][t] == 20 for t in ("fp-table", "tag-table", "reject-table")), r["rows"])


def main():
    if not os.path.exists(MW):
        print("mailwarden binary not found: " + MW)
        return 77
    binary = find_chromium()
    if binary is None:
        print("chromium not installed: skipped")
        return 77
    with tempfile.TemporaryDirectory(prefix="mw-report-") as tmp:
        page = build_report(tmp)
        if os.path.exists(page):
            test_screenshot(binary, tmp, page)
            test_dom(binary, tmp, page)
            for width in (1280, 390):
                test_layout(binary, tmp, page, width)
        keep = os.environ.get("KEEP_REPORT")
        if keep:
            os.makedirs(keep, exist_ok=True)
            for n in ("report.html", "shot.png", "shot-1280.png", "shot-390.png"):
                if os.path.exists(os.path.join(tmp, n)):
                    shutil.copy(os.path.join(tmp, n), keep)
    return exit_status()


if __name__ == "__main__":
    sys.exit(main())
