"""`make doctor`: is this machine ready for the workshop?

    python3 tests/harness/doctor.py  # or: make doctor [PYTHON=python3.12]

Checks the interpreter (3.10 or newer), a C compiler, the interpreter's C
headers (a tiny extension is compiled against them), make, cffi, valgrind
and the sanitizers (a tiny program built with -fsanitize=address,undefined
is run, then the interpreter is started with the runtime preloaded, as
`make check-N` does).  For each thing missing it prints the command that
installs it.  The exit status is 1 only when something required is missing
(the interpreter's version, a compiler, the headers); the rest is optional
and the workshop runs without it.
"""

import os
import platform
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent          # tests/harness
sys.path.insert(0, str(HERE))

PY = "%d.%d" % sys.version_info[:2]
# The interpreter's own name for its tools: python3.11 -m pip, python3.11-dev.
PY_CMD = "python%s" % PY
ROOT = HERE.parent.parent
REQUIREMENTS = "tests/requirements.txt"


def interpreter_kind(prefix=None, base_prefix=None, stdlib=None,
                     executable=None):
    """Which road installs a package into this interpreter:

    "venv"    a virtual environment: its own pip installs into it;
    "debian"  Debian's (or Ubuntu's) default python3, which marks itself
              EXTERNALLY-MANAGED (PEP 668) and gets cffi from apt;
    "other"   a python3.X that Debian packages nothing for (deadsnakes,
              an older default) or that pip may not touch;
    "own"     an interpreter of your own (pyenv, python.org, a build):
              a virtual environment made from it keeps it clean.
    """
    prefix = sys.prefix if prefix is None else prefix
    base_prefix = sys.base_prefix if base_prefix is None else base_prefix
    stdlib = sysconfig.get_path("stdlib") if stdlib is None else stdlib
    executable = sys.executable if executable is None else executable
    if prefix != base_prefix:
        return "venv"
    if (Path(stdlib) / "EXTERNALLY-MANAGED").is_file():
        default = Path("/usr/bin/python3")
        if default.exists() and Path(executable).resolve() == \
                default.resolve():
            return "debian"
        return "other"
    return "own"


def pinned(package):
    """package==version as tests/requirements.txt pins it, else package."""
    try:
        lines = (ROOT / REQUIREMENTS).read_text().splitlines()
    except OSError:
        return package
    for line in lines:
        spec = line.split("#")[0].split(";")[0].strip()
        if spec.lower().startswith(package.lower() + "=="):
            return spec
    return package


def install_cffi(kind=None, executable=None):
    """The one command that puts cffi into this interpreter."""
    kind = interpreter_kind() if kind is None else kind
    exe = sys.executable if executable is None else executable
    if kind == "venv":
        return "%s -m pip install %s" % (exe, pinned("cffi"))
    if kind == "debian":
        return "sudo apt-get install python3-cffi"
    venv = ".venv-%s" % PY
    return ("%s -m venv %s && %s/bin/python -m pip install -r %s, then "
            "PYTHON=%s/bin/python" % (exe, venv, venv, REQUIREMENTS, venv))


# What `make wheel` needs in the interpreter, and Debian's package of each.
WHEEL_TOOLS_APT = {"build": "python3-build", "setuptools": "python3-setuptools",
                   "wheel": "python3-wheel", "twine": "twine"}


def wheel_tools_missing(have=None):
    """The tools `make wheel` needs that this interpreter cannot import.
    bdist_wheel is setuptools' own from 70.1 on, the wheel package's
    before.  Not from the current folder: a stage's build/ would pass for
    a package named build."""
    if have is None:
        import importlib.util
        path = [p for p in sys.path if p not in ("", os.getcwd())]

        def have(name):
            saved = sys.path[:]
            sys.path[:] = path
            try:
                return importlib.util.find_spec(name) is not None
            except ImportError:
                return False
            finally:
                sys.path[:] = saved
    missing = [m for m in ("build", "setuptools", "twine") if not have(m)]
    if "setuptools" not in missing and not have("wheel") and \
            not have("setuptools.command.bdist_wheel"):
        missing.append("wheel")
    return missing


