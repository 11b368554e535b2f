"""Packaging, the quick checks (docs/packaging.md).

* Each stage's packaging/setup.py compiles what the stage's Makefile
  compiles: the same modules from the same C files (one folder up, seen
  from packaging/), the same Limited API version; read from setup.py's
  own arguments and from `make -n`, nothing is built.
* Each packaging/pyproject.toml names the back end and the metadata an
  index takes (a readme with its content type), and stage 03's says the
  same Python version as its Limited API macro and its wheel tag.
* `make wheel` with an interpreter that lacks the tools (a bare venv)
  says so in one line, with the command that installs them, and exits
  with status 2.

Building the wheels (python -m build, auditwheel, twine), reading them
(tags, contents, RECORD hashes) and installing them into fresh venvs of
every CPython found is the slow part: tests/test_gate_wheel.py.
"""
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import support

try:
    import tomllib                      # 3.11+
except ImportError:
    try:
        import tomli as tomllib         # 3.10, from tests/requirements.txt
    except ImportError:
        tomllib = None

# Runs copies of setup.py files (folders given as arguments) with
# setuptools.setup() replaced: prints each one's arguments as a JSON line
# instead of building anything.  One interpreter for all: importing
# setuptools is most of the time.
CAPTURE = r"""
import json, os, runpy, sys
import setuptools

def setup(**kw):
    def ext(e):
        return {"name": e.name, "sources": e.sources,
                "define_macros": e.define_macros,
                "py_limited_api": e.py_limited_api}
    out = {k: v for k, v in kw.items() if k not in ("ext_modules", "cmdclass")}
    out["ext_modules"] = [ext(e) for e in kw.get("ext_modules", [])]
    out["cmdclass"] = sorted(kw.get("cmdclass", {}))
    print(json.dumps(out, default=str))

setuptools.setup = setup
for folder in sys.argv[1:]:
    path = os.path.join(folder, "setup.py")
    sys.argv = [path]
    try:
        runpy.run_path(path, run_name="__main__")
    except SystemExit as exit:          # stage 03's setup.py on 3.10
        print(json.dumps({"exit": str(exit)}))
"""
# The stages that ship a wheel, as the Makefile's WHEEL_STAGES finds them.
SETUP_STAGES = tuple(s.name[:2] for s in support.stages()
                     if (s / "packaging" / "pyproject.toml").is_file())


def packaging(stage):
    return support.stage_dir(stage) / "packaging"


def in_stage(path):
    """A path setup.py gives (relative to packaging/) as the stage's
    Makefile names it (relative to the stage folder): ../x.c -> x.c."""
    return os.path.normpath(os.path.join("packaging", path))


