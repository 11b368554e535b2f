"""Stage 04: who allocates, who holds, who frees.

One contract, run on both roads: C's live-allocation counters come back to
zero, misuse raises instead of crashing, C memory exported through the
buffer protocol outlives its owner while viewed, C's strong references
show in sys.getrefcount, every allocation failure path releases what it
took, and each module object owns its registry: a re-import, or (road 1) a
subinterpreter, leaves the other module objects and their objects alone.
TestExercise is the workshop's check (make check-4): the three parts of
04-memory/exercise/memory_capi.c, in the chapter's order, each mistake
reported with the name of the function that made it.
The bug demonstrations (child processes under ASan, valgrind and the debug
allocator) are in test_gate_04_bugs.py, which `make gates` runs.
"""
import gc
import sys
import textwrap
import threading
import unittest
import weakref

import support

UINT32_MAX = 2**32 - 1
ZERO = {"allocations": 0, "persons": 0, "blocks": 0, "registry": 0}
NOT_A_HANDLE = (r"^person_get\(\) argument 'person' must be a Person "
                r"handle from person_new\(\), not ")


class Payload:
    """Any object that can be weakly referenced."""


# The start of every child below.  MODULE is the road's module, imported
# from the stage's build (support.import_stage checks where from), and
# reimport() makes a second module object of it, as `del sys.modules[...]`
# then `import` do: an extension module with multi-phase init is created
# anew each time, and so is a Python module.
CHILD = """\
import gc, importlib, sys, weakref
import support
MODULE = %r
ZERO = {"allocations": 0, "persons": 0, "blocks": 0, "registry": 0}


class Payload:
    pass


def reimport():
    del sys.modules[MODULE]
    return importlib.import_module(MODULE)


def check(got, want, what):
    assert got == want, "%%s: %%r, expected %%r" %% (what, got, want)


# module's registry holds payload in slot, and nothing in any other slot:
# there probe(other) (registry_get or registry_take) raises LookupError.
def check_only_slot(module, slot, payload, probe):
    check(module.registry_get(slot), payload, "registry_get")
    for other in range(module.REGISTRY_SLOTS):
        if other != slot:
            try:
                probe(other)
            except LookupError:
                continue
            raise AssertionError("new module: slot %%d is not empty" %% other)


first = support.import_stage("04", MODULE)
"""

# Code for a subinterpreter (road 1): memory_capi's registry there must be
# its own, and what it holds is given back when the subinterpreter ends.
SUBINTERPRETER = """\
import sys
sys.path[:0] = %r
import memory_capi


class Payload:
    pass


slot = memory_capi.registry_put(Payload())
assert slot == 0, ("the registry is not this module's own", slot)
assert memory_capi.counters()["registry"] == 1, memory_capi.counters()
memory_capi.registry_put(memory_capi.Person(1, 2))
# Not taken out: the module object gives them back when it goes.
"""


