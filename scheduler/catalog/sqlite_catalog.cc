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

namespace dxbackup::scheduler {
namespace {

// Schema migrations, oldest first. Never edit one that has shipped: append.
const char* const kMigrations[] = {
    // 1: agents, sets, jobs, artifacts.
    R"sql(
      CREATE TABLE agents (
        id TEXT PRIMARY KEY,
        namespace TEXT NOT NULL,
        release TEXT NOT NULL,
        pod TEXT NOT NULL,
        component TEXT NOT NULL,
        info_json TEXT NOT NULL,
        connected_unix INTEGER NOT NULL,
        last_seen_unix INTEGER NOT NULL
      );
      CREATE TABLE sets (
        id TEXT PRIMARY KEY,
        namespace TEXT NOT NULL,
        release TEXT NOT NULL,
        status TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        started_unix INTEGER NOT NULL,
        finished_unix INTEGER NOT NULL DEFAULT 0,
        bytes INTEGER NOT NULL DEFAULT 0,
        fix_level TEXT NOT NULL DEFAULT ''
      );
      CREATE INDEX sets_by_deployment ON sets (namespace, release, started_unix);
      CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        set_id TEXT NOT NULL REFERENCES sets (id),
        kind TEXT NOT NULL,
        target TEXT NOT NULL,
        agent_id TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL,
        error TEXT NOT NULL DEFAULT '',
        started_unix INTEGER NOT NULL DEFAULT 0,
        finished_unix INTEGER NOT NULL DEFAULT 0,
        bytes INTEGER NOT NULL DEFAULT 0,
        files INTEGER NOT NULL DEFAULT 0,
        log TEXT NOT NULL DEFAULT ''
      );
      CREATE INDEX jobs_by_set ON jobs (set_id);
      CREATE TABLE artifacts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        set_id TEXT NOT NULL REFERENCES sets (id),
        target TEXT NOT NULL,
        kind TEXT NOT NULL,
        path TEXT NOT NULL UNIQUE,
        bytes INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        compression TEXT NOT NULL,
        file_count INTEGER NOT NULL,
        fix_level TEXT NOT NULL,
        created_unix INTEGER NOT NULL,
        source TEXT NOT NULL,
        UNIQUE (set_id, target)
      );
    )sql",
    // 2: sets remember their policy; schedules remember their last slot.
    R"sql(
      ALTER TABLE sets ADD COLUMN policy TEXT NOT NULL DEFAULT '';
      CREATE INDEX sets_by_policy ON sets (policy, namespace, release);
      CREATE TABLE schedule_slots (
        policy TEXT NOT NULL,
        namespace TEXT NOT NULL,
        release TEXT NOT NULL,
        last_slot_unix INTEGER NOT NULL,
        PRIMARY KEY (policy, namespace, release)
      );
    )sql",
    // 3: the file index of volume artifacts.
    R"sql(
      CREATE TABLE files (
        set_id TEXT NOT NULL,
        target TEXT NOT NULL,
        path TEXT NOT NULL,
        type TEXT NOT NULL,
        size INTEGER NOT NULL,
        mode INTEGER NOT NULL,
        mtime_unix INTEGER NOT NULL,
        link TEXT NOT NULL DEFAULT '',
        name TEXT NOT NULL  -- the last component of path, for find
      );
      CREATE INDEX files_by_set ON files (set_id, target, path);
      CREATE INDEX files_by_path ON files (path);
      CREATE INDEX files_by_name ON files (name);
    )sql",
    // 4: the latest verification of each set.
    R"sql(
      ALTER TABLE sets ADD COLUMN verify_result TEXT NOT NULL DEFAULT '';
      ALTER TABLE sets ADD COLUMN verify_deep INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE sets ADD COLUMN verified_unix INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE sets ADD COLUMN verify_detail TEXT NOT NULL DEFAULT '';
    )sql",
    // 5: quiesce windows and warnings.
    R"sql(
      ALTER TABLE sets ADD COLUMN quiesce_seconds INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE sets ADD COLUMN warnings TEXT NOT NULL DEFAULT '';
    )sql",
    // 6: incremental sets: levels, bases, what change detection compares.
    R"sql(
      ALTER TABLE sets ADD COLUMN level TEXT NOT NULL DEFAULT '';
      ALTER TABLE sets ADD COLUMN base_set_id TEXT NOT NULL DEFAULT '';
      ALTER TABLE artifacts ADD COLUMN base_set_id TEXT NOT NULL DEFAULT '';
      ALTER TABLE files ADD COLUMN mtime_nsec INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE files ADD COLUMN ctime_unix INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE files ADD COLUMN ctime_nsec INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE files ADD COLUMN inode INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE files ADD COLUMN uid INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE files ADD COLUMN gid INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE files ADD COLUMN unchanged INTEGER NOT NULL DEFAULT 0;
    )sql",
    // 7: agent ids are namespace/release/pod; rows under the older
    // namespace/pod ids go (their agents register again on reconnect).
    R"sql(
      DELETE FROM agents WHERE id = namespace || '/' || pod;
    )sql",
    // 8: a failed job's canonical status code.
    R"sql(
      ALTER TABLE jobs ADD COLUMN error_code TEXT NOT NULL DEFAULT '';
    )sql",
    // 9: an artifact's Object Lock retention in the store.
    R"sql(
      ALTER TABLE artifacts ADD COLUMN locked_until_unix INTEGER NOT NULL
        DEFAULT 0;
    )sql",
    // 10: an encrypted artifact's recipients and plaintext.
    R"sql(
      ALTER TABLE artifacts ADD COLUMN encrypted_for TEXT NOT NULL DEFAULT '';
      ALTER TABLE artifacts ADD COLUMN plain_bytes INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE artifacts ADD COLUMN plain_sha256 TEXT NOT NULL DEFAULT '';
    )sql",
    // 11: find reads only the rows of files a set stored (unchanged = 0):
    // its indexes leave out an incremental's unchanged files, half the
    // B-tree inserts of a row that only says "as in the base".
    R"sql(
      DROP INDEX files_by_path;
      DROP INDEX files_by_name;
      CREATE INDEX files_by_path ON files (path) WHERE unchanged = 0;
      CREATE INDEX files_by_name ON files (name) WHERE unchanged = 0;
    )sql",
    // 12: retention asks once for every set under Object Lock.
    R"sql(
      CREATE INDEX artifacts_by_lock ON artifacts (locked_until_unix);
    )sql",
    // 13: an external database member's backup identifier; the server
    // version a PostgreSQL dump was taken from.
    R"sql(
      ALTER TABLE artifacts ADD COLUMN external_id TEXT NOT NULL DEFAULT '';
      ALTER TABLE artifacts ADD COLUMN pg_server_version INTEGER NOT NULL
        DEFAULT 0;
    )sql",
    // 14: a discovered database's entry; a dumped database's owner.
    R"sql(
      ALTER TABLE artifacts ADD COLUMN discovered_by TEXT NOT NULL DEFAULT '';
      ALTER TABLE artifacts ADD COLUMN pg_database_owner TEXT NOT NULL
        DEFAULT '';
    )sql",
    // 15: a dumped database's own settings (PgDatabaseSettings as JSON; ""
    // for none).
    R"sql(
      ALTER TABLE artifacts ADD COLUMN pg_database_settings TEXT NOT NULL
        DEFAULT '';
    )sql",
    // 16: holds restores leave on deployments (v1::DeploymentHold).
    R"sql(
      CREATE TABLE deployment_holds (
        namespace TEXT NOT NULL,
        release TEXT NOT NULL,
        set_id TEXT NOT NULL,
        restore_id TEXT NOT NULL,
        reason TEXT NOT NULL,
        since_unix INTEGER NOT NULL,
        running INTEGER NOT NULL,
        PRIMARY KEY (namespace, release)
      );
    )sql",
    // 17: StatefulSets a set scaled down and has not scaled back yet.
    R"sql(
      CREATE TABLE scaled_downs (
        namespace TEXT NOT NULL,
        release TEXT NOT NULL,
        set_id TEXT NOT NULL,
        replicas INTEGER NOT NULL,
        since_unix INTEGER NOT NULL,
        PRIMARY KEY (namespace, release)
      );
    )sql",
    // 18: the latest restore drill of each set (v1::Drill).
    R"sql(
      ALTER TABLE sets ADD COLUMN drill_result TEXT NOT NULL DEFAULT '';
      ALTER TABLE sets ADD COLUMN drilled_unix INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE sets ADD COLUMN drill_rto_seconds INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE sets ADD COLUMN drill_detail TEXT NOT NULL DEFAULT '';
    )sql",
    // 19: a fleet's overview (DeploymentSummaries): each deployment's
    // newest set of a status, and its newest drill, without a scan.
    R"sql(
      CREATE INDEX sets_by_deployment_status
        ON sets (namespace, release, status, finished_unix);
      CREATE INDEX sets_by_status ON sets (status, namespace, release);
      CREATE INDEX sets_drilled ON sets (namespace, release, drilled_unix)
        WHERE drilled_unix > 0;
    )sql",
};

