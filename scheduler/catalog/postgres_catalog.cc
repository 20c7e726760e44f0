#include "scheduler/catalog/postgres_catalog.h"

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <map>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "scheduler/catalog/catalog_fence.h"
#include "scheduler/catalog/catalog_schema.h"
#include "scheduler/catalog/replica_fence.h"

namespace dxbackup::scheduler {
namespace {

// pg_advisory_lock's key while migrating: "dxbk".
constexpr int64_t kMigrationLock = 0x6478626b;
// The transaction lock CreateSetWithin takes: "dxac" + 2 (the active
// lock's is "dxac", the fence's "dxac" + 1).
constexpr char kAdmitSetsLockSql[] = "SELECT pg_advisory_xact_lock(1685610853)";
// Rows a cursor fetches at a time (ForEachFile).
constexpr int kFetchRows = 2000;
// As SqliteCatalog's FindFiles.
constexpr int kMaxFindResults = 10000;

// A row of text values (PgConnection::Query's).
// A row read in place from libpq's result (PgConnection::QueryEach).
class ResultRow : public SqlRow {
 public:
  explicit ResultRow(const PgConnection::Row& row) : row_(row) {}
  std::string Text(int column) const override {
    return std::string(row_.Text(column));
  }
  int64_t Int(int column) const override {
    // libpq's text ends with a NUL.
    return std::strtoll(row_.Text(column).data(), nullptr, 10);
  }

 private:
  const PgConnection::Row& row_;
};

class TextRow : public SqlRow {
 public:
  explicit TextRow(const std::vector<std::string>& row) : row_(row) {}
  std::string Text(int column) const override { return row_.at(column); }
  int64_t Int(int column) const override {
    return std::strtoll(row_.at(column).c_str(), nullptr, 10);
  }

 private:
  const std::vector<std::string>& row_;
};

// SQLite's ?N placeholders as PostgreSQL's $N (the statements have no
// other '?' followed by a digit: no literal holds one).
std::string DollarPlaceholders(const std::string& sql) {
  std::string out = sql;
  for (size_t i = 0; i + 1 < out.size(); ++i) {
    if (out[i] == '?' && absl::ascii_isdigit(out[i + 1])) out[i] = '$';
  }
  return out;
}

std::string TextOf(const SqlValue& value) {
  if (const int64_t* i = std::get_if<int64_t>(&value)) {
    return std::to_string(*i);
  }
  return std::get<std::string>(value);
}

// A GLOB pattern as SQLite reads it (* any run, ? one character, [...] a
// set, [^...] its complement, a ] first in a set is literal; case-
// sensitive; an unclosed [ matches nothing) as an anchored POSIX regular
// expression for PostgreSQL's ~; nullopt when nothing can match.
std::optional<std::string> GlobToRegex(const std::string& glob) {
  std::string out = "^";
  for (size_t i = 0; i < glob.size(); ++i) {
    const char c = glob[i];
    if (c == '*') {
      out += ".*";
    } else if (c == '?') {
      out += ".";
    } else if (c == '[') {
      size_t at = i + 1;
      const bool negated = at < glob.size() && glob[at] == '^';
      if (negated) ++at;
      // The set's first character may be ']'.
      const size_t end = glob.find(']', at + 1);
      if (at >= glob.size() || end == std::string::npos) return std::nullopt;
      out += negated ? "[^" : "[";
      for (size_t k = at; k < end; ++k) {
        // Inside a bracket expression, only these mean anything more.
        if (glob[k] == '\\' || glob[k] == '[' || glob[k] == ']') out += '\\';
        out += glob[k];
      }
      out += "]";
      i = end;
    } else {
      if (std::string_view(".^$+(){}|\\[]").find(c) != std::string::npos) {
        out += '\\';
      }
      out += c;
    }
  }
  return out + "$";
}

}  // namespace

// One pooled connection, given back (or dropped, when broken) at its end.
class PostgresCatalog::Lease {
 public:
  Lease(PostgresCatalog* owner, std::unique_ptr<PgConnection> conn)
      : owner_(owner), conn_(std::move(conn)) {}
  Lease(Lease&& other) noexcept
      : owner_(other.owner_), conn_(std::move(other.conn_)) {
    other.owner_ = nullptr;
  }
  Lease& operator=(Lease&&) = delete;
  ~Lease() {
    if (owner_ == nullptr) return;
    {
      std::lock_guard<std::mutex> lock(owner_->mu_);
      // Back to the pool only when good and outside any transaction (a
      // call that failed mid-way may have left one open).
      if (conn_ != nullptr && conn_->Reusable()) {
        owner_->idle_.push_back(std::move(conn_));
      }
      ++owner_->free_slots_;
    }
    owner_->freed_.notify_one();
  }
  PgConnection& operator*() { return *conn_; }
  PgConnection* operator->() { return conn_.get(); }

