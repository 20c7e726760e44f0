#include "scheduler/postgres/pg_connection.h"

#include <libpq-fe.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/secret_file.h"

namespace dxbackup::scheduler {

absl::StatusOr<std::string> ReadPassword(const v1::Database& db) {
  if (db.password_file().empty()) return std::string();
  absl::StatusOr<std::string> password =
      common::ReadSecretFile(db.password_file());
  if (!password.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read password_file ", db.password_file(),
                     db.name().empty() ? "" : " of database " + db.name(), ": ",
                     password.status().message()));
  }
  return password;
}

namespace {

// libpq connection keywords for `db` connecting to `dbname`.
std::map<std::string, std::string> ConnectionKeywords(
    const v1::Database& db, const std::string& password,
    const std::string& dbname) {
  std::map<std::string, std::string> params;
  if (!db.host().empty()) params["host"] = db.host();
  if (db.port() != 0) params["port"] = std::to_string(db.port());
  if (!db.user().empty()) params["user"] = db.user();
  params["dbname"] = dbname.empty() ? db.dbname() : dbname;
  if (!password.empty()) params["password"] = password;
  if (!db.sslmode().empty()) params["sslmode"] = db.sslmode();
  if (!db.ca_file().empty()) params["sslrootcert"] = db.ca_file();
  params["connect_timeout"] = "15";
  return params;
}

// TCP keepalive probes, the same from either end: first after 10 s idle,
// then every 5 s, the peer given up after 3 unanswered.
constexpr char kProbeIdle[] = "10";
constexpr char kProbeInterval[] = "5";
constexpr char kProbeCount[] = "3";

// What only the scheduler's own connections get (not the tools'
// environment): a peer that vanished (its host lost, the network cut) is
// found within about half a minute rather than TCP's quarter of an hour.
void AddDeadPeerDetection(std::map<std::string, std::string>* params) {
  (*params)["keepalives"] = "1";
  (*params)["keepalives_idle"] = kProbeIdle;
  (*params)["keepalives_interval"] = kProbeInterval;
  (*params)["keepalives_count"] = kProbeCount;
  (*params)["tcp_user_timeout"] = "30000";
}

}  // namespace

std::map<std::string, std::string> PgEnvironment(const v1::Database& db,
                                                 const std::string& password,
                                                 const std::string& dbname) {
  static const std::map<std::string, std::string> kVariables = {
      {"host", "PGHOST"},
      {"port", "PGPORT"},
      {"user", "PGUSER"},
      {"dbname", "PGDATABASE"},
      {"password", "PGPASSWORD"},
      {"sslmode", "PGSSLMODE"},
      {"sslrootcert", "PGSSLROOTCERT"},
      {"connect_timeout", "PGCONNECT_TIMEOUT"}};
  std::map<std::string, std::string> env;
  for (const auto& [keyword, value] :
       ConnectionKeywords(db, password, dbname)) {
    env[kVariables.at(keyword)] = value;
  }
  return env;
}

std::string DescribeDatabase(const v1::Database& db) {
  std::string out = absl::StrCat("dbname=", db.dbname());
  if (!db.host().empty()) absl::StrAppend(&out, " host=", db.host());
  if (db.port() != 0) absl::StrAppend(&out, " port=", db.port());
  if (!db.user().empty()) absl::StrAppend(&out, " user=", db.user());
  return out;
}

