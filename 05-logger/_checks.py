"""Stage 05 for the shared tests: ISOLATION and RUN_NEEDS (tests/README.md)."""

ISOLATION = {
    "tales_from_ffi": "L = M.Logger(buffer_size=64)\n"
                      "L.log('')\n"
                      "assert L.lock_free\n"
                      "L.flush()",
}
RUN_NEEDS = {}
