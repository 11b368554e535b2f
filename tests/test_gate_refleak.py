"""Quality gate: reference leaks, in the spirit of CPython's `regrtest -R`.

For every public module of every stage (tests/gate/api.py finds them), a
child interpreter (tests/gate/refleak_child.py) runs each public function
and method with its hostile-input table, and each contract class of the
stage's tests on that module, in a loop after a warm-up, and reads the
counters after each run.  Any unit whose counters grew on EVERY measured
run leaks.

Which check runs (printed once when this file starts):

* A debug interpreter (Debian: sudo apt-get install python3-dbg) of the
  same Python version: the stage is built for it into <stage>/build-refleak-dbg
  and the C-API modules are measured with sys.gettotalrefcount() (every
  reference in the process) and sys.getallocatedblocks().  cffi modules
  get the fallback below even there: _cffi_backend is a release build,
  whose reference counting the debug total does not see.
* Otherwise the fallback: sys.getrefcount() of every object passed in (and
  of a returned object when the same one comes back) plus
  sys.getallocatedblocks(), on the normal build.

The check proves it can fail: gate_canary.leak_ref (tests/gate/canary),
which keeps a reference to its argument, must be reported.
"""
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import support

sys.path.insert(0, str(support.TESTS / "gate"))
import api  # noqa: E402

CHILD = support.TESTS / "gate" / "refleak_child.py"
DBG_BUILD = "build-refleak-dbg"
DBG_MISSING = ("no debug interpreter for Python %d.%d (install: sudo apt-get "
               "install python3-dbg)" % sys.version_info[:2])


def find_debug_python():
    """A debug interpreter of this Python's version, or None."""
    if hasattr(sys, "gettotalrefcount"):
        return sys.executable
    major, minor = sys.version_info[:2]
    for name in ("python%d.%d-dbg" % (major, minor), "python%d-dbg" % major,
                 "python%d.%dd" % (major, minor)):
        path = shutil.which(name)
        if not path:
            continue
        probe = subprocess.run(
            [path, "-c", "import sys; print(sys.version_info[:2], "
             "hasattr(sys, 'gettotalrefcount'))"],
            capture_output=True, text=True)
        if probe.stdout.strip() == "(%d, %d) True" % (major, minor):
            return path
    return None


DEBUG_PYTHON = find_debug_python()
_built = {}


def debug_build(stage_dir):
    """Build a stage for the debug interpreter; None if that fails."""
    if stage_dir not in _built:
        has_cffi = subprocess.run(
            [DEBUG_PYTHON, "-c", "import cffi"],
            capture_output=True).returncode == 0
        proc = subprocess.run(
            ["make", "-s", "--no-print-directory", "-C", str(stage_dir),
             "all", "PYTHON=" + DEBUG_PYTHON, "BUILD=" + DBG_BUILD,
             "HAVE_CFFI=" + ("yes" if has_cffi else "no")],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        _built[stage_dir] = proc
    proc = _built[stage_dir]
    return None if proc.returncode else stage_dir / DBG_BUILD


def run_child(python, stage, module, env, only=None, cwd=None):
    """Run the child; return (units, completed process)."""
    env = dict(env)
    env.pop("PYTHONMALLOC", None)     # getallocatedblocks needs pymalloc
    env["FFI_SMALL"] = "1"            # every unit runs 7 times: small sizes
    cmd = [python, str(CHILD), stage, module]
    if only:
        cmd += ["--only", only]
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True,
                          text=True, errors="replace", timeout=1800)
    units = [json.loads(line) for line in proc.stdout.splitlines()
             if line.startswith('{"unit"')]
    return units, proc


def setUpModule():
    if DEBUG_PYTHON:
        print("\nreference leaks: debug interpreter %s: "
              "sys.gettotalrefcount() + sys.getallocatedblocks() for the "
              "C-API modules, the sys.getrefcount() fallback for cffi "
              "modules" % DEBUG_PYTHON, file=sys.stderr)
    else:
        print("\nreference leaks: %s; running the fallback: "
              "sys.getrefcount() of arguments and results + "
              "sys.getallocatedblocks()" % DBG_MISSING, file=sys.stderr)


