"""What the shared tests need to know about this stage beyond its folder.

tests/ reads this file (support.stage_checks); nothing else imports it.
ISOLATION: for each C-API module of the stage, code that uses the module
as M and checks an answer; tests/test_isolation.py runs it after a
re-import and in a subinterpreter, and holds the module to the
Py_mod_multiple_interpreters slot its C source declares.
RUN_NEEDS: what `make run` needs beyond a build, for
tests/test_run_output.py: env (added to the environment of its build and
runs), replace (support.assert_run_output's), check(testcase, out) (more
checks on the output), missing() (None, or why it cannot run here: asked
after the build), slow (run it first).
"""

ISOLATION = {
    "extern_capi": "assert M.add(2, 3) == 5\n"
                   "assert M.call_n_times(3, lambda i: None) == 3",
}
RUN_NEEDS = {}