@functools.lru_cache(maxsize=None)
def all_setup_arguments():
    with tempfile.TemporaryDirectory() as tmp:
        folders = []
        for stage in SETUP_STAGES:
            folders.append(os.path.join(tmp, stage))
            os.mkdir(folders[-1])
            shutil.copy(packaging(stage) / "setup.py", folders[-1])
        proc = subprocess.run([sys.executable, "-c", CAPTURE, *folders],
                              capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise AssertionError("setup.py: %s" % proc.stderr)
    found = [json.loads(line) for line in proc.stdout.splitlines()
             if line.startswith("{")]
    return dict(zip(SETUP_STAGES, found))


def setup_arguments(stage):
    """What the stage's setup.py passes to setup(), as plain data."""
    return all_setup_arguments()[stage]


@functools.lru_cache(maxsize=None)
def make_text(stage, *targets):
    """What `make -n -B` would run for targets (default: all)."""
    proc = subprocess.run(
        ["make", "-n", "-B", "--no-print-directory", "-C",
         str(support.stage_dir(stage)), "PYTHON=" + sys.executable,
         "HAVE_CFFI=yes", *targets],
        capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise AssertionError(proc.stderr)
    return proc.stdout


def make_commands(stage, *targets):
    """The compile commands `make -n -B` would run for targets, by product:
    {"logger_lib.o": ["cc", ..., "-c", ...], ...}."""
    commands = {}
    for line in make_text(stage, *targets).splitlines():
        words = line.split("&&")[-1].split()
        if "-o" in words:
            at = words.index("-o")
            commands[os.path.basename(words[at + 1])] = (
                words[:at] + words[at + 2:])
    return commands


def c_inputs(command):
    return sorted(w for w in command if w.endswith((".c", ".o")))


def have_setuptools():
    try:
        import setuptools  # noqa: F401
    except ImportError:
        return False
    return True


NO_SETUPTOOLS = ("setuptools is not installed for this interpreter "
                 "(install: python3 -m pip install setuptools; Debian's own "
                 "python3: sudo apt install python3-setuptools)")


@unittest.skipUnless(have_setuptools(), NO_SETUPTOOLS)
class TestSetupMatchesMakefile(unittest.TestCase):

    def test_05_both_roads_from_the_same_files(self):
        args = setup_arguments("05")
        make = make_commands("05")
        capi = make["tales_from_ffi" + support.EXT_SUFFIX]
        cffi_mod = make["_logger_cffi" + support.EXT_SUFFIX]
        library = make["logger_lib.o"]
        # Make: logger_lib.o from logger_lib.c, linked into both modules.
        self.assertEqual(c_inputs(library), ["logger_lib.c"])
        self.assertEqual(c_inputs(capi), ["logger_capi.c", "logger_lib.o"])
        self.assertEqual(c_inputs(cffi_mod), ["_logger_cffi.c", "logger_lib.o"])
        # setup.py: the same library (build_clib), linked into every module.
        (lib_name, lib_info), = args["libraries"]
        self.assertEqual(lib_name, "logger_lib")
        self.assertEqual([in_stage(p) for p in lib_info["sources"]],
                         ["logger_lib.c"])
        self.assertEqual(args["ext_modules"][0]["name"], "tales_from_ffi")
        self.assertEqual([in_stage(p) for p in args["ext_modules"][0][
            "sources"]], ["logger_capi.c"])
        # Every module in both is built with -pthread, as the Makefile says.
        self.assertIn("-pthread", lib_info["cflags"])
        for command in (library, capi, cffi_mod):
            self.assertIn("-pthread", command)
        self.assertEqual(args["cmdclass"], ["build_ext"])
        if support.have_cffi():
            # Road 2: the builder the Makefile runs, and its wrapper.
            self.assertIn("build_logger_cffi.py _logger_cffi.c",
                          make_text("05"))
            self.assertEqual([in_stage(m) for m in args["cffi_modules"]],
                             ["build_logger_cffi.py:ffi"])
            # The wrapper is the stage's logger_cffi.py, one folder up,
            # with the twin of common.h that it imports.
            self.assertEqual(args["py_modules"], ["logger_cffi", "_common"])
            self.assertEqual(in_stage(args["package_dir"][""]), ".")
            self.assertIn("cffi", args["extras_require"])

    @unittest.skipIf(sys.version_info < (3, 11),
                     "CPython 3.10: no Limited API build of stage 03")
    def test_03_the_limited_api_build(self):
        args = setup_arguments("03")
        command = make_commands("03", "layout_abi3.abi3.so")[
            "layout_abi3.abi3.so"]
        macro = [w for w in command if w.startswith("-DPy_LIMITED_API=")]
        self.assertEqual(macro, ["-DPy_LIMITED_API=0x030b0000"])
        (ext,) = args["ext_modules"]
        self.assertEqual(ext["name"], "layout_abi3")
        self.assertEqual(sorted(in_stage(p) for p in ext["sources"]),
                         c_inputs(command))
        self.assertEqual(ext["define_macros"],
                         [["Py_LIMITED_API", "0x030b0000"]])
        self.assertTrue(ext["py_limited_api"])
        # The wheel's tag says the same version as the macro: 0x030b -> 3.11.
        self.assertEqual(args["options"]["bdist_wheel"]["py_limited_api"],
                         "cp311")


def pyproject(stage):
    with open(packaging(stage) / "pyproject.toml", "rb") as f:
        return tomllib.load(f)


@unittest.skipIf(tomllib is None, "no TOML reader for CPython 3.10 (install"
                 ": python3 -m pip install -r tests/requirements.txt)")
class TestPyproject(unittest.TestCase):
    def test_back_end_and_metadata(self):
        for stage in SETUP_STAGES:
            with self.subTest(stage=stage):
                data = pyproject(stage)
                self.assertEqual(data["build-system"]["build-backend"],
                                 "setuptools.build_meta")
                project = data["project"]
                for field in ("name", "version", "description",
                              "requires-python"):
                    self.assertTrue(project.get(field), field)
                # twine check --strict refuses a wheel without a long
                # description, or with one whose markup it cannot render.
                self.assertEqual(project["readme"]["content-type"],
                                 "text/markdown")
                self.assertGreater(len(project["readme"]["text"]), 100)

    def test_05_declares_what_setup_py_fills_in(self):
        # setup.py passes extras_require (the cffi version it built with):
        # setuptools takes it only for a field pyproject.toml calls dynamic.
        self.assertEqual(pyproject("05")["project"]["dynamic"],
                         ["optional-dependencies"])
        if support.have_cffi() and have_setuptools():
            self.assertIn("cffi", setup_arguments("05")["extras_require"])

    @unittest.skipIf(sys.version_info < (3, 11),
                     "CPython 3.10: no Limited API build of stage 03")
    @unittest.skipUnless(have_setuptools(), NO_SETUPTOOLS)
    def test_03_one_version_in_three_places(self):
        # Py_LIMITED_API=0x030b0000, the tag cp311, Requires-Python >=3.11.
        (ext,) = setup_arguments("03")["ext_modules"]
        (macro, value), = ext["define_macros"]
        version = "%d.%d" % (int(value[2:4], 16), int(value[4:6], 16))
        self.assertEqual(version, "3.11")
        self.assertEqual(pyproject("03")["project"]["requires-python"],
                         ">=" + version)
        self.assertEqual(setup_arguments("03")["options"]["bdist_wheel"][
            "py_limited_api"], "cp" + version.replace(".", ""))


class TestMakeWheelFindsTheStages(unittest.TestCase):
    def test_each_packaging_folder_gets_the_shared_steps(self):
        # -n: the top level's loop runs each stage's make (a line with
        # $(MAKE) runs even then), which prints its recipe, common.mk's.
        import doctor
        if doctor.wheel_tools_missing():
            self.skipTest("the wheel tools are not installed for this "
                          "interpreter (see the test below)")
        proc = subprocess.run(
            ["make", "-n", "--no-print-directory", "-C", str(support.ROOT),
             "wheel", "PYTHON=" + sys.executable, "WHEEL_DIR=/nowhere"],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertTrue(SETUP_STAGES)
        for stage in support.stages():
            with self.subTest(stage=stage.name):
                said = '"  WHEEL     %s' % stage.name in proc.stdout
                self.assertEqual(said, stage.name[:2] in SETUP_STAGES,
                                 proc.stdout)
        # Built from packaging/, as pyproject.toml is found there; the
        # wheels go where WHEEL_DIR says.
        self.assertIn("--outdir packaging/build/wheels/raw", proc.stdout)
        self.assertIn(" packaging > packaging/build/wheels/log", proc.stdout)
        self.assertIn(" /nowhere/ && echo", proc.stdout)


class TestMakeWheelWithoutTools(unittest.TestCase):
    def make_wheel(self, python):
        # -n: where the tools are there, print the recipe, build nothing.
        # No PYTHONPATH: the interpreter sees its own packages only.
        env = dict(os.environ)
        env.pop("PYTHONPATH", None)
        return subprocess.run(
            ["make", "-n", "--no-print-directory", "-C", str(support.ROOT),
             "wheel", "PYTHON=" + python],
            capture_output=True, text=True, timeout=60, env=env)

    def test_a_venv_one_line_and_status_2(self):
        # A venv without pip and without the system's site-packages: an
        # interpreter that has none of the tools.
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([sys.executable, "-m", "venv", "--without-pip",
                            tmp], check=True, timeout=60)
            python = os.path.join(tmp, "bin", "python")
            proc = self.make_wheel(python)
        self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
        self.assertEqual(proc.stdout, "")
        lines = proc.stderr.splitlines()
        self.assertEqual(len(lines), 1, proc.stderr)
        self.assertTrue(lines[0].endswith(
            "*** make wheel: %s lacks build, setuptools, twine (install: %s "
            "-m pip install -r tests/requirements.txt).  Stop." % (
                python, python)), lines[0])

    def test_each_kind_of_interpreter_gets_its_own_command(self):
        # What the line says for a Debian python3 that lacks the tools
        # (and for the other kinds), asked of the function make calls.
        import doctor
        self.assertEqual(doctor.install_wheel_tools(
            ["build", "twine"], kind="debian"),
            "sudo apt install python3-build twine")
        self.assertEqual(doctor.install_wheel_tools(
            ["setuptools"], kind="venv", executable="/v/bin/python"),
            "/v/bin/python -m pip install -r tests/requirements.txt")
        self.assertIn("/opt/py/bin/python3 -m venv .venv",
                      doctor.install_wheel_tools(
                          ["build"], kind="own", executable="/opt/py/bin/python3"))

    def test_what_is_missing_is_asked_module_by_module(self):
        import doctor
        self.assertEqual(doctor.wheel_tools_missing(lambda m: True), [])
        self.assertEqual(doctor.wheel_tools_missing(lambda m: False),
                         ["build", "setuptools", "twine"])
        # setuptools before 70.1 without the wheel package: no bdist_wheel
        self.assertEqual(doctor.wheel_tools_missing(
            lambda m: m in ("build", "setuptools", "twine")), ["wheel"])
        self.assertEqual(doctor.wheel_tools_missing(
            lambda m: m != "twine"), ["twine"])

if __name__ == "__main__":
    unittest.main()
