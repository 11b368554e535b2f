"""The exercise checker is as strict as the gates (`make gates` only).

Each test copies a stage's reference over its skeleton in a temporary
folder (a complete solution), makes one mistake a participant makes, and
runs `make check-N`'s checker on it:

- an off-by-one heap write is reported by AddressSanitizer, with the line
  of the participant's file;
- a crash ends only the check that crashed: its hint is printed, the other
  checks still run, and the last line still counts them;
- a reference that is never given back fails as a leak that names the
  check and the function (a callback's result too).

And the reference itself passes every stage's checks under the sanitizers
with the leak check on, as `make check-N` runs them.
"""
import io
import re
import sys
import tempfile
import unittest
from pathlib import Path

import support
import exercise
import skeleton

SANITIZERS = exercise.sanitizer_problem()


def solution_with(stage_number, old, new, count=1):
    """A temporary folder holding the reference of a stage, as the
    participant's file, with `old` replaced by `new`."""
    stage = support.stage_dir(stage_number)
    ref = skeleton.reference_of(stage)
    text = ref.read_text()
    if old is not None:
        if text.count(old) < 1:
            raise AssertionError("%s no longer contains %r" % (ref.name, old))
        text = text.replace(old, new, count)
    tmp = tempfile.TemporaryDirectory()
    (Path(tmp.name) / ref.name).write_text(text)
    return stage, tmp


def run_check(stage, tmp, sanitize, leaks=True):
    out = io.StringIO()
    status = exercise.check(stage.name, src=tmp.name,
                            out=Path(tmp.name) / "build", sanitize=sanitize,
                            leaks=leaks, stream=out)
    return status, out.getvalue()


def block(output, check):
    """The lines the checker printed for one check."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines)
                 if line.endswith("] " + check))
    end = start + 1
    while end < len(lines) and lines[end].startswith("        "):
        end += 1
    return "\n".join(lines[start:end])


def final_line(output):
    return output.rstrip().splitlines()[-1]


class TestTheCheckerCatchesMistakes(unittest.TestCase):
    @unittest.skipIf(SANITIZERS, "no sanitizers here: %s" % SANITIZERS)
    def test_an_off_by_one_write_is_reported_with_its_line(self):
        # Stage 04, part 2: "terminating" the Block's bytes writes one
        # byte past the end of what C allocated.
        stage, tmp = solution_with(
            4, "    self->exports++;\n",
            "    ((char *)self->block->data)[self->block->size] = 0;\n"
            "    self->exports++;\n")
        with tmp:
            status, output = run_check(stage, tmp, sanitize=True, leaks=False)
        self.assertEqual(status, 1, output)
        self.assertIn("CRASH", output)
        self.assertRegex(output, r"AddressSanitizer: heap-buffer-overflow "
                                 r"\(write of 1 bytes\)")
        self.assertRegex(output, r"first frame in your file: \S+/memory_capi"
                                 r"\.c:\d+ \(in Block_getbuffer\): "
                                 r"\(\(char \*\)self->block->data\)")
        self.assertIn("nudge: ", output)
        passed, total = map(int, re.match(
            r"(\d+) of (\d+) checks pass$", final_line(output)).groups())
        self.assertLess(passed, total)
        self.assertGreater(passed, 0, "the other checks did not run")

    def test_a_crash_ends_only_its_own_check(self):
        # Stage 01, part 3: a NULL pointer written through when the trace
        # is switched on; without the sanitizers, a plain SIGSEGV.
        stage, tmp = solution_with(
            1, "    int old = trace_calls;\n",
            "    if (flag) {\n"
            "        *(volatile int *)NULL = flag;\n"
            "    }\n"
            "    int old = trace_calls;\n")
        with tmp:
            status, output = run_check(stage, tmp, sanitize=False,
                                       leaks=False)
        self.assertEqual(status, 1, output)
        crashed = re.findall(r"^  CRASH  \[part (\d)\] (\w+)$", output, re.M)
        self.assertTrue(crashed, output)
        self.assertEqual({part for part, _ in crashed}, {"3"}, output)
        self.assertIn("killed by SIGSEGV", output)
        self.assertIn("nudge: ", block(output, crashed[0][1]))
        # Every check has its line, after the crash too, and the count.
        lines = re.findall(r"^  (ok|FAIL|LEAK|CRASH|skip) +(\[part \d\] )?"
                           r"(\w+)", output, re.M)
        passed, total = map(int, re.match(
            r"(\d+) of (\d+) checks pass$", final_line(output)).groups())
        self.assertEqual(len(lines), total, output)
        self.assertEqual(sum(1 for kind, _, _ in lines if kind == "ok"),
                         passed)
        self.assertGreater(passed, total // 2, output)

    def test_a_leaked_result_names_the_check_and_function(self):
        # Stage 01, part 1: one reference too many on the result, so every
        # int that is not cached (INT_MAX) stays alive for ever.
        stage, tmp = solution_with(
            1, "    return PyLong_FromLong(add((int)a, (int)b));",
            "    PyObject *result = PyLong_FromLong(add((int)a, (int)b));\n"
            "    Py_XINCREF(result);\n"
            "    return result;")
        with tmp:
            status, output = run_check(stage, tmp,
                                       sanitize=not SANITIZERS, leaks=True)
        self.assertEqual(status, 1, output)
        leaks = re.findall(r"^  LEAK   \[part 1\] (\w+)$", output, re.M)
        self.assertIn("test_add_accepts_the_whole_int_range", leaks, output)
        text = re.sub(r"\s+", " ", block(output, leaks[0]))
        self.assertIn("leaks: each repeat of %s keeps more" % leaks[0], text)
        self.assertIn("a new reference in part 1 (extern_add()) is never "
                      "given back", text)
        self.assertIn("nudge: ", text)
        self.assertNotIn("  CRASH ", output)

    def test_a_leaked_callback_result_is_caught(self):
        # Stage 01, part 2: the callback's result is never released.  Before
        # 3.12 even a leaked None is counted; from 3.12 on None is immortal
        # and the stage's own check of the results' lifetime catches it.
        stage, tmp = solution_with(
            1, "    Py_DECREF(result);", "    /* Py_DECREF(result); */")
        with tmp:
            status, output = run_check(stage, tmp,
                                       sanitize=not SANITIZERS, leaks=True)
        self.assertEqual(status, 1, output)
        caught = re.findall(r"^  (LEAK|FAIL) +\[part 2\] (\w+)$", output,
                            re.M)
        self.assertTrue(caught, output)
        for kind, check in caught:
            if kind == "LEAK":
                self.assertIn("(call_python_step()) is never given back",
                              re.sub(r"\s+", " ", block(output, check)))
        if sys.version_info < (3, 12):
            self.assertIn("LEAK", {kind for kind, _ in caught})
        self.assertNotIn("  CRASH ", output)


class TestTheReferencePassesUnderTheChecker(unittest.TestCase):
    def test_every_reference_passes_with_sanitizers_and_leak_check(self):
        for stage in exercise.exercise_stages():
            with self.subTest(stage=stage.name):
                _, tmp = solution_with(stage.name[:2], None, None)
                with tmp:
                    status, output = run_check(stage, tmp,
                                               sanitize=not SANITIZERS)
                self.assertEqual(status, 0, output)
                self.assertRegex(final_line(output),
                                 r"^(\d+) of \1 checks pass$")


if __name__ == "__main__":
    unittest.main()
