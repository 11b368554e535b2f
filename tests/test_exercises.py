"""The workshop's exercises, for every stage that has an exercise/ folder.

- Each skeleton is what tests/harness/skeleton.py generates from its reference
  module (a participant's own edits are allowed: see test_skeletons_...).
- hints.txt has exactly one block per check, in part order.
- The skeleton builds and its checks fail only with NotImplementedError:
  never a crash, never a wrong answer.
- The reference module, copied over the skeleton, passes every check: that
  is what a complete solution is.
- No chapter prints the body of an exercise region.

The heavier self-tests of the checker (sanitizer reports, crashes, leaks)
are in test_gate_exercises.py.  Built products are kept under
<stage>/exercise/build/selftest/ and rebuilt only when their source changes.
"""
import concurrent.futures
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import unittest

import support  # first: it puts tests/harness/ on sys.path
import exercise
import skeleton


def git(*args):
    """stdout of a git command in the repository, or None."""
    if shutil.which("git") is None:
        return None
    proc = subprocess.run(["git", "-C", str(support.ROOT)] + list(args),
                          capture_output=True, text=True)
    return proc.stdout if proc.returncode == 0 else None


def committed_skeleton(path, generated):
    """The skeleton text to compare with the generator's: the working file,
    or, when a participant is editing it (it differs from HEAD), the
    committed one, so that their `make test` does not fail on their work."""
    working = path.read_text() if path.is_file() else None
    if working == generated:
        return working
    rel = path.relative_to(support.ROOT).as_posix()
    head = git("show", "HEAD:%s" % rel)
    if head is not None and head != working:
        return head
    return working


def write_if_changed(path, text):
    """Write text unless the file holds it already (its time stamp then
    stays, and make does not rebuild what was built from it)."""
    if path.is_file() and path.read_text() == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def skeleton_text(stage):
    """The skeleton to test: the generator's output, or the file on disk
    when the reference has no regions yet (the drift test says so)."""
    try:
        return skeleton.generate(stage)[1]
    except skeleton.MarkerError:
        path = skeleton.skeleton_of(stage)
        if path is None or not path.is_file():
            found = sorted((stage / "exercise").glob("*.c"))
            path = found[0]
        return path.read_text()


def prepare(stage, variant):
    """Build one variant ('skeleton' or 'reference') of a stage's exercise
    under exercise/build/selftest/; (ok, log, build dir)."""
    base = stage / "exercise" / "build" / "selftest" / variant
    name = exercise.source_name(stage)
    text = (skeleton_text(stage) if variant == "skeleton"
            else skeleton.reference_of(stage).read_text())
    write_if_changed(base / "src" / name, text)
    if up_to_date(stage, base):
        return True, "", base / "out"
    ok, log = exercise.build(stage, base / "src", base / "out", quick=True)
    return ok, log, base / "out"


def up_to_date(stage, base):
    """Whether the module in base/out is newer than everything it is built
    from (asking make costs an interpreter start per question it asks)."""
    built = list((base / "out").glob("*" + support.EXT_SUFFIX))
    if not built:
        return False
    sources = list((base / "src").iterdir()) + [
        p for p in stage.glob("*.[ch]") if not p.name.endswith("_cffi.c")]
    sources += [stage / "Makefile", support.ROOT / "common.mk",
                support.ROOT / "common.h"]
    newest = max(p.stat().st_mtime for p in sources if p.exists())
    return min(p.stat().st_mtime for p in built) >= newest


STAGES = exercise.exercise_stages()


def cache_key(stage, out, checks):
    """What a variant's outcomes depend on: the interpreter, the built
    module, the stage's test files, the checker and the stage's Python
    files, the checks."""
    digest = hashlib.sha256()
    digest.update(("%s\n%s\n" % (support.PYTHON, sys.version)).encode())
    files = sorted(out.glob("*" + support.EXT_SUFFIX))
    files += sorted(support.TESTS.glob("test_%s_*.py" % stage.name[:2]))
    files += [support.TESTS / "support.py", support.HARNESS / "exercise.py"]
    files += sorted(stage.glob("*.py"))
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    digest.update("\n".join(checks).encode())
    return digest.hexdigest()


