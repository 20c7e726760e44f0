#include "scheduler/catalog/replica_rows.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/log.h"
#include "scheduler/catalog/replica_fence.h"

namespace dxbackup::scheduler {
namespace {

// Rows of replicas whose lease ended this long ago are dropped when a
// replica registers: each process is a new replica, so restarts would
// otherwise pile them up. Deployments such a replica owned stay free to
// claim.
constexpr int64_t kForgetLapsedAfterMs = 24 * 3600 * 1000;

constexpr char kRegister[] =
    "INSERT INTO replicas (id, address, expires_ms) VALUES (?1, ?2, NOW_MS + "
    "?3) ON CONFLICT (id) DO NOTHING RETURNING id";
constexpr char kForgetLapsed[] =
    "DELETE FROM replicas WHERE expires_ms < NOW_MS - ?1";
// A lapsed lease stays lapsed: only a live one is extended.
constexpr char kRenew[] =
    "UPDATE replicas SET expires_ms = NOW_MS + ?2 WHERE id = ?1 AND "
    "expires_ms > NOW_MS RETURNING id";
constexpr char kFreeDeployments[] =
    "DELETE FROM deployment_owners WHERE replica = ?1";
constexpr char kRetire[] = "DELETE FROM replicas WHERE id = ?1";
constexpr char kLive[] =
    "SELECT id, address FROM replicas WHERE expires_ms > NOW_MS ORDER BY id";
// One step: a live claimant takes a deployment nobody owns, or whose
// owner is not live (lapsed, retired, forgotten). Of concurrent claims the
// engine's row lock lets one insert or update; the others then find a
// live owner and change nothing.
constexpr char kClaim[] =
    "INSERT INTO deployment_owners (namespace, release, replica, previous, "
    "takeover_owed) SELECT CAST(?1 AS TEXT), CAST(?2 AS TEXT), CAST(?3 AS "
    "TEXT), '', 1 WHERE EXISTS (SELECT 1 FROM replicas WHERE id = ?3 AND "
    "expires_ms > NOW_MS) ON CONFLICT (namespace, release) DO UPDATE SET "
    "replica = excluded.replica, previous = CASE WHEN "
    "deployment_owners.takeover_owed = 1 THEN deployment_owners.previous "
    "ELSE deployment_owners.replica END, "
    "takeover_owed = 1 WHERE deployment_owners.replica <> excluded.replica "
    "AND NOT EXISTS (SELECT 1 FROM replicas r WHERE r.id = "
    "deployment_owners.replica AND r.expires_ms > NOW_MS)";
constexpr char kOwner[] =
    "SELECT o.replica, COALESCE(r.address, ''), CASE WHEN r.expires_ms > "
    "NOW_MS THEN 1 ELSE 0 END, o.takeover_owed, o.previous FROM "
    "deployment_owners o LEFT JOIN replicas r ON r.id = o.replica WHERE "
    "o.namespace = ?1 AND o.release = ?2";
constexpr char kCompleteTakeover[] =
    "UPDATE deployment_owners SET takeover_owed = 0 WHERE namespace = ?1 AND "
    "release = ?2 AND replica = ?3 RETURNING namespace";
constexpr char kReplica[] =
    "SELECT address, CASE WHEN expires_ms > NOW_MS THEN 1 ELSE 0 END FROM "
    "replicas WHERE id = ?1";
constexpr char kRelease[] =
    "DELETE FROM deployment_owners WHERE namespace = ?1 AND release = ?2 AND "
    "replica = ?3";
constexpr char kOwned[] =
    "SELECT o.namespace, o.release FROM deployment_owners o JOIN replicas r "
    "ON r.id = o.replica WHERE o.replica = ?1 AND r.expires_ms > NOW_MS "
    "ORDER BY o.namespace, o.release";

absl::Status Lapsed(const std::string& id) {
  return absl::FailedPreconditionError(absl::StrCat(
      "scheduler replica ", id,
      "'s lease in the catalog has lapsed (it did not renew in time, or "
      "retired): it owns no deployment now, and must stop acting for any"));
}

absl::Status NotOwner(const std::string& what, const std::string& id) {
  return absl::FailedPreconditionError(
      absl::StrCat(what, ": scheduler replica ", id,
                   " does not own it (released, or taken over since)"));
}

}  // namespace

SqlReplicaCatalog::SqlReplicaCatalog(SqlEngine engine, RunFn run)
    : engine_(engine), run_(std::move(run)) {}

std::string SqlReplicaCatalog::Sql(const char* sql) const {
  return absl::StrReplaceAll(
      sql,
      {{"NOW_MS", engine_ == SqlEngine::kSqlite
                      ? "CAST((julianday('now') - 2440587.5) * 86400000.0 AS "
                        "INTEGER)"
                      : "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS "
                        "BIGINT)"}});
}

absl::Status SqlReplicaCatalog::RegisterReplica(const Replica& replica,
                                                int64_t ttl_ms) {
  absl::StatusOr<Rows> forgotten =
      run_("forgetting long-lapsed replicas", Sql(kForgetLapsed),
           {kForgetLapsedAfterMs});
  if (!forgotten.ok()) return forgotten.status();
  absl::StatusOr<Rows> rows =
      run_("registering scheduler replica " + replica.id, Sql(kRegister),
           {replica.id, replica.address, ttl_ms});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) {
    return absl::AlreadyExistsError(
        absl::StrCat("scheduler replica ", replica.id,
                     " is already registered in the catalog"));
  }
  return absl::OkStatus();
}

absl::Status SqlReplicaCatalog::RenewReplica(const std::string& id,
                                             int64_t ttl_ms) {
  absl::StatusOr<Rows> rows =
      run_("renewing scheduler replica " + id, Sql(kRenew), {id, ttl_ms});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return Lapsed(id);
  return absl::OkStatus();
}

