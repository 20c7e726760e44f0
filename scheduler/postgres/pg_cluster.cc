#include "scheduler/postgres/pg_cluster.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/process.h"
#include "scheduler/postgres/pg_connection.h"
#include "scheduler/postgres/pg_dump_runner.h"
#include "scheduler/postgres/pg_tools.h"
#include "scheduler/postgres/sql_script.h"
#include "scheduler/store/artifact_pipe.h"

namespace dxbackup::scheduler {
namespace {

// The database the entry's connections go to.
std::string ConnectDb(const v1::Database& entry) {
  return entry.dbname().empty() ? kMaintenanceDb : entry.dbname();
}

// A globals script is a few statements per role: read whole, up to this.
constexpr size_t kMaxGlobalsBytes = 256u << 20;

// Hands on a string's bytes.
class TextReader : public ArtifactReader {
 public:
  explicit TextReader(std::string text) : text_(std::move(text)) {}
  absl::StatusOr<size_t> Read(void* buffer, size_t size) override {
    const size_t n = std::min(size, text_.size() - at_);
    text_.copy(static_cast<char*>(buffer), n, at_);
    at_ += n;
    return n;
  }

 private:
  std::string text_;
  size_t at_ = 0;
};

}  // namespace

std::string GlobalsToRestore(absl::string_view script,
                             const std::set<std::string>& existing_roles) {
  std::string out;
  for (const std::string& statement : SplitSqlScript(script)) {
    const std::string role = RoleOfStatement(statement);
    if (!role.empty() && existing_roles.count(role) != 0) continue;
    out += statement;
  }
  return out;
}

std::string DescribeServer(const v1::Database& entry) {
  std::string out = "every database of";
  if (!entry.host().empty()) absl::StrAppend(&out, " host=", entry.host());
  if (entry.port() != 0) absl::StrAppend(&out, " port=", entry.port());
  if (!entry.user().empty()) absl::StrAppend(&out, " user=", entry.user());
  return out;
}

absl::StatusOr<std::vector<std::string>> ListServerDatabases(
    const v1::Database& entry) {
  absl::StatusOr<std::string> password = ReadPassword(entry);
  if (!password.ok()) return password.status();
  auto conn = PgConnection::Open(entry, *password, ConnectDb(entry));
  if (!conn.ok()) return conn.status();
  auto rows = (*conn)->Query(
      "SELECT datname FROM pg_database WHERE datallowconn AND NOT "
      "datistemplate AND datconnlimit <> -2 AND datname NOT LIKE "
      "'dxdrill\\_%' ORDER BY datname");
  if (!rows.ok()) return rows.status();
  std::vector<std::string> names;
  for (const std::vector<std::string>& row : *rows) names.push_back(row[0]);
  return names;
}

absl::Status DumpGlobals(const v1::Database& entry, PendingArtifact* out,
                         std::string* log, int* server_version) {
  absl::StatusOr<std::string> password = ReadPassword(entry);
  if (!password.ok()) return password.status();
  v1::Database described = entry;
  described.set_dbname(ConnectDb(entry));
  {
    auto conn = PgConnection::Open(entry, *password, ConnectDb(entry));
    if (!conn.ok()) return conn.status();
    *server_version = (*conn)->ServerVersion();
    if (absl::Status s = RefuseStandby(**conn, described); !s.ok()) return s;
  }
  absl::StatusOr<PgTool> tool =
      FindPgTool("pg_dumpall", *server_version,
                 PgToolBeside(entry.pg_dump_path(), "pg_dumpall"));
  if (!tool.ok()) return tool.status();
  common::ProcessSpec spec;
  // Tablespaces are left out: their directories belong to the old
  // server's machine, and a restore would stop at the first that is
  // missing. (A database that used one needs it created by hand.)
  spec.argv = {tool->path, "--globals-only", "--no-tablespaces",
               "--no-password", "--database=" + ConnectDb(entry)};
  spec.env = PgEnvironment(entry, *password, ConnectDb(entry));
  auto dumped = RunProcessInto(
      spec, entry.compression_level() > 0 ? entry.compression_level() : 1, out);
  if (!dumped.ok()) return dumped.status();
  *log = dumped->stderr_text;
  if (dumped->exit_code != 0) {
    return absl::InternalError(
        absl::StrCat("pg_dumpall ", tool->version, " --globals-only of ",
                     DescribeServer(entry), " exited with status ",
                     dumped->exit_code, ": ", *log,
                     " (it reads every role, pg_authid included: connect as a "
                     "superuser)"));
  }
  if (dumped->bytes == 0) {
    return absl::DataLossError(absl::StrCat("pg_dumpall --globals-only of ",
                                            DescribeServer(entry),
                                            " produced no output"));
  }
  return absl::OkStatus();
}

absl::Status RestoreGlobals(const v1::Database& entry, ArtifactReader& sql,
                            std::string* log) {
  absl::StatusOr<std::string> password = ReadPassword(entry);
  if (!password.ok()) return password.status();
  int server_version = 0;
  std::set<std::string> existing;  // the server's roles before
  {
    auto conn = PgConnection::Open(entry, *password, kMaintenanceDb);
    if (!conn.ok()) return conn.status();
    server_version = (*conn)->ServerVersion();
    auto roles = (*conn)->Query("SELECT rolname FROM pg_roles");
    if (!roles.ok()) return roles.status();
    for (const std::vector<std::string>& row : *roles) existing.insert(row[0]);
  }
  std::string script;
  absl::Status read = ForEachChunk(sql, [&](const char* data, size_t n) {
    if (script.size() + n > kMaxGlobalsBytes) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "the roles' script is larger than ", kMaxGlobalsBytes >> 20,
          " MiB; restore it by hand with psql (RESTORE.txt of an export)"));
    }
    script.append(data, n);
    return absl::OkStatus();
  });
  if (!read.ok()) return read;
  // Roles the server has keep their passwords and attributes: the
  // restoring one's password_file must keep working, and live
  // applications' (and replication's) credentials are not rolled back.
  TextReader missing(GlobalsToRestore(script, existing));
  absl::StatusOr<PgTool> tool = FindPgTool(
      "psql", server_version, PgToolBeside(entry.pg_dump_path(), "psql"));
  if (!tool.ok()) return tool.status();
  common::ProcessSpec spec;
  // All or nothing, stopped at the first error whatever language the
  // server speaks: its exit status says how it went.
  spec.argv = {tool->path,
               "--no-password",
               "--no-psqlrc",
               "--quiet",
               "--output=/dev/null",
               "--single-transaction",
               "--set=ON_ERROR_STOP=1",
               "--dbname",
               DbnameOnlyConninfo(kMaintenanceDb)};
  spec.env = PgEnvironment(entry, *password, kMaintenanceDb);
  auto result = RunProcessReading(spec, missing);
  if (!result.ok()) return result.status();
  *log = result->stderr_text;
  if (result->exit_code != 0) {
    return absl::InternalError(absl::StrCat(
        "psql ", tool->version, " restoring the roles of ",
        DescribeServer(entry), " exited with status ", result->exit_code, ": ",
        result->stderr_text,
        "; no role was changed (one transaction), and nothing else was "
        "restored"));
  }
  return absl::OkStatus();
}

}  // namespace dxbackup::scheduler
