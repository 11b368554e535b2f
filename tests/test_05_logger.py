"""Stage 05, the article's logger: one contract, two roads (the buffer,
closing, bad input, the article's script), and the helpers every
test_05_* and test_gate_05_* file shares.

Road 1 is tales_from_ffi (an extension type written with the C API);
road 2 is logger_cffi (a Python class around the C library, cffi API
mode).  Both write to file descriptor 1, so the tests capture that
descriptor itself (not sys.stdout): in this process by pointing fds 1 and
2 at temporary files, or in a child process whose stdout is a pipe.
Callbacks are in test_05_callbacks.py; threads, exit, signals, fork and
the other slow checks in tests/test_gate_05_*.py (`make gates`).
"""
import contextlib
import fcntl
import gc
import hashlib
import json
import mmap
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import textwrap
import threading
import time
import unittest

import support

CLOSING = "C: Flushed and closed logger\n"

# The article's listing, byte for byte (trailing spaces included): the
# issue wants the script to run unchanged, so any edit must fail here.
ARTICLE_SCRIPT_SHA256 = (
    "d337cbc1809814e9f4c73310ab913bb7f3ebab48f3090fb343f9912c3ad2d06d")
ARTICLE_STDOUT = ("Failure logged\nFailure logged\nhello\nworld\n"
                  "[ERROR] gone wrong\n[ERROR] gone wrong\n")


class Boom(Exception):
    """Raised by test callbacks: no library code raises it by accident."""


def read_all(fd):
    """Everything in the file open as `fd`, from its start."""
    return os.pread(fd, os.fstat(fd).st_size, 0).decode()


class Captured:
    """What went to fds 1 and 2 inside a captured_fds() block."""

    def __init__(self, out, err):
        self._out, self._err = out, err
        self.out = self.err = None

    def out_so_far(self):
        """Bytes on fd 1 up to now (inside the block)."""
        return read_all(self._out.fileno())


@contextlib.contextmanager
def captured_fds():
    """Point fds 1 and 2 at temporary files for the block; afterwards
    .out and .err hold what C (and Python) wrote to them."""
    sys.stdout.flush()
    sys.stderr.flush()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        saved_out, saved_err = os.dup(1), os.dup(2)
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        result = Captured(out, err)
        try:
            yield result
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved_out, 1)
            os.dup2(saved_err, 2)
            os.close(saved_out)
            os.close(saved_err)
            result.out = read_all(out.fileno())
            result.err = read_all(err.fileno())


@contextlib.contextmanager
def no_unraisable():
    """Fail with the exception itself if a destructor reported one (a
    dealloc cannot raise: it can only report "unraisable" exceptions)."""
    seen = []
    old = sys.unraisablehook
    sys.unraisablehook = seen.append
    try:
        yield
        gc.collect()
    finally:
        sys.unraisablehook = old
    if seen:
        raise seen[0].exc_value


def child_env(stage, unbuffered=False, **extra):
    env = support.child_env(stage, **extra)
    env.pop("PYTHONUNBUFFERED", None)
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"
    return env


def surface_not_implemented(proc):
    """A child that died of the exercise's NotImplementedError (raised, or
    reported from a destructor) fails the test with that same error."""
    for line in proc.stderr.splitlines():
        if line.startswith("NotImplementedError:"):
            raise NotImplementedError(line.partition(": ")[2])


def line_for(thread, i):
    """A line whose every part can be checked: a torn or mixed line shows."""
    return "t%d m%d %s t%d\n" % (thread, i, "x" * (i % 37), thread)


def lines_per_thread(test, out, where):
    """How many lines of each thread `out` holds, checking that each line
    is one whole message and that each thread's lines come in the order
    that thread logged them (line_for(t, 0), line_for(t, 1), ...)."""
    counts = {}
    for line in out.splitlines(keepends=True):
        t = int(line[1:line.index(" ")])
        test.assertEqual(line, line_for(t, counts.get(t, 0)), where)
        counts[t] = counts.get(t, 0) + 1
    return counts


# --- helpers that the child processes import ------------------------------


# --- helpers that the child processes import ------------------------------

