#!/usr/bin/env python3
"""Regenerate the README's configuration table from `mailwarden config
--reference` (the key table in filter/conf.c).  Usage: update-readme-conf.py
PATH/TO/mailwarden [README.md]"""
import subprocess
import sys

exe = sys.argv[1]
path = sys.argv[2] if len(sys.argv) > 2 else "README.md"
ref = subprocess.run([exe, "config", "--reference"], stdout=subprocess.PIPE,
                     check=True, universal_newlines=True).stdout
text = open(path).read()
begin, end = "<!-- conf-reference-begin -->\n", "<!-- conf-reference-end -->\n"
a, b = text.index(begin) + len(begin), text.index(end)
table = "| key | default | meaning |\n| --- | --- | --- |\n" + ref
open(path, "w").write(text[:a] + table + text[b:])
