#!/usr/bin/env bash
# The collector's own cost: records the whole system at -F FREQ (default 999; -a -d DUR) while
# `kprof workload write` keeps the CPUs busy, once with `kprof record` and once with
# `perf record -g` (linux-perf) doing the same, and compares
#   - lost samples (kprof must lose none),
#   - CPU time (user+sys, /usr/bin/time) of the recorder process per sample taken,
# as ratios kprof/perf. perf is run twice: as is (it reads its whole file again at the
# end to collect build-ids) and with -B (no build-ids), the closer match to kprof's
# recording loop; kprof's total includes its own end work (ELF symbolization of the
# user frames, writing the kernel symbol snapshot).
#
#   bash bench/record_overhead.sh        # as root; KPROF=build/kprof DUR=10 RUNS=3 FREQ=999
set -uo pipefail
cd "$(dirname "$0")/.."

KPROF=${KPROF:-build/kprof}
DUR=${DUR:-10}
RUNS=${RUNS:-3}
FREQ=${FREQ:-999}
die() { echo "record_overhead: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (system-wide recording)"
[ -x "$KPROF" ] || die "no kprof binary at $KPROF (build first, or set KPROF=)"
command -v perf >/dev/null || die "perf is not installed (apt-get install linux-perf)"
[ -x /usr/bin/time ] || die "/usr/bin/time is not installed (apt-get install time)"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# CPU seconds (user+sys) from a /usr/bin/time -f "%U %S" file.
cpu_of() { awk 'END { printf "%.3f", $1 + $2 }' "$1"; }

# Runs "$@" (a recorder) while the write workload runs; leaves time in $scratch/time.
with_workload() {
  "$KPROF" workload write -d $((DUR + 2)) >/dev/null 2>&1 &
  local wl=$!
  sleep 0.5
  /usr/bin/time -f "%U %S" -o "$scratch/time" "$@" >"$scratch/log" 2>&1
  local rc=$?
  wait $wl
  return $rc
}

printf "%-14s %4s %9s %6s %10s %12s %10s\n" recorder run samples lost "cpu s" "us/sample" "loop us/smp"
declare -A sum_us n_runs lost_total
for run in $(seq 1 "$RUNS"); do
  # kprof
  with_workload "$KPROF" record -a -d "$DUR" -F "$FREQ" -o "$scratch/k.data" ||
    { cat "$scratch/log"; die "kprof record failed"; }
  samples=$(sed -n 's/^kprof record: \([0-9]*\) samples.*/\1/p' "$scratch/log")
  lost=$(sed -n 's/^  lost: \([0-9]*\) records, \([0-9]*\) samples.*/\1 \2/p' "$scratch/log" |
    awk '{ print $1 + $2 }')
  loop=$(sed -n 's/^  collector CPU time: \([0-9.]*\) s.*/\1/p' "$scratch/log")
  cpu=$(cpu_of "$scratch/time")
  us=$(awk -v c="$cpu" -v s="$samples" 'BEGIN { printf "%.2f", s ? c * 1e6 / s : 0 }')
  loop_us=$(awk -v c="$loop" -v s="$samples" 'BEGIN { printf "%.2f", s ? c * 1e6 / s : 0 }')
  printf "%-14s %4d %9d %6d %10s %12s %10s\n" kprof "$run" "$samples" "$lost" "$cpu" "$us" "$loop_us"
  sum_us[kprof]=$(awk -v a="${sum_us[kprof]:-0}" -v b="$us" 'BEGIN { print a + b }')
  sum_us[kprof-loop]=$(awk -v a="${sum_us[kprof-loop]:-0}" -v b="$loop_us" 'BEGIN { print a + b }')
  lost_total[kprof]=$(( ${lost_total[kprof]:-0} + lost ))

  # perf, as is and without build-id collection
  for variant in perf perf-B; do
    extra=()
    [ "$variant" = perf-B ] && extra=(-B)
    with_workload perf record -g -a -F "$FREQ" "${extra[@]}" -o "$scratch/p.data" -- sleep "$DUR" ||
      { cat "$scratch/log"; die "perf record failed"; }
    perf report -i "$scratch/p.data" --stats >"$scratch/stats" 2>/dev/null
    samples=$(awk '/^ *SAMPLE events:/ { print $3; exit }' "$scratch/stats")
    lost=$(awk '/^ *LOST(_SAMPLES)? events:/ { n += $3 } END { print n + 0 }' "$scratch/stats")
    cpu=$(cpu_of "$scratch/time")
    us=$(awk -v c="$cpu" -v s="$samples" 'BEGIN { printf "%.2f", s ? c * 1e6 / s : 0 }')
    printf "%-14s %4d %9d %6d %10s %12s %10s\n" "$variant" "$run" "$samples" "$lost" "$cpu" "$us" "-"
    sum_us[$variant]=$(awk -v a="${sum_us[$variant]:-0}" -v b="$us" 'BEGIN { print a + b }')
    lost_total[$variant]=$(( ${lost_total[$variant]:-0} + lost ))
  done
done

mean() { awk -v s="${sum_us[$1]}" -v n="$RUNS" 'BEGIN { printf "%.2f", s / n }'; }
echo
echo "mean CPU time per sample over $RUNS runs (-a -F $FREQ -d $DUR, write workload running):"
echo "  kprof record (whole process):  $(mean kprof) us"
echo "  kprof record (recording loop): $(mean kprof-loop) us"
echo "  perf record -g:                $(mean perf) us"
echo "  perf record -g -B:             $(mean perf-B) us"
ratio() { awk -v a="$(mean "$1")" -v b="$(mean "$2")" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
echo "ratios kprof/perf: whole process $(ratio kprof perf) (vs -B: $(ratio kprof perf-B)); loop vs perf -B $(ratio kprof-loop perf-B)"
echo "lost samples: kprof ${lost_total[kprof]}, perf ${lost_total[perf]}, perf -B ${lost_total[perf-B]}"
[ "${lost_total[kprof]}" = 0 ] || { echo "record_overhead: kprof lost samples" >&2; exit 1; }