class MemoryContract:
    # Set by each road: an object that is a pointer of the wrong kind, and
    # how the message names it.
    wrong_pointer_tail = None

    # --- one owner for each piece of C memory ---------------------------

    def test_an_owner_of_c_memory_cannot_be_copied(self):
        # A copy would share the C object: closing either one would free
        # the memory under the other (copy.copy(block).close(), then
        # block.size read freed memory).  Refused, as road 1 refuses.
        import copy
        import pickle
        copiers = [copy.copy, copy.deepcopy] + [
            lambda obj, p=p: pickle.dumps(obj, p)
            for p in range(pickle.HIGHEST_PROTOCOL + 1)]
        owners = [self.mod.Block(64), self.mod.Person(170, 41),
                  self.mod.person_new(170, 41)]
        try:
            for owner in owners:
                for copier in copiers:
                    with self.assertRaisesRegex(TypeError,
                                                "^cannot pickle '.+' "
                                                "object$"):
                        copier(owner)
            self.assertEqual(owners[0].size, 64)
        finally:
            owners[0].close()
            owners[1].close()
            self.mod.person_free(owners[2])
        self.assertEqual(self.mod.counters()["blocks"], 0)

    def test_init_again_on_a_live_object_changes_nothing(self):
        block = self.mod.Block(64)
        view = block.view()
        view[0] = 7
        block.__init__(128)             # object.__init__, on both roads
        self.assertEqual(block.size, 64)
        self.assertEqual(block.exports, 1)
        with self.assertRaises(BufferError):
            block.resize(8)             # the view still counts
        view.release()
        self.assertEqual(block.view()[0], 7)
        block.close()
        person = self.mod.Person(170, 41)
        person.__init__(1, 2)
        self.assertEqual((person.height_cm, person.age), (170, 41))
        person.close()
        self.assertEqual(self.mod.counters()["blocks"], 0)
        self.assertEqual(self.mod.counters()["persons"], 0)

    def test_views_made_and_dropped_leave_nothing_behind(self):
        # Each view is counted while it lives; once gone, it must be
        # forgotten, or a Block that shares its memory 10000 times keeps
        # 10000 dead records of it.
        import tracemalloc

        def views(block, n):
            for _ in range(n):
                view = block.view()
                view.release()
                del view

        with self.mod.Block(64) as block:
            views(block, 100)
            gc.collect()
            tracemalloc.start()
            try:
                before = tracemalloc.get_traced_memory()[0]
                views(block, 10000)
                gc.collect()
                grown = tracemalloc.get_traced_memory()[0] - before
            finally:
                tracemalloc.stop()
            self.assertEqual(block.exports, 0)
        self.assertLess(grown, 10000, "%d bytes more after 10000 views"
                        % grown)

    def test_sizes_and_slots_are_checked_by_value(self):
        Lying = support.hostile.LyingRangeInt
        too_big = self.mod.BLOCK_MAX + 1
        with self.assertRaises(OverflowError) as cm:
            self.mod.Block(Lying(too_big))
        self.assertEqual(str(cm.exception), "Block() argument 'size' must "
                         "be in 0..%d" % self.mod.BLOCK_MAX)
        with self.mod.Block(Lying(8)) as block:
            self.assertEqual(block.size, 8)
            with self.assertRaises(OverflowError):
                block.resize(Lying(too_big))
            with self.assertRaises(OverflowError):
                block.resize(Lying(-1))
            self.assertEqual(block.size, 8)
        for func in (self.mod.registry_get, self.mod.registry_take):
            with self.assertRaises(OverflowError):
                func(Lying(-1))
        with self.assertRaises(OverflowError):
            self.mod.Person(Lying(2**32), 1)
        with self.assertRaises(TypeError) as cm:
            self.mod.Block(support.hostile.ClaimsToBeInt(8))
        self.assertEqual(str(cm.exception), "Block() argument 'size' must "
                         "be int, not ClaimsToBeInt")
        self.assertEqual(self.mod.counters()["blocks"], 0)

    def wrong_pointer(self):
        raise NotImplementedError

    def tearDown(self):
        # Leave C as we found it even when a test failed half-way.
        self.mod.fail_allocation(0)
        for slot in range(self.mod.REGISTRY_SLOTS):
            try:
                self.mod.registry_take(slot)
            except LookupError:
                pass
        gc.collect()

    def assertCounters(self, **expected):
        gc.collect()
        want = dict(ZERO, **expected)
        self.assertEqual(self.mod.counters(), want)

    # --- leak and reclaim -------------------------------------------------

    def test_person_values(self):
        person = self.mod.person_new(170, 30)
        self.assertEqual(self.mod.person_get(person), (170, 30))
        self.assertEqual(self.mod.person_birthday(person), 31)
        self.assertEqual(self.mod.person_get(person), (170, 31))
        largest = self.mod.person_new(UINT32_MAX, 0)
        self.assertEqual(self.mod.person_get(largest), (UINT32_MAX, 0))

    def test_destructor_frees_when_dropped(self):
        self.assertCounters()
        person = self.mod.person_new(170, 30)
        self.assertCounters(allocations=1, persons=1)
        del person
        self.assertCounters()

    def test_counters_many_persons(self):
        n = support.scale(1000, 50)
        persons = [self.mod.person_new(i, i) for i in range(n)]
        self.assertCounters(allocations=n, persons=n)
        self.assertEqual(self.mod.person_get(persons[-1]), (n - 1, n - 1))
        del persons[::2]
        self.assertCounters(allocations=n // 2, persons=n // 2)
        del persons
        self.assertCounters()

    def test_person_free_releases_now(self):
        person = self.mod.person_new(170, 30)
        self.assertIsNone(self.mod.person_free(person))
        self.assertCounters()
        del person                  # the destructor must not free again
        self.assertCounters()

    def test_person_class(self):
        person = self.mod.Person(180, 40)
        self.assertEqual((person.height_cm, person.age), (180, 40))
        self.assertEqual(person.birthday(), 41)
        self.assertEqual(person.age, 41)
        self.assertFalse(person.closed)
        self.assertCounters(allocations=1, persons=1)
        del person
        self.assertCounters()

    def test_person_context_manager(self):
        with self.mod.Person(180, 40) as person:
            self.assertEqual(person.age, 40)
            self.assertCounters(allocations=1, persons=1)
        self.assertTrue(person.closed)
        self.assertCounters()
        person.close()              # closing again is allowed, like files
        self.assertCounters()

    def test_context_manager_closes_on_exception(self):
        with self.assertRaisesRegex(KeyError, "inside"):
            with self.mod.Person(180, 40) as person:
                raise KeyError("inside")
        self.assertTrue(person.closed)
        self.assertCounters()

    def test_exit_takes_exactly_three_arguments(self):
        # What the `with` statement passes, and nothing else: any other
        # count is refused, and nothing is closed.
        for obj in (self.mod.Person(180, 40), self.mod.Block(8)):
            name = type(obj).__name__
            for args in ((), (None,), (None,) * 4):
                with self.subTest(type=name, nargs=len(args)):
                    with self.assertRaises(TypeError) as cm:
                        obj.__exit__(*args)
                    self.assertEqual(str(cm.exception),
                                     "%s.__exit__() takes 3 arguments "
                                     "(exc_type, exc_value, traceback), "
                                     "got %d" % (name, len(args)))
                    self.assertFalse(obj.closed)
            self.assertIs(obj.__exit__(None, None, None), False)
            self.assertTrue(obj.closed)
        self.assertCounters()

    # --- misuse -----------------------------------------------------------

    def test_double_release_raises(self):
        person = self.mod.person_new(170, 30)
        self.mod.person_free(person)
        with self.assertRaisesRegex(
                ValueError,
                r"^person_free\(\): the Person was already released$"):
            self.mod.person_free(person)
        self.assertCounters()

    def test_use_after_release_raises(self):
        person = self.mod.person_new(170, 30)
        self.mod.person_free(person)
        for call, name in ((self.mod.person_get, "person_get"),
                           (self.mod.person_birthday, "person_birthday")):
            with self.assertRaisesRegex(
                    ValueError, r"^%s\(\): the Person was already released$"
                    % name):
                call(person)

    def test_closed_person_raises(self):
        person = self.mod.Person(180, 40)
        person.close()
        for action, name in ((lambda: person.age, "age"),
                             (lambda: person.height_cm, "height_cm"),
                             (person.birthday, r"birthday\(\)")):
            with self.assertRaisesRegex(
                    ValueError, r"^%s: the Person is closed$" % name):
                action()

    def test_wrong_kind_raises(self):
        for value, tail in ((42, "int"), (None, "NoneType"), ("p", "str"),
                            # a Person object is not its handle
                            (self.mod.Person(1, 2), r"(memory_capi\.)?Person"),
                            (self.wrong_pointer(), self.wrong_pointer_tail)):
            # Not the object itself: 3.10 keeps subTest parameters to the
            # end of the test, and the Person would outlive assertCounters.
            with self.subTest(kind=type(value).__name__):
                with self.assertRaisesRegex(TypeError,
                                            NOT_A_HANDLE + tail + "$"):
                    self.mod.person_get(value)
        with self.assertRaisesRegex(TypeError, r"^person_free\(\) argument"):
            self.mod.person_free(self.wrong_pointer())
        self.assertCounters()

    def test_argument_errors(self):
        cases = [
            (lambda: self.mod.person_new("170", 30), TypeError,
             r"^person_new\(\) argument 'height_cm' must be int, not str$"),
            (lambda: self.mod.person_new(170, -1), OverflowError,
             r"^person_new\(\) argument 'age' must be in 0\.\.4294967295$"),
            (lambda: self.mod.person_new(2**32, 1), OverflowError,
             r"^person_new\(\) argument 'height_cm' must be in 0\.\."),
            (lambda: self.mod.Person(1.5, 1), TypeError,
             r"^Person\(\) argument 'height_cm' must be int, not float$"),
            (lambda: self.mod.Block(-1), OverflowError,
             r"^Block\(\) argument 'size' must be in 0\.\.16777216$"),
            (lambda: self.mod.Block(2**100), OverflowError,
             r"^Block\(\) argument 'size' must be in 0\.\.16777216$"),
            (lambda: self.mod.Block(None), TypeError,
             r"^Block\(\) argument 'size' must be int, not NoneType$"),
        ]
        for call, error, message in cases:
            with self.subTest(message=message):
                with self.assertRaisesRegex(error, message):
                    call()
        self.assertCounters()

    def test_birthday_overflow_raises(self):
        person = self.mod.person_new(170, UINT32_MAX)
        with self.assertRaisesRegex(OverflowError, r"^person_birthday\(\): "
                                    r"the age is 4294967295 already"):
            self.mod.person_birthday(person)
        self.assertEqual(self.mod.person_get(person), (170, UINT32_MAX))

    # --- C memory through the buffer protocol -----------------------------

    def test_block_view_shares_memory(self):
        block = self.mod.Block(16)
        self.assertEqual(block.size, 16)
        first, second = block.view(), block.view()
        self.assertEqual(bytes(first), bytes(16))      # C zero-filled it
        self.assertFalse(first.readonly)
        first[2:5] = b"xyz"
        self.assertEqual(bytes(second[:6]), b"\0\0xyz\0")  # no copy
        self.assertEqual(block.exports, 2)
        first.release()
        second.release()
        self.assertEqual(block.exports, 0)

    def test_block_outlives_owner_while_viewed(self):
        block = self.mod.Block(8)
        view = block.view()
        view[0] = 7
        del block
        self.assertCounters(allocations=2, blocks=1)   # still there
        view[1] = 9
        self.assertEqual(bytes(view[:3]), b"\x07\x09\x00")
        tail = view[4:]                 # a slice keeps it alive too
        view.release()
        self.assertCounters(allocations=2, blocks=1)
        self.assertEqual(len(tail), 4)
        del tail                        # the last export: C frees it now
        self.assertCounters()

    def test_resize_and_close_refused_while_exported(self):
        block = self.mod.Block(8)
        view = block.view()
        part = view[2:4]
        view.release()                  # the slice still holds the export
        for action, message in (
                (lambda: block.resize(16), r"^resize\(\): cannot resize a "
                 r"Block while 1 memoryview\(s\) of it exist: release them "
                 r"first$"),
                (block.close, r"^close\(\): cannot free a Block while 1 "
                 r"memoryview\(s\) of it exist: release them first$")):
            with self.assertRaisesRegex(BufferError, message):
                action()
        self.assertFalse(block.closed)
        self.assertEqual(block.size, 8)
        part.release()
        block.resize(16)
        self.assertEqual(block.size, 16)
        block.close()
        self.assertTrue(block.closed)
        self.assertCounters()

    def test_resize_keeps_data(self):
        with self.mod.Block(4) as block:
            view = block.view()
            view[:] = b"abcd"
            view.release()
            block.resize(6)
            self.assertEqual(bytes(block.view()), b"abcd\0\0")
            block.resize(2)
            self.assertEqual(bytes(block.view()), b"ab")
            block.resize(0)
            self.assertEqual(bytes(block.view()), b"")
        self.assertCounters()

    def test_closed_block_raises(self):
        block = self.mod.Block(4)
        block.close()
        block.close()                   # again: allowed
        for action, message in ((block.view, r"^memoryview\(\): the Block "
                                 r"is closed$"),
                                (lambda: block.resize(1), r"^resize\(\): the "
                                 r"Block is closed$"),
                                (lambda: block.size, r"^size: the Block is "
                                 r"closed$")):
            with self.assertRaisesRegex(ValueError, message):
                action()
        self.assertCounters()

    def test_block_context_manager_refuses_while_exported(self):
        with self.assertRaisesRegex(BufferError, r"^close\(\): cannot free"):
            with self.mod.Block(4) as block:
                view = block.view()
        view.release()
        self.assertFalse(block.closed)
        block.close()
        self.assertCounters()

    # --- reference counts -------------------------------------------------

    def test_registry_takes_a_strong_reference(self):
        payload = Payload()
        before = sys.getrefcount(payload)
        slot = self.mod.registry_put(payload)
        self.assertEqual(sys.getrefcount(payload), before + 1)
        got = self.mod.registry_get(slot)       # a new reference
        self.assertIs(got, payload)
        self.assertEqual(sys.getrefcount(payload), before + 2)
        del got
        self.assertEqual(sys.getrefcount(payload), before + 1)
        self.assertCounters(registry=1)
        self.assertIs(self.mod.registry_take(slot), payload)
        self.assertEqual(sys.getrefcount(payload), before)
        self.assertCounters()

    def test_registry_keeps_object_alive(self):
        payload = Payload()
        alive = weakref.ref(payload)
        slot = self.mod.registry_put(payload)
        del payload
        gc.collect()
        self.assertIsNotNone(alive(), "C's reference must keep it alive")
        self.assertIs(self.mod.registry_take(slot), alive())
        gc.collect()
        self.assertIsNone(alive())

    def test_registry_full_and_empty(self):
        payload = Payload()
        before = sys.getrefcount(payload)
        slots = [self.mod.registry_put(payload)
                 for _ in range(self.mod.REGISTRY_SLOTS)]
        self.assertEqual(sorted(slots), list(range(self.mod.REGISTRY_SLOTS)))
        with self.assertRaisesRegex(RuntimeError, r"^registry_put\(\): the "
                                    r"registry is full \(8 slots\)"):
            self.mod.registry_put(payload)
        self.assertEqual(sys.getrefcount(payload),
                         before + self.mod.REGISTRY_SLOTS)
        for slot in slots:
            self.mod.registry_take(slot)
        self.assertEqual(sys.getrefcount(payload), before)
        for call, name in ((self.mod.registry_get, "registry_get"),
                           (self.mod.registry_take, "registry_take")):
            with self.assertRaisesRegex(LookupError,
                                        r"^%s\(\): slot 3 is empty$" % name):
                call(3)
            with self.assertRaisesRegex(OverflowError, r"^%s\(\) argument "
                                        r"'slot' must be in 0\.\.7$" % name):
                call(8)
            with self.assertRaisesRegex(TypeError, r"^%s\(\) argument 'slot'"
                                        r" must be int, not str$" % name):
                call("3")

    # --- allocation failure -----------------------------------------------

    def test_allocation_failure_person(self):
        self.mod.fail_allocation(1)
        for call in (lambda: self.mod.person_new(1, 2),):
            with self.assertRaisesRegex(MemoryError, r"^person_new\(\): the "
                                        r"C allocator returned NULL"):
                call()
        self.assertCounters()
        self.mod.fail_allocation(1)
        with self.assertRaisesRegex(MemoryError, r"^Person\(\): "):
            self.mod.Person(1, 2)
        self.assertCounters()
        person = self.mod.person_new(1, 2)      # the switch fired once
        self.assertEqual(self.mod.person_get(person), (1, 2))

    def test_allocation_failure_block(self):
        for nth in (1, 2):                      # the header, then the data
            with self.subTest(nth=nth):
                self.mod.fail_allocation(nth)
                with self.assertRaisesRegex(MemoryError, r"^Block\(\): the "
                                            r"C allocator returned NULL"):
                    self.mod.Block(32)
                self.assertCounters()

    def test_allocation_failure_resize_keeps_block(self):
        block = self.mod.Block(4)
        view = block.view()
        view[:] = b"keep"
        view.release()
        self.mod.fail_allocation(1)
        with self.assertRaisesRegex(MemoryError, r"^resize\(\): "):
            block.resize(1000)
        self.assertEqual(block.size, 4)
        self.assertEqual(bytes(block.view()), b"keep")
        self.assertCounters(allocations=2, blocks=1)

    def test_fail_allocation_arguments(self):
        with self.assertRaisesRegex(OverflowError, r"^fail_allocation\(\) "
                                    r"argument 'nth' must be in 0\.\."):
            self.mod.fail_allocation(-1)
        with self.assertRaisesRegex(TypeError, r"^fail_allocation\(\) "
                                    r"argument 'nth' must be int, not str$"):
            self.mod.fail_allocation("1")
        self.mod.fail_allocation(3)
        self.mod.fail_allocation(0)             # off again
        self.assertEqual(self.mod.person_get(self.mod.person_new(1, 2)),
                         (1, 2))

    # --- more than one module object: each owns its registry --------------
    # Each in a child: with one registry shared by two module objects, road
    # 2 aborts (its handles die with their module while C still holds them).

    def run_child(self, body):
        """Run CHILD + body in a fresh interpreter, which must print "ok"
        last; return what it printed."""
        code = CHILD % self.module + textwrap.dedent(body) + 'print("ok")\n'
        proc = support.run_python(code, stage=self.stage)
        last = (proc.stderr.strip().splitlines() or [""])[-1]
        if last.startswith("NotImplementedError: "):
            # An unfinished exercise (make check-4): say which, as in-process
            raise NotImplementedError(last.split(": ", 1)[1])
        if proc.returncode != 0 or proc.stdout.splitlines()[-1:] != ["ok"]:
            self.fail("the child (%s) said:\n%s%s" % (
                support.describe_exit(proc.returncode), proc.stdout[-2000:],
                proc.stderr[-3000:]))
        return proc.stdout

    def test_reimport_then_old_module_collected(self):
        self.run_child("""
            kept_by_first = Payload()
            first.registry_put(kept_by_first)
            first.registry_put(Payload())
            second = reimport()
            assert second is not first, "the re-import made no new module"
            payload = Payload()
            slot = second.registry_put(payload)
            check(second.counters(), dict(ZERO, registry=1), "new module")
            check(first.counters(), dict(ZERO, registry=2), "old module")

            first_alive = weakref.ref(first)
            kept_alive = weakref.ref(kept_by_first)
            del first, kept_by_first
            gc.collect()
            assert first_alive() is None, "the old module is still alive"
            assert kept_alive() is None, ("the old module died, but what "
                                          "its registry held did not")

            # The new module is untouched: its registry, types, counters.
            check(second.counters(), dict(ZERO, registry=1), "collected")
            check_only_slot(second, slot, payload, second.registry_get)
            with second.Person(170, 30) as person:
                check(person.birthday(), 31, "Person.birthday()")
            with second.Block(4) as block:
                view = block.view()
                view[1] = 9
                check(list(view), [0, 9, 0, 0], "Block view")
                view.release()
            check(second.registry_take(slot), payload, "registry_take")
            check(second.counters(), ZERO, "at the end")
        """)

    def test_old_objects_work_after_reimport(self):
        self.run_child("""
            person = first.Person(170, 30)
            handle = first.person_new(160, 20)
            block = first.Block(4)
            view = block.view()
            view[0] = 7
            kept, left = Payload(), Payload()
            kept_slot = first.registry_put(kept)
            first.registry_put(left)
            # The old module's functions (on road 1 a bound C function
            # holds its module, so these keep the old module alive).
            person_get, registry_take = first.person_get, first.registry_take
            counters = first.counters

            second = reimport()
            payload = Payload()
            slot = second.registry_put(payload)
            del first
            gc.collect()

            # What the old module made still works.
            check(person.birthday(), 31, "old Person.birthday()")
            check(person_get(handle), (160, 20), "old person_get()")
            check((view[0], block.exports), (7, 1), "old Block")
            view.release()
            block.resize(8)
            check(registry_take(kept_slot), kept, "old registry_take()")
            check(counters()["registry"], 1, "old module's registry")
            check(second.counters(), {"allocations": 4, "persons": 2,
                                      "blocks": 1, "registry": 1},
                  "new module, old objects alive")

            # When it all goes, the new module is untouched.
            left_alive = weakref.ref(left)
            del person, handle, block, view, person_get, registry_take
            del counters, left
            gc.collect()
            assert left_alive() is None, ("the old module died, but what "
                                          "its registry held did not")
            check(second.counters(), dict(ZERO, registry=1), "all old gone")
            check_only_slot(second, slot, payload, second.registry_take)
        """)

    # --- nothing leaks: objects, references, C memory ----------------------

    def workload(self, payload):
        """One of everything, errors included."""
        mod = self.mod
        person = mod.person_new(1, 2)
        mod.person_get(person)
        mod.person_birthday(person)
        mod.person_free(person)
        for bad in (lambda: mod.person_free(person),
                    lambda: mod.person_get(payload)):
            try:
                bad()
            except (ValueError, TypeError):
                pass
        with mod.Person(3, 4) as other:
            other.birthday()
        block = mod.Block(16)
        view = block.view()
        view[0] = 1
        try:
            block.resize(3)
        except BufferError:
            pass
        view.release()
        block.resize(32)
        block.close()
        slot = mod.registry_put(payload)
        mod.registry_get(slot)
        mod.registry_take(slot)
        mod.fail_allocation(1)
        try:
            mod.Block(4)
        except MemoryError:
            pass

    def test_no_leak_when_repeated(self):
        # Like CPython's refleak hunt (regrtest -R 3:3): warm-up rounds,
        # then counted ones.  A leak of even one block per call of the
        # workload grows every counted round by at least `calls` blocks;
        # the interpreter's own caches grow by a few blocks now and then
        # (on 3.10, for some hash seeds, raising and catching grew by
        # [86, 14, 1] in the first rounds, and once [1, 11, 2] in counted
        # ones on a loaded machine).  So a round counts as grown only past
        # half of `calls`, and five counted rounds must all grow.
        # (Under PYTHONMALLOC=malloc getallocatedblocks() is always 0: the
        # gates' valgrind and LeakSanitizer watch for leaks there.)
        payload = Payload()
        warmups, rounds, calls = 3, 5, support.scale(200, 20)
        growth = []
        for _ in range(warmups + rounds):
            gc.collect()
            before = sys.getallocatedblocks()
            for _ in range(calls):
                self.workload(payload)
            gc.collect()
            growth.append(sys.getallocatedblocks() - before)
            if len(growth) == warmups:
                refs = sys.getrefcount(payload)
        growth = growth[warmups:]
        self.assertLess(min(growth), calls // 2,
                        "memory blocks grew in every round by at least "
                        "%d (half the %d calls of a round): %s"
                        % (calls // 2, calls, growth))
        self.assertEqual(sys.getrefcount(payload), refs)
        self.assertCounters()


class TestCapi(MemoryContract, support.Road):
    stage, module = "04", "memory_capi"
    wrong_pointer_tail = "PyCapsule 'datetime.datetime_CAPI'"

    def wrong_pointer(self):
        import datetime
        return datetime.datetime_CAPI   # a capsule, but not one of ours

    def test_handle_is_a_named_capsule(self):
        person = self.mod.person_new(170, 30)
        self.assertEqual(type(person).__name__, "PyCapsule")
        self.assertIn('"memory_capi.Person"', repr(person))
        self.mod.person_free(person)
        self.assertIn('"memory_capi.Person (released)"', repr(person))

    def test_memoryview_of_block_directly(self):
        block = self.mod.Block(3)
        with memoryview(block) as view:
            self.assertEqual(block.exports, 1)
            view[0] = 1
        self.assertEqual(block.exports, 0)
        self.assertEqual(bytes(block), b"\x01\0\0")
        block.close()
        with self.assertRaisesRegex(ValueError, "the Block is closed"):
            memoryview(block)

    def test_subinterpreter_leaves_main_alone(self):
        # On 3.10 and 3.11 every interpreter shares one GIL: memory_capi
        # loads in a subinterpreter, with a module object of its own.  From
        # 3.12 these subinterpreters have a GIL of their own, and memory_lib's
        # counters are unsynchronised globals: the module says so, and the
        # import is refused.  Either way the main interpreter's registry and
        # objects are left as they were.
        out = self.run_child("""
            payload = Payload()
            slot = first.registry_put(payload)
            person = first.Person(170, 30)
            code = %r %% support.stage_path("04")
            print("subinterpreter:", support.run_in_subinterpreter(code))
            gc.collect()
            check(first.counters(), {"allocations": 1, "persons": 1,
                                     "blocks": 0, "registry": 1},
                  "main interpreter")
            check(first.registry_get(slot), payload, "registry_get")
            check(person.birthday(), 31, "Person.birthday()")
        """ % SUBINTERPRETER)
        if sys.version_info >= (3, 12):
            outcome = ("ImportError: module memory_capi does not support "
                       "loading in subinterpreters")
        else:
            outcome = "None"
        self.assertIn("subinterpreter: %s\n" % outcome, out)


@unittest.skipUnless(support.have_cffi(), support.CFFI_MISSING)
class TestCffi(MemoryContract, support.Road):
    stage, module = "04", "memory_cffi"
    wrong_pointer_tail = "cdata 'struct Person \\*'"

    def wrong_pointer(self):
        # The right C type, the wrong allocator: cffi owns this memory, so
        # person_free() must never see it.
        return self.mod._ffi.new("Person *")

    def test_handle_is_not_a_raw_pointer(self):
        person = self.mod.person_new(170, 30)
        self.assertIn("Person handle at 0x", repr(person))
        self.mod.person_free(person)
        self.assertIn("Person handle released", repr(person))


class ThreadsContract:
    """Several threads on one module at once.  On the cffi road every C
    call runs without the GIL, so these are races for real; on road 1 the
    GIL serialises the C calls and the same tests must pass too."""

    def run_threads(self, target, count=4):
        errors = []

        def guarded(index):
            try:
                target(index)
            except BaseException as exc:    # re-raised in the test
                errors.append(exc)

        threads = [threading.Thread(target=guarded, args=(i,))
                   for i in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]

    def test_counters_stay_exact_under_threads(self):
        before = self.mod.counters()
        rounds = support.scale(20000, 500)

        def churn(index):
            for _ in range(rounds):
                self.mod.person_free(self.mod.person_new(170, index))

        self.run_threads(churn)
        self.assertEqual(self.mod.counters(), before)

    def test_registry_from_threads_gives_back_what_was_put(self):
        rounds = support.scale(3000, 100)

        def cycle(index):
            for i in range(rounds):
                payload = (index, i)
                slot = self.mod.registry_put(payload)
                self.assertIs(self.mod.registry_get(slot), payload)
                self.assertIs(self.mod.registry_take(slot), payload)

        before = self.mod.counters()["registry"]
        self.run_threads(cycle)
        self.assertEqual(self.mod.counters()["registry"], before)

    def test_view_races_resize_and_close_safely(self):
        rounds = support.scale(3000, 100)
        for _ in range(support.scale(20, 2)):
            block = self.mod.Block(64)
            stop = threading.Event()

            def viewer(index):
                while not stop.is_set():
                    try:
                        with block.view() as view:
                            view[0] = 1         # the memory is still ours
                            view[len(view) - 1] = 2
                    except ValueError:          # closed: the race is over
                        return

            def resizer(index):
                try:
                    for i in range(rounds):
                        try:
                            block.resize(64 + i % 64)
                        except BufferError:
                            pass
                    while True:
                        try:
                            block.close()
                            return
                        except BufferError:
                            pass
                finally:
                    stop.set()

            self.run_threads(lambda i: (resizer if i == 0 else viewer)(i),
                             count=3)
            self.assertTrue(block.closed)


class TestCapiThreads(ThreadsContract, support.Road):
    stage, module = "04", "memory_capi"




@unittest.skipUnless(support.have_cffi(), support.CFFI_MISSING)
class TestCffiThreads(ThreadsContract, support.Road):
    stage, module = "04", "memory_cffi"

    def test_an_exception_between_any_two_lines_leaves_no_dead_handle(self):
        # A signal handler's exception (Ctrl-C) can surface between two
        # lines of Python.  Raise one at every line of registry_put and
        # registry_take in turn (through a trace function), then read every
        # slot: a handle that C holds but Python dropped would stop the
        # process in ffi.from_handle ("points to garbage").
        code = support.interrupt_at_code("memory_cffi") + textwrap.dedent("""
            interrupted = 0
            for n in range(1, 25):
                for call in (lambda: m.registry_put([n]),
                             lambda: m.registry_take(0)):
                    sys.settrace(interrupt_at(n, "line", KeyboardInterrupt))
                    try:
                        call()
                    except KeyboardInterrupt:
                        interrupted += 1
                    except LookupError:
                        pass
                    finally:
                        sys.settrace(None)
            # Reuse freed memory, so that a dead handle is seen as one.
            junk = [m.Block(0) for _ in range(20000)]
            seen = {}
            for slot in range(m.REGISTRY_SLOTS):
                try:
                    obj = m.registry_get(slot)
                except LookupError:
                    continue
                assert type(obj) is list, "slot %d: %r" % (slot, type(obj))
                # A dead handle's memory is soon a new handle: its slot
                # then shows another slot's object.
                assert id(obj) not in seen, "slots %d and %d: one object" % (
                    seen[id(obj)], slot)
                seen[id(obj)] = slot
            print(interrupted)
            """)
        proc = support.run_python(code, stage="04")
        self.assertEqual(proc.returncode, 0, "%s\n%s" % (
            support.describe_exit(proc.returncode), proc.stderr[-2000:]))
        self.assertGreater(int(proc.stdout), 10)    # it did interrupt

    def test_an_exception_at_any_bytecode_of_a_constructor_leaks_nothing(self):
        # Between a C allocation and the cdata that owns it, a signal
        # handler's exception would drop the pointer.  Raise one before
        # each bytecode of this module's Python in turn (more places than
        # CPython runs handlers at) while it makes a Person or a Block,
        # then count what C still has allocated.
        code = support.interrupt_at_code("memory_cffi") + textwrap.dedent("""
            for make in (lambda: m.person_new(170, 30),
                         lambda: m.Person(170, 30),
                         lambda: m.Block(16)):
                interrupt_each_bytecode(
                    make, lambda: m.counters()["allocations"])
            """)
        proc = support.run_python(code, stage="04")
        self.assertEqual(proc.returncode, 0, "%s\n%s" % (
            support.describe_exit(proc.returncode), proc.stderr[-2000:]))

    def test_a_person_freed_by_another_thread_mid_call_is_not_used(self):
        # Python may switch threads between any two bytecodes.  Another
        # thread's free between "is this Person live?" and the use of its
        # pointer would be a use after free.  So before each bytecode of
        # each use in turn, a thread frees the Person (and gets 50 ms to
        # do it).  Its free poisons the fields and keeps the memory, so
        # that a read after it shows on any allocator, and a write after
        # it breaks nothing else.
        code = textwrap.dedent("""
            import sys, threading
            import memory_cffi as m

            POISON = 0xDEAD
            real_ffi, kept = m._ffi, []

            class PoisoningFFI:
                def __getattr__(self, name):
                    return getattr(real_ffi, name)

                def release(self, cdata):
                    if real_ffi.typeof(cdata) is real_ffi.typeof("Person *"):
                        cdata.height_cm = cdata.age = POISON
                        kept.append(cdata)      # freed for real at exit
                    else:
                        real_ffi.release(cdata)

            m._ffi = PoisoningFFI()

            def at_opcode(n, action):
                seen = [0]
                def local(frame, event, arg):
                    if event == "opcode":
                        seen[0] += 1
                        if seen[0] == n:
                            action()
                    return local
                def tracer(frame, event, arg):
                    if frame.f_code.co_filename != m.__file__:
                        return None
                    frame.f_trace_opcodes = True
                    return local
                return tracer

            def handle():
                h = m.person_new(170, 30)
                return h, h, lambda: m.person_free(h)

            def person():
                p = m.Person(170, 30)
                return p, p, p.close

            USES = {  # the use: (what makes it, the use, what it may return)
                "person_get(h)": (handle, lambda h: m.person_get(h), (170, 30)),
                "person_birthday(h)": (handle, m.person_birthday, 31),
                "Person.age": (person, lambda p: p.age, 30),
                "Person.height_cm": (person, lambda p: p.height_cm, 170),
                "Person.birthday()": (person, lambda p: p.birthday(), 31),
            }
            freed_first = 0
            for name, (make, use, right) in USES.items():
                obj, _, free = make()
                sys.settrace(at_opcode(0, None))    # 3.12+: warm up
                use(obj)
                sys.settrace(None)
                for n in range(1, 500):
                    obj, _, free = make()
                    freer = threading.Thread(target=free)
                    def start():
                        freer.start()
                        freer.join(0.02)
                    sys.settrace(at_opcode(n, start))
                    try:
                        got = use(obj)
                    except Exception as exc:
                        got = exc
                    finally:
                        sys.settrace(None)
                    if freer.ident is None:
                        break                   # fewer than n bytecodes
                    freer.join()
                    if type(got) is ValueError and (
                            "released" in str(got) or "closed" in str(got)):
                        freed_first += 1        # refused: fine
                        continue
                    assert got == right, (
                        "a thread freed the Person before bytecode %d of "
                        "%s, and the use went on: it gave %r, not %r"
                        % (n, name, got, right))
            assert freed_first > 0, "no free came before a use"
            print(freed_first)
            """)
        proc = support.run_python(code, stage="04")
        self.assertEqual(proc.returncode, 0, "%s\n%s" % (
            support.describe_exit(proc.returncode), proc.stderr[-2000:]))


# --- the exercise: make check-4 ----------------------------------------------
# The checks of the three parts of exercise/memory_capi.c, in part order
# (exercise/hints.txt has one hint for each).  A mistake in these bodies
# can free memory that is still in use, so each check looks first at what
# is safe to look at (a reference count, a capsule's name, a view's size)
# and stops with a message naming the function before anything touches
# memory that the mistake may have freed.  What a wrong body may have left
# dangling is kept alive here, for good, so that nothing reads freed memory.
_KEPT_FOR_C = []


class TestExercise(support.Road):
    stage, module = "04", "memory_capi"

    def tearDown(self):
        self.mod.fail_allocation(0)
        for slot in range(self.mod.REGISTRY_SLOTS):
            try:
                obj = self.mod.registry_get(slot)
            except LookupError:
                continue
            if not any(obj is kept for kept in _KEPT_FOR_C):
                del obj
                self.mod.registry_take(slot)
        gc.collect()

    def assertCounters(self, what, **expected):
        gc.collect()
        got, want = self.mod.counters(), dict(ZERO, **expected)
        if got != want:
            self.fail("%s: C's live counters are %s, expected %s" % (
                what, " ".join("%s=%d" % kv for kv in got.items()),
                " ".join("%s=%d" % kv for kv in want.items())))

    def refs(self, obj):
        return sys.getrefcount(obj)

    # --- part 1: person_release() ------------------------------------------

    def release(self, person, func="person_free"):
        """person_free(person), checked: afterwards the capsule must be
        marked released, or dropping it would free the Person again."""
        self.assertIsNone(self.mod.person_free(person))
        if "(released)" not in repr(person):
            _KEPT_FOR_C.append(person)
            self.fail("person_release(): after %s() the capsule must be "
                      "marked released (renamed RELEASED_CAPSULE), or its "
                      "destructor frees the Person a second time: %r"
                      % (func, person))

    def test_part1_person_free_frees_now(self):
        person = self.mod.person_new(170, 30)
        self.release(person)
        self.assertCounters("person_release(): person_free() must give the "
                            "Person back to C at once")
        reports = []
        hook, sys.unraisablehook = sys.unraisablehook, reports.append
        try:
            del person              # the destructor must not run any more
            gc.collect()
        finally:
            sys.unraisablehook = hook
        if reports:
            self.fail("person_release(): the capsule's destructor still ran "
                      "when the released capsule was dropped (%s: %s)" % (
                          reports[0].exc_type.__name__, reports[0].exc_value))
        self.assertCounters("person_release(): dropping a released capsule "
                            "must not free its Person again")

    def test_part1_double_release_raises(self):
        person = self.mod.person_new(170, 30)
        self.release(person)
        with self.assertRaisesRegex(
                ValueError,
                r"^person_free\(\): the Person was already released$",
                msg="person_release(): a second release must raise"):
            self.mod.person_free(person)
        self.assertCounters("person_release()")

    def test_part1_use_after_release_raises(self):
        person = self.mod.person_new(170, 30)
        self.release(person)
        for call, name in ((self.mod.person_get, "person_get"),
                           (self.mod.person_birthday, "person_birthday")):
            with self.assertRaisesRegex(
                    ValueError, r"^%s\(\): the Person was already released$"
                    % name, msg="person_release(): a released capsule must "
                    "be refused by %s()" % name):
                call(person)

    def test_part1_close_and_with(self):
        with self.mod.Person(180, 40) as person:
            self.assertEqual(person.age, 40)
        self.assertTrue(person.closed)
        self.assertCounters("person_release(): the end of `with` must free "
                            "the Person")
        person.close()              # closing again is allowed, like files
        person = self.mod.Person(180, 40)
        person.close()
        self.assertCounters("person_release(): close() must free the Person")

    def test_part1_no_reference_leaked(self):
        person = self.mod.person_new(170, 30)
        before = self.refs(person)
        self.release(person)
        self.assertEqual(self.refs(person) - before, 0,
                         "person_release() leaked a reference to the capsule")

    # --- part 2: Block_getbuffer() -----------------------------------------

    def view_of(self, block):
        """block.view(), checked: its size must be the Block's, and it
        must hold a reference to the Block (view->obj)."""
        before = self.refs(block)
        view = block.view()
        if view.nbytes != block.size:
            _KEPT_FOR_C.append((block, view))
            self.fail("Block_getbuffer(): a view of a %d-byte Block has %d "
                      "bytes: it must cover the C memory exactly, no byte "
                      "more" % (block.size, view.nbytes))
        if self.refs(block) - before < 1:
            _KEPT_FOR_C.append((block, view))
            self.fail("Block_getbuffer(): a view must hold a reference to "
                      "its Block (view->obj), or the Block and its C memory "
                      "can be freed while the view still points at them")
        return view

    def test_part2_view_covers_exactly_the_block(self):
        for size in (0, 1, 7, 64):
            with self.subTest(size=size):
                block = self.mod.Block(size)
                view = self.view_of(block)
                self.assertEqual((view.format, view.itemsize, view.ndim,
                                  view.shape, view.readonly),
                                 ("B", 1, 1, (size,), False),
                                 "Block_getbuffer(): a writable view of "
                                 "unsigned bytes, one dimension")
                self.assertEqual(bytes(view), bytes(size))
                if size:
                    view[0], view[size - 1] = 1, 2
                    other = self.view_of(block)
                    self.assertEqual((other[0], other[size - 1]),
                                     (1, 2) if size > 1 else (2, 2))
                    other.release()
                view.release()
                block.close()
        self.assertCounters("Block_getbuffer()")

    def test_part2_view_holds_its_block(self):
        block = self.mod.Block(8)
        view = self.view_of(block)
        view[0] = 7
        del block
        self.assertCounters("Block_getbuffer(): the view must keep the "
                            "Block alive", allocations=2, blocks=1)
        tail = view[4:]                 # a slice keeps it alive too
        view.release()
        self.assertEqual(len(tail), 4)
        del tail                        # the last export: C frees it now
        self.assertCounters("Block_getbuffer(): the last view gone, the "
                            "Block must be freed")

    def test_part2_views_share_the_memory(self):
        block = self.mod.Block(16)
        first, second = self.view_of(block), self.view_of(block)
        first[2:5] = b"xyz"
        self.assertEqual(bytes(second[:6]), b"\0\0xyz\0",
                         "Block_getbuffer(): every view must show the "
                         "Block's own C memory, not a copy")
        first.release()
        second.release()

    def test_part2_exports_are_counted(self):
        block = self.mod.Block(8)
        view = self.view_of(block)
        self.assertEqual(block.exports, 1,
                         "Block_getbuffer() must count each view it hands out")
        part = view[2:4]
        view.release()                  # the slice still holds the export
        with self.assertRaisesRegex(BufferError, r"^resize\(\): cannot "
                                    r"resize a Block while 1 memoryview",
                                    msg="Block_getbuffer(): while a view "
                                    "exists, resize() must be refused"):
            block.resize(16)
        with self.assertRaisesRegex(BufferError, r"^close\(\): cannot free",
                                    msg="Block_getbuffer(): while a view "
                                    "exists, close() must be refused"):
            block.close()
        part.release()
        self.assertEqual(block.exports, 0)
        block.resize(16)
        block.close()
        self.assertCounters("Block_getbuffer()")

    def test_part2_closed_block_raises(self):
        block = self.mod.Block(4)
        block.close()
        with self.assertRaisesRegex(ValueError, r"^memoryview\(\): the Block "
                                    r"is closed$", msg="Block_getbuffer(): "
                                    "a closed Block has no memory to lend"):
            block.view()
        self.assertEqual(block.exports, 0)
        self.assertCounters("Block_getbuffer()")

    def test_part2_no_reference_leaked(self):
        block = self.mod.Block(8)
        before = self.refs(block)
        for _ in range(20):
            self.view_of(block).release()
        self.assertEqual(self.refs(block) - before, 0,
                         "Block_getbuffer() leaked a reference to the Block "
                         "(20 views made and released)")
        self.assertEqual(block.exports, 0)
        block.close()
        del block
        self.assertCounters("Block_getbuffer()")

    # --- part 3: memory_registry_put() -------------------------------------

    def put(self, obj):
        """registry_put(obj), checked: C must own a reference of its own."""
        before = self.refs(obj)
        slot = self.mod.registry_put(obj)
        taken = self.refs(obj) - before
        if taken < 1:
            _KEPT_FOR_C.append(obj)     # C's pointer must stay valid
            self.fail("registry_put() stored a borrowed reference: C keeps "
                      "the object after the call returns, so it must own a "
                      "reference of its own (refcount %+d, expected +1)"
                      % taken)
        return slot

    def test_part3_registry_takes_a_strong_reference(self):
        payload = Payload()
        before = self.refs(payload)
        slot = self.put(payload)
        self.assertEqual(self.refs(payload) - before, 1,
                         "registry_put() must take exactly one reference")
        self.assertIs(self.mod.registry_get(slot), payload)
        self.assertIs(self.mod.registry_take(slot), payload)
        self.assertEqual(self.refs(payload), before)

    def test_part3_registry_keeps_object_alive(self):
        payload = Payload()
        alive = weakref.ref(payload)
        slot = self.put(payload)
        del payload
        gc.collect()
        self.assertIsNotNone(alive(), "registry_put(): C's reference must "
                             "keep the object alive")
        self.assertIs(self.mod.registry_take(slot), alive())
        gc.collect()
        self.assertIsNone(alive(), "registry_put() leaked a reference: the "
                          "object outlived its registry slot")

    def test_part3_registry_full(self):
        payload = Payload()
        before = self.refs(payload)
        slots = [self.put(payload) for _ in range(self.mod.REGISTRY_SLOTS)]
        self.assertEqual(sorted(slots), list(range(self.mod.REGISTRY_SLOTS)))
        with self.assertRaisesRegex(RuntimeError, r"^registry_put\(\): the "
                                    r"registry is full \(8 slots\): take "
                                    r"something out first$"):
            self.mod.registry_put(payload)
        self.assertEqual(self.refs(payload) - before,
                         self.mod.REGISTRY_SLOTS,
                         "registry_put() leaked a reference when the registry "
                         "was full: a reference not stored must be given back")
        for slot in slots:
            self.mod.registry_take(slot)
        self.assertCounters("registry_put()")

    def test_part3_no_reference_leaked(self):
        payload = Payload()
        before = self.refs(payload)
        for _ in range(20):
            self.mod.registry_take(self.put(payload))
        self.assertEqual(self.refs(payload) - before, 0,
                         "registry_put() leaked a reference to its argument "
                         "(20 puts, each taken back)")
        self.assertCounters("registry_put()")


EXERCISE = ["TestExercise"]


# --- the differential tests (tests/harness/differential.py) ----------------

def differential(d):
    """What tests/harness/differential.py runs on this stage: a program of
    calls on both roads at once (memory_machine below), compared step by
    step."""
    def test_calls_in_any_order(self):
        """Person, handles, Block, views, registry: any sequence of calls,
        the same outcomes"""
        d.run_machine(self, memory_machine(d))
    return {"stateful": [test_calls_in_any_order]}


class Token:
    """What the registry holds: equal across roads when made equal."""

    def __init__(self, number):
        self.number = number

    def __eq__(self, other):
        return isinstance(other, Token) and other.number == self.number

    def __hash__(self):
        return self.number

    def __repr__(self):
        return "Token(%d)" % self.number


def memory_machine(d):
    """The state machine of the differential tests (d:
    tests/harness/differential.py): Person, handles, Block, views and the
    registry, used in any order on both roads, the counters compared after
    each step."""
    st, s = d.st, d.strategies()
    u32 = s.field(2**32 - 1)
    sizes = st.one_of(st.integers(0, 64), st.sampled_from(
        [-1, 1 << 24, (1 << 24) + 1, 2**63]), s.wrong)
    slots = st.one_of(st.integers(0, 7), s.int_or_wrong)

    class MemoryMachine(d.RoadsMachine):
        handles = d.Bundle("handles")
        persons = d.Bundle("persons")
        blocks = d.Bundle("blocks")
        views = d.Bundle("views")

        def __init__(self):
            super().__init__()
            for mod in (self.one, self.two):
                mod.fail_allocation(0)
                for slot in range(mod.REGISTRY_SLOTS):
                    try:
                        mod.registry_take(slot)
                    except LookupError:
                        pass
            gc.collect()
            self.start = [self.one.counters(), self.two.counters()]
            self.made_pairs = []

        # Every program starts with one of each, so that a few short
        # programs already use them.
        @d.initialize(target=handles)
        def first_handle(self):
            return self.made("person_new(180, 41)",
                             lambda i, m: m.person_new(180, 41), "handle")

        @d.initialize(target=persons)
        def first_person(self):
            return self.made("Person(170, 40)",
                             lambda i, m: m.Person(170, 40), "person")

        @d.initialize(target=blocks)
        def first_block(self):
            return self.made("Block(16)", lambda i, m: m.Block(16), "block")

        @d.rule(target=handles, height=u32, age=u32)
        def person_new(self, height, age):
            return self.made("person_new(%r, %r)" % (height, age),
                             lambda i, m: m.person_new(height, age),
                             "handle")

        @d.rule(handle=st.one_of(handles, s.anything),
              func=st.sampled_from(["person_get", "person_birthday",
                                    "person_free"]))
        def handle_call(self, handle, func):
            self.both("%s(%r)" % (func, handle), lambda i, m: getattr(
                m, func)(handle[i] if isinstance(handle, Pair)
                         else d.fresh(handle)))

        @d.rule(target=persons, height=u32, age=u32)
        def person(self, height, age):
            return self.made("Person(%r, %r)" % (height, age),
                             lambda i, m: m.Person(height, age), "person")

        @d.rule(person=persons, name=st.sampled_from(
            ["height_cm", "age", "closed", "birthday()", "close()",
             "with"]))
        def person_use(self, person, name):
            def use(i, m):
                if name == "with":
                    with person[i] as inside:
                        return inside is person[i]
                if name.endswith("()"):
                    return getattr(person[i], name[:-2])()
                return getattr(person[i], name)
            self.both("Person.%s" % name, use)

        @d.rule(target=blocks, size=sizes)
        def block(self, size):
            return self.made("Block(%r)" % (size,),
                             lambda i, m: m.Block(d.fresh(size)), "block")

        @d.rule(block=blocks, name=st.sampled_from(
            ["size", "closed", "exports", "close()"]))
        def block_use(self, block, name):
            self.both("Block.%s" % name, lambda i, m: (
                getattr(block[i], name[:-2])() if name.endswith("()")
                else getattr(block[i], name)))

        @d.rule(block=blocks, size=sizes)
        def resize(self, block, size):
            self.both("Block.resize(%r)" % (size,),
                      lambda i, m: block[i].resize(d.fresh(size)))

        @d.rule(target=views, block=blocks)
        def view(self, block):
            return self.made("Block.view()", lambda i, m: block[i].view(),
                             "view")

        @d.rule(view=views, start=st.integers(-3, 70),
              data=st.binary(max_size=8))
        def write(self, view, start, data):
            def write(i, m):
                view[i][start:start + len(data)] = data
            self.both("view[%d:] = %r" % (start, data), write)

        @d.rule(view=views)
        def read(self, view):
            self.both("the view", lambda i, m: (
                view[i].format, view[i].itemsize, view[i].readonly,
                view[i].shape, view[i].tobytes()))

        @d.rule(view=views)
        def release(self, view):
            self.both("view.release()", lambda i, m: view[i].release())

        @d.rule(number=st.integers(0, 20))
        def registry_put(self, number):
            self.both("registry_put(Token(%d))" % number,
                      lambda i, m: m.registry_put(Token(number)))

        @d.rule(slot=slots, func=st.sampled_from(["registry_get",
                                                "registry_take"]))
        def registry_read(self, slot, func):
            self.both("%s(%r)" % (func, slot),
                      lambda i, m: getattr(m, func)(d.fresh(slot)))

        @d.rule(nth=st.one_of(st.integers(0, 4), s.int_or_wrong))
        def fail_allocation(self, nth):
            self.both("fail_allocation(%r)" % (nth,),
                      lambda i, m: m.fail_allocation(d.fresh(nth)))

        @d.invariant()
        def counters_agree(self):
            def delta(i, m):
                now = m.counters()
                return {k: now[k] - self.start[i][k] for k in now}
            self.both("counters() since the start", delta)

        def teardown(self):
            """The end of every program: each object used once more, then
            closed or freed, twice, then used after that."""
            try:
                self.both("fail_allocation(0)",
                          lambda i, m: m.fail_allocation(0))
                for kind, steps in self.EPILOGUE:
                    for pair in self.made_pairs:
                        if pair.kind == kind:
                            for step in steps:
                                self.both("%s %s at the end" % (kind, step),
                                          lambda i, m: self.step(
                                              m, pair[i], step))
                self.counters_agree()
            finally:
                for mod in (self.one, self.two):
                    mod.fail_allocation(0)

        EPILOGUE = [
            # resize('x'): road 1 once said "closed" or "memoryview(s)
            # exist" before it looked at the argument.
            ("block", ["size", "exports", "close()", "resize(3)",
                       "resize('x')"]),
            ("view", ["read", "release()", "read"]),
            ("block", ["close()", "close()", "size", "view()",
                       "resize(3)", "resize('x')", "closed"]),
            ("person", ["age", "birthday()", "close()", "close()", "age",
                        "height_cm", "birthday()", "closed"]),
            ("handle", ["person_get", "person_birthday", "person_free",
                        "person_free", "person_get", "person_birthday"]),
        ]

        @staticmethod
        def step(mod, obj, step):
            if step == "read":
                return (obj.format, obj.readonly, obj.tobytes())
            if step.startswith("person_"):
                return getattr(mod, step)(obj)
            if step.startswith("resize("):
                return obj.resize({"resize(3)": 3, "resize('x')": "x"}[step])
            if step.endswith("()"):
                return getattr(obj, step[:-2])()
            return getattr(obj, step)

    return MemoryMachine


# The mistakes `make check-4` must catch in this stage's exercise: each
# is an edit of the reference, with the words one of the checker's hints
# must print (tests/test_gate_exercises.py makes each edit and runs the
# checker; its top explains the form).
MUTANTS = r"""
@@ stage 4, part 1: destructor not disarmed (double free)
hint: PyCapsule_SetDestructor
-    if (PyCapsule_SetDestructor(capsule, NULL) < 0
-        || PyCapsule_SetName(capsule, RELEASED_CAPSULE) < 0) {
+    if (PyCapsule_SetName(capsule, RELEASED_CAPSULE) < 0) {
@@ stage 4, part 1: C-heap leak (free forgotten)
hint: person_free
-    person_free(person);
     return 0;
     /* [stub]
@@ stage 4, part 1: error status ignored
hint: person_arg
     Person *person = person_arg(capsule, func);
-    if (person == NULL) {
-        return -1;
-    }
@@ stage 4, part 2: export not counted
hint: exports
-    self->exports++;
     return 0;
     /* [stub]
@@ stage 4, part 2: borrowed reference (the view holds no reference)
hint: op as its obj argument
hint: view->obj
-    if (PyBuffer_FillInfo(view, op, self->block->data,
+    if (PyBuffer_FillInfo(view, NULL, self->block->data,
@@ stage 4, part 2: error status ignored (closed Block)
hint: self->block (NULL once closed)
-    if (self->block == NULL) {
+    if (0 && self->block == NULL) {
         PyErr_SetString(PyExc_ValueError, "memoryview(): the Block is closed");
@@ stage 4, part 3: borrowed reference stored
hint: Py_NewRef
-    int slot = registry_put(registry, Py_NewRef(obj));
+    int slot = registry_put(registry, obj);
@@ stage 4, part 3: reference leak (when full)
hint: Py_DECREF
-        Py_DECREF(obj);         /* not stored: give our reference back */
@@ stage 4, part 3: error status ignored (registry full)
hint: returns -1 when full
-    if (slot < 0) {
+    if (slot < -1) {
         Py_DECREF(obj);         /* not stored: give our reference back */
"""


if __name__ == "__main__":
    unittest.main()
