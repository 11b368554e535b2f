"""Stage 04, road 2, cffi API mode: memory_lib compiled into _memory_cffi.

The same public API, and the same messages, as memory_capi:

    person_new, person_get, person_birthday, person_free    (handles)
    Person, Block                                  (close() and `with`)
    registry_put, registry_get, registry_take, counters, fail_allocation

Where road 1 puts the C pointer in a PyCapsule with a destructor, this road
gets each Person and Block from an ffi.new_allocator() over C's own
alloc and free functions: the cdata it returns owns the C memory from
the C call that allocated it.  A cdata pointer cannot tell whether it
has been freed, so each one is kept inside a small Python object that can.
"""
import os as _os
import threading as _threading
import weakref as _weakref

import _common
from _memory_cffi import ffi as _ffi, lib as _lib

__all__ = ["person_new", "person_get", "person_birthday", "person_free",
           "Person", "Block", "registry_put", "registry_get",
           "registry_take", "counters", "fail_allocation",
           "REGISTRY_SLOTS", "BLOCK_MAX"]

REGISTRY_SLOTS = _lib.REGISTRY_SLOTS
BLOCK_MAX = 1 << 24                 # 16 MiB: a teaching limit, not C's
_UINT32_MAX = 2**32 - 1
_INT_MAX = 2**31 - 1


def _out_of_memory(func):
    return MemoryError("%s(): the C allocator returned NULL (out of memory)"
                       % func)


class _Lock:
    """A reentrant lock that a fork()ed child finds free.  A thread that
    held it in the parent does not exist in the child, and would hold it
    there for ever: the child makes itself a new one.  Use it as
    `with lock.get():`, so that `with` acquires and releases the real
    (C) lock itself: a Python __enter__ could be interrupted by a signal
    handler's exception between acquiring and returning, and the lock
    would stay held."""

    __slots__ = ("_lock", "_pid")

    def __init__(self):
        self._lock, self._pid = _threading.RLock(), _os.getpid()

    def get(self):
        if self._pid != _os.getpid():
            self._lock, self._pid = _threading.RLock(), _os.getpid()
        return self._lock


# --- persons: the leaked pointer and its way home ------------------------

# [excerpt: owns_c]
class _OwnsC:
    """The base of every class here whose objects own C memory.

    Each is made whole in __new__, as road 1 makes its objects in tp_new,
    and keeps object's __init__: calling __init__ again on a live object
    does nothing (road 1 does the same), instead of freeing C memory that
    another thread, or the caller of a signal handler, is still using.

    None can be copied: copy.copy(), copy.deepcopy() and pickle all ask
    __reduce__, and a copy would hold the same C object, so closing
    either one would free the memory under the other.  They are refused
    with road 1's words."""

    __slots__ = ()

    def __reduce__(self):
        raise TypeError("cannot pickle '%s.%s' object"
                        % (type(self).__module__, type(self).__qualname__))
# [/excerpt: owns_c]


class _PersonHandle(_OwnsC):
    """What person_new() returns: a Person pointer that C allocated.

    `_ptr` is the cdata that owns the Person, or None once released.
    Python may switch threads between any two lines, and cffi lets go of
    the GIL in every C call: `_lock` makes "check that it is live, then
    use it" one step, and "check, then free it" another, so that no
    thread frees the Person while another one uses it."""

    __slots__ = ("_ptr", "_lock")

    def __new__(cls, ptr):
        self = super().__new__(cls)
        self._ptr = ptr
        self._lock = _Lock()
        return self

    def __repr__(self):
        state = "released" if self._ptr is None else "at %#x" % int(
            _ffi.cast("uintptr_t", self._ptr))
        return "<memory_cffi Person handle %s>" % state


# [excerpt: person_new]
# Like ffi.new(), but the memory comes from C: one C call runs
# person_alloc(sizeof(Person)) and wraps the pointer in a cdata that calls
# person_free() when it is garbage.  No line of Python ever sees the
# Person unowned.  (person_alloc zero-fills: cffi need not clear it.)
_new_person = _ffi.new_allocator(alloc=_lib.person_alloc,
                                 free=_lib.person_free,
                                 should_clear_after_alloc=False)


def _allocate(allocator, cdecl, func, init=None):
    """allocator(cdecl, init), with road 1's message when C returns NULL."""
    try:
        return allocator(cdecl, init)
    except MemoryError:
        raise _out_of_memory(func) from None


def _new_person_ptr(height_cm, age, func):
    """A Person pointer that frees itself, through C, when dropped."""
    height_cm = _common.uint_in_range(height_cm, _UINT32_MAX,
                                      "%s() argument 'height_cm'" % func)
    age = _common.uint_in_range(age, _UINT32_MAX, "%s() argument 'age'" % func)
    return _allocate(_new_person, "Person *", func,
                     {"height_cm": height_cm, "age": age})


def person_new(height_cm, age):
    return _PersonHandle(_new_person_ptr(height_cm, age, "person_new"))
