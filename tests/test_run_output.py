"""Every stage's `make run` prints what its expected-output.txt says.

One test, one sub-test per stage (found by support.stages(): a new stage
is checked with no edit here).  Each stage is built first, so compiler
lines are not part of the output, then run twice through a pipe, with
PYTHONUNBUFFERED unset and set: the tour must print the same either way
(support.assert_run_output).  Expected output writes every part that
changes from run to run as <*>.

The stages run side by side (a thread per `make run`, each a child
process), the slowest first: the whole check takes about as long as its
longest stage.  What a stage needs beyond that is RUN_NEEDS in the stage's own
_checks.py.
"""
import concurrent.futures
import os
import unittest

import support

def needs(stage):
    """What the stage needs beyond a build: RUN_NEEDS in its _checks.py
    (support.stage_checks says which keys it may have)."""
    return getattr(support.stage_checks(stage), "RUN_NEEDS", {})


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
