"""`make new-stage TOPIC=demo` makes a stage that every check finds.

The tree is copied (the files git knows, and new ones not ignored) into a
temporary folder; there each discovery is asked once before the new stage
exists and once after `make new-stage TOPIC=demo`: the contract files
tests/run.py runs, the public modules of the hostile and stateful sweeps
and of the reference-leak check, the C-API modules of the isolation test,
the cdef files, the docs' reading order, the stages of the run-output
test, the memcheck and sanitize jobs, the exercise checker, the pairs of
roads of the differential tests (which catch the new road 2 when it
drifts from road 1).  "Before"
shows that each probe can fail: it is a discovery that misses the stage.
Then `make test` in the copy passes with the new stage's tests counted.

A slow check (a copy, a build of every stage and a whole `make test`),
so a gate file: `make gates`, or `python3 tests/run.py
tests/test_gate_new_stage.py`.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

import support

# Run in a child with the copy's tests/ on sys.path: every module there
# finds its stages from its own folder, the copy's.
PROBE = textwrap.dedent("""
    import json, os, sys
    sys.path.insert(0, os.path.join(os.getcwd(), "tests"))
    sys.path.insert(1, os.path.join(os.getcwd(), "tests", "gate"))
    import support, run, excerpts, differential, gate, api
    import test_cdefs, test_docs, test_isolation, test_run_output
    import test_gate_hostile, test_gate_stateful, test_gate_refleak
    stages = support.stages()
    stage = [s for s in stages if s.name.endswith("-demo")]
    out = {
        "stages": [s.name for s in stages],
        "contract files": [p.name for p in run.test_files(False)],
        "hostile tests": sorted(n for n in dir(test_gate_hostile.HostileSweep)
                                if n.startswith("test_")),
        "stateful tests": sorted(n for n in
                                 dir(test_gate_stateful.StatefulSweep)
                                 if n.startswith("test_")),
        "refleak modules": sorted(m for _, m, _ in
                                  test_gate_refleak.MODULES),
        "isolation": {k: list(v[1:]) and [bool(v[1]), v[2]]
                      for k, v in test_isolation.MODULES.items()},
        "docs order": test_docs.ORDER,
        "differential pairs": [list(pair[:3])
                               for pair in differential.pairs()],
        "memcheck jobs": [j.name for j in gate.stage_jobs(
            "memcheck", stages, support.ROOT, lambda n, leaks=True: {},
            lambda n, leaks=True: [], 60, lambda n: "")],
    }
    if stage:
        s = stage[0]
        out["cdef files"] = test_cdefs.cdef_files(s)
        header, = s.glob("*_lib.h")
        out["cdef problems"] = test_cdefs.disagreements("\\n".join(
            t for f in test_cdefs.cdef_files(s)
            for t in test_cdefs.cdef_texts(s / f)), header.read_text())
        out["chapter problems"] = (excerpts.check_chapter(
            excerpts.DOCS / (s.name + ".md"))
            + test_docs.link_problems(excerpts.DOCS / (s.name + ".md")))
        out["run needs"] = sorted(test_run_output.needs(s))
    print(json.dumps(out))
