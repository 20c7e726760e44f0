#include "tools/cli/verb_table.h"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace dxbackup::cli {

namespace po = boost::program_options;

const std::vector<Verb>& Verbs() {
  static const std::vector<Verb> verbs = {
      {"agents",
       "[forget NS/RELEASE/POD]",
       "agents, connected and gone",
       "With `forget`, stops expecting an agent whose pod is gone for good "
       "(a scaled-down StatefulSet's), so that its deployment's sets no "
       "longer fail for it.",
       {}},
      {"backup",
       "",
       "take a backup set (or run a policy) and wait",
       "Either --namespace and --release (one deployment, now), or --policy "
       "(every deployment it covers, as its schedule would). Progress is "
       "printed as the members go; the exit code is 0 only for a complete "
       "set.",
       {"namespace", "release", "policy", "compression", "level", "exclude",
        "incremental", "differential", "full-every", "max-chain"}},
      {"policies", "", "policies, what they cover, their next runs", "", {}},
      {"sets",
       "",
       "backup sets, newest first",
       "Filters combine; T is 2026-11-28, 2026-11-28T14:00 (UTC) or Unix "
       "seconds.",
       {"namespace", "release", "policy", "status", "since", "until"}},
      {"show", "SET", "one set: members, jobs, verification, holds", "", {}},
      {"restore",
       "SET",
       "restore a set and wait",
       "In place by default, in the DX order: pre-hooks (stop), databases "
       "and volumes, post-hooks (start). Every stored file is checked "
       "before anything is written. --to, --database-to and --to-namespace/"
       "--to-release restore elsewhere.",
       {"target", "to", "database-to", "mode", "path", "force-fixlevel",
        "keep-setid", "key-file", "post-hooks-only", "release-hold",
        "force-pg-version", "kubernetes", "to-namespace", "to-release", "clone",
        "agent"}},
      {"verify",
       "SET",
       "check a set's stored bytes (--deep: its contents)",
       "",
       {"deep", "key-file"}},
      {"export",
       "SET",
       "write a set as plain files on the scheduler's host",
       "--to DIR is on the scheduler's host; an encrypted set is written in "
       "clear with the key of --key-file. The directory holds a manifest, "
       "SHA256SUMS and RESTORE.txt.",
       {"to", "key-file"}},
      {"prune",
       "",
       "apply retention, saying why each set stays or goes",
       "",
       {"dry-run", "policy"}},
      {"delete",
       "SET",
       "remove a set by hand: its stored files, then its rows",
       "Refused for a running set, one a restore holds its deployment for, "
       "the base of another set (named: delete that one first) and one whose "
       "objects are locked in the store (Object Lock: until when). Manual "
       "sets are never pruned; this is how they go.",
       {}},
      {"cancel",
       "SET|RESTORE",
       "stop a running backup set or restore",
       "What has not finished fails as cancelled, with your token's name "
       "(and --reason); a hook already begun finishes, and the post-hooks "
       "run, so DX comes back up. A cancelled restore leaves its "
       "destination partly restored: restore it again. The id is the one "
       "`backup` or `restore` printed (`dxbackup sets --status running`).",
       {"reason"}},
      {"drill",
       "SET",
       "restore a set elsewhere, check it, and record how it went",
       "Each volume goes under --to DIR (default /tmp/dxbackup-drill) on an "
       "agent that has it, each PostgreSQL database into a scratch "
       "database of the drill's own (dxdrill_<drill id>_<n>) on its "
       "server; nothing in place is touched. --agent puts every volume on "
       "that one agent; --to-namespace and --to-release use a scratch "
       "deployment's agents and database servers instead. A volume must "
       "come back with every entry of the set's index, a database with "
       "every table of the dump; the time it took is the measured RTO. "
       "Then everything is removed again; `show` keeps the result. A set "
       "that is not complete is refused. Exit 1 when the drill failed.",
       {"to", "agent", "to-namespace", "to-release"}},
      {"logs",
       "JOB",
       "one job: its status, error and log",
       "The log is what the job said: a hook's output, a dump tool's stderr, "
       "what its agent reported. `dxbackup show SET` lists a set's jobs.",
       {}},
      {"files",
       "SET",
       "a set's file index",
       "A set older than the newest catalog.file_index_sets of its "
       "deployment has its index in the store: it is read from there "
       "(slower), and for an encrypted namespace needs the secret key "
       "(--key-file, or the scheduler's identity_files).",
       {"path", "target", "key-file"}},
      {"find",
       "PATTERN",
       "every set holding paths that match",
       "A PATTERN without / matches a name at any depth "
       "('wps.properties'); one with / matches whole paths "
       "('*/wp_profile/config/*.xml'). Sets older than the newest "
       "catalog.file_index_sets of their deployment keep their index in the "
       "store and are searched only with --older and --namespace (each "
       "one's list is read: seconds, not milliseconds); --key-file opens "
       "those of an encrypted namespace.",
       {"namespace", "release", "older", "key-file"}},
      {"help",
       "[VERB|config]",
       "this help, a verb's, or the config file's",
       "",
       {}},
      {"completion",
       "bash",
       "a bash completion script",
       "  source <(dxbackup completion bash)",
       {}},
  };
  return verbs;
}