def stdout_into_a_pipe():
    """Make fd 1 the write end of a new pipe that nobody reads yet.
    Returns its read end."""
    r, w = os.pipe()
    os.dup2(w, 1)
    os.close(w)
    return r


def bytes_in_pipe(r):
    """How many bytes wait in the pipe whose read end is `r`."""
    return struct.unpack("i", fcntl.ioctl(r, termios.FIONREAD,
                                          b"\0\0\0\0"))[0]


def wait_until_full(r, seconds=20):
    """Wait until the pipe is full and whoever writes to it is blocked in
    write(2): it holds all it can (but part of a page: a pipe stores whole
    pages, and may fill its last one only in part) and no more comes for a
    tenth of a second."""
    nearly = fcntl.fcntl(r, fcntl.F_GETPIPE_SZ) - mmap.PAGESIZE
    deadline = time.monotonic() + seconds
    last, since = -1, time.monotonic()
    while True:
        held, now = bytes_in_pipe(r), time.monotonic()
        if held != last:
            last, since = held, now
        elif held > nearly and now - since >= 0.1:
            return
        if now > deadline:
            raise AssertionError("the pipe never filled")
        time.sleep(0.005)


class Drain(threading.Thread):
    """Read a pipe to its end in the background, after `delay` seconds."""

    def __init__(self, r, delay=0.0):
        super().__init__(daemon=True)
        self.r, self.delay, self.data = r, delay, bytearray()
        self.lock = threading.Lock()

    def run(self):
        time.sleep(self.delay)
        while True:
            select.select([self.r], [], [])     # data or the end: the
            with self.lock:                     # read cannot block now
                chunk = os.read(self.r, 1 << 16)
                self.data += chunk
            if not chunk:
                break

    def received(self):
        """How many bytes were written into the pipe so far: read already,
        or waiting in it (never a chunk read but not yet counted)."""
        with self.lock:
            return len(self.data) + bytes_in_pipe(self.r)


def wait_for_child(pid, seconds=10):
    """A forked child's exit ('exit 0'), or 'hung' if it had to be killed
    after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return support.describe_exit(os.waitstatus_to_exitcode(status))
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return "hung"


def report(**values):
    """The child's findings, as the last line on stderr."""
    sys.stderr.flush()
    os.write(2, b"report: " + json.dumps(values).encode() + b"\n")


# --- the one preamble of every child script ----------------------------------

# Children run with this folder on their PYTHONPATH (support.child_env):
# each script starts with these lines, then imports its road's Logger.
CHILD_PREAMBLE = """\
import errno, gc, json, os, signal, sys, threading, time, warnings
from test_05_logger import (Drain, bytes_in_pipe, line_for, report,
                            stdout_into_a_pipe, wait_for_child,
                            wait_until_full)
"""


def child_script(code):
    """A child's whole script: the preamble, then `code` (dedented)."""
    return CHILD_PREAMBLE + textwrap.dedent(code)


class ChildRuns:
    """Running a child interpreter against this road (stdout a pipe)."""

    stage = "05"

    def make(self, *args, **kwargs):
        return self.mod.Logger(*args, **kwargs)

    def run_child(self, code, unbuffered=False, timeout=120, **kwargs):
        env = child_env(self.stage, unbuffered)
        proc = subprocess.run([sys.executable, "-c", child_script(code)],
                              capture_output=True, text=True,
                              timeout=timeout, env=env, **kwargs)
        surface_not_implemented(proc)
        return proc


