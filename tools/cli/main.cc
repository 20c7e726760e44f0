// dxbackup: the command-line client. Parses the command line, answers
// help, finds the scheduler (cli_connection.h) and runs one verb.
#include <grpcpp/grpcpp.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "common/scheduler_dialer.h"
#include "tools/cli/cli_connection.h"
#include "tools/cli/cli_options.h"
#include "tools/cli/cli_verbs.h"
#include "tools/cli/verb_table.h"

namespace po = boost::program_options;
using namespace dxbackup;

namespace {

// `dxbackup help [VERB|config]` and `dxbackup [VERB] --help`; -1 when the
// command line asks for no help.
int AnswerHelp(cli::CliArgs& args) {
  const po::options_description global = cli::GlobalOptions(&args);
  const po::options_description verbs = cli::VerbOptions(&args);
  std::string topic;
  if (args.help) {
    topic = args.verb;
  } else if (args.verb == "help") {
    if (args.args.size() > 1) {
      std::cerr << "dxbackup: help takes one VERB, or config\n";
      return 2;
    }
    topic = args.args.empty() ? "" : args.args[0];
  } else if (args.verb.empty()) {
    std::cerr << cli::GlobalHelp(global);
    return 2;
  } else {
    return -1;
  }
  if (topic.empty()) {
    std::cout << cli::GlobalHelp(global);
    return 0;
  }
  if (topic == "config") {
    std::cout << cli::ConfigHelp();
    return 0;
  }
  const cli::Verb* verb = cli::FindVerb(topic);
  if (verb == nullptr) {
    std::cerr << "dxbackup: unknown verb \"" << topic
              << "\" (`dxbackup --help` lists them)\n";
    return 2;
  }
  std::cout << cli::VerbHelp(*verb, verbs);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  cli::CliArgs args;
  po::variables_map vm;
  std::string error;
  if (!cli::ParseCommandLine(argc, argv, &args, &vm, &error)) {
    std::cerr << "dxbackup: " << error << " (`dxbackup --help`)\n";
    return 2;
  }
  if (int answered = AnswerHelp(args); answered >= 0) return answered;
  const cli::Verb* verb = cli::FindVerb(args.verb);
  if (verb == nullptr) {
    std::cerr << "dxbackup: unknown verb \"" << args.verb
              << "\" (`dxbackup --help` lists them)\n";
    return 2;
  }
  if (const std::string flag =
          cli::FlagNotOf(*verb, vm, cli::GlobalOptions(&args));
      !flag.empty()) {
    std::cerr << "dxbackup: --" << flag << " is not a flag of " << verb->name
              << " (`dxbackup " << verb->name << " --help` lists its flags)\n";
    return 2;
  }
  if (verb->name == "completion") {
    if (args.args != std::vector<std::string>{"bash"}) {
      std::cerr << "dxbackup: completion takes bash\n";
      return 2;
    }
    std::cout << cli::BashCompletion(cli::GlobalOptions(&args),
                                     cli::VerbOptions(&args));
    return 0;
  }
  auto connection = cli::ResolveConnection(
      args.connection, [](const char* name) { return std::getenv(name); });
  if (!connection.ok()) {
    std::cerr << "dxbackup: " << connection.status().message() << "\n";
    return 2;
  }
  // The Service's channel, and any replica's it sends a call to.
  auto dialer = common::SchedulerDialer::Create(
      connection->server, connection->tls, grpc::ChannelArguments(),
      connection->token_file);
  if (!dialer.ok()) {
    std::cerr << "dxbackup: " << dialer.status().message() << "\n";
    return 2;
  }
  auto stub = v1::AdminService::NewStub(dialer->Dial("", false));
  const char* term = std::getenv("TERM");
  const bool live = !args.json && isatty(STDOUT_FILENO) && term != nullptr &&
                    std::string(term) != "dumb";
  cli::CliContext cli{stub.get(), &std::cout, &std::cerr, args.json, live};
  cli.stub_at = [&dialer](const std::string& replica) {
    return std::unique_ptr<v1::AdminService::StubInterface>(
        v1::AdminService::NewStub(dialer->Dial(replica, false)));
  };
  if (struct winsize size;
      live && ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0) {
    cli.columns = size.ws_col;
    cli.lines = size.ws_row;
  }
  return cli::RunVerb(args, cli);
}
