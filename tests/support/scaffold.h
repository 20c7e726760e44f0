// The scaffold every integration test stands on: the real binaries of the
// build (build/bin) run as child processes, and a throwaway PostgreSQL.
//
//   SchedulerProcess scheduler(SchedulerIn(dir.path(), "policies: []\n"));
//   ASSERT_FALSE(scheduler.address().empty()) << scheduler.Output();
//   AgentProcess agent(AgentOf(scheduler.address(), "ns", "dx", "dx-core-0",
//                              "core", {"data=" + volume},
//                              dir / "agent.log"));
//   ASSERT_TRUE(agent.registered()) << agent.Output();
//   CliClient cli(scheduler.address());
//   EXPECT_EQ(cli.Run({"backup", "--namespace", "ns", "--release", "dx"},
//                     &out), 0) << out;
//   v1::ListSetsResponse sets = cli.Json<v1::ListSetsResponse>({"sets"});
//
// Both daemons are ChildProcesses: everything ChildProcess checks (exit 0
// on SIGTERM, no sanitizer report) holds for them too. Plaintext on
// loopback unless TLS flags are given.
#ifndef DXBACKUP_TESTS_SUPPORT_SCAFFOLD_H_
#define DXBACKUP_TESTS_SUPPORT_SCAFFOLD_H_

#include <google/protobuf/message.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "dxbackup/v1/admin.pb.h"
#include "tests/support/child_process.h"

namespace dxbackup::testing {

// A loopback port nothing listens on now (bound, read, released): for
// processes that must share one address, as replicas behind a Service.
int UnusedLoopbackPort();

// build/bin, where the binaries under test are.
std::string BinDir();
// The repository (tools/pg-test-server.sh, tests/fixtures).
std::string SourceDir();

struct SchedulerOptions {
  // The test's directory: data in dir/data, log in dir/scheduler.log and,
  // with `config`, the config in dir/scheduler.yaml (unless these are set).
  std::string dir;
  std::string config;       // YAML text, written to config_file
  std::string config_file;  // default dir/scheduler.yaml
  std::string data_dir;     // default dir/data
  std::string log;          // default dir/scheduler.log
  std::string listen = "127.0.0.1:0";
  std::string host = "127.0.0.1";  // the address() host (TLS: a cert name)
  std::vector<std::string> tls;    // TLS flags; empty: --insecure-loopback
  std::vector<std::string> flags;  // more flags, appended
  // The constructor waits for "listening on port"; false: the caller does
  // (AwaitListening), e.g. for a standby that listens only once active.
  bool await_listening = true;
};

// The options of a plaintext loopback scheduler in `dir`, with `config`
// (YAML text) written to dir/scheduler.yaml unless it is empty (then the
// file must be there).
inline SchedulerOptions SchedulerIn(const std::string& dir,
                                    const std::string& config = "") {
  SchedulerOptions o;
  o.dir = dir;
  o.config = config;
  return o;
}

// A dxbackup-scheduler, waited for until it prints "listening on port N".
class SchedulerProcess : public ChildProcess {
 public:
  explicit SchedulerProcess(SchedulerOptions options);

  // "HOST:PORT" once it listened; "" if it never did (see Output()).
  const std::string& address() const { return address_; }
  // Waits for "listening on port N" (up to `timeout`) and sets address().
  const std::string& AwaitListening(
      std::chrono::seconds timeout = std::chrono::seconds(60));
  // The port of "metrics on port N" (with --metrics-listen), waiting for
  // the line; 0 if it never came.
  int WaitForMetricsPort();
  // The port of "web dashboard on port N" (with --web-listen), likewise.
  int WaitForWebPort();
  // The options of a scheduler that takes over from this one (stopped
  // first): same data dir and config, on the address this one listened on
  // (when it did), logging to `log`.
  SchedulerOptions Restarted(const std::string& log) const;
  const SchedulerOptions& options() const { return options_; }

