"""Road 2's range check is one function, written once per stage.

Each stage folder must work on its own and from its wheel, so the cffi
roads cannot import one shared file: every stage that needs
`_int_in_range` (the twin of common.h's int_in_range) has its own copy.
This test keeps the copies identical, so that a fix made in one is made
in all.  No cffi needed: the sources are read with `ast`.
"""
import ast
import re
import unittest

import support

# The copy that `make new-stage` puts into a new stage.
TEMPLATE = support.TESTS / "template" / "stage" / "@topic@_cffi.py.in"


def copies():
    """{path relative to the top: source} of every road-2 file of every
    stage that defines _int_in_range, found in the folders (no list)."""
    found = {}
    for stage in support.stages():
        for pattern in ("*_cffi.py", "*_abi.py", "_*.py"):
            for path in sorted(stage.glob(pattern)):
                source = helper_source(path)
                if source is not None:
                    found[str(path.relative_to(support.ROOT))] = source
    return found


def helper_source(path):
    """The source text of the module-level function _int_in_range."""
    return helper_text(path.read_text(encoding="utf-8"))


def helper_text(text):
    """The same, from the text of a module."""
    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef) and node.name == "_int_in_range":
            return ast.get_source_segment(text, node)
    return None


class OneRangeCheck(unittest.TestCase):

    def test_every_copy_is_the_same(self):
        # The template's copy too: a new stage starts with the same one.
        sources = copies()
        self.assertGreaterEqual(len(sources), 1, "no _int_in_range found")
        # (its @placeholders@ filled, as new_stage.py fills them)
        text = TEMPLATE.read_text(encoding="utf-8")
        sources[str(TEMPLATE.relative_to(support.ROOT))] = helper_text(
            re.sub(r"@(\w+)@", r"\1", text))
        first_name, first = next(iter(sources.items()))
        for name, source in sources.items():
            self.assertIsNotNone(source, "%s has no _int_in_range" % name)
            self.assertEqual(source, first, "%s's _int_in_range differs "
                             "from %s's" % (name, first_name))

    def test_the_stages_that_range_check_are_found(self):
        # The stages whose road 2 takes C ints: 01 (add), 02, 03, 04.
        names = copies()
        for stage in ("01", "02", "03", "04"):
            self.assertTrue(any(n.startswith(stage + "-") for n in names),
                            "no _int_in_range found in stage %s" % stage)

    def test_the_copy_reads_the_value_not_the_operators(self):
        namespace = {}
        exec("import operator\n" + next(iter(copies().values())),
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