// A prepared statement that finalizes itself.
class Statement {
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
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return sqlite3_step(stmt_); }
  std::string Text(int col) const {
    const unsigned char* t = sqlite3_column_text(stmt_, col);
    return t ? std::string(reinterpret_cast<const char*>(t),
                           sqlite3_column_bytes(stmt_, col))
             : std::string();
  }
  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }

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

template <typename Enum>
Enum ParseEnum(bool (*parse)(const std::string&, Enum*),
               const std::string& name) {
  Enum value{};
  parse(name, &value);
  return value;
}

v1::BackupSet ReadSet(const Statement& st) {
  v1::BackupSet set;
  set.set_id(st.Text(0));
  set.set_namespace_(st.Text(1));
  set.set_release(st.Text(2));
  set.set_status(ParseEnum(&v1::SetStatus_Parse, st.Text(3)));
  set.set_reason(st.Text(4));
  set.set_started_unix(st.Int(5));
  set.set_finished_unix(st.Int(6));
  set.set_bytes(static_cast<uint64_t>(st.Int(7)));
  set.set_fix_level(st.Text(8));
  set.set_policy(st.Text(9));
  v1::Verification* v = set.mutable_verification();
  v1::Verification::Result result = v1::Verification::RESULT_UNSPECIFIED;
  v1::Verification::Result_Parse(st.Text(10), &result);
  v->set_result(result);
  v->set_deep(st.Int(11) != 0);
  v->set_verified_unix(st.Int(12));
  v->set_detail(st.Text(13));
  if (result == v1::Verification::RESULT_UNSPECIFIED) set.clear_verification();
  set.set_quiesce_seconds(st.Int(14));
  for (absl::string_view w :
       absl::StrSplit(st.Text(15), '\n', absl::SkipEmpty())) {
    set.add_warnings(std::string(w));
  }
  set.set_level(ParseEnum(&v1::BackupLevel_Parse, st.Text(16)));
  set.set_base_set_id(st.Text(17));
  v1::Drill::Result drilled = v1::Drill::RESULT_UNSPECIFIED;
  v1::Drill::Result_Parse(st.Text(18), &drilled);
  if (drilled != v1::Drill::RESULT_UNSPECIFIED) {
    v1::Drill* d = set.mutable_drill();
    d->set_result(drilled);
    d->set_drilled_unix(st.Int(19));
    d->set_rto_seconds(st.Int(20));
    d->set_detail(st.Text(21));
  }
  return set;
}

