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
  // OK while the session that holds the lock lives; Unavailable, naming
  // the server, once it was lost.
  absl::Status Check();

 private:
  CatalogLock(v1::Database server, std::unique_ptr<PgConnection> conn)
      : server_(std::move(server)), conn_(std::move(conn)) {}

  const v1::Database server_;
  std::unique_ptr<PgConnection> conn_;
  bool held_ = false;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_CATALOG_CATALOG_LOCK_H_
