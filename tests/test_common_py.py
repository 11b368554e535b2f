"""Road 2's argument checks are one file: common.py, the twin of common.h.

Every stage folder sees it as `_common.py`, a symbolic link to
../common.py, and its cffi modules import the helpers from there.  This
test finds every stage (no list), checks the link, and refuses a stage
file that writes a helper of its own again: a fix made in common.py must
reach every road.  No cffi needed: the sources are read with `ast`.
"""
import ast
import os
import re
import unittest

import support

TWIN = support.ROOT / "common.py"
HELPERS = ("type_error", "int_in_range", "uint_in_range", "check_exit_args")
# The names a stage's own copy would have: the helpers, with or without
# the leading underscore of a private function.
COPY_NAMES = {prefix + name for name in HELPERS for prefix in ("", "_")}
TEMPLATE = support.HARNESS / "template" / "stage"


def own_copies(text):
    """The module-level functions in `text` that copy a helper of common.py."""
    return [node.name for node in ast.parse(text).body
            if isinstance(node, ast.FunctionDef) and node.name in COPY_NAMES]


def python_files(folder):
    """The stage's own Python files (not the exercise, not build output)."""
    return [path for path in sorted(folder.rglob("*.py"))
            if path.name != "_common.py"
            and not any(part in ("exercise", "build", "__pycache__")
                        or part.startswith("build-")
                        for part in path.relative_to(folder).parts)]


def template_text(path):
    """A template file with its @placeholders@ filled, as new_stage.py does."""
    return re.sub(r"@(\w+)@", r"\1", path.read_text(encoding="utf-8"))


class OneTwin(unittest.TestCase):

    def test_every_stage_sees_common_py_through_a_link(self):
        stages = support.stages()
        self.assertGreaterEqual(len(stages), 5)
        for stage in stages:
            link = stage / "_common.py"
            with self.subTest(stage=stage.name):
                self.assertTrue(link.is_symlink(),
                                "%s is not a link to ../common.py" % link)
                self.assertEqual(os.readlink(link),
                                 os.path.join("..", "common.py"))
                self.assertEqual(link.resolve(), TWIN.resolve())

    def test_no_stage_writes_a_helper_of_its_own(self):
        for stage in support.stages():
            for path in python_files(stage):
                with self.subTest(path=str(path.relative_to(support.ROOT))):
                    self.assertEqual(
                        own_copies(path.read_text(encoding="utf-8")), [],
                        "%s defines its own copy: import it from _common"
                        % path.name)

    def test_the_template_imports_the_twin(self):
        texts = [template_text(path)
                 for path in sorted(TEMPLATE.rglob("*.py.in"))]
        self.assertTrue(texts, "no Python template found in %s" % TEMPLATE)
        for text in texts:
            self.assertEqual(own_copies(text), [])
        self.assertTrue(any("import _common" in text for text in texts),
                        "the template's road 2 does not import _common")

    def test_the_check_finds_a_copy(self):
        # The mistake the test above must catch: a stage that pastes the
        # helper back in, public or private.
        for name in ("int_in_range", "_int_in_range", "_type_error"):
            text = "import operator\n\ndef %s(value, lo, hi, what):\n" \
                   "    return value\n" % name
            self.assertEqual(own_copies(text), [name])
        self.assertEqual(own_copies(
            "import _common\nx = _common.int_in_range\n"), [])


class TheTwinItself(unittest.TestCase):
    """common.py reads the value, not the object's own operators."""

    @classmethod
    def setUpClass(cls):
        namespace = {"__name__": "common_under_test"}
        exec(compile(TWIN.read_text(encoding="utf-8"), str(TWIN), "exec"),
             namespace)
        cls.twin = namespace

    def test_int_in_range_returns_a_plain_int(self):
        check = self.twin["int_in_range"]
        Lying = support.hostile.LyingRangeInt
        self.assertIs(type(check(Lying(5), 0, 9, "x")), int)
        self.assertIs(type(check(True, 0, 9, "x")), int)
        self.assertEqual(check(-3, -5, 5, "x"), -3)

    def test_int_in_range_messages(self):
        check = self.twin["int_in_range"]
        with self.assertRaisesRegex(OverflowError, r"^x must be in 0\.\.9$"):
            check(support.hostile.LyingRangeInt(10), 0, 9, "x")
        with self.assertRaisesRegex(TypeError,
                                    "^x must be int, not ClaimsToBeInt$"):
            check(support.hostile.ClaimsToBeInt(5), 0, 9, "x")
        with self.assertRaisesRegex(TypeError, "^x must be int, not float$"):
            check(5.0, 0, 9, "x")

    def test_uint_in_range_starts_at_zero(self):
        check = self.twin["uint_in_range"]
        self.assertEqual(check(2**64 - 1, 2**64 - 1, "id"), 2**64 - 1)
        with self.assertRaisesRegex(OverflowError,
                                    r"^id must be in 0\.\.255$"):
            check(-1, 255, "id")

    def test_check_exit_args_wants_three(self):
        check = self.twin["check_exit_args"]
        self.assertIsNone(check("Person", (None, None, None)))
        with self.assertRaisesRegex(TypeError, r"^Person\.__exit__\(\) takes "
                                    r"3 arguments \(exc_type, exc_value, "
                                    r"traceback\), got 1$"):
            check("Person", (None,))

    def test_closing_closes_once_and_wants_three(self):
        closed = []

        class Thing(self.twin["Closing"]):
            __slots__ = ()

            def close(self):
                closed.append(1)

        with Thing() as thing:
            self.assertIsInstance(thing, Thing)
        self.assertEqual(closed, [1])
        with self.assertRaisesRegex(TypeError, r"^Thing\.__exit__\(\) takes "
                                    r"3 arguments .*, got 0$"):
            thing.__exit__()
        self.assertEqual(closed, [1])     # refused before close()

    def test_type_error_names_the_type(self):
        error = self.twin["type_error"]("f() argument 'a'", "str", b"x")
        self.assertIsInstance(error, TypeError)
        self.assertEqual(str(error), "f() argument 'a' must be str, not bytes")


if __name__ == "__main__":
    unittest.main()
