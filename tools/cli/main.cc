// dxbackup: the command-line client. Parses flags and calls one verb.
#include <grpcpp/grpcpp.h>

#include <boost/program_options.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/time/time.h"
#include "common/tls_options.h"
#include "common/token_channel.h"
#include "tools/cli/cli_commands.h"

namespace po = boost::program_options;
using namespace dxbackup;

namespace {

constexpr char kUsage[] =
    "usage: dxbackup [--server HOST:PORT] [--json] [--token-file F]\n"
    "                [--tls-ca PEM [--tls-cert PEM --tls-key PEM] |\n"
    "                 --insecure-loopback] VERB [ARGS]\n"
    "\n"
    "verbs:\n"
    "  agents                                   agents, connected and gone\n"
    "  agents forget NS/RELEASE/POD             stop expecting an agent whose\n"
    "                                           pod is gone for good\n"
    "  backup --namespace NS --release R        take a backup set and wait\n"
    "         [--compression zstd|gzip|none] [--level N] [--exclude GLOB]\n"
    "         [--incremental|--differential [--full-every N] [--max-chain M]]\n"
    "  backup --policy P                        run a policy now, for every\n"
    "                                           deployment it covers, and "
    "wait\n"
    "  policies                                 policies, what they cover, "
    "next runs\n"
    "  sets [--namespace NS] [--release R] [--policy P]\n"
    "       [--status complete|failed|running] [--since T] [--until T]\n"
    "                                           backup sets, newest first\n"
    "  show SET                                 one set: members and jobs\n"
    "  restore SET [--target T] [--to DIR] [--database-to NAME]\n"
    "          [--mode overlay|replace] [--path P ...] [--force-fixlevel]\n"
    "          [--keep-setid] [--key-file AGE_IDENTITY_FILE]\n"
    "          [--post-hooks-only|--release-hold] [--force-pg-version]\n"
    "          [--kubernetes]\n"
    "          [--to-namespace NS] [--to-release R --clone]\n"
    "                                           restore a set and wait\n"
    "  verify SET [--deep [--key-file F]]       check a set's stored bytes\n"
    "                                           (--deep: its contents)\n"
    "  export SET --to DIR [--key-file F]       write a set as plain files on\n"
    "                                           the scheduler's host (in "
    "clear\n"
    "                                           with the key of an encrypted "
    "one)\n"
    "  prune [--dry-run] [--policy P]           apply retention, saying why\n"
    "  files SET [--path PREFIX] [--target T]   a set's file index\n"
    "  find PATTERN [--namespace NS] [--release R]\n"
    "                                           every set holding matching "
    "paths\n"
    "\n"
    "T is a time: 2026-11-28, 2026-11-28T14:00 (UTC) or Unix seconds.\n";

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

int main(int argc, char** argv) {
  std::string server, token_file, key_file, verb, ns, release, target, to_dir,
      database_to, compression, policy, status, since, until, path, mode,
      to_namespace, to_release;
  std::vector<std::string> paths;
  int level = 0, full_every = 0, max_chain = 0;
  std::vector<std::string> args, excludes;
  po::options_description desc("options");
  desc.add_options()("help,h", "show help")(
      "server", po::value(&server)->default_value("127.0.0.1:7070"),
      "scheduler address")("token-file", po::value(&token_file),
                           "file holding an admin token")(
      "json", po::bool_switch(), "print JSON")("namespace", po::value(&ns),
                                               "namespace")(
      "release", po::value(&release), "release")("policy", po::value(&policy),
                                                 "policy")(
      "status", po::value(&status), "set status")("since", po::value(&since),
                                                  "sets started at or after")(
      "until", po::value(&until), "sets started before")(
      "dry-run", po::bool_switch(), "prune: decide, remove nothing")(
      "deep", po::bool_switch(), "verify: read every entry and the dump")(
      "key-file", po::value(&key_file),
      "restore, verify --deep, export: an age identity file with the secret "
      "key of an encrypted set (used for that call only)")(
      "compression", po::value(&compression), "zstd, gzip or none")(
      "level", po::value(&level), "compression level")(
      "exclude", po::value(&excludes), "glob to leave out (repeatable)")(
      "incremental", po::bool_switch(),
      "backup: only what changed since the newest complete set")(
      "differential", po::bool_switch(),
      "backup: only what changed since the newest complete full")(
      "full-every", po::value(&full_every)->default_value(0),
      "backup: a full after this many sets (default 6)")(
      "max-chain", po::value(&max_chain)->default_value(0),
      "backup: a full before a chain passes this many artifacts (14)")(
      "target", po::value(&target), "one target of the set, e.g. core/profile")(
      "path", po::value(&paths), "files/restore: only under this path")(
      "mode", po::value(&mode), "restore: overlay (default) or replace")(
      "keep-setid", po::bool_switch(),
      "restore: keep setuid/setgid bits (dropped otherwise)")(
      "force-fixlevel", po::bool_switch(),
      "restore a profile at another fix level")(
      "force-pg-version", po::bool_switch(),
      "restore: PostgreSQL dumps into a server of another major version")(
      "kubernetes", po::bool_switch(),
      "restore: also re-create the set's Kubernetes objects the namespace "
      "lacks")("post-hooks-only", po::bool_switch(),
               "restore: only the post-hooks (after an external database was "
               "restored by hand)")(
      "release-hold", po::bool_switch(),
      "restore: only end the hold this set's restore left on its "
      "deployment (DX was started by other means)")(
      "to-namespace", po::value(&to_namespace), "restore into this namespace")(
      "to-release", po::value(&to_release), "restore into this release")(
      "clone", po::bool_switch(), "allow restoring into another deployment")(
      "to", po::value(&to_dir), "restore volumes under this directory")(
      "database-to", po::value(&database_to),
      "restore the database into this new database")(
      "verb", po::value(&verb), "")("args", po::value(&args), "");
  dxbackup::common::TlsFlags tls;
  dxbackup::common::AddTlsOptions(desc, &tls, /*server=*/false);
  po::positional_options_description positional;
  positional.add("verb", 1).add("args", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv)
                  .options(desc)
                  .positional(positional)
                  .run(),
              vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "dxbackup: " << e.what() << "\n" << kUsage;
    return 2;
  }
  if (vm.count("help") || verb.empty()) {
    std::cout << kUsage;
    return verb.empty() && !vm.count("help") ? 2 : 0;
  }