# [/excerpt: person_new]


# [excerpt: person_arg]
def _handle_arg(obj, func):
    """`obj`, a handle from person_new(); TypeError if it is not one."""
    if isinstance(obj, _PersonHandle):
        return obj
    if isinstance(obj, _ffi.CData):
        # Even a 'Person *' is refused: ffi.new() memory, say, belongs to
        # cffi's allocator, and person_free() must never see it.
        kind = "cdata '%s'" % _ffi.typeof(obj).cname
    else:
        kind = type(obj).__name__
    raise TypeError("%s() argument 'person' must be a Person handle from "
                    "person_new(), not %s" % (func, kind))


def _live(handle, gone):
    """The Person pointer of `handle`, with its lock held: ValueError(gone)
    once it was released."""
    if handle._ptr is None:
        raise ValueError(gone)
    return handle._ptr


def _release(handle):
    """Free the live Person of `handle` now, with its lock held."""
    ptr, handle._ptr = handle._ptr, None
    _ffi.release(ptr)       # runs person_free() now, and never again


def person_free(person):
    handle = _handle_arg(person, "person_free")
    with handle._lock.get():
        _live(handle, "person_free(): the Person was already released")
        _release(handle)
# [/excerpt: person_arg]


def person_get(person):
    handle = _handle_arg(person, "person_get")
    with handle._lock.get():
        ptr = _live(handle, "person_get(): the Person was already released")
        return (ptr.height_cm, ptr.age)


def _birthday(ptr, func):
    if ptr.age == _UINT32_MAX:
        raise OverflowError("%s(): the age is %d already, the largest a C "
                            "uint32_t holds" % (func, _UINT32_MAX))
    return _lib.person_birthday(ptr)


def person_birthday(person):
    handle = _handle_arg(person, "person_birthday")
    with handle._lock.get():
        return _birthday(_live(handle, "person_birthday(): the Person was "
                               "already released"), "person_birthday")


# [excerpt: person_class]
class Person(_OwnsC, _common.Closing):
    """Person(height_cm, age): a C-allocated Person; close() or `with`
    frees it early, the garbage collector frees it otherwise."""

    __slots__ = ("_handle",)

    def __new__(cls, height_cm, age):
        self = super().__new__(cls)
        self._handle = _PersonHandle(_new_person_ptr(height_cm, age,
                                                     "Person"))
        return self

    def close(self):
        """Free the C Person now (closing again does nothing)."""
        handle = self._handle
        if handle is not None:
            with handle._lock.get():
                if handle._ptr is not None:     # not closed meanwhile
                    _release(handle)
            self._handle = None
    # [/excerpt: person_class]

    def _use(self, func, use):
        """use(the Person pointer), under the handle's lock: ValueError if
        the Person is closed, before or meanwhile."""
        handle = self._handle
        if handle is None:
            raise ValueError("%s: the Person is closed" % func)
        with handle._lock.get():
            return use(_live(handle, "%s: the Person is closed" % func))

    @property
    def height_cm(self):
        return self._use("height_cm", lambda ptr: ptr.height_cm)

    @property
    def age(self):
        return self._use("age", lambda ptr: ptr.age)

    @property
    def closed(self):
        return self._handle is None

    def birthday(self):
        return self._use("birthday()", lambda ptr: _birthday(ptr, "birthday"))


# --- Block: C-owned memory, exported without a copy -----------------------

# As _new_person: block_alloc() makes an empty Block (no data yet), and
# the cdata calls block_free() when it is garbage.
_new_block = _ffi.new_allocator(alloc=_lib.block_alloc,
                                free=_lib.block_free,
                                should_clear_after_alloc=False)


