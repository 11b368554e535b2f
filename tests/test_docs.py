"""The chapters tell the truth: excerpts match their source files, output
blocks match the expected output, every stage has its chapter, and the
README links to each one.

The way through docs/ holds together: every relative link and #anchor
resolves, each chapter ends with its Previous/Next line in reading order,
the glossary has every term the chapters link to, no section is too long to
hold in the head, no tracker words reach the reader, and every Mermaid
block is a diagram."""
import pathlib
import re
import tempfile
import unicodedata
import unittest

import support  # first: it puts tests/harness/ on sys.path
import excerpts


class TestDocs(unittest.TestCase):
    def test_every_excerpt_and_output_block_matches(self):
        for chapter in excerpts.chapters():
            with self.subTest(chapter=chapter.name):
                self.assertEqual(excerpts.check_chapter(chapter), [])

    def test_every_stage_has_a_chapter_with_excerpts_and_output(self):
        for stage in support.stages():
            with self.subTest(stage=stage.name):
                chapter = excerpts.DOCS / (stage.name + ".md")
                self.assertTrue(chapter.is_file(), "no %s" % chapter.name)
                text = chapter.read_text()
                self.assertIn("<!-- excerpt: %s/" % stage.name, text)
                self.assertIn("<!-- output: %s" % stage.name, text)

    def test_readme_links_every_chapter(self):
        readme = (support.ROOT / "README.md").read_text()
        for stage in support.stages():
            with self.subTest(stage=stage.name):
                self.assertIn("(docs/%s.md)" % stage.name, readme)

    def test_checker_notices_drift(self):
        # The checker itself must be able to fail: a block that differs
        # from its excerpt by one character is reported.
        stage = support.stages()[0]
        chapter = excerpts.DOCS / (stage.name + ".md")
        text = chapter.read_text()
        match = re.search(r"<!-- excerpt: (\S+) (\S+) -->\n```\w*\n", text)
        self.assertIsNotNone(match, "no excerpt in %s" % chapter.name)
        start = match.end()
        broken = text[:start] + "x" + text[start:]
        scratch = support.ROOT / "docs" / ".drift-check.md"
        try:
            scratch.write_text(broken)
            self.assertEqual(len(excerpts.check_chapter(scratch)), 1)
        finally:
            scratch.unlink()

    def test_markers_in_sources_are_paired(self):
        for path in support.ROOT.glob("[0-9][0-9]-*/**/*"):
            if path.suffix not in (".c", ".h", ".py") and path.name != "Makefile":
                continue
            # Build folders (build/, build-optional/, build-asan/ ...)
            # hold generated code; skeletons are checked elsewhere.
            if any(part.startswith("build") for part in path.parts) \
                    or "exercise" in path.parts:
                continue
            text = path.read_text()
            opened = excerpts.START.findall(text)
            closed = excerpts.END.findall(text)
            with self.subTest(file=str(path.relative_to(support.ROOT))):
                self.assertEqual(sorted(opened), sorted(closed))
                for name in opened:
                    excerpts.excerpt(path.relative_to(support.ROOT), name)


# --- the way through docs/ -------------------------------------------------

# A chapter in the overview's "## Chapters" list: "- [NN · Title](NN-x.md)"
# for a stage's, "- [Title](x.md)" for a closing one (no number: the
# numbers belong to the stage folders).  The glossary is listed after it.
CHAPTER_LINK = re.compile(r"^- \[(?:\d+ · )?([^\]]+)\]\(([\w-]+\.md)\)",
                          re.M)


def chapter_list(text):
    """The overview's "## Chapters" section, up to its first blank line
    after the list."""
    section = text[text.index("## Chapters"):]
    return section.split("\n\n")[1]


def reading_order(docs, stages):
    """[(file, short title)]: the overview, each stage's chapter in the
    order of its number, then the closing chapters (the files
    that are no stage's) in the order docs/README.md's "## Chapters" lists
    them.  Titles are the link texts there, without their number."""
    text = (docs / "README.md").read_text()
    listed = dict((name, title) for title, name in
                  CHAPTER_LINK.findall(chapter_list(text)))
    order = [("README.md", "Overview")]
    stage_chapters = [stage.name + ".md" for stage in stages]
    order += [(name, listed.get(name, "?")) for name in stage_chapters]
    order += [(name, title) for name, title in listed.items()
              if name not in stage_chapters]
    return order


# Reading order and the short title every Previous/Next line uses.
ORDER = reading_order(excerpts.DOCS, support.stages())
# docs/glossary.md has a `### Heading` for each of these anchors.
GLOSSARY_ANCHORS = """
    ffi host-and-guest symbol static-and-dynamic-linking extension-module
    gil thread-state reference-count strong-reference borrowed-reference
    stolen-reference immortal-object api abi limited-api abi3 api-mode
    abi-mode cdata handle capsule trampoline buffer-export subinterpreter
    free-threaded-build wheel""".split()
