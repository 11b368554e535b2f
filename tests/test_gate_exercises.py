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


# The mistakes the tests and docs/workshop.md show, each planted in the
# reference as the chapter describes it: (stage, old, new, sanitize).  Each
# runs as `make check-N` runs it, the leak check on.
MISTAKES = {
    # Stage 01, part 1: one reference too many on the result, so every int
    # that is not cached (INT_MAX) stays alive for ever.
    "leaked result": (
        1, "    return PyLong_FromLong(add((int)a, (int)b));",
        "    PyObject *result = PyLong_FromLong(add((int)a, (int)b));\n"
        "    Py_XINCREF(result);\n"
        "    return result;", True),
    # Stage 02, part 1: the buffer C allocated is never freed.
    "C memory never freed": (
        2, "    transfer_free(out);\n    return result;",
        "    return result;", True),
    # Stage 01, part 2: `return 0;` where the callback raised.
    "exception swallowed": (
        1, "        return -1;          /* exception set: ask the C loop to "
           "stop */", "        return 0;", True),
    # Stage 01, part 3: a NULL pointer written through when the trace is
    # switched on; without the sanitizers, a plain SIGSEGV.
    "crash": (
        1, "    int old = trace_calls;\n",
        "    if (flag) {\n"
        "        *(volatile int *)NULL = flag;\n"
        "    }\n"
        "    int old = trace_calls;\n", False),
    # Stage 04, part 2: "terminating" the Block's bytes writes one byte
    # past the end of what C allocated.
    "off-by-one write": (
        4, "    self->exports++;\n",
        "    ((char *)self->block->data)[self->block->size] = 0;\n"
        "    self->exports++;\n", True),
    # Stage 04, part 3: the registry stores the caller's borrowed reference.
    "borrowed reference stored": (
        4, "registry_put(registry, Py_NewRef(obj))",
        "registry_put(registry, obj)", True),
}

# Checks that do not end by themselves with a mistake, and would run into
# the checker's TIMEOUT: left out of that run and reported as the crash
# they are.  (The "exception swallowed" mistake used to be one; the
# signal check now has a watchdog of its own and fails in 20 s.)
HANGS = {}

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
            number, old, new, sanitize = MISTAKES[name]
            stage, tmp = solution_with(number, old, new)
        sanitize = sanitize and not SANITIZERS
        with tmp:
            if name in HANGS:
                _RUNS[name] = run_check_leaving_out(stage, tmp, sanitize,
                                                    HANGS[name])
            else:
                _RUNS[name] = run_check(stage, tmp, sanitize)
    return _RUNS[name]


def run_check_leaving_out(stage, tmp, sanitize, method):
    """What `check()` prints after its first line, without running the
    check `method` (it is reported as a crash)."""
    source = Path(tmp.name) / exercise.source_name(stage)
    build_dir = Path(tmp.name) / "build" / ("asan" if sanitize else "plain")
    ok, log = exercise.build(stage, tmp.name, build_dir, sanitize)
    if not ok:
        raise AssertionError(log)
    checks = exercise.plan(stage)
    outcomes = exercise.run_checks(
        build_dir, [t for t, _ in checks if not t.endswith("." + method)],
        leaks=True, sanitize=sanitize)
    exercise.classify_c_leaks(outcomes, stage, source)
    out = io.StringIO()
    passed = exercise.report(stage, checks, outcomes, source, out)
    print("\n%d of %d checks pass" % (passed, len(checks)), file=out)
    return (0 if passed == len(checks) else 1), out.getvalue()


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


# --- the checker proves itself: plausible wrong solutions ---------------------
#
# Each mutant is the reference with one small edit inside one exercise part
# (a mistake a participant makes): the checker must fail a check of that
# part, and what it prints for that check (message, nudge or api line)
# must contain one of `words`: the hint points at the mistake.  `before`:
# a mistake that only exists before that version (a leaked reference to
# None, immortal from 3.12 on, leaks nothing).
MUTANTS = []


