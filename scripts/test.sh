#!/usr/bin/env bash
# The test command: installs what is missing, builds the normal and the sanitizer
# (ASan+UBSan) trees, and runs every test of both through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh release
bash scripts/build.sh asan
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
echo "== tests: release build"
ctest --test-dir build --output-on-failure --timeout 600 || status=1
echo "== tests: sanitizer build"
ctest --test-dir build-asan --output-on-failure --timeout 900 || status=1
bash scripts/fuzz.sh || status=1
exit $status
