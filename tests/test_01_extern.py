"""Stage 01, who calls whom: one contract, three ways to reach the same C.

Road 1 is extern_capi (C API by hand); road 2 is extern_cffi (API mode,
@ffi.def_extern) and extern_abi (ABI mode, dlopen + ffi.callback).

The contract comes in mixins, one per exercise part (AddChecks: part 1,
CallbackChecks: part 2, TraceChecks: part 3) and one for a C thread that
calls Python (ThreadChecks), so that the exercise class holds the checks of
the participant's functions, in part order.
"""
import contextlib
import faulthandler
import inspect
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import unittest
import weakref

import support

INT_MAX = 2**31 - 1
INT_MIN = -2**31
C_INT = "in -2147483648..2147483647"


class Boom(Exception):
    """Raised by test callbacks: no library code raises it by accident."""


class Result:
    """A fresh object for a callback to return: a weak reference to it
    tells whether anything still holds it."""


def failing_at(step):
    """A callback that notes each step it is called for and raises a new
    Boom at `step`; returns (callback, that Boom, the steps seen)."""
    boom = Boom("step %d failed" % step)
    seen = []

    def callback(i):
        seen.append(i)
        if i == step:
            raise boom

    return callback, boom, seen


def results_left_alive(call):
    """call(3, callback) with a callback that returns a new Result at each
    step: how many of the three are still alive after it returned."""
    results = []

    def callback(i):
        result = Result()
        results.append(weakref.ref(result))
        return result

    call(3, callback)
    return sum(ref() is not None for ref in results)


