// IndexWriter puts one upload's index entries into the catalog on a thread
// of its own, one batch (one transaction) at a time, so that the upload's
// chunks are acknowledged while the batch before is still going in: the
// agent keeps capturing (its window of unacknowledged entries stays small)
// and the catalog's work runs beside it on the other core, instead of the
// two taking turns.
//
//   IndexWriter writer(files, set_id, target);
//   writer.Add(&batch);            // per full batch; may wait for the last
//   writer.Finish(&last_batch);    // on the trailer: everything written
//   writer.Stop();                 // on abandon: nothing more is written
//
// One batch is written while the next fills: Add waits while a batch is
// still being written (memory: two batches). The thread starts with the
// first Add, so that an upload of a few thousand files never starts one.
// Errors: the first batch that failed is reported by the next Add or by
// Finish; what comes after it is not written.
//
// Called by one thread at a time (the upload session, under its lock);
// `files` must outlive the writer.
#ifndef DXBACKUP_SCHEDULER_AGENTS_INDEX_WRITER_H_
#define DXBACKUP_SCHEDULER_AGENTS_INDEX_WRITER_H_

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "scheduler/catalog/file_index.h"

namespace dxbackup::scheduler {

class IndexWriter {
 public:
  IndexWriter(FileIndex* files, std::string set_id, std::string target);
  ~IndexWriter();  // Stop()
  IndexWriter(const IndexWriter&) = delete;
  IndexWriter& operator=(const IndexWriter&) = delete;

  using Batch = google::protobuf::RepeatedPtrField<v1::FileEntry>;

  // Hands `batch` to the writer thread (leaving `batch` empty), once the
  // batch before it is written. The first error so far.
  absl::Status Add(Batch* batch);
  // Waits for the batch being written, then writes `batch` on the calling
  // thread (leaving it empty). The first error of all.
  absl::Status Finish(Batch* batch);
  // Drops nothing already written; waits for the batch being written and
  // ends the thread. Afterwards Add and Finish write nothing.
  void Stop();

 private:
  void Run();
  // Waits until no batch is being written; mu_ held by `lock`.
  void AwaitIdle(std::unique_lock<std::mutex>& lock);

  FileIndex* const files_;
  const std::string set_id_;
  const std::string target_;

  std::mutex mu_;
  std::condition_variable cv_;
  Batch writing_;      // the writer thread's, while busy_
  bool busy_ = false;  // a batch waits for or is in the writer thread
  bool stopping_ = false;
  absl::Status error_;  // the first failure
  std::thread thread_;  // started by the first Add
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_AGENTS_INDEX_WRITER_H_
