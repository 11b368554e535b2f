"""What tests/ needs to know about this stage beyond its folder, read by
support.stage_checks() and nothing else.  ISOLATION: code that uses each
C-API module (as M) for tests/test_isolation.py; RUN_NEEDS: what `make run`
needs beyond a build, for tests/test_run_output.py.  tests/README.md ("A
stage folder") says what each entry holds.
"""

ISOLATION = {
    "extern_capi": "assert M.add(2, 3) == 5\n"
                   "assert M.call_n_times(3, lambda i: None) == 3",
}
RUN_NEEDS = {}