constexpr char kSetColumns[] =
    "id, namespace, release, status, reason, started_unix, finished_unix, "
    "bytes, fix_level, policy, verify_result, verify_deep, verified_unix, "
    "verify_detail, quiesce_seconds, warnings, level, base_set_id, "
    "drill_result, drilled_unix, drill_rto_seconds, drill_detail";

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
    : db_(db), path_(std::move(path)) {}

SqliteCatalog::~SqliteCatalog() { sqlite3_close(db_); }

int SqliteCatalog::LatestSchemaVersion() {
  return static_cast<int>(sizeof kMigrations / sizeof kMigrations[0]);
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
    absl::Status s =
        Exec(absl::StrCat("BEGIN IMMEDIATE;", kMigrations[v],
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
  std::string json;
  v1::AgentInfo stored = agent;
  stored.clear_connected();
  if (!google::protobuf::util::MessageToJsonString(stored, &json).ok()) {
    return absl::InternalError("cannot encode agent");
  }
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_,
               "INSERT INTO agents (id, namespace, release, pod, component, "
               "info_json, connected_unix, last_seen_unix) VALUES "
               "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (id) DO UPDATE "
               "SET namespace = ?2, release = ?3, pod = ?4, component = ?5, "
               "info_json = ?6, connected_unix = ?7, last_seen_unix = ?8");
  st.Bind(1, agent.id())
      .Bind(2, agent.namespace_())
      .Bind(3, agent.release())
      .Bind(4, agent.pod())
      .Bind(5, agent.component())
      .Bind(6, json)
      .Bind(7, agent.connected_unix())
      .Bind(8, agent.last_seen_unix());
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
    if (google::protobuf::util::JsonStringToMessage(st.Text(0), &info).ok()) {
      agents.push_back(std::move(info));
    }
  }
  if (rc != SQLITE_DONE) return st.Error("listing agents");
  return agents;
}

