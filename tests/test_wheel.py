"""Packaging, the quick checks (docs/06-packaging.md).

* Each stage's setup.py compiles what the stage's Makefile compiles: the
  same modules from the same C files, the same Limited API version; read
  from setup.py's own arguments and from `make -n`, nothing is built.
* `make wheel` with an interpreter that lacks setuptools (a bare venv)
  says so in one line and exits with status 2.
* The wheels that `make wheel` left in dist/ for this interpreter (if
  any): file names and WHEEL tags agree (PEP 427), the abi3 wheel is
  tagged cp311-abi3, each holds the modules it should, and every file
  matches its RECORD hash.

Installing them into a fresh venv, on this and newer CPythons, is the
slow part: tests/test_gate_wheel.py.
"""
import base64
import functools
import glob
import hashlib
import json
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

DIST = support.ROOT / "dist"
PY_TAG = "cp%d%d" % sys.version_info[:2]

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
SETUP_STAGES = ("03", "05")


@functools.lru_cache(maxsize=None)
def all_setup_arguments():
    with tempfile.TemporaryDirectory() as tmp:
        folders = []
        for stage in SETUP_STAGES:
            folders.append(os.path.join(tmp, stage))
            os.mkdir(folders[-1])
            shutil.copy(support.stage_dir(stage) / "setup.py", folders[-1])
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
        self.assertEqual((lib_name, lib_info["sources"]),
                         ("logger_lib", ["logger_lib.c"]))
        self.assertEqual(args["ext_modules"][0]["name"], "tales_from_ffi")
        self.assertEqual(args["ext_modules"][0]["sources"], ["logger_capi.c"])
        # Every module in both is built with -pthread, as the Makefile says.
        self.assertIn("-pthread", lib_info["cflags"])
        for command in (library, capi, cffi_mod):
            self.assertIn("-pthread", command)
        self.assertEqual(args["cmdclass"], ["build_ext"])
        if support.have_cffi():
            # Road 2: the builder the Makefile runs, and its wrapper.
            self.assertIn("build_logger_cffi.py _logger_cffi.c",
                          make_text("05"))
            self.assertEqual(args["cffi_modules"],
                             ["build_logger_cffi.py:ffi"])
            self.assertEqual(args["py_modules"], ["logger_cffi"])
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
        self.assertEqual(sorted(ext["sources"]), c_inputs(command))
        self.assertEqual(ext["define_macros"],
                         [["Py_LIMITED_API", "0x030b0000"]])
        self.assertTrue(ext["py_limited_api"])
        # The wheel's tag says the same version as the macro: 0x030b -> 3.11.
        self.assertEqual(args["options"]["bdist_wheel"]["py_limited_api"],
                         "cp311")


class TestMakeWheelWithoutTools(unittest.TestCase):
    def test_one_line_and_status_2(self):
        # A venv without pip and without the system's site-packages: an
        # interpreter that has neither setuptools nor wheel.
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([sys.executable, "-m", "venv", "--without-pip",
                            tmp], check=True, timeout=60)
            proc = subprocess.run(
                ["make", "--no-print-directory", "-C", str(support.ROOT),
                 "wheel", "PYTHON=" + os.path.join(tmp, "bin", "python")],
                capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
        self.assertEqual(proc.stdout, "")
        lines = proc.stderr.splitlines()
        self.assertEqual(len(lines), 1, proc.stderr)
        self.assertIn("lacks setuptools, wheel or pip (install: ", lines[0])


def wheel_tags(path):
    """PEP 427: {distribution}-{version}(-{build})?-{python}-{abi}-{platform}
    .whl; returns (name, version, [python-abi-platform tags])."""
    parts = os.path.basename(path)[:-len(".whl")].split("-")
    name, version = parts[0], parts[1]
    python, abi, platform = parts[-3:]
    # PEP 425: each part may be a dot-separated set; expand them all.
    tags = ["%s-%s-%s" % (p, a, f) for p in python.split(".")
            for a in abi.split(".") for f in platform.split(".")]
    return name, version, tags


def read_wheel(path):
    whl = zipfile.ZipFile(path)
    name, version, tags = wheel_tags(path)
    info = "%s-%s.dist-info/" % (name, version)
    fields = [line.split(": ", 1) for line in
              whl.read(info + "WHEEL").decode().splitlines() if ": " in line]
    return whl, info, tags, fields


@unittest.skipUnless(glob.glob(str(DIST / "*.whl")),
                     "no wheels in dist/ (make wheel builds them)")
class TestBuiltWheels(unittest.TestCase):

    def wheels(self, pattern):
        found = sorted(glob.glob(str(DIST / pattern)))
        if not found:
            self.skipTest("no %s in dist/ (make wheel PYTHON=%s)"
                          % (pattern, sys.executable))
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


if __name__ == "__main__":
    unittest.main()
