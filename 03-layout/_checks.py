"""What the shared tests need to know about this stage beyond its folder.

tests/ reads this file (support.stage_checks); nothing else imports it.
ISOLATION: for each C-API module of the stage, code that uses the module
as M and checks an answer; tests/test_isolation.py runs it after a
re-import and in a subinterpreter, and holds the module to the
Py_mod_multiple_interpreters slot its C source declares.
RUN_NEEDS: what `make run` needs beyond a build, for
tests/test_run_output.py: env (added to the environment of its build and
runs), replace (support.assert_run_output's), check(testcase, out) (more
checks on the output), missing() (None, or why it cannot run here: asked
after the build), slow (run it first).
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
