#include "scheduler/postgres/pg_cluster.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/process.h"
#include "scheduler/postgres/pg_connection.h"
#include "scheduler/postgres/pg_dump_runner.h"
#include "scheduler/postgres/pg_tools.h"
#include "scheduler/store/artifact_pipe.h"

namespace dxbackup::scheduler {
namespace {

// The database the entry's connections go to.
std::string ConnectDb(const v1::Database& entry) {
  return entry.dbname().empty() ? "postgres" : entry.dbname();
}

// "already exists" for a role or a tablespace (duplicate_object).
constexpr char kDuplicateObject[] = "42710";

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

std::string WithoutRoleAttributes(const std::string& script,
                                  const std::string& role,
                                  const std::string& quoted_role) {
  std::string out;
  out.reserve(script.size());
  const std::string plain = absl::StrCat("ALTER ROLE ", role, " WITH ");
  const std::string quoted = absl::StrCat("ALTER ROLE ", quoted_role, " WITH ");
  for (absl::string_view line : absl::StrSplit(script, '\n')) {
    if (absl::StartsWith(line, plain) || absl::StartsWith(line, quoted)) {
      out +=
          "-- (the restoring role's attributes and password left as "
          "they are)\n";
      continue;
    }
    absl::StrAppend(&out, line, "\n");
  }
  // Each piece got a newline; the last piece is what followed the last
  // newline (nothing, when the script ends with one).
  if (!out.empty()) out.pop_back();
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
      "datistemplate ORDER BY datname");
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
  spec.argv = {tool->path, "--globals-only", "--no-password"};
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

std::string UnexpectedPsqlErrors(const std::string& stderr_text) {
  std::string out;
  for (absl::string_view line : absl::StrSplit(stderr_text, '\n')) {
    // "psql:<stdin>:12: ERROR:  42710: role \"dx\" already exists"
    const size_t at = line.find("ERROR:");
    if (at == absl::string_view::npos) continue;
    absl::string_view rest =
        absl::StripLeadingAsciiWhitespace(line.substr(at + 6));
    if (absl::StartsWith(rest, absl::StrCat(kDuplicateObject, ":"))) continue;
    absl::StrAppend(&out, out.empty() ? "" : "\n", line);
  }
  return out;
}

absl::Status RestoreGlobals(const v1::Database& entry, ArtifactReader& sql,
                            std::string* log) {
  absl::StatusOr<std::string> password = ReadPassword(entry);
  if (!password.ok()) return password.status();
  int server_version = 0;
  std::string role, quoted_role;  // the role the restore connects as
  {
    auto conn = PgConnection::Open(entry, *password, ConnectDb(entry));
    if (!conn.ok()) return conn.status();
    server_version = (*conn)->ServerVersion();
    auto user = (*conn)->Query("SELECT current_user");
    if (!user.ok()) return user.status();
    role = (*user)[0][0];
    quoted_role = (*conn)->QuoteIdentifier(role);
  }
  // The script whole, less the connecting role's own ALTER ROLE: its
  // password there is the one of the dump's day, and the configured
  // password_file (today's) must still work for the databases after.
  std::string script;
  absl::Status read = ForEachChunk(sql, [&](const char* data, size_t n) {
    if (script.size() + n > kMaxGlobalsBytes) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "the globals script is larger than ", kMaxGlobalsBytes >> 20,
          " MiB; restore it by hand with psql"));
    }
    script.append(data, n);
    return absl::OkStatus();
  });
  if (!read.ok()) return read;
  TextReader filtered(WithoutRoleAttributes(script, role, quoted_role));
  absl::StatusOr<PgTool> tool = FindPgTool(
      "psql", server_version, PgToolBeside(entry.pg_dump_path(), "psql"));
  if (!tool.ok()) return tool.status();
  common::ProcessSpec spec;
  // Not ON_ERROR_STOP: the script creates roles that may exist already
  // (the connecting one always does); the errors are sorted out after.
  spec.argv = {tool->path,           "--no-password",
               "--no-psqlrc",        "--quiet",
               "--output=/dev/null", "--set=VERBOSITY=verbose",
               "--dbname",           DbnameOnlyConninfo(ConnectDb(entry))};
  spec.env = PgEnvironment(entry, *password, ConnectDb(entry));
  auto result = RunProcessReading(spec, filtered);
  if (!result.ok()) return result.status();
  *log = result->stderr_text;
  const std::string errors = UnexpectedPsqlErrors(result->stderr_text);
  if (result->exit_code != 0 || !errors.empty()) {
    return absl::InternalError(absl::StrCat(
        "psql ", tool->version, " restoring the roles and grants of ",
        DescribeServer(entry), " exited with status ", result->exit_code,
        errors.empty() ? "" : ": ", errors));
  }
  return absl::OkStatus();
}

}  // namespace dxbackup::scheduler