@contextlib.contextmanager
def watchdog(seconds):
    """End the process with every thread's traceback if the block takes
    longer than `seconds`: a deadlocked test cannot hang the suite.  (It
    runs on a C thread of faulthandler's, which needs no GIL.)"""
    faulthandler.dump_traceback_later(seconds, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


class AddChecks:
    """Exercise part 1, extern_add(): Python -> C -> Python."""

    def test_add_returns_the_sum(self):
        self.assertEqual(self.mod.add(2, 3), 5)
        self.assertEqual(self.mod.add(-7, 3), -4)
        self.assertEqual(self.mod.add(a=40, b=2), 42)

    def test_add_accepts_the_whole_int_range(self):
        self.assertEqual(self.mod.add(INT_MAX, 0), INT_MAX)
        self.assertEqual(self.mod.add(INT_MIN, 0), INT_MIN)
        self.assertEqual(self.mod.add(INT_MAX, INT_MIN), -1)
        self.assertEqual(self.mod.add(True, True), 2)   # bool is an int

    def test_add_refuses_a_float_naming_the_argument(self):
        with self.assertRaises(TypeError) as cm:
            self.mod.add(2.5, 1)
        self.assertEqual(str(cm.exception),
                         "add() argument 'a' must be int, not float")
        with self.assertRaises(TypeError) as cm:
            self.mod.add(1, "2")
        self.assertEqual(str(cm.exception),
                         "add() argument 'b' must be int, not str")
        with self.assertRaises(TypeError) as cm:
            self.mod.add(None, 1)
        self.assertIn("must be int, not NoneType", str(cm.exception))

    def test_type_names_are_the_same_on_every_road(self):
        import array
        with self.assertRaises(TypeError) as cm:
            self.mod.add(array.array("i", [1]), 1)
        self.assertEqual(str(cm.exception),
                         "add() argument 'a' must be int, not array")

    def test_add_refuses_ints_beyond_c_int(self):
        for a, b, name in ((INT_MAX + 1, 0, "a"), (0, INT_MIN - 1, "b"),
                           (10**100, 0, "a")):
            with self.assertRaises(OverflowError) as cm:
                self.mod.add(a, b)
            self.assertEqual(
                str(cm.exception),
                "add() argument '%s' must be %s" % (name, C_INT))

    def test_add_refuses_a_sum_beyond_c_int(self):
        with self.assertRaises(OverflowError) as cm:
            self.mod.add(INT_MAX, 1)
        self.assertEqual(str(cm.exception),
                         "add(2147483647, 1): the sum does not fit in a C int")
        with self.assertRaises(OverflowError):
            self.mod.add(INT_MIN, -1)

    def test_add_wants_exactly_two_arguments(self):
        for args in ((), (1,), (1, 2, 3)):
            with self.assertRaises(TypeError) as cm:
                self.mod.add(*args)
            self.assertIn("add()", str(cm.exception))


class CallbackChecks:
    """Exercise part 2, call_python_step(): Python -> C -> Python
    (-> C -> Python), on the thread that called call_n_times()."""

    # What the message of a failing check blames, on this road.
    trampoline = "the C callback"

    def test_callback_is_called_n_times_in_order(self):
        seen = []
        calls = self.mod.call_n_times(5, seen.append)
        self.assertEqual(seen, [0, 1, 2, 3, 4])
        self.assertEqual(calls, 5)

    def test_zero_times_calls_nothing(self):
        seen = []
        self.assertEqual(self.mod.call_n_times(0, seen.append), 0)
        self.assertEqual(seen, [])

    def test_callback_can_call_back_into_c(self):
        # Python -> C (call_n_times) -> Python (the lambda) -> C (add).
        totals = []
        self.mod.call_n_times(3, lambda i: totals.append(self.mod.add(i, 10)))
        self.assertEqual(totals, [10, 11, 12])

    def test_callback_can_reenter_call_n_times(self):
        trace = []

        def outer(i):
            trace.append(("outer", i))
            self.mod.call_n_times(2, lambda j: trace.append(("inner", i, j)))

        self.assertEqual(self.mod.call_n_times(2, outer), 2)
        self.assertEqual(trace, [
            ("outer", 0), ("inner", 0, 0), ("inner", 0, 1),
            ("outer", 1), ("inner", 1, 0), ("inner", 1, 1)])

    def test_exception_in_callback_propagates_unchanged(self):
        callback, boom, seen = failing_at(2)
        with self.assertRaises(Boom) as cm:
            self.mod.call_n_times(10, callback)
        self.assertIs(cm.exception, boom)       # the very same object
        self.assertEqual(seen, [0, 1, 2])       # and no call after it

    def test_exception_from_a_nested_callback_propagates(self):
        def outer(i):
            self.mod.call_n_times(3, inner)

        def inner(j):
            if j == 1:
                raise Boom("inner")

        with self.assertRaises(Boom) as cm:
            self.mod.call_n_times(5, outer)
        self.assertEqual(str(cm.exception), "inner")

    def test_base_exceptions_propagate_too(self):
        def interrupt(i):
            raise KeyboardInterrupt

        with self.assertRaises(KeyboardInterrupt):
            self.mod.call_n_times(3, interrupt)

    def test_the_recursion_limit_inside_callbacks_raises(self):
        # Python -> C -> Python -> C ... until the recursion limit is hit
        # somewhere on the way into a callback.  Wherever that is, the call
        # must raise: never return as if every step had run.
        def callback(i):
            self.mod.call_n_times(1, callback)

        old = sys.getrecursionlimit()
        here = len(inspect.stack(0))
        for extra in range(100, 112):       # every point of the cycle
            with self.subTest(limit=here + extra):
                sys.setrecursionlimit(here + extra)
                try:
                    with self.assertRaises((RecursionError,
                                            RuntimeError)) as cm:
                        self.mod.call_n_times(1, callback)
                finally:
                    sys.setrecursionlimit(old)
                if isinstance(cm.exception, NotImplementedError):
                    raise cm.exception      # an unfinished exercise
                if isinstance(cm.exception, RuntimeError) and not isinstance(
                        cm.exception, RecursionError):
                    # road 2 only, when cffi could not even run onerror
                    self.assertIn("its exception was lost",
                                  str(cm.exception))

    def test_a_signal_handler_that_raises_stops_the_loop(self):
        # The handler runs wherever Python code next runs: often inside
        # the callback, sometimes as the callback is entered, before any
        # `try:` in it.  Either way its exception must come out of
        # call_n_times, and C must stop calling.
        if not hasattr(signal, "pthread_kill"):
            self.skipTest("signal.pthread_kill is not available here")

        go, done = threading.Event(), threading.Event()

        def handler(signum, frame):
            if go.is_set() and not done.is_set():   # once per attempt
                done.set()
                raise Boom("signal %d" % signum)

        def sender():
            go.wait()
            while not done.wait(0.0005):
                signal.pthread_kill(threading.main_thread().ident,
                                    signal.SIGUSR1)

        # Long enough for many signals to land while C runs, short enough
        # that a loop which ignores them ends and fails the test.
        n = support.scale(2000000, 200000)
        steps = []
        old = signal.signal(signal.SIGUSR1, handler)
        # A loop that goes on calling with the exception still set gets
        # slower at every step (each new error is chained to the last one):
        # the watchdog ends such a run, which then fails, instead of
        # letting it hang.
        try:
            with watchdog(support.scale(20, 300)):
                for attempt in range(20):
                    go.clear()
                    done.clear()
                    thread = threading.Thread(target=sender)
                    thread.start()
                    try:
                        with self.assertRaises(Boom):
                            go.set()
                            self.mod.call_n_times(n, lambda i: steps.append(i))
                    finally:
                        done.set()
                        thread.join()
                    self.assertLess(len(steps), n)
                    steps.clear()
        finally:
            signal.signal(signal.SIGUSR1, old)

    def test_callback_keeps_its_reference_count(self):
        def callback(i):
            pass
        before = sys.getrefcount(callback)
        for _ in range(100):
            self.mod.call_n_times(3, callback)
        self.assertEqual(sys.getrefcount(callback), before)

    def test_the_callback_result_is_released(self):
        # Each call of the callback returns a new object: whoever receives
        # it owns one reference and must give it back.
        alive = results_left_alive(self.mod.call_n_times)
        self.assertEqual(alive, 0, "%s leaks the callback's return value: "
                         "%d of 3 results are still alive after "
                         "call_n_times() returned" % (self.trampoline, alive))

    def test_callback_must_be_callable(self):
        for bad in ("not callable", None, 42):
            with self.assertRaises(TypeError) as cm:
                self.mod.call_n_times(3, bad)
            self.assertEqual(
                str(cm.exception),
                "call_n_times() argument 'callback' must be callable, not %s"
                % type(bad).__name__)

    def test_n_must_be_a_non_negative_c_int(self):
        with self.assertRaises(ValueError) as cm:
            self.mod.call_n_times(-1, print)
        self.assertEqual(str(cm.exception),
                         "call_n_times() argument 'n' must be >= 0, not -1")
        with self.assertRaises(TypeError) as cm:
            self.mod.call_n_times(2.0, print)
        self.assertEqual(str(cm.exception),
                         "call_n_times() argument 'n' must be int, not float")
        with self.assertRaises(OverflowError):
            self.mod.call_n_times(2**31, print)


class TraceChecks:
    """Exercise part 3, extern_set_trace(): a C global variable with
    external linkage, read and written from Python."""

    def test_set_trace_returns_the_old_value(self):
        self.assertIs(self.mod.set_trace(True), False)
        try:
            self.assertIs(self.mod.set_trace(True), True)
        finally:
            self.assertIs(self.mod.set_trace(False), True)

    def test_set_trace_owns_the_bool_it_returns(self):
        # A function returns a reference its caller owns.  Returning
        # True or False without taking a reference makes every caller
        # give back one it never got.  (From 3.12 on, True and False are
        # immortal and their count never moves, so this passes there.)
        for value in (False, True):
            before = sys.getrefcount(value)
            for _ in range(20):     # few: each one lost is one too many
                self.mod.set_trace(value)
            lost = before - sys.getrefcount(value)
            self.mod.set_trace(False)
            self.assertLess(lost, 10, "set_trace() returned %s without a "
                            "reference of its own: its reference count fell"
                            " by %d over 20 calls" % (value, lost))

    def test_set_trace_passes_on_a_failing_truth_test(self):
        # Asking an object for its truth value runs its __bool__, which
        # may raise: then nothing is set and the exception goes on.
        class NoTruth:
            def __bool__(self):
                raise ValueError("no truth value here")
        with self.assertRaisesRegex(ValueError, r"^no truth value here$",
                                    msg="set_trace() must pass on the "
                                    "exception of a failing truth test"):
            self.mod.set_trace(NoTruth())
        self.assertIs(self.mod.set_trace(False), False,
                      "set_trace() changed the flag although the truth test "
                      "of its argument raised")

    def test_trace_lines_come_from_c_in_order(self):
        code = ("import sys; import %s as m\n"
                "sys.stdout.reconfigure(line_buffering=True)\n"
                "m.set_trace(True)\n"
                "print('[py] before')\n"
                "m.call_n_times(2, lambda i: print('[py] step', i))\n"
                "print('[py] sum', m.add(2, 3))\n" % self.module)
        proc = support.run_python(code, stage=self.stage)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout.splitlines(), [
            "[py] before",
            "[c] call_n_times: step 0, calling back", "[py] step 0",
            "[c] call_n_times: step 1, calling back", "[py] step 1",
            "[c] call_n_times: returning 2",
            "[c] add(2, 3) = 5", "[py] sum 5"])