def mutant(stage, part, kind, old, new, words, before=None):
    MUTANTS.append(dict(stage=stage, part=part, kind=kind, old=old, new=new,
                  words=words, before=before))


# --- stage 01 ---------------------------------------------------------------
mutant(1, 1, "integer overflow not refused",
       "    if (sum < INT_MIN || sum > INT_MAX) {",
       "    if (0 && (sum < INT_MIN || sum > INT_MAX)) {",
       ["does not fit in a C int", "OverflowError"])
mutant(1, 1, "reference leak",
       "    return PyLong_FromLong(add((int)a, (int)b));",
       "    PyObject *result = PyLong_FromLong(add((int)a, (int)b));\n"
       "    Py_XINCREF(result);\n"
       "    return result;", ["leaks"])
mutant(1, 1, "exception swallowed",
       "                        &b) < 0) {\n        return NULL;",
       "                        &b) < 0) {\n        PyErr_Clear();\n"
       "        return PyLong_FromLong(0);", ["int_in_range"])
mutant(1, 2, "error status ignored",
       "        return -1;          /* exception set: ask the C loop to stop */",
       "        return 0;", ["exception", "NULL"])
mutant(1, 2, "exception swallowed",
       "        return -1;          /* exception set: ask the C loop to stop */",
       "        PyErr_Clear();\n        return 0;", ["exception"])
mutant(1, 2, "reference leak",
       "    Py_DECREF(result);      /* the callback's return value is not used */",
       "", ["Py_DECREF", "leak", "released"])
mutant(1, 3, "error status ignored",
       "    int flag = PyObject_IsTrue(on);\n    if (flag < 0) {\n"
       "        return NULL;\n    }\n",
       "    int flag = PyObject_IsTrue(on);\n", ["PyObject_IsTrue", "-1"])
mutant(1, 3, "borrowed reference returned",
       "    return PyBool_FromLong(old);",
       "    return old ? Py_True : Py_False;",
       ["PyBool_FromLong", "Py_RETURN_TRUE"], before=(3, 12))

# --- stage 02 ---------------------------------------------------------------
mutant(2, 1, "C-heap leak (free forgotten)",
       "    transfer_free(out);\n    return result;", "    return result;",
       ["transfer_free"])
mutant(2, 1, "double free",
       "    transfer_free(out);\n    return result;",
       "    transfer_free(out);\n    transfer_free(out);\n    return result;",
       ["double-free", "transfer_free"])
mutant(2, 2, "reference leak",
       "        PyList_SET_ITEM(result, i, item);   /* steals the reference */",
       "        PyList_SET_ITEM(result, i, Py_NewRef(item));",
       ["PyList_SET_ITEM", "leak"])
mutant(2, 2, "C-heap leak (free forgotten)",
       "done:\n    PyMem_Free(values);\n    return result;",
       "done:\n    return result;", ["PyMem_Free"])
mutant(2, 3, "buffer not released on the error path",
       "        goto done;\n    }\n    result = Py_NewRef(Py_None);\ndone:\n",
       "        return NULL;\n    }\n    result = Py_NewRef(Py_None);\n",
       ["PyBuffer_Release"])
mutant(2, 3, "buffer never released",
       "done:\n    PyBuffer_Release(&view);\n    return result;\n    /* [stub]",
       "done:\n    return result;\n    /* [stub]", ["PyBuffer_Release"])
mutant(2, 3, "integer overflow not refused",
       "    if (done != n) {\n        PyErr_Format(PyExc_OverflowError,\n"
       "                     \"scale_in_place(): item",
       "    if (0 && done != n) {\n        PyErr_Format(PyExc_OverflowError,\n"
       "                     \"scale_in_place(): item",
       ["OverflowError", "scale_ll_in_place"])
mutant(2, 3, "reference leak (of None: immortal from 3.12 on)",
       "    result = Py_NewRef(Py_None);\ndone:\n    PyBuffer_Release(&view);",
       "    result = Py_NewRef(Py_NewRef(Py_None));\ndone:\n"
       "    PyBuffer_Release(&view);", ["Py_NewRef", "leak"], before=(3, 12))