 private:
  PostgresCatalog* owner_;
  std::unique_ptr<PgConnection> conn_;
};

PostgresCatalog::PostgresCatalog(v1::Database server, std::string password,
                                 int connections)
    : server_(std::move(server)),
      password_(std::move(password)),
      free_slots_(connections),
      // Unfenced: a replica's lease guards itself (replica_rows.h), and
      // its renewals must go on under any fence; on a connection of their
      // own, so that calls holding the pool (a slow reader of a listing,
      // sets waiting for admission) never hold a renewal up.
      replicas_(SqlEngine::kPostgres,
                [this](const std::string& what, const std::string& sql,
                       const std::vector<SqlValue>& values) {
                  return RunForReplicas(what, sql, values);
                }) {}

absl::StatusOr<PostgresCatalog::Rows> PostgresCatalog::RunForReplicas(
    const std::string& what, const std::string& sql,
    const std::vector<SqlValue>& values) {
  std::lock_guard<std::mutex> lock(replicas_mu_);
  if (replicas_conn_ != nullptr && !replicas_conn_->Reusable()) {
    replicas_conn_.reset();
  }
  if (replicas_conn_ == nullptr) {
    absl::StatusOr<std::unique_ptr<PgConnection>> opened =
        PgConnection::Open(server_, password_);
    if (!opened.ok()) {
      return absl::UnavailableError(
          absl::StrCat("the catalog's PostgreSQL cannot be reached: ",
                       opened.status().message(), "; ", what, " failed"));
    }
    replicas_conn_ = *std::move(opened);
  }
  return QueryOn(*replicas_conn_, what, sql, values);
}

PostgresCatalog::~PostgresCatalog() = default;

absl::StatusOr<std::unique_ptr<PostgresCatalog>> PostgresCatalog::Open(
    const v1::Database& server, int connections) {
  absl::StatusOr<std::string> password = ReadPassword(server);
  if (!password.ok()) return password.status();
  std::unique_ptr<PostgresCatalog> catalog(new PostgresCatalog(
      server, *std::move(password), std::max(connections, 1)));
  if (absl::Status s = catalog->Migrate(); !s.ok()) return s;
  return catalog;
}

absl::StatusOr<PostgresCatalog::Lease> PostgresCatalog::Acquire() {
  std::unique_ptr<PgConnection> conn;
  {
    std::unique_lock<std::mutex> lock(mu_);
    freed_.wait(lock, [this] { return free_slots_ > 0; });
    --free_slots_;
    // An idle connection the server closed meanwhile (it restarted) is
    // dropped here, before anything is sent on it.
    while (!idle_.empty() && conn == nullptr) {
      conn = std::move(idle_.back());
      idle_.pop_back();
      if (!conn->Reusable()) conn.reset();
    }
  }
  if (conn == nullptr) {
    absl::StatusOr<std::unique_ptr<PgConnection>> opened =
        PgConnection::Open(server_, password_);
    if (!opened.ok()) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++free_slots_;
      }
      freed_.notify_one();
      return absl::UnavailableError(
          absl::StrCat("the catalog's PostgreSQL cannot be reached: ",
                       opened.status().message(),
                       "; calls to the catalog fail until it is back"));
    }
    conn = *std::move(opened);
    // A write of this scheduler's left open when its host vanished would
    // hold the fence (catalog_fence.h) until the server found the session
    // dead. Best effort: a server that refuses still serves.
    conn->ProbeClientFromServer().IgnoreError();
  }
  return Lease(this, std::move(conn));
}

absl::StatusOr<PostgresCatalog::Rows> PostgresCatalog::RunOn(
    Lease& lease, const std::string& what, const std::string& sql,
    const std::vector<SqlValue>& values) {
  return QueryOn(*lease, what, sql, values);
}

absl::StatusOr<PostgresCatalog::Rows> PostgresCatalog::QueryOn(
    PgConnection& conn, const std::string& what, const std::string& sql,
    const std::vector<SqlValue>& values) const {
  std::vector<std::string> params;
  params.reserve(values.size());
  for (const SqlValue& v : values) params.push_back(TextOf(v));
  absl::StatusOr<Rows> rows = conn.Query(DollarPlaceholders(sql), params);
  if (!rows.ok()) return Describe(what, rows.status());
  return rows;
}

absl::Status PostgresCatalog::Describe(const std::string& what,
                                       const absl::Status& error) const {
  // As SQLite's errors: Internal, unless the kind says more (the server is
  // gone, a key exists). Callers read FailedPrecondition otherwise.
  const absl::StatusCode code =
      error.code() == absl::StatusCode::kFailedPrecondition
          ? absl::StatusCode::kInternal
          : error.code();
  return absl::Status(
      code, absl::StrCat("catalog (PostgreSQL ", DescribeDatabase(server_),
                         "): ", what, ": ", error.message()));
}

absl::StatusOr<PostgresCatalog::Rows> PostgresCatalog::Run(
    const std::string& what, const std::string& sql,
    const std::vector<SqlValue>& values) {
  // Never sent twice: a statement whose answer was lost may have been
  // committed (a slot claimed, a row inserted).
  absl::StatusOr<Lease> lease = Acquire();
  if (!lease.ok()) return lease.status();
  return RunOn(*lease, what, sql, values);
}

void PostgresCatalog::FenceWith(
    int64_t epoch, std::function<void(const absl::Status&)> on_fenced) {
  fence_epoch_ = epoch;
  on_fenced_ = std::move(on_fenced);
}

void PostgresCatalog::FenceAsReplica(
    std::string id, std::function<void(const absl::Status&)> on_fenced) {
  fence_replica_ = std::move(id);
  on_fenced_ = std::move(on_fenced);
}

absl::Status PostgresCatalog::CheckReplicaFence(Lease& lease,
                                                const std::string& what) {
  absl::StatusOr<Rows> live =
      RunOn(lease, what, replica_fence::kLockShared, {fence_replica_});
  if (live.ok()) {
    live = RunOn(lease, what, replicas_.Sql(replica_fence::kCheckLive),
                 {fence_replica_});
  }
  if (!live.ok()) return live.status();
  if (!live->empty()) return absl::OkStatus();
  const absl::Status fenced = absl::FailedPreconditionError(absl::StrCat(
      "catalog (PostgreSQL ", DescribeDatabase(server_), "): ", what,
      ": scheduler replica ", fence_replica_,
      "'s lease has lapsed (its deployments go to other replicas); it must "
      "not change the catalog any more"));
  if (on_fenced_) on_fenced_(fenced);
  return fenced;
}

