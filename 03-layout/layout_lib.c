/* layout_lib.c: the guest library of stage 03, in plain C.
 *
 * It knows nothing of Python.  Its layout table is written by the
 * compiler (offsetof, sizeof, _Alignof), so it is the reference every
 * Python-side declaration is checked against.
 */
#include <stdalign.h>
#include <string.h>

#include "layout_lib.h"

/* [excerpt: static_assert] */
/* The assumptions the rest of the stage (and the chapter's memory maps)
 * make, checked by the compiler: if a platform lays these structs out
 * differently, the build stops here instead of a test failing later. */
_Static_assert(sizeof(struct person) == 8, "person is two uint32_t");
_Static_assert(offsetof(struct person, age) == 4, "no padding in person");
_Static_assert(_Alignof(uint64_t) == 8, "uint64_t is 8-byte aligned");
_Static_assert(offsetof(struct record, id) == 8, "7 padding bytes after tag");
_Static_assert(sizeof(struct record) == 24, "6 padding bytes at the end");
_Static_assert(sizeof(struct record_packed) == 11, "packed: no padding");
_Static_assert(_Alignof(struct record_packed) == 1, "packed: align 1");
/* [/excerpt: static_assert] */

/* [excerpt: table] */
#define FIELD(type, field, ftype) \
    {#field, offsetof(type, field), sizeof(ftype), _Alignof(ftype)}

static const struct layout_field person_fields[] = {
    FIELD(struct person, height, uint32_t),
    FIELD(struct person, age, uint32_t),
};
static const struct layout_field record_fields[] = {
    FIELD(struct record, tag, uint8_t),
    FIELD(struct record, id, uint64_t),
    FIELD(struct record, flags, uint16_t),
};
static const struct layout_field record_packed_fields[] = {
    FIELD(struct record_packed, tag, uint8_t),
    FIELD(struct record_packed, id, uint64_t),
    FIELD(struct record_packed, flags, uint16_t),
};

#define STRUCT(name, type, fields) \
    {name, sizeof(type), _Alignof(type), \
     sizeof(fields) / sizeof((fields)[0]), fields}

static const struct layout_struct structs[] = {
    STRUCT("person", struct person, person_fields),
    STRUCT("record", struct record, record_fields),
    STRUCT("record_packed", struct record_packed, record_packed_fields),
};
/* [/excerpt: table] */

size_t
layout_count(void)
{
    return sizeof(structs) / sizeof(structs[0]);
}

const struct layout_struct *
layout_describe(size_t i)
{
    return i < layout_count() ? &structs[i] : NULL;
}

/* [excerpt: person_functions] */
struct person
person_older(struct person p, uint32_t years)
{
    p.age += years;         /* changes our copy, not the caller's */
    return p;               /* and the copy goes back by value */
}

int
person_birthday(struct person *p)
{
    if (p->age == UINT32_MAX) {
        return -1;
    }
    p->age += 1;            /* the caller's memory */
    return 0;
}

uint64_t
people_total_age(const struct person *people, size_t n)
{
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        total += people[i].age;
    }
    return total;
}
/* [/excerpt: person_functions] */

/* [excerpt: record_fill] */
void
record_fill(struct record *out, uint8_t tag, uint64_t id, uint16_t flags)
{
    /* Zero the whole struct first: the padding bytes belong to the caller
     * too, and without this they would keep whatever was there before
     * (a copy of them could leak old data, and valgrind calls them
     * uninitialised). */
    memset(out, 0, sizeof(*out));
    out->tag = tag;
    out->id = id;
    out->flags = flags;
}
/* [/excerpt: record_fill] */

void
record_packed_fill(struct record_packed *out, uint8_t tag, uint64_t id,
                   uint16_t flags)
{
    /* No padding to clear.  The compiler knows id is misaligned here and
     * writes it byte-safely. */
    out->tag = tag;
    out->id = id;
    out->flags = flags;
}

/* Static storage: the padding bytes of these are zero. */
const struct person layout_sample_person = {.height = 180, .age = 42};
const struct record layout_sample_record = {
    .tag = 7, .id = 0x1122334455667788u, .flags = 0xBEEF,
};

size_t
walk_items(void *const *items, size_t n, item_fn visit, void *context)
{
    size_t i;
    for (i = 0; i < n; i++) {
        if (visit(context, i, items[i]) != 0) {
            return i + 1;   /* the item that asked to stop was visited */
        }
    }
    return n;
}
