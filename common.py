"""common.py: the Python twin of common.h, what every stage's Python shares.

Road 1 checks its arguments with common.h's type_error(), int_in_range(),
uint_in_range() and check_exit_args().  Road 2 (cffi) checks them here,
with the same words, so that both roads raise the same exception with
the same message.  The tours (run.py) take road_2_missing() from here.
Each stage folder sees this file as `_common.py`, a symbolic link to
../common.py, in the way its C sees ../common.h: one file for every stage.
"""
import importlib.util
import operator
import sys


def type_error(what, expected, obj):
    """The TypeError "WHAT must be EXPECTED, not TYPE", to raise: the twin
    of type_error() in common.h.  `what` names the function and the
    argument ("add() argument 'a'"); TYPE is type(obj).__name__."""
    return TypeError("%s must be %s, not %s"
                     % (what, expected, type(obj).__name__))


# [excerpt: int_in_range]
def int_in_range(value, lo, hi, what):
    """`value` as a plain int from lo to hi, else TypeError or
    OverflowError naming `what`: the twin of int_in_range() in common.h.
    Use what it returns, never `value` itself.  type(), not isinstance():
    an object can claim to be an int through __class__.  operator.index()
    of an int subclass is a plain int of the same value, read without
    running any method of the subclass, so neither the check below nor
    any later use asks the argument's own <=, >= or + (which may lie)."""
    if not issubclass(type(value), int):
        raise type_error(what, "int", value)
    value = operator.index(value)
    if not lo <= value <= hi:
        raise OverflowError("%s must be in %d..%d" % (what, lo, hi))
    return value
# [/excerpt: int_in_range]


def uint_in_range(value, hi, what):
    """The same for an unsigned C type, from 0 to `hi`: the twin of
    uint_in_range() in common.h."""
    return int_in_range(value, 0, hi, what)


def check_exit_args(type_name, args):
    """Refuse an __exit__ call without exactly (exc_type, exc_value,
    traceback), which the `with` statement always passes: the twin of
    check_exit_args() in common.h, with the same words."""
    if len(args) != 3:
        raise TypeError("%s.__exit__() takes 3 arguments (exc_type, "
                        "exc_value, traceback), got %d"
                        % (type_name, len(args)))


def road_2_missing(exc=None):
    """Why road 2 cannot run, in the words every stage's tour uses: cffi
    is not installed, or `exc` (the ImportError) says what is not built."""
    if importlib.util.find_spec("cffi") is None:
        return ("cffi is not installed for %s (make doctor says how to"
                " install it)" % sys.executable)
    return "%s (run make first: it builds road 2)" % exc


class Closing:
    """For a class with close(): `with` gives the object and closes it at
    the end, as road 1's __enter__ and __exit__ do, and __exit__ takes
    exactly the three arguments that `with` passes (check_exit_args)."""
    __slots__ = ()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        check_exit_args(type(self).__name__, exc_info)
        self.close()
        return False
