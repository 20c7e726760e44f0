#include "scheduler/access/token_auth.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/sha256.h"
#include "common/yaml_proto.h"

namespace dxbackup::scheduler {
namespace {

constexpr char kBearer[] = "Bearer ";

int Rank(v1::Token::Role role) {
  return role == v1::Token::OPERATOR ? 2 : role == v1::Token::VIEWER ? 1 : 0;
}

}  // namespace

std::string TokenDigest(const std::string& token) {
  common::Sha256 digest;
  digest.Update(token);
  return digest.HexDigest();
}

TokenAuth::TokenAuth(std::string tokens_file) : path_(std::move(tokens_file)) {}

std::string TokenBinding(const v1::Token& token) {
  return token.release().empty()
             ? token.namespace_()
             : absl::StrCat(token.namespace_(), "/", token.release());
}

absl::Status TokenAuth::Load() {
  if (path_.empty()) return absl::OkStatus();
  std::lock_guard<std::mutex> lock(mu_);
  attempted_once_ = false;
  return ReloadIfChanged();
}

absl::Status TokenAuth::Parse(v1::TokenFile* file) const {
  absl::Status s = common::LoadYamlFileIntoProto(path_, file);
  if (!s.ok()) return s;
  for (int i = 0; i < file->tokens_size(); ++i) {
    v1::Token* t = file->mutable_tokens(i);
    const std::string where =
        absl::StrCat(path_, ": tokens[", i, "] (", t->name(), ")");
    absl::AsciiStrToLower(t->mutable_sha256());
    if (t->sha256().size() != 64) {
      return absl::InvalidArgumentError(
          absl::StrCat(where,
                       ": sha256 must be the 64 hex digits of the "
                       "token's SHA-256 (sha256sum)"));
    }
    if (t->role() == v1::Token::ROLE_UNSPECIFIED) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": role is viewer, operator or agent"));
    }
    if (t->role() == v1::Token::AGENT && t->namespace_().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": an agent token needs its namespace"));
    }
  }
  return absl::OkStatus();
}

absl::Status TokenAuth::ReloadIfChanged() {
  Stamp now;
  struct stat st;
  const bool readable = stat(path_.c_str(), &st) == 0;
  const int stat_errno = errno;
  if (readable) now = Stamp{st.st_mtim, st.st_ino, st.st_size};
  if (attempted_once_ && now == attempted_) return state_;
  attempted_once_ = true;
  attempted_ = now;
  v1::TokenFile file;
  absl::Status s = readable
                       ? Parse(&file)
                       : absl::UnavailableError(absl::StrCat(
                             "tokens file ", path_,
                             " cannot be read: ", std::strerror(stat_errno)));
  if (!s.ok()) {
    tokens_.clear();
    state_ = s;
    DXLOG(ERROR) << s.message()
                 << "; every call is refused until the file is fixed";
    return state_;
  }
  tokens_.assign(file.tokens().begin(), file.tokens().end());
  state_ = absl::OkStatus();
  DXLOG(INFO) << "tokens file " << path_ << ": " << tokens_.size() << " tokens";
  return state_;
}

absl::StatusOr<v1::Token> TokenAuth::Caller(
    const grpc::ServerContextBase& context) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end() ||
      !absl::StartsWith(absl::string_view(it->second.data(), it->second.size()),
                        kBearer)) {
    return absl::UnauthenticatedError(
        "this scheduler requires a token: give --token-file");
  }
  return TokenOf(std::string(it->second.data() + sizeof kBearer - 1,
                             it->second.size() - (sizeof kBearer - 1)));
}

absl::StatusOr<v1::Token> TokenAuth::TokenOf(const std::string& token) {
  const std::string digest = TokenDigest(token);
  std::lock_guard<std::mutex> lock(mu_);
  if (!ReloadIfChanged().ok()) {
    // Fail closed: a broken file revokes everything (the log says why).
    return absl::UnauthenticatedError(
        "the scheduler's tokens file is missing or malformed, so every call "
        "is refused until an operator fixes it (see the scheduler's log)");
  }
  for (const v1::Token& t : tokens_) {
    if (t.sha256() == digest) return t;
  }
  return absl::UnauthenticatedError(
      "unknown token (revoked, or not yet in the tokens file)");
}

absl::Status TokenAuth::Require(const grpc::ServerContextBase& context,
                                v1::Token::Role role) {
  if (!enabled()) return absl::OkStatus();
  absl::StatusOr<v1::Token> caller = Caller(context);
  if (!caller.ok()) return caller.status();
  return HasRole(*caller, role);
}

absl::Status TokenAuth::HasRole(const v1::Token& caller, v1::Token::Role role) {
  if (Rank(caller.role()) >= Rank(role) && Rank(role) > 0) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(absl::StrCat(
      "token ", caller.name(), " (", v1::Token::Role_Name(caller.role()),
      ") may not do this; it needs ", v1::Token::Role_Name(role)));
}

absl::StatusOr<v1::Token> TokenAuth::RequireAgent(
    const grpc::ServerContextBase& context, const std::string& namespace_,
    const std::string& release) {
  if (!enabled()) return v1::Token();
  absl::StatusOr<v1::Token> caller = Caller(context);
  if (!caller.ok()) return caller.status();
  if (caller->role() != v1::Token::AGENT) {
    return absl::PermissionDeniedError(
        absl::StrCat("token ", caller->name(), " is not an agent token"));
  }
  if (caller->namespace_() != namespace_ ||
      (!caller->release().empty() && caller->release() != release)) {
    return absl::PermissionDeniedError(
        absl::StrCat("token ", caller->name(), " is for ", caller->namespace_(),
                     caller->release().empty() ? "" : "/" + caller->release(),
                     ", not for ", namespace_, "/", release));
  }
  return caller;
}

}  // namespace dxbackup::scheduler
