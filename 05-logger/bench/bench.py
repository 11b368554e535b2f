"""Stage 05 benchmarks: the numbers the chapter quotes.

    make -C 05-logger bench
    (or, in 05-logger/: PYTHONPATH=. python3 bench/bench.py [--quick])

Everything is a ratio measured in this one run, so that a slow or busy
machine changes the ratios less than the absolute times.  Per-call costs
are timeit medians over several repeats, minus the cost of an empty loop.
fds 1 and 2 point at /dev/null while we measure: the report goes to the
terminal through a copy of the original stdout.
"""
import io
import logging
import os
import statistics
import sys
import threading
import time
import timeit

import tales_from_ffi

try:
    import logger_cffi
except ImportError:             # cffi missing: road 2 is skipped
    logger_cffi = None

QUICK = "--quick" in sys.argv
MSG = "2026-11-25 03:00:00 INFO order 12345 filled at 101.25\n"
NUMBER = 20_000 if QUICK else 200_000
REPEAT = 5 if QUICK else 9


def per_call_all(contenders, repeat=REPEAT):
    """Median seconds per execution for each (stmt, globals, number).

    The repeats are interleaved (one round of every contender, then the
    next round) so that a burst of load from other processes hits them
    all alike instead of one of them."""
    timers = {name: (timeit.Timer(stmt, globals=g), number)
              for name, (stmt, g, number) in contenders.items()}
    times = {name: [] for name in contenders}
    for _ in range(repeat):
        for name, (timer, number) in timers.items():
            times[name].append(timer.timeit(number) / number)
    return {name: statistics.median(t) for name, t in times.items()}


# [excerpt: calls]
def call_costs():
    """Seconds per call, empty-loop cost subtracted, for every contender."""
    few = max(NUMBER // 10, 1000)       # for the slow ones
    direct = tales_from_ffi.Logger()
    small = tales_from_ffi.Logger(buffer_size=8192)     # Python's size
    background = tales_from_ffi.Logger(background=True)
    contenders = {
        "empty loop": ("pass", {}, NUMBER),
        "Logger.log (road 1, direct)": (
            "log(msg)", {"log": direct.log, "msg": MSG}, NUMBER),
        "Logger.log (road 1, 8 KiB buffer)": (
            "log(msg)", {"log": small.log, "msg": MSG}, NUMBER),
        "Logger.log (road 1, background)": (
            "log(msg)", {"log": background.log, "msg": MSG}, NUMBER),
        "no-op C function, 1 arg": (
            "noop(msg)", {"noop": tales_from_ffi._noop, "msg": MSG}, NUMBER),
    }
    if logger_cffi is not None:
        cffi_logger = logger_cffi.Logger()
        contenders["Logger.log (road 2, cffi)"] = (
            "log(msg)", {"log": cffi_logger.log, "msg": MSG}, few)

    # The standard library's logging as basicConfig() sets it up: a
    # StreamHandler on sys.stderr (here /dev/null), flushed every record.
    std = logging.getLogger("bench.default")
    std.propagate = False
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(logging.BASIC_FORMAT))
    std.addHandler(handler)
    contenders["logging, default handler"] = (
        "warning(text)", {"warning": std.warning, "text": MSG[:-1]}, few)

    # The same, given our buffering: a buffer of our size that is only
    # written when full, and exactly our bytes (message + newline).
    class Buffered(logging.StreamHandler):
        def flush(self):
            pass                # as lazy as our logger: the buffer decides

    null = open(os.devnull, "w", buffering=direct.buffer_size)
    std = logging.getLogger("bench.buffered")
    std.propagate = False
    std.addHandler(Buffered(null))
    contenders["logging, buffered like us"] = (
        "warning(text)", {"warning": std.warning, "text": MSG[:-1]}, few)

    # Python's own stdout, as it is when stdout is a file or a pipe (an
    # 8 KiB block buffer), and as it is on a terminal (line-buffered: every
    # line is a write(2)).  PYTHONUNBUFFERED=1 makes it write every call.
    block = open(os.dup(1), "w")
    line = open(os.dup(1), "w", buffering=1)
    contenders["sys.stdout.write (block-buffered)"] = (
        "write(msg)", {"write": block.write, "msg": MSG}, NUMBER)
    contenders["sys.stdout.write (line-buffered)"] = (
        "write(msg)", {"write": line.write, "msg": MSG}, few)

    costs = per_call_all(contenders)
    for f in (direct.close, small.close, background.close, block.close,
              line.close, null.close):
        f()
    if logger_cffi is not None:
        cffi_logger.close()
    empty = costs.pop("empty loop")
    return {name: max(cost - empty, 1e-12) for name, cost in costs.items()}
# [/excerpt: calls]


