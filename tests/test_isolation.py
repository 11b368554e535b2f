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

Stage 04's registry, the one module with state of its own, has its own
isolation tests in test_04_memory.py.  Each check runs in a child
interpreter (a broken module could crash the process), the children of
one test side by side.
"""

import concurrent.futures
import sys
import textwrap
import unittest

import support

# From 3.12, the subinterpreters that support.run_in_subinterpreter makes
# are isolated: they have their own GIL.  A module must then declare
# Py_MOD_PER_INTERPRETER_GIL_SUPPORTED; Py_MOD_MULTIPLE_INTERPRETERS_SUPPORTED
# only allows interpreters that share the main one's GIL.
OWN_GIL = sys.version_info >= (3, 12)

# module -> (stage, code that uses it and checks an answer, its declaration)
MODULES = {
    "extern_capi": ("01", "assert M.add(2, 3) == 5\n"
                          "assert M.call_n_times(3, lambda i: None) == 3",
                    "shared GIL"),
    "transfer_capi": ("02", "assert M.reversed_text('abc') == 'cba'\n"
                            "assert M.sum_list([1, 2, 3]) == 6",
                      "own GIL"),
    "layout_capi": ("03", "assert M.walk([1])[0].startswith('int')",
                    "own GIL"),
    "tales_from_ffi": ("05", "L = M.Logger(buffer_size=64)\n"
                             "L.log('')\n"
                             "assert L.lock_free\n"
                             "L.flush()",
                       "main only"),
}


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
                   for name, (stage, use, _) in MODULES.items()}
        return {name: future.result() for name, future in futures.items()}


class TestIsolation(unittest.TestCase):

    def assert_child_ok(self, proc):
        self.assertEqual(proc.returncode, 0, "child %s:\n%s%s" % (
            support.describe_exit(proc.returncode), proc.stdout,
            proc.stderr[-3000:]))

    def test_reimport_and_collect_the_old_module(self):
        procs = run_children(reimport_code)
        for name in MODULES:
            with self.subTest(module=name):
                self.assert_child_ok(procs[name])

    def test_subinterpreter_imports_only_where_declared(self):
        if support.subinterpreters_module() is None:
            self.skipTest("this interpreter has no subinterpreter module "
                          "(_interpreters or _xxsubinterpreters)")
        procs = run_children(subinterpreter_code)
        for name, (stage, use, declaration) in MODULES.items():
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