def install_wheel_tools(missing, kind=None, executable=None):
    """The one command that gives this interpreter the tools it lacks."""
    kind = interpreter_kind() if kind is None else kind
    exe = sys.executable if executable is None else executable
    if kind == "venv":
        return "%s -m pip install -r %s" % (exe, REQUIREMENTS)
    if kind == "debian":
        return "sudo apt install " + " ".join(WHEEL_TOOLS_APT[m]
                                              for m in missing)
    return ("a virtual environment: %s -m venv .venv && .venv/bin/python -m "
            "pip install -r %s, then make wheel PYTHON=.venv/bin/python"
            % (exe, REQUIREMENTS))


def install_package(package, kind=None, executable=None):
    """The one command that puts a package of tests/requirements.txt (one
    the examples themselves do not need) into this interpreter: its own
    pip in a venv, else a venv made from it (Debian's own python3 included:
    its packages of these tools are older than the pinned ones)."""
    kind = interpreter_kind() if kind is None else kind
    exe = sys.executable if executable is None else executable
    if kind == "venv":
        return "%s -m pip install %s" % (exe, pinned(package))
    return install_cffi(kind="own", executable=exe)


def cffi_missing(executable=None):
    """The one line every stage, test and target says when cffi is not
    there: what is missing, for which interpreter, and how to get it."""
    exe = sys.executable if executable is None else executable
    return "cffi is not installed for %s: road 2 (cffi) is skipped " \
        "(install: %s)" % (exe, install_cffi(executable=exe))


def run(cmd, **kwargs):
    try:
        return subprocess.run(cmd, capture_output=True, text=True,
                              timeout=120, **kwargs)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return subprocess.CompletedProcess(cmd, 127, "", str(exc))


def compiler():
    """The C compiler make will use: $CC, else cc, gcc or clang."""
    if os.environ.get("CC"):
        name = os.environ["CC"]
        return name if shutil.which(name.split()[0]) else None
    for name in ["cc", "gcc", "clang"]:
        if shutil.which(name):
            return name
    return None


def first_line(text):
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[0].strip() if lines else ""


def build(tmp, source, command, output):
    """Write `source` to a .c file in the folder `tmp` and compile it to
    the file `output` there with command + [-o output, source file].
    Returns the finished process and the path of `output`."""
    src, out = Path(tmp) / "check.c", Path(tmp) / output
    src.write_text(source)
    return run(command + ["-o", str(out), str(src)]), out


# Each check returns (ok, what it found or why not).

def check_python():
    version = platform.python_version()
    if sys.version_info < (3, 10):
        return False, "CPython %s: these examples need 3.10 or newer" % version
    return True, "%s %s (%s)" % (platform.python_implementation(), version,
                                 sys.executable)


def check_compiler():
    cc = compiler()
    if cc is None:
        if os.environ.get("CC"):
            return False, "CC=%s is not found" % os.environ["CC"]
        return False, "no C compiler (tried cc, gcc, clang)"
    with tempfile.TemporaryDirectory() as tmp:
        proc, exe = build(tmp, "#include <stdio.h>\nint main(void) "
                          "{ puts(\"hello\"); return 0; }\n",
                          cc.split() + ["-std=c11", "-Wall", "-Wextra",
                                        "-Werror"], "hello")
        if proc.returncode != 0:
            return False, "%s cannot build a C program: %s" % (
                cc, first_line(proc.stderr))
        if run([str(exe)]).stdout.strip() != "hello":
            return False, "%s builds programs that do not run" % cc
    return True, "%s: %s" % (cc, first_line(run(cc.split() + ["--version"])
                                            .stdout))


