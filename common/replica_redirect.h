// How a scheduler replica sends a caller to the replica that runs a
// deployment (several replicas sharing a catalog: each deployment is run
// by one). The replica that cannot serve the call ends it UNAVAILABLE with
// the owner's address in the trailing metadata kOwnerAddressKey; the agent
// calls that address next (the CLI is to follow too). An address that
// arrives from the network is used only once ValidReplicaAddress accepts
// it.
#ifndef DXBACKUP_COMMON_REPLICA_REDIRECT_H_
#define DXBACKUP_COMMON_REPLICA_REDIRECT_H_

#include <grpcpp/grpcpp.h>

#include <string>

namespace dxbackup::common {

inline constexpr char kOwnerAddressKey[] = "dxbackup-owner-address";

// HOST:PORT, where HOST is a DNS name, an IPv4 address or a bracketed IPv6
// address, and PORT 1-65535; nothing else (no scheme, path, user or
// spaces), at most 261 characters.
bool ValidReplicaAddress(const std::string& address);

// The owner address a finished call's trailing metadata carries; "" when
// it carries none, or one ValidReplicaAddress refuses.
std::string OwnerAddressOf(const grpc::ClientContext& finished);

// The host of a HOST:PORT target ("[::1]:7443" -> "::1"); the target
// itself when it has no port.
std::string HostOf(const std::string& target);

// HOST:PORT with an IPv6 host bracketed ("fd00::5:7443" ->
// "[fd00::5]:7443", as $(POD_IP):7443 gives on an IPv6 cluster); other
// addresses as they are.
std::string BracketedAddress(const std::string& address);

}  // namespace dxbackup::common

#endif  // DXBACKUP_COMMON_REPLICA_REDIRECT_H_
