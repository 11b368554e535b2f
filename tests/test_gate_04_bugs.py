"""Stage 04: the memory bugs, each shown in a child process (`make gates`).

Every test starts a child that makes one mistake from
04-memory/bugs/_bugs_capi.c under the tool that catches it
(AddressSanitizer, LeakSanitizer, valgrind, Python's debug allocator with
faulthandler), and checks the report says what went wrong and points at
the line that did it.  They take half a minute, so they run under `make
gates`; `make test` runs the quick checks of tests/test_04_bugs.py (each
demonstration exists, the plain one runs).

These tests start their own checkers, so they are skipped when this test
process already runs under one (the memcheck/sanitize gates, FFI_SMALL=1).
"""
import os
import signal
import unittest

import support

STAGE = "04"


def under_a_checker():
    """Why the bug demonstrations should not run here, or None."""
    preload = os.environ.get("LD_PRELOAD", "")
    if os.environ.get("FFI_GATE"):
        return "this is a %s gate run" % os.environ["FFI_GATE"]
    if os.environ.get("FFI_SMALL"):
        return "FFI_SMALL is set (a gate run)"
    if "vgpreload" in preload:
        return "this process runs under valgrind"
    if "asan" in preload:
        return "this process runs with AddressSanitizer preloaded"
    return None


class BugDemos(unittest.TestCase):
    skip_reason = None      # else cls.demos and cls.results are set

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        why = under_a_checker()
        if why:
            # Skipped test by test (not the class), so that a run of this
            # file alone still reports what it skipped and why.
            cls.skip_reason = (
                "the bug demonstrations start their own checkers in child "
                "processes; skipped because %s (run them with: python3 "
                "tests/run.py tests/test_gate_04_bugs.py)" % why)
            return
        cls.demos = support.built_module(STAGE, "all", "bugs._demos")
        # Every demonstration once, side by side; each test reads its own.
        cls.results = {(r.demo.name, r.demo.tool): r
                       for r in cls.demos.run_all(cls.demos.DEMOS)}

    def setUp(self):
        if self.skip_reason:
            self.skipTest(self.skip_reason)

    def run_demo(self, name, tool):
        result = self.results[name, tool]
        if result.skipped:
            self.skipTest(result.skipped)
        return result, "\n".join(result.report)

    def assertLines(self, report, *needles):
        for needle in needles:
            self.assertIn(needle, report)

    def assertCaught(self, name, tool, *needles):
        """The checker stopped the child, and its report has every needle."""
        result, report = self.run_demo(name, tool)
        self.assertNotEqual(result.returncode, 0)
        self.assertLines(report, *needles)

    def test_free_of_pymem_malloc_memory(self):
        self.assertCaught("free_pymem_with_free", "asan",
                          "ERROR: AddressSanitizer: attempting free "
                          "on address which was not malloc()-ed",
                          "in bugs_free_pymem_with_free _bugs_capi.c:")

    def test_pymem_free_of_malloc_memory_is_silent_by_default(self):
        # The mistake is there, but pymalloc hands a pointer it does not
        # recognise to free(): nothing is noticed.  This is why it needs a
        # checker to be seen.
        result, report = self.run_demo("pymem_free_malloc", "plain")
        self.assertEqual(result.returncode, 0, result.output)
        self.assertIn("[child] pymem_free_malloc: finished, nothing noticed",
                      result.output)
        self.assertEqual(report, "")

    def test_pymem_free_of_malloc_memory_under_valgrind(self):
        self.assertCaught("pymem_free_malloc", "valgrind",
                          "Invalid read of size",
                          "bytes before a block of size 64 alloc'd",
                          "bugs_pymem_free_malloc (_bugs_capi.c:")

    def test_double_free(self):
        self.assertCaught("double_free", "asan",
                          "attempting double-free",
                          "in person_free memory_lib.c:",
                          "in bugs_double_free_person _bugs_capi.c:",
                          "freed by thread T0 here:",
                          "previously allocated by thread T0 here:",
                          "in person_new memory_lib.c:")

    def test_forgotten_free_leak_sanitizer(self):
        # sizeof(Person) is 8: two uint32_t.
        self.assertCaught("forgotten_free", "lsan",
                          "ERROR: LeakSanitizer: detected memory leaks",
                          "Direct leak of 8 byte(s) in 1 object(s)",
                          "in person_new memory_lib.c:",
                          "in bugs_forget_person _bugs_capi.c:")

    def test_forgotten_free_valgrind(self):
        result, report = self.run_demo("forgotten_free", "valgrind-leak")
        self.assertLines(report, "8 bytes in 1 blocks are definitely lost",
                         "person_new (memory_lib.c:",
                         "bugs_forget_person (_bugs_capi.c:")

    def test_missing_incref_crashes_later_elsewhere(self):
        result, report = self.run_demo("missing_incref", "debug")
        self.assertEqual(result.returncode, -signal.SIGSEGV,
                         support.describe_exit(result.returncode))
        self.assertLines(report, "Fatal Python error: Segmentation fault",
                         "in use_later", "in missing_incref")
        # The mistake was made in keep(); the crash is not there.
        self.assertNotIn("in keep", report)
        self.assertIn("[child] got something back from C", result.output)


if __name__ == "__main__":
    unittest.main()
