"""Stage 05: the ERROR callback, on both roads.

It is called after the message is in the buffer, its exception reaches
log()'s caller unchanged, and it may come back into its own logger: log,
close it, replace or delete itself.  Helpers: test_05_logger.

This file also holds what the stage's road classes and its gate files
(tests/test_gate_05_*.py) share: the two roads, children run once per
mode, and threads that log until the logger refuses them.
"""
import gc
import json
import sys
import textwrap
import threading
import unittest

import support
from test_05_logger import (CLOSING, Boom, ChildRuns, HardCases,
                            captured_fds, line_for, no_unraisable)


# --- the two roads, mixed in before support.Road by every road class ------

class CapiRoad:
    """Road 1: tales_from_ffi, an extension type written with the C API."""
    stage, module = "05", "tales_from_ffi"
    destructor_is_python = False        # tp_dealloc, in C


@unittest.skipUnless(support.have_cffi(), support.CFFI_MISSING)
class CffiRoad:
    """Road 2: logger_cffi (its classes are skipped without cffi)."""
    stage, module = "05", "logger_cffi"
    destructor_is_python = True         # _destroy, given to ffi.gc


# --- threads that log: in this process, or imported by a child ------------

def start_threads(count, target):
    """Start target(0) ... target(count - 1), each in a thread of its own;
    return the threads."""
    workers = [threading.Thread(target=target, args=(t,))
               for t in range(count)]
    for w in workers:
        w.start()
    return workers


def log_until_refused(lg, t, count, logged, refused):
    """Log line_for(t, 0) ... line_for(t, count - 1), counting each line
    in logged[t]; the first ValueError (the logger closed) adds t to
    `refused` and ends it."""
    for i in range(count):
        try:
            lg.log(line_for(t, i))
        except ValueError:
            refused.append(t)
            return
        logged[t] += 1


# --- children whose stdout is a pipe, run once per mode -------------------

# The start of such a child: `out` is the real stdout, `r` the read end of
# the pipe that is fd 1 now, and nobody reads it yet.
PIPE_CHILD = """\
from {module} import Logger
out = os.dup(1)
r = stdout_into_a_pipe()
lg = Logger(background={background}, buffer_size={buffer_size})
"""


def pipe_child(code):
    """PIPE_CHILD, then `code` (dedented)."""
    return PIPE_CHILD + textwrap.dedent(code)


class EachMode(HardCases):
    """HardCases, with children run in direct, then in background mode."""

    def check_each_mode(self, child, report=None, stdout=None, stderr=None,
                        closings=None, **values):
        """Run `child` with {background} False, then True, each in its
        subTest.  It must exit 0; then its report, its stdout, its stderr
        and the number of closing lines on its stderr are compared with
        those given."""
        for background in (False, True):
            with self.subTest(background=background):
                code, out, err = self.run_child(child, background=background,
                                                **values)
                where = "background=%s\n%s" % (background, err[-3000:])
                self.assertEqual(code, 0, support.describe_exit(code)
                                 + "\n" + where)
                if report is not None:
                    found = json.loads(err.rpartition("report: ")[2])
                    self.assertEqual(found, report, where)
                if stdout is not None:
                    self.assertEqual(out, stdout, where)
                if stderr is not None:
                    self.assertEqual(err, stderr, where)
                if closings is not None:
                    self.assertEqual(err.count(CLOSING), closings, where)


