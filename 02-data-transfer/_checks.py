"""What tests/ needs to know about this stage beyond its folder, read by
support.stage_checks() and nothing else.  ISOLATION: code that uses each
C-API module (as M) for tests/test_isolation.py; RUN_NEEDS: what `make run`
needs beyond a build, for tests/test_run_output.py.  tests/README.md ("A
stage folder") says what each entry holds.
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
