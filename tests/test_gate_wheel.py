"""The wheels of `make wheel`, checked and installed the way a user does.

    python3 tests/run.py tests/test_gate_wheel.py   (about a minute)

`make wheel` builds them for this interpreter (python -m build, offline),
repairs them (auditwheel) and checks them (twine), here into a folder of
the test's own.  Then:

* each wheel is read: its file name and WHEEL tags agree (PEP 427), it
  holds exactly the modules it should and no grafted library, every file
  matches its RECORD hash, twine passes it, and auditwheel's verdict is
  the manylinux tag it carries; each of these checks is shown to reject a
  wheel altered to break it (a wrong tag, a missing module, a changed
  file, metadata twine refuses, a manylinux tag too old for its symbols);
* in a fresh virtual environment (`python -m venv`, `pip install
  --no-index`), the article's hello_mic_testing.py runs from a folder
  outside the tree, against the installed tales_from_ffi (road 1), and
  with a one-line shim against the installed logger_cffi (road 2);
* every other CPython found (FFI_PYTHONS, python3.1N on PATH, pyenv):
  the abi3 wheel installs and imports there from 3.11 on, while this
  interpreter's version-specific wheel is refused, because none of its
  tags is in that interpreter's list (`pip debug --verbose`); retagged
  for it, pip takes it, and the import fails.

Needs build, setuptools and twine for this interpreter (a venv:
pip install -r tests/requirements.txt; Debian: python3-build twine) and a
working venv (Debian: python3-venv); without them each check is skipped,
saying why.  auditwheel (PyPI only) is needed for the manylinux checks.
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
import zipfile

import support
from test_gate_03_abi3 import candidates
from test_05_logger import ARTICLE_STDOUT, CLOSING

HERE = "%d.%d" % sys.version_info[:2]
PY_TAG = "cp%d%d" % sys.version_info[:2]
LINUX_TAG = sysconfig.get_platform().replace("-", "_").replace(".", "_")
# What each wheel must hold besides its .dist-info: the modules, by the
# interpreter that built it.  Nothing else: a library auditwheel grafted
# in would show here (and in `.libs` folders).
WHEEL_MODULES = {
    "tales_from_ffi": ["tales_from_ffi" + support.EXT_SUFFIX] + (
        ["_common.py", "_logger_cffi.abi3.so", "logger_cffi.py"]
        if support.have_cffi() else []),
    "layout_abi3": ["layout_abi3.abi3.so"],
}


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
    kwargs.setdefault("cwd", tempfile.gettempdir())
    return subprocess.run(argv, capture_output=True, text=True,
                          timeout=300, **kwargs)


def tool_env():
    """The tools (twine, auditwheel) run as make wheel runs them: in this
    process's environment, less the gates' settings."""
    return support.without_gates()


def have_module(python, name):
    return run([python, "-c", "import " + name],
               env=tool_env()).returncode == 0


def other_pythons():
    """{"3.12": path, ...}: CPythons of other versions than this one, with
    a GIL (a free-threaded build loads no abi3 module), 3.10 or newer,
    among the candidates stage 03's abi3 gate tries (FFI_PYTHONS too)."""
    probe = ("import sys, sysconfig; print('%d.%d' % sys.version_info[:2],"
             " sys.version_info[:2] >= (3, 10) and sys.version_info[:2] != "
             + repr(sys.version_info[:2]) +
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


VENVS = {}      # name -> the python of a venv made for this file
VENV_HOME = []  # the folder they are in, made once


def venv(name, python=sys.executable):
    """A fresh venv made by `python -m venv` (with its own pip, as a user
    gets it), once per name for the whole file: making one takes seconds.
    Returns its python."""
    if name not in VENVS:
        if not VENV_HOME:
            VENV_HOME.append(tempfile.mkdtemp(prefix="wheel-venvs-"))
        folder = os.path.join(VENV_HOME[0], name)
        proc = run([python, "-m", "venv", folder])
        if proc.returncode != 0:
            raise unittest.SkipTest("%s -m venv failed (Debian: sudo apt "
                                    "install python3-venv): %s"
                                    % (python, proc.stderr.strip()))
        VENVS[name] = os.path.join(folder, "bin", "python")
    return VENVS[name]


def pip(venv_python, *args):
    """pip in a venv as a user types it, offline (--isolated: no pip
    settings of this machine)."""
    return run([venv_python, "-m", "pip", "--isolated",
                "--disable-pip-version-check", *args])


def pip_install(venv_python, dist, *requirements):
    return pip(venv_python, "install", "--no-index", "--find-links", dist,
               *requirements)


def lend_site_packages(venv_python, module):
    """Offline, a venv cannot download `module` (cffi): a .pth file puts
    the folder this interpreter imports it from on the venv's path, so
    that pip counts it as installed.  A user online gets it from PyPI."""
    folder = os.path.dirname(os.path.dirname(
        __import__(module).__file__))
    proc = run([venv_python, "-c", "import sysconfig; "
                "print(sysconfig.get_paths()['purelib'])"])
    with open(os.path.join(proc.stdout.strip(), "_lent.pth"), "w") as f:
        f.write(folder + "\n")


# --- reading a wheel (PEP 427), and the checks -------------------------

def wheel_tags(path):
    """{distribution}-{version}(-{build})?-{python}-{abi}-{platform}.whl:
    returns (name, version, [python-abi-platform tags])."""
    parts = os.path.basename(path)[:-len(".whl")].split("-")
    name, version = parts[0], parts[1]
    python, abi, platform = parts[-3:]
    # PEP 425: each part may be a dot-separated set; expand them all.
    tags = ["%s-%s-%s" % (p, a, f) for p in python.split(".")
            for a in abi.split(".") for f in platform.split(".")]
    return name, version, tags


def record_hash(data):
    return "sha256=" + base64.urlsafe_b64encode(
        hashlib.sha256(data).digest()).rstrip(b"=").decode()


def wheel_problems(path, modules):
    """What is wrong with the wheel at `path`, each as a sentence (none:
    []): its WHEEL file against its name, its RECORD against its files,
    its files against `modules` (exactly those, plus the .dist-info)."""
    problems = []
    name, version, tags = wheel_tags(path)
    info = "%s-%s.dist-info/" % (name, version)
    with zipfile.ZipFile(path) as whl:
        names = whl.namelist()
        fields = [line.split(": ", 1) for line in whl.read(
            info + "WHEEL").decode().splitlines() if ": " in line]
        wheel_file_tags = sorted(v for k, v in fields if k == "Tag")
        if wheel_file_tags != sorted(tags):
            problems.append("WHEEL says %s, the file name %s"
                            % (wheel_file_tags, sorted(tags)))
        for field in (["Wheel-Version", "1.0"],
                      ["Root-Is-Purelib", "false"]):
            if field not in fields:
                problems.append("WHEEL lacks %s: %s" % tuple(field))
        record = {}
        for line in whl.read(info + "RECORD").decode().splitlines():
            file, digest, _ = line.rsplit(",", 2)
            record[file] = digest
        for file in sorted(set(record) ^ {n for n in names
                                          if not n.endswith("/")}):
            problems.append("%s is in %s but not in %s" % ((
                file, "RECORD", "the wheel") if file in record else (
                file, "the wheel", "RECORD")))
        for file, digest in sorted(record.items()):
            if file in names and file != info + "RECORD" and (
                    digest != record_hash(whl.read(file))):
                problems.append("%s does not match its RECORD hash" % file)
        content = sorted(n for n in names if not n.startswith(info)
                         and not n.endswith("/"))
        if content != sorted(modules):
            problems.append("holds %s, expected %s"
                            % (content, sorted(modules)))
    return problems


def twine_problems(python, path):
    """twine check --strict's complaint about the wheel, or None."""
    proc = run([python, "-m", "twine", "--no-color", "check", "--strict",
                path], env=tool_env())
    return None if proc.returncode == 0 else proc.stdout + proc.stderr


def auditwheel_show(python, path):
    proc = run([python, "-m", "auditwheel", "show", path], env=tool_env())
    if proc.returncode != 0:
        raise AssertionError("auditwheel show %s: %s" % (path, proc.stderr))
    return " ".join(proc.stdout.split())


def audit_problems(python, path):
    """Whether auditwheel's verdict is the manylinux tag the wheel claims:
    the newest glibc among its tags must be the one auditwheel found."""
    verdict = re.search(r'consistent with the following platform tag: '
                        r'"([^"]+)"', auditwheel_show(python, path)).group(1)
    glibc = sorted({tuple(map(int, m.groups())) for m in (
        re.search(r"manylinux_(\d+)_(\d+)_", t) for t in wheel_tags(path)[2])
        if m})
    want = tuple(map(int, re.search(r"manylinux_(\d+)_(\d+)_",
                                    verdict).groups()))
    if not glibc or glibc[-1] != want:
        return ("tagged for glibc %s, auditwheel says %s"
                % (glibc or "(no manylinux tag)", verdict))
    return None


def mutate(path, folder, rename=None, drop=(), edit=None, rehash=True):
    """A copy of the wheel at `path` in `folder`, altered: its name passed
    through rename(name), the files in `drop` removed, each file's bytes
    through edit(file, data); RECORD rewritten to match unless rehash is
    false.  Returns the copy's path."""
    name = os.path.basename(path)
    out = os.path.join(folder, rename(name) if rename else name)
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(
            out, "w", zipfile.ZIP_DEFLATED) as dst:
        files = {n: src.read(n) for n in src.namelist() if n not in drop}
        if edit:
            files = {n: edit(n, data) for n, data in files.items()}
        record = next(n for n in files if n.endswith(".dist-info/RECORD"))
        if rehash:
            lines = ["%s,%s,%d\n" % (n, record_hash(data), len(data))
                     for n, data in files.items()
                     if n != record and not n.endswith("/")]
            files[record] = "".join(lines + ["%s,,\n" % record]).encode()
        for n, data in files.items():
            dst.writestr(n, data)
    return out


def retag(tag_from, tag_to):
    """rename= and edit= for mutate(): one tag for another, in the file
    name and in the WHEEL file."""
    def rename(name):
        return name.replace(tag_from, tag_to)

    def edit(file, data):
        if file.endswith(".dist-info/WHEEL"):
            return data.replace(tag_from.encode(), tag_to.encode())
        return data
    return {"rename": rename, "edit": edit}


# --- the tests ----------------------------------------------------------

class WheelBuilt(unittest.TestCase):
    """Builds the wheels once (`make wheel`) for the whole file, into a
    folder of its own (WHEEL_DIR), so that no older wheel answers."""

    built = None            # "" once built, else why not
    dist = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if WheelBuilt.built is None:
            WheelBuilt.built = cls.build()

    @staticmethod
    def build():
        """"" when the wheels are built, else why not (a skip)."""
        WheelBuilt.dist = tempfile.mkdtemp(prefix="wheel-dist-")
        proc = run(["make", "--no-print-directory", "-C", str(support.ROOT),
                    "wheel", "PYTHON=" + sys.executable,
                    "WHEEL_DIR=" + WheelBuilt.dist], env=tool_env())
        if proc.returncode == 2 and " lacks " in proc.stderr:
            # Tools missing: make's one line, from "make wheel:" on.
            line = proc.stderr.strip().splitlines()[-1]
            return line[line.index("make wheel:"):]
        if proc.returncode != 0:
            return "make wheel failed:\n" + proc.stdout + proc.stderr
        WheelBuilt.output = proc.stdout
        return ""

    def setUp(self):
        super().setUp()
        if self.built:
            if self.built.startswith("make wheel failed"):
                self.fail(self.built)
            self.skipTest(self.built)
        self.tmp = tempfile.mkdtemp(prefix="wheel-test-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def wheel(self, name):
        """The one wheel of that distribution this interpreter built."""
        found = glob.glob(os.path.join(self.dist, name + "-*.whl"))
        self.assertEqual(len(found), 1, "make wheel left %s for %s"
                         % (found, name))
        return found[0]

    def need_auditwheel(self):
        if not have_module(sys.executable, "auditwheel"):
            self.skipTest("auditwheel is not installed for %s (a venv with "
                          "tests/requirements.txt has it): the wheels keep "
                          "the tag %s" % (sys.executable, LINUX_TAG))

    def names(self):
        """The distributions this interpreter builds."""
        return ["tales_from_ffi"] + (
            ["layout_abi3"] if sys.version_info >= (3, 11) else [])


def tearDownModule():
    for folder in [WheelBuilt.dist] + VENV_HOME:
        if folder:
            shutil.rmtree(folder, ignore_errors=True)


class TestBuiltWheels(WheelBuilt):
    """What `make wheel` wrote passes every check."""

    def test_make_wheel_says_each_step(self):
        steps = [line.split()[0] for line in self.output.splitlines()]
        for step in ("WHEEL", "TWINE", "DIST"):
            self.assertIn(step, steps, self.output)
        if sys.version_info < (3, 11):
            self.assertIn("  WHEEL     03-layout: skipped, its Limited API "
                          "build needs CPython 3.11+\n", self.output)

    def test_contents_tags_and_record(self):
        for name in self.names():
            with self.subTest(wheel=name):
                self.assertEqual(wheel_problems(self.wheel(name),
                                                WHEEL_MODULES[name]), [])

    def test_the_tags(self):
        platform = ("manylinux_2_\\d+_x86_64" if have_module(
            sys.executable, "auditwheel") else LINUX_TAG)
        tags = wheel_tags(self.wheel("tales_from_ffi"))[2]
        self.assertRegex(" ".join(tags), "^%s-%s-%s$"
                         % (PY_TAG, PY_TAG, platform))
        if sys.version_info >= (3, 11):
            tags = wheel_tags(self.wheel("layout_abi3"))[2]
            self.assertTrue(tags)
            for tag in tags:
                self.assertRegex(tag, "^cp311-abi3-(%s|manylinux1_x86_64)$"
                                 % platform)

    def test_twine_passes_them(self):
        for name in self.names():
            with self.subTest(wheel=name):
                self.assertIsNone(twine_problems(sys.executable,
                                                 self.wheel(name)))

    def test_auditwheel_finds_the_tag_they_carry(self):
        self.need_auditwheel()
        for name in self.names():
            with self.subTest(wheel=name):
                path = self.wheel(name)
                self.assertIsNone(audit_problems(sys.executable, path))
                show = auditwheel_show(sys.executable, path)
                # libc alone, and nothing to graft.
                self.assertIn("system-provided shared libraries: libc.so.6 "
                              "with versions", show)
                self.assertNotIn("libpython", show)

    def test_the_version_specific_wheel_names_its_extra(self):
        if not support.have_cffi():
            self.skipTest(support.CFFI_MISSING)
        with zipfile.ZipFile(self.wheel("tales_from_ffi")) as whl:
            metadata = whl.read(next(n for n in whl.namelist() if n.endswith(
                ".dist-info/METADATA"))).decode()
        # Road 2's module needs cffi's runtime, which the extra names.
        self.assertIn("Provides-Extra: cffi", metadata)
        self.assertRegex(metadata, re.compile(
            r"^Requires-Dist: cffi ?\(?>=[\d.]+\)? ?; "
            r"extra == .cffi.$", re.M))
        self.assertIn("Description-Content-Type: text/markdown", metadata)


class TestChecksRejectMutants(WheelBuilt):
    """Each check above fails on a wheel altered to break what it checks."""

    def setUp(self):
        super().setUp()
        self.real = self.wheel("tales_from_ffi")
        self.modules = WHEEL_MODULES["tales_from_ffi"]

    def test_a_tag_the_file_name_does_not_say(self):
        bad = mutate(self.real, self.tmp, edit=lambda f, data: data.replace(
            b"Tag: " + PY_TAG.encode(), b"Tag: cp399")
            if f.endswith("/WHEEL") else data)
        self.assertRegex(" ".join(wheel_problems(bad, self.modules)),
                         "^WHEEL says .'cp399-")

    def test_a_missing_module(self):
        module = "tales_from_ffi" + support.EXT_SUFFIX
        bad = mutate(self.real, self.tmp, drop=[module])
        self.assertEqual(wheel_problems(bad, self.modules), [
            "holds %s, expected %s" % (sorted(set(self.modules) - {module}),
                                       sorted(self.modules))])

    def test_a_file_changed_after_the_record(self):
        module = "tales_from_ffi" + support.EXT_SUFFIX
        bad = mutate(self.real, self.tmp, rehash=False,
                     edit=lambda f, data: data + b"\0" if f == module
                     else data)
        self.assertEqual(wheel_problems(bad, self.modules),
                         ["%s does not match its RECORD hash" % module])

    def test_metadata_twine_refuses(self):
        # No long description: the METADATA body (the readme) cut off.
        def edit(file, data):
            if file.endswith(".dist-info/METADATA"):
                return data.split(b"\n\n")[0].replace(
                    b"Description-Content-Type: text/markdown\n", b"") + b"\n"
            return data
        bad = mutate(self.real, self.tmp, edit=edit)
        self.assertEqual(wheel_problems(bad, self.modules), [])
        complaint = twine_problems(sys.executable, bad)
        self.assertIsNotNone(complaint)
        # twine 7.0: "`long_description` missing."; Debian's 4.0.2 may
        # instead fail to render the empty text as reStructuredText.
        self.assertIn("`long_description`", complaint)

    def test_a_manylinux_tag_older_than_its_symbols(self):
        self.need_auditwheel()
        platform = wheel_tags(self.real)[2][0].split("-")[2]
        bad = mutate(self.real, self.tmp,
                     **retag(platform, "manylinux_2_17_x86_64"))
        self.assertEqual(wheel_problems(bad, self.modules), [])
        self.assertEqual(audit_problems(sys.executable, bad),
                         "tagged for glibc [(2, 17)], auditwheel says %s"
                         % platform)


class TestArticleFromTheWheel(WheelBuilt):
    """hello_mic_testing.py, run where only the installed wheel can answer."""

    def run_article(self, venv_python, shim=False):
        folder = os.path.join(self.tmp, "user")
        os.mkdir(folder)
        shutil.copy(support.stage_dir("05") / "host" / "hello_mic_testing.py",
                    folder)
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
        python = venv(HERE)
        proc = pip(python, "install", "--no-index",
                   self.wheel("tales_from_ffi"))
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        # Installed into the venv's site-packages, nowhere near the tree.
        where = self.where(python, "tales_from_ffi")
        self.assertIn(os.path.join(VENV_HOME[0], HERE, "lib"), where)
        self.assertTrue(where.endswith(support.EXT_SUFFIX), where)
        self.check_article(self.run_article(python))

    @unittest.skipUnless(support.have_cffi(), support.CFFI_MISSING)
    def test_road_2_with_the_cffi_extra(self):
        python = venv("road-2")
        lend_site_packages(python, "cffi")
        proc = pip_install(python, self.dist, "tales-from-ffi[cffi]")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        where = self.where(python, "_logger_cffi")
        self.assertIn(os.path.join(VENV_HOME[0], "road-2", "lib"), where)
        self.assertTrue(where.endswith(".abi3.so"), where)
        self.check_article(self.run_article(python, shim=True))


class TestOtherPythons(WheelBuilt):
    """One abi3 wheel for every CPython from 3.11 on; a version-specific
    wheel for its own version only."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.others = other_pythons() if cls.built == "" else {}

    def setUp(self):
        super().setUp()
        if not self.others:
            self.skipTest("only CPython %s found (name others in FFI_PYTHONS"
                          ", or put python3.1N on PATH): no other version to"
                          " install the wheels into" % HERE)

    def compatible_tags(self, venv_python):
        """The tags pip accepts there, best first (`pip debug --verbose`,
        whose output pip says may change without notice: the indented
        lines after 'Compatible tags: N')."""
        proc = pip(venv_python, "debug", "--verbose")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        lines = proc.stdout.splitlines()
        at = next(i for i, line in enumerate(lines)
                  if line.startswith("Compatible tags: "))
        count = int(lines[at].split(": ")[1])
        tags = [line.strip() for line in lines[at + 1:at + 1 + count]]
        self.assertEqual(len(tags), count)
        return tags

    def test_the_abi3_wheel_installs_and_imports_from_3_11_on(self):
        if sys.version_info < (3, 11):
            self.skipTest("CPython %s builds no abi3 wheel (the Limited "
                          "API's Py_buffer is 3.11+)" % HERE)
        newer = sorted(v for v in self.others
                       if tuple(map(int, v.split("."))) >= (3, 11))
        if not newer:
            self.skipTest("no other CPython 3.11+ found (FFI_PYTHONS, "
                          "python3.1N on PATH)")
        abi3 = self.wheel("layout_abi3")
        answers = {}
        for version in [HERE] + newer:
            with self.subTest(python=version):
                python = venv(version, self.others.get(version,
                                                       sys.executable))
                self.assertTrue(set(wheel_tags(abi3)[2]) & set(
                    self.compatible_tags(python)))
                proc = pip_install(python, self.dist, "layout-abi3")
                self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
                proc = run([python, "-c", "import layout_abi3 as m; "
                            "print(m.__file__); print(repr(m.layout()))"],
                           cwd=self.tmp)
                self.assertEqual(proc.returncode, 0, proc.stderr)
                where, answers[version] = proc.stdout.splitlines()
                self.assertTrue(where.startswith(VENV_HOME[0]), where)
                self.assertTrue(where.endswith("layout_abi3.abi3.so"), where)
        # The one file answers the same everywhere (this version's answer
        # is stage 03's tests' to check).
        self.assertIn("'person'", answers[HERE])
        self.assertEqual(set(answers.values()), {answers[HERE]})

    def test_the_version_specific_wheel_is_refused_elsewhere(self):
        wheel = self.wheel("tales_from_ffi")
        ours = wheel_tags(wheel)[2]
        for version, exe in sorted(self.others.items()):
            with self.subTest(python=version):
                python = venv(version, exe)
                # None of its tags is among those that version accepts ...
                self.assertEqual(set(ours) & set(
                    self.compatible_tags(python)), set())
                # ... so pip refuses the file, and finds nothing to install.
                proc = pip(python, "install", "--no-index", wheel)
                self.assertNotEqual(proc.returncode, 0, proc.stdout)
                self.assertIn("%s is not a supported wheel on this platform"
                              % os.path.basename(wheel), proc.stderr)
                proc = pip_install(python, self.dist, "tales-from-ffi")
                self.assertNotEqual(proc.returncode, 0, proc.stdout)
                self.assertIn("No matching distribution found for "
                              "tales-from-ffi", proc.stderr)
                # The mutant: retagged for that version, pip installs it
                # (the tag is all pip checks), and the import fails: the
                # module's file name is for this version's ABI alone.
                theirs = "cp" + version.replace(".", "")
                bad = mutate(wheel, self.tmp, **retag(
                    "%s-%s" % (PY_TAG, PY_TAG), "%s-%s" % (theirs, theirs)))
                proc = pip(python, "install", "--no-index", bad)
                self.assertEqual(proc.returncode, 0, proc.stderr)
                proc = run([python, "-c", "import tales_from_ffi"])
                self.assertIn("ModuleNotFoundError: No module named "
                              "'tales_from_ffi'", proc.stderr)


if __name__ == "__main__":
    unittest.main()
