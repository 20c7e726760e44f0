#!/usr/bin/env bash
# The test command: installs what is missing (Debian 12 packages), builds
# everything, and runs every test with ctest. The integration tests start
# their own PostgreSQL servers (as a non-root user, on sockets in temp dirs)
# and their own scheduler and agents on loopback.
#
#   sudo tools/test.sh            # BUILD_DIR=build, BUILD_TYPE=RelWithDebInfo
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -eq 0 ]; then
  tools/install-deps.sh
elif ! tools/install-deps.sh 2>/dev/null; then
  sudo tools/install-deps.sh
fi

build_dir=${BUILD_DIR:-build}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" >/dev/null
cmake --build "$build_dir" -j2
cd "$build_dir"
ctest -j2 --output-on-failure --timeout 900
