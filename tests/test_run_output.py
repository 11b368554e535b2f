"""Every stage's `make run` prints what its expected-output.txt says.

One test, one sub-test per stage (found by support.stages(): a new stage
is checked with no edit here).  Each stage is built first, so compiler
lines are not part of the output, then run twice through a pipe, with
PYTHONUNBUFFERED unset and set: the tour must print the same either way
(support.assert_run_output).  Expected output writes every part that
changes from run to run as <*>.

The stages run side by side (a thread per `make run`, each a child
process), the slowest first: the whole check takes about as long as its
longest stage.  What a stage needs beyond that is in STAGE_NEEDS below.
"""
import concurrent.futures
import os
import re
import sys
import unittest

import support

# 3.10 builds no Limited-API module in stage 03, and says so in one line.
ABI3_LINES = ("same answers as layout_capi: True; layout() equal: True",
              "not built for CPython 3.10: the buffer protocol joined the "
              "Limited API in 3.11")


def check_02(testcase, out):
    # The benchmark ran on both roads and printed three ratios each.
    ratios = re.findall(r"^\[py\]   .+ / .+:\s+(\S+)$", out, re.M)
    testcase.assertEqual(len(ratios), 6, out)
    for text in ratios:
        testcase.assertRegex(text, r"^\d+\.\d+$")
    testcase.assertIn("the same 54 lines as road 1, word for word", out)


def missing_04():
    """Stage 04's tour ends with the memory bugs under ASan and valgrind."""
    demos = support.import_stage("04", "_demos")
    return demos.missing_tool("asan") or demos.missing_tool("valgrind")


# Stage number -> what it needs: env (added to the environment of its
# build and runs), replace (support.assert_run_output's), check (more
# checks on the output), missing (None, or why it cannot run here: asked
# after the build), slow (run it first).
STAGE_NEEDS = {
    "02": {"env": {"FFI_SMALL": "1"}, "check": check_02},
    "03": {"replace": None if sys.version_info >= (3, 11) else ABI3_LINES},
    "04": {"missing": missing_04, "slow": True},
}


def needs(stage):
    return STAGE_NEEDS.get(stage.name[:2], {})


def env_of(stage):
    extra = needs(stage).get("env")
    if not extra:
        return None
    env = dict(os.environ)
    env.update(extra)
    return env


def run_stages(stages):
    """{stage: outputs as support.assert_run_output takes them, or a skip
    reason}.  Builds every stage, then makes every run at once."""
    results = {}
    workers = max(2, (os.cpu_count() or 2) + 1)
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        builds = dict(zip(stages, pool.map(
            lambda s: [("build",) + support.run_make(s.name, "all",
                                                     env=env_of(s))],
            stages)))
        runs = []
        for stage in sorted(stages, key=lambda s: not needs(s).get("slow")):
            results[stage] = builds[stage]
            if builds[stage][0][1] != 0:
                continue
            missing = needs(stage).get("missing")
            why = missing() if missing else None
            if why:
                results[stage] = why
                continue
            for what, env in support.run_variants(env_of(stage)):
                runs.append((stage, what, pool.submit(
                    support.run_make, stage.name, "run", env=env)))
        for stage, what, future in runs:
            results[stage].append((what,) + future.result())
    return results


class TestRunOutput(unittest.TestCase):

    @unittest.skipUnless(support.have_cffi(), support.CFFI_MISSING)
    def test_make_run_matches_expected_output(self):
        stages = support.stages()
        self.assertTrue(stages, "no stage folder (NN-*/Makefile)")
        results = run_stages(stages)
        for stage in stages:
            with self.subTest(stage=stage.name):
                outputs = results[stage]
                if isinstance(outputs, str):
                    self.skipTest(outputs)
                out = support.assert_run_output(
                    self, stage.name, replace=needs(stage).get("replace"),
                    outputs=outputs)
                check = needs(stage).get("check")
                if check:
                    check(self, out)


if __name__ == "__main__":
    unittest.main()
