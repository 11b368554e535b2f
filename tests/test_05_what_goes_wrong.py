"""Stage 05: what goes wrong, and what the logger promises all the same.

Each test backs a claim of the chapter's "What goes wrong, and how to see
it", on both roads: strings that lie about themselves, a callback that
cannot even start, fork(), Ctrl-C while a write is blocked, a failed write
at destruction, two threads closing at once, and callbacks or signal
handlers that come back into the logger.

These loggers fork, take signals, fill pipes that nobody reads and write
to /dev/full, so they live in child processes: a hang or a crash fails
one test instead of taking the runner down.  (Only the callbacks that
come back run here, on files, as in test_05_logger.)  The children import
the small helpers below (this file is on their PYTHONPATH).  The classes
are plain TestCases, not support.Road: the reference-leak gate runs Road
classes six times over in one process, and these spend their time in
children that it cannot see.
"""
import fcntl
import json
import mmap
import os
import select
import signal
import struct
import subprocess
import sys
import termios
import textwrap
import threading
import time
import unittest

import support
import test_05_logger as t05

CLOSING = t05.CLOSING


# --- helpers that the child processes import --------------------------------

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


# --- the parent's side -------------------------------------------------------

class HardCases:
    """What both roads must survive.  self.module is the module's name."""

    stage = "05"

    def make(self, *args, **kwargs):
        return self.mod.Logger(*args, **kwargs)

    def script(self, code, **values):
        values.setdefault("module", self.module)
        return textwrap.dedent(code).format(**values)

    def start(self, code, **values):
        return subprocess.Popen(
            [sys.executable, "-c", self.script(code, **values)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=t05.child_env(self.stage))

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

    # --- strings that lie ----------------------------------------------------

    def test_a_str_subclass_logs_its_own_characters(self):
        # What encode() of a subclass returns, or what its bytes claim as
        # their len(), must not matter: the bytes are the str's own UTF-8.
        code, out, err = self.run_child("""
            import sys
            from {module} import Logger

            class Lying(bytes):
                def __len__(self):
                    return 1 << 20              # a megabyte it does not have

            class LyingEncode(str):
                def encode(self, *args, **kwargs):
                    return Lying(b"what encode() says\\n")

            class OtherEncode(str):
                def encode(self, *args, **kwargs):
                    return b"what encode() says\\n"

            class Pretender:                    # not a str, but says so
                __class__ = str
                def encode(self, *args, **kwargs):
                    return b"a pretender\\n"

            lg = Logger()
            lg.log(LyingEncode("the str's own text, one\\n"))
            lg.log(OtherEncode("the str's own text, tw\\u00f6\\n"))
            try:
                lg.log(Pretender())
            except TypeError as exc:
                print("TypeError:", exc, file=sys.stderr, flush=True)
            lg.close()
        """)
        self.assertEqual(code, 0, support.describe_exit(code) + "\n" + err)
        self.assertEqual(out, "the str's own text, one\n"
                              "the str's own text, tw\u00f6\n")
        self.assertEqual(err, "TypeError: Logger.log() argument must be str, "
                              "not Pretender\n" + CLOSING)

    # --- a callback that cannot even start ---------------------------------

    def test_a_callback_that_hits_the_recursion_limit_raises_in_log(self):
        # log("ERROR") at every depth up to the recursion limit: wherever
        # the limit strikes (in log, in the callback, or as C calls the
        # callback), log() raises; it never returns with the callback
        # silently skipped.
        code, out, err = self.run_child("""
            import os, sys
            from {module} import Logger
            from test_05_what_goes_wrong import report

            class Boom(Exception):
                pass

            calls = 0
            def callback():
                global calls
                calls += 1
                raise Boom()

            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            lg = Logger(callback)

            def attempt():
                before = calls
                try:
                    lg.log("ERROR\\n")
                except Boom:
                    return "Boom"
                except RecursionError:
                    return "RecursionError"
                return "returned, called" if calls > before else "SKIPPED"

            def at(depth):
                return at(depth - 1) if depth else attempt()

            seen = {{}}
            limit = sys.getrecursionlimit()
            for depth in range(limit - 100, limit):
                try:
                    outcome = at(depth)
                except RecursionError:
                    outcome = "too deep to call log()"
                seen[outcome] = seen.get(outcome, 0) + 1
            lg.close()
            report(seen=seen)
        """)
        found = json.loads(err.rpartition("report: ")[2])["seen"]
        self.assertEqual(code, 0, err[-3000:])
        self.assertNotIn("SKIPPED", found,
                         "log() returned, but its callback never ran")
        self.assertIn("Boom", found)
        self.assertIn("RecursionError", found)
        self.assertNotIn("returned, called", found)

    def test_a_callback_that_logs_forever_ends_in_recursion_error(self):
        code, out, err = self.run_child("""
            import sys
            from {module} import Logger
            lg = Logger()
            lg.callback = lambda: lg.log("ERROR again\\n")
            try:
                lg.log("ERROR first\\n")
            except RecursionError:
                print("RecursionError", file=sys.stderr, flush=True)
            lg.close()
        """)
        self.assertEqual(code, 0, support.describe_exit(code) + err[-3000:])
        self.assertTrue(err.startswith("RecursionError\n"), err[-3000:])
        lines = out.splitlines()
        self.assertEqual(lines[0], "ERROR first")
        self.assertGreater(len(lines), 50)
        self.assertEqual(set(lines[1:]), {"ERROR again"})

    def test_a_signal_as_the_callback_starts_is_raised_by_log(self):
        # A signal that arrives while C runs is handled by Python at the
        # next bytecode: on road 2 that is the first one of the
        # @ffi.def_extern function, before any try: in it.  Ticks every
        # 0.2 ms for half a second: every log() either calls the callback
        # or raises the handler's exception.
        code, out, err = self.run_child("""
            import os, signal, sys, time
            from {module} import Logger
            from test_05_what_goes_wrong import report

            class Tick(Exception):
                pass

            armed = False
            def on_alarm(signum, frame):
                if armed:                       # only inside log()
                    raise Tick()

            calls = 0
            def callback():
                global calls
                calls += 1

            os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
            lg = Logger(callback)

            def attempt():
                global armed
                before = calls
                try:
                    armed = True
                    lg.log("ERROR\\n")
                    armed = False
                except Tick:
                    armed = False
                    return "raised"
                except RuntimeError as exc:
                    # A second tick inside cffi's onerror handler: cffi
                    # prints both, and log() says that it lost them.
                    armed = False
                    if "was lost" not in str(exc):
                        raise
                    return "raised, lost"
                return "called" if calls == before + 1 else "SKIPPED"

            signal.signal(signal.SIGALRM, on_alarm)
            signal.setitimer(signal.ITIMER_REAL, 0.0002, 0.0002)
            seen = {{}}
            deadline = time.monotonic() + 0.5
            try:
                while time.monotonic() < deadline:
                    outcome = attempt()
                    seen[outcome] = seen.get(outcome, 0) + 1
            finally:
                armed = False
                signal.setitimer(signal.ITIMER_REAL, 0)
            lg.close()
            report(seen=seen)
        """)
        self.assertEqual(code, 0, support.describe_exit(code) + err[-3000:])
        found = json.loads(err.rpartition("report: ")[2])["seen"]
        self.assertNotIn("SKIPPED", found, "log() returned, but its callback "
                         "never ran: %s" % found)
        self.assertIn("raised", found)
        self.assertIn("called", found)

    def test_an_empty_message_then_close_then_flush_writes_nothing(self):
        # log("") leaves an empty buffer open; close() shuts its window.
        # Sealing it afterwards used to measure it through that closed
        # window: a length of nearly 2**64, EFAULT, or heap bytes on fd 1.
        code, out, err = self.run_child("""
            import sys
            from {module} import Logger
            for background in (False, True):
                lg = Logger(background=background)
                lg.log("")
                lg.close()
                lg.flush()
                try:
                    lg.log("refused\\n")
                except ValueError:
                    pass
                lg.flush()
                lg.close()
            print("done", file=sys.stderr)
        """)
        self.assertEqual(code, 0, support.describe_exit(code) + err[-3000:])
        self.assertEqual(out, "")
        self.assertEqual(err, CLOSING * 2 + "done\n")

    def test_close_while_other_threads_wait_to_log(self):
        # stdout a full pipe: two threads are stuck in log(), waiting for
        # room (background) or for the thread that writes (direct).  close()
        # from a third must refuse them (ValueError, not a hang), and once
        # the pipe is read, every line they got in arrives exactly once.
        for background in (False, True):
            with self.subTest(background=background):
                code, out, err = self.run_child("""
                    import os, threading
                    from {module} import Logger
                    from test_05_logger import line_for
                    from test_05_what_goes_wrong import (Drain, report,
                        stdout_into_a_pipe, wait_until_full)
                    out = os.dup(1)
                    r = stdout_into_a_pipe()
                    lg = Logger(background={background}, buffer_size=4096)
                    logged, refused = [0, 0], []
                    def work(t):
                        for i in range(100000):
                            try:
                                lg.log(line_for(t, i))
                            except ValueError:
                                refused.append(t)
                                return
                            logged[t] += 1
                    workers = [threading.Thread(target=work, args=(t,))
                               for t in range(2)]
                    for w in workers:
                        w.start()
                    wait_until_full(r)          # both are stuck in log()
                    drain = Drain(r, delay=0.3)
                    drain.start()
                    lg.close()
                    for w in workers:
                        w.join()
                    os.dup2(out, 1)
                    drain.join()
                    counts = {{}}
                    for line in drain.data.decode().splitlines(True):
                        t = int(line[1:line.index(" ")])
                        assert line == line_for(t, counts.get(t, 0)), line
                        counts[t] = counts.get(t, 0) + 1
                    # (no JSON 0 for the parent to parse: CPython 3.11
                    # makes a 0 with an unset digit, which valgrind flags)
                    report(both_refused=sorted(refused) == [0, 1],
                           exactly_once=[counts.get(t, 0) for t in (0, 1)]
                           == logged)
                """, background=background)
                where = "background=%s\n%s" % (background, err[-3000:])
                self.assertEqual(code, 0, where)
                found = json.loads(err.rpartition("report: ")[2])
                self.assertEqual(found, {"both_refused": True,
                                         "exactly_once": True}, where)
                self.assertEqual(err.count(CLOSING), 1, where)

    # --- callbacks that come back --------------------------------------------

    def test_the_callback_may_close_its_own_logger(self):
        for background in (False, True):
            with self.subTest(background=background):
                where = "background=%s" % background
                with t05.captured_fds() as cap:
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
        with t05.captured_fds() as cap:
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
        boom = t05.Boom("from the inner callback")
        calls = []

        def callback():
            calls.append(len(calls))
            if len(calls) == 1:
                lg.log("ERROR inner\n")     # its callback raises boom
            else:
                raise boom

        with t05.captured_fds() as cap:
            lg = self.make(callback)
            with self.assertRaises(t05.Boom) as cm:
                lg.log("ERROR outer\n")
            self.assertIs(cm.exception, boom)
            lg.log("after\n")
            lg.close()
            lg.callback = None
            del cm
        self.assertEqual(calls, [0, 1])
        self.assertEqual(cap.out, "ERROR outer\nERROR inner\nafter\n")

    # --- fork ----------------------------------------------------------------

    def test_a_forked_child_does_not_write_the_parents_lines(self):
        for background in (False, True):
            with self.subTest(background=background):
                code, out, err = self.run_child("""
                    import os, sys, warnings
                    from {module} import Logger
                    from test_05_what_goes_wrong import wait_for_child
                    # 3.12+ warns about fork() with a thread running (ours)
                    warnings.simplefilter("ignore", DeprecationWarning)
                    lg = Logger(background={background})
                    lg.log("parent, before the fork\\n")
                    pid = os.fork()
                    if pid == 0:
                        lg.flush()          # the parent's line is not ours
                        lg.log("child\\n")  # the child's own line is
                        lg.close()
                        os._exit(0)
                    print("child:", wait_for_child(pid), file=sys.stderr,
                          flush=True)
                    lg.log("parent, after the fork\\n")
                    lg.close()
                """, background=background)
                where = "background=%s\n%s" % (background, err)
                self.assertEqual(code, 0, where)
                self.assertEqual(out, "child\nparent, before the fork\n"
                                      "parent, after the fork\n", where)
                self.assertEqual(err, CLOSING + "child: exit 0\n" + CLOSING,
                                 where)

    def test_a_fork_while_another_thread_writes(self):
        # A thread (direct mode) or the writer thread (background) is
        # blocked inside write(2) on a full pipe when the process forks.
        # The child's copy of the logger must work at once: nobody in the
        # child will ever finish that write.
        for background in (False, True):
            with self.subTest(background=background):
                code, out, err = self.run_child("""
                    import os, sys, threading, time, warnings
                    from {module} import Logger
                    from test_05_logger import line_for
                    from test_05_what_goes_wrong import (Drain, report,
                        stdout_into_a_pipe, wait_for_child, wait_until_full)
                    warnings.simplefilter("ignore", DeprecationWarning)
                    out = os.dup(1)                 # the test reads this one
                    r = stdout_into_a_pipe()        # nobody reads this yet
                    lg = Logger(background={background})
                    big = "".join(line_for(1, i) for i in range(6000))
                    def write_big():
                        lg.log(big)
                        lg.flush()
                    writer = threading.Thread(target=write_big)
                    writer.start()
                    wait_until_full(r)              # blocked in write(2) now
                    time.sleep(0.1)
                    pid = os.fork()
                    if pid == 0:
                        os.dup2(out, 1)
                        lg.log("child\\n")
                        lg.flush()
                        lg.close()
                        os._exit(0)
                    status = wait_for_child(pid)
                    drain = Drain(r)
                    drain.start()
                    writer.join()
                    lg.close()
                    os.dup2(out, 1)                 # the pipe's last writer
                    drain.join()
                    whole = bytes(drain.data) == big.encode()
                    report(child=status, parent_lines_whole=whole)
                """, background=background)
                where = "background=%s\n%s" % (background, err[-3000:])
                self.assertEqual(code, 0, where)
                found = json.loads(err.rpartition("report: ")[2])
                self.assertEqual(found, {"child": "exit 0",
                                         "parent_lines_whole": True}, where)
                self.assertEqual(out, "child\n", where)
                self.assertEqual(err.count(CLOSING), 2, where)

    # --- Ctrl-C --------------------------------------------------------------

    CTRL_C = """
        import os, signal, sys, threading, time
        from {module} import Logger
        from test_05_logger import line_for
        from test_05_what_goes_wrong import (Drain, report,
            stdout_into_a_pipe, wait_until_full)
        out = os.dup(1)
        r = stdout_into_a_pipe()                # nobody reads it yet
        lines = [line_for(3, i) for i in range({count})]
        lg = Logger(background={background}, buffer_size={buffer_size})
        sent = []
        def interrupt():
            wait_until_full(r)
            time.sleep(0.3)                     # blocked in C by now
            sent.append(time.monotonic())
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C
        threading.Thread(target=interrupt, daemon=True).start()
        index = None
        try:
            for index, line in enumerate(lines):
                lg.log(line)
            index = None
            {call}
            outcome = "returned"
        except KeyboardInterrupt:
            outcome = "KeyboardInterrupt"
        took = time.monotonic() - sent[0] if sent else None
        closed_after = lg.closed
        drain = Drain(r)                        # the reader comes back
        drain.start()
        {then}
        lg.close()
        os.dup2(out, 1)
        drain.join()
        data = drain.data.decode()
        # Accepted: every line whose log() returned.  The one that was
        # interrupted may have been accepted or not.
        accepted = ([lines[:index], lines[:index + 1]] if index is not None
                    else [lines])
        report(outcome=outcome, took=took, closed_after=closed_after,
               exactly_once=any(data == "".join(a) for a in accepted),
               received=len(data))
    """

    def test_ctrl_c_interrupts_a_blocked_call_and_loses_nothing(self):
        # stdout a full pipe: log(), flush() and close() block in C.  Ctrl-C
        # (SIGINT, from a thread) must raise KeyboardInterrupt from the
        # blocked call within a few seconds, as Python's own sys.stdout
        # does.  Then the reader drains the pipe: every line accepted
        # before arrives exactly once.
        cases = []
        for background in (False, True):
            with self.subTest(background=background):
                mode = "background" if background else "direct"
                # log(): far more than the pipe and the buffers hold.
                cases.append(("log, " + mode, self.script(
                    self.CTRL_C, background=background, count=40000,
                    buffer_size=65536, call="", then="")))
                # flush() and close(): ~300 kB, all in one buffer until then.
                cases.append(("flush, " + mode, self.script(
                    self.CTRL_C, background=background, count=6000,
                    buffer_size=1 << 20, call="lg.flush()", then="")))
                cases.append(("close, " + mode, self.script(
                    self.CTRL_C, background=background, count=6000,
                    buffer_size=1 << 20, call="lg.close()",
                    then="assert lg.closed\n"
                         "try:\n"
                         "    lg.log('refused\\n')\n"
                         "except ValueError:\n"
                         "    pass\n")))
        results = self.run_children(cases, timeout=20)
        for name, (code, out, err, found) in results.items():
            with self.subTest(name):
                where = "%s: %s\n%s" % (name, code if code == "hung" else
                                        support.describe_exit(code),
                                        err[-3000:])
                self.assertEqual(code, 0, where)
                self.assertEqual(found["outcome"], "KeyboardInterrupt", where)
                self.assertLess(found["took"], 3.0, where)
                self.assertTrue(found["exactly_once"], where)
                self.assertEqual(err.count(CLOSING), 1, where)
                if name.startswith("close"):
                    self.assertTrue(found["closed_after"], where)

    def test_ctrl_c_stops_the_main_thread_only(self):
        # As in Python: handlers run in the main thread.  A flush() blocked
        # in another thread goes on waiting, and ends normally once the
        # pipe is read; the main thread gets the KeyboardInterrupt.
        for background in (False, True):
            with self.subTest(background=background):
                code, out, err = self.run_child("""
                    import os, signal, threading, time
                    from {module} import Logger
                    from test_05_logger import line_for
                    from test_05_what_goes_wrong import (Drain, report,
                        stdout_into_a_pipe, wait_until_full)
                    out = os.dup(1)
                    r = stdout_into_a_pipe()
                    lg = Logger(background={background}, buffer_size=1 << 20)
                    text = "".join(line_for(6, i) for i in range(6000))
                    lg.log(text)
                    flushed = []
                    done = threading.Event()    # not join(): Ctrl-C in a
                    def flush():                # join() can mark a thread
                        lg.flush()              # that runs as ended (3.11)
                        flushed.append("returned")
                        done.set()
                    worker = threading.Thread(target=flush)
                    worker.start()
                    def interrupt():
                        wait_until_full(r)
                        time.sleep(0.3)
                        os.kill(os.getpid(), signal.SIGINT)
                    threading.Thread(target=interrupt, daemon=True).start()
                    waiting = None
                    try:
                        while not done.wait(0.05):
                            pass
                        outcome = "the worker ended first"
                    except KeyboardInterrupt:
                        outcome = "KeyboardInterrupt"
                        waiting = not done.is_set()
                    drain = Drain(r)
                    drain.start()
                    done.wait()
                    lg.close()
                    os.dup2(out, 1)
                    drain.join()
                    report(outcome=outcome, worker_still_waiting=waiting,
                           flushed=flushed,
                           whole=drain.data.decode() == text)
                """, background=background)
                where = "background=%s\n%s" % (background, err[-3000:])
                self.assertEqual(code, 0, where)
                found = json.loads(err.rpartition("report: ")[2])
                self.assertEqual(found, {"outcome": "KeyboardInterrupt",
                                         "worker_still_waiting": True,
                                         "flushed": ["returned"],
                                         "whole": True}, where)

    def test_destroying_a_logger_waits_even_through_ctrl_c(self):
        # A close stopped half-way could never be finished once the object
        # is gone: destruction waits until every line is written, Ctrl-C
        # or not.  Then the roads differ by design.  Road 1's dealloc is C:
        # the KeyboardInterrupt waits and is raised after `del`.  Road 2's
        # destructor is Python (_destroy): the handler runs inside it, and
        # like an exception in __del__ it is reported ("Exception ignored")
        # and goes no further.
        code, out, err = self.run_child("""
            import os, signal, threading, time
            from {module} import Logger
            from test_05_logger import line_for
            from test_05_what_goes_wrong import (Drain, report,
                stdout_into_a_pipe, wait_until_full)
            out = os.dup(1)
            r = stdout_into_a_pipe()
            lg = Logger(buffer_size=1 << 20)
            text = "".join(line_for(7, i) for i in range(6000))
            lg.log(text)
            drain = Drain(r, delay=0.5)
            def interrupt():
                wait_until_full(r)              # `del lg` is writing
                time.sleep(0.3)
                os.kill(os.getpid(), signal.SIGINT)
                drain.start()                   # reads 0.5 s from now
            threading.Thread(target=interrupt, daemon=True).start()
            start = time.monotonic()
            try:
                del lg
                took = time.monotonic() - start
                outcome = "del ended normally"
            except KeyboardInterrupt:
                took = time.monotonic() - start
                outcome = "KeyboardInterrupt after del"
            os.dup2(out, 1)
            drain.join()
            report(outcome=outcome, waited=took > 0.5,
                   whole=drain.data.decode() == text)
        """)
        self.assertEqual(code, 0, err[-3000:])
        found = json.loads(err.rpartition("report: ")[2])
        if self.destructor_is_python:
            self.assertEqual(found["outcome"], "del ended normally", err)
            self.assertIn("Exception ignored", err)
            self.assertIn("KeyboardInterrupt", err)
        else:
            self.assertEqual(found["outcome"], "KeyboardInterrupt after del",
                             err)
            self.assertNotIn("Exception ignored", err)
        self.assertTrue(found["waited"], err)
        self.assertTrue(found["whole"], err)
        self.assertEqual(err.count(CLOSING), 1, err)

    def test_os_exit_and_kill_lose_what_is_still_buffered(self):
        # No library code runs: whatever was still in the buffer is gone,
        # as it is from Python's own.  What was flushed before is not.
        for end, status in (("os._exit(0)", 0),
                            ("os.kill(os.getpid(), signal.SIGKILL)",
                             -signal.SIGKILL)):
            with self.subTest(end=end):
                code, out, err = self.run_child("""
                    import os, signal
                    from {module} import Logger
                    lg = Logger()
                    lg.log("flushed\\n")
                    lg.flush()
                    lg.log("still in the buffer\\n")
                    {end}
                """, end=end)
                self.assertEqual(code, status, err)
                self.assertEqual(out, "flushed\n")
                self.assertEqual(err, "")

    def test_a_signal_handler_may_log_and_flush_while_flush_waits(self):
        # The handler runs while flush() is blocked (not after it), and it
        # may use the same logger: the library holds no lock meanwhile.
        for background in (False, True):
            with self.subTest(background=background):
                code, out, err = self.run_child("""
                    import os, signal, sys, threading, time
                    from {module} import Logger
                    from test_05_logger import line_for
                    from test_05_what_goes_wrong import (Drain, report,
                        stdout_into_a_pipe, wait_until_full)
                    out = os.dup(1)
                    r = stdout_into_a_pipe()
                    lg = Logger(background={background}, buffer_size=1 << 20)
                    text = "".join(line_for(4, i) for i in range(6000))
                    ran = []
                    def on_usr1(signum, frame):
                        # While flush() waits, nothing has been read yet.
                        ran.append(not drain.data)
                        lg.log("from the handler\\n")
                        lg.flush()                  # blocks too, until drained
                    signal.signal(signal.SIGUSR1, on_usr1)
                    drain = Drain(r, delay=1.0)
                    def poke():
                        wait_until_full(r)
                        time.sleep(0.3)
                        drain.start()               # reads 1 s from now
                        os.kill(os.getpid(), signal.SIGUSR1)
                    threading.Thread(target=poke, daemon=True).start()
                    lg.log(text)
                    lg.flush()
                    lg.close()
                    os.dup2(out, 1)
                    drain.join()
                    report(ran=ran, whole=drain.data.decode()
                           == text + "from the handler\\n")
                """, background=background)
                where = "background=%s\n%s" % (background, err[-3000:])
                self.assertEqual(code, 0, where)
                found = json.loads(err.rpartition("report: ")[2])
                self.assertEqual(found, {"ran": [True], "whole": True}, where)

    # --- destruction ---------------------------------------------------------

    def test_a_failed_write_at_destruction_is_reported(self):
        # stdout is /dev/full: every write(2) fails with ENOSPC.  A logger
        # destroyed by its reference count, by the cyclic GC, or at
        # interpreter exit has no caller to raise to: the OSError goes to
        # sys.unraisablehook, whose default prints "Exception ignored".
        code, out, err = self.run_child("""
            import gc, os, sys
            from {module} import Logger
            from test_05_what_goes_wrong import report
            seen = []
            sys.unraisablehook = lambda u: seen.append(
                [u.exc_type.__name__, getattr(u.exc_value, "errno", None)])
            os.dup2(os.open("/dev/full", os.O_WRONLY), 1)
            lg = Logger()
            lg.log("lost\\n")
            del lg                              # its reference count
            gc.disable()
            def cycle():
                lg = Logger()
                lg.callback = lambda: lg        # a cycle through a closure
                lg.log("lost in a cycle\\n")
            cycle()
            gc.collect()                        # the cyclic GC
            report(seen=seen)
            sys.unraisablehook = sys.__unraisablehook__
            at_exit = Logger()                  # interpreter exit
            at_exit.log("lost at exit\\n")
        """)
        self.assertEqual(code, 0, err[-3000:])
        found = json.loads(err.split("report: ")[1].splitlines()[0])
        self.assertEqual(found["seen"], [["OSError", 28], ["OSError", 28]],
                         err[-3000:])
        after = err.split("report: ")[1]
        self.assertEqual(after.count("Exception ignored"), 1, after)
        self.assertEqual(after.count(
            "OSError: [Errno 28] No space left on device"), 1, after)
        self.assertEqual(err.count(CLOSING), 3, err[-3000:])

    # --- two closes at once --------------------------------------------------

    def test_a_second_close_waits_for_the_first(self):
        # One thread's close() is blocked writing; another thread calls
        # close(): when it returns, every line must have been written
        # (into the pipe, or read from it already).
        for background in (False, True):
            with self.subTest(background=background):
                code, out, err = self.run_child("""
                    import os, sys, threading
                    from {module} import Logger
                    from test_05_logger import line_for
                    from test_05_what_goes_wrong import (Drain, report,
                        stdout_into_a_pipe, wait_until_full)
                    out = os.dup(1)
                    r = stdout_into_a_pipe()
                    lg = Logger(background={background}, buffer_size=1 << 20)
                    text = "".join(line_for(5, i) for i in range(6000))
                    lg.log(text)
                    first = threading.Thread(target=lg.close)
                    first.start()
                    wait_until_full(r)          # the first close is blocked
                    drain = Drain(r, delay=0.5)
                    drain.start()
                    lg.close()                      # the second one
                    written = drain.received()
                    first.join()
                    os.dup2(out, 1)
                    drain.join()
                    report(all_written=written >= len(text),
                           whole=drain.data.decode() == text)
                """, background=background)
                where = "background=%s\n%s" % (background, err[-3000:])
                self.assertEqual(code, 0, where)
                found = json.loads(err.rpartition("report: ")[2])
                self.assertEqual(found, {"all_written": True, "whole": True},
                                 where)
                self.assertEqual(err.count(CLOSING), 1, where)


class TestCapiHardCases(HardCases, unittest.TestCase):
    module = "tales_from_ffi"
    destructor_is_python = False        # tp_dealloc, in C

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mod = support.import_stage(cls.stage, cls.module)


class TestCffiHardCases(HardCases, unittest.TestCase):
    module = "logger_cffi"
    destructor_is_python = True         # _destroy, given to ffi.gc

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mod = None
        if support.have_cffi():
            cls.mod = support.import_stage(cls.stage, cls.module)

    def setUp(self):
        super().setUp()
        if self.mod is None:
            self.skipTest(support.CFFI_MISSING)


if __name__ == "__main__":
    unittest.main()
