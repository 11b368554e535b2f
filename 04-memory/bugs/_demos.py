"""Run the memory bugs of stage 04, each in a child process under the tool
that catches it, and trim each report to the lines that matter.  PRIVATE.

Used by run.py (`make run-4`) and tests/test_04_bugs.py.  Each child gets
its own checker and a clean environment: a checker around this process
(valgrind, ASan) is not inherited, and the children's reports are captured
here, never written to our own stderr.

    python3 bugs/_demos.py [NAME ...]   run some demonstrations (default
                                        all), from 04-memory/
"""
import concurrent.futures
import os
import re
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO_PLAIN = os.path.join(HERE, "build-demo")     # see the stage's Makefile
DEMO_ASAN = os.path.join(HERE, "build-demo-asan")
CHILD = os.path.join(HERE, "_bug_children.py")
# A stack is cut after its first frame in the code that made the mistake.
OURS = ("_bugs_capi.c", "_bug_children.py")
LIBRARY = ("memory_lib.c",)


def asan_runtime():
    """The path of gcc's libasan.so, or None."""
    cc = os.environ.get("CC", "cc")
    if shutil.which(cc) is None:
        return None
    proc = subprocess.run([cc, "-print-file-name=libasan.so"],
                          capture_output=True, text=True)
    path = proc.stdout.strip()
    return path if os.path.isabs(path) and os.path.exists(path) else None


@dataclass
class Demo:
    name: str               # function in _bug_children.py
    title: str
    tool: str               # asan, lsan, valgrind, valgrind-leak, debug, plain
    heads: list = field(default_factory=list)   # report lines to keep:
    # each pattern keeps its first match, or every match if it starts "+"


ASAN_HEADS = [r"ERROR: AddressSanitizer", r"is located|wild pointer",
              r"^freed by thread", r"^previously allocated by thread",
              r"^SUMMARY: AddressSanitizer"]

# [excerpt: demos]
DEMOS = [
    Demo("free_pymem_with_free", "PyMem_Malloc, then C's free()", "asan",
         ASAN_HEADS),
    Demo("pymem_free_malloc", "malloc, then PyMem_Free, plain Python",
         "plain"),
    Demo("pymem_free_malloc", "malloc, then PyMem_Free, under valgrind "
         "with PYTHONMALLOC=debug", "valgrind",
         [r"^Invalid read", r"Address .* alloc.d"]),
    Demo("double_free", "person_free() twice on one pointer", "asan",
         ASAN_HEADS),
    Demo("forgotten_free", "person_new() and the pointer dropped", "lsan",
         [r"ERROR: LeakSanitizer", r"^Direct leak"]),
    Demo("forgotten_free", "the same leak, under valgrind", "valgrind-leak",
         [r"definitely lost in loss record"]),
    Demo("missing_incref", "C keeps a borrowed reference (no Py_INCREF)",
         "debug", [r"^Fatal Python error", r"^Current thread",
                   r'+^  File "']),
]
# [/excerpt: demos]


def missing_tool(tool):
    """None, or why the tool for a demonstration is not available."""
    if tool in ("asan", "lsan"):
        if asan_runtime() is None:
            return ("AddressSanitizer runtime not found (install gcc's "
                    "libasan: sudo apt install gcc)")
        if not os.path.isdir(DEMO_ASAN):
            return "the ASan build is missing (run: make -C 04-memory)"
    elif not os.path.isdir(DEMO_PLAIN):
        return "the demo build is missing (run: make -C 04-memory)"
    if tool.startswith("valgrind") and shutil.which("valgrind") is None:
        return "valgrind is not installed (install: sudo apt install valgrind)"
    return None


