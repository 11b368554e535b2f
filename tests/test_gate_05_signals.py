"""Stage 05, slow checks (`make gates`): signals.

Ctrl-C while a write is blocked on a full pipe, while a destructor waits,
as a callback starts; a signal handler that logs; os._exit and SIGKILL.
Each in a child process.  Helpers: test_05_logger and test_05_callbacks.
"""
import json
import os
import re
import select
import signal
import time
import unittest

import support
from test_05_callbacks import CapiRoad, CffiRoad, EachMode, pipe_child
from test_05_logger import CLOSING


class SignalCases(EachMode):
    """What both roads must survive.  self.module is the module's name."""

    def test_a_signal_as_the_callback_starts_is_raised_by_log(self):
        # A signal that arrives while C runs is handled by Python at the
        # next bytecode: on road 2 that is the first one of the
        # @ffi.def_extern function, before any try: in it.  Ticks every
        # 0.2 ms for half a second: every log() either calls the callback
        # or raises the handler's exception.
        code, out, err = self.run_child("""
            from {module} import Logger

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

    # --- Ctrl-C --------------------------------------------------------------

    CTRL_C = """
        from {module} import Logger
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
                self.assertEqual(code, 0, support.describe_exit(code)
                                 + "\n" + where)
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
        self.check_each_mode(pipe_child("""
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
        """), buffer_size="1 << 20",
            report={"outcome": "KeyboardInterrupt",
                    "worker_still_waiting": True, "flushed": ["returned"],
                    "whole": True})

    def test_destroying_a_logger_waits_even_through_ctrl_c(self):
        # A close stopped half-way could never be finished once the object
        # is gone: destruction waits until every line is written, Ctrl-C
        # or not.  Then the roads differ by design.  Road 1's dealloc is C:
        # the KeyboardInterrupt waits and is raised after `del`.  Road 2's
        # destructor is Python (_destroy): the handler runs inside it, and
        # like an exception in __del__ it is reported ("Exception ignored")
        # and goes no further.
        code, out, err = self.run_child("""
            from {module} import Logger
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
        self.assertEqual(code, 0, support.describe_exit(code)
                         + "\n" + err[-3000:])
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

    def test_ctrl_c_at_exit_says_what_a_second_one_drops(self):
        # stdout a pipe nobody reads.  A first Ctrl-C raises
        # KeyboardInterrupt out of a blocked log(); the interpreter then
        # exits, and closing the logger waits for the reader for ever.
        # Python has given SIGINT its default action back by then, so a
        # second Ctrl-C ends the process and the buffered lines are lost:
        # one line on stderr says so, with how many bytes wait.
        notice = re.compile(r"^C: logger: ([0-9]+) bytes wait for the "
                            r"reader of standard output; Ctrl-C again "
                            r"drops them$", re.M)
        for background in (False, True):
            with self.subTest(background=background):
                proc = self.start("""
                    from {module} import Logger
                    r = stdout_into_a_pipe()        # never read
                    lg = Logger(background={background})
                    def interrupt():
                        wait_until_full(r)
                        os.kill(os.getpid(), signal.SIGINT)
                    threading.Thread(target=interrupt, daemon=True).start()
                    for i in range(10 ** 6):
                        lg.log(line_for(1, i))
                    """, background=background)
                err, found = b"", None
                deadline = time.monotonic() + 30
                while found is None and time.monotonic() < deadline:
                    ready, _, _ = select.select([proc.stderr], [], [], 0.5)
                    if ready:
                        chunk = os.read(proc.stderr.fileno(), 65536)
                        if not chunk:
                            break
                        err += chunk
                        found = notice.search(err.decode(errors="replace"))
                text = err.decode(errors="replace")
                if found is None:
                    proc.kill()
                    proc.communicate()
                    self.fail("no notice on stderr within 30 s:\n" + text)
                self.assertGreater(int(found.group(1)), 0, text)
                self.assertIn("KeyboardInterrupt", text)
                time.sleep(0.2)
                self.assertIsNone(proc.poll(), "ended without a second "
                                  "Ctrl-C\n" + text)
                proc.send_signal(signal.SIGINT)
                _, rest = proc.communicate(timeout=30)
                text += rest.decode(errors="replace")
                self.assertEqual(proc.returncode, -signal.SIGINT, text)
                self.assertEqual(len(notice.findall(text)), 1, text)
                self.assertNotIn(CLOSING, text)

    def test_os_exit_and_kill_lose_what_is_still_buffered(self):
        # No library code runs: whatever was still in the buffer is gone,
        # as it is from Python's own.  What was flushed before is not.
        for end, status in (("os._exit(0)", 0),
                            ("os.kill(os.getpid(), signal.SIGKILL)",
                             -signal.SIGKILL)):
            with self.subTest(end=end):
                code, out, err = self.run_child("""
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
        self.check_each_mode(pipe_child("""
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
        """), buffer_size="1 << 20", report={"ran": [True], "whole": True})


class TestCapiSignals(SignalCases, CapiRoad, support.Road):
    pass


class TestCffiSignals(SignalCases, CffiRoad, support.Road):
    pass


if __name__ == "__main__":
    unittest.main()
