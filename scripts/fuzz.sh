#!/usr/bin/env bash
# Bounded fuzzing of every parser of outside bytes (tests/fuzz/README.md):
#   bash scripts/fuzz.sh [target...]       (default: all; KPROF_FUZZ_SECONDS=60 per target)
# Builds the clang tree build-fuzz (libFuzzer, ASan+UBSan; only the fuzz targets), runs
# each target on a copy of its committed corpus, and fails if any run finds a crash, leak,
# timeout or out-of-memory, printing the reproducer to add to tests/fuzz/corpus/<name>/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${KPROF_FUZZ_SECONDS:-60}
dir=build-fuzz
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(trace perf_data perf_script folded kallsyms ring)
if ! command -v clang++ >/dev/null; then
  echo "fuzz.sh: clang++ not found (apt-get install clang libclang-rt-14-dev)" >&2
  exit 1
fi
if [ ! -f "$dir/build.ninja" ]; then
  # Clang warns about things GCC does not; warnings are GCC's job in the other trees.
  CC=clang CXX=clang++ cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DKPROF_FUZZ=ON -DKPROF_SANITIZE=ON -DKPROF_WERROR=OFF >/dev/null
fi
ninja -C "$dir" "${targets[@]/#/kprof_fuzz_}"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
for name in "${targets[@]}"; do
  work=$dir/fuzz-work/$name
  rm -rf "$work"
  mkdir -p "$work/corpus" "$work/artifacts"
  cp tests/fuzz/corpus/"$name"/* "$work/corpus/"
  echo "== fuzz $name: ${seconds}s"
  # -close_fd_mask=2: the importers' warnings would drown the log (libFuzzer keeps its own
  # and the sanitizers' reports on a duplicate of stderr).
  if ! "$dir/kprof_fuzz_$name" "$work/corpus" -max_total_time="$seconds" -timeout=25 \
      -rss_limit_mb=2048 -max_len=65536 -close_fd_mask=2 -print_final_stats=1 \
      -artifact_prefix="$work/artifacts/" >"$work/log" 2>&1; then
    status=1
    tail -n 60 "$work/log"
  fi
  if compgen -G "$work/artifacts/*" >/dev/null; then
    status=1
    for f in "$work/artifacts"/*; do
      echo "fuzz.sh: $name: reproducer $f (copy it into tests/fuzz/corpus/$name/ once fixed;"
      echo "         replay: $dir/kprof_fuzz_$name $f)"
    done
  else
    grep -E '^stat::(number_of_executed_units|peak_rss_mb)|cov:' "$work/log" | tail -n 3 || true
  fi
done
[ $status -eq 0 ] && echo "== fuzz: no crash in ${#targets[@]} targets x ${seconds}s"
exit $status
