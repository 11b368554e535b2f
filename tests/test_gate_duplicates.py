"""The tree repeats itself at most LIMIT times.

The workplace's `duplicates` tool lists the pairs of places that share six
or more lines, the same or of the same shape.  Outside the generated
exercise/ skeletons (copies of the stage modules by design) it may list at
most LIMIT pairs; tests/README.md ("What the `duplicates` tool still
lists") says what each remaining kind is and why it stays.  The tool is
not part of the project: where it is not installed, this file is skipped.
"""

import pathlib
import re
import shutil
import subprocess
import tempfile
import textwrap
import unittest

import support

LIMIT = 20
TOOL = shutil.which("duplicates")


def pairs(repo):
    """(the pairs listed outside exercise/ folders, the lines that say
    something was not read), for the tree at `repo`."""
    proc = subprocess.run(
        [TOOL, "--repo", str(repo), "--most", "200", "--seconds", "120"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        timeout=300, cwd=str(repo))
    lines = proc.stdout.splitlines()
    # A row: "D12 a.c:1-9 ~ b.c:3-11 shape ...": the number is its rank.
    rows = {line.split(" ", 1)[1] for line in lines
            if re.match(r"D\d+ ", line)
            and not re.search(r"(^|[ /])exercise/", line)}
    return sorted(rows), [line for line in lines
                          if line.startswith("incomplete:")]


@unittest.skipIf(TOOL is None, "the duplicates tool is not installed here")
class TestDuplicates(unittest.TestCase):

    def test_the_tree_lists_at_most_LIMIT_pairs(self):
        rows, incomplete = pairs(support.ROOT)
        self.assertEqual(incomplete, [])
        print("  %d pairs outside exercise/ (at most %d)"
              % (len(rows), LIMIT))
        self.assertLessEqual(len(rows), LIMIT,
                             "more pairs than tests/README.md accounts for:"
                             "\n" + "\n".join(rows))

    def test_a_copied_function_is_counted_and_an_exercise_is_not(self):
        # The count can fail: a function written twice is one pair; its
        # third copy in an exercise/ folder adds none.
        function = textwrap.dedent("""\
            int
            scaled_sum(const int *values, int n, int factor)
            {
                int total = 0;
                for (int i = 0; i < n; i++) {
                    total += values[i] * factor;
                }
                if (total < 0) {
                    total = -total;
                }
                return total;
            }
            """)
        with tempfile.TemporaryDirectory() as tmp:
            repo = pathlib.Path(tmp)
            subprocess.run(["git", "init", "-q", str(repo)], check=True)
            (repo / "a.c").write_text(function)
            (repo / "01-demo" / "exercise").mkdir(parents=True)
            (repo / "01-demo" / "exercise" / "a.c").write_text(function)
            self.assertEqual(pairs(repo), ([], []))
            (repo / "b.c").write_text("/* again */\n" + function)
            rows, incomplete = pairs(repo)
            self.assertEqual(incomplete, [])
            self.assertEqual(len(rows), 1, rows)
            self.assertIn("a.c", rows[0])
            self.assertIn("b.c", rows[0])


if __name__ == "__main__":
    unittest.main()
