"""Stage 05, slow checks (`make gates`): nothing lost at exit.

Child processes with stdout a pipe, buffered and unbuffered: a logger
never closed, an uncaught exception, a cycle still alive, a background
logger full of lines, a logger Python never destroys; and the order of
print() and log() through one pipe.  Helpers: test_05_logger and
test_05_callbacks.
"""
import unittest

import support
from test_05_callbacks import CapiRoad, CffiRoad
from test_05_logger import CLOSING, ChildRuns


class ExitContract(ChildRuns):
    """Nothing logged is lost when the process ends."""

    def check_exit(self, code, expected_out, returncode=0):
        # No subTest here: the exercise checker must see the first failure.
        for unbuffered in (False, True):
            proc = self.run_child(code % {"mod": self.module}, unbuffered)
            where = "PYTHONUNBUFFERED=%d\n%s" % (unbuffered, proc.stderr)
            self.assertEqual(proc.returncode, returncode, where)
            self.assertEqual(proc.stdout, expected_out, where)
            self.assertTrue(proc.stderr.endswith(CLOSING), where)
            self.assertEqual(proc.stderr.count(CLOSING), 1, where)
        return proc

    def test_exit_with_a_logger_never_closed(self):
        self.check_exit("""
            from %(mod)s import Logger
            logger = Logger()
            for i in range(3):
                logger.log("global %%d\\n" %% i)
        """, "global 0\nglobal 1\nglobal 2\n")

    def test_exit_on_an_uncaught_exception(self):
        proc = self.check_exit("""
            from %(mod)s import Logger
            def main():
                logger = Logger()
                logger.log("logged before the crash\\n")
                raise RuntimeError("the script fails")
            main()
        """, "logged before the crash\n", returncode=1)
        self.assertIn("RuntimeError: the script fails\n" + CLOSING,
                      proc.stderr)

    def test_exit_with_a_cycle_still_alive(self):
        self.check_exit("""
            from %(mod)s import Logger
            gc.disable()
            def build():
                logger = Logger()
                logger.callback = lambda: logger.log("cycle callback\\n")
                logger.log("ERROR kept alive by a cycle\\n")
            build()
        """, "ERROR kept alive by a cycle\ncycle callback\n")

    def test_exit_with_a_background_logger_full_of_lines(self):
        count = support.scale(50_000, 5_000)
        self.check_exit("""
            from %(mod)s import Logger
            logger = Logger(background=True)
            for i in range(%(count)d):
                logger.log("bg %%06d\\n" %% i)
        """.replace("%(count)d", str(count)),
            "".join("bg %06d\n" % i for i in range(count)))

    def test_exit_with_a_logger_that_python_never_destroys(self):
        # A daemon thread's frame is never cleared: Python never destroys
        # this logger.  The C library's atexit handler closes it.
        self.check_exit("""
            from %(mod)s import Logger
            ready = threading.Event()
            def hold():
                logger = Logger(background=True)
                logger.log("held by a daemon thread\\n")
                ready.set()
                threading.Event().wait()
            threading.Thread(target=hold, daemon=True).start()
            ready.wait()
        """, "held by a daemon thread\n")

    def test_print_and_log_order_through_a_pipe(self):
        code = """
            from %s import Logger
            lg = Logger()
            print("print 1")
            lg.log("log 1\\n")
            print("print 2")
            lg.close()
            print("print 3")
        """ % self.module
        # Through a pipe Python's stdout is block-buffered: its lines leave
        # at exit, after the logger closed.
        proc = self.run_child(code)
        self.assertEqual(proc.stdout, "log 1\nprint 1\nprint 2\nprint 3\n")
        # Unbuffered (as a terminal, which is line-buffered): each print
        # leaves at once; the logger's line leaves at close().
        proc = self.run_child(code, unbuffered=True)
        self.assertEqual(proc.stdout, "print 1\nprint 2\nlog 1\nprint 3\n")


class TestCapiExit(ExitContract, CapiRoad, support.Road):
    pass


class TestCffiExit(ExitContract, CffiRoad, support.Road):
    pass


if __name__ == "__main__":
    unittest.main()
