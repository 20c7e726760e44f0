// PgConnection is a libpq connection to one configured database (or to
// another database of the same server, for CREATE/DROP DATABASE). The
// password comes from the database's password_file and is kept out of
// argv, logs and errors; PgEnvironment() gives the same parameters to child
// processes (pg_dump, pg_restore) through their environment.
//
// Not thread-safe; one owner.
#ifndef DXBACKUP_SCHEDULER_POSTGRES_PG_CONNECTION_H_
#define DXBACKUP_SCHEDULER_POSTGRES_PG_CONNECTION_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/pg_version.h"
#include "dxbackup/v1/config.pb.h"

typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;

namespace dxbackup::scheduler {

// The password in `db.password_file` without its trailing newline; "" when
// no file is configured.
absl::StatusOr<std::string> ReadPassword(const v1::Database& db);

// libpq environment variables (PGHOST, PGPORT, PGUSER, PGDATABASE,
// PGPASSWORD, PGSSLMODE) for `db`, connecting to `dbname`.
std::map<std::string, std::string> PgEnvironment(const v1::Database& db,
                                                 const std::string& password,
                                                 const std::string& dbname);

// "host=/tmp/x port=5432 dbname=dxmediadb user=dx": for messages, no secrets.
std::string DescribeDatabase(const v1::Database& db);

// A connection string that sets only `dbname`, quoted so that libpq reads
// the whole name as a database name ("dbname='a b'"): for tools like
// pg_restore whose --dbname would otherwise take "host=... " or a URI.
std::string DbnameOnlyConninfo(const std::string& dbname);

// Appends `value` as COPY's text format writes a field (backslash, tab,
// newline and carriage return escaped).
void AppendCopyField(std::string_view value, std::string* out);

// The database every server has, where a connection goes to create, drop
// or list others.
inline constexpr char kMaintenanceDb[] = "postgres";

class PgConnection {
 public:
  // Connects to `dbname` on `db`'s server (db.dbname() when empty).
  static absl::StatusOr<std::unique_ptr<PgConnection>> Open(
      const v1::Database& db, const std::string& password,
      const std::string& dbname = "");
  ~PgConnection();

  // PQserverVersion(): 150018 for 15.18, 160002 for 16.2.
  int ServerVersion() const;
  // Runs SQL with text parameters $1.. and returns the rows as text (NULL
  // as ""). An error is the server's message, as Unavailable when the
  // connection is lost, AlreadyExists for a unique violation, Aborted for
  // a serialization failure or deadlock, DeadlineExceeded when lock_timeout
  // ran out, else FailedPrecondition.
  absl::StatusOr<std::vector<std::vector<std::string>>> Query(
      const std::string& sql, const std::vector<std::string>& params = {});
  // One row of a result, read where libpq holds it: valid only during the
  // QueryEach callback that was given it.
  class Row {
   public:
    Row(const PGresult* res, int row) : res_(res), row_(row) {}
    int columns() const;
    // The column's text (NULL as ""), NUL-terminated at its end.
    std::string_view Text(int column) const;

   private:
    const PGresult* res_;
    int row_;
  };
  // Query, calling `visit` with each row in place rather than copying the
  // result into strings: for results of thousands of rows.
  absl::Status QueryEach(const std::string& sql,
                         const std::vector<std::string>& params,
                         const std::function<void(const Row&)>& visit);
  // Runs a script of several statements, without parameters.
  absl::Status Execute(const std::string& script);
  // COPY ... FROM STDIN: sends `data` (COPY's text format) and ends it.
  absl::Status CopyIn(const std::string& copy_sql, const std::string& data);
  // Asks the server to probe this session's client as the client probes
  // the server (about half a minute to find it gone, not the server's
  // default two hours), so that what the session holds (locks, an open
  // transaction) ends soon after its host vanished or was cut off.
  absl::Status ProbeClientFromServer();
  // The connection is gone (the server went away or closed it).
  bool Broken() const;
  // For a pooled connection about to be reused: reads what the server
  // sent meanwhile (a notice that it shut the session down) and says
  // whether the connection is still good and outside any transaction.
  bool Reusable();
  // Quotes an identifier for SQL (PQescapeIdentifier).
  std::string QuoteIdentifier(const std::string& name) const;
  // Quotes a string literal for SQL (PQescapeLiteral).
  std::string QuoteLiteral(const std::string& value) const;

 private:
  explicit PgConnection(PGconn* conn) : conn_(conn) {}
  // The last error on the connection (of `res`, when there is one), as
  // Query describes.
  absl::Status ErrorOf(const PGresult* res) const;
  PGconn* conn_;
};

using common::PgVersionString;  // "15.18" from 150018

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_POSTGRES_PG_CONNECTION_H_
