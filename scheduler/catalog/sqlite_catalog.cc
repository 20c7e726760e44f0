#include "scheduler/catalog/sqlite_catalog.h"

#include <google/protobuf/util/json_util.h>
#include <sqlite3.h>

#include <algorithm>
#include <functional>
#include <map>
#include <mutex>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "scheduler/catalog/catalog_rows.h"
#include "scheduler/catalog/catalog_schema.h"

namespace dxbackup::scheduler {
namespace {

// A prepared statement that finalizes itself.
class Statement : public SqlRow {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  bool ok() const { return rc_ == SQLITE_OK; }
  absl::Status Error(const std::string& what) const {
    return absl::InternalError(
        absl::StrCat("catalog: ", what, ": ", sqlite3_errmsg(db_)));
  }
  Statement& Bind(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()),
                      SQLITE_TRANSIENT);
    return *this;
  }
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Statement& Bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  // Binds `values` to ?first, ?first+1, ...
  Statement& BindAll(const std::vector<SqlValue>& values, int first = 1) {
    for (size_t i = 0; i < values.size(); ++i) {
      std::visit([&](const auto& v) { Bind(first + static_cast<int>(i), v); },
                 values[i]);
    }
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return sqlite3_step(stmt_); }
  int Columns() const { return sqlite3_column_count(stmt_); }
  std::string Text(int col) const override {
    const unsigned char* t = sqlite3_column_text(stmt_, col);
    return t ? std::string(reinterpret_cast<const char*>(t),
                           sqlite3_column_bytes(stmt_, col))
             : std::string();
  }
  int64_t Int(int col) const override {
    return sqlite3_column_int64(stmt_, col);
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

absl::Status RunToDone(Statement& st, const std::string& what) {
  if (!st.ok()) return st.Error(what);
  if (st.Step() != SQLITE_DONE) return st.Error(what);
  return absl::OkStatus();
}

// SQLite's memory statistics take a process-wide mutex on every allocation
// (a tenth of the index writer's CPU at a million files); nothing reads
// them. They can only be turned off before SQLite initialises, so the first
// Open does it (a later call fails harmlessly with SQLITE_MISUSE).
void TurnOffMemoryStatistics() {
  static std::once_flag once;
  std::call_once(once, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}

}  // namespace

SqliteCatalog::SqliteCatalog(sqlite3* db, std::string path)
    : db_(db),
      path_(std::move(path)),
      replicas_(SqlEngine::kSqlite,
                [this](const std::string& what, const std::string& sql,
                       const std::vector<SqlValue>& values) {
                  return Query(what, sql, values);
                }) {}

SqliteCatalog::~SqliteCatalog() { sqlite3_close(db_); }

int SqliteCatalog::LatestSchemaVersion() {
  return static_cast<int>(CatalogMigrations().size());
}

absl::StatusOr<std::unique_ptr<SqliteCatalog>> SqliteCatalog::Open(
    const std::string& path) {
  TurnOffMemoryStatistics();
  // NOMUTEX: mu_ already serialises every use of the connection, and
  // SQLite's own connection mutex doubled the locking of each call.
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
      nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return absl::UnavailableError(
        absl::StrCat("cannot open catalog ", path, ": ", msg));
  }
  sqlite3_busy_timeout(db, 5000);
  std::unique_ptr<SqliteCatalog> catalog(new SqliteCatalog(db, path));
  absl::Status s = catalog->Exec(
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
      "PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536; "
      "PRAGMA mmap_size=1073741824; PRAGMA wal_autocheckpoint=16384;");
  if (s.ok()) s = catalog->Migrate();
  if (!s.ok()) return s;
  return catalog;
}

absl::Status SqliteCatalog::Exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return absl::InternalError(absl::StrCat("catalog ", path_, ": ", msg));
  }
  return absl::OkStatus();
}

absl::StatusOr<SqlReplicaCatalog::Rows> SqliteCatalog::Query(
    const std::string& what, const std::string& sql,
    const std::vector<SqlValue>& values) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_, sql.c_str());
  if (!st.ok()) return st.Error(what);
  st.BindAll(values);
  const int columns = st.Columns();
  SqlReplicaCatalog::Rows rows;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    std::vector<std::string>& row = rows.emplace_back();
    for (int c = 0; c < columns; ++c) row.push_back(st.Text(c));
  }
  if (rc != SQLITE_DONE) return st.Error(what);
  return rows;
}

absl::StatusOr<int> SqliteCatalog::SchemaVersion() {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_, "PRAGMA user_version");
  if (!st.ok() || st.Step() != SQLITE_ROW) return st.Error("user_version");
  return static_cast<int>(st.Int(0));
}

