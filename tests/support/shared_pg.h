// A PostgreSQL of this test process's own, started at its first use and
// stopped as the process exits, in which each caller gets a new database:
// for tests that run a catalog (or anything else) against a real server
// without one cluster each.
//
//   absl::StatusOr<v1::Database> db = testing::NewTestDatabase();
//
// Thread-compatible: tests call it from their main thread.
#ifndef DXBACKUP_TESTS_SUPPORT_SHARED_PG_H_
#define DXBACKUP_TESTS_SUPPORT_SHARED_PG_H_

#include <sys/stat.h>

#include <string>

#include "absl/status/statusor.h"
#include "dxbackup/v1/config.pb.h"
#include "tests/support/scaffold.h"
#include "tests/support/temp_dir.h"

namespace dxbackup::testing {

class SharedPg {
 public:
  static SharedPg& Get() {
    static SharedPg pg;  // its server stops as the process exits
    return pg;
  }

  // A new, empty database: its connection fields (superuser dxadmin).
  absl::StatusOr<v1::Database> NewDatabase() {
    if (!started_) {
      return absl::UnavailableError("the test's PostgreSQL did not start: " +
                                    error_);
    }
    const std::string name = "test_" + std::to_string(++databases_);
    std::string out;
    if (server_.Run({"createdb", name}, &out) != 0) {
      return absl::UnavailableError("createdb " + name + ": " + out);
    }
    v1::Database db;
    db.set_host(server_.dir());
    db.set_user("dxadmin");
    db.set_dbname(name);
    db.set_password_file(server_.password_file());
    return db;
  }

  const PgTestServer& server() const { return server_; }

 private:
  SharedPg() : server_(dir_ / "pg") {
    chmod(dir_.path().c_str(), 0755);  // the postgres user enters it
    std::string out;
    started_ = server_.Start(&out) == 0;
    if (!started_) error_ = out;
  }

  TempDir dir_;
  PgTestServer server_;
  bool started_ = false;
  std::string error_;
  int databases_ = 0;
};

inline absl::StatusOr<v1::Database> NewTestDatabase() {
  return SharedPg::Get().NewDatabase();
}

}  // namespace dxbackup::testing

#endif  // DXBACKUP_TESTS_SUPPORT_SHARED_PG_H_
