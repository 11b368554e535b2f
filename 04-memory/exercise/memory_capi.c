/* Exercise 4: memory_capi.c of stage 04-memory, with 3 parts left for you
 * to write.  This file is yours to edit.
 *
 * Write the parts in this order; each is the lines between
 * "[exercise part N: name]" and "[/exercise part N: name]",
 * which now raise NotImplementedError saying what to write:
 *   part 1: person_release()
 *   part 2: Block_getbuffer()
 *   part 3: memory_registry_put()
 *
 * Check your work from the top folder:  make check-4
 * It runs the checks in part order; for the first failing one it
 * prints a nudge, then the API to reach for (all of them, in order:
 * 04-memory/exercise/hints.txt).  Read only as much as you need.
 * The solution is the reference module ../memory_capi.c.
 *
 * Generated from ../memory_capi.c by tests/harness/skeleton.py
 * (make skeletons): outside the parts, the reference unchanged.
 */
/* memory_capi.c: road 1, the CPython C API by hand, around memory_lib.
 *
 * What this module does, said in Python first:
 *
 *     def person_new(height_cm, age):   # C mallocs a Person; Python holds
 *         return Capsule(memory_lib.person_new(...),      # the pointer in
 *                        destructor=memory_lib.person_free)   # a capsule
 *     def person_get(person): -> (height_cm, age)
 *     def person_birthday(person): -> the new age
 *     def person_free(person):          # give it back early; once only
 *
 *     class Person:                     # the same, as a context manager
 *         height_cm, age, closed; birthday(); close(); with Person(...)
 *
 *     class Block:                      # C-owned bytes, shared with no copy
 *         size, exports, closed; view() -> memoryview; resize(n); close()
 *         # resize() and close() raise BufferError while views exist
 *
 *     def registry_put(obj): -> slot    # C keeps a strong reference
 *     def registry_get(slot): -> obj    # a new reference for the caller
 *     def registry_take(slot): -> obj   # C hands its reference over
 *     # each module object has a registry of its own, emptied when the
 *     # module object goes (a re-import, a subinterpreter: another one)
 *
 *     def counters(): -> {"allocations", "persons", "blocks", "registry"}
 *     def fail_allocation(nth):         # the nth C allocation fails
 *
 * The rule: memory is freed by the side, and the allocator, that
 * allocated it.  C's memory goes back through person_free/block_free;
 * Python objects C holds go back through Py_DECREF.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "common.h"       /* 3.10 to 3.13 differences, argument helpers */
#include <limits.h>

#include "memory_lib.h"

#define BLOCK_MAX (1 << 24)         /* 16 MiB: a teaching limit, not C's */

/* The capsule's name says what its pointer is.  Releasing a capsule early
 * renames it, so a second release, or any use after it, is recognised. */
#define PERSON_CAPSULE "memory_capi.Person"
#define RELEASED_CAPSULE "memory_capi.Person (released)"

/* C returned NULL: say which call could not get its memory. */
static PyObject *
out_of_memory(const char *func)
{
    PyErr_Format(PyExc_MemoryError,
                 "%s(): the C allocator returned NULL (out of memory)", func);
    return NULL;
}

/* [excerpt: capsule] */
/* Python calls this when the last reference to the capsule goes away.  It
 * gives the Person back to C's own free function; a capsule released
 * early by person_free() has no destructor any more, so no double free. */
static void
person_capsule_destructor(PyObject *capsule)
{
    Person *person = PyCapsule_GetPointer(capsule, PERSON_CAPSULE);
    if (person == NULL) {
        /* Not a Person any more: say so.  Not with the capsule as the
         * object, since it is being destroyed: a reference taken to it
         * now would bring it back to life, and destroy it again. */
        PyErr_WriteUnraisable(NULL);
        return;
    }
    person_free(person);
}

/* Returns a new capsule that owns a new Person, or NULL. */
static PyObject *
person_capsule_new(uint32_t height_cm, uint32_t age, const char *func)
{
    Person *person = person_new(height_cm, age);
    if (person == NULL) {
        return out_of_memory(func);
    }
    PyObject *capsule = PyCapsule_New(person, PERSON_CAPSULE,
                                      person_capsule_destructor);
    if (capsule == NULL) {
        person_free(person);        /* nobody owns it yet: we must */
    }
    return capsule;
}
/* [/excerpt: capsule] */