class HardCases:
    """Children that fork, take signals, fill pipes that nobody reads or
    write to /dev/full: a hang or a crash fails one test instead of taking
    the runner down.  self.module is the module's name; `{module}` in a
    child's code is replaced by it (so its braces are doubled)."""

    stage = "05"

    def make(self, *args, **kwargs):
        return self.mod.Logger(*args, **kwargs)

    def script(self, code, **values):
        values.setdefault("module", self.module)
        return CHILD_PREAMBLE + textwrap.dedent(code).format(**values)

    def start(self, code, **values):
        return subprocess.Popen(
            [sys.executable, "-c", self.script(code, **values)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=child_env(self.stage))

    def finish(self, proc, deadline):
        """(stdout, stderr, hung) of a started child, killed if it is still
        running at `deadline` (time.monotonic())."""
        hung = False
        try:
            out, err = proc.communicate(
                timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            hung = True
            proc.kill()
            out, err = proc.communicate()
        return (out.decode(errors="replace"), err.decode(errors="replace"),
                hung)

    def run_child(self, code, timeout=60, **values):
        proc = self.start(code, **values)
        out, err, hung = self.finish(proc, time.monotonic() + timeout)
        if hung:
            self.fail("the child still ran after %d s (a hang)\n%s"
                      % (timeout, err[-3000:]))
        return proc.returncode, out, err

    def run_children(self, cases, timeout=30):
        """Start one child per (name, code) at once; return
        {name: (returncode, stdout, stderr, report)}, where returncode is
        "hung" for a child killed after `timeout` seconds."""
        started = [(name, self.start(code)) for name, code in cases]
        deadline = time.monotonic() + timeout
        results = {}
        for name, proc in started:
            out, err, hung = self.finish(proc, deadline)
            found = None
            for line in err.splitlines():
                if line.startswith("report: "):
                    found = json.loads(line[len("report: "):])
            results[name] = ("hung" if hung else proc.returncode, out, err,
                             found)
        return results


class LoggerContract(ChildRuns):
    """What both roads must do.  self.mod is the module under test."""

    # --- the buffer -------------------------------------------------------

    def test_log_is_buffered_until_flush(self):
        with captured_fds() as cap:
            lg = self.make()
            lg.log("hello\n")
            lg.log("world\n")
            self.assertEqual(cap.out_so_far(), "")     # still in C's buffer
            lg.flush()
            self.assertEqual(cap.out_so_far(), "hello\nworld\n")
            lg.log("again\n")
            lg.close()
        self.assertEqual(cap.out, "hello\nworld\nagain\n")
        self.assertEqual(cap.err, CLOSING)

    def test_a_full_buffer_is_written_without_flush(self):
        lines = ["line %05d of the full buffer test\n" % i
                 for i in range(2000)]                 # ~70 kB
        with captured_fds() as cap:
            lg = self.make()
            self.assertEqual(lg.buffer_size, 65536)     # the default
            for line in lines:
                lg.log(line)
            early = cap.out_so_far()
            lg.close()
        self.assertGreater(len(early), 65536 - 40)      # one full buffer
        self.assertLessEqual(len(early), 65536)
        self.assertLess(len(early), len("".join(lines)))
        self.assertTrue(early.endswith("\n"), "a buffer ends between lines")
        self.assertEqual(cap.out, "".join(lines))

    def test_a_message_longer_than_any_buffer_stays_whole(self):
        big = "B" * 300_000 + "\n"
        for background in (False, True):
            with captured_fds() as cap:
                lg = self.make(background=background)
                lg.log("small 1\n")
                lg.log(big)
                lg.log("small 2\n")
                lg.close()
            self.assertEqual(cap.out, "small 1\n" + big + "small 2\n",
                             "background=%s" % background)

    def test_buffer_size_decides_when_a_buffer_is_written(self):
        for background in (False, True):
            with captured_fds() as cap:
                lg = self.make(background=background, buffer_size=16)
                self.assertEqual(lg.buffer_size, 16)
                lg.log("0123456789\n")               # 11 bytes: it fits
                lg.log("abcdefghij\n")               # it does not: the
                lg.log("x" * 40 + "\n")              # buffer before goes
                if not background:                    # out at once
                    self.assertEqual(cap.out_so_far(),
                                     "0123456789\nabcdefghij\n")
                lg.close()
            self.assertEqual(cap.out, "0123456789\nabcdefghij\n"
                             + "x" * 40 + "\n", "background=%s" % background)

    def test_buffer_size_must_be_an_int_in_range(self):
        for bad in (0, -1, 2**30 + 1, 2**100):
            with self.assertRaises(ValueError) as cm:
                self.make(buffer_size=bad)
            self.assertEqual(str(cm.exception),
                             "Logger() argument 'buffer_size' must be from 1 "
                             "to 1073741824 bytes, not %d" % bad)
        for bad in ("64", 64.0, None):
            with self.assertRaises(TypeError) as cm:
                self.make(buffer_size=bad)
            self.assertEqual(str(cm.exception), "'%s' object cannot be "
                             "interpreted as an integer" % type(bad).__name__)
        with captured_fds() as cap:
            for good in (1, 2**30):                   # allocated lazily
                lg = self.make(buffer_size=good)
                self.assertEqual(lg.buffer_size, good)
                lg.log("ok\n")
                with self.assertRaises(AttributeError):
                    lg.buffer_size = 4096               # read-only
                lg.close()
        self.assertEqual(cap.out, "ok\n" * 2)

    def test_bytes_go_out_as_utf8_exactly(self):
        with captured_fds() as cap:
            lg = self.make()
            lg.log("h\u00e9llo \u2713 \U0001f40d\n")
            lg.log("nul\x00inside\n")
            lg.log("")
            lg.log("no newline, ")
            lg.log("then one\n")
            lg.close()
        self.assertEqual(cap.out, "h\u00e9llo \u2713 \U0001f40d\n"
                         "nul\x00inside\nno newline, then one\n")

    # --- closing ------------------------------------------------------------

    def test_close_flushes_and_says_so_once(self):
        with captured_fds() as cap:
            lg = self.make()
            self.assertIs(lg.closed, False)
            lg.log("last words\n")
            lg.close()
            self.assertIs(lg.closed, True)
            lg.close()                                  # a no-op
            lg.flush()                                  # nothing to do
            with self.assertRaises(ValueError) as cm:
                lg.log("too late\n")
            del lg
        self.assertEqual(str(cm.exception), "Logger.log() on a closed logger")
        self.assertEqual(cap.out, "last words\n")
        self.assertEqual(cap.err, CLOSING)

    def test_with_block_closes_even_on_an_exception(self):
        with captured_fds() as cap:
            with self.make() as lg:
                self.assertIsInstance(lg, self.mod.Logger)
                lg.log("inside\n")
            self.assertTrue(lg.closed)
            with self.assertRaises(Boom):
                with self.make() as lg2:
                    lg2.log("before the exception\n")
                    raise Boom("in the block")
            self.assertTrue(lg2.closed)
            del lg, lg2
        self.assertEqual(cap.out, "inside\nbefore the exception\n")
        self.assertEqual(cap.err, CLOSING * 2)

    def test_exit_takes_exactly_three_arguments(self):
        # What the `with` statement passes, and nothing else: any other
        # count is refused, and the logger stays open.
        with captured_fds() as cap:
            lg = self.make()
            for args in ((), (None,), (None,) * 4):
                with self.subTest(nargs=len(args)):
                    with self.assertRaises(TypeError) as cm:
                        lg.__exit__(*args)
                    self.assertEqual(str(cm.exception),
                                     "Logger.__exit__() takes 3 arguments "
                                     "(exc_type, exc_value, traceback), "
                                     "got %d" % len(args))
                    self.assertIs(lg.closed, False)
            self.assertIs(lg.__exit__(None, None, None), False)
            self.assertIs(lg.closed, True)
            del lg
        self.assertEqual(cap.err, CLOSING)

    def test_destroying_flushes_then_says_so(self):
        for background in (False, True):
            with captured_fds() as cap:
                with no_unraisable():
                    lg = self.make(background=background)
                    lg.log("never flushed by hand\n")
                    del lg
            where = "background=%s" % background
            self.assertEqual(cap.out, "never flushed by hand\n", where)
            self.assertEqual(cap.err, CLOSING, where)

    def test_a_failed_write_is_an_oserror(self):
        # fd 1 closed: write(2) fails with EBADF, and flush says so.
        proc = self.run_child("""
            from %s import Logger
            lg = Logger()
            os.close(1)
            lg.log("lost\\n")
            try:
                lg.flush()
            except OSError as exc:
                print("OSError", errno.errorcode[exc.errno], file=sys.stderr)
            lg.close()
        """ % self.module)
        self.assertEqual(proc.returncode, 0, support.describe_exit(
            proc.returncode) + "\n" + proc.stderr)
        self.assertEqual(proc.stderr, "OSError EBADF\n" + CLOSING)

    # --- bad input is an exception, never a crash --------------------------

    def test_a_message_must_be_a_str(self):
        with captured_fds() as cap:
            lg = self.make()
            for bad in (b"bytes\n", 42, None, ["a list"], 3.5):
                with self.assertRaises(TypeError) as cm:
                    lg.log(bad)
                self.assertEqual(str(cm.exception),
                                 "Logger.log() argument must be str, not %s"
                                 % type(bad).__name__)
            lg.close()
        self.assertEqual(cap.out, "")

    def test_a_lone_surrogate_cannot_be_encoded(self):
        with captured_fds() as cap:
            lg = self.make()
            with self.assertRaises(UnicodeEncodeError) as cm:
                lg.log("half a pair: \udc80\n")
            self.assertIn("surrogates not allowed", str(cm.exception))
            lg.log("next\n")
            lg.close()
        self.assertEqual(cap.out, "next\n")

    def test_the_callback_must_be_callable_or_none(self):
        for bad in (42, "not callable", b"x"):
            with self.assertRaises(TypeError) as cm:
                self.make(bad)
            self.assertEqual(str(cm.exception),
                             "Logger() argument 'callback' must be callable "
                             "or None, not %s" % type(bad).__name__)

    def test_wrong_arguments_are_type_errors(self):
        with self.assertRaises(TypeError):
            self.make(None, None)                  # background is keyword-only
        with self.assertRaises(TypeError):
            self.make(colour="blue")
        with captured_fds():
            lg = self.make()
            with self.assertRaises(TypeError):
                lg.log()
            with self.assertRaises(TypeError):
                lg.log("a", "b")
            lg.close()

    # --- the article's script, unchanged -----------------------------------

    def run_article(self, unbuffered, shim):
        script = support.stage_dir("05") / "host" / "hello_mic_testing.py"
        with tempfile.TemporaryDirectory() as tmp:
            shutil.copy(script, tmp)
            if shim:
                with open(os.path.join(tmp, "tales_from_ffi.py"), "w") as f:
                    f.write("from logger_cffi import Logger  # road 2\n")
            return self.run_child_script(tmp, unbuffered)

    def run_child_script(self, folder, unbuffered):
        proc = subprocess.run(
            [sys.executable, "hello_mic_testing.py"], cwd=folder,
            capture_output=True, text=True, timeout=120,
            env=child_env(self.stage, unbuffered))
        surface_not_implemented(proc)
        return proc

    def check_article(self, shim):
        for unbuffered in (False, True):
            proc = self.run_article(unbuffered, shim)
            where = "PYTHONUNBUFFERED=%d\n%s" % (unbuffered, proc.stderr)
            self.assertEqual(proc.returncode, 1, where)
            self.assertEqual(proc.stdout, ARTICLE_STDOUT, where)
            self.assertTrue(proc.stderr.startswith(
                "Traceback (most recent call last):\n"), where)
            self.assertTrue(proc.stderr.endswith(
                'raise Exception("Failed too many times")\n'
                "Exception: Failed too many times\n" + CLOSING), where)
            self.assertIn('logger.log("[ERROR] gone wrong\\n")',
                          proc.stderr)


class TestCapi(LoggerContract, support.Road):
    stage, module = "05", "tales_from_ffi"

    def test_logger_is_a_real_extension_type(self):
        Logger = self.mod.Logger
        self.assertIs(type(Logger), type)
        self.assertEqual(Logger.__module__, "tales_from_ffi")
        self.assertTrue(self.mod.__file__.endswith(support.EXT_SUFFIX))
        with captured_fds():
            lg = Logger()
            self.assertTrue(gc.is_tracked(lg))          # Py_TPFLAGS_HAVE_GC
            self.assertEqual(repr(lg), "<tales_from_ffi.Logger direct>")
            lg.close()
            self.assertEqual(repr(lg),
                             "<tales_from_ffi.Logger direct closed>")

    def test_the_article_script_runs_unchanged(self):
        script = support.stage_dir("05") / "host" / "hello_mic_testing.py"
        self.assertEqual(hashlib.sha256(script.read_bytes()).hexdigest(),
                         ARTICLE_SCRIPT_SHA256)
        self.check_article(shim=False)

    def test_release_gil_variant_writes_the_same(self):
        with captured_fds() as cap:
            lg = self.make(background=True)
            lg.log("held\n")
            lg._log_release_gil("released\n")
            with self.assertRaises(TypeError):
                lg._log_release_gil(b"bytes")
            lg.close()
            with self.assertRaises(ValueError):
                lg._log_release_gil("closed\n")
        self.assertEqual(cap.out, "held\nreleased\n")

    def test_noop_takes_one_argument(self):
        self.assertIsNone(self.mod._noop(object()))
        with self.assertRaises(TypeError):
            self.mod._noop()


class TestCapiWindow(support.Road):
    """The window (road 1 only, not part of the exercise): open while a GIL
    guards it, shut when there is none."""
    stage, module = "05", "tales_from_ffi"

    def test_lock_free_follows_the_gil(self):
        real = getattr(sys, "_is_gil_enabled", None)
        with captured_fds():
            self.assertTrue(self.mod.Logger().lock_free)   # there is a GIL
            try:
                sys._is_gil_enabled = lambda: True
                self.assertTrue(self.mod.Logger().lock_free)
                sys._is_gil_enabled = lambda: False
                self.assertFalse(self.mod.Logger().lock_free)
                sys._is_gil_enabled = lambda: 1 / 0
                with self.assertRaises(ZeroDivisionError):
                    self.mod.Logger()
            finally:
                if real is None:
                    del sys._is_gil_enabled
                else:
                    sys._is_gil_enabled = real
            lg = self.mod.Logger()
            lg._log_release_gil("x\n")       # the window closes for good
            self.assertFalse(lg.lock_free)
            lg.close()
        with self.assertRaises(AttributeError):
            lg.lock_free = True

    def test_the_window_guard_still_works_after_a_subinterpreter(self):
        # The window's lock check must say "not held" with the GIL
        # released, also once the process has made a subinterpreter: from
        # then on PyGILState_Check() answers 1 on every call, and a check
        # built on it would let every broken call through.  In a child, so
        # this process makes no subinterpreter.
        code = textwrap.dedent("""
            import json, support, tales_from_ffi as M
            before = M._window_guard()
            support.run_in_subinterpreter("pass", shared_gil=True)
            support.run_in_subinterpreter("pass")
            print(json.dumps([before, M._window_guard()]))
            """)
        if support.subinterpreters_module() is None:
            self.skipTest("this interpreter has no subinterpreter module")
        proc = support.run_python(code, stage=self.stage, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(json.loads(proc.stdout),
                         [[True, False], [True, False]])

    def test_the_window_guard_tells_threads_apart(self):
        # With the GIL released, another thread may hold it.  Before 3.12
        # the "current" thread state is process-wide: it is then that
        # thread's, and a check that only asks "is there one?" says held.
        stop = threading.Event()

        def spin():
            while not stop.is_set():
                pass

        spinner = threading.Thread(target=spin)
        spinner.start()
        try:
            answers = {self.mod._window_guard() for _ in range(20)}
        finally:
            stop.set()
            spinner.join()
        self.assertEqual(answers, {(True, False)})


class OwnerChecks(ChildRuns):
    """A Logger owns its C logger alone: no copy shares it, and __init__
    called again on an open one changes nothing."""

    def test_a_logger_cannot_be_copied_or_pickled(self):
        import copy
        import pickle
        calls = [copy.copy, copy.deepcopy] + [
            lambda obj, p=p: pickle.dumps(obj, p)
            for p in range(pickle.HIGHEST_PROTOCOL + 1)]
        with captured_fds():
            lg = self.make()
            try:
                for call in calls:
                    # (Road 1's protocols 0 and 1 name the type without
                    # its module: copyreg's words.)
                    with self.assertRaisesRegex(
                            TypeError, r"^cannot pickle '(%s\.)?Logger' "
                            "object$" % self.module):
                        call(lg)
            finally:
                lg.close()

    def test_init_again_on_an_open_logger_changes_nothing(self):
        # Another thread is inside log() all along; __init__ must not free
        # the C logger under it (a signal handler could call it too).
        proc = self.run_child("""
            from %s import Logger
            def callback():
                pass
            lg = Logger(callback, buffer_size=64)
            stop = threading.Event()
            def logging():
                while not stop.is_set():
                    lg.log("x" * 50 + "\\n")
            thread = threading.Thread(target=logging)
            thread.start()
            for _ in range(200):
                lg.__init__(None, background=True, buffer_size=1 << 20)
            stop.set()
            thread.join()
            print("after", lg.callback is callback, lg.buffer_size,
                  lg.closed, file=sys.stderr)
            lg.close()
            """ % self.module)
        self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
        # One logger, closed once: the one line at the end.
        self.assertEqual(proc.stderr, "after True 64 False\n" + CLOSING)


@unittest.skipUnless(support.have_cffi(), support.CFFI_MISSING)
class TestCffi(LoggerContract, support.Road):
    stage, module = "05", "logger_cffi"

    def test_the_callback_is_a_compiled_extern_python_function(self):
        import _logger_cffi
        self.assertEqual(
            _logger_cffi.ffi.typeof(_logger_cffi.lib.py_on_error).cname,
            "int(*)(void *, char *, size_t)")

    def test_the_article_script_runs_unchanged(self):
        # The same file, next to a module named tales_from_ffi that is
        # road 2 in disguise.
        self.check_article(shim=True)

    def test_an_exception_at_any_bytecode_of_the_constructor_leaks_nothing(
            self):
        # Between a C call that makes a logger and the cdata that owns it,
        # a signal handler's exception would drop the pointer: its buffers
        # and writer thread would live on until exit.  Raise one before
        # each bytecode of logger_cffi in turn (more places than CPython
        # runs handlers at) while Logger() runs, then count the loggers C
        # still has (docs/04-memory.md, Step 5).
        code = support.interrupt_at_code("logger_cffi") + textwrap.dedent("""
            from _logger_cffi import lib

            for background in (False, True):
                made = interrupt_each_bytecode(
                    lambda: m.Logger(background=background),
                    lib.logger_count_live, lambda logger: logger.close())
                made.close()
                del made
            gc.collect()
            assert lib.logger_count_live() == 0, lib.logger_count_live()
            """)
        proc = support.run_python(code, stage="05")
        self.assertEqual(proc.returncode, 0, "%s\n%s" % (
            support.describe_exit(proc.returncode), proc.stderr[-2000:]))


class TestCapiOwner(OwnerChecks, support.Road):
    stage, module = "05", "tales_from_ffi"


@unittest.skipUnless(support.have_cffi(), support.CFFI_MISSING)
class TestCffiOwner(OwnerChecks, support.Road):
    stage, module = "05", "logger_cffi"


EXERCISE = ["TestCapi"]


# --- the differential tests (tests/harness/differential.py) ----------------

def differential(d):
    """What tests/harness/differential.py runs on this stage: programs of
    Logger calls on both roads, compared with what reached fds 1 and 2."""
    def test_programs_of_calls(self):
        """Logger: any program of calls, the same outcomes, output and
        callbacks"""
        def body(program):
            results = [run_logger_program(d, self.one, program),
                       run_logger_program(d, self.two, program)]
            if results[0] != results[1]:
                self.fail(d.disagreement(repr(program),
                                         (self.road1, self.road2), results))
        # Found once: road 1's parser calls bool(background) before the
        # callback is checked; road 2 checked the callback first.
        # Logger(callback, background=..., buffer_size=...), then its calls.
        self.check(logger_programs(d), body,
                   [(("int", d.Fresh("hostile", "RaisingLen"), None), [])])
    return {"stateful": [test_programs_of_calls]}


class CountingCallback:
    """A callback that counts its calls and may raise."""

    def __init__(self, kind):
        self.kind, self.calls = kind, 0

    def __call__(self):
        self.calls += 1
        if self.kind == "raise":
            raise Boom("callback %d" % self.calls)


def logger_callback(kind, made):
    if kind in ("count", "raise"):
        made.append(CountingCallback(kind))
        return made[-1]
    return {"none": None, "int": 5, "str": "x"}[kind]


def logger_programs(d):
    """Programs of calls on one Logger: how it is made, then what is
    done with it."""
    st, s = d.st, d.strategies()
    kinds = st.sampled_from(["none", "count", "raise", "int", "str"])
    text = st.one_of(s.text, s.text.map(lambda t: t + "\n"),
                     s.text.map(lambda t: "[ERROR] " + t + "\n"),
                     st.integers(0, 200).map(lambda n: "L" * n + "\n"))
    ops = st.one_of(
        st.tuples(st.just("log"), st.one_of(text, text, text, s.wrong)),
        st.sampled_from([("flush",), ("close",), ("closed",),
                         ("buffer_size",), ("get_callback",),
                         ("del_callback",), ("repr",)]),
        st.tuples(st.just("set_callback"), kinds))
    start = st.tuples(kinds, st.one_of(st.booleans(), s.wrong),
                      st.one_of(st.integers(1, 64), st.sampled_from(
                          [65536, 0, -1, 2**30, 2**30 + 1]), s.wrong))
    return st.tuples(start, st.lists(ops, max_size=10))


def run_logger_program(d, mod, program):
    """Run a program on one road: what each step did, what went to fds 1
    and 2, the callbacks' calls and what destructors reported."""
    (kind, background, buffer_size), ops = program
    made, steps, reported = [], [], []
    old_hook = sys.unraisablehook
    sys.unraisablehook = lambda u: reported.append(
        (type(u.exc_value), str(u.exc_value)))
    try:
        with captured_fds() as cap:
            lg = None

            def start():
                nonlocal lg
                lg = mod.Logger(logger_callback(kind, made),
                                background=d.fresh(background),
                                buffer_size=d.fresh(buffer_size))
            steps.append(d.outcome(start))
            for op in ops if lg is not None else ():
                steps.append(d.outcome(logger_step, d, lg, op, made, mod))
            # The end of every program: each call once more, closed, and
            # after that.
            for op in LOGGER_EPILOGUE if lg is not None else ():
                steps.append(d.outcome(logger_step, d, lg, op, made, mod))
            del lg          # no cycle holds it: freed here, on both roads
    finally:
        sys.unraisablehook = old_hook
    return (steps, cap.out, cap.err, [c.calls for c in made], reported)


LOGGER_EPILOGUE = [("log", "[ERROR] last\n"), ("flush",), ("close",),
                   ("closed",), ("close",), ("log", "after\n"), ("flush",),
                   ("repr",)]


def logger_step(d, lg, op, made, mod):
    name = op[0]
    if name == "log":
        return lg.log(d.fresh(op[1]))
    if name in ("flush", "close"):
        return getattr(lg, name)()
    if name in ("closed", "buffer_size"):
        return getattr(lg, name)
    if name == "get_callback":
        callback = lg.callback
        return [i for i, c in enumerate(made) if c is callback] or callback
    if name == "set_callback":
        lg.callback = logger_callback(op[1], made)
        return None
    if name == "del_callback":
        del lg.callback
        return None
    return repr(lg).replace(mod.__name__ + ".", "MODULE.")


# The mistakes `make check-5` must catch in this stage's exercise: each
# is an edit of the reference, with the words one of the checker's hints
# must print (tests/test_gate_exercises.py makes each edit and runs the
# checker; its top explains the form).
MUTANTS = r"""
@@ stage 5, part 1: exception swallowed
hint: PyErr_Clear
hint: NULL: it raised
     if (result == NULL) {
-        return NULL;                /* its exception, unchanged */
+        PyErr_Clear();
+        Py_RETURN_NONE;
@@ stage 5, part 1: reference leak
hint: Py_DECREF
hint: leak
     PyObject *result = PyObject_CallNoArgs(callback);
-    Py_DECREF(callback);
@@ stage 5, part 1: missing INCREF (borrowed reference)
hint: Py_XNewRef
-    callback = Py_XNewRef(self->callback);
+    callback = self->callback;
@@ stage 5, part 2: error status ignored
hint: raise_status
-    if (status != LOGGER_OK) {
-        return raise_status(status, "flush");
-    }
@@ stage 5, part 3: borrowed reference stored
hint: Py_NewRef
-    self->callback = value == Py_None ? NULL : Py_NewRef(value);
+    self->callback = value == Py_None ? NULL : value;
@@ stage 5, part 3: reference leak
hint: Py_XDECREF
     Py_END_CRITICAL_SECTION();
-    Py_XDECREF(old);
+    (void)old;
     return 0;
"""


if __name__ == "__main__":
    unittest.main()
