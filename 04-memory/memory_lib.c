/* memory_lib.c: the guest library of stage 04 (see memory_lib.h).
 *
 * It knows nothing of Python.  Every allocation goes through mem_alloc()
 * and every free through mem_free(), which keep the live counters and
 * obey the failure switch.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "memory_lib.h"

/* The counters and the switch are shared by every thread of the process:
 * the cffi road calls into this library without the GIL, so two threads
 * may count at once.  C11 atomics make each ++ and -- one indivisible step
 * (a plain long would lose updates). */
static atomic_long live_allocations;
static atomic_long live_persons;
static atomic_long live_blocks;
static atomic_int fail_countdown;   /* 0: off; n: the nth allocation fails */

/* True for the one allocation that the failure switch makes fail. */
static bool
switch_fires(void)
{
    int left = atomic_load(&fail_countdown);
    while (left > 0) {
        /* Count down by one, unless another thread did meanwhile (then
         * `left` is reloaded and we try again). */
        if (atomic_compare_exchange_weak(&fail_countdown, &left, left - 1)) {
            return left == 1;
        }
    }
    return false;
}

/* [excerpt: mem_alloc] */
/* Returns memory the caller owns (give it back with mem_free), or NULL:
 * really out of memory, or the failure switch fired. */
static void *
mem_alloc(size_t size)
{
    if (switch_fires()) {
        return NULL;                /* the switch: pretend malloc failed */
    }
    /* malloc(0) may return NULL; ask for at least one byte. */
    void *memory = malloc(size > 0 ? size : 1);
    if (memory != NULL) {
        atomic_fetch_add(&live_allocations, 1);
    }
    return memory;
}

/* Takes ownership of `memory` (from mem_alloc) and frees it. */
static void
mem_free(void *memory)
{
    if (memory != NULL) {
        atomic_fetch_sub(&live_allocations, 1);
        free(memory);
    }
}
/* [/excerpt: mem_alloc] */

long mem_live_allocations(void) { return atomic_load(&live_allocations); }
long mem_live_persons(void) { return atomic_load(&live_persons); }
long mem_live_blocks(void) { return atomic_load(&live_blocks); }

void
mem_fail_allocation(int nth)
{
    atomic_store(&fail_countdown, nth > 0 ? nth : 0);
}

/* [excerpt: person_new] */
Person *
person_new(uint32_t height_cm, uint32_t age)
{
    Person *person = mem_alloc(sizeof *person);
    if (person == NULL) {
        return NULL;
    }
    *person = (Person){.height_cm = height_cm, .age = age};
    atomic_fetch_add(&live_persons, 1);
    return person;                  /* ownership goes to the caller */
}

void
person_free(Person *person)
{
    if (person != NULL) {
        atomic_fetch_sub(&live_persons, 1);
        mem_free(person);           /* the allocator that allocated it */
    }
}
/* [/excerpt: person_new] */

uint32_t
person_birthday(Person *person)
{
    return ++person->age;
}

/* [excerpt: block_new] */
Block *
block_new(size_t size)
{
    Block *block = mem_alloc(sizeof *block);
    if (block == NULL) {
        return NULL;
    }
    block->data = mem_alloc(size);
    if (block->data == NULL) {
        mem_free(block);            /* the first allocation must not leak */
        return NULL;
    }
    memset(block->data, 0, size);
    block->size = size;
    atomic_fetch_add(&live_blocks, 1);
    return block;
}
/* [/excerpt: block_new] */

int
block_resize(Block *block, size_t size)
{
    /* Allocate, copy, then free: realloc() would hide the allocation from
     * the counters and the switch.  On failure the old data is kept. */
    unsigned char *data = mem_alloc(size);
    if (data == NULL) {
        return -1;
    }
    size_t keep = size < block->size ? size : block->size;
    if (keep > 0) {                 /* block_alloc's Block has no data */
        memcpy(data, block->data, keep);
    }
    memset(data + keep, 0, size - keep);
    mem_free(block->data);
    block->data = data;
    block->size = size;
    return 0;
}

void
block_free(Block *block)
{
    if (block != NULL) {
        atomic_fetch_sub(&live_blocks, 1);
        mem_free(block->data);
        mem_free(block);
    }
}

/* For allocators that are given a size, as cffi's ffi.new_allocator()
 * calls its alloc(): one zero-filled object of `size` bytes, counted in
 * `*live` as well, or NULL if `size` is not `own_size` or out of memory. */
static void *
alloc_sized(size_t size, size_t own_size, atomic_long *live)
{
    if (size != own_size) {
        return NULL;                /* not this type's size: refuse */
    }
    void *memory = mem_alloc(size);
    if (memory != NULL) {
        memset(memory, 0, size);
        atomic_fetch_add(live, 1);
    }
    return memory;                  /* ownership goes to the caller */
}

Person *
person_alloc(size_t size)
{
    return alloc_sized(size, sizeof(Person), &live_persons);
}

Block *
block_alloc(size_t size)
{
    return alloc_sized(size, sizeof(Block), &live_blocks);   /* no data */
}

/* [excerpt: registry_impl] */
int
registry_put(Registry *registry, void *item)
{
    for (int slot = 0; slot < REGISTRY_SLOTS; slot++) {
        if (registry->slots[slot] == NULL) {
            registry->slots[slot] = item;
            return slot;
        }
    }
    return -1;
}
/* [/excerpt: registry_impl] */

void *
registry_get(const Registry *registry, int slot)
{
    if (slot < 0 || slot >= REGISTRY_SLOTS) {
        return NULL;
    }
    return registry->slots[slot];
}

void *
registry_take(Registry *registry, int slot)
{
    void *item = registry_get(registry, slot);
    if (item != NULL) {
        registry->slots[slot] = NULL;
    }
    return item;
}

int
registry_count(const Registry *registry)
{
    int count = 0;
    for (int slot = 0; slot < REGISTRY_SLOTS; slot++) {
        count += registry->slots[slot] != NULL;
    }
    return count;
}