absl::Status SqliteCatalog::Migrate() {
  absl::StatusOr<int> current = SchemaVersion();
  if (!current.ok()) return current.status();
  if (*current > LatestSchemaVersion()) {
    return absl::FailedPreconditionError(
        absl::StrCat("catalog ", path_, " has schema version ", *current,
                     " but this dxbackup-scheduler knows only up to ",
                     LatestSchemaVersion(), ": run a newer scheduler"));
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (int v = *current; v < LatestSchemaVersion(); ++v) {
    absl::Status s = Exec(
        absl::StrCat("BEGIN IMMEDIATE;", RenderMigration(SqlEngine::kSqlite, v),
                     "PRAGMA user_version = ", v + 1, "; COMMIT;"));
    if (!s.ok()) {
      Exec("ROLLBACK;").IgnoreError();
      return absl::InternalError(absl::StrCat("migrating catalog to schema ",
                                              v + 1, ": ", s.message()));
    }
  }
  return absl::OkStatus();
}

absl::Status SqliteCatalog::UpsertAgent(const v1::AgentInfo& agent) {
  absl::StatusOr<std::vector<SqlValue>> values = AgentValues(agent);
  if (!values.ok()) return values.status();
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_, UpsertAgentSql().c_str());
  st.BindAll(*values);
  return RunToDone(st, "saving agent " + agent.id());
}

absl::Status SqliteCatalog::DeleteAgent(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_, "DELETE FROM agents WHERE id = ?1");
  st.Bind(1, id);
  return RunToDone(st, "removing agent " + id);
}

absl::StatusOr<std::vector<v1::AgentInfo>> SqliteCatalog::ListAgents() {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_,
               "SELECT info_json FROM agents ORDER BY namespace, "
               "release, component, pod");
  if (!st.ok()) return st.Error("listing agents");
  std::vector<v1::AgentInfo> agents;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    v1::AgentInfo info;
    if (ReadAgentJson(st.Text(0), &info)) agents.push_back(std::move(info));
  }
  if (rc != SQLITE_DONE) return st.Error("listing agents");
  return agents;
}

absl::StatusOr<std::vector<v1::AgentInfo>> SqliteCatalog::ListAgentsOf(
    const std::string& namespace_, const std::string& release) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_,
               "SELECT info_json FROM agents WHERE namespace = ?1 AND release "
               "= ?2 ORDER BY component, pod");
  if (!st.ok()) return st.Error("listing a deployment's agents");
  st.Bind(1, namespace_).Bind(2, release);
  std::vector<v1::AgentInfo> agents;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    v1::AgentInfo info;
    if (ReadAgentJson(st.Text(0), &info)) agents.push_back(std::move(info));
  }
  if (rc != SQLITE_DONE) return st.Error("listing a deployment's agents");
  return agents;
}

absl::Status SqliteCatalog::WriteSet(const std::string& sql,
                                     const v1::BackupSet& set) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_, sql.c_str());
  st.BindAll(SetValues(set));
  return RunToDone(st, "saving set " + set.id());
}

absl::Status SqliteCatalog::CreateSet(const v1::BackupSet& set) {
  return WriteSet(InsertSetSql(), set);
}

absl::Status SqliteCatalog::CreateSetWithin(const v1::BackupSet& set,
                                            const SetLimits& limits) {
  // One connection, under mu_: nothing starts between the count and the
  // insert.
  std::lock_guard<std::mutex> lock(mu_);
  Statement count(db_, kRunningSetsSql);
  if (!count.ok()) return count.Error("counting running sets");
  count.Bind(1, set.namespace_());
  if (count.Step() != SQLITE_ROW) return count.Error("counting running sets");
  absl::Status within =
      CheckSetLimits(limits, count.Int(0), count.Int(1), set.namespace_());
  if (!within.ok()) return within;
  Statement st(db_, InsertSetSql().c_str());
  st.BindAll(SetValues(set));
  return RunToDone(st, "saving set " + set.id());
}

absl::Status SqliteCatalog::UpdateSet(const v1::BackupSet& set) {
  return WriteSet(kUpdateSetSql, set);
}

