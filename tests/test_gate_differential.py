"""Quality gate: differential tests with many random examples.

The two roads of every stage (road 1, the C-API module; road 2, cffi in
API mode, and ABI mode where the stage has it) are given the same
generated input, and must return the same value or raise the same
exception with the same message.  tests/harness/differential.py has the
machinery and the strategies; tests/test_differential.py runs a few
examples of each in `make test`.  It runs under the sanitizer gate too,
with fewer examples."""
import support  # noqa: F401  (first: it puts tests/harness/ on sys.path)
import differential

GATE_SKIP = {"memcheck": "generated strings of 4-byte characters are "
                         "sorted, and glibc's AVX2 wmemcmp reads whole "
                         "vectors past their ends, which valgrind reports "
                         "inside the interpreter (unicode_compare); and ten "
                         "examples take four minutes under valgrind.  The "
                         "sanitizers check this file"}

differential.define(globals(), "gate")
