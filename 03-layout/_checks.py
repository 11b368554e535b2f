"""Stage 03 for the shared tests: ISOLATION and RUN_NEEDS (tests/README.md)."""
import sys

ISOLATION = {
    "layout_capi": "assert M.walk([1])[0].startswith('int')",
}

# 3.10 builds no Limited-API module in this stage, and says so in one line.
ABI3_LINES = ("same answers as layout_capi: True; layout() equal: True",
              "not built for CPython 3.10: the buffer protocol joined the "
              "Limited API in 3.11")
RUN_NEEDS = {"replace": None if sys.version_info >= (3, 11) else ABI3_LINES}