class ThreadChecks:
    """A thread that C starts calls Python: call_on_thread(n, callback)
    runs call_n_times(n, callback) on a new C thread and waits for it."""

    def on_thread(self, n, callback):
        with watchdog(30):
            return self.mod.call_on_thread(n, callback)

    def test_the_callback_runs_on_another_thread(self):
        seen = []

        def callback(i):
            seen.append((i, threading.get_ident(), threading.get_native_id()))
            return i * i

        self.assertEqual(self.on_thread(3, callback), 3)
        self.assertEqual([i for i, _, _ in seen], [0, 1, 2])
        main = (threading.get_ident(), threading.get_native_id())
        for _, ident, native in seen:
            self.assertNotEqual(ident, main[0])
            self.assertNotEqual(native, main[1],
                                "native thread ids: callback %d, caller %d"
                                % (native, main[1]))
        # One C thread for the whole call.
        self.assertEqual(len({native for _, _, native in seen}), 1)

    def test_values_come_back_from_the_thread(self):
        totals = []
        self.assertEqual(
            self.on_thread(4, lambda i: totals.append(self.mod.add(i, 10))),
            4)
        self.assertEqual(totals, [10, 11, 12, 13])
        self.assertEqual(self.on_thread(0, totals.append), 0)

    def test_an_exception_on_the_thread_is_raised_in_the_caller(self):
        callback, boom, seen = failing_at(1)
        try:
            self.on_thread(5, callback)
        except Boom as exc:
            raised = exc
        else:
            self.fail("call_on_thread() did not raise the callback's Boom")
        self.assertIs(raised, boom)             # the very same object
        self.assertEqual(seen, [0, 1])          # and no call after it
        # Its traceback still ends in the callback, on the C thread.
        self.assertEqual(_last_frame(raised), "callback")

    def test_the_callback_result_is_released_on_the_thread(self):
        self.assertEqual(results_left_alive(self.on_thread), 0,
                         "call_on_thread() leaks the callback's results")

    def test_arguments_are_checked_as_for_call_n_times(self):
        for args, error, message in [
                ((-1, print), ValueError, "'n' must be >= 0, not -1"),
                ((1, None), TypeError,
                 "'callback' must be callable, not NoneType")]:
            with self.subTest(args=args):
                with self.assertRaises(error) as cm:
                    self.mod.call_on_thread(*args)
                self.assertEqual(str(cm.exception),
                                 "call_on_thread() argument " + message)

    def test_ctrl_c_stops_the_wait_at_the_next_step(self):
        # The caller waits in C while C's thread calls back 50 times, 0.1 s
        # each.  Ctrl-C after 0.35 s: the handler runs within
        # CALL_CHECK_MS, the thread makes no further step once the running
        # callback returns, and the caller raises KeyboardInterrupt.
        code = textwrap.dedent("""
            import os, signal, threading, time
            import %s as m
            seen = []
            def callback(i):
                seen.append(i)
                time.sleep(0.1)
            threading.Timer(0.35, os.kill,
                            (os.getpid(), signal.SIGINT)).start()
            start = time.monotonic()
            try:
                m.call_on_thread(50, callback)
            except KeyboardInterrupt:
                print("KeyboardInterrupt", len(seen),
                      time.monotonic() - start)
            """) % self.module
        proc = support.run_python(code, stage=self.stage, timeout=60)
        self.assertEqual(proc.returncode, 0, "%s\n%s" % (
            support.describe_exit(proc.returncode), proc.stderr))
        word, steps, seconds = proc.stdout.split()
        self.assertEqual(word, "KeyboardInterrupt")
        # About 4 steps (0.35 s / 0.1 s, then the one running); all 50
        # (5 s) when the wait cannot be interrupted.
        self.assertLess(int(steps), 20, proc.stdout)
        self.assertGreaterEqual(int(steps), 3, proc.stdout)

    def test_no_deadlock_while_the_caller_waits(self):
        # The caller waits in pthread_join(); the thread needs the GIL for
        # each callback.  Had the caller kept the GIL, this would never
        # return, and the watchdog would end the run with every thread's
        # traceback after 30 s.  (Road 1, whose caller lets go by hand,
        # checks it in a child process instead.)
        self.assertEqual(self.on_thread(3, lambda i: i), 3)


