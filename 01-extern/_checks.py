"""Stage 01 for the shared tests: ISOLATION and RUN_NEEDS (tests/README.md)."""

ISOLATION = {
    "extern_capi": "assert M.add(2, 3) == 5\n"
                   "assert M.call_n_times(3, lambda i: None) == 3",
}
RUN_NEEDS = {}
