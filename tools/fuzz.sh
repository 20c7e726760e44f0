#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang in build-fuzz and runs
# each for a bounded time from its seed corpus (tests/fuzz/corpus/<target>,
# copied, so the repository is not written). A crash or a failed check
# leaves the input in build-fuzz/crashes and exits 1.
#
#   tools/fuzz.sh                 # FUZZ_SECONDS=30 each, FUZZ_BUILD_DIR=build-fuzz,
#                                 # FUZZ_JOBS=2 targets at a time
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${FUZZ_BUILD_DIR:-build-fuzz}
seconds=${FUZZ_SECONDS:-30}
targets=(config cron retention extract upload age)

# -O1 with line tables, as libFuzzer's documentation builds its targets:
# half the compile time of -O2 -g, and crash reports still name function,
# file and line. The same configuration as tools/test.sh's ASan build, which
# passes its directory as FUZZ_BUILD_DIR: there this links the targets only.
CXX=clang++ CC=clang cmake -S . -B "$dir" -DDXBACKUP_FUZZ=ON \
  -DDXBACKUP_SANITIZE=address,undefined -DCMAKE_UNITY_BUILD=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="${DXBACKUP_CHECK_FLAGS:--O1 -g1 -DNDEBUG}" \
  >/dev/null
cmake --build "$dir" -j2 --target "${targets[@]/%/_fuzz}"

mkdir -p "$dir/crashes"
# One target's run; 0 if it found nothing.
fuzz_one() {
  local t=$1 corpus status=0
  corpus=$(mktemp -d)
  if ! cp -r "tests/fuzz/corpus/$t/." "$corpus/"; then
    echo "fuzz: cannot copy the seed corpus of $t" >"$dir/$t.log"
    rm -rf "$corpus"
    return 1
  fi
  "$dir/bin/${t}_fuzz" -max_total_time="$seconds" -rss_limit_mb=2048 \
    -artifact_prefix="$dir/crashes/$t-" -print_final_stats=1 "$corpus" \
    >"$dir/$t.log" 2>&1 || status=$?
  rm -rf "$corpus"
  return "$status"
}
# Two targets at a time, one per core (FUZZ_JOBS): each gets its whole
# time on a core of its own, in half the wall time.
jobs=${FUZZ_JOBS:-2}
failed=()
for ((i = 0; i < ${#targets[@]}; i += jobs)); do
  batch=("${targets[@]:i:jobs}")
  pids=()
  for t in "${batch[@]}"; do
    echo "== fuzzing $t for ${seconds}s"
    fuzz_one "$t" &
    pids+=($!)
  done
  for k in "${!batch[@]}"; do
    t=${batch[$k]}
    if wait "${pids[$k]}"; then
      grep -aE "stat::number_of_executed_units|stat::peak_rss_mb" \
        "$dir/$t.log" || true
    else
      tail -40 "$dir/$t.log" || true
      echo "fuzz: $t FAILED; its log is $dir/$t.log, a crashing input" \
        "is in $dir/crashes/" >&2
      failed+=("$t")
    fi
  done
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz: ${failed[*]} found something" >&2
  exit 1
fi
echo "fuzz: every target ran ${seconds}s without a finding"
