#!/usr/bin/env bash
# User stacks without frame pointers: `kprof record --call-graph dwarf` against
# `perf record --call-graph dwarf` (linux-perf) on the same running programs, both built
# without frame pointers: the unwinding tests' C program (-O2 -fomit-frame-pointer) and
# Debian's python3 running busy Python code. Each recorder attaches (-p) for DUR seconds
# at -F FREQ to a fresh copy of the program, so that its CPU time is its own, not the
# program's. Each is run for SHORT and for DUR seconds, and the difference between the two
# gives the cost of each additional sample, without the fixed costs (start-up, reading
# kallsyms, symbolizing at the end; kprof's trace starts with the ~1.5 MB kernel symbol
# snapshot). Compared, as medians over RUNS runs:
#   - CPU time (user+sys of the process and its children) per additional sample. kprof unwinds while
#     recording, so its recorder is the whole cost; perf only copies the stacks and
#     unwinds them later, in perf script / perf report, so perf's cost is perf record +
#     perf script. kprof's import of perf's own perf.data times kprof's unwinder on
#     exactly perf's data.
#   - bytes per sample of the file written, and per additional sample.
#   - the share of samples whose stack reaches main (C) or Py_RunMain (python3).
# kprof record --call-graph fp (the default) is measured too, as the cost of plain
# recording. Writes bench/RESULTS-dwarf.md (OUT=) and prints it.
#
#   bash bench/dwarf_bench.sh     # as root; KPROF=build/kprof DUR=8 SHORT=2 RUNS=3 FREQ=4999
set -uo pipefail
cd "$(dirname "$0")/.."

KPROF=${KPROF:-build/kprof}
TARGET=${TARGET:-build/tests/kprof_unwind_target}
DUR=${DUR:-8}
SHORT=${SHORT:-2}
RUNS=${RUNS:-3}
FREQ=${FREQ:-4999}
OUT=${OUT:-bench/RESULTS-dwarf.md}
PYTHON=${PYTHON:-/usr/bin/python3}
die() { echo "dwarf_bench: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (recording other processes)"
[ -x "$KPROF" ] || die "no kprof binary at $KPROF (build first, or set KPROF=)"
[ -x "$TARGET" ] || die "no test program at $TARGET (build the tests first, or set TARGET=)"
[ -x "$PYTHON" ] || die "no $PYTHON (apt-get install python3)"
command -v perf >/dev/null || die "perf is not installed (apt-get install linux-perf)"

scratch=$(mktemp -d)
program_pid=
cleanup() {
  [ -n "$program_pid" ] && kill "$program_pid" 2>/dev/null
  rm -rf "$scratch"
}
trap cleanup EXIT

# Starts the program PROG (c or python) in the background, busy for longer than any run.
start_program() {
  case $1 in
    c) "$TARGET" 100000 >/dev/null 2>&1 & ;;
    python) "$PYTHON" -c 'while True: sum(i * i for i in range(10000))' >/dev/null 2>&1 & ;;
  esac
  program_pid=$!
  sleep 0.5  # python3's start-up is not what is measured
}
stop_program() {
  kill "$program_pid" 2>/dev/null
  wait "$program_pid" 2>/dev/null
  program_pid=
}

