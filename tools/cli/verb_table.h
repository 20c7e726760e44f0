// The dxbackup CLI's verbs as the user sees them: each one's arguments,
// what it does and which flags it takes. The help (`dxbackup --help`,
// `dxbackup VERB --help`, `dxbackup help VERB`), the check that a flag
// belongs to its verb and the shell completion are all made from this one
// table, so that they cannot disagree.
//
// Thread-safe: constant data.
#ifndef DXBACKUP_TOOLS_CLI_VERB_TABLE_H_
#define DXBACKUP_TOOLS_CLI_VERB_TABLE_H_

#include <boost/program_options.hpp>
#include <string>
#include <vector>

namespace dxbackup::cli {

struct Verb {
  std::string name;
  std::string arguments;           // "SET", "PATTERN", "" ...
  std::string summary;             // one line
  std::string details;             // paragraphs for its own help; may be ""
  std::vector<std::string> flags;  // the verb options it takes
};

const std::vector<Verb>& Verbs();
// nullptr for an unknown verb.
const Verb* FindVerb(const std::string& name);

// `dxbackup --help`: usage, every verb, the global options.
std::string GlobalHelp(
    const boost::program_options::options_description& global);
// `dxbackup VERB --help`: its usage, what it does, its flags (described as
// in `verb_options`).
std::string VerbHelp(
    const Verb& verb,
    const boost::program_options::options_description& verb_options);

// The first flag given in `vm` that is not global and not `verb`'s; ""
// when there is none. `global` names the global flags.
std::string FlagNotOf(
    const Verb& verb, const boost::program_options::variables_map& vm,
    const boost::program_options::options_description& global);

// `dxbackup completion bash`: a bash completion script for every verb and
// its flags (those that take a value, named in the descriptions, are
// completed as file names and skipped when finding the verb).
std::string BashCompletion(
    const boost::program_options::options_description& global,
    const boost::program_options::options_description& verb_options);

// `dxbackup help config`: the config file, the environment, precedence.
std::string ConfigHelp();

}  // namespace dxbackup::cli

#endif  // DXBACKUP_TOOLS_CLI_VERB_TABLE_H_
