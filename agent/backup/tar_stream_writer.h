// TarStreamWriter writes a pax tar of file-system entries, compressed, to a
// ByteSink as it goes: nothing is staged on disk and memory stays bounded by
// libarchive's block and the compressor's window.
//
//   TarStreamWriter tar(&sink, options);
//   tar.Open();
//   walker.Walk([&](const WalkEntry& e) { return tar.Add(e); });
//   tar.Close();
//
// Each entry keeps its type, mode, numeric and named owner, mtime (with
// nanoseconds), symlink target, hard links, xattrs and ACLs where present;
// names of any length or byte encoding.
//
// An incremental archive (set_incremental) also carries the list of every
// path present at the time, stored or not (see path_list.h; each entry at
// most about 1 MiB, at least one). Not thread-safe.
#ifndef DXBACKUP_AGENT_BACKUP_TAR_STREAM_WRITER_H_
#define DXBACKUP_AGENT_BACKUP_TAR_STREAM_WRITER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "agent/backup/volume_walker.h"
#include "agent/path_list.h"
#include "common/byte_sink.h"
#include "common/zstd_sink.h"
#include "dxbackup/v1/types.pb.h"

struct archive;
struct archive_entry;
struct archive_entry_linkresolver;

namespace dxbackup::agent {

// Told of every entry as it goes into the archive, to build the file index.
class EntryObserver {
 public:
  virtual ~EntryObserver() = default;
  // Takes the entry (moved in: one per file of a large volume).
  virtual absl::Status OnEntry(v1::FileEntry entry) = 0;
};

class TarStreamWriter {
 public:
  // `sink` (and `observer`, if any) must outlive the writer.
  TarStreamWriter(common::ByteSink* sink, const v1::CaptureOptions& options,
                  EntryObserver* observer = nullptr);
  ~TarStreamWriter();
  TarStreamWriter(const TarStreamWriter&) = delete;
  TarStreamWriter& operator=(const TarStreamWriter&) = delete;

  absl::Status Open();
  // Makes this an incremental archive: call before Open.
  void set_incremental(bool incremental) { incremental_ = incremental; }
  // Adds one entry; a regular file's contents are read and written.
  absl::Status Add(const WalkEntry& entry);
  // An incremental's entry unchanged since the base: listed and indexed
  // (marked unchanged), not stored.
  absl::Status AddUnchanged(const WalkEntry& entry);
  // Writes the end of the archive and flushes the compressor.
  absl::Status Close();

  uint64_t files() const { return files_; }
  uint64_t content_bytes() const { return content_bytes_; }

 private:
  static long WriteCallback(struct archive*, void* self, const void* data,
                            size_t size);
  absl::Status WriteEntry(struct archive_entry* entry, int fd);
  absl::Status ArchiveError(const std::string& what);
  absl::Status ListPath(const std::string& relative_path);
  absl::Status FlushPathList();

  common::ByteSink* sink_;
  std::unique_ptr<common::ZstdSink>
      zstd_;                         // between libarchive and sink_, if zstd
  common::ByteSink* out_ = nullptr;  // what libarchive's bytes go to
  EntryObserver* observer_;
  v1::CaptureOptions options_;
  struct archive* archive_ = nullptr;
  struct archive* disk_ = nullptr;
  archive_entry_linkresolver* links_ = nullptr;
  absl::Status sink_status_;
  std::vector<char> buffer_;
  uint64_t files_ = 0;
  uint64_t content_bytes_ = 0;
  bool incremental_ = false;
  std::string path_list_;
  int path_lists_ = 0;
};

}  // namespace dxbackup::agent

#endif  // DXBACKUP_AGENT_BACKUP_TAR_STREAM_WRITER_H_