absl::Status PostgresCatalog::BeginWrite(Lease& lease,
                                         const std::string& what) {
  absl::Status s = RunOn(lease, what, "BEGIN", {}).status();
  if (s.ok() && !fence_replica_.empty()) s = CheckReplicaFence(lease, what);
  if (!s.ok() || fence_epoch_ == 0) return s;
  absl::StatusOr<Rows> fence =
      RunOn(lease, what, catalog_fence::kCheckLock, {});
  if (fence.ok()) fence = RunOn(lease, what, catalog_fence::kCheckEpoch, {});
  if (!fence.ok()) return fence.status();
  const std::string now = fence->empty() ? "" : fence->at(0).at(0);
  if (now == std::to_string(fence_epoch_)) return absl::OkStatus();
  const absl::Status fenced = absl::FailedPreconditionError(absl::StrCat(
      "catalog (PostgreSQL ", DescribeDatabase(server_), "): ", what,
      ": another scheduler became the active one (the catalog's epoch is ",
      now.empty() ? "unset" : now, ", this scheduler's ", fence_epoch_,
      "); this one must not change the catalog any more"));
  if (on_fenced_) on_fenced_(fenced);
  return fenced;
}

absl::StatusOr<PostgresCatalog::Rows> PostgresCatalog::Write(
    const std::string& what, const std::string& sql,
    const std::vector<SqlValue>& values) {
  if (fence_epoch_ == 0 && fence_replica_.empty()) {
    return Run(what, sql, values);
  }
  absl::StatusOr<Lease> lease = Acquire();
  if (!lease.ok()) return lease.status();
  if (absl::Status begun = BeginWrite(*lease, what); !begun.ok()) {
    (*lease)->Execute("ROLLBACK").IgnoreError();
    return begun;
  }
  absl::StatusOr<Rows> rows = RunOn(*lease, what, sql, values);
  if (rows.ok()) {
    absl::Status committed = RunOn(*lease, what, "COMMIT", {}).status();
    if (!committed.ok()) rows = committed;
  }
  if (!rows.ok()) (*lease)->Execute("ROLLBACK").IgnoreError();
  return rows;
}

template <typename T, typename Read>
absl::StatusOr<std::vector<T>> PostgresCatalog::ReadAll(
    const std::string& what, const std::string& sql,
    const std::vector<SqlValue>& values, Read read) {
  absl::StatusOr<Lease> lease = Acquire();
  if (!lease.ok()) return lease.status();
  std::vector<std::string> params;
  params.reserve(values.size());
  for (const SqlValue& v : values) params.push_back(TextOf(v));
  // Rows are decoded where libpq holds them: a list of thousands of sets
  // is not copied into strings first.
  std::vector<T> out;
  absl::Status s = (*lease)->QueryEach(DollarPlaceholders(sql), params,
                                       [&](const PgConnection::Row& row) {
                                         out.push_back(read(ResultRow(row)));
                                       });
  if (!s.ok()) return Describe(what, s);
  return out;
}

absl::StatusOr<int> PostgresCatalog::SchemaVersion() {
  absl::StatusOr<Rows> rows =
      Run("reading the schema version",
          "SELECT COALESCE(MAX(version), 0) FROM dxbackup_schema_version");
  if (!rows.ok()) return rows.status();
  return std::atoi(rows->at(0).at(0).c_str());
}

absl::Status PostgresCatalog::Migrate() {
  absl::StatusOr<Lease> lease = Acquire();
  if (!lease.ok()) return lease.status();
  auto run = [&](const std::string& what, const std::string& sql) {
    return RunOn(*lease, what, sql, {}).status();
  };
  // Other schedulers starting now wait here until this one has migrated.
  if (absl::Status s =
          run("taking the migration lock",
              absl::StrCat("SELECT pg_advisory_lock(", kMigrationLock, ")"));
      !s.ok()) {
    return s;
  }
  struct Unlock {
    std::function<void()> f;
    ~Unlock() { f(); }
  } unlock{[&] {
    run("releasing the migration lock",
        absl::StrCat("SELECT pg_advisory_unlock(", kMigrationLock, ")"))
        .IgnoreError();
  }};
  // CREATE TABLE IF NOT EXISTS would print a NOTICE at every start.
  run("quieting notices", "SET client_min_messages = warning").IgnoreError();
  if (absl::Status s = run("creating the schema version table",
                           "CREATE TABLE IF NOT EXISTS dxbackup_schema_version "
                           "(version BIGINT NOT NULL)");
      !s.ok()) {
    return s;
  }
  absl::StatusOr<Rows> rows = RunOn(
      *lease, "reading the schema version",
      "SELECT COALESCE(MAX(version), 0) FROM dxbackup_schema_version", {});
  if (!rows.ok()) return rows.status();
  const int current = std::atoi(rows->at(0).at(0).c_str());
  const int latest = static_cast<int>(CatalogMigrations().size());
  if (current > latest) {
    return absl::FailedPreconditionError(
        absl::StrCat("the catalog in PostgreSQL ", DescribeDatabase(server_),
                     " has schema version ", current,
                     " but this dxbackup-scheduler knows only up to ", latest,
                     ": run a newer scheduler"));
  }
  for (int v = current; v < latest; ++v) {
    absl::Status s = (*lease)->Execute(
        absl::StrCat("BEGIN;", RenderMigration(SqlEngine::kPostgres, v),
                     "; DELETE FROM dxbackup_schema_version; INSERT INTO "
                     "dxbackup_schema_version VALUES (",
                     v + 1, "); COMMIT;"));
    if (!s.ok()) {
      (*lease)->Execute("ROLLBACK").IgnoreError();
      return absl::InternalError(absl::StrCat(
          "migrating the catalog in PostgreSQL ", DescribeDatabase(server_),
          " to schema ", v + 1, ": ", s.message()));
    }
  }
  return absl::OkStatus();
}

absl::Status PostgresCatalog::UpsertAgent(const v1::AgentInfo& agent) {
  absl::StatusOr<std::vector<SqlValue>> values = AgentValues(agent);
  if (!values.ok()) return values.status();
  return Write("saving agent " + agent.id(), UpsertAgentSql(), *values)
      .status();
}

