"""Stage 03 tour: Python and C agree on the shape of data in memory.

    make run-3        (or: cd 03-layout && make && python3 run.py)

Every number about a C struct printed here comes from C itself (sizeof,
offsetof, _Alignof compiled into layout_lib.c), and each Python
declaration is compared with it.
"""
import struct
import sys

import _common
import _road2

# Line buffering: each line leaves Python's buffer when printed, so the
# output is the same on a terminal and through a pipe.
sys.stdout.reconfigure(line_buffering=True)

LETTERS = {"height": "h", "age": "a", "tag": "t", "id": "i", "flags": "f"}


# [excerpt: memory_map]
def memory_map(name, info):
    """Draw a struct as C reports it: one character per byte."""
    fields = info["fields"]
    used = sum(size for _, _, size, _ in fields)
    print("struct %s: sizeof %d, _Alignof %d, %d bytes of padding"
          % (name, info["size"], info["align"], info["size"] - used))
    cells = ["."] * info["size"]
    end = 0
    for field, offset, size, align in fields:
        if offset > end:
            print("  offset %2d  %-6s  %d bytes of padding"
                  % (end, "......", offset - end))
        misaligned = "  (misaligned!)" if offset % align else ""
        print("  offset %2d  %-6s  %d byte%s, _Alignof %d%s"
              % (offset, field, size, "s"[:size > 1], align, misaligned))
        cells[offset:offset + size] = LETTERS[field] * size
        end = offset + size
    if info["size"] > end:
        print("  offset %2d  %-6s  %d bytes of padding (the tail)"
              % (end, "......", info["size"] - end))
    print("  bytes  |%s|" % "|".join(cells))
# [/excerpt: memory_map]


def c_layouts(mod):
    print("-- C reports its layout (sizeof, offsetof, _Alignof) --")
    for name, info in mod.layout().items():
        memory_map(name, info)
    print()


def summary(info):
    offsets = " ".join("%s=%d" % (field, offset)
                       for field, offset, _, _ in info["fields"])
    return "size %2d  %s" % (info["size"], offsets)


def agree(info, c_info):
    """Same size and same (name, offset, size) for every field; alignment
    too where the declaration has one (struct formats do not)."""
    same = info["size"] == c_info["size"] and [
        f[:3] for f in info["fields"]] == [f[:3] for f in c_info["fields"]]
    if info["align"] is not None:
        same = same and info["align"] == c_info["align"] and [
            f[3] for f in info["fields"]] == [f[3] for f in c_info["fields"]]
    return "agrees with C" if same else "DIFFERS from C"


def python_declarations(mod):
    print("-- the same structs, declared in Python three ways --")
    c = mod.layout()
    ffi = _road2.cffi_ffi()
    for name in _road2.NAMES:
        print("struct %s" % name)
        print("  %-20s %s" % ("C", summary(c[name])))
        rows = []
        if ffi is not None:
            rows.append(("cffi cdef", _road2.cffi_layout(ffi, name)))
        rows.append(("ctypes.Structure", _road2.ctypes_layout(name)))
        for fmt in _road2.FORMATS[name]:
            rows.append(("struct %r" % fmt, _road2.struct_layout(name, fmt)))
        if name in _road2.WRONG_FORMATS:
            fmt = _road2.WRONG_FORMATS[name]
            rows.append(("struct %r" % fmt, _road2.struct_layout(name, fmt)))
        for label, info in rows:
            print("  %-20s %s  %s" % (label, summary(info),
                                      agree(info, c[name])))
    print()


def wrong_declarations():
    print("-- ABI mode believes the cdef: the same C bytes, read through "
          "wrong declarations --")
    try:
        import layout_abi
    except ImportError as exc:
        print("[py] skipped: %s" % _common.road_2_missing(exc))
        print()
        return
    for name in layout_abi.declarations():
        height, age = layout_abi.read_person(name)
        tag, id_, flags = layout_abi.read_record(name)
        print("  %-8s person: height=%-3d age=%-3d  record: tag=%d "
              "id=%#018x flags=%#06x" % (name, height, age, tag, id_, flags))
    print("  (no error anywhere: only the numbers say something is wrong)")
    print()


