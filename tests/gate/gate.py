"""The quality gates: `make memcheck`, `make sanitize` and their self-test.

    python3 tests/gate/gate.py memcheck [-j N] [STAGE ...]
    python3 tests/gate/gate.py sanitize [-j N] [STAGE ...]
    python3 tests/gate/gate.py selftest [memcheck|sanitize]

Both gates find the stages by themselves (every NN-*/Makefile) and, for
each, run its `make run` and its test files (tests/test_NN_*.py), several
at a time.  Each gate first runs its self-test on the canary
(tests/gate/canary/gate_canary.c): if the deliberately broken C is not
caught, the gate is blind and fails before it looks at the project.

memcheck: valgrind with PYTHONMALLOC=malloc and FFI_SMALL=1, the one
suppressions file tests/gate/valgrind.supp, XML reports in
build-gate/memcheck/.  Any error report fails; a definitely or indirectly
lost block fails when the project's code allocated it (the first frame
below malloc and the interpreter is in a file under the project).
Children are not traced: a test's own child processes run natively.

sanitize: copies the working tree (tracked and new, not ignored files) to
build-asan/tree, builds all of it there with -fsanitize=address,undefined,
and runs `make run` and the tests there with libasan preloaded into the
interpreter.  Reports go to build-gate/sanitize/*; any ASan or UBSan
report fails, and a LeakSanitizer report fails under the same rule as
memcheck (allocated by the project's code).  The interpreter's and other
libraries' own leaks at exit are therefore not counted, with no
suppressions file.

A test file opts out of one gate with a module-level
    GATE_SKIP = {"memcheck": "why", "sanitize": "why"}
(read with ast, never imported); the gate prints the file and the reason.
"""

import argparse
import ast
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE.parent))
import support  # noqa: E402  (tests/support.py: stages, describe_exit)

SUPPRESSIONS = HERE / "valgrind.supp"
WORK = ROOT / "build-gate"
ASAN_TREE = ROOT / "build-asan" / "tree"
PYTHON = sys.executable
# The sweeps, also run under both gates: their runner natively, every
# child they start under the gate's checker.
SWEEPS = ["test_gate_hostile.py", "test_gate_stateful.py"]
# The stateful sweep raises from signal handlers at random points.  A cffi
# road that gets a C allocation back one Python line before anything owns
# it loses the allocation if that lands in between: a window of Python
# itself.  Stage 04 closes it (ffi.new_allocator: docs/04-memory.md, Step
# 5), and so do stages 02 and 05.  A stage that has one again goes in
# this set, with the line that has it, and its stateful sweep is checked
# for memory errors, not leaks.  None has today:
SWEEP_LEAK_WINDOWS = set()

SANITIZE_FLAGS = "-fsanitize=address,undefined -fno-omit-frame-pointer"
SANITIZE_LDFLAGS = "-fsanitize=address,undefined"
# The runtime the gate preloads is gcc's libasan, so gcc builds for it
# (clang's objects would want clang's runtime), whatever CC says.
SANITIZE_CC = "gcc"

VALGRIND_MISSING = ("valgrind is not installed "
                    "(install: sudo apt-get install valgrind)")
ASAN_MISSING = ("the AddressSanitizer runtime is not installed "
                "(install: sudo apt-get install gcc, which brings libasan)")

# Frames that belong to the machinery under a leak, not to whoever asked for
# the memory: the allocator, the C library, the interpreter, libffi.
RUNTIME_OBJECTS = re.compile(
    r"vgpreload|/libasan|/libubsan|/liblsan|/libc\.so|/libc-|/ld-linux|"
    r"/libpython3|/bin/python3|/libstdc\+\+|/libgcc_s|/libffi")


# --- discovery --------------------------------------------------------------

def select_stages(names, root=ROOT):
    found = support.stages(root)
    if not names:
        if not found:
            raise SystemExit("no stage (NN-*/Makefile) under %s" % root)
        return found
    chosen = []
    for name in names:
        prefix = "%02d-" % int(str(name).split("-")[0])
        matches = [p for p in found if p.name.startswith(prefix)]
        if not matches:
            raise SystemExit("no stage %s (have: %s)" % (
                name, " ".join(p.name for p in found)))
        chosen += matches
    return chosen


