#include "tools/cli/cli_options.h"

#include "common/tls_options.h"

namespace dxbackup::cli {

namespace po = boost::program_options;

po::options_description GlobalOptions(CliArgs* a) {
  po::options_description desc("global options");
  desc.add_options()("server",
                     po::value(&a->connection.server)->value_name("HOST:PORT"),
                     "scheduler address (DXBACKUP_SERVER; default "
                     "127.0.0.1:7070)")(
      "context", po::value(&a->connection.context)->value_name("NAME"),
      "a context of the CLI's config file (DXBACKUP_CONTEXT; see `dxbackup "
      "help config`)")("token-file",
                       po::value(&a->connection.token_file)->value_name("F"),
                       "file holding a token (DXBACKUP_TOKEN_FILE)")(
      "json", po::bool_switch(&a->json), "print JSON")(
      "help,h", po::bool_switch(&a->help), "show help (of a verb after it)");
  common::AddTlsOptions(desc, &a->connection.tls, /*server=*/false);
  return desc;
}

po::options_description VerbOptions(CliArgs* a) {
  po::options_description desc("verb options");
  desc.add_options()("namespace", po::value(&a->ns)->value_name("NS"),
                     "the deployment's namespace")(
      "release", po::value(&a->release)->value_name("R"),
      "the deployment's release")("policy",
                                  po::value(&a->policy)->value_name("P"),
                                  "a policy of the scheduler's config")(
      "status", po::value(&a->status)->value_name("S"),
      "sets: complete, failed, running or expiring")(
      "since", po::value(&a->since)->value_name("T"),
      "sets started at or after T (2026-11-28, 2026-11-28T14:00 UTC, or "
      "Unix seconds)")("until", po::value(&a->until)->value_name("T"),
                       "sets started before T")(
      "dry-run", po::bool_switch(&a->dry_run),
      "prune: decide and say why, remove nothing")(
      "deep", po::bool_switch(&a->deep),
      "verify: read every entry and dump back, not only the stored bytes")(
      "key-file", po::value(&a->key_file)->value_name("F"),
      "an age identity file with the secret key of an encrypted set (used "
      "for this call only)")("compression",
                             po::value(&a->compression)->value_name("C"),
                             "zstd (default), gzip or none")(
      "level", po::value(&a->level)->value_name("N"), "compression level")(
      "exclude", po::value(&a->excludes)->value_name("GLOB"),
      "leave out what matches (repeatable)")(
      "incremental", po::bool_switch(&a->incremental),
      "only what changed since the newest complete set")(
      "differential", po::bool_switch(&a->differential),
      "only what changed since the newest complete full")(
      "full-every", po::value(&a->full_every)->value_name("N"),
      "a full after this many sets (default 6)")(
      "max-chain", po::value(&a->max_chain)->value_name("M"),
      "a full before a chain passes this many artifacts (default 14)")(
      "target", po::value(&a->target)->value_name("T"),
      "one target of the set, e.g. core/profile")(
      "path", po::value(&a->paths)->value_name("P"),
      "only under this volume-relative path (restore: repeatable)")(
      "mode", po::value(&a->mode)->value_name("M"),
      "overlay (default: extract over what is there) or replace (exactly "
      "the backed-up tree)")("keep-setid", po::bool_switch(&a->keep_setid),
                             "keep setuid/setgid bits of a clone's files")(
      "force-fixlevel", po::bool_switch(&a->force_fixlevel),
      "restore a profile at another fix level")(
      "force-pg-version", po::bool_switch(&a->force_pg_version),
      "PostgreSQL dumps into a server of another major version")(
      "kubernetes", po::bool_switch(&a->kubernetes),
      "also re-create the set's Kubernetes objects the namespace lacks")(
      "post-hooks-only", po::bool_switch(&a->post_hooks_only),
      "only the post-hooks, after an external database was restored by "
      "hand")("release-hold", po::bool_switch(&a->release_hold),
              "only end the hold this set's restore left on its deployment "
              "(DX was started by other means)")(
      "to-namespace", po::value(&a->to_namespace)->value_name("NS"),
      "into this namespace (restore: a clone, needs --clone; drill: a "
      "scratch deployment's)")(
      "to-release", po::value(&a->to_release)->value_name("R"),
      "into this release (restore: a clone, needs --clone; drill: a "
      "scratch deployment's)")("clone", po::bool_switch(&a->clone),
                               "allow restoring into another deployment")(
      "agent", po::value(&a->to_agent)->value_name("NS/R/POD"),
      "restore, drill: every volume under --to on this agent (`dxbackup "
      "agents`)")(
      "to", po::value(&a->to_dir)->value_name("DIR"),
      "restore, drill: volumes under DIR on their agents; export: the "
      "directory on the scheduler's host")(
      "database-to", po::value(&a->database_to)->value_name("NAME"),
      "databases into this new database")(
      "reason", po::value(&a->reason)->value_name("TEXT"),
      "why, kept with the run's record")(
      "older", po::bool_switch(&a->older),
      "find: also the sets whose file index is in the store (needs "
      "--namespace; reads each one's list)");
  return desc;
}

bool ParseCommandLine(int argc, const char* const* argv, CliArgs* args,
                      po::variables_map* vm, std::string* error) {
  po::options_description all;
  all.add(GlobalOptions(args)).add(VerbOptions(args));
  all.add_options()("verb", po::value(&args->verb))("args",
                                                    po::value(&args->args));
  po::positional_options_description positional;
  positional.add("verb", 1).add("args", -1);
  try {
    po::store(po::command_line_parser(argc, argv)
                  .options(all)
                  .positional(positional)
                  .run(),
              *vm);
    po::notify(*vm);
  } catch (const po::error& e) {
    *error = e.what();
    return false;
  }
  return true;
}

}  // namespace dxbackup::cli
