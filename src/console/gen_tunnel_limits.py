#!/usr/bin/env python3
"""Turns src/model/tunnel_limits.h (AWS's tunnel option limits and
defaults, written once) into the console's JavaScript module
js/tunnel_limits.mjs (run by Meson at build time), so that the console
shows and sends the numbers and names the C parts use, from the one place.

Usage: gen_tunnel_limits.py -o OUT.mjs tunnel_limits.h

Every `#define TUNNEL_...` becomes `export const TUNNEL_... = ...;`: a
number (decimal or hex, an optional u suffix), a string, or a frozen array
of them (a comma-separated list). Anything else in such a define fails the
build: the header is constants only (its own comment says so), and the
console must not silently miss one. tests/engine/test_tunnel_defaults.c
compares the module with the C compiler's values."""
import argparse
import json
import os
import re
import sys

DEFINE = re.compile(r"^\s*#\s*define\s+(TUNNEL_\w+)\s+(.*)$")
ITEM = re.compile(r'^(?:"((?:[^"\\]|\\.)*)"|(0[xX][0-9a-fA-F]+|[0-9]+)[uU]?)$')


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def value(name, body):
    items = [x.strip() for x in body.split(",")] if body.strip() else []
    out = []
    for x in items:
        m = ITEM.match(x)
        if not m:
            raise ValueError("%s: %r is not a number or a string" % (name, x))
        if m.group(1) is not None:
            out.append(json.loads('"%s"' % m.group(1)))
        else:
            out.append(int(m.group(2), 0))
    if not out:
        raise ValueError("%s: empty" % name)
    return out[0] if len(out) == 1 and "," not in body else out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-o", dest="out", required=True)
    ap.add_argument("header")
    args = ap.parse_args()
    with open(args.header, encoding="utf-8") as f:
        text = strip_comments(f.read()).replace("\\\n", " ")
    lines = ["/* Generated at build time by src/console/gen_tunnel_limits.py from",
             " * src/model/tunnel_limits.h: AWS's tunnel option limits and defaults,",
             " * written once. Do not edit: edit the header. */"]
    seen = 0
    for line in text.splitlines():
        m = DEFINE.match(line)
        if not m:
            if re.match(r"^\s*#\s*define\s+TUNNEL_", line):
                print("gen_tunnel_limits: cannot read %r" % line.strip(), file=sys.stderr)
                return 1
            continue
        try:
            v = value(m.group(1), m.group(2))
        except ValueError as e:
            print("gen_tunnel_limits: %s" % e, file=sys.stderr)
            return 1
        js = "Object.freeze(%s)" % json.dumps(v) if isinstance(v, list) else json.dumps(v)
        lines.append("export const %s = %s;" % (m.group(1), js))
        seen += 1
    if not seen:
        print("gen_tunnel_limits: no TUNNEL_ define in %s" % args.header, file=sys.stderr)
        return 1
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(tmp, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
