"""Child process of the stateful sweep (tests/test_gate_stateful.py).

    python3 stateful_child.py STAGE MODULE

The hostile-input sweep calls each callable once.  This one keeps state
and races it, for one public module, everything discovered as api.py
discovers it:

1. gather: every public callable is called with plausible arguments
   (api.plausible_args), and every object of the module's own types that
   comes back is kept, as are the objects those objects' methods return;
2. race: THREADS threads, the main one among them, call the module's
   callables and those objects' methods at random with plausible
   arguments, for a fixed number of rounds.  Among the arguments is a
   callable that re-enters the module (calls another of its operations),
   and meanwhile another thread sends the main thread signals whose handler
   raises api.HostileSignal, so exceptions appear at any point;
3. fork: while the race is running, the main thread forks; the child makes
   new objects and calls their methods, then exits.  It must not hang.

Before the race, three attacks on state that a program can make without
threads, each a class of bug found in this project:

* copies: every object is copied (copy.copy, copy.deepcopy, a pickle
  round trip).  A copy that is made joins the race, and is first used up
  (every method, close() among them) and dropped before the original is
  used again: a copy that shares its original's C memory frees it under
  the original, which the memory gates see;
* __init__ again: `type(obj).__init__(obj, ...)` runs again and again on
  every object while another thread uses it, and is among the operations
  of the race too;
* a list changed between two bytecodes: every call that takes a list is
  made again and again with a big list, and before the 1st, 2nd, ...
  bytecode of the module's own Python code, the list gets an item at its
  front whose conversion empties it (what another thread could do at
  that moment).  C must read a list nobody else can change: one that
  reads the caller's list reads its freed items (a crash; a report under
  the memory gates).

Each call must return or raise an Exception with a message (api.
describe_exception); a crash, a hang or a SystemError is a problem.  The
child prints one line per problem, "PROBLEM <what>", then "END <calls>",
and exits 0; the parent judges the lines and the exit status.
"""
import copy
import functools
import gc
import os
import pickle
import random
import signal
import sys
import threading
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import api  # noqa: E402

THREADS = 4
SMALL = bool(os.environ.get("FFI_SMALL"))
ROUNDS = 100 if SMALL else 2000          # calls per thread
FORK_SECONDS = 60 if SMALL else 20      # how long a forked child may take
# Under the sanitize gate the fork step is left out.  AddressSanitizer
# takes its allocator's locks around fork() only from LLVM 18 on (its
# pthread_atfork handlers); the libasan of GCC 12 and clang 14 has none,
# so a child forked while another thread is inside malloc() waits for
# ever on a lock nobody will release: the tool's limit, not the module's.
# The plain run of this sweep (make gates) and memcheck fork as usual.
FORK_SKIPPED = (os.environ.get("FFI_GATE") == "sanitize"
                and "fork during the race: not under AddressSanitizer "
                    "before LLVM 18 (no pthread_atfork in its allocator)")
# The list the between-bytecodes attack changes: big enough that its item
# array is memory of its own (mmap), given back to the system when the
# list is emptied, so that reading it afterwards crashes even without a
# memory gate.
VICTIM_ITEMS = 2000 if SMALL else 20000
MAX_BYTECODES = 400                     # per call, for that attack
MIDWAY_SECONDS = 2                      # and at most this long per call
INIT_ROUNDS = 5 if SMALL else 20        # __init__ again, on a busy object
# Not called in a forked child, each for a reason outside this project:
# a callback from a thread that C starts goes through cffi's own
# bookkeeping of such threads, whose lock cffi does not reset after fork().
# A fork while another thread held it (a C thread ending, say) leaves the
# child's next such callback waiting for ever (chapter 01, step 8).  The
# parent's race still calls these.
NOT_AFTER_FORK = {("extern_cffi", "call_on_thread"),
                  ("extern_abi", "call_on_thread")}