""")


def copy_tree(dest):
    names = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others",
         "--exclude-standard"], cwd=str(support.ROOT), check=True,
        stdout=subprocess.PIPE).stdout.decode().split("\0")
    for name in filter(None, names):
        source = support.ROOT / name
        if source.is_file():
            target = os.path.join(dest, name)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(str(source), target, follow_symlinks=False)


def make(root, *args, timeout=900):
    return subprocess.run(["make", "--no-print-directory", "PYTHON="
                           + support.PYTHON] + list(args), cwd=root,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=timeout)


def probe(root):
    proc = subprocess.run([support.PYTHON, "-c", PROBE], cwd=root,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=300,
                          env=support.child_env())
    if proc.returncode != 0:
        raise AssertionError("probe failed:\n" + proc.stderr[-3000:])
    return json.loads(proc.stdout.splitlines()[-1])


@unittest.skipUnless(shutil.which("git") and (support.ROOT / ".git").exists(),
                     "the copy is made from git ls-files: no git checkout")
class TestNewStage(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="new-stage.")
        cls.root = cls.tmp.name
        copy_tree(cls.root)
        cls.made = make(cls.root, "-s", "all", timeout=1200)
        cls.before = probe(cls.root) if cls.made.returncode == 0 else None
        cls.refusals = [make(cls.root, "new-stage", "TOPIC=" + topic)
                        for topic in ("2fast", "my-lib", "", "extern")]
        cls.new = make(cls.root, "new-stage", "TOPIC=demo")
        cls.built = make(cls.root, "-s", "-C", "06-demo", "all")
        cls.after = probe(cls.root) if cls.built.returncode == 0 else None

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def setUp(self):
        self.assertEqual(self.made.returncode, 0, self.made.stdout[-3000:])
        self.assertEqual(self.new.returncode, 0, self.new.stdout[-3000:])
        self.assertEqual(self.built.returncode, 0, self.built.stdout[-3000:])

    def before_after(self, key, wanted):
        """wanted(value) is false before and true after new-stage."""
        self.assertFalse(wanted(self.before[key]), "before: %r"
                         % (self.before[key],))
        self.assertTrue(wanted(self.after[key]), "after: %r"
                        % (self.after[key],))

    def test_a_bad_topic_is_refused_in_one_line(self):
        for proc in self.refusals:
            with self.subTest(out=proc.stdout):
                self.assertEqual(proc.returncode, 2)
                said = [line for line in proc.stdout.splitlines()
                        if line.startswith("make new-stage: ")]
                self.assertEqual(len(said), 1, proc.stdout)
        self.assertIn("stage 01-extern exists already",
                      self.refusals[-1].stdout)
        self.assertFalse(os.path.exists(os.path.join(self.root, "06-2fast")))

    def test_the_stage_is_next_in_line(self):
        self.before_after("stages", lambda s: s[-1:] == ["06-demo"])

    def test_run_finds_the_contract_tests(self):
        self.before_after("contract files",
                          lambda files: "test_06_demo.py" in files)

    def test_hostile_and_stateful_sweeps_find_both_roads(self):
        for key in ("hostile tests", "stateful tests"):
            with self.subTest(sweep=key):
                self.before_after(key, lambda names: {
                    "test_06_demo_capi", "test_06_demo_cffi"} <= set(names))

    def test_refleak_check_finds_both_roads(self):
        self.before_after("refleak modules", lambda names: {
            "demo_capi", "demo_cffi"} <= set(names))

    def test_isolation_finds_the_capi_module_and_its_word(self):
        self.before_after("isolation", lambda found: found.get(
            "demo_capi") == [True, "own GIL"])

    def test_cdef_check_finds_the_builder(self):
        self.assertEqual(self.after["cdef files"], ["build_demo_cffi.py"])
        self.assertEqual(self.after["cdef problems"], [])

    def test_docs_order_and_links(self):
        self.before_after("docs order", lambda order: order[5:8] == [
            ["05-logger.md", "The logger"], ["06-demo.md", "Wrapping demo"],
            ["packaging.md", "Packaging"]])
        self.assertEqual(self.after["chapter problems"], [])

    def test_memcheck_and_sanitize_jobs(self):
        self.before_after("memcheck jobs", lambda jobs: {
            "06-demo-run", "test_06_demo"} <= set(jobs))

    def test_differential_tests_compare_the_roads(self):
        self.before_after("differential pairs", lambda pairs: [
            "06", "demo_capi", "demo_cffi"] in pairs)

    def differential_with(self, mistakes):
        """The failed tests (and the output) of the copy's differential
        tests of stage 06, with each (file, old, new) of `mistakes` made,
        and undone after."""
        saved = {}
        try:
            for name, old, new in mistakes:
                path = os.path.join(self.root, name)
                with open(path) as f:
                    saved[path] = text = f.read()
                self.assertEqual(text.count(old), 1, (name, old))
                with open(path, "w") as f:
                    f.write(text.replace(old, new))
            proc = subprocess.run(
                [support.PYTHON, "tests/run.py", "tests/test_differential.py"],
                cwd=self.root, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, universal_newlines=True,
                timeout=300, env=dict(support.child_env(),
                                      FFI_GATE_STAGES="06"))
        finally:
            for path, text in saved.items():
                with open(path, "w") as f:
                    f.write(text)
        self.assertEqual(proc.returncode, 1, proc.stdout[-3000:])
        return sorted(re.findall(r"^  test_differential\.py: (\S+)$",
                                 proc.stdout, re.M)), proc.stdout

    def test_differential_tests_catch_the_new_roads_mistakes(self):
        # Road 2's message drifts from road 1's, and the stage's tables
        # leave out a function of road 1.
        failed, out = self.differential_with([
            ("06-demo/demo_cffi.py", "does not fit in a C int",
             "does not fit in an int"),
            ("tests/test_06_demo.py",
             '            "vowels": lambda s: (s.text_or_wrong,),\n', "")])
        self.assertEqual(failed, [
            "TestDifferential06_demo_cffi.test_add",
            "TestDifferential06_demo_cffi.test_every_function_is_compared"],
            out[-3000:])
        self.assertIn("the roads disagree on add(2147483647, 1)", out)
        self.assertIn("['vowels']", out)
        # A stage whose test file declares no tables at all.
        failed, out = self.differential_with([
            ("tests/test_06_demo.py", "def differential(d):",
             "def no_differential(d):")])
        self.assertEqual(failed, ["TestDifferential06_demo_cffi."
                                  "test_the_stage_declares_its_tables"],
                         out[-3000:])

    def test_exercise_checker_runs_the_skeleton(self):
        proc = make(self.root, "check-6", timeout=600)
        # The skeleton as made: every check runs and fails, none crashes.
        self.assertNotEqual(proc.returncode, 0, proc.stdout)
        self.assertIn("NotImplementedError", proc.stdout)
        self.assertIn("write py_add(): exercise 6, part 1", proc.stdout)
        self.assertNotRegex(proc.stdout, r"SIGSEGV|SIGABRT|crash")

    def test_the_checker_kills_the_stages_mutants(self):
        # The gate that proves the checker: it finds the new stage's
        # MUTANTS in test_06_demo.py, and each fails `make check-6` with
        # its hint.
        proc = subprocess.run(
            [support.PYTHON, "-m", "unittest", "-v",
             "test_gate_exercises.TestTheCheckerKillsEveryMutant"
             ".test_every_part_has_mutants",
             "test_gate_exercises.TestTheCheckerKillsEveryMutant"
             ".test_stage_06"],
            cwd=os.path.join(self.root, "tests"), stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, universal_newlines=True, timeout=900,
            env=support.without_gates())
        self.assertEqual(proc.returncode, 0, proc.stdout[-5000:])
        self.assertRegex(proc.stdout, r"06-demo's mutants \.\.\. ok")
        self.assertIn("Ran 2 tests", proc.stdout)

    def test_make_test_passes_and_counts_the_stage(self):
        proc = make(self.root, "test", timeout=1200)
        self.assertEqual(proc.returncode, 0, proc.stdout[-5000:])
        line = re.search(r"^test_06_demo\.py\s+(\d+) passed", proc.stdout,
                         re.M)
        self.assertTrue(line, proc.stdout[-3000:])
        self.assertGreaterEqual(int(line.group(1)), 8)
        self.assertRegex(proc.stdout, r"\n\d+ passed, 0 failed, \d+ skipped")


if __name__ == "__main__":
    unittest.main()
