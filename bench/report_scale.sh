#!/usr/bin/env bash
# Scale benchmark of `kprof report --callgraph`: a synthetic trace of 10M samples over
# 100k unique stacks of depth up to 60 (bench/gen_synthetic.cpp); prints wall time and
# peak memory (GNU time) against the targets (under 2 s, under 1 GiB).
#
#   bash bench/report_scale.sh [BUILD_DIR] [SAMPLES] [STACKS] [DEPTH]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
samples=${2:-10000000}
stacks=${3:-100000}
depth=${4:-60}
kprof=$build/kprof
gen=$build/bench/gen_synthetic
[ -x /usr/bin/time ] || { echo "report_scale: /usr/bin/time missing: run scripts/deps.sh" >&2; exit 1; }
for b in "$kprof" "$gen"; do
  [ -x "$b" ] || { echo "report_scale: $b not built: ninja -C $build kprof gen_synthetic" >&2; exit 1; }
done
work=$(mktemp -d /tmp/kprof-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
trace=$work/synthetic.kprof

echo "generating $samples samples over $stacks stacks (depth <= $depth) ..."
"$gen" "$trace" --samples "$samples" --stacks "$stacks" --depth "$depth"
ls -l "$trace" | awk '{printf "trace size: %.1f MiB\n", $5 / 1048576}'

measure() {  # measure LABEL ARGS... : runs kprof report ARGS, prints time and peak RSS
  local label=$1; shift
  /usr/bin/time -v -o "$work/time.txt" "$kprof" report "$@" "$trace" > "$work/out.txt"
  local wall rss cpu
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time.txt")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
  # CPU time too: on a shared machine the wall time also measures everyone else.
  cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {print s}' "$work/time.txt")
  awk -v l="$label" -v w="$wall" -v r="$rss" -v c="$cpu" -v lines="$(wc -l < "$work/out.txt")" 'BEGIN {
    n = split(w, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i];
    printf "%-20s wall %6.2f s  cpu %6.2f s  peak RSS %7.1f MiB  (%d lines)  %s\n", l, s, c,
           r / 1024, lines, (s < 2 && r < 1048576) ? "within target" : "OVER TARGET (2 s, 1 GiB)" }'
}
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
measure "report --callgraph" --callgraph
measure "report (flat)"
measure "report --folded" --folded
