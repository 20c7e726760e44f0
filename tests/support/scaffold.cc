#include "tests/support/scaffold.h"

#include <arpa/inet.h>
#include <google/protobuf/util/json_util.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/support/temp_dir.h"

namespace dxbackup::testing {

std::string BinDir() { return DXBACKUP_BIN_DIR; }
std::string SourceDir() { return DXBACKUP_SOURCE_DIR; }

int UnusedLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

namespace {

SchedulerOptions WithDefaults(SchedulerOptions o) {
  if (o.config_file.empty()) o.config_file = o.dir + "/scheduler.yaml";
  if (o.data_dir.empty()) o.data_dir = o.dir + "/data";
  if (o.log.empty()) o.log = o.dir + "/scheduler.log";
  return o;
}

std::vector<std::string> SchedulerArgv(const SchedulerOptions& o) {
  std::vector<std::string> argv = {BinDir() + "/dxbackup-scheduler"};
  if (o.tls.empty()) argv.push_back("--insecure-loopback");
  argv.insert(argv.end(), {"--listen", o.listen, "--data-dir", o.data_dir,
                           "--config", o.config_file});
  argv.insert(argv.end(), o.tls.begin(), o.tls.end());
  argv.insert(argv.end(), o.flags.begin(), o.flags.end());
  return argv;
}

// The config is written before the process starts.
const SchedulerOptions& Written(const SchedulerOptions& o) {
  if (!o.config.empty()) WriteFile(o.config_file, o.config);
  return o;
}

// N of the last word of `line` ("... on port N"); 0 for no line.
int PortOf(const std::string& line) {
  return line.empty() ? 0 : std::stoi(line.substr(line.rfind(' ') + 1));
}

}  // namespace

SchedulerProcess::SchedulerProcess(SchedulerOptions options)
    : ChildProcess(SchedulerArgv(Written(WithDefaults(options))),
                   WithDefaults(options).log),
      options_(WithDefaults(std::move(options))) {
  if (options_.await_listening) AwaitListening();
}

const std::string& SchedulerProcess::AwaitListening(
    std::chrono::seconds timeout) {
  const std::string line = WaitForLine("listening on port", timeout);
  if (!line.empty()) {
    address_ = options_.host + ":" + line.substr(line.rfind(' ') + 1);
  }
  return address_;
}

int SchedulerProcess::WaitForMetricsPort() {
  return PortOf(WaitForLine("metrics on port"));
}

int SchedulerProcess::WaitForWebPort() {
  return PortOf(WaitForLine("web dashboard on port"));
}

SchedulerOptions SchedulerProcess::Restarted(const std::string& log) const {
  SchedulerOptions next = options_;
  next.config.clear();  // the file is there already
  if (!address_.empty()) {
    next.listen = options_.listen.substr(0, options_.listen.rfind(':') + 1) +
                  address_.substr(address_.rfind(':') + 1);
  }
  next.log = log;
  return next;
}

namespace {

std::vector<std::string> AgentArgv(const AgentOptions& o) {
  std::vector<std::string> argv = {BinDir() + "/dxbackup-agent"};
  if (o.tls.empty()) argv.push_back("--insecure-loopback");
  argv.insert(argv.end(), {"--scheduler", o.scheduler, "--namespace",
                           o.namespace_, "--release", o.release, "--pod", o.pod,
                           "--component", o.component});
  for (const std::string& v : o.volumes) {
    argv.push_back("--volume");
    argv.push_back(v);
  }
  argv.insert(argv.end(), o.tls.begin(), o.tls.end());
  argv.insert(argv.end(), o.flags.begin(), o.flags.end());
  return argv;
}

}  // namespace

AgentProcess::AgentProcess(AgentOptions options)
    : ChildProcess(AgentArgv(options), options.log) {
  if (options.wait) WaitRegistered();
}

bool AgentProcess::WaitRegistered(int count) {
  const bool came =
      !WaitForNthLine("registered with the scheduler", count).empty();
  if (came) registered_ = true;
  return came;
}

::testing::AssertionResult ParseJson(const std::string& json,
                                     google::protobuf::Message* message) {
  if (google::protobuf::util::JsonStringToMessage(json, message).ok()) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "not a " << message->GetTypeName() << ": " << json;
}

CliClient::CliClient(std::string address, std::vector<std::string> flags)
    : address_(std::move(address)), flags_(std::move(flags)) {
  if (flags_.empty()) flags_ = {"--insecure-loopback"};
}

std::vector<std::string> CliClient::Argv(
    const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {BinDir() + "/dxbackup", "--server",
                                   address_};
  argv.insert(argv.end(), flags_.begin(), flags_.end());
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

int CliClient::Run(const std::vector<std::string>& args,
                   std::string* out) const {
  return RunCommand(Argv(args), out);
}

std::unique_ptr<ChildProcess> CliClient::Start(
    const std::vector<std::string>& args, const std::string& log) const {
  return std::make_unique<ChildProcess>(Argv(args), log);
}

v1::BackupSet CliClient::Backup(const std::string& ns,
                                const std::string& release, int want_exit,
                                std::string* out) const {
  EXPECT_EQ(Run({"backup", "--namespace", ns, "--release", release}, out),
            want_exit)
      << *out;
  v1::ListSetsResponse sets;
  EXPECT_TRUE(
      JsonInto({"sets", "--namespace", ns, "--release", release}, &sets));
  return sets.sets_size() > 0 ? sets.sets(0) : v1::BackupSet();
}

::testing::AssertionResult CliClient::JsonInto(
    const std::vector<std::string>& args,
    google::protobuf::Message* message) const {
  std::vector<std::string> json_args = {"--json"};
  json_args.insert(json_args.end(), args.begin(), args.end());
  std::string out;
  const int rc = Run(json_args, &out);
  if (rc != 0) {
    return ::testing::AssertionFailure()
           << "dxbackup --json exited " << rc << ": " << out;
  }
  return ParseJson(out, message);
}

int PgTestServer::Start(std::string* out) {
  started_ = true;
  return RunCommand({SourceDir() + "/tools/pg-test-server.sh", "start", dir_},
                    out);
}

int PgTestServer::StartStandbyOf(const PgTestServer& primary,
                                 std::string* out) {
  started_ = true;
  return RunCommand({SourceDir() + "/tools/pg-test-server.sh", "standby", dir_,
                     primary.dir()},
                    out);
}

int PgTestServer::Stop(std::string* out) {
  if (!started_) return 0;
  return RunCommand({SourceDir() + "/tools/pg-test-server.sh", "stop", dir_},
                    out);
}

std::vector<std::string> PgTestServer::Env() const {
  return {"PGHOST=" + dir_, "PGUSER=dxadmin",
          "PGPASSWORD=" + ReadFile(password_file())};
}

int PgTestServer::Run(const std::vector<std::string>& argv,
                      std::string* out) const {
  return RunCommand(argv, out, Env());
}

std::string PgTestServer::DatabaseConfig(const std::string& dbname) const {
  return "      - dbname: " + dbname + "\n        host: " + dir_ +
         "\n        user: dxadmin\n        password_file: " + password_file() +
         "\n";
}

}  // namespace dxbackup::testing
