#!/usr/bin/env bash
# The test command: installs what is missing (Debian 12 packages), builds
# the binaries and runs the tests that need them uninstrumented, runs every
# other test with ctest under ASan+UBSan, the scheduler's tests under TSan,
# then each libFuzzer target for a bounded time (tools/fuzz.sh). The
# integration tests start their own PostgreSQL servers (as a non-root user,
# on sockets in temp dirs) and their own scheduler and agents on loopback.
#
#   tools/test.sh                 # BUILD_DIR=build, BUILD_TYPE=RelWithDebInfo
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -eq 0 ]; then
  tools/install-deps.sh
elif ! tools/install-deps.sh 2>/dev/null; then
  sudo tools/install-deps.sh
fi

# Each phase's wall time, so that a slow CI run says where the time went.
phase() { echo "== test.sh: $1 (${SECONDS} s since start)"; }
phase "dependencies installed"

build_dir=${BUILD_DIR:-build}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" >/dev/null
# The plain build makes what the tests labelled "plain" need: the 100-agent
# load test (a hundred instrumented agents would measure the sanitizer) and
# the images' library check (a sanitizer build links its runtime too).
# Every other test runs once, under ASan+UBSan below, which checks all the
# plain run would and more: compiling and running the suite twice had
# pushed CI past half an hour. QUICK=1 builds and runs everything plain
# instead, and stops there (a developer's quick loop).
if [ "${QUICK:-0}" = 1 ]; then
  cmake --build "$build_dir" -j2
  (cd "$build_dir" && ctest -j2 --output-on-failure --timeout 900)
  phase "plain tests passed (QUICK=1: no sanitizers, no fuzzing)"
  exit 0
fi
cmake --build "$build_dir" -j2 --target dxbackup dxbackup-agent \
  dxbackup-scheduler load_test
phase "plain build done"
(cd "$build_dir" && ctest -j2 --output-on-failure --timeout 900 -L plain)

# The suite under ASan+UBSan: dxbackup's own code instrumented (not the
# generated protobuf code), any report fails the test.
phase "plain tests passed"
# The instrumented builds compile at -O1 with line tables only (-g1):
# enough for the sanitizers' stack traces (function, file, line), and half
# the compile time of -O2 -g (measured per file: 86 s -> 40 s for the
# end-to-end test, 35 s -> 20 s for agent_service.cc), which was most of
# CI's time. tools/fuzz.sh builds the same way.
export DXBACKUP_CHECK_FLAGS="-O1 -g1 -DNDEBUG"
asan_dir=${ASAN_BUILD_DIR:-build-asan}
cmake -S . -B "$asan_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$DXBACKUP_CHECK_FLAGS" \
  -DDXBACKUP_SANITIZE=address,undefined >/dev/null
cmake --build "$asan_dir" -j2
phase "ASan build done"
suppressions=$PWD/tests/sanitizers/lsan.supp
(cd "$asan_dir" &&
  LSAN_OPTIONS="suppressions=$suppressions" \
  UBSAN_OPTIONS=print_stacktrace=1 \
  ctest -j2 --output-on-failure --timeout 900 --label-exclude plain)

phase "ASan tests passed"

# The scheduler's tests under TSan: its per-library test binaries, which
# tests/CMakeLists.txt lists in scheduler-tests.txt. gRPC, Abseil and
# Protobuf come from Debian uninstrumented, so their own hand-offs are
# suppressed (tests/sanitizers/tsan.supp); races among dxbackup's threads
# are reports.
tsan_dir=${TSAN_BUILD_DIR:-build-tsan}
cmake -S . -B "$tsan_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$DXBACKUP_CHECK_FLAGS" \
  -DDXBACKUP_SANITIZE=thread >/dev/null
cmake --build "$tsan_dir" -j2 --target scheduler_tests
phase "TSan build done"
for t in $(cat "$tsan_dir/scheduler-tests.txt"); do
  TSAN_OPTIONS="suppressions=$PWD/tests/sanitizers/tsan.supp" \
    "$tsan_dir/bin/$t" --gtest_brief=1
done

phase "TSan tests passed"

# Then the libFuzzer targets, each for a bounded time (FUZZ_SECONDS).
FUZZ_SECONDS=${FUZZ_SECONDS:-30} tools/fuzz.sh
phase "fuzzing done"