def checked(stage, out, checks, isolate):
    """Run the checks on a build, or reuse the outcomes of the last run
    when nothing they depend on has changed since."""
    cache = out.parent / "outcomes.json"
    key = cache_key(stage, out, checks + [str(isolate)])
    try:
        saved = json.loads(cache.read_text())
        if saved["key"] == key:
            return saved["outcomes"]
    except (OSError, ValueError, KeyError):
        pass
    outcomes = exercise.run_checks(out, checks, leaks=False, jobs=2,
                                   isolate=False)
    if isolate:
        # Checks that share a process see what earlier ones left behind
        # (on the skeleton: a logger never flushed).  A check that failed
        # for another reason than NotImplementedError, or crashed, runs
        # again in a process of its own, as `make check-N` runs it.
        again = [t for t in checks if outcomes[t]["status"] == "crash"
                 or (outcomes[t]["status"] == "fail"
                     and "NotImplementedError" not in outcomes[t]["text"])]
        if again:
            outcomes.update(exercise.run_checks(out, again, leaks=False,
                                                jobs=2))
    cache.write_text(json.dumps({"key": key, "outcomes": outcomes}))
    return outcomes


def run_all():
    """Build both variants of every stage and run their checks, stages in
    parallel; {(stage name, variant): (ok, log, outcomes, checks)}.

    The reference runs the checks that do not pass on the skeleton: the
    others use only code the two files share, and tests/test_NN_*.py run
    them on the reference already (test_gate_exercises.py runs them all,
    under the sanitizers, with the leak check)."""
    def one(stage):
        results = {}
        checks = [t for t, _ in exercise.plan(stage)]
        for variant in ("skeleton", "reference"):
            ok, log, out = prepare(stage, variant)
            if not ok:
                results[(stage.name, variant)] = (False, log, {}, [])
                continue
            if variant == "reference" and (stage.name, "skeleton") in results:
                done = results[(stage.name, "skeleton")][2]
                checks = [t for t in checks
                          if done.get(t, {}).get("status") != "pass"]
            # On the skeleton each check runs in a process of its own, as
            # `make check-N` runs it: an unfinished part leaves state behind
            # (a logger never flushed) that must not fail the next check.
            # The reference leaves none: its checks share a process.
            results[(stage.name, variant)] = (True, log, checked(
                stage, out, checks, variant == "skeleton"), checks)
        return results

    results = {}
    # The last stages' checks take longest: start them first.
    with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 2) as pool:
        for part in pool.map(one, STAGES[::-1]):
            results.update(part)
    return results


class TestSkeletons(unittest.TestCase):
    def test_every_stage_has_an_exercise(self):
        for stage in support.stages():
            with self.subTest(stage=stage.name):
                self.assertTrue((stage / "exercise").is_dir(),
                                "%s has no exercise/ folder" % stage.name)
                self.assertTrue(exercise.contract_classes(stage),
                                "no test module of %s sets EXERCISE"
                                % stage.name)

    def test_skeletons_are_generated_from_their_reference(self):
        for stage in STAGES:
            with self.subTest(stage=stage.name):
                try:
                    path, text = skeleton.generate(stage)
                except skeleton.MarkerError as exc:
                    self.fail(str(exc))
                self.assertEqual(
                    committed_skeleton(path, text), text,
                    "%s differs from what `make skeletons` writes from %s"
                    % (path.relative_to(support.ROOT),
                       skeleton.reference_of(stage).name))

    def test_every_check_has_one_hint_in_part_order(self):
        for stage in STAGES:
            with self.subTest(stage=stage.name):
                try:
                    hints = exercise.read_hints(stage)
                except exercise.HintsError as exc:
                    self.fail(str(exc))
                methods = [t.rsplit(".", 1)[-1]
                           for t in exercise.contract_tests(stage)]
                named = [h["test"] for h in hints]
                twice = sorted({m for m in named if named.count(m) > 1})
                self.assertEqual(twice, [], "more than one hint block")
                self.assertEqual(sorted(set(methods) - set(named)), [],
                                 "checks without a hint block")
                self.assertEqual(sorted(set(named) - set(methods)), [],
                                 "hint blocks for no check")
                try:
                    parts = set(exercise.part_names(stage))
                except skeleton.MarkerError:
                    parts = set()
                if parts:
                    self.assertLessEqual({h["part"] for h in hints}, parts,
                                         "a hint names a part the skeleton "
                                         "does not have")

    def test_no_chapter_prints_an_exercise_body(self):
        blocks = []
        for doc in sorted((support.ROOT / "docs").glob("*.md")):
            for block in re.findall(r"^```[^\n]*\n(.*?)^```", doc.read_text(),
                                    re.S | re.M):
                lines = significant(block.splitlines())
                blocks.append((doc.name, set(zip(lines, lines[1:]))))
        for stage in STAGES:
            try:
                regions = skeleton.regions_of(stage)
            except skeleton.MarkerError:
                continue        # the drift test reports it
            for region in regions:
                body = significant(region["body"])
                pairs = list(zip(body, body[1:]))
                for name, shown in blocks:
                    with self.subTest(stage=stage.name, part=region["part"],
                                      doc=name):
                        common = [p for p in pairs if p in shown]
                        if common:
                            self.fail("%s prints %d line pairs of exercise "
                                      "%d, part %d (%s), first:\n    %s\n"
                                      "    %s" % (
                                          name, len(common),
                                          int(stage.name[:2]), region["part"],
                                          region["name"], *common[0]))


