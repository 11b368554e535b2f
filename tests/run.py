"""Run the test suite and end with one line: `N passed, N failed, N skipped`.

    python3 tests/run.py                      # every tests/test_*.py
    python3 tests/run.py tests/test_01_*.py   # some files
    python3 tests/run.py -v                   # one line per test

Skips are listed with their reason.  The exit status is 1 if anything
failed or errored, else 0.  The same files also run under pytest.
"""

import argparse
import sys
import time
import unittest
from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))


class CountingResult(unittest.TextTestResult):
    """A TextTestResult that also counts the tests that passed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.passed = 0

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed += 1


def load(files):
    loader = unittest.TestLoader()
    if not files:
        return loader.discover(str(TESTS), pattern="test_*.py",
                               top_level_dir=str(TESTS))
    suite = unittest.TestSuite()
    for name in files:
        path = Path(name).resolve()
        suite.addTests(loader.discover(str(path.parent), pattern=path.name,
                                       top_level_dir=str(TESTS)))
    return suite


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", help="test files (default: all)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)

    suite = load(args.files)
    runner = unittest.TextTestRunner(stream=sys.stderr,
                                     verbosity=2 if args.verbose else 1,
                                     resultclass=CountingResult)
    started = time.monotonic()
    result = runner.run(suite)
    elapsed = time.monotonic() - started

    if result.skipped:
        reasons = Counter(reason for _, reason in result.skipped)
        print("\nskipped:", file=sys.stderr)
        for reason, count in sorted(reasons.items()):
            print("  %3d x %s" % (count, reason), file=sys.stderr)
    failed = (len(result.failures) + len(result.errors)
              + len(result.unexpectedSuccesses))
    if result.testsRun == 0:
        print("no test ran: is tests/ empty?", file=sys.stderr)
        failed += 1
    sys.stderr.flush()
    print("(%.1f s)" % elapsed)
    print("%d passed, %d failed, %d skipped"
          % (result.passed + len(result.expectedFailures), failed,
             len(result.skipped)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