namespace {

// The agents of rows of `SELECT info_json FROM agents`; a row that does not
// parse is left out.
std::vector<v1::AgentInfo> AgentsOfRows(
    const std::vector<std::vector<std::string>>& rows) {
  std::vector<v1::AgentInfo> agents;
  for (const std::vector<std::string>& row : rows) {
    v1::AgentInfo info;
    if (ReadAgentJson(row.at(0), &info)) agents.push_back(std::move(info));
  }
  return agents;
}

}  // namespace

absl::StatusOr<std::vector<v1::AgentInfo>> PostgresCatalog::ListAgentsOf(
    const std::string& namespace_, const std::string& release) {
  absl::StatusOr<Rows> rows =
      Run("listing a deployment's agents",
          "SELECT info_json FROM agents WHERE namespace = ?1 AND release = ?2 "
          "ORDER BY component, pod",
          {namespace_, release});
  if (!rows.ok()) return rows.status();
  return AgentsOfRows(*rows);
}

absl::StatusOr<std::vector<v1::AgentInfo>> PostgresCatalog::ListAgents() {
  absl::StatusOr<Rows> rows = Run("listing agents",
                                  "SELECT info_json FROM agents ORDER BY "
                                  "namespace, release, component, pod");
  if (!rows.ok()) return rows.status();
  return AgentsOfRows(*rows);
}

absl::Status PostgresCatalog::DeleteAgent(const std::string& id) {
  return Write("removing agent " + id, "DELETE FROM agents WHERE id = ?1", {id})
      .status();
}

absl::Status PostgresCatalog::CreateSet(const v1::BackupSet& set) {
  return Write("saving set " + set.id(), InsertSetSql(), SetValues(set))
      .status();
}

absl::Status PostgresCatalog::CreateSetWithin(const v1::BackupSet& set,
                                              const SetLimits& limits) {
  absl::StatusOr<Lease> lease = Acquire();
  if (!lease.ok()) return lease.status();
  const std::string what = "starting set " + set.id();
  absl::Status s = BeginWrite(*lease, what);
  // Schedulers admitting sets take turns: the count and the insert of one
  // see every set another admitted before it.
  if (s.ok()) s = RunOn(*lease, what, kAdmitSetsLockSql, {}).status();
  absl::StatusOr<Rows> count = Rows{};
  if (s.ok()) {
    count = RunOn(*lease, what, kRunningSetsSql, {set.namespace_()});
    s = count.status();
  }
  if (s.ok()) {
    int64_t running = 0, in_namespace = 0;
    if (count->empty() || !absl::SimpleAtoi(count->at(0).at(0), &running) ||
        !absl::SimpleAtoi(count->at(0).at(1), &in_namespace)) {
      s = absl::InternalError(
          absl::StrCat(what, ": the count of running sets did not read"));
    } else {
      s = CheckSetLimits(limits, running, in_namespace, set.namespace_());
    }
  }
  if (s.ok()) s = RunOn(*lease, what, InsertSetSql(), SetValues(set)).status();
  if (s.ok()) s = RunOn(*lease, what, "COMMIT", {}).status();
  if (!s.ok()) (*lease)->Execute("ROLLBACK").IgnoreError();
  return s;
}

absl::Status PostgresCatalog::UpdateSet(const v1::BackupSet& set) {
  return Write("saving set " + set.id(), kUpdateSetSql, SetValues(set))
      .status();
}

