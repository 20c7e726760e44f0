#include "common/replica_redirect.h"

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"

namespace dxbackup::common {
namespace {

bool ValidHost(const std::string& host) {
  if (host.empty() || host.size() > 253) return false;
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return false;
    for (size_t i = 1; i + 1 < host.size(); ++i) {
      const char c = host[i];
      if (!absl::ascii_isxdigit(c) && c != ':' && c != '.') return false;
    }
    return true;
  }
  if (host.front() == '-' || host.front() == '.') return false;
  for (const char c : host) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '.') return false;
  }
  return true;
}

}  // namespace

bool ValidReplicaAddress(const std::string& address) {
  if (address.size() > 261) return false;
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) return false;
  const std::string host = address.substr(0, colon);
  const std::string port = address.substr(colon + 1);
  int number = 0;
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos ||
      !absl::SimpleAtoi(port, &number) || number < 1 || number > 65535) {
    return false;
  }
  return ValidHost(host);
}

std::string OwnerAddressOf(const grpc::ClientContext& finished) {
  const auto& trailers = finished.GetServerTrailingMetadata();
  auto it = trailers.find(kOwnerAddressKey);
  if (it == trailers.end()) return "";
  std::string address(it->second.data(), it->second.size());
  return ValidReplicaAddress(address) ? address : "";
}

std::string HostOf(const std::string& target) {
  if (!target.empty() && target.front() == '[') {
    const size_t end = target.find(']');
    return end == std::string::npos ? target : target.substr(1, end - 1);
  }
  const size_t colon = target.rfind(':');
  return colon == std::string::npos ? target : target.substr(0, colon);
}

std::string BracketedAddress(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (address.empty() || address[0] == '[' || colon == std::string::npos ||
      address.find(':') == colon) {
    return address;
  }
  return "[" + address.substr(0, colon) + "]" + address.substr(colon);
}

}  // namespace dxbackup::common
