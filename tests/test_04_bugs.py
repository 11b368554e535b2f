"""Stage 04: the memory bugs, the quick checks that `make test` runs.

The demonstrations themselves (each mistake of 04-memory/bugs/_bugs_capi.c
in a child under AddressSanitizer, LeakSanitizer, valgrind or Python's
debug allocator, its report checked) take half a minute: they are in
tests/test_gate_04_bugs.py, which `make gates` runs.  Here: every
demonstration names a child function and a _bugs_capi function that
exist, the one demonstration that needs no checker behaves as the chapter
says, and the module refuses subinterpreters.
"""
import unittest

import support

STAGE = "04"
BUGS = ["free_pymem_with_free", "pymem_free_malloc", "double_free_person",
        "forget_person", "keep_without_incref", "fetch_kept"]


class BugsModule(unittest.TestCase):
    """What the demonstrations are made of (no checker needed)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.demos = support.built_module(STAGE, "demo", "bugs._demos")

    def run_demo_child(self, code):
        """Run `code` with the plain demo build of _bugs_capi importable."""
        return support.run_python(
            "import sys\nsys.path[:0] = [%r, %r]\n" % (
                self.demos.DEMO_PLAIN, self.demos.HERE) + code, stage=STAGE)

    def test_every_demonstration_exists(self):
        proc = self.run_demo_child(
            "import _bug_children, _bugs_capi\n"
            "print(sorted(n for n in %r if not callable(\n"
            "    getattr(_bug_children, n, None))))\n"
            "print(sorted(n for n in %r if not callable(\n"
            "    getattr(_bugs_capi, n, None))))\n"
            % (sorted({d.name for d in self.demos.DEMOS}), BUGS))
        self.assertEqual(proc.returncode, 0, "%s\n%s" % (
            support.describe_exit(proc.returncode), proc.stderr))
        self.assertEqual(proc.stdout, "[]\n[]\n",
                         "missing: child functions, then _bugs_capi "
                         "functions")
        tools = {d.tool for d in self.demos.DEMOS}
        self.assertEqual(tools, {"asan", "plain", "valgrind", "lsan",
                                 "valgrind-leak", "debug"})

    def test_the_plain_demonstration_notices_nothing(self):
        # malloc then PyMem_Free: the mistake is there, but pymalloc hands
        # a pointer it does not recognise to free(), and nothing is noticed.
        # That is why it needs a checker to be seen (the gate shows one).
        plain = [d for d in self.demos.DEMOS if d.tool == "plain"]
        self.assertEqual([d.name for d in plain], ["pymem_free_malloc"])
        result = self.demos.run(plain[0])
        self.assertIsNone(result.skipped)
        self.assertEqual(result.returncode, 0, result.output)
        self.assertIn("[child] pymem_free_malloc: finished, nothing noticed",
                      result.output)
        self.assertEqual(result.report, [])

    def test_refuses_subinterpreters(self):
        # `kept` is one C global that points at a Python object, so the
        # module declares Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED, and
        # every version refuses it in a subinterpreter (3.10 and 3.11
        # through common.h), while the main interpreter imports it.
        proc = self.run_demo_child(
            "import support, _bugs_capi\n"
            "print(support.run_in_subinterpreter(\n"
            "    'import sys; sys.path.insert(0, %%r); import _bugs_capi'\n"
            "    %% %r))\n" % self.demos.DEMO_PLAIN)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, "ImportError: module _bugs_capi does "
                         "not support loading in subinterpreters\n")


if __name__ == "__main__":
    unittest.main()
