// SetVerifier checks that a set's stored artifacts are still what the
// catalog says: each file's SHA-256 and size, and with `deep` also that
// every tar entry reads back (and their count matches) and that pg_restore
// reads the whole dump (to /dev/null). The result is recorded on the set; a
// corrupt set is refused by restore and not counted as complete by
// retention. The file list of a volume whose index moved to the store is
// checked too (size and SHA-256); a damaged one is in the checks and the
// detail, but does not make the set corrupt (it costs `files`, not a
// restore).
//
// An encrypted artifact's stored bytes (the age file) are checked without
// any key; `deep` decrypts it, with the keys given and the configured ones,
// and checks the plaintext's size and SHA-256 too. A deep verification
// without a key that opens the set is refused (FailedPrecondition or
// PermissionDenied) before anything is checked or recorded: a missing key
// is not a corrupt set.
//
// Thread-safe.
#ifndef DXBACKUP_SCHEDULER_SETS_SET_VERIFIER_H_
#define DXBACKUP_SCHEDULER_SETS_SET_VERIFIER_H_

#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "dxbackup/v1/admin.pb.h"
#include "scheduler/catalog/set_catalog.h"
#include "scheduler/crypto/key_ring.h"
#include "scheduler/notify/notice_sink.h"
#include "scheduler/sets/set_leases.h"
#include "scheduler/store/artifact_store.h"

namespace dxbackup::scheduler {

class SetVerifier {
 public:
  // `sets`: the sets and artifacts checked, and where results are recorded;
  // `store`: the artifacts' bytes, read back; `clock`: the verification
  // time. All must outlive the verifier.
  // `keys`: how encrypted artifacts are decrypted.
  // `notices` (may be null) is told of each set found corrupt
  // (verification_failed).
  SetVerifier(SetCatalog* sets, ArtifactStore* store,
              const common::Clock* clock, const crypto::KeyRing* keys,
              NoticeSink* notices = nullptr);

  // Leases each set Verify checks (SetLeases), so that retention does not
  // remove a set under its check, which would then find it "corrupt".
  // `leases` must outlive the verifier.
  void LeaseFrom(SetLeases* leases) { leases_ = leases; }

  // NotFound for an unknown set and for one being removed (nothing checked
  // or recorded); otherwise the checks, whatever they found.
  // `given`: secret keys the caller gave, for a deep check.
  absl::StatusOr<v1::VerifyResponse> Verify(
      const std::string& set_id, bool deep,
      const std::vector<crypto::Identity>& given = {});
  // One stored artifact's check (size and SHA-256; with `deep`, contents).
  v1::ArtifactCheck Check(const v1::Artifact& artifact, bool deep,
                          const std::vector<crypto::Identity>& given = {});
  // The stored bytes' check (size and SHA-256) of each artifact, in their
  // order; up to kParallelChecks at a time, each on a thread of its own
  // (a cold store or S3 is read faster so, and SHA-256 gets a core each).
  static constexpr size_t kParallelChecks = 4;
  std::vector<v1::ArtifactCheck> CheckEach(
      const std::vector<v1::Artifact>& artifacts);
  // Records on the set that these checks found it corrupt.
  absl::Status MarkCorrupt(const std::string& set_id,
                           const std::vector<std::string>& problems);

 private:
  // The deep part of Check: the (decrypted) contents read back.
  v1::ArtifactCheck CheckContents(const v1::Artifact& artifact,
                                  const std::vector<crypto::Identity>& given);

  SetCatalog* sets_;
  ArtifactStore* store_;
  const common::Clock* clock_;
  const crypto::KeyRing* keys_;
  NoticeSink* notices_;
  SetLeases* leases_ = nullptr;
};

// Reads every entry of a (compressed) tar stream to its end; returns how
// many, or an error naming the entry where reading failed.
absl::StatusOr<uint64_t> ReadEveryTarEntry(ArtifactReader& tar);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_SETS_SET_VERIFIER_H_