const Verb* FindVerb(const std::string& name) {
  for (const Verb& v : Verbs()) {
    if (v.name == name) return &v;
  }
  return nullptr;
}

namespace {

std::string Usage(const Verb& verb) {
  std::string usage = absl::StrCat("dxbackup ", verb.name);
  if (!verb.arguments.empty()) absl::StrAppend(&usage, " ", verb.arguments);
  if (!verb.flags.empty()) absl::StrAppend(&usage, " [flags]");
  return usage;
}

// `text` in lines of at most `width` columns, broken between words (a
// line that starts with blanks is kept as it is: an example).
std::string Wrap(const std::string& text, size_t width) {
  if (!text.empty() && text[0] == ' ') return text + "\n";
  std::string out, line;
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      absl::StrAppend(&out, line, "\n");
      line.clear();
    }
    absl::StrAppend(&line, line.empty() ? "" : " ", word);
  }
  if (!line.empty()) absl::StrAppend(&out, line, "\n");
  return out;
}

}  // namespace

std::string GlobalHelp(const po::options_description& global) {
  std::ostringstream out;
  out << "usage: dxbackup [global options] VERB [ARGS] [flags]\n"
         "\n"
         "verbs:\n";
  size_t width = 0;
  for (const Verb& v : Verbs()) {
    width = std::max(width, v.name.size() + 1 + v.arguments.size());
  }
  for (const Verb& v : Verbs()) {
    std::string head = v.name;
    if (!v.arguments.empty()) absl::StrAppend(&head, " ", v.arguments);
    out << "  " << head << std::string(width - head.size() + 2, ' ')
        << v.summary << "\n";
  }
  out << "\n"
      << "`dxbackup VERB --help` (or `dxbackup help VERB`) lists a verb's "
         "flags.\n\n"
      << global
      << "\nThe connection comes from flags, else DXBACKUP_SERVER, "
         "DXBACKUP_TLS_CA,\nDXBACKUP_TLS_CERT, DXBACKUP_TLS_KEY and "
         "DXBACKUP_TOKEN_FILE, else a context\nof the config file "
         "(`dxbackup help config`).\n";
  return out.str();
}

std::string VerbHelp(const Verb& verb,
                     const po::options_description& verb_options) {
  std::ostringstream out;
  std::string summary = verb.summary;
  summary[0] = static_cast<char>(std::toupper(summary[0]));
  out << "usage: " << Usage(verb) << "\n\n" << summary << ".\n";
  if (!verb.details.empty()) out << "\n" << Wrap(verb.details, 76);
  if (!verb.flags.empty()) {
    po::options_description own("flags");
    for (const std::string& flag : verb.flags) {
      for (const auto& option : verb_options.options()) {
        if (option->long_name() == flag) own.add(option);
      }
    }
    out << "\n" << own;
  }
  out << "\nGlobal options (--server, --context, TLS, --json): `dxbackup "
         "--help`.\n";
  return out.str();
}

