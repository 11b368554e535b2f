"""Road 2's range check is one function, written once per stage.

Each stage folder must work on its own and from its wheel, so the cffi
roads cannot import one shared file: every stage that needs
`_int_in_range` (the twin of common.h's int_in_range) has its own copy.
This test keeps the copies identical, so that a fix made in one is made
in all.  No cffi needed: the sources are read with `ast`.
"""
import ast
import unittest

import support

# Every road-2 file that range-checks an int argument.
FILES = ["01-extern/_cffi_road.py", "02-data-transfer/transfer_cffi.py",
         "03-layout/layout_cffi.py", "04-memory/memory_cffi.py"]


def helper_source(path):
    """The source text of the module-level function _int_in_range."""
    text = path.read_text(encoding="utf-8")
    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef) and node.name == "_int_in_range":
            return ast.get_source_segment(text, node)
    return None


class OneRangeCheck(unittest.TestCase):

    def test_every_copy_is_the_same(self):
        sources = {name: helper_source(support.ROOT / name) for name in FILES}
        for name, source in sources.items():
            self.assertIsNotNone(source, "%s has no _int_in_range" % name)
        first = sources[FILES[0]]
        for name in FILES[1:]:
            self.assertEqual(sources[name], first,
                             "%s's _int_in_range differs from %s's"
                             % (name, FILES[0]))

    def test_no_other_cffi_road_has_a_range_check_of_its_own(self):
        # A new wrapper that checks ints must use (and be listed with)
        # the same helper, not a variant.
        found = sorted(
            str(path.relative_to(support.ROOT))
            for stage in support.stages()
            for pattern in ("*_cffi.py", "*_abi.py", "_*.py")
            for path in stage.glob(pattern)
            if helper_source(path) is not None)
        self.assertEqual(found, sorted(FILES))

    def test_the_copy_reads_the_value_not_the_operators(self):
        namespace = {}
        exec("import operator\n" + helper_source(support.ROOT / FILES[0]),
             namespace)
        check = namespace["_int_in_range"]
        Lying = support.hostile.LyingRangeInt
        self.assertIs(type(check(Lying(5), 0, 9, "x")), int)
        self.assertIs(type(check(True, 0, 9, "x")), int)
        with self.assertRaisesRegex(OverflowError, "^x must be in 0..9$"):
            check(Lying(10), 0, 9, "x")
        with self.assertRaisesRegex(TypeError,
                                    "^x must be int, not ClaimsToBeInt$"):
            check(support.hostile.ClaimsToBeInt(5), 0, 9, "x")
        with self.assertRaisesRegex(TypeError, "^x must be int, not float$"):
            check(5.0, 0, 9, "x")


if __name__ == "__main__":
    unittest.main()
