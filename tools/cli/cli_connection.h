// Where the dxbackup CLI finds its scheduler and its credentials, field by
// field: a flag, else an environment variable (DXBACKUP_SERVER,
// DXBACKUP_TLS_CA, DXBACKUP_TLS_CERT, DXBACKUP_TLS_KEY,
// DXBACKUP_TOKEN_FILE), else the chosen context of the CLI's config file
// (v1::CliConfig: $DXBACKUP_CONFIG, else $XDG_CONFIG_HOME/dxbackup/
// config.yaml, else ~/.config/dxbackup/config.yaml), else the default
// (127.0.0.1:7070, no TLS settings). The context is --context, else
// $DXBACKUP_CONTEXT, else the file's current_context; none at all is fine
// (and so is a missing file) unless one was named.
//
//   auto conn = ResolveConnection(flags, [](const char* n) {
//     return std::getenv(n); });
//
// Thread-compatible: plain functions.
#ifndef DXBACKUP_TOOLS_CLI_CLI_CONNECTION_H_
#define DXBACKUP_TOOLS_CLI_CLI_CONNECTION_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "common/tls.h"

namespace dxbackup::cli {

// The command line's connection flags; "" (false) where not given.
struct ConnectionFlags {
  std::string server, context, token_file;
  common::TlsFlags tls;
};

struct Connection {
  std::string server;
  common::TlsFlags tls;
  std::string token_file;
  std::string context;      // the context used; "" for none
  std::string config_file;  // the file read; "" when none was
};

// An environment variable's value, or nullptr (std::getenv in main).
using EnvFn = std::function<const char*(const char*)>;

inline constexpr char kDefaultServer[] = "127.0.0.1:7070";

// The config file's path (it may not exist); "" when no variable gives
// one (no HOME either).
std::string CliConfigPath(const EnvFn& env);

// InvalidArgument for a file that does not parse (naming its line), and
// NotFound for a context that it does not hold (naming those it does) or
// a context asked for without a file.
absl::StatusOr<Connection> ResolveConnection(const ConnectionFlags& flags,
                                             const EnvFn& env);

}  // namespace dxbackup::cli

#endif  // DXBACKUP_TOOLS_CLI_CLI_CONNECTION_H_