class LyingIntChecks:
    """Range checks read an argument's value, never its own operators."""

    def test_an_int_that_lies_in_its_operators_is_checked_by_value(self):
        Lying = support.hostile.LyingRangeInt
        self.assertEqual(self.mod.add(Lying(40), Lying(2)), 42)
        with self.assertRaises(OverflowError) as cm:
            self.mod.add(Lying(INT_MAX), 1)     # would wrap in C
        self.assertEqual(str(cm.exception),
                         "add(2147483647, 1): the sum does not fit in a C int")
        with self.assertRaises(OverflowError) as cm:
            self.mod.add(Lying(INT_MAX + 1), 0)
        self.assertEqual(str(cm.exception),
                         "add() argument 'a' must be %s" % C_INT)
        for func in (self.mod.call_n_times, self.mod.call_on_thread):
            with self.assertRaises(ValueError) as cm:
                func(Lying(-5), print)
            self.assertEqual(str(cm.exception), "%s() argument 'n' must be "
                             ">= 0, not -5" % func.__name__)

    def test_an_object_that_claims_to_be_an_int_is_not_one(self):
        Claims = support.hostile.ClaimsToBeInt
        with self.assertRaises(TypeError) as cm:
            self.mod.add(Claims(1), 1)
        self.assertEqual(str(cm.exception),
                         "add() argument 'a' must be int, not ClaimsToBeInt")
        with self.assertRaises(TypeError) as cm:
            self.mod.call_n_times(Claims(-5), print)
        self.assertEqual(str(cm.exception), "call_n_times() argument 'n' "
                         "must be int, not ClaimsToBeInt")