# [excerpt: child_env]
def child_command(demo):
    """The command line, environment and folder of one demonstration."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LD_PRELOAD", "ASAN_", "LSAN_", "UBSAN_",
                                "PYTHONMALLOC", "VALGRIND", "FFI_"))}
    modules = DEMO_PLAIN
    if demo.tool in ("asan", "lsan"):
        modules = DEMO_ASAN         # the instrumented build of _bugs_capi
    # With -c, sys.path starts with the working folder: the modules' own.
    # -S: no site-packages, which the child does not need and which would
    # double its start-up time under valgrind.
    env["PYTHONPATH"] = os.pathsep.join([modules, HERE])
    python = [sys.executable, "-S", "-X", "faulthandler", "-c",
              "import sys, _bug_children; _bug_children.main(sys.argv[1])",
              demo.name]
    if demo.tool in ("asan", "lsan"):
        # The interpreter is not built with ASan: preload the runtime.
        env["LD_PRELOAD"] = asan_runtime()
        env["ASAN_OPTIONS"] = ("detect_leaks=1:fast_unwind_on_malloc=0"
                               if demo.tool == "lsan" else "detect_leaks=0")
        return python, env, modules
    if demo.tool == "valgrind":
        # Python's debug allocator checks the bytes around each block it
        # frees; valgrind reports the read that went outside our block.
        env["PYTHONMALLOC"] = "debug"
        return ["valgrind", "--leak-check=no"] + python, env, modules
    if demo.tool == "valgrind-leak":
        # Every block from malloc() itself, so that valgrind sees them all.
        env["PYTHONMALLOC"] = "malloc"
        return ["valgrind", "--leak-check=full",
                "--show-leak-kinds=definite"] + python, env, modules
    if demo.tool == "debug":
        env["PYTHONMALLOC"] = "debug"   # freed memory is overwritten: 0xDD
    return python, env, modules
# [/excerpt: child_env]


FRAME = re.compile(r"^\s*(?:#\d+ 0x[0-9a-f]+ in |(?:at|by) 0x[0-9A-F]+: )")


def records(text):
    """Split a report into (head line, [frame lines]) records."""
    out = []
    for raw in text.splitlines():
        line = re.sub(r"^==\d+== {0,2}", "", raw)   # ASan and valgrind
        if FRAME.match(line) and out:
            out[-1][1].append(line)
        elif line.strip():
            out.append((line, []))
    return out


def tidy(line):
    """Addresses and thread ids to <*>, file paths to their base name."""
    line = re.sub(r"0x[0-9a-fA-F]+", "<*>", line)
    line = re.sub(r"(?:\.\./)*(?:/?[\w.+-]+/)+([\w.+-]+)", r"\1", line)
    return line.rstrip()


def trim_stack(frames):
    """The top frame and the frames in our files, up to the first frame in
    the code that made the mistake; any other run of frames is '...'."""
    out = []
    for number, frame in enumerate(frames):
        if number == 0 or any(o in frame for o in OURS + LIBRARY):
            out.append(tidy(frame))
        elif out[-1] != "    ...":
            out.append("    ...")
        if any(o in frame for o in OURS):
            if number + 1 < len(frames):
                out.append("    ...")
            break
    return out


def trim(demo, text):
    """The lines of a report worth reading: each head pattern once, each
    stack cut after its first frame in our own files."""
    kept = []
    wanted = [(re.compile(h.lstrip("+")), h.startswith("+"))
              for h in demo.heads]
    for head, frames in records(text):
        for pattern, many in wanted:
            if not pattern.search(head):
                continue
            if frames and not any(o in f for f in frames for o in OURS):
                continue
            if not many:
                wanted.remove((pattern, many))
            kept.append(tidy(head))
            kept.extend(trim_stack(frames))
            break
    return kept


def describe_exit(returncode):
    if returncode < 0:
        try:
            return "killed by " + signal.Signals(-returncode).name
        except ValueError:
            return "killed by signal %d" % -returncode
    return "exit %d" % returncode


@dataclass
class Result:
    demo: Demo
    skipped: str = None     # why it did not run
    returncode: int = 0
    output: str = ""        # stdout + stderr of the child, untrimmed
    report: list = field(default_factory=list)


def run(demo, timeout=300):
    why = missing_tool(demo.tool)
    if why:
        return Result(demo, skipped=why)
    command, env, cwd = child_command(demo)
    proc = subprocess.run(command, env=env, cwd=cwd, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True,
                          errors="replace", timeout=timeout)
    return Result(demo, returncode=proc.returncode, output=proc.stdout,
                  report=trim(demo, proc.stdout))


def show(result, out=sys.stdout):
    demo = result.demo
    print("-- %s --" % demo.title, file=out)
    if result.skipped:
        print("[child] skipped: %s" % result.skipped, file=out)
        return
    for line in result.output.splitlines():
        if line.startswith("[child]"):
            print(line, file=out)
    for line in result.report:
        print("  | " + line, file=out)
    print("[child] %s" % describe_exit(result.returncode), file=out)


def run_all(demos):
    """Run demonstrations side by side; return their Results, in order.
    Each child is a separate process, so they cannot disturb each other."""
    workers = max(1, min(len(demos), os.cpu_count() or 1))
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        return list(pool.map(run, demos))


def main(names):
    for result in run_all([d for d in DEMOS if not names or d.name in names]):
        show(result)
        print()


if __name__ == "__main__":
    main(sys.argv[1:])
