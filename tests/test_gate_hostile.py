"""Quality gate: the hostile-input sweep.

Every public callable of every stage, on both roads (the compiled modules
and the cffi wrappers, found by tests/gate/api.py), is called with wrong
types, wrong argument counts, None, huge and negative ints, floats, NaN,
bytes for str and str for bytes, lone surrogates, embedded NUL, empty and
very long inputs, and objects whose __index__, __len__, __iter__, __call__
or __bool__ raise.  Each call must succeed or raise an Exception with a
message; SystemError (a broken C-API error protocol), an empty message, a
hang or a crash fails.  The calls run in child processes
(tests/gate/hostile_child.py): a crash names its signal and its call, and
the sweep goes on in a new child from the next call.

One test per public module; a new stage or module is swept with no edit.
"""
import os
import subprocess
import tempfile
import unittest
from pathlib import Path

import support

CHILD = support.TESTS / "gate" / "hostile_child.py"
MAX_CHILDREN = 40
# One child's whole run; far more under valgrind.
CHILD_SECONDS = 3600 if os.environ.get("FFI_GATE") == "memcheck" else 600


def sweep(stage, module, prefix=None, env=None):
    """Run the sweep of one module; return the list of problems found.

    prefix: the command in front of each child (default: the running
    gate's, see support.gate_child_prefix); env: the children's
    environment (default: support.child_env(stage))."""
    prefix = support.gate_child_prefix() if prefix is None else prefix
    problems, skip, start = [], [], 0
    with tempfile.TemporaryDirectory() as work:
        for _ in range(MAX_CHILDREN):
            protocol = Path(work) / ("protocol.%d" % start)
            cmd = prefix + [support.PYTHON, str(CHILD), stage or "-", module,
                            str(start), ",".join(map(str, skip)),
                            str(protocol)]
            try:
                proc = subprocess.run(
                    cmd, env=env or support.child_env(stage), cwd=work,
                    timeout=CHILD_SECONDS, stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE, text=True, errors="replace")
            except subprocess.TimeoutExpired as exc:
                # A call stuck in C never gets back to the child's alarm:
                # the child is killed, and the call without DONE is named.
                proc = subprocess.CompletedProcess(
                    cmd, "hung, killed after %d s" % CHILD_SECONDS, "",
                    exc.stderr.decode(errors="replace")
                    if isinstance(exc.stderr, bytes) else exc.stderr or "")
            lines = (protocol.read_text(encoding="utf-8").splitlines()
                     if protocol.exists() else [])
            calls, done, end = {}, set(), None
            for line in lines:
                word, _, rest = line.partition(" ")
                if word == "CALL":
                    number, _, desc = rest.partition(" ")
                    calls[int(number)] = desc
                elif word == "DONE":
                    number, _, problem = rest.partition(" PROBLEM ")
                    done.add(int(number))
                    if problem:
                        problems.append("%s: %s" % (calls[int(number)],
                                                    problem))
                        if "did not return" in problem:
                            skip.append(int(number))
                elif word == "END":
                    end = int(rest)
            tail = (proc.stderr or "")[-1500:]
            status = support.describe_exit(proc.returncode)
            if end is not None:
                if proc.returncode != 0:
                    problems.append("after the last call, at exit: %s\n%s"
                                    % (status, tail))
                return problems
            crashed = [n for n in calls if n not in done]
            if not crashed:
                problems.append("%s %s: the child stopped before its first "
                                "call (%s):\n%s" % (stage, module, status,
                                                     tail))
                return problems
            number = crashed[-1]
            problems.append("%s: %s\n%s" % (calls[number], status, tail))
            skip.append(number)
            start = number + 1
    problems.append("%s %s: gave up after %d crashed children"
                    % (stage, module, MAX_CHILDREN))
    return problems


class HostileSweep(unittest.TestCase):
    """One test_<stage>_<module> per public module, made below: sweep()
    finds no problem."""


support.add_module_tests(HostileSweep, "hostile input", sweep)


class SweepFindsCrashes(unittest.TestCase):
    """The sweep itself can fail: a module that crashes on None is caught,
    with the signal and the call named, and the calls after it still run."""

    def test_a_crash_is_named_and_the_sweep_goes_on(self):
        problems = support.sweep_of_source(
            sweep, "crashy_cffi",
            "import ctypes, os\n"
            "def boom(x):\n"
            "    if x is None:\n"
            "        ctypes.string_at(0)   # reads address 0: SIGSEGV\n"
            "    return x\n"
            "def empty(x):\n"
            "    raise ValueError('')\n")
        text = "\n".join(problems)
        self.assertIn("crashy_cffi.boom(None): killed by SIGSEGV", text)
        self.assertIn("crashy_cffi.empty(", text)
        self.assertIn("ValueError with an empty message", text)


if __name__ == "__main__":
    unittest.main()