def _last_frame(exc):
    tb = exc.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame.f_code.co_name


class TestCapi(AddChecks, CallbackChecks, TraceChecks, support.Road):
    """Road 1, the exercise's contract: exactly the checks of the three
    parts, and nothing else (exercise/hints.txt has one block each)."""
    stage, module = "01", "extern_capi"
    trampoline = "call_python_step()"


class TestCapiThreads(ThreadChecks, LyingIntChecks, support.Road):
    stage, module = "01", "extern_capi"

    def test_no_deadlock_while_the_caller_waits(self):
        # In a child, so that a deadlock is a clear failure, not a run
        # that the watchdog ends.
        code = ("import extern_capi as m\n"
                "print(m.call_on_thread(3, lambda i: i))\n")
        try:
            proc = support.run_python(code, stage=self.stage, timeout=30)
        except subprocess.TimeoutExpired:
            self.fail("call_on_thread() did not return within 30 s: the "
                      "caller must let go of the GIL while it waits for "
                      "the C thread, or each waits for the other")
        self.assertEqual(proc.returncode, 0, "%s\n%s" % (
            support.describe_exit(proc.returncode), proc.stderr))
        self.assertEqual(proc.stdout.strip(), "3")

    def test_a_subinterpreter_is_refused(self):
        # PyGILState_Ensure() knows only the main interpreter.  extern_capi
        # imports only where the GIL is shared (its declaration), so the
        # subinterpreter shares it.
        failure = support.run_in_subinterpreter(
            "import sys\n"
            "sys.path[:0] = %r\n"
            "import extern_capi\n"
            "extern_capi.call_on_thread(1, print)\n"
            % support.stage_path(self.stage), shared_gil=True)
        self.assertEqual(failure, "RuntimeError: call_on_thread() works "
                         "only in the main interpreter")