# Runs "$@" and writes its CPU seconds (user + sys, to the microsecond: /usr/bin/time
# rounds to 10 ms, more than a few hundred samples cost) to $scratch/time.
cpu_time() {
  "$PYTHON" -c 'import resource, subprocess, sys
rc = subprocess.call(sys.argv[2:])
r = resource.getrusage(resource.RUSAGE_CHILDREN)
open(sys.argv[1], "w").write("%.6f\n" % (r.ru_utime + r.ru_stime))
sys.exit(rc)' "$scratch/time" "$@"
}
cpu_of() { cat "$1"; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
per() { awk -v a="$1" -v b="$2" -v k="${3:-1}" 'BEGIN { if (b > 0) printf "%.2f", a * k / b; else print "nan" }'; }

# The share of stacks in folded text (kprof report --folded) that hold FUNCTION.
share_folded() {
  awk -v f=";$2;" '{ n = $NF; t += n; if (index(";" $0 ";", f) || index(";" $1 ";", f)) h += n }
    END { if (t) printf "%.3f", h / t; else print "nan" }' "$1"
}

# One recording: RECORDER (kprof, kprof-fp, perf) of PROG for SECONDS. Prints
# "samples recorder_cpu unwind_cpu bytes reach import_cpu loop_cpu" (unwind_cpu: perf
# script's; import_cpu: kprof's import of perf.data; loop_cpu: kprof's own count of its
# recording loop's CPU time, which excludes start-up and the end; 0 where it does not apply).
record_once() {
  local recorder=$1 prog=$2 seconds=$3 reach_fn
  [ "$prog" = c ] && reach_fn=main || reach_fn=Py_RunMain
  start_program "$prog"
  local samples=0 cpu=0 unwind=0 bytes=0 reach=nan import=0 loop=0
  case $recorder in
    kprof | kprof-fp)
      local mode=(--call-graph dwarf)
      [ "$recorder" = kprof-fp ] && mode=(--call-graph fp)
      cpu_time "$KPROF" record "${mode[@]}" -F "$FREQ" \
        -p "$program_pid" -d "$seconds" -o "$scratch/k.data" >"$scratch/log" 2>&1 ||
        { cat "$scratch/log" >&2; die "kprof record failed"; }
      samples=$(sed -n 's/^kprof record: \([0-9]*\) samples.*/\1/p' "$scratch/log")
      cpu=$(cpu_of "$scratch/time")
      loop=$(sed -n 's/^  collector CPU time: \([0-9.]*\) s.*/\1/p' "$scratch/log")
      bytes=$(stat -c %s "$scratch/k.data")
      "$KPROF" report "$scratch/k.data" --folded -o "$scratch/folded" 2>/dev/null
      reach=$(share_folded "$scratch/folded" "$reach_fn")
      ;;
    perf)
      cpu_time perf record -q --call-graph dwarf -F "$FREQ" \
        -p "$program_pid" -o "$scratch/p.data" -- sleep "$seconds" >"$scratch/log" 2>&1 ||
        { cat "$scratch/log" >&2; die "perf record failed"; }
      cpu=$(cpu_of "$scratch/time")
      bytes=$(stat -c %s "$scratch/p.data")
      perf report -i "$scratch/p.data" --stats >"$scratch/stats" 2>/dev/null
      samples=$(awk '/^ *SAMPLE events:/ { print $3; exit }' "$scratch/stats")
      cpu_time perf script -i "$scratch/p.data" \
        -F comm,ip,sym >"$scratch/script" 2>/dev/null
      unwind=$(cpu_of "$scratch/time")
      reach=$(awk -v f="$reach_fn" '/^[^ \t]/ { t++ } $2 == f { h[t] = 1 }
        END { for (i in h) n++; if (t) printf "%.3f", n / t; else print "nan" }' "$scratch/script")
      cpu_time "$KPROF" import -q "$scratch/p.data" \
        -o "$scratch/imported.kprof" >/dev/null 2>&1
      import=$(cpu_of "$scratch/time")
      ;;
  esac
  stop_program
  echo "${samples:-0} $cpu $unwind $bytes $reach $import ${loop:-0}"
}

declare -A col  # "$recorder $prog $seconds $field" -> space-separated values of the runs
for prog in c python; do
  for run in $(seq 1 "$RUNS"); do
    for recorder in kprof perf kprof-fp; do
      for seconds in "$SHORT" "$DUR"; do
        read -r samples cpu unwind bytes reach import loop < <(record_once "$recorder" "$prog" "$seconds")
        echo "$prog run $run $recorder ${seconds}s: $samples samples, cpu $cpu s, unwind $unwind s," \
          "import $import s, $bytes bytes, reach $reach" >&2
        for f in samples cpu unwind bytes reach import loop; do
          col["$recorder $prog $seconds $f"]+="${!f} "
        done
      done
    done
  done
done