# --- stage 03 ---------------------------------------------------------------
mutant(3, 1, "integer overflow not refused",
       "    if (person.age + years > UINT32_MAX) {",
       "    if (0 && person.age + years > UINT32_MAX) {",
       ["UINT32_MAX", "OverflowError"])
mutant(3, 1, "exception swallowed",
       "                      \"person_older() argument 'years'\", &years) < 0) {\n"
       "        return NULL;",
       "                      \"person_older() argument 'years'\", &years) < 0) {\n"
       "        PyErr_Clear();\n        years = 0;", ["uint_in_range"])
mutant(3, 1, "reference leak",
       "    return Py_BuildValue(\"(kk)\", (unsigned long)older.height,\n"
       "                         (unsigned long)older.age);",
       "    PyObject *result = Py_BuildValue(\"(kk)\", "
       "(unsigned long)older.height,\n"
       "                                     (unsigned long)older.age);\n"
       "    Py_XINCREF(result);\n    return result;",
       ["new reference", "leak"])
mutant(3, 2, "buffer not released on the error path",
       "        goto done;\n    }\n"
       "    result = PyLong_FromUnsignedLong(person->age);\ndone:\n",
       "        return NULL;\n    }\n"
       "    result = PyLong_FromUnsignedLong(person->age);\n",
       ["PyBuffer_Release"])
mutant(3, 2, "error status ignored",
       "    if (person_birthday(person) < 0) {",
       "    if (person_birthday(person) < 0 && 0) {",
       ["person_birthday() returns -1", "OverflowError"])
mutant(3, 3, "missing INCREF (borrowed reference given away)",
       "        Py_INCREF(item);    /* ours now, whatever happens to the list */\n",
       "", ["Py_INCREF", "borrowed"])
mutant(3, 3, "reference leak",
       "        int rc = PyList_Append(result, text);\n        Py_DECREF(text);\n",
       "        int rc = PyList_Append(result, text);\n",
       ["Py_DECREF", "leak"])
# (Part 3's error paths, a failing describe_object() or PyList_Append(),
# are reached only when memory runs out: no mutant there.)

# --- stage 04 ---------------------------------------------------------------
mutant(4, 1, "destructor not disarmed (double free)",
       "    if (PyCapsule_SetDestructor(capsule, NULL) < 0\n        || ",
       "    if (", ["PyCapsule_SetDestructor"])
mutant(4, 1, "C-heap leak (free forgotten)",
       "    person_free(person);\n    return 0;\n    /* [stub]",
       "    return 0;\n    /* [stub]", ["person_free"])
mutant(4, 1, "error status ignored",
       "    Person *person = person_arg(capsule, func);\n"
       "    if (person == NULL) {\n        return -1;\n    }\n",
       "    Person *person = person_arg(capsule, func);\n",
       ["person_arg"])
mutant(4, 2, "export not counted",
       "    self->exports++;\n    return 0;\n    /* [stub]",
       "    return 0;\n    /* [stub]", ["exports"])
mutant(4, 2, "borrowed reference (the view holds no reference)",
       "    if (PyBuffer_FillInfo(view, op, self->block->data,",
       "    if (PyBuffer_FillInfo(view, NULL, self->block->data,",
       ["op as its obj argument", "view->obj"])
mutant(4, 2, "error status ignored (closed Block)",
       "    if (self->block == NULL) {\n"
       "        PyErr_SetString(PyExc_ValueError, \"memoryview(): the Block is "
       "closed\");",
       "    if (0 && self->block == NULL) {\n"
       "        PyErr_SetString(PyExc_ValueError, \"memoryview(): the Block is "
       "closed\");", ["self->block (NULL once closed)"])
mutant(4, 3, "borrowed reference stored",
       "registry_put(registry, Py_NewRef(obj))", "registry_put(registry, obj)",
       ["Py_NewRef"])
mutant(4, 3, "reference leak (when full)",
       "        Py_DECREF(obj);         /* not stored: give our reference back */\n",
       "", ["Py_DECREF"])
