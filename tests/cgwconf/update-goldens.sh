#!/bin/sh
# Regenerates tests/cgwconf/golden/ from the current templates with
# cgwconf-render (build dir: $1, default build).  Read the diff before you
# commit it: a golden is the expected output, not a snapshot to wave through.
set -eu
BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
R="$BUILD/tests/cgwconf/cgwconf-render"
GOLD="$HERE/golden"
mkdir -p "$GOLD"
"$R" xml > "$GOLD/xml-static.xml"
"$R" --bgp xml > "$GOLD/xml-bgp.xml"
"$R" list | while IFS="$(printf '\t')" read -r id vendor platform software ike; do
    for v in $(echo "$ike" | tr ',' ' '); do
        "$R" --ike "$v" "$id" > "$GOLD/$id-$v-static.conf"
        "$R" --ike "$v" --bgp "$id" > "$GOLD/$id-$v-bgp.conf"
    done
done
echo "goldens written to $GOLD"