std::string FlagNotOf(const Verb& verb, const po::variables_map& vm,
                      const po::options_description& global) {
  for (const auto& [name, value] : vm) {
    if (value.defaulted() || name == "verb" || name == "args") continue;
    if (global.find_nothrow(name, false) != nullptr) continue;
    if (std::find(verb.flags.begin(), verb.flags.end(), name) ==
        verb.flags.end()) {
      return name;
    }
  }
  return "";
}

std::string BashCompletion(const po::options_description& global,
                           const po::options_description& verb_options) {
  std::vector<std::string> names;
  for (const Verb& v : Verbs()) names.push_back(v.name);
  const std::string all = absl::StrJoin(names, " ");
  // The flags that take a value: a value is no verb, and bash completes it
  // as a file name.
  std::vector<std::string> global_values, values;
  for (const auto* desc : {&global, &verb_options}) {
    for (const auto& option : desc->options()) {
      if (option->semantic()->max_tokens() == 0) continue;
      values.push_back("--" + option->long_name());
      if (desc == &global) global_values.push_back("--" + option->long_name());
    }
  }
  std::ostringstream out;
  out << "# dxbackup bash completion: source <(dxbackup completion bash)\n"
         "_dxbackup() {\n"
         "  local cur=${COMP_WORDS[COMP_CWORD]} verb= i\n"
         "  case ${COMP_WORDS[COMP_CWORD-1]} in\n"
         "    "
      << absl::StrJoin(values, "|")
      << ") return 0;;  # a value: bash's own (file names)\n"
         "  esac\n"
         "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
         "    case ${COMP_WORDS[i]} in\n"
         "      "
      << absl::StrJoin(global_values, "|")
      << ")\n"
         "        ((i++))  # its value, and HOST:PORT's ':' and port\n"
         "        [ \"${COMP_WORDS[i+1]}\" = : ] && ((i += 2));;\n"
         "      -*) ;;\n"
         "      *) verb=${COMP_WORDS[i]}; break;;\n"
         "    esac\n"
         "  done\n"
         "  local global='--server --context --token-file --tls-ca "
         "--tls-cert --tls-key --insecure-loopback --json --help'\n"
         "  case $verb in\n";
  for (const Verb& v : Verbs()) {
    std::vector<std::string> words;
    if (v.name == "help") words = {"config", all};
    if (v.name == "completion") words = {"bash"};
    if (v.name == "agents") words = {"forget"};
    for (const std::string& f : v.flags) words.push_back("--" + f);
    out << "    " << v.name << ") COMPREPLY=($(compgen -W \""
        << absl::StrJoin(words, " ") << " $global\" -- \"$cur\"));;\n";
  }
  out << "    *) COMPREPLY=($(compgen -W \"" << all
      << " $global\" -- \"$cur\"));;\n"
         "  esac\n"
         "}\n"
         "complete -o default -F _dxbackup dxbackup\n";
  return out.str();
}

std::string ConfigHelp() {
  return R"(The CLI's config file: $DXBACKUP_CONFIG, else
$XDG_CONFIG_HOME/dxbackup/config.yaml, else ~/.config/dxbackup/config.yaml.

  current_context: prod
  contexts:
    - name: prod
      server: dxbackup.backup.svc:7070
      tls_ca: certs/ca.pem          # relative: to this file's directory
      tls_cert: certs/operator.pem
      tls_key: certs/operator.key
      token_file: operator.token
    - name: local
      server: 127.0.0.1:7070
      insecure_loopback: true

`dxbackup --context local ...` (or DXBACKUP_CONTEXT=local) picks a context;
else current_context; a file (or context) is optional. Each setting comes
from its flag, else its variable (DXBACKUP_SERVER, DXBACKUP_TLS_CA,
DXBACKUP_TLS_CERT, DXBACKUP_TLS_KEY, DXBACKUP_TOKEN_FILE), else the context,
else the default (server 127.0.0.1:7070).
)";
}

}  // namespace dxbackup::cli