m() { echo "${col[$1]}" | median; }
# Per additional sample: (FIELD at DUR - FIELD at SHORT) / (samples at DUR - at SHORT), x K.
extra() {
  awk -v a="$(m "$1 $2 $DUR $3")" -v b="$(m "$1 $2 $SHORT $3")" -v s="$(m "$1 $2 $DUR samples")" \
    -v t="$(m "$1 $2 $SHORT samples")" -v k="${4:-1}" \
    'BEGIN { if (s > t) printf "%.2f", (a - b) * k / (s - t); else print "nan" }'
}
{
  echo "# DWARF unwinding: kprof vs perf"
  echo
  echo "Written by \`bash bench/dwarf_bench.sh\` (issue 15). Medians of $RUNS runs; each recorder"
  echo "attaches (-p) at -F $FREQ to a fresh copy of a busy program built without frame pointers,"
  echo "for $SHORT s and for $DUR s: \"extra\" columns are the growth from one to the other per"
  echo "additional sample, the cost of a sample without the fixed costs of a run. \"kprof loop\""
  echo "is kprof's own count of its recording loop's CPU time (draining, unwinding, writing),"
  echo "which leaves out start-up and the end (symbolization, the kernel symbol snapshot)."
  echo
  echo "| machine | |"
  echo "|---|---|"
  echo "| date | $(date -u '+%Y-%m-%d %H:%M UTC') |"
  echo "| host | $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1) |"
  echo "| kernel | $(uname -r) |"
  echo "| load average at start | $(cut -d' ' -f1-3 /proc/loadavg) |"
  echo "| perf | $(perf version 2>/dev/null) |"
  echo "| elfutils | $(dpkg-query -W -f='${Version}' libdw1 2>/dev/null) |"
  echo
  for prog in c python; do
    if [ "$prog" = c ]; then
      echo "## C: \`kprof_unwind_target\` (-O2 -fomit-frame-pointer, no -g); stacks reaching main"
    else
      echo "## python3 (Debian's, no frame pointers): busy Python code; stacks reaching Py_RunMain"
    fi
    echo
    echo "| recorder | samples in $DUR s | CPU us/sample | record CPU us/extra sample | unwind CPU us/extra sample | total us/extra sample | kprof loop us/sample | bytes/sample | bytes/extra sample | reach |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for recorder in kprof perf kprof-fp; do
      case $recorder in
        kprof) name="\`kprof record --call-graph dwarf\`" ;;
        perf) name="\`perf record --call-graph dwarf\` + \`perf script\`" ;;
        kprof-fp) name="\`kprof record\` (fp, for reference)" ;;
      esac
      s=$(m "$recorder $prog $DUR samples")
      total=$(awk -v c="$(m "$recorder $prog $DUR cpu")" -v u="$(m "$recorder $prog $DUR unwind")" 'BEGIN { print c + u }')
      rec=$(extra "$recorder" "$prog" cpu 1e6)
      unw=$(extra "$recorder" "$prog" unwind 1e6)
      loop="-"
      [ "$recorder" != perf ] && loop=$(per "$(m "$recorder $prog $DUR loop")" "$s" 1e6)
      echo "| $name | $s | $(per "$total" "$s" 1e6) | $rec | $unw |" \
        "$(awk -v a="$rec" -v b="$unw" 'BEGIN { printf "%.2f", a + b }') | $loop |" \
        "$(per "$(m "$recorder $prog $DUR bytes")" "$s") | $(extra "$recorder" "$prog" bytes) |" \
        "$(m "$recorder $prog $DUR reach") |"
    done
    k=$(extra kprof "$prog" cpu 1e6)
    p=$(awk -v a="$(extra perf "$prog" cpu 1e6)" -v b="$(extra perf "$prog" unwind 1e6)" 'BEGIN { print a + b }')
    echo
    echo "Per additional sample, kprof/perf: CPU $(per "$k" "$p") (against perf record alone:"
    echo "$(per "$k" "$(extra perf "$prog" cpu 1e6)")); bytes: perf.data grows $(per "$(extra perf "$prog" bytes)" "$(extra kprof "$prog" bytes)")"
    echo "times faster than the kprof trace."
    echo "kprof's unwinder on perf's own perf.data (\`kprof import\`, symbolization included):"
    echo "$(extra perf "$prog" import 1e6) us per additional sample, against perf script's $(extra perf "$prog" unwind 1e6)."
    echo
  done
} >"$OUT"
cat "$OUT"
