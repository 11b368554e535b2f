"""Quality gate self-test: the canary proves that the gates can fail.

tests/gate/canary/gate_canary.c is deliberately broken C (an out-of-bounds
write, a leaked allocation, a missing Py_INCREF), built only here and by
the gates themselves, never by a stage.  Each bug must be caught by the
memcheck gate and by the sanitize gate, with exactly the settings and the
report reading that `make memcheck` and `make sanitize` use
(tests/gate/gate.py), and the bug-free control canary.ok() must pass both.
`make memcheck` and `make sanitize` run the same self-test first.
"""
import shutil
import sys
import tempfile
import unittest

import support

sys.path.insert(0, str(support.TESTS / "gate"))
import gate  # noqa: E402


class CanaryMixin:
    gate_name = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        gate.WORK.mkdir(parents=True, exist_ok=True)
        cls.work = tempfile.mkdtemp(prefix="selftest-", dir=gate.WORK)
        cls.folder = gate.build_canary(cls.gate_name, cls.work)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)
        super().tearDownClass()

    def caught(self, function):
        proc, failures = gate.run_canary(self.gate_name, function,
                                         self.folder)
        expected = gate.CANARY_EXPECT[self.gate_name][function]
        self.assertTrue(
            gate.canary_caught(failures, expected),
            "%s did not catch canary.%s() (looked for %s):\n%s\n%s" % (
                self.gate_name, function, expected,
                "\n".join(failures), proc.stderr[-3000:]))

    def test_the_control_passes(self):
        proc, failures = gate.run_canary(self.gate_name, "ok", self.folder)
        self.assertEqual(failures, [])
        self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
        self.assertEqual(proc.stdout, "4\n")

    def test_out_of_bounds_write_is_caught(self):
        self.caught("oob_write")

    def test_leaked_allocation_is_caught(self):
        self.caught("leak")

    def test_missing_incref_is_caught(self):
        self.caught("missing_incref")


class TestMemcheckCatchesTheCanary(CanaryMixin, unittest.TestCase):
    gate_name = "memcheck"

    @classmethod
    def setUpClass(cls):
        if not gate.have_valgrind():
            raise unittest.SkipTest(gate.VALGRIND_MISSING)
        super().setUpClass()


class TestSanitizeCatchesTheCanary(CanaryMixin, unittest.TestCase):
    gate_name = "sanitize"

    @classmethod
    def setUpClass(cls):
        if gate.asan_runtime() is None:
            raise unittest.SkipTest(gate.ASAN_MISSING)
        super().setUpClass()


class TestTheReportReading(unittest.TestCase):
    """The rules that decide what counts, on reports written here."""

    def test_a_leak_counts_only_when_the_project_allocated_it(self):
        project = str(support.ROOT / "01-extern" / "x.so")
        frames = [("/usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so",
                   ""), ("/usr/lib/libpython3.11.so.1.0", ""),
                  (project, "")]
        self.assertTrue(gate._allocated_by_project(frames, [str(support.ROOT)]))
        cffi = [frames[0], ("/site-packages/_cffi_backend.so", ""),
                (project, "")]
        self.assertFalse(gate._allocated_by_project(cffi, [str(support.ROOT)]))

    def test_gate_skip_is_read_without_importing(self):
        with tempfile.NamedTemporaryFile("w", suffix=".py") as f:
            f.write("raise SystemExit('never imported')\n"
                    "GATE_SKIP = {'memcheck': 'starts its own valgrind'}\n")
            f.flush()
            self.assertEqual(gate.gate_skip(f.name, "memcheck"),
                             "starts its own valgrind")
            self.assertIsNone(gate.gate_skip(f.name, "sanitize"))


if __name__ == "__main__":
    unittest.main()
