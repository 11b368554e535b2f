"""make bench runs: every row of 01-extern/crossing/bench.py gives a number
(or, for an optional tool, says why not), every chart is a well-formed
Mermaid xychart-beta block, and the recorded run that chapter 07 shows is
complete.  `bench.py --quick` takes well under a second: it proves the rows
run, it measures nothing."""
import importlib.util
import re
import subprocess
import unittest

import support

CROSSING = support.ROOT / "01-extern" / "crossing"
RECORDED = CROSSING / "measured-output.txt"
OPTIONAL_ROADS = {"cython", "pybind11"}
CFFI_ROADS = {"cffi-api", "cffi-abi"}

ROW = re.compile(r"^(?P<label>\S.*?)\s{2,}(?P<median>\d+(?:\.\d+)?)\s+"
                 r"(?P<q1>\d+(?:\.\d+)?)-(?P<q3>\d+(?:\.\d+)?)\s+"
                 r"(?P<ratio>\d+(?:\.\d+)?)$")
SKIPPED = re.compile(r"^(?P<label>\S.*?)\s{2,}-\s+skipped: (?P<reason>.+)$")


def load_bench():
    spec = importlib.util.spec_from_file_location("bench",
                                                  CROSSING / "bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse_report(text):
    """({table title: {label: ('row', median, q1, q3, ratio) or
    ('skipped', reason)}}, [chart lines]) of one bench.py report."""
    tables, charts, title = {}, [], None
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("== ") and line.endswith(" =="):
            title = line[3:-3]
            tables[title] = {}
        elif line == "```mermaid":
            end = lines.index("```", i + 1)
            charts.append(lines[i + 1:end])
            i = end
            title = None
        elif title is not None and line and not line.startswith("row "):
            match = ROW.match(line)
            if match:
                tables[title][match["label"]] = (
                    "row", float(match["median"]), float(match["q1"]),
                    float(match["q3"]), float(match["ratio"]))
            else:
                match = SKIPPED.match(line)
                if match is None:
                    raise ValueError("not a row: %r" % line)
                tables[title][match["label"]] = ("skipped", match["reason"])
        i += 1
    return tables, charts


def _quoted_list(text):
    return re.findall(r'"([^"]*)"', text)


def chart_problems(chart):
    """What is wrong with one xychart-beta block (its lines, no fences)."""
    problems = []
    if not chart or not re.match(r"^xychart-beta( horizontal)?$", chart[0]):
        return ["does not start with xychart-beta: %r" % chart[:1]]
    fields = {}
    for line in chart[1:]:
        key = line.strip().split(" ", 1)[0]
        fields[key] = line.strip()[len(key):].strip()
    for key in ("title", "x-axis", "y-axis", "bar"):
        if key not in fields:
            problems.append("no %s line" % key)
    if problems:
        return problems
    if not re.fullmatch(r'"[^"]+"', fields["title"]):
        problems.append("title is not one quoted string")
    axis = re.fullmatch(r"\[(.*)\]", fields["x-axis"])
    bars = re.fullmatch(r"\[(.*)\]", fields["bar"])
    y_axis = re.fullmatch(r'"[^"]+" (\d+(?:\.\d+)?) --> (\d+(?:\.\d+)?)',
                          fields["y-axis"])
    if not (axis and bars and y_axis):
        return problems + ["x-axis, y-axis or bar is malformed"]
    labels = _quoted_list(axis.group(1))
    if ", ".join('"%s"' % label for label in labels) != axis.group(1):
        problems.append("x-axis labels are not a list of quoted strings")
    values = [float(v) for v in bars.group(1).split(", ")]
    if len(labels) != len(values) or not values:
        problems.append("%d labels for %d bars" % (len(labels), len(values)))
    low, high = float(y_axis.group(1)), float(y_axis.group(2))
    if not low <= min(values) or not max(values) <= high:
        problems.append("bars outside the y-axis range")
    return problems


class TestChartCheck(unittest.TestCase):
    """The chart check itself can fail."""

    GOOD = ['xychart-beta horizontal', '    title "t"',
            '    x-axis ["a", "b"]', '    y-axis "ns" 0 --> 100',
            '    bar [1.5, 90]']

    def test_accepts_a_good_chart(self):
        self.assertEqual(chart_problems(self.GOOD), [])

    def test_finds_what_is_wrong(self):
        self.assertTrue(chart_problems(["graph LR"] + self.GOOD[1:]))
        self.assertTrue(chart_problems(self.GOOD[:4] + ["    bar [1.5]"]))
        self.assertTrue(chart_problems(self.GOOD[:4] + ["    bar [1, 900]"]))
        self.assertTrue(chart_problems(self.GOOD[:2] + ['    x-axis [a, b]']
                                       + self.GOOD[3:]))
        self.assertTrue(chart_problems(self.GOOD[:3] + self.GOOD[4:]))


class TestBench(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The core modules only: Cython and pybind11 take seconds to
        # compile, so their rows run here only when make bench built them.
        code, out = cls._make_core()
        if code != 0:
            raise AssertionError("make -C 01-extern/crossing core:\n" + out)
        cls.bench = load_bench()
        proc = subprocess.run([support.PYTHON, str(CROSSING / "bench.py"),
                               "--quick"], capture_output=True, text=True,
                              timeout=60)
        cls.proc = proc
        cls.tables, cls.charts = ({}, []) if proc.returncode else \
            parse_report(proc.stdout)

    @staticmethod
    def _make_core():
        # Make starts the interpreter several times to ask it about
        # itself: skip it when every core product is newer than its sources.
        products = [CROSSING / ("crossing_capi" + support.EXT_SUFFIX),
                    CROSSING / "libcrossing.so"]
        if support.have_cffi():
            products.append(CROSSING / ("_crossing_cffi" + support.EXT_SUFFIX))
        sources = [CROSSING / name for name in (
            "crossing_capi.c", "crossing_lib.c", "crossing_lib.h",
            "build_crossing_cffi.py", "Makefile")]
        if all(p.is_file() for p in products) and \
                min(p.stat().st_mtime for p in products) >= \
                max(p.stat().st_mtime for p in sources):
            return 0, ""
        proc = subprocess.run(
            ["make", "-s", "--no-print-directory", "-C", str(CROSSING),
             "core", "PYTHON=" + support.PYTHON],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            timeout=300)
        return proc.returncode, proc.stdout

    def specs(self):
        rows, _, _ = self.bench._rows(self.bench.QUICK)
        return rows

    def test_quick_run_succeeds(self):
        self.assertEqual(self.proc.returncode, 0,
                         support.describe_exit(self.proc.returncode)
                         + "\n" + self.proc.stderr[-3000:])

    def test_every_row_runs_or_says_why(self):
        titles = list(self.tables)
        self.assertEqual(len(titles), len(self.bench.TABLES), titles)
        by_table = dict(zip(self.bench.TABLES, titles))
        for table, road, label, *_ in self.specs():
            with self.subTest(row=label):
                got = self.tables[by_table[table]].get(label)
                self.assertIsNotNone(got, "row missing from the report")
                if got[0] == "row":
                    median, q1, q3, ratio = got[1:]
                    self.assertLessEqual(q1, median)
                    self.assertLessEqual(median, q3)
                    continue
                reason = got[1]
                if road in CFFI_ROADS:
                    self.assertFalse(support.have_cffi(), reason)
                    self.assertIn("cffi", reason)
                else:
                    self.assertIn(road, OPTIONAL_ROADS,
                                  "a core row was skipped: " + reason)
                    self.assertTrue(reason.strip())

    def test_ratios_refer_to_the_pure_python_row(self):
        for title, rows in self.tables.items():
            with self.subTest(table=title):
                first = next(iter(rows.values()))
                self.assertEqual(first[0], "row")
                self.assertEqual(first[4], 1.0)

    def test_every_chart_is_well_formed(self):
        self.assertEqual(len(self.charts), len(self.bench.CHARTS))
        for chart, (title, rows) in zip(self.charts, self.tables.items()):
            with self.subTest(table=title):
                self.assertEqual(chart_problems(chart), [])
                measured = [r for r in rows.values() if r[0] == "row"]
                bars = re.search(r"bar \[(.*)\]", "\n".join(chart)).group(1)
                self.assertEqual(len(bars.split(", ")), len(measured))


class TestRecordedRun(unittest.TestCase):
    """The run chapter 07 shows: every row measured, every chart sound."""

    def test_recorded_run_is_complete(self):
        tables, charts = parse_report(RECORDED.read_text())
        bench = load_bench()
        rows, _, _ = bench._rows(bench.QUICK)
        labels = {label for rows_ in tables.values() for label in rows_}
        for table, road, label, *_ in rows:
            with self.subTest(row=label):
                self.assertIn(label, labels)
        for title, rows_ in tables.items():
            for label, got in rows_.items():
                with self.subTest(table=title, row=label):
                    self.assertEqual(got[0], "row", got)
        self.assertEqual(len(charts), len(bench.CHARTS))
        for chart in charts:
            self.assertEqual(chart_problems(chart), [])


if __name__ == "__main__":
    unittest.main()
