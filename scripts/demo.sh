#!/usr/bin/env bash
# The main job: installs what is missing, builds, records the built-in socket, write and
# ping workloads for 3 seconds with kernel call stacks, and shows the result: the TUI when
# run in a terminal, otherwise the trace summary, the flat profile and the call graph.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh release
out=${KPROF_DEMO_OUT:-kprof.data}
./build/kprof record --workload socket,write,ping -d 3 -e cpu-clock -e net:net_dev_xmit -o "$out"
if [ -t 0 ] && [ -t 1 ]; then
  exec ./build/kprof tui "$out"
fi
./build/kprof info "$out"
./build/kprof report "$out" --event net:net_dev_xmit | head -n 40
./build/kprof report "$out" --event net:net_dev_xmit --callgraph | head -n 120
