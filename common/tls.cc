#include "common/tls.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace dxbackup::common {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& path,
                                    const std::string& what) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("cannot read the ", what, " ", path));
  }
  std::stringstream text;
  text << in.rdbuf();
  if (text.str().find("-----BEGIN ") == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("the ", what, " ", path, " is not PEM"));
  }
  return text.str();
}

std::string Host(const std::string& host_port) {
  std::string s = host_port;
  for (const char* scheme : {"ipv4:", "ipv6:", "dns:///", "dns:"}) {
    if (absl::StartsWith(s, scheme)) s = s.substr(std::string(scheme).size());
  }
  if (!s.empty() && s[0] == '[') return s.substr(1, s.find(']') - 1);
  const size_t colon = s.rfind(':');
  if (colon != std::string::npos && s.find(':') == colon) s.resize(colon);
  return s;
}

absl::Status CheckLoopback(const std::string& address, const char* role) {
  if (IsLoopbackAddress(address)) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "--insecure-loopback allows plaintext only on a loopback address, and ",
      role, " ", address,
      " is not one: give --tls-cert/--tls-key (server) or --tls-ca "
      "(clients)"));
}

}  // namespace

bool IsLoopbackAddress(const std::string& host_port) {
  const std::string host = Host(host_port);
  if (host == "localhost") return true;
  // An address, parsed: "127.0.0.1.evil.example" is a host name, not 127/8.
  struct in_addr v4;
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  struct in6_addr v6;
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return false;
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(
    const TlsFlags& flags, const std::string& listen) {
  if (flags.cert_file.empty() && flags.key_file.empty()) {
    if (!flags.insecure_loopback) {
      return absl::InvalidArgumentError(
          "the scheduler serves TLS: give --tls-cert and --tls-key (and "
          "--tls-client-ca to require agents' certificates), or "
          "--insecure-loopback for plaintext on a loopback address");
    }
    absl::Status s = CheckLoopback(listen, "the listen address");
    if (!s.ok()) return s;
    return grpc::InsecureServerCredentials();
  }
  auto cert = ReadPem(flags.cert_file, "TLS certificate");
  if (!cert.ok()) return cert.status();
  auto key = ReadPem(flags.key_file, "TLS key");
  if (!key.ok()) return key.status();
  grpc::SslServerCredentialsOptions options(
      flags.ca_file.empty()
          ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
          : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  if (!flags.ca_file.empty()) {
    auto ca = ReadPem(flags.ca_file, "client CA");
    if (!ca.ok()) return ca.status();
    options.pem_root_certs = *ca;
  }
  options.pem_key_cert_pairs.push_back({*key, *cert});
  return grpc::SslServerCredentials(options);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentials(
    const TlsFlags& flags, const std::string& target) {
  if (flags.ca_file.empty()) {
    if (!flags.insecure_loopback) {
      return absl::InvalidArgumentError(
          "connections to the scheduler use TLS: give --tls-ca (the CA of "
          "its certificate), or --insecure-loopback for plaintext to a "
          "loopback address");
    }
    absl::Status s = CheckLoopback(target, "the scheduler address");
    if (!s.ok()) return s;
    return grpc::InsecureChannelCredentials();
  }
  grpc::SslCredentialsOptions options;
  auto ca = ReadPem(flags.ca_file, "CA certificate");
  if (!ca.ok()) return ca.status();
  options.pem_root_certs = *ca;
  if (!flags.cert_file.empty() || !flags.key_file.empty()) {
    auto cert = ReadPem(flags.cert_file, "client certificate");
    if (!cert.ok()) return cert.status();
    auto key = ReadPem(flags.key_file, "client key");
    if (!key.ok()) return key.status();
    options.pem_cert_chain = *cert;
    options.pem_private_key = *key;
  }
  return grpc::SslCredentials(options);
}

}  // namespace dxbackup::common
