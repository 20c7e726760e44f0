// SetExporter writes a complete set as plain files anyone can recover
// without dxbackup: the artifacts as stored (pax .tar.zst/.tar.gz, pg_dump
// custom format), manifest.json (ExportManifest: checksums, fix level,
// times), SHA256SUMS for `sha256sum -c`, and RESTORE.txt with the GNU tar
// and pg_restore commands. Each file's digest is checked as it is copied.
// The set appears as <to_dir>/<set-id> only once complete (written under a
// temporary name, fsynced, renamed).
//
// An encrypted set is exported as stored — age files, "<name>.age", which
// RESTORE.txt decrypts with the stock `age -d` first — unless the caller
// gives its secret keys: then in clear, as if it had never been encrypted.
//
// Thread-safe.
#ifndef DXBACKUP_SCHEDULER_SETS_SET_EXPORTER_H_
#define DXBACKUP_SCHEDULER_SETS_SET_EXPORTER_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "dxbackup/v1/admin.pb.h"
#include "scheduler/catalog/set_catalog.h"
#include "scheduler/crypto/key_ring.h"
#include "scheduler/store/artifact_store.h"

namespace dxbackup::scheduler {

class SetExporter {
 public:
  // `sets`: the set and its artifacts (and an incremental's bases);
  // `store`: the artifacts' bytes, copied out; `clock`: the manifest's
  // export time. All must outlive the exporter.
  // `keys`: how an export in clear decrypts.
  SetExporter(SetCatalog* sets, ArtifactStore* store,
              const common::Clock* clock, const crypto::KeyRing* keys);

  // `given`: the caller's secret keys; none exports as stored.
  absl::StatusOr<v1::ExportResponse> Export(
      const std::string& set_id, const std::string& to_dir,
      const std::vector<crypto::Identity>& given = {});

 private:
  SetCatalog* sets_;
  ArtifactStore* store_;
  const common::Clock* clock_;
  const crypto::KeyRing* keys_;
};

// What an export of a set holds, before anything is written: the stored
// artifacts with the names they get (an incremental's bases first, named
// after their sets), and the manifest listing them under those names.
struct ExportPlan {
  v1::ExportManifest manifest;
  std::vector<std::pair<v1::Artifact, std::string>> files;  // artifact, name
};
// FailedPrecondition unless the set is complete and not found corrupt.
// `in_clear`: encrypted artifacts are listed as their plaintext (name
// without ".age", plaintext size and digest), to be written decrypted.
absl::StatusOr<ExportPlan> PlanExport(SetCatalog& sets,
                                      const std::string& set_id,
                                      int64_t now_unix, bool in_clear = false);
// The small files every export has besides the artifacts, in the order
// they are written: SHA256SUMS, RESTORE.txt, then manifest.json (last: a
// copy with its manifest is complete).
std::vector<std::pair<std::string, std::string>> ExportTexts(
    const ExportPlan& plan);

// The text of RESTORE.txt for a manifest. Its commands are the lines
// indented by four spaces; they run from the export directory.
std::string RestoreInstructions(const v1::ExportManifest& manifest);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_SETS_SET_EXPORTER_H_
