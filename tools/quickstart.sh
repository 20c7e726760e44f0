#!/usr/bin/env bash
# The quick-start: runs the whole system locally on a generated DX-shaped
# deployment, takes one complete backup set, restores it to a scratch
# directory and database, and checks that the restore equals the source.
# It starts a PostgreSQL, the scheduler, a core agent and a DAM agent, and
# stops everything it started. Exits 0 only if all of that held.
#
#   tools/quickstart.sh   # as root, or a user who may sudo
#
# Environment: PROFILE_MB, DAM_MB (sizes of the generated volumes, default
# 64 each), ROWS (rows of the DAM database, default 20000), KEEP=1 to keep
# the work directory, WORK_DIR to choose it. STORE=s3 keeps the set in a
# bucket of a local S3 API server (the tests' server, tests/s3) instead of
# the scheduler's data directory, lists it with awscli and restores from it.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
fixtures=${FIXTURES_DIR:-$top/tests/fixtures}
bin=$top/build/bin

say() { printf '\n== %s\n' "$*"; }
fail() { printf '\nquickstart: FAILED: %s\n' "$*" >&2; exit 1; }

say "installing what is missing and building"
if [ "$(id -u)" -eq 0 ]; then "$top/tools/install-deps.sh"; else sudo "$top/tools/install-deps.sh"; fi
cmake -S "$top" -B "$top/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$top/build" -j2 --target dxbackup-scheduler dxbackup-agent dxbackup >/dev/null

work=${WORK_DIR:-$(mktemp -d /tmp/dxbackup-quickstart-XXXXXX)}
mkdir -p "$work"
chmod 0755 "$work"  # the postgres user enters it
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  "$top/tools/pg-test-server.sh" stop "$work/pg" 2>/dev/null || true
  if [ "${KEEP:-0}" = 1 ]; then echo "work directory kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# Waits until FILE has a line matching PATTERN, or fails after 60 s.
wait_for_line() {
  local file=$1 pattern=$2
  for _ in $(seq 600); do
    grep -q -- "$pattern" "$file" 2>/dev/null && return 0
    sleep 0.1
  done
  cat "$file" >&2
  fail "timed out waiting for \"$pattern\" in $file"
}

say "generating a DX deployment in $work/dx"
python3 "$fixtures/make-dx-tree" "$work/dx" --profile-mb "${PROFILE_MB:-64}" --dam-mb "${DAM_MB:-64}"

say "starting PostgreSQL on a socket in $work/pg and loading dxmediadb"
"$top/tools/pg-test-server.sh" start "$work/pg" >/dev/null
export PGHOST=$work/pg PGUSER=dxadmin PGPASSWORD
PGPASSWORD=$(cat "$work/pg/password")
createdb dxmediadb
psql -q -v rows="${ROWS:-20000}" -d dxmediadb -f "$fixtures/dam-db.sql" >/dev/null

store_config=""
if [ "${STORE:-}" = s3 ]; then
  say "starting a local S3 API server (s3rver behind a SigV4-checking proxy) with bucket dx-backups"
  mkdir -p "$work/s3"
  printf 'quickstart-access\n' >"$work/s3/access-key"
  head -c 24 /dev/urandom | base64 >"$work/s3/secret-key"
  chmod 600 "$work/s3/secret-key"
  /usr/bin/python3 "$top/tests/s3/s3_test_server.py" --data-dir "$work/s3/data" \
    --s3rver /usr/local/lib/dxbackup-s3rver/node_modules/s3rver/bin/s3rver.js \
    --bucket dx-backups --access-key-file "$work/s3/access-key" \
    --secret-key-file "$work/s3/secret-key" >"$work/s3.out" 2>"$work/s3.log" &
  pids+=($!)
  wait_for_line "$work/s3.out" "listening on port"
  s3_endpoint=http://127.0.0.1:$(awk '/listening on port/ {print $4}' "$work/s3.out")
  store_config="store:
  s3:
    endpoint: $s3_endpoint
    bucket: dx-backups
    prefix: quickstart
    access_key_file: $work/s3/access-key
    secret_key_file: $work/s3/secret-key
    path_style: true"
fi

cat >"$work/scheduler.yaml" <<YAML
$store_config
deployments:
  - namespace: dx-quickstart
    release: dx
    databases:
      - dbname: dxmediadb
        host: $work/pg
        user: dxadmin
        password_file: $work/pg/password
YAML

