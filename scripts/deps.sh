#!/usr/bin/env bash
# Installs the Debian 12 packages kprof needs to build, test and benchmark (root), and
# mounts tracefs for tracepoint events. Idempotent: does nothing that is already done.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev clang-format
  libboost-dev libboost-graph-dev libdw-dev libelf-dev libzstd-dev zlib1g-dev libcli11-dev libfmt-dev
  nlohmann-json3-dev libncurses-dev googletest libgtest-dev libgmock-dev
  linux-perf tmux graphviz libxml2-utils util-linux procps iproute2 zstd time python3
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "kprof: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Tracepoints (net:net_dev_xmit, syscalls:*) are resolved through tracefs.
if [ ! -e /sys/kernel/tracing/events ]; then
  mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null ||
    echo "kprof: could not mount tracefs at /sys/kernel/tracing; tracepoint tests will skip" >&2
fi
