#!/bin/sh
# campaign.sh — a longer fuzzing campaign than make fuzz's, in the
# background of a shared machine: every libFuzzer target of the fuzz build
# for SECONDS each, JOBS at a time, at nice 19, each growing its own corpus
# in OUT/corpus/<target> (seeded from tests/fuzz/corpus/), crash inputs
# saved as OUT/<target>-crash-*. Prints one line per target: runs, wall
# and CPU seconds, executions per wall and per CPU second (the machine's
# load changes the first, not the second), corpus size, crashes.
#
# Usage: tests/fuzz/campaign.sh SECONDS [OUT]    (BUILD_FUZZ, JOBS, FLAGS,
# TARGETS from the environment; FLAGS e.g. "-entropic=0", which the IKE
# targets run about 4 times faster with; TARGETS: paths in the fuzz build). Run `make fuzz` once
# first so that the targets are built. A crash found: reproduce it with
# BUILD_FUZZ/<target path> OUT/<target>-crash-..., fix it, and copy the
# input into tests/fuzz/corpus/<target>/ as a regression.
set -eu
bf=${BUILD_FUZZ:-build-fuzz}
targets=${TARGETS:-"tests/vpn/ike/fuzz_ike tests/vpn/ike/fuzz_ike_fast tests/vpn/ike/fuzz_ikev2
tests/vpn/esp/fuzz_esp tests/api/fuzz_wire tests/api/fuzz_sigv4 tests/net/fuzz_frame"}

# one target (the script runs itself once per target, JOBS at a time)
if [ "${1:-}" = "--one" ]; then
	f=$2 secs=$3 out=$4; flags=${FLAGS:-}
	n=$(basename "$f"); s=${n#fuzz_}; seeds=tests/fuzz/corpus/${s%_fast}
	[ -d "$seeds" ] || seeds=
	mkdir -p "$out/corpus/$n"
	/usr/bin/time -f "%U %S" -o "$out/$n.cpu" nice -n 19 "$bf/$f" -max_total_time="$secs" \
		-print_final_stats=1 -artifact_prefix="$out/$n-" $flags "$out/corpus/$n" $seeds \
		> "$out/$n.log" 2>&1 || true
	runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/$n.log" | grep -o '[0-9]*$' || echo 0)
	wall=$(grep -o 'Done [0-9]* runs in [0-9]*' "$out/$n.log" | grep -o '[0-9]*$' || echo "$secs")
	cpu=$(awk '{ printf "%.1f", $1 + $2 }' "$out/$n.cpu" 2>/dev/null || echo 0)
	crashes=$(ls "$out" | grep -c "^$n-\(crash\|leak\|timeout\|oom\)" || true)
	printf "%-14s runs %10s  wall %5ss  cpu %5ss  exec/s %7s  exec/cpu-s %7s  corpus %5s  crashes %s\n" \
		"$n" "$runs" "$wall" "$cpu" "$((runs / (wall > 0 ? wall : 1)))" \
		"$(awk -v r="$runs" -v c="$cpu" 'BEGIN { printf "%d", (c > 0 ? r / c : 0) }')" \
		"$(ls "$out/corpus/$n" | wc -l)" "$crashes"
	exit 0
fi

secs=${1:?usage: campaign.sh SECONDS [OUT]}
out=${2:-$bf/campaign}
mkdir -p "$out"
for t in $targets; do
	[ -x "$bf/$t" ] || { echo "$bf/$t is not built (make fuzz)" >&2; exit 1; }
done
for t in $targets; do echo "$t"; done | xargs -P "${JOBS:-2}" -I{} "$0" --one {} "$secs" "$out"
