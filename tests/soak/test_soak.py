#!/usr/bin/env python3
"""The one-minute soak that make check runs (tests/soak/soak.py --minutes 1).

The ten-minute run is started by hand: tests/soak/soak.py
(doc/operations.md has its figures)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import soak  # noqa: E402

sys.exit(soak.main(["--minutes", os.environ.get("MW_SOAK_MINUTES", "1")]))