# Gate test files of a stage that also run under the checkers: the logger's
# threads, signals, exits and hard cases moved out of `make test` for time,
# not because a checker has nothing to say about them.
CHECKED_GATE_FILES = ("test_gate_05_*.py",)


def stage_test_files(stage, root=ROOT):
    """tests/test_NN_*.py for stage folder NN-topic, and the stage's
    gate test files named in CHECKED_GATE_FILES."""
    tests = Path(root) / "tests"
    files = set(tests.glob("test_%s_*.py" % stage.name[:2]))
    for pattern in CHECKED_GATE_FILES:
        if pattern.startswith("test_gate_%s_" % stage.name[:2]):
            files.update(tests.glob(pattern))
    return sorted(files)


# Test files that check every stage at once, in their own process (not in
# children, as the sweeps): one job each under both gates, limited to the
# chosen stages (FFI_GATE_STAGES), like a stage's own test file.
CHECKED_FILES = ["test_gate_differential.py"]


def checked_file_jobs(gate, chosen, root, env_for, wrap, timeout):
    stages = ",".join(s.name[:2] for s in chosen)
    jobs = []
    for name in CHECKED_FILES:
        test = Path(root) / "tests" / name
        reason = gate_skip(test, gate)
        if reason:
            print("  skip %s under %s: %s" % (name, gate, reason))
            continue
        jobs.append(Job(test.stem, wrap(test.stem) + [
            PYTHON, str(Path(root) / "tests" / "run.py"), str(test)],
            str(root), dict(env_for(test.stem), FFI_GATE_STAGES=stages),
            timeout))
    return jobs


def gate_skip(path, gate):
    """The reason a test file gives for opting out of `gate`, or None."""
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None
    for node in tree.body:
        if (isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "GATE_SKIP"
                        for t in node.targets)):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                return None
            if isinstance(value, dict) and gate in value:
                return str(value[gate])
    return None


# --- valgrind ---------------------------------------------------------------

def have_valgrind():
    return shutil.which("valgrind") is not None


def valgrind_command(xml_pattern, leaks=True):
    """The valgrind prefix every memcheck run uses (%p = process id).
    leaks=False: memory errors only, no leak check at exit."""
    leak_options = (["--leak-check=full",
                     "--show-leak-kinds=definite,indirect",
                     "--errors-for-leak-kinds=definite,indirect"]
                    if leaks else ["--leak-check=no"])
    return ["valgrind", "--tool=memcheck", "--quiet"] + leak_options + [
            "--num-callers=40", "--trace-children=no",
            "--child-silent-after-fork=yes", "--keep-debuginfo=yes",
            "--suppressions=%s" % SUPPRESSIONS,
            "--xml=yes", "--xml-file=%s" % xml_pattern]


def memcheck_env(base=None):
    env = dict(os.environ if base is None else base)
    env.update(PYTHONMALLOC="malloc", FFI_SMALL="1", FFI_GATE="memcheck")
    return env


def _under(path, roots):
    if not path:
        return False
    path = os.path.realpath(path)
    return any(path == r or path.startswith(r + os.sep) for r in roots)


def _allocated_by_project(frames, roots):
    """frames: [(object, source_dir_or_file)], innermost first."""
    for obj, src in frames:
        if obj and RUNTIME_OBJECTS.search(obj):
            continue
        if not obj and not src:
            continue
        return _under(obj, roots) or _under(src, roots)
    return False


def _xml_frames(stack):
    frames = []
    for frame in stack.findall("frame") if stack is not None else []:
        frames.append((frame.findtext("obj") or "",
                       frame.findtext("dir") or ""))
    return frames


def _format_xml_error(error, program):
    kind = error.findtext("kind") or "?"
    what = error.findtext("what") or error.findtext("xwhat/text") or ""
    lines = ["%s: %s  [%s]" % (program, what, kind)]
    for child in error:
        if child.tag == "stack":
            for frame in child.findall("frame")[:12]:
                fn = frame.findtext("fn") or "???"
                where = frame.findtext("file")
                where = ("%s:%s" % (where, frame.findtext("line"))
                         if where else frame.findtext("obj") or "")
                lines.append("    %s (%s)" % (fn, where))
        elif child.tag in ("auxwhat",):
            lines.append("  " + (child.text or ""))
    return "\n".join(lines)


