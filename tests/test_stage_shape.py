"""Every stage folder has the same roles under the same names.

tests/README.md ("A stage folder") describes one shape; this test holds
every stage to it, so that a reader who has learned one stage finds the
same file in the same place in the next, and so that each check that
finds things by name (the cdef check, isolation, the wheels, the docs)
finds them.  What a stage adds beyond the roles sits in a subfolder whose
name says its role, from ROLE_FOLDERS.  The stages are found in the
folders (support.stages()); nothing here names one.
"""
import fnmatch
import os
import shutil
import tempfile
import unittest
from pathlib import Path

import support

# The files every stage has: pattern -> role.  <topic> is the stage's
# TOPIC (its Makefile says `TOPIC := ...`).
REQUIRED = {
    "Makefile": "the build: TOPIC := <topic>, include ../common.mk",
    "_checks.py": "what the shared tests need beyond the folder",
    "run.py": "the tour `make run` runs",
    "expected-output.txt": "the output of `make -s run`",
    "<topic>_lib.c": "the plain C library",
    "<topic>_lib.h": "its header",
    "<topic>_capi.c": "road 1, the hand-written C-API module",
    "build_<topic>_cffi.py": "road 2's API-mode builder",
    "<topic>_cffi.py": "road 2's public module (API mode)",
    "_common.py": "a link to ../common.py, the Python twin of common.h",
}
# The files a stage may have.
OPTIONAL = {
    "<topic>_abi.py": "road 2 in ABI mode (dlopen)",
    "_road2.py": "what road 2's API mode and ABI mode share",
}
# The subfolders: exercise/ in every stage, the others where the stage
# has that part.
EXERCISE = "exercise"
ROLE_FOLDERS = {
    "host": "more programs that host the stage (C hosts, the article's "
            "script)",
    "bench": "a benchmark, with its measured output",
    "bugs": "bug demonstrations, run in child processes",
    "packaging": "the wheel: pyproject.toml and setup.py",
}
# Build products (common.mk's CLEAN_PRODUCTS and .gitignore), not roles.
PRODUCTS = ("*.o", "*.a", "*.so", "_*_cffi.c", "__pycache__", "build",
            "build-*", "*.egg-info", ".pytest_cache")


def problems(stage):
    """What in `stage` breaks the shape, one line each (empty: none)."""
    found = []
    topic = (support.stage_topic(stage)
             if (stage / "Makefile").is_file() else None)
    if topic is None:
        return ["%s: no Makefile with `TOPIC := <topic>`" % stage.name]
    names = {entry.name: entry for entry in stage.iterdir()
             if not any(fnmatch.fnmatch(entry.name, product)
                        for product in PRODUCTS)}
    roles = {pattern.replace("<topic>", topic)
             for pattern in list(REQUIRED) + list(OPTIONAL)}
    for pattern, role in REQUIRED.items():
        name = pattern.replace("<topic>", topic)
        if name not in names:
            found.append("%s: no %s (%s)" % (stage.name, name, role))
    link = stage / "_common.py"
    if link.exists() and not (
            link.is_symlink()
            and os.readlink(link) == os.path.join("..", "common.py")):
        found.append("%s: _common.py must be a link to ../common.py"
                     % stage.name)
    exercise = stage / EXERCISE
    for name in ("hints.txt", topic + "_capi.c"):
        if not (exercise / name).is_file():
            found.append("%s: no %s/%s (the exercise)" % (stage.name,
                                                          EXERCISE, name))
    for name, entry in sorted(names.items()):
        if name in roles or name == EXERCISE:
            continue
        if entry.is_dir() and name in ROLE_FOLDERS:
            continue
        if entry.is_dir():
            found.append("%s: folder %s/ has no role: a stage's extra part "
                         "goes into one of %s" % (
                             stage.name, name,
                             ", ".join(f + "/" for f in ROLE_FOLDERS)))
        else:
            found.append("%s: %s has no role: see tests/README.md, "
                         "\"A stage folder\"" % (stage.name, name))
    return found


class StageShape(unittest.TestCase):

    def test_every_stage_has_the_roles_and_nothing_else(self):
        stages = support.stages()
        self.assertGreaterEqual(len(stages), 5)
        for stage in stages:
            with self.subTest(stage=stage.name):
                self.assertEqual(problems(stage), [])

    def test_the_readme_names_every_role(self):
        text = (support.TESTS / "README.md").read_text(encoding="utf-8")
        section = text.split("## A stage folder", 1)[1].split("\n## ", 1)[0]
        for name in (list(REQUIRED) + list(OPTIONAL)
                     + [f + "/" for f in list(ROLE_FOLDERS) + [EXERCISE]]):
            self.assertIn(name, section,
                          "tests/README.md's \"A stage folder\" does not "
                          "name %s" % name)


class OneProcessManyStages(unittest.TestCase):
    """The same role name in two stages: the tests, run in one process,
    get each stage's own module."""

    def test_each_stage_gets_its_own_road2(self):
        with_road2 = [stage for stage in support.stages()
                      if (stage / "_road2.py").is_file()]
        self.assertGreaterEqual(len(with_road2), 2)
        files = []
        for stage in with_road2 + with_road2[:1]:
            module = support.import_stage(stage.name[:2], "_road2")
            self.assertEqual(os.path.dirname(module.__file__), str(stage))
            files.append(module.__file__)
        self.assertEqual(len(set(files)), len(with_road2))


class TheShapeCheckCatches(unittest.TestCase):
    """The mistakes problems() must report, made in a copy of stage 02."""

    def setUp(self):
        self.work = Path(tempfile.mkdtemp(prefix="shape-"))
        self.addCleanup(shutil.rmtree, self.work, ignore_errors=True)
        source = support.stage_dir("02")
        self.stage = self.work / source.name
        shutil.copytree(source, self.stage, symlinks=True,
                        ignore=shutil.ignore_patterns(*PRODUCTS))
        self.assertEqual(problems(self.stage), [])

    def test_a_file_without_a_role(self):
        (self.stage / "declarations.py").write_text("x = 1\n")
        self.assertEqual(problems(self.stage), [
            "%s: declarations.py has no role: see tests/README.md, "
            "\"A stage folder\"" % self.stage.name])

    def test_a_folder_without_a_role(self):
        (self.stage / "crossing").mkdir()
        [problem] = problems(self.stage)
        self.assertIn("folder crossing/ has no role", problem)

    def test_a_missing_role(self):
        (self.stage / "transfer_cffi.py").unlink()
        [problem] = problems(self.stage)
        self.assertIn("no transfer_cffi.py", problem)

    def test_a_copy_instead_of_the_link(self):
        (self.stage / "_common.py").unlink()
        shutil.copy(support.ROOT / "common.py", self.stage / "_common.py")
        self.assertEqual(problems(self.stage), [
            "%s: _common.py must be a link to ../common.py"
            % self.stage.name])

    def test_a_missing_exercise(self):
        (self.stage / EXERCISE / "hints.txt").unlink()
        [problem] = problems(self.stage)
        self.assertIn("no exercise/hints.txt", problem)

    def test_a_role_folder_is_allowed(self):
        (self.stage / "bench").mkdir()
        self.assertEqual(problems(self.stage), [])


if __name__ == "__main__":
    unittest.main()