MAX_SECTION_LINES = 150
MERMAID_TYPES = (
    "flowchart", "graph", "sequenceDiagram", "classDiagram", "stateDiagram",
    "stateDiagram-v2", "erDiagram", "journey", "gantt", "pie",
    "quadrantChart", "requirementDiagram", "gitGraph", "mindmap",
    "timeline", "xychart-beta", "sankey-beta", "block-beta", "packet-beta",
    "architecture-beta", "C4Context")
# Words about how this tutorial was made, not about FFI.  A Make target
# ("the bench target", "make help lists every target") is fine.
TRACKER_WORDS = re.compile(
    r"\bissues? ?#?\d+|\b(?:the|this|that|an|open|closed|filed) issues?\b"
    r"|\btickets?\b|\b(?:this|that|the|previous|next|a later|an earlier)"
    r" session\b|\bsessions? (?:of|in) work\b|\bwhat done looks like\b"
    r"|\b(?:performance|speed|latency|time) targets?\b"
    r"|\btargets? (?:are|is|was|were) (?:for|met|missed|reached)\b",
    re.IGNORECASE)

FENCE = re.compile(r"^\s*(```+|~~~+)\s*([\w+-]*)")
LINK = re.compile(r"(?<!!)\[(?:[^\[\]]|\[[^\]]*\])*\]\(([^()\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def split_fences(text):
    """[(is_code, language, [(line number, line)])]: the chapter cut into
    prose runs and fenced blocks (the fence lines themselves dropped)."""
    parts, current, in_code, language, fence = [], [], False, "", None
    for number, line in enumerate(text.splitlines(), start=1):
        match = FENCE.match(line)
        if not in_code and match:
            parts.append((False, "", current))
            current, in_code = [], True
            fence, language = match.group(1), match.group(2)
        elif in_code and line.strip() == fence:
            parts.append((True, language, current))
            current, in_code = [], False
        else:
            current.append((number, line))
    parts.append((in_code, language, current))
    return parts


def prose_lines(text, inline_code=False):
    """(number, line) of every line outside fenced blocks; inline code is
    blanked to `` unless inline_code is true."""
    for is_code, _, lines in split_fences(text):
        if not is_code:
            for number, line in lines:
                yield number, (line if inline_code
                               else re.sub(r"`[^`]*`", "``", line))


def github_slug(heading):
    """The anchor GitHub gives a heading: lower case, markup and
    punctuation dropped (letters, digits, spaces, - and _ stay), spaces
    become hyphens."""
    text = re.sub(r"<[^>]+>", "", heading)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)   # [text](url)
    text = text.lower()
    kept = []
    for char in text:
        if char in " -_" or unicodedata.category(char)[0] in "LN":
            kept.append(char)
    return "".join(kept).replace(" ", "-")


def anchors(path):
    """Every #anchor a Markdown file has: its headings (GitHub's slugs,
    with -1, -2 ... for repeats) and explicit <a id/name> tags."""
    found, seen = set(), {}
    text = path.read_text()
    for _, line in prose_lines(text, inline_code=True):
        match = HEADING.match(line)
        if match:
            slug = github_slug(match.group(2))
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            found.add(slug if count == 0 else "%s-%d" % (slug, count))
    found.update(re.findall(r"<a\s+(?:id|name)=\"([^\"]+)\"", text))
    return found


def link_problems(path):
    """Relative links in `path` whose file or #anchor does not exist."""
    problems = []
    cache = {}
    for number, line in prose_lines(path.read_text()):
        for target in LINK.findall(line):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):
                continue            # http:, https:, mailto:
            file_part, _, anchor = target.partition("#")
            dest = (path.parent / file_part).resolve() if file_part else path
            where = "%s:%d: %s" % (path.name, number, target)
            if not dest.exists():
                problems.append(where + ": no such file")
                continue
            if anchor:
                if dest.suffix != ".md":
                    problems.append(where + ": an anchor into a non-Markdown file")
                    continue
                if dest not in cache:
                    cache[dest] = anchors(dest)
                if anchor not in cache[dest]:
                    problems.append(where + ": no such anchor")
    return problems


def last_line(path):
    lines = [l for l in path.read_text().splitlines() if l.strip()]
    return lines[-1].strip() if lines else ""


def expected_last_line(index):
    def link(i):
        name, title = ORDER[i]
        return "[%s](%s)" % (title, name)
    if index == 0:
        return "Next: " + link(1)
    following = 0 if index == len(ORDER) - 1 else index + 1
    return "Previous: %s · Next: %s" % (link(index - 1), link(following))