def valgrind_reports(xml_files, roots=(str(ROOT),)):
    """Failing reports (formatted text) found in valgrind XML files."""
    roots = [os.path.realpath(r) for r in roots]
    failures = []
    for path in xml_files:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
        # <vargv> is valgrind's own command line, <argv> the program's.
        argv = re.search(r"<argv>(.*?)</argv>", text, re.S)
        argv = argv.group(1) if argv else ""
        exe = re.search(r"<exe>(.*?)</exe>", argv, re.S)
        args = [a[:60] for a in re.findall(r"<arg>(.*?)</arg>", argv, re.S)]
        program = "pid %s: %s" % (
            (re.search(r"<pid>(\d+)</pid>", text) or [None, "?"])[1],
            " ".join([os.path.basename(exe.group(1)) if exe else "?"]
                     + args[:3]))
        for block in re.findall(r"<error>.*?</error>", text, re.S):
            try:
                error = ET.fromstring(block)
            except ET.ParseError:
                failures.append("%s: unreadable valgrind report in %s"
                                % (program, path))
                continue
            kind = error.findtext("kind") or ""
            if kind.startswith("Leak_"):
                if kind not in ("Leak_DefinitelyLost", "Leak_IndirectlyLost"):
                    continue
                if not _allocated_by_project(
                        _xml_frames(error.find("stack")), roots):
                    continue
            failures.append(_format_xml_error(error, program))
    return failures


# --- sanitizers -------------------------------------------------------------

def asan_runtime():
    """Path of libasan.so, or None when gcc has none."""
    try:
        out = subprocess.run(["gcc", "-print-file-name=libasan.so"],
                             capture_output=True, text=True).stdout.strip()
    except OSError:
        return None
    return out if os.path.isabs(out) and os.path.exists(out) else None


# One frame per line, with the object it is in: {module} lets the leak rule
# tell the project's code from the interpreter's.
_FRAME_FORMAT = "'    #%n %p in %f %s:%l {%m}'"


def sanitizer_env(logdir, base=None, leaks=True):
    """Environment that loads ASan/UBSan into an uninstrumented python.

    Reports go to files in logdir (UBSan's to stderr, see below).  With
    leaks=True LeakSanitizer runs at exit; exitcode=0 keeps a leak from
    failing the program itself: the gate decides from the report.
    """
    env = dict(os.environ if base is None else base)
    def common(tool):
        return ("log_path=%s/%s:log_exe_name=1:abort_on_error=1:"
                "stack_trace_format=" % (logdir, tool)) + _FRAME_FORMAT
    env.update(
        LD_PRELOAD=asan_runtime() or "",
        PYTHONMALLOC="malloc",      # every object a malloc block ASan sees
        ASAN_OPTIONS=common("asan") + (
            ":detect_leaks=%d:exitcode=0:allocator_may_return_null=1"
            % (1 if leaks else 0)),
        UBSAN_OPTIONS=common("ubsan") + ":halt_on_error=1"
                                        ":print_stacktrace=1",
        FFI_GATE="sanitize",
    )
    return env


_LSAN_FRAME = re.compile(r"#\d+ 0x[0-9a-f]+ in (\S+) (\S*) \{(.*)\}")


def sanitizer_reports(logdir, roots=(str(ROOT),), outputs=()):
    """Failing reports found in the sanitizer log files of a folder.

    outputs: (name, text) of the programs' own stderr, where UBSan writes
    when its runtime is loaded beside ASan's (it ignores log_path then).
    """
    roots = [os.path.realpath(r) for r in roots]
    failures = []
    for name, text in outputs:
        lines = text.splitlines()
        for number, line in enumerate(lines):
            if ": runtime error: " in line:
                failures.append("%s (UBSan, in its output):\n%s" % (
                    name, "\n".join(lines[number:number + 25])))
    for path in sorted(Path(logdir).glob("*san.*")):
        text = path.read_text(encoding="utf-8", errors="replace")
        lines = text.splitlines()
        for number, line in enumerate(lines):
            if ("ERROR: AddressSanitizer" in line
                    or ": runtime error: " in line):
                failures.append("%s:\n%s" % (
                    path.name, "\n".join(lines[number:number + 25])))
        if "ERROR: LeakSanitizer" not in text:
            continue
        for block in re.split(r"\n\s*\n", text):
            if not re.match(r"\s*(Direct|Indirect) leak of", block):
                continue
            frames = []
            for match in _LSAN_FRAME.finditer(block):
                source = match.group(2).rsplit(":", 2)[0]
                frames.append((match.group(3), source))
            if _allocated_by_project(frames, roots):
                failures.append("%s:\n%s" % (path.name, block.strip()))
    return failures