class CallbackContract(ChildRuns):
    """The callback.  self.mod is the module under test."""

    def test_error_messages_call_the_callback_after_the_write(self):
        seen = []
        with captured_fds() as cap:
            lg = self.make(lambda: (lg.flush(),
                                    seen.append(cap.out_so_far())))
            lg.log("fine\n")
            lg.log("[ERROR] one\n")
            lg.log("error in lower case does not count\n")
            lg.log("an ERRO R is not either\n")
            lg.log("ERROR\n")
            lg.close()
            del lg
        # Each call saw its own message already in the buffer (flushed).
        self.assertEqual(seen, ["fine\n[ERROR] one\n",
                                "fine\n[ERROR] one\n"
                                "error in lower case does not count\n"
                                "an ERRO R is not either\nERROR\n"])

    def test_no_callback_means_no_call(self):
        with captured_fds() as cap:
            lg = self.make()
            self.assertIsNone(lg.callback)
            lg.log("ERROR but nobody listens\n")
            lg.close()
            lg2 = self.make(None)
            lg2.log("ERROR again\n")
            lg2.close()
        self.assertEqual(cap.out, "ERROR but nobody listens\nERROR again\n")

    def test_callback_exception_propagates_and_the_message_is_kept(self):
        boom = Boom("the callback failed")

        def callback():
            raise boom

        with captured_fds() as cap:
            lg = self.make(callback)
            lg.log("before\n")
            with self.assertRaises(Boom) as cm:
                lg.log("[ERROR] this one\n")
            self.assertIs(cm.exception, boom)        # the very same object
            lg.log("after\n")                         # still usable
            lg.close()
            del lg, cm
        self.assertEqual(cap.out, "before\n[ERROR] this one\nafter\n")

    def test_base_exceptions_from_the_callback_propagate(self):
        def callback():
            raise KeyboardInterrupt

        with captured_fds() as cap:
            lg = self.make(callback)
            with self.assertRaises(KeyboardInterrupt):
                lg.log("ERROR\n")
            lg.close()
            del lg
        self.assertEqual(cap.out, "ERROR\n")

    def test_the_callback_may_log(self):
        with captured_fds() as cap:
            lg = self.make()
            lg.callback = lambda: lg.log("  noted by the callback\n")
            lg.log("ERROR first\n")
            lg.log("ERROR second\n")
            lg.close()
            lg.callback = None                        # break the cycle
        self.assertEqual(cap.out, "ERROR first\n  noted by the callback\n"
                         "ERROR second\n  noted by the callback\n")

    def test_callback_attribute_refuses_what_cannot_be_called(self):
        with captured_fds():
            lg = self.make(print)
            self.assertIs(lg.callback, print)
            with self.assertRaises(TypeError) as cm:
                lg.callback = 42
            self.assertIs(lg.callback, print)         # unchanged
            lg.callback = None
            self.assertIsNone(lg.callback)
            lg.close()
        self.assertEqual(str(cm.exception), "Logger() argument 'callback' "
                         "must be callable or None, not int")

    def test_callback_keeps_its_reference_count(self):
        def callback():
            pass
        before = sys.getrefcount(callback)
        with captured_fds():
            lg = self.make(callback)
            for _ in range(100):
                lg.log("ERROR\n")
            lg.close()
            self.assertEqual(sys.getrefcount(callback), before + 1)
            del lg
        self.assertEqual(sys.getrefcount(callback), before)

    def test_a_cycle_through_the_callback_is_collected_and_flushed(self):
        gc.collect()
        gc.disable()
        try:
            with captured_fds() as cap:
                with no_unraisable():
                    def build():
                        lg = self.make()
                        # The callback refers to its own logger: a cycle
                        # (through the closure cell, once build() returns).
                        lg.callback = lambda: lg.log("callback saw it\n")
                        lg.log("ERROR in a cycle\n")
                    build()
                    self.assertEqual(cap.out_so_far(), "")   # still alive
                    self.assertGreater(gc.collect(), 0)
        finally:
            gc.enable()
        self.assertEqual(cap.out, "ERROR in a cycle\ncallback saw it\n")
        self.assertEqual(cap.err, CLOSING)

    # --- callbacks that come back --------------------------------------------

    def test_the_callback_may_close_its_own_logger(self):
        for background in (False, True):
            with self.subTest(background=background):
                where = "background=%s" % background
                with captured_fds() as cap:
                    lg = self.make(background=background)
                    lg.callback = lg.close
                    lg.log("one\n")
                    lg.log("ERROR two\n")
                    self.assertTrue(lg.closed, where)
                    with self.assertRaises(ValueError):
                        lg.log("three\n")
                    lg.close()
                    lg.callback = None
                    del lg
                self.assertEqual(cap.out, "one\nERROR two\n", where)
                self.assertEqual(cap.err, CLOSING, where)

    def test_the_callback_may_replace_or_delete_itself(self):
        seen = []
        with captured_fds() as cap:
            lg = self.make()

            def install(name, then):
                def callback():
                    seen.append(name)
                    then()
                lg.callback = callback      # the logger holds the only ref

            install("first", lambda: install("second", lambda: None))
            lg.log("ERROR 1\n")             # first replaces itself
            lg.log("ERROR 2\n")

            def deleting():
                seen.append("deleting")
                del lg.callback             # as road 1: means None
            lg.callback = deleting
            del deleting
            lg.log("ERROR 3\n")
            lg.log("ERROR 4\n")
            self.assertIsNone(lg.callback)
            lg.close()
        self.assertEqual(seen, ["first", "second", "deleting"])
        self.assertEqual(cap.out, "ERROR 1\nERROR 2\nERROR 3\nERROR 4\n")

    def test_an_exception_from_a_nested_log_reaches_the_outer_caller(self):
        boom = Boom("from the inner callback")
        calls = []

        def callback():
            calls.append(len(calls))
            if len(calls) == 1:
                lg.log("ERROR inner\n")     # its callback raises boom
            else:
                raise boom

        with captured_fds() as cap:
            lg = self.make(callback)
            with self.assertRaises(Boom) as cm:
                lg.log("ERROR outer\n")
            self.assertIs(cm.exception, boom)
            lg.log("after\n")
            lg.close()
            lg.callback = None
            del cm
        self.assertEqual(calls, [0, 1])
        self.assertEqual(cap.out, "ERROR outer\nERROR inner\nafter\n")


class TestCapiCallbacks(CallbackContract, CapiRoad, support.Road):
    pass


class TestCffiCallbacks(CallbackContract, CffiRoad, support.Road):
    pass


EXERCISE = ["TestCapiCallbacks"]


if __name__ == "__main__":
    unittest.main()
