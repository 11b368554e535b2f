"""The cffi declarations of stage 03, shared by the API-mode builder
(build_layout_cffi.py), the ABI-mode demonstration (layout_abi.py) and
declarations.py.  Private: nothing here is meant to be called.

cdef() parses a subset of C.  It has no __attribute__((packed)), so the
packed struct is declared in a second cdef() call with packed=True.
"""

# [excerpt: cdef]
CDEF_STRUCTS = """
    struct person { uint32_t height; uint32_t age; };
    struct record { uint8_t tag; uint64_t id; uint16_t flags; };
"""
CDEF_PACKED = """
    struct record_packed { uint8_t tag; uint64_t id; uint16_t flags; };
"""
# [/excerpt: cdef]

CDEF_FUNCTIONS = """
    struct layout_field {
        const char *name; size_t offset; size_t size; size_t align;
    };
    struct layout_struct {
        const char *name; size_t size; size_t align;
        size_t nfields; const struct layout_field *fields;
    };
    size_t layout_count(void);
    const struct layout_struct *layout_describe(size_t i);

    struct person person_older(struct person p, uint32_t years);
    int person_birthday(struct person *p);
    uint64_t people_total_age(const struct person *people, size_t n);
    void record_fill(struct record *out, uint8_t tag, uint64_t id,
                     uint16_t flags);
    void record_packed_fill(struct record_packed *out, uint8_t tag,
                            uint64_t id, uint16_t flags);
    extern const struct person layout_sample_person;
    extern const struct record layout_sample_record;

    typedef int (*item_fn)(void *context, size_t index, void *item);
    size_t walk_items(void *const *items, size_t n, item_fn visit,
                      void *context);
"""


def declare(ffi):
    """Give `ffi` every declaration of layout_lib.h, in cffi's C."""
    ffi.cdef(CDEF_STRUCTS)
    ffi.cdef(CDEF_PACKED, packed=True)
    ffi.cdef(CDEF_FUNCTIONS)
    return ffi