def measure_module(stage_dir, module, needs_cffi):
    """Run the child for one module: ("skip", reason) or
    ("ran", units, completed process)."""
    stage = stage_dir.name[:2]
    python, env = support.PYTHON, support.child_env(stage)
    if DEBUG_PYTHON:
        build = debug_build(stage_dir)
        if build is None:
            return ("nobuild", "cannot build %s for %s:\n%s" % (
                stage_dir.name, DEBUG_PYTHON,
                _built[stage_dir].stdout[-3000:]))
        if not needs_cffi or subprocess.run(
                [DEBUG_PYTHON, "-c", "import cffi"],
                capture_output=True).returncode == 0:
            python = DEBUG_PYTHON
            env = support.child_env(None, FFI_BUILD=DBG_BUILD)
            env["PYTHONPATH"] = os.pathsep.join(
                [str(build), str(stage_dir), env["PYTHONPATH"]])
    if needs_cffi and python == support.PYTHON and not support.have_cffi():
        return ("skip", support.CFFI_MISSING)
    units, proc = run_child(python, stage, module, env)
    return ("ran", units, proc)


MODULES = []        # (stage folder, module, needs cffi), filled below
_pending = {}


def result_of(stage_dir, module, needs_cffi):
    """The children run one per core, all started by the first test."""
    if not _pending:
        for stage in {s for s, _, _ in MODULES}:
            if DEBUG_PYTHON:
                debug_build(stage)      # one build per stage, in order
        pool = concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 2)
        for key in MODULES:
            _pending[key] = pool.submit(measure_module, *key)
        pool.shutdown(wait=False)
    return _pending[(stage_dir, module, needs_cffi)].result()


class RefLeaks(unittest.TestCase):
    """One test_<stage>_<module> per public module, made below."""

    def check(self, stage_dir, module, needs_cffi):
        outcome = result_of(stage_dir, module, needs_cffi)
        if outcome[0] == "skip":
            self.skipTest(outcome[1])
        self.assertEqual(outcome[0], "ran", outcome[-1])
        units, proc = outcome[1:]
        self.assertEqual(proc.returncode, 0, "%s: %s\n%s" % (
            module, support.describe_exit(proc.returncode),
            proc.stderr[-3000:]))
        self.assertTrue(units, "no unit was measured:\n" + proc.stderr[-3000:])
        leaks = ["%s leaked on every run (%s): references %s, blocks %s"
                 % (u["unit"], u["mode"], u["deltas"]["refs"],
                    u["deltas"]["blocks"]) for u in units if u["leak"]]
        self.assertEqual(leaks, [], "\n".join(leaks))


def _add_tests():
    for stage_dir in support.stages():
        stage = stage_dir.name[:2]
        build = support.build_dir(stage)
        for module, needs_cffi in api.public_modules(stage_dir, build):
            MODULES.append((stage_dir, module, needs_cffi))

            def test(self, stage_dir=stage_dir, module=module,
                     needs_cffi=needs_cffi):
                self.check(stage_dir, module, needs_cffi)
            test.__doc__ = "reference leaks: %s %s" % (stage_dir.name, module)
            setattr(RefLeaks, "test_%s_%s" % (stage, module), test)


_add_tests()


class TheCheckCanFail(unittest.TestCase):
    """gate_canary.leak_ref keeps a reference to its argument: caught;
    gate_canary.ok leaks nothing: not reported."""

    def test_the_canary_reference_leak_is_caught(self):
        python = DEBUG_PYTHON or support.PYTHON
        work = support.ROOT / "build-gate"
        work.mkdir(exist_ok=True)
        with tempfile.TemporaryDirectory(dir=work) as folder:
            subprocess.run(
                ["make", "-s", "--no-print-directory", "-C",
                 str(support.TESTS / "gate" / "canary"), "BUILD=" + folder,
                 "PYTHON=" + python], check=True, stdout=subprocess.DEVNULL)
            env = support.child_env(None)
            env["PYTHONPATH"] = folder + os.pathsep + env["PYTHONPATH"]
            env.pop("FFI_BUILD", None)
            found = {}
            for name in ("leak_ref", "ok"):
                units, proc = run_child(python, "-", "gate_canary", env,
                                        only=name)
                self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
                found.update({u["unit"]: u for u in units})
        self.assertTrue(found["gate_canary.leak_ref"]["leak"],
                        found["gate_canary.leak_ref"])
        self.assertFalse(found["gate_canary.ok"]["leak"],
                         found["gate_canary.ok"])


if __name__ == "__main__":
    unittest.main()
