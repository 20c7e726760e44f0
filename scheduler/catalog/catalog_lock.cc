#include "scheduler/catalog/catalog_lock.h"

#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/log.h"
#include "scheduler/catalog/catalog_fence.h"

namespace dxbackup::scheduler {
namespace {

// pg_advisory_lock's key of the active scheduler: "dxac".
constexpr char kActiveLock[] = "1685610851";
// How long the advance waits for the writes in flight before ending those
// still holding the fence, and how many times it does.
constexpr absl::Duration kFenceWait = absl::Seconds(5);
constexpr int kAdvanceAttempts = 3;

}  // namespace

absl::StatusOr<std::unique_ptr<CatalogLock>> CatalogLock::Open(
    const v1::Database& server) {
  absl::StatusOr<std::string> password = ReadPassword(server);
  if (!password.ok()) return password.status();
  absl::StatusOr<std::unique_ptr<PgConnection>> conn =
      PgConnection::Open(server, *password);
  if (!conn.ok()) return conn.status();
  return std::unique_ptr<CatalogLock>(
      new CatalogLock(server, *std::move(conn)));
}

absl::StatusOr<bool> CatalogLock::TryAcquire() {
  if (held_) return true;
  auto rows = conn_->Query(
      absl::StrCat("SELECT pg_try_advisory_lock(", kActiveLock, ")"));
  if (!rows.ok()) {
    return absl::UnavailableError(absl::StrCat(
        "the catalog's PostgreSQL (", DescribeDatabase(server_),
        "): taking the active scheduler's lock: ", rows.status().message()));
  }
  held_ = rows->at(0).at(0) == "t";
  if (held_) {
    // The server finds this session dead within about half a minute if
    // this host vanishes, rather than after its default two hours: the
    // lock (and a standby's wait) ends with it.
    conn_->ProbeClientFromServer().IgnoreError();
    // From now on a scheduler that takes the lock after this one waits,
    // and the one before can no longer write (catalog_fence.h).
    absl::Status s = ReadPreviousAndNote();
    if (s.ok()) s = AdvanceEpoch();
    if (!s.ok()) {
      // Not active after all: the lock goes, for the next try (this
      // process's or another's) to take it afresh.
      conn_->Query(absl::StrCat("SELECT pg_advisory_unlock(", kActiveLock, ")"))
          .IgnoreError();
      held_ = false;
      return s;
    }
  }
  return held_;
}

absl::Status CatalogLock::TryShareAsReplica() {
  auto rows = conn_->Query(
      absl::StrCat("SELECT pg_try_advisory_lock_shared(", kActiveLock, ")"));
  if (!rows.ok()) {
    return absl::UnavailableError(absl::StrCat(
        "the catalog's PostgreSQL (", DescribeDatabase(server_),
        "): sharing the active scheduler's lock: ", rows.status().message()));
  }
  if (rows->at(0).at(0) == "t") {
    // Released by the server within about half a minute of this host
    // vanishing.
    conn_->ProbeClientFromServer().IgnoreError();
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "the catalog (PostgreSQL ", DescribeDatabase(server_),
      ") is run by an active scheduler with standbys (started without "
      "--advertise): replicas must not start beside it; stop it and its "
      "standbys first (scale the scheduler to 0), then start every replica "
      "with --advertise"));
}

absl::StatusOr<int64_t> CatalogLock::SecondsSinceLastConfirmed() {
  if (!held_) {
    return absl::FailedPreconditionError("the lock is not held");
  }
  return previous_confirmed_;
}