absl::Status SqliteCatalog::RecordDrill(const std::string& set_id,
                                        const v1::Drill& drill) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_,
               "UPDATE sets SET drill_result = ?2, drilled_unix = ?3, "
               "drill_rto_seconds = ?4, drill_detail = ?5 WHERE id = ?1");
  st.Bind(1, set_id)
      .Bind(2, v1::Drill::Result_Name(drill.result()))
      .Bind(3, drill.drilled_unix())
      .Bind(4, drill.rto_seconds())
      .Bind(5, drill.detail());
  absl::Status s = RunToDone(st, "recording the drill of set " + set_id);
  if (s.ok() && sqlite3_changes(db_) == 0) {
    return absl::NotFoundError(absl::StrCat("no backup set ", set_id));
  }
  return s;
}

absl::StatusOr<v1::BackupSet> SqliteCatalog::GetSet(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string sql =
      absl::StrCat("SELECT ", kSetColumns, " FROM sets WHERE id = ?1");
  Statement st(db_, sql.c_str());
  if (!st.ok()) return st.Error("reading set");
  st.Bind(1, id);
  int rc = st.Step();
  if (rc == SQLITE_DONE) {
    return absl::NotFoundError(
        absl::StrCat("no backup set ", id, "; `dxbackup sets` lists them"));
  }
  if (rc != SQLITE_ROW) return st.Error("reading set " + id);
  return ReadSet(st);
}

namespace {

void BindFilter(Statement& st, const SetFilter& filter) {
  st.BindAll(filter.values);
}

}  // namespace

absl::StatusOr<std::vector<v1::BackupSet>> SqliteCatalog::ListSets(
    const v1::ListSetsRequest& f) {
  std::lock_guard<std::mutex> lock(mu_);
  const SetFilter filter = SetFilterOf(f);
  std::string sql = absl::StrCat("SELECT ", kSetColumns, " FROM sets",
                                 filter.where, " ORDER BY ", kSetOrder);
  if (f.limit() > 0 || f.offset() > 0) {
    absl::StrAppend(&sql, " LIMIT ", f.limit() > 0 ? f.limit() : -1, " OFFSET ",
                    std::max(0, f.offset()));
  }
  Statement st(db_, sql.c_str());
  if (!st.ok()) return st.Error("listing sets");
  BindFilter(st, filter);
  std::vector<v1::BackupSet> sets;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) sets.push_back(ReadSet(st));
  if (rc != SQLITE_DONE) return st.Error("listing sets");
  return sets;
}

absl::StatusOr<int64_t> SqliteCatalog::CountSets(const v1::ListSetsRequest& f) {
  std::lock_guard<std::mutex> lock(mu_);
  const SetFilter filter = SetFilterOf(f);
  const std::string sql =
      absl::StrCat("SELECT COUNT(*) FROM sets", filter.where);
  Statement st(db_, sql.c_str());
  if (!st.ok()) return st.Error("counting sets");
  BindFilter(st, filter);
  if (st.Step() != SQLITE_ROW) return st.Error("counting sets");
  return st.Int(0);
}

