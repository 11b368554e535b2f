"""Claims the chapters make about Python, C and the tools, checked here so
that a chapter cannot drift into saying something false.

* No chapter shows an absolute value of sys.getrefcount (see
  refcount_problems() for exactly what is checked).
* docs/01: without `extern`, a variable defined in a header is one
  definition per file: the link fails (GCC 10+, Clang 11+), -fcommon
  merges the copies, and only `static` gives each file its own (checked
  with the compiler in $CC, default cc).
* docs/01: embed.c reports a missing sys.path in words (PySys_GetObject
  sets no exception, so there is no traceback to print).
* docs/01: on Linux, ffi.callback puts its trampoline in a page that is
  readable, writable and executable at once.
* docs/02: where C returns inf or NaN, Python raises.
* docs/05: every number of its Speed tables is the one the two recorded
  runs of `make -C 05-logger bench` printed, rounded as shown, and each
  aim is called met or missed as the run said.
* docs/07: every cost and module size it quotes is one the recorded
  `make bench` run printed, the run's settings and the binding libraries'
  versions it names are the recorded (and pinned) ones, and what its prose
  says about that run (which road is cheaper than which) is true of it.
"""
import concurrent.futures
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import support  # first: it puts tests/harness/ on sys.path
import excerpts


# --- sys.getrefcount: changes, never absolute values ----------------------

# CPython promises nothing about the value of sys.getrefcount "other than a
# value of 0 or 1" (the sys documentation); since 3.12 immortal objects
# (PEP 683) have a huge fixed count.  So a chapter may show how a count
# changes, not what it is.

# A count named in prose or output, followed by an unsigned number.
_COUNT_VALUE = re.compile(
    r"(?:\bgetrefcount\([^()]*\)|\bref(?:erence)?[ _-]?counts?\b)`?"
    r"\s*(?:is|was|of|becomes|=|:|->|→)?\s*"
    r"(?<![+\-\d.])(\d+)(?!\.?\d)", re.IGNORECASE)
# What may follow a getrefcount(...) call in code: a subtraction, or a
# comparison with a named baseline.
_RELATIVE_USE = re.compile(r"\s*(?:-|==|!=|,)\s*[A-Za-z_]")
# What may precede it: `name = ` (a baseline), and the call ends the line.
_BASELINE = re.compile(r"(?:^|\n)[ \t]*[A-Za-z_]\w*[ \t]*=[ \t]*(?:sys\.)?$")
_CODE_LANGUAGES = {"python", "py", "pycon", "c", "cpp"}
_FENCE = re.compile(r"^(```+|~~~+)\s*([\w+-]*)")


def _segments(text):
    """Yield (kind, first line number, text) for the prose between fences
    and for each fenced block; kind is 'prose', 'code' or 'output'."""
    lines = text.splitlines()
    i, start = 0, 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        yield "prose", start + 1, "\n".join(lines[start:i])
        fence, language = match.group(1), match.group(2).lower()
        end = i + 1
        while end < len(lines) and lines[end].rstrip() != fence:
            end += 1
        kind = "code" if language in _CODE_LANGUAGES else "output"
        yield kind, i + 2, "\n".join(lines[i + 1:end])
        i = start = end + 1
    yield "prose", start + 1, "\n".join(lines[start:])


def _call_end(text, open_paren):
    depth = 0
    for k in range(open_paren, len(text)):
        if text[k] == "(":
            depth += 1
        elif text[k] == ")":
            depth -= 1
            if depth == 0:
                return k + 1
    return len(text)


def refcount_problems(text):
    """Where `text` (a chapter) shows an absolute reference count.

    Three checks, each reported as "line N: ...":
    1. Code blocks (python, c): every `getrefcount(...)` call is either a
       baseline, `name = sys.getrefcount(x)` with nothing after it on the
       line, or is followed by `-`, `==`, `!=` or `,` and a name (a
       difference, or a comparison with a baseline).
    2. Output blocks (text and any other fence): no "refcount",
       "reference count" or "getrefcount(...)" followed by an unsigned
       number other than 0 or 1; a change is printed with its sign (+1).
    3. Prose: the same rule as output blocks.
    """
    problems = []
    for kind, first_line, body in _segments(text):
        if kind == "code":
            for match in re.finditer(r"\bgetrefcount\(", body):
                end = _call_end(body, match.end() - 1)
                rest = body[end:].split("\n", 1)[0]
                before = body[:match.start()]
                baseline = (_BASELINE.search(before)
                            and not rest.split("#")[0].strip())
                if baseline or _RELATIVE_USE.match(rest):
                    continue
                line = first_line + body.count("\n", 0, match.start())
                problems.append("line %d: code uses the absolute value of "
                                "%s" % (line, body[match.start():end]))
            continue
        for match in _COUNT_VALUE.finditer(body.replace("`", "")):
            if match.group(1) in ("0", "1"):
                continue
            flat = body.replace("`", "")
            line = first_line + flat.count("\n", 0, match.start())
            problems.append("line %d: %s shows an absolute reference count: "
                            "%r" % (line, kind, match.group(0)))
    return problems


