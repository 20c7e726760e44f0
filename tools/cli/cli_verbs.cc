#include "tools/cli/cli_verbs.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/time/time.h"
#include "tools/cli/cli_commands.h"

namespace dxbackup::cli {
namespace {

// Parses a --since/--until time; false if it is none of the forms above.
bool ParseWhen(const std::string& text, int64_t* unix_seconds) {
  if (text.empty()) {
    *unix_seconds = 0;
    return true;
  }
  if (absl::SimpleAtoi(text, unix_seconds)) return true;
  absl::Time t;
  std::string err;
  for (const char* format :
       {"%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d"}) {
    if (absl::ParseTime(format, text, absl::UTCTimeZone(), &t, &err)) {
      *unix_seconds = absl::ToUnixSeconds(t);
      return true;
    }
  }
  return false;
}

// The text of --key-file ("" without one), sent with the call that needs
// it; false (and a message) if it cannot be read.
bool ReadKeyFile(const std::string& path, std::string* text) {
  if (path.empty()) return true;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    std::cerr << "dxbackup: --key-file " << path
              << " is not a file (give an age identity file, as age-keygen "
                 "writes it)\n";
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  if (in) content << in.rdbuf();
  if (!in || !content) {
    std::cerr << "dxbackup: cannot read --key-file " << path << ": "
              << std::strerror(errno) << "\n";
    return false;
  }
  *text = content.str();
  if (text->find("AGE-SECRET-KEY-1") == std::string::npos) {
    std::cerr << "dxbackup: --key-file " << path
              << " holds no age secret key (AGE-SECRET-KEY-1…)\n";
    return false;
  }
  return true;
}

}  // namespace

int RunVerb(const CliArgs& a, const CliContext& cli) {
  auto need_set = [&]() -> bool {
    if (a.args.size() == 1) return true;
    std::cerr << "dxbackup: " << a.verb << " takes one SET id\n"
              << "(`dxbackup " << a.verb << " --help`)\n";
    return false;
  };
  if (a.verb == "agents") {
    if (a.args.empty()) return cli::ListAgents(cli);
    if (a.args.size() == 2 && a.args[0] == "forget") {
      return cli::ForgetAgent(cli, a.args[1]);
    }
    std::cerr << "dxbackup: agents takes no argument, or forget "
                 "NS/RELEASE/POD\n"
              << "(`dxbackup " << a.verb << " --help`)\n";
    return 2;
  }
  if (a.verb == "policies") return cli::ListPolicies(cli);
  if (a.verb == "sets") {
    v1::ListSetsRequest request;
    request.set_namespace_(a.ns);
    request.set_release(a.release);
    request.set_policy(a.policy);
    if (!a.status.empty()) {
      v1::SetStatus parsed;
      std::string name = "SET_" + a.status;
      for (char& c : name) c = static_cast<char>(std::toupper(c));
      if (!v1::SetStatus_Parse(name, &parsed)) {
        std::cerr << "dxbackup: --status must be complete, failed, running or "
                     "expiring\n";
        return 2;
      }
      request.set_status(parsed);
    }
    int64_t since_unix, until_unix;
    if (!ParseWhen(a.since, &since_unix) || !ParseWhen(a.until, &until_unix)) {
      std::cerr << "dxbackup: --since/--until take 2026-11-28, "
                   "2026-11-28T14:00 or Unix seconds\n";
      return 2;
    }
    request.set_since_unix(since_unix);
    request.set_until_unix(until_unix);
    return cli::ListSets(cli, request);
  }
  if (a.verb == "show") return need_set() ? cli::ShowSet(cli, a.args[0]) : 2;
  if (a.verb == "backup") {
    if (!a.policy.empty()) {
      if (!a.ns.empty() || !a.release.empty()) {
        std::cerr << "dxbackup: backup takes --policy or --namespace and "
                     "--release, not both\n";
        return 2;
      }
      // A policy's sets are taken as its `capture` says.
      if (!a.compression.empty() || a.level != 0 || !a.excludes.empty() ||
          a.incremental || a.differential || a.full_every != 0 ||
          a.max_chain != 0) {
        std::cerr << "dxbackup: backup --policy takes its capture options "
                     "from the policy (its `capture:` in the scheduler's "
                     "config); --compression, --level, --exclude, "
                     "--incremental, --differential, --full-every and "
                     "--max-chain go with --namespace and --release\n";
        return 2;
      }
      return cli::RunPolicy(cli, a.policy);
    }
    if (a.ns.empty() || a.release.empty()) {
      std::cerr << "dxbackup: backup needs --namespace and --release, or "
                   "--policy\n";
      return 2;
    }
    v1::BackupRequest request;
    request.set_namespace_(a.ns);
    request.set_release(a.release);
    v1::CaptureOptions* options = request.mutable_options();
    if (a.compression == "gzip") {
      options->set_compression(v1::COMPRESSION_GZIP);
    } else if (a.compression == "none") {
      options->set_compression(v1::COMPRESSION_NONE);
    } else if (a.compression.empty() || a.compression == "zstd") {
      options->set_compression(v1::COMPRESSION_ZSTD);
    } else {
      std::cerr << "dxbackup: --compression must be zstd, gzip or none\n";
      return 2;
    }
    options->set_compression_level(a.level);
    if (a.incremental && a.differential) {
      std::cerr << "dxbackup: --incremental or --differential, not both\n";
      return 2;
    }
    if (a.incremental) options->set_level(v1::INCREMENTAL);
    if (a.differential) options->set_level(v1::DIFFERENTIAL);
    options->set_full_every(a.full_every);
    options->set_max_chain(a.max_chain);
    for (const auto& e : a.excludes) options->add_excludes(e);
    return cli::Backup(cli, request);
  }
  if (!a.key_file.empty() && a.verb != "restore" && a.verb != "export" &&
      a.verb != "files" && a.verb != "find" &&
      !(a.verb == "verify" && a.deep)) {
    std::cerr << "dxbackup: --key-file is for restore, verify --deep, "
                 "export, files and find (a plain verify needs no key)\n";
    return 2;
  }
  if (a.verb == "restore") {
    if (!need_set()) return 2;
    v1::RestoreRequest request;
    request.set_set_id(a.args[0]);
    request.set_target(a.target);
    request.set_to_dir(a.to_dir);
    request.set_database_to(a.database_to);
    if (a.mode == "replace") {
      request.set_mode(v1::RESTORE_REPLACE);
    } else if (a.mode.empty() || a.mode == "overlay") {
      request.set_mode(v1::RESTORE_OVERLAY);
    } else {
      std::cerr << "dxbackup: --mode must be overlay or replace\n";
      return 2;
    }
    for (const auto& p : a.paths) request.add_paths(p);
    request.set_force_fixlevel(a.force_fixlevel);
    request.set_post_hooks_only(a.post_hooks_only);
    request.set_release_hold(a.release_hold);
    request.set_force_pg_version(a.force_pg_version);
    request.set_kubernetes(a.kubernetes);
    request.set_keep_setid(a.keep_setid);
    request.set_to_namespace(a.to_namespace);
    request.set_to_release(a.to_release);
    request.set_clone(a.clone);
    request.set_to_agent(a.to_agent);
    if (!ReadKeyFile(a.key_file, request.mutable_identities())) return 2;
    return cli::Restore(cli, request);
  }
  if (a.verb == "prune") {
    v1::PruneRequest request;
    request.set_dry_run(a.dry_run);
    request.set_policy(a.policy);
    return cli::Prune(cli, request);
  }
  if (a.verb == "files") {
    if (!need_set()) return 2;
    v1::ListFilesRequest request;
    request.set_set_id(a.args[0]);
    if (a.paths.size() > 1) {
      std::cerr << "dxbackup: files takes one --path\n";
      return 2;
    }
    request.set_path_prefix(a.paths.empty() ? "" : a.paths[0]);
    request.set_target(a.target);
    if (!ReadKeyFile(a.key_file, request.mutable_identities())) return 2;
    return cli::ListFiles(cli, request);
  }
  if (a.verb == "verify") {
    if (!need_set()) return 2;
    v1::VerifyRequest request;
    request.set_set_id(a.args[0]);
    request.set_deep(a.deep);
    if (!ReadKeyFile(a.key_file, request.mutable_identities())) return 2;
    return cli::Verify(cli, request);
  }
  if (a.verb == "export") {
    if (!need_set()) return 2;
    if (a.to_dir.empty()) {
      std::cerr
          << "dxbackup: export needs --to DIR (on the scheduler's host)\n";
      return 2;
    }
    v1::ExportRequest request;
    request.set_set_id(a.args[0]);
    request.set_to_dir(a.to_dir);
    if (!ReadKeyFile(a.key_file, request.mutable_identities())) return 2;
    return cli::Export(cli, request);
  }
  if (a.verb == "delete") {
    return need_set() ? cli::DeleteSet(cli, a.args[0]) : 2;
  }
  if (a.verb == "cancel") {
    if (a.args.size() != 1) {
      std::cerr << "dxbackup: cancel takes one id: a running set's, or a "
                   "restore's (restore-...)\n";
      return 2;
    }
    v1::CancelRequest request;
    request.set_id(a.args[0]);
    request.set_reason(a.reason);
    return cli::Cancel(cli, request);
  }
  if (a.verb == "drill") {
    if (!need_set()) return 2;
    v1::DrillRequest request;
    request.set_set_id(a.args[0]);
    request.set_to_dir(a.to_dir);
    request.set_to_agent(a.to_agent);
    request.set_to_namespace(a.to_namespace);
    request.set_to_release(a.to_release);
    return cli::Drill(cli, request);
  }
  if (a.verb == "logs") {
    if (a.args.size() != 1) {
      std::cerr << "dxbackup: logs takes one JOB id (`dxbackup show SET` "
                   "lists them)\n";
      return 2;
    }
    return cli::JobLog(cli, a.args[0]);
  }
  if (a.verb == "find") {
    if (a.args.size() != 1) {
      std::cerr
          << "dxbackup: find takes one PATTERN, e.g. '*/wps.properties'\n";
      return 2;
    }
    v1::FindFilesRequest request;
    request.set_pattern(a.args[0]);
    request.set_namespace_(a.ns);
    request.set_release(a.release);
    if (a.older && a.ns.empty()) {
      std::cerr << "dxbackup: find --older needs --namespace: it reads each "
                   "older set's file list from the store\n";
      return 2;
    }
    request.set_older(a.older);
    if (!ReadKeyFile(a.key_file, request.mutable_identities())) return 2;
    return cli::FindFiles(cli, request);
  }
  std::cerr << "dxbackup: unknown verb \"" << a.verb
            << "\" (`dxbackup --help` lists them)\n";
  return 2;
}

}  // namespace dxbackup::cli
