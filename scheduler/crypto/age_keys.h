// The keys of age's X25519 recipient type (https://age-encryption.org/v1):
// a Recipient is a public key, written "age1…"; an Identity is its secret
// key, written "AGE-SECRET-KEY-1…", as age-keygen makes them.
//
// A Recipient's fingerprint — what dxbackup records on an artifact to say
// whom it is encrypted for — is its "age1…" string itself: stable, public,
// unambiguous, and what `age -r` takes, so an operator can match it against
// the "# public key:" line of their key file.
//
// Secret key material never appears in a Status message or a log line;
// errors name the file and line. Identity wipes its secret on destruction.
//
// Value types: thread-compatible, copyable.
#ifndef DXBACKUP_SCHEDULER_CRYPTO_AGE_KEYS_H_
#define DXBACKUP_SCHEDULER_CRYPTO_AGE_KEYS_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "scheduler/crypto/primitives.h"

namespace dxbackup::scheduler::crypto {

class Recipient {
 public:
  // Parses "age1…" (lower case; InvalidArgument otherwise).
  static absl::StatusOr<Recipient> Parse(std::string_view text);
  explicit Recipient(const Key32& public_key);

  // The "age1…" string; also the fingerprint to record on artifacts.
  std::string ToString() const;
  const Key32& public_key() const { return public_key_; }

  friend bool operator==(const Recipient& a, const Recipient& b) {
    return a.public_key_ == b.public_key_;
  }

 private:
  Key32 public_key_;
};

class Identity {
 public:
  // Parses "AGE-SECRET-KEY-1…" (InvalidArgument otherwise, without echoing
  // the text). `source` names where it came from, for messages.
  static absl::StatusOr<Identity> Parse(std::string_view text,
                                        std::string source = "");
  // A fresh random identity (as age-keygen makes).
  static absl::StatusOr<Identity> Generate();

  // The "AGE-SECRET-KEY-1…" string, to write an identity file. Secret.
  std::string SecretKeyString() const;
  const Recipient& recipient() const { return recipient_; }
  const SecretKey32& secret_key() const { return secret_; }
  // The file it was loaded from ("" if none).
  const std::string& source() const { return source_; }

 private:
  Identity(const SecretKey32& secret, const Key32& public_key,
           std::string source);

  SecretKey32 secret_;
  Recipient recipient_;
  std::string source_;
};

// Reads an age identity file: one "AGE-SECRET-KEY-1…" per line; blank lines
// and lines starting with '#' are ignored. NotFound/PermissionDenied if it
// cannot be read, InvalidArgument naming the file and line if a line is not
// an identity or there is none.
absl::StatusOr<std::vector<Identity>> LoadIdentities(const std::string& path);

// The same, of an identity file's text (given with a request); `source`
// names it in errors, which never echo a line.
absl::StatusOr<std::vector<Identity>> ParseIdentities(
    std::string_view text, const std::string& source);

// Reads an age recipients file (`age -R`): one "age1…" per line, same
// comment rules; errors as LoadIdentities.
absl::StatusOr<std::vector<Recipient>> LoadRecipients(const std::string& path);

}  // namespace dxbackup::scheduler::crypto

#endif  // DXBACKUP_SCHEDULER_CRYPTO_AGE_KEYS_H_
