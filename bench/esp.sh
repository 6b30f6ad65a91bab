#!/bin/sh
# bench/esp.sh — vpcd's ESP data path beside OpenSSL's plainest EVP doing the
# same cryptographic work, in one process, on one core: ns per packet for
# 1400- and 64-byte inner packets, encrypt and decrypt, AES-GCM and
# AES-CBC/HMAC-SHA1 (bench/esp.c says what each side does).
# Usage: bench/esp.sh [BUILD_DIR]   (default: build; the binary is
# BUILD_DIR/bench/esp_bench). Not a test: prints figures, judges nothing.
set -eu
BUILD=${1:-build}
BIN=$BUILD/bench/esp_bench
SECONDS_EACH=${SECONDS_EACH:-3}
[ -x "$BIN" ] || { echo "esp.sh: $BIN not built (ninja -C $BUILD bench/esp_bench)" >&2; exit 1; }
exec "$BIN" --seconds "$SECONDS_EACH"
