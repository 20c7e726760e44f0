// ArchiveExtractor unpacks a tar stream (plain, gzip or zstd) under a root
// directory and never writes outside it: absolute names, ".." components,
// hard links that leave the root, and writing through a symlink are refused
// with an error naming the entry. Owners are restored when running as root.
//
//   ArchiveExtractor x(&source, "/restore/here");
//   absl::Status s = x.Extract();
//
// Not thread-safe.
#ifndef DXBACKUP_AGENT_ARCHIVE_EXTRACTOR_H_
#define DXBACKUP_AGENT_ARCHIVE_EXTRACTOR_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

struct archive;

namespace dxbackup::agent {

// Where an archive's bytes come from, in order.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // The next piece of the stream; an empty view at the end.
  virtual absl::StatusOr<std::string_view> Next() = 0;
};

// Checks an archive entry name: relative, no "..", not empty. Returns the
// name without leading "./", or an error naming it.
absl::StatusOr<std::string> SafeRelativeName(absl::string_view name);

class ArchiveExtractor {
 public:
  // `source` must outlive the extractor. `root` must exist.
  ArchiveExtractor(ByteSource* source, std::string root);

  absl::Status Extract();
  uint64_t files() const { return files_; }

 private:
  static long ReadCallback(struct archive*, void* self, const void** buffer);

  ByteSource* source_;
  std::string root_;
  absl::Status source_status_;
  uint64_t files_ = 0;
};

}  // namespace dxbackup::agent

#endif  // DXBACKUP_AGENT_ARCHIVE_EXTRACTOR_H_