absl::StatusOr<std::vector<SetCatalog::DeploymentSummary>>
SqliteCatalog::DeploymentSummaries(const std::string& namespace_,
                                   const std::string& release) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<DeploymentSummary> out;
  std::map<std::pair<std::string, std::string>, size_t> at;
  {
    Statement st(db_, namespace_.empty()
                          ? "SELECT namespace, release, COUNT(*), "
                            "MAX(started_unix) FROM sets GROUP BY namespace, "
                            "release"
                          : "SELECT namespace, release, COUNT(*), "
                            "MAX(started_unix) FROM sets WHERE namespace = ?1 "
                            "AND release = ?2 GROUP BY namespace, release");
    if (!st.ok()) return st.Error("summing up deployments");
    if (!namespace_.empty()) st.Bind(1, namespace_).Bind(2, release);
    int rc;
    while ((rc = st.Step()) == SQLITE_ROW) {
      DeploymentSummary d;
      d.namespace_ = st.Text(0);
      d.release = st.Text(1);
      d.sets = st.Int(2);
      d.newest_started_unix = st.Int(3);
      at[{d.namespace_, d.release}] = out.size();
      out.push_back(std::move(d));
    }
    if (rc != SQLITE_DONE) return st.Error("summing up deployments");
  }
  // Each deployment's newest complete set: one indexed lookup each (a set
  // found corrupt is skipped, and rare).
  Statement complete(
      db_,
      "SELECT id, finished_unix, bytes FROM sets INDEXED BY "
      "sets_by_deployment_status WHERE namespace = ?1 AND release = ?2 AND "
      "status = 'SET_COMPLETE' AND verify_result <> 'CORRUPT' "
      "ORDER BY finished_unix DESC LIMIT 1");
  if (!complete.ok()) return complete.Error("finding complete sets");
  for (DeploymentSummary& d : out) {
    complete.Reset();
    complete.Bind(1, d.namespace_).Bind(2, d.release);
    const int rc = complete.Step();
    if (rc == SQLITE_ROW) {
      d.complete_id = complete.Text(0);
      d.complete_finished_unix = complete.Int(1);
      d.complete_bytes = static_cast<uint64_t>(complete.Int(2));
    } else if (rc != SQLITE_DONE) {
      return complete.Error("finding complete sets");
    }
  }
  // The newest failed set and the newest drill of each: few rows, each
  // query one pass over its index; the latest row of a group wins.
  // `take` gets each row's deployment and the row.
  // One deployment's rows through its index's prefix (a recount after a
  // removal, a deployment's page), not a pass over the fleet's.
  const std::string one_deployment =
      namespace_.empty() ? "" : " AND namespace = ?1 AND release = ?2";
  auto each_row =
      [&](const std::string& sql, const char* what,
          const std::function<void(DeploymentSummary&, const Statement&)>&
              take) {
        Statement st(db_, (sql + one_deployment).c_str());
        if (!st.ok()) return st.Error(what);
        if (!namespace_.empty()) st.Bind(1, namespace_).Bind(2, release);
        int rc;
        while ((rc = st.Step()) == SQLITE_ROW) {
          auto it = at.find({st.Text(0), st.Text(1)});
          if (it != at.end()) take(out[it->second], st);
        }
        return rc == SQLITE_DONE ? absl::OkStatus() : st.Error(what);
      };
  absl::Status s = each_row(
      "SELECT namespace, release, id, started_unix, reason FROM sets INDEXED "
      "BY sets_by_status WHERE status = 'SET_FAILED'",
      "finding failed sets", [](DeploymentSummary& d, const Statement& row) {
        if (!d.failed_id.empty() && row.Int(3) < d.failed_started_unix) return;
        d.failed_id = row.Text(2);
        d.failed_started_unix = row.Int(3);
        d.failed_reason = row.Text(4);
      });
  if (!s.ok()) return s;
  s = each_row(
      "SELECT namespace, release, id, drill_result, drilled_unix, "
      "drill_rto_seconds, drill_detail FROM sets INDEXED BY sets_drilled "
      "WHERE drilled_unix > 0",
      "finding drills", [](DeploymentSummary& d, const Statement& row) {
        if (!d.drilled_id.empty() && row.Int(4) < d.drill.drilled_unix()) {
          return;
        }
        d.drilled_id = row.Text(2);
        d.drill = ReadDrill(row, 3);
      });
  if (!s.ok()) return s;
  return out;
}

absl::Status SqliteCatalog::DeleteSet(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::Status s = Exec("BEGIN IMMEDIATE");
  for (const char* sql : {"DELETE FROM files WHERE set_id = ?1",
                          "DELETE FROM artifacts WHERE set_id = ?1",
                          "DELETE FROM jobs WHERE set_id = ?1",
                          "DELETE FROM sets WHERE id = ?1"}) {
    if (!s.ok()) break;
    Statement st(db_, sql);
    st.Bind(1, id);
    s = RunToDone(st, "removing set " + id);
  }
  if (!s.ok()) {
    Exec("ROLLBACK").IgnoreError();
    return s;
  }
  return Exec("COMMIT");
}

absl::Status SqliteCatalog::AddFiles(
    const std::string& set_id, const std::string& target,
    const google::protobuf::RepeatedPtrField<v1::FileEntry>& entries) {
  if (entries.empty()) return absl::OkStatus();
  std::lock_guard<std::mutex> lock(mu_);
  // Index rows need not be durable one chunk at a time (they go with a
  // failed upload, and orphans are removed at start): no fsync per chunk.
  // The artifact's own row, committed with synchronous=FULL, makes them
  // durable, as the WAL is written in order.
  absl::Status s = Exec("PRAGMA synchronous=NORMAL; BEGIN IMMEDIATE");
  if (!s.ok()) {
    Exec("PRAGMA synchronous=FULL").IgnoreError();
    return s;
  }
  {
    Statement st(db_, absl::StrCat("INSERT INTO files (", kFileColumns,
                                   ") VALUES (", Placeholders(16), ")")
                          .c_str());
    for (const v1::FileEntry& e : entries) {
      if (!s.ok()) break;
      st.Reset();
      st.BindAll(FileValues(set_id, target, e));
      s = RunToDone(st, "indexing files of " + set_id);
    }
  }
  if (!s.ok()) {
    Exec("ROLLBACK").IgnoreError();
  } else {
    s = Exec("COMMIT");
  }
  absl::Status full = Exec("PRAGMA synchronous=FULL");
  return s.ok() ? full : s;
}

