#!/usr/bin/env bash
# User-space symbolization speed. Records `kprof workload write` with kernel and user
# stacks through `kprof record`, then times record-time symbolization on that trace
# (bench/symbolize_time forgets the trace's user symbols and runs the symbolizer again,
# with and without DWARF), beside `perf script` on a `perf record -g` perf.data of the
# same workload for the same time (both tools cannot sample one run at once).
#
#   bash bench/symbolize_bench.sh [BUILD_DIR]     (root; default BUILD_DIR: build)
#   SECONDS_TO_RECORD=3 RUNS=5 override the defaults.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
kprof=$build/kprof
timer=$build/bench/symbolize_time
seconds=${SECONDS_TO_RECORD:-3}
runs=${RUNS:-5}
out=$root/bench/out/symbolize
mkdir -p "$out"

for tool in "$kprof" "$timer"; do
  [ -x "$tool" ] || { echo "symbolize_bench: $tool is missing: build it (ninja -C $build kprof symbolize_time)" >&2; exit 1; }
done
command -v perf >/dev/null || { echo "symbolize_bench: perf is missing (apt-get install linux-perf)" >&2; exit 1; }

echo "== kprof record -- kprof workload write -d $seconds (cpu-clock, kernel + user stacks)"
"$kprof" record -o "$out/write.kprof" -- "$kprof" workload write -d "$seconds" >"$out/record.log" 2>&1 ||
  { cat "$out/record.log" >&2; exit 1; }
tail -n 3 "$out/record.log"
echo
echo "== record-time symbolization of that trace (bench/symbolize_time, median of $runs)"
"$timer" "$out/write.kprof" "$runs"
echo

echo "== perf record -g -- kprof workload write -d $seconds"
perf record -q -g -o "$out/perf.data" -- "$kprof" workload write -d "$seconds" >"$out/perf-record.log" 2>&1 ||
  { cat "$out/perf-record.log" >&2; exit 1; }
samples=$(perf script -i "$out/perf.data" -G 2>/dev/null | wc -l)
echo "perf.data: $samples samples"
times=""
for _ in $(seq "$runs"); do
  start=$(date +%s%N)
  perf script -i "$out/perf.data" >"$out/perf.script" 2>/dev/null
  end=$(date +%s%N)
  times="$times $(( (end - start) / 1000 ))"
done
median=$(echo "$times" | tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{a[NR]=$1} END {printf "%.3f", a[int((NR+1)/2)] / 1000}')
echo "perf script      median $median ms of $runs runs (reads perf.data, symbolizes every sample's frames, prints $(wc -l <"$out/perf.script") lines)"