absl::Status SqliteCatalog::WriteSet(const char* sql,
                                     const v1::BackupSet& set) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_, sql);
  st.Bind(1, set.id())
      .Bind(2, set.namespace_())
      .Bind(3, set.release())
      .Bind(4, v1::SetStatus_Name(set.status()))
      .Bind(5, set.reason())
      .Bind(6, set.started_unix())
      .Bind(7, set.finished_unix())
      .Bind(8, static_cast<int64_t>(set.bytes()))
      .Bind(9, set.fix_level())
      .Bind(10, set.policy())
      .Bind(11, set.has_verification()
                    ? v1::Verification::Result_Name(set.verification().result())
                    : std::string())
      .Bind(12, int64_t{set.verification().deep()})
      .Bind(13, set.verification().verified_unix())
      .Bind(14, set.verification().detail())
      .Bind(15, set.quiesce_seconds())
      .Bind(16, absl::StrJoin(set.warnings(), "\n"))
      .Bind(17, set.level() == v1::LEVEL_UNSPECIFIED
                    ? std::string()
                    : v1::BackupLevel_Name(set.level()))
      .Bind(18, set.base_set_id())
      .Bind(19, set.has_drill() ? v1::Drill::Result_Name(set.drill().result())
                                : std::string())
      .Bind(20, set.drill().drilled_unix())
      .Bind(21, set.drill().rto_seconds())
      .Bind(22, set.drill().detail());
  return RunToDone(st, "saving set " + set.id());
}

absl::Status SqliteCatalog::CreateSet(const v1::BackupSet& set) {
  return WriteSet(
      "INSERT INTO sets (id, namespace, release, status, reason, "
      "started_unix, finished_unix, bytes, fix_level, policy, verify_result, "
      "verify_deep, verified_unix, verify_detail, quiesce_seconds, warnings, "
      "level, base_set_id, drill_result, drilled_unix, drill_rto_seconds, "
      "drill_detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
      "?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)",
      set);
}

absl::Status SqliteCatalog::UpdateSet(const v1::BackupSet& set) {
  return WriteSet(
      "UPDATE sets SET namespace = ?2, release = ?3, status = ?4, "
      "reason = ?5, started_unix = ?6, finished_unix = ?7, bytes = ?8, "
      "fix_level = ?9, policy = ?10, verify_result = ?11, verify_deep = ?12, "
      "verified_unix = ?13, verify_detail = ?14, quiesce_seconds = ?15, "
      "warnings = ?16, level = ?17, base_set_id = ?18, drill_result = ?19, "
      "drilled_unix = ?20, drill_rto_seconds = ?21, drill_detail = ?22 "
      "WHERE id = ?1",
      set);
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

// The WHERE clause of a set filter, with only the filter's fields (so that
// SQLite picks the index they allow), and the values to bind, in order.
struct SetFilter {
  std::string where;
  std::vector<std::variant<std::string, int64_t>> values;
};

SetFilter SetFilterOf(const v1::ListSetsRequest& f) {
  SetFilter out;
  std::vector<std::string> terms;
  auto add = [&](const char* term, std::variant<std::string, int64_t> value) {
    terms.push_back(absl::StrCat(term, " ?", out.values.size() + 1));
    out.values.push_back(std::move(value));
  };
  if (!f.namespace_().empty()) add("namespace =", f.namespace_());
  if (!f.release().empty()) add("release =", f.release());
  if (f.status() != v1::SET_STATUS_UNSPECIFIED) {
    add("status =", v1::SetStatus_Name(f.status()));
  }
  if (f.since_unix() != 0) add("started_unix >=", f.since_unix());
  if (f.until_unix() != 0) add("started_unix <", f.until_unix());
  if (!f.policy().empty()) add("policy =", f.policy());
  if (!terms.empty()) out.where = " WHERE " + absl::StrJoin(terms, " AND ");
  return out;
}

void BindFilter(Statement& st, const SetFilter& filter) {
  for (size_t i = 0; i < filter.values.size(); ++i) {
    std::visit([&](const auto& v) { st.Bind(static_cast<int>(i + 1), v); },
               filter.values[i]);
  }
}

}  // namespace