# --- running jobs -----------------------------------------------------------

class Job:
    def __init__(self, name, cmd, cwd, env, timeout):
        self.name, self.cmd, self.cwd = name, cmd, cwd
        self.env, self.timeout = env, timeout
        self.returncode, self.output, self.seconds = None, "", 0.0

    def run(self, outdir):
        started = time.monotonic()
        try:
            proc = subprocess.run(self.cmd, cwd=self.cwd, env=self.env,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True,
                                  errors="replace", timeout=self.timeout)
            self.returncode, self.output = proc.returncode, proc.stdout
        except subprocess.TimeoutExpired as exc:
            self.returncode = "timeout after %ds" % self.timeout
            out = exc.stdout or b""
            self.output = out.decode(errors="replace") if isinstance(
                out, bytes) else out
        self.seconds = time.monotonic() - started
        (outdir / (self.name + ".out")).write_text(self.output)
        return self


def run_jobs(jobs, workers, outdir):
    """Run jobs, `workers` at a time; print one line per finished job.

    The slowest jobs of the previous run start first (times kept in
    build-gate/<gate>-times.json), so that two cores finish together."""
    times_file = WORK / ("%s-times.json" % Path(outdir).name.split(".")[0])
    try:
        times = json.loads(times_file.read_text())
    except (OSError, ValueError):
        times = {}
    jobs = sorted(jobs, key=lambda job: -times.get(job.name, 1e9))
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(job.run, outdir) for job in jobs]
        for future in concurrent.futures.as_completed(futures):
            job = future.result()
            status = ("ok" if job.returncode == 0 else "FAILED (%s)"
                      % support.describe_exit(job.returncode))
            print("  %-40s %6.1f s  %s" % (job.name, job.seconds, status),
                  flush=True)
            times[job.name] = round(job.seconds, 1)
    try:
        times_file.write_text(json.dumps(times, indent=1, sort_keys=True))
    except OSError:
        pass
    return jobs


def stage_jobs(gate, stage_list, root, env_for, wrap, timeout, run_prefix):
    """One job for each stage's `make run`, one per test file.

    env_for(name) gives a job's environment, wrap(name) the command put in
    front of a test runner, run_prefix(name) the RUN= of `make run`.
    """
    jobs = []
    for stage in stage_list:
        name = stage.name + "-run"
        jobs.append(Job(name,
                        ["make", "-s", "--no-print-directory", "-C",
                         str(stage), "run", "PYTHON=" + PYTHON,
                         "RUN=" + run_prefix(name)],
                        str(root), env_for(name), timeout))
        for test in stage_test_files(stage, root):
            reason = gate_skip(test, gate)
            if reason:
                print("  skip %s under %s: %s" % (test.name, gate, reason))
                continue
            jobs.append(Job(test.stem, wrap(test.stem) + [
                PYTHON, str(Path(root) / "tests" / "run.py"), str(test)],
                str(root), env_for(test.stem), timeout))
    return jobs


def _fresh(folder):
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_folder(parent, name):
    """parent/name.<pid>: this run's own folder.  Several people (or make
    test and a gate) may run in one checkout at once: each run writes only
    into its own folder, and removes the folders of runs that have ended."""
    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    for old in parent.glob(name + ".*"):
        suffix = old.name.rsplit(".", 1)[-1]
        if suffix.isdigit() and not _alive(int(suffix)):
            shutil.rmtree(old, ignore_errors=True)
    return _fresh(parent / ("%s.%d" % (name, os.getpid())))


