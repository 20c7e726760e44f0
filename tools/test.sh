#!/usr/bin/env bash
# The test command: installs what is missing (Debian 12 packages), builds
# the binaries and runs the tests that need them uninstrumented, runs every
# other test with ctest under ASan+UBSan, the scheduler's tests under TSan,
# then each libFuzzer target for a bounded time (tools/fuzz.sh). The
# integration tests start their own PostgreSQL servers (as a non-root user,
# on sockets in temp dirs) and their own scheduler and agents on loopback.
#
#   tools/test.sh          # in build-plain, build-asan, build-tsan
#                          # (PLAIN_BUILD_DIR, ASAN_BUILD_DIR, TSAN_BUILD_DIR)
#   QUICK=1 tools/test.sh  # everything plain in build/ (BUILD_DIR, BUILD_TYPE)
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

# Each build below but QUICK's compiles a library's sources a few at a
# time in one unit (CMake's unity build; tests and generated code one file
# at a time): a third less compile time, which is most of CI's time. They
# compile at -O1 with line tables only (-g1): enough for the sanitizers'
# stack traces (function, file, line), and half the compile time of -O2 -g.
export DXBACKUP_CHECK_FLAGS="-O1 -g1 -DNDEBUG"
unity=-DCMAKE_UNITY_BUILD=ON
# The sanitizer builds compile the test files themselves at -O0 after one
# precompiled header (tests/CMakeLists.txt): a third of their time at
# -O1 without it. The code under test keeps -O1.
test_files="-DDXBACKUP_TEST_COMPILE_OPTIONS=-O0 -DDXBACKUP_TEST_PCH=ON"

# QUICK=1 builds and runs everything plain in build/ instead, and stops
# there (a developer's quick loop).
if [ "${QUICK:-0}" = 1 ]; then
  build_dir=${BUILD_DIR:-build}
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" >/dev/null
  cmake --build "$build_dir" -j2
  (cd "$build_dir" && ctest -j2 --output-on-failure --timeout 900)
  phase "plain tests passed (QUICK=1: no sanitizers, no fuzzing)"
  exit 0
fi

# The plain build (build-plain, the default compiler) makes what the tests
# labelled "plain" need: the 100-agent load test (a hundred instrumented
# agents would measure the sanitizer) and the images' library check (a
# sanitizer build links its runtime too). Every other test runs once,
# under ASan+UBSan below, which checks all the plain run would and more.
plain_dir=${PLAIN_BUILD_DIR:-build-plain}
cmake -S . -B "$plain_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$DXBACKUP_CHECK_FLAGS" $unity >/dev/null
cmake --build "$plain_dir" -j2 --target dxbackup dxbackup-agent \
  dxbackup-scheduler load_test replicas_kill_test
phase "plain build done"
(cd "$plain_dir" && ctest -j2 --output-on-failure --timeout 900 -L plain)
phase "plain tests passed"

# The suite under ASan+UBSan: dxbackup's own code instrumented (not the
# generated protobuf code), any report fails the test. Built with clang,
# with the libFuzzer targets (tests/fuzz) in the same tree: their
# libraries carry the fuzzer's coverage hooks too, so tools/fuzz.sh below
# only links the targets rather than compiling everything a third time.
asan_dir=${ASAN_BUILD_DIR:-build-asan}
CXX=clang++ CC=clang cmake -S . -B "$asan_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$DXBACKUP_CHECK_FLAGS" \
  -DDXBACKUP_SANITIZE=address,undefined -DDXBACKUP_FUZZ=ON $unity \
  $test_files >/dev/null
cmake --build "$asan_dir" -j2
phase "ASan build done"
# Three at once on two cores: the longest tests mostly wait (for a
# policy's minute slot, an agent's missed heartbeats, a takeover), and no
# test depends on how fast the machine is.
suppressions=$PWD/tests/sanitizers/lsan.supp
(cd "$asan_dir" &&
  LSAN_OPTIONS="suppressions=$suppressions" \
  UBSAN_OPTIONS=print_stacktrace=1 \
  ctest -j3 --output-on-failure --timeout 900 --label-exclude plain)

phase "ASan tests passed"

# The scheduler's tests under TSan: its per-library test binaries, which
# tests/CMakeLists.txt lists in scheduler-tests.txt. gRPC, Abseil and
# Protobuf come from Debian uninstrumented, so their own hand-offs are
# suppressed (tests/sanitizers/tsan.supp); races among dxbackup's threads
# are reports.
tsan_dir=${TSAN_BUILD_DIR:-build-tsan}
cmake -S . -B "$tsan_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$DXBACKUP_CHECK_FLAGS" \
  -DDXBACKUP_SANITIZE=thread $unity $test_files >/dev/null
cmake --build "$tsan_dir" -j2 --target scheduler_tests
phase "TSan build done"
for t in $(cat "$tsan_dir/scheduler-tests.txt"); do
  TSAN_OPTIONS="suppressions=$PWD/tests/sanitizers/tsan.supp" \
    "$tsan_dir/bin/$t" --gtest_brief=1
done

phase "TSan tests passed"

# Then the libFuzzer targets, built in the ASan tree, each for a bounded
# time (FUZZ_SECONDS, 20 s here: a full run stays within its half hour),
# two at a time.
FUZZ_BUILD_DIR="$asan_dir" FUZZ_SECONDS=${FUZZ_SECONDS:-20} tools/fuzz.sh
phase "fuzzing done"
