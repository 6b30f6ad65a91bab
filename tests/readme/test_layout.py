"""The design's layout, checked (docs/design.md, "The parts"): vpcctl
(src/cli) reaches vpcd only through the API — no file there opens vpcd's
SQLite store — so it works against a vpcd on another host; and the engine
(src/engine) sits beside the API, not above it: it reaches the resources
only through the state layer (src/state), so no file there includes an
src/api header and its library does not link the API's."""
import os
import re
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
API_INCLUDE = re.compile(r'#\s*include\s*[<"](\.\./)*(src/)?api/')


class LayoutTest(unittest.TestCase):
    def test_cli_does_not_open_the_store(self):
        cli = os.path.join(ROOT, "src", "cli")
        bad = re.compile(r'#include\s*[<"](store/|state/|sqlite3\.h)|\bstore_open|\bsqlite3_')
        for name in sorted(os.listdir(cli)):
            with open(os.path.join(cli, name), errors="replace") as f:
                for n, line in enumerate(f, 1):
                    self.assertIsNone(bad.search(line), "src/cli/%s:%d reaches the store: %s"
                                      % (name, n, line.strip()))

    def test_engine_does_not_use_the_api(self):
        engine = os.path.join(ROOT, "src", "engine")
        names = sorted(os.path.relpath(os.path.join(d, n), engine)
                       for d, _, files in os.walk(engine) for n in files)
        self.assertIn("engine.c", names)
        for name in names:
            with open(os.path.join(engine, name), errors="replace") as f:
                for n, line in enumerate(f, 1):
                    self.assertIsNone(API_INCLUDE.search(line), "src/engine/%s:%d includes an api/ header: %s"
                                      % (name, n, line.strip()))
        with open(os.path.join(engine, "meson.build")) as f:
            build = f.read()
        self.assertIn("state_dep", build)
        self.assertNotRegex(build, r"\bapi_dep\b", "src/engine/meson.build links the API")

    def test_the_check_catches_an_include(self):
        for line in ('#include "api/api.h"', '#  include "../api/resources.h"', '#include <api/eni.h>'):
            self.assertIsNotNone(API_INCLUDE.search(line), line)
        for line in ('#include "state/state.h"', '#include "engine/engine_api.h"'):
            self.assertIsNone(API_INCLUDE.search(line), line)


if __name__ == "__main__":
    unittest.main()