absl::Status SqliteCatalog::DeleteFiles(const std::string& set_id,
                                        const std::string& target) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_, "DELETE FROM files WHERE set_id = ?1 AND target = ?2");
  st.Bind(1, set_id).Bind(2, target);
  return RunToDone(st, "removing the file index of " + set_id);
}

absl::Status SqliteCatalog::DeleteOrphanFiles() {
  std::lock_guard<std::mutex> lock(mu_);
  return Exec(
      "DELETE FROM files WHERE NOT EXISTS (SELECT 1 FROM artifacts a WHERE "
      "a.set_id = files.set_id AND a.target = files.target)");
}

absl::Status SqliteCatalog::MoveFilesToStore(const std::string& set_id,
                                             const std::string& target,
                                             const v1::StoredFileList& list,
                                             int64_t locked_until_unix) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string what =
      absl::StrCat("moving the file index of ", set_id, " ", target);
  absl::Status s = Exec("BEGIN IMMEDIATE");
  if (!s.ok()) return s;
  {
    Statement st(db_, kMoveFilesToStoreSql);
    st.BindAll({set_id, target, list.path(),
                static_cast<int64_t>(list.entries()),
                static_cast<int64_t>(list.bytes()), list.sha256(),
                list.encrypted_for(), locked_until_unix});
    const int rc = st.Step();
    if (rc == SQLITE_DONE) {
      s = absl::NotFoundError(
          absl::StrCat("set ", set_id, " has no artifact of ", target));
    } else if (rc != SQLITE_ROW) {
      s = st.Error(what);
    } else {
      while (st.Step() == SQLITE_ROW) {
      }
    }
  }
  if (s.ok()) {
    Statement st(db_, "DELETE FROM files WHERE set_id = ?1 AND target = ?2");
    st.Bind(1, set_id).Bind(2, target);
    s = RunToDone(st, what);
  }
  if (!s.ok()) {
    Exec("ROLLBACK").IgnoreError();
    return s;
  }
  return Exec("COMMIT");
}

absl::StatusOr<std::vector<FileIndex::StoredFileListOf>>
SqliteCatalog::StoredFileLists(const std::string& namespace_,
                               const std::string& release) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_, StoredFileListsSql().c_str());
  if (!st.ok()) return st.Error("listing the file lists in the store");
  st.Bind(1, namespace_).Bind(2, release);
  std::vector<StoredFileListOf> lists;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    absl::StatusOr<StoredFileListOf> list = ReadStoredFileList(st);
    if (!list.ok()) return list.status();
    lists.push_back(*std::move(list));
  }
  if (rc != SQLITE_DONE) return st.Error("listing the file lists in the store");
  return lists;
}

absl::StatusOr<bool> SqliteCatalog::AnyStoredFileLists(
    const std::string& namespace_, const std::string& release) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_, kAnyStoredFileListSql);
  if (!st.ok()) return st.Error("looking for file lists in the store");
  st.Bind(1, namespace_).Bind(2, release);
  const int rc = st.Step();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    return st.Error("looking for file lists in the store");
  }
  return rc == SQLITE_ROW;
}

absl::Status SqliteCatalog::ForEachFile(
    const v1::ListFilesRequest& request,
    const std::function<bool(const v1::IndexedFile&)>& visit) {
  std::lock_guard<std::mutex> lock(mu_);
  // "a/b" selects a/b itself and everything below a/b/ (ASCII '0' follows
  // '/', so the range uses the path index).
  const std::string sql = absl::StrCat(
      "SELECT ", kIndexedFileColumns,
      " FROM files f JOIN sets s ON s.id = f.set_id WHERE f.set_id = ?1 AND "
      "(?2 = '' OR f.target = ?2) AND (?3 = '' OR f.path = ?3 OR "
      "(f.path > ?3 || '/' AND f.path < ?3 || '0')) ORDER BY f.target, f.path");
  Statement st(db_, sql.c_str());
  if (!st.ok()) return st.Error("listing files");
  std::string prefix = request.path_prefix();
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  st.Bind(1, request.set_id()).Bind(2, request.target()).Bind(3, prefix);
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    if (!visit(ReadIndexedFile(st))) return absl::OkStatus();
  }
  if (rc != SQLITE_DONE) return st.Error("listing files");
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::FileEntry>> SqliteCatalog::FilesAfter(
    const std::string& set_id, const std::string& target,
    const std::string& after, int limit) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string sql = absl::StrCat(
      "SELECT ", kIndexedFileColumns,
      " FROM files f JOIN sets s ON s.id = f.set_id WHERE f.set_id = ?1 AND "
      "f.target = ?2 AND f.path > ?3 ORDER BY f.path LIMIT ?4");
  Statement st(db_, sql.c_str());
  if (!st.ok()) return st.Error("reading the file index");
  st.Bind(1, set_id).Bind(2, target).Bind(3, after).Bind(4, int64_t{limit});
  std::vector<v1::FileEntry> page;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    page.push_back(std::move(*ReadIndexedFile(st).mutable_entry()));
  }
  if (rc != SQLITE_DONE) return st.Error("reading the file index");
  return page;
}