std::string DbnameOnlyConninfo(const std::string& dbname) {
  std::string out = "dbname='";
  for (char c : dbname) {
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

void AppendCopyField(std::string_view value, std::string* out) {
  for (char c : value) {
    switch (c) {
      case '\\':
        out->append("\\\\");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      default:
        out->push_back(c);
    }
  }
}

absl::StatusOr<std::unique_ptr<PgConnection>> PgConnection::Open(
    const v1::Database& db, const std::string& password,
    const std::string& dbname) {
  std::map<std::string, std::string> params =
      ConnectionKeywords(db, password, dbname);
  params["application_name"] = "dxbackup-scheduler";
  AddDeadPeerDetection(&params);
  std::vector<const char*> keys, values;
  for (const auto& [k, v] : params) {
    keys.push_back(k.c_str());
    values.push_back(v.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* conn = PQconnectdbParams(keys.data(), values.data(), 0);
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
    std::string err = conn ? PQerrorMessage(conn) : "out of memory";
    PQfinish(conn);
    absl::StripTrailingAsciiWhitespace(&err);
    v1::Database described = db;
    described.set_dbname(params["dbname"]);
    return absl::UnavailableError(absl::StrCat("cannot connect to PostgreSQL (",
                                               DescribeDatabase(described),
                                               "): ", err));
  }
  return std::unique_ptr<PgConnection>(new PgConnection(conn));
}

PgConnection::~PgConnection() { PQfinish(conn_); }

int PgConnection::ServerVersion() const { return PQserverVersion(conn_); }

std::string PgConnection::QuoteIdentifier(const std::string& name) const {
  char* quoted = PQescapeIdentifier(conn_, name.data(), name.size());
  std::string out = quoted ? quoted : "";
  PQfreemem(quoted);
  return out;
}

std::string PgConnection::QuoteLiteral(const std::string& value) const {
  char* quoted = PQescapeLiteral(conn_, value.data(), value.size());
  std::string out = quoted ? quoted : "''";
  PQfreemem(quoted);
  return out;
}

absl::Status PgConnection::ProbeClientFromServer() {
  // The same probes as AddDeadPeerDetection's, from the other end.
  return Query(
             "SELECT set_config('tcp_keepalives_idle', $1, false), "
             "set_config('tcp_keepalives_interval', $2, false), "
             "set_config('tcp_keepalives_count', $3, false)",
             {kProbeIdle, kProbeInterval, kProbeCount})
      .status();
}

bool PgConnection::Broken() const { return PQstatus(conn_) == CONNECTION_BAD; }

bool PgConnection::Reusable() {
  if (PQconsumeInput(conn_) == 0) return false;  // the server closed it
  return PQstatus(conn_) == CONNECTION_OK &&
         PQtransactionStatus(conn_) == PQTRANS_IDLE;
}

absl::Status PgConnection::ErrorOf(const PGresult* res) const {
  std::string err = PQerrorMessage(conn_);
  absl::StripTrailingAsciiWhitespace(&err);
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  const std::string sqlstate = state ? state : "";
  if (Broken()) return absl::UnavailableError(err);
  if (sqlstate == "23505") return absl::AlreadyExistsError(err);
  if (sqlstate == "40001" || sqlstate == "40P01") {
    return absl::AbortedError(err);
  }
  if (sqlstate == "55P03") return absl::DeadlineExceededError(err);
  return absl::FailedPreconditionError(err);
}

absl::Status PgConnection::Execute(const std::string& script) {
  PGresult* res = PQexec(conn_, script.c_str());
  absl::Status result = PQresultStatus(res) == PGRES_COMMAND_OK ||
                                PQresultStatus(res) == PGRES_TUPLES_OK
                            ? absl::OkStatus()
                            : ErrorOf(res);
  PQclear(res);
  return result;
}

absl::Status PgConnection::CopyIn(const std::string& copy_sql,
                                  const std::string& data) {
  PGresult* res = PQexec(conn_, copy_sql.c_str());
  if (PQresultStatus(res) != PGRES_COPY_IN) {
    absl::Status error = ErrorOf(res);
    PQclear(res);
    return error;
  }
  PQclear(res);
  constexpr size_t kChunk = 1 << 20;
  for (size_t at = 0; at < data.size(); at += kChunk) {
    const size_t n = std::min(kChunk, data.size() - at);
    if (PQputCopyData(conn_, data.data() + at, static_cast<int>(n)) != 1) {
      return ErrorOf(nullptr);
    }
  }
  if (PQputCopyEnd(conn_, nullptr) != 1) return ErrorOf(nullptr);
  absl::Status result = absl::OkStatus();
  while ((res = PQgetResult(conn_)) != nullptr) {
    if (PQresultStatus(res) != PGRES_COMMAND_OK && result.ok()) {
      result = ErrorOf(res);
    }
    PQclear(res);
  }
  return result;
}

int PgConnection::Row::columns() const { return PQnfields(res_); }

std::string_view PgConnection::Row::Text(int column) const {
  return std::string_view(PQgetvalue(res_, row_, column),
                          PQgetlength(res_, row_, column));
}

absl::Status PgConnection::QueryEach(
    const std::string& sql, const std::vector<std::string>& params,
    const std::function<void(const Row&)>& visit) {
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p.c_str());
  PGresult* res =
      PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                   values.data(), nullptr, nullptr, 0);
  const ExecStatusType status = PQresultStatus(res);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    absl::Status error = ErrorOf(res);
    PQclear(res);
    return error;
  }
  for (int r = 0; r < PQntuples(res); ++r) visit(Row(res, r));
  PQclear(res);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::vector<std::string>>> PgConnection::Query(
    const std::string& sql, const std::vector<std::string>& params) {
  std::vector<std::vector<std::string>> rows;
  absl::Status s = QueryEach(sql, params, [&rows](const Row& row) {
    std::vector<std::string>& out = rows.emplace_back();
    for (int c = 0; c < row.columns(); ++c) {
      out.emplace_back(row.Text(c));
    }
  });
  if (!s.ok()) return s;
  return rows;
}

}  // namespace dxbackup::scheduler