/* [excerpt: person_arg] */
/* The Person inside `obj`, borrowed (the capsule still owns it), or NULL
 * with ValueError (released already) or TypeError (not one of ours). */
static Person *
person_arg(PyObject *obj, const char *func)
{
    if (PyCapsule_CheckExact(obj)) {
        const char *name = PyCapsule_GetName(obj);
        if (name != NULL && strcmp(name, RELEASED_CAPSULE) == 0) {
            PyErr_Format(PyExc_ValueError,
                         "%s(): the Person was already released", func);
            return NULL;
        }
        if (name != NULL && strcmp(name, PERSON_CAPSULE) == 0) {
            return PyCapsule_GetPointer(obj, PERSON_CAPSULE);
        }
        PyErr_Format(PyExc_TypeError,
                     "%s() argument 'person' must be a Person handle "
                     "from person_new(), not PyCapsule '%.200s'",
                     func, name != NULL ? name : "(no name)");
        return NULL;
    }
    char what[64];
    PyOS_snprintf(what, sizeof what, "%s() argument 'person'", func);
    type_error(what, "a Person handle from person_new()", obj);
    return NULL;
}

/* [/excerpt: person_arg] */

/* Free the Person now and mark the capsule released, so that neither its
 * destructor nor a later call can touch the freed memory. */
static int
person_release(PyObject *capsule, const char *func)
{
    /* [exercise part 1: person_release] */
    (void)capsule;
    (void)func;
    PyErr_SetString(PyExc_NotImplementedError,
                    "write person_release(): exercise 4, part 1 (see hints)");
    return -1;
    /* [/exercise part 1: person_release] */
}

PyDoc_STRVAR(memory_person_new_doc, "person_new(height_cm, age)\n--\n\n"
    "A new C Person, in a capsule that frees it when dropped.");

static PyObject *
memory_person_new(PyObject *Py_UNUSED(module), PyObject *args,
                  PyObject *kwargs)
{
    static char *keywords[] = {"height_cm", "age", NULL};
    PyObject *height_obj, *age_obj;
    unsigned long long height_cm, age;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO:person_new", keywords,
                                     &height_obj, &age_obj)
        || uint_in_range(height_obj, UINT32_MAX,
                         "person_new() argument 'height_cm'", &height_cm) < 0
        || uint_in_range(age_obj, UINT32_MAX,
                         "person_new() argument 'age'", &age) < 0) {
        return NULL;
    }
    return person_capsule_new((uint32_t)height_cm, (uint32_t)age,
                              "person_new");
}

PyDoc_STRVAR(memory_person_get_doc, "person_get(person)\n--\n\n"
    "Return (height_cm, age).");

static PyObject *
memory_person_get(PyObject *Py_UNUSED(module), PyObject *person_obj)
{
    Person *person = person_arg(person_obj, "person_get");
    if (person == NULL) {
        return NULL;
    }
    return Py_BuildValue("(kk)", (unsigned long)person->height_cm,
                         (unsigned long)person->age);
}

static PyObject *
birthday(Person *person, const char *func)
{
    if (person->age == UINT32_MAX) {
        PyErr_Format(PyExc_OverflowError,
                     "%s(): the age is %lu already, the largest a C "
                     "uint32_t holds", func, (unsigned long)UINT32_MAX);
        return NULL;
    }
    return PyLong_FromUnsignedLong(person_birthday(person));
}

PyDoc_STRVAR(memory_person_birthday_doc, "person_birthday(person)\n--\n\n"
    "Age + 1; return the new age.");

static PyObject *
memory_person_birthday(PyObject *Py_UNUSED(module), PyObject *person_obj)
{
    Person *person = person_arg(person_obj, "person_birthday");
    return person == NULL ? NULL : birthday(person, "person_birthday");
}

PyDoc_STRVAR(memory_person_free_doc, "person_free(person)\n--\n\n"
    "Free the C Person now (once).");

