// Transport security for the scheduler, the agents and the CLI: TLS from
// PEM files, or plaintext only when asked for explicitly and only on a
// loopback address (a test or a single-host trial).
//
// Server: cert_file + key_file; with ca_file, clients must also present a
// certificate signed by it (agents' client certificates).
// Client: ca_file to check the server; cert_file + key_file to present a
// client certificate when the server asks for one.
#ifndef DXBACKUP_COMMON_TLS_H_
#define DXBACKUP_COMMON_TLS_H_

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace dxbackup::common {

struct TlsFlags {
  std::string cert_file, key_file, ca_file;
  bool insecure_loopback = false;
};

// True for 127.0.0.0/8, ::1 and localhost, with or without a port.
bool IsLoopbackAddress(const std::string& host_port);

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(
    const TlsFlags& flags, const std::string& listen);
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentials(
    const TlsFlags& flags, const std::string& target);

}  // namespace dxbackup::common

#endif  // DXBACKUP_COMMON_TLS_H_