absl::StatusOr<v1::FindFilesResponse> SqliteCatalog::FindFiles(
    const v1::FindFilesRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  // One caller gets at most kMaxFindResults rows a call (truncated says
  // there were more): a large limit must not hold the catalog's lock, or
  // the scheduler's memory, for everyone else.
  constexpr int kMaxFindResults = 10000;
  const int limit =
      request.limit() > 0 ? std::min(request.limit(), kMaxFindResults) : 1000;
  // A pattern without '/' matches a name at any depth.
  // Literal GLOB operands let SQLite use the name or path index.
  const bool by_name = request.pattern().find('/') == std::string::npos;
  const std::string sql = absl::StrCat(
      "SELECT ", kIndexedFileColumns,
      " FROM files f JOIN sets s ON s.id = f.set_id WHERE ",
      by_name ? "f.name" : "f.path",
      " GLOB ?1 AND f.unchanged = 0 "
      "AND (?2 = '' OR s.namespace = ?2) AND (?3 = '' OR s.release = ?3) "
      "ORDER BY s.started_unix DESC, f.set_id DESC, f.target, f.path "
      "LIMIT ?4");
  Statement st(db_, sql.c_str());
  if (!st.ok()) return st.Error("finding files");
  st.Bind(1, request.pattern())
      .Bind(2, request.namespace_())
      .Bind(3, request.release())
      .Bind(4, static_cast<int64_t>(limit) + 1);
  v1::FindFilesResponse response;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    if (response.files_size() == limit) {
      response.set_truncated(true);
      break;
    }
    *response.add_files() = ReadIndexedFile(st);
  }
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) return st.Error("finding files");
  return response;
}

absl::StatusOr<std::vector<Catalog::ScheduleSlot>>
SqliteCatalog::ScheduleSlots() {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_,
               "SELECT policy, namespace, release, last_slot_unix FROM "
               "schedule_slots");
  if (!st.ok()) return st.Error("reading schedule slots");
  std::vector<ScheduleSlot> slots;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    slots.push_back({st.Text(0), st.Text(1), st.Text(2), st.Int(3)});
  }
  if (rc != SQLITE_DONE) return st.Error("reading schedule slots");
  return slots;
}

absl::Status SqliteCatalog::SaveScheduleSlot(const ScheduleSlot& slot) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(
      db_,
      "INSERT INTO schedule_slots (policy, namespace, release, "
      "last_slot_unix) VALUES (?1, ?2, ?3, ?4) ON CONFLICT "
      "(policy, namespace, release) DO UPDATE SET last_slot_unix = ?4");
  st.Bind(1, slot.policy)
      .Bind(2, slot.namespace_)
      .Bind(3, slot.release)
      .Bind(4, slot.last_slot_unix);
  return RunToDone(st, "saving schedule slot");
}

absl::StatusOr<bool> SqliteCatalog::ClaimScheduleSlot(
    const ScheduleSlot& slot) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_, kClaimScheduleSlotSql);
  if (!st.ok()) return st.Error("claiming schedule slot");
  st.BindAll({slot.policy, slot.namespace_, slot.release, slot.last_slot_unix});
  const int rc = st.Step();
  if (rc == SQLITE_ROW) {
    // Stepped to its end, so that the statement is done when finalized.
    while (st.Step() == SQLITE_ROW) {
    }
    return true;
  }
  if (rc != SQLITE_DONE) return st.Error("claiming schedule slot");
  return false;
}

absl::Status SqliteCatalog::UpsertJob(const v1::Job& job) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_, UpsertJobSql().c_str());
  st.BindAll(JobValues(job));
  return RunToDone(st, "saving job " + job.id());
}