absl::StatusOr<std::vector<v1::BackupSet>> SqliteCatalog::ListSets(
    const v1::ListSetsRequest& f) {
  std::lock_guard<std::mutex> lock(mu_);
  const SetFilter filter = SetFilterOf(f);
  std::string sql =
      absl::StrCat("SELECT ", kSetColumns, " FROM sets", filter.where,
                   " ORDER BY started_unix DESC, rowid DESC");
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
  auto each_row =
      [&](const char* sql, const char* what,
          const std::function<void(DeploymentSummary&, const Statement&)>&
              take) {
        Statement st(db_, sql);
        if (!st.ok()) return st.Error(what);
        st.Bind(1, namespace_).Bind(2, release);
        int rc;
        while ((rc = st.Step()) == SQLITE_ROW) {
          auto it = at.find({st.Text(0), st.Text(1)});
          if (it != at.end()) take(out[it->second], st);
        }
        return rc == SQLITE_DONE ? absl::OkStatus() : st.Error(what);
      };
  absl::Status s = each_row(
      "SELECT namespace, release, id, started_unix, reason FROM sets INDEXED "
      "BY sets_by_status WHERE status = 'SET_FAILED' AND (?1 = '' OR "
      "(namespace = ?1 AND release = ?2))",
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
      "WHERE drilled_unix > 0 AND (?1 = '' OR (namespace = ?1 AND release = "
      "?2))",
      "finding drills", [](DeploymentSummary& d, const Statement& row) {
        if (!d.drilled_id.empty() && row.Int(4) < d.drill.drilled_unix()) {
          return;
        }
        d.drilled_id = row.Text(2);
        v1::Drill::Result result = v1::Drill::RESULT_UNSPECIFIED;
        v1::Drill::Result_Parse(row.Text(3), &result);
        d.drill.set_result(result);
        d.drill.set_drilled_unix(row.Int(4));
        d.drill.set_rto_seconds(row.Int(5));
        d.drill.set_detail(row.Text(6));
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
    Statement st(db_,
                 "INSERT INTO files (set_id, target, path, type, size, mode, "
                 "mtime_unix, link, name, mtime_nsec, ctime_unix, ctime_nsec, "
                 "inode, uid, gid, unchanged) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                 "?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)");
    for (const v1::FileEntry& e : entries) {
      if (!s.ok()) break;
      st.Reset();
      st.Bind(1, set_id)
          .Bind(2, target)
          .Bind(3, e.path())
          .Bind(4, e.type())
          .Bind(5, static_cast<int64_t>(e.size()))
          .Bind(6, static_cast<int64_t>(e.mode()))
          .Bind(7, e.mtime_unix())
          .Bind(8, e.link())
          .Bind(9, e.path().substr(e.path().rfind('/') + 1))
          .Bind(10, int64_t{e.mtime_nsec()})
          .Bind(11, e.ctime_unix())
          .Bind(12, int64_t{e.ctime_nsec()})
          .Bind(13, static_cast<int64_t>(e.inode()))
          .Bind(14, int64_t{e.uid()})
          .Bind(15, int64_t{e.gid()})
          .Bind(16, int64_t{e.unchanged()});
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

namespace {

constexpr char kIndexedFileColumns[] =
    "f.set_id, f.target, f.path, f.type, f.size, f.mode, f.mtime_unix, "
    "f.link, s.started_unix, s.namespace, s.release, f.mtime_nsec, "
    "f.ctime_unix, f.ctime_nsec, f.inode, f.uid, f.gid, f.unchanged";

v1::IndexedFile ReadIndexedFile(const Statement& st) {
  v1::IndexedFile f;
  f.set_set_id(st.Text(0));
  f.set_target(st.Text(1));
  v1::FileEntry* e = f.mutable_entry();
  e->set_path(st.Text(2));
  e->set_type(st.Text(3));
  e->set_size(static_cast<uint64_t>(st.Int(4)));
  e->set_mode(static_cast<uint32_t>(st.Int(5)));
  e->set_mtime_unix(st.Int(6));
  e->set_link(st.Text(7));
  f.set_set_started_unix(st.Int(8));
  f.set_namespace_(st.Text(9));
  f.set_release(st.Text(10));
  e->set_mtime_nsec(static_cast<int32_t>(st.Int(11)));
  e->set_ctime_unix(st.Int(12));
  e->set_ctime_nsec(static_cast<int32_t>(st.Int(13)));
  e->set_inode(static_cast<uint64_t>(st.Int(14)));
  e->set_uid(static_cast<uint32_t>(st.Int(15)));
  e->set_gid(static_cast<uint32_t>(st.Int(16)));
  e->set_unchanged(st.Int(17) != 0);
  return f;
}

}  // namespace

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

absl::Status SqliteCatalog::UpsertJob(const v1::Job& job) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_,
               "INSERT INTO jobs (id, set_id, kind, target, agent_id, status, "
               "error, started_unix, finished_unix, bytes, files, log, "
               "error_code) VALUES "
               "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) "
               "ON CONFLICT (id) DO UPDATE SET agent_id = ?5, status = ?6, "
               "error = ?7, started_unix = ?8, finished_unix = ?9, "
               "bytes = ?10, files = ?11, log = ?12, error_code = ?13");
  st.Bind(1, job.id())
      .Bind(2, job.set_id())
      .Bind(3, v1::JobKind_Name(job.kind()))
      .Bind(4, job.target())
      .Bind(5, job.agent_id())
      .Bind(6, v1::JobStatus_Name(job.status()))
      .Bind(7, job.error())
      .Bind(8, job.started_unix())
      .Bind(9, job.finished_unix())
      .Bind(10, static_cast<int64_t>(job.bytes()))
      .Bind(11, static_cast<int64_t>(job.files()))
      .Bind(12, job.log())
      .Bind(13, job.error_code());
  return RunToDone(st, "saving job " + job.id());
}

namespace {

constexpr char kJobColumns[] =
    "id, set_id, kind, target, agent_id, status, error, started_unix, "
    "finished_unix, bytes, files, log, error_code";

v1::Job ReadJob(const Statement& st) {
  v1::Job job;
  job.set_id(st.Text(0));
  job.set_set_id(st.Text(1));
  job.set_kind(ParseEnum(&v1::JobKind_Parse, st.Text(2)));
  job.set_target(st.Text(3));
  job.set_agent_id(st.Text(4));
  job.set_status(ParseEnum(&v1::JobStatus_Parse, st.Text(5)));
  job.set_error(st.Text(6));
  job.set_started_unix(st.Int(7));
  job.set_finished_unix(st.Int(8));
  job.set_bytes(static_cast<uint64_t>(st.Int(9)));
  job.set_files(static_cast<uint64_t>(st.Int(10)));
  job.set_log(st.Text(11));
  job.set_error_code(st.Text(12));
  return job;
}

}  // namespace

absl::StatusOr<std::vector<v1::Job>> SqliteCatalog::ListJobs(
    const std::string& set_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_, absl::StrCat("SELECT ", kJobColumns,
                                 " FROM jobs WHERE set_id = ?1 ORDER BY rowid")
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
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_,
               "INSERT INTO artifacts (set_id, target, kind, path, bytes, "
               "sha256, compression, file_count, fix_level, created_unix, "
               "source, base_set_id, locked_until_unix, encrypted_for, "
               "plain_bytes, plain_sha256, external_id, pg_server_version, "
               "discovered_by, pg_database_owner, pg_database_settings) "
               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
               "?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)");
  std::string settings;
  if (a.has_pg_database_settings()) {
    if (!google::protobuf::util::MessageToJsonString(a.pg_database_settings(),
                                                     &settings)
             .ok()) {
      return absl::InternalError("cannot encode a database's settings");
    }
  }
  st.Bind(1, a.set_id())
      .Bind(2, a.target())
      .Bind(3, v1::ArtifactKind_Name(a.kind()))
      .Bind(4, a.path())
      .Bind(5, static_cast<int64_t>(a.bytes()))
      .Bind(6, a.sha256())
      .Bind(7, v1::Compression_Name(a.compression()))
      .Bind(8, static_cast<int64_t>(a.file_count()))
      .Bind(9, a.fix_level())
      .Bind(10, a.created_unix())
      .Bind(11, a.source())
      .Bind(12, a.base_set_id())
      .Bind(13, a.locked_until_unix())
      .Bind(14, a.encrypted_for())
      .Bind(15, static_cast<int64_t>(a.plain_bytes()))
      .Bind(16, a.plain_sha256())
      .Bind(17, a.external_id())
      .Bind(18, int64_t{a.pg_server_version()})
      .Bind(19, a.discovered_by())
      .Bind(20, a.pg_database_owner())
      .Bind(21, settings);
  return RunToDone(st, "recording artifact " + a.path());
}

absl::StatusOr<std::vector<v1::Artifact>> SqliteCatalog::ListArtifacts(
    const std::string& set_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_,
               "SELECT set_id, target, kind, path, bytes, sha256, compression, "
               "file_count, fix_level, created_unix, source, base_set_id, "
               "locked_until_unix, encrypted_for, plain_bytes, plain_sha256, "
               "external_id, pg_server_version, discovered_by, "
               "pg_database_owner, pg_database_settings FROM artifacts WHERE "
               "set_id = ?1 ORDER BY target");
  if (!st.ok()) return st.Error("listing artifacts");
  st.Bind(1, set_id);
  std::vector<v1::Artifact> artifacts;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    v1::Artifact a;
    a.set_set_id(st.Text(0));
    a.set_target(st.Text(1));
    a.set_kind(ParseEnum(&v1::ArtifactKind_Parse, st.Text(2)));
    a.set_path(st.Text(3));
    a.set_bytes(static_cast<uint64_t>(st.Int(4)));
    a.set_sha256(st.Text(5));
    a.set_compression(ParseEnum(&v1::Compression_Parse, st.Text(6)));
    a.set_file_count(static_cast<uint64_t>(st.Int(7)));
    a.set_fix_level(st.Text(8));
    a.set_created_unix(st.Int(9));
    a.set_source(st.Text(10));
    a.set_base_set_id(st.Text(11));
    a.set_locked_until_unix(st.Int(12));
    a.set_encrypted_for(st.Text(13));
    a.set_plain_bytes(static_cast<uint64_t>(st.Int(14)));
    a.set_plain_sha256(st.Text(15));
    a.set_external_id(st.Text(16));
    a.set_pg_server_version(static_cast<int32_t>(st.Int(17)));
    a.set_discovered_by(st.Text(18));
    a.set_pg_database_owner(st.Text(19));
    if (const std::string settings = st.Text(20); !settings.empty()) {
      if (!google::protobuf::util::JsonStringToMessage(
               settings, a.mutable_pg_database_settings())
               .ok()) {
        return absl::DataLossError(
            absl::StrCat("the catalog's settings of database ", a.target(),
                         " in set ", a.set_id(), " are unreadable"));
      }
    }
    artifacts.push_back(std::move(a));
  }
  if (rc != SQLITE_DONE) return st.Error("listing artifacts");
  return artifacts;
}