class Block(_OwnsC, _common.Closing):
    """Block(size): size zero bytes owned by C, shared without a copy.

    view() returns a writable memoryview of the C memory.  The memory
    lives as long as any view of it; resize() and close() raise
    BufferError while a view exists."""

    __slots__ = ("_ptr", "_exports", "_lock")

    # [excerpt: block_init]
    def __new__(cls, size):
        size = _common.int_in_range(size, 0, BLOCK_MAX,
                                    "Block() argument 'size'")
        self = super().__new__(cls)
        ptr = _allocate(_new_block, "Block *", "Block")    # empty, owned
        # The data is allocated inside the Block that ptr owns already:
        # block_resize() stores it there, in the same C call.
        if _lib.block_resize(ptr, size) < 0:
            _ffi.release(ptr)   # block_free() now: nothing left behind
            raise _out_of_memory("Block")
        self._ptr = ptr
        self._exports = []
        # cffi releases the GIL inside every C call, so another thread can
        # run view() while block_resize() frees the old data.  This lock
        # makes "check for views, then resize or free" one step, and
        # "make a view" another.
        self._lock = _Lock()
        return self
    # [/excerpt: block_init]

    # [excerpt: block_view]
    def view(self):
        with self._lock.get():
            if self._ptr is None:
                raise ValueError("memoryview(): the Block is closed")
            owner = self._ptr
            # ffi.buffer() keeps alive the cdata it is given, and no more.
            # owner.data is a plain pointer that owns nothing, so wrap it
            # in a cdata whose (do-nothing) destructor holds `owner`: as
            # long as a view exists, so does the Block's C memory.
            data = _ffi.gc(_ffi.cast("unsigned char *", owner.data),
                           lambda _data, owner=owner: None)
            self._live_exports()        # forget the views that are gone
            self._exports.append(_weakref.ref(data))
            return memoryview(_ffi.buffer(data, owner.size))

    @property
    def exports(self):
        """How many views (from view()) are alive."""
        with self._lock.get():
            return self._live_exports()

    def _live_exports(self):            # with self._lock held
        self._exports = [ref for ref in self._exports if ref() is not None]
        return len(self._exports)

    def _refuse_if_exported(self, func, what):  # with self._lock held
        live = self._live_exports()
        if live > 0:
            raise BufferError("%s(): cannot %s a Block while %d memoryview(s)"
                              " of it exist: release them first"
                              % (func, what, live))
    # [/excerpt: block_view]

    def resize(self, size):
        size = _common.int_in_range(size, 0, BLOCK_MAX,
                                    "resize() argument 'size'")
        with self._lock.get():
            if self._ptr is None:
                raise ValueError("resize(): the Block is closed")
            self._refuse_if_exported("resize", "resize")
            if _lib.block_resize(self._ptr, size) < 0:
                raise _out_of_memory("resize")

    def close(self):
        with self._lock.get():
            self._refuse_if_exported("close", "free")
            if self._ptr is not None:
                ptr, self._ptr = self._ptr, None
                _ffi.release(ptr)       # block_free() now, and never again

    @property
    def size(self):
        with self._lock.get():
            if self._ptr is None:
                raise ValueError("size: the Block is closed")
            return self._ptr.size

    @property
    def closed(self):
        return self._ptr is None


# --- the registry: C holding Python objects -------------------------------

# [excerpt: registry]
# This module's own registry: memory from cffi's allocator, zero-filled
# (empty), freed by cffi when the module is gone.  C only borrows it.  A
# re-import makes a new module object, with a registry of its own.
_registry = _ffi.new("Registry *")

# C stores a void *; ffi.new_handle(obj) makes one that stands for obj and
# holds a strong reference to it, but only while the handle itself lives.
# This dict is what keeps each handle alive: it is our strong reference,
# keyed by the handle's own address.  The rule: a handle is in the dict
# for as long as C may hold it.  So put adds it *before* the C call and
# take removes it *after*: an exception between two lines (a signal
# handler's KeyboardInterrupt) cannot leave C holding a dead handle.
_handles = {}
# And one lock, because cffi releases the GIL inside each C call: without
# it, registry_get() could read a slot, another thread take it and drop
# its handle, and get() then turn a dead handle into an object.
_registry_lock = _Lock()


def _key(handle):
    return int(_ffi.cast("uintptr_t", handle))


def registry_put(obj):
    handle = _ffi.new_handle(obj)
    with _registry_lock.get():
        _handles[_key(handle)] = handle     # first: alive before C has it
        slot = _lib.registry_put(_registry, handle)
        if slot < 0:
            del _handles[_key(handle)]
            raise RuntimeError("registry_put(): the registry is full (%d "
                               "slots): take something out first"
                               % REGISTRY_SLOTS)
    return slot


def _slot_arg(slot, name):
    return _common.int_in_range(slot, 0, REGISTRY_SLOTS - 1,
                                "%s() argument 'slot'" % name)


def _found(item, name, slot):
    """What C's registry_get or registry_take returned: the handle, or
    LookupError if the slot was empty."""
    if item == _ffi.NULL:
        raise LookupError("%s(): slot %d is empty" % (name, slot))
    return item


def registry_take(slot):
    slot = _slot_arg(slot, "registry_take")    # no lock held: __index__
    with _registry_lock.get():
        item = _found(_lib.registry_take(_registry, slot), "registry_take",
                      slot)
        handle = _handles.pop(_key(item))   # last: C no longer has it
    return _ffi.from_handle(handle)
# [/excerpt: registry]


def registry_get(slot):
    slot = _slot_arg(slot, "registry_get")
    with _registry_lock.get():
        item = _found(_lib.registry_get(_registry, slot), "registry_get", slot)
        return _ffi.from_handle(item)       # valid: _handles holds it


def counters():
    return {"allocations": _lib.mem_live_allocations(),
            "persons": _lib.mem_live_persons(),
            "blocks": _lib.mem_live_blocks(),
            "registry": _lib.registry_count(_registry)}


def fail_allocation(nth):
    nth = _common.int_in_range(nth, 0, _INT_MAX,
                               "fail_allocation() argument 'nth'")
    _lib.mem_fail_allocation(nth)
