"""What tests/ needs to know about this stage beyond its folder, read by
support.stage_checks() and nothing else.  ISOLATION: code that uses each
C-API module (as M) for tests/test_isolation.py; RUN_NEEDS: what `make run`
needs beyond a build, for tests/test_run_output.py.  tests/README.md ("A
stage folder") says what each entry holds.
"""
import sys

ISOLATION = {
    "layout_capi": "assert M.walk([1])[0].startswith('int')",
}

# 3.10 builds no Limited-API module in this stage, and says so in one line.
ABI3_LINES = ("same answers as layout_capi: True; layout() equal: True",
              "not built for CPython 3.10: the buffer protocol joined the "
              "Limited API in 3.11")
RUN_NEEDS = {"replace": None if sys.version_info >= (3, 11) else ABI3_LINES}