absl::Status PostgresCatalog::RecordDrill(const std::string& set_id,
                                          const v1::Drill& drill) {
  absl::StatusOr<Rows> rows =
      Write("recording the drill of set " + set_id,
            "UPDATE sets SET drill_result = ?2, drilled_unix = ?3, "
            "drill_rto_seconds = ?4, drill_detail = ?5 WHERE id = ?1 "
            "RETURNING id",
            {set_id, v1::Drill::Result_Name(drill.result()),
             drill.drilled_unix(), drill.rto_seconds(), drill.detail()});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) {
    return absl::NotFoundError(absl::StrCat("no backup set ", set_id));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::BackupSet> PostgresCatalog::GetSet(const std::string& id) {
  absl::StatusOr<std::vector<v1::BackupSet>> sets = ReadAll<v1::BackupSet>(
      "reading set " + id,
      absl::StrCat("SELECT ", kSetColumns, " FROM sets WHERE id = ?1"), {id},
      ReadSet);
  if (!sets.ok()) return sets.status();
  if (sets->empty()) {
    return absl::NotFoundError(
        absl::StrCat("no backup set ", id, "; `dxbackup sets` lists them"));
  }
  return std::move(sets->front());
}

absl::StatusOr<std::vector<v1::BackupSet>> PostgresCatalog::ListSets(
    const v1::ListSetsRequest& f) {
  const SetFilter filter = SetFilterOf(f);
  std::string sql = absl::StrCat("SELECT ", kSetColumns, " FROM sets",
                                 filter.where, " ORDER BY ", kSetOrder);
  if (f.limit() > 0) absl::StrAppend(&sql, " LIMIT ", f.limit());
  if (f.offset() > 0) absl::StrAppend(&sql, " OFFSET ", f.offset());
  return ReadAll<v1::BackupSet>("listing sets", sql, filter.values, ReadSet);
}

absl::StatusOr<int64_t> PostgresCatalog::CountSets(
    const v1::ListSetsRequest& f) {
  const SetFilter filter = SetFilterOf(f);
  absl::StatusOr<Rows> rows = Run(
      "counting sets", absl::StrCat("SELECT COUNT(*) FROM sets", filter.where),
      filter.values);
  if (!rows.ok()) return rows.status();
  return TextRow(rows->at(0)).Int(0);
}

absl::StatusOr<std::vector<SetCatalog::DeploymentSummary>>
PostgresCatalog::DeploymentSummaries(const std::string& namespace_,
                                     const std::string& release) {
  // One deployment, or (namespace "") every one.
  const std::string where_deployment =
      "(?1::text = '' OR (namespace = ?1 AND release = ?2))";
  const std::vector<SqlValue> names = {namespace_, release};
  absl::StatusOr<Rows> counted =
      Run("summing up deployments",
          absl::StrCat("SELECT namespace, release, COUNT(*), MAX(started_unix) "
                       "FROM sets WHERE ",
                       where_deployment, " GROUP BY namespace, release"),
          names);
  if (!counted.ok()) return counted.status();
  std::vector<DeploymentSummary> out;
  std::map<std::pair<std::string, std::string>, size_t> at;
  for (const std::vector<std::string>& r : *counted) {
    TextRow row(r);
    DeploymentSummary d;
    d.namespace_ = row.Text(0);
    d.release = row.Text(1);
    d.sets = row.Int(2);
    d.newest_started_unix = row.Int(3);
    at[{d.namespace_, d.release}] = out.size();
    out.push_back(std::move(d));
  }
  // The newest row of each deployment among `condition`'s, by `order`.
  auto newest =
      [&](const std::string& what, const std::string& columns,
          const std::string& condition, const std::string& order,
          const std::function<void(DeploymentSummary&, const TextRow&)>& take) {
        absl::StatusOr<Rows> rows = Run(
            what,
            absl::StrCat("SELECT DISTINCT ON (namespace, release) namespace, "
                         "release, ",
                         columns, " FROM sets WHERE ", condition, " AND ",
                         where_deployment, " ORDER BY namespace, release, ",
                         order, " DESC"),
            names);
        if (!rows.ok()) return rows.status();
        for (const std::vector<std::string>& r : *rows) {
          TextRow row(r);
          auto it = at.find({row.Text(0), row.Text(1)});
          if (it != at.end()) take(out[it->second], row);
        }
        return absl::OkStatus();
      };
  absl::Status s =
      newest("finding complete sets", "id, finished_unix, bytes",
             "status = 'SET_COMPLETE' AND verify_result <> 'CORRUPT'",
             "finished_unix", [](DeploymentSummary& d, const TextRow& row) {
               d.complete_id = row.Text(2);
               d.complete_finished_unix = row.Int(3);
               d.complete_bytes = static_cast<uint64_t>(row.Int(4));
             });
  if (!s.ok()) return s;
  s = newest("finding failed sets", "id, started_unix, reason",
             "status = 'SET_FAILED'", "started_unix",
             [](DeploymentSummary& d, const TextRow& row) {
               d.failed_id = row.Text(2);
               d.failed_started_unix = row.Int(3);
               d.failed_reason = row.Text(4);
             });
  if (!s.ok()) return s;
  s = newest("finding drills",
             "id, drill_result, drilled_unix, drill_rto_seconds, drill_detail",
             "drilled_unix > 0", "drilled_unix",
             [](DeploymentSummary& d, const TextRow& row) {
               d.drilled_id = row.Text(2);
               d.drill = ReadDrill(row, 3);
             });
  if (!s.ok()) return s;
  return out;
}

absl::Status PostgresCatalog::DeleteSet(const std::string& id) {
  absl::StatusOr<Lease> lease = Acquire();
  if (!lease.ok()) return lease.status();
  const std::string what = "removing set " + id;
  absl::Status s = BeginWrite(*lease, what);
  for (const char* sql : {"DELETE FROM files WHERE set_id = ?1",
                          "DELETE FROM artifacts WHERE set_id = ?1",
                          "DELETE FROM jobs WHERE set_id = ?1",
                          "DELETE FROM sets WHERE id = ?1"}) {
    if (!s.ok()) break;
    s = RunOn(*lease, what, sql, {id}).status();
  }
  if (s.ok()) s = RunOn(*lease, what, "COMMIT", {}).status();
  if (!s.ok()) (*lease)->Execute("ROLLBACK").IgnoreError();
  return s;
}

absl::Status PostgresCatalog::AddFiles(
    const std::string& set_id, const std::string& target,
    const google::protobuf::RepeatedPtrField<v1::FileEntry>& entries) {
  if (entries.empty()) return absl::OkStatus();
  std::string data;
  for (const v1::FileEntry& e : entries) {
    const std::vector<SqlValue> values = FileValues(set_id, target, e);
    for (size_t i = 0; i < values.size(); ++i) {
      if (i > 0) data.push_back('\t');
      AppendCopyField(TextOf(values[i]), &data);
    }
    data.push_back('\n');
  }
  absl::StatusOr<Lease> lease = Acquire();
  if (!lease.ok()) return lease.status();
  const std::string what = "indexing files of " + set_id;
  // Index rows need not be flushed one chunk at a time (they go with a
  // failed upload, and orphans are removed at start): the artifact's own
  // row, committed durably later, makes them durable, as the WAL is
  // written in order.
  absl::Status s = BeginWrite(*lease, what);
  if (s.ok()) {
    s = RunOn(*lease, what, "SET LOCAL synchronous_commit = off", {}).status();
  }
  if (s.ok()) {
    s = (*lease)->CopyIn(
        absl::StrCat("COPY files (", kFileColumns, ") FROM STDIN"), data);
    if (!s.ok()) {
      s = absl::Status(s.code(), absl::StrCat("catalog (PostgreSQL ",
                                              DescribeDatabase(server_),
                                              "): ", what, ": ", s.message()));
    }
  }
  if (s.ok()) s = RunOn(*lease, what, "COMMIT", {}).status();
  if (!s.ok()) (*lease)->Execute("ROLLBACK").IgnoreError();
  return s;
}

absl::Status PostgresCatalog::DeleteFiles(const std::string& set_id,
                                          const std::string& target) {
  return Write("removing the file index of " + set_id,
               "DELETE FROM files WHERE set_id = ?1 AND target = ?2",
               {set_id, target})
      .status();
}

absl::Status PostgresCatalog::DeleteOrphanFiles() {
  return Write("removing orphaned index rows",
               "DELETE FROM files WHERE NOT EXISTS (SELECT 1 FROM artifacts a "
               "WHERE a.set_id = files.set_id AND a.target = files.target)")
      .status();
}

absl::Status PostgresCatalog::MoveFilesToStore(const std::string& set_id,
                                               const std::string& target,
                                               const v1::StoredFileList& list,
                                               int64_t locked_until_unix) {
  absl::StatusOr<Lease> lease = Acquire();
  if (!lease.ok()) return lease.status();
  const std::string what =
      absl::StrCat("moving the file index of ", set_id, " ", target);
  absl::Status s = BeginWrite(*lease, what);
  if (s.ok()) {
    absl::StatusOr<Rows> moved = RunOn(
        *lease, what, kMoveFilesToStoreSql,
        {set_id, target, list.path(), static_cast<int64_t>(list.entries()),
         static_cast<int64_t>(list.bytes()), list.sha256(),
         list.encrypted_for(), locked_until_unix});
    if (!moved.ok()) {
      s = moved.status();
    } else if (moved->empty()) {
      s = absl::NotFoundError(
          absl::StrCat("set ", set_id, " has no artifact of ", target));
    }
  }
  if (s.ok()) {
    s = RunOn(*lease, what,
              "DELETE FROM files WHERE set_id = ?1 AND target = ?2",
              {set_id, target})
            .status();
  }
  if (s.ok()) s = RunOn(*lease, what, "COMMIT", {}).status();
  if (!s.ok()) (*lease)->Execute("ROLLBACK").IgnoreError();
  return s;
}

absl::StatusOr<std::vector<FileIndex::StoredFileListOf>>
PostgresCatalog::StoredFileLists(const std::string& namespace_,
                                 const std::string& release) {
  absl::StatusOr<Rows> rows = Run("listing the file lists in the store",
                                  StoredFileListsSql(), {namespace_, release});
  if (!rows.ok()) return rows.status();
  std::vector<StoredFileListOf> lists;
  for (const std::vector<std::string>& row : *rows) {
    absl::StatusOr<StoredFileListOf> list = ReadStoredFileList(TextRow(row));
    if (!list.ok()) return list.status();
    lists.push_back(*std::move(list));
  }
  return lists;
}

absl::StatusOr<bool> PostgresCatalog::AnyStoredFileLists(
    const std::string& namespace_, const std::string& release) {
  absl::StatusOr<Rows> rows = Run("looking for file lists in the store",
                                  kAnyStoredFileListSql, {namespace_, release});
  if (!rows.ok()) return rows.status();
  return !rows->empty();
}

absl::Status PostgresCatalog::ForEachFile(
    const v1::ListFilesRequest& request,
    const std::function<bool(const v1::IndexedFile&)>& visit) {
  std::string prefix = request.path_prefix();
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  absl::StatusOr<Lease> lease = Acquire();
  if (!lease.ok()) return lease.status();
  const std::string what = "listing files";
  // "a/b" selects a/b and what is below a/b/ (as SQLite's: '0' follows
  // '/').
  const std::string select = absl::StrCat(
      "SELECT ", kIndexedFileColumns,
      " FROM files f JOIN sets s ON s.id = f.set_id WHERE f.set_id = $1 AND "
      "($2::text = '' OR f.target = $2) AND ($3::text = '' OR f.path = $3 OR "
      "(f.path > $3 || '/' AND f.path < $3 || '0')) ORDER BY f.target, "
      "f.path");
  const std::vector<std::string> params = {request.set_id(), request.target(),
                                           prefix};
  // Most listings are a few hundred rows: one statement answers them. One
  // longer than a fetch is listed again through a cursor, so that a million
  // rows are never held at once.
  std::vector<v1::IndexedFile> first;
  absl::Status s =
      (*lease)->QueryEach(absl::StrCat(select, " LIMIT ", kFetchRows + 1),
                          params, [&first](const PgConnection::Row& row) {
                            first.push_back(ReadIndexedFile(ResultRow(row)));
                          });
  if (!s.ok()) return Describe(what, s);
  if (first.size() <= static_cast<size_t>(kFetchRows)) {
    for (const v1::IndexedFile& f : first) {
      if (!visit(f)) break;
    }
    return absl::OkStatus();
  }
  first.clear();
  s = RunOn(*lease, what, "BEGIN", {}).status();
  if (s.ok()) {
    s = (*lease)->QueryEach(
        absl::StrCat("DECLARE files_listed NO SCROLL CURSOR FOR ", select),
        params, [](const PgConnection::Row&) {});
    if (!s.ok()) s = Describe(what, s);
  }
  bool more = s.ok();
  while (more) {
    absl::StatusOr<Rows> rows =
        RunOn(*lease, what,
              absl::StrCat("FETCH ", kFetchRows, " FROM files_listed"), {});
    if (!rows.ok()) {
      s = rows.status();
      break;
    }
    for (const std::vector<std::string>& row : *rows) {
      if (!visit(ReadIndexedFile(TextRow(row)))) {
        more = false;
        break;
      }
    }
    if (rows->size() < static_cast<size_t>(kFetchRows)) more = false;
  }
  // Only read: the end of the transaction, whatever happened.
  (*lease)->Execute("ROLLBACK").IgnoreError();
  return s;
}

absl::StatusOr<std::vector<v1::FileEntry>> PostgresCatalog::FilesAfter(
    const std::string& set_id, const std::string& target,
    const std::string& after, int limit) {
  return ReadAll<v1::FileEntry>(
      "reading the file index",
      absl::StrCat("SELECT ", kIndexedFileColumns,
                   " FROM files f JOIN sets s ON s.id = f.set_id WHERE "
                   "f.set_id = ?1 AND f.target = ?2 AND f.path > ?3 ORDER BY "
                   "f.path LIMIT ?4"),
      {set_id, target, after, int64_t{limit}},
      [](const SqlRow& row) { return ReadIndexedFile(row).entry(); });
}

absl::StatusOr<v1::FindFilesResponse> PostgresCatalog::FindFiles(
    const v1::FindFilesRequest& request) {
  const int limit =
      request.limit() > 0 ? std::min(request.limit(), kMaxFindResults) : 1000;
  const bool by_name = request.pattern().find('/') == std::string::npos;
  const std::optional<std::string> regex = GlobToRegex(request.pattern());
  if (!regex.has_value()) return v1::FindFilesResponse();  // as SQLite's
  absl::StatusOr<std::vector<v1::IndexedFile>> found = ReadAll<v1::IndexedFile>(
      "finding files",
      absl::StrCat("SELECT ", kIndexedFileColumns,
                   " FROM files f JOIN sets s ON s.id = f.set_id WHERE ",
                   by_name ? "f.name" : "f.path",
                   " ~ ?1 AND f.unchanged = 0 AND (?2::text = '' OR "
                   "s.namespace = ?2) AND (?3::text = '' OR s.release = "
                   "?3) ORDER BY s.started_unix DESC, f.set_id DESC, "
                   "f.target, f.path LIMIT ?4"),
      {*regex, request.namespace_(), request.release(), int64_t{limit} + 1},
      ReadIndexedFile);
  if (!found.ok()) return found.status();
  v1::FindFilesResponse response;
  for (v1::IndexedFile& f : *found) {
    if (response.files_size() == limit) {
      response.set_truncated(true);
      break;
    }
    *response.add_files() = std::move(f);
  }
  return response;
}

absl::StatusOr<std::vector<Catalog::ScheduleSlot>>
PostgresCatalog::ScheduleSlots() {
  return ReadAll<ScheduleSlot>(
      "reading schedule slots",
      "SELECT policy, namespace, release, last_slot_unix FROM schedule_slots",
      {}, [](const SqlRow& row) {
        return ScheduleSlot{row.Text(0), row.Text(1), row.Text(2), row.Int(3)};
      });
}

absl::Status PostgresCatalog::SaveScheduleSlot(const ScheduleSlot& slot) {
  return Write(
             "saving schedule slot",
             "INSERT INTO schedule_slots (policy, namespace, release, "
             "last_slot_unix) VALUES (?1, ?2, ?3, ?4) ON CONFLICT "
             "(policy, namespace, release) DO UPDATE SET last_slot_unix = ?4",
             {slot.policy, slot.namespace_, slot.release, slot.last_slot_unix})
      .status();
}

absl::StatusOr<bool> PostgresCatalog::ClaimScheduleSlot(
    const ScheduleSlot& slot) {
  absl::StatusOr<Rows> rows =
      Write("claiming schedule slot", kClaimScheduleSlotSql,
            {slot.policy, slot.namespace_, slot.release, slot.last_slot_unix});
  if (!rows.ok()) return rows.status();
  return !rows->empty();
}

absl::Status PostgresCatalog::UpsertJob(const v1::Job& job) {
  return Write("saving job " + job.id(), UpsertJobSql(), JobValues(job))
      .status();
}

absl::StatusOr<std::vector<v1::Job>> PostgresCatalog::ListJobs(
    const std::string& set_id) {
  return ReadAll<v1::Job>(
      "listing jobs",
      absl::StrCat("SELECT ", kJobColumns,
                   " FROM jobs WHERE set_id = ?1 ORDER BY seq, id"),
      {set_id}, ReadJob);
}

absl::StatusOr<v1::Job> PostgresCatalog::GetJob(const std::string& id) {
  absl::StatusOr<std::vector<v1::Job>> jobs = ReadAll<v1::Job>(
      "reading a job",
      absl::StrCat("SELECT ", kJobColumns, " FROM jobs WHERE id = ?1"), {id},
      ReadJob);
  if (!jobs.ok()) return jobs.status();
  if (jobs->empty()) {
    return absl::NotFoundError(absl::StrCat(
        "no job ", id, " (`dxbackup show SET` lists a set's jobs)"));
  }
  return std::move(jobs->front());
}

absl::Status PostgresCatalog::AddArtifact(const v1::Artifact& a) {
  absl::StatusOr<std::vector<SqlValue>> values = ArtifactValues(a);
  if (!values.ok()) return values.status();
  return Write("recording artifact " + a.path(),
               absl::StrCat("INSERT INTO artifacts (", kArtifactColumns,
                            ") VALUES (", Placeholders(kArtifactColumnCount),
                            ")"),
               *values)
      .status();
}

absl::StatusOr<std::vector<v1::Artifact>> PostgresCatalog::ListArtifacts(
    const std::string& set_id) {
  absl::StatusOr<Rows> rows =
      Run("listing artifacts",
          absl::StrCat("SELECT ", kArtifactColumns,
                       " FROM artifacts WHERE set_id = ?1 ORDER BY target"),
          {set_id});
  if (!rows.ok()) return rows.status();
  std::vector<v1::Artifact> artifacts;
  for (const std::vector<std::string>& row : *rows) {
    absl::StatusOr<v1::Artifact> a = ReadArtifact(TextRow(row));
    if (!a.ok()) return a.status();
    artifacts.push_back(*std::move(a));
  }
  return artifacts;
}

absl::StatusOr<std::vector<std::string>> PostgresCatalog::AllArtifactPaths() {
  return ReadAll<std::string>("listing artifact paths",
                              "SELECT path FROM artifacts UNION ALL SELECT "
                              "file_list_path FROM artifacts WHERE "
                              "file_list_path != ''",
                              {},
                              [](const SqlRow& row) { return row.Text(0); });
}

absl::StatusOr<std::map<std::string, int64_t>> PostgresCatalog::LockedSets(
    int64_t now_unix) {
  absl::StatusOr<Rows> rows =
      Run("listing locked sets",
          "SELECT set_id, MAX(locked_until_unix) FROM artifacts WHERE "
          "locked_until_unix > ?1 GROUP BY set_id",
          {now_unix});
  if (!rows.ok()) return rows.status();
  std::map<std::string, int64_t> locked;
  for (const std::vector<std::string>& r : *rows) {
    TextRow row(r);
    locked[row.Text(0)] = row.Int(1);
  }
  return locked;
}

absl::StatusOr<std::vector<v1::DeploymentHold>> PostgresCatalog::Holds() {
  return ReadAll<v1::DeploymentHold>(
      "reading deployment holds",
      absl::StrCat("SELECT ", kHoldColumns,
                   " FROM deployment_holds ORDER BY namespace, release"),
      {}, ReadHold);
}

absl::Status PostgresCatalog::PutHold(const v1::DeploymentHold& hold) {
  return Write("recording a deployment hold",
               absl::StrCat("INSERT INTO deployment_holds (", kHoldColumns,
                            ") VALUES (", Placeholders(7),
                            ") ON CONFLICT (namespace, release) DO UPDATE SET "
                            "set_id = ?3, restore_id = ?4, reason = ?5, "
                            "since_unix = ?6, running = ?7"),
               HoldValues(hold))
      .status();
}

absl::Status PostgresCatalog::ReleaseHold(const std::string& namespace_,
                                          const std::string& release,
                                          const std::string& restore_id) {
  return Write("ending a deployment hold",
               "DELETE FROM deployment_holds WHERE namespace = ?1 AND "
               "release = ?2 AND restore_id = ?3",
               {namespace_, release, restore_id})
      .status();
}

absl::StatusOr<int64_t> PostgresCatalog::AddPendingNotice(
    const std::string& webhook, const v1::Notice& notice) {
  absl::StatusOr<std::string> json = NoticeJson(notice);
  if (!json.ok()) return json.status();
  absl::StatusOr<Rows> rows =
      Write("keeping a notification until it is delivered",
            "INSERT INTO pending_notices (webhook, notice_json) VALUES (?1, "
            "?2) RETURNING id",
            {webhook, *json});
  if (!rows.ok()) return rows.status();
  return std::atoll(rows->at(0).at(0).c_str());
}

absl::Status PostgresCatalog::RemovePendingNotice(int64_t id) {
  return Write("forgetting a delivered notification",
               "DELETE FROM pending_notices WHERE id = ?1", {id})
      .status();
}

absl::StatusOr<std::vector<PostgresCatalog::PendingNotice>>
PostgresCatalog::PendingNotices() {
  absl::StatusOr<std::vector<PendingNotice>> all = ReadAll<PendingNotice>(
      "reading the notifications not delivered",
      "SELECT id, webhook, notice_json FROM pending_notices ORDER BY id", {},
      [](const SqlRow& row) {
        PendingNotice p{row.Int(0), row.Text(1), {}};
        if (!ReadNoticeJson(row.Text(2), &p.notice)) p.id = 0;
        return p;
      });
  if (!all.ok()) return all;
  all->erase(std::remove_if(all->begin(), all->end(),
                            [](const PendingNotice& p) { return p.id == 0; }),
             all->end());
  return all;
}

absl::StatusOr<std::vector<PostgresCatalog::ScaledDown>>
PostgresCatalog::ScaledDowns() {
  return ReadAll<ScaledDown>(
      "reading scaled-down StatefulSets",
      "SELECT namespace, release, set_id, replicas, since_unix FROM "
      "scaled_downs ORDER BY namespace, release",
      {}, [](const SqlRow& row) {
        return ScaledDown{row.Text(0), row.Text(1), row.Text(2),
                          static_cast<int>(row.Int(3)), row.Int(4)};
      });
}

absl::Status PostgresCatalog::RecordScaledDown(const ScaledDown& scaled) {
  return Write(
             "recording a scaled-down StatefulSet",
             "INSERT INTO scaled_downs (namespace, release, set_id, replicas, "
             "since_unix) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (namespace, "
             "release) DO UPDATE SET set_id = ?3, replicas = ?4, "
             "since_unix = ?5",
             {scaled.namespace_, scaled.release, scaled.set_id,
              int64_t{scaled.replicas}, scaled.since_unix})
      .status();
}

absl::Status PostgresCatalog::ForgetScaledDown(const std::string& namespace_,
                                               const std::string& release,
                                               const std::string& set_id) {
  return Write("forgetting a scaled-down StatefulSet",
               "DELETE FROM scaled_downs WHERE namespace = ?1 AND release = ?2 "
               "AND set_id = ?3",
               {namespace_, release, set_id})
      .status();
}

absl::StatusOr<int> PostgresCatalog::FailUnfinished(const std::string& reason,
                                                    int64_t now_unix) {
  absl::StatusOr<Lease> lease = Acquire();
  if (!lease.ok()) return lease.status();
  const std::string what = "failing unfinished sets";
  absl::Status s = BeginWrite(*lease, what);
  if (s.ok()) {
    s = RunOn(*lease, what,
              "UPDATE jobs SET status = 'JOB_FAILED', error = ?1, "
              "error_code = 'ABORTED', finished_unix = ?2 WHERE status IN "
              "('JOB_PENDING', 'JOB_RUNNING')",
              {reason, now_unix})
            .status();
  }
  absl::StatusOr<Rows> failed = Rows{};
  if (s.ok()) {
    failed = RunOn(*lease, what,
                   "UPDATE sets SET status = 'SET_FAILED', reason = ?1, "
                   "finished_unix = ?2 WHERE status = 'SET_RUNNING' "
                   "RETURNING id",
                   {reason, now_unix});
    s = failed.status();
  }
  if (s.ok()) s = RunOn(*lease, what, "COMMIT", {}).status();
  if (!s.ok()) {
    (*lease)->Execute("ROLLBACK").IgnoreError();
    return s;
  }
  return static_cast<int>(failed->size());
}

}  // namespace dxbackup::scheduler