# [excerpt: busy]
def spin(stop):
    """A CPU-bound Python thread: it wants the GIL all the time."""
    n = 0
    while not stop.is_set():
        n += 1


def throughput(log, seconds, busy, chunk):
    """Messages per second that one thread logs for `seconds`, with or
    without a CPU-bound thread beside it (time is read every `chunk`)."""
    stop = threading.Event()
    spinner = threading.Thread(target=spin, args=(stop,))
    if busy:
        spinner.start()
        time.sleep(0.05)                # let it get going
    count = 0
    start = time.perf_counter()
    while True:
        for _ in range(chunk):
            log(MSG)
        count += chunk
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            break
    stop.set()
    if busy:
        spinner.join()
    return count / elapsed
# [/excerpt: busy]


def busy_numbers():
    seconds = 0.2 if QUICK else 0.5     # many switch intervals (5 ms)
    rounds = 3 if QUICK else 5
    background = lambda: tales_from_ffi.Logger(background=True)   # noqa
    configs = {
        "solo": (background, "log", False, 1000),
        "busy": (background, "log", True, 1000),
        "release_solo": (background, "_log_release_gil", False, 1000),
        "release_busy": (background, "_log_release_gil", True, 1),
    }
    if logger_cffi is not None:
        cffi_bg = lambda: logger_cffi.Logger(background=True)     # noqa
        configs["cffi_solo"] = (cffi_bg, "log", False, 1000)
        configs["cffi_busy"] = (cffi_bg, "log", True, 1)
    values = {name: [] for name in configs}
    for _ in range(rounds):             # interleaved, like per_call_all
        for name, (make, method, busy, chunk) in configs.items():
            lg = make()
            values[name].append(throughput(getattr(lg, method), seconds,
                                           busy, chunk))
            lg.close()
    return {name: statistics.median(v) for name, v in values.items()}


def main():
    report = io.TextIOWrapper(io.FileIO(os.dup(1), "w"), line_buffering=True)
    devnull = os.open(os.devnull, os.O_WRONLY)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    try:
        costs = call_costs()
        busy = busy_numbers()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    say = report.write
    say("Stage 05 benchmarks (%s, Python %d.%d, switch interval %g ms)\n"
        % ("quick" if QUICK else "full", *sys.version_info[:2],
           sys.getswitchinterval() * 1000))
    say("message: %r, output to /dev/null\n\n" % MSG)
    say("%-36s %10s\n" % ("per call (median, empty loop removed)", "ns"))
    for name, cost in costs.items():
        say("  %-34s %10.1f\n" % (name, cost * 1e9))
    log = costs["Logger.log (road 1, direct)"]
    say("\nratios for road 1, direct mode, %d-byte buffer unless said "
        "(target in brackets):\n" % tales_from_ffi.Logger().buffer_size)
    rows = [
        ("logging default handler / Logger.log",
         costs["logging, default handler"] / log, ">= 50"),
        ("logging buffered like us / Logger.log",
         costs["logging, buffered like us"] / log, ">= 30"),
        ("sys.stdout.write block-buffered / Logger.log",
         costs["sys.stdout.write (block-buffered)"] / log, ">= 2"),
        ("  the same, Logger with an 8 KiB buffer like it",
         costs["sys.stdout.write (block-buffered)"]
         / costs["Logger.log (road 1, 8 KiB buffer)"], ">= 2"),
        ("sys.stdout.write line-buffered / Logger.log",
         costs["sys.stdout.write (line-buffered)"] / log, ">= 2"),
        ("Logger.log / no-op C call",
         log / costs["no-op C function, 1 arg"], "<= 3"),
        ("background: busy / solo throughput",
         busy["busy"] / busy["solo"], ">= 0.4"),
        ("background busy / release-GIL-per-message busy",
         busy["busy"] / busy["release_busy"], ">= 5"),
    ]
    for name, value, target in rows:
        limit = float(target.split()[1])
        ok = value >= limit if target.startswith(">=") else value <= limit
        say("  %-48s %8.2fx  [%s] %s\n" % (name, value, target,
                                          "met" if ok else "MISSED"))
    say("\nthroughput, messages/s (median of rounds):\n")
    say("  road 1 background, alone:                 %12.0f\n" % busy["solo"])
    say("  road 1 background, CPU-bound thread beside: %10.0f\n"
        % busy["busy"])
    say("  road 1 releasing the GIL per message, alone: %8.0f\n"
        % busy["release_solo"])
    say("  road 1 releasing the GIL per message, beside: %7.0f\n"
        % busy["release_busy"])
    if "cffi_solo" in busy:
        say("  road 2 (cffi releases the GIL per call), alone: %5.0f\n"
            % busy["cffi_solo"])
        say("  road 2, CPU-bound thread beside:          %12.0f\n"
            % busy["cffi_busy"])
    report.close()


if __name__ == "__main__":
    main()
