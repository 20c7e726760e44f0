#include "agent/volume_restore.h"

#include "agent/volume_replacer.h"

namespace dxbackup::agent {

VolumeRestore::VolumeRestore(const RestoreRoot* root,
                             VolumeRestoreOptions options, size_t parts)
    : root_(root), options_(std::move(options)), parts_(parts) {}

VolumeRestore::~VolumeRestore() = default;

absl::Status VolumeRestore::ExtractPart(ByteSource* source) {
  const bool is_last = ++done_ == parts_;
  auto extractor = std::make_unique<ArchiveExtractor>(source, root_);
  extractor->set_only_paths(options_.paths);
  extractor->set_record_names(options_.replace || chain());
  extractor->set_keep_setid(options_.keep_setid);
  if (chain() && is_last) extractor->set_path_list_sink(&moment_);
  absl::Status s = extractor->Extract();
  if (!s.ok()) return s;
  if (chain() && is_last && !extractor->saw_path_list()) {
    return absl::DataLossError(
        "the last artifact of the chain has no path list; it is not an "
        "incremental");
  }
  files_ += extractor->files();
  if (chain()) {
    for (const std::string& name : extractor->restored_names()) {
      written_.insert(name);
    }
  }
  last_ = std::move(extractor);
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> VolumeRestore::Finish() {
  if (done_ != parts_ || last_ == nullptr) {
    return absl::FailedPreconditionError(
        "restore finished before every part was extracted");
  }
  if (options_.replace || chain()) {
    const std::unordered_set<std::string>& keep =
        chain() ? moment_ : last_->restored_names();
    absl::StatusOr<uint64_t> removed =
        RemoveEntriesNotIn(*root_, keep, options_.paths, nullptr,
                           options_.replace ? nullptr : &written_);
    last_->RestoreDirectoryTimes();
    if (!removed.ok()) return removed.status();
  }
  return files_;
}

}  // namespace dxbackup::agent
