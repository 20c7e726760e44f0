// The fence between active replicas (ReplicaCatalog) on a PostgreSQL
// catalog: a replica whose lease lapsed cannot change the catalog beside
// the replica that takes its deployments over, even when it goes on
// running (paused past its watchdog, its host suspended). Every write of
// a PostgresCatalog fenced as replica R (FenceAsReplica) first runs, in
// its own transaction, kLockShared then kCheckLive for R: it takes R's
// advisory lock shared, then finds R's lease live on the server's clock
// (two statements: a statement reads with the snapshot taken as it began,
// so a check made by the statement that waited would read the lease from
// before the wait). A claim of a deployment whose owner R lapsed takes
// R's lock exclusively first (kTryExclusive, else kEndWriters then
// kLockExclusive), so it waits for R's writes in flight, ending those of
// a frozen R, and every write of R after it finds the lease lapsed and is
// refused. The claim releases the lock once it is made (kUnlock).
//
// R's lock is pg_advisory_lock(kKey, hashtext(R)): one per replica, so a
// claim waits only for the lapsed owner's writes, never a live one's.
// SQL for PostgreSQL only; NOW_MS as SqlReplicaCatalog::Sql replaces it.
#ifndef DXBACKUP_SCHEDULER_CATALOG_REPLICA_FENCE_H_
#define DXBACKUP_SCHEDULER_CATALOG_REPLICA_FENCE_H_

namespace dxbackup::scheduler::replica_fence {

// The first key of replicas' locks: "dxac" + 3 (the active lock's is
// "dxac", the fence's + 1, the limits' + 2).
#define DXBACKUP_REPLICA_FENCE_KEY "1685610855"

inline constexpr char kLockShared[] =
    "SELECT pg_advisory_xact_lock_shared(" DXBACKUP_REPLICA_FENCE_KEY
    ", hashtext(?1))";
inline constexpr char kCheckLive[] =
    "SELECT 1 FROM replicas WHERE id = ?1 AND expires_ms > NOW_MS";
// The owner of namespace ?1, release ?2 when it is not ?3 and its lease
// lapsed (a retired or forgotten one wrote its last before it went).
inline constexpr char kLapsedOwner[] =
    "SELECT o.replica FROM deployment_owners o JOIN replicas r ON r.id = "
    "o.replica WHERE o.namespace = ?1 AND o.release = ?2 AND o.replica <> ?3 "
    "AND r.expires_ms <= NOW_MS";
inline constexpr char kTryExclusive[] =
    "SELECT pg_try_advisory_lock(" DXBACKUP_REPLICA_FENCE_KEY ", hashtext(?1))";
inline constexpr char kLockExclusive[] =
    "SELECT pg_advisory_lock(" DXBACKUP_REPLICA_FENCE_KEY ", hashtext(?1))";
inline constexpr char kUnlock[] =
    "SELECT pg_advisory_unlock(" DXBACKUP_REPLICA_FENCE_KEY ", hashtext(?1))";
// Ends the sessions of this catalog's database, other than the caller's,
// that hold replica ?1's lock: the writes in flight of a lapsed replica
// (frozen mid-transaction, its session would otherwise live on as long as
// its host answers the server's probes). Returns their pids.
inline constexpr char kEndWriters[] =
    "SELECT l.pid, pg_terminate_backend(l.pid) FROM pg_locks l JOIN "
    "pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND "
    "l.granted AND l.objsubid = 2 AND l.classid::bigint "
    "= " DXBACKUP_REPLICA_FENCE_KEY
    " AND l.objid::bigint = (hashtext(?1)::bigint & 4294967295) AND "
    "l.database = (SELECT oid FROM pg_database WHERE datname = "
    "current_database()) AND pg_has_role(a.usesysid, 'MEMBER') AND l.pid <> "
    "pg_backend_pid()";

#undef DXBACKUP_REPLICA_FENCE_KEY

}  // namespace dxbackup::scheduler::replica_fence

#endif  // DXBACKUP_SCHEDULER_CATALOG_REPLICA_FENCE_H_
