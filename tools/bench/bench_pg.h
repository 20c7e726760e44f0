// A PostgreSQL of a benchmark's own: a new cluster in a directory, started
// by tools/pg-test-server.sh (listening only on a Unix socket there,
// superuser dxadmin, the password in DIR/password) and stopped by Stop()
// or when the BenchPostgres goes (a process that std::exit()s calls Stop()
// first: exit runs no destructors of locals).
//
//   auto pg = bench::BenchPostgres::Start(script, dir + "/pg");
//   absl::StatusOr<v1::Database> db = (*pg)->CreateDatabase("catalog");
//
// Header-only; thread-compatible (a bench drives it from one thread).
#ifndef DXBACKUP_TOOLS_BENCH_BENCH_PG_H_
#define DXBACKUP_TOOLS_BENCH_BENCH_PG_H_

#include <sys/stat.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/process.h"
#include "dxbackup/v1/config.pb.h"
#include "scheduler/postgres/pg_connection.h"
#include "tools/bench/bench_util.h"

namespace dxbackup::bench {

class BenchPostgres {
 public:
  // Creates and starts a cluster in `dir` (which must not hold one that
  // runs) with `script`, tools/pg-test-server.sh. The parent of `dir` is
  // made mode 0755: run as root, the script's server runs as the postgres
  // user, who must enter it. The error carries the script's output.
  static absl::StatusOr<std::unique_ptr<BenchPostgres>> Start(
      const std::string& script, const std::string& dir) {
    const std::filesystem::path parent =
        std::filesystem::path(dir).parent_path();
    if (!parent.empty()) chmod(parent.c_str(), 0755);
    std::unique_ptr<BenchPostgres> pg(new BenchPostgres(script, dir));
    pg->running_ = true;  // a start that failed half-way is stopped too
    absl::Status s = pg->RunScript("start");
    if (!s.ok()) return s;
    return pg;
  }

  ~BenchPostgres() { Stop().IgnoreError(); }
  BenchPostgres(const BenchPostgres&) = delete;
  BenchPostgres& operator=(const BenchPostgres&) = delete;

  // Stops the server (fast shutdown: sessions are ended); again is a no-op.
  absl::Status Stop() {
    if (!running_) return absl::OkStatus();
    running_ = false;
    return RunScript("stop");
  }

  // Creates the empty database `name`: its connection fields.
  absl::StatusOr<v1::Database> CreateDatabase(const std::string& name) {
    v1::Database db = Server(scheduler::kMaintenanceDb);
    auto conn = Connect(db);
    if (!conn.ok()) return conn.status();
    absl::Status s =
        (*conn)->Execute("CREATE DATABASE " + (*conn)->QuoteIdentifier(name));
    if (!s.ok()) return s;
    db.set_dbname(name);
    return db;
  }

  // The rows of `sql` (no parameters) run in `db`, as text.
  static absl::StatusOr<std::vector<std::vector<std::string>>> Query(
      const v1::Database& db, const std::string& sql) {
    auto conn = Connect(db);
    if (!conn.ok()) return conn.status();
    return (*conn)->Query(sql);
  }

  // The median time of `runs` round trips of `SELECT 1` on one connection
  // to `db`, in milliseconds: the floor under any query a client sends.
  static absl::StatusOr<double> RoundTripMs(const v1::Database& db, int runs) {
    auto conn = Connect(db);
    if (!conn.ok()) return conn.status();
    absl::Status s;
    const double ms = MedianMs(runs, [&] {
      if (s.ok()) s = (*conn)->Query("SELECT 1").status();
    });
    if (!s.ok()) return s;
    return ms;
  }

  const std::string& dir() const { return dir_; }

 private:
  BenchPostgres(std::string script, std::string dir)
      : script_(std::move(script)), dir_(std::move(dir)) {}

  // The server's connection fields for database `dbname`.
  v1::Database Server(const std::string& dbname) const {
    v1::Database db;
    db.set_host(dir_);
    db.set_user("dxadmin");
    db.set_dbname(dbname);
    db.set_password_file(dir_ + "/password");
    return db;
  }

  static absl::StatusOr<std::unique_ptr<scheduler::PgConnection>> Connect(
      const v1::Database& db) {
    absl::StatusOr<std::string> password = scheduler::ReadPassword(db);
    if (!password.ok()) return password.status();
    return scheduler::PgConnection::Open(db, *password);
  }

  // `script command dir`; an error unless it exits 0.
  absl::Status RunScript(const std::string& command) const {
    common::ProcessSpec spec;
    spec.argv = {script_, command, dir_};
    absl::StatusOr<common::ProcessResult> ran = common::RunProcess(spec);
    if (!ran.ok()) return ran.status();
    if (ran->exit_code != 0) {
      return absl::UnavailableError(absl::StrCat(
          script_, " ", command, " ", dir_, " exited ", ran->exit_code, ": ",
          ran->stdout_text, ran->stderr_text));
    }
    return absl::OkStatus();
  }

  const std::string script_;
  const std::string dir_;
  bool running_ = false;
};

}  // namespace dxbackup::bench

#endif  // DXBACKUP_TOOLS_BENCH_BENCH_PG_H_
