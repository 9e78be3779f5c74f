#!/usr/bin/env bash
# Regenerates the seed corpus of tests/fuzz/corpus/ (README.md says what each seed is):
#   bash tests/fuzz/make_corpus.sh [BUILD_DIR]
# Seeds from the program make_corpus.cpp (traces by write_trace, ring records, hand-built
# perf.data images, hand-written text), plus real ones: perf record of short commands
# (file and pipe mode, zstd), their perf script text, and a /proc/kallsyms excerpt.
# Inputs kept because they once crashed a parser (crash-*) are left alone.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
corpus=tests/fuzz/corpus
ninja -C "$build" kprof_fuzz_make_corpus >/dev/null
"$build/kprof_fuzz_make_corpus" "$corpus"
cp tests/data/golden/*.folded "$corpus/folded/" 2>/dev/null || true

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
spin='i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done'
if perf record -q -e cpu-clock -F 999 -g -o "$tmp/file.data" -- sh -c "$spin" 2>/dev/null; then
  cp "$tmp/file.data" "$corpus/perf_data/perf-record-file"
  { perf script -i "$tmp/file.data" 2>/dev/null || true; } |
    head -c 16384 > "$corpus/perf_script/perf-script-callchain"
  { perf script -F comm,pid,tid,time,period,event,ip,sym,dso,symoff -i "$tmp/file.data" 2>/dev/null ||
    true; } | head -c 8192 > "$corpus/perf_script/perf-script-fields"
  perf record -q -e cpu-clock -g -o - -- true 2>/dev/null > "$corpus/perf_data/perf-record-pipe"
  perf record -q -e cpu-clock -g -z -o "$tmp/z.data" -- true 2>/dev/null &&
    cp "$tmp/z.data" "$corpus/perf_data/perf-record-zstd"
else
  echo "make_corpus.sh: perf record failed; perf_data seeds are only the hand-built ones" >&2
fi
# kallsyms: the head of vmlinux's table, module lines, and lines the parser must skip.
{
  head -n 40 /proc/kallsyms
  grep -m 10 $'\t\[' /proc/kallsyms || true
  printf 'ffffffffc0000000 t e1000_xmit\t[e1000]\n'
  printf '0000000000000000 T hidden_by_kptr_restrict\n'
  printf 'not an address T x\nffffffff81000000\nffffffff81000000 T\n\n'
} > "$corpus/kallsyms/proc-kallsyms-excerpt"
cp tests/fuzz/kallsyms.fixture "$corpus/kallsyms/fixture"
du -sh "$corpus"