absl::StatusOr<std::vector<std::string>> SqliteCatalog::AllArtifactPaths() {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_, "SELECT path FROM artifacts");
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
  Statement st(db_,
               "SELECT namespace, release, set_id, restore_id, reason, "
               "since_unix, running FROM deployment_holds ORDER BY namespace, "
               "release");
  if (!st.ok()) return st.Error("reading deployment holds");
  std::vector<v1::DeploymentHold> holds;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    v1::DeploymentHold& hold = holds.emplace_back();
    hold.set_namespace_(st.Text(0));
    hold.set_release(st.Text(1));
    hold.set_set_id(st.Text(2));
    hold.set_restore_id(st.Text(3));
    hold.set_reason(st.Text(4));
    hold.set_since_unix(st.Int(5));
    hold.set_running(st.Int(6) != 0);
  }
  if (rc != SQLITE_DONE) return st.Error("reading deployment holds");
  return holds;
}

absl::Status SqliteCatalog::PutHold(const v1::DeploymentHold& hold) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_,
               "INSERT OR REPLACE INTO deployment_holds (namespace, release, "
               "set_id, restore_id, reason, since_unix, running) VALUES "
               "(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  st.Bind(1, hold.namespace_())
      .Bind(2, hold.release())
      .Bind(3, hold.set_id())
      .Bind(4, hold.restore_id())
      .Bind(5, hold.reason())
      .Bind(6, hold.since_unix())
      .Bind(7, int64_t{hold.running()});
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