absl::StatusOr<std::vector<v1::Job>> SqliteCatalog::ListJobs(
    const std::string& set_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_,
               absl::StrCat("SELECT ", kJobColumns,
                            " FROM jobs WHERE set_id = ?1 ORDER BY seq, id")
                   .c_str());
  if (!st.ok()) return st.Error("listing jobs");
  st.Bind(1, set_id);
  std::vector<v1::Job> jobs;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) jobs.push_back(ReadJob(st));
  if (rc != SQLITE_DONE) return st.Error("listing jobs");
  return jobs;
}

absl::StatusOr<v1::Job> SqliteCatalog::GetJob(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(
      db_,
      absl::StrCat("SELECT ", kJobColumns, " FROM jobs WHERE id = ?1").c_str());
  if (!st.ok()) return st.Error("reading a job");
  st.Bind(1, id);
  const int rc = st.Step();
  if (rc == SQLITE_ROW) return ReadJob(st);
  if (rc != SQLITE_DONE) return st.Error("reading a job");
  return absl::NotFoundError(
      absl::StrCat("no job ", id, " (`dxbackup show SET` lists a set's jobs)"));
}

absl::Status SqliteCatalog::AddArtifact(const v1::Artifact& a) {
  absl::StatusOr<std::vector<SqlValue>> values = ArtifactValues(a);
  if (!values.ok()) return values.status();
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(
      db_, absl::StrCat("INSERT INTO artifacts (", kArtifactColumns,
                        ") VALUES (", Placeholders(kArtifactColumnCount), ")")
               .c_str());
  st.BindAll(*values);
  return RunToDone(st, "recording artifact " + a.path());
}

absl::StatusOr<std::vector<v1::Artifact>> SqliteCatalog::ListArtifacts(
    const std::string& set_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_, absl::StrCat("SELECT ", kArtifactColumns,
                                 " FROM artifacts WHERE set_id = ?1 ORDER BY "
                                 "target")
                        .c_str());
  if (!st.ok()) return st.Error("listing artifacts");
  st.Bind(1, set_id);
  std::vector<v1::Artifact> artifacts;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    absl::StatusOr<v1::Artifact> a = ReadArtifact(st);
    if (!a.ok()) return a.status();
    artifacts.push_back(*std::move(a));
  }
  if (rc != SQLITE_DONE) return st.Error("listing artifacts");
  return artifacts;
}

absl::StatusOr<std::vector<std::string>> SqliteCatalog::AllArtifactPaths() {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_,
               "SELECT path FROM artifacts UNION ALL SELECT file_list_path "
               "FROM artifacts WHERE file_list_path != ''");
  if (!st.ok()) return st.Error("listing artifact paths");
  std::vector<std::string> paths;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) paths.push_back(st.Text(0));
  if (rc != SQLITE_DONE) return st.Error("listing artifact paths");
  return paths;
}

absl::StatusOr<std::map<std::string, int64_t>> SqliteCatalog::LockedSets(
    int64_t now_unix) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_,
               // By the lock index: few rows are locked past now, while
               // the planner's unprompted choice (the set_id index, for
               // the grouping) reads every artifact.
               "SELECT set_id, MAX(locked_until_unix) FROM artifacts INDEXED "
               "BY artifacts_by_lock WHERE locked_until_unix > ?1 GROUP BY "
               "set_id");
  if (!st.ok()) return st.Error("listing locked sets");
  st.Bind(1, now_unix);
  std::map<std::string, int64_t> locked;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) locked[st.Text(0)] = st.Int(1);
  if (rc != SQLITE_DONE) return st.Error("listing locked sets");
  return locked;
}

absl::StatusOr<std::vector<v1::DeploymentHold>> SqliteCatalog::Holds() {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_, absl::StrCat("SELECT ", kHoldColumns,
                                 " FROM deployment_holds ORDER BY namespace, "
                                 "release")
                        .c_str());
  if (!st.ok()) return st.Error("reading deployment holds");
  std::vector<v1::DeploymentHold> holds;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) holds.push_back(ReadHold(st));
  if (rc != SQLITE_DONE) return st.Error("reading deployment holds");
  return holds;
}

absl::Status SqliteCatalog::PutHold(const v1::DeploymentHold& hold) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_,
               absl::StrCat("INSERT OR REPLACE INTO deployment_holds (",
                            kHoldColumns, ") VALUES (", Placeholders(7), ")")
                   .c_str());
  st.BindAll(HoldValues(hold));
  return RunToDone(st, "recording a deployment hold");
}

