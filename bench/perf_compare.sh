#!/usr/bin/env bash
# kprof against perf on the same machine and the same data (issue 6, item 4). One command:
#
#   bash bench/perf_compare.sh            # as root; prints a markdown table and writes
#                                         # bench/RESULTS.md
#
# Measures
#   analysis:  a system-wide perf.data of >= 250k samples (-g -F 20000, during kprof's
#              write workload): `perf report --stdio -g` vs `kprof report --callgraph` on
#              the same perf.data vs on the trace `kprof import` made of it; wall time and
#              peak RSS (/usr/bin/time), medians of RUNS alternating runs;
#   file size: bytes per sample, perf.data vs the kprof trace of the same recording;
#   TUI:       time to first screen in tmux: `perf report` vs `kprof tui` on the analysis
#              perf.data; `kprof tui` vs `kprof report` on a 1M-sample synthetic trace;
#   overhead:  the write workload's ops/s unprofiled, under `perf record -g -a -F N` and
#              under `kprof record -a -F N` (each profiler system-wide in the background
#              while the workload runs), N = 999, 4999, 19999, with lost samples.
# Environment: KPROF (binary, default build/kprof), RUNS (default 5), DUR (workload
# seconds per overhead run, default 3), SAMPLES (analysis target, default 250000),
# ARUNS (analysis runs, default RUNS), OUT (default bench/RESULTS.md), KEEP=1 keeps the
# scratch directory.
set -uo pipefail
cd "$(dirname "$0")/.."

KPROF=${KPROF:-build/kprof}
RUNS=${RUNS:-5}
ARUNS=${ARUNS:-$RUNS}  # analysis runs (each perf report -g of 250k samples takes a minute)
DUR=${DUR:-3}
SAMPLES=${SAMPLES:-250000}
OUT=${OUT:-bench/RESULTS.md}
FREQS=(999 4999 19999)

