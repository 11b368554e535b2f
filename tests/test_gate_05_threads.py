"""Stage 05, slow checks (`make gates`): threads, pipes, hostile arguments.

Many threads at once, flush and close from another thread, a pipe that
nobody reads, a non-blocking stdout, and every public callable fed values
that break careless C.  Helpers: test_05_logger and test_05_callbacks.
"""
import subprocess
import sys
import threading
import time
import unittest

import support
from test_05_callbacks import (CapiRoad, CffiRoad, log_until_refused,
                               start_threads)
from test_05_logger import (CLOSING, ChildRuns, captured_fds, child_env,
                            child_script, line_for, lines_per_thread,
                            surface_not_implemented)


class ThreadsContract(ChildRuns):
    """What both roads must do under load.  self.mod is the module."""

    def check_threads_log_everything(self, threads, per_thread, where,
                                     log=lambda lg, t: lg.log, **kwargs):
        """`threads` threads, let go at once, each log `per_thread` lines
        with log(lg, t) into one Logger(**kwargs), closed after them: every
        line comes out whole, in its thread's order."""
        with captured_fds() as cap:
            lg = self.make(**kwargs)
            start = threading.Barrier(threads)

            def work(t):
                log_t = log(lg, t)
                start.wait()
                for i in range(per_thread):
                    log_t(line_for(t, i))

            for w in start_threads(threads, work):
                w.join()
            lg.close()
        self.assertEqual(lines_per_thread(self, cap.out, where),
                         {t: per_thread for t in range(threads)}, where)

    def run_child_unread(self, code, seconds):
        """Run the child `code` (which says "start" on stderr as it begins),
        leave its stdout pipe unread for `seconds` after that, then read
        all: (returncode, stdout, stderr), stderr from "start" on."""
        proc = subprocess.Popen(
            [sys.executable, "-c", child_script(code)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=child_env(self.stage))
        try:
            started = proc.stderr.readline()    # the child is about to log
            time.sleep(seconds)                 # not reading: the pipe fills
            out, err = proc.communicate(timeout=120)
            err = started + err
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        out, err = out.decode(), err.decode()
        surface_not_implemented(subprocess.CompletedProcess(
            proc.args, proc.returncode, out, err))
        return proc.returncode, out, err

    def test_hostile_arguments_raise_and_never_crash(self):
        # Every public callable, every argument slot, with values that
        # break careless C: a child, so that a crash cannot take us down.
        proc = self.run_child("""
            import gc, math, os, sys
            from %s import Logger
            class Hostile:
                def __index__(self): raise RuntimeError("index")
                def __len__(self): raise RuntimeError("len")
                def __iter__(self): raise RuntimeError("iter")
                def __bool__(self): raise RuntimeError("bool")
                def __str__(self): raise RuntimeError("str")
                def __call__(self, *args): raise RuntimeError("call")
            class Text(str):
                def __str__(self): raise RuntimeError("str")
            values = [None, 0, -1, 2**63, -2**100, math.nan, "\\udc80",
                      "a\\0b", b"a\\0b", "E" * 100000 + "ERROR",
                      Text("ERROR in a subclass\\n"), Hostile(), object(),
                      [], print, Hostile]
            report = os.dup(1)          # ours; the loggers' fd 1 is /dev/null
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.dup2(null, 2)
            calls = 0
            for v in values:
                for args, kwargs in (((v,), {}), ((), {"callback": v}),
                                     ((), {"background": v}), ((v, v), {}),
                                     ((), {"buffer_size": v}),
                                     ((), {"colour": v})):
                    try:
                        lg = Logger(*args, **kwargs)
                    except Exception:
                        continue
                    for name in ("log", "flush", "close", "__enter__",
                                 "__exit__"):
                        for a in ((), (v,), (v, v), (v, v, v)):
                            calls += 1
                            try:
                                getattr(lg, name)(*a)
                            except Exception:
                                pass
                    for attr in ("callback", "closed", "buffer_size"):
                        try:
                            setattr(lg, attr, v)
                        except Exception:
                            pass
                    repr(lg)
                    del lg
            gc.collect()
            os.write(report, b"%%d calls" %% calls)
        """ % self.module)
        self.assertEqual(proc.returncode, 0, support.describe_exit(
            proc.returncode) + "\n" + proc.stderr)
        # The sweep really ran: at least Logger(None), Logger(print),
        # Logger(Hostile), Logger(Hostile()) and a few background= values
        # were built, each with 5 methods x 4 argument lists.
        count, word = proc.stdout.split()
        self.assertEqual(word, "calls")
        self.assertGreaterEqual(int(count), 8 * 5 * 4)

    def test_many_threads_lose_tear_and_mix_nothing(self):
        threads, per_thread = 8, support.scale(20_000, 500)
        # The default buffers, and small ones that fill every few lines
        # (so that handing buffers over happens all the time).
        for background, size in ((False, 65536), (True, 65536),
                                 (False, 256), (True, 256)):
            self.check_threads_log_everything(
                threads, per_thread,
                "background=%s, buffer_size=%d" % (background, size),
                background=background, buffer_size=size)

    def test_flush_and_close_from_another_thread_while_logging(self):
        # flush() and close() hand the buffer being filled over while
        # other threads fill it.  Every line logged before close() must
        # come out whole, and every log() after it must raise.
        threads, per_thread = 4, support.scale(20_000, 500)
        for background in (False, True):
            where = "background=%s" % background
            with captured_fds() as cap:
                lg = self.make(background=background, buffer_size=1024)
                logged = [0] * threads
                refused = []
                start = threading.Barrier(threads + 1)

                def work(t):
                    start.wait()
                    log_until_refused(lg, t, per_thread, logged, refused)

                workers = start_threads(threads, work)
                start.wait()
                flushes = 0
                while sum(logged) < threads * per_thread // 2:
                    lg.flush()
                    flushes += 1
                    time.sleep(0.0002)      # let the loggers run
                lg.close()
                for w in workers:
                    w.join()
            self.assertGreater(flushes, 0, where)
            self.assertEqual(lines_per_thread(self, cap.out, where),
                             {t: n for t, n in enumerate(logged) if n},
                             where)
            # Unless a thread finished before close(), it was refused.
            self.assertEqual(sorted(refused),
                             [t for t in range(threads)
                              if logged[t] < per_thread], where)
            self.assertEqual(cap.err, CLOSING, where)

    def test_slow_pipe_makes_log_wait_without_the_gil(self):
        # The child logs ~1.3 MB in background mode while we do not read:
        # the pipe (64 kB) and C's buffers (4 x 64 kB) fill, and log() must
        # wait.  A ticker thread counts while it waits: it can only count
        # if log() released the GIL.
        code = """
            from %s import Logger
            ticks = 0
            running = True
            def ticker():
                global ticks
                while running:
                    ticks += 1
                    time.sleep(0.001)
            threading.Thread(target=ticker).start()
            lg = Logger(background=True)
            longest, ticks_during = 0.0, 0
            print("start", file=sys.stderr, flush=True)
            for i in range(20000):
                line = "line %%06d %%s\\n" %% (i, "z" * 50)
                t0, start = ticks, time.monotonic()
                lg.log(line)
                spent = time.monotonic() - start
                if spent > longest:
                    longest, ticks_during = spent, ticks - t0
            running = False
            lg.close()
            print("longest %%.3f ticks %%d" %% (longest, ticks_during),
                  file=sys.stderr)
        """ % self.module
        returncode, out, err = self.run_child_unread(code, 1.0)
        self.assertEqual(returncode, 0, support.describe_exit(returncode)
                         + "\n" + err)
        self.assertEqual(out, "".join("line %06d %s\n" % (i, "z" * 50)
                                      for i in range(20000)))
        start, closing, first = err.splitlines(keepends=True)
        self.assertEqual(start, "start\n")
        self.assertEqual(closing, CLOSING)
        _, longest, _, ticks = first.split()
        self.assertGreater(float(longest), 0.5, "log() never had to wait")
        self.assertGreater(int(ticks), 50,
                           "the ticker stood still while log() waited: "
                           "the GIL was held (%s)" % first.strip())

    def test_a_non_blocking_stdout_loses_nothing(self):
        # Someone set O_NONBLOCK on fd 1: write(2) says EAGAIN when the pipe
        # is full, and the logger must wait (poll) and go on, not drop.
        code = """
            from %s import Logger
            os.set_blocking(1, False)
            print("start", file=sys.stderr, flush=True)
            with Logger() as lg:
                for i in range(30000):
                    lg.log("nb %%06d\\n" %% i)
        """ % self.module
        returncode, out, err = self.run_child_unread(code, 0.3)  # EAGAIN
        self.assertEqual(returncode, 0, support.describe_exit(returncode)
                         + "\n" + err)
        self.assertEqual(out, "".join("nb %06d\n" % i for i in range(30000)))
        self.assertEqual(err, "start\n" + CLOSING)


class TestCapiThreads(ThreadsContract, CapiRoad, support.Road):

    def test_log_and_release_gil_variant_from_threads_at_once(self):
        # _log_release_gil fills the buffer without the GIL: from its first
        # call on, log() must stop filling the window under the GIL alone.
        threads, per_thread = 8, support.scale(10_000, 300)
        for background in (False, True):
            self.check_threads_log_everything(
                threads, per_thread, "background=%s" % background,
                log=lambda lg, t: lg._log_release_gil if t % 2 else lg.log,
                background=background, buffer_size=256)

    def test_without_a_gil_log_takes_the_mutex(self):
        # A free-threaded build run with PYTHON_GIL=0 answers False here.
        # None of our interpreters can run without a GIL, so the child
        # tells the module the same thing the way such a build would: the
        # lock-free window must then stay shut, and lines from 4 threads
        # must still all come out whole, in each thread's order.
        code = child_script("""
            sys._is_gil_enabled = lambda: False
            from tales_from_ffi import Logger
            lg = Logger(buffer_size=256)
            assert not lg.lock_free, "the window is open without a GIL"
            def work(t):
                for i in range(%d):
                    lg.log(line_for(t, i))
                    if i %% 97 == 0:
                        lg.flush()
            threads = [threading.Thread(target=work, args=(t,))
                       for t in range(4)]
            for t in threads: t.start()
            for t in threads: t.join()
            lg.close()
            """ % support.scale(5000, 300))
        proc = support.run_python(code, env=child_env("05"))
        self.assertEqual(proc.returncode, 0, support.describe_exit(
            proc.returncode) + "\n" + proc.stderr[-3000:])
        counts = lines_per_thread(self, proc.stdout, "4 threads, no GIL")
        self.assertEqual(counts, {t: support.scale(5000, 300)
                                  for t in range(4)})


class TestCffiThreads(ThreadsContract, CffiRoad, support.Road):
    pass


if __name__ == "__main__":
    unittest.main()
