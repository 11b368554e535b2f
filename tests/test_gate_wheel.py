"""The wheels of `make wheel`, installed the way a user installs them.

    python3 tests/run.py tests/test_gate_wheel.py   (about 40 s of CPU)

`make wheel` builds them for this interpreter into dist/ (offline, no
build isolation); then each check makes a fresh virtual environment
(`python -m venv`), installs from dist/ with `pip install --no-index`,
and runs code from a folder outside the source tree, with no PYTHONPATH,
so that only the installed modules can answer:

* the article's hello_mic_testing.py, unchanged, against the installed
  tales_from_ffi (road 1), and with a one-line shim against the installed
  logger_cffi (road 2): the same output that stage 05's tests check;
* the abi3 wheel of stage 03 on every newer CPython found, where it must
  install and import, while the version-specific wheel must be refused.

Needs setuptools, wheel and pip for this interpreter (Debian:
python3-setuptools python3-wheel python3-pip) and a working venv
(Debian: python3-venv); without them every check is skipped, saying why.
"""
import base64
import glob
import hashlib
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import unittest

import support
from test_gate_03_abi3 import candidates
from test_05_logger import ARTICLE_STDOUT, CLOSING
from test_wheel import PY_TAG, read_wheel

DIST = support.ROOT / "dist"
HERE = "%d.%d" % sys.version_info[:2]


def clean_env(**extra):
    """The environment of a user's shell: no PYTHONPATH pointing into the
    tree, no gate settings, no pip configuration from this machine."""
    env = support.without_gates()
    for name in list(env):
        if name.startswith(("PIP_", "PYTHON")) or name == "FFI_BUILD":
            del env[name]
    env.update(extra)
    return env


def run(argv, **kwargs):
    kwargs.setdefault("env", clean_env())
    return subprocess.run(argv, capture_output=True, text=True,
                          timeout=300, **kwargs)


def newer_pythons():
    """{"3.12": path, ...}: CPythons newer than this one, with a GIL (a
    free-threaded build cannot load abi3 modules), among the candidates
    that stage 03's abi3 gate tries."""
    probe = ("import sys, sysconfig; print('%d.%d' % sys.version_info[:2],"
             " sys.version_info[:2] > " + repr(sys.version_info[:2]) +
             " and not sysconfig.get_config_var('Py_GIL_DISABLED'))")
    found = {}
    for exe in candidates():
        try:
            proc = run([exe, "-c", probe])
        except OSError:
            continue
        words = proc.stdout.split()
        if proc.returncode == 0 and words[1:] == ["True"]:
            found.setdefault(words[0], exe)
    return found


def tools_missing(python):
    """Why `python` cannot build or install wheels here, or None."""
    proc = run([python, "-c", "import setuptools, wheel, pip, venv, ensurepip"])
    if proc.returncode != 0:
        return ("%s lacks setuptools, wheel, pip or venv (Debian: sudo apt "
                "install python3-setuptools python3-wheel python3-pip "
                "python3-venv): %s" % (python, proc.stderr.strip()
                                       .splitlines()[-1]))
    return None


def make_venv(python, folder, *options):
    """A fresh venv made by `python` in `folder`; returns its python."""
    proc = run([python, "-m", "venv", *options, folder])
    if proc.returncode != 0:
        raise unittest.SkipTest("%s -m venv failed (Debian: sudo apt install"
                                " python3-venv): %s"
                                % (python, proc.stderr.strip()))
    return os.path.join(folder, "bin", "python")


def pip_install(venv_python, *requirements):
    """`pip install --no-index --find-links dist REQ...` in a venv, as a
    user would type it (--isolated: no pip settings of this machine)."""
    return run([venv_python, "-m", "pip", "--isolated",
                "--disable-pip-version-check", "install",
                "--no-index", "--find-links", str(DIST), *requirements])


