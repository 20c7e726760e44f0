#!/usr/bin/env bash
# Installs, from Debian 12's packages, everything dxbackup needs to build,
# test and run its quick-start. Idempotent; run as root. Installs nothing when
# every package is already present, so repeated runs are fast and offline.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev
  libarchive-dev libzstd-dev zstd
  libpq-dev postgresql postgresql-client
  libsqlite3-dev sqlite3
  libboost-program-options-dev
  libgtest-dev libgmock-dev
  libssl-dev openssl
  libyaml-cpp-dev
  prometheus-cpp-dev
  clang libclang-rt-14-dev
  python3 tar gzip acl attr curl
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run this script as root (sudo $0) to install them" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
