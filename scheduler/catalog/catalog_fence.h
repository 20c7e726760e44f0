// The fence between schedulers that follow one another as the active one on
// a shared PostgreSQL catalog (CatalogLock). Each scheduler that takes the
// lock advances an epoch (kAdvance, under kTakeExclusive in one
// transaction). Every write of a PostgresCatalog fenced with the epoch its
// scheduler took first runs kCheckLock then kCheckEpoch in the same
// transaction: it takes the fence's advisory lock shared, then reads the
// epoch. Advancing takes that
// lock exclusively, so it waits for the writes in flight, and every write
// after it reads the new epoch and is refused (a write that holds the
// lock past the wait, its scheduler frozen mid-transaction, is ended:
// kEndHolders). A scheduler that lost the
// active lock but still runs (paused past its watchdog, cut off from its
// lock's session only, or on a catalog that failed over to a replica that
// had not seen its last confirmation) cannot change the catalog beside the
// one that took over.
#ifndef DXBACKUP_SCHEDULER_CATALOG_CATALOG_FENCE_H_
#define DXBACKUP_SCHEDULER_CATALOG_CATALOG_FENCE_H_

namespace dxbackup::scheduler::catalog_fence {

// pg_advisory_xact_lock's key of the fence: "dxac" + 1 (the active lock's
// is "dxac").
#define DXBACKUP_CATALOG_FENCE_KEY "1685610852"

inline constexpr char kCreateTable[] =
    "CREATE TABLE IF NOT EXISTS dxbackup_fence (id INT PRIMARY KEY, "
    "epoch BIGINT NOT NULL)";
inline constexpr char kTakeExclusive[] =
    "SELECT pg_advisory_xact_lock(" DXBACKUP_CATALOG_FENCE_KEY ")";
inline constexpr char kAdvance[] =
    "INSERT INTO dxbackup_fence VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET "
    "epoch = dxbackup_fence.epoch + 1 RETURNING epoch";
// The check is two statements, in this order: a statement reads with the
// snapshot taken as it began, so an epoch read by the statement that
// waited for the lock would be the one from before the advance it waited
// for.
inline constexpr char kCheckLock[] =
    "SELECT pg_advisory_xact_lock_shared(" DXBACKUP_CATALOG_FENCE_KEY ")";
inline constexpr char kCheckEpoch[] =
    "SELECT epoch FROM dxbackup_fence WHERE id = 1";
// Ends the sessions, other than the caller's, that hold the fence: run by
// the scheduler that holds the active lock and waited too long to advance
// the epoch, they are the writes in flight of one active before it that
// froze or was cut off mid-transaction (its session would otherwise live
// on as long as its host answers the server's probes). Returns their pids.
// Advisory locks are per database: only this catalog's (another
// installation's catalog on the same server has its own fence), and only
// sessions of roles the caller's is a member of (those it may end: the
// schedulers', also across a rotation of their credentials).
inline constexpr char kEndHolders[] =
    "SELECT l.pid, pg_terminate_backend(l.pid) FROM pg_locks l JOIN "
    "pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND "
    "l.granted AND l.objsubid = 1 AND ((l.classid::bigint << 32) | "
    "l.objid::bigint) = " DXBACKUP_CATALOG_FENCE_KEY
    " AND l.database = (SELECT oid FROM pg_database WHERE datname = "
    "current_database()) AND pg_has_role(a.usesysid, 'MEMBER') AND l.pid <> "
    "pg_backend_pid()";

#undef DXBACKUP_CATALOG_FENCE_KEY

}  // namespace dxbackup::scheduler::catalog_fence

#endif  // DXBACKUP_SCHEDULER_CATALOG_CATALOG_FENCE_H_
