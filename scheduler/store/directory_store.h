// DirectoryStore keeps artifacts as plain files under a directory
// (<data-dir>/store), one file per key: store/<key>.
//
// A file is written under a ".partial" name through O_DIRECT where the file
// system allows it (DirectFileWriter), its digest computed as it arrives,
// then fsynced and, only if the digest matches the sender's, renamed to its
// final name and the directory fsynced. So a final name always holds a
// complete, checked file; RemoveUnfinished() removes the partial files a
// crash left behind, and List() never shows them. Remove() takes the set's
// directory with its last file.
//
// Thread-safe (see ArtifactStore for the rules every store keeps).
#ifndef DXBACKUP_SCHEDULER_STORE_DIRECTORY_STORE_H_
#define DXBACKUP_SCHEDULER_STORE_DIRECTORY_STORE_H_

#include <string>
#include <vector>

#include "scheduler/store/artifact_store.h"

namespace dxbackup::scheduler {

class DirectoryStore : public ArtifactStore {
 public:
  static constexpr char kPartialSuffix[] = ".partial";

  explicit DirectoryStore(std::string store_dir);

  // Creates the store directory if needed.
  absl::Status Init();

  absl::StatusOr<std::vector<std::string>> RemoveUnfinished(
      const std::string& prefix) override;

 protected:
  absl::StatusOr<std::unique_ptr<ObjectSink>> StartObject(
      const std::string& key, int64_t locked_until_unix) override;
  absl::StatusOr<std::unique_ptr<ArtifactReader>> OpenObject(
      const std::string& key) override;
  absl::StatusOr<uint64_t> StatObject(const std::string& key) override;
  absl::Status RemoveObject(const std::string& key) override;
  absl::StatusOr<std::vector<StoredObject>> ListObjects(
      const std::string& prefix) override;

 private:
  std::string FilePath(const std::string& key) const;

  const std::string dir_;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_STORE_DIRECTORY_STORE_H_
