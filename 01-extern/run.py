"""Stage 01 tour: Python is the host, C the guest, and control goes back
and forth.  Every line says who is running: [py] Python, [c] C.

    make run-1        (or: cd 01-extern && make && python3 run.py)
"""
import contextlib
import io
import sys
import threading

import _common

# Line buffering: each [py] line leaves Python's buffer when printed, so it
# lands in order with the [c] lines, which C flushes itself.
sys.stdout.reconfigure(line_buffering=True)


def tour(mod, title):
    print("-- %s --" % title)
    mod.set_trace(True)
    try:
        print("[py] calling add(2, 3)")
        print("[py] got %d" % mod.add(2, 3))

        # [excerpt: callback]
        def on_step(i):
            print("[py] on_step(%d): calling add(%d, 10) from inside the "
                  "callback" % (i, i))
            total = mod.add(i, 10)          # Python -> C, inside C -> Python
            print("[py] on_step(%d): got %d, returning to C" % (i, total))

        print("[py] calling call_n_times(2, on_step)")
        print("[py] got %d" % mod.call_n_times(2, on_step))
        # [/excerpt: callback]

        # [excerpt: explode]
        def explode(i):
            print("[py] explode(%d)" % i)
            if i == 1:
                raise ValueError("boom at step %d" % i)

        print("[py] calling call_n_times(5, explode)")
        try:
            mod.call_n_times(5, explode)
        except ValueError as exc:
            print("[py] caught ValueError(%r): C made no call after it"
                  % str(exc))
        # [/excerpt: explode]

        # [excerpt: on_thread]
        main = threading.get_native_id()

        def on_thread(i):
            print("[py] on_thread(%d): on the main thread? %s; same native "
                  "thread id as main? %s" % (
                      i, threading.current_thread() is threading.main_thread(),
                      threading.get_native_id() == main))

        print("[py] calling call_on_thread(2, on_thread)")
        print("[py] got %d" % mod.call_on_thread(2, on_thread))
        # [/excerpt: on_thread]
    finally:
        mod.set_trace(False)
    print()


def bad_input(mod):
    print("-- bad input becomes a Python exception, never a crash --")
    for call in ("add(2.5, 1)", "add(2**31, 1)", "add(2**31 - 1, 1)",
                 "call_n_times(3, 'not callable')", "call_n_times(-1, print)"):
        try:
            eval("mod." + call)
        except (TypeError, OverflowError, ValueError) as exc:
            print("[py] %s -> %s: %s" % (call, type(exc).__name__, exc))
    print()


def unguarded(extern_cffi):
    # [excerpt: unguarded_run]
    print("-- cffi, when an exception escapes a callback --")

    def explode(i):
        if i == 1:
            raise ValueError("boom at step %d" % i)

    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        calls = extern_cffi.call_n_times_unguarded(3, explode)
    print("[py] call_n_times_unguarded(3, explode) returned %d: no exception,"
          " C went on" % calls)
    print("[py] cffi printed instead: %r" % stderr.getvalue().splitlines()[0])
    print("[py] and its last line:    %r" % stderr.getvalue().splitlines()[-1])
    # [/excerpt: unguarded_run]
    print()


def main():
    import extern_capi
    tour(extern_capi, "road 1: the C API by hand (extern_capi)")
    bad_input(extern_capi)
    try:
        import cffi  # noqa: F401
    except ImportError:
        print("-- road 2 skipped: %s --" % _common.road_2_missing())
        return
    import extern_cffi
    import extern_abi
    tour(extern_cffi, "road 2: cffi API mode (extern_cffi, @ffi.def_extern)")
    tour(extern_abi, "road 2: cffi ABI mode (extern_abi, dlopen of "
                     "libextern.so)")
    unguarded(extern_cffi)


if __name__ == "__main__":
    main()
