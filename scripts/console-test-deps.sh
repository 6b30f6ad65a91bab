#!/bin/sh
# Installs what the console's browser tests need besides Debian's packages
# (chromium, nodejs and npm come from scripts/install-deps.sh): the
# playwright-core version pinned in tests/console/package-lock.json, into
# BUILD/console-test (never into the source tree). Does nothing when that
# exact lock file is installed already.
# Usage: scripts/console-test-deps.sh BUILD_DIR
set -eu
build=${1:?usage: console-test-deps.sh BUILD_DIR}
command -v npm >/dev/null || { echo "console-test-deps: npm is missing (apt-get install npm)" >&2; exit 1; }
src=$(cd "$(dirname "$0")/../tests/console" && pwd)
dest="$build/console-test"
mkdir -p "$dest"
# make test runs console-test and console-net-test in two lanes at once
exec 9>"$build/console-test.lock"
flock 9
if [ -d "$dest/node_modules/playwright-core" ] && cmp -s "$src/package-lock.json" "$dest/package-lock.json"; then
    exit 0
fi
cp "$src/package.json" "$src/package-lock.json" "$dest/"
echo "console-test-deps: npm ci in $dest" >&2
npm ci --prefix "$dest" --no-audit --no-fund --ignore-scripts