@unittest.skipUnless(support.have_cffi(), support.CFFI_MISSING)
class TestCffiApiMode(AddChecks, CallbackChecks, TraceChecks, support.Road):
    stage, module = "01", "extern_cffi"

    def test_the_callback_is_a_compiled_extern_python_function(self):
        lib = self.mod.lib
        self.assertEqual(self.mod.ffi.typeof(lib.py_step).cname,
                         "int(*)(void *, int)")

    def test_an_unguarded_exception_is_printed_and_c_goes_on(self):
        # What cffi does by itself: print the traceback to stderr, return
        # 0 to C, and let C carry on calling.  Hence the guard in _road2.
        code = ("import extern_cffi\n"
                "seen = []\n"
                "def cb(i):\n"
                "    seen.append(i)\n"
                "    if i == 1: raise ValueError('boom')\n"
                "print(extern_cffi.call_n_times_unguarded(3, cb), seen)\n")
        proc = support.run_python(code, stage=self.stage)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout.strip(), "3 [0, 1, 2]")
        self.assertIn("from cffi callback", proc.stderr.lower())
        self.assertIn("ValueError: boom", proc.stderr)


@unittest.skipUnless(support.have_cffi(), support.CFFI_MISSING)
class TestCffiAbiMode(AddChecks, CallbackChecks, TraceChecks, support.Road):
    stage, module = "01", "extern_abi"

    def test_the_library_is_loaded_from_the_shared_object(self):
        self.assertTrue(self.mod.LIBRARY.endswith("libextern.so"))
        with open("/proc/self/maps") as maps:
            self.assertIn(self.mod.LIBRARY, maps.read())


@unittest.skipUnless(support.have_cffi(), support.CFFI_MISSING)
class TestCffiApiModeThreads(ThreadChecks, LyingIntChecks, support.Road):
    stage, module = "01", "extern_cffi"


@unittest.skipUnless(support.have_cffi(), support.CFFI_MISSING)
class TestCffiAbiModeThreads(ThreadChecks, LyingIntChecks, support.Road):
    stage, module = "01", "extern_abi"


EXERCISE = ["TestCapi"]


