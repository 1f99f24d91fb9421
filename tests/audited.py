"""`python -m tests.audited MODULE ARGS…`: run MODULE as __main__ with the draft audit on.

Daemons and benchmarks the suite starts as processes go through here, so
their drafts are checked like the in-process ones (tests/audit.py).
"""

from __future__ import annotations

import runpy
import sys

from tests import audit

if __name__ == "__main__":
    audit.install()
    module = sys.argv[1]
    sys.argv = [module, *sys.argv[2:]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)