/* [excerpt: person_free] */
static PyObject *
memory_person_free(PyObject *Py_UNUSED(module), PyObject *person_obj)
{
    if (person_release(person_obj, "person_free") < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}
/* [/excerpt: person_free] */

/* --- Person: the capsule behind a friendlier face ----------------------- */

/* [excerpt: person_type] */
typedef struct {
    PyObject_HEAD
    PyObject *capsule;      /* owned; NULL once closed */
} PersonObject;

#define PersonObject_CAST(op) ((PersonObject *)(op))

static PyObject *
Person_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"height_cm", "age", NULL};
    PyObject *height_obj, *age_obj;
    unsigned long long height_cm, age;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO:Person", keywords,
                                     &height_obj, &age_obj)
        || uint_in_range(height_obj, UINT32_MAX,
                         "Person() argument 'height_cm'", &height_cm) < 0
        || uint_in_range(age_obj, UINT32_MAX,
                         "Person() argument 'age'", &age) < 0) {
        return NULL;
    }
    PersonObject *self = (PersonObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->capsule = person_capsule_new((uint32_t)height_cm, (uint32_t)age,
                                       "Person");
    if (self->capsule == NULL) {
        Py_DECREF(self);    /* dealloc copes with a NULL capsule */
        return NULL;
    }
    return (PyObject *)self;
}

/* Dropping the capsule runs its destructor, which frees the Person.  The
 * object also held a reference to its type (a heap type): give it back. */
static void
Person_dealloc(PyObject *op)
{
    PyTypeObject *type = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    Py_CLEAR(PersonObject_CAST(op)->capsule);
    type->tp_free(op);
    Py_DECREF(type);
}

PyDoc_STRVAR(Person_close_doc, "close()\n--\n\n"
    "Free the C Person now (again: no-op).");

/* Early release: free the Person now.  Closing twice is allowed, as it is
 * for files; using a closed Person raises ValueError. */
static PyObject *
Person_close(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    PersonObject *self = PersonObject_CAST(op);
    if (self->capsule != NULL) {
        if (person_release(self->capsule, "close") < 0) {
            return NULL;
        }
        Py_CLEAR(self->capsule);
    }
    Py_RETURN_NONE;
}
/* [/excerpt: person_type] */

/* [excerpt: person_traverse] */
/* What the garbage collector may follow from a Person: its type (every
 * object of a heap type holds one; the type holds its module, whose
 * registry may hold this very Person: a cycle) and its capsule (which
 * cannot point back at us, but costs nothing to visit). */
static int
Person_traverse(PyObject *op, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(PersonObject_CAST(op)->capsule);
    return 0;
}
/* [/excerpt: person_traverse] */

static int
Person_clear(PyObject *op)
{
    Py_CLEAR(PersonObject_CAST(op)->capsule);
    return 0;
}

/* The Person of an open Person object, borrowed; NULL with ValueError. */
static Person *
open_person(PyObject *op, const char *func)
{
    PersonObject *self = PersonObject_CAST(op);
    if (self->capsule == NULL) {
        PyErr_Format(PyExc_ValueError, "%s: the Person is closed", func);
        return NULL;
    }
    return person_arg(self->capsule, func);
}

static PyObject *
Person_get_height_cm(PyObject *op, void *Py_UNUSED(closure))
{
    Person *person = open_person(op, "height_cm");
    return person == NULL ? NULL : PyLong_FromUnsignedLong(person->height_cm);
}

static PyObject *
Person_get_age(PyObject *op, void *Py_UNUSED(closure))
{
    Person *person = open_person(op, "age");
    return person == NULL ? NULL : PyLong_FromUnsignedLong(person->age);
}

static PyObject *
Person_get_closed(PyObject *op, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(PersonObject_CAST(op)->capsule == NULL);
}

PyDoc_STRVAR(Person_birthday_doc, "birthday()\n--\n\n"
    "Add one to the age; return the new age.");

static PyObject *
Person_birthday(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    Person *person = open_person(op, "birthday()");
    return person == NULL ? NULL : birthday(person, "birthday");
}

static PyObject *
enter_self(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    return Py_NewRef(self);
}

/* An exception in the `with` block is not ours to handle: return False. */
static PyObject *
Person_exit(PyObject *op, PyObject *const *Py_UNUSED(args), Py_ssize_t nargs)
{
    if (check_exit_args("Person", nargs) < 0) {
        return NULL;
    }
    PyObject *result = Person_close(op, NULL);
    if (result == NULL) {
        return NULL;
    }
    Py_DECREF(result);
    Py_RETURN_FALSE;
}