class TestHosts(unittest.TestCase):
    """C as the host: linked statically, dynamically, and embedding Python.
    The programs are built into host/, beside their sources."""

    def program(self, name):
        path = support.build_dir("01") / "host" / name
        if not path.exists():
            self.fail("%s is not built (run make)" % path)
        return str(path)

    def run_program(self, *argv):
        proc = subprocess.run(argv, capture_output=True, text=True,
                              timeout=60, cwd=support.stage_dir("01"))
        self.assertEqual(proc.returncode, 0,
                         "%s: %s\n%s" % (argv[0], support.describe_exit(
                             proc.returncode), proc.stderr))
        return proc.stdout

    def test_static_and_dynamic_hosts_print_the_same(self):
        static = self.run_program(self.program("host-static"))
        dynamic = self.run_program(self.program("host-dynamic"))
        self.assertEqual(static, dynamic)
        self.assertEqual(static.splitlines()[:3], [
            "[c host] main() is in C; calling add(2, 3)",
            "[c] add(2, 3) = 5", "[c host] got 5"])
        self.assertIn("[c host] call_n_times made 2 calls", static)

    def nm(self, program):
        if shutil.which("nm") is None:
            self.skipTest("nm is not installed (sudo apt install binutils)")
        out = subprocess.run(["nm", program], capture_output=True, text=True,
                             check=True).stdout
        return {line.split()[-1]: line.split()[-2] for line in
                out.splitlines() if len(line.split()) >= 2}

    def test_static_host_contains_add(self):
        symbols = self.nm(self.program("host-static"))
        self.assertEqual(symbols.get("add"), "T")       # defined, in text
        self.assertEqual(symbols.get("trace_calls"), "B")

    def test_dynamic_host_only_refers_to_add(self):
        symbols = self.nm(self.program("host-dynamic"))
        self.assertEqual(symbols.get("add"), "U")       # undefined here
        if shutil.which("ldd") is None:
            self.skipTest("ldd is not installed (sudo apt install libc-bin)")
        deps = subprocess.run(["ldd", self.program("host-dynamic")],
                              capture_output=True, text=True).stdout
        # -rpath '$ORIGIN/..': the stage's own libextern.so, one folder up.
        found = re.search(r"libextern\.so => (\S+)", deps)
        self.assertIsNotNone(found, deps)
        self.assertEqual(os.path.realpath(found.group(1)),
                         str(support.build_dir("01") / "libextern.so"))
        static = subprocess.run(["ldd", self.program("host-static")],
                                capture_output=True, text=True).stdout
        self.assertNotIn("libextern", static)

    def test_dynamic_host_needs_the_shared_object_static_does_not(self):
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            # In a host/ of its own, so that $ORIGIN/.. is the empty tmp.
            host = os.path.join(tmp, "host")
            os.mkdir(host)
            for name in ("host-static", "host-dynamic"):
                shutil.copy(self.program(name), host)
            static = subprocess.run([host + "/host-static"],
                                    capture_output=True, text=True)
            dynamic = subprocess.run([host + "/host-dynamic"],
                                     capture_output=True, text=True)
        self.assertEqual(static.returncode, 0, static.stderr)
        self.assertEqual(dynamic.returncode, 127)       # the loader gave up
        self.assertIn("error while loading shared libraries: libextern.so: "
                      "cannot open shared object file", dynamic.stderr)
        self.assertEqual(dynamic.stdout, "")            # main never ran

    def test_embedding_host_starts_calls_and_finalises_python(self):
        out = self.run_program(self.program("embed"), "host")
        self.assertEqual(out.splitlines(), [
            "[c host] Python is initialised",
            '[c host] calling embedded_guest.greet("embed.c")',
            "[py] greet('embed.c'): Python %d.%d running inside a C program"
            % sys.version_info[:2],
            "[c host] greet returned 7",
            "[c host] Python is finalised"])

    def test_embedding_host_reports_a_python_error(self):
        # An empty folder: the import fails, C prints the traceback and
        # exits with status 1 instead of crashing.
        proc = subprocess.run([self.program("embed"), "/nonexistent"],
                              capture_output=True, text=True, timeout=60,
                              cwd="/")
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("ModuleNotFoundError: No module named 'embedded_guest'",
                      proc.stderr)
        self.assertIn("[c host] Python is finalised", proc.stdout)

    def guest(self, body):
        """Run embed with an embedded_guest.py whose greet() is `body`."""
        import tempfile
        with tempfile.TemporaryDirectory() as folder:
            with open(folder + "/embedded_guest.py", "w") as f:
                f.write("import os, sys\ndef greet(who):\n" + body)
            return subprocess.run([self.program("embed"), folder],
                                  capture_output=True, text=True,
                                  timeout=60, cwd="/")

    def test_the_guest_cannot_exit_the_host(self):
        # sys.exit() in the guest raises SystemExit; PyErr_Print() would
        # end the C program with the guest's status, before the host's own
        # cleanup.  The host says what the guest asked, and goes on.
        for body, shown in (("    sys.exit(3)\n", "SystemExit(3)"),
                            ("    raise SystemExit('bye')\n",
                             "SystemExit('bye')")):
            with self.subTest(shown):
                proc = self.guest(body)
                self.assertEqual(proc.returncode, 1, proc.stderr)
                self.assertEqual(proc.stderr, "[c host] error: the guest "
                                 "raised %s\n" % shown)
                self.assertTrue(proc.stdout.endswith(
                    "[c host] Python is finalised\n"), proc.stdout)

    def test_a_guest_that_returns_no_int_is_an_error(self):
        for body, error in (("    return 'seven'\n", "TypeError"),
                            ("    return 2**100\n", "OverflowError"),
                            ("    raise KeyboardInterrupt\n",
                             "KeyboardInterrupt")):
            with self.subTest(error):
                proc = self.guest(body)
                self.assertEqual(proc.returncode, 1, proc.stderr)
                self.assertIn(error, proc.stderr)
                self.assertTrue(proc.stdout.endswith(
                    "[c host] Python is finalised\n"), proc.stdout)



