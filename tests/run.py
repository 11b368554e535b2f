"""Run the test suite: one line per file, then `N passed, N failed, N skipped`.

    python3 tests/run.py                      # the suite (`make test`)
    python3 tests/run.py --gates              # the gate files (`make gates`)
    python3 tests/run.py tests/test_01_*.py   # some files
    python3 tests/run.py -v                   # and one line per test

The suite is every tests/test_*.py except tests/test_gate_*.py; --gates
runs only those (the slow checks: reference leaks, hostile and stateful
sweeps, the canary).  Files named on the command line run whatever their
name.  Each file's line gives its counts and its time as soon as it ends;
failures are printed after their file's line, skips are listed at the end
with their reasons.  The exit status is 1 if anything failed or errored,
else 0.  The same files also run under pytest, unchanged.
"""

import argparse
import io
import sys
import time
import unittest
from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))

GATE_PREFIX = "test_gate_"


class CountingResult(unittest.TextTestResult):
    """A TextTestResult that also counts the tests that passed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.passed = 0

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed += 1


def test_files(gates):
    """The suite's files, or with gates=True the gate files, sorted."""
    return [path for path in sorted(TESTS.glob("test_*.py"))
            if path.name.startswith(GATE_PREFIX) == gates]


def load(path):
    """The tests of one file (an import error becomes a failing test)."""
    return unittest.TestLoader().discover(str(path.parent), pattern=path.name,
                                          top_level_dir=str(TESTS))


def counts(passed, failed, skipped):
    text = "%d passed" % passed
    if failed:
        text += ", %d FAILED" % failed
    if skipped:
        text += ", %d skipped" % skipped
    return text


class Watched:
    """A stream that notes whether anything was written to it."""

    def __init__(self, stream):
        self.stream, self.written, self.midline = stream, False, False

    def write(self, text):
        if text:
            self.written, self.midline = True, not text.endswith("\n")
        return self.stream.write(text)

    def __getattr__(self, name):
        return getattr(self.stream, name)


def run_file(path, verbose, out):
    """Run one file; print its line (and its failures).  Returns its
    result and its time."""
    name = path.name
    if verbose:
        print(name, file=out, flush=True)
        stream = out
    else:
        # The name first, the rest when the file ends: a slow file shows
        # which one is running.
        print("%-32s " % name, end="", file=out, flush=True)
        stream = io.StringIO()
    runner = unittest.TextTestRunner(stream=stream,
                                     verbosity=2 if verbose else 0,
                                     resultclass=CountingResult)
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = Watched(sys.stdout), Watched(sys.stderr)
    started = time.monotonic()
    try:
        result = runner.run(load(path))
    finally:
        seconds = time.monotonic() - started
        interrupted = sys.stdout.written or sys.stderr.written
        midline = sys.stdout.midline or sys.stderr.midline
        sys.stdout, sys.stderr = saved
    failed = failures(result)
    line = "%-40s %6.1f s" % (counts(passed(result), len(failed),
                                     len(result.skipped)), seconds)
    if verbose or interrupted:
        # A test printed something: the line names its file again.
        print("%s%-32s %s" % ("\n" if midline else "", name, line),
              file=out, flush=True)
    else:
        print(line, file=out, flush=True)
        if failed:
            # unittest's own report: each failure with its traceback.
            report = stream.getvalue()
            start = max(report.find("=" * 70), 0)
            end = report.rfind("-" * 70 + "\nRan ")
            print(report[start:end if end > start else None].rstrip("\n")
                  + "\n", file=out, flush=True)
    return result, seconds


def passed(result):
    return result.passed + len(result.expectedFailures)


def failures(result):
    """(test, text) of every failure, error and unexpected success."""
    return (result.failures + result.errors
            + [(test, "unexpected success")
               for test in result.unexpectedSuccesses])


def short_id(test):
    """'TestCapi.test_add' (and a sub-test's parameters) for a test."""
    text = test.id()
    module = type(getattr(test, "test_case", test)).__module__ + "."
    return text[len(module):] if text.startswith(module) else text


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*",
                        help="test files (default: every test_*.py that is "
                             "not a gate)")
    parser.add_argument("--gates", action="store_true",
                        help="run the gate files, tests/test_gate_*.py")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)

    paths = ([Path(name).resolve() for name in args.files] if args.files
             else test_files(args.gates))
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        parser.error("no such test file: %s" % ", ".join(missing))
    out = sys.stdout
    total_passed, failed, skipped = 0, [], Counter()
    started = time.monotonic()
    for path in paths:
        result, _ = run_file(path, args.verbose, out)
        total_passed += passed(result)
        failed += [(path.name, short_id(test))
                   for test, _ in failures(result)]
        for _, reason in result.skipped:
            skipped[(reason, path.name)] += 1
    elapsed = time.monotonic() - started

    if skipped:
        print("\nskipped:", file=out)
        reasons = sorted({reason for reason, _ in skipped})
        for reason in reasons:
            where = [(name, count) for (why, name), count
                     in sorted(skipped.items()) if why == reason]
            print("  %3d x %s" % (sum(c for _, c in where), reason), file=out)
            print("        in %s" % ", ".join(
                "%s (%d)" % item if item[1] > 1 else item[0]
                for item in where), file=out)
    if failed:
        print("\nfailed:", file=out)
        for name, test in failed:
            print("  %s: %s" % (name, test), file=out)
    if total_passed + len(failed) + sum(skipped.values()) == 0:
        print("no test ran: is tests/ empty?", file=out)
        failed.append(("tests/", "no test"))
    print("(%d files, %.1f s)" % (len(paths), elapsed), file=out)
    print("%d passed, %d failed, %d skipped"
          % (total_passed, len(failed), sum(skipped.values())), file=out)
    out.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
