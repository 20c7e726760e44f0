// S3TestServer runs the S3 API server of the tests (tests/s3/
// s3_test_server.py: s3rver behind a proxy that checks every SigV4
// signature with botocore, records every request, and adds multipart abort
// and listing, Object Lock and faults on demand) on loopback, in a
// temporary data directory, with one bucket and one key pair written to
// files (as a Kubernetes Secret would mount them).
//
//   S3TestServer s3(dir / "s3");
//   ASSERT_TRUE(s3.running()) << s3.Output();
//   ... endpoint(), bucket(), access_key_file(), secret_key_file() ...
//   s3.Fail(503, 3);                       // the next 3 requests: SlowDown
//   std::string log = s3.Requests();       // JSON: [{"op": "UploadPart", …}]
//
// Kill() stops it the hard way; Restart() brings it back on the same port
// and data (objects, open multipart uploads, locks). Not thread-safe.
#ifndef DXBACKUP_TESTS_SUPPORT_S3_TEST_SERVER_H_
#define DXBACKUP_TESTS_SUPPORT_S3_TEST_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "tests/support/child_process.h"

namespace dxbackup::testing {

struct S3TestServerOptions {
  std::string bucket = "dx-backups";
  bool object_lock = false;
  std::string tls_cert;  // PEM files: serve HTTPS instead of HTTP
  std::string tls_key;
  std::string tls_ca;  // the CA that signed tls_cert (for awscli)
};

class S3TestServer {
 public:
  explicit S3TestServer(std::string dir, S3TestServerOptions options = {});
  ~S3TestServer();

  bool running() const { return port_ != 0; }
  std::string Output() const;
  int port() const { return port_; }
  // "http://127.0.0.1:PORT" (https with TLS).
  std::string endpoint() const;
  const std::string& bucket() const { return options_.bucket; }
  const std::string& access_key() const { return access_key_; }
  const std::string& secret_key() const { return secret_key_; }
  std::string access_key_file() const { return dir_ + "/access-key"; }
  std::string secret_key_file() const { return dir_ + "/secret-key"; }

  // The next `count` requests (of `op` only, if given: "UploadPart") are
  // answered with HTTP `status` and the matching S3 error.
  void Fail(int status, int count, const std::string& op = "");
  // The next `count` requests of `op` are carried out, but answered with
  // HTTP `status` (an answer lost after the work was done).
  void FailAfter(int status, int count, const std::string& op);
  // The next request of `op` is never answered; WaitHeld() returns once
  // it arrived (false after two minutes without it).
  void Hold(const std::string& op);
  bool WaitHeld();
  // Every request so far, as JSON records (op, method, key, query, status,
  // error, lock headers).
  std::string Requests();
  // How many recorded requests were `op` ("": any) with HTTP `status`
  // (0: any).
  int Count(const std::string& op, int status = 0);
  // Object Lock violations seen (overwrites, early deletes), as JSON.
  std::string Violations();

  // `aws --endpoint-url … s3 <args>` (Debian's awscli, an independent
  // client) with this server's credentials; returns its exit code.
  int Aws(const std::vector<std::string>& args, std::string* output);

  void Kill();
  void Restart();

 private:
  void Start(int port);
  std::string Control(const std::string& method, const std::string& what);

  std::string dir_;
  S3TestServerOptions options_;
  std::string access_key_ = "dxbackup-test";
  std::string secret_key_ = "s3cr3t-for-tests-only";
  std::unique_ptr<ChildProcess> process_;
  int port_ = 0;
  int restarts_ = 0;
};

// Whether the S3 test server's parts (node, s3rver, python3-botocore) are
// installed; tools/install-deps.sh installs them.
bool S3TestServerInstalled(std::string* missing);

}  // namespace dxbackup::testing

#endif  // DXBACKUP_TESTS_SUPPORT_S3_TEST_SERVER_H_
