#!/usr/bin/env bash
# Long-run soak of the collector: records the whole system at -F 999 for DUR seconds
# (default 600) while `kprof workload write` keeps the CPUs busy, then reports the
# recorder's peak resident memory (must stay under 100 MB: samples and new stacks stream
# to the file in chunks, only live processes' stacks and mappings stay in memory), lost
# samples (must be 0), the trace size and that the trace reads back. Two recordings
# running at once are covered by the live tests (LiveRecord.TwoConcurrentRecordingsBothSucceed).
#
# CHURN=1 adds what a build box runs beside: g++ -O2 on template-heavy code in a loop
# (deep, ever new compiler stacks, a new process every second or two) and a stream of
# tiny short-lived commands, the load under which memory used to grow with the run.
#
#   bash bench/soak.sh                  # as root; KPROF=build/kprof DUR=600 CHURN=0
#   CHURN=1 KEEP=soak.data bash bench/soak.sh   # KEEP: keep the trace for kprof info
set -uo pipefail
cd "$(dirname "$0")/.."

KPROF=${KPROF:-build/kprof}
DUR=${DUR:-600}
CHURN=${CHURN:-0}
die() { echo "soak: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (system-wide recording)"
[ -x "$KPROF" ] || die "no kprof binary at $KPROF (build first, or set KPROF=)"
[ -x /usr/bin/time ] || die "/usr/bin/time is not installed (apt-get install time)"
[ "$CHURN" = 0 ] || command -v g++ >/dev/null || die "CHURN=1 needs g++"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# Runs until the file $scratch/stop appears.
churn() {
  cat >"$scratch/churn.cpp" <<'CPP'
#include <algorithm>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>
std::map<std::string, std::vector<int>> seen;
int f(const std::string& s) {
    std::regex r("([a-z]+)-(\\d+)");
    std::smatch m;
    std::ostringstream o;
    if (std::regex_search(s, m, r)) seen[m[1]].push_back(std::stoi(m[2])), o << m[1];
    std::vector<std::string> v{o.str(), s};
    std::sort(v.begin(), v.end());
    return static_cast<int>(v.size() + seen.size());
}
CPP
  (while [ ! -e "$scratch/stop" ]; do sh -c true; ls / >/dev/null; sleep 0.05; done) &
  while [ ! -e "$scratch/stop" ]; do g++ -O2 -c "$scratch/churn.cpp" -o "$scratch/churn.o"; done
  wait
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
"$KPROF" workload write -d $((DUR + 5)) >"$scratch/workload.log" 2>&1 &
wl=$!
[ "$CHURN" = 0 ] || { churn >/dev/null 2>&1 & }
sleep 0.5
/usr/bin/time -f "%M %U %S %e" -o "$scratch/time" \
  "$KPROF" record -a -F 999 -d "$DUR" -o "$scratch/soak.data" >"$scratch/record.log" 2>&1 &
timer=$!
# The recorder's resident set every 10 s: flat after the start, or growing with the run.
rss_trace=""
sleep 2
rec=$(pgrep -P $timer | head -1)
while kill -0 $timer 2>/dev/null; do
  r=$(awk '/^VmRSS/ { print int($2 / 1024) }' /proc/$rec/status 2>/dev/null) && rss_trace+="$r "
  for _ in $(seq 20); do kill -0 $timer 2>/dev/null && sleep 0.5; done
done
wait $timer
rc=$?
touch "$scratch/stop"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
wait
[ $rc = 0 ] || { cat "$scratch/record.log"; die "kprof record failed ($rc)"; }

read -r rss_kb user sys wall <"$scratch/time"
samples=$(awk '/samples in/ { print $3; exit }' "$scratch/record.log")
lost=$("$KPROF" info "$scratch/soak.data" | awk '$1 == "total" && NF == 5 { print $2 + $3 }')
processes=$("$KPROF" info "$scratch/soak.data" | awk '$1 == "threads:" { print $4 }')
size=$(stat -c %s "$scratch/soak.data")
"$KPROF" report "$scratch/soak.data" >/dev/null || die "the trace does not read back"

status=PASS
[ "$rss_kb" -lt 102400 ] || status=FAIL
[ "${lost:-1}" = 0 ] || status=FAIL
cat <<OUT
| soak | value |
|---|---|
| command | kprof record -a -F 999 -d $DUR (write workload running$([ "$CHURN" = 0 ] || echo ", CHURN=1")) |
| load average (1/5/15 min) | before $load_before, after $load_after |
| samples | $samples |
| processes seen | $processes |
| lost samples + records | $lost |
| recorder peak RSS | $((rss_kb / 1024)) MiB (limit 100 MB) |
| recorder RSS every 10 s (MiB) | ${rss_trace% } |
| recorder CPU | ${user} s user + ${sys} s sys over ${wall} s |
| trace size | $((size / 1024)) KiB ($(awk -v s="$size" -v n="$samples" 'BEGIN { printf "%.1f", s / n }') bytes/sample) |
| result | $status |
OUT
[ -n "${KEEP:-}" ] && cp "$scratch/soak.data" "$KEEP"
[ $status = PASS ]
