"""The project carries its own design: docs/ exists, the README links it,
every relative link in the README and docs/ resolves inside the repository,
and no tracked file points at a path outside it (a development machine's
folders, a sibling checkout)."""
import os
import re
import subprocess
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# what a reference to outside the repository looks like
OUTSIDE = re.compile(r"\.\./shared|/work/|/home/[a-z]|STRONGSWAN\.md|DESIGN\.md")


class DocsTest(unittest.TestCase):
    def tracked(self):
        return subprocess.run(["git", "-C", ROOT, "ls-files"], capture_output=True, text=True,
                              check=True).stdout.split()

    def test_readme_links_the_design(self):
        with open(os.path.join(ROOT, "README.md")) as f:
            self.assertIn("(docs/design.md)", f.read())
        self.assertTrue(os.path.isfile(os.path.join(ROOT, "docs", "design.md")))

    def test_relative_links_resolve(self):
        pages = ["README.md"] + ["docs/" + n for n in os.listdir(os.path.join(ROOT, "docs")) if n.endswith(".md")]
        for page in pages:
            with open(os.path.join(ROOT, page)) as f:
                for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", f.read()):
                    path = os.path.normpath(os.path.join(ROOT, os.path.dirname(page), target))
                    self.assertTrue(path.startswith(ROOT + os.sep), "%s links outside: %s" % (page, target))
                    self.assertTrue(os.path.exists(path), "%s: broken link %s" % (page, target))

    def test_nothing_points_outside_the_repository(self):
        me = os.path.relpath(os.path.abspath(__file__), ROOT)
        for name in self.tracked():
            if name == me or name.endswith((".png", ".ico")):
                continue
            with open(os.path.join(ROOT, name), errors="replace") as f:
                for n, line in enumerate(f, 1):
                    self.assertIsNone(OUTSIDE.search(line), "%s:%d points outside the repository: %s"
                                      % (name, n, line.strip()))


if __name__ == "__main__":
    unittest.main()
