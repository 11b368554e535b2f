"""The exercise harness, for every stage that has an exercise/ folder.

For each one: the skeleton as committed compiles, the stage's contract
fails on it only with NotImplementedError (never a crash, never a wrong
answer), and the same contract passes on the reference build.
"""
import json
import subprocess
import sys
import unittest

import support
import exercise


def selftest(stage):
    proc = subprocess.run([sys.executable, str(support.TESTS / "exercise.py"),
                           "selftest", stage.name],
                          capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise AssertionError("selftest %s: %s\n%s" % (
            stage.name, support.describe_exit(proc.returncode), proc.stderr))
    return json.loads(proc.stdout)


def clean_failure(event):
    return (event["type"] == "NotImplementedError"
            or "NotImplementedError" in event["text"])


class TestExercises(unittest.TestCase):
    def test_every_stage_has_an_exercise(self):
        for stage in support.stages():
            with self.subTest(stage=stage.name):
                self.assertTrue((stage / "exercise").is_dir(),
                                "%s has no exercise/ folder" % stage.name)
                self.assertTrue(exercise.contract_classes(stage),
                                "no test module of %s sets EXERCISE"
                                % stage.name)

    def test_skeletons_compile_and_fail_cleanly(self):
        for stage in exercise.exercise_stages():
            with self.subTest(stage=stage.name):
                report = selftest(stage)
                self.assertTrue(report["built"], report.get("log"))
                self.assertFalse(report["crashed"],
                                 "the skeleton crashed (%s) in %s:\n%s" % (
                                     report["exit"], report["running"],
                                     report["output"][-2000:]))
                self.assertTrue(report["failed"],
                                "the contract passes on the skeleton: "
                                "nothing is left for the participant")
                unclean = [e["test"] + ": " + e["type"] + ": " + e["message"]
                           for e in report["failed"] if not clean_failure(e)]
                self.assertEqual(unclean, [], "failures other than "
                                 "NotImplementedError on the skeleton")

    def test_the_reference_passes_the_exercise_contract(self):
        for stage in exercise.exercise_stages():
            with self.subTest(stage=stage.name):
                report = exercise.run_contract(stage, stage.resolve())
                self.assertFalse(report["crashed"], report["output"][-2000:])
                self.assertEqual([e["test"] for e in report["failed"]], [])
                self.assertTrue(report["passed"])


if __name__ == "__main__":
    unittest.main()
