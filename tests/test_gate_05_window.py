"""Stage 05, slow checks (`make gates`): the window's rule, from C.

logger_lib.h, part 3: once a caller takes the window with a lock check,
every call that would fill or seal it without that lock does nothing and
returns LOGGER_ELOCK (never abort()), and logger_free() still finishes.
Python cannot break the rule (road 1 always holds the GIL where it must),
so a small C program uses the library's public header, as any C caller
would: compiled and run in a temporary folder.
"""
import os
import shutil
import subprocess
import tempfile
import textwrap
import unittest

import support

PROGRAM = textwrap.dedent(r"""
    #include "logger_lib.h"
    #include <stdio.h>

    static int held;
    static int holds_lock(void) { return held; }

    #define SAY(what, value) fprintf(stderr, "%s %d\n", what, (int)(value))

    int
    main(void)
    {
        logger *lg = logger_new(1, LOGGER_DIRECT, 64, NULL, NULL);
        if (lg == NULL) {
            return 2;
        }
        struct logger_window *w = logger_use_window(lg, holds_lock);
        held = 1;
        SAY("refill, lock held:", logger_window_refill(lg, "a\n", 2));
        held = 0;
        SAY("refill:", logger_window_refill(lg, "b\n", 2));
        SAY("seal:", logger_window_seal(lg, LOGGER_SEAL_TO_FLUSH));
        SAY("seal to close:", logger_window_seal(lg, LOGGER_SEAL_TO_CLOSE));
        SAY("log:", logger_log(lg, "c\n", 2));
        SAY("flush:", logger_flush(lg));
        SAY("close:", logger_close(lg));
        SAY("closed:", logger_is_closed(lg));
        held = 1;
        SAY("append, lock held:", logger_window_append(w, "d\n", 2));
        SAY("seal, lock held:", logger_window_seal(lg, LOGGER_SEAL_TO_FLUSH));
        SAY("wait, no lock needed:", logger_window_wait(lg));
        held = 0;
        SAY("given back:", logger_use_window(lg, NULL) == NULL);
        SAY("log, window given back:", logger_log(lg, "e\n", 2));
        (void)logger_use_window(lg, holds_lock);
        logger_free(lg);            /* the last call: no lock check */
        return 0;
    }
""")


@unittest.skipUnless(shutil.which(os.environ.get("CC", "cc")),
                     "no C compiler")
class TestWindowRule(unittest.TestCase):
    def test_a_broken_rule_is_an_error_and_nothing_is_done(self):
        stage = support.stage_dir("05")
        cc = os.environ.get("CC", "cc")
        with tempfile.TemporaryDirectory() as tmp:
            source = os.path.join(tmp, "window_rule.c")
            program = os.path.join(tmp, "window_rule")
            with open(source, "w") as f:
                f.write(PROGRAM)
            build = subprocess.run(
                [cc, "-std=c11", "-Wall", "-Wextra", "-Werror", "-pthread",
                 "-I", str(stage), source, str(stage / "logger_lib.c"),
                 "-o", program], capture_output=True, text=True)
            self.assertEqual(build.returncode, 0, build.stderr)
            proc = subprocess.run([program], capture_output=True, text=True,
                                  timeout=60)
        self.assertEqual(proc.returncode, 0,
                         support.describe_exit(proc.returncode) + "\n"
                         + proc.stderr)
        elock = "-6"
        self.assertEqual(proc.stderr.splitlines(), [
            "refill, lock held: 0",
            "refill: " + elock,
            "seal: " + elock,
            "seal to close: " + elock,
            "log: " + elock,
            "flush: " + elock,
            "close: " + elock,
            "closed: 0",
            "append, lock held: 1",
            "seal, lock held: 0",
            "wait, no lock needed: 0",
            "given back: 1",
            "log, window given back: 0",
            "C: Flushed and closed logger",
        ])
        self.assertEqual(proc.stdout, "a\nd\ne\n")


if __name__ == "__main__":
    unittest.main()