def crossing(mod, Person):
    print("-- structs crossing the boundary (%s) --" % mod.__name__)
    # [excerpt: crossing]
    mine = (180, 41)
    print("by value:    person_older(%r, 10) -> %r; mine is still %r"
          % (mine, mod.person_older(mine, 10), mine))

    someone = Person(height=180, age=41)    # ctypes: memory Python owns
    new_age = mod.birthday(someone)         # C gets a pointer to it
    print("by pointer:  birthday(Person(180, 41)) -> %d; the ctypes object "
          "now says age=%d" % (new_age, someone.age))

    people = struct.pack("@IIIIII", 170, 30, 160, 25, 190, 50)
    print("array:       total_age(3 persons packed with struct, %d bytes) "
          "-> %d" % (len(people), mod.total_age(people)))

    out = bytearray(_road2.ctypes_layout("record")["size"])
    mod.fill_record(out, 7, 0x1122334455667788, 0xBEEF)
    print("filled by C: %s" % out.hex(" "))
    print("  read back with struct '@BQH0Q': tag=%d id=%#x flags=%#x"
          % struct.unpack("@BQH0Q", out))
    # [/excerpt: crossing]
    packed = bytearray(_road2.ctypes_layout("record_packed")["size"])
    mod.fill_record_packed(packed, 7, 0x1122334455667788, 0xBEEF)
    print("packed twin: %s" % packed.hex(" "))
    print("  read back with struct '<BQH':   tag=%d id=%#x flags=%#x"
          % struct.unpack("<BQH", packed))
    print()


ITEMS = [42, True, 2.5, "hello", b"\x00\x01", [1, 2], {"a": 1},
         None, {1, 2}, 2**70]


def generic(mod, who):
    # [excerpt: walk_run]
    print("-- a generic object: %s (%s) --" % (who, mod.__name__))
    for item, text in zip(ITEMS, mod.walk(ITEMS)):
        print("  %-22r -> %s" % (item, text))
    # [/excerpt: walk_run]
    print()


def bad_input(mod):
    print("-- bad input becomes a Python exception, never a crash --")
    calls = ["person_older((180, -1), 1)", "person_older((2**32, 41), 1)",
             "person_older((180, '41'), 1)", "birthday(b'12345678')",
             "total_age(bytes(10))", "total_age(array.array('d', [1.0]))",
             "total_age(PersonBigEndian(180, 41))",
             "fill_record(bytearray(24), 300, 1, 1)", "walk((1, 2))"]
    env = {"mod": mod, "array": __import__("array"),
           "PersonBigEndian": _road2.PersonBigEndian}
    for call in calls:
        try:
            eval("mod." + call, env)
        except (TypeError, ValueError, OverflowError) as exc:
            print("[py] %s\n       -> %s: %s" % (call, type(exc).__name__,
                                                exc))
    print()


def limited_api(layout_capi):
    print("-- the Limited API build (layout_abi3.abi3.so) --")
    if sys.version_info < (3, 11):
        # The Makefile asks the same question and does not build it.
        print("not built for CPython %d.%d: the buffer protocol joined the "
              "Limited API in 3.11" % sys.version_info[:2])
        print()
        return
    import layout_abi3
    same = all(getattr(layout_abi3, name)(arg) == getattr(layout_capi,
                                                          name)(arg)
               for name, arg in (("walk", ITEMS),
                                 ("total_age", bytes(range(16)))))
    print("same answers as layout_capi: %s; layout() equal: %s"
          % (same, layout_abi3.layout() == layout_capi.layout()))
    print()


def main():
    import layout_capi
    c_layouts(layout_capi)
    python_declarations(layout_capi)
    crossing(layout_capi, _road2.Person)
    generic(layout_capi, "C checks the type of each item")
    bad_input(layout_capi)
    limited_api(layout_capi)
    try:
        import layout_cffi
    except ImportError as exc:
        print("-- road 2 skipped: %s --" % _common.road_2_missing(exc))
        return
    crossing(layout_cffi, _road2.Person)
    generic(layout_cffi, "C walks opaque handles, Python checks types")
    wrong_declarations()


if __name__ == "__main__":
    main()
