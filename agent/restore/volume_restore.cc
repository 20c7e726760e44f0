#include "agent/restore/volume_restore.h"

#include <optional>

#include "agent/restore/volume_replacer.h"

namespace dxbackup::agent {

VolumeRestore::VolumeRestore(const RestoreRoot* root,
                             VolumeRestoreOptions options, size_t parts)
    : root_(root), options_(std::move(options)), parts_(parts) {
  if (options_.replace || chain()) {
    kept_ = std::make_unique<PathSet>(options_.temp_dir);
  }
  if (!options_.replace && chain()) {
    written_ = std::make_unique<PathSet>(options_.temp_dir);
  }
}

VolumeRestore::~VolumeRestore() = default;

absl::Status VolumeRestore::ExtractPart(ByteSource* source) {
  const bool is_last = ++done_ == parts_;
  auto extractor = std::make_unique<ArchiveExtractor>(source, root_);
  extractor->set_only_paths(options_.paths);
  extractor->set_keep_setid(options_.keep_setid);
  // A directory that became a file (or link) between two parts of a chain
  // goes with what is below it: the restored moment has the file.
  extractor->set_replace_directories(options_.replace ||
                                     (chain() && done_ > 1));
  if (chain()) {
    extractor->set_name_sink(written_.get());
    if (is_last) extractor->set_path_list_sink(kept_.get());
  } else {
    extractor->set_name_sink(kept_.get());
  }
  absl::Status s = extractor->Extract();
  if (!s.ok()) return s;
  if (chain() && is_last && !extractor->saw_path_list()) {
    return absl::DataLossError(
        "the last artifact of the chain has no path list; it is not an "
        "incremental");
  }
  files_ += extractor->files();
  last_ = std::move(extractor);
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> VolumeRestore::Finish() {
  if (done_ != parts_ || last_ == nullptr) {
    return absl::FailedPreconditionError(
        "restore finished before every part was extracted");
  }
  if (kept_ != nullptr) {
    absl::Status s = kept_->Seal();
    if (s.ok() && written_ != nullptr) s = written_->Seal();
    if (!s.ok()) return s;
    PathSet::Cursor keep = kept_->Read();
    std::optional<PathSet::Cursor> only;
    if (written_ != nullptr) only = written_->Read();
    absl::StatusOr<uint64_t> removed = RemoveEntriesNotIn(
        *root_, &keep, options_.paths, nullptr, only ? &*only : nullptr);
    last_->RestoreDirectoryTimes();
    if (!removed.ok()) return removed.status();
    if (chain() && options_.paths.empty()) return kept_->size();
  }
  return files_;
}

}  // namespace dxbackup::agent