  auto credentials = dxbackup::common::ChannelCredentials(tls, server);
  if (!credentials.ok()) {
    std::cerr << "dxbackup: " << credentials.status().message() << "\n";
    return 2;
  }
  auto channel = dxbackup::common::CreateTokenChannel(
      server, *credentials, grpc::ChannelArguments(), token_file);
  if (!channel.ok()) {
    std::cerr << "dxbackup: " << channel.status().message() << "\n";
    return 2;
  }
  auto stub = v1::AdminService::NewStub(*channel);
  cli::CliContext cli{stub.get(), &std::cout, &std::cerr,
                      vm["json"].as<bool>()};

  auto need_set = [&]() -> bool {
    if (args.size() == 1) return true;
    std::cerr << "dxbackup: " << verb << " takes one SET id\n" << kUsage;
    return false;
  };
  if (verb == "agents") {
    if (args.empty()) return cli::ListAgents(cli);
    if (args.size() == 2 && args[0] == "forget") {
      return cli::ForgetAgent(cli, args[1]);
    }
    std::cerr << "dxbackup: agents takes no argument, or forget "
                 "NS/RELEASE/POD\n"
              << kUsage;
    return 2;
  }
  if (verb == "policies") return cli::ListPolicies(cli);
  if (verb == "sets") {
    v1::ListSetsRequest request;
    request.set_namespace_(ns);
    request.set_release(release);
    request.set_policy(policy);
    if (!status.empty()) {
      v1::SetStatus parsed;
      std::string name = "SET_" + status;
      for (char& c : name) c = static_cast<char>(std::toupper(c));
      if (!v1::SetStatus_Parse(name, &parsed)) {
        std::cerr << "dxbackup: --status must be complete, failed, running or "
                     "expiring\n";
        return 2;
      }
      request.set_status(parsed);
    }
    int64_t since_unix, until_unix;
    if (!ParseWhen(since, &since_unix) || !ParseWhen(until, &until_unix)) {
      std::cerr << "dxbackup: --since/--until take 2026-11-28, "
                   "2026-11-28T14:00 or Unix seconds\n";
      return 2;
    }
    request.set_since_unix(since_unix);
    request.set_until_unix(until_unix);
    return cli::ListSets(cli, request);
  }
  if (verb == "show") return need_set() ? cli::ShowSet(cli, args[0]) : 2;
  if (verb == "backup") {
    if (!policy.empty()) {
      if (!ns.empty() || !release.empty()) {
        std::cerr << "dxbackup: backup takes --policy or --namespace and "
                     "--release, not both\n";
        return 2;
      }
      return cli::RunPolicy(cli, policy);
    }
    if (ns.empty() || release.empty()) {
      std::cerr << "dxbackup: backup needs --namespace and --release, or "
                   "--policy\n";
      return 2;
    }
    v1::BackupRequest request;
    request.set_namespace_(ns);
    request.set_release(release);
    v1::CaptureOptions* options = request.mutable_options();
    if (compression == "gzip") {
      options->set_compression(v1::COMPRESSION_GZIP);
    } else if (compression == "none") {
      options->set_compression(v1::COMPRESSION_NONE);
    } else if (compression.empty() || compression == "zstd") {
      options->set_compression(v1::COMPRESSION_ZSTD);
    } else {
      std::cerr << "dxbackup: --compression must be zstd, gzip or none\n";
      return 2;
    }
    options->set_compression_level(level);
    if (vm["incremental"].as<bool>() && vm["differential"].as<bool>()) {
      std::cerr << "dxbackup: --incremental or --differential, not both\n";
      return 2;
    }
    if (vm["incremental"].as<bool>()) options->set_level(v1::INCREMENTAL);
    if (vm["differential"].as<bool>()) options->set_level(v1::DIFFERENTIAL);
    options->set_full_every(full_every);
    options->set_max_chain(max_chain);
    for (const auto& e : excludes) options->add_excludes(e);
    return cli::Backup(cli, request);
  }
  if (!key_file.empty() && verb != "restore" && verb != "export" &&
      !(verb == "verify" && vm["deep"].as<bool>())) {
    std::cerr << "dxbackup: --key-file is for restore, verify --deep and "
                 "export (a plain verify needs no key)\n";
    return 2;
  }
  if (verb == "restore") {
    if (!need_set()) return 2;
    v1::RestoreRequest request;
    request.set_set_id(args[0]);
    request.set_target(target);
    request.set_to_dir(to_dir);
    request.set_database_to(database_to);
    if (mode == "replace") {
      request.set_mode(v1::RESTORE_REPLACE);
    } else if (mode.empty() || mode == "overlay") {
      request.set_mode(v1::RESTORE_OVERLAY);
    } else {
      std::cerr << "dxbackup: --mode must be overlay or replace\n";
      return 2;
    }
    for (const auto& p : paths) request.add_paths(p);
    request.set_force_fixlevel(vm["force-fixlevel"].as<bool>());
    request.set_post_hooks_only(vm["post-hooks-only"].as<bool>());
    request.set_release_hold(vm["release-hold"].as<bool>());
    request.set_force_pg_version(vm["force-pg-version"].as<bool>());
    request.set_kubernetes(vm["kubernetes"].as<bool>());
    request.set_keep_setid(vm["keep-setid"].as<bool>());
    request.set_to_namespace(to_namespace);
    request.set_to_release(to_release);
    request.set_clone(vm["clone"].as<bool>());
    if (!ReadKeyFile(key_file, request.mutable_identities())) return 2;
    return cli::Restore(cli, request);
  }
  if (verb == "prune") {
    v1::PruneRequest request;
    request.set_dry_run(vm["dry-run"].as<bool>());
    request.set_policy(policy);
    return cli::Prune(cli, request);
  }
  if (verb == "files") {
    if (!need_set()) return 2;
    v1::ListFilesRequest request;
    request.set_set_id(args[0]);
    if (paths.size() > 1) {
      std::cerr << "dxbackup: files takes one --path\n";
      return 2;
    }
    request.set_path_prefix(paths.empty() ? "" : paths[0]);
    request.set_target(target);
    return cli::ListFiles(cli, request);
  }
  if (verb == "verify") {
    if (!need_set()) return 2;
    v1::VerifyRequest request;
    request.set_set_id(args[0]);
    request.set_deep(vm["deep"].as<bool>());
    if (!ReadKeyFile(key_file, request.mutable_identities())) return 2;
    return cli::Verify(cli, request);
  }
  if (verb == "export") {
    if (!need_set()) return 2;
    if (to_dir.empty()) {
      std::cerr
          << "dxbackup: export needs --to DIR (on the scheduler's host)\n";
      return 2;
    }
    v1::ExportRequest request;
    request.set_set_id(args[0]);
    request.set_to_dir(to_dir);
    if (!ReadKeyFile(key_file, request.mutable_identities())) return 2;
    return cli::Export(cli, request);
  }
  if (verb == "find") {
    if (args.size() != 1) {
      std::cerr
          << "dxbackup: find takes one PATTERN, e.g. '*/wps.properties'\n";
      return 2;
    }
    v1::FindFilesRequest request;
    request.set_pattern(args[0]);
    request.set_namespace_(ns);
    request.set_release(release);
    return cli::FindFiles(cli, request);
  }
  std::cerr << "dxbackup: unknown verb \"" << verb << "\"\n" << kUsage;
  return 2;
}
