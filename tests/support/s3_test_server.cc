#include "tests/support/s3_test_server.h"

#include <signal.h>

#include <filesystem>
#include <regex>

#include "tests/support/scaffold.h"
#include "tests/support/temp_dir.h"

namespace dxbackup::testing {
namespace {

std::string S3rverPath() {
  const char* env = std::getenv("DXBACKUP_S3RVER");
  return env != nullptr ? env : DXBACKUP_S3RVER;
}

}  // namespace

bool S3TestServerInstalled(std::string* missing) {
  if (!std::filesystem::exists(S3rverPath())) {
    *missing = "s3rver (" + S3rverPath() + ")";
  } else if (!std::filesystem::exists(
                 "/usr/lib/python3/dist-packages/botocore")) {
    *missing = "python3-botocore";
  } else if (!std::filesystem::exists("/usr/bin/node") &&
             !std::filesystem::exists("/usr/local/bin/node")) {
    *missing = "node";
  } else {
    return true;
  }
  *missing += ": run tools/install-deps.sh as root";
  return false;
}

S3TestServer::S3TestServer(std::string dir, S3TestServerOptions options)
    : dir_(std::move(dir)), options_(std::move(options)) {
  std::filesystem::create_directories(dir_);
  WriteFile(access_key_file(), access_key_ + "\n");
  WriteFile(secret_key_file(), secret_key_ + "\n");
  Start(0);
}

S3TestServer::~S3TestServer() = default;

void S3TestServer::Start(int port) {
  std::vector<std::string> argv = {"/usr/bin/python3",
                                   SourceDir() + "/tests/s3/s3_test_server.py",
                                   "--data-dir",
                                   dir_ + "/data",
                                   "--s3rver",
                                   S3rverPath(),
                                   "--bucket",
                                   options_.bucket,
                                   "--access-key-file",
                                   access_key_file(),
                                   "--secret-key-file",
                                   secret_key_file(),
                                   "--port",
                                   std::to_string(port)};
  if (options_.object_lock) argv.push_back("--object-lock");
  if (!options_.tls_cert.empty()) {
    argv.insert(argv.end(), {"--tls-cert", options_.tls_cert, "--tls-key",
                             options_.tls_key});
  }
  process_ = std::make_unique<ChildProcess>(
      argv, dir_ + "/server-" + std::to_string(restarts_) + ".log");
  const std::string line = process_->WaitForLine("listening on port");
  std::smatch m;
  port_ = std::regex_search(line, m, std::regex("port (\\d+)"))
              ? std::stoi(m[1])
              : 0;
}

std::string S3TestServer::Output() const {
  return process_ ? process_->Output() : "";
}

std::string S3TestServer::endpoint() const {
  return std::string(options_.tls_cert.empty() ? "http" : "https") +
         "://127.0.0.1:" + std::to_string(port_);
}

std::string S3TestServer::Control(const std::string& method,
                                  const std::string& what) {
  std::string out;
  std::vector<std::string> argv = {"curl", "-sS", "--max-time",
                                   "150",  "-X",  method};
  if (!options_.tls_cert.empty()) argv.insert(argv.end(), {"-k"});
  argv.push_back(endpoint() + "/__control/" + what);
  RunCommand(argv, &out);
  return out;
}

void S3TestServer::Fail(int status, int count, const std::string& op) {
  Control("POST", "fail?status=" + std::to_string(status) + "&count=" +
                      std::to_string(count) + (op.empty() ? "" : "&op=" + op));
}

void S3TestServer::FailAfter(int status, int count, const std::string& op) {
  Control("POST", "fail-after?status=" + std::to_string(status) +
                      "&count=" + std::to_string(count) + "&op=" + op);
}

void S3TestServer::Hold(const std::string& op) {
  Control("POST", "hold?op=" + op);
}

bool S3TestServer::WaitHeld() {
  std::string out;
  int code = RunCommand({"curl", "-sS", "-f", "--max-time", "150", "-k",
                         endpoint() + "/__control/held"},
                        &out);
  return code == 0;
}

std::string S3TestServer::Requests() { return Control("GET", "requests"); }

int S3TestServer::Count(const std::string& op, int status) {
  const std::string records = Requests();
  const std::regex entry("\\{\"op\": \"" + (op.empty() ? "[^\"]*" : op) +
                         "\"[^}]*\"status\": (\\d+)[^}]*\\}");
  int n = 0;
  for (auto it = std::sregex_iterator(records.begin(), records.end(), entry);
       it != std::sregex_iterator(); ++it) {
    if (status == 0 || std::stoi((*it)[1]) == status) ++n;
  }
  return n;
}

std::string S3TestServer::Violations() { return Control("GET", "violations"); }

int S3TestServer::Aws(const std::vector<std::string>& args,
                      std::string* output) {
  std::vector<std::string> argv = {"/usr/bin/aws", "--endpoint-url",
                                   endpoint()};
  if (!options_.tls_cert.empty()) {
    argv.insert(argv.end(), {"--ca-bundle", options_.tls_ca});
  }
  argv.push_back("s3");
  argv.insert(argv.end(), args.begin(), args.end());
  if (args.size() > 0 && args[0] == "cp") argv.push_back("--only-show-errors");
  return RunCommand(
      argv, output,
      {"AWS_ACCESS_KEY_ID=" + access_key_,
       "AWS_SECRET_ACCESS_KEY=" + secret_key_, "AWS_DEFAULT_REGION=us-east-1",
       "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
       "HOME=" + dir_});
}

void S3TestServer::Kill() {
  if (!process_) return;
  process_->Signal(SIGKILL);
  process_->Wait();
}

void S3TestServer::Restart() {
  const int port = port_;
  Kill();
  ++restarts_;
  Start(port);
}

}  // namespace dxbackup::testing
