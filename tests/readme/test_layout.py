"""The design's layout, checked: vpcctl (src/cli) reaches vpcd only through
the API — no file there opens vpcd's SQLite store — so it works against a
vpcd on another host."""
import os
import re
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class LayoutTest(unittest.TestCase):
    def test_cli_does_not_open_the_store(self):
        cli = os.path.join(ROOT, "src", "cli")
        bad = re.compile(r'#include\s*[<"](store/|sqlite3\.h)|\bstore_open|\bsqlite3_')
        for name in sorted(os.listdir(cli)):
            with open(os.path.join(cli, name), errors="replace") as f:
                for n, line in enumerate(f, 1):
                    self.assertIsNone(bad.search(line), "src/cli/%s:%d reaches the store: %s"
                                      % (name, n, line.strip()))


if __name__ == "__main__":
    unittest.main()
