#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang in build-fuzz and runs
# each for a bounded time from its seed corpus (tests/fuzz/corpus/<target>,
# copied, so the repository is not written). A crash or a failed check
# leaves the input in build-fuzz/crashes and exits 1.
#
#   tools/fuzz.sh                 # FUZZ_SECONDS=30 each, FUZZ_BUILD_DIR=build-fuzz
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
for t in "${targets[@]}"; do
  corpus=$(mktemp -d)
  cp -r "tests/fuzz/corpus/$t/." "$corpus/"
  echo "== fuzzing $t for ${seconds}s"
  if ! "$dir/bin/${t}_fuzz" -max_total_time="$seconds" -rss_limit_mb=2048 \
      -artifact_prefix="$dir/crashes/$t-" -print_final_stats=1 "$corpus" \
      >"$dir/$t.log" 2>&1; then
    tail -40 "$dir/$t.log"
    echo "fuzz: $t FAILED; the input is in $dir/crashes/" >&2
    rm -rf "$corpus"
    exit 1
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$dir/$t.log" || true
  rm -rf "$corpus"
done
echo "fuzz: every target ran ${seconds}s without a finding"
