#!/bin/sh
# Installs every package vpcd needs to build, run and test, from Debian's
# archive, then (after installing) verifies that what the tests need works: as root, a charon
# (the customer router of the interop tests) starts in a scratch network
# namespace with every plugin the tests load (scripts/charon-plugins).
# Installs nothing (and needs no network) when all are present.
#
#   scripts/install-deps.sh            install what is missing, then verify
#                                      (nothing at all when nothing is missing)
#   scripts/install-deps.sh --verify   verify only (exit 1 naming the package)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
PLUGINS="${VPCD_CHARON_PLUGINS:-$here/charon-plugins}"   # the tests may point elsewhere
# --no-install-recommends below: every package a test needs is named here,
# including the ones Debian only recommends (libstrongswan-standard-plugins
# brings charon's openssl plugin, a Recommends of charon-systemd).
# bird2 is vpcd's BGP speaker for dynamic VPN connections (run time);
# frr (bgpd) is the customer router's BGP speaker in the interop tests.
# chromium and nodejs run the console's browser tests (npm, for their
# playwright-core, comes with NodeSource's nodejs; Debian's own nodejs
# needs the npm package as well: scripts/console-test-deps.sh says so).
PKGS="meson ninja-build pkg-config gcc libssl-dev libsqlite3-dev libmicrohttpd-dev
libcmocka-dev libmnl-dev python3 python3-botocore iproute2 iputils-ping iperf3
strongswan-swanctl charon-systemd libcharon-extra-plugins clang libclang-rt-14-dev strace
bird2 frr
chromium nodejs
$(grep -v '^#' "$PLUGINS" | awk 'NF { print $2 }' | sort -u | tr '\n' ' ')"

# verify: every plugin file is there (any user), and as root charon starts
# in a scratch namespace with them all and opens its vici socket.
verify() {
    set +e      # every failure below is checked and explained
    bad=""
    for entry in $(grep -v '^#' "$PLUGINS" | awk 'NF { print $1 "=" $2 }'); do
        plugin=${entry%%=*} pkg=${entry#*=}
        [ -f "/usr/lib/ipsec/plugins/libstrongswan-$plugin.so" ] ||
            bad="$bad
  charon plugin '$plugin' is missing: install package $pkg"
    done
    [ -x /usr/sbin/charon-systemd ] || bad="$bad
  /usr/sbin/charon-systemd is missing: install package charon-systemd"
    if [ -n "$bad" ]; then
        echo "install-deps: the tests cannot run:$bad" >&2
        return 1
    fi
    if [ "$(id -u)" -ne 0 ]; then
        echo "install-deps: plugin files present (not root: charon start not verified)" >&2
        return 0
    fi
    dir=$(mktemp -d /tmp/vpcd-deps.XXXXXX)
    ns="vpcd-deps-$$-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')"
    load=$(grep -v '^#' "$PLUGINS" | awk 'NF { printf "%s ", $1 }')
    cat > "$dir/strongswan.conf" <<CONF
charon-systemd {
    load_modular = no
    load = $load
    plugins { vici { socket = unix://$dir/charon.vici } }
    journal { default = -1 }
    filelog { verify { path = $dir/charon.log
                       flush_line = yes
                       default = 1 } }
}
CONF
    pid=""
    cleanup() {
        if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; fi
        ip netns delete "$ns" 2>/dev/null
        rm -rf "$dir"
    }
    trap cleanup EXIT INT TERM
    ip netns add "$ns"
    # nsenter, not ip netns exec: no private mount namespace needed here,
    # and $! is then charon's own PID (exec).
    STRONGSWAN_CONF="$dir/strongswan.conf" nsenter --net="/run/netns/$ns" \
        /usr/sbin/charon-systemd > "$dir/out" 2>&1 &
    pid=$!
    # charon opens its vici socket before it gives up on a plugin that
    # failed to load: it must answer swanctl and still run a moment later.
    ok="" i=0
    while [ $i -lt 100 ] && kill -0 "$pid" 2>/dev/null; do
        if [ -S "$dir/charon.vici" ] && STRONGSWAN_CONF="$dir/strongswan.conf" \
            swanctl --stats --uri "unix://$dir/charon.vici" > /dev/null 2>&1; then
            sleep 0.3
            kill -0 "$pid" 2>/dev/null && ok=1
            break
        fi
        sleep 0.1; i=$((i + 1))
    done
    touch "$dir/charon.log"
    if [ -n "$ok" ] && ! grep -q "failed to load" "$dir/out" "$dir/charon.log"; then
        echo "install-deps: charon starts with plugins: $load(in scratch namespace $ns)" >&2
        return 0
    fi
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=""   # its output flushed
    echo "install-deps: charon did not start in a scratch namespace; its output:" >&2
    cat "$dir/out" "$dir/charon.log" | sed 's/^/  /' >&2
    failed=$(cat "$dir/out" "$dir/charon.log" |
        sed -n "s/.*plugin '\([^']*\)': failed to load.*/\1/p" | head -1)
    if [ -n "$failed" ]; then
        pkg=$(awk -v p="$failed" '$1 == p { print $2 }' "$PLUGINS")
        echo "install-deps: charon plugin '$failed' failed to load: install package ${pkg:-(unknown)}" >&2
    fi
    return 1
}

if [ "${1:-}" = "--verify" ]; then
    verify
    exit $?
fi

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# every package there: nothing to do (make runs this before every build;
# make test runs the verification itself, tests/readme/test_install_deps.py)
[ -z "$missing" ] && exit 0
echo "install-deps: installing:$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
verify
