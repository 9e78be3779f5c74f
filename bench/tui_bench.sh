#!/usr/bin/env bash
# Speed of `kprof tui` (issue 5 targets: first screen under 0.5 s on a 1M-sample trace,
# every key under 50 ms). Generates a synthetic trace (bench/gen_synthetic.cpp), then
#  1. times the view models directly (bench/tui_bench.cpp): first screen split into load,
#     aggregation and home view, then every key of a walk through all views;
#  2. times the real binary in a real terminal: from starting `kprof tui` under tmux to
#     the home screen appearing in capture-pane (includes tmux's own redraw latency).
#
#   bash bench/tui_bench.sh [BUILD_DIR] [SAMPLES] [STACKS] [DEPTH]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
samples=${2:-1000000}
stacks=${3:-100000}
depth=${4:-60}
for b in "$build/kprof" "$build/bench/gen_synthetic" "$build/bench/tui_bench"; do
  [ -x "$b" ] || { echo "tui_bench: $b not built: ninja -C $build kprof gen_synthetic tui_bench" >&2; exit 1; }
done
work=$(mktemp -d /tmp/kprof-tui-bench.XXXXXX)
sock=kprof-tui-bench-$$
trap 'for r in 1 2 3; do tmux -L "$sock-$r" kill-server 2>/dev/null || true; done; rm -rf "$work"' EXIT
trace=$work/synthetic.kprof

echo "generating $samples samples over $stacks stacks (depth <= $depth) ..."
"$build/bench/gen_synthetic" "$trace" --samples "$samples" --stacks "$stacks" --depth "$depth" >/dev/null

echo "== view models (bench/tui_bench.cpp)"
"$build/bench/tui_bench" "$trace"

if command -v tmux >/dev/null; then
  echo "== real terminal (tmux 120x40): start to home screen"
  best=""
  for run in 1 2 3; do
    # A server per run: a new session right after kill-server can race its shutdown.
    t="tmux -L $sock-$run"
    $t new-session -d -s b -x 120 -y 40 "bash --norc --noprofile"
    start=$(date +%s%N)
    $t send-keys -t b "$build/kprof tui $trace" Enter
    for _ in $(seq 12000); do  # at most ~60 s
      $t capture-pane -p -t b | grep -q "Functions (" && break
      sleep 0.005
    done
    end=$(date +%s%N)
    ms=$(( (end - start) / 1000000 ))
    echo "run $run: ${ms} ms"
    $t send-keys -t b q
    $t kill-server
    if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
  done
  echo "best: ${best} ms $( [ "$best" -lt 500 ] && echo '(< 500 ms)' || echo 'OVER 500 ms')"
fi