static PyMethodDef Person_methods[] = {
    {"birthday", Person_birthday, METH_NOARGS, Person_birthday_doc},
    {"close", Person_close, METH_NOARGS, Person_close_doc},
    {"__enter__", enter_self, METH_NOARGS, NULL},
    {"__exit__", AS_PYCFUNCTION(Person_exit), METH_FASTCALL, NULL},
    {NULL, NULL, 0, NULL}  /* sentinel */
};

static PyGetSetDef Person_getset[] = {
    {.name = "height_cm", .get = Person_get_height_cm,
     .doc = PyDoc_STR("Height in cm, read from the C struct.")},
    {.name = "age", .get = Person_get_age,
     .doc = PyDoc_STR("Age in years, read from the C struct.")},
    {.name = "closed", .get = Person_get_closed,
     .doc = PyDoc_STR("True once close() has freed the C Person.")},
    {.name = NULL}  /* sentinel */
};

/* [excerpt: person_spec] */
/* Not a static PyTypeObject: a recipe.  Each module object makes its own
 * Person type from it (PyType_FromModuleAndSpec, in memory_exec), so
 * nothing of one module object is shared with another. */
static PyType_Slot Person_slots[] = {
    {.slot = Py_tp_doc,
     .pfunc = PyDoc_STR("Person(height_cm, age)\n--\n\n"
                        "A C-allocated Person; close() or `with` frees it.")},
    {.slot = Py_tp_new, .pfunc = Person_new},
    {.slot = Py_tp_dealloc, .pfunc = Person_dealloc},
    {.slot = Py_tp_traverse, .pfunc = Person_traverse},
    {.slot = Py_tp_clear, .pfunc = Person_clear},
    {.slot = Py_tp_methods, .pfunc = Person_methods},
    {.slot = Py_tp_getset, .pfunc = Person_getset},
    {0, NULL}  /* sentinel */
};

static PyType_Spec Person_spec = {
    .name = "memory_capi.Person",
    .basicsize = sizeof(PersonObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC
             | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = Person_slots,
};
/* [/excerpt: person_spec] */

/* --- Block: C-owned memory exported through the buffer protocol -------- */

/* [excerpt: block_type] */
typedef struct {
    PyObject_HEAD
    Block *block;           /* owned; NULL once closed */
    Py_ssize_t exports;     /* buffers handed out and not yet released */
} BlockObject;

#define BlockObject_CAST(op) ((BlockObject *)(op))
/* [/excerpt: block_type] */

/* Every memoryview of a Block holds a reference to the Block object, so
 * the Block, and the C memory it owns, outlives all its views.  While any
 * view exists, its pointer must stay valid: no resize, no free. */
static int
Block_getbuffer(PyObject *op, Py_buffer *view, int flags)
{
    /* [exercise part 2: Block_getbuffer] */
    (void)op;
    (void)flags;
    view->obj = NULL;
    PyErr_SetString(PyExc_NotImplementedError,
                    "write Block_getbuffer(): exercise 4, part 2 (see hints)");
    return -1;
    /* [/exercise part 2: Block_getbuffer] */
}

/* [excerpt: block_release] */
/* A view is gone (memoryview.release(), or its last reference dropped). */
static void
Block_releasebuffer(PyObject *op, Py_buffer *Py_UNUSED(view))
{
    BlockObject_CAST(op)->exports--;
}

static int
refuse_if_exported(BlockObject *self, const char *func, const char *what)
{
    if (self->exports > 0) {
        PyErr_Format(PyExc_BufferError,
                     "%s(): cannot %s a Block while %zd memoryview(s) of it "
                     "exist: release them first", func, what, self->exports);
        return -1;
    }
    return 0;
}
/* [/excerpt: block_release] */

static PyObject *
Block_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"size", NULL};
    PyObject *size_obj;
    long long size;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O:Block", keywords,
                                     &size_obj)
        || int_in_range(size_obj, 0, BLOCK_MAX, "Block() argument 'size'",
                        &size) < 0) {
        return NULL;
    }
    BlockObject *self = (BlockObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->block = block_new((size_t)size);
    if (self->block == NULL) {
        Py_DECREF(self);
        return out_of_memory("Block");
    }
    return (PyObject *)self;
}

/* No view can exist here: each one holds a reference to us. */
static void
Block_dealloc(PyObject *op)
{
    PyTypeObject *type = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    block_free(BlockObject_CAST(op)->block);
    type->tp_free(op);
    Py_DECREF(type);
}