def section_lengths(text):
    """[(heading, first line, length)] for every ## or ### section, each
    running to the next ## or ### heading (or the end)."""
    starts = []
    for number, line in prose_lines(text, inline_code=True):
        match = HEADING.match(line)
        if match and len(match.group(1)) in (2, 3):
            starts.append((number, match.group(2)))
    total = len(text.splitlines())
    result = []
    for i, (number, heading) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else total + 1
        result.append((heading, number, end - number))
    return result


def tracker_words(text):
    return ["line %d: %r" % (number, match.group(0))
            for number, line in prose_lines(text)
            for match in TRACKER_WORDS.finditer(line)]


def mermaid_problems(text):
    problems = []
    for is_code, language, lines in split_fences(text):
        if not is_code or language != "mermaid":
            continue
        body = [line for _, line in lines if line.strip()
                and not line.strip().startswith("%%")]
        where = "line %d" % (lines[0][0] if lines else 0)
        if not body:
            problems.append(where + ": empty mermaid block")
            continue
        kind = body[0].split()[0]
        if kind not in MERMAID_TYPES:
            problems.append(where + ": unknown diagram type %r" % kind)
        elif len(body) < 2:
            problems.append(where + ": a diagram type and nothing else")
    return problems


def docs_files():
    return sorted(excerpts.DOCS.glob("*.md"))


class TestWayThroughDocs(unittest.TestCase):
    def test_every_relative_link_and_anchor_resolves(self):
        for path in docs_files():
            with self.subTest(chapter=path.name):
                self.assertEqual(link_problems(path), [])

    def test_every_chapter_ends_with_previous_and_next(self):
        for index, (name, _) in enumerate(ORDER):
            with self.subTest(chapter=name):
                path = excerpts.DOCS / name
                self.assertTrue(path.is_file(), "no docs/%s" % name)
                self.assertEqual(last_line(path), expected_last_line(index))

    def test_reading_order_is_found_from_the_folders(self):
        # A stage without a line in the overview gets the title "?", and a
        # new stage comes after the others, before the closing chapters.
        with tempfile.TemporaryDirectory() as tmp:
            docs = pathlib.Path(tmp)
            (docs / "README.md").write_text(
                "## Chapters\n\n- [01 · One](01-one.md): a.\n"
                "- [Closing](closing.md): b.\n"
                "\nThe [glossary](glossary.md): c.\n")
            stages = [docs / "01-one", docs / "02-two"]
            self.assertEqual(reading_order(docs, stages), [
                ("README.md", "Overview"), ("01-one.md", "One"),
                ("02-two.md", "?"), ("closing.md", "Closing")])

    def test_overview_lists_every_chapter_in_order(self):
        text = (excerpts.DOCS / "README.md").read_text()
        index = chapter_list(text)
        positions = [index.find("](%s)" % name) for name, _ in ORDER[1:]]
        self.assertNotIn(-1, positions, positions)
        self.assertEqual(positions, sorted(positions))

    def test_glossary_has_every_term(self):
        found = anchors(excerpts.DOCS / "glossary.md")
        for anchor in GLOSSARY_ANCHORS:
            with self.subTest(anchor=anchor):
                self.assertIn(anchor, found)

    def test_no_tracker_words(self):
        for path in docs_files():
            with self.subTest(chapter=path.name):
                self.assertEqual(tracker_words(path.read_text()), [])

    def test_sections_are_short(self):
        for path in sorted(excerpts.DOCS.glob("0*.md")):
            long_ones = ["line %d: %s (%d lines)" % (number, heading, length)
                         for heading, number, length
                         in section_lengths(path.read_text())
                         if length > MAX_SECTION_LINES]
            with self.subTest(chapter=path.name):
                self.assertEqual(long_ones, [])

    def test_stage_chapters_core_path_is_short(self):
        # A stage chapter's core path (learn, run, the steps, the
        # exercise) is everything before "## Going deeper", counted as
        # `awk '/^## Going deeper/{exit} {print}' FILE | wc -w` counts it,
        # code included; hardening, promise tables and speed follow it.
        limit, heading = 4000, "## Going deeper"

        def core_words(text):
            lines = text.splitlines()
            if heading not in lines:
                return None
            return len(" ".join(lines[:lines.index(heading)]).split())

        # The check can fail: a chapter without the heading, and one whose
        # core path is one word too long.
        self.assertIsNone(core_words("# 01\n\n## Exercise\n"))
        too_long = "word " * (limit + 1) + "\n" + heading + "\nmore\n"
        self.assertEqual(core_words(too_long), limit + 1)
        for path in sorted(excerpts.DOCS.glob("0[1-5]-*.md")):
            words = core_words(path.read_text())
            print("  %s: core path %s words" % (path.name, words))
            with self.subTest(chapter=path.name):
                self.assertIsNotNone(words, "no '%s' heading" % heading)
                self.assertLessEqual(words, limit,
                                     "the core path is %d words, past %d: "
                                     "move depth below '%s'"
                                     % (words, limit, heading))

    def test_mermaid_blocks_are_diagrams(self):
        for path in docs_files():
            with self.subTest(chapter=path.name):
                self.assertEqual(mermaid_problems(path.read_text()), [])

    def test_every_mermaid_block_renders_in_a_browser(self):
        # shared/tools/mermaid/check_mermaid.py renders each block with
        # Debian's chromium and a vendored mermaid.js, offline; shared/ sits
        # beside the clone.  It must also fail, so a broken diagram goes in
        # with the chapters.
        import shutil
        import subprocess
        import sys
        import tempfile
        from pathlib import Path
        tool = next((parent / "shared" / "tools" / "mermaid" / "check_mermaid.py"
                     for parent in support.ROOT.parents
                     if (parent / "shared" / "tools" / "mermaid"
                         / "check_mermaid.py").is_file()), None)
        if tool is None or shutil.which("chromium") is None:
            self.skipTest("no chromium or no shared/tools/mermaid beside the "
                          "clone: apt-get install chromium")

        # One run of chromium: every chapter, beside a file with one good
        # and one broken diagram.  Only the broken one may fail.
        blocks = 2
        with tempfile.TemporaryDirectory() as scratch:
            for path in excerpts.DOCS.glob("*.md"):
                shutil.copy(path, scratch)
                blocks += path.read_text().count("```mermaid\n")
            (Path(scratch) / "zz-broken.md").write_text(
                "```mermaid\nflowchart LR\n  a --> b\n```\n\n"
                "```mermaid\nflowchart LR\n  a -->\n```\n")
            proc = subprocess.run([sys.executable, str(tool)], cwd=scratch,
                                  capture_output=True, text=True, timeout=240)
        failed = [line.split(":")[0] for line in proc.stdout.splitlines()
                  if ": ERR " in line]
        self.assertEqual((proc.returncode, failed), (1, ["zz-broken.md"]),
                         proc.stdout)
        self.assertTrue(proc.stdout.rstrip().endswith(
            "mermaid: %d of %d diagrams render" % (blocks - 1, blocks)),
            proc.stdout)


