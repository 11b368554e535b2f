"""The exercise checker is as strict as the gates (`make gates` only).

Each test copies a stage's reference over its skeleton in a temporary
folder (a complete solution), makes one mistake a participant makes, and
runs `make check-N`'s checker on it:

- an off-by-one heap write is reported by AddressSanitizer, with the line
  of the participant's file;
- a crash ends only the check that crashed: its hint is printed, the other
  checks still run, and the last line still counts them;
- a reference that is never given back fails as a leak that names the
  check and the function (a callback's result too);
- every mutant in MUTANTS (a plausible wrong solution: a leak of C memory
  or of a reference, a borrowed reference kept, a buffer not released, an
  exception swallowed, an error status ignored, a double free, an export
  not counted, an overflow not refused) fails a check of its own part,
  with a hint that points at the mistake.

And the reference itself passes every stage's checks under the sanitizers
with the leak check on, as `make check-N` runs them.

docs/workshop.md quotes the checker's output for these mistakes ("What the
checker prints"): each quoted block is checked against a real run of the
same mistake, line by line and in order, with the parts that change from
run to run (addresses, folders, deltas, timings) matched loosely.  Each
mistake is built and checked once; the tests share its output.
"""
import ast
import io
import re
import sys
import tempfile
import unittest
from pathlib import Path

import support  # first: it puts tests/harness/ on sys.path
import exercise
import skeleton

SANITIZERS = exercise.sanitizer_problem()


# --- edits of a reference ----------------------------------------------------
# Every mistake below is a stage's reference with a few lines changed,
# written as a diff is: whole lines, as they stand in the C source (no
# escapes), so that a line the source changes is copied in as it is.
#
#     @@ stage N, part P: what the mistake is
#     hint: words          (a mutant's: see MUTANTS below)
#     before: 3.12         (a mistake that exists only before that version)
#      a line of the reference, kept (it finds the place)
#     -a line of the reference, taken out
#     +a line put in
#
# An edit must find its lines exactly once in the reference, or the test
# names the edit that lost its place.  Lines starting with "#" are comments.
EDIT_HEADING = re.compile(r"@@ stage (\d+)(?:, part (\d+))?: (.+)")


def edits(table):
    """The edits of a table, in order: dicts of stage, part, kind, words,
    before, old and new (the lines taken out and put in, context too)."""
    found = []
    for line in table.splitlines():
        heading = EDIT_HEADING.fullmatch(line)
        if heading:
            stage, part, kind = heading.groups()
            found.append(dict(stage=int(stage), part=part and int(part),
                              kind=kind, words=[], before=None, old="",
                              new=""))
        elif not line.strip() or line.startswith("#"):
            continue
        elif not found:
            raise ValueError("a line before the first @@ heading: %r" % line)
        elif line.startswith("hint: "):
            found[-1]["words"].append(line[len("hint: "):])
        elif line.startswith("before: "):
            found[-1]["before"] = tuple(
                int(n) for n in line[len("before: "):].split("."))
        elif line[0] in " -+":
            if line[0] != "+":
                found[-1]["old"] += line[1:] + "\n"
            if line[0] != "-":
                found[-1]["new"] += line[1:] + "\n"
        else:
            raise ValueError("not a line of an edit: %r" % line)
    return found


def edit(heading):
    """The edit of MUTANTS or PLANTED whose heading (after "@@ ") is
    `heading`."""
    for change in MUTANTS + PLANTED:
        if heading == "stage %d%s: %s" % (
                change["stage"], change["part"] and ", part %d"
                % change["part"] or "", change["kind"]):
            return change
    raise LookupError("no edit @@ %s" % heading)


def edited(text, change, where):
    """text (the reference, `where`) with the edit made."""
    found = ("\n" + text).count("\n" + change["old"])
    if found != 1:
        raise AssertionError("%s: the edit %r finds its lines %d times, not "
                             "once:\n%s" % (where, change["kind"], found,
                                            change["old"]))
    return ("\n" + text).replace("\n" + change["old"],
                                 "\n" + change["new"])[1:]


