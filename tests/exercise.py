"""The exercise harness behind `make check-N` and `make exercises`.

Every stage has an exercise/ folder: a skeleton of the stage's C-API module
in which some function bodies are left for you.  Unfinished parts raise
NotImplementedError saying what to write.  The skeleton is built into
<stage>/exercise/build (never over the reference build) and the stage's
contract (the test classes a test module lists in its EXERCISE variable)
runs against it in a child process, so a crash in your C cannot take the
checker down with it.

    python3 tests/exercise.py check 1      # make check-1
    python3 tests/exercise.py progress     # make exercises
    python3 tests/exercise.py selftest 1   # used by make test (JSON out)
"""

import argparse
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import traceback
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import support  # noqa: E402


def exercise_stages():
    return [s for s in support.stages() if (s / "exercise").is_dir()]


def build(stage, src, out):
    """Build the skeleton in `src` into `out`; return (ok, compiler output)."""
    proc = subprocess.run(
        ["make", "-s", "--no-print-directory", "-C", str(stage), "exercise",
         "EX_SRC=%s" % src, "EX_BUILD=%s" % out, "PYTHON=" + support.PYTHON],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return proc.returncode == 0, proc.stdout


def contract_classes(stage):
    """The road classes the stage's test modules offer for the exercise."""
    number = stage.name[:2]
    classes = []
    for path in sorted(support.TESTS.glob("test_%s_*.py" % number)):
        module = importlib.import_module(path.stem)
        for name in getattr(module, "EXERCISE", ()):
            classes.append(getattr(module, name))
    return classes


# --- child: run the contract, one JSON line per event ----------------------

class _Recorder(unittest.TestResult):
    def __init__(self, sink):
        super().__init__()
        self.sink = sink

    def _emit(self, **event):
        self.sink.write(json.dumps(event) + "\n")
        self.sink.flush()

    def startTest(self, test):
        super().startTest(test)
        self._emit(event="start", test=test.id())

    def addSuccess(self, test):
        self._emit(event="pass", test=test.id())

    def _bad(self, test, err, kind):
        exc_type, exc, tb = err
        self._emit(event=kind, test=test.id(), type=exc_type.__name__,
                   message=str(exc),
                   text="".join(traceback.format_exception(exc_type, exc, tb)))

    def addFailure(self, test, err):
        self._bad(test, err, "fail")

    def addError(self, test, err):
        self._bad(test, err, "error")

    def addSubTest(self, test, subtest, err):
        # A failing subTest fails its test: report it, or the checker
        # could call an exercise complete while one case still fails.
        if err is not None:
            kind = "fail" if issubclass(err[0], test.failureException) \
                else "error"
            self._bad(subtest, err, kind)

    def addSkip(self, test, reason):
        self._emit(event="skip", test=test.id(), message=reason)


def child(stage_name, results):
    stage = support.stage_dir(stage_name)
    suite = unittest.TestSuite()
    for cls in contract_classes(stage):
        suite.addTests(unittest.defaultTestLoader.loadTestsFromTestCase(cls))
    with open(results, "w") as sink:
        suite.run(_Recorder(sink))


def run_contract(stage, build_dir):
    """Run the stage's exercise contract against `build_dir` in a child.

    Returns a dict: passed/failed lists, the exit description, crashed flag
    and the test that was running when a crash happened.
    """
    with tempfile.TemporaryDirectory() as tmp:
        results = Path(tmp) / "results.jsonl"
        env = support.child_env(FFI_BUILD=str(build_dir))
        proc = subprocess.run(
            [support.PYTHON, "-X", "faulthandler", __file__, "_child",
             stage.name, str(results)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, timeout=600)
        events = [json.loads(line) for line in
                  results.read_text().splitlines()] if results.exists() else []
    report = {"stage": stage.name, "exit": support.describe_exit(proc.returncode),
              "crashed": proc.returncode != 0, "output": proc.stdout,
              "passed": [], "failed": [], "skipped": [], "running": None}
    failed_ids = {e["test"].split(" ")[0] for e in events
                  if e["event"] in ("fail", "error")}
    for event in events:
        if event["event"] == "start":
            report["running"] = event["test"]
        elif event["event"] == "pass":
            # A test whose subTest failed is not a pass.
            if event["test"] not in failed_ids:
                report["passed"].append(event["test"])
        elif event["event"] == "skip":
            report["skipped"].append(event)
        else:
            report["failed"].append(event)
    finished = {e["test"].split(" ")[0] for e in events
                if e["event"] != "start"}
    if report["running"] in finished:
        report["running"] = None
    return report


def hint_for(stage, test_id):
    """A hint from <stage>/exercise/hints.txt ('test_name: hint' lines)."""
    hints = stage / "exercise" / "hints.txt"
    if not hints.is_file():
        return None
    method = test_id.rsplit(".", 1)[-1]
    for line in hints.read_text().splitlines():
        name, _, text = line.partition(":")
        if name.strip() == method:
            return text.strip()
    return None


def short(test_id):
    return test_id.rsplit(".", 1)[-1]


# --- commands ----------------------------------------------------------------

def check(stage_name):
    stage = support.stage_dir(stage_name)
    out = stage / "exercise" / "build"
    print("Checking the exercise of %s (edit %s/exercise/*.c)"
          % (stage.name, stage.name))
    ok, log = build(stage, stage / "exercise", out)
    if not ok:
        print(log.rstrip())
        print("\nThe skeleton does not compile: fix the first error above.")
        return 1
    report = run_contract(stage, out)
    for test in report["passed"]:
        print("  ok    %s" % short(test))
    for event in report["failed"]:
        print("  FAIL  %s: %s" % (short(event["test"]), event["type"]))
    total = len(report["passed"]) + len(report["failed"])
    if report["crashed"] and report["running"]:
        print("\nCRASH: the interpreter was %s while running %s."
              % (report["exit"], short(report["running"])))
        print(report["output"].rstrip()[-2000:])
        print("A crash is a bug in the C code: look at what that test calls.")
        return 1
    print("\n%d of %d checks pass." % (len(report["passed"]), total))
    if not report["failed"]:
        print("Exercise %s is complete.  Well done." % stage.name)
        return 0
    first = report["failed"][0]
    print("\nFirst failure: %s\n  %s: %s"
          % (short(first["test"]), first["type"], first["message"]))
    hint = hint_for(stage, first["test"])
    if hint:
        print("Hint: %s" % hint)
    if first["type"] != "NotImplementedError":
        print("\nFull traceback:\n" + first["text"].rstrip())
    return 1


def progress():
    print("%-20s %8s  %s" % ("stage", "passed", "status"))
    for stage in exercise_stages():
        out = stage / "exercise" / "build"
        ok, _ = build(stage, stage / "exercise", out)
        if not ok:
            print("%-20s %8s  %s" % (stage.name, "-", "does not compile"))
            continue
        report = run_contract(stage, out)
        passed, total = len(report["passed"]), (len(report["passed"])
                                                + len(report["failed"]))
        if report["crashed"] and report["running"]:
            status = "crashes (make check-%s)" % stage.name[:2].lstrip("0")
        elif passed == total:
            status = "done"
        elif all("NotImplementedError" in f["text"]
                 for f in report["failed"]):
            status = "to do"
        else:
            status = "in progress"
        print("%-20s %5d/%-3d %s" % (stage.name, passed, total, status))
    return 0


def pristine_copy(stage, into):
    """Copy the skeleton as it is in git (or on disk, outside a checkout)."""
    rel = "%s/exercise" % stage.name
    git = shutil.which("git")
    if git and subprocess.run([git, "-C", str(support.ROOT), "rev-parse"],
                              capture_output=True).returncode == 0:
        changed = subprocess.run(
            [git, "-C", str(support.ROOT), "status", "--porcelain", "--", rel],
            capture_output=True, text=True).stdout.strip()
        tracked = subprocess.run(
            [git, "-C", str(support.ROOT), "ls-files", "--", rel],
            capture_output=True, text=True).stdout.strip()
        if changed and tracked:
            archive = subprocess.run(
                [git, "-C", str(support.ROOT), "archive", "HEAD", rel],
                capture_output=True, check=True).stdout
            subprocess.run(["tar", "-x", "-C", str(into)], input=archive,
                           check=True)
            return into / rel
    target = into / rel
    shutil.copytree(stage / "exercise", target,
                    ignore=shutil.ignore_patterns("build"))
    return target


def selftest(stage_name):
    """Build the pristine skeleton in a temporary folder and run the
    contract on it; print the report as JSON (tests/test_exercises.py)."""
    stage = support.stage_dir(stage_name)
    with tempfile.TemporaryDirectory() as tmp:
        src = pristine_copy(stage, Path(tmp))
        out = Path(tmp) / "build"
        ok, log = build(stage, src, out)
        if not ok:
            print(json.dumps({"built": False, "log": log}))
            return 0
        report = run_contract(stage, out)
        report["built"] = True
        print(json.dumps(report))
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description="exercise harness")
    parser.add_argument("command",
                        choices=["check", "progress", "selftest", "_child"])
    parser.add_argument("args", nargs="*")
    args = parser.parse_args(argv)
    if args.command == "check":
        return check(args.args[0])
    if args.command == "progress":
        return progress()
    if args.command == "selftest":
        return selftest(args.args[0])
    return child(*args.args)


if __name__ == "__main__":
    sys.exit(main())
