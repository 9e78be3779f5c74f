#!/usr/bin/env bash
# The main job: installs what is missing, builds, records the built-in socket, write and
# ping workloads with kernel call stacks, and shows the result.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh release
out=${KPROF_DEMO_OUT:-kprof.data}
./build/kprof record --workload socket,write,ping -d 3 -e cpu-clock -e net:net_dev_xmit -o "$out"
./build/kprof info "$out"
./build/kprof script "$out" | head -n 60