class TestMarkers(unittest.TestCase):
    """The generator refuses what it cannot cut cleanly, naming the line."""

    GOOD = ("int f(void)\n{\n    /* [exercise part 1: f] */\n    return 1;\n"
            "    /* [stub]\n    return 0;\n    [/exercise part 1] */\n}\n")

    def error(self, text):
        with self.assertRaises(skeleton.MarkerError) as caught:
            skeleton.parse(text, "x.c")
        return str(caught.exception)

    def test_a_region_becomes_its_stub(self):
        lines, regions = skeleton.parse(self.GOOD, "x.c")
        self.assertEqual([(r.part, r.name) for r in regions], [(1, "f")])
        region = regions[0].as_dict(lines)
        self.assertEqual(region["body"], ["    return 1;"])
        self.assertEqual(region["stub"], ["    return 0;"])

    def test_malformed_markers_name_file_and_line(self):
        self.assertIn("x.c:3: malformed exercise marker", self.error(
            self.GOOD.replace("part 1: f]", "part 1 f]")))
        nested = self.GOOD.replace("    return 1;\n",
                                   "    /* [exercise part 2: g] */\n", 1)
        self.assertIn("x.c:4: [exercise part 2] starts inside part 1",
                      self.error(nested))
        self.assertIn("x.c:7: [/exercise part 2] closes part 1", self.error(
            self.GOOD.replace("[/exercise part 1]", "[/exercise part 2]")))
        self.assertIn("x.c:3: part 1 is never closed", self.error(
            self.GOOD.replace("    [/exercise part 1] */\n", "")))
        self.assertIn("x.c:7: part 1 ends without its '/* [stub]'",
                      self.error(self.GOOD.replace("/* [stub]", "/* stub")))
        self.assertIn("must be 1, 2, ...", self.error(
            self.GOOD.replace("part 1", "part 2")))


def significant(lines):
    """The lines that say something: stripped, not blank, not only braces
    and punctuation."""
    out = []
    for line in lines:
        text = line.strip()
        if text and not re.fullmatch(r"[{}()\[\];,]+", text):
            out.append(text)
    return out


# A LeakSanitizer report as the checker's processes write it: one leak of
# ours (utf8_reverse, called from the participant's file), one of the
# interpreter's own, one indirect leak under ours.
LSAN_REPORT = """\
==4242==ERROR: LeakSanitizer: detected memory leaks

Direct leak of 36002 byte(s) in 2 object(s) allocated from:
    #0 0x7f1 in __interceptor_malloc ../../../../src/libsanitizer/asan/asan_malloc_linux.cpp:69
    #1 0x7f2 in utf8_reverse /work/02-data-transfer/transfer_lib.c:114
    #2 0x7f3 in transfer_reversed_text /tmp/x/transfer_capi.c:237
    #3 0x7f4  (/lib/x86_64-linux-gnu/libffi.so.8+0x6f79)

Direct leak of 32 byte(s) in 1 object(s) allocated from:
    #0 0x7f1 in __interceptor_malloc ../../../../src/libsanitizer/asan/asan_malloc_linux.cpp:69
    #1 0x7f5 in PyThread_allocate_lock Python/thread_pthread.h:437

Indirect leak of 64 byte(s) in 1 object(s) allocated from:
    #0 0x7f1 in __interceptor_malloc ../../../../src/libsanitizer/asan/asan_malloc_linux.cpp:69
    #1 0x7f2 in utf8_reverse /work/02-data-transfer/transfer_lib.c:114

SUMMARY: AddressSanitizer: 36098 byte(s) leaked in 4 allocation(s).
"""