def check_headers():
    include = sysconfig.get_paths()["include"]
    header = Path(include) / "Python.h"
    if not header.is_file():
        return False, "no %s" % header
    cc = compiler()
    if cc is None:
        return False, "found %s, but no compiler to try it" % header
    flags = ["-shared", "-fPIC"]
    if sys.platform == "darwin":
        flags = ["-bundle", "-undefined", "dynamic_lookup"]
    with tempfile.TemporaryDirectory() as tmp:
        proc, _ = build(tmp, "#define PY_SSIZE_T_CLEAN\n"
                        "#include <Python.h>\n"
                        "static struct PyModuleDef def = {"
                        "PyModuleDef_HEAD_INIT,\n    .m_name = \"tiny\"};\n"
                        "PyMODINIT_FUNC PyInit_tiny(void) "
                        "{ return PyModuleDef_Init(&def); }\n",
                        cc.split() + ["-std=c11", "-I" + include] + flags,
                        "tiny" + sysconfig.get_config_var("EXT_SUFFIX"))
        if proc.returncode != 0:
            return False, "a tiny extension does not compile: %s" % (
                first_line(proc.stderr))
        proc = run([sys.executable, "-c", "import tiny"], cwd=tmp)
        if proc.returncode != 0:
            return False, "a tiny extension does not import: %s" % (
                first_line(proc.stderr.splitlines()[-1]
                           if proc.stderr else ""))
    return True, "%s (a tiny extension builds and imports)" % header


def check_make():
    make = shutil.which("make")
    if make is None:
        return False, "no make"
    return True, first_line(run([make, "--version"]).stdout)


def check_cffi():
    try:
        import cffi
    except ImportError:
        return False, "not installed for %s: the cffi road of every stage " \
            "is skipped (the C-API road and the exercises work)" % \
            sys.executable
    return True, "cffi %s (%s)" % (cffi.__version__, cffi.__file__)


def check_tools():
    """The tests' own tools (tests/requirements.txt), as pip sees them."""
    from importlib import metadata
    wanted, missing, other = [], [], []
    for line in (ROOT / REQUIREMENTS).read_text().splitlines():
        if line.startswith("# --- what those pull in"):
            break                   # the direct ones are enough to name
        spec = line.split("#")[0].strip()
        if "==" not in spec or ";" in spec:
            continue
        name, version = spec.split("==")
        wanted.append(name)
        try:
            have = metadata.version(name)
        except metadata.PackageNotFoundError:
            missing.append(name)
            continue
        if have != version:
            other.append("%s %s" % (name, have))
    if missing:
        return False, "%d of the %d pinned packages missing (%s): make " \
            "gates, make wheel and make bench skip what needs them" % (
                len(missing), len(wanted), ", ".join(missing[:6]) +
                (", ..." if len(missing) > 6 else ""))
    note = "; other versions: %s" % ", ".join(other) if other else ""
    return True, "all %d pinned packages installed%s" % (len(wanted), note)


def check_valgrind():
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return False, "not installed: `make memcheck` cannot run (the " \
            "exercises do not need it)"
    return True, first_line(run([valgrind, "--version"]).stdout)


def check_sanitizers():
    if shutil.which("gcc") is None:
        return False, "no gcc: `make check-N` runs without AddressSanitizer" \
            " (a memory error shows only as a crash)"
    with tempfile.TemporaryDirectory() as tmp:
        proc, exe = build(tmp, "#include <stdlib.h>\nint main(void) {\n"
                          "    volatile int n = 4;\n"
                          "    char *p = malloc(4);\n"
                          "    p[n] = 1;   /* one past the end */\n"
                          "    free(p);\n    return 0;\n}\n",
                          ["gcc", "-fsanitize=address,undefined", "-g"],
                          "overflow")
        if proc.returncode != 0:
            return False, "gcc cannot build with -fsanitize=address," \
                "undefined: %s" % first_line(proc.stderr)
        proc = run([str(exe)], env=dict(os.environ,
                                        ASAN_OPTIONS="detect_leaks=0"))
        if "heap-buffer-overflow" not in proc.stderr:
            return False, "a program built with AddressSanitizer ran, but " \
                "its error was not reported"
    import exercise
    problem = exercise.sanitizer_problem()
    if problem:
        return False, "AddressSanitizer works for C programs, but %s" % \
            problem
    return True, "AddressSanitizer and UBSan (%s)" % exercise.asan_runtime()