class TestTheChecksCanFail(unittest.TestCase):
    """Each check above, given a broken text, says so."""

    def test_slugs_follow_github(self):
        self.assertEqual(github_slug("05 · The logger: a C buffer"),
                         "05--the-logger-a-c-buffer")
        self.assertEqual(github_slug("Road 1: the `C` API, by hand!"),
                         "road-1-the-c-api-by-hand")
        self.assertEqual(github_slug("`Py_buffer` and free-threaded"),
                         "py_buffer-and-free-threaded")

    def test_links_and_anchors(self):
        scratch = excerpts.DOCS / ".link-check.md"
        try:
            scratch.write_text(
                "# Top\n\n## Same name\n\n## Same name\n\n"
                "[ok](#same-name-1) [ok](glossary.md#gil) [ok](README.md)\n"
                "[bad](#same-name-2) [bad](glossary.md#no-such) "
                "[bad](no-such.md) `[skipped](code.md)`\n\n"
                "```text\n[skipped](in-a-block.md)\n```\n")
            problems = link_problems(scratch)
        finally:
            scratch.unlink()
        self.assertEqual(len(problems), 3, problems)

    def test_tracker_words(self):
        text = ("The issue 15 fix.  As this session showed.  The targets "
                "are for road 1.\n`the issue` in code is fine.  The bench "
                "target of make; every target has help.\n")
        self.assertEqual(len(tracker_words(text)), 3, tracker_words(text))

    def test_long_sections(self):
        text = "## A\n" + "x\n" * 200 + "```\n## not a heading\n```\n## B\nend\n"
        lengths = section_lengths(text)
        self.assertEqual([(h, n) for h, n, _ in lengths], [("A", 1), ("B", 205)])
        self.assertGreater(lengths[0][2], MAX_SECTION_LINES)

    def test_mermaid(self):
        text = ("```mermaid\n```\n\n```mermaid\nflowchart LR\n  a --> b\n```\n"
                "\n```mermaid\nnot-a-diagram\n  x\n```\n")
        self.assertEqual(len(mermaid_problems(text)), 2, mermaid_problems(text))

    def test_previous_next_lines(self):
        self.assertEqual(expected_last_line(0),
                         "Next: [What crosses and who calls](01-extern.md)")
        self.assertEqual(
            expected_last_line(len(ORDER) - 1), "Previous: [Packaging]"
            "(packaging.md) · Next: [Overview](README.md)")


if __name__ == "__main__":
    unittest.main()