die() { echo "perf_compare: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (system-wide profiling)"
command -v perf >/dev/null || die "perf is not installed: bash scripts/deps.sh"
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (Debian package 'time')"
if [ ! -x "$KPROF" ]; then
  echo "perf_compare: building $KPROF" >&2
  bash scripts/build.sh release >/dev/null || die "build failed"
fi
KPROF=$(realpath "$KPROF")
[ -e /sys/kernel/tracing/events ] || mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null

# Other work on the machine skews every figure: the table shows how busy it was.
LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
WORK=$(mktemp -d /tmp/kprof-bench-XXXXXX)
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$WORK"' EXIT
NOTES=()
note() { NOTES+=("$*"); echo "perf_compare: $*" >&2; }

median() {  # numbers on stdin -> median (or n/a)
  sort -g | awk '{v[NR]=$1} END {if (NR==0) print "n/a"; else if (NR%2) print v[(NR+1)/2]; else printf "%.4g\n", (v[NR/2]+v[NR/2+1])/2}'
}
ratio() {  # a b -> a/b with 1 decimal, n/a when either is missing
  awk -v a="$1" -v b="$2" 'BEGIN {if (a+0>0 && b+0>0) printf "%.1f", a/b; else print "n/a"}'
}
# Runs a command under /usr/bin/time; appends "seconds kB" to file $1. Fails with it.
timed() {
  local into=$1; shift
  /usr/bin/time -f "%e %M" -o "$WORK/time.out" "$@" >/dev/null 2>"$WORK/err.out" || return 1
  tail -1 "$WORK/time.out" >>"$into"
}
samples_of() {  # perf.data -> sample count (from perf itself)
  perf report -i "$1" --stats 2>/dev/null | awk '/SAMPLE events:/ {print $3; exit}'
}
ops_of() {  # workload output -> ops/s
  sed -n 's/.*(\([0-9.]*\) ops\/s.*/\1/p' "$1" | head -1
}

# ---------------------------------------------------------------- analysis + file size
echo "perf_compare: recording the analysis perf.data (>= $SAMPLES samples)" >&2
BIG=$WORK/big.data
dur=8
for attempt in 1 2 3; do
  perf record -q -a -g -F 20000 -o "$BIG" -- "$KPROF" workload write -d "$dur" \
    >/dev/null 2>"$WORK/record.err" || die "perf record failed: $(cat "$WORK/record.err")"
  big_samples=$(samples_of "$BIG")
  [ "${big_samples:-0}" -ge "$SAMPLES" ] && break
  dur=$((dur * 2))
done
[ "${big_samples:-0}" -ge "$SAMPLES" ] ||
  note "only ${big_samples:-0} samples in the analysis perf.data (wanted $SAMPLES)"
big_bytes=$(stat -c %s "$BIG")

TRACE=$WORK/big.kprof
import_s=n/a
if /usr/bin/time -f "%e %M" -o "$WORK/import.time" "$KPROF" import -q "$BIG" -o "$TRACE" \
    >/dev/null 2>"$WORK/import.err"; then
  import_s=$(awk '{print $1}' "$WORK/import.time")
  trace_bytes=$(stat -c %s "$TRACE")
else
  note "kprof import failed: $(tail -2 "$WORK/import.err")"
  trace_bytes=
fi

PERF_REPORT=(perf report -i "$BIG" --stdio -g)
KPROF_DATA=("$KPROF" report "$BIG" --callgraph)
KPROF_TRACE=("$KPROF" report "$TRACE" --callgraph)
: >"$WORK/perf.t"; : >"$WORK/kdata.t"; : >"$WORK/ktrace.t"
for ((i = 1; i <= ARUNS; i++)); do
  echo "perf_compare: analysis run $i/$ARUNS" >&2
  # Alternating, so drifts of the machine hit all three alike.
  timed "$WORK/perf.t" "${PERF_REPORT[@]}" || note "perf report failed: $(tail -1 "$WORK/err.out")"
  timed "$WORK/kdata.t" "${KPROF_DATA[@]}" ||
    { [ $i = 1 ] && note "kprof report on perf.data failed: $(tail -1 "$WORK/err.out")"; }
  if [ -n "$trace_bytes" ]; then
    timed "$WORK/ktrace.t" "${KPROF_TRACE[@]}" ||
      { [ $i = 1 ] && note "kprof report on the trace failed: $(tail -1 "$WORK/err.out")"; }
  fi
done
col() { awk -v c="$2" '{print $c}' "$1" | median; }
perf_s=$(col "$WORK/perf.t" 1); perf_kb=$(col "$WORK/perf.t" 2)
kdata_s=$(col "$WORK/kdata.t" 1); kdata_kb=$(col "$WORK/kdata.t" 2)
ktrace_s=$(col "$WORK/ktrace.t" 1); ktrace_kb=$(col "$WORK/ktrace.t" 2)
mib() { awk -v k="$1" 'BEGIN {if (k+0>0) printf "%.0f", k/1024; else print "n/a"}'; }

# ---------------------------------------------------------------- TUI: time to first screen
# In a real terminal (tmux 120x40): from typing the command to its first screen appearing
# in capture-pane (includes tmux's own latency, a few ms). On the analysis perf.data,
# `perf report` (its TUI) against `kprof tui`; on a 1M-sample synthetic kprof trace
# (bench/gen_synthetic: 100k unique stacks up to 60 deep), `kprof tui` against
# `kprof report` (flat, the same loading and aggregation without a terminal).
first_screen() {  # marker command... -> milliseconds (or n/a)
  local marker=$1; shift
  local sock=kprof-bench-$$-$RANDOM t ms=n/a
  t="tmux -L $sock"
  $t new-session -d -s b -x 120 -y 40 "bash --norc --noprofile" || { echo n/a; return; }
  sleep 0.3
  local start end
  start=$(date +%s%N)
  $t send-keys -t b "$(printf '%q ' "$@")" Enter
  for _ in $(seq 12000); do  # at most about a minute
    if $t capture-pane -p -t b | grep -q -- "$marker"; then
      end=$(date +%s%N)
      ms=$(( (end - start) / 1000000 ))
      break
    fi
    sleep 0.005
  done
  $t send-keys -t b q
  sleep 0.2
  $t kill-server 2>/dev/null
  echo "$ms"
}
BUILD_DIR=$(dirname "$KPROF")
SYN=$WORK/synthetic.kprof
tui_ok=0
if ! command -v tmux >/dev/null; then
  note "tmux is not installed: no TUI figures (bash scripts/deps.sh)"
elif [ ! -x "$BUILD_DIR/bench/gen_synthetic" ]; then
  note "$BUILD_DIR/bench/gen_synthetic is not built: no TUI figures"
elif ! "$BUILD_DIR/bench/gen_synthetic" "$SYN" --samples 1000000 --stacks 100000 --depth 60 \
    >/dev/null 2>"$WORK/gen.err"; then
  note "gen_synthetic failed: $(tail -1 "$WORK/gen.err")"
else
  tui_ok=1
  : >"$WORK/tui_syn.t"; : >"$WORK/report_syn.t"; : >"$WORK/tui_perf.t"; : >"$WORK/tui_kdata.t"
  for ((i = 1; i <= ARUNS; i++)); do
    echo "perf_compare: TUI run $i/$ARUNS" >&2
    first_screen "Functions (" "$KPROF" tui "$SYN" >>"$WORK/tui_syn.t"
    timed "$WORK/report_syn.t" "$KPROF" report "$SYN" ||
      { [ $i = 1 ] && note "kprof report on the synthetic trace failed: $(tail -1 "$WORK/err.out")"; }
    first_screen "Samples:" perf report -i "$BIG" >>"$WORK/tui_perf.t"
    first_screen "Functions (" "$KPROF" tui "$BIG" >>"$WORK/tui_kdata.t"
  done
  tui_syn_ms=$(grep -v n/a "$WORK/tui_syn.t" | median)
  report_syn_ms=$(awk '{printf "%.0f\n", $1 * 1000}' "$WORK/report_syn.t" | median)
  tui_perf_ms=$(grep -v n/a "$WORK/tui_perf.t" | median)
  tui_kdata_ms=$(grep -v n/a "$WORK/tui_kdata.t" | median)
  keys=$("$BUILD_DIR/bench/tui_bench" "$SYN" --repeat 3 2>/dev/null | sed -n 's/^slowest key: //p')
fi

# ---------------------------------------------------------------- collection overhead
# The workload runs alone in the foreground; the profiler records the whole system in the
# background from before the workload starts until after it ends.
run_workload() {  # -> ops/s
  "$KPROF" workload write -d "$DUR" >"$WORK/wl.out" 2>&1 || return 1
  ops_of "$WORK/wl.out"
}
overhead_perf() {  # N -> "ops lost"
  perf record -q -g -a -F "$1" -o "$WORK/ov.data" -- sleep $((DUR + 2)) \
    >/dev/null 2>"$WORK/ov.err" &
  local pid=$!
  sleep 1
  local ops; ops=$(run_workload) || ops=n/a
  wait $pid
  local lost
  lost=$(perf report -i "$WORK/ov.data" --stats 2>/dev/null |
    awk '/LOST events:/ {l+=$3} /LOST_SAMPLES events:/ {l+=$3} END {print l+0}')
  # LOST records count lost chunks; perf prints the lost sample total in its header.
  local lost_samples
  lost_samples=$(perf report -i "$WORK/ov.data" --stdio --header-only 2>/dev/null |
    awk -F: '/Total Lost Samples/ {gsub(/ /,"",$2); print $2}')
  echo "$ops ${lost_samples:-$lost}"
}
overhead_kprof() {  # N -> "ops lost"
  "$KPROF" record -a -F "$1" -d $((DUR + 2)) -q -o "$WORK/ov.kprof" >"$WORK/kov.out" 2>&1 &
  local pid=$!
  sleep 1
  local ops; ops=$(run_workload) || ops=n/a
  wait $pid || { echo "n/a n/a"; return; }
  local lost
  # kprof info: the "total" row of its "lost and throttled" table (lost records, samples).
  lost=$("$KPROF" info "$WORK/ov.kprof" 2>/dev/null |
    awk '/lost and throttled/ {t=1} t && $1=="total" {l=$2+$3} END {print l+0}')
  echo "$ops $lost"
}
declare -A OPS LOST
: >"$WORK/none.t"
for N in "${FREQS[@]}"; do : >"$WORK/perf.$N"; : >"$WORK/kprof.$N"; done
for ((i = 1; i <= RUNS; i++)); do
  echo "perf_compare: overhead run $i/$RUNS" >&2
  run_workload >>"$WORK/none.t" || note "the write workload failed: $(tail -1 "$WORK/wl.out")"
  for N in "${FREQS[@]}"; do
    overhead_perf "$N" >>"$WORK/perf.$N"
    overhead_kprof "$N" >>"$WORK/kprof.$N"
  done
done
base_ops=$(median <"$WORK/none.t")
if grep -q "n/a" "$WORK/kprof.999"; then
  note "kprof record -a failed: $(tail -2 "$WORK/kov.out" | tr '\n' ' ')"
fi
kprof_trace_bps=
if [ -s "$WORK/ov.kprof" ]; then
  kprof_rec_samples=$("$KPROF" info "$WORK/ov.kprof" 2>/dev/null | awk '$1=="total" {print $NF; exit}')
  [ -n "$kprof_rec_samples" ] &&
    kprof_trace_bps=$(awk -v b="$(stat -c %s "$WORK/ov.kprof")" -v s="$kprof_rec_samples" \
      'BEGIN {if (s>0) printf "%.1f", b/s}')
fi

# ---------------------------------------------------------------- report
perf_bps=$(awk -v b="$big_bytes" -v s="$big_samples" 'BEGIN {if (s>0) printf "%.1f", b/s; else print "n/a"}')
trace_bps=$(awk -v b="${trace_bytes:-0}" -v s="$big_samples" 'BEGIN {if (s>0 && b>0) printf "%.1f", b/s; else print "n/a"}')
{
  echo "# kprof vs perf — measured figures"
  echo
  echo "Written by \`bash bench/perf_compare.sh\` (issue 6). Medians of $ARUNS (analysis) and $RUNS (overhead) alternating runs."
  echo
  echo "| machine | |"
  echo "|---|---|"
  echo "| date | $(date -u '+%Y-%m-%d %H:%M UTC') |"
  echo "| host | $(uname -n), $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p' | head -1) |"
  echo "| kernel | $(uname -r) |"
  echo "| load average at start | $LOAD_AT_START |"
  echo "| perf | $(perf --version) |"
  echo "| kprof | $("$KPROF" --version) ($KPROF) |"
  echo
  echo "## Analysis of one perf.data ($big_samples samples, system-wide, -g -F 20000, write workload)"
  echo
  echo "| command | wall s | peak RSS MiB | perf / this (time) | perf / this (memory) |"
  echo "|---|---:|---:|---:|---:|"
  echo "| \`perf report -i perf.data --stdio -g\` | $perf_s | $(mib "$perf_kb") | 1.0 | 1.0 |"
  echo "| \`kprof report perf.data --callgraph\` | $kdata_s | $(mib "$kdata_kb") | $(ratio "$perf_s" "$kdata_s") | $(ratio "$perf_kb" "$kdata_kb") |"
  echo "| \`kprof report trace.kprof --callgraph\` (imported) | $ktrace_s | $(mib "$ktrace_kb") | $(ratio "$perf_s" "$ktrace_s") | $(ratio "$perf_kb" "$ktrace_kb") |"
  echo
  echo "\`kprof import perf.data -o trace.kprof\` (once): $import_s s."
  echo
  echo "## File size"
  echo
  echo "| file | bytes | bytes / sample | perf.data / this |"
  echo "|---|---:|---:|---:|"
  echo "| perf.data (perf record -a -g -F 20000) | $big_bytes | $perf_bps | 1.0 |"
  echo "| kprof trace of the same recording (kprof import) | ${trace_bytes:-n/a} | $trace_bps | $(ratio "$perf_bps" "$trace_bps") |"
  [ -n "$kprof_trace_bps" ] &&
    echo "| kprof record -a -F ${FREQS[-1]} trace (own recording, overhead run) | $(stat -c %s "$WORK/ov.kprof") | $kprof_trace_bps | $(ratio "$perf_bps" "$kprof_trace_bps") |"
  echo
  if [ $tui_ok = 1 ]; then
    echo "## TUI: time to first screen in a terminal (tmux 120x40)"
    echo
    echo "| command | data | first screen ms | reference / this |"
    echo "|---|---|---:|---:|"
    echo "| \`perf report -i perf.data\` (TUI) | the analysis perf.data | $tui_perf_ms | 1.0 |"
    echo "| \`kprof tui perf.data\` | the analysis perf.data | $tui_kdata_ms | $(ratio "$tui_perf_ms" "$tui_kdata_ms") |"
    echo "| \`kprof report synthetic.kprof\` (no terminal) | 1M samples, 100k stacks | $report_syn_ms | 1.0 |"
    echo "| \`kprof tui synthetic.kprof\` | 1M samples, 100k stacks | $tui_syn_ms | $(ratio "$report_syn_ms" "$tui_syn_ms") |"
    echo
    echo "Slowest key of a walk through every view on the synthetic trace (\`bench/tui_bench\`): ${keys:-n/a}."
    echo
  fi
  echo "## Collection overhead: write workload, $DUR s per run"
  echo
  echo "Profilers record system-wide in the background while the workload runs."
  echo
  echo "| profiler | -F | ops/s | vs unprofiled | lost samples (median) |"
  echo "|---|---:|---:|---:|---:|"
  echo "| none | | $base_ops | 100% | |"
  for N in "${FREQS[@]}"; do
    for who in perf kprof; do
      ops=$(awk '{print $1}' "$WORK/$who.$N" | grep -v n/a | median)
      lost=$(awk '{print $2}' "$WORK/$who.$N" | grep -v n/a | median)
      pct=$(awk -v a="$ops" -v b="$base_ops" 'BEGIN {if (a+0>0 && b+0>0) printf "%.1f%%", 100*a/b; else print "n/a"}')
      if [ $who = perf ]; then cmd="perf record -g -a -F $N"; else cmd="kprof record -a -F $N"; fi
      echo "| \`$cmd\` | $N | $ops | $pct | $lost |"
    done
  done
  echo
  echo "## Targets"
  echo
  # Unrounded ratios, so "missed by" is right for ratios below 1 too.
  t1=$(awk -v a="$perf_s" -v b="$kdata_s" 'BEGIN {if (a+0>0 && b+0>0) printf "%.3g", a/b; else print "n/a"}')
  t2=$(awk -v a="$perf_bps" -v b="$trace_bps" 'BEGIN {if (a+0>0 && b+0>0) printf "%.3g", a/b; else print "n/a"}')
  echo "- kprof report >= 10x faster than perf report -g on the same perf.data: **${t1}x**" \
    "$(awk -v r="$t1" 'BEGIN {if (r=="n/a") print "(not measured)"; else if (r>=10) print "(met)"; else printf "(missed by %.1fx)", 10/r}')"
  echo "- kprof trace >= 5x smaller per sample than perf.data: **${t2}x**" \
    "$(awk -v r="$t2" 'BEGIN {if (r=="n/a") print "(not measured)"; else if (r>=5) print "(met)"; else printf "(missed by %.1fx)", 5/r}')"
  echo "- overhead no higher than perf's at every frequency, no lost samples up to 4999 Hz: see the table."
  if [ $tui_ok = 1 ]; then
    echo "- TUI first screen on a 1M-sample trace under 0.5 s: **${tui_syn_ms} ms**" \
      "$(awk -v m="$tui_syn_ms" 'BEGIN {if (m=="n/a") print "(not measured)"; else if (m<500) print "(met)"; else print "(missed)"}')"
  else
    echo "- TUI first screen on a 1M-sample trace: not measured (see the notes)."
  fi
  if [ ${#NOTES[@]} -gt 0 ]; then
    echo
    echo "## Notes"
    echo
    for n in "${NOTES[@]}"; do echo "- $n"; done
  fi
} | tee "$OUT"
