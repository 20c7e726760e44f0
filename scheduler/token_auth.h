// TokenAuth checks the bearer token of each call (gRPC metadata
// "authorization: Bearer <token>") against the tokens file, which holds only
// their SHA-256. The file is re-read whenever it changes, so a new token can
// be added, rolled out and the old one removed without a restart. Without a
// tokens file every caller is trusted (TLS client certificates may still
// gate who connects).
//
// Thread-safe.
#ifndef DXBACKUP_SCHEDULER_TOKEN_AUTH_H_
#define DXBACKUP_SCHEDULER_TOKEN_AUTH_H_

#include <grpcpp/server_context.h>

#include <ctime>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "dxbackup/v1/config.pb.h"

namespace dxbackup::scheduler {

class TokenAuth {
 public:
  // `tokens_file` "" turns checks off.
  explicit TokenAuth(std::string tokens_file);

  // Loads the file now; an error names the file (and line).
  absl::Status Load();

  // The caller's token, or Unauthenticated (no or unknown token).
  absl::StatusOr<v1::Token> Caller(const grpc::ServerContextBase& context);

  // OK when the call's token has at least `role` (VIEWER < OPERATOR; AGENT
  // only for AGENT); PermissionDenied or Unauthenticated otherwise.
  absl::Status Require(const grpc::ServerContextBase& context,
                       v1::Token::Role role);
  // For the agent protocol: an AGENT token of this namespace (and release,
  // if the token names one).
  absl::Status RequireAgent(const grpc::ServerContextBase& context,
                            const std::string& namespace_,
                            const std::string& release);

  bool enabled() const { return !path_.empty(); }

 private:
  absl::Status ReloadIfChanged();

  std::string path_;
  std::mutex mu_;
  std::vector<v1::Token> tokens_;
  struct timespec loaded_mtime_ {};
};

// The SHA-256 (lower-case hex) a tokens file stores for `token`.
std::string TokenDigest(const std::string& token);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_TOKEN_AUTH_H_
