"""Keep the chapters in docs/ honest: code is cut from real files, output
is the real output of `make run-N`.

In a source file, an excerpt is the lines between two marker lines, in
whatever comment syntax the language has:

    /* [excerpt: add] */           # [excerpt: builder]
    ...                            ...
    /* [/excerpt: add] */          # [/excerpt: builder]

Marker lines are never part of an excerpt (nested markers are dropped too),
and the common indentation is removed.

In a chapter, a directive on the line just above a fenced block says where
the block comes from:

    <!-- excerpt: 01-extern/extern_lib.c add -->
    <!-- output: 01-extern -->              (or a path to an output file)

An excerpt block must equal the excerpt; an output block must match a run
of consecutive lines of the stage's expected-output.txt (whose <*> parts
match anything).

    python3 tests/harness/excerpts.py          # check, exit 1 on drift
    python3 tests/harness/excerpts.py --write  # rewrite the excerpt blocks
    python3 tests/harness/excerpts.py --write docs/01-extern.md  # one chapter
"""

import re
import sys
import textwrap
from pathlib import Path

# support.py is in tests/; importing it puts tests/harness/ on sys.path too
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import support  # noqa: E402

DOCS = support.ROOT / "docs"
START = re.compile(r"\[excerpt:\s*([\w.-]+)\s*\]")
END = re.compile(r"\[/excerpt:\s*([\w.-]+)\s*\]")
DIRECTIVE = re.compile(r"^<!--\s*(excerpt|output):\s*(\S+)(?:\s+(\S+))?\s*-->$")
FENCE = re.compile(r"^(```+|~~~+)")


class DocError(Exception):
    pass


def excerpt(path, name):
    """The text of excerpt `name` in file `path` (relative to the root)."""
    source = support.ROOT / path
    if not source.is_file():
        raise DocError("no file %s" % path)
    lines = source.read_text().splitlines()
    inside = False
    taken = []
    for line in lines:
        start, end = START.search(line), END.search(line)
        if start and start.group(1) == name:
            if inside:
                raise DocError("%s: excerpt %r opened twice" % (path, name))
            inside = True
            continue
        if end and end.group(1) == name:
            if not inside:
                raise DocError("%s: excerpt %r closed before it opened"
                               % (path, name))
            return textwrap.dedent("\n".join(taken)).strip("\n")
        if inside and not (start or end):
            taken.append(line)
    if inside:
        raise DocError("%s: excerpt %r is never closed" % (path, name))
    raise DocError("%s: no excerpt named %r" % (path, name))


def expected_output(target):
    path = support.ROOT / target
    if path.is_dir():
        path = path / "expected-output.txt"
    if not path.is_file():
        raise DocError("no expected output %s" % path.relative_to(support.ROOT))
    return path.read_text()


def blocks(text):
    """Yield (directive kind, args, first line index, end line index) for
    every directive followed by a fenced block; content is lines[first:end]."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        match = DIRECTIVE.match(lines[i].strip())
        if match:
            if i + 1 >= len(lines) or not FENCE.match(lines[i + 1]):
                raise DocError("line %d: directive not followed by a fenced "
                               "block" % (i + 1))
            fence = FENCE.match(lines[i + 1]).group(1)
            end = i + 2
            while end < len(lines) and lines[end].rstrip() != fence:
                end += 1
            if end >= len(lines):
                raise DocError("line %d: fenced block never closed" % (i + 2))
            yield match.group(1), match.group(2, 3), i + 2, end, i + 1
            i = end
        i += 1


def check_chapter(path, write=False):
    """Return a list of problems in one chapter (rewriting it if `write`)."""
    text = path.read_text()
    lines = text.splitlines()
    problems = []
    replacements = []
    try:
        for kind, (arg1, arg2), first, end, line_no in blocks(text):
            body = "\n".join(lines[first:end])
            where = "%s:%d" % (path.relative_to(support.ROOT), line_no)
            try:
                if kind == "excerpt":
                    if not arg2:
                        raise DocError("excerpt directive needs FILE NAME")
                    want = excerpt(arg1, arg2)
                    if body != want:
                        if write:
                            replacements.append((first, end, want))
                        else:
                            problems.append("%s: excerpt %s %s has drifted "
                                            "from the source (make docs)"
                                            % (where, arg1, arg2))
                else:
                    if not support.find_run(body, expected_output(arg1)):
                        problems.append("%s: output block does not match %s's"
                                        " expected output" % (where, arg1))
            except DocError as exc:
                problems.append("%s: %s" % (where, exc))
    except DocError as exc:
        problems.append("%s: %s" % (path.relative_to(support.ROOT), exc))
    if write and replacements:
        for first, end, want in reversed(replacements):
            lines[first:end] = want.splitlines()
        path.write_text("\n".join(lines) + "\n")
    return problems


def chapters():
    return sorted(DOCS.glob("*.md"))


def main(argv):
    write = "--write" in argv
    named = [support.ROOT / a for a in argv if not a.startswith("--")]
    problems = []
    for chapter in named or chapters():
        problems += check_chapter(chapter, write=write)
    for problem in problems:
        print(problem)
    if not write:
        print("docs: %d chapters checked, %d problems"
              % (len(chapters()), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