def debian_dev_package():
    # Debian's python3 has python3-dev; a python3.X of its own, python3.X-dev.
    return "python3-dev" if sys.executable.startswith("/usr/bin/") \
        else PY_CMD + "-dev"


# name, check, required, {platform: install command}
CHECKS = [
    ("Python 3.10+", check_python, True, {
        "Debian/Ubuntu": "sudo apt-get install python3 (or a newer "
                         "python3.X), then make doctor PYTHON=python3.X",
        "macOS": "brew install python@3.12, then make doctor "
                 "PYTHON=python3.12",
    }),
    ("C compiler", check_compiler, True, {
        "Debian/Ubuntu": "sudo apt-get install build-essential",
        "macOS": "xcode-select --install",
    }),
    ("Python headers", check_headers, True, {
        "Debian/Ubuntu": "sudo apt-get install %s" % debian_dev_package(),
        "macOS": "the python.org or Homebrew interpreter has them "
                 "(brew install python@%s)" % PY,
        "pyenv": "pyenv install %s (a pyenv interpreter has its headers)"
                 % platform.python_version(),
    }),
    ("make", check_make, False, {
        "Debian/Ubuntu": "sudo apt-get install make",
        "macOS": "xcode-select --install",
    }),
    ("cffi", check_cffi, False, {
        "install": install_cffi(),
    }),
    ("test tools", check_tools, False, {
        "install": install_cffi().replace(
            "-m pip install %s" % pinned("cffi"),
            "-m pip install -r %s" % REQUIREMENTS)
        if interpreter_kind() == "venv" else
        ("sudo apt-get install python3-pytest python3-hypothesis "
         "python3-setuptools python3-wheel (or a venv: %s)" % install_cffi(
             kind="own")) if interpreter_kind() == "debian" else
        install_cffi(),
    }),
    ("valgrind", check_valgrind, False, {
        "Debian/Ubuntu": "sudo apt-get install valgrind",
        "macOS": "not available on Apple silicon: use the sanitizers "
                 "(make sanitize) instead",
    }),
    ("sanitizers", check_sanitizers, False, {
        "Debian/Ubuntu": "sudo apt-get install gcc (libasan and libubsan "
                         "come with it)",
        "macOS": "not supported by make check-N (it preloads gcc's libasan,"
                 " on Linux); the checks run without them",
    }),
]


def main():
    print("Checking this machine for the workshop (PYTHON=%s)"
          % sys.executable)
    missing_required, missing_optional = [], []
    for name, check, required, install in CHECKS:
        try:
            ok, found = check()
        except Exception as exc:            # a check must not stop the rest
            ok, found = False, "the check itself failed: %r" % (exc,)
        if ok:
            print("  ok        %-15s %s" % (name, found))
            continue
        (missing_required if required else missing_optional).append(name)
        print("  %-9s %-15s %s" % ("MISSING" if required else "optional",
                                   name, found))
        for where, command in install.items():
            print("            %-15s %s" % (where + ":", command))
    print()
    if missing_required:
        print("Not ready: %s missing (required)." % ", ".join(
            missing_required))
        return 1
    if missing_optional:
        print("Ready for the workshop (without: %s)." % ", ".join(
            missing_optional))
    else:
        print("Ready for the workshop: everything is here.")
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--cffi-missing"]:
        print(cffi_missing())
        sys.exit(0)
    if sys.argv[1:] == ["--wheel-tools-missing"]:
        missing = wheel_tools_missing()
        if missing:
            print("%s (install: %s)" % (", ".join(missing),
                                        install_wheel_tools(missing)))
        sys.exit(0)
    sys.exit(main())