/* A Block holds no Python object but its type: that is all the GC sees. */
static int
Block_traverse(PyObject *op, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(op));
    return 0;
}

PyDoc_STRVAR(Block_close_doc, "close()\n--\n\n"
    "Free the C memory now (BufferError while exported).");

/* [excerpt: block_close] */
static PyObject *
Block_close(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    BlockObject *self = BlockObject_CAST(op);
    if (refuse_if_exported(self, "close", "free") < 0) {
        return NULL;
    }
    block_free(self->block);
    self->block = NULL;
    Py_RETURN_NONE;
}

PyDoc_STRVAR(Block_resize_doc, "resize(size)\n--\n\n"
    "Grow or shrink (BufferError while exported).");

static PyObject *
Block_resize(PyObject *op, PyObject *size_obj)
{
    BlockObject *self = BlockObject_CAST(op);
    long long size;
    /* The argument first, as every function does: a wrong one is wrong
     * whatever state the Block is in. */
    if (int_in_range(size_obj, 0, BLOCK_MAX, "resize() argument 'size'",
                     &size) < 0) {
        return NULL;
    }
    if (self->block == NULL) {
        PyErr_SetString(PyExc_ValueError, "resize(): the Block is closed");
        return NULL;
    }
    if (refuse_if_exported(self, "resize", "resize") < 0) {
        return NULL;
    }
    if (block_resize(self->block, (size_t)size) < 0) {
        return out_of_memory("resize");     /* the block is unchanged */
    }
    Py_RETURN_NONE;
}
/* [/excerpt: block_close] */

PyDoc_STRVAR(Block_view_doc, "view()\n--\n\n"
    "A writable memoryview of the C memory.");

static PyObject *
Block_view(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    return PyMemoryView_FromObject(op);
}

static PyObject *
Block_exit(PyObject *op, PyObject *const *Py_UNUSED(args), Py_ssize_t nargs)
{
    if (check_exit_args("Block", nargs) < 0) {
        return NULL;
    }
    PyObject *result = Block_close(op, NULL);
    if (result == NULL) {
        return NULL;
    }
    Py_DECREF(result);
    Py_RETURN_FALSE;
}

static PyObject *
Block_get_size(PyObject *op, void *Py_UNUSED(closure))
{
    BlockObject *self = BlockObject_CAST(op);
    if (self->block == NULL) {
        PyErr_SetString(PyExc_ValueError, "size: the Block is closed");
        return NULL;
    }
    return PyLong_FromSize_t(self->block->size);
}

static PyObject *
Block_get_exports(PyObject *op, void *Py_UNUSED(closure))
{
    return PyLong_FromSsize_t(BlockObject_CAST(op)->exports);
}

static PyObject *
Block_get_closed(PyObject *op, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(BlockObject_CAST(op)->block == NULL);
}

static PyMethodDef Block_methods[] = {
    {"view", Block_view, METH_NOARGS, Block_view_doc},
    {"resize", Block_resize, METH_O, Block_resize_doc},
    {"close", Block_close, METH_NOARGS, Block_close_doc},
    {"__enter__", enter_self, METH_NOARGS, NULL},
    {"__exit__", AS_PYCFUNCTION(Block_exit), METH_FASTCALL, NULL},
    {NULL, NULL, 0, NULL}  /* sentinel */
};

static PyGetSetDef Block_getset[] = {
    {.name = "size", .get = Block_get_size,
     .doc = PyDoc_STR("Size in bytes.")},
    {.name = "exports", .get = Block_get_exports,
     .doc = PyDoc_STR("How many buffers of this Block are alive.")},
    {.name = "closed", .get = Block_get_closed,
     .doc = PyDoc_STR("True once close() has freed the C memory.")},
    {.name = NULL}  /* sentinel */
};

static PyType_Slot Block_slots[] = {
    {.slot = Py_tp_doc,
     .pfunc = PyDoc_STR("Block(size)\n--\n\n"
                        "size zero bytes owned by C, shared without a copy.")},
    {.slot = Py_tp_new, .pfunc = Block_new},
    {.slot = Py_tp_dealloc, .pfunc = Block_dealloc},
    {.slot = Py_tp_traverse, .pfunc = Block_traverse},
    {.slot = Py_bf_getbuffer, .pfunc = Block_getbuffer},
    {.slot = Py_bf_releasebuffer, .pfunc = Block_releasebuffer},
    {.slot = Py_tp_methods, .pfunc = Block_methods},
    {.slot = Py_tp_getset, .pfunc = Block_getset},
    {0, NULL}  /* sentinel */
};