say "making a throwaway CA and certificates: every connection is TLS, agents and the CLI show client certificates"
"$top/tools/make-test-certs.sh" "$work/certs"
certs=$work/certs
client_tls=(--tls-ca "$certs/ca.pem" --tls-cert "$certs/client.pem" --tls-key "$certs/client.key")

say "starting the scheduler, a core agent, a DAM agent and a Remote Search agent"
"$bin/dxbackup-scheduler" --listen 127.0.0.1:0 --data-dir "$work/data" \
  --config "$work/scheduler.yaml" --tls-cert "$certs/server.pem" \
  --tls-key "$certs/server.key" --tls-client-ca "$certs/ca.pem" \
  >"$work/scheduler.out" 2>"$work/scheduler.log" &
pids+=($!)
wait_for_line "$work/scheduler.out" "listening on port"
server=127.0.0.1:$(awk '/listening on port/ {print $4}' "$work/scheduler.out")
"$bin/dxbackup-agent" --scheduler "$server" --namespace dx-quickstart --release dx \
  --pod dx-core-0 --component core --volume "profile=$work/dx/wp_profile" \
  --volume "cw_profile=$work/dx/profiles/cw_profile" "${client_tls[@]}" \
  2>"$work/core-agent.log" &
pids+=($!)
"$bin/dxbackup-agent" --scheduler "$server" --namespace dx-quickstart --release dx \
  --pod dx-dam-0 --component dam --volume "upload=$work/dx/dam/upload" \
  --volume "config=$work/dx/dam/config" "${client_tls[@]}" 2>"$work/dam-agent.log" &
pids+=($!)
"$bin/dxbackup-agent" --scheduler "$server" --namespace dx-quickstart --release dx \
  --pod dx-remote-search-0 --component remote-search \
  --volume "profile=$work/dx/remote-search/prs_profile" "${client_tls[@]}" \
  2>"$work/search-agent.log" &
pids+=($!)
wait_for_line "$work/core-agent.log" "registered with the scheduler"
wait_for_line "$work/dam-agent.log" "registered with the scheduler"
wait_for_line "$work/search-agent.log" "registered with the scheduler"
dx() { "$bin/dxbackup" --server "$server" "${client_tls[@]}" "$@"; }
dx agents

say "taking a backup set"
dx backup --namespace dx-quickstart --release dx || fail "the backup set is not complete"
dx sets
set_id=$(dx --json sets | python3 -c 'import json,sys; print(json.load(sys.stdin)["sets"][0]["id"])')
dx show "$set_id"

if [ "${STORE:-}" = s3 ]; then
  say "the set's objects in the bucket, as awscli lists them"
  AWS_ACCESS_KEY_ID=$(cat "$work/s3/access-key") AWS_SECRET_ACCESS_KEY=$(cat "$work/s3/secret-key") \
    AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
    /usr/bin/aws --endpoint-url "$s3_endpoint" s3 ls --recursive "s3://dx-backups/quickstart/" ||
    fail "awscli cannot list the bucket"
fi

say "restoring set $set_id to $work/restore and database dxmediadb_restored"
dx restore "$set_id" --to "$work/restore" --database-to dxmediadb_restored || fail "the restore failed"

say "checking the restore against the source"
"$top/tools/tree-diff" "$work/dx/profiles/prof_95_CF221" "$work/restore/core-profile" | head -20
"$top/tools/tree-diff" "$work/dx/profiles/prof_95_CF221" "$work/restore/core-profile" >/dev/null || fail "profile differs"
"$top/tools/tree-diff" "$work/dx/dam/upload" "$work/restore/dam-upload" >/dev/null || fail "DAM upload differs"
"$top/tools/tree-diff" "$work/dx/dam/config" "$work/restore/dam-config" >/dev/null || fail "DAM config differs"
"$top/tools/tree-diff" "$work/dx/profiles/cw_profile" "$work/restore/core-cw_profile" >/dev/null ||
  fail "the Configuration Wizard profile differs"
"$top/tools/tree-diff" "$work/dx/remote-search/prs_profile" "$work/restore/remote-search-profile" >/dev/null ||
  fail "the Remote Search profile differs"
plain_dump() { pg_dump --no-owner -d "$1" | grep -v '^\\\(un\)\?restrict '; }
cmp <(plain_dump dxmediadb) <(plain_dump dxmediadb_restored) || fail "the restored database differs"
echo "profile, cw_profile, DAM upload, DAM config, Remote Search profile and dxmediadb restored identical to the source"
say "quickstart: OK"