class Stateful:
    def __init__(self, module):
        self.module = module
        self.functions = [obj for _, obj in api.public_callables(module)]
        self.objects = []               # instances of the module's types
        self.ops = []                   # (callable, [argument tuples])
        self.problems = []
        self.calls = 0
        self.lock = threading.Lock()
        self.local = threading.local()
        self.armed = False

    # --- one call, judged -------------------------------------------------
    def call(self, func, args):
        with self.lock:
            self.calls += 1
        main = threading.current_thread() is threading.main_thread()
        try:
            # The signal handler raises only while the main thread is in
            # a call (armed), never in the sweep's own bookkeeping.
            if main:
                self.armed = True
            try:
                result = func(*args)
            finally:
                if main:
                    self.armed = False
        except api.HostileSignal:
            return None
        except BaseException as exc:    # noqa: B902 - judged, not hidden
            problem = api.describe_exception(exc)
            if problem and not isinstance(exc, api.HostileSignal):
                self.problem("%s%r: %s" % (getattr(func, "__qualname__",
                                                   func), args, problem))
            return None
        self.keep(result)
        return result

    def problem(self, text):
        with self.lock:
            if text not in self.problems:
                self.problems.append(text)

    def keep(self, result):
        kind = type(result)
        if getattr(kind, "__module__", None) == self.module.__name__:
            with self.lock:
                if len(self.objects) < 64:
                    self.objects.append(result)

    def methods(self, obj):
        """(callable, [argument tuples]) for every public method of obj,
        and for calling its __init__ again."""
        ops = []
        init = functools.partial(type(obj).__init__, obj)
        ops.append((init, api.plausible_args(init, self.reenter)))
        for attr in sorted(dir(type(obj))):
            if attr.startswith("_"):
                continue
            try:
                method = getattr(obj, attr)
            except Exception:
                continue
            if callable(method) and not isinstance(method, type):
                ops.append((method, api.plausible_args(method,
                                                       self.reenter)))
        return [(f, a) for f, a in ops if a]

    def operations(self):
        """(callable, [argument tuples]) for every function and every
        public method of every kept object."""
        ops = [(func, api.plausible_args(func, self.reenter))
               for func in self.functions]
        for obj in list(self.objects):
            ops.extend(self.methods(obj))
        return [(f, a) for f, a in ops if a]

    def reenter(self, *args, **kwargs):
        """A callback that calls back into the module, two levels deep at
        most."""
        depth = getattr(self.local, "depth", 0)
        if depth >= 2 or not self.ops:
            return None
        self.local.depth = depth + 1
        try:
            func, arglist = random.choice(self.ops)
            self.call(func, random.choice(arglist))
        finally:
            self.local.depth = depth
        return None

    # --- the phases -------------------------------------------------------
    def gather(self):
        # With the re-entering callback too: a class may need one to be
        # made at all (a Logger takes a callable or nothing).  While
        # self.ops is empty it does nothing.
        self.ops = []
        for func in self.functions:
            for args in api.plausible_args(func, self.reenter):
                self.call(func, args)
        self.ops = self.operations()

    def use_up(self, obj):
        """Every operation of obj, with every plausible argument tuple."""
        for func, arglist in self.methods(obj):
            for args in arglist:
                self.call(func, args)

    def copies(self):
        """Copy every object every way; a copy that is made is used up
        and dropped, then its original is used, and a second copy joins
        the race."""
        copiers = [copy.copy, copy.deepcopy,
                   lambda obj: pickle.loads(pickle.dumps(obj))]
        for obj in list(self.objects):
            for copier in copiers:
                try:
                    twin = copier(obj)
                except Exception:       # noqa: B902 - refusing is fine
                    continue
                self.use_up(twin)
                del twin
                gc.collect()
                self.use_up(obj)
                try:
                    self.keep(copier(obj))
                except Exception:       # noqa: B902 - refusing is fine
                    pass
        self.ops = self.operations()

    def init_again_while_used(self):
        """__init__ again on each object, over and over, while another
        thread calls its other methods (not close(): it stays live)."""
        for obj in list(self.objects):
            ops = self.methods(obj)
            init, inits = ops[0]                # methods() puts it first
            used = [(f, a) for f, a in ops[1:]
                    if getattr(f, "__name__", "") != "close"]
            if not used:
                continue
            stop = threading.Event()

            def user():
                while not stop.is_set():
                    for func, arglist in used:
                        for args in arglist:
                            self.call(func, args)

            thread = threading.Thread(target=user)
            thread.start()
            try:
                for _ in range(INIT_ROUNDS):
                    for args in inits:
                        self.call(init, args)
            finally:
                stop.set()
                thread.join()

    def lists_changed_midway(self):
        """Each call that takes a list, with the list changed before the
        nth bytecode of the module's own Python code, n = 0, 1, 2, ..."""
        folder = os.path.dirname(os.path.abspath(
            getattr(self.module, "__file__", None) or "."))
        here = os.path.dirname(os.path.abspath(__file__))

        def ours(code):
            name = os.path.abspath(code.co_filename)
            return name.startswith(folder + os.sep) and \
                not name.startswith(here + os.sep)

        for func, arglist in self.ops:
            for args in arglist:
                where = [i for i, arg in enumerate(args)
                         if type(arg) is list]
                if not where:
                    continue
                # Once untraced first (3.12+ gives no opcode events the
                # first time a traced function runs).
                self.call(func, args)
                deadline = time.monotonic() + MIDWAY_SECONDS
                for n in range(MAX_BYTECODES):
                    if time.monotonic() > deadline:
                        break
                    victim = list(range(VICTIM_ITEMS))
                    seen = [0]

                    def local(frame, event, arg):
                        if seen[0] >= n:        # changed: trace no more
                            frame.f_trace_opcodes = False
                            return None
                        if event == "opcode":
                            seen[0] += 1
                            if seen[0] == n:
                                victim.insert(0, api.ClearsItsList(victim))
                        return local

                    def tracer(frame, event, arg):
                        if seen[0] >= n or not ours(frame.f_code):
                            return None
                        frame.f_trace_opcodes = True
                        return local

                    if n == 0:
                        victim.insert(0, api.ClearsItsList(victim))
                    call_args = tuple(victim if i in where else arg
                                      for i, arg in enumerate(args))
                    sys.settrace(tracer)
                    try:
                        self.call(func, call_args)
                    finally:
                        sys.settrace(None)
                    if seen[0] < n:
                        break

    def race(self, fork):
        stop = threading.Event()

        def worker(seed):
            rng = random.Random(seed)
            for _ in range(ROUNDS):
                func, arglist = rng.choice(self.ops)
                self.call(func, rng.choice(arglist))

        def signaller():
            main = threading.main_thread().ident
            while not stop.wait(0.002):
                signal.pthread_kill(main, signal.SIGUSR1)

        def on_signal(signum, frame):
            if self.armed and not stop.is_set():
                raise api.HostileSignal("signal %d" % signum)

        signal.signal(signal.SIGUSR1, on_signal)
        threads = [threading.Thread(target=worker, args=(seed,))
                   for seed in range(1, THREADS)]
        sender = threading.Thread(target=signaller)
        for thread in threads + [sender]:
            thread.start()
        try:
            worker(0)
            if fork:
                self.fork()
        finally:
            for thread in threads:
                thread.join()
            stop.set()
            sender.join()
            # The handler stays: now that `stop` is set it does nothing.
            # A signal sent just before may still be on its way (valgrind
            # delivers late), and the default action would end the process.

    def fork(self):
        """Fork while other threads are inside the module: the child must
        be able to make new objects and use them, and to exit."""
        if not hasattr(os, "fork"):
            return
        if FORK_SKIPPED:
            if not getattr(Stateful, "fork_skip_said", False):
                Stateful.fork_skip_said = True
                print("skipped: " + FORK_SKIPPED, flush=True)
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            try:
                pid = os.fork()
            except api.HostileSignal:
                return
        if pid == 0:                    # the child: no threads but this one
            try:
                signal.signal(signal.SIGUSR1, signal.SIG_IGN)
                child = Stateful(self.module)
                child.gather()
                module = self.module.__name__
                for func, arglist in child.ops:
                    if (module, getattr(func, "__name__", "")) in \
                            NOT_AFTER_FORK:
                        continue
                    for args in arglist:
                        child.call(func, args)
            finally:
                os._exit(0)
        deadline = time.monotonic() + FORK_SECONDS
        while True:
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except api.HostileSignal:
                continue
            if done:
                if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
                    self.problem("a child forked during the race died: "
                                 "status %d" % status)
                return
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                self.problem("a child forked during the race was still "
                             "running after %d s (a lock held by a thread "
                             "that does not exist in the child?)"
                             % FORK_SECONDS)
                return
            time.sleep(0.01)


def main():
    stage, name = sys.argv[1:3]
    module = api.import_public(stage, name)
    random.seed(12345)
    state = Stateful(module)
    state.gather()
    state.copies()
    state.init_again_while_used()
    state.lists_changed_midway()
    state.race(fork=True)
    problems, calls = state.problems, state.calls
    # Let go of every object the sweep made, and collect the cycles (the
    # re-entering callback refers back to the sweep): what a module's
    # objects own is then freed before exit, where the gates count leaks.
    state.objects.clear()
    state.ops = []
    del state
    gc.collect()
    for text in problems:
        print("PROBLEM " + text.replace("\n", "\\n"))
    print("END %d" % calls)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
