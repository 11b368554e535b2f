/* memory_lib.h: the guest library of stage 04, in plain C.
 *
 * One rule runs through this stage: memory is freed by the side, and the
 * allocator, that allocated it.  Everything this library allocates it
 * also frees, through its own functions; callers hold pointers, never
 * call free() on them.
 *
 * The library counts what it has handed out and not yet taken back, so a
 * test can prove that every allocation came home.  It also has a switch
 * that makes a chosen allocation fail, so that the paths that handle
 * "out of memory" are run by tests instead of trusted.
 */
#ifndef MEMORY_LIB_H
#define MEMORY_LIB_H

#include <stddef.h>
#include <stdint.h>

/* [excerpt: person] */
typedef struct Person {
    uint32_t height_cm;
    uint32_t age;
} Person;

/* Returns a new Person that the caller owns: give it back with
 * person_free(), never with free().  NULL when out of memory. */
Person *person_new(uint32_t height_cm, uint32_t age);

/* Takes ownership of `person` and frees it.  NULL is allowed. */
void person_free(Person *person);

/* Borrows `person`: adds one to its age and returns the new age. */
uint32_t person_birthday(Person *person);
/* [/excerpt: person] */

/* [excerpt: block] */
/* A block of bytes that C owns: two allocations, the header and the data. */
typedef struct Block {
    size_t size;
    unsigned char *data;
} Block;

/* Returns a new zero-filled Block the caller owns (free with block_free).
 * NULL when out of memory; nothing is left allocated then. */
Block *block_new(size_t size);

/* Borrows `block`: gives it `size` bytes (new bytes are zero).  Returns 0,
 * or -1 when out of memory, and then the block is unchanged.  Any pointer
 * to the old data is invalid after a successful resize. */
int block_resize(Block *block, size_t size);

/* Takes ownership of `block` and frees both allocations.  NULL allowed. */
void block_free(Block *block);
/* [/excerpt: block] */

/* [excerpt: allocators] */
/* The same two, made by an allocator that is given a size and nothing
 * else, as cffi's ffi.new_allocator() calls its alloc(): `size` must be
 * the type's own size.  NULL when it is not, or when out of memory.  The
 * caller owns the result and gives it back with person_free/block_free. */
Person *person_alloc(size_t size);  /* zero-filled: height 0, age 0 */
Block *block_alloc(size_t size);    /* empty: size 0, data NULL; give it
                                     * its bytes with block_resize() */
/* [/excerpt: allocators] */

/* [excerpt: counters] */
/* What is allocated and not yet freed, counted by the library itself.
 * The counters and the switch are process-wide C11 atomics: any thread
 * may allocate and count, with or without the GIL. */
long mem_live_allocations(void);    /* every malloc not yet freed */
long mem_live_persons(void);
long mem_live_blocks(void);

/* Make the nth allocation from now fail (1 = the next one); 0 turns the
 * switch off.  It fires once, then turns itself off. */
void mem_fail_allocation(int nth);
/* [/excerpt: counters] */

/* [excerpt: registry] */
/* A registry of opaque pointers, REGISTRY_SLOTS of them.  C only stores
 * the pointers: keeping what they point to alive is the caller's job.
 * The library has no registry of its own: each caller brings one (a
 * module object its state, the cffi module an ffi.new), owns its memory,
 * and starts it zero-filled, which is empty. */
#define REGISTRY_SLOTS 8

typedef struct Registry {
    void *slots[REGISTRY_SLOTS];
} Registry;

/* Stores `item` (not NULL) in a free slot; returns the slot, -1 if full. */
int registry_put(Registry *registry, void *item);
/* The item in `slot`, still stored; NULL if the slot is empty or bad. */
void *registry_get(const Registry *registry, int slot);
/* Removes and returns the item in `slot`; NULL if empty or bad. */
void *registry_take(Registry *registry, int slot);
/* How many slots hold an item. */
int registry_count(const Registry *registry);
/* [/excerpt: registry] */

#endif /* MEMORY_LIB_H */