absl::Status SqlReplicaCatalog::RetireReplica(const std::string& id) {
  // The lease ends first: no renewal and no claim of it succeeds after.
  absl::StatusOr<Rows> rows =
      run_("retiring scheduler replica " + id, Sql(kRetire), {id});
  if (rows.ok()) {
    rows = run_("freeing the deployments of scheduler replica " + id,
                Sql(kFreeDeployments), {id});
  }
  return rows.status();
}

absl::StatusOr<std::vector<ReplicaCatalog::Replica>>
SqlReplicaCatalog::LiveReplicas() {
  absl::StatusOr<Rows> rows =
      run_("listing scheduler replicas", Sql(kLive), {});
  if (!rows.ok()) return rows.status();
  std::vector<Replica> live;
  for (const auto& row : *rows) live.push_back({row.at(0), row.at(1)});
  return live;
}

absl::StatusOr<ReplicaCatalog::Owner> SqlReplicaCatalog::ClaimDeployment(
    const std::string& namespace_, const std::string& release,
    const std::string& id) {
  const std::string what =
      "claiming " + namespace_ + "/" + release + " for scheduler replica " + id;
  // A claim that lost may find the deployment freed, or its owner lapsed,
  // between its statements: then it claims again.
  for (int attempt = 0;; ++attempt) {
    // On PostgreSQL the writes of a lapsed owner are fenced off first: in
    // flight, waited for (or ended); later, refused (replica_fence.h).
    std::string fenced;
    if (engine_ == SqlEngine::kPostgres) {
      absl::StatusOr<Rows> lapsed = run_(what, Sql(replica_fence::kLapsedOwner),
                                         {namespace_, release, id});
      if (!lapsed.ok()) return lapsed.status();
      if (!lapsed->empty()) {
        fenced = lapsed->front().at(0);
        if (absl::Status s = FenceOff(what, fenced); !s.ok()) return s;
      }
    }
    absl::StatusOr<Rows> taken =
        run_(what, Sql(kClaim), {namespace_, release, id});
    if (!fenced.empty()) {
      // Held on the replica calls' connection until here; a lock left by
      // an unlock that failed blocks only the lapsed replica's writes.
      run_(what, replica_fence::kUnlock, {fenced}).IgnoreError();
    }
    if (!taken.ok()) return taken.status();
    absl::StatusOr<Rows> me = run_(what, Sql(kReplica), {id});
    if (!me.ok()) return me.status();
    if (me->empty() || me->front().at(1) != "1") return Lapsed(id);
    absl::StatusOr<Rows> owner = run_(what, Sql(kOwner), {namespace_, release});
    if (!owner.ok()) return owner.status();
    if (!owner->empty() && owner->front().at(2) == "1") {
      const auto& row = owner->front();
      if (row.at(0) == id) {
        const bool owed = row.at(3) == "1";
        return Owner{id, row.at(1), owed, owed ? row.at(4) : ""};
      }
      return Owner{row.at(0), row.at(1), false, ""};
    }
    if (attempt == 2) {
      return absl::UnavailableError(absl::StrCat(
          what, ": its owner changed under three claims in a row; try again"));
    }
  }
}

absl::Status SqlReplicaCatalog::FenceOff(const std::string& what,
                                         const std::string& owner) {
  absl::StatusOr<Rows> free = run_(what, replica_fence::kTryExclusive, {owner});
  if (!free.ok()) return free.status();
  if (!free->empty() && free->front().at(0) == "t") return absl::OkStatus();
  // A write of the lapsed replica holds it: frozen in its transaction, or
  // about to find its lease lapsed. Its session is ended; a write that
  // begins meanwhile is refused at once, so the wait is short.
  absl::StatusOr<Rows> ended = run_(what, replica_fence::kEndWriters, {owner});
  if (!ended.ok()) return ended.status();
  for (const auto& row : *ended) {
    DXLOG(WARNING) << what << ": ended the catalog session " << row.at(0)
                   << " of lapsed scheduler replica " << owner
                   << ", a write of which was in flight";
  }
  absl::StatusOr<Rows> timeout = run_(what, "SET lock_timeout = '5s'", {});
  if (!timeout.ok()) return timeout.status();
  absl::StatusOr<Rows> locked =
      run_(what, replica_fence::kLockExclusive, {owner});
  run_(what, "RESET lock_timeout", {}).IgnoreError();
  return locked.status();
}

absl::Status SqlReplicaCatalog::CompleteTakeover(const std::string& namespace_,
                                                 const std::string& release,
                                                 const std::string& id) {
  const std::string what =
      "completing the takeover of " + namespace_ + "/" + release;
  absl::StatusOr<Rows> rows =
      run_(what, Sql(kCompleteTakeover), {namespace_, release, id});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return NotOwner(what, id);
  return absl::OkStatus();
}

absl::Status SqlReplicaCatalog::ReleaseDeployment(const std::string& namespace_,
                                                  const std::string& release,
                                                  const std::string& id) {
  return run_("releasing " + namespace_ + "/" + release, Sql(kRelease),
              {namespace_, release, id})
      .status();
}

absl::StatusOr<std::vector<ReplicaCatalog::Deployment>>
SqlReplicaCatalog::OwnedDeployments(const std::string& id) {
  absl::StatusOr<Rows> rows = run_(
      "listing the deployments of scheduler replica " + id, Sql(kOwned), {id});
  if (!rows.ok()) return rows.status();
  std::vector<Deployment> owned;
  for (const auto& row : *rows) owned.push_back({row.at(0), row.at(1)});
  return owned;
}

}  // namespace dxbackup::scheduler