def _report(gate, jobs, failures, started):
    bad = [job for job in jobs if job.returncode != 0]
    for job in bad:
        print("\n--- %s: %s; last lines of its output (%s.out):"
              % (job.name, support.describe_exit(job.returncode), job.name))
        print("\n".join(job.output.splitlines()[-40:]))
    for failure in failures:
        print("\n--- %s report:\n%s" % (gate, failure))
    elapsed = time.monotonic() - started
    if bad or failures:
        print("\n%s: FAILED: %d job(s) failed, %d report(s) (%.0f s)"
              % (gate, len(bad), len(failures), elapsed))
        return 1
    print("\n%s: passed, %d jobs, no report (%.0f s)"
          % (gate, len(jobs), elapsed))
    return 0


# --- the gates --------------------------------------------------------------

def memcheck(stage_names, workers):
    if not have_valgrind():
        print("memcheck: " + VALGRIND_MISSING)
        return 2
    chosen = select_stages(stage_names)
    started = time.monotonic()
    logdir = run_folder(WORK, "memcheck")
    if selftest("memcheck", logdir / "selftest") != 0:
        return 1
    print("memcheck: building every stage")
    subprocess.run(["make", "-s", "--no-print-directory", "all",
                    "PYTHON=" + PYTHON], cwd=ROOT, check=True)
    print("memcheck: stages %s, %d at a time, logs in %s"
          % (" ".join(s.name for s in chosen), workers, logdir))

    def wrap(name, leaks=True):
        return valgrind_command(str(logdir / (name + ".%p.xml")), leaks)

    env = memcheck_env()
    jobs = stage_jobs("memcheck", chosen, ROOT, lambda name: env, wrap,
                      3600, lambda name: " ".join(wrap(name)))
    jobs += checked_file_jobs("memcheck", chosen, ROOT, lambda name: env,
                              wrap, 3600)
    # The hostile-input sweep: its runner natively, every child it starts
    # under valgrind (support.gate_child_prefix reads this variable).
    for sweep in SWEEPS:
        for name, stages, leaks in sweep_parts(sweep, chosen):
            prefix = wrap(name, leaks)
            sweep_env = dict(env, GATE_CALL_SECONDS="120",
                             FFI_GATE_STAGES=stages,
                             FFI_GATE_CHILD_PREFIX=json.dumps(prefix))
            jobs.append(Job(name, [PYTHON, str(ROOT / "tests" / "run.py"),
                                   str(ROOT / "tests" / sweep)],
                            str(ROOT), sweep_env, 3600))
    run_jobs(jobs, workers, logdir)
    failures = valgrind_reports(sorted(logdir.glob("*.xml")))
    return _report("memcheck", jobs, failures, started)


def sweep_parts(sweep, chosen):
    """The jobs of one sweep over the chosen stages: (job name, stages as
    FFI_GATE_STAGES wants them, check leaks).  One job, or for the
    stateful sweep two when some stages are in SWEEP_LEAK_WINDOWS."""
    name = sweep[len("test_gate_"):-len(".py")] + "-sweep"
    stages = [s.name[:2] for s in chosen]
    if sweep != "test_gate_stateful.py":
        return [(name, ",".join(stages), True)]
    closed = [s for s in stages if s not in SWEEP_LEAK_WINDOWS]
    still_open = [s for s in stages if s in SWEEP_LEAK_WINDOWS]
    return [(job, ",".join(part), leaks) for job, part, leaks in (
        (name, closed, True), (name + "-errors-only", still_open, False))
        if part]


