// The TLS flags of dxbackup-scheduler, dxbackup-agent and dxbackup, in one
// place (header-only: the binaries link Boost.Program_options, the common
// library does not).
#ifndef DXBACKUP_COMMON_TLS_OPTIONS_H_
#define DXBACKUP_COMMON_TLS_OPTIONS_H_

#include <boost/program_options.hpp>

#include "common/tls.h"

namespace dxbackup::common {

inline void AddTlsOptions(boost::program_options::options_description& desc,
                          TlsFlags* flags, bool server) {
  namespace po = boost::program_options;
  desc.add_options()("tls-cert",
                     po::value(&flags->cert_file)->value_name("PEM"),
                     server ? "PEM certificate the scheduler serves"
                            : "PEM client certificate, if the scheduler "
                              "asks for one")(
      "tls-key", po::value(&flags->key_file)->value_name("PEM"),
      server ? "PEM key of --tls-cert" : "PEM key of the client certificate")(
      server ? "tls-client-ca" : "tls-ca",
      po::value(&flags->ca_file)->value_name("PEM"),
      server ? "PEM CA that clients' certificates must be signed by "
               "(requires client certificates)"
             : "PEM CA of the scheduler's certificate")(
      "insecure-loopback", po::bool_switch(&flags->insecure_loopback),
      "plaintext instead of TLS; only on a loopback address");
}

}  // namespace dxbackup::common

#endif  // DXBACKUP_COMMON_TLS_OPTIONS_H_
