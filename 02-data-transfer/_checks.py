"""Stage 02 for the shared tests: ISOLATION and RUN_NEEDS (tests/README.md)."""
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
