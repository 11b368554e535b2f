"""cffi API mode builder for stage 04: writes _memory_cffi.c, nothing else.

    python3 build_memory_cffi.py OUT.c

The Makefile compiles OUT.c together with memory_lib.c by the same rule
as a hand-written extension module: no setuptools, no distutils.
"""
import sys

import cffi

# [excerpt: builder]
ffi = cffi.FFI()
ffi.cdef("""
    typedef struct Person { uint32_t height_cm; uint32_t age; } Person;
    Person *person_new(uint32_t height_cm, uint32_t age);
    void person_free(Person *person);
    uint32_t person_birthday(Person *person);

    typedef struct Block { size_t size; unsigned char *data; } Block;
    Block *block_new(size_t size);
    int block_resize(Block *block, size_t size);
    void block_free(Block *block);
    Person *person_alloc(size_t size);
    Block *block_alloc(size_t size);

    long mem_live_allocations(void);
    long mem_live_persons(void);
    long mem_live_blocks(void);
    void mem_fail_allocation(int nth);

    #define REGISTRY_SLOTS ...
    typedef struct Registry { ...; } Registry;      /* its size: from C */
    int registry_put(Registry *registry, void *item);
    void *registry_get(const Registry *registry, int slot);
    void *registry_take(Registry *registry, int slot);
    int registry_count(const Registry *registry);
""")
# API mode: this C is compiled against the real header, so a pointer or
# struct type that disagrees with memory_lib.h is a compile error, not a
# crash.  A wrong integer type C converts without a word, which is why
# tests/test_cdefs.py compares this text with the header.
ffi.set_source("_memory_cffi", '#include "memory_lib.h"')
# [/excerpt: builder]

if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: build_memory_cffi.py OUT.c")
    ffi.emit_c_code(sys.argv[1])