class TestCMemory(unittest.TestCase):
    """The checker's view of C memory: the library's counters named in
    hints.txt, LeakSanitizer's reports, the C heap meter."""

    def test_every_c_memory_counter_is_in_its_module(self):
        import ctypes
        stages = [s for s in exercise.exercise_stages()
                  if exercise.read_c_memory(s)]
        self.assertEqual([s.name[:2] for s in stages], ["02", "04", "05"])
        for stage in stages:
            cls = exercise.contract_classes(stage)[0]
            module = support.import_stage(cls.stage, cls.module)
            library = ctypes.CDLL(module.__file__)
            for name, text in exercise.read_c_memory(stage):
                with self.subTest(stage=stage.name, counter=name):
                    counter = getattr(library, name)
                    counter.restype = ctypes.c_longlong
                    self.assertGreaterEqual(counter(), 0)
                    self.assertRegex(text, r"\w+\(\)")

    def test_a_malformed_c_memory_line_names_its_line(self):
        import tempfile
        from pathlib import Path
        text = (support.stage_dir("02") / "exercise" / "hints.txt").read_text()
        broken = text.replace("c-memory: transfer_live_buffers() ",
                              "c-memory: transfer_live_buffers ")
        self.assertNotEqual(text, broken)
        with tempfile.TemporaryDirectory() as tmp:
            stage = Path(tmp) / "02-data-transfer"
            (stage / "exercise").mkdir(parents=True)
            (stage / "exercise" / "hints.txt").write_text(broken)
            with self.assertRaisesRegex(exercise.HintsError,
                                        r"hints\.txt:\d+: expected "
                                        r"'c-memory: counter\(\)"):
                exercise.read_hints(stage)

    def test_only_our_direct_leaks_count(self):
        from pathlib import Path
        stage = support.stage_dir("02")
        leaks = exercise.c_leak_reports(LSAN_REPORT, stage,
                                        Path("/tmp/x/transfer_capi.c"))
        self.assertEqual(leaks, [{"bytes": 36002, "objects": 2, "frames": [
            ("utf8_reverse", "transfer_lib.c", 114),
            ("transfer_reversed_text", "transfer_capi.c", 237)]}])
        self.assertEqual(exercise.c_leak_reports(
            LSAN_REPORT.replace("transfer_", "other_"), stage,
            Path("/tmp/x/transfer_capi.c")), [])

    def test_the_c_heap_meter_sees_a_malloc(self):
        import ctypes
        name, meter = support.c_heap_meter()
        if meter is None:
            self.skipTest("no C heap meter here (neither ASan nor glibc's "
                          "mallinfo2)")
        libc = ctypes.CDLL(None)
        libc.malloc.restype, libc.malloc.argtypes = (ctypes.c_void_p,
                                                     [ctypes.c_size_t])
        libc.free.argtypes = [ctypes.c_void_p]
        before = meter()
        blocks = [libc.malloc(18_000) for _ in range(100)]
        grown = meter() - before
        for block in blocks:
            libc.free(block)
        self.assertGreaterEqual(grown, 1_800_000, name)
        self.assertLess(meter() - before, 100_000, name)


class TestChecks(unittest.TestCase):
    """The skeleton fails only with NotImplementedError, the reference
    passes: both built by the exercise rule and checked by the checker."""

    @classmethod
    def setUpClass(cls):
        cls.results = run_all()

    def test_skeletons_build_and_fail_only_with_not_implemented(self):
        for stage in STAGES:
            with self.subTest(stage=stage.name):
                ok, log, outcomes, checks = self.results[(stage.name,
                                                          "skeleton")]
                self.assertTrue(ok, "the skeleton does not build:\n" + log)
                statuses = [outcomes[t]["status"] for t in checks]
                self.assertIn("fail", statuses, "every check passes on the "
                              "skeleton: nothing is left to write")
                unclean = ["%s: %s" % (t.rsplit(".", 1)[-1], describe(
                    outcomes[t])) for t in checks
                    if outcomes[t]["status"] not in ("pass", "skip")
                    and not (outcomes[t]["status"] == "fail"
                             and "NotImplementedError" in outcomes[t]["text"])]
                self.assertEqual(unclean, [], "on the skeleton, failures "
                                 "other than NotImplementedError")

    def test_the_reference_is_a_complete_solution(self):
        for stage in STAGES:
            with self.subTest(stage=stage.name):
                ok, log, outcomes, checks = self.results[(stage.name,
                                                          "reference")]
                self.assertTrue(ok, "the reference does not build by the "
                                "exercise rule:\n" + log)
                bad = ["%s: %s" % (t.rsplit(".", 1)[-1], describe(
                    outcomes[t])) for t in checks
                    if outcomes[t]["status"] not in ("pass", "skip")]
                self.assertEqual(bad, [], "the reference copied over the "
                                 "skeleton fails checks")


def describe(outcome):
    if outcome["status"] == "fail":
        return exercise.summary(outcome)
    if outcome["status"] == "crash":
        return "crashed (%s): %s" % (outcome["exit"],
                                     outcome["output"][-1500:])
    return outcome["status"]


if __name__ == "__main__":
    unittest.main()
