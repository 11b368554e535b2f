"""The memory bugs of stage 04, one per child process.  PRIVATE.

    python3 -c "import _bug_children; _bug_children.main(NAME)"

_demos.py starts this module under a checker (AddressSanitizer, valgrind,
Python's debug allocator) with _bugs_capi on PYTHONPATH; each function
makes one mistake and the checker reports it.  Never import this module
into a process you care about.
"""
import _bugs_capi


def free_pymem_with_free():
    _bugs_capi.free_pymem_with_free()


def pymem_free_malloc():
    _bugs_capi.pymem_free_malloc()


def double_free():
    _bugs_capi.double_free_person()


def forgotten_free():
    _bugs_capi.forget_person()


# [excerpt: missing_incref]
class Payload:
    pass


def keep():
    payload = Payload()
    _bugs_capi.keep_without_incref(payload)   # the bug is here ...
    # ... but nothing happens yet: returning drops our last reference,
    # and the Payload is freed while C still points at it.


def use_later():
    obj = _bugs_capi.fetch_kept()
    print("[child] got something back from C, printing it", flush=True)
    print(obj)                                # ... and the crash is here


def missing_incref():
    keep()
    use_later()
# [/excerpt: missing_incref]


def main(name):
    globals()[name]()
    print("[child] %s: finished, nothing noticed" % name, flush=True)