absl::Status CatalogLock::ReadPreviousAndNote() {
  // CREATE TABLE IF NOT EXISTS would print a NOTICE at every start.
  conn_->Query("SET client_min_messages = warning").IgnoreError();
  auto rows = conn_->Query(
      "CREATE TABLE IF NOT EXISTS dxbackup_active (id INT PRIMARY KEY, "
      "confirmed_at TIMESTAMPTZ NOT NULL)");
  if (rows.ok()) {
    rows = conn_->Query(
        "SELECT COALESCE(FLOOR(EXTRACT(EPOCH FROM now() - MAX(confirmed_at))), "
        "-1) FROM dxbackup_active");
  }
  if (rows.ok()) {
    const int64_t seconds = std::atoll(rows->at(0).at(0).c_str());
    previous_confirmed_ =
        seconds < 0 ? std::numeric_limits<int64_t>::max() : seconds;
    rows = conn_->Query(
        "INSERT INTO dxbackup_active VALUES (1, now()) ON CONFLICT (id) DO "
        "UPDATE SET confirmed_at = now()");
  }
  if (!rows.ok()) {
    return absl::UnavailableError(absl::StrCat(
        "the catalog's PostgreSQL (", DescribeDatabase(server_),
        "): noting the active scheduler: ", rows.status().message()));
  }
  return absl::OkStatus();
}

absl::Status CatalogLock::AdvanceEpoch() {
  absl::Status s = conn_->Query(catalog_fence::kCreateTable).status();
  for (int attempt = 1; s.ok(); ++attempt) {
    absl::StatusOr<int64_t> epoch = TryAdvance();
    if (epoch.ok()) {
      epoch_ = *epoch;
      return absl::OkStatus();
    }
    s = epoch.status();
    if (!absl::IsDeadlineExceeded(s) || attempt == kAdvanceAttempts) break;
    // Writes of an earlier active scheduler still hold the fence: frozen or
    // cut off mid-transaction. They are ended, not waited for.
    auto ended = conn_->Query(catalog_fence::kEndHolders);
    if (!ended.ok()) {
      s = ended.status();
      break;
    }
    std::vector<std::string> pids;
    for (const auto& row : *ended) pids.push_back(row.at(0));
    DXLOG(WARNING) << "the catalog's fence was still held after "
                   << kFenceWait / absl::Seconds(1)
                   << " s by an earlier active scheduler's writes in flight "
                      "(server process "
                   << absl::StrJoin(pids, ", ")
                   << "); ended them, to take over";
  }
  return absl::UnavailableError(
      absl::StrCat("the catalog's PostgreSQL (", DescribeDatabase(server_),
                   "): advancing the active scheduler's epoch: ", s.message()));
}

absl::StatusOr<int64_t> CatalogLock::TryAdvance() {
  auto rows = conn_->Query("BEGIN");
  if (rows.ok()) {
    rows = conn_->Query(absl::StrCat("SET LOCAL lock_timeout = ",
                                     absl::ToInt64Milliseconds(kFenceWait)));
  }
  if (rows.ok()) rows = conn_->Query(catalog_fence::kTakeExclusive);
  if (rows.ok()) rows = conn_->Query(catalog_fence::kAdvance);
  int64_t epoch = 0;
  if (rows.ok()) {
    epoch = std::atoll(rows->at(0).at(0).c_str());
    rows = conn_->Query("COMMIT");
  }
  if (!rows.ok()) {
    conn_->Query("ROLLBACK").IgnoreError();
    return rows.status();
  }
  return epoch;
}

absl::Status CatalogLock::Check() {
  auto rows = conn_->Query(absl::StrCat(
      "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = "
      "pg_backend_pid() AND granted AND objsubid = 1 AND ((classid::bigint "
      "<< 32) | objid::bigint) = ",
      kActiveLock));
  if (!rows.ok() || rows->at(0).at(0) != "1") {
    held_ = false;
    return absl::UnavailableError(absl::StrCat(
        "lost the active scheduler's lock on the catalog (PostgreSQL ",
        DescribeDatabase(server_), ")",
        rows.ok() ? "" : absl::StrCat(": ", rows.status().message()),
        "; another scheduler may be active now"));
  }
  // When it was last confirmed, for the next active one (see header).
  auto noted = conn_->Query(
      "INSERT INTO dxbackup_active VALUES (1, now()) ON CONFLICT (id) DO "
      "UPDATE SET confirmed_at = now()");
  if (!noted.ok()) {
    held_ = false;
    return absl::UnavailableError(absl::StrCat(
        "could not note the active scheduler's lock on the catalog "
        "(PostgreSQL ",
        DescribeDatabase(server_), "): ", noted.status().message(),
        "; another scheduler may be active now"));
  }
  return absl::OkStatus();
}

}  // namespace dxbackup::scheduler
