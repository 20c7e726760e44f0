// SqlReplicaCatalog: ReplicaCatalog (replica_catalog.h) in SQL that both
// engines run, over the tables of catalog migration 26 (replicas,
// deployment_owners). SqliteCatalog and PostgresCatalog each hold one,
// given the way they run a statement; the times are the engine's own
// clock, in milliseconds since the epoch.
//
// Thread-safe when `run` is. Each call is a statement or two, each on its
// own: a claim, then reads of what it left; a retirement ends the lease,
// then frees the deployments.
#ifndef DXBACKUP_SCHEDULER_CATALOG_REPLICA_ROWS_H_
#define DXBACKUP_SCHEDULER_CATALOG_REPLICA_ROWS_H_

#include <functional>
#include <string>
#include <vector>

#include "scheduler/catalog/catalog_rows.h"
#include "scheduler/catalog/catalog_schema.h"
#include "scheduler/catalog/replica_catalog.h"

namespace dxbackup::scheduler {

class SqlReplicaCatalog : public ReplicaCatalog {
 public:
  using Rows = std::vector<std::vector<std::string>>;
  // Runs one statement (?N placeholders) with `values`, once; `what`
  // names the call in an error. Returns its rows as text.
  using RunFn = std::function<absl::StatusOr<Rows>(
      const std::string& what, const std::string& sql,
      const std::vector<SqlValue>& values)>;

  SqlReplicaCatalog(SqlEngine engine, RunFn run);

  absl::Status RegisterReplica(const Replica& replica, int64_t ttl_ms) override;
  absl::Status RenewReplica(const std::string& id, int64_t ttl_ms) override;
  absl::Status RetireReplica(const std::string& id) override;
  absl::StatusOr<std::vector<Replica>> LiveReplicas() override;
  absl::StatusOr<Owner> ClaimDeployment(const std::string& namespace_,
                                        const std::string& release,
                                        const std::string& id) override;
  absl::Status CompleteTakeover(const std::string& namespace_,
                                const std::string& release,
                                const std::string& id) override;
  absl::Status ReleaseDeployment(const std::string& namespace_,
                                 const std::string& release,
                                 const std::string& id) override;
  absl::StatusOr<std::vector<Deployment>> OwnedDeployments(
      const std::string& id) override;

  // `sql` with NOW_MS as this engine's clock.
  std::string Sql(const char* sql) const;

 private:
  // PostgreSQL: takes the lock of `owner`, a lapsed replica, exclusively
  // (replica_fence.h), ending its writes in flight if it must; the caller
  // unlocks it.
  absl::Status FenceOff(const std::string& what, const std::string& owner);

  const SqlEngine engine_;
  const RunFn run_;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_CATALOG_REPLICA_ROWS_H_
