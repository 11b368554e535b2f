"""Differential tests, short profile: the two roads of every stage agree
on a few generated inputs, the same ones on every run (derandomized), and
on every counterexample found before.  tests/harness/differential.py has the
machinery; tests/test_gate_differential.py runs many random examples."""
import support  # noqa: F401  (first: it puts tests/harness/ on sys.path)
import differential

differential.define(globals(), "short")
