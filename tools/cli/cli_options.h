// The dxbackup CLI's flags: every one a verb or the connection takes, in
// one Boost.Program_options description (so that they may come before or
// after the verb), with the values they fill. Which verb takes which is
// the verb table's (verb_table.h), which checks it after parsing.
//
// Thread-compatible.
#ifndef DXBACKUP_TOOLS_CLI_CLI_OPTIONS_H_
#define DXBACKUP_TOOLS_CLI_CLI_OPTIONS_H_

#include <boost/program_options.hpp>
#include <string>
#include <vector>

#include "tools/cli/cli_connection.h"

namespace dxbackup::cli {

struct CliArgs {
  ConnectionFlags connection;
  bool json = false, help = false;
  std::string verb;
  std::vector<std::string> args;  // after the verb
  // Verbs' flags.
  std::string key_file, ns, release, target, to_dir, database_to, compression,
      policy, status, since, until, mode, to_namespace, to_release, reason,
      to_agent;
  std::vector<std::string> paths, excludes;
  int level = 0, full_every = 0, max_chain = 0;
  bool dry_run = false, deep = false, incremental = false, differential = false,
       keep_setid = false, force_fixlevel = false, force_pg_version = false,
       kubernetes = false, post_hooks_only = false, release_hold = false,
       clone = false, older = false;
};

// The connection's flags, and --json and --help.
boost::program_options::options_description GlobalOptions(CliArgs* args);
// Every verb's flags.
boost::program_options::options_description VerbOptions(CliArgs* args);

// Parses argv into *args; the error of Boost.Program_options when it
// fails (an unknown flag, a missing value). `vm` keeps what was given.
bool ParseCommandLine(int argc, const char* const* argv, CliArgs* args,
                      boost::program_options::variables_map* vm,
                      std::string* error);

}  // namespace dxbackup::cli

#endif  // DXBACKUP_TOOLS_CLI_CLI_OPTIONS_H_
