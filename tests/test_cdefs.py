"""Every cffi cdef says what its C header says.

cffi reads C declarations as text, so each stage writes its declarations
twice: in the C header (`<topic>_lib.h`) and in the cdef of its cffi road.
API mode compiles the cdef against the header, but C converts arguments
silently: a cdef that says `int` where the header now says `long` still
compiles, and cuts every value to 32 bits; ABI mode checks nothing at all.
So this file reads both texts and compares them, declaration by
declaration (comments, spacing and a trailing comma aside): every function,
variable, typedef, struct and enum that a cdef declares must stand the same
in the header, parameter names included.  A cdef may declare less than its
header; what it leaves to C (`...`) and its extern "Python" callbacks,
which C does not declare, are not compared.

No cffi needed: the cdefs are read from the source files with `ast`.
"""
import ast
import pathlib
import re
import tempfile
import unittest

import support

# A file that declares wrong cdefs on purpose (to show what a wrong
# declaration does) says so with this comment, and is not compared.
WRONG_ON_PURPOSE = "# cdefs wrong on purpose: tests/test_cdefs.py skips this file"


def builder_name(stage_dir):
    """build_<topic>_cffi.py, <topic> read from the stage's Makefile."""
    return "build_%s_cffi.py" % (support.stage_topic(stage_dir) or "?")


def cdef_files(stage_dir):
    """The files of a stage folder that hold its cdef text: its builder,
    and every other .py file with string constants passed to a .cdef()
    call or assigned to a module-level name that starts "CDEF", except
    those marked WRONG_ON_PURPOSE."""
    found = [builder_name(stage_dir)]
    for path in sorted(stage_dir.glob("*.py")):
        text = path.read_text()
        if path.name in found or WRONG_ON_PURPOSE in text:
            continue
        if (".cdef(" in text or "CDEF" in text) and cdef_texts(path):
            found.append(path.name)
    return found


