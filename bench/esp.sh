#!/bin/sh
# bench/esp.sh — the ESP data path against `openssl speed -evp` on one core.
# Usage: bench/esp.sh [BUILD_DIR]   (default: build; the binary is
# BUILD_DIR/bench/esp_bench). Not a test: prints figures, judges nothing.
#
# openssl speed counts ciphertext bytes; 1408 is the encrypted part of a
# 1400-byte inner packet under AES-CBC (1400 + 2 trailer, padded to 16).
# The CBC+HMAC reference is what OpenSSL would take for the two passes one
# after the other: 1 / (1/cbc + 1/hmac-sha1).
set -eu
BUILD=${1:-build}
BIN=$BUILD/bench/esp_bench
SECONDS_EACH=${SECONDS_EACH:-2}
[ -x "$BIN" ] || { echo "esp.sh: $BIN not built (ninja -C $BUILD bench/esp_bench)" >&2; exit 1; }

# Prints Gbit/s for the last line of an `openssl speed` table.
speed() {
    openssl speed -elapsed -seconds "$SECONDS_EACH" -bytes 1408 "$@" 2>/dev/null |
        awk 'END { v = $NF; sub(/k$/, "", v); printf "%.2f", v * 1000 * 8 / 1e9 }'
}

GCM=$(speed -evp aes-128-gcm)
CBC_ENC=$(speed -evp aes-128-cbc)
CBC_DEC=$(speed -decrypt -evp aes-128-cbc)
SHA1=$(speed -hmac sha1)
CBC_SHA1_ENC=$(awk -v a="$CBC_ENC" -v b="$SHA1" 'BEGIN { printf "%.2f", 1 / (1/a + 1/b) }')
CBC_SHA1_DEC=$(awk -v a="$CBC_DEC" -v b="$SHA1" 'BEGIN { printf "%.2f", 1 / (1/a + 1/b) }')

echo "openssl speed -evp, 1408-byte blocks, one core (Gbit/s):"
echo "  aes-128-gcm $GCM, aes-128-cbc encrypt $CBC_ENC / decrypt $CBC_DEC, hmac(sha1) $SHA1"
echo "  => cbc+hmac-sha1 reference: encrypt $CBC_SHA1_ENC, decrypt $CBC_SHA1_DEC"
echo
exec "$BIN" --seconds "$SECONDS_EACH" --ref gcm="$GCM" \
    --ref cbc-sha1-enc="$CBC_SHA1_ENC" --ref cbc-sha1-dec="$CBC_SHA1_DEC"
