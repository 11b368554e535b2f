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
import re

ISOLATION = {
    "transfer_capi": "assert M.reversed_text('abc') == 'cba'\n"
                     "assert M.sum_list([1, 2, 3]) == 6",
}


def check(testcase, out):
    # The benchmark ran on both roads and printed three ratios each.
    ratios = re.findall(r"^\[py\]   .+ / .+:\s+(\S+)$", out, re.M)
    testcase.assertEqual(len(ratios), 6, out)
    for text in ratios:
        testcase.assertRegex(text, r"^\d+\.\d+$")
    testcase.assertIn("the same 54 lines as road 1, word for word", out)


RUN_NEEDS = {"env": {"FFI_SMALL": "1"}, "check": check}
