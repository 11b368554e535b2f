"""Stage 05, slow checks (`make gates`): what goes wrong, in children.

Strings that lie about themselves, a callback that cannot even start,
fork(), a failed write at destruction, closing while others wait or
close.  Each in a child process.  Helpers: test_05_logger and
test_05_callbacks.
"""
import json
import unittest

import support
from test_05_callbacks import CapiRoad, CffiRoad, EachMode, pipe_child
from test_05_logger import CLOSING


class HardCaseContract(EachMode):
    """What both roads must survive.  self.module is the module's name."""

    def test_a_str_subclass_logs_its_own_characters(self):
        # What encode() of a subclass returns, or what its bytes claim as
        # their len(), must not matter: the bytes are the str's own UTF-8.
        code, out, err = self.run_child("""
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

    def test_a_callback_that_hits_the_recursion_limit_raises_in_log(self):
        # log("ERROR") at every depth up to the recursion limit: wherever
        # the limit strikes (in log, in the callback, or as C calls the
        # callback), log() raises; it never returns with the callback
        # silently skipped.
        code, out, err = self.run_child("""
            from {module} import Logger

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
        self.assertEqual(code, 0, support.describe_exit(code)
                         + "\n" + err[-3000:])
        self.assertNotIn("SKIPPED", found,
                         "log() returned, but its callback never ran")
        self.assertIn("Boom", found)
        self.assertIn("RecursionError", found)
        self.assertNotIn("returned, called", found)

    def test_a_callback_that_logs_forever_ends_in_recursion_error(self):
        code, out, err = self.run_child("""
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

    def test_an_empty_message_then_close_then_flush_writes_nothing(self):
        # log("") leaves an empty buffer open; close() shuts its window.
        # Sealing it afterwards used to measure it through that closed
        # window: a length of nearly 2**64, EFAULT, or heap bytes on fd 1.
        code, out, err = self.run_child("""
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
        self.check_each_mode(pipe_child("""
            from test_05_callbacks import log_until_refused, start_threads
            logged, refused = [0, 0], []
            workers = start_threads(2, lambda t: log_until_refused(
                lg, t, 100000, logged, refused))
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
        """), buffer_size=4096,
            report={"both_refused": True, "exactly_once": True}, closings=1)

    def test_a_forked_child_does_not_write_the_parents_lines(self):
        self.check_each_mode("""
            from {module} import Logger
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
        """, stdout="child\nparent, before the fork\nparent, after the fork\n",
            stderr=CLOSING + "child: exit 0\n" + CLOSING)

    def test_a_fork_while_another_thread_writes(self):
        # A thread (direct mode) or the writer thread (background) is
        # blocked inside write(2) on a full pipe when the process forks.
        # The child's copy of the logger must work at once: nobody in the
        # child will ever finish that write.
        self.check_each_mode("""
            from {module} import Logger
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
        """, report={"child": "exit 0", "parent_lines_whole": True},
            stdout="child\n", closings=2)

    def test_a_failed_write_at_destruction_is_reported(self):
        # stdout is /dev/full: every write(2) fails with ENOSPC.  A logger
        # destroyed by its reference count, by the cyclic GC, or at
        # interpreter exit has no caller to raise to: the OSError goes to
        # sys.unraisablehook, whose default prints "Exception ignored".
        code, out, err = self.run_child("""
            from {module} import Logger
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
        self.assertEqual(code, 0, support.describe_exit(code)
                         + "\n" + err[-3000:])
        found = json.loads(err.split("report: ")[1].splitlines()[0])
        self.assertEqual(found["seen"], [["OSError", 28], ["OSError", 28]],
                         err[-3000:])
        after = err.split("report: ")[1]
        self.assertEqual(after.count("Exception ignored"), 1, after)
        self.assertEqual(after.count(
            "OSError: [Errno 28] No space left on device"), 1, after)
        self.assertEqual(err.count(CLOSING), 3, err[-3000:])

    def test_a_second_close_waits_for_the_first(self):
        # One thread's close() is blocked writing; another thread calls
        # close(): when it returns, every line must have been written
        # (into the pipe, or read from it already).
        self.check_each_mode(pipe_child("""
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
        """), buffer_size="1 << 20",
            report={"all_written": True, "whole": True}, closings=1)


class TestCapiHardCases(HardCaseContract, CapiRoad, support.Road):
    pass


class TestCffiHardCases(HardCaseContract, CffiRoad, support.Road):
    pass


if __name__ == "__main__":
    unittest.main()
