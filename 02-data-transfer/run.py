"""Stage 02 tour: how values cross between Python and C.  Scalars and
strings are copied, lists are copied element by element, buffers are
shared.  Every line is printed by Python ([py]); road 1 (transfer_capi)
first, then road 2 (transfer_cffi) must print exactly the same lines.

    make run-2        (or: cd 02-data-transfer && make && python3 run.py)
"""
import array
import contextlib
import io
import os
import statistics
import sys
import timeit

import _common

# Line buffering: each line leaves Python's buffer when printed, so the
# output is the same on a terminal and through a pipe.
sys.stdout.reconfigure(line_buffering=True)

# The valgrind gate sets FFI_SMALL=1: the same tour on fewer elements.
SMALL = bool(os.environ.get("FFI_SMALL"))


def attempt(mod, call):
    """Evaluate `mod.<call>` and print the result or the exception."""
    try:
        result = eval("mod." + call, {"mod": mod, "array": array})
    except Exception as exc:        # every error is shown, none escapes
        print("[py] %s -> %s: %s" % (call, type(exc).__name__, exc))
    else:
        print("[py] %s = %r" % (call, result))


def scalars(mod):
    print("-- scalars: copied by value, checked on the way in --")
    for call in ("clamp(15, 0, 10)", "clamp(2**31, 0, 10)",
                 "clamp(2.5, 0, 10)", "checked_add(2**62, 2**62 - 1)",
                 "checked_add(2**62, 2**62)", "scale(1.5, 4)",
                 "scale(1e308, 10)", "scale(float('inf'), 0)",
                 "scale(float('nan'), 1)", "round_toward(-2.5, False)",
                 "round_toward(-2.5, 1)", "is_nan(float('nan'))",
                 "is_nan(float('inf'))"):
        attempt(mod, call)
    print()


def strings(mod):
    print("-- strings: a str crosses as UTF-8 bytes plus their length --")
    for text in ("plain", "café", "naïve 🐍", "nul\0inside", ""):
        print("[py] char_count(%r) = %d, len() = %d, UTF-8 bytes = %d"
              % (text, mod.char_count(text), len(text),
                 len(text.encode("utf-8"))))
    # [excerpt: strings_run]
    attempt(mod, "char_count_nul('café')")
    attempt(mod, "char_count_nul('nul\\0inside')")
    attempt(mod, "reversed_text('naïve 🐍')")
    attempt(mod, "reversed_text('a\\0b')")
    attempt(mod, "char_count('lone \\udc80 surrogate')")
    attempt(mod, "checksum(b'Wikipedia')")
    attempt(mod, "checksum('Wikipedia')")
    # [/excerpt: strings_run]
    print()


def sequences(mod):
    print("-- sequences: copied element by element into a C array --")
    # [excerpt: sequences_run]
    attempt(mod, "sorted_ints([3, -1, 2])")
    attempt(mod, "sorted_ints(x * x % 7 for x in range(6))")
    attempt(mod, "sum_list(range(1, 101))")
    attempt(mod, "sum_list([1, 2, '3', 4])")
    attempt(mod, "sum_list([1, 2**64])")
    attempt(mod, "sum_list([2**62, 2**62])")
    attempt(mod, "sum_list(42)")
    # [/excerpt: sequences_run]
    print()


def buffers(mod):
    print("-- buffers: shared, C reads and writes Python's memory --")
    # [excerpt: buffers_run]
    numbers = array.array("q", [1, 2, 3, 4])
    where = numbers.buffer_info()[0]
    print("[py] C sees array('q') at the address Python stores it: %s"
          % (mod.address_of(numbers) == where))
    print("[py] and a memoryview slice two items in: %s"
          % (mod.address_of(memoryview(numbers)[2:]) == where + 16))
    print("[py] sum_buffer(numbers) = %d" % mod.sum_buffer(numbers))
    mod.scale_in_place(numbers, 10)
    print("[py] after scale_in_place(numbers, 10): %r" % numbers)
    big = array.array("q", [1, 2**62, 3])
    try:
        mod.scale_in_place(big, 4)
    except OverflowError as exc:
        print("[py] scale_in_place(big, 4) -> OverflowError: %s" % exc)
    print("[py] big is still %r" % big)
    # [/excerpt: buffers_run]
    for call in ("checksum(bytearray(b'Wikipedia'))",
                 "checksum(memoryview(b'xxWikipedia')[2:])",
                 "scale_in_place(b'12345678', 2)",
                 "scale_in_place(memoryview(array.array('q', [1]))"
                 ".toreadonly(), 2)",
                 "sum_buffer(array.array('d', [1.0, 2.0]))",
                 "sum_buffer(memoryview(array.array('q', [1, 2, 3, 4]))"
                 ".cast('B').cast('q', (2, 2)))",
                 "sum_buffer(memoryview(array.array('q', [1, 2, 3, 4]))[::2])",
                 "sum_buffer([1, 2, 3])"):
        attempt(mod, call)
    print()


def tour(mod):
    scalars(mod)
    strings(mod)
    sequences(mod)
    buffers(mod)