def solution_with(stage, *changes):
    """A temporary folder holding the reference of `stage` (a stage folder)
    as the participant's file, with each edit of `changes` made."""
    ref = skeleton.reference_of(stage)
    text = ref.read_text()
    for change in changes:
        text = edited(text, change, ref.name)
    tmp = tempfile.TemporaryDirectory()
    (Path(tmp.name) / ref.name).write_text(text)
    return tmp


def run_check(stage, folder, sanitize, leaks=True):
    """(exit status, output) of `make check-N`'s checker on the
    participant's file in `folder`."""
    out = io.StringIO()
    status = exercise.check(stage.name, src=folder,
                            out=Path(folder) / "build", sanitize=sanitize,
                            leaks=leaks, stream=out)
    return status, out.getvalue()


# Mistakes that are no plausible solution (no hint names them), planted to
# show what the checker does with a crash, a heap overflow and a leak that
# no exercise part makes.
PLANTED = edits(r"""
@@ stage 1, part 3: a NULL pointer written through
# when the trace is switched on; without the sanitizers, a plain SIGSEGV
+    if (flag) {
+        *(volatile int *)NULL = flag;
+    }
     int old = trace_calls;
@@ stage 4, part 2: one byte written past the end
# "terminating" the Block's bytes writes one byte past what C allocated
+    ((char *)self->block->data)[self->block->size] = 0;
     self->exports++;
@@ stage 4: one reference leaked per call of person_get()
-    return Py_BuildValue("(kk)", (unsigned long)person->height_cm,
-                         (unsigned long)person->age);
+    PyObject *kept = Py_BuildValue("(kk)", (unsigned long)person->height_cm,
+                                   (unsigned long)person->age);
+    Py_XINCREF(kept);
+    return kept;
""")

# The mistakes the tests and docs/workshop.md show, each planted in the
# reference as the chapter describes it: name: (the edit's heading,
# sanitize).  Each runs as `make check-N` runs it, the leak check on.
MISTAKES = {
    # Stage 01, part 1: one reference too many on the result, so every int
    # that is not cached (INT_MAX) stays alive for ever.
    "leaked result": ("stage 1, part 1: reference leak", True),
    # Stage 02, part 1: the buffer C allocated is never freed.
    "C memory never freed": ("stage 2, part 1: C-heap leak (free forgotten)",
                             True),
    # Stage 01, part 2: `return 0;` where the callback raised.
    "exception swallowed": ("stage 1, part 2: error status ignored", True),
    # Stage 01, part 3: a NULL pointer written through when the trace is
    # switched on; without the sanitizers, a plain SIGSEGV.
    "crash": ("stage 1, part 3: a NULL pointer written through", False),
    # Stage 04, part 2: "terminating" the Block's bytes writes one byte
    # past the end of what C allocated.
    "off-by-one write": ("stage 4, part 2: one byte written past the end",
                         True),
    # Stage 04, part 3: the registry stores the caller's borrowed reference.
    "borrowed reference stored": ("stage 4, part 3: borrowed reference "
                                  "stored", True),
}

_RUNS = {}


