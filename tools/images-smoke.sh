#!/usr/bin/env bash
# Builds both images with buildah (no Docker daemon needed) and runs them
# together: the scheduler image serves on loopback, the agent image backs
# up a scratch volume, the CLI takes a set, and the set must be complete.
# Prints each image's size. Run as root, on a machine that reaches Debian's
# package mirror; not part of the test command (it downloads and compiles
# for minutes).
#
#   sudo tools/images-smoke.sh
#
# Where Docker Hub and registry.k8s.io are out of reach, BASE=debootstrap
# builds debian:12 / debian:12-slim locally from Debian's mirror, and the
# kubectl stage takes Debian's kubernetes-client; PG_CLIENTS="" leaves out
# the PGDG pg_dump versions.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v buildah >/dev/null || apt-get install -y -qq buildah
port=${PORT:-17070}
work=$(mktemp -d)
cleanup() {
  pkill -f "dxbackup-scheduler --insecure-loopback --listen 127.0.0.1:$port" || true
  pkill -f "dxbackup-agent --insecure-loopback --scheduler 127.0.0.1:$port" || true
  buildah rm --all >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
build=(buildah bud --isolation chroot --layers -q)
# Waits (60 s at most) for a line containing $2 in the log $1.
wait_for() {
  for _ in $(seq 300); do
    grep -q "$2" "$1" && return 0
    sleep 0.2
  done
  echo "images-smoke: no \"$2\" in $1:" >&2
  cat "$1" >&2
  exit 1
}

kubectl_arg=()
if [ "${BASE:-}" = debootstrap ]; then
  command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap
  debootstrap --variant=minbase bookworm "$work/rootfs" http://deb.debian.org/debian >/dev/null
  rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"*
  ctr=$(buildah from scratch)
  cp -a "$work/rootfs/." "$(buildah mount "$ctr")/"
  buildah commit -q "$ctr" docker.io/library/debian:12 >/dev/null
  buildah tag docker.io/library/debian:12 docker.io/library/debian:12-slim
  printf 'FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends kubernetes-client\n' \
    > "$work/Kubectl.Containerfile"
  "${build[@]}" -f "$work/Kubectl.Containerfile" -t localhost/kubectl:debian "$work" >/dev/null
  kubectl_arg=(--build-arg KUBECTL_IMAGE=localhost/kubectl:debian)
fi

"${build[@]}" -f images/agent.Dockerfile "${kubectl_arg[@]}" \
  -t localhost/dxbackup/agent:smoke . >/dev/null
"${build[@]}" -f images/scheduler.Dockerfile \
  --build-arg PG_CLIENTS="${PG_CLIENTS-16 17}" \
  -t localhost/dxbackup/scheduler:smoke . >/dev/null
buildah images --format '{{.Name}}:{{.Tag}} {{.Size}}' | grep -E 'smoke|debian:12-slim'

mkdir -p "$work/data" "$work/volume/sub"
echo "smoke" > "$work/volume/sub/file.txt"
chown -R 10001:10001 "$work/data"
chown -R 1000:1000 "$work/volume"
printf 'deployments:\n  - {namespace: smoke, release: dx}\n' > "$work/config.yaml"
chmod 0644 "$work/config.yaml"

s=$(buildah from localhost/dxbackup/scheduler:smoke)
buildah run --isolation chroot -v "$work/data:/var/lib/dxbackup" \
  -v "$work/config.yaml:/etc/dxbackup/config/config.yaml" "$s" -- \
  /usr/local/bin/dxbackup-scheduler --insecure-loopback \
  --listen "127.0.0.1:$port" --data-dir /var/lib/dxbackup \
  --config /etc/dxbackup/config/config.yaml >"$work/scheduler.log" 2>&1 &
a=$(buildah from localhost/dxbackup/agent:smoke)
wait_for "$work/scheduler.log" "listening on port"
buildah run --isolation chroot -v "$work/volume:/data" "$a" -- \
  /usr/local/bin/dxbackup-agent --insecure-loopback \
  --scheduler "127.0.0.1:$port" --namespace smoke --release dx --pod p0 \
  --component core --volume data=/data >"$work/agent.log" 2>&1 &
wait_for "$work/agent.log" "registered with the scheduler"
cli=(build/bin/dxbackup --insecure-loopback --server "127.0.0.1:$port")
"${cli[@]}" backup --namespace smoke --release dx
"${cli[@]}" sets --release dx | grep -q complete
echo "images-smoke: both images built; a set through them is complete"
