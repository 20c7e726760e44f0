// RunVerb turns the parsed command line into the verb's request and calls
// it (cli_commands.h), checking the verb's arguments and flags that
// Boost.Program_options cannot (one SET, --policy or --namespace and
// --release, a time's format). Returns the process's exit code: 2 for a
// command line that is wrong (saying why), else as cli_commands.h says.
#ifndef DXBACKUP_TOOLS_CLI_CLI_VERBS_H_
#define DXBACKUP_TOOLS_CLI_CLI_VERBS_H_

#include "tools/cli/cli_commands.h"
#include "tools/cli/cli_options.h"

namespace dxbackup::cli {

int RunVerb(const CliArgs& args, const CliContext& cli);

}  // namespace dxbackup::cli

#endif  // DXBACKUP_TOOLS_CLI_CLI_VERBS_H_
