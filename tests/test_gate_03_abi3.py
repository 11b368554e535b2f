"""Stage 03's promise of the Limited API, kept by every newer CPython on this
machine: the one layout_abi3.abi3.so built here loads and answers the same
there, where layout_capi (built for this version only) is not even found.

A gate (make gates): it starts every other interpreter it can find, which
takes seconds.  The same answers on this interpreter are checked by
tests/test_03_layout.py (TestLimitedApi).
"""
import glob
import os
import shutil
import subprocess
import sys
import unittest

import support

# The Limited API build needs Py_buffer, which joined the Limited API in
# 3.11: the Makefile does not build it for 3.10.
HAVE_ABI3 = sys.version_info >= (3, 11)
ABI3_MISSING = ("CPython 3.10: layout_abi3.abi3.so is not built, because "
                "the buffer protocol (Py_buffer) joined the Limited API in "
                "3.11")

# Run by each candidate: says what it is, and only if it is newer than us
# and has a GIL (a free-threaded build cannot load abi3 modules) does it
# import the .abi3.so and print its answers.
PROBE = """
import sys, sysconfig
newer = sys.version_info[:2] > %(here)r
no_gil = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
print("%%d.%%d" %% sys.version_info[:2], newer and not no_gil)
if newer and not no_gil:
    sys.path.insert(0, %(build)r)
    import layout_abi3 as m
    print(repr((m.layout(), m.walk(%(items)r),
                m.total_age(bytes(range(16))))))
    try:
        import layout_capi
    except ModuleNotFoundError:
        print("layout_capi: not found")
"""
ITEMS = [1, "x", None, {1}, 2.5, [2], b"b", {3: 4}, True]


def candidates():
    """Interpreters that may be other CPythons than this one: those named in
    FFI_PYTHONS (paths separated by os.pathsep, e.g. the python of each
    virtual environment), python3.10 ... python3.19 on PATH, and pyenv's
    (a pyenv shim for a version not set fails, and is ignored).  Callers
    ask each one its version."""
    found = [exe for exe in os.environ.get("FFI_PYTHONS", "").split(
        os.pathsep) if exe]
    found += [shutil.which("python3.%d" % minor) for minor in range(10, 20)]
    pyenv = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    found += sorted(glob.glob(os.path.join(pyenv, "versions", "3.*",
                                           "bin", "python3")))
    # A venv's python is a link to its base: keep the path as given (its
    # site-packages are the venv's), only drop exact repeats.
    return list(dict.fromkeys(exe for exe in found if exe))


@unittest.skipUnless(HAVE_ABI3, ABI3_MISSING)
class TestAbi3InNewerPythons(unittest.TestCase):
    def test_the_abi3_build_loads_in_newer_pythons_and_the_other_does_not(
            self):
        here = support.import_stage("03", "layout_abi3")
        want = repr((here.layout(), here.walk(ITEMS),
                     here.total_age(bytes(range(16)))))
        code = PROBE % {"here": sys.version_info[:2], "items": ITEMS,
                        "build": str(support.build_dir("03"))}
        # All at once: each interpreter's start-up is most of the time.
        running = []
        for exe in candidates():
            try:
                running.append((exe, subprocess.Popen(
                    [exe, "-c", code], stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE, text=True)))
            except OSError:
                continue
        checked = {}
        for exe, proc in running:
            out, err = proc.communicate(timeout=120)
            lines = out.splitlines()
            if not lines or len(lines[0].split()) != 2:
                continue                # not a working interpreter
            version, newer = lines[0].split()
            if newer != "True" or version in checked:
                continue
            self.assertEqual(proc.returncode, 0, "%s: %s" % (version, err))
            self.assertEqual(lines[1:], [want, "layout_capi: not found"],
                             version)
            checked[version] = exe
        if not checked:
            self.skipTest("no CPython newer than %d.%d found (install one, "
                          "e.g. python3.12, to check that the .abi3.so loads"
                          " there)" % sys.version_info[:2])


if __name__ == "__main__":
    unittest.main()
