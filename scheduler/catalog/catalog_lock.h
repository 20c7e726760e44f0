// CatalogLock makes one scheduler at a time the active one on a shared
// PostgreSQL catalog: a session-level advisory lock, on a connection of its
// own. The process that holds it runs everything; the others wait as
// standbys (health NOT_SERVING, so that a Service sends nothing to them).
// The lock ends with its session: when the active scheduler dies (kill -9,
// a lost node), PostgreSQL ends its session and a standby's next try takes
// the lock, then starts as a scheduler restarting on the catalog would
// (the sets left running are failed with the reason, and so on).
//
//   auto lock = CatalogLock::Open(config.catalog().postgres());
//   while (!*(*lock)->TryAcquire()) sleep ...;   // a standby
//   ... every few seconds: if (!(*lock)->Check().ok()) stop at once
//
// A session that is lost (the server restarted, the network cut it) has
// lost the lock, and another scheduler may be active: Check() says so, and
// the holder must stop at once rather than act beside it.
//
// Each scheduler that takes the lock advances the catalog's fence epoch
// (catalog_fence.h), so that the writes of one before it are refused.
//
// Not thread-safe: one owner.
#ifndef DXBACKUP_SCHEDULER_CATALOG_CATALOG_LOCK_H_
#define DXBACKUP_SCHEDULER_CATALOG_CATALOG_LOCK_H_

#include <memory>

#include "absl/status/statusor.h"
#include "dxbackup/v1/config.pb.h"
#include "scheduler/postgres/pg_connection.h"

namespace dxbackup::scheduler {

class CatalogLock {
 public:
  static absl::StatusOr<std::unique_ptr<CatalogLock>> Open(
      const v1::Database& server);

  // Tries once: true when this process holds the lock (now, or already).
  absl::StatusOr<bool> TryAcquire();
  // For an active replica (--advertise): tries once to take the lock
  // shared, as every replica does, for as long as this object lives; so
  // no scheduler becomes the active one among standbys beside replicas
  // (they wait as standbys), and no replica starts beside such an active
  // scheduler, whose startup would end every deployment's running sets
  // and reconcile the whole store. FailedPrecondition, saying so, when
  // such a scheduler holds it.
  absl::Status TryShareAsReplica();
  // OK while the session that holds the lock lives, noting in the catalog
  // when it was confirmed; Unavailable, naming the server, once it was
  // lost.
  absl::Status Check();
  // Once held: the seconds between the last confirmation of the scheduler
  // active before (its taking the lock, or a Check), as the server's clock
  // counts, and this one's taking it; the largest int64_t when none ever
  // was active. A scheduler that has just taken the lock waits until that
  // exceeds the time the one before takes to notice it lost the lock, so
  // that the two never act at once.
  absl::StatusOr<int64_t> SecondsSinceLastConfirmed();
  // Once held: the epoch this scheduler advanced the catalog's fence to
  // (catalog_fence.h); its PostgresCatalog writes only while it is current.
  int64_t epoch() const { return epoch_; }

 private:
  CatalogLock(v1::Database server, std::unique_ptr<PgConnection> conn)
      : server_(std::move(server)), conn_(std::move(conn)) {}

  // Reads the previous active scheduler's last confirmation, then notes
  // this one's (just taken).
  absl::Status ReadPreviousAndNote();
  // Advances the fence's epoch, once writes in flight have ended (those
  // that do not end within a few seconds are ended: catalog_fence.h).
  absl::Status AdvanceEpoch();
  // One try: the new epoch, or DeadlineExceeded when writes in flight held
  // the fence past the wait.
  absl::StatusOr<int64_t> TryAdvance();

  const v1::Database server_;
  std::unique_ptr<PgConnection> conn_;
  bool held_ = false;
  int64_t previous_confirmed_ = 0;
  int64_t epoch_ = 0;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_CATALOG_CATALOG_LOCK_H_
