#!/usr/bin/env python3
"""sa_extract.py - the regex rules of a SpamAssassin rule directory, as one file.

    sa_extract.py /usr/share/spamassassin > sa-regex.cf

Keeps header, body, rawbody, uri, full and meta rules that are not eval:
tests, with their score, describe and tflags lines, and nothing else: no
plugins, no conditionals (rules inside "ifplugin" blocks are left out,
"if" blocks on the version are taken as true, others left out), no
translations.  Both mailwarden and SpamAssassin then load exactly this
file for the benchmark (contrib/bench/sa_compare.sh).
"""

import os
import re
import sys

RULE_TYPES = ("header", "body", "rawbody", "uri", "full", "meta")
ATTRS = ("score", "describe", "tflags")


def strip_comment(line):
    out, i = [], 0
    while i < len(line):
        if line[i] == "\\" and i + 1 < len(line) and line[i + 1] == "#":
            out.append("\\#")
            i += 2
            continue
        if line[i] == "#":
            break
        out.append(line[i])
        i += 1
    return "".join(out).strip()


def if_true(expr):
    e = expr.replace(" ", "").replace("(", "").replace(")", "")
    neg = False
    while e.startswith("!"):
        neg, e = not neg, e[1:]
    m = re.match(r"version([<>=!]+)([\d.]+)$", e)
    if m:
        v, op = 4.0, m.group(1)
        x = float(m.group(2))
        r = {">=": v >= x, ">": v > x, "<=": v <= x, "<": v < x, "==": v == x, "!=": v != x}[op]
        return r != neg
    return neg      # can(), plugin(): not available


def main(dirs):
    rules, order, attrs = {}, [], {}
    for d in dirs:
        for name in sorted(os.listdir(d)):
            if not name.endswith(".cf"):
                continue
            stack = []
            with open(os.path.join(d, name), encoding="utf-8", errors="surrogateescape") as f:
                for raw in f:
                    line = strip_comment(raw.rstrip("\n"))
                    if not line:
                        continue
                    w = line.split(None, 2)
                    kw = w[0].lower()
                    if kw in ("if", "ifplugin"):
                        active = all(stack)
                        stack.append(active and kw == "if" and if_true(line[2:]))
                        continue
                    if kw == "else" and stack:
                        stack[-1] = not stack[-1] and all(stack[:-1])
                        continue
                    if kw == "endif" and stack:
                        stack.pop()
                        continue
                    if not all(stack) or len(w) < 3:
                        continue
                    if kw in RULE_TYPES:
                        if w[2].startswith("eval:") or kw == "header" and " eval:" in line:
                            continue
                        if w[1] not in rules:
                            order.append(w[1])
                        rules[w[1]] = line
                    elif kw in ATTRS:
                        attrs.setdefault(w[1], {})[kw] = line
    for n in order:
        print(rules[n])
        for a in ATTRS:
            if a in attrs.get(n, {}):
                print(attrs[n][a])


if __name__ == "__main__":
    main(sys.argv[1:] or ["/usr/share/spamassassin"])
