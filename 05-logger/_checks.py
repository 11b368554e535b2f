"""What tests/ needs to know about this stage beyond its folder, read by
support.stage_checks() and nothing else.  ISOLATION: code that uses each
C-API module (as M) for tests/test_isolation.py; RUN_NEEDS: what `make run`
needs beyond a build, for tests/test_run_output.py.  tests/README.md ("A
stage folder") says what each entry holds.
"""

ISOLATION = {
    "tales_from_ffi": "L = M.Logger(buffer_size=64)\n"
                      "L.log('')\n"
                      "assert L.lock_free\n"
                      "L.flush()",
}
RUN_NEEDS = {}
