"""Quality gate: the stateful sweep.

The hostile-input sweep (test_gate_hostile.py) calls each callable once,
with one bad argument.  This one keeps state and races it: for each public
module (found by tests/gate/api.py, like the hostile sweep), a child
process (tests/gate/stateful_child.py) makes objects with plausible
arguments, then has four threads call every function and every method of
those objects at random, with a callback among the arguments that calls
back into the module, while signals raise exceptions in the main thread at
random points, and forks in the middle of it all.  A crash, a hang, a
SystemError or an exception without a message fails.

The racy classes of bug this finds were seen in this project: a registry
slot reused between a C call and the Python line after it, a view made
while another thread freed the memory under it, exceptions lost on the
way into a cffi callback.  Lying objects (a str whose encode() lies, an
item that empties its list when converted, a buffer that changes between
two requests) are in the hostile sweep's table (api.hostile_values).
"""
import os
import subprocess
import sys
import tempfile
import unittest

import support

CHILD = support.TESTS / "gate" / "stateful_child.py"
CHILD_SECONDS = 3600 if os.environ.get("FFI_GATE") == "memcheck" else 300
SAID = set()            # the skip lines already printed


def sweep(stage, module, prefix=None, env=None):
    """Run the stateful sweep of one module; return its problems."""
    prefix = support.gate_child_prefix() if prefix is None else prefix
    cmd = prefix + [support.PYTHON, str(CHILD), stage or "-", module]
    env = dict(env or support.child_env(stage))
    # glibc gives every block of 128 KiB or more memory of its own (mmap),
    # and back to the system when it is freed, always: a read of a big
    # freed block then crashes, even without a memory gate.  (By default
    # glibc raises that limit as big blocks are freed, and a freed list's
    # items would stay readable.)
    env.setdefault("MALLOC_MMAP_THRESHOLD_", "131072")
    with tempfile.TemporaryDirectory() as work:
        try:
            proc = subprocess.run(
                cmd, env=env, cwd=work,
                timeout=CHILD_SECONDS, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True, errors="replace")
        except subprocess.TimeoutExpired:
            return ["%s %s: hung, killed after %d s" % (stage, module,
                                                        CHILD_SECONDS)]
    problems = [line[len("PROBLEM "):] for line in proc.stdout.splitlines()
                if line.startswith("PROBLEM ")]
    for line in proc.stdout.splitlines():     # a step left out, and why
        if line.startswith("skipped: ") and line not in SAID:
            SAID.add(line)
            print("\n  stateful sweep " + line, file=sys.stderr)
    ended = any(line.startswith("END ") for line in proc.stdout.splitlines())
    if proc.returncode != 0 or not ended:
        problems.append("%s %s: the child %s%s:\n%s" % (
            stage, module, support.describe_exit(proc.returncode),
            "" if ended else " before the end", proc.stderr[-2500:]))
    return problems


class StatefulSweep(unittest.TestCase):
    """One test_<stage>_<module> per public module, made below: sweep()
    finds no problem."""


support.add_module_tests(StatefulSweep, "stateful", sweep)


class StatefulSweepFindsRaces(unittest.TestCase):
    """The sweep itself can fail: a class whose read() after another
    thread's close() touches freed memory is caught, with its signal."""

    def test_a_race_that_crashes_is_reported(self):
        problems = support.sweep_of_source(
            sweep, "racy_cffi",
            "import ctypes\n"
            "class Racy:\n"
            "    def __init__(self):\n"
            "        self.open = True\n"
            "    def close(self):\n"
            "        self.open = False\n"
            "    def read(self):\n"
            "        if not self.open:\n"
            "            ctypes.string_at(0)   # freed memory: SIGSEGV\n"
            "        return 1\n"
            "def make():\n"
            "    return Racy()\n")
        text = "\n".join(problems)
        self.assertIn("racy_cffi: the child killed by SIGSEGV", text)


if __name__ == "__main__":
    unittest.main()
