#include "common/resource_names.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace dxbackup::common {
namespace {

constexpr size_t kMaxLabel = 63;

// The value as it may be shown: escaped, and cut after 80 bytes.
std::string Shown(absl::string_view value) {
  const bool cut = value.size() > 80;
  return absl::StrCat("\"", absl::CHexEscape(value.substr(0, 80)),
                      cut ? "...\"" : "\"");
}

absl::Status Refuse(absl::string_view field, absl::string_view value,
                    absl::string_view rule) {
  return absl::InvalidArgumentError(
      absl::StrCat(field, " ", Shown(value), " is not allowed: ", rule));
}

}  // namespace

absl::Status CheckDnsLabel(absl::string_view field, absl::string_view value) {
  constexpr char kRule[] =
      "a Kubernetes name is 1-63 characters of a-z, 0-9 and '-', starting "
      "and ending with a letter or digit";
  if (value.empty() || value.size() > kMaxLabel) {
    return Refuse(field, value, kRule);
  }
  for (char c : value) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '-') {
      return Refuse(field, value, kRule);
    }
  }
  if (value.front() == '-' || value.back() == '-') {
    return Refuse(field, value, kRule);
  }
  return absl::OkStatus();
}

absl::Status CheckAgentId(absl::string_view field, absl::string_view value) {
  constexpr char kRule[] =
      "an agent is named namespace/release/pod, three Kubernetes names "
      "(`dxbackup agents` lists them)";
  const std::vector<absl::string_view> parts = absl::StrSplit(value, '/');
  if (parts.size() != 3) return Refuse(field, value, kRule);
  for (absl::string_view part : parts) {
    if (!CheckDnsLabel(field, part).ok()) return Refuse(field, value, kRule);
  }
  return absl::OkStatus();
}

absl::Status CheckDnsSubdomain(absl::string_view field,
                               absl::string_view value) {
  constexpr char kRule[] =
      "a Kubernetes object name is 1-253 characters of a-z, 0-9, '-' and "
      "'.', starting and ending with a letter or digit";
  if (value.empty() || value.size() > 253 ||
      !absl::ascii_isalnum(value.front()) ||
      !absl::ascii_isalnum(value.back())) {
    return Refuse(field, value, kRule);
  }
  for (char c : value) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '-' &&
        c != '.') {
      return Refuse(field, value, kRule);
    }
  }
  return absl::OkStatus();
}

absl::Status CheckVolumeIdentity(absl::string_view field,
                                 absl::string_view value) {
  constexpr char kRule[] =
      "a volume identity is 1-300 characters of letters, digits, '.', '_', "
      "':', '/' and '-'";
  if (value.empty() || value.size() > 300) return Refuse(field, value, kRule);
  for (char c : value) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '_' && c != ':' &&
        c != '/' && c != '-') {
      return Refuse(field, value, kRule);
    }
  }
  return absl::OkStatus();
}

absl::Status CheckSimpleName(absl::string_view field, absl::string_view value) {
  constexpr char kRule[] =
      "a name is 1-63 characters of letters, digits, '_' and '-', starting "
      "with a letter or digit";
  if (value.empty() || value.size() > kMaxLabel ||
      !absl::ascii_isalnum(value.front())) {
    return Refuse(field, value, kRule);
  }
  for (char c : value) {
    if (!absl::ascii_isalnum(c) && c != '_' && c != '-') {
      return Refuse(field, value, kRule);
    }
  }
  return absl::OkStatus();
}

absl::Status CheckDatabaseName(absl::string_view field,
                               absl::string_view value) {
  if (value.empty() || value.size() > kMaxLabel ||
      value.find('\0') != absl::string_view::npos) {
    return Refuse(field, value, "a database name is 1-63 bytes");
  }
  if (value.find('=') != absl::string_view::npos ||
      absl::StartsWithIgnoreCase(value, "postgres://") ||
      absl::StartsWithIgnoreCase(value, "postgresql://")) {
    return Refuse(field, value,
                  "give a database name, not a connection string or URI (the "
                  "host and credentials are the configured database's)");
  }
  return absl::OkStatus();
}

absl::Status CheckNormalRelativePath(absl::string_view field,
                                     absl::string_view value) {
  constexpr char kRule[] =
      "a relative path without empty, '.' or '..' components";
  if (value.empty() || value.front() == '/' ||
      value.find('\0') != absl::string_view::npos) {
    return Refuse(field, value, kRule);
  }
  for (absl::string_view part : absl::StrSplit(value, '/')) {
    if (part.empty() || part == "." || part == "..") {
      return Refuse(field, value, kRule);
    }
  }
  return absl::OkStatus();
}

absl::Status CheckNormalAbsoluteDir(absl::string_view field,
                                    absl::string_view value) {
  if (value.size() < 2 || value.front() != '/' ||
      !CheckNormalRelativePath(field, value.substr(1)).ok()) {
    return Refuse(field, value,
                  "an absolute directory, not /, without empty, '.' or '..' "
                  "components (and no trailing /)");
  }
  return absl::OkStatus();
}

}  // namespace dxbackup::common
