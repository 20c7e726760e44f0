// TokenAuth checks the bearer token of each call (gRPC metadata
// "authorization: Bearer <token>") against the tokens file, which holds only
// their SHA-256. The file is read again when it changes (its mtime, inode
// or size), so a new token can be added, rolled out and the old one removed
// without a restart. It fails closed: while the file is missing or
// malformed every call is refused (the log says why, once per change), so
// a broken edit never leaves a revoked token working. Without a tokens
// file configured every caller is trusted (TLS client certificates may
// still gate who connects).
//
// Thread-safe.
#ifndef DXBACKUP_SCHEDULER_ACCESS_TOKEN_AUTH_H_
#define DXBACKUP_SCHEDULER_ACCESS_TOKEN_AUTH_H_

#include <grpcpp/server_context.h>
#include <sys/types.h>

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

  // The token `token` (as a caller gave it, not its digest), or
  // Unauthenticated. For callers that are not gRPC calls (the dashboard).
  absl::StatusOr<v1::Token> TokenOf(const std::string& token);
  // OK when `caller` has at least `role` (as Require), else
  // PermissionDenied.
  static absl::Status HasRole(const v1::Token& caller, v1::Token::Role role);

  // OK when the call's token has at least `role` (VIEWER < OPERATOR; AGENT
  // only for AGENT); PermissionDenied or Unauthenticated otherwise.
  absl::Status Require(const grpc::ServerContextBase& context,
                       v1::Token::Role role);
  // For the agent protocol: the caller's token if it is an AGENT token of
  // this namespace (and release, if the token names one). With checks off,
  // an empty token.
  absl::StatusOr<v1::Token> RequireAgent(const grpc::ServerContextBase& context,
                                         const std::string& namespace_,
                                         const std::string& release);

  bool enabled() const { return !path_.empty(); }

 private:
  // Reads the file if it changed since the last attempt; the outcome of
  // the latest attempt (an error: every call is refused). mu_ held.
  absl::Status ReloadIfChanged();
  absl::Status Parse(v1::TokenFile* file) const;

  // What identifies one version of the file.
  struct Stamp {
    struct timespec mtime {};
    ino_t inode = 0;
    off_t size = -1;
    bool operator==(const Stamp& o) const {
      return mtime.tv_sec == o.mtime.tv_sec &&
             mtime.tv_nsec == o.mtime.tv_nsec && inode == o.inode &&
             size == o.size;
    }
  };

  std::string path_;
  std::mutex mu_;
  std::vector<v1::Token> tokens_;  // empty while state_ is an error
  absl::Status state_ = absl::UnavailableError("tokens file not read yet");
  Stamp attempted_;  // of the version last read (or tried)
  bool attempted_once_ = false;
};

// The SHA-256 (lower-case hex) a tokens file stores for `token`.
std::string TokenDigest(const std::string& token);

// What an agent token is bound to: "namespace" or "namespace/release".
std::string TokenBinding(const v1::Token& token);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_ACCESS_TOKEN_AUTH_H_