 private:
  SchedulerOptions options_;
  std::string address_;
};

struct AgentOptions {
  std::string scheduler;  // HOST:PORT
  std::string namespace_, release, pod, component;
  std::vector<std::string> volumes;  // NAME=PATH
  std::string log;
  std::vector<std::string> tls;    // TLS flags; empty: --insecure-loopback
  std::vector<std::string> flags;  // more flags, appended
  // Wait for "registered with the scheduler" before the constructor
  // returns; false leaves it to WaitRegistered() (start many, then wait).
  bool wait = true;
};

// The options of an agent of namespace/release/pod.
inline AgentOptions AgentOf(const std::string& scheduler,
                            const std::string& namespace_,
                            const std::string& release, const std::string& pod,
                            const std::string& component,
                            const std::vector<std::string>& volumes,
                            const std::string& log) {
  AgentOptions o;
  o.scheduler = scheduler;
  o.namespace_ = namespace_;
  o.release = release;
  o.pod = pod;
  o.component = component;
  o.volumes = volumes;
  o.log = log;
  return o;
}

// A dxbackup-agent.
class AgentProcess : public ChildProcess {
 public:
  explicit AgentProcess(AgentOptions options);

  // Waits for its `count`-th "registered with the scheduler"; true if it
  // came.
  bool WaitRegistered(int count = 1);
  // The first registration came (after a wait, by the constructor or by
  // WaitRegistered()).
  bool registered() const { return registered_; }

 private:
  bool registered_ = false;
};

// JSON (the CLI's --json) into a message, as a gtest assertion that shows
// the text when it does not parse.
::testing::AssertionResult ParseJson(const std::string& json,
                                     google::protobuf::Message* message);

// The dxbackup CLI against one scheduler.
class CliClient {
 public:
  // `flags` go before each verb; empty: --insecure-loopback.
  explicit CliClient(std::string address, std::vector<std::string> flags = {});

  // dxbackup --server ADDRESS FLAGS ARGS: its exit code; stdout and
  // stderr in *out.
  int Run(const std::vector<std::string>& args, std::string* out) const;
  // The same command as a running child process (to signal or race it).
  std::unique_ptr<ChildProcess> Start(const std::vector<std::string>& args,
                                      const std::string& log) const;
  // `--json ARGS` exits 0 and its output parses into *message.
  ::testing::AssertionResult JsonInto(const std::vector<std::string>& args,
                                      google::protobuf::Message* message) const;
  // JsonInto as a non-fatal expectation; the message (default if failed).
  template <typename Message>
  Message Json(const std::vector<std::string>& args) const {
    Message m;
    EXPECT_TRUE(JsonInto(args, &m));
    return m;
  }

  // `backup --namespace NS --release RELEASE` exits `want_exit` (its
  // output in *out); the release's newest set then (empty if none).
  v1::BackupSet Backup(const std::string& ns, const std::string& release,
                       int want_exit, std::string* out) const;

  const std::string& address() const { return address_; }

 private:
  std::vector<std::string> Argv(const std::vector<std::string>& args) const;

  std::string address_;
  std::vector<std::string> flags_;
};

// A PostgreSQL of the test's own (tools/pg-test-server.sh): a new cluster
// in `dir`, listening only on a socket there, superuser dxadmin with the
// password in dir/password (its parent directory must let the postgres
// user in when the tests run as root). The destructor stops it.
class PgTestServer {
 public:
  explicit PgTestServer(std::string dir) : dir_(std::move(dir)) {}
  ~PgTestServer() { Stop(nullptr); }
  PgTestServer(const PgTestServer&) = delete;
  PgTestServer& operator=(const PgTestServer&) = delete;

  // Starts the cluster (created on the first start); the script's exit
  // code, its output in *out.
  int Start(std::string* out);
  // Starts this server as a streaming standby of `primary` (created from
  // a base backup of it on the first start).
  int StartStandbyOf(const PgTestServer& primary, std::string* out);
  int Stop(std::string* out);

  const std::string& dir() const { return dir_; }  // also PGHOST
  std::string password_file() const { return dir_ + "/password"; }
  // PGHOST, PGUSER and PGPASSWORD for psql, createdb, pg_dump and co.
  std::vector<std::string> Env() const;
  // Runs a PostgreSQL client with Env().
  int Run(const std::vector<std::string>& argv, std::string* out) const;
  // A `databases:` entry of a scheduler config for `dbname` on this
  // server, indented as under a deployment.
  std::string DatabaseConfig(const std::string& dbname) const;

 private:
  std::string dir_;
  bool started_ = false;
};

}  // namespace dxbackup::testing

#endif  // DXBACKUP_TESTS_SUPPORT_SCAFFOLD_H_
