#include "scheduler/crypto/age_keys.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "scheduler/crypto/bech32.h"

namespace dxbackup::scheduler::crypto {
namespace {

constexpr char kRecipientHrp[] = "age";
constexpr char kIdentityHrp[] = "age-secret-key-";

absl::StatusOr<std::string> ReadKeyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int error = errno;
    const std::string message =
        absl::StrCat("cannot read key file ", path, ": ", std::strerror(error));
    if (error == ENOENT) return absl::NotFoundError(message);
    if (error == EACCES) return absl::PermissionDeniedError(message);
    return absl::FailedPreconditionError(message);
  }
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

// Calls `parse(line)` for every line of `content` that is not blank or a
// comment; InvalidArgument naming `source` and the line if one fails, or
// if there is none.
template <typename T, typename Parse>
absl::StatusOr<std::vector<T>> ParseKeyLines(std::string_view content,
                                             const std::string& source,
                                             const char* what, Parse parse) {
  std::vector<T> keys;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(
           absl::string_view(content.data(), content.size()), '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    absl::StatusOr<T> key = parse(std::string_view(line.data(), line.size()));
    if (!key.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, " line ", line_number, ": ", key.status().message()));
    }
    keys.push_back(*std::move(key));
  }
  if (keys.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(source, " holds no ", what));
  }
  return keys;
}

// ParseKeyLines of a file's content, wiped from memory after.
template <typename T, typename Parse>
absl::StatusOr<std::vector<T>> LoadKeyLines(const std::string& path,
                                            const char* what, Parse parse) {
  absl::StatusOr<std::string> content = ReadKeyFile(path);
  if (!content.ok()) return content.status();
  absl::Cleanup wipe = [&content] {
    OPENSSL_cleanse(content->data(), content->size());
  };
  return ParseKeyLines<T>(*content, path, what, parse);
}

constexpr char kIdentityWhat[] = "age identity (AGE-SECRET-KEY-1…)";

}  // namespace

Recipient::Recipient(const Key32& public_key) : public_key_(public_key) {}

absl::StatusOr<Recipient> Recipient::Parse(std::string_view text) {
  std::optional<Bech32Data> decoded = Bech32Decode(text);
  if (!decoded || decoded->hrp != kRecipientHrp ||
      decoded->bytes.size() != 32 || text.substr(0, 4) != "age1") {
    // Not echoed: a secret key pasted in the wrong place must not be logged.
    return absl::InvalidArgumentError(
        "not an age X25519 recipient (age1…, checksum included)");
  }
  Key32 key;
  std::memcpy(key.data(), decoded->bytes.data(), key.size());
  return Recipient(key);
}

std::string Recipient::ToString() const {
  return Bech32Encode(
      kRecipientHrp,
      std::string_view(reinterpret_cast<const char*>(public_key_.data()),
                       public_key_.size()));
}

Identity::Identity(const SecretKey32& secret, const Key32& public_key,
                   std::string source)
    : secret_(secret), recipient_(public_key), source_(std::move(source)) {}

absl::StatusOr<Identity> Identity::Parse(std::string_view text,
                                         std::string source) {
  std::optional<Bech32Data> decoded = Bech32Decode(text);
  // age writes identities in upper case and accepts only that.
  const bool upper = std::none_of(text.begin(), text.end(),
                                  [](char c) { return c >= 'a' && c <= 'z'; });
  if (!decoded || !upper || decoded->hrp != kIdentityHrp ||
      decoded->bytes.size() != 32) {
    if (decoded) OPENSSL_cleanse(decoded->bytes.data(), decoded->bytes.size());
    return absl::InvalidArgumentError(
        "not an age X25519 identity (AGE-SECRET-KEY-1…, checksum included)");
  }
  SecretKey32 secret(reinterpret_cast<const uint8_t*>(decoded->bytes.data()));
  OPENSSL_cleanse(decoded->bytes.data(), decoded->bytes.size());
  absl::StatusOr<Key32> public_key = X25519PublicKey(secret);
  if (!public_key.ok()) return public_key.status();
  return Identity(secret, *public_key, std::move(source));
}

absl::StatusOr<Identity> Identity::Generate() {
  SecretKey32 secret;
  Key32 public_key;
  if (absl::Status s = X25519Generate(&secret, &public_key); !s.ok()) return s;
  return Identity(secret, public_key, "");
}

std::string Identity::SecretKeyString() const {
  std::string encoded = absl::AsciiStrToUpper(Bech32Encode(
      kIdentityHrp,
      std::string_view(reinterpret_cast<const char*>(secret_.data()), 32)));
  return encoded;
}

absl::StatusOr<std::vector<Identity>> LoadIdentities(const std::string& path) {
  return LoadKeyLines<Identity>(
      path, kIdentityWhat,
      [&path](std::string_view line) { return Identity::Parse(line, path); });
}

absl::StatusOr<std::vector<Identity>> ParseIdentities(
    std::string_view text, const std::string& source) {
  return ParseKeyLines<Identity>(text, source, kIdentityWhat,
                                 [&source](std::string_view line) {
                                   return Identity::Parse(line, source);
                                 });
}

absl::StatusOr<std::vector<Recipient>> LoadRecipients(const std::string& path) {
  return LoadKeyLines<Recipient>(
      path, "age recipient (age1…)",
      [](std::string_view line) { return Recipient::Parse(line); });
}

}  // namespace dxbackup::scheduler::crypto
