"""Start a stage of your own: `make new-stage TOPIC=name`.

    python3 tests/harness/new_stage.py NAME

Makes the next-numbered stage folder NN-NAME/ from
tests/harness/template/stage/ (a small C library, road 1, road 2, run.py
and its expected output, the exercise with its hints, _checks.py), its
contract tests/test_NN_NAME.py, and its chapter docs/NN-NAME.md, linked
from README.md and docs/README.md and placed after the last stage chapter
in the Previous/Next chain.  Then it cuts the exercise skeleton
(skeleton.py, beside this file) and the chapter's excerpts (excerpts.py)
from the new sources.  Every test and gate finds the stage by itself:
there is no list to edit.

A NAME that is not a C identifier starting with a letter, or that names a
stage that exists, is refused in one line with exit status 2.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

HARNESS = Path(__file__).resolve().parent
TEMPLATE = HARNESS / "template"
sys.path.insert(0, str(HARNESS.parent))
import support  # noqa: E402

ROOT = support.ROOT
TESTS = support.TESTS
CHAPTER_LINE = r"^- \[(?:\d+ · )?([^\]]+)\]\(%s\)"


def refuse(message):
    print("make new-stage: %s" % message, file=sys.stderr)
    raise SystemExit(2)


def fill(text, values):
    for key, value in values.items():
        text = text.replace("@%s@" % key, value)
    return text


def last_line_edit(path, old, new):
    """Replace `old` by `new` in the last non-empty line of path."""
    lines = path.read_text().split("\n")
    index = max(i for i, line in enumerate(lines) if line.strip())
    if old not in lines[index]:
        refuse("%s: its last line has no %r" % (path.name, old))
    lines[index] = lines[index].replace(old, new)
    path.write_text("\n".join(lines))


def insert_after(text, pattern, line, where):
    """text with `line` inserted after the last line matching pattern."""
    found = list(re.finditer(pattern + r".*\n", text, re.M))
    if not found:
        refuse("%s: no line matching %r to put the new one after"
               % (where, pattern))
    end = found[-1].end()
    return text[:end] + line + "\n" + text[end:]


def main(argv):
    topic = argv[0] if argv else ""
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", topic):
        refuse("TOPIC=%r must be a C identifier that starts with a letter, "
               "e.g. make new-stage TOPIC=mylib" % topic)
    stages = support.stages()
    for stage in stages:
        if stage.name[3:] == topic or support.stage_topic(stage) == topic:
            refuse("TOPIC=%s: stage %s exists already" % (topic, stage.name))
    number = int(stages[-1].name[:2]) + 1 if stages else 1
    if number > 99:
        refuse("no stage number left after %s" % stages[-1].name)
    nn = "%02d" % number
    name = "%s-%s" % (nn, topic)
    title = "Wrapping %s" % topic
    docs = ROOT / "docs"
    for path in (ROOT / name, docs / (name + ".md"),
                 TESTS / ("test_%s_%s.py" % (nn, topic))):
        if path.exists():
            refuse("%s exists already" % path.relative_to(ROOT))

    # The Previous/Next chain: the new chapter follows the last stage's.
    last = docs / (stages[-1].name + ".md")
    overview = (docs / "README.md").read_text()
    last_title = re.search(CHAPTER_LINE % re.escape(last.name), overview,
                           re.M).group(1)
    nxt = re.search(r"Next: (\[[^\]]*\]\(([^)]+)\))\s*$",
                    last.read_text().rstrip())
    if not nxt:
        refuse("%s has no 'Next:' last line" % last.name)
    values = {"topic": topic, "TOPIC": topic.upper(), "NN": nn,
              "N": str(number), "stage": name, "title": title,
              "previous": "[%s](%s)" % (last_title, last.name),
              "next": nxt.group(1)}

    for source in sorted((TEMPLATE / "stage").rglob("*.in")):
        target = ROOT / name / fill(str(source.relative_to(
            TEMPLATE / "stage"))[:-len(".in")], values)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(fill(source.read_text(), values))
    # Road 2's argument checks: the stage sees ../common.py as _common.py,
    # as every stage does (its C sees ../common.h).
    (ROOT / name / "_common.py").symlink_to(os.path.join("..", "common.py"))
    (TESTS / ("test_%s_%s.py" % (nn, topic))).write_text(
        fill((TEMPLATE / "test_stage.py.in").read_text(), values))
    chapter = docs / (name + ".md")
    chapter.write_text(fill((TEMPLATE / "chapter.md.in").read_text(),
                            values))

    # Link it: the last stage chapter's Next, the following one's
    # Previous, the overview's chapter list, the README's stage table.
    link = "[%s](%s)" % (title, chapter.name)
    last_line_edit(last, "Next: " + nxt.group(1), "Next: " + link)
    following = docs / nxt.group(2)
    if following.name != "README.md":
        last_line_edit(following, "Previous: [%s](%s)"
                       % (last_title, last.name), "Previous: " + link)
    (docs / "README.md").write_text(insert_after(
        overview, CHAPTER_LINE % re.escape(last.name),
        "- [%s · %s](%s): a C library of your own, on both roads, under "
        "every check." % (nn, title, chapter.name), "docs/README.md"))
    readme = ROOT / "README.md"
    readme.write_text(insert_after(
        readme.read_text(), r"^\|.*\(docs/%s\)" % re.escape(last.name),
        "| `%s` | [%s · %s](docs/%s) | a C library of your own, on both "
        "roads, under every check |" % (name, nn, title, chapter.name),
        "README.md"))

    # Cut what is generated from the new sources.
    for tool in (["skeleton.py", "write", nn],
                 ["excerpts.py", "--write", str(chapter)]):
        subprocess.run([sys.executable, str(HARNESS / tool[0])] + tool[1:],
                       check=True, cwd=str(ROOT), stdout=subprocess.DEVNULL)
    print("made %s/, tests/test_%s_%s.py and docs/%s.md.  Next: make run-%d,"
          " make test, then make it your own library (README.md, 'Wrap "
          "your own C library')." % (name, nn, topic, name, number))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
