#include "tools/cli/cli_connection.h"

#include <filesystem>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/yaml_proto.h"
#include "dxbackup/v1/config.pb.h"

namespace dxbackup::cli {
namespace {

std::string Env(const EnvFn& env, const char* name) {
  const char* value = env(name);
  return value == nullptr ? std::string() : std::string(value);
}

// The first of `candidates` that is not empty; "" when all are.
std::string First(std::initializer_list<std::string> candidates) {
  for (const std::string& c : candidates) {
    if (!c.empty()) return c;
  }
  return "";
}

// A path from the config file: relative to the file's directory.
std::string FromFile(const std::string& path, const std::string& file) {
  if (path.empty() || std::filesystem::path(path).is_absolute()) return path;
  return (std::filesystem::path(file).parent_path() / path).string();
}

}  // namespace

std::string CliConfigPath(const EnvFn& env) {
  if (std::string path = Env(env, "DXBACKUP_CONFIG"); !path.empty()) {
    return path;
  }
  if (std::string xdg = Env(env, "XDG_CONFIG_HOME"); !xdg.empty()) {
    return xdg + "/dxbackup/config.yaml";
  }
  if (std::string home = Env(env, "HOME"); !home.empty()) {
    return home + "/.config/dxbackup/config.yaml";
  }
  return "";
}

absl::StatusOr<Connection> ResolveConnection(const ConnectionFlags& flags,
                                             const EnvFn& env) {
  Connection out;
  const std::string path = CliConfigPath(env);
  const std::string wanted =
      First({flags.context, Env(env, "DXBACKUP_CONTEXT")});
  v1::CliConfig config;
  std::error_code ec;
  if (!path.empty() && std::filesystem::exists(path, ec)) {
    absl::Status loaded = common::LoadYamlFileIntoProto(path, &config);
    if (!loaded.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("the CLI's config file: ", loaded.message(),
                       " (see `dxbackup help config`)"));
    }
    out.config_file = path;
  } else if (!wanted.empty()) {
    return absl::NotFoundError(absl::StrCat(
        "context ", wanted, " was asked for, but there is no config file ",
        path.empty() ? "(set DXBACKUP_CONFIG or HOME)" : path,
        " (see `dxbackup help config`)"));
  }
  const std::string name = First({wanted, config.current_context()});
  v1::CliConfigContext context;
  if (!name.empty()) {
    const v1::CliConfigContext* found = nullptr;
    std::vector<std::string> names;
    for (const v1::CliConfigContext& c : config.contexts()) {
      names.push_back(c.name());
      if (c.name() == name) found = &c;
    }
    if (found == nullptr) {
      return absl::NotFoundError(absl::StrCat(
          path, " has no context ", name,
          names.empty()
              ? "; it has none"
              : absl::StrCat("; it has ", absl::StrJoin(names, ", "))));
    }
    context = *found;
    out.context = name;
  }
  out.server = First({flags.server, Env(env, "DXBACKUP_SERVER"),
                      context.server(), kDefaultServer});
  out.token_file = First({flags.token_file, Env(env, "DXBACKUP_TOKEN_FILE"),
                          FromFile(context.token_file(), path)});
  // --insecure-loopback given: plaintext, whatever TLS files the
  // environment or the context name (a context's CA would otherwise turn
  // TLS back on, with its certificate and key, against this server).
  if (flags.tls.insecure_loopback) {
    out.tls = flags.tls;
    return out;
  }
  out.tls.ca_file = First({flags.tls.ca_file, Env(env, "DXBACKUP_TLS_CA"),
                           FromFile(context.tls_ca(), path)});
  out.tls.cert_file = First({flags.tls.cert_file, Env(env, "DXBACKUP_TLS_CERT"),
                             FromFile(context.tls_cert(), path)});
  out.tls.key_file = First({flags.tls.key_file, Env(env, "DXBACKUP_TLS_KEY"),
                            FromFile(context.tls_key(), path)});
  // A context's plaintext gives way to a CA given above it.
  const bool ca_above =
      !flags.tls.ca_file.empty() || !Env(env, "DXBACKUP_TLS_CA").empty();
  out.tls.insecure_loopback = !ca_above && context.insecure_loopback();
  return out;
}

}  // namespace dxbackup::cli
