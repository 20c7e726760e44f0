#include "scheduler/agents/index_writer.h"

namespace dxbackup::scheduler {

IndexWriter::IndexWriter(FileIndex* files, std::string set_id,
                         std::string target)
    : files_(files), set_id_(std::move(set_id)), target_(std::move(target)) {}

IndexWriter::~IndexWriter() { Stop(); }

void IndexWriter::AwaitIdle(std::unique_lock<std::mutex>& lock) {
  cv_.wait(lock, [this] { return !busy_; });
}

absl::Status IndexWriter::Add(Batch* batch) {
  std::unique_lock<std::mutex> lock(mu_);
  AwaitIdle(lock);
  if (stopping_ || !error_.ok()) {
    batch->Clear();
    return error_;
  }
  writing_.Swap(batch);
  batch->Clear();  // the entries of the batch before, already written
  busy_ = true;
  if (!thread_.joinable()) {
    thread_ = std::thread([this] { Run(); });
  }
  cv_.notify_all();
  return absl::OkStatus();
}

absl::Status IndexWriter::Finish(Batch* batch) {
  std::unique_lock<std::mutex> lock(mu_);
  AwaitIdle(lock);
  if (!stopping_ && error_.ok() && !batch->empty()) {
    // No batch is in the writer thread, and only our caller adds one.
    lock.unlock();
    absl::Status s = files_->AddFiles(set_id_, target_, *batch);
    lock.lock();
    if (error_.ok()) error_ = s;
  }
  batch->Clear();
  return error_;
}

void IndexWriter::Stop() {
  {
    std::unique_lock<std::mutex> lock(mu_);
    AwaitIdle(lock);
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

void IndexWriter::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return busy_ || stopping_; });
    if (stopping_) return;  // Stop waits for idle: nothing is pending
    lock.unlock();
    absl::Status s = files_->AddFiles(set_id_, target_, writing_);
    lock.lock();
    if (error_.ok()) error_ = s;
    busy_ = false;
    cv_.notify_all();
  }
}

}  // namespace dxbackup::scheduler
