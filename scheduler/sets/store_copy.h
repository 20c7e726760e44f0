// Copies of complete sets in another ArtifactStore (a policy's
// copy_to.s3 bucket): each copy is the set's export (see SetExporter) as
// objects under <namespace>/<release>/<set-id>/ — the artifacts (each
// read from the primary store and written with its digest checked on
// commit), SHA256SUMS, RESTORE.txt, and manifest.json last, so a copy with
// its manifest is whole. Objects are written once and never overwritten:
// copying a set that already has its manifest does nothing, and an object
// a crashed copy already committed (same size) is kept, not written again.
//
// The copies keep their own retention, from their manifests' times; a
// copy is removed manifest first (then it no longer counts as whole), and
// a copy without a manifest older than the newest whole copy is the
// remains of a crash and goes too. A copy whose manifest records a lock
// that has not ended stays (logged); in a locking bucket the remains of a
// crash are left to the bucket's lifecycle rules (their locks are not
// recorded anywhere).
//
// Not thread-safe against itself for one group (SetCopier serialises).
#ifndef DXBACKUP_SCHEDULER_SETS_STORE_COPY_H_
#define DXBACKUP_SCHEDULER_SETS_STORE_COPY_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "dxbackup/v1/config.pb.h"
#include "scheduler/catalog/set_catalog.h"
#include "scheduler/store/artifact_store.h"

namespace dxbackup::scheduler {

// Copies complete set `set_id` from `from` into `to`. A `to` that locks
// what it writes (Object Lock) locks each object until the earliest the
// copy may go under `retention` (the copies' own), plus its margin, and
// the manifest records it.
absl::Status CopySetToStore(SetCatalog& sets, ArtifactStore& from,
                            ArtifactStore& to, const std::string& set_id,
                            const v1::Retention& retention, int64_t now_unix);

// Applies `retention` (in `zone`, at `now`) to the copies of one
// namespace/release in `to`.
absl::Status PruneStoreCopies(ArtifactStore& to, const std::string& namespace_,
                              const std::string& release,
                              const v1::Retention& retention,
                              const absl::TimeZone& zone, absl::Time now);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_SETS_STORE_COPY_H_