def project_files(root=ROOT):
    """The working tree's files: tracked and new, not the ignored ones."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others",
             "--exclude-standard"], cwd=root, capture_output=True,
            check=True).stdout
        return [f for f in out.decode().split("\0") if f]
    except (OSError, subprocess.CalledProcessError):
        skip = re.compile(r"(^|/)(build-[^/]*|__pycache__|\.git)(/|$)|"
                          r"\.(o|a|so)$")
        return [str(p.relative_to(root)) for p in Path(root).rglob("*")
                if p.is_file() and not skip.search(str(p.relative_to(root)))]


def copy_tree(dest, root=ROOT):
    shutil.rmtree(dest, ignore_errors=True)
    for name in project_files(root):
        source = Path(root) / name
        if not source.is_file():
            continue                    # deleted in the working tree
        target = Path(dest) / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)


def sanitize(stage_names, workers):
    if asan_runtime() is None:
        print("sanitize: " + ASAN_MISSING)
        return 2
    select_stages(stage_names)          # an unknown stage: stop now
    started = time.monotonic()
    logdir = run_folder(WORK, "sanitize")
    if selftest("sanitize", logdir / "selftest") != 0:
        return 1
    tree = run_folder(ASAN_TREE.parent, ASAN_TREE.name)
    print("sanitize: copying the working tree to %s" % tree)
    copy_tree(tree)
    flags = ["EXTRA_CFLAGS=" + SANITIZE_FLAGS,
             "EXTRA_LDFLAGS=" + SANITIZE_LDFLAGS, "CC=" + SANITIZE_CC]
    print("sanitize: building every stage with %s" % SANITIZE_FLAGS)
    subprocess.run(["make", "-s", "--no-print-directory", "all",
                    "PYTHON=" + PYTHON] + flags, cwd=tree, check=True)
    def env_for(name, leaks=True):
        folder = logdir / (name if leaks else name + ".no-leak-check")
        env = sanitizer_env(_fresh(folder), leaks=leaks)
        # Builds a test starts itself (the exercise skeleton) get the flags.
        env.update(EXTRA_CFLAGS=SANITIZE_FLAGS, EXTRA_LDFLAGS=SANITIZE_LDFLAGS,
                   CC=SANITIZE_CC)
        return env

    chosen = select_stages(stage_names, tree)
    print("sanitize: stages %s, %d at a time, reports in %s"
          % (" ".join(s.name for s in chosen), workers, logdir))
    jobs = stage_jobs("sanitize", chosen, tree, env_for,
                      lambda name: [], 1800, lambda name: "")
    jobs += checked_file_jobs("sanitize", chosen, tree, env_for,
                              lambda name: [], 1800)
    # The hostile-input sweep: its children inherit the sanitizer.
    for sweep in SWEEPS:
        for name, stages, leaks in sweep_parts(sweep, chosen):
            sweep_env = dict(env_for(name, leaks=leaks),
                             FFI_GATE_STAGES=stages)
            jobs.append(Job(name, [PYTHON, str(tree / "tests" / "run.py"),
                                   str(tree / "tests" / sweep)],
                            str(tree), sweep_env, 1800))
    run_jobs(jobs, workers, logdir)
    # LeakSanitizer sometimes cannot stop the world at exit ("Tracer caught
    # signal 11 ... LeakSanitizer has encountered a fatal error"): always
    # with a thread still running (stage 05's daemon-thread test), now and
    # then without one on a loaded machine.  That is the tool failing, not
    # the project.  Such a job runs again with leak
    # detection off (its leaks are memcheck's to find) and the gate says so.
    again = [job for job in jobs if job.returncode != 0
             and lsan_gave_up(logdir / job.name)]
    for job in again:
        print("  %s: LeakSanitizer gave up at exit (\"LeakSanitizer has "
              "encountered a fatal error\"); again without leak detection"
              % job.name)
        job.env = env_for(job.name, leaks=False)
        job.first_output = job.output
    run_jobs(again, workers, logdir)
    failures = []     # both runs of a job count: a report is a report
    for job in jobs:
        for folder in (logdir / job.name,
                       logdir / (job.name + ".no-leak-check")):
            failures += sanitizer_reports(folder, roots=[str(tree)])
        failures += sanitizer_reports(logdir / "-", roots=[str(tree)],
                                      outputs=[(job.name, job.output), (
                                          job.name + " (first run)",
                                          getattr(job, "first_output", ""))])
    return _report("sanitize", jobs, failures, started)


def lsan_gave_up(folder):
    return any("LeakSanitizer has encountered a fatal error" in
               p.read_text(errors="replace")
               for p in Path(folder).glob("*san.*"))


# --- the self-test: the canary must be caught --------------------------------

CANARY_SOURCE = HERE / "canary"
# What each canary function must produce, per gate: function -> the
# acceptable reports, each a list of words that must all appear in one
# failing report.  "ok" is the control: it must produce no report.
CANARY_EXPECT = {
    "memcheck": {
        "oob_write": [["InvalidWrite", "canary_oob_write"]],
        "leak": [["Leak_DefinitelyLost", "canary_leak"]],
        "missing_incref": [["InvalidRead", "canary_missing_incref"]]},
    "sanitize": {
        # UBSan's object-size check may see the bad store before ASan does.
        "oob_write": [["heap-buffer-overflow", "canary_oob_write"],
                      ["insufficient space", "canary_oob_write"]],
        "leak": [["Direct leak", "canary_leak"]],
        "missing_incref": [["heap-use-after-free",
                            "canary_missing_incref"]]},
}


def canary_caught(failures, alternatives):
    """True when one failing report has all the words of one alternative."""
    return any(all(word in failure for word in words)
               for failure in failures for words in alternatives)


def build_canary(gate, work):
    """Build gate_canary into <work>/canary-<gate>; return the folder."""
    folder = Path(work) / ("canary-" + gate)
    extra = ([] if gate == "memcheck" else
             ["EXTRA_CFLAGS=" + SANITIZE_FLAGS,
              "EXTRA_LDFLAGS=" + SANITIZE_LDFLAGS, "CC=" + SANITIZE_CC])
    subprocess.run(["make", "-s", "--no-print-directory", "-B", "-C",
                    str(CANARY_SOURCE), "BUILD=" + str(folder),
                    "PYTHON=" + PYTHON] + extra,
                   check=True, stdout=subprocess.DEVNULL)
    return folder


def run_canary(gate, function, folder):
    """Call gate_canary.<function>() under `gate`; return its failures."""
    logdir = _fresh(Path(folder).parent / ("%s-%s" % (gate, function)))
    code = ("import gate_canary\n"
            "x = gate_canary.%s()\n"
            "print(len(str(x)))\n" % function)
    if gate == "memcheck":
        env = memcheck_env()
        cmd = valgrind_command(str(logdir / "canary.%p.xml")) + [
            PYTHON, "-c", code]
    else:
        env = sanitizer_env(logdir)
        cmd = [PYTHON, "-c", code]
    env["PYTHONPATH"] = str(folder)
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True,
                          timeout=300)
    if gate == "memcheck":
        failures = valgrind_reports(sorted(logdir.glob("*.xml")))
    else:
        failures = sanitizer_reports(logdir, outputs=[("canary", proc.stderr)])
    return proc, failures


def selftest(gate=None, work=None):
    """Every canary bug caught, the control clean: 0, else 1.

    work: a folder under the project (the leak rule counts only blocks
    allocated by code under the project); default build-gate/selftest.<pid>.
    """
    status = 0
    work = Path(work) if work else run_folder(WORK, "selftest")
    for name in ([gate] if gate else ["memcheck", "sanitize"]):
        folder = build_canary(name, work)
        proc, failures = run_canary(name, "ok", folder)
        if failures or proc.returncode != 0:
            print("%s self-test: the control canary.ok() was reported:\n%s"
                  % (name, "\n".join(failures) or proc.stderr[-2000:]))
            status = 1
        for function, alternatives in CANARY_EXPECT[name].items():
            proc, failures = run_canary(name, function, folder)
            if not canary_caught(failures, alternatives):
                print("%s self-test: canary.%s() was NOT caught (looked for"
                      " %s); the gate is blind.\n%s" % (
                          name, function, " or ".join(
                              " + ".join(w) for w in alternatives),
                          "\n".join(failures) or proc.stderr[-2000:]))
                status = 1
        print("%s self-test: %s" % (name, "canary caught (out-of-bounds "
              "write, leak, missing Py_INCREF), control clean"
              if status == 0 else "FAILED"))
    return status


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gate", choices=["memcheck", "sanitize", "selftest"])
    parser.add_argument("stages", nargs="*",
                        help="stage numbers (default: every stage); for "
                             "selftest: memcheck or sanitize")
    parser.add_argument("-j", "--jobs", type=int,
                        default=int(os.environ.get("GATE_JOBS", 0))
                        or os.cpu_count() or 2)
    # Intermixed: `sanitize -j 1 1` (GATE_JOBS=1 STAGE=1) is stage 1 with
    # one job; parse_args would take no stage after -j's value.
    args = parser.parse_intermixed_args(argv)
    sys.stdout.reconfigure(line_buffering=True)
    if args.gate == "memcheck":
        return memcheck(args.stages, args.jobs)
    if args.gate == "sanitize":
        return sanitize(args.stages, args.jobs)
    return selftest(args.stages[0] if args.stages else None)


if __name__ == "__main__":
    sys.exit(main())
