#!/usr/bin/env bash
# Configures and builds one kprof build tree: scripts/build.sh [release|asan] [ninja targets]
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-release}
shift || true
case "$kind" in
  release) dir=${KPROF_BUILD_DIR:-build}; flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
  asan) dir=${KPROF_BUILD_DIR:-build-asan}; flags=(-DCMAKE_BUILD_TYPE=Debug -DKPROF_SANITIZE=ON) ;;
  *) echo "usage: scripts/build.sh [release|asan] [targets]" >&2; exit 2 ;;
esac
# A developer's ccache, when there is one, makes rebuilds across checkouts cheap; a fresh
# machine builds without it.
if command -v ccache >/dev/null; then
  flags+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
if [ ! -f "$dir/build.ninja" ]; then
  cmake -S . -B "$dir" -G Ninja "${flags[@]}" >/dev/null
fi
ninja -C "$dir" "$@"
