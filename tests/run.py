#!/usr/bin/env python3
"""Runs the Python tests (API, interop) under a directory with unittest and
ends with the plain closing line 'N passed, N failed, N skipped'.

Usage: tests/run.py --build BUILD_DIR DIR [DIR...] [-k PATTERN]
Each test module finds the binaries through VPCD_BUILD (set here)."""
import argparse
import os
import sys
import unittest


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("-k", dest="pattern", action="append", default=None)
    ap.add_argument("dirs", nargs="+")
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    os.environ["VPCD_BUILD"] = os.path.abspath(args.build)
    sys.path.insert(0, os.path.join(root, "tests"))
    loader = unittest.TestLoader()
    if args.pattern:
        loader.testNamePatterns = ["*%s*" % p for p in args.pattern]
    suite = unittest.TestSuite()
    for d in args.dirs:
        suite.addTests(loader.discover(d, pattern="test_*.py", top_level_dir=os.path.join(root, "tests")))
    result = unittest.TextTestRunner(verbosity=2, buffer=False).run(suite)
    failed = len(result.failures) + len(result.errors)
    skipped = len(result.skipped)
    passed = result.testsRun - failed - skipped
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