def checker_output(name):
    """(exit status, output) of the checker on one of the MISTAKES, or on
    the fresh skeleton of exercise 1 ("skeleton"); each is run once."""
    if name not in _RUNS:
        if name == "skeleton":
            stage = support.stage_dir(1)
            path, text = skeleton.generate(stage)
            tmp = tempfile.TemporaryDirectory()
            (Path(tmp.name) / path.name).write_text(text)
            sanitize = True
        else:
            heading, sanitize = MISTAKES[name]
            change = edit(heading)
            stage = support.stage_dir(change["stage"])
            tmp = solution_with(stage, change)
        with tmp as folder:
            _RUNS[name] = run_check(stage, folder,
                                    sanitize and not SANITIZERS)
    return _RUNS[name]


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
        status, output = checker_output("off-by-one write")
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
        status, output = checker_output("crash")
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
        status, output = checker_output("leaked result")
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
        change = edit("stage 1, part 2: reference leak")
        stage = support.stage_dir(1)
        with solution_with(stage, change) as folder:
            status, output = run_check(stage, folder,
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


# --- the checker proves itself: plausible wrong solutions ---------------------
#
# Each mutant is the reference with one small edit inside one exercise part
# (a mistake a participant makes), written as the edits above are: the
# checker must fail a check of that part, and what it prints for that check
# (message, nudge or api line) must contain the words of one of its `hint:`
# lines: the hint points at the mistake.  `before:` a mistake that only
# exists before that version (a leaked reference to None, immortal from
# 3.12 on, leaks nothing).  Each stage keeps its mutants in its own test
# file, as MUTANTS; every part of its exercise must have one.
def stage_mutants():
    """Every stage's MUTANTS, the table at the end of its own test file
    (tests/test_NN_topic.py), found as the exercise stages are: a new
    stage brings its mistakes with it."""
    found = []
    for stage in exercise.exercise_stages():
        path = support.stage_test_file(stage)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        tables = [node.value.value for node in tree.body
                  if isinstance(node, ast.Assign)
                  and [getattr(t, "id", None) for t in node.targets]
                  == ["MUTANTS"] and isinstance(node.value, ast.Constant)]
        for m in edits(tables[0] if tables else ""):
            if m["stage"] != int(stage.name[:2]):
                raise ValueError("%s: a mutant of stage %d" % (path.name,
                                                             m["stage"]))
            found.append(m)
    return found


MUTANTS = stage_mutants()


def mutant_batches(stage_number):
    """The mutants of one stage in batches that `make check-N` runs once:
    batch k holds the k-th mutant of each part (their edits are in
    different functions, and each part's checks call its own function)."""
    mutants = [m for m in MUTANTS if m["stage"] == stage_number
               and (m["before"] is None or sys.version_info < m["before"])]
    by_part = {}
    for m in mutants:
        by_part.setdefault(m["part"], []).append(m)
    return [[ms[k] for ms in by_part.values() if k < len(ms)]
            for k in range(max(map(len, by_part.values()), default=0))]


def run_mutant_batch(batch):
    """(exit status, output) of the checker on the reference with every
    edit of `batch` made, as `make check-N` runs it."""
    stage = support.stage_dir(batch[0]["stage"])
    with solution_with(stage, *batch) as folder:
        return run_check(stage, folder, sanitize=not SANITIZERS)


def failing_blocks(output, part):
    """{check: the lines printed for it} of the checks of `part` that did
    not pass."""
    return {check: block(output, check) for check in re.findall(
        r"^  (?:FAIL|LEAK|CRASH) +\[part %d\] (\w+)$" % part, output, re.M)}


def mutant_problem(m, status, output):
    """Why the checker's run does not kill mutant m, or None."""
    if "does not compile" in output:
        return "it does not compile (not a plausible solution)"
    match = re.match(r"(\d+) of (\d+) checks pass$", final_line(output))
    if status != 1 or not match or match.group(1) == match.group(2):
        return "the checker passed it"
    failing = failing_blocks(output, m["part"])
    if not failing:
        return "no check of part %d failed" % m["part"]
    for text in failing.values():
        flat = re.sub(r"\s+", " ", text)
        if any(word in flat for word in m["words"]):
            return None
    return ("part %d failed (%s), but no hint there says any of %r"
            % (m["part"], ", ".join(failing), m["words"]))


class TestTheCheckerKillsEveryMutant(unittest.TestCase):
    """Every mutant above fails `make check-N`, in its own part, with a
    hint that points at its mistake.  One run of the checker per batch
    (mutant_batches), one batch after the other: each run already uses
    two server processes, the machine's two cores."""

    def assert_stage_kills_its_mutants(self, number):
        batches = mutant_batches(number)
        self.assertTrue(batches, "stage %d has no mutant" % number)
        for batch in batches:
            status, output = run_mutant_batch(batch)
            for m in batch:
                with self.subTest(part=m["part"], mutant=m["kind"]):
                    problem = mutant_problem(m, status, output)
                    self.assertIsNone(problem, "stage %d, part %d, %s: %s\n"
                                      "--- checker output ---\n%s" % (
                                          number, m["part"], m["kind"],
                                          problem, output))

    def test_every_part_has_mutants(self):
        for stage in exercise.exercise_stages():
            number = int(stage.name[:2])
            parts = set(exercise.part_names(stage))
            mutated = {m["part"] for m in MUTANTS if m["stage"] == number}
            self.assertEqual(mutated, parts, "%s: parts without a mutant"
                             % stage.name)


# One test per stage with an exercise: test_stage_01, test_stage_02, ...
for _stage in exercise.exercise_stages():
    def _test(self, number=int(_stage.name[:2])):
        self.assert_stage_kills_its_mutants(number)
    _test.__name__ = "test_stage_" + _stage.name[:2]
    _test.__doc__ = "%s's mutants" % _stage.name
    setattr(TestTheCheckerKillsEveryMutant, _test.__name__, _test)
del _stage, _test


class TestTheRepeatedLeakCheckCatchesARealLeak(unittest.TestCase):
    """test_04_memory's test_no_leak_when_repeated counts a round as grown
    only past half its calls, so that the interpreter's caches cannot fail
    it; a real leak of one reference per call must still fail it."""

    def test_one_reference_per_call_fails_it(self):
        change = edit("stage 4: one reference leaked per call of "
                      "person_get()")
        stage = support.stage_dir(4)
        with solution_with(stage, change) as folder:
            out = Path(folder) / "build"
            ok, log = exercise.build(stage, folder, out, quick=True)
            self.assertTrue(ok, log)
            proc = support.run_python(
                "import sys, unittest; sys.exit(not unittest.main("
                "module='test_04_memory', argv=['x', "
                "'TestCapi.test_no_leak_when_repeated'], exit=False)"
                ".result.wasSuccessful())",
                env=support.child_env("04", FFI_BUILD=str(out)))
        self.assertEqual(proc.returncode, 1, proc.stderr[-2000:])
        self.assertRegex(proc.stderr, r"memory blocks grew in every round "
                                      r"by at least \d+ \(half the \d+ "
                                      r"calls of a round\)")


class TestTheReferencePassesUnderTheChecker(unittest.TestCase):
    def test_every_reference_passes_with_sanitizers_and_leak_check(self):
        for stage in exercise.exercise_stages():
            with self.subTest(stage=stage.name):
                with solution_with(stage) as folder:
                    status, output = run_check(stage, folder,
                                               sanitize=not SANITIZERS)
                self.assertEqual(status, 0, output)
                self.assertRegex(final_line(output),
                                 r"^(\d+) of \1 checks pass$")


# --- the checker's output quoted in docs/workshop.md -------------------------

WORKSHOP = support.ROOT / "docs" / "workshop.md"
SECTION = "## What the checker prints"
# Each "###" heading of that section with a quoted block: the run it
# quotes, and whether that run needs the sanitizers (its first line says
# "built with AddressSanitizer and UBSan", or only they report it).
QUOTED = {
    "A part not written yet": ("skeleton", True),
    "A reference that is never given back": ("leaked result", True),
    "C memory that is never freed": ("C memory never freed", True),
    'An exception swallowed: "returned a result with an exception set"':
        ("exception swallowed", True),
    "A write one byte past the end": ("off-by-one write", True),
    "A crash": ("crash", False),
    "A borrowed reference stored": ("borrowed reference stored", True),
}
# What changes from run to run or machine to machine, matched loosely: an
# address, a path (only its last part is kept: the docs show the
# participant's folder, a test runs in a temporary one), the leak check's
# deltas, a pid, a time in seconds.
VARIABLE = re.compile(r"0x[0-9a-f]+|(?:[\w.-]+/)+[\w.-]+"
                      r"|\(\+\d+(?:, \+\d+)*\)|\bpid \d+|\b\d+(?:\.\d+)? s\b")


def loose(token):
    if token.startswith("0x"):
        return r"0x[0-9a-f]+"
    if "/" in token:
        return r"(?:\S*/)?" + re.escape(token.rsplit("/", 1)[1])
    if token.startswith("(+"):
        return r"\(\+\d+(?:, \+\d+)*\)"
    if token.startswith("pid"):
        return r"pid \d+"
    return r"\d+(?:\.\d+)? s"


def line_pattern(line):
    """A quoted line as a regular expression for one line of output."""
    parts, at = [], 0
    for match in VARIABLE.finditer(line):
        parts += [re.escape(line[at:match.start()]), loose(match.group())]
        at = match.end()
    parts.append(re.escape(line[at:]))
    return re.compile("".join(parts))


def quoted_blocks(text):
    """{heading: (quoted lines, the prose after the block)} of the
    "What the checker prints" section."""
    start = text.index("\n" + SECTION + "\n")
    end = text.find("\n## ", start + 1)
    section = text[start:end if end > 0 else None]
    blocks = {}
    for part in re.split(r"^### ", section, flags=re.M)[1:]:
        heading, _, body = part.partition("\n")
        fences = list(re.finditer(r"^```[^\n]*\n(.*?)^```$\n?", body,
                                  re.M | re.S))
        if fences:
            # Several blocks under one heading are one run, in order; the
            # prose after the last one gives its count.
            quoted = []
            for fence in fences:
                quoted += fence.group(1).rstrip("\n").splitlines()
            blocks[heading.strip()] = (quoted, body[fences[-1].end():])
    return blocks


def unmatched(quoted, output):
    """The first quoted line not found in `output` (after the lines
    matched before it), with where the search stood; None when all are."""
    lines = [line.rstrip() for line in output.splitlines()]
    at = 0
    for line in quoted:
        pattern = line_pattern(line.rstrip())
        found = next((i for i in range(at, len(lines))
                      if pattern.fullmatch(lines[i])), None)
        if found is None:
            return line, at
        at = found + 1
    return None


class TestTheWorkshopGuideQuotesTheChecker(unittest.TestCase):
    """docs/workshop.md's quoted blocks are what the checker prints for
    the same mistake, today."""

    @classmethod
    def setUpClass(cls):
        cls.blocks = quoted_blocks(WORKSHOP.read_text())

    def test_every_quoted_block_is_checked(self):
        self.assertEqual(sorted(self.blocks), sorted(QUOTED),
                         "a block in %s's %r has no run here, or a run "
                         "lost its block" % (WORKSHOP.name, SECTION))

    def assert_quotes_the_checker(self, heading):
        name, needs_sanitizers = QUOTED[heading]
        if needs_sanitizers and SANITIZERS:
            self.skipTest("no sanitizers here: %s" % SANITIZERS)
        quoted, after = self.blocks[heading]
        _, output = checker_output(name)
        missing = unmatched(quoted, output)
        if missing is not None:
            line, at = missing
            self.fail("%s, %r: this quoted line is not in the checker's "
                      "output (from its line %d on):\n%s\n--- output ---\n%s"
                      % (WORKSHOP.name, heading, at + 1, line, output))
        # The count the prose gives after the block is the last line.
        for count in re.findall(r"`(\d+ of \d+ checks pass)`",
                                after.split("\n### ")[0]):
            self.assertEqual(final_line(output), count,
                             "%s, %r" % (WORKSHOP.name, heading))

    def test_the_fresh_skeleton(self):
        self.assert_quotes_the_checker("A part not written yet")

    def test_a_reference_never_given_back(self):
        self.assert_quotes_the_checker("A reference that is never given back")

    def test_an_exception_swallowed(self):
        self.assert_quotes_the_checker(
            'An exception swallowed: "returned a result with an exception '
            'set"')

    def test_a_write_one_byte_past_the_end(self):
        self.assert_quotes_the_checker("A write one byte past the end")

    def test_a_crash(self):
        self.assert_quotes_the_checker("A crash")

    def test_c_memory_never_freed(self):
        self.assert_quotes_the_checker("C memory that is never freed")

    def test_a_borrowed_reference_stored(self):
        self.assert_quotes_the_checker("A borrowed reference stored")

    def test_loose_parts_are_loose_and_the_rest_is_not(self):
        line = ("        SystemError: <function f at 0x7f7ad011cc20> at "
                "exercise/memory_capi.c:475 (+6, +2, +2) took 1.5 s")
        pattern = line_pattern(line)
        self.assertTrue(pattern.fullmatch(
            "        SystemError: <function f at 0x55d0e1> at "
            "/tmp/tmpab_c/memory_capi.c:475 (+12, +2, +2) took 0.3 s"))
        for wrong in (line.replace("475", "476"),
                      line.replace("memory_capi", "extern_capi"),
                      line.replace("SystemError", "TypeError"),
                      line.strip()):
            self.assertIsNone(pattern.fullmatch(wrong), wrong)


if __name__ == "__main__":
    unittest.main()