# --- the differential tests (tests/harness/differential.py) ----------------

def differential(d):
    """What tests/harness/differential.py gives each function of road 1
    (strategies of d's vocabulary, `s`), and the calls every run starts
    with.  Each module of road 2 in this folder must agree with road 1."""
    return {
        "functions": {
            "add": lambda s: (s.int_or_wrong, s.int_or_wrong),
            "call_n_times": lambda s: (s.small_n, s.callback()),
            "call_on_thread": lambda s: (s.small_n, s.callback()),
            "set_trace": lambda s: (s.anything,),
        },
        # What to undo after each call, on each road.
        "after": {"set_trace": lambda mod: mod.set_trace(False)},
        "seeds": {
            "add": [(2, 3), (INT_MAX, 1)],
            "call_n_times": [(3, d.Fresh("callback", 30, "boom")),
                             (5, d.Fresh("callback", 2, "boom"))],
            "call_on_thread": [(3, d.Fresh("callback", 30, "boom"))],
        },
    }


# The mistakes `make check-1` must catch in this stage's exercise: each
# is an edit of the reference, with the words one of the checker's hints
# must print (tests/test_gate_exercises.py makes each edit and runs the
# checker; its top explains the form).
MUTANTS = r"""
@@ stage 1, part 1: integer overflow not refused
hint: does not fit in a C int
hint: OverflowError
-    if (sum < INT_MIN || sum > INT_MAX) {
+    if (0 && (sum < INT_MIN || sum > INT_MAX)) {
@@ stage 1, part 1: reference leak
hint: leaks
-    return PyLong_FromLong(add((int)a, (int)b));
+    PyObject *result = PyLong_FromLong(add((int)a, (int)b));
+    Py_XINCREF(result);
+    return result;
@@ stage 1, part 1: exception swallowed
hint: int_in_range
                         &b) < 0) {
-        return NULL;
+        PyErr_Clear();
+        return PyLong_FromLong(0);
@@ stage 1, part 2: error status ignored
hint: exception
hint: NULL
-        return -1;          /* exception set: ask the C loop to stop */
+        return 0;
@@ stage 1, part 2: exception swallowed
hint: exception
-        return -1;          /* exception set: ask the C loop to stop */
+        PyErr_Clear();
+        return 0;
@@ stage 1, part 2: reference leak
hint: Py_DECREF
hint: leak
hint: released
-    Py_DECREF(result);      /* the callback's return value is not used */
@@ stage 1, part 3: error status ignored
hint: PyObject_IsTrue
hint: -1
     int flag = PyObject_IsTrue(on);
-    if (flag < 0) {
-        return NULL;
-    }
@@ stage 1, part 3: borrowed reference returned
hint: PyBool_FromLong
hint: Py_RETURN_TRUE
before: 3.12
-    return PyBool_FromLong(old);
+    return old ? Py_True : Py_False;
"""


if __name__ == "__main__":
    unittest.main()