def cdef_texts(path):
    """The cdef strings written in the Python file `path`."""
    texts = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if (isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "cdef"):
            parts = node.args[:1]
        elif isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id.startswith("CDEF")
                for t in node.targets):
            parts = [node.value]
        else:
            continue
        texts += [n.value for part in parts for n in ast.walk(part)
                  if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    return texts


def _statements(text):
    """The top-level declarations of C text, comments and preprocessor
    lines removed; a function with a body ends at its closing brace."""
    text = re.sub(r"/\*.*?\*/|//[^\n]*", " ", text, flags=re.S)
    text = re.sub(r"^[ \t]*#.*$", " ", text, flags=re.M)
    text = re.sub(r"__attribute__\s*\(\(.*?\)\)", " ", text)
    statements, start, depth = [], 0, 0
    for i, char in enumerate(text):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0 and text[start:text.index("{", start)].rstrip() \
                    .endswith(")"):
                statements.append(text[start:i + 1])   # a function body
                start = i + 1
        elif char == ";" and depth == 0:
            statements.append(text[start:i])
            start = i + 1
    return [s for s in (_normal(s) for s in statements) if s]


def _normal(declaration):
    """One spelling of a declaration: no space beside punctuation, single
    spaces elsewhere, no trailing comma in an enum."""
    text = re.sub(r"\s+", " ", declaration).strip()
    text = re.sub(r" ?([(){}\[\],;*]) ?", r"\1", text)
    return text.replace(",}", "}")


def _name(declaration):
    """What a declaration declares: "struct person", "step_fn", "add"."""
    if declaration.startswith("typedef"):
        pointer = re.search(r"\(\*(\w+)\)", declaration)
        return pointer.group(1) if pointer else \
            re.findall(r"\w+", declaration)[-1]
    tagged = re.match(r"(?:struct|enum|union) \w+(?=\{)", declaration)
    if tagged:
        return tagged.group(0)
    call = re.match(r"[^(]*?(\w+)\(", declaration)
    if call:
        return call.group(1)
    return re.findall(r"\w+", declaration)[-1]


def declarations(text):
    """{name: declaration} for C text (a header or a cdef), in one
    spelling each."""
    return {_name(d): d for d in _statements(text)}


def disagreements(cdef, header):
    """What the cdef text declares differently from the header text, or
    not at all there: a list of lines, empty when they agree."""
    c_side = declarations(header)
    problems = []
    for name, declared in declarations(cdef).items():
        if "..." in declared or declared.startswith('extern "Python"'):
            continue
        if name not in c_side:
            problems.append("%s: not in the header" % name)
        elif c_side[name] != declared:
            problems.append("%s:\n  cdef:   %s\n  header: %s"
                            % (name, declared, c_side[name]))
    return problems


class TestCdefsMatchHeaders(unittest.TestCase):

    def test_each_cdef_declares_what_its_header_declares(self):
        for folder in support.stages():
            header, = folder.glob("*_lib.h")
            for name in cdef_files(folder):
                with self.subTest(stage=folder.name, file=name):
                    path = folder / name
                    self.assertTrue(path.is_file(), "no %s" % name)
                    texts = cdef_texts(path)
                    self.assertTrue(texts, "no cdef text found in %s" % name)
                    problems = disagreements("\n".join(texts),
                                             header.read_text())
                    self.assertEqual(problems, [], "%s disagrees with %s:\n%s"
                                     % (name, header.name,
                                        "\n".join(problems)))

    def test_every_file_with_cdef_text_is_found(self):
        # Discovery, not a list: the builder, a helper holding CDEF text,
        # not the file marked wrong on purpose nor one without a cdef.
        with tempfile.TemporaryDirectory() as tmp:
            folder = pathlib.Path(tmp)
            files = {
                "Makefile": "TOPIC := demo\ninclude ../common.mk\n",
                "build_demo_cffi.py": 'ffi.cdef("int f(int a);")\n',
                "_road2.py": 'CDEF_MORE = "int g(void);"\n',
                "demo_abi.py": "ffi.cdef(CDEF_MORE)\n",
                "wrong_abi.py": WRONG_ON_PURPOSE + '\nffi.cdef("long f();")\n',
                "run.py": "print('no cdef here')\n"}
            for name, text in files.items():
                (folder / name).write_text(text)
            self.assertEqual(cdef_files(folder),
                             ["build_demo_cffi.py", "_road2.py"])
            (folder / "build_demo_cffi.py").unlink()
            # A missing builder is still named, and the test then fails.
            self.assertEqual(cdef_files(folder)[0], "build_demo_cffi.py")

    def test_a_changed_declaration_is_noticed(self):
        # The check itself can fail: a type, a parameter name, a field and
        # an enum value that drifted, and a function the header lacks.
        header = """
            /* the header */
            int add(int a, int b);
            struct point {
                int x;      /* across */
                int y;
            } __attribute__((packed));
            enum mode { SLOW = 0, FAST = 1, };
            static inline int twice(int x)
            {
                return 2 * x;
            }
            double half(double x);
        """
        self.assertEqual(disagreements(
            "int add(int a, int b); struct point { int x; int y; };"
            "enum mode { SLOW = 0, FAST = 1 }; double half(double x);"
            'extern "Python" int py_cb(void *); typedef struct t { ...; } t;',
            header), [])
        for cdef, what in (("long add(long a, long b);", "add"),
                           ("int add(int x, int y);", "add"),
                           ("struct point { int x; long y; };", "struct point"),
                           ("enum mode { SLOW = 0, FAST = 2 };", "enum mode"),
                           ("double half(float x);", "half"),
                           ("int twice(int x);", "twice"),
                           ("int sub(int a, int b);", "sub")):
            with self.subTest(cdef=cdef):
                problems = disagreements(cdef, header)
                self.assertEqual(len(problems), 1, problems)
                self.assertTrue(problems[0].startswith(what + ":"), problems)


if __name__ == "__main__":
    unittest.main()