def cffi_pitfalls():
    """What goes wrong when the checks are missing: raw calls into the
    library through cffi, with no wrapper in between."""
    from _transfer_cffi import ffi, lib
    print("-- without the checks: raw calls through cffi --")
    # [excerpt: pitfalls]
    # 1. C relies on the NUL terminator: the count silently stops there.
    data = "nul\0inside".encode("utf-8")
    print("[py] lib.utf8_count_nul(%r) = %d (C stopped at the NUL; "
          "the text has %d)" % (data, lib.utf8_count_nul(data), len(data)))
    # 2. ffi.string() also stops at the first NUL; ffi.unpack() takes the
    #    length from us.
    out = lib.utf8_reverse(b"a\0b", 3)
    try:
        print("[py] ffi.string(out) = %r, ffi.unpack(out, 3) = %r"
              % (ffi.string(out), ffi.unpack(out, 3)))
    finally:
        lib.transfer_free(out)
    # 3. ffi.from_buffer() ignores the item format: doubles read as ints.
    doubles = array.array("d", [1.0, 2.0])
    total = ffi.new("long long *")
    with ffi.from_buffer("long long[]", doubles) as wrong:
        lib.sum_ll(wrong, len(doubles), total)
    print("[py] lib.sum_ll over array('d', [1.0, 2.0]) = %d, not 3"
          % total[0])
    # 4. While C holds a buffer, Python will not move its memory.
    grow = bytearray(b"abc")
    with ffi.from_buffer(grow):
        try:
            grow.extend(b"def")
        except BufferError as exc:
            print("[py] bytearray.extend() while C holds it -> "
                  "BufferError: %s" % exc)
    grow.extend(b"def")
    print("[py] after the buffer is released: %r" % grow)
    # [/excerpt: pitfalls]
    print()


def ratio(a, b):
    """a / b, or nan when the timer could not see b at all."""
    return a / b if b > 0 else float("nan")


# [excerpt: bench]
def per_element(stmts, c_loop, n, number, repeat, namespace):
    """Nanoseconds per element for each statement, and for c_loop (a
    function that times `number` runs inside C and returns seconds): the
    median of `repeat` timings of `number` runs, minus timeit's own empty
    loop.  They take turns, so that a busy moment on the machine slows all
    of them rather than one, and the ratios stay fair."""
    timers = [timeit.Timer(stmt, globals=namespace) for stmt in stmts]
    empty = timeit.Timer("pass")
    times = [[] for _ in stmts]
    loop, inside = [], []
    for _ in range(repeat):
        loop.append(empty.timeit(number))
        for timer, seen in zip(timers, times):
            seen.append(timer.timeit(number))
        inside.append(c_loop(number))
    overhead = statistics.median(loop)
    results = [(statistics.median(seen) - overhead) / number / n * 1e9
               for seen in times]
    return results + [statistics.median(inside) / number / n * 1e9]


def benchmark(mod, title):
    n = 1_000 if SMALL else 100_000
    number, repeat = (3, 3) if SMALL else (50, 15)
    values = list(range(n))
    shared = array.array("q", values)
    namespace = {"mod": mod, "values": values, "shared": shared}
    python, copied, buffer, in_c = per_element(
        ["sum(values)", "mod.sum_list(values)", "mod.sum_buffer(shared)"],
        lambda number: mod.time_c_loop(shared, number),
        n, number, repeat, namespace)
# [/excerpt: bench]
    print("-- why it matters: summing %s ints, %s --"
          % (format(n, ","), title))
    print("[py] Python's sum(list):          %6.2f ns per element" % python)
    print("[py] sum_list(list), copied:      %6.2f ns per element" % copied)
    print("[py] sum_buffer(array), shared:   %6.2f ns per element" % buffer)
    print("[py] the same loop, timed in C:   %6.2f ns per element" % in_c)
    print("[py] time ratios, per element (above 1: the second is faster):")
    print("[py]   copied list / shared buffer:   %6.1f"
          % ratio(copied, buffer))
    print("[py]   shared buffer / loop in C:     %6.2f" % ratio(buffer, in_c))
    print("[py]   sum(list) / copied list:       %6.1f"
          % ratio(python, copied))
    print()


def main():
    import transfer_capi
    print("== road 1: the C API by hand (transfer_capi) ==")
    print()
    tour(transfer_capi)
    try:
        import transfer_cffi
    except ImportError as exc:
        print("== road 2 skipped: %s ==" % _common.road_2_missing(exc))
        print()
        benchmark(transfer_capi, "road 1")
        return
    capture = io.StringIO()
    with contextlib.redirect_stdout(capture):
        tour(transfer_cffi)
    lines = capture.getvalue().splitlines()
    same = io.StringIO()
    with contextlib.redirect_stdout(same):
        tour(transfer_capi)
    print("== road 2: cffi API mode (transfer_cffi) ==")
    print()
    if capture.getvalue() == same.getvalue():
        print("[py] the same %d lines as road 1, word for word" % len(lines))
    else:
        print("[py] road 2 differs from road 1:")
        for mine, theirs in zip(lines, same.getvalue().splitlines()):
            if mine != theirs:
                print("[py]   road 1: %s\n[py]   road 2: %s" % (theirs, mine))
    print()
    cffi_pitfalls()
    benchmark(transfer_capi, "road 1")
    benchmark(transfer_cffi, "road 2")


if __name__ == "__main__":
    main()
