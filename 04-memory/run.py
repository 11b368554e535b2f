"""Stage 04 tour: who allocates, who holds, who frees.

    make run-4        (or: cd 04-memory && make && python3 run.py)

Each part runs on both roads (the C API by hand, then cffi) and prints the
C library's own live-allocation counters, so you can see every allocation
come home.  The memory bugs (bugs/) run last, each in a child process
under the tool that catches it.
"""
import sys

import _common

# Line buffering: each line leaves Python's buffer when printed, so the
# output is in the same order on a terminal and through a pipe.
sys.stdout.reconfigure(line_buffering=True)


def live(mod):
    c = mod.counters()
    return ("allocations=%(allocations)d persons=%(persons)d "
            "blocks=%(blocks)d registry=%(registry)d" % c)


def leak_and_reclaim(mod):
    # [excerpt: leak_and_reclaim]
    print("[py] before:            ", live(mod))
    person = mod.person_new(170, 30)        # C mallocs, Python holds
    print("[py] person_new(170, 30) ->", type(person).__name__)
    print("[py] person_get:        ", mod.person_get(person))
    print("[py] person_birthday:   ", mod.person_birthday(person))
    print("[py] while held:        ", live(mod))
    del person                  # last reference gone: C's free runs now
    print("[py] after del:         ", live(mod))

    with mod.Person(180, 40) as early:      # explicit, early release
        print("[py] in with: age", early.age, "->", early.birthday())
    print("[py] after with:        ", live(mod), "closed:", early.closed)
    # [/excerpt: leak_and_reclaim]


def misuse(mod, wrong_pointer):
    # [excerpt: misuse]
    person = mod.person_new(170, 30)
    mod.person_free(person)                 # the one and only release
    with mod.Person(180, 40) as closed:
        pass                                # closed at the end of `with`
    for label, call in [
            ("free again", lambda: mod.person_free(person)),
            ("use after free", lambda: mod.person_get(person)),
            ("not a pointer", lambda: mod.person_get(42)),
            ("wrong pointer", lambda: mod.person_get(wrong_pointer)),
            ("closed Person", lambda: closed.age)]:
        try:
            call()
        except (ValueError, TypeError) as exc:
            print("[py] %-15s -> %s: %s" % (label, type(exc).__name__, exc))
    # [/excerpt: misuse]


def shared_memory(mod):
    # [excerpt: shared_memory]
    block = mod.Block(8)                    # C owns 8 bytes
    view = block.view()                     # no copy: C's own memory
    view[0:3] = b"abc"
    print("[py] view of C memory:  ", bytes(view), "exports:", block.exports)
    try:
        block.resize(16)
    except BufferError as exc:
        print("[py] refused:", exc)
    try:
        block.close()
    except BufferError as exc:
        print("[py] refused:", exc)
    del block                               # the view keeps it alive
    print("[py] block deleted:     ", live(mod), "view still reads",
          bytes(view[:3]))
    view.release()                          # last export gone: C frees
    print("[py] view released:     ", live(mod))
    # [/excerpt: shared_memory]


def refcounts(mod):
    # [excerpt: refcounts]
    payload = ["any", "Python", "object"]
    # Only changes are printed: CPython does not promise the count itself.
    before = sys.getrefcount(payload)
    slot = mod.registry_put(payload)        # C takes a strong reference
    print("[py] registry_put: refcount %+d"
          % (sys.getrefcount(payload) - before))
    again = mod.registry_get(slot)          # a new reference for us
    print("[py] registry_get: same object: %s, refcount %+d"
          % (again is payload, sys.getrefcount(payload) - before))
    del again
    mod.registry_take(slot)                 # C hands its reference over
    print("[py] registry_take and drop: refcount %+d"
          % (sys.getrefcount(payload) - before))
    # [/excerpt: refcounts]


def allocation_failure(mod):
    # [excerpt: allocation_failure]
    for nth, what in ((1, "the header"), (2, "the data")):
        mod.fail_allocation(nth)            # the nth C allocation fails
        try:
            mod.Block(64)
        except MemoryError as exc:
            print("[py] %s fails: MemoryError: %s" % (what, exc))
        print("[py] nothing left behind:", live(mod))
    # [/excerpt: allocation_failure]


def tour(mod, title, wrong_pointer):
    print("== %s ==" % title)
    for part, run in (("leak and reclaim", leak_and_reclaim),
                      ("misuse raises, never crashes",
                       lambda m: misuse(m, wrong_pointer)),
                      ("C memory shared through the buffer protocol",
                       shared_memory),
                      ("C holding a Python object", refcounts),
                      ("allocation failure", allocation_failure)):
        print("-- %s --" % part)
        run(mod)
    print()


def main():
    import datetime

    import memory_capi
    # A capsule, but not one of ours: the datetime module's C API.
    tour(memory_capi, "road 1: the C API by hand (memory_capi, PyCapsule)",
         datetime.datetime_CAPI)
    try:
        import memory_cffi
        from _memory_cffi import ffi
    except ImportError as exc:
        print("== road 2 skipped: %s ==\n" % _common.road_2_missing(exc))
    else:
        # The right C type, the wrong allocator: cffi owns this memory.
        tour(memory_cffi, "road 2: cffi API mode (memory_cffi, ffi.gc)",
             ffi.new("Person *"))

    from bugs import _demos
    print("== the bugs, each in a child process ==")
    _demos.main([])


if __name__ == "__main__":
    main()