# The chapter 04 text before it printed changes, to show the check fails.
OLD_04 = '''`sys.getrefcount` shows each step. Its number is one higher than you
might expect, because the argument to `getrefcount` is a reference too:

```python
payload = ["any", "Python", "object"]
before = sys.getrefcount(payload)
slot = mod.registry_put(payload)        # C takes a strong reference
print("[py] registry_put: refcount %d -> %d"
      % (before, sys.getrefcount(payload)))
again = mod.registry_get(slot)          # a new reference for us
print("[py] registry_get: same object: %s, refcount %d"
      % (again is payload, sys.getrefcount(payload)))
```

```text
[py] registry_put: refcount 2 -> 3
[py] registry_get: same object: True, refcount 4
[py] registry_take and drop: refcount 2
```
'''


class TestNoAbsoluteRefcounts(unittest.TestCase):
    def test_no_chapter_shows_an_absolute_refcount(self):
        for chapter in excerpts.chapters():
            with self.subTest(chapter=chapter.name):
                self.assertEqual(refcount_problems(chapter.read_text()), [])

    def test_the_check_fails_on_absolute_counts(self):
        problems = refcount_problems(OLD_04)
        self.assertEqual(len(problems), 5, problems)
        self.assertTrue(problems[0].startswith("line 9: code"), problems)
        self.assertTrue(problems[2].startswith("line 16: output"), problems)
        self.assertIn("refcount 4", problems[3])

    def test_the_check_accepts_changes(self):
        ok = '''A count may change; 0 and 1 are promised values.

```python
before = sys.getrefcount(payload)
print("refcount %+d" % (sys.getrefcount(payload) - before))
self.assertEqual(sys.getrefcount(payload), before + 1)
```

```text
[py] registry_put: refcount +1
[py] registry_take and drop: refcount +0
```

When the reference count drops to 0 the object is freed, and a
refcount of 1 means only the caller holds it.
'''
        self.assertEqual(refcount_problems(ok), [])

    def test_the_check_finds_a_count_in_prose(self):
        self.assertEqual(len(refcount_problems(
            "Now `sys.getrefcount(x)` is 3, the reference count is 2.")), 2)


# --- docs/01: extern, tentative definitions and static --------------------

HEADER_VARIABLE = "%s int trace_calls;\n"
MAIN_C = '''#include <stdio.h>
#include "h.h"
void set(void);
int main(void) { set(); printf("%d\\n", trace_calls); return 0; }
'''
SET_C = '#include "h.h"\nvoid set(void) { trace_calls = 1; }\n'


class TestExternClaims(unittest.TestCase):
    """Two files include a header that defines `trace_calls` without
    `extern`; one sets it, the other prints it."""

    def build(self, cc, storage, flags=()):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            (folder / "h.h").write_text(HEADER_VARIABLE % storage)
            (folder / "a.c").write_text(MAIN_C)
            (folder / "b.c").write_text(SET_C)
            link = subprocess.run(
                [cc, *flags, "a.c", "b.c", "-o", "prog"], cwd=folder,
                capture_output=True, text=True)
            if link.returncode != 0:
                return link.returncode, link.stderr
            run = subprocess.run(["./prog"], cwd=folder,
                                 capture_output=True, text=True)
            return 0, run.stdout.strip()

    def test_without_extern(self):
        # The compiler this run builds with ($CC, as `make test CC=clang`
        # sets it): CI runs the suite once with gcc and once with clang.
        cc = os.environ.get("CC") or "cc"
        if shutil.which(cc) is None:
            self.skipTest("no compiler %r" % cc)
        about = subprocess.run([cc, "--version"], capture_output=True,
                               text=True).stdout
        version = subprocess.run([cc, "-dumpversion"], capture_output=True,
                                 text=True).stdout
        major = int(version.split(".")[0])
        strict = major >= (11 if "clang" in about else 10)
        # Three builds at once: each is a compile, a link and a run.
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            plain = pool.submit(self.build, cc, "")
            common = pool.submit(self.build, cc, "", ["-fcommon"])
            static = pool.submit(self.build, cc, "static")
            if strict:
                status, out = plain.result()
                self.assertNotEqual(status, 0)
                self.assertIn("multiple definition of `trace_calls'", out)
            # -fcommon merges the copies: the value set in b.c is seen.
            self.assertEqual(common.result(), (0, "1"))
            # static: one copy per file, the value set in b.c is not.
            self.assertEqual(static.result(), (0, "0"))