mutant(4, 3, "error status ignored (registry full)",
       "    if (slot < 0) {\n        Py_DECREF(obj);",
       "    if (slot < -1) {\n        Py_DECREF(obj);",
       ["returns -1 when full"])

# --- stage 05 ---------------------------------------------------------------
mutant(5, 1, "exception swallowed",
       "    if (result == NULL) {\n"
       "        return NULL;                /* its exception, unchanged */",
       "    if (result == NULL) {\n        PyErr_Clear();\n"
       "        Py_RETURN_NONE;", ["PyErr_Clear", "NULL: it raised"])
mutant(5, 1, "reference leak",
       "    PyObject *result = PyObject_CallNoArgs(callback);\n"
       "    Py_DECREF(callback);\n",
       "    PyObject *result = PyObject_CallNoArgs(callback);\n",
       ["Py_DECREF", "leak"])
mutant(5, 1, "missing INCREF (borrowed reference)",
       "    callback = Py_XNewRef(self->callback);",
       "    callback = self->callback;", ["Py_XNewRef"])
mutant(5, 2, "error status ignored",
       "    if (status != LOGGER_OK) {\n        return raise_status(status, \"flush\");\n    }\n",
       "", ["raise_status"])
mutant(5, 3, "borrowed reference stored",
       "    self->callback = value == Py_None ? NULL : Py_NewRef(value);",
       "    self->callback = value == Py_None ? NULL : value;", ["Py_NewRef"])
mutant(5, 3, "reference leak",
       "    Py_END_CRITICAL_SECTION();\n    Py_XDECREF(old);\n    return 0;",
       "    Py_END_CRITICAL_SECTION();\n    (void)old;\n    return 0;",
       ["Py_XDECREF"])


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
            for k in range(max(map(len, by_part.values())))]


def run_mutant_batch(batch):
    """(exit status, output) of the checker on the reference with every
    edit of `batch` made, as `make check-N` runs it."""
    stage = support.stage_dir(batch[0]["stage"])
    ref = skeleton.reference_of(stage)
    text = ref.read_text()
    for m in batch:
        if text.count(m["old"]) != 1:
            raise AssertionError("%s: the mutant %r no longer finds its line"
                                 " %r" % (ref.name, m["kind"], m["old"]))
        text = text.replace(m["old"], m["new"])
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / ref.name).write_text(text)
        out = io.StringIO()
        status = exercise.check(stage.name, src=tmp, out=Path(tmp) / "build",
                                sanitize=not SANITIZERS, leaks=True,
                                stream=out)
    return status, out.getvalue()


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

    def test_stage_01(self):
        self.assert_stage_kills_its_mutants(1)

    def test_stage_02(self):
        self.assert_stage_kills_its_mutants(2)

    def test_stage_03(self):
        self.assert_stage_kills_its_mutants(3)

    def test_stage_04(self):
        self.assert_stage_kills_its_mutants(4)

    def test_stage_05(self):
        self.assert_stage_kills_its_mutants(5)


class TestTheRepeatedLeakCheckCatchesARealLeak(unittest.TestCase):
    """test_04_memory's test_no_leak_when_repeated counts a round as grown
    only past half its calls, so that the interpreter's caches cannot fail
    it; a real leak of one reference per call must still fail it."""

    def test_one_reference_per_call_fails_it(self):
        old = ('    return Py_BuildValue("(kk)", '
               '(unsigned long)person->height_cm,\n'
               '                         (unsigned long)person->age);')
        new = ('    PyObject *kept = Py_BuildValue("(kk)", '
               '(unsigned long)person->height_cm,\n'
               '                                   (unsigned long)person->age);'
               '\n    Py_XINCREF(kept);\n    return kept;')
        stage, tmp = solution_with(4, old, new)
        with tmp:
            out = Path(tmp.name) / "build"
            ok, log = exercise.build(stage, tmp.name, out, quick=True)
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
                _, tmp = solution_with(stage.name[:2], None, None)
                with tmp:
                    status, output = run_check(stage, tmp,
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
