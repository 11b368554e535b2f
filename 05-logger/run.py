"""Stage 05 tour, after the article's script: the Logger up close.

    make run-5        (or: cd 05-logger && make && python3 run.py)

[py] lines are Python's print(); [c] lines went through a Logger, whose
buffer is C memory written to fd 1 by write(2).
"""
import subprocess
import sys

import _common

# Line buffering: each [py] line leaves Python's buffer when printed, so
# what you read is the order in which the two buffers were written out.
sys.stdout.reconfigure(line_buffering=True)


def two_buffers(mod):
    # [excerpt: two_buffers]
    print("-- two buffers, one descriptor --")
    logger = mod.Logger()
    print("[py] 1. printed")
    logger.log("[c]  2. logged: waits in C's buffer\n")
    print("[py] 3. printed")
    logger.flush()              # now C writes its buffer to fd 1
    print("[py] 4. printed after flush()")
    logger.close()              # says so on stderr
    # [/excerpt: two_buffers]
    print()


def better_than_rust(mod):
    print("-- where the article's Rust panics, we raise --")

    # [excerpt: errors]
    def on_error():
        print("[py] on_error() called: raising")
        raise RuntimeError("the callback gave up")

    with mod.Logger(on_error) as logger:
        for bad in (b"bytes\n", 42):
            try:
                logger.log(bad)
            except TypeError as exc:
                print("[py] log(%r) -> TypeError: %s" % (bad, exc))
        try:
            logger.log("[c]  [ERROR] the disk is on fire\n")
        except RuntimeError as exc:
            print("[py] log('[ERROR] ...') -> RuntimeError: %s" % exc)
        logger.flush()
        print("[py] ... and the message was written before the callback ran")
    try:
        logger.log("after close\n")
    except ValueError as exc:
        print("[py] log() after close -> ValueError: %s" % exc)
    try:
        mod.Logger(callback="not callable")
    except TypeError as exc:
        print("[py] Logger('not callable') -> TypeError: %s" % exc)
    # [/excerpt: errors]
    print()


# [excerpt: threads]
CHILD = """
import threading
from {module} import Logger
logger = Logger(background=True)      # a C thread writes; nobody waits
def work(t):
    for i in range({count}):
        logger.log("thread %d message %d\\n" % (t, i))
threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
for t in threads: t.start()
for t in threads: t.join()
logger.close()
"""


def many_threads(module, count=20000):
    print("-- 8 Python threads, one background logger, stdout a pipe --")
    proc = subprocess.run([sys.executable, "-c",
                           CHILD.format(module=module, count=count)],
                          capture_output=True, text=True, timeout=300)
    lines = proc.stdout.splitlines()
    seen = [0] * 8
    whole = True
    for line in lines:
        words = line.split()
        t, i = int(words[1]), int(words[3])
        whole &= (line == "thread %d message %d" % (t, i) and i == seen[t])
        seen[t] += 1
    print("[py] %d lines from 8 threads x %d; every line whole, each thread's"
          " in its order: %s" % (len(lines), count, whole))
    print("[py] the child's stderr: %r" % proc.stderr)
# [/excerpt: threads]
    print()


def main():
    import tales_from_ffi
    print("== road 1: tales_from_ffi.Logger, an extension type in C ==")
    two_buffers(tales_from_ffi)
    better_than_rust(tales_from_ffi)
    many_threads("tales_from_ffi")
    try:
        import logger_cffi
    except ImportError as exc:
        print("== road 2 skipped: %s ==" % _common.road_2_missing(exc))
        return
    print("== road 2: logger_cffi.Logger, cffi around logger_lib.c ==")
    two_buffers(logger_cffi)
    better_than_rust(logger_cffi)
    many_threads("logger_cffi")


if __name__ == "__main__":
    main()
