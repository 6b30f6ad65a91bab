#!/bin/sh
# Installs every package vpcd needs to build, run and test, from Debian's
# archive. Does nothing (and needs no network) when all are present.
set -eu
PKGS="meson ninja-build pkg-config gcc libssl-dev libsqlite3-dev libmicrohttpd-dev
libcmocka-dev libmnl-dev python3 python3-botocore iproute2 iputils-ping iperf3
strongswan-swanctl charon-systemd libcharon-extra-plugins clang libclang-rt-14-dev strace"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "install-deps: installing:$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