class WheelBuilt(unittest.TestCase):
    """Builds the wheels once (`make wheel`) for the whole file."""

    built = None            # "" once built, else why not

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if WheelBuilt.built is None:
            WheelBuilt.built = cls.build() or ""

    @staticmethod
    def build():
        """None when dist/ has fresh wheels, else why not (a skip)."""
        reason = tools_missing(sys.executable)
        if reason:
            return reason
        proc = subprocess.run(
            ["make", "-s", "--no-print-directory", "-C", str(support.ROOT),
             "wheel", "PYTHON=" + sys.executable],
            capture_output=True, text=True, timeout=600,
            env=support.without_gates())
        if proc.returncode != 0:
            return "make wheel failed:\n" + proc.stdout + proc.stderr
        return None

    def setUp(self):
        super().setUp()
        if self.built:
            if self.built.startswith("make wheel failed"):
                self.fail(self.built)
            self.skipTest(self.built)
        self.tmp = tempfile.mkdtemp(prefix="wheel-test-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)


class TestBuiltWheels(WheelBuilt):
    """What `make wheel` wrote: file names and WHEEL tags agree (PEP 427),
    the abi3 wheel is tagged cp311-abi3, each wheel holds the modules it
    should, and every file matches its RECORD hash."""

    def wheels(self, pattern):
        found = sorted(glob.glob(str(DIST / pattern)))
        self.assertTrue(found, "make wheel left no %s in dist/" % pattern)
        return found

    def check_common(self, path):
        whl, info, tags, fields = read_wheel(path)
        # The WHEEL file's Tag lines are the file name's tags (PEP 427).
        self.assertEqual(sorted(v for k, v in fields if k == "Tag"),
                         sorted(tags))
        self.assertIn(["Root-Is-Purelib", "false"], fields)
        self.assertIn(["Wheel-Version", "1.0"], fields)
        # RECORD: every other file, with its sha256 (urlsafe base64).
        record = {}
        for line in whl.read(info + "RECORD").decode().splitlines():
            file, digest, _ = line.rsplit(",", 2)
            record[file] = digest
        self.assertEqual(set(record), set(whl.namelist()))
        for file, digest in record.items():
            if file != info + "RECORD":
                raw = hashlib.sha256(whl.read(file)).digest()
                self.assertEqual(digest, "sha256=" + base64.urlsafe_b64encode(
                    raw).rstrip(b"=").decode(), file)
        return whl, tags

    @unittest.skipIf(sys.version_info < (3, 11),
                     "the Limited-API module needs 3.11+ (Py_buffer)")
    def test_the_abi3_wheel(self):
        for path in self.wheels("layout_abi3-*.whl"):
            whl, tags = self.check_common(path)
            platform = sysconfig.get_platform().replace("-", "_").replace(
                ".", "_")
            self.assertEqual(tags, ["cp311-abi3-" + platform], path)
            self.assertIn("layout_abi3.abi3.so", whl.namelist())

    def test_the_version_specific_wheel(self):
        for path in self.wheels("tales_from_ffi-*-%s-%s-*.whl"
                                % (PY_TAG, PY_TAG)):
            whl, tags = self.check_common(path)
            names = whl.namelist()
            self.assertIn("tales_from_ffi" + support.EXT_SUFFIX, names)
            metadata = whl.read(next(n for n in names if n.endswith(
                ".dist-info/METADATA"))).decode()
            if "logger_cffi.py" in names:
                # Road 2: cffi's module is abi3 by default, and needs
                # cffi's runtime, which the extra names.
                self.assertIn("_logger_cffi.abi3.so", names)
                self.assertIn("Provides-Extra: cffi", metadata)
                self.assertRegex(metadata, re.compile(
                    r"^Requires-Dist: cffi ?\(?>=[\d.]+\)? ?; "
                    r"extra == .cffi.$", re.M))


class TestArticleFromTheWheel(WheelBuilt):
    """hello_mic_testing.py, run where only the installed wheel can answer."""

    def run_article(self, venv_python, shim=False):
        folder = os.path.join(self.tmp, "user")
        os.mkdir(folder)
        shutil.copy(support.stage_dir("05") / "hello_mic_testing.py", folder)
        if shim:
            with open(os.path.join(folder, "tales_from_ffi.py"), "w") as f:
                f.write("from logger_cffi import Logger  # road 2\n")
        results = []
        for unbuffered in ("", "1"):
            env = clean_env(PYTHONNODEBUGRANGES="1")
            if unbuffered:
                env["PYTHONUNBUFFERED"] = unbuffered
            results.append(run([venv_python, "hello_mic_testing.py"],
                               cwd=folder, env=env))
        return results

    def check_article(self, results):
        for proc in results:
            self.assertEqual(proc.returncode, 1, proc.stderr)
            self.assertEqual(proc.stdout, ARTICLE_STDOUT, proc.stderr)
            self.assertTrue(proc.stderr.startswith(
                "Traceback (most recent call last):\n"), proc.stderr)
            self.assertTrue(proc.stderr.endswith(
                'raise Exception("Failed too many times")\n'
                "Exception: Failed too many times\n" + CLOSING), proc.stderr)

    def where(self, venv_python, module):
        proc = run([venv_python, "-c", "import %s; print(%s.__file__)"
                    % (module, module)], cwd=self.tmp)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return proc.stdout.strip()

    def test_road_1_in_a_fresh_venv(self):
        python = make_venv(sys.executable, os.path.join(self.tmp, "venv"))
        proc = pip_install(python, "tales-from-ffi")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        # Installed into the venv's site-packages, nowhere near the tree.
        where = self.where(python, "tales_from_ffi")
        self.assertIn(os.path.join(self.tmp, "venv", "lib"), where)
        self.assertTrue(where.endswith(support.EXT_SUFFIX), where)
        self.check_article(self.run_article(python))

    @unittest.skipUnless(support.have_cffi(), support.CFFI_MISSING)
    def test_road_2_with_the_cffi_extra(self):
        # Offline, cffi itself must come from somewhere: this machine's
        # site-packages.  A user online gets it from the index instead.
        python = make_venv(sys.executable, os.path.join(self.tmp, "venv"),
                           "--system-site-packages")
        proc = pip_install(python, "tales-from-ffi[cffi]")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        where = self.where(python, "_logger_cffi")
        self.assertIn(os.path.join(self.tmp, "venv", "lib"), where)
        self.assertTrue(where.endswith(".abi3.so"), where)
        self.check_article(self.run_article(python, shim=True))


class TestAbi3WheelOnNewerPythons(WheelBuilt):
    """One abi3 wheel, every CPython from 3.11 on."""

    def test_abi3_installs_and_imports_where_the_other_is_refused(self):
        if sys.version_info < (3, 11):
            self.skipTest("CPython %s: the abi3 wheel needs 3.11+" % HERE)
        abi3 = glob.glob(str(DIST / "layout_abi3-*-cp311-abi3-*.whl"))
        self.assertTrue(abi3, "make wheel left no abi3 wheel in dist/")
        pythons = newer_pythons()
        if not pythons:
            self.skipTest("no CPython newer than %s found (pyenv or "
                          "python3.1N on PATH): nothing to install the abi3 "
                          "wheel into" % HERE)
        here = support.import_stage("03", "layout_abi3")
        want = repr(here.layout())
        for version, exe in sorted(pythons.items()):
            with self.subTest(python=version):
                python = make_venv(exe, os.path.join(self.tmp, version))
                proc = pip_install(python, "layout-abi3")
                self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
                proc = run([python, "-c", "import layout_abi3 as m; "
                            "print(m.__file__); print(repr(m.layout()))"],
                           cwd=self.tmp)
                self.assertEqual(proc.returncode, 0, proc.stderr)
                where, got = proc.stdout.splitlines()
                self.assertTrue(where.startswith(self.tmp), where)
                self.assertTrue(where.endswith("layout_abi3.abi3.so"), where)
                self.assertEqual(got, want)
                # The version-specific wheel (cp3X-cp3X) is not for it
                # (unless `make wheel PYTHON=` that version made its own).
                if glob.glob(str(DIST / ("tales_from_ffi-*-cp%s-*.whl"
                                         % version.replace(".", "")))):
                    continue
                proc = pip_install(python, "tales-from-ffi")
                self.assertNotEqual(proc.returncode, 0, proc.stdout)
                self.assertIn("No matching distribution found for "
                              "tales-from-ffi", proc.stderr)


if __name__ == "__main__":
    unittest.main()
