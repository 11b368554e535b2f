/* layout_lib.h: the structs of stage 03 and the functions that share them.
 *
 * This header is the one true description of the layout.  Every Python
 * declaration of these structs (cffi cdef, ctypes.Structure, a struct
 * format string) is a second description that has to agree with it byte
 * for byte; the tests compare them with the numbers C reports below.
 */
#ifndef LAYOUT_LIB_H
#define LAYOUT_LIB_H

#include <stddef.h>
#include <stdint.h>

/* [excerpt: structs] */
/* The article's Person: two 32-bit unsigned fields, no padding. */
struct person {
    uint32_t height;
    uint32_t age;
};

/* A struct with holes: id must start at a multiple of 8, so the compiler
 * puts 7 bytes of padding after tag, and 6 more after flags so that the
 * next record of an array starts at a multiple of 8 too. */
struct record {
    uint8_t tag;
    uint64_t id;
    uint16_t flags;
};

/* The same fields with no padding at all (a GCC/Clang extension, not
 * standard C): 11 bytes, and id sits at offset 1, misaligned. */
struct record_packed {
    uint8_t tag;
    uint64_t id;
    uint16_t flags;
} __attribute__((packed));
/* [/excerpt: structs] */

/* [excerpt: describe] */
/* What C knows about a field and a struct, filled in by the compiler with
 * offsetof, sizeof and _Alignof (see layout_lib.c). */
struct layout_field {
    const char *name;
    size_t offset;
    size_t size;
    size_t align;       /* _Alignof the field's type */
};

struct layout_struct {
    const char *name;
    size_t size;
    size_t align;
    size_t nfields;
    const struct layout_field *fields;
};

/* The number of structs described, and the description of number i
 * (0 <= i < layout_count()), or NULL.  Static data: never free it. */
size_t layout_count(void);
const struct layout_struct *layout_describe(size_t i);
/* [/excerpt: describe] */

/* [excerpt: functions] */
/* By value: p is a copy, so the caller's struct cannot change.  Returns a
 * new person `years` older; the caller checks that age + years fits. */
struct person person_older(struct person p, uint32_t years);

/* By pointer: C changes the caller's struct in place.  Returns 0, or -1
 * (and changes nothing) if the age is already UINT32_MAX. */
int person_birthday(struct person *p);

/* An array of n structs that the caller owns; C only reads it. */
uint64_t people_total_age(const struct person *people, size_t n);

/* C fills a struct that the caller allocated, padding bytes included. */
void record_fill(struct record *out, uint8_t tag, uint64_t id,
                 uint16_t flags);
void record_packed_fill(struct record_packed *out, uint8_t tag, uint64_t id,
                        uint16_t flags);

/* Examples with known contents, for the ABI-mode demonstration. */
extern const struct person layout_sample_person;
extern const struct record layout_sample_record;
/* [/excerpt: functions] */

/* [excerpt: walk_items] */
/* A generic walk: C calls visit(context, i, items[i]) for every item and
 * stops early if visit returns non-zero.  C never looks inside an item:
 * it is an opaque pointer that only the caller knows how to read.
 * Returns the number of items visited. */
typedef int (*item_fn)(void *context, size_t index, void *item);
size_t walk_items(void *const *items, size_t n, item_fn visit,
                  void *context);
/* [/excerpt: walk_items] */

#endif /* LAYOUT_LIB_H */
