#!/bin/sh
# Regenerates tests/cgwconf/golden/ from the current templates with
# cgwconf-render (build dir: $1, default build).  A device that refuses a
# combination (e.g. BGP on a policy-based device) gets a .err golden with
# its message.  Read the diff before you commit it: a golden is the
# expected output, not a snapshot to wave through.
set -eu
BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
R="$BUILD/tests/cgwconf/cgwconf-render"
GOLD="$HERE/golden"
mkdir -p "$GOLD"
rm -f "$GOLD"/*.conf "$GOLD"/*.err
"$R" xml > "$GOLD/xml-static.xml"
"$R" --bgp xml > "$GOLD/xml-bgp.xml"
render() {	# id ike routing [args...]
    id=$1 v=$2 routing=$3
    shift 3
    if "$R" --ike "$v" "$@" "$id" > "$GOLD/$id-$v-$routing.conf" 2> "$GOLD/.stderr"; then
        :
    else
        rm -f "$GOLD/$id-$v-$routing.conf"
        sed 's/^cgwconf-render: //' "$GOLD/.stderr" > "$GOLD/$id-$v-$routing.err"
    fi
    rm -f "$GOLD/.stderr"
}
"$R" list | while IFS="$(printf '\t')" read -r id vendor platform software ike; do
    for v in $(echo "$ike" | tr ',' ' '); do
        render "$id" "$v" static
        render "$id" "$v" bgp --bgp
    done
done
echo "goldens written to $GOLD"
