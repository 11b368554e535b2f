"""Module isolation: a second module object, and a second interpreter.

Python can hold two objects of one extension module: after
`del sys.modules[name]` the next import runs the module's initialisation
again, and a subinterpreter imports its own copy.  Each C-API module says in
its slot table what it supports (Py_mod_multiple_interpreters, 3.12+; on
3.10 and 3.11 common.h gives the same answers).  These tests hold each
module to its word:

- re-import, then collect the old module object: the new one still works,
  and so do objects made by the old one;
- a subinterpreter imports the module if and only if the module says it
  may, and whatever the subinterpreter does leaves the main one alone.

The modules are found in the stage folders: every <topic>_capi.c whose
name does not start with `_`; the code that uses each one is in its
stage's _checks.py (ISOLATION), and a module without it fails.  Stage 04's
registry, the one piece of module state, has more isolation tests in
test_04_memory.py.  Each check runs in a child
interpreter (a broken module could crash the process), the children of
one test side by side.
"""

import concurrent.futures
import re
import sys
import pathlib
import tempfile
import textwrap
import unittest

import support

# From 3.12, the subinterpreters that support.run_in_subinterpreter makes
# are isolated: they have their own GIL.  A module must then declare
# Py_MOD_PER_INTERPRETER_GIL_SUPPORTED; Py_MOD_MULTIPLE_INTERPRETERS_SUPPORTED
# only allows interpreters that share the main one's GIL.
OWN_GIL = sys.version_info >= (3, 12)

# What each value of the Py_mod_multiple_interpreters slot promises.
DECLARATIONS = {
    "Py_MOD_PER_INTERPRETER_GIL_SUPPORTED": "own GIL",
    "Py_MOD_MULTIPLE_INTERPRETERS_SUPPORTED": "shared GIL",
    "Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED": "main only",
}
# Written out in the slot table, or given to common.h's FFI_MODULE or
# FFI_MODULE_EXEC(prefix, name, doc, interpreters, gil).
SLOT = re.compile(r'\{\s*Py_mod_multiple_interpreters\s*,\s*(\w+)\s*\}'
                  r'|\bFFI_MODULE(?:_EXEC)?\(\s*\w+\s*,\s*\w+\s*,'
                  r'\s*(?:"(?:[^"\\]|\\.)*"\s*)+,\s*(\w+)\s*,')


def road1_modules(stages):
    """{module: (stage, use code or None, declaration or None)}: every
    public C-API module (<topic>_capi.c, built as CAPI_NAME when the
    Makefile names one), what its slot table declares, and the code from
    the stage's _checks.py ISOLATION that uses it."""
    found = {}
    for stage_dir in stages:
        road1 = "%s_capi" % support.stage_topic(stage_dir)
        use = getattr(support.stage_checks(stage_dir), "ISOLATION", {})
        for source in sorted(stage_dir.glob("*_capi.c")):
            if source.name.startswith("_"):
                continue        # private: a deliberate bug, not a module
            name = (support.capi_name(stage_dir) if source.stem == road1
                    else source.stem)
            slot = SLOT.search(source.read_text())
            declared = slot and (slot.group(1) or slot.group(2))
            found[name] = (stage_dir.name[:2], use.get(name),
                           DECLARATIONS.get(declared) if slot else None)
    return found


MODULES = road1_modules(support.stages())


def subinterpreter_may_import(declaration):
    return {"own GIL": True, "shared GIL": not OWN_GIL,
            "main only": False}[declaration]


def reimport_code(name, use):
    return """
        import gc, sys
        import %(name)s as M
        %(use)s
        old = M
        del sys.modules[%(name)r]
        import %(name)s as M
        assert M is not old, "the import made no new module"
        del old
        gc.collect()
        %(use)s
        """ % {"name": name, "use": use.replace("\n", "\n        ")}


def subinterpreter_code(name, use):
    return """
        import sys
        import support
        import %(name)s as M
        sub = "import sys; sys.path[:0] = %%r\\n" %% sys.path
        sub += "import %(name)s as M\\n" + %(sub_use)r
        print(support.run_in_subinterpreter(sub))
        %(use)s
        """ % {"name": name, "sub_use": use,
               "use": use.replace("\n", "\n        ")}


def run_children(make_code):
    """{module: CompletedProcess} of one child per module, all at once."""
    with concurrent.futures.ThreadPoolExecutor(len(MODULES)) as pool:
        futures = {name: pool.submit(support.run_python,
                                     textwrap.dedent(make_code(name, use)),
                                     stage=stage)
                   for name, (stage, use, _) in MODULES.items() if use}
        return {name: future.result() for name, future in futures.items()}


class TestIsolation(unittest.TestCase):

    def test_every_module_declares_and_is_used(self):
        for name, (stage, use, declaration) in MODULES.items():
            with self.subTest(module=name):
                self.assertIsNotNone(declaration, "%s: no "
                                     "Py_mod_multiple_interpreters slot in "
                                     "its slot table" % name)
                self.assertTrue(use, "%s: no code that uses it: add it to "
                                "ISOLATION in stage %s's _checks.py"
                                % (name, stage))

    def test_every_public_capi_module_is_found(self):
        # Discovery can fail: a stage folder with a C-API module that
        # _checks.py forgot, one private module, one renamed by CAPI_NAME,
        # one that declares through FFI_MODULE_EXEC.
        with tempfile.TemporaryDirectory() as tmp:
            stage = pathlib.Path(tmp) / "09-demo"
            stage.mkdir()
            (stage / "Makefile").write_text("TOPIC := demo\n")
            (stage / "demo_capi.c").write_text(
                "{Py_mod_multiple_interpreters, "
                "Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED},\n")
            (stage / "_bugs_capi.c").write_text("")
            # A module that gives its declaration to common.h's macro.
            (stage / "other_capi.c").write_text(
                'FFI_MODULE_EXEC(other, other_capi,\n'
                '                "Says \\"hello\\", " "in two parts.",\n'
                '                Py_MOD_PER_INTERPRETER_GIL_SUPPORTED, '
                'Py_MOD_GIL_USED)\n')
            self.assertEqual(road1_modules([stage]),
                             {"demo_capi": ("09", None, "main only"),
                              "other_capi": ("09", None, "own GIL")})
            (stage / "Makefile").write_text("TOPIC := demo\n"
                                            "CAPI_NAME := demo_mod\n")
            self.assertEqual(list(road1_modules([stage])),
                             ["demo_mod", "other_capi"])

    def assert_child_ok(self, proc):
        self.assertEqual(proc.returncode, 0, "child %s:\n%s%s" % (
            support.describe_exit(proc.returncode), proc.stdout,
            proc.stderr[-3000:]))

    def test_reimport_and_collect_the_old_module(self):
        procs = run_children(reimport_code)
        for name in procs:
            with self.subTest(module=name):
                self.assert_child_ok(procs[name])

    def test_subinterpreter_imports_only_where_declared(self):
        if support.subinterpreters_module() is None:
            self.skipTest("this interpreter has no subinterpreter module "
                          "(_interpreters or _xxsubinterpreters)")
        procs = run_children(subinterpreter_code)
        for name, proc in procs.items():
            declaration = MODULES[name][2]
            with self.subTest(module=name, declaration=declaration):
                self.assert_child_ok(procs[name])
                out = procs[name].stdout
                if subinterpreter_may_import(declaration):
                    self.assertEqual(out.strip(), "None")
                else:
                    self.assertEqual(
                        out.strip(), "ImportError: module %s does not "
                        "support loading in subinterpreters" % name)


if __name__ == "__main__":
    unittest.main()