absl::Status SqliteCatalog::ReleaseHold(const std::string& namespace_,
                                        const std::string& release,
                                        const std::string& restore_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_,
               "DELETE FROM deployment_holds WHERE namespace = ?1 AND "
               "release = ?2 AND restore_id = ?3");
  st.Bind(1, namespace_).Bind(2, release).Bind(3, restore_id);
  return RunToDone(st, "ending a deployment hold");
}

absl::StatusOr<int64_t> SqliteCatalog::AddPendingNotice(
    const std::string& webhook, const v1::Notice& notice) {
  absl::StatusOr<std::string> json = NoticeJson(notice);
  if (!json.ok()) return json.status();
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_,
               "INSERT INTO pending_notices (webhook, notice_json) VALUES "
               "(?1, ?2) RETURNING id");
  st.Bind(1, webhook).Bind(2, *json);
  if (!st.ok() || st.Step() != SQLITE_ROW) {
    return st.Error("keeping a notification until it is delivered");
  }
  const int64_t id = st.Int(0);
  if (st.Step() != SQLITE_DONE) {
    return st.Error("keeping a notification until it is delivered");
  }
  return id;
}

absl::Status SqliteCatalog::RemovePendingNotice(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_, "DELETE FROM pending_notices WHERE id = ?1");
  st.Bind(1, id);
  return RunToDone(st, "forgetting a delivered notification");
}

absl::StatusOr<std::vector<SqliteCatalog::PendingNotice>>
SqliteCatalog::PendingNotices() {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_,
               "SELECT id, webhook, notice_json FROM pending_notices ORDER "
               "BY id");
  if (!st.ok()) return st.Error("reading the notifications not delivered");
  std::vector<PendingNotice> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    PendingNotice p{st.Int(0), st.Text(1), {}};
    if (ReadNoticeJson(st.Text(2), &p.notice)) out.push_back(std::move(p));
  }
  if (rc != SQLITE_DONE) {
    return st.Error("reading the notifications not delivered");
  }
  return out;
}

absl::StatusOr<std::vector<SqliteCatalog::ScaledDown>>
SqliteCatalog::ScaledDowns() {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_,
               "SELECT namespace, release, set_id, replicas, since_unix FROM "
               "scaled_downs ORDER BY namespace, release");
  if (!st.ok()) return st.Error("reading scaled-down StatefulSets");
  std::vector<ScaledDown> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    out.push_back({st.Text(0), st.Text(1), st.Text(2),
                   static_cast<int>(st.Int(3)), st.Int(4)});
  }
  if (rc != SQLITE_DONE) return st.Error("reading scaled-down StatefulSets");
  return out;
}

absl::Status SqliteCatalog::RecordScaledDown(const ScaledDown& scaled) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_,
               "INSERT OR REPLACE INTO scaled_downs (namespace, release, "
               "set_id, replicas, since_unix) VALUES (?1, ?2, ?3, ?4, ?5)");
  st.Bind(1, scaled.namespace_)
      .Bind(2, scaled.release)
      .Bind(3, scaled.set_id)
      .Bind(4, int64_t{scaled.replicas})
      .Bind(5, scaled.since_unix);
  return RunToDone(st, "recording a scaled-down StatefulSet");
}

absl::Status SqliteCatalog::ForgetScaledDown(const std::string& namespace_,
                                             const std::string& release,
                                             const std::string& set_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_,
               "DELETE FROM scaled_downs WHERE namespace = ?1 AND release = ?2 "
               "AND set_id = ?3");
  st.Bind(1, namespace_).Bind(2, release).Bind(3, set_id);
  return RunToDone(st, "forgetting a scaled-down StatefulSet");
}

absl::StatusOr<int> SqliteCatalog::FailUnfinished(const std::string& reason,
                                                  int64_t now_unix) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement jobs(db_,
                 "UPDATE jobs SET status = 'JOB_FAILED', error = ?1, "
                 "error_code = 'ABORTED', finished_unix = ?2 "
                 "WHERE status IN ('JOB_PENDING', 'JOB_RUNNING')");
  jobs.Bind(1, reason).Bind(2, now_unix);
  absl::Status s = RunToDone(jobs, "failing unfinished jobs");
  if (!s.ok()) return s;
  Statement sets(db_,
                 "UPDATE sets SET status = 'SET_FAILED', reason = ?1, "
                 "finished_unix = ?2 WHERE status = 'SET_RUNNING'");
  sets.Bind(1, reason).Bind(2, now_unix);
  s = RunToDone(sets, "failing unfinished sets");
  if (!s.ok()) return s;
  return sqlite3_changes(db_);
}

}  // namespace dxbackup::scheduler
