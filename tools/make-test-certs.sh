#!/usr/bin/env bash
# Makes a throwaway CA and certificates for trying dxbackup with TLS on one
# host (the quick-start and the tests use it; production certificates come
# from your PKI or cert-manager):
#
#   tools/make-test-certs.sh DIR
#
# DIR/ca.pem              the CA (clients' --tls-ca, the scheduler's --tls-client-ca)
# DIR/server.pem, .key    for the scheduler: SAN localhost, 127.0.0.1, ::1
# DIR/client.pem, .key    a client certificate (agents, the CLI)
set -euo pipefail
dir=${1:?usage: make-test-certs.sh DIR}
mkdir -p "$dir"
cd "$dir"
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=dxbackup test CA" \
  -keyout ca.key -out ca.pem 2>/dev/null
for name in server client; do
  openssl req -newkey rsa:2048 -nodes -subj "/CN=dxbackup-$name" \
    -keyout "$name.key" -out "$name.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=%s\n' \
    "$([ "$name" = server ] && echo serverAuth || echo clientAuth)" >"$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
    -days 30 -extfile "$name.ext" -out "$name.pem" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
done
chmod 600 ./*.key
