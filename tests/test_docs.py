"""The chapters tell the truth: excerpts match their source files, output
blocks match the expected output, every stage has its chapter, and the
README links to each one."""
import re
import unittest

import excerpts
import support


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
            if "build" in path.parts or "exercise" in path.parts:
                continue
            text = path.read_text()
            opened = excerpts.START.findall(text)
            closed = excerpts.END.findall(text)
            with self.subTest(file=str(path.relative_to(support.ROOT))):
                self.assertEqual(sorted(opened), sorted(closed))
                for name in opened:
                    excerpts.excerpt(path.relative_to(support.ROOT), name)


if __name__ == "__main__":
    unittest.main()
