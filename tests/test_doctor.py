"""`make doctor` and the one line that says cffi is missing.

The install command must fit the interpreter that PYTHON names: pip inside
a virtual environment, apt for Debian's own python3 (which refuses pip,
PEP 668), and a virtual environment made from any other interpreter.  And
make, the tests and `make doctor` must say it in the same words.
"""
import os
import re
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import support  # first: it puts tests/harness/ on sys.path
import doctor


def pinned_cffi():
    text = (support.TESTS / "requirements.txt").read_text()
    return re.search(r"^(cffi==\S+)", text, re.M).group(1)


class TestInterpreterKind(unittest.TestCase):
    def test_a_virtual_environment_is_one(self):
        self.assertEqual(doctor.interpreter_kind(
            prefix="/home/me/.venv", base_prefix="/usr", stdlib="/nowhere",
            executable="/home/me/.venv/bin/python"), "venv")

    def test_an_interpreter_of_your_own(self):
        with tempfile.TemporaryDirectory() as stdlib:
            self.assertEqual(doctor.interpreter_kind(
                prefix="/opt/py", base_prefix="/opt/py", stdlib=stdlib,
                executable="/opt/py/bin/python3"), "own")

    def test_an_externally_managed_one(self):
        # PEP 668: the distribution marks its interpreter; only its
        # default python3 gets cffi from the distribution's packages.
        with tempfile.TemporaryDirectory() as stdlib:
            Path(stdlib, "EXTERNALLY-MANAGED").write_text("[externally]\n")
            self.assertEqual(doctor.interpreter_kind(
                prefix="/usr", base_prefix="/usr", stdlib=stdlib,
                executable="/opt/elsewhere/python3.12"), "other")
            if Path("/usr/bin/python3").exists():
                self.assertEqual(doctor.interpreter_kind(
                    prefix="/usr", base_prefix="/usr", stdlib=stdlib,
                    executable="/usr/bin/python3"), "debian")


class TestInstallCommand(unittest.TestCase):
    def test_venv_gets_the_pinned_cffi_from_its_own_pip(self):
        self.assertEqual(doctor.install_cffi("venv", "/v/bin/python"),
                         "/v/bin/python -m pip install %s" % pinned_cffi())

    def test_debian_gets_apt(self):
        self.assertEqual(doctor.install_cffi("debian", "/usr/bin/python3"),
                         "sudo apt-get install python3-cffi")

    def test_any_other_gets_a_venv_made_from_it(self):
        for kind in ("own", "other"):
            command = doctor.install_cffi(kind, "/opt/py/bin/python3")
            self.assertTrue(command.startswith(
                "/opt/py/bin/python3 -m venv .venv-"), command)
            self.assertIn("-m pip install -r tests/requirements.txt",
                          command)
            self.assertIn("PYTHON=.venv-", command)

    def test_a_test_tool_goes_into_a_venv(self):
        self.assertRegex(doctor.install_package("hypothesis", "venv",
                                                "/v/bin/python"),
                         r"^/v/bin/python -m pip install hypothesis==[0-9.]+$")
        # Debian's own python3 too: its packages of the tools are older
        # than the pinned ones, so a venv made from it.
        self.assertTrue(doctor.install_package(
            "hypothesis", "debian", "/usr/bin/python3").startswith(
            "/usr/bin/python3 -m venv .venv-"))

    def test_tests_skip_with_the_same_line(self):
        self.assertEqual(support.CFFI_MISSING, doctor.cffi_missing())
        self.assertIn(sys.executable, support.CFFI_MISSING)


class TestBareVenv(unittest.TestCase):
    """A fresh venv without cffi: doctor, make and the tests all name it,
    and the command they give installs into it, not into another one."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        venv = Path(cls.tmp.name, "bare")
        proc = subprocess.run([sys.executable, "-m", "venv", "--without-pip",
                               str(venv)], capture_output=True, text=True)
        if proc.returncode != 0:
            cls.tmp.cleanup()
            raise unittest.SkipTest("this interpreter cannot make a venv "
                                    "(Debian: apt install python3-venv): "
                                    + proc.stderr.strip()[-200:])
        out = subprocess.run([str(venv / "bin" / "python"), "-c",
                              "import sys; print(sys.executable)"],
                             capture_output=True, text=True, check=True)
        cls.python = out.stdout.strip()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_doctor_names_this_interpreter_and_its_pip(self):
        proc = subprocess.run([self.python,
                               str(support.HARNESS / "doctor.py")],
                              capture_output=True, text=True, timeout=120,
                              env=dict(os.environ, CC="false"))
        lines = proc.stdout.splitlines()
        row = [n for n, line in enumerate(lines)
               if re.match(r"\s+optional\s+cffi\s", line)]
        self.assertTrue(row, proc.stdout)
        self.assertIn("not installed for %s" % self.python, lines[row[0]])
        self.assertEqual(lines[row[0] + 1].split(None, 1)[1],
                         "%s -m pip install %s" % (self.python,
                                                   pinned_cffi()))

    def test_make_says_the_same_line(self):
        # Not the make that runs these tests: its flags and level would
        # reach this one (and, with -C, its "Entering directory" lines).
        env = {k: v for k, v in os.environ.items()
               if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
        proc = subprocess.run(
            ["make", "-s", "--no-print-directory", "-C",
             str(support.stage_dir(1)), "cffi-missing",
             "PYTHON=" + self.python],
            capture_output=True, text=True, timeout=60, env=env)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        expected = subprocess.run(
            [self.python, str(support.HARNESS / "doctor.py"),
             "--cffi-missing"], capture_output=True, text=True).stdout
        self.assertEqual(proc.stdout, expected)
        self.assertIn("cffi is not installed for %s: road 2 (cffi) is "
                      "skipped (install: %s -m pip install %s)"
                      % (self.python, self.python, pinned_cffi()),
                      proc.stdout)


if __name__ == "__main__":
    unittest.main()