# --- docs/01: embed.c without sys.path ------------------------------------

class TestEmbedClaims(unittest.TestCase):
    def test_a_missing_sys_path_is_reported_in_words(self):
        program = support.build_dir(1) / "host" / "embed"
        if not program.is_file():
            self.skipTest("01-extern/host/embed is not built "
                          "(make -C 01-extern)")
        with tempfile.TemporaryDirectory() as tmp:
            # site imports sitecustomize after sys.path is set up.
            (Path(tmp) / "sitecustomize.py").write_text(
                "import sys\ndel sys.path\n")
            env = dict(os.environ, PYTHONPATH=tmp)
            proc = subprocess.run([str(program), "host"], env=env,
                                  capture_output=True, text=True,
                                  timeout=60, cwd=support.stage_dir(1))
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("[c host] error: sys.path does not exist", proc.stderr)
        self.assertIn("[c host] Python is finalised", proc.stdout)


# --- docs/01: ffi.callback and write+execute memory -----------------------

@unittest.skipUnless(sys.platform.startswith("linux"), "Linux only")
@unittest.skipUnless(support.have_cffi(), support.CFFI_MISSING)
class TestCallbackMemoryClaims(unittest.TestCase):
    def test_ffi_callback_maps_a_writable_executable_page(self):
        code = (
            "import cffi\n"
            "def rwx():\n"
            "    return sum(' rwxp ' in l for l in open('/proc/self/maps'))\n"
            "before = rwx()\n"
            "ffi = cffi.FFI()\n"
            "cb = ffi.callback('int(int)', lambda x: x + 1)\n"
            "print(before, rwx())\n")
        proc = subprocess.run([support.PYTHON, "-c", code],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        before, after = map(int, proc.stdout.split())
        self.assertGreater(after, before)


# --- docs/02: Python raises where C returns inf or NaN --------------------

@unittest.skipUnless(support.have_cffi(), support.CFFI_MISSING)
class TestFloatClaims(unittest.TestCase):
    def test_python_raises_where_c_returns_inf_or_nan(self):
        import cffi
        ffi = cffi.FFI()
        ffi.cdef("double pow(double, double); double exp(double);"
                 "double sqrt(double); double log(double);")
        try:
            libm = ffi.dlopen("libm.so.6")
        except OSError:
            self.skipTest("no libm.so.6")
        with self.assertRaises(ZeroDivisionError):
            1.0 / 0.0
        with self.assertRaises(OverflowError):
            1e308 ** 2
        self.assertEqual(libm.pow(1e308, 2), math.inf)
        with self.assertRaises(OverflowError):
            math.exp(1000)
        self.assertEqual(libm.exp(1000), math.inf)
        with self.assertRaises(ValueError):
            math.sqrt(-1.0)
        self.assertTrue(math.isnan(libm.sqrt(-1.0)))
        with self.assertRaises(ValueError):
            math.log(0.0)
        self.assertEqual(libm.log(0.0), -math.inf)
        # + - * do what C does: no exception.
        self.assertEqual(1e308 * 10, math.inf)
        self.assertTrue(math.isnan(math.inf * 0))



# --- docs/07: the costs quoted are the costs measured ------------------------

class TestWhenToFFIClaims(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        from test_bench import RECORDED, load_bench, parse_report
        text = RECORDED.read_text()
        tables, _ = parse_report(text)
        cls.median = {label: row[1] for rows in tables.values()
                      for label, row in rows.items() if row[0] == "row"}
        cls.titles = list(tables)
        cls.calls = next(rows for title, rows in tables.items()
                         if title.startswith("One call from Python"))
        cls.header = text.split("\n\n", 1)[0]
        sizes = re.search(r"^module size \(code and data loaded\): (.*)$",
                          cls.header, re.M)
        cls.size = {name: float(kb) for name, kb in re.findall(
            r"\s*([^,]+?) (\d+(?:\.\d+)?) KB", sizes.group(1))} if sizes else {}
        cls.bench = load_bench()
        cls.chapter = (excerpts.DOCS / "when-to-ffi.md").read_text()
        # The prose and the Markdown tables: the chapter without its fenced
        # blocks (those are checked against their sources by excerpts.py).
        cls.prose = re.sub(r"^```.*?^```$", "", cls.chapter,
                           flags=re.M | re.S)

    def section(self, heading):
        start = self.chapter.index("\n## %s\n" % heading)
        end = self.chapter.find("\n## ", start + 1)
        return self.chapter[start:end]

    def test_quoted_costs_are_recorded_medians(self):
        # Every cost and size the text quotes, anywhere outside a code
        # block, is one the recorded run printed, rounded as it printed.
        table = self.section("The alternatives side by side")
        self.assertGreaterEqual(
            len(re.findall(r"\d (?:ns|ms)\b", table)), 10, table)
        quoted = re.findall(r"(\d[\d,]*(?:\.\d+)?) (ns|ms|KB)\b",
                            self.prose)
        shown = set()
        for value in self.median.values():
            shown.add(("%.1f" % value if value < 100
                       else "{:,.0f}".format(value), "ns"))
            if value >= 1e5:
                shown.add(("%.1f" % (value / 1e6), "ms"))
        for kb in self.size.values():
            shown.add((self.bench._number(kb), "KB"))
        self.assertTrue(any(unit == "KB" for _, unit in quoted), quoted)
        for value, unit in quoted:
            with self.subTest(cost="%s %s" % (value, unit)):
                self.assertIn((value, unit), shown)

    def test_run_parameters(self):
        # "Each number is the median of 31 rounds", "1,000 times", "10,000
        # ints": the full run's settings, and the recorded run's.
        full = self.bench.FULL
        said = lambda pattern: int(re.search(pattern, self.prose)
                                   .group(1).replace(",", ""))
        self.assertEqual(said(r"the median of (\d+) rounds"), full["rounds"])
        self.assertIn("%d rounds, interleaved" % full["rounds"], self.header)
        self.assertEqual(said(r"a Python function ([\d,]+) times"),
                         full["callbacks"])
        self.assertIn("(%d calls per crossing)" % full["callbacks"],
                      "\n".join(self.titles))
        self.assertEqual(said(r"a list of ([\d,]+) ints"), full["elements"])
        self.assertIn("(%d elements per call)" % full["elements"],
                      "\n".join(self.titles))

    def test_versions_named_are_the_recorded_ones(self):
        # The chapter names the versions the recorded run was built with,
        # and those are the ones tests/requirements.txt pins.
        built = dict(re.findall(r"(Cython|pybind11|nanobind) (\S+?)(?:,|$)",
                                re.search(r"^binding libraries: (.*)$",
                                          self.header, re.M).group(1)))
        self.assertEqual(set(built), {"Cython", "pybind11", "nanobind"})
        pinned = dict(re.findall(r"^(Cython|pybind11|nanobind)==(\S+)",
                                 (support.TESTS / "requirements.txt")
                                 .read_text(), re.M))
        self.assertEqual(built, pinned)
        named = re.findall(r"\b(Cython|pybind11|nanobind) (\d+\.\d+\.\d+)\b",
                           self.prose)
        self.assertEqual({name for name, _ in named}, set(built), named)
        for name, version in named:
            with self.subTest(name=name):
                self.assertEqual(version, built[name])

    def test_what_the_prose_says_about_the_run(self):
        m = self.median
        python = m["Python function"]
        # "The fast conventions cost less than the pure-Python function"
        for row in ("C API, METH_NOARGS", "C API, METH_O",
                    "C API, METH_FASTCALL"):
            self.assertLess(m[row], python, row)
        # "ctypes with argtypes set is slower than without"
        self.assertGreater(m["ctypes, argtypes set"],
                           m["ctypes, no argtypes"])
        # nanobind's call and module cost less than pybind11's
        self.assertLess(m["nanobind"], m["pybind11"])
        self.assertLess(self.size["nanobind"], self.size["pybind11"])
        # road 1's callback is "no dearer than Python calling Python";
        # through cffi or ctypes it costs "several times more"; "cheap
        # only on road 1, Cython, pybind11 or nanobind" (under twice)
        baseline = m["Python calls a Python function"]
        self.assertLessEqual(m["C API, PyObject_CallOneArg"], baseline * 1.1)
        for row in ('cffi API mode, extern "Python"',
                    "cffi ABI mode, ffi.callback", "ctypes, CFUNCTYPE"):
            self.assertGreater(m[row], 2 * baseline, row)
        for row in ("Cython, cdef function", "pybind11, std::function",
                    "nanobind, std::function"):
            self.assertLess(m[row], 2 * baseline, row)
        # copying through cffi or ctypes costs more per element than
        # adding up the list in Python; road 1 and Cython copy cheaply
        loop = m["Python for loop over a list"]
        for row in ("cffi API mode, ffi.new copy",
                    "cffi ABI mode, ffi.new copy", "ctypes, array copy"):
            self.assertGreater(m[row], loop, row)
        for row in ("C API, list copied", "Cython, list copied",
                    "nanobind, std::vector copy"):
            self.assertLess(m[row], loop / 2, row)
        # the pipe costs "the time of about a hundred Python function
        # calls": the words fit the recorded ratio
        words = re.search(r"the time of (.+?) Python function calls",
                          self.prose).group(1)
        low, high = {"dozens of": (12, 50), "about a hundred": (50, 200),
                     "hundreds of": (200, 2000),
                     "thousands of": (2000, 20000)}[words]
        ratio = (m["a line to cat through a pipe, and back"]
                 / m["Python function (as in the first table)"])
        self.assertTrue(low <= ratio < high, (words, ratio))
        # a call across costs "tens to hundreds of nanoseconds"
        across = [m[row] for row in self.calls
                  if not row.startswith(("Python", "empty"))]
        self.assertTrue(across and all(10 <= c < 1000 for c in across),
                        across)


# --- docs/05: the Speed tables are the recorded runs ---------------------------

LOGGER_RUNS = support.ROOT / "05-logger" / "bench" / "measured-output.txt"
PER_CALL = re.compile(r"^  (?P<label>\S.*?)\s{2,}(?P<ns>\d+\.\d)$")
RATIO = re.compile(r"^\s+(?P<label>\S.*?)\s{2,}(?P<ratio>\d+\.\d\d)x"
                   r"\s+\[(?P<aim>[<>]= [\d.]+)\] (?P<verdict>met|MISSED)$")


def logger_runs(text):
    """[([per-call ns], [(ratio, aim, verdict)])] for each recorded run of
    05-logger/bench/bench.py, in the order it printed them."""
    runs = []
    for chunk in text.split("Stage 05 benchmarks")[1:]:
        lines = chunk.splitlines()
        costs = [float(m["ns"]) for m in map(PER_CALL.match, lines) if m]
        ratios = [(float(m["ratio"]), m["aim"], m["verdict"])
                  for m in map(RATIO.match, lines) if m]
        runs.append((costs, ratios))
    return runs


def table_after(text, heading_cell):
    """The rows (lists of cells) of the Markdown table whose header row
    starts with `heading_cell`."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines)
                 if line.startswith("| %s |" % heading_cell))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


class TestLoggerSpeedClaims(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.runs = logger_runs(LOGGER_RUNS.read_text())
        chapter = (excerpts.DOCS / "05-logger.md").read_text()
        cls.speed = chapter[chapter.index("\n## Speed\n"):]

    def test_two_whole_runs_are_recorded(self):
        self.assertEqual(len(self.runs), 2)
        for costs, ratios in self.runs:
            self.assertEqual((len(costs), len(ratios)), (9, 8))

    def test_per_call_table_is_the_runs(self):
        rows = table_after(self.speed, "per call")
        self.assertEqual(len(rows), 9)
        for i, row in enumerate(rows):
            for run, cell in enumerate(row[1:3]):
                ns = self.runs[run][0][i]
                shown = "%.1f" % ns if ns < 100 else "%.0f" % ns
                with self.subTest(row=row[0], run=run + 1):
                    self.assertEqual(cell, shown)

    def test_ratio_table_is_the_runs_and_their_verdicts(self):
        rows = table_after(self.speed, "ratio, road 1")
        self.assertEqual(len(rows), 8)
        for i, row in enumerate(rows):
            got = [self.runs[run][1][i] for run in (0, 1)]
            for run, cell in enumerate(row[1:3]):
                ratio = got[run][0]
                shown = ("%.2fx" if ratio < 10 else "%.0fx") % ratio
                with self.subTest(row=row[0], run=run + 1):
                    self.assertEqual(cell, shown)
            aim = got[0][1].replace(">=", "\u2265").replace("<=", "\u2264")
            verdicts = [verdict for _, _, verdict in got]
            with self.subTest(row=row[0], column="aim"):
                if verdicts == ["met", "met"]:
                    self.assertEqual(row[3], aim + ", met")
                else:
                    self.assertEqual(row[3], aim + ", " + ", ".join(
                        "%s in run %d" % (v.lower(), n + 1)
                        for n, v in enumerate(verdicts)))


if __name__ == "__main__":
    unittest.main()
