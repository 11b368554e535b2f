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

# The registry, the one piece of module state, has its own isolation tests
# in tests/test_04_memory.py; this checks the module as a whole.
ISOLATION = {
    "memory_capi": "P = M.person_new(170, 30)\n"
                   "assert M.person_get(P) == (170, 30)\n"
                   "M.person_free(P)",
}


def missing():
    """The tour ends with the memory bugs under ASan and valgrind."""
    import support
    demos = support.import_stage("04", "_demos")
    return demos.missing_tool("asan") or demos.missing_tool("valgrind")


RUN_NEEDS = {"missing": missing, "slow": True}
