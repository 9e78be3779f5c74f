#!/usr/bin/env bash
# Long-run soak of the collector: records the whole system at -F 999 for DUR seconds
# (default 600) while `kprof workload write` keeps the CPUs busy, then reports the
# recorder's peak resident memory (must stay under 100 MB: samples stream to the file in
# chunks, only unique stacks stay in memory), lost samples (must be 0), the trace size
# and that the trace reads back. Two recordings running at once are covered by the live
# tests (LiveRecord.TwoConcurrentRecordingsBothSucceed).
#
#   bash bench/soak.sh            # as root; KPROF=build/kprof DUR=600
#   KEEP=soak.data bash bench/soak.sh   # keeps the trace for a look with kprof info
set -uo pipefail
cd "$(dirname "$0")/.."

KPROF=${KPROF:-build/kprof}
DUR=${DUR:-600}
die() { echo "soak: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (system-wide recording)"
[ -x "$KPROF" ] || die "no kprof binary at $KPROF (build first, or set KPROF=)"
[ -x /usr/bin/time ] || die "/usr/bin/time is not installed (apt-get install time)"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

"$KPROF" workload write -d $((DUR + 5)) >"$scratch/workload.log" 2>&1 &
wl=$!
sleep 0.5
/usr/bin/time -f "%M %U %S %e" -o "$scratch/time" \
  "$KPROF" record -a -F 999 -d "$DUR" -o "$scratch/soak.data" >"$scratch/record.log" 2>&1
rc=$?
wait $wl
[ $rc = 0 ] || { cat "$scratch/record.log"; die "kprof record failed ($rc)"; }

read -r rss_kb user sys wall <"$scratch/time"
samples=$(awk '/samples in/ { print $3; exit }' "$scratch/record.log")
lost=$("$KPROF" info "$scratch/soak.data" | awk '$1 == "total" && NF == 5 { print $2 + $3 }')
size=$(stat -c %s "$scratch/soak.data")
"$KPROF" report "$scratch/soak.data" >/dev/null || die "the trace does not read back"

status=PASS
[ "$rss_kb" -lt 102400 ] || status=FAIL
[ "${lost:-1}" = 0 ] || status=FAIL
cat <<OUT
| soak | value |
|---|---|
| command | kprof record -a -F 999 -d $DUR (write workload running) |
| samples | $samples |
| lost samples + records | $lost |
| recorder peak RSS | $((rss_kb / 1024)) MiB (limit 100 MB) |
| recorder CPU | ${user} s user + ${sys} s sys over ${wall} s |
| trace size | $((size / 1024)) KiB ($(awk -v s="$size" -v n="$samples" 'BEGIN { printf "%.1f", s / n }') bytes/sample) |
| result | $status |
OUT
[ -n "${KEEP:-}" ] && cp "$scratch/soak.data" "$KEEP"
[ $status = PASS ]