static PyType_Spec Block_spec = {
    .name = "memory_capi.Block",
    .basicsize = sizeof(BlockObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC
             | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = Block_slots,
};

/* --- the module's state: one per module object --------------------------- */

/* [excerpt: module_state] */
/* One process can hold several memory_capi module objects: an import after
 * `del sys.modules["memory_capi"]` makes a new one, and so does each
 * subinterpreter.  What a module object owns lives in its state, never in
 * a C global, so that one module's end leaves the others alone. */
typedef struct {
    Registry registry;      /* strong references to the objects C keeps */
} memory_state;

static memory_state *
get_state(PyObject *module)
{
    return PyModule_GetState(module);
}
/* [/excerpt: module_state] */

/* --- the registry: C holding Python objects ----------------------------- */

PyDoc_STRVAR(memory_registry_put_doc, "registry_put(obj)\n--\n\n"
    "C keeps obj; return its slot.");

/* C is about to keep `obj` after this call returns, so it takes a strong
 * reference of its own: the caller's reference is only borrowed. */
static PyObject *
memory_registry_put(PyObject *module, PyObject *obj)
{
    /* [exercise part 3: memory_registry_put] */
    (void)module;
    (void)obj;
    PyErr_SetString(PyExc_NotImplementedError,
                    "write registry_put(): exercise 4, part 3 (see hints)");
    return NULL;
    /* [/exercise part 3: memory_registry_put] */
}

PyDoc_STRVAR(memory_registry_get_doc, "registry_get(slot)\n--\n\n"
    "The object in slot (kept).");

/* [excerpt: registry_get_take] */
/* The registry keeps its reference; the caller gets a new one. */
static PyObject *
memory_registry_get(PyObject *module, PyObject *slot_obj)
{
    Registry *registry = &get_state(module)->registry;
    long long slot;
    if (int_in_range(slot_obj, 0, REGISTRY_SLOTS - 1,
                     "registry_get() argument 'slot'", &slot) < 0) {
        return NULL;
    }
    PyObject *obj = registry_get(registry, (int)slot);  /* borrowed */
    if (obj == NULL) {
        PyErr_Format(PyExc_LookupError, "registry_get(): slot %lld is empty",
                     slot);
        return NULL;
    }
    return Py_NewRef(obj);
}

PyDoc_STRVAR(memory_registry_take_doc, "registry_take(slot)\n--\n\n"
    "Remove and return the object.");

/* The registry's reference is handed to the caller: no INCREF, no DECREF. */
static PyObject *
memory_registry_take(PyObject *module, PyObject *slot_obj)
{
    Registry *registry = &get_state(module)->registry;
    long long slot;
    if (int_in_range(slot_obj, 0, REGISTRY_SLOTS - 1,
                     "registry_take() argument 'slot'", &slot) < 0) {
        return NULL;
    }
    PyObject *obj = registry_take(registry, (int)slot);
    if (obj == NULL) {
        PyErr_Format(PyExc_LookupError, "registry_take(): slot %lld is empty",
                     slot);
    }
    return obj;
}
/* [/excerpt: registry_get_take] */

/* --- counters and the failure switch ------------------------------------ */

PyDoc_STRVAR(memory_counters_doc, "counters()\n--\n\n"
    "What C has allocated and not freed.");

/* The library's counters are the whole process's; the registry's count is
 * this module object's. */
static PyObject *
memory_counters(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    return Py_BuildValue("{s:l,s:l,s:l,s:i}",
                         "allocations", mem_live_allocations(),
                         "persons", mem_live_persons(),
                         "blocks", mem_live_blocks(),
                         "registry",
                         registry_count(&get_state(module)->registry));
}

PyDoc_STRVAR(memory_fail_allocation_doc, "fail_allocation(nth)\n--\n\n"
    "Make C's nth allocation from now fail (0: off).");

static PyObject *
memory_fail_allocation(PyObject *Py_UNUSED(module), PyObject *nth_obj)
{
    long long nth;
    if (int_in_range(nth_obj, 0, INT_MAX, "fail_allocation() argument 'nth'",
                     &nth) < 0) {
        return NULL;
    }
    mem_fail_allocation((int)nth);
    Py_RETURN_NONE;
}

/* --- the module ---------------------------------------------------------- */

/* [excerpt: module_gc] */
/* The registry is C memory, but what it holds are Python objects that this
 * module object owns: the garbage collector must see them (a cycle through
 * the registry could otherwise never be collected), and the module gives
 * them back when it goes away.  Its own registry, no other module's. */
static int
memory_traverse(PyObject *module, visitproc visit, void *arg)
{
    Registry *registry = &get_state(module)->registry;
    for (int slot = 0; slot < REGISTRY_SLOTS; slot++) {
        PyObject *obj = registry_get(registry, slot);
        Py_VISIT(obj);
    }
    return 0;
}

static int
memory_clear(PyObject *module)
{
    Registry *registry = &get_state(module)->registry;
    for (int slot = 0; slot < REGISTRY_SLOTS; slot++) {
        PyObject *obj = registry_take(registry, slot);  /* its reference */
        Py_XDECREF(obj);
    }
    return 0;
}

static void
memory_free(void *module)
{
    memory_clear(module);
}
/* [/excerpt: module_gc] */

/* [excerpt: module_exec] */
/* A new heap type for this module object, added to it as an attribute.
 * The type keeps a reference to the module (PyType_GetModule finds it). */
static int
add_type(PyObject *module, PyType_Spec *spec)
{
    PyObject *type = PyType_FromModuleAndSpec(module, spec, NULL);
    if (type == NULL) {
        return -1;
    }
    int result = PyModule_AddType(module, (PyTypeObject *)type);
    Py_DECREF(type);
    return result;
}

/* Runs once for each module object, with its state zero-filled: the
 * registry starts empty. */
static int
memory_exec(PyObject *module)
{
    if (add_type(module, &Person_spec) < 0
        || add_type(module, &Block_spec) < 0
        || PyModule_AddIntConstant(module, "REGISTRY_SLOTS",
                                   REGISTRY_SLOTS) < 0
        || PyModule_AddIntConstant(module, "BLOCK_MAX", BLOCK_MAX) < 0) {
        return -1;
    }
    return 0;
}
/* [/excerpt: module_exec] */

static PyMethodDef memory_methods[] = {
    {"person_new", AS_PYCFUNCTION(memory_person_new),
     METH_VARARGS | METH_KEYWORDS, memory_person_new_doc},
    {"person_get", memory_person_get, METH_O, memory_person_get_doc},
    {"person_birthday", memory_person_birthday,
     METH_O, memory_person_birthday_doc},
    {"person_free", memory_person_free, METH_O, memory_person_free_doc},
    {"registry_put", memory_registry_put, METH_O, memory_registry_put_doc},
    {"registry_get", memory_registry_get, METH_O, memory_registry_get_doc},
    {"registry_take", memory_registry_take, METH_O, memory_registry_take_doc},
    {"counters", memory_counters, METH_NOARGS, memory_counters_doc},
    {"fail_allocation", memory_fail_allocation,
     METH_O, memory_fail_allocation_doc},
    {NULL, NULL, 0, NULL}  /* sentinel */
};

/* [excerpt: module_def] */
static PyModuleDef_Slot memory_slots[] = {
    {Py_mod_exec, memory_exec},
    /* Before 3.12 (Py_mod_multiple_interpreters) and 3.13 (Py_mod_gil),
     * or under the Limited API of an older version, these names come from
     * common.h, which makes each of these slots a Py_mod_exec. */
    /* memory_lib's counters and failure switch are process-wide: each
     * interpreter would count the others' allocations, so no own GIL */
    {Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_SUPPORTED},
    /* every registry relies on the GIL to take turns */
    {Py_mod_gil, Py_MOD_GIL_USED},
    {0, NULL}  /* sentinel */
};

static struct PyModuleDef memory_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "memory_capi",
    .m_doc = "Stage 04, road 1: who allocates, who holds, who frees.",
    .m_size = sizeof(memory_state),     /* Python allocates it, zero-filled */
    .m_methods = memory_methods,
    .m_slots = memory_slots,
    .m_traverse = memory_traverse,
    .m_clear = memory_clear,
    .m_free = memory_free,
};
/* [/excerpt: module_def] */

PyMODINIT_FUNC
PyInit_memory_capi(void)
{
    return PyModuleDef_Init(&memory_module);
}
