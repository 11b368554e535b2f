"""Stage 04 for the shared tests: ISOLATION and RUN_NEEDS (tests/README.md)."""

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
    demos = support.import_stage("04", "bugs._demos")
    return demos.missing_tool("asan") or demos.missing_tool("valgrind")


RUN_NEEDS = {"missing": missing, "slow": True}
